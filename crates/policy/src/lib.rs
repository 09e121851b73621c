//! rdsports-policy
