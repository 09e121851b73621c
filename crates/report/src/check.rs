//! Results of `rdsports check`: the JSON contract, a table grouped by destination, and
//! JUnit XML for CI pipelines. Also the verdict rules that decide the exit status.
//!
//! JSON contract (`schema_version` 2; version 1 files, without the service findings, are
//! still read):
//!
//! ```json
//! {"schema_version": 2, "from": "gw01", "paths_only": false,
//!  "results": [{"to": "dc01", "address": "198.51.100.20", "protocol": "tcp", "port": 88,
//!               "verdict": "open", "service": "kerberos", "expected_service": "kerberos",
//!               "catalog_id": "S14", "rtt_ms": 1.2, "detail": {}, "service_matches": true,
//!               "status": "pass"}],
//!  "summary": {"open": 0, "refused": 0, "filtered": 0, "closed": 0, "open|filtered": 0},
//!  "findings": {"blocked": 0, "wrong_service": 0, "service_unidentified": 0}}
//! ```
//!
//! `status` says what a result means: `pass`, `wrong-service` (the port is open but another
//! service answers: `service_matches` is false and `identified` names what answered, or
//! `unknown`), `unidentified` (open, but the port answered no probe: a warning),
//! `silent-udp` (`open|filtered`: a warning, or `blocked` with `--strict-udp`) and
//! `blocked`. Results may carry more fields (`note`, `reason`, `purpose`, `role`,
//! `identified`, `identification` with the follow-up's steps and budget, `wait` with the
//! timeout that decided the verdict); readers must ignore fields they do not know. Flows
//! that were not probed (a dynamic RPC range whose endpoint mapper did not answer, a
//! population such as `0.0.0.0/0`) are listed under `not_probed` with the reason.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::table::Table;

/// The version of the check JSON contract written (2: `status`, `identified`,
/// `identification`, `wait`, `paths_only` and `findings`).
pub const CHECK_SCHEMA_VERSION: u32 = 2;

/// The versions read: 1 lacks the service findings (its results are judged by verdict).
pub const CHECK_SCHEMA_VERSIONS_READ: [u32; 2] = [1, 2];

/// The verdicts, in summary order.
pub const VERDICTS: [&str; 5] = ["open", "refused", "filtered", "closed", "open|filtered"];

/// A whole `check --format json` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckDocument {
    /// [`CHECK_SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The deployment host the checks ran from (or `ad hoc`).
    pub from: String,
    /// `--paths-only`: any connection counts as open, whatever answers.
    #[serde(default)]
    pub paths_only: bool,
    /// One result per probed port.
    pub results: Vec<CheckRecord>,
    /// Flows (or parts of flows) that were not probed, and why.
    #[serde(default)]
    pub not_probed: Vec<NotProbedRecord>,
    /// Count per verdict (every verdict present, zero or not).
    pub summary: BTreeMap<String, usize>,
    /// Count of the results that fail or warn, by kind.
    #[serde(default)]
    pub findings: Findings,
    /// Where and when the check ran, so that a fleet's results can be merged safely.
    #[serde(flatten)]
    pub run: RunInfo,
}

/// The results that fail or warn, counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Findings {
    /// Not open (refused, filtered, closed; UDP silence with `--strict-udp`).
    pub blocked: usize,
    /// Open, but another service answers.
    pub wrong_service: usize,
    /// Open, but the port answered no probe (a warning).
    pub service_unidentified: usize,
}

/// Where and when a check ran (fields of the document itself; all optional for documents
/// written by earlier versions or by hand).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The rdsports version that ran the check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rdsports_version: Option<String>,
    /// The deployment's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    /// `sha256:<hex>` of the deployment file's text: results of different files are never
    /// merged (`fleet summary`, `report --check-dir`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_digest: Option<String>,
    /// When the check started, by the host's clock (RFC 3339 UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_utc: Option<String>,
    /// When it ended, by the host's clock: compare with the KDC's time (Kerberos allows 5
    /// minutes of skew) and with the other hosts'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_utc: Option<String>,
}

/// One probed port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckRecord {
    /// Destination host name.
    pub to: String,
    /// Destination address.
    pub address: String,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// Destination port.
    pub port: u16,
    /// `open`, `refused`, `filtered`, `closed` or `open|filtered`.
    pub verdict: String,
    /// The service the probe identified, if any.
    pub service: Option<String>,
    /// The service the flow expects (catalog service name).
    pub expected_service: Option<String>,
    /// The catalog entry behind the flow.
    pub catalog_id: Option<String>,
    /// Round-trip time of the deciding attempt, in milliseconds.
    pub rtt_ms: Option<f64>,
    /// Protocol details (dialect, realm, certificate ...).
    #[serde(default)]
    pub detail: Map<String, Value>,
    /// Why the verdict is what it is, when that needs saying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Anything unusual the probe noticed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The flow's purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Roles of the destination host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Whether the identified service is the one the flow expects (`None`: unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_matches: Option<bool>,
    /// What the identification follow-up found answering instead (`http`, `tls`, `ssh`
    /// ... or `unknown`), when the expected protocol did not answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identified: Option<String>,
    /// The follow-up's account: `by`, `budget_ms`, `spent_ms`, `steps`, `first_bytes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identification: Option<Value>,
    /// The wait that decided the verdict (TCP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<WaitRecord>,
    /// What the result means (see [`Status`]); written, recomputed when read.
    #[serde(default, skip_deserializing)]
    pub status: Option<Status>,
}

/// Which wait decided a TCP verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitRecord {
    /// `adaptive` (waits from the destination's round trips) or `pinned` (`--timeout`).
    pub mode: String,
    /// `adaptive` (a shortened wait) or `full` (the whole timeout; for `filtered`: a wait at
    /// the full timeout took part in the silence).
    pub decided_by: String,
    /// That wait, in milliseconds.
    pub wait_ms: f64,
    /// Round-trip samples the destination's estimate had.
    pub samples: u32,
}

/// What one result means for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The path is open and the expected service (or a stand-in listener) answers.
    Pass,
    /// The path is open but another service answers: a finding.
    WrongService,
    /// The path is open but the port answered no probe: a warning.
    Unidentified,
    /// UDP silence (`open|filtered`): a warning.
    SilentUdp,
    /// The path is not open: a finding.
    Blocked,
}

impl Status {
    /// Whether the result passes (warnings pass).
    pub fn passes(self) -> bool {
        matches!(
            self,
            Status::Pass | Status::Unidentified | Status::SilentUdp
        )
    }
}

/// A flow, or part of one, that was not probed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotProbedRecord {
    /// Destination host name.
    pub to: String,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// "N" or "N-M".
    pub ports: String,
    /// The catalog entry behind the flow.
    pub catalog_id: Option<String>,
    /// Why it was not probed.
    pub reason: String,
}

/// How strict the exit status is about UDP silence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UdpSilence {
    /// `open|filtered` passes with a warning (the default).
    #[default]
    Warn,
    /// `open|filtered` fails (`--strict-udp`).
    Fail,
}

/// What a result means. With `paths_only`, any open port passes, whatever answers.
pub fn status_of(record: &CheckRecord, udp: UdpSilence, paths_only: bool) -> Status {
    match record.verdict.as_str() {
        "open" if paths_only => Status::Pass,
        "open" if record.service_matches == Some(false) => Status::WrongService,
        // The follow-up ran and the port never said a word.
        "open" if record.identification.is_some() && record.identified.is_none() => {
            Status::Unidentified
        }
        "open" => Status::Pass,
        "open|filtered" if udp == UdpSilence::Warn => Status::SilentUdp,
        _ => Status::Blocked,
    }
}

/// Whether a result passes (the path is open and nothing else answers than expected).
pub fn passes(record: &CheckRecord, udp: UdpSilence) -> bool {
    status_of(record, udp, false).passes()
}

impl CheckDocument {
    /// A document for `from` with the summary computed from `results`, judged with the
    /// default rules (UDP silence warns); see [`CheckDocument::judged`].
    pub fn new(from: &str, results: Vec<CheckRecord>, not_probed: Vec<NotProbedRecord>) -> Self {
        let mut summary: BTreeMap<String, usize> =
            VERDICTS.iter().map(|v| ((*v).to_owned(), 0)).collect();
        for r in &results {
            *summary.entry(r.verdict.clone()).or_insert(0) += 1;
        }
        CheckDocument {
            schema_version: CHECK_SCHEMA_VERSION,
            from: from.to_owned(),
            paths_only: false,
            results,
            not_probed,
            summary,
            findings: Findings::default(),
            run: RunInfo::default(),
        }
        .judged(UdpSilence::Warn, false)
    }

    /// Sets every result's `status` and the `findings` counts for these rules.
    pub fn judged(mut self, udp: UdpSilence, paths_only: bool) -> Self {
        self.paths_only = paths_only;
        let mut findings = Findings::default();
        for r in &mut self.results {
            let status = status_of(r, udp, paths_only);
            match status {
                Status::Blocked => findings.blocked += 1,
                Status::WrongService => findings.wrong_service += 1,
                Status::Unidentified => findings.service_unidentified += 1,
                Status::Pass | Status::SilentUdp => {}
            }
            r.status = Some(status);
        }
        self.findings = findings;
        self
    }

    /// What a result means under this document's rules and `udp`.
    pub fn status(&self, record: &CheckRecord, udp: UdpSilence) -> Status {
        status_of(record, udp, self.paths_only)
    }

    /// Whether every result passes.
    pub fn all_pass(&self, udp: UdpSilence) -> bool {
        self.results.iter().all(|r| self.status(r, udp).passes())
    }

    /// Parses a document written by `check --format json` (any version in
    /// [`CHECK_SCHEMA_VERSIONS_READ`]).
    pub fn parse(text: &str) -> Result<CheckDocument, String> {
        let doc: CheckDocument =
            serde_json::from_str(text).map_err(|e| format!("not a check result file: {e}"))?;
        if !CHECK_SCHEMA_VERSIONS_READ.contains(&doc.schema_version) {
            return Err(format!(
                "schema_version {} is not supported (this rdsports reads 1 and \
                 {CHECK_SCHEMA_VERSION})",
                doc.schema_version
            ));
        }
        let paths_only = doc.paths_only;
        Ok(doc.judged(UdpSilence::Warn, paths_only))
    }

    /// Writes [`CheckDocument::to_json`] to `out` without building it in memory first.
    pub fn write_json<W: std::io::Write>(&self, mut out: W) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut out, self)?;
        out.write_all(b"\n")
    }

    /// The JSON document, pretty-printed, with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// A table grouped by destination, then the flows not probed and a summary line.
    pub fn to_table(&self, width: usize, udp: UdpSilence) -> String {
        self.to_table_styled(width, udp, false)
    }

    /// [`CheckDocument::to_table`], with the rows of wrong services in red and of
    /// unidentified services in yellow (ANSI; the caller strips them where colour is off).
    pub fn to_table_styled(&self, width: usize, udp: UdpSilence, color: bool) -> String {
        let mut out = String::new();
        let mut groups: Vec<(&str, Vec<&CheckRecord>)> = Vec::new();
        for r in &self.results {
            match groups.iter_mut().find(|(to, _)| *to == r.to) {
                Some((_, v)) => v.push(r),
                None => groups.push((&r.to, vec![r])),
            }
        }
        for (to, records) in &groups {
            let first = records[0];
            let _ = writeln!(
                out,
                "{to} ({}){}",
                first.address,
                first
                    .role
                    .as_deref()
                    .map(|r| format!("  {r}"))
                    .unwrap_or_default()
            );
            let mut t = Table::new(&["PROTO", "PORT", "VERDICT", "SERVICE", "RTT", "ID", "WHAT"])
                .flexible_last();
            let mut styles = Vec::with_capacity(records.len());
            for r in records {
                let status = self.status(r, udp);
                let expected = r.expected_service.as_deref().unwrap_or("?");
                let service = match (&r.service, r.service_matches) {
                    _ if self.paths_only => r.service.clone().unwrap_or_else(|| {
                        if r.verdict == "open" { "unknown" } else { "-" }.to_owned()
                    }),
                    (Some(s), Some(false)) => format!("{s} (expected {expected})"),
                    (None, Some(false)) => format!("unknown (expected {expected})"),
                    (Some(s), _) => s.clone(),
                    (None, _) if status == Status::Unidentified => "silent".to_owned(),
                    (None, _) if r.verdict == "open" => "unknown".to_owned(),
                    (None, _) => "-".to_owned(),
                };
                let mark = match status {
                    Status::Pass => "",
                    Status::SilentUdp | Status::Unidentified => "?",
                    Status::WrongService | Status::Blocked => "!",
                };
                styles.push(match status {
                    Status::WrongService => Some(RED),
                    Status::Unidentified => Some(YELLOW),
                    _ => None,
                });
                t.row(vec![
                    r.protocol.clone(),
                    r.port.to_string(),
                    format!("{}{mark}", r.verdict),
                    service,
                    r.rtt_ms.map(|ms| format!("{ms:.1}ms")).unwrap_or_default(),
                    r.catalog_id.clone().unwrap_or_default(),
                    explain(r),
                ]);
            }
            let rendered = t.render(width, 2);
            if color {
                // One line per row, after the header line.
                for (i, line) in rendered.lines().enumerate() {
                    match i
                        .checked_sub(1)
                        .and_then(|k| styles.get(k).copied().flatten())
                    {
                        Some(style) => {
                            let _ = writeln!(out, "{style}{line}{RESET}");
                        }
                        None => {
                            let _ = writeln!(out, "{line}");
                        }
                    }
                }
            } else {
                out.push_str(&rendered);
            }
            out.push('\n');
        }
        if !self.not_probed.is_empty() {
            out.push_str("not probed\n");
            let mut t = Table::new(&["TO", "PROTO", "PORTS", "ID", "WHY"]).flexible_last();
            for n in &self.not_probed {
                t.row(vec![
                    n.to.clone(),
                    n.protocol.clone(),
                    n.ports.clone(),
                    n.catalog_id.clone().unwrap_or_default(),
                    n.reason.clone(),
                ]);
            }
            out.push_str(&t.render(width, 2));
            out.push('\n');
        }
        let counts: Vec<String> = VERDICTS
            .iter()
            .map(|v| format!("{} {v}", self.summary.get(*v).copied().unwrap_or(0)))
            .collect();
        let (mut blocked, mut wrong, mut silent) = (0, 0, 0);
        for r in &self.results {
            match self.status(r, udp) {
                Status::Blocked => blocked += 1,
                Status::WrongService => wrong += 1,
                Status::Unidentified => silent += 1,
                Status::Pass | Status::SilentUdp => {}
            }
        }
        let mut verdict = Vec::new();
        if wrong > 0 {
            verdict.push(format!(
                "{wrong} wrong service{}",
                if wrong == 1 { "" } else { "s" }
            ));
        }
        if blocked > 0 {
            verdict.push(format!("{blocked} blocked"));
        }
        if verdict.is_empty() {
            verdict.push(if self.paths_only {
                "every path is open (paths only: services not checked)".to_owned()
            } else {
                "every path is open".to_owned()
            });
        }
        if silent > 0 {
            verdict.push(format!(
                "{silent} open port{} answered no probe (service not identified)",
                if silent == 1 { "" } else { "s" }
            ));
        }
        let _ = writeln!(
            out,
            "from {}: {} probed: {}; {}",
            self.from,
            self.results.len(),
            counts.join(", "),
            verdict.join("; ")
        );
        out
    }

    /// JUnit XML: one test suite, one test case per result (failures for blocked paths),
    /// skipped cases for flows not probed. Deterministic: no timestamps.
    pub fn to_junit(&self, udp: UdpSilence) -> String {
        let failures = self
            .results
            .iter()
            .filter(|r| !self.status(r, udp).passes())
            .count();
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"rdsports check\" tests=\"{}\" failures=\"{failures}\" skipped=\"{}\">",
            self.results.len() + self.not_probed.len(),
            self.not_probed.len()
        );
        let _ = writeln!(
            out,
            "  <testsuite name=\"from {}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{}\">",
            xml(&self.from),
            self.results.len() + self.not_probed.len(),
            self.not_probed.len()
        );
        for r in &self.results {
            let name = format!(
                "{} {}/{}{}",
                r.to,
                r.protocol,
                r.port,
                r.catalog_id
                    .as_deref()
                    .map(|id| format!(" [{id}]"))
                    .unwrap_or_default()
            );
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\"",
                xml(&r.to),
                xml(&name)
            );
            let status = self.status(r, udp);
            if status.passes() {
                out.push_str("/>\n");
            } else {
                let what = if status == Status::WrongService {
                    format!(
                        "{} {}/{} is open, but {} answers (expected {})",
                        r.to,
                        r.protocol,
                        r.port,
                        answering(r),
                        r.expected_service.as_deref().unwrap_or("?")
                    )
                } else {
                    format!("{} {}/{} is {}", r.to, r.protocol, r.port, r.verdict)
                };
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                    xml(&what),
                    xml(&explain(r))
                );
            }
        }
        for n in &self.not_probed {
            let _ = writeln!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\">\n      <skipped message=\"{}\"/>\n    </testcase>",
                xml(&n.to),
                xml(&format!("{} {}/{}", n.to, n.protocol, n.ports)),
                xml(&n.reason)
            );
        }
        out.push_str("  </testsuite>\n</testsuites>\n");
        out
    }
}

const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const RESET: &str = "\x1b[0m";

/// What answers on a wrong-service port: the service, or `an unknown service`.
fn answering(r: &CheckRecord) -> String {
    match (&r.service, r.identified.as_deref()) {
        (Some(s), _) => s.clone(),
        _ => "an unknown service".to_owned(),
    }
}

/// What the identification found, as a sentence (`wrong service: http answers`).
fn identified_sentence(r: &CheckRecord) -> Option<String> {
    let id = r.identification.as_ref()?;
    let first = id.get("first_bytes").and_then(Value::as_str);
    let text = id.get("first_bytes_text").and_then(Value::as_str);
    Some(match (r.service_matches, r.identified.as_deref()) {
        (Some(false), Some("unknown")) => format!(
            "wrong service: something no probe recognises answers (first bytes: {} \"{}\")",
            first.unwrap_or(""),
            text.unwrap_or("")
        ),
        (Some(false), _) => {
            let mut s = format!("wrong service: {} answers", answering(r));
            if let Some(subject) = r
                .detail
                .get("tls")
                .and_then(|t| t.get("certificate"))
                .and_then(|c| c.get("subject"))
                .and_then(Value::as_str)
            {
                let _ = write!(s, " (certificate {subject})");
            }
            if let Some(banner) = r.detail.get("banner").and_then(Value::as_str) {
                let _ = write!(s, " ({banner})");
            }
            if let Some(line) = r.detail.get("status_line").and_then(Value::as_str) {
                let _ = write!(s, " ({line})");
            }
            s
        }
        (_, None) => "open, service not identified: the port answered no probe".to_owned(),
        _ => return None,
    })
}

/// One line on what a result means: the reason, the note, or the purpose.
pub fn explain(r: &CheckRecord) -> String {
    let mut parts: Vec<String> = Vec::new();
    parts.extend(identified_sentence(r));
    match r.verdict.as_str() {
        "refused" => {
            parts.push("the host answered with a reset: nothing listens on this port".into())
        }
        "filtered" => {
            parts.push("no answer: a firewall drops the traffic, or the host is down".into())
        }
        "closed" => parts.push("ICMP port unreachable: the host is there, nothing listens".into()),
        "open|filtered" => parts.push("no UDP reply: open but silent, or dropped".into()),
        _ => {}
    }
    parts.extend(r.reason.iter().cloned());
    parts.extend(r.note.iter().cloned());
    if parts.is_empty() {
        parts.extend(r.purpose.iter().cloned());
    }
    parts.join("; ")
}

/// Escapes text for XML attributes and content.
fn xml(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => s.push(' '),
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(to: &str, protocol: &str, port: u16, verdict: &str) -> CheckRecord {
        CheckRecord {
            to: to.into(),
            address: "127.0.0.1".into(),
            protocol: protocol.into(),
            port,
            verdict: verdict.into(),
            service: (verdict == "open").then(|| "kerberos".into()),
            expected_service: Some("kerberos".into()),
            catalog_id: Some("S14".into()),
            rtt_ms: Some(1.25),
            detail: Map::new(),
            reason: None,
            note: None,
            purpose: Some("Kerberos".into()),
            role: Some("domain-controller".into()),
            service_matches: Some(true),
            identified: None,
            identification: None,
            wait: None,
            status: None,
        }
    }

    #[test]
    fn summary_and_exit_rules() {
        let doc = CheckDocument::new(
            "gw01",
            vec![
                record("dc01", "tcp", 88, "open"),
                record("dc01", "udp", 88, "open|filtered"),
            ],
            Vec::new(),
        );
        assert_eq!(doc.summary["open"], 1);
        assert_eq!(doc.summary["open|filtered"], 1);
        assert_eq!(doc.summary["refused"], 0);
        assert!(doc.all_pass(UdpSilence::Warn));
        assert!(!doc.all_pass(UdpSilence::Fail));
        let v: Value = serde_json::from_str(&doc.to_json()).unwrap();
        assert_eq!(v["schema_version"], 2);
        assert_eq!(v["results"][0]["status"], "pass");
        assert_eq!(v["results"][1]["status"], "silent-udp");
        assert_eq!(v["findings"]["blocked"], 0);
        assert_eq!(v["results"][0]["port"], 88);
        assert_eq!(v["results"][0]["rtt_ms"], 1.25);
        assert_eq!(CheckDocument::parse(&doc.to_json()).unwrap(), doc);
        assert!(CheckDocument::parse("{}").is_err());
    }

    #[test]
    fn table_and_junit() {
        let mut blocked = record("dc01", "tcp", 389, "filtered");
        blocked.to = "dc<01>".into();
        let doc = CheckDocument::new(
            "gw01",
            vec![record("dc01", "tcp", 88, "open"), blocked],
            vec![NotProbedRecord {
                to: "ls01".into(),
                protocol: "tcp".into(),
                ports: "49152-65535".into(),
                catalog_id: Some("S28b".into()),
                reason: "the endpoint mapper did not answer".into(),
            }],
        );
        let table = doc.to_table(100, UdpSilence::Warn);
        assert!(
            table.contains("dc01 (127.0.0.1)  domain-controller\n"),
            "{table}"
        );
        assert!(table.contains("filtered!"));
        assert!(table.contains("not probed\n"));
        assert!(table.ends_with("from gw01: 2 probed: 1 open, 0 refused, 1 filtered, 0 closed, 0 open|filtered; 1 blocked\n"));
        let junit = doc.to_junit(UdpSilence::Warn);
        assert!(junit.contains("tests=\"3\" failures=\"1\" skipped=\"1\""));
        assert!(junit.contains("classname=\"dc&lt;01&gt;\""));
        assert!(junit.contains("<skipped message=\"the endpoint mapper did not answer\"/>"));
    }

    /// An open RDP port where a web server answers, and one that never said a word.
    fn wrong_and_silent() -> Vec<CheckRecord> {
        let mut wrong = record("rdsh01", "tcp", 3389, "open");
        wrong.service = Some("http".into());
        wrong.expected_service = Some("rdp".into());
        wrong.service_matches = Some(false);
        wrong.identified = Some("http".into());
        wrong.identification = Some(serde_json::json!({"by": "first reply", "steps": []}));
        wrong
            .detail
            .insert("status_line".into(), "HTTP/1.1 400 Bad Request".into());
        let mut silent = record("rdsh01", "tcp", 3390, "open");
        silent.service = None;
        silent.service_matches = None;
        silent.identification = Some(serde_json::json!({"by": null, "steps": []}));
        vec![wrong, silent]
    }

    #[test]
    fn a_wrong_service_is_a_finding_and_a_silent_port_a_warning() {
        let doc = CheckDocument::new("gw01", wrong_and_silent(), Vec::new());
        assert_eq!(doc.results[0].status, Some(Status::WrongService));
        assert_eq!(doc.results[1].status, Some(Status::Unidentified));
        assert_eq!(
            doc.findings,
            Findings {
                blocked: 0,
                wrong_service: 1,
                service_unidentified: 1
            }
        );
        assert!(!doc.all_pass(UdpSilence::Warn));
        let table = doc.to_table(200, UdpSilence::Warn);
        assert!(table.contains("open!"), "{table}");
        assert!(table.contains("http (expected rdp)"), "{table}");
        assert!(table.contains("silent"), "{table}");
        assert!(
            table.contains("wrong service: http answers (HTTP/1.1 400 Bad Request)"),
            "{table}"
        );
        assert!(table.contains("open, service not identified"), "{table}");
        assert!(
            table.ends_with(
                "; 1 wrong service; 1 open port answered no probe (service not identified)\n"
            ),
            "{table}"
        );
        // In colour, the wrong service's row is red and the silent one yellow.
        let styled = doc.to_table_styled(200, UdpSilence::Warn, true);
        let red = styled.lines().find(|l| l.contains("3389")).unwrap();
        assert!(red.starts_with(RED) && red.ends_with(RESET), "{red:?}");
        let yellow = styled.lines().find(|l| l.contains("3390")).unwrap();
        assert!(yellow.starts_with(YELLOW), "{yellow:?}");
        assert!(!styled.lines().next().unwrap().starts_with('\x1b'));
        let junit = doc.to_junit(UdpSilence::Warn);
        assert!(junit.contains("failures=\"1\""), "{junit}");
        assert!(
            junit.contains("is open, but http answers (expected rdp)"),
            "{junit}"
        );
        // Read back: the status is recomputed, the findings too.
        let back = CheckDocument::parse(&doc.to_json()).unwrap();
        assert_eq!(back, doc);
    }

    #[test]
    fn paths_only_passes_any_open_port() {
        let doc = CheckDocument::new("gw01", wrong_and_silent(), Vec::new())
            .judged(UdpSilence::Warn, true);
        assert!(doc.all_pass(UdpSilence::Warn));
        assert_eq!(doc.findings, Findings::default());
        let table = doc.to_table(200, UdpSilence::Warn);
        assert!(table.contains("every path is open (paths only"), "{table}");
        assert!(!table.contains("(expected"), "{table}");
        let v: Value = serde_json::from_str(&doc.to_json()).unwrap();
        assert_eq!(v["paths_only"], true);
        assert!(
            CheckDocument::parse(&doc.to_json())
                .unwrap()
                .all_pass(UdpSilence::Warn)
        );
    }

    #[test]
    fn version_1_files_are_read() {
        let v1 = r#"{"schema_version": 1, "from": "gw01", "results": [
            {"to": "dc01", "address": "192.0.2.40", "protocol": "tcp", "port": 88,
             "verdict": "open", "service": "kerberos", "expected_service": "kerberos",
             "catalog_id": "S14", "rtt_ms": 1.0, "detail": {}}],
            "summary": {}}"#;
        let doc = CheckDocument::parse(v1).unwrap();
        assert!(doc.all_pass(UdpSilence::Warn));
        assert_eq!(doc.results[0].status, Some(Status::Pass));
        assert!(
            CheckDocument::parse(
                r#"{"schema_version": 3, "from": "x", "results": [], "summary": {}}"#
            )
            .is_err()
        );
    }
}
