//! `rdsports fleet` and `check --as/--output`: the inventory, the merged summary (every host
//! shown, other digests refused) and result files with their run information. No traffic:
//! the results are written here, and the one check run has no flow to probe.

use super::*;

const DEPLOYMENT: &[u8] = br#"name = "fleet"
[[host]]
name = "clients"
address = "0.0.0.0/0"
roles = ["client"]
[[host]]
name = "gw01"
address = "127.0.0.11"
roles = ["gateway"]
[[host]]
name = "sh01"
address = "127.0.0.12"
roles = ["session-host"]
[[host]]
name = "dc01"
address = "127.0.0.13"
roles = ["domain-controller", "dns"]
"#;

fn inventory(file: &Path) -> serde_json::Value {
    let out = rdsports()
        .args(["fleet", "inventory", "--os", "linux"])
        .arg(file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("left out: clients (a population"));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn result(dir: &Path, host: &str, digest: &str, verdicts: &[&str]) {
    let results: Vec<serde_json::Value> = verdicts
        .iter()
        .map(|v| {
            serde_json::json!({"to": "dc01", "address": "127.0.0.13", "protocol": "tcp",
                "port": 389, "verdict": v, "service": null, "expected_service": "ldap",
                "catalog_id": "S17", "rtt_ms": 0.2, "detail": {}})
        })
        .collect();
    let doc = serde_json::json!({"schema_version": 1, "from": host, "results": results,
        "not_probed": [], "summary": {}, "deployment": "fleet", "deployment_digest": digest});
    std::fs::write(dir.join(format!("{host}.json")), doc.to_string()).unwrap();
}

fn summary(dir: &Path, file: &Path) -> (i32, serde_json::Value, String) {
    let out = rdsports()
        .args(["fleet", "summary", "--format", "json"])
        .arg(dir)
        .arg(file)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_default();
    (
        out.status.code().unwrap_or(-1),
        v,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn inventory_then_summary_shows_every_host() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "fleet.toml", DEPLOYMENT);
    let inv = inventory(&file);
    let hosts = inv["all"]["hosts"].as_object().unwrap();
    assert_eq!(hosts.len(), 3);
    assert_eq!(inv["all"]["vars"]["ansible_connection"], "ssh");
    let digest = inv["all"]["vars"]["rdsports_digest"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(digest.starts_with("sha256:") && digest.len() == 7 + 64);

    let results = dir.path().join("results");
    std::fs::create_dir(&results).unwrap();
    result(&results, "gw01", &digest, &["open"]);
    result(&results, "sh01", &digest, &["open", "filtered"]);
    let (code, v, _) = summary(&results, &file);
    assert_eq!(code, 1);
    let status: Vec<(&str, &str)> = v["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["host"].as_str().unwrap(), h["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        status,
        [("gw01", "ok"), ("sh01", "blocked"), ("dc01", "not_run")]
    );

    result(&results, "sh01", &digest, &["open"]);
    result(&results, "dc01", &digest, &["open"]);
    assert_eq!(summary(&results, &file).0, 0);

    result(&results, "dc01", "sha256:0123", &["open"]);
    let (code, v, err) = summary(&results, &file);
    assert_eq!(code, 2);
    assert_eq!(v["hosts"][2]["status"], "refused");
    assert!(
        err.contains("refused") && err.contains("sha256:0123"),
        "{err}"
    );
}

#[test]
fn csv_inventory_for_invoke_command() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "fleet.toml", DEPLOYMENT);
    rdsports()
        .args(["fleet", "inventory", "--format", "csv"])
        .arg(&file)
        .assert()
        .code(0)
        .stdout(
            "name,address,roles,zone\ngw01,127.0.0.11,gateway,default\n\
             sh01,127.0.0.12,session-host,default\n\
             dc01,127.0.0.13,domain-controller dns,default\n",
        );
}

/// `--as` names the host and `--output` writes the document with its run information.
#[test]
fn check_as_a_host_writes_its_result_file() {
    let dir = tempfile::tempdir().unwrap();
    // dc01 (a domain controller) opens no planned flow: nothing is probed.
    let file = write(&dir, "fleet.toml", DEPLOYMENT);
    let out_file = dir.path().join("dc01.json");
    rdsports()
        .args(["check", "--as", "dc01", "--format", "json", "--output"])
        .arg(&out_file)
        .arg(&file)
        .assert()
        .code(0)
        .stdout("");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    assert_eq!(v["from"], "dc01");
    assert_eq!(v["deployment"], "fleet");
    assert_eq!(v["rdsports_version"], env!("CARGO_PKG_VERSION"));
    let inv = inventory(&file);
    assert_eq!(
        v["deployment_digest"],
        inv["all"]["vars"]["rdsports_digest"]
    );
    for key in ["started_utc", "finished_utc"] {
        let t = v[key].as_str().unwrap();
        assert!(t.len() == 20 && t.ends_with('Z'), "{key}: {t}");
    }
    assert!(!dir.path().join("dc01.json.partial").exists());
    // The summary takes it: dc01 reported, the others did not.
    let results = dir.path().join("r");
    std::fs::create_dir(&results).unwrap();
    std::fs::copy(&out_file, results.join("dc01.json")).unwrap();
    let (code, v, _) = summary(&results, &file);
    assert_eq!(code, 1);
    assert_eq!(v["hosts"][2]["status"], "ok");
}

/// A folder entry named *.json that is not a regular file (a folder, a dangling link) is an
/// unreadable input, named (exit 2), not a host that did not report (exit 1).
#[test]
fn entries_that_are_not_files_are_unreadable_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "fleet.toml", DEPLOYMENT);
    let results = dir.path().join("results");
    std::fs::create_dir_all(results.join("gw01.json")).unwrap();
    let (code, _, stderr) = summary(&results, &file);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("gw01.json: not a regular file"), "{stderr}");
    #[cfg(unix)]
    {
        std::fs::remove_dir(results.join("gw01.json")).unwrap();
        std::os::unix::fs::symlink(results.join("nowhere"), results.join("sh01.json")).unwrap();
        let (code, _, stderr) = summary(&results, &file);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("sh01.json: not a regular file"), "{stderr}");
    }
}

/// Control characters in what a result file says (a host name, a detail) or in a file name
/// never reach the terminal raw: the table and stderr show them escaped.
#[test]
fn control_characters_from_result_files_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "fleet.toml", DEPLOYMENT);
    let results = dir.path().join("results");
    std::fs::create_dir_all(&results).unwrap();
    // A digest that tries to set the window title, and a file (and host) name that clears
    // the screen.
    let doc = serde_json::json!({"schema_version": 2, "from": "gw01", "results": [],
        "summary": {}, "deployment_digest": "sha256:00\r\n\u{1b}]0;owned\u{7}"});
    std::fs::write(results.join("gw01.json"), doc.to_string()).unwrap();
    // Windows file names cannot hold control characters: there the host name carries them.
    let name = if cfg!(unix) { "x\u{1b}[2J" } else { "x" };
    let doc = serde_json::json!({"schema_version": 2, "from": "x\u{1b}[2J", "results": [],
        "summary": {}});
    std::fs::write(results.join(format!("{name}.json")), doc.to_string()).unwrap();
    let out = rdsports()
        .args(["fleet", "summary"])
        .arg(&results)
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let all = [out.stdout.as_slice(), out.stderr.as_slice()].concat();
    assert!(!all.contains(&0x1b) && !all.contains(&0x07) && !all.contains(&b'\r'));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("sha256:00\\r\\n\\x1b]0;owned\\x07"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\\x1b[2J"), "{stdout}");
}
