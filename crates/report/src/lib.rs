//! rdsports-report
