//! The JSON documents rdsports writes and reads, one typed definition each.
//!
//! Each command that prints a document builds these types, and each command that reads one
//! (a report of check results, a fleet's summary, lint of check results) parses it with the
//! same types, so a field is named once and the compiler holds the contract between them.
//! Every document carries a `schema_version`; the constants are here, beside the types.
//! Fields are only ever added within a version; readers ignore fields they do not know.
//!
//! This crate is pure: it does no I/O and knows no clock.
#![warn(missing_docs, clippy::print_stdout, clippy::print_stderr)]
#![forbid(unsafe_code)]

pub mod audit;
pub mod diff;
pub mod fleet;
pub mod import;
pub mod lint;
pub mod listen;
pub mod plan;
pub mod ports;

use std::fmt;

use serde::{Deserialize, Serialize};

/// TCP or UDP: the transport of a probe, a listener or a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// A TCP connection.
    Tcp,
    /// UDP datagrams over a connected socket.
    Udp,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        })
    }
}

pub mod check;
