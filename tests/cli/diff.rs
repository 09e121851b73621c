//! `rdsports diff`: golden outputs for pairs of deployments (tests/diff/<case>/: old.toml,
//! old.json (a saved plan) or examples/perimeter.toml when the case has neither, and
//! new.toml), exit statuses, the JSON contract, `report --diff` and bad input.

use super::*;

const CASES: [&str; 12] = [
    "broker-ha",
    "direct-to-gateway",
    "gateway-and-session-host",
    "gateway-udp",
    "host-added",
    "host-renamed",
    "no-change",
    "per-host",
    "rdp-port",
    "role-added",
    "saved-plan",
    "zone-split",
];

/// The case's OLD (old.toml, or old.json: a saved plan, or examples/perimeter.toml) and NEW,
/// relative to the repository (labels in the output stay stable).
fn sides(case: &str) -> (String, String) {
    let old = ["toml", "json"]
        .map(|ext| format!("tests/diff/{case}/old.{ext}"))
        .into_iter()
        .find(|old| root().join(old).exists())
        .unwrap_or_else(|| "examples/perimeter.toml".to_owned());
    (old, format!("tests/diff/{case}/new.toml"))
}

fn diff(args: &[&str]) -> std::process::Output {
    rdsports()
        .current_dir(root())
        .env("COLUMNS", "80")
        .arg("diff")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn golden_outputs_of_every_pair() {
    let mut mismatches = Vec::new();
    for case in CASES {
        let (old, new) = sides(case);
        let formats: &[(&str, &str)] = if ["gateway-and-session-host", "rdp-port"].contains(&case) {
            &[
                ("table", "txt"),
                ("csv", "csv"),
                ("markdown", "md"),
                ("json", "json"),
            ]
        } else {
            &[("table", "txt"), ("csv", "csv")]
        };
        for (format, ext) in formats {
            let out = diff(&[&old, &new, "--format", format]);
            assert_eq!(out.status.code(), Some(0), "{case} {format}");
            let text = String::from_utf8(out.stdout).unwrap();
            let golden = root().join(format!("tests/diff/{case}/diff.{ext}"));
            if let Err(m) = rdsports_testkit::check(&golden, &text) {
                mismatches.push(m);
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// `--target`: per case and target, each changed file's rules to remove and to add, as
/// tests/diff/<case>/rules/<target>/{remove,add}/<file> (the file's own name and extension).
const RULE_CASES: [(&str, &[&str]); 5] = [
    ("host-added", &["nftables", "windows", "azure-nsg"]),
    ("rdp-port", &["nftables", "windows", "azure-nsg"]),
    ("zone-split", &["nftables", "cisco-asa"]),
    ("host-renamed", &["nftables", "windows", "azure-nsg"]),
    ("no-change", &["nftables"]),
];

/// Every file under `dir`, relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn golden_rule_changes_per_target() {
    let mut mismatches = Vec::new();
    for (case, targets) in RULE_CASES {
        let (old, new) = sides(case);
        for target in targets {
            let out = diff(&[&old, &new, "--target", target, "--format", "json"]);
            assert_eq!(out.status.code(), Some(0), "{case} {target}");
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let rules = &v["rules"];
            assert_eq!(rules["target"], *target);
            let dir = root().join(format!("tests/diff/{case}/rules/{target}"));
            let mut made = Vec::new();
            for f in rules["files"].as_array().unwrap() {
                for what in ["remove", "add"] {
                    if let Some(text) = f[what].as_str() {
                        let name = format!("{what}/{}", f["file"].as_str().unwrap());
                        if let Err(m) = rdsports_testkit::check(dir.join(&name), text) {
                            mismatches.push(m);
                        }
                        made.push(name);
                    }
                }
            }
            made.sort();
            // A golden the output no longer has is a mismatch too.
            for stale in files_under(&dir).into_iter().filter(|f| !made.contains(f)) {
                mismatches.push(format!("{case} {target}: {stale} is no longer written"));
            }
            // Same traffic on both sides: no rule changes, whatever the flows say.
            if ["host-renamed", "no-change"].contains(&case) {
                assert!(made.is_empty(), "{case} {target}: {made:?}");
                assert_eq!((&rules["removed"], &rules["added"]), (&0.into(), &0.into()));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn rule_changes_in_the_table_and_markdown_and_not_in_csv() {
    let mut mismatches = Vec::new();
    for (case, format, ext) in [
        ("host-renamed", "table", "txt"),
        ("rdp-port", "markdown", "md"),
    ] {
        let (old, new) = sides(case);
        let out = diff(&[&old, &new, "--target", "nftables", "--format", format]);
        assert_eq!(out.status.code(), Some(0));
        let golden = root().join(format!("tests/diff/{case}/diff.nftables.{ext}"));
        if let Err(m) = rdsports_testkit::check(&golden, &String::from_utf8(out.stdout).unwrap()) {
            mismatches.push(m);
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    let (old, new) = sides("rdp-port");
    let plain = diff(&[&old, &new, "--format", "csv"]);
    let with = diff(&[&old, &new, "--target", "nftables", "--format", "csv"]);
    assert_eq!(plain.stdout, with.stdout);
    // --exit-code is about the flows, as without --target.
    let (old, new) = sides("host-renamed");
    let out = diff(&[&old, &new, "--target", "nftables", "--exit-code"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn rule_changes_narrowed_to_a_host_that_one_side_lacks() {
    let files = |case: &str, host: &str| {
        let (old, new) = sides(case);
        let out = diff(&[
            &old, &new, "--target", "windows", "--host", host, "--format", "json",
        ]);
        assert_eq!(out.status.code(), Some(0), "{case} {host}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["rules"]["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["file"].as_str().unwrap().to_owned(),
                    f["remove"].is_string(),
                    f["add"].is_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    // sh04 is new: its script has rules to add and none to remove.
    assert_eq!(
        files("gateway-and-session-host", "sh04"),
        [("sh04.ps1".to_owned(), false, true)]
    );
    // sh01 on another RDP port: its RDP rules go, the new ones come.
    assert_eq!(
        files("rdp-port", "sh01"),
        [("sh01.ps1".to_owned(), true, true)]
    );
}

#[test]
fn rule_changes_need_deployment_files_on_both_sides() {
    let (old, new) = sides("saved-plan");
    let out = diff(&[&old, &new, "--target", "nftables"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--target needs the deployment file on both sides"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn exit_code_is_1_on_a_change_and_0_without() {
    let (old, new) = sides("no-change");
    let out = diff(&[&old, &new, "--exit-code"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().nth(1),
        Some("no flow changed")
    );
    let (old, new) = sides("rdp-port");
    assert_eq!(diff(&[&old, &new]).status.code(), Some(0));
    assert_eq!(diff(&[&old, &new, "--exit-code"]).status.code(), Some(1));
    // A change of options alone that moves no flow is a change too.
    assert_eq!(
        diff(&[&new, &old, "--exit-code", "--host", "ls01"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn a_saved_plan_compares_with_todays_file() {
    let dir = tempfile::tempdir().unwrap();
    let plan = rdsports()
        .current_dir(root())
        .args(["plan", "examples/perimeter.toml", "--format", "json"])
        .output()
        .unwrap();
    let saved = write(&dir, "before.json", &plan.stdout);
    let (_, new) = sides("host-added");
    let out = diff(&[saved.to_str().unwrap(), &new, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["old"]["kind"], "plan");
    assert_eq!(v["summary"]["added"], 28);
    assert_eq!(v["summary"]["removed"], 0);
    // A saved plan does not say addresses: flows are compared by name, and the addresses
    // shown are NEW's, as the note says.
    assert_eq!(
        v["boundaries"][0]["pairs"][0]["from"]["address"],
        "198.51.100.10"
    );
    let notes = v["header"]["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0]
            .as_str()
            .unwrap()
            .ends_with(&format!("addresses are those of NEW ({new})"))
    );
}

#[test]
fn narrowing_by_host_and_boundary() {
    let (old, new) = sides("gateway-and-session-host");
    let out = diff(&[&old, &new, "--host", "sh04", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for b in v["boundaries"].as_array().unwrap() {
        for p in b["pairs"].as_array().unwrap() {
            assert!(
                p["from"]["name"] == "sh04" || p["to"]["name"] == "sh04",
                "{p}"
            );
        }
    }
    let out = diff(&[
        &old,
        &new,
        "--boundary",
        "internet:perimeter",
        "--format",
        "csv",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        "action,source,source_address,destination,destination_address,protocol,ports,service,\
         justification,reference\n\
         add,clients,0.0.0.0/0,gw02,198.51.100.11,tcp,443,https,RD Web Access portal and \
         RemoteApp feed over HTTPS,\"S01 (seed lines 18, 19); S12 (seed line 35)\"\n\
         add,clients,0.0.0.0/0,gw02,198.51.100.11,udp,3391,rdg-udp,\"RD Gateway UDP transport \
         (RDP/UDP); stateful firewalls must allow the reply (\"\"Send Receive\"\")\",S13 (seed \
         line 36)\n"
    );
}

#[test]
fn bad_input_exits_2_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = sides("host-added");
    for (args, says) in [
        (
            vec![old.as_str(), new.as_str(), "--host", "nosuch"],
            "no host \"nosuch\"",
        ),
        (
            vec![old.as_str(), new.as_str(), "--boundary", "internal"],
            "ZONE_A:ZONE_B",
        ),
        (
            vec![old.as_str(), new.as_str(), "--boundary", "a:internal"],
            "no zone \"a\"",
        ),
        (vec![old.as_str(), "tests/diff/none.toml"], "cannot read"),
    ] {
        let out = diff(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let broken = write(&dir, "plan.json", b"{\"schema_version\": 1, \"flows\": [}");
    let out = diff(&[broken.to_str().unwrap(), &new]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("plan.json:1:"));
    let toml = write(&dir, "bad.toml", b"[[host]]\nname = 1\n");
    let out = diff(&[&old, toml.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.toml:2:"));
}

#[test]
fn the_guide_example_is_the_real_output() {
    let readme = std::fs::read_to_string(root().join("docs/guide.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("examples/perimeter.toml"),
        dir.path().join("perimeter.toml"),
    )
    .unwrap();
    std::fs::copy(
        root().join("tests/diff/gateway-and-session-host/new.toml"),
        dir.path().join("perimeter-new.toml"),
    )
    .unwrap();
    for command in [
        "$ rdsports diff perimeter.toml perimeter-new.toml --boundary internet:perimeter\n",
        "$ rdsports diff perimeter.toml perimeter-new.toml --format csv\n",
        "$ rdsports diff perimeter.toml perimeter-new.toml --boundary internet:perimeter --target nftables\n",
    ] {
        let at = readme.find(command).expect("the guide shows the command") + command.len();
        let shown = &readme[at..at + readme[at..].find("```").unwrap()];
        let args: Vec<&str> = command.trim().split(' ').skip(3).collect();
        let out = rdsports()
            .current_dir(dir.path())
            .env("COLUMNS", "80")
            .arg("diff")
            .args(&args)
            .output()
            .unwrap();
        let real = String::from_utf8(out.stdout).unwrap();
        // `...` lines stand for lines left out: the parts between them appear in order.
        let mut parts = shown.split("...\n");
        let first = parts.next().unwrap_or_default();
        assert!(
            real.starts_with(first),
            "the guide shows:\n{shown}\nthe command prints:\n{real}"
        );
        let mut rest = &real[first.len()..];
        for part in parts {
            let at = rest.find(part).unwrap_or_else(|| {
                panic!("the guide shows:\n{part}\nnot in what the command prints:\n{real}")
            });
            rest = &rest[at + part.len()..];
        }
    }
}

#[test]
fn report_with_diff_has_the_changes_section() {
    let (old, new) = sides("direct-to-gateway");
    let out = rdsports()
        .current_dir(root())
        .args(["report", &new, "--diff", &old])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let html = String::from_utf8(out.stdout).unwrap();
    assert!(html.contains(&format!("<h2>Changes since {old}</h2>")));
    // Direct RDP from the internet is gone: removed rows; the gateway's flows are added.
    assert!(html.contains("<tr class=\"diff-removed\"><td>removed</td><td>clients"));
    assert!(html.contains("class=\"diff-added\"><td class=\"from\">clients</td>"));
    assert!(html.contains(" rd-added\" data-edge="));
    let bad = rdsports()
        .current_dir(root())
        .args(["report", &new, "--diff", "tests/diff/none.toml"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
