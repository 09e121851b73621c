//! The document of `rdsports lint --format json`: the deployment's security findings, those
//! accepted in its `[[lint.accept]]` entries, and the verdict against `--fail-on`.
//!
//! ```json
//! {"accepted": [], "deployment": "contoso", "fail_on": "high", "fails": false,
//!  "findings": [{"evidence": [], "fix": "...",
//!                "flows": [{"catalog_ids": ["S11"], "from": "cb01", "ports": "5985",
//!                           "protocol": "tcp", "to": "gw01"}], "flows_total": 1,
//!                "hosts": ["cb01", "gw01"], "hosts_total": 2,
//!                "id": "winrm-http-across-zones",
//!                "location": {"column": 8, "end_column": 14, "end_line": 40, "line": 40},
//!                "severity": "medium", "sources": [{"title": "...", "url": "..."}],
//!                "subject": "internal -> perimeter", "title": "..."}],
//!  "results_read": 0, "schema_version": 1,
//!  "summary": {"accepted": 2, "critical": 0, "high": 0, "low": 0, "medium": 1},
//!  "warnings": ["..."]}
//! ```
//!
//! Keys are written in alphabetical order (the order of the fields here), as version 1 has
//! always written them. An accepted finding carries the acceptance's `reason`. Readers must
//! ignore fields they do not know.

use serde::{Deserialize, Serialize};

/// The version of the lint document written.
pub const LINT_SCHEMA_VERSION: u32 = 1;

/// A whole `lint --format json` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintDocument {
    /// Findings accepted in the deployment file, most severe first.
    pub accepted: Vec<LintFinding>,
    /// The deployment's name.
    pub deployment: String,
    /// `--fail-on`: `critical`, `high`, `medium`, `low` or `never`.
    pub fail_on: String,
    /// Whether a finding at or above `fail_on` remains (exit status 1).
    pub fails: bool,
    /// Findings not accepted, most severe first.
    pub findings: Vec<LintFinding>,
    /// How many check results were read (`--check`).
    pub results_read: usize,
    /// [`LINT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Findings per severity, and the accepted ones.
    pub summary: LintSummary,
    /// Things to know that are not findings.
    pub warnings: Vec<String>,
}

/// Findings per severity (not accepted), and how many were accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LintSummary {
    /// Accepted findings.
    pub accepted: usize,
    /// Critical findings.
    pub critical: usize,
    /// High findings.
    pub high: usize,
    /// Low findings.
    pub low: usize,
    /// Medium findings.
    pub medium: usize,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintFinding {
    /// What check saw (at most 20 lines).
    pub evidence: Vec<String>,
    /// What to do.
    pub fix: String,
    /// Planned flows concerned (at most 20).
    pub flows: Vec<LintFlow>,
    /// How many flows in all.
    pub flows_total: usize,
    /// Hosts concerned, in deployment order (at most 20).
    pub hosts: Vec<String>,
    /// How many hosts in all.
    pub hosts_total: usize,
    /// The finding's id (`rdp-from-internet`).
    pub id: String,
    /// The deployment file's place that causes it.
    pub location: Option<LintLocation>,
    /// The acceptance's reason, for an accepted finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `critical`, `high`, `medium` or `low`.
    pub severity: Severity,
    /// Public sources behind the finding.
    pub sources: Vec<LintSource>,
    /// What exactly (the zones, the host and port).
    pub subject: String,
    /// One line.
    pub title: String,
}

/// A planned flow a finding concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintFlow {
    /// Every catalog entry behind the flow.
    pub catalog_ids: Vec<String>,
    /// Source host.
    pub from: String,
    /// `N` or `N-M`.
    pub ports: String,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// Destination host.
    pub to: String,
}

/// A place in the deployment file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintLocation {
    /// First column (characters).
    pub column: usize,
    /// Column after the last character.
    pub end_column: usize,
    /// Last line.
    pub end_line: usize,
    /// First line.
    pub line: usize,
}

/// A public source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintSource {
    /// Title as its publisher gives it.
    pub title: String,
    /// Where to read it.
    pub url: String,
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; rarely worth a change on its own.
    Low,
    /// A weakness an attacker who is already inside can use.
    Medium,
    /// A weakness that should be fixed before the change goes in.
    High,
    /// Exposed to the internet or trivially exploitable.
    Critical,
}

impl Severity {
    /// Every severity, most severe first (the order of the table).
    pub const DESCENDING: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    /// `critical`, `high`, `medium` or `low`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Severity::DESCENDING
            .into_iter()
            .find(|v| v.name() == s)
            .ok_or_else(|| {
                format!("unknown severity `{s}`: expected critical, high, medium or low")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_written_in_alphabetical_order() {
        let doc = LintDocument {
            accepted: Vec::new(),
            deployment: "d".into(),
            fail_on: "high".into(),
            fails: false,
            findings: vec![LintFinding {
                evidence: Vec::new(),
                fix: "f".into(),
                flows: vec![LintFlow {
                    catalog_ids: vec!["S11".into()],
                    from: "a".into(),
                    ports: "5985".into(),
                    protocol: "tcp".into(),
                    to: "b".into(),
                }],
                flows_total: 1,
                hosts: Vec::new(),
                hosts_total: 0,
                id: "x".into(),
                location: Some(LintLocation {
                    column: 1,
                    end_column: 2,
                    end_line: 3,
                    line: 3,
                }),
                reason: None,
                severity: Severity::High,
                sources: vec![LintSource {
                    title: "t".into(),
                    url: "u".into(),
                }],
                subject: "s".into(),
                title: "t".into(),
            }],
            results_read: 0,
            schema_version: LINT_SCHEMA_VERSION,
            summary: LintSummary::default(),
            warnings: Vec::new(),
        };
        let text = serde_json::to_string(&doc).unwrap();
        let sorted: serde_json::Value = serde_json::from_str(&text).unwrap();
        // serde_json's Value keeps keys sorted: writing it again must give the same text.
        assert_eq!(serde_json::to_string(&sorted).unwrap(), text);
        assert_eq!(serde_json::from_str::<LintDocument>(&text).unwrap(), doc);
    }
}
