use rdsports_core::{Catalog, Deployment};

use super::*;

const PERIMETER: &str = include_str!("../../../../examples/perimeter.toml");
const HOSTILE: &str = include_str!("../../tests/fixtures/hostile.toml");
const CHECK: &str = include_str!("../../tests/fixtures/check-gw01.json");

fn with_plan<T>(text: &str, f: impl FnOnce(&Plan<'_>) -> T) -> T {
    let c = Catalog::builtin().unwrap();
    let d = Deployment::parse(text).unwrap();
    let p = rdsports_core::plan::plan(&c, &d);
    f(&p)
}

#[test]
fn parses_check_results_and_ignores_unknown_fields() {
    let doc = CheckDocument::parse(CHECK).unwrap();
    assert_eq!(doc.from, "gw01");
    assert_eq!(doc.results.len(), 7);
    let first = &doc.results[0];
    assert_eq!(
        (first.to.as_str(), first.protocol.as_str(), first.port),
        ("dc01", "tcp", 88)
    );
    assert_eq!(first.verdict.as_str(), "open");
    assert_eq!(first.catalog_id.as_deref(), Some("S14"));
    assert_eq!(first.rtt_ms, Some(1.2));
    assert_eq!(
        first.detail.get("krb_error").and_then(Value::as_str),
        Some("KDC_ERR_C_PRINCIPAL_UNKNOWN (6)")
    );
    assert_eq!(doc.results[2].service, None);
    assert_eq!(doc.summary.get("open"), Some(&4));
}

#[test]
fn bad_check_files_get_clear_errors() {
    let err = |text: &str| CheckDocument::parse(text).unwrap_err();
    let e = err("{\"schema_version\": 1,\n  \"from\": }");
    assert!(e.starts_with("not a JSON document (line 2, column "), "{e}");
    assert_eq!(
        err("[1, 2]"),
        "expected a JSON object as printed by `rdsports check --format json`"
    );
    assert!(err("{\"from\": \"gw01\"}").starts_with("no schema_version"));
    assert_eq!(
        err("{\"schema_version\": 9, \"from\": \"gw01\"}"),
        "schema_version 9 is not supported (this rdsports reads versions 1 to 3)"
    );
    assert_eq!(
        err("{\"schema_version\": 1, \"from\": \"gw01\", \"summary\": {}}"),
        "no `results` list"
    );
    assert_eq!(
        err("{\"schema_version\": 1, \"from\": \"gw01\", \"results\": {}, \"summary\": {}}"),
        "`results` is not a list"
    );
    let missing_port = r#"{"schema_version": 1, "from": "gw01", "summary": {}, "results": [
        {"to": "dc01", "address": "192.0.2.40", "protocol": "tcp", "port": 88, "verdict": "open",
         "service": null, "expected_service": null, "catalog_id": null, "rtt_ms": null, "detail": {}},
        {"to": "dc01", "address": "192.0.2.40", "protocol": "tcp", "verdict": "open",
         "service": null, "expected_service": null, "catalog_id": null, "rtt_ms": null, "detail": {}}]}"#;
    let e = err(missing_port);
    assert!(e.starts_with("result 2: missing field `port`"), "{e}");
    let bad_port = missing_port.replace("\"port\": 88", "\"port\": 70000");
    assert!(
        err(&bad_port).starts_with("result 1: "),
        "{}",
        err(&bad_port)
    );
    // A mistyped field names its place in the file (README: file, line and column).
    assert!(
        err(&bad_port).ends_with("(line 2, column 80)"),
        "{}",
        err(&bad_port)
    );
    assert!(e.ends_with("(line 5, column 101)"), "{e}");
    let no_from = r#"{"schema_version": 1, "results": [], "summary": {}}"#;
    assert!(
        err(no_from).contains("missing field `from`"),
        "{}",
        err(no_from)
    );
}

fn report(plan: &Plan<'_>, warnings: &[String], rules: Vec<(String, String)>) -> String {
    render(&ReportInput {
        diff: None,
        plan,
        warnings,
        windows_rules: rules,
        checks: vec![CheckDocument::parse(CHECK).unwrap()],
        lint: Vec::new(),
        fleet: None,
        audits: Vec::new(),
    })
}

#[test]
fn report_holds_every_section_and_no_external_asset() {
    with_plan(PERIMETER, |p| {
        let warnings = vec!["cb01 takes role management by default (no host has it)".to_owned()];
        let html = report(
            p,
            &warnings,
            vec![(
                "gw01".into(),
                "New-NetFirewallRule -DisplayName 'x'\n".into(),
            )],
        );
        assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
        assert!(html.ends_with("</html>\n"));
        for id in [
            "summary", "hosts", "diagram", "flows", "catalog", "rules", "checks", "lint",
            "warnings",
        ] {
            assert!(html.contains(&format!("<section id=\"{id}\">")), "{id}");
        }
        assert_eq!(html.matches("<tr data-flow=").count(), p.flows.len());
        assert_eq!(
            html.matches("<tr data-host=").count(),
            p.deployment.hosts.len()
        );
        assert_eq!(html.matches("<tr class=\"v-row-").count(), 7);
        assert!(html.contains("<span class=\"badge v-filtered\">filtered</span>"));
        assert!(html.contains("<span class=\"badge v-open\">open 4</span>"));
        assert!(html.contains("<li>cb01 takes role management by default (no host has it)</li>"));
        assert!(html.contains("New-NetFirewallRule -DisplayName &#39;x&#39;"));
        // The seed lines of S14 are quoted.
        let s14 = p.catalog.get("S14").unwrap();
        let line = crate::ports::seed_line(s14.source.seed_lines[0]);
        assert!(!line.is_empty());
        assert!(html.contains(&esc(&line)));
        // Self-contained: no links to anything outside the page.
        for bad in [
            "src=",
            "href=\"http",
            "href=\"//",
            "<link",
            "<img",
            "@import",
        ] {
            assert!(!html.contains(bad), "{bad}");
        }
        assert_eq!(
            html.matches("url(").count(),
            html.matches("url(#rdsports-").count()
        );
        // Deterministic.
        assert_eq!(
            html,
            report(
                p,
                &warnings,
                vec![(
                    "gw01".into(),
                    "New-NetFirewallRule -DisplayName 'x'\n".into()
                )]
            )
        );
    });
}

#[test]
fn flows_show_the_verdicts_of_matching_checks() {
    with_plan(PERIMETER, |p| {
        let html = report(p, &[], Vec::new());
        let row = |from: &str, to: &str, proto: &str, ports: &str| -> String {
            let start = html
                .find(&format!(
                    "<td class=\"from\">{from}</td><td class=\"to\">{to}</td><td class=\"proto\">{proto}</td><td class=\"ports mono\">{ports}</td>"
                ))
                .unwrap_or_else(|| panic!("{from} {to} {proto} {ports}"));
            let end = start + html[start..].find("</tr>").unwrap();
            html[start..end].to_owned()
        };
        assert!(row("gw01", "dc01", "tcp", "88").contains("badge v-open"));
        assert!(row("gw01", "cb01", "tcp", "5504").contains("badge v-filtered"));
        assert!(row("gw01", "dc01", "tcp", "49152-65535").contains("badge v-open"));
        assert!(row("gw01", "sh01", "udp", "3389").contains("badge v-unknown"));
        assert!(row("gw01", "sh02", "tcp", "3389").contains("not checked"));
        assert!(row("cb01", "dc01", "tcp", "88").contains("not checked"));
        // Every result of the fixture matches a planned flow; an unplanned port is marked.
        assert!(!html.contains(">not planned<"));
        let mut check = CheckDocument::parse(CHECK).unwrap();
        check.results[0].port = 9999;
        let html = render(&ReportInput {
            diff: None,
            plan: p,
            warnings: &[],
            windows_rules: Vec::new(),
            checks: vec![check],
            lint: Vec::new(),
            fleet: None,
            audits: Vec::new(),
        });
        assert_eq!(html.matches(">not planned<").count(), 1);
    });
}

#[test]
fn hostile_text_is_escaped_everywhere() {
    with_plan(HOSTILE, |p| {
        let warnings = vec!["<script>alert('warning')</script>".to_owned()];
        let rules = vec![(
            "\"><script>alert(1)</script>".to_owned(),
            "</code></pre><script>alert('rules')</script>".to_owned(),
        )];
        let mut check = CheckDocument::parse(CHECK).unwrap();
        check.from = "<img src=x onerror=alert(1)>".to_owned();
        check.results[0].detail.insert(
            "<b>key</b>".to_owned(),
            Value::String("</td><script>alert('detail')</script>".to_owned()),
        );
        let html = render(&ReportInput {
            diff: None,
            plan: p,
            warnings: &warnings,
            windows_rules: rules,
            checks: vec![check],
            lint: Vec::new(),
            fleet: None,
            audits: Vec::new(),
        });
        // The only script element is ours, and no name opened an element.
        assert_eq!(html.matches("<script").count(), 1);
        assert!(!html.contains("<img"));
        assert!(!html.contains("<b>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("<title>RDS flows of &lt;/title&gt;&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;</title>"));
        assert!(html.contains("&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;alert(&#39;rules&#39;)"));
        assert!(html.contains("<code>&lt;b&gt;key&lt;/b&gt;</code>"));
        assert!(html.contains("From &lt;img src=x onerror=alert(1)&gt; <span class=\"tag\">not a host of this deployment</span>"));
    });
}

#[test]
fn empty_inputs_say_so() {
    let text = "name = \"empty\"\n";
    with_plan(text, |p| {
        let html = render(&ReportInput {
            diff: None,
            plan: p,
            warnings: &[],
            windows_rules: Vec::new(),
            checks: Vec::new(),
            lint: Vec::new(),
            fleet: None,
            audits: Vec::new(),
        });
        assert!(html.contains("The plan has no flows."));
        assert!(html.contains("This report holds no Windows rules."));
        assert!(html.contains("No check results were given"));
        assert!(html.contains("No warnings."));
    });
}

#[test]
fn large_plans_fold_the_flow_matrix_by_diagram_node() {
    let text = rdsports_core::synthetic::deployment(600);
    with_plan(&text, |p| {
        assert!(p.flows.len() > FOLD_FLOWS_ABOVE, "{}", p.flows.len());
        let html = render(&ReportInput {
            diff: None,
            plan: p,
            warnings: &[],
            windows_rules: Vec::new(),
            checks: Vec::new(),
            lint: Vec::new(),
            fleet: None,
            audits: Vec::new(),
        });
        assert!(html.contains("share a row"));
        assert!(html.contains("(600 hosts)"));
        // One row per (node, node, protocol, ports, entry): far fewer than the flows, and the
        // flow counts of the rows add up to the plan.
        let flows_section = &html
            [html.find("id=\"flows\"").unwrap()..html.find("id=\"catalog\"").unwrap_or(html.len())];
        let rows = flows_section.matches("<tr><td class=\"from\">").count();
        assert!(rows > 10 && rows < 1_000, "{rows}");
        let total: usize = flows_section
            .split("</a></td><td>")
            .skip(1)
            .filter_map(|s| s.split("</td>").next()?.parse::<usize>().ok())
            .sum();
        assert_eq!(total, p.flows.len());
    });
}

#[test]
fn the_lint_section_shows_open_and_accepted_findings_escaped() {
    with_plan(PERIMETER, |p| {
        let row = |accepted: Option<&str>| LintRow {
            severity: "critical".into(),
            id: "rdp-from-internet".into(),
            title: "RDP is reachable from the internet".into(),
            subject: "internet -> internal".into(),
            hosts: "<sh01>".into(),
            fix: "Publish RDP through an RD Gateway".into(),
            source_url: "https://www.cisa.gov/x?a=1&b=2".into(),
            location: Some("contoso.toml:9".into()),
            accepted: accepted.map(str::to_owned),
        };
        let html = render(&ReportInput {
            diff: None,
            plan: p,
            warnings: &[],
            windows_rules: Vec::new(),
            checks: Vec::new(),
            lint: vec![row(None), row(Some("lab only & temporary"))],
            fleet: None,
            audits: Vec::new(),
        });
        let section =
            &html[html.find("id=\"lint\"").unwrap()..html.find("id=\"warnings\"").unwrap()];
        assert!(section.contains("1 finding of"), "{section}");
        assert!(section.contains("1 accepted"));
        assert!(section.contains("badge v-refused\">critical"));
        assert!(section.contains("&lt;sh01&gt;") && !section.contains("<sh01>"));
        assert!(section.contains("href=\"https://www.cisa.gov/x?a=1&amp;b=2\""));
        assert!(section.contains("<strong>accepted:</strong> lab only &amp; temporary"));
        assert!(section.contains("contoso.toml:9"));
    });
}

#[test]
fn a_refused_certificate_and_its_lookups_show_beside_the_result() {
    with_plan(PERIMETER, |p| {
        let text = r#"{"schema_version": 3, "from": "gw01", "summary": {}, "results": [
            {"to": "gw01", "address": "198.51.100.10", "protocol": "tcp", "port": 443,
             "verdict": "open", "service": "rd-gateway", "expected_service": "rd-gateway",
             "catalog_id": "S12", "service_matches": true,
             "detail": {"public_name": "rds.contoso.example", "public_name_covered": false,
                        "tls": {"certificate": {"subject": "CN=gw01.corp.example",
                                "crl_urls": ["http://pki.corp.example/corp.crl"]}}}}]}"#;
        let check = CheckDocument::parse(text).unwrap();
        let html = render(&ReportInput {
            plan: p,
            warnings: &[],
            windows_rules: Vec::new(),
            diff: None,
            checks: vec![check],
            lint: Vec::new(),
            fleet: None,
            audits: Vec::new(),
        });
        assert!(
            html.contains("1 certificate refused by clients</span>"),
            "badge"
        );
        assert!(
            html.contains("badge v-refused\">certificate refused</span>"),
            "row"
        );
        assert!(html.contains("does not cover rds.contoso.example"));
        assert!(
            html.contains("certificate CN=gw01.corp.example: CRL http://pki.corp.example/corp.crl")
        );
    });
}

/// A diff with one added flow of the perimeter plan (gw01 -> sh01 tcp 3389) and one removed
/// flow that plan does not have.
fn small_diff() -> rdsports_schema::diff::DiffDocument {
    use rdsports_schema::Transport;
    use rdsports_schema::diff::*;
    use rdsports_schema::plan::PortSpan;
    let side = |label: &str| DiffSide {
        label: label.into(),
        deployment: "contoso".into(),
        kind: SideKind::Deployment,
    };
    let endpoint = |name: &str, address: &str| Endpoint {
        name: name.into(),
        address: Some(address.into()),
    };
    let change = |kind, port| FlowChange {
        change: kind,
        protocol: Transport::Tcp,
        ports: PortSpan {
            first: port,
            last: port,
        },
        service: "rdp".into(),
        purpose: "RDP <from> the gateway".into(),
        catalog_ids: vec!["S24".into()],
        references: vec![Reference {
            catalog_id: "S24".into(),
            seed_lines: vec![49],
            reference: None,
        }],
        old: None,
    };
    DiffDocument {
        schema_version: DIFF_SCHEMA_VERSION,
        old: side("old<1>.toml"),
        new: side("new.toml"),
        scope: DiffScope::default(),
        header: DiffHeader::default(),
        summary: DiffSummary {
            added: 1,
            removed: 1,
            changed: 0,
        },
        boundaries: vec![DiffBoundary {
            from_zone: "perimeter".into(),
            to_zone: "internal".into(),
            pairs: vec![
                DiffPair {
                    from: endpoint("gw01", "198.51.100.10"),
                    to: endpoint("sh01", "192.0.2.21"),
                    changes: vec![change(ChangeKind::Added, 3389)],
                },
                DiffPair {
                    from: endpoint("gw01", "198.51.100.10"),
                    to: endpoint("sh09", "192.0.2.29"),
                    changes: vec![change(ChangeKind::Removed, 3389)],
                },
            ],
        }],
        rules: None,
    }
}

#[test]
fn a_diff_adds_its_section_and_marks_rows_and_edges() {
    with_plan(PERIMETER, |p| {
        let plain = report(p, &[], Vec::new());
        assert!(!plain.contains("id=\"changes\""));
        assert!(!plain.contains("diff-added"));
        let html = render(&ReportInput {
            diff: Some(small_diff()),
            plan: p,
            warnings: &[],
            windows_rules: Vec::new(),
            checks: Vec::new(),
            lint: Vec::new(),
            fleet: None,
            audits: Vec::new(),
        });
        assert!(html.contains("<h2>Changes since old&lt;1&gt;.toml</h2>"));
        assert!(html.contains("<a href=\"#changes\">Changes</a>"));
        assert!(html.contains("RDP &lt;from&gt; the gateway"));
        // The removed flow is listed in the section; the added one is marked in the matrix.
        assert!(html.contains("<tr class=\"diff-removed\"><td>removed</td><td>gw01"));
        assert_eq!(html.matches("<tr data-flow=").count(), p.flows.len());
        assert_eq!(
            html.matches("class=\"diff-added\"><td class=\"from\">")
                .count(),
            1
        );
        // The edge gw01 -> session hosts holds the added flow: drawn as added, and only it.
        assert_eq!(html.matches("rd-added\" data-edge=").count(), 1);
        assert!(html.contains("1 removed flow has no arrow"));
    });
}

#[test]
fn the_changes_section_lists_at_most_1000_rows_and_counts_the_rest() {
    with_plan(PERIMETER, |p| {
        let mut diff = small_diff();
        let pair = &mut diff.boundaries[0].pairs[1];
        let one = pair.changes[0].clone();
        pair.changes = (0..1_200u16)
            .map(|i| {
                let mut c = one.clone();
                c.ports.first = 10_000 + i;
                c.ports.last = 10_000 + i;
                c
            })
            .collect();
        diff.summary.removed = 1_200;
        let html = render(&ReportInput {
            diff: Some(diff),
            plan: p,
            warnings: &[],
            windows_rules: Vec::new(),
            checks: Vec::new(),
            lint: Vec::new(),
            fleet: None,
            audits: Vec::new(),
        });
        assert_eq!(html.matches("<tr class=\"diff-").count(), 1_000);
        assert!(html.contains("The first 1000 changes are listed; 201 more are not."));
    });
}
