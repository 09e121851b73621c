//! End-to-end tests of the `rdsports` binary.

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

fn rdsports() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("rdsports"));
    cmd.env("COLUMNS", "100");
    cmd
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn write(dir: &tempfile::TempDir, name: &str, text: &[u8]) -> std::path::PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

mod audit;
mod check;
mod diff;
mod docs;
mod fleet;
mod hostile;
mod import;
mod lint;
mod listen;
mod per_host;

mod plan {
    use super::*;

    #[test]
    fn json_contract_for_the_built_in_example() {
        let out = rdsports()
            .args(["plan", "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["deployment"], "contoso");
        let flows = v["flows"].as_array().unwrap();
        assert!(flows.len() > 100);
        for f in flows {
            for key in [
                "from",
                "to",
                "protocol",
                "ports",
                "service",
                "purpose",
                "catalog_id",
                "from_zone",
                "to_zone",
            ] {
                assert!(f.get(key).is_some(), "{key} missing in {f}");
            }
            let ports = f["ports"].as_str().unwrap();
            assert!(
                ports.split('-').all(|p| p.parse::<u16>().is_ok()),
                "{ports}"
            );
        }
        assert!(
            v["warnings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w.as_str().unwrap().contains("low-confidence"))
        );
    }

    #[test]
    fn every_example_plans_cleanly() {
        for name in ["single-server", "perimeter", "large-farm"] {
            let file = root().join("examples").join(format!("{name}.toml"));
            let out = rdsports()
                .arg("plan")
                .arg(&file)
                .args(["--format", "json"])
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            for w in v["warnings"].as_array().unwrap() {
                assert!(
                    !w.as_str().unwrap().starts_with("no host has role"),
                    "{name}: {w}"
                );
            }
        }
    }

    #[test]
    fn bad_file_exits_2_with_file_line_column_and_hint() {
        let dir = tempfile::tempdir().unwrap();
        let text = "name = \"x\"\n\n[[host]]\nname = \"sh01\"\naddress = \"192.0.2.1\"\nroles = [\"sesion-host\"]\n";
        let file = write(&dir, "bad.toml", text.as_bytes());
        rdsports()
            .arg("plan")
            .arg(&file)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(
                "error: unknown role \"sesion-host\"",
            ))
            .stderr(predicate::str::contains("bad.toml:6:10"))
            .stderr(predicate::str::contains(
                "hint: did you mean \"session-host\"?",
            ));
    }

    #[test]
    fn empty_binary_missing_and_utf16_files_exit_2() {
        let dir = tempfile::tempdir().unwrap();
        let empty = write(&dir, "empty.toml", b"");
        rdsports()
            .arg("plan")
            .arg(&empty)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("the file is empty"));
        let binary = write(&dir, "bin.toml", b"\x7fELF\0\0\x01");
        rdsports()
            .arg("plan")
            .arg(&binary)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("binary"));
        // UTF-16 with a byte order mark is read (see hostile.rs); without one it is refused.
        let utf16 = write(&dir, "u16.toml", b"n\0a\0m\0e\0 \0=\0 \x001\0");
        rdsports()
            .arg("plan")
            .arg(&utf16)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("UTF-16"));
        rdsports()
            .args(["plan", "/nonexistent/x.toml"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("cannot read"));
    }

    #[test]
    fn stdin_csv_and_host_filter() {
        let example = std::fs::read_to_string(root().join("examples/perimeter.toml")).unwrap();
        let out = rdsports()
            .args(["plan", "-", "--format", "csv", "--host", "ls01"])
            .write_stdin(example)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.starts_with("from,to,protocol,ports,service,catalog_id"));
        assert!(
            text.lines()
                .skip(1)
                .all(|l| l.contains(",ls01,") || l.starts_with("ls01,")),
            "{text}"
        );
        assert!(text.contains("ls01,clearinghouse,tcp,443,https,S34"));
        rdsports()
            .args(["plan", "--host", "nope"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("no host \"nope\""));
    }

    /// A deployment warning is printed once, located, not again as a bare sentence.
    #[test]
    fn deployment_warnings_are_printed_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(
            &dir,
            "short.toml",
            b"name = \"x\"\n[options]\nrpc_range = \"50000-50009\"\n\
              [[host]]\nname = \"dc01\"\naddress = \"192.0.2.5\"\nroles = [\"domain-controller\"]\n\
              [[host]]\nname = \"sh01\"\naddress = \"192.0.2.6\"\nroles = [\"session-host\"]\n",
        );
        for args in [
            vec!["plan", "--format", "csv"],
            vec!["rules", "--target", "windows"],
        ] {
            let out = rdsports().args(&args).arg(&file).output().unwrap();
            assert_eq!(out.status.code(), Some(0), "{args:?}");
            let err = String::from_utf8(out.stderr).unwrap();
            assert_eq!(
                err.matches("holds only 10 ports").count(),
                1,
                "{args:?}: {err}"
            );
            assert!(err.contains("short.toml:3:13"), "{err}");
        }
    }

    /// Several files on stdout are separated by a comment of their own language: `#` is no
    /// comment in a batch file.
    #[test]
    fn netsh_files_on_stdout_are_separated_by_rem() {
        let out = rdsports()
            .args(["rules", "--target", "windows-netsh"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("rem ===== gw01.cmd ====="), "{text}");
        assert!(!text.lines().any(|l| l.starts_with('#')), "{text}");
    }

    #[test]
    fn unknown_flag_is_a_usage_error() {
        rdsports()
            .args(["plan", "--frmat", "json"])
            .assert()
            .code(2);
    }
}

mod ports {
    use super::*;

    #[test]
    fn explains_a_port_with_its_seed_line() {
        rdsports()
            .args(["ports", "5504"])
            .assert()
            .success()
            .stdout(predicate::str::contains("web-access -> connection-broker"))
            .stdout(predicate::str::contains(
                "line 24: - TCP 5504: connection to RD Web Access",
            ));
        rdsports()
            .args(["ports", "3391"])
            .assert()
            .success()
            .stdout(predicate::str::contains("[S13]"));
        rdsports()
            .args(["ports", "S16"])
            .assert()
            .success()
            .stdout(predicate::str::contains("KB 224196"));
    }

    #[test]
    fn nothing_found_is_exit_1_and_bad_input_exit_2() {
        rdsports()
            .args(["ports", "12345"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("no catalog entry uses port 12345"));
        rdsports().args(["ports", "70000"]).assert().code(2);
        rdsports()
            .args(["ports", "--role", "gatway"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("unknown role"));
    }

    #[test]
    fn a_filter_that_matches_nothing_is_exit_1() {
        // No catalog entry uses port 7: a query that found nothing (README: exit 1).
        rdsports()
            .args(["ports", "--port", "7", "--format", "json"])
            .assert()
            .code(1)
            .stdout(predicate::str::contains("\"flows\": []"))
            .stderr(predicate::str::contains(
                "no catalog entry matches the filters",
            ));
        rdsports()
            .args(["ports", "--role", "licensing", "--service", "rdp"])
            .assert()
            .code(1);
        rdsports()
            .args(["ports", "--service", "rdp"])
            .assert()
            .success();
    }

    #[test]
    fn filters_narrow_an_explained_port() {
        // TCP+UDP 3389 has many entries; --protocol udp keeps only the UDP ones.
        let out = rdsports()
            .args(["ports", "3389", "--protocol", "udp", "--format", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let flows = v["flows"].as_array().unwrap();
        assert!(!flows.is_empty());
        assert!(
            flows
                .iter()
                .all(|f| f["protocols"] == serde_json::json!(["udp"])),
            "{flows:?}"
        );
        rdsports()
            .args(["ports", "5504", "--role", "licensing"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(
                "no catalog entry uses port 5504 and matches the filters",
            ));
    }

    #[test]
    fn filters() {
        let out = rdsports()
            .args([
                "ports",
                "--role",
                "nps",
                "--protocol",
                "udp",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let ids: Vec<&str> = v["flows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&"S22"), "{ids:?}");
        assert!(
            ids.iter().all(|i| *i == "S22" || i.starts_with('D')),
            "{ids:?}"
        );
    }
}

mod pictures {
    use super::*;

    #[test]
    fn diagram_formats() {
        rdsports()
            .args(["diagram", "-f", "dot"])
            .assert()
            .success()
            .stdout(predicate::str::starts_with("digraph"));
        rdsports()
            .args(["diagram", "-f", "mermaid"])
            .assert()
            .success()
            .stdout(predicate::str::starts_with("flowchart"));
        rdsports()
            .arg("diagram")
            .assert()
            .success()
            .stdout(predicate::str::contains("<svg"));
    }

    #[test]
    fn report_with_check_results() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("report.html");
        let fixture = root().join("crates/report/tests/fixtures/check-gw01.json");
        rdsports()
            .arg("report")
            .arg("--check")
            .arg(&fixture)
            .arg("-o")
            .arg(&out)
            .assert()
            .success();
        let html = std::fs::read_to_string(&out).unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..40]);
        assert!(
            html.contains("New-NetFirewallRule"),
            "Windows rules are in the report"
        );
        let bad = write(&dir, "bad.json", b"{\"schema_version\": 9}");
        rdsports()
            .arg("report")
            .arg("--check")
            .arg(&bad)
            .assert()
            .code(2);
    }
}

mod rules {
    use super::*;

    #[test]
    fn targets_stdout_and_out_dir() {
        rdsports()
            .args(["rules", "--target", "nftables"])
            .assert()
            .success()
            .stdout(predicate::str::contains("table inet rdsports"))
            .stderr(predicate::str::contains("before aggregation"));
        rdsports()
            .args(["rules", "--target", "windows"])
            .assert()
            .success()
            .stdout(predicate::str::contains("# ===== gw01.ps1 ====="))
            .stdout(predicate::str::contains("New-NetFirewallRule"));
        let dir = tempfile::tempdir().unwrap();
        rdsports()
            .args(["rules", "--target", "aerleon", "--out"])
            .arg(dir.path())
            .assert()
            .success();
        assert!(dir.path().join("def/networks.yaml").is_file());
        assert!(dir.path().join("policies/pol/contoso.yaml").is_file());
        rdsports()
            .args(["rules", "--target", "windows", "--host", "ls01", "--out"])
            .arg(dir.path())
            .assert()
            .success();
        assert!(dir.path().join("ls01.ps1").is_file());
    }

    #[test]
    fn enforcing_by_default_allow_only_keep_and_merge() {
        rdsports()
            .args(["rules", "--target", "iptables"])
            .assert()
            .success()
            .stdout(predicate::str::contains(
                "\"rdsports default drop\" -j DROP",
            ))
            .stdout(predicate::str::contains("REPLACES the whole filter table"));
        rdsports()
            .args(["rules", "--target", "nftables", "--allow-only"])
            .assert()
            .success()
            .stdout(predicate::str::contains("default drop").not())
            .stderr(predicate::str::contains("--allow-only: the output accepts"));
        rdsports()
            .args(["rules", "--target", "nftables", "--default-drop"])
            .assert()
            .success()
            .stdout(predicate::str::contains(
                "counter drop comment \"rdsports default drop\"",
            ))
            .stderr(predicate::str::contains(
                "--default-drop is the default now",
            ));
        rdsports()
            .args([
                "rules",
                "-t",
                "nftables",
                "--host-variant",
                "--keep",
                "203.0.113.5:22",
            ])
            .assert()
            .success()
            .stdout(predicate::str::contains(
                "ip saddr 203.0.113.5 tcp dport 22 counter accept",
            ))
            .stdout(predicate::str::contains(
                "[firewall] keep, accepted before the drop): 203.0.113.5:22/tcp",
            ));
        rdsports()
            .args(["rules", "-t", "nftables", "--into", "inet", "fw", "fwd"])
            .assert()
            .success()
            .stdout(predicate::str::contains("chain rdsports-forward {"))
            .stdout(predicate::str::contains(
                "nft insert rule inet fw fwd jump rdsports-forward",
            ))
            .stdout(predicate::str::contains("delete table").not());
        rdsports()
            .args(["rules", "-t", "iptables", "--merge"])
            .assert()
            .success()
            .stdout(predicate::str::contains(":RDSPORTS-FWD - [0:0]"))
            .stdout(predicate::str::contains(":FORWARD").not());
        for bad in [
            vec!["rules", "-t", "nftables", "--keep", "host:22"],
            vec![
                "rules", "-t", "nftables", "--into", "inet", "filter;", "forward",
            ],
            vec![
                "rules", "-t", "iptables", "--into", "inet", "filter", "forward",
            ],
            vec!["rules", "-t", "windows", "--keep", "203.0.113.5"],
            vec![
                "rules",
                "-t",
                "nftables",
                "--allow-only",
                "--keep",
                "203.0.113.5",
            ],
        ] {
            rdsports().args(&bad).assert().code(2);
        }
    }

    /// `[firewall] keep` in the deployment file: kept with --keep by the targets that drop,
    /// a note for the others, errors located in the file.
    #[test]
    fn the_deployment_files_firewall_keep() {
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::read_to_string(root().join("examples/single-server.toml")).unwrap();
        let write = |name: &str, extra: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, format!("{base}\n{extra}")).unwrap();
            path
        };
        let good = write(
            "good.toml",
            "[firewall]\nkeep = [\"198.51.100.7:22\", \"203.0.113.0/28\"]\n",
        );
        rdsports()
            .args([
                "rules",
                "-t",
                "nftables",
                "--keep",
                "198.51.100.7:22",
                "--keep",
                "192.0.2.9:2222",
            ])
            .arg(&good)
            .assert()
            .success()
            .stdout(predicate::str::contains(
                "ip saddr 198.51.100.7 tcp dport 22 counter accept comment \"rdsports keep 1\"",
            ))
            .stdout(predicate::str::contains(
                "ip saddr 203.0.113.0/28 counter accept comment \"rdsports keep 2\"",
            ))
            .stdout(predicate::str::contains(
                "ip saddr 192.0.2.9 tcp dport 2222 counter accept comment \"rdsports keep 3\"",
            ))
            .stdout(predicate::str::contains("rdsports keep 4").not());
        rdsports()
            .args(["rules", "-t", "windows"])
            .arg(&good)
            .assert()
            .success()
            .stderr(predicate::str::contains("[firewall] keep in"))
            .stderr(predicate::str::contains(
                "is not applied: windows takes no keep entries",
            ));
        rdsports()
            .args(["rules", "-t", "iptables", "--allow-only"])
            .arg(&good)
            .assert()
            .success()
            .stdout(predicate::str::contains("198.51.100.7").not())
            .stderr(predicate::str::contains(
                "with --allow-only nothing is dropped",
            ));
        let lines = base.lines().count();
        let bad = write(
            "bad.toml",
            "[firewall]\nkeep = [\"198.51.100.7:22\", \"host:22\"]\n",
        );
        rdsports()
            .args(["rules", "-t", "nftables"])
            .arg(&bad)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "bad.toml:{}:28",
                lines + 3
            )))
            .stderr(predicate::str::contains("not an address or network"));
        let unknown = write("unknown.toml", "[firewall]\nkeeps = []\n");
        rdsports()
            .args(["rules", "-t", "nftables"])
            .arg(&unknown)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "unknown key \"keeps\" in [firewall]",
            ))
            .stderr(predicate::str::contains(format!(
                "unknown.toml:{}:1",
                lines + 2
            )));
        // Other commands read the file as before.
        rdsports().arg("plan").arg(&good).assert().success();
    }

    #[test]
    fn bad_targets_hosts_and_boundaries_exit_2() {
        rdsports()
            .args(["rules", "--target", "pf"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("nftables"));
        rdsports()
            .args(["rules", "--target", "windows", "--host", "nope"])
            .assert()
            .code(2);
        rdsports()
            .args(["rules", "--target", "nftables", "--boundary", "perimeter"])
            .assert()
            .code(2);
        rdsports()
            .args([
                "rules",
                "--target",
                "nftables",
                "--boundary",
                "dmz:internal",
            ])
            .assert()
            .code(2);
        rdsports()
            .args([
                "rules",
                "--target",
                "nftables",
                "--boundary",
                "perimeter:internal",
            ])
            .assert()
            .success()
            .stdout(predicate::str::contains("198.51.100.10"));
    }
}

mod boundary_names {
    use super::*;

    #[test]
    fn zone_names_with_colons_work_in_boundary() {
        let dir = tempfile::tempdir().unwrap();
        let text = "name = \"c\"\n[[zone]]\nname = \"dmz:a\"\nnetworks = [\"198.51.100.0/24\"]\n\
                    [[zone]]\nname = \"lan\"\nnetworks = [\"192.0.2.0/24\"]\n\
                    [[host]]\nname = \"gw\"\naddress = \"198.51.100.1\"\nroles = [\"gateway\"]\n\
                    [[host]]\nname = \"dc\"\naddress = \"192.0.2.1\"\nroles = [\"domain-controller\"]\n";
        let file = write(&dir, "c.toml", text.as_bytes());
        rdsports()
            .arg("rules")
            .arg(&file)
            .args(["--target", "nftables", "--boundary", "dmz:a:lan"])
            .assert()
            .success()
            .stdout(predicate::str::contains("192.0.2.1"));
    }
}
