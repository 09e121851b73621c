//! rdsports-net
