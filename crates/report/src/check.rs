//! Results of `rdsports check`: the JSON contract, a table grouped by destination, and
//! JUnit XML for CI pipelines. Also the verdict rules that decide the exit status.
//!
//! JSON contract (`schema_version` 1):
//!
//! ```json
//! {"schema_version": 1, "from": "gw01",
//!  "results": [{"to": "dc01", "address": "198.51.100.20", "protocol": "tcp", "port": 88,
//!               "verdict": "open", "service": "kerberos", "expected_service": "kerberos",
//!               "catalog_id": "S14", "rtt_ms": 1.2, "detail": {}}],
//!  "summary": {"open": 0, "refused": 0, "filtered": 0, "closed": 0, "open|filtered": 0}}
//! ```
//!
//! Results may carry more fields (`note`, `reason`, `purpose`, `role`, `attempts`,
//! `service_matches`); readers must ignore fields they do not know. Flows that were not
//! probed (a dynamic RPC range whose endpoint mapper did not answer, a population such as
//! `0.0.0.0/0`) are listed under `not_probed` with the reason.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::SCHEMA_VERSION;
use crate::table::Table;

/// The verdicts, in summary order.
pub const VERDICTS: [&str; 5] = ["open", "refused", "filtered", "closed", "open|filtered"];

/// A whole `check --format json` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckDocument {
    /// Always 1 for this layout.
    pub schema_version: u32,
    /// The deployment host the checks ran from (or `ad hoc`).
    pub from: String,
    /// One result per probed port.
    pub results: Vec<CheckRecord>,
    /// Flows (or parts of flows) that were not probed, and why.
    #[serde(default)]
    pub not_probed: Vec<NotProbedRecord>,
    /// Count per verdict (every verdict present, zero or not).
    pub summary: BTreeMap<String, usize>,
    /// Where and when the check ran, so that a fleet's results can be merged safely.
    #[serde(flatten)]
    pub run: RunInfo,
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

/// Whether a result means the path is open.
pub fn passes(record: &CheckRecord, udp: UdpSilence) -> bool {
    match record.verdict.as_str() {
        "open" => true,
        "open|filtered" => udp == UdpSilence::Warn,
        _ => false,
    }
}

impl CheckDocument {
    /// A document for `from` with the summary computed from `results`.
    pub fn new(from: &str, results: Vec<CheckRecord>, not_probed: Vec<NotProbedRecord>) -> Self {
        let mut summary: BTreeMap<String, usize> =
            VERDICTS.iter().map(|v| ((*v).to_owned(), 0)).collect();
        for r in &results {
            *summary.entry(r.verdict.clone()).or_insert(0) += 1;
        }
        CheckDocument {
            schema_version: SCHEMA_VERSION,
            from: from.to_owned(),
            results,
            not_probed,
            summary,
            run: RunInfo::default(),
        }
    }

    /// Whether every result passes.
    pub fn all_pass(&self, udp: UdpSilence) -> bool {
        self.results.iter().all(|r| passes(r, udp))
    }

    /// Parses a document written by `check --format json`.
    pub fn parse(text: &str) -> Result<CheckDocument, String> {
        let doc: CheckDocument =
            serde_json::from_str(text).map_err(|e| format!("not a check result file: {e}"))?;
        if doc.schema_version != SCHEMA_VERSION {
            return Err(format!(
                "schema_version {} is not supported (this rdsports reads {SCHEMA_VERSION})",
                doc.schema_version
            ));
        }
        Ok(doc)
    }

    /// The JSON document, pretty-printed, with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// A table grouped by destination, then the flows not probed and a summary line.
    pub fn to_table(&self, width: usize, udp: UdpSilence) -> String {
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
            for r in records {
                let service = match (&r.service, &r.expected_service, r.service_matches) {
                    (Some(s), _, Some(false)) => format!(
                        "{s} (expected {})",
                        r.expected_service.as_deref().unwrap_or("?")
                    ),
                    (Some(s), _, _) => s.clone(),
                    (None, _, _) if r.verdict == "open" => "unknown".to_owned(),
                    (None, _, _) => "-".to_owned(),
                };
                let mark = if passes(r, udp) {
                    if r.verdict == "open|filtered" {
                        "?"
                    } else {
                        ""
                    }
                } else {
                    "!"
                };
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
            out.push_str(&t.render(width, 2));
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
        let failing = self.results.iter().filter(|r| !passes(r, udp)).count();
        let _ = writeln!(
            out,
            "from {}: {} probed: {}; {}",
            self.from,
            self.results.len(),
            counts.join(", "),
            if failing == 0 {
                "every path is open".to_owned()
            } else {
                format!("{failing} blocked")
            }
        );
        out
    }

    /// JUnit XML: one test suite, one test case per result (failures for blocked paths),
    /// skipped cases for flows not probed. Deterministic: no timestamps.
    pub fn to_junit(&self, udp: UdpSilence) -> String {
        let failures = self.results.iter().filter(|r| !passes(r, udp)).count();
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
            if passes(r, udp) {
                out.push_str("/>\n");
            } else {
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                    xml(&format!(
                        "{} {}/{} is {}",
                        r.to, r.protocol, r.port, r.verdict
                    )),
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

/// One line on what a result means: the reason, the note, or the purpose.
pub fn explain(r: &CheckRecord) -> String {
    let mut parts: Vec<String> = Vec::new();
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
        assert_eq!(v["schema_version"], 1);
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
}
