//! `rdsports check` end to end on loopback (127.0.0.0/8 only).

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};

use super::*;

/// A deployment of loopback hosts: the gateway on 127.0.0.1, a DC on 127.0.0.2 and a
/// session host on 127.0.0.3, where nothing listens on the RDS ports.
const LOOPBACK: &str = "name = \"loop\"\n[options]\ndomain = \"lab.test\"\n\
    [[host]]\nname = \"gw01\"\naddress = \"127.0.0.1\"\nroles = [\"gateway\"]\n\
    [[host]]\nname = \"dc01\"\naddress = \"127.0.0.2\"\nroles = [\"domain-controller\", \"dns\"]\n\
    [[host]]\nname = \"sh01\"\naddress = \"127.0.0.3\"\nroles = [\"session-host\"]\n";

#[test]
fn blocked_flows_exit_1_with_the_json_contract() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "loop.toml", LOOPBACK.as_bytes());
    let out = rdsports()
        .arg("check")
        .arg(&file)
        .args([
            "--from",
            "gw01",
            "--to",
            "sh01",
            "--format",
            "json",
            "--timeout",
            "500",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_version"], 2);
    assert_eq!(v["from"], "gw01");
    let results = v["results"].as_array().unwrap();
    let tcp = results
        .iter()
        .find(|r| r["protocol"] == "tcp" && r["port"] == 3389)
        .unwrap();
    assert_eq!(tcp["verdict"], "refused");
    assert_eq!(tcp["to"], "sh01");
    assert_eq!(tcp["address"], "127.0.0.3");
    assert_eq!(tcp["expected_service"], "rdp");
    assert_eq!(tcp["catalog_id"], "S24");
    assert!(tcp["rtt_ms"].is_number());
    let udp = results
        .iter()
        .find(|r| r["protocol"] == "udp" && r["port"] == 3389)
        .unwrap();
    assert_eq!(udp["verdict"], "closed");
    for key in ["open", "refused", "filtered", "closed", "open|filtered"] {
        assert!(v["summary"][key].is_number(), "{key}");
    }
    assert_eq!(v["summary"]["refused"], 1);
    assert_eq!(v["summary"]["closed"], 1);
}

#[test]
fn the_rpc_range_is_not_probed_when_the_mapper_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "loop.toml", LOOPBACK.as_bytes());
    let out = rdsports()
        .arg("check")
        .arg(&file)
        .args([
            "--from",
            "gw01",
            "--to",
            "dc01",
            "--format",
            "json",
            "--timeout",
            "300",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let skipped = v["not_probed"].as_array().unwrap();
    let range = skipped
        .iter()
        .find(|n| n["ports"] == "49152-65535")
        .expect("range listed as not probed");
    assert!(
        range["reason"]
            .as_str()
            .unwrap()
            .contains("endpoint mapper"),
        "{range}"
    );
    assert!(
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["port"].as_u64().unwrap() < 49152)
    );
}

#[test]
fn junit_and_table_formats() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "loop.toml", LOOPBACK.as_bytes());
    rdsports()
        .arg("check")
        .arg(&file)
        .args([
            "--from",
            "gw01",
            "--to",
            "sh01",
            "--format",
            "junit",
            "--timeout",
            "300",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites",
        ))
        .stdout(predicate::str::contains(
            "<failure message=\"sh01 tcp/3389 is refused\"",
        ));
    rdsports()
        .arg("check")
        .arg(&file)
        .args(["--from", "gw01", "--to", "sh01", "--timeout", "300"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("sh01 (127.0.0.3)  session-host"))
        .stdout(predicate::str::contains("2 blocked"));
}

#[test]
fn from_must_be_one_local_host() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "loop.toml", LOOPBACK.as_bytes());
    rdsports()
        .arg("check")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("several hosts"))
        .stderr(predicate::str::contains("--from"));
    let example = root().join("examples/perimeter.toml");
    rdsports()
        .arg("check")
        .arg(&example)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no host of"))
        .stderr(predicate::str::contains("hint: name the host"));
    rdsports()
        .arg("check")
        .arg(&file)
        .args(["--from", "nope"])
        .assert()
        .code(2);
}

#[test]
fn ad_hoc_tcp_and_udp() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // A server that says something no probe knows.
    let server = std::thread::spawn(move || {
        for stream in listener.incoming().take(2).flatten() {
            let mut s = stream;
            let _ = s.write_all(b"hello from a test server\r\n");
            let mut buf = [0u8; 64];
            let _ = s.read(&mut buf);
        }
    });
    let out = rdsports()
        .args([
            "check",
            "--target",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--format",
            "json",
            "--timeout",
            "500",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["from"], "ad hoc");
    assert_eq!(v["results"][0]["verdict"], "open");
    drop(server);

    // UDP: a closed port is `closed`, a silent socket `open|filtered` (exit 0 unless strict).
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let p = silent.local_addr().unwrap().port().to_string();
    let args = [
        "check",
        "--target",
        "127.0.0.1",
        "--port",
        &p,
        "--protocol",
        "udp",
        "--timeout",
        "200",
        "--retries",
        "0",
    ];
    rdsports()
        .args(args)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("open|filtered"));
    rdsports().args(args).arg("--strict-udp").assert().code(1);
    drop(silent);
    rdsports()
        .args(args)
        .args(["--format", "json"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"closed\""));
    rdsports()
        .args(["check", "--target", "not-an-ip", "--port", "88"])
        .assert()
        .code(2);
}
