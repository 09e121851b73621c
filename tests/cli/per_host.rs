//! Per-host settings through every command that reads a deployment: the per-host fixture
//! (the perimeter example with sh03 on RDP 3390 without RDP over UDP, and a second gateway
//! gw02 on HTTPS 8443 with its UDP transport off), and listen and check on loopback with a
//! session host on a port of its own.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use super::*;

fn fixture() -> PathBuf {
    root().join("crates/policy/tests/fixtures/per-host.toml")
}

/// `rdsports ARGS FIXTURE`: exit status and standard output.
fn run(args: &[&str]) -> (Option<i32>, String) {
    let out = rdsports().args(args).arg(fixture()).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn plan_gives_each_host_its_own_ports() {
    let (code, text) = run(&["plan", "--format", "json"]);
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let flows = v["flows"].as_array().unwrap();
    let find = |from: &str, to: &str, protocol: &str| -> Vec<String> {
        flows
            .iter()
            .filter(|f| f["from"] == from && f["to"] == to && f["protocol"] == protocol)
            .map(|f| f["ports"].as_str().unwrap().to_owned())
            .collect()
    };
    for gw in ["gw01", "gw02"] {
        assert_eq!(find(gw, "sh03", "tcp"), ["3390"], "{gw}");
        assert!(find(gw, "sh01", "tcp").contains(&"3389".to_owned()), "{gw}");
        assert!(find(gw, "sh03", "udp").is_empty(), "{gw}");
    }
    assert_eq!(find("gw01", "sh01", "udp"), ["3389"]);
    assert!(find("gw02", "sh01", "udp").is_empty());
    assert_eq!(find("clients", "gw02", "tcp"), ["8443"]);
    assert!(find("clients", "gw02", "udp").is_empty());
    assert_eq!(find("clients", "gw01", "udp"), ["3391"]);
    // The table names them too.
    let (_, table) = run(&["plan", "--host", "sh03"]);
    assert!(table.contains("3390"), "{table}");
    assert!(!table.contains("3389"), "{table}");
}

/// Every target writes sh03's and gw02's own ports, and no target gives sh03 the deployment's.
#[test]
fn rules_of_every_target_carry_the_hosts_own_ports() {
    let dir = tempfile::tempdir().unwrap();
    for target in [
        "windows",
        "windows-netsh",
        "nftables",
        "iptables",
        "azure-nsg",
        "aws-sg",
        "cisco-asa",
        "aerleon",
    ] {
        let out_dir = dir.path().join(target);
        let out = rdsports()
            .args(["rules", "-t", target, "--out"])
            .arg(&out_dir)
            .arg(fixture())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{target}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut text = String::new();
        let mut stack = vec![out_dir];
        while let Some(p) = stack.pop() {
            if p.is_dir() {
                stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            } else {
                text += &std::fs::read_to_string(&p).unwrap();
            }
        }
        assert!(text.contains("3390"), "{target}");
        assert!(text.contains("8443"), "{target}");
    }
    // Host scripts: sh03 accepts RDP on 3390 only, over TCP only; gw02 no UDP 3391.
    let sh03 = std::fs::read_to_string(dir.path().join("windows/sh03.ps1")).unwrap();
    assert!(
        sh03.contains("-Protocol TCP -LocalPort @('3390')"),
        "{sh03}"
    );
    assert!(!sh03.contains("3389"), "{sh03}");
    assert!(!sh03.contains("-Protocol UDP"), "{sh03}");
    let gw02 = std::fs::read_to_string(dir.path().join("windows/gw02.ps1")).unwrap();
    assert!(gw02.contains("-LocalPort @('8443')"), "{gw02}");
    assert!(!gw02.contains("3391"), "{gw02}");
    // The zone firewall: sh03's rule is its own.
    let (_, nft) = run(&["rules", "-t", "nftables"]);
    assert!(
        nft.contains("ip daddr @h_sh03 tcp dport 3390 counter accept"),
        "{nft}"
    );
    assert!(nft.contains("ip daddr @h_gw02 tcp dport 8443 counter accept"));
    assert!(!nft.contains("ip daddr @h_gw02 udp"), "{nft}");
}

/// The audit judges a rule set by each host's port: rdsports' own iptables rules pass; the
/// same rules with sh03 on the deployment's port miss its flows and allow too much.
#[test]
fn audit_judges_each_hosts_own_port() {
    let dir = tempfile::tempdir().unwrap();
    let (code, rules) = run(&["rules", "-t", "iptables"]);
    assert_eq!(code, Some(0));
    let audit = |text: &str| {
        let path = write(&dir, "rules.v4", text.as_bytes());
        let out = rdsports()
            .args(["audit", "-f", "json", "-r"])
            .arg(&path)
            .arg(fixture())
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), v)
    };
    let (code, v) = audit(&rules);
    assert_eq!(code, Some(0), "{v:#}");
    assert_eq!(v["counts"]["missing"], 0);
    assert_eq!(v["too_broad"].as_array().unwrap().len(), 0);
    // sh03's rule moved to 3389, as a rule set written for one global port would have it.
    let line = rules
        .lines()
        .find(|l| l.contains("--dport 3390"))
        .expect("a rule for sh03's port");
    let wrong = rules.replace(line, &line.replace("--dport 3390", "--dport 3389"));
    let (code, v) = audit(&wrong);
    assert_eq!(code, Some(1), "{v:#}");
    assert_eq!(v["counts"]["missing"], 2, "{v:#}");
    let missing: Vec<&serde_json::Value> = v["flows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "missing")
        .collect();
    assert_eq!(missing.len(), 2, "{v:#}");
    for m in missing {
        assert_eq!(m["to"], "sh03", "{m}");
        assert_eq!(m["ports"], "3390", "{m}");
    }
    let broad = v["too_broad"].to_string();
    assert!(broad.contains("3389"), "{broad}");
}

/// lint --rules: a rule that opens sh03's own RDP port to any address is found.
#[test]
fn lint_finds_a_hosts_own_rdp_port_open_to_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let export = write(
        &dir,
        "fw.txt",
        b"*filter\n:FORWARD DROP [0:0]\n-A FORWARD -p tcp --dport 3390 -j ACCEPT\nCOMMIT\n",
    );
    let out = rdsports()
        .args(["lint", "--fail-on", "never", "--format", "json", "--rules"])
        .arg(&export)
        .arg(fixture())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = v.to_string();
    assert!(text.contains("rules-rdp-smb-from-anywhere"), "{text}");
    assert!(text.contains("any IPv4 source to TCP 3390"), "{text}");
}

/// report and diagram draw sh03 apart, with its own port.
#[test]
fn report_and_diagram_show_the_hosts_own_ports() {
    let (code, dot) = run(&["diagram", "--format", "dot"]);
    assert_eq!(code, Some(0));
    let edge = dot
        .lines()
        .find(|l| l.contains("->") && l.contains("tcp 3390"))
        .unwrap_or_else(|| panic!("no edge labelled tcp 3390: {dot}"));
    assert!(!edge.contains("3389"), "{edge}");
    let (code, html) = run(&["report"]);
    assert_eq!(code, Some(0));
    assert!(html.contains("3390") && html.contains("8443"));
    assert!(html.contains("-LocalPort @(&#39;3390&#39;)") || html.contains("-LocalPort @('3390')"));
}

/// A session host on an RDP port of its own, on loopback: sh01 (127.0.0.2) takes the
/// deployment's port, sh03 (127.0.0.3) sets `rdp_port` and turns RDP over UDP off. listen
/// opens sh03's own port (TCP only), and check from the gateway probes exactly that.
#[test]
fn listen_and_check_use_the_hosts_own_port() {
    let dir = tempfile::tempdir().unwrap();
    let free = || {
        TcpListener::bind("127.0.0.3:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (global, own) = (free(), free());
    let text = format!(
        "name = \"loop\"\n[options]\nrdp_port = {global}\ndomain_baseline = false\n\
         [[host]]\nname = \"gw01\"\naddress = \"127.0.0.1\"\nroles = [\"gateway\"]\n\
         [[host]]\nname = \"sh01\"\naddress = \"127.0.0.2\"\nroles = [\"session-host\"]\n\
         [[host]]\nname = \"sh03\"\naddress = \"127.0.0.3\"\nroles = [\"session-host\"]\n\
         rdp_port = {own}\nrdp_udp = false\n"
    );
    let file = write(&dir, "loop.toml", text.as_bytes());
    let listen = Process::new(assert_cmd::cargo::cargo_bin!("rdsports"))
        .arg("listen")
        .arg(&file)
        .args(["--as", "sh03", "--for", "6s", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.3", own)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no listener on {own}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = rdsports()
        .arg("check")
        .arg(&file)
        .args(["--from", "gw01", "--to", "sh03", "--format", "json"])
        .args(["--timeout", "1000"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{v:#}");
    assert_eq!(results[0]["protocol"], "tcp");
    assert_eq!(results[0]["port"], own);
    assert_eq!(results[0]["verdict"], "open");
    assert_eq!(results[0]["service"], "rdsports-listener");

    let mut listen = listen;
    let started = Instant::now();
    while listen.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = listen.kill();
            panic!("listen did not stop");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = listen.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ports: Vec<(String, u64)> = summary["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["transport"].as_str().unwrap().to_owned(),
                p["port"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(ports, [("tcp".to_owned(), u64::from(own))]);
    // The session host on the deployment's port is asked for that one, both transports.
    let out = rdsports()
        .arg("plan")
        .arg(&file)
        .args(["--host", "sh01", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let to_sh01: Vec<String> = v["flows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["to"] == "sh01")
        .map(|f| {
            format!(
                "{} {}",
                f["protocol"].as_str().unwrap(),
                f["ports"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(to_sh01, [format!("tcp {global}"), format!("udp {global}")]);
}
