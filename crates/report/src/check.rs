//! Results of `rdsports check` rendered: a table grouped by destination, and JUnit XML for
//! CI pipelines. The document itself (its types, the verdict rules and the reader) is
//! `rdsports_schema::check`.

use std::fmt::Write as _;

use rdsports_schema::check::{
    CheckDocument, CheckRecord, RDS_WEB_SERVICES, Status, UdpSilence, VERDICTS, Verdict,
    certificate_problem,
};
use serde_json::Value;

use rdsports_core::text::one_line;

use crate::table::Table;

/// A table grouped by destination, then the flows not probed and a summary line.
pub fn table(doc: &CheckDocument, width: usize, udp: UdpSilence) -> String {
    table_styled(doc, width, udp, false)
}

/// [`table`], with the rows of wrong services in red and of
/// unidentified services in yellow (ANSI; the caller strips them where colour is off).
pub fn table_styled(doc: &CheckDocument, width: usize, udp: UdpSilence, color: bool) -> String {
    let mut out = String::new();
    let mut groups: Vec<(&str, Vec<&CheckRecord>)> = Vec::new();
    for r in &doc.results {
        match groups.iter_mut().find(|(to, _)| *to == r.to) {
            Some((_, v)) => v.push(r),
            None => groups.push((&r.to, vec![r])),
        }
    }
    for (to, records) in &groups {
        let first = records[0];
        let _ = writeln!(
            out,
            "{} ({}){}",
            one_line(to),
            one_line(&first.address),
            first
                .role
                .as_deref()
                .map(|r| format!("  {}", one_line(r)))
                .unwrap_or_default()
        );
        let mut t = Table::new(&["PROTO", "PORT", "VERDICT", "SERVICE", "RTT", "ID", "WHAT"])
            .flexible_last();
        let mut styles = Vec::with_capacity(records.len());
        for r in records {
            let status = doc.status(r, udp);
            let expected = r.expected_service.as_deref().unwrap_or("?");
            let service = match (&r.service, r.service_matches) {
                _ if doc.paths_only => r.service.clone().unwrap_or_else(|| {
                    if r.verdict == Verdict::Open {
                        "unknown"
                    } else {
                        "-"
                    }
                    .to_owned()
                }),
                (Some(s), Some(false)) => format!("{s} (expected {expected})"),
                (None, Some(false)) => format!("unknown (expected {expected})"),
                (Some(s), _) => s.clone(),
                (None, _) if status == Status::Unidentified => "silent".to_owned(),
                (None, _) if r.verdict == Verdict::Open => "unknown".to_owned(),
                (None, _) => "-".to_owned(),
            };
            let mark = match status {
                Status::Pass => "",
                Status::SilentUdp | Status::Unidentified => "?",
                Status::WrongService | Status::CertificateRefused | Status::Blocked => "!",
            };
            styles.push(match status {
                Status::WrongService | Status::CertificateRefused => Some(RED),
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
    if !doc.not_probed.is_empty() {
        out.push_str("not probed\n");
        let mut t = Table::new(&["TO", "PROTO", "PORTS", "ID", "WHY"]).flexible_last();
        for n in &doc.not_probed {
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
        .map(|v| format!("{} {v}", doc.summary.get(*v).copied().unwrap_or(0)))
        .collect();
    let (mut blocked, mut wrong, mut silent, mut refused) = (0, 0, 0, 0);
    for r in &doc.results {
        match doc.status(r, udp) {
            Status::Blocked => blocked += 1,
            Status::WrongService => wrong += 1,
            Status::CertificateRefused => refused += 1,
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
    if refused > 0 {
        verdict.push(format!(
            "{refused} certificate{} clients will refuse",
            if refused == 1 { "" } else { "s" }
        ));
    }
    if blocked > 0 {
        verdict.push(format!("{blocked} blocked"));
    }
    if verdict.is_empty() {
        verdict.push(if doc.paths_only {
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
        one_line(&doc.from),
        doc.results.len(),
        counts.join(", "),
        verdict.join("; ")
    );
    out
}

/// JUnit XML: one test suite, one test case per result (failures for blocked paths),
/// skipped cases for flows not probed. Deterministic: no timestamps.
pub fn junit(doc: &CheckDocument, udp: UdpSilence) -> String {
    let failures = doc
        .results
        .iter()
        .filter(|r| !doc.status(r, udp).passes())
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"rdsports check\" tests=\"{}\" failures=\"{failures}\" skipped=\"{}\">",
        doc.results.len() + doc.not_probed.len(),
        doc.not_probed.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"from {}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{}\">",
        xml(&doc.from),
        doc.results.len() + doc.not_probed.len(),
        doc.not_probed.len()
    );
    for r in &doc.results {
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
        let status = doc.status(r, udp);
        if status.passes() {
            out.push_str("/>\n");
        } else {
            let what = if status == Status::CertificateRefused {
                format!(
                    "{} {}/{}: clients will refuse the certificate of {}",
                    r.to,
                    r.protocol,
                    r.port,
                    r.expected_service.as_deref().unwrap_or("?")
                )
            } else if status == Status::WrongService {
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
    for n in &doc.not_probed {
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
    parts.extend(certificate_problem(r));
    parts.extend(identified_sentence(r));
    match r.verdict {
        Verdict::Refused => {
            parts.push("the host answered with a reset: nothing listens on this port".into())
        }
        Verdict::Filtered => {
            parts.push("no answer: a firewall drops the traffic, or the host is down".into())
        }
        Verdict::Closed => {
            parts.push("ICMP port unreachable: the host is there, nothing listens".into())
        }
        Verdict::OpenFiltered => parts.push("no UDP reply: open but silent, or dropped".into()),
        Verdict::Open => {}
    }
    parts.extend(r.reason.iter().cloned());
    parts.extend(r.note.iter().cloned());
    if parts.is_empty() {
        parts.extend(r.purpose.iter().cloned());
    }
    parts.extend(certificate_lookups(r));
    parts.join("; ")
}

/// The lookups an RDS web service's certificate asks clients to make (CRL, CA issuers,
/// OCSP), beside the certificate: `certificate CN=...: CRL http://...`.
pub fn certificate_lookups(r: &CheckRecord) -> Option<String> {
    let web = r
        .expected_service
        .as_deref()
        .is_some_and(|s| RDS_WEB_SERVICES.contains(&s));
    if !web {
        return None;
    }
    let cert = r.facts().ok()?.tls?.certificate?;
    let mut lists = Vec::new();
    for (what, urls) in [
        ("CRL", &cert.crl_urls),
        ("CA issuers", &cert.ca_issuers_urls),
        ("OCSP", &cert.ocsp_urls),
    ] {
        if let Some(urls) = urls.as_ref().filter(|u| !u.is_empty()) {
            let urls: Vec<String> = urls.iter().map(|u| one_line(u).into_owned()).collect();
            lists.push(format!("{what} {}", urls.join(" ")));
        }
    }
    let subject = one_line(cert.subject.as_deref().unwrap_or("?"));
    Some(if lists.is_empty() {
        format!("certificate {subject}: no revocation lookups")
    } else {
        format!("certificate {subject}: {}", lists.join(", "))
    })
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
            // XML 1.0 allows no C0 control but tab and line feed; C1 controls would reach a
            // terminal that shows the file.
            c if c.is_control() && c != '\n' && c != '\t' => s.push(' '),
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdsports_schema::check::{Findings, NotProbedRecord};
    use serde_json::Map;

    fn record(to: &str, protocol: &str, port: u16, verdict: &str) -> CheckRecord {
        CheckRecord {
            to: to.into(),
            address: "127.0.0.1".into(),
            protocol: protocol.into(),
            port,
            verdict: serde_json::from_value(Value::from(verdict)).unwrap(),
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
        assert_eq!(v["schema_version"], 3);
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
        let table = table(&doc, 100, UdpSilence::Warn);
        assert!(
            table.contains("dc01 (127.0.0.1)  domain-controller\n"),
            "{table}"
        );
        assert!(table.contains("filtered!"));
        assert!(table.contains("not probed\n"));
        assert!(table.ends_with("from gw01: 2 probed: 1 open, 0 refused, 1 filtered, 0 closed, 0 open|filtered; 1 blocked\n"));
        let junit = junit(&doc, UdpSilence::Warn);
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
                service_unidentified: 1,
                certificate_refused: 0
            }
        );
        assert!(!doc.all_pass(UdpSilence::Warn));
        let table = table(&doc, 200, UdpSilence::Warn);
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
        let styled = table_styled(&doc, 200, UdpSilence::Warn, true);
        let red = styled.lines().find(|l| l.contains("3389")).unwrap();
        assert!(red.starts_with(RED) && red.ends_with(RESET), "{red:?}");
        let yellow = styled.lines().find(|l| l.contains("3390")).unwrap();
        assert!(yellow.starts_with(YELLOW), "{yellow:?}");
        assert!(!styled.lines().next().unwrap().starts_with('\x1b'));
        let junit = junit(&doc, UdpSilence::Warn);
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
        let table = table(&doc, 200, UdpSilence::Warn);
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
                r#"{"schema_version": 4, "from": "x", "results": [], "summary": {}}"#
            )
            .is_err()
        );
    }

    #[test]
    fn a_certificate_clients_refuse_and_its_lookups_in_the_table_and_junit() {
        let mut r = record("gw01", "tcp", 443, "open");
        r.service = Some("rd-gateway".into());
        r.expected_service = Some("rd-gateway".into());
        r.catalog_id = Some("S12".into());
        r.service_matches = Some(true);
        r.detail = serde_json::from_value(serde_json::json!({
            "public_name": "rds.contoso.example", "public_name_covered": false,
            "tls": {"certificate": {"subject": "CN=gw01.corp.example",
                    "crl_urls": ["http://pki.corp.example/corp.crl"],
                    "ca_issuers_urls": ["http://pki.corp.example/corp.crt"]}}}))
        .unwrap();
        let doc = CheckDocument::new("clients", vec![r], Vec::new());
        assert_eq!(doc.results[0].status, Some(Status::CertificateRefused));
        assert_eq!(doc.findings.certificate_refused, 1);
        let table = table(&doc, 400, UdpSilence::Warn);
        assert!(table.contains("open!"), "{table}");
        assert!(
            table.contains(
                "the certificate (CN=gw01.corp.example) does not cover rds.contoso.example"
            ),
            "{table}"
        );
        assert!(
            table.contains(
                "certificate CN=gw01.corp.example: CRL http://pki.corp.example/corp.crl, CA \
                 issuers http://pki.corp.example/corp.crt"
            ),
            "{table}"
        );
        assert!(
            table.ends_with("; 1 certificate clients will refuse\n"),
            "{table}"
        );
        let junit = junit(&doc, UdpSilence::Warn);
        assert!(
            junit.contains("gw01 tcp/443: clients will refuse the certificate of rd-gateway"),
            "{junit}"
        );
    }
}
