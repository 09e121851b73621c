//! The document of `rdsports listen --format json`: the ports opened, each contact the
//! listeners saw, and the summary printed when the time is up or Ctrl-C is pressed.
//!
//! ```json
//! {"schema_version": 1, "host": "sh01", "address": "0.0.0.0", "duration_s": 30.0,
//!  "stopped_by": "time limit",
//!  "ports": [{"transport": "tcp", "port": 3389, "state": "open", "bound": "0.0.0.0:3389",
//!             "why": "rdp from gw01 (S24)"}],
//!  "contacts": [{"at_ms": 120, "peer": "192.0.2.5:50000", "transport": "tcp", "port": 3389,
//!                "outcome": {"kind": "handshake", "nonce": "..", "reply_bytes": 60}}],
//!  "contacts_not_kept": 0,
//!  "summary": {"contacts": 1, "handshakes": 1, "unreported": 0, "evicted": 0}}
//! ```

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::Transport;

/// The version of the listen document written.
pub const LISTEN_SCHEMA_VERSION: u32 = 1;

/// The most contacts the document keeps (later ones are counted in `contacts_not_kept`).
pub const MAX_KEPT_CONTACTS: usize = 10_000;

/// A whole `listen --format json` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenDocument {
    /// [`LISTEN_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The deployment host listened as.
    pub host: String,
    /// The address bound.
    pub address: String,
    /// How long the listeners served, in seconds (one decimal).
    pub duration_s: f64,
    /// `time limit` or `ctrl-c`.
    pub stopped_by: String,
    /// Every requested port and what became of it.
    pub ports: Vec<PortRecord>,
    /// The contacts seen, at most [`MAX_KEPT_CONTACTS`].
    pub contacts: Vec<Contact>,
    /// Contacts seen beyond those kept.
    pub contacts_not_kept: usize,
    /// The counts of the whole run.
    pub summary: ServeSummary,
}

/// One requested port, what became of it, and the planned flows that need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortRecord {
    /// The port and its state.
    #[serde(flatten)]
    pub opened: Opened,
    /// Why it was opened: `rdp from gw01 (S24)`, or `given with --ports`.
    pub why: String,
}

/// What became of one requested port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OpenState {
    /// A listener (TCP) or responder (UDP) is there now.
    #[serde(rename = "open")]
    Open,
    /// Something else already uses the port: a real service, which `check` will probe.
    #[serde(rename = "in use")]
    InUse,
    /// The system refused the bind: on Unix, ports below 1024 need privileges.
    #[serde(rename = "denied")]
    Denied,
    /// The bind failed for another reason (the message says which).
    #[serde(rename = "failed")]
    Failed,
}

impl OpenState {
    /// The name used in tables and JSON (`open`, `in use`, `denied`, `failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            OpenState::Open => "open",
            OpenState::InUse => "in use",
            OpenState::Denied => "denied",
            OpenState::Failed => "failed",
        }
    }
}

/// One requested port and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opened {
    /// `tcp` or `udp`.
    pub transport: Transport,
    /// The port.
    pub port: u16,
    /// Whether it is open.
    pub state: OpenState,
    /// The address bound (open ports only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bound: Option<SocketAddr>,
    /// The system's words when the port could not be opened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// How one contact with a listener ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// A valid rdsports request was answered.
    Handshake {
        /// The prober's nonce, as hex.
        nonce: String,
        /// Bytes of the reply.
        reply_bytes: usize,
    },
    /// A valid request came, but the reply could not be sent (the peer left, or the UDP
    /// rate limit was reached).
    Unanswered {
        /// Why.
        reason: String,
    },
    /// Bytes that are not an rdsports request (another protocol's probe, a scanner).
    Other {
        /// Bytes read (at most the listener's request length).
        bytes: usize,
        /// The first bytes as hex, for the log line.
        head: String,
    },
    /// The start of a request, but the peer closed or went quiet before the end.
    Incomplete {
        /// Bytes read.
        bytes: usize,
        /// Whether the read timeout ended it.
        timed_out: bool,
    },
    /// A TCP connection that closed without sending anything (a plain port check).
    Empty,
}

impl Outcome {
    /// Whether a handshake was answered.
    pub fn is_handshake(&self) -> bool {
        matches!(self, Outcome::Handshake { .. })
    }
}

/// One contact a listener saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Milliseconds since the listeners started serving.
    pub at_ms: u64,
    /// Who connected or sent.
    pub peer: SocketAddr,
    /// `tcp` or `udp`.
    pub transport: Transport,
    /// The local port.
    pub port: u16,
    /// What happened.
    pub outcome: Outcome,
}

/// What a run of the listeners saw in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServeSummary {
    /// Contacts seen (including those not reported because the callback fell behind).
    pub contacts: usize,
    /// Requests answered.
    pub handshakes: usize,
    /// Contacts not reported to the callback because too many arrived at once.
    pub unreported: usize,
    /// TCP connections closed to make room for new peers (a flood of idle connections).
    pub evicted: usize,
}
