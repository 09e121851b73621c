//! `rdsports listen` and `rdsports demo` end to end, on loopback only (127.0.0.0/8) or in
//! the private namespace the demo makes for itself.

use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Output, Stdio};
use std::time::{Duration, Instant};

use super::*;

/// A gateway on 127.0.0.1 and a session host on 127.0.0.2 whose RDP port is `rdp` (a free
/// high port, so no privilege is needed). No domain controller: the baseline is unplanned.
fn deployment(rdp: u16) -> String {
    format!(
        "name = \"loop\"\n[options]\nrdp_port = {rdp}\ndomain_baseline = false\n\
         [[host]]\nname = \"gw01\"\naddress = \"127.0.0.1\"\nroles = [\"gateway\"]\n\
         [[host]]\nname = \"sh01\"\naddress = \"127.0.0.2\"\nroles = [\"session-host\"]\n"
    )
}

/// A port free for both TCP and UDP on 127.0.0.2 (just now).
fn free_port() -> u16 {
    loop {
        let tcp = TcpListener::bind("127.0.0.2:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.2", port)).is_ok() {
            return port;
        }
    }
}

fn binary() -> PathBuf {
    PathBuf::from(assert_cmd::cargo::cargo_bin!("rdsports"))
}

/// Starts `rdsports listen ARGS` with stdout and stderr captured.
fn spawn_listen(args: &[&str]) -> Child {
    Process::new(binary())
        .arg("listen")
        .args(args)
        .env("COLUMNS", "100")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `child` to exit on its own; kills it and fails after `limit` (a generous bound:
/// this proves it stops, not how fast).
fn exits_within(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until a UDP request to `port` on 127.0.0.2 is answered (the listener is up).
fn wait_for_listener(port: u16) {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    socket.connect(("127.0.0.2", port)).unwrap();
    let request = rdsports_wire_request();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        let _ = socket.send(&request);
        let mut buf = [0u8; 512];
        if socket.recv(&mut buf).is_ok() {
            return;
        }
    }
    panic!("the listener did not come up on port {port}");
}

/// A listener request (192 bytes: magic, version 1, type 1, nonce, zero padding), written
/// out here from the wire layout so the test does not lean on the codec it checks.
fn rdsports_wire_request() -> Vec<u8> {
    let mut request = b"RDSP\x01\x01".to_vec();
    request.extend_from_slice(&[0x42; 16]);
    request.resize(192, 0);
    request
}

#[test]
fn listen_and_check_end_to_end_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let file = write(&dir, "loop.toml", deployment(port).as_bytes());
    let file = file.to_str().unwrap();
    let listen = spawn_listen(&[file, "--as", "sh01", "--for", "6s", "--format", "json"]);
    wait_for_listener(port);

    let out = rdsports()
        .args(["check", file, "--from", "gw01", "--to", "sh01"])
        .args(["--format", "json", "--timeout", "1000"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "{v}");
    for r in results {
        assert_eq!(r["verdict"], "open", "{r}");
        assert_eq!(r["service"], "rdsports-listener", "{r}");
        assert_eq!(r["port"], port);
        assert_eq!(r["detail"]["host"], "sh01");
        assert_eq!(r["detail"]["nonce_ok"], true);
        assert_eq!(r["detail"]["translated"], false);
        assert_eq!(r["detail"]["seen_source"], r["detail"]["sent_from"]);
    }

    let out = exits_within(listen, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(0));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["schema_version"], 1);
    assert_eq!(summary["host"], "sh01");
    assert_eq!(summary["address"], "127.0.0.2");
    assert_eq!(summary["stopped_by"], "time limit");
    let ports = summary["ports"].as_array().unwrap();
    assert_eq!(ports.len(), 2);
    for p in ports {
        assert_eq!(p["state"], "open");
        assert_eq!(p["port"], port);
        assert!(p["why"].as_str().unwrap().contains("from gw01"), "{p}");
    }
    let contacts = summary["contacts"].as_array().unwrap();
    let handshakes: Vec<&serde_json::Value> = contacts
        .iter()
        .filter(|c| c["outcome"]["kind"] == "handshake")
        .collect();
    // Both transports answered check (and the readiness probe, over UDP).
    for transport in ["tcp", "udp"] {
        assert!(
            handshakes.iter().any(|c| c["transport"] == transport),
            "{transport}: {summary}"
        );
    }
    // check spoke RDP first; the listener logged it as other bytes.
    assert!(
        contacts.iter().any(|c| c["outcome"]["kind"] == "other"),
        "{summary}"
    );
    // The human lines went to stderr.
    let lines = String::from_utf8_lossy(&out.stderr);
    assert!(lines.contains("handshake ok"), "{lines}");
    assert!(lines.contains("stopped after"), "{lines}");
}

#[test]
fn a_foreign_service_is_told_apart_from_a_listener() {
    // A web server where the session host's RDP port should be.
    let server = TcpListener::bind("127.0.0.2:0").unwrap();
    let port = server.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in server.incoming().take(8) {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 512];
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = stream.read(&mut buf);
            let _ = std::io::Write::write_all(&mut stream, b"HTTP/1.0 200 OK\r\n\r\n");
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "loop.toml", deployment(port).as_bytes());
    let out = rdsports()
        .arg("check")
        .arg(&file)
        .args(["--from", "gw01", "--to", "sh01", "--format", "json"])
        .args(["--timeout", "500", "--retries", "0"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tcp = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["protocol"] == "tcp")
        .unwrap();
    assert_eq!(tcp["verdict"], "open");
    assert_ne!(tcp["service"], "rdsports-listener", "{tcp}");
    assert!(tcp["detail"].get("nonce_ok").is_none(), "{tcp}");
    // Asked for the handshake alone, the web server is named for what it is not.
    let out = rdsports()
        .args([
            "check",
            "--target",
            "127.0.0.2",
            "--port",
            &port.to_string(),
        ])
        .args(["--service", "rdsports-listener", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v["results"][0];
    assert_eq!(r["verdict"], "open");
    assert_eq!(r["service"], serde_json::Value::Null, "{r}");
    let note = r["note"].as_str().unwrap();
    assert!(note.contains("not an rdsports listener"), "{note}");
}

#[test]
fn the_udp_responder_never_answers_garbage_and_never_amplifies() {
    let port = free_port();
    let ports = format!("{port}/udp");
    let listen = spawn_listen(&[
        "--as",
        "dc01",
        "--bind",
        "127.0.0.2",
        "--ports",
        &ports,
        "--for",
        "5s",
    ]);
    wait_for_listener(port);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    socket.connect(("127.0.0.2", port)).unwrap();
    let request = rdsports_wire_request();
    for garbage in [
        &b""[..],
        b"\x00",
        &request[..191],
        &[0x41; 1200][..],
        b"GET / HTTP/1.0\r\n\r\n",
    ] {
        socket.send(garbage).unwrap();
        let mut buf = [0u8; 2048];
        assert!(
            socket.recv(&mut buf).is_err(),
            "a reply to {} bytes of garbage",
            garbage.len()
        );
    }
    for size in [192usize, 193, 400, 1400] {
        let mut big = request.clone();
        big.resize(size, 0);
        socket.send(&big).unwrap();
        let mut buf = [0u8; 2048];
        let n = socket.recv(&mut buf).unwrap();
        assert!(n <= 192, "{n} bytes in reply to {size}");
        assert_eq!(&buf[..6], b"RDSP\x01\x02");
        assert_eq!(&buf[6..22], &[0x42; 16]);
    }
    let out = exits_within(listen, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("not an rdsports request"), "{text}");
}

#[test]
fn the_time_limit_is_honoured() {
    let port = free_port();
    let ports = port.to_string();
    let listen = spawn_listen(&[
        "--as",
        "sh01",
        "--bind",
        "127.0.0.2",
        "--ports",
        &ports,
        "--for",
        "1s",
    ]);
    let out = exits_within(listen, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("stopped after"), "{text}");
    assert!(text.contains("(--for)"), "{text}");
}

#[test]
fn a_port_in_use_is_reported_and_skipped() {
    let taken = TcpListener::bind("127.0.0.2:0").unwrap();
    let busy = taken.local_addr().unwrap().port();
    let free = free_port();
    let ports = format!("{busy},{free}");
    let listen = spawn_listen(&[
        "--as",
        "sh01",
        "--bind",
        "127.0.0.2",
        "--ports",
        &ports,
        "--for",
        "1s",
    ]);
    let out = exits_within(listen, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("in use"), "{text}");
    assert!(
        text.contains("a real service is there; check will probe it"),
        "{text}"
    );
    assert!(text.contains("listening on 1 port"), "{text}");
}

#[test]
fn listen_refuses_bad_input() {
    rdsports()
        .args(["listen", "--as", "nosuchhost", "--for", "1s"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no host \"nosuchhost\""));
    rdsports()
        .args(["listen", "--as", "clients", "--for", "1s"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nothing to listen on"));
    rdsports()
        .args(["listen", "--as", "dc01", "--ports", "70000", "--for", "1s"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("above 65535"));
    rdsports()
        .args(["listen", "--as", "dc01", "--for", "soon"])
        .assert()
        .code(2);
}

/// Runs `rdsports demo ARGS` as an ordinary user: as is when the tests are not root, else
/// as `nobody` through setpriv (when setpriv exists and nobody can reach the binary).
fn demo_as_ordinary_user(args: &[&str]) -> Output {
    let exe = binary();
    let root = Process::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let mut command = if root && setpriv_can_run(&exe) {
        let mut c = Process::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&exe);
        c
    } else {
        if root {
            println!("running the demo as root: setpriv cannot run the binary as nobody here");
        }
        Process::new(&exe)
    };
    command
        .arg("demo")
        .args(args)
        .env("COLUMNS", "100")
        .output()
        .unwrap()
}

fn setpriv_can_run(exe: &Path) -> bool {
    Process::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(exe)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn assert_demo_ok(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("left closed on purpose: ls01 tcp 135"),
        "{text}"
    );
    assert!(
        text.contains("the flow left closed on purpose failed, as intended"),
        "{text}"
    );
    for session_host in ["sh01", "sh02", "sh03"] {
        assert!(
            text.contains(&format!("{session_host} -> ls01 tcp 135: refused")),
            "{text}"
        );
    }
    assert!(text.contains("demo ok"), "{text}");
    text
}

#[test]
fn the_demo_runs_as_an_ordinary_user() {
    let out = demo_as_ordinary_user(&[]);
    let text = assert_demo_ok(&out);
    // Every other result open, every one of them answered by a listener.
    let summary = text.lines().find(|l| l.contains("results from")).unwrap();
    assert!(summary.contains("3 refused"), "{summary}");
    // The check table shows the failure the way `check` does.
    assert!(text.contains("refused!"), "{text}");
    assert!(text.contains("rdsports-listener"), "{text}");
}

#[test]
fn the_demo_without_a_namespace_uses_a_stated_port_offset() {
    let out = demo_as_ordinary_user(&["--no-namespace"]);
    let text = assert_demo_ok(&out);
    assert!(text.contains("every port is moved up by 20000"), "{text}");
}

/// When the kernel refuses a new user namespace, the demo falls back by itself. Made real
/// by running it inside a namespace whose user-namespace limit is 0.
#[cfg(target_os = "linux")]
#[test]
fn the_demo_falls_back_when_namespaces_are_refused() {
    let script =
        "ip link set lo up && echo 0 > /proc/sys/user/max_user_namespaces && exec \"$0\" demo";
    let ready = Process::new("unshare")
        .args([
            "-rn",
            "sh",
            "-c",
            "ip link set lo up && echo 0 > /proc/sys/user/max_user_namespaces",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ready {
        println!(
            "skipped: `unshare -rn` with `ip` cannot make a namespace with a user-namespace \
             limit here"
        );
        return;
    }
    let out = Process::new("unshare")
        .args(["-rn", "sh", "-c", script])
        .arg(binary())
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    let text = assert_demo_ok(&out);
    assert!(text.contains("no private network namespace"), "{text}");
    assert!(text.contains("every port is moved up by 20000"), "{text}");
}
