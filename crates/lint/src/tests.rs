//! A deployment that triggers each finding and one that does not.

use rdsports_core::plan::plan;
use rdsports_core::{Catalog, Deployment};
use serde_json::json;

use super::*;

const ZONES: &str = r#"
[[zone]]
name = "internet"
networks = ["0.0.0.0/0"]

[[zone]]
name = "perimeter"
networks = ["198.51.100.0/24"]

[[zone]]
name = "internal"
networks = ["192.0.2.0/24"]
"#;

const HOSTS: &str = r#"
[[host]]
name = "clients"
address = "0.0.0.0/0"
roles = ["client"]

[[host]]
name = "gw01"
address = "198.51.100.10"
roles = ["gateway", "web-access"]

[[host]]
name = "cb01"
address = "192.0.2.10"
roles = ["connection-broker"]

[[host]]
name = "sh01"
address = "192.0.2.21"
roles = ["session-host"]

[[host]]
name = "ls01"
address = "192.0.2.30"
roles = ["licensing"]

[[host]]
name = "dc01"
address = "192.0.2.40"
roles = ["domain-controller", "dns"]
"#;

/// The ids lint reports (not accepted) for a deployment text and check documents.
fn run(text: &str, checks: &[CheckInput]) -> Result<Report, Vec<Diagnostic>> {
    let catalog = Catalog::builtin().expect("catalog");
    let d = Deployment::parse(text).unwrap_or_else(|e| panic!("{e:?}"));
    let p = plan(&catalog, &d);
    lint(&Input {
        text,
        plan: &p,
        checks,
        rules: None,
    })
}

fn ids(r: &Report) -> Vec<&'static str> {
    let mut v: Vec<&str> = r.findings.iter().map(|f| f.rule.id).collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn with(options: &str, extra: &str) -> String {
    format!("name = \"t\"\n[options]\n{options}\n{ZONES}{HOSTS}{extra}")
}

/// A deployment in one internal zone behind a gateway, with every option that avoids a
/// finding: nothing to report.
#[test]
fn a_clean_deployment_has_no_findings() {
    let text = format!(
        "name = \"t\"\n[options]\nldaps = true\n{}\n{}",
        r#"
[[zone]]
name = "internet"
networks = ["0.0.0.0/0"]

[[zone]]
name = "internal"
networks = ["192.0.2.0/24"]
"#,
        HOSTS.replace("198.51.100.10", "192.0.2.9")
    );
    let r = run(&text, &[]).unwrap();
    assert_eq!(ids(&r), Vec::<&str>::new(), "{:#?}", r.findings);
    assert!(!r.fails(Some(Severity::Low)));
}

#[test]
fn rdp_from_the_internet_points_at_direct_access() {
    let text = with("direct_access = true", "");
    let r = run(&text, &[]).unwrap();
    let f = r
        .findings
        .iter()
        .find(|f| f.rule.id == "rdp-from-internet")
        .expect("finding");
    assert_eq!(f.rule.severity, Severity::Critical);
    assert_eq!(f.subject, "internet -> internal");
    assert!(
        f.flows
            .iter()
            .any(|fl| fl.to == "sh01" && fl.ports == "3389")
    );
    let line = f.location.unwrap().line;
    assert_eq!(text.lines().nth(line - 1).unwrap(), "direct_access = true");
    assert!(r.fails(Some(Severity::High)));
    // Without it, the gateway carries RDP: no finding.
    let r = run(&with("", ""), &[]).unwrap();
    assert!(!ids(&r).contains(&"rdp-from-internet"));
}

#[test]
fn web_access_without_a_gateway() {
    let text = with("", "").replace("[\"gateway\", \"web-access\"]", "[\"web-access\"]");
    let r = run(&text, &[]).unwrap();
    assert!(
        ids(&r).contains(&"web-access-without-gateway"),
        "{:?}",
        ids(&r)
    );
    // No gateway also means direct RDP from the internet.
    assert!(ids(&r).contains(&"rdp-from-internet"));
    assert!(!ids(&run(&with("", ""), &[]).unwrap()).contains(&"web-access-without-gateway"));
}

#[test]
fn smb_across_the_perimeter_and_from_the_internet() {
    let r = run(&with("", ""), &[]).unwrap();
    let f = r
        .findings
        .iter()
        .find(|f| f.rule.id == "smb-across-perimeter")
        .expect("D05 from the perimeter gateway");
    assert_eq!(f.subject, "perimeter -> internal");
    assert!(
        f.flows
            .iter()
            .all(|fl| fl.from == "gw01" && fl.to == "dc01")
    );
    assert!(!ids(&r).contains(&"smb-from-internet"));
    // A file server on the internet side: SMB leaves the edge.
    let text = with(
        "",
        "[[host]]\nname = \"fs\"\naddress = \"203.0.113.7\"\nzone = \"internet\"\nroles = [\"file-server\"]\n",
    );
    assert!(ids(&run(&text, &[]).unwrap()).contains(&"smb-from-internet"));
}

#[test]
fn rpc_range_across_zones_until_it_is_restricted() {
    let r = run(&with("", ""), &[]).unwrap();
    assert!(ids(&r).contains(&"rpc-range-across-zones"));
    let r = run(&with("rpc_range = \"50000-50200\"", ""), &[]).unwrap();
    assert!(
        !ids(&r).contains(&"rpc-range-across-zones"),
        "{:?}",
        ids(&r)
    );
}

#[test]
fn winrm_http_across_zones_until_https() {
    assert!(ids(&run(&with("", ""), &[]).unwrap()).contains(&"winrm-http-across-zones"));
    let r = run(&with("winrm = \"https\"", ""), &[]).unwrap();
    assert!(!ids(&r).contains(&"winrm-http-across-zones"));
}

#[test]
fn ldap_in_clear_across_zones_until_ldaps() {
    assert!(ids(&run(&with("", ""), &[]).unwrap()).contains(&"ldap-cleartext-across-zones"));
    let r = run(&with("ldaps = true", ""), &[]).unwrap();
    assert!(!ids(&r).contains(&"ldap-cleartext-across-zones"));
}

#[test]
fn crl_over_ldap_or_ftp_from_the_perimeter() {
    let pki = "[[host]]\nname = \"pki\"\naddress = \"192.0.2.60\"\nroles = [\"crl\"]\n";
    let r = run(&with("crl = [\"ldap\"]", pki), &[]).unwrap();
    assert!(ids(&r).contains(&"crl-ldap-ftp-from-perimeter"));
    let r = run(&with("crl = [\"http\"]", pki), &[]).unwrap();
    assert!(!ids(&r).contains(&"crl-ldap-ftp-from-perimeter"));
}

#[test]
fn netbios_to_the_license_server() {
    let r = run(&with("netbios = true", ""), &[]).unwrap();
    assert!(ids(&r).contains(&"netbios-enabled"));
    assert!(!ids(&run(&with("", ""), &[]).unwrap()).contains(&"netbios-enabled"));
}

/// A check document from gw01 with these results (each given the address the contract
/// requires), read as `lint --check` reads a file.
fn check(mut results: serde_json::Value) -> Vec<CheckInput> {
    for r in results.as_array_mut().unwrap() {
        r["address"] = json!("192.0.2.1");
    }
    let text = json!({"schema_version": 2, "from": "gw01", "results": results, "summary": {}});
    let document = CheckDocument::parse(&text.to_string()).unwrap();
    vec![CheckInput::new("gw01.json".into(), document).unwrap()]
}

#[test]
fn findings_from_check_results() {
    let good = check(json!([
        {"to": "sh01", "protocol": "tcp", "port": 3389, "verdict": "open", "service": "rdp",
         "detail": {"selected_protocol": "hybrid", "nla_required": true}},
        {"to": "gw01", "protocol": "tcp", "port": 443, "verdict": "open", "service": "tls",
         "detail": {"tls": {"version": "TLSv1.3", "certificate": {"self_signed": false, "expired": false}}}},
        {"to": "dc01", "protocol": "tcp", "port": 445, "verdict": "open", "service": "smb",
         "detail": {"dialect": "3.1.1", "signing_required": true}},
        {"to": "dc01", "protocol": "tcp", "port": 88, "verdict": "open", "service": "kerberos",
         "detail": {"clock_skew_s": 12}},
    ]));
    let base = with(
        "ldaps = true\nwinrm = \"https\"\nrpc_range = \"50000-50100\"",
        "",
    );
    let clean = run(&base, &good).unwrap();
    assert_eq!(clean.results_read, 4);
    let plan_ids = ids(&clean);
    let bad = check(json!([
        {"to": "sh01", "protocol": "tcp", "port": 3389, "verdict": "open", "service": "rdp",
         "detail": {"selected_protocol": "rdp", "nla_required": false}},
        {"to": "gw01", "protocol": "tcp", "port": 443, "verdict": "open", "service": "tls",
         "detail": {"tls": {"version": "TLSv1.2", "certificate": {"subject": "CN=gw01", "self_signed": true, "expired": true}}}},
        {"to": "cb01", "protocol": "tcp", "port": 3389, "verdict": "open", "service": "tls",
         "detail": {"tls": {"alert": "protocol_version"}}},
        {"to": "dc01", "protocol": "tcp", "port": 445, "verdict": "open", "service": "smb",
         "detail": {"dialect": "3.1.1", "signing_required": false}},
        {"to": "dc01", "protocol": "tcp", "port": 88, "verdict": "open", "service": "kerberos",
         "detail": {"clock_skew_s": -400.5}},
        {"to": "dc01", "protocol": "tcp", "port": 636, "verdict": "filtered", "service": null,
         "detail": {"tls": {"certificate": {"expired": true}}}},
        {"to": "nowhere", "protocol": "tcp", "port": 1, "verdict": "open", "service": null,
         "detail": {}},
    ]));
    let r = run(&base, &bad).unwrap();
    let got: Vec<&str> = ids(&r)
        .into_iter()
        .filter(|id| !plan_ids.contains(id))
        .collect();
    assert_eq!(
        got,
        [
            "kerberos-clock-skew",
            "rdp-nla-not-required",
            "rdp-standard-security",
            "smb-signing-not-required",
            "tls-certificate-expired",
            "tls-certificate-self-signed",
            "tls-legacy-only",
        ]
    );
    // The filtered result is not evidence; the unknown host is a warning.
    let expired = r
        .findings
        .iter()
        .filter(|f| f.rule.id == "tls-certificate-expired");
    assert_eq!(expired.count(), 1);
    assert!(r.warnings.iter().any(|w| w.message.contains("\"nowhere\"")));
    let skew = r
        .findings
        .iter()
        .find(|f| f.rule.id == "kerberos-clock-skew")
        .unwrap();
    assert_eq!(skew.hosts, ["dc01"]);
    assert!(skew.evidence[0].contains("-400 s"), "{:?}", skew.evidence);
    let line = skew.location.unwrap().line;
    assert_eq!(base.lines().nth(line - 1).unwrap(), "name = \"dc01\"");
}

#[test]
fn self_signed_rdp_certificates_on_session_hosts_are_not_a_finding() {
    let c = check(json!([
        {"to": "sh01", "protocol": "tcp", "port": 3389, "verdict": "open", "service": "rdp",
         "detail": {"selected_protocol": "ssl", "nla_required": true,
                    "tls": {"certificate": {"self_signed": true}}}},
    ]));
    let r = run(&with("", ""), &c).unwrap();
    assert!(!ids(&r).contains(&"tls-certificate-self-signed"));
}

#[test]
fn acceptances_need_a_reason_and_known_ids_and_hosts() {
    let accept = |body: &str| with("", &format!("[[lint.accept]]\n{body}\n"));
    let r = run(
        &accept("id = \"smb-across-perimeter\"\nhosts = [\"gw01\"]\nreason = \"GPO from the DCs (D05)\""),
        &[],
    )
    .unwrap();
    assert!(!ids(&r).contains(&"smb-across-perimeter"));
    let a = r
        .accepted
        .iter()
        .find(|f| f.rule.id == "smb-across-perimeter")
        .unwrap();
    assert_eq!(a.accepted.as_deref(), Some("GPO from the DCs (D05)"));

    let text = accept("id = \"smb-across-perimeter\"\nreason = \"  \"");
    let e = run(&text, &[]).unwrap_err();
    assert!(e[0].message.contains("has no reason"), "{e:?}");
    assert!(e[0].line.is_some());

    let e = run(&accept("id = \"smb-acros-perimeter\"\nreason = \"x\""), &[]).unwrap_err();
    assert_eq!(
        e[0].hint.as_deref(),
        Some("did you mean \"smb-across-perimeter\"?")
    );

    let e = run(
        &accept("id = \"netbios-enabled\"\nhosts = [\"gw1\"]\nreason = \"x\""),
        &[],
    )
    .unwrap_err();
    assert!(e[0].message.contains("unknown host \"gw1\""));

    let e = run(&accept("id = \"netbios-enabled\"\nreasons = \"x\""), &[]).unwrap_err();
    assert!(
        e[0].message.contains("cannot read the [lint] section"),
        "{e:?}"
    );
    assert!(e[0].line.is_some());
}

#[test]
fn an_acceptance_for_other_hosts_does_not_hide_a_finding_and_unused_ones_warn() {
    let text = with(
        "",
        "[[lint.accept]]\nid = \"smb-across-perimeter\"\nhosts = [\"sh01\"]\nreason = \"x\"\n\
         [[lint.accept]]\nid = \"netbios-enabled\"\nreason = \"legacy clients\"\n",
    );
    let r = run(&text, &[]).unwrap();
    assert!(ids(&r).contains(&"smb-across-perimeter"));
    assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
    assert!(
        r.warnings
            .iter()
            .all(|w| w.message.contains("matches no finding"))
    );
}

#[test]
fn renderers_are_deterministic_and_bounded() {
    let text = with("direct_access = true", "");
    let r = run(&text, &[]).unwrap();
    let cx = render::Context {
        deployment: "t",
        file: "t.toml",
        uri: "t.toml",
        fail_on: Some(Severity::High),
        version: "0.0.0",
    };
    let table = render::table(&r, &cx);
    assert!(table.starts_with("CRITICAL ("), "{table}");
    assert!(table.contains("FAILS"));
    assert_eq!(table, render::table(&run(&text, &[]).unwrap(), &cx));
    let j: serde_json::Value = serde_json::from_str(&render::json(&r, &cx)).unwrap();
    assert_eq!(j["schema_version"], 1);
    assert_eq!(j["fails"], true);
    assert_eq!(j["summary"]["critical"], json!(1));
    let s: serde_json::Value = serde_json::from_str(&render::sarif(&r, &cx)).unwrap();
    assert_eq!(s["version"], "2.1.0");
    let results = s["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), r.findings.len() + r.accepted.len());
    for res in results {
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            s["runs"][0]["tool"]["driver"]["rules"][idx]["id"],
            res["ruleId"]
        );
        assert!(
            res["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap()
                >= 1
        );
    }
    let md = render::markdown(&r, &cx);
    assert!(md.contains("| `rdp-from-internet` |"));
    for f in &r.findings {
        assert!(f.flows.len() <= MAX_LISTED && f.hosts.len() <= MAX_LISTED);
    }
}

#[test]
fn explain_names_every_source() {
    for rule in RULES {
        let e = render::explain(rule);
        for s in rule.sources {
            assert!(e.contains(s.url));
        }
        assert!(e.contains(&format!("id = \"{}\"", rule.id)));
    }
    assert_eq!(render::list().lines().count(), RULES.len());
}

#[test]
fn a_mistyped_fact_is_an_error_naming_the_result_not_a_lost_finding() {
    let text = json!({"schema_version": 2, "from": "gw01", "summary": {}, "results": [
        {"to": "sh01", "address": "192.0.2.1", "protocol": "tcp", "port": 3389,
         "verdict": "open", "service": "rdp", "detail": {"nla_required": true}},
        {"to": "sh01", "address": "192.0.2.1", "protocol": "tcp", "port": 3390,
         "verdict": "open", "service": "rdp", "detail": {"nla_required": "false"}},
    ]});
    // Refused where the file is read, and where a document built in code is handed over.
    let e = CheckDocument::parse(&text.to_string()).unwrap_err();
    assert!(e.starts_with("result 2: detail: invalid type"), "{e}");
    let mut document =
        CheckDocument::parse(&text.to_string().replace("\"false\"", "false")).unwrap();
    document.results[1]
        .detail
        .insert("nla_required".into(), json!("false"));
    let e = CheckInput::new("gw01.json".into(), document).unwrap_err();
    assert!(e.starts_with("result 2: detail: invalid type"), "{e}");
}

/// `lint --rules` with loops of chains (a goto to itself, two chains that goto each other,
/// in iptables and nftables): the audit behind it ends, every flow "possible", and lint
/// reports what it can.
#[test]
fn rules_with_loops_of_chains_end() {
    let text = with("", "");
    let catalog = Catalog::builtin().expect("catalog");
    let d = Deployment::parse(&text).unwrap();
    let p = plan(&catalog, &d);
    let exports = [
        (
            "iptables-save",
            "*filter\n:FORWARD DROP [0:0]\n:A - [0:0]\n-A FORWARD -j A\n-A A -g A\nCOMMIT\n"
                .to_owned(),
        ),
        (
            "iptables-save",
            "*filter\n:FORWARD DROP [0:0]\n:A - [0:0]\n:B - [0:0]\n-A FORWARD -j A\n\
             -A A -g B\n-A B -g A\nCOMMIT\n"
                .to_owned(),
        ),
        (
            "nft-json",
            json!({"nftables": [
                {"table": {"family": "inet", "name": "f"}},
                {"chain": {"family": "inet", "table": "f", "name": "fw", "type": "filter",
                           "hook": "forward", "prio": 0, "policy": "drop"}},
                {"chain": {"family": "inet", "table": "f", "name": "a"}},
                {"chain": {"family": "inet", "table": "f", "name": "b"}},
                {"rule": {"family": "inet", "table": "f", "chain": "fw",
                          "expr": [{"jump": {"target": "a"}}]}},
                {"rule": {"family": "inet", "table": "f", "chain": "a",
                          "expr": [{"goto": {"target": "b"}}]}},
                {"rule": {"family": "inet", "table": "f", "chain": "b",
                          "expr": [{"goto": {"target": "a"}}]}},
            ]})
            .to_string(),
        ),
    ];
    for (format, export) in exports {
        let rs = rdsports_audit::read(format, &export, "fw", &Default::default()).unwrap();
        let audit = rdsports_audit::analyse(&rs, &p, &rdsports_audit::Scope::CrossZone);
        assert!(audit.counts.flows > 0);
        assert_eq!(audit.counts.possible, audit.counts.flows, "{export}");
        let r = lint(&Input {
            text: &text,
            plan: &p,
            checks: &[],
            rules: Some(RulesInput {
                name: "fw",
                ruleset: &rs,
                audit: &audit,
            }),
        })
        .unwrap();
        assert!(!ids(&r).contains(&"rules-too-broad"), "{export}");
    }
}

/// Per-host settings: a gateway's self-signed certificate on its own HTTPS port is a
/// finding, and a rule that opens a session host's own RDP port to any address is.
#[test]
fn per_host_ports_are_the_hosts_own() {
    let text = with(
        "",
        "[[host]]\nname = \"gw02\"\naddress = \"198.51.100.11\"\nroles = [\"gateway\"]\n\
         gateway_https_port = 8443\n\n\
         [[host]]\nname = \"sh03\"\naddress = \"192.0.2.23\"\nroles = [\"session-host\"]\n\
         rdp_port = 3390\n",
    );
    let self_signed = |to: &str, port: u16| {
        check(json!([
            {"to": to, "protocol": "tcp", "port": port, "verdict": "open", "service": "tls",
             "detail": {"tls": {"version": "TLSv1.3", "certificate": {"subject": "CN=gw", "self_signed": true}}}},
        ]))
    };
    let r = run(&text, &self_signed("gw02", 8443)).unwrap();
    let f = r
        .findings
        .iter()
        .find(|f| f.rule.id == "tls-certificate-self-signed")
        .expect("gw02's HTTPS port is 8443");
    assert_eq!(f.hosts, ["gw02"]);
    // 8443 is no HTTPS port of gw01 (it keeps 443).
    let r = run(&text, &self_signed("gw01", 8443)).unwrap();
    assert!(!ids(&r).contains(&"tls-certificate-self-signed"));

    let catalog = Catalog::builtin().expect("catalog");
    let d = Deployment::parse(&text).unwrap();
    let p = plan(&catalog, &d);
    let rules = |port: u16| {
        format!(
            "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -p tcp --dport {port} -j ACCEPT\nCOMMIT\n"
        )
    };
    let lint_rules = |export: &str| {
        let rs = rdsports_audit::read("iptables-save", export, "fw", &Default::default()).unwrap();
        let audit = rdsports_audit::analyse(&rs, &p, &rdsports_audit::Scope::CrossZone);
        let r = lint(&Input {
            text: &text,
            plan: &p,
            checks: &[],
            rules: Some(RulesInput {
                name: "fw",
                ruleset: &rs,
                audit: &audit,
            }),
        })
        .unwrap();
        r.findings
            .iter()
            .filter(|f| f.rule.id == "rules-rdp-smb-from-anywhere")
            .flat_map(|f| f.evidence.clone())
            .collect::<Vec<String>>()
    };
    let evidence = lint_rules(&rules(3390));
    assert_eq!(evidence.len(), 1, "{evidence:?}");
    assert!(
        evidence[0].contains("any IPv4 source to TCP 3390"),
        "{evidence:?}"
    );
    assert!(lint_rules(&rules(3392)).is_empty());
}
