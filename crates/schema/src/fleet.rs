//! The document of `rdsports fleet summary --format json`: every host of the fleet's
//! inventory with how it fared, merged from the check results a fleet run brought back.
//!
//! ```json
//! {"deployment": "contoso", "deployment_digest": "sha256:...",
//!  "hosts": [{"blocked": 0, "detail": null, "file": "results/cb01.json", "host": "cb01",
//!             "results": 42, "status": "ok"}],
//!  "ignored": [{"file": "results/x.json", "reason": "..."}],
//!  "schema_version": 1,
//!  "summary": {"blocked": 0, "not_run": 0, "ok": 1, "refused": 0}}
//! ```
//!
//! `status` is `ok`, `blocked`, `not_run` or `refused` (a result of another deployment file,
//! never merged). Keys are written in alphabetical order (the order of the fields here), as
//! version 1 has always written them. Readers must ignore fields they do not know.

use serde::{Deserialize, Serialize};

/// The version of the fleet summary written.
pub const FLEET_SCHEMA_VERSION: u32 = 1;

/// The merged results of a fleet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetSummary {
    /// The deployment's name.
    pub deployment: String,
    /// The deployment file's digest the results must carry.
    pub deployment_digest: String,
    /// Every host of the inventory, in file order.
    pub hosts: Vec<FleetHost>,
    /// Files that could not be merged for another reason (a host the deployment does not
    /// have, a second result for one host).
    pub ignored: Vec<Ignored>,
    /// [`FLEET_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Hosts per status.
    pub summary: FleetCounts,
}

impl FleetSummary {
    /// A summary of these hosts, with the counts computed.
    pub fn new(
        deployment: String,
        deployment_digest: String,
        hosts: Vec<FleetHost>,
        ignored: Vec<Ignored>,
    ) -> Self {
        let count = |status: FleetStatus| hosts.iter().filter(|h| h.status == status).count();
        let summary = FleetCounts {
            blocked: count(FleetStatus::Blocked),
            not_run: count(FleetStatus::NotRun),
            ok: count(FleetStatus::Ok),
            refused: count(FleetStatus::Refused),
        };
        FleetSummary {
            deployment,
            deployment_digest,
            hosts,
            ignored,
            schema_version: FLEET_SCHEMA_VERSION,
            summary,
        }
    }

    /// Whether every host reported and nothing is blocked (exit status 0).
    pub fn all_ok(&self) -> bool {
        self.hosts.iter().all(|h| h.status == FleetStatus::Ok)
    }

    /// Whether a result was refused (another deployment: exit status 2).
    pub fn refused(&self) -> bool {
        self.summary.refused > 0
    }
}

/// One host's line of the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetHost {
    /// Results that do not pass.
    pub blocked: usize,
    /// What the reader should know (why refused, the first blocked flows).
    pub detail: Option<String>,
    /// The result file, when there is one.
    pub file: Option<String>,
    /// Host name.
    pub host: String,
    /// Results in its file.
    pub results: usize,
    /// How it fared.
    pub status: FleetStatus,
}

/// How one host of the fleet fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FleetStatus {
    /// Every probed flow passes.
    Ok,
    /// At least one flow does not pass.
    Blocked,
    /// No result: the engine did not reach the host, or check did not run there.
    NotRun,
    /// A result exists but was made from another deployment file: not merged.
    Refused,
}

impl FleetStatus {
    /// `ok`, `blocked`, `not run / unreachable`, `refused`: the table's words.
    pub fn label(self) -> &'static str {
        match self {
            FleetStatus::Ok => "ok",
            FleetStatus::Blocked => "blocked",
            FleetStatus::NotRun => "not run / unreachable",
            FleetStatus::Refused => "refused",
        }
    }
}

/// A result file left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ignored {
    /// The file.
    pub file: String,
    /// Why.
    pub reason: String,
}

/// Hosts per status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FleetCounts {
    /// Blocked hosts.
    pub blocked: usize,
    /// Hosts without a result.
    pub not_run: usize,
    /// Hosts that pass.
    pub ok: usize,
    /// Hosts whose result was refused.
    pub refused: usize,
}
