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
    assert_eq!(v["schema_version"], 3);
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

/// A loopback TCP server that handles each connection with `serve` on its own thread;
/// returns its port. The threads end with the test process.
fn server(serve: fn(std::net::TcpStream)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream));
        }
    });
    port
}

/// Answers anything with `400 Bad Request`, as a web server does to an RDP request.
fn http_400(mut stream: std::net::TcpStream) {
    let mut buf = [0u8; 4096];
    let _ = stream.read(&mut buf);
    let _ = stream
        .write_all(b"HTTP/1.1 400 Bad Request\r\nServer: stand-in\r\nContent-Length: 0\r\n\r\n");
}

/// Waits for a newline before answering (as Python's http.server does).
fn http_after_newline(mut stream: std::net::TcpStream) {
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while seen.len() < 8192 && !seen.ends_with(b"\n") {
        match stream.read(&mut byte) {
            Ok(1) => seen.push(byte[0]),
            _ => return,
        }
    }
    let _ = stream.write_all(b"HTTP/1.0 501 Unsupported method\r\n\r\n");
}

/// Accepts and never says a word.
fn silent(mut stream: std::net::TcpStream) {
    let mut buf = [0u8; 4096];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

fn ad_hoc(port: u16, service: &str, extra: &[&str]) -> std::process::Output {
    rdsports()
        .arg("check")
        .args(["--target", "127.0.0.1", "--port", &port.to_string()])
        .args(["--service", service, "--timeout", "600"])
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn a_web_server_on_the_rdp_port_is_a_wrong_service() {
    let port = server(http_400);
    let out = ad_hoc(port, "rdp", &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("open!"), "{text}");
    assert!(text.contains("http (expected rdp)"), "{text}");
    assert!(text.contains("wrong service: http answers"), "{text}");
    assert!(text.contains("; 1 wrong service"), "{text}");
    // Not a terminal: no colour codes.
    assert!(!text.contains('\x1b'), "{text}");
    let out = ad_hoc(port, "rdp", &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v["results"][0];
    assert_eq!(r["verdict"], "open");
    assert_eq!(r["status"], "wrong-service");
    assert_eq!(r["service_matches"], false);
    assert_eq!(r["identified"], "http");
    assert_eq!(r["service"], "http");
    assert_eq!(v["findings"]["wrong_service"], 1);
    // Paths only: any connection is open, as before.
    let out = ad_hoc(port, "rdp", &["--paths-only"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("every path is open (paths only"), "{text}");
}

#[test]
fn a_web_server_that_waits_for_a_newline_is_found_too() {
    let port = server(http_after_newline);
    let out = ad_hoc(port, "rdp", &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v["results"][0];
    assert_eq!(r["identified"], "http", "{r}");
    assert_eq!(r["status"], "wrong-service");
    assert!(!r["identification"]["steps"].as_array().unwrap().is_empty());
}

#[test]
fn a_silent_port_is_open_with_a_warning() {
    let port = server(silent);
    let out = ad_hoc(port, "rdp", &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("open?"), "{text}");
    assert!(text.contains("service not identified"), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("answered no probe"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn ad_hoc_takes_port_lists_and_several_addresses() {
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = open.local_addr().unwrap().port();
    let out = rdsports()
        .arg("check")
        .args(["--target", "127.0.0.1,127.0.0.1", "--port"])
        .arg(format!("{port},{port}-{port}"))
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // Each address and port once; the connect waited adaptively (no --timeout).
    assert_eq!(v["results"].as_array().unwrap().len(), 1);
    assert_eq!(v["results"][0]["wait"]["mode"], "adaptive");
    for bad in ["0", "9-3", "x", "1-70000"] {
        rdsports()
            .arg("check")
            .args(["--target", "127.0.0.1", "--port", bad])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--port"));
    }
    rdsports()
        .arg("check")
        .args(["--target", "127.0.0.1,nohost", "--port", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("\"nohost\""));
}

/// One list names TCP and UDP ports (`/udp` after a port), as `listen --ports` does; the
/// old spelling `--port` still works.
#[test]
fn ad_hoc_ports_name_their_protocol() {
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = open.local_addr().unwrap().port();
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let udp = silent.local_addr().unwrap().port();
    let out = rdsports()
        .arg("check")
        .args(["--target", "127.0.0.1", "--ports"])
        .arg(format!("{port},{udp}/udp"))
        .args(["--format", "json", "--paths-only"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    let seen: Vec<(&str, u64, &str)> = results
        .iter()
        .map(|r| {
            (
                r["protocol"].as_str().unwrap(),
                r["port"].as_u64().unwrap(),
                r["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("tcp", u64::from(port), "open"),
            ("udp", u64::from(udp), "open|filtered")
        ],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
