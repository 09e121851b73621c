use rdsports_core::Deployment;

use rdsports_schema::fleet::FleetStatus;

use super::*;

const TEXT: &str = r#"
name = "lab"
[[zone]]
name = "internet"
networks = ["0.0.0.0/0"]
[[zone]]
name = "inside"
networks = ["198.18.3.0/24"]
[[host]]
name = "clients"
address = "0.0.0.0/0"
roles = ["client"]
[[host]]
name = "clearinghouse"
address = "203.0.113.1"
zone = "internet"
roles = ["clearinghouse"]
[[host]]
name = "gw01"
address = "198.18.3.10"
roles = ["gateway", "web-access"]
[[host]]
name = "sh01"
address = "198.18.3.21"
roles = ["session-host"]
[[host]]
name = "dc01"
address = "198.18.3.40"
roles = ["domain-controller", "dns"]
"#;

fn deployment() -> Deployment {
    Deployment::parse(TEXT).unwrap()
}

#[test]
fn inventory_leaves_out_populations_and_the_clearinghouse_and_says_so() {
    let d = deployment();
    let inv: Value =
        serde_json::from_str(&ansible_inventory(&d, Os::Windows, "sha256:ab")).unwrap();
    let hosts = inv["all"]["hosts"].as_object().unwrap();
    assert_eq!(hosts.keys().collect::<Vec<_>>(), ["dc01", "gw01", "sh01"]);
    assert_eq!(inv["all"]["hosts"]["gw01"]["ansible_host"], "198.18.3.10");
    assert_eq!(inv["all"]["vars"]["ansible_connection"], "psrp");
    assert_eq!(inv["all"]["vars"]["rdsports_digest"], "sha256:ab");
    let left: Vec<&str> = inv["all"]["vars"]["rdsports_left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(left.len(), 2);
    assert!(left[0].starts_with("clients: a population"));
    assert!(left[1].starts_with("clearinghouse: outside the fleet"));
    let children = inv["all"]["children"].as_object().unwrap();
    assert!(children["rds_web_access"]["hosts"]["gw01"].is_object());
    assert!(children["rds_session_host"]["hosts"]["sh01"].is_object());
    assert!(children["zone_inside"]["hosts"]["dc01"].is_object());
    for g in children.keys() {
        assert!(
            g.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{g}"
        );
    }
    let linux: Value = serde_json::from_str(&ansible_inventory(&d, Os::Linux, "x")).unwrap();
    assert_eq!(linux["all"]["vars"]["ansible_connection"], "ssh");
    let csv = csv_inventory(&d);
    assert_eq!(
        csv,
        "name,address,roles,zone\n\
         gw01,198.18.3.10,gateway web-access,inside\n\
         sh01,198.18.3.21,session-host,inside\n\
         dc01,198.18.3.40,domain-controller dns,inside\n"
    );
}

fn result(file: &str, from: &str, digest: Option<&str>, verdicts: &[&str]) -> ResultFile {
    let results: Vec<Value> = verdicts
        .iter()
        .enumerate()
        .map(|(i, v)| {
            json!({"to": "dc01", "address": "198.18.3.40", "protocol": "tcp", "port": 80 + i,
                   "verdict": v, "service": null, "expected_service": null, "catalog_id": null,
                   "rtt_ms": 0.1, "detail": {}})
        })
        .collect();
    let mut raw = json!({"schema_version": 1, "from": from, "results": results, "summary": {}});
    if let Some(dg) = digest {
        raw["deployment_digest"] = dg.into();
    }
    ResultFile {
        file: file.into(),
        document: serde_json::from_value(raw).unwrap(),
    }
}

#[test]
fn every_host_shows_ok_blocked_not_run_or_refused() {
    let d = deployment();
    let files = [
        result("gw01.json", "gw01", Some("sha256:ab"), &["open", "open"]),
        result(
            "sh01.json",
            "sh01",
            Some("sha256:ab"),
            &["open", "filtered", "refused"],
        ),
        result("sh01-old.json", "sh01", Some("sha256:ab"), &["open"]),
        result("x.json", "nobody", Some("sha256:ab"), &["open"]),
    ];
    let s = summarize(&d, "sha256:ab", &files, UdpSilence::Warn);
    let status: Vec<(&str, &FleetStatus)> = s
        .hosts
        .iter()
        .map(|h| (h.host.as_str(), &h.status))
        .collect();
    assert_eq!(
        status,
        [
            ("gw01", &FleetStatus::Ok),
            ("sh01", &FleetStatus::Blocked),
            ("dc01", &FleetStatus::NotRun)
        ]
    );
    assert_eq!(s.hosts[1].blocked, 2);
    assert!(
        s.hosts[1]
            .detail
            .as_deref()
            .unwrap()
            .contains("dc01 tcp/81 filtered")
    );
    assert_eq!(s.ignored.len(), 2);
    assert!(!s.all_ok() && !s.refused());
    let table = summary_table(&s, 100);
    assert!(table.contains("not run / unreachable"));
    assert!(
        table.ends_with("fleet lab: 3 hosts: 1 ok, 1 blocked, 1 not run, 0 refused\n"),
        "{table}"
    );
    let j: Value = serde_json::from_str(&summary_json(&s)).unwrap();
    assert_eq!(j["summary"]["not_run"], 1);
    assert_eq!(j["hosts"][2]["status"], "not_run");

    let stale = [result("gw01.json", "gw01", Some("sha256:00"), &["open"])];
    let s = summarize(&d, "sha256:ab", &stale, UdpSilence::Warn);
    assert_eq!(s.hosts[0].status, FleetStatus::Refused);
    assert!(s.hosts[0].detail.as_deref().unwrap().contains("sha256:00"));
    assert!(s.refused());
}

/// A file of one host that claims to be another's result is refused with both names; the
/// other host keeps its own result (README: a result belongs to the host its file is named
/// after).
#[test]
fn a_result_claiming_another_host_is_refused_not_merged() {
    let d = deployment();
    let files = [
        result("results/dc01.json", "gw01", Some("sha256:ab"), &["open"]),
        result(
            "results/gw01.json",
            "gw01",
            Some("sha256:ab"),
            &["filtered"],
        ),
    ];
    let s = summarize(&d, "sha256:ab", &files, UdpSilence::Warn);
    let gw01 = s.hosts.iter().find(|h| h.host == "gw01").unwrap();
    assert_eq!(gw01.status, FleetStatus::Blocked);
    assert_eq!(gw01.file.as_deref(), Some("results/gw01.json"));
    let dc01 = s.hosts.iter().find(|h| h.host == "dc01").unwrap();
    assert_eq!(dc01.status, FleetStatus::Refused);
    let why = dc01.detail.as_deref().unwrap();
    assert!(
        why.contains("the file of dc01 says it is the result of \"gw01\""),
        "{why}"
    );
    assert!(s.refused());
    assert!(s.ignored.is_empty(), "{:?}", s.ignored);
}

#[test]
fn wrong_rds_web_services_and_refused_certificates_say_what_is_wrong() {
    let d = deployment();
    let raw = json!({"schema_version": 3, "from": "sh01", "summary": {},
        "deployment_digest": "sha256:ab", "results": [
        {"to": "gw01", "address": "198.18.3.10", "protocol": "tcp", "port": 443,
         "verdict": "open", "service": "http", "expected_service": "rd-gateway",
         "service_matches": false, "detail": {"status": 200}},
        {"to": "gw01", "address": "198.18.3.10", "protocol": "tcp", "port": 443,
         "verdict": "open", "service": "rd-web-access", "expected_service": "rd-web-access",
         "service_matches": true,
         "detail": {"public_name": "rds.lab.test", "public_name_covered": false}}]});
    let files = [ResultFile {
        file: "sh01.json".into(),
        document: CheckDocument::parse(&raw.to_string()).unwrap(),
    }];
    let s = summarize(&d, "sha256:ab", &files, UdpSilence::Warn);
    let sh01 = s.hosts.iter().find(|h| h.host == "sh01").unwrap();
    assert_eq!(sh01.status, FleetStatus::Blocked);
    assert_eq!(sh01.blocked, 2);
    let detail = sh01.detail.as_deref().unwrap();
    assert!(
        detail.contains("gw01 tcp/443 open: http, expected rd-gateway"),
        "{detail}"
    );
    assert!(
        detail.contains("gw01 tcp/443 open: certificate refused by clients"),
        "{detail}"
    );
}
