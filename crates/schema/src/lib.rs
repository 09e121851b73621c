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

/// Formats Unix seconds as RFC 3339 UTC (`2024-01-01T00:00:00Z`), as the documents write
/// times (a certificate's validity, a collector's run); proleptic Gregorian.
pub fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}
