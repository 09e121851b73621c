//! The registry's probes end to end against loopback stand-ins: RDP (X.224 then TLS, as
//! MS-RDPBCGR 2.2.1.2 describes), HTTPS, WinRM's 401, HTTP replies ended by a close, NTP,
//! and the UDP services whose silence or ICMP error must keep its meaning.

use std::net::SocketAddr;
use std::time::Duration;

use rdsports_net::registry::{NonceSource, ProbeContext, target_for};
use rdsports_net::{Observation, Target, Transport, Verdict, probe};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

use crate::common::{UdpPeer, closed_udp_port, finishes, settings, udp_server};
use crate::tls::server_config;

fn ctx() -> ProbeContext {
    ProbeContext {
        realm: Some("corp.example".into()),
        radius_secret: None,
        now_unix: None,
        nonces: NonceSource::random(),
    }
}

async fn run(target: Target) -> Observation {
    finishes(Duration::from_secs(10), probe(&target, &settings(1500)))
        .await
        .unwrap()
}

/// Serves each connection with `handler` on 127.0.0.1.
async fn server<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(handler(stream));
        }
    });
    address
}

/// Reads one HTTP request head (up to the blank line, at most 64 KiB).
async fn read_head<S: AsyncReadExt + Unpin>(stream: &mut S) -> Vec<u8> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65_536 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    head
}

#[tokio::test]
async fn rdp_negotiates_then_speaks_tls() {
    let acceptor = TlsAcceptor::from(server_config(rustls::ALL_VERSIONS));
    let address = server(move |mut stream| {
        let acceptor = acceptor.clone();
        async move {
            // The X.224 Connection Request: a TPKT header gives the length.
            let mut tpkt = [0u8; 4];
            if stream.read_exact(&mut tpkt).await.is_err() {
                return;
            }
            let len = usize::from(u16::from_be_bytes([tpkt[2], tpkt[3]]));
            let mut rest = vec![0u8; len.saturating_sub(4)];
            if stream.read_exact(&mut rest).await.is_err() {
                return;
            }
            // TPKT (19 bytes), X.224 Connection Confirm, RDP_NEG_RSP selecting
            // PROTOCOL_HYBRID (CredSSP, so NLA).
            let confirm = [
                0x03, 0x00, 0x00, 0x13, // TPKT
                0x0e, 0xd0, 0x00, 0x00, 0x12, 0x34, 0x00, // X.224 CC
                0x02, 0x00, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00, // RDP_NEG_RSP
            ];
            if stream.write_all(&confirm).await.is_err() {
                return;
            }
            if let Ok(mut session) = acceptor.accept(stream).await {
                let mut buf = [0u8; 64];
                let _ = tokio::time::timeout(Duration::from_secs(5), session.read(&mut buf)).await;
            }
        }
    })
    .await;
    let seen = run(target_for(address, None, "rdp", Transport::Tcp, &ctx())).await;
    assert_eq!(seen.verdict, Verdict::Open);
    assert_eq!(seen.service.as_deref(), Some("rdp"), "{seen:?}");
    assert_eq!(seen.detail["nla_required"], true);
    assert_eq!(seen.detail["tls"]["version"], "TLS 1.3");
    assert_eq!(
        seen.detail["tls"]["certificate"]["common_name"],
        "rdsports-test.invalid"
    );
}

#[tokio::test]
async fn https_identifies_http_inside_tls() {
    let acceptor = TlsAcceptor::from(server_config(rustls::ALL_VERSIONS));
    let address = server(move |stream| {
        let acceptor = acceptor.clone();
        async move {
            let Ok(mut session) = acceptor.accept(stream).await else {
                return;
            };
            let head = read_head(&mut session).await;
            if head.starts_with(b"GET / HTTP/1.1\r\n") {
                let reply =
                    b"HTTP/1.1 200 OK\r\nServer: Microsoft-IIS/10.0\r\nContent-Length: 0\r\n\r\n";
                let _ = session.write_all(reply).await;
            }
            let _ = session.shutdown().await;
        }
    })
    .await;
    let target = target_for(
        address,
        Some("rdsports-test.invalid"),
        "https",
        Transport::Tcp,
        &ctx(),
    );
    let seen = run(target).await;
    assert_eq!(seen.service.as_deref(), Some("http"), "{seen:?}");
    assert_eq!(
        seen.detail["tls"]["certificate"]["covers_server_name"],
        true
    );
}

#[tokio::test]
async fn winrm_401_still_proves_winrm() {
    let address = server(|mut stream| async move {
        let head = read_head(&mut stream).await;
        if head.starts_with(b"POST /wsman") {
            let reply = b"HTTP/1.1 401 \r\nServer: Microsoft-HTTPAPI/2.0\r\n\
                WWW-Authenticate: Negotiate\r\nWWW-Authenticate: Kerberos\r\n\
                Content-Length: 0\r\n\r\n";
            let _ = stream.write_all(reply).await;
        }
        let _ = stream.shutdown().await;
    })
    .await;
    let seen = run(target_for(address, None, "winrm", Transport::Tcp, &ctx())).await;
    assert_eq!(seen.service.as_deref(), Some("winrm"), "{seen:?}");
    assert_eq!(seen.detail["status"], 401);
    assert!(
        seen.detail["auth_schemes"]
            .to_string()
            .contains("Negotiate")
    );
}

/// An HTTP server that answers every request with `reply` and closes.
async fn http_then_close(reply: &'static [u8]) -> SocketAddr {
    server(move |mut stream| async move {
        let _ = read_head(&mut stream).await;
        let _ = stream.write_all(reply).await;
        let _ = stream.shutdown().await;
    })
    .await
}

#[tokio::test]
async fn http_bodies_and_heads_ended_by_a_close_are_http() {
    // HTTP/1.0 without Content-Length: the body ends with the connection.
    let address =
        http_then_close(b"HTTP/1.0 200 OK\r\nServer: stand-in/1.0\r\n\r\n<html>hello</html>").await;
    for service in ["http", "winrm"] {
        let seen = run(target_for(address, None, service, Transport::Tcp, &ctx())).await;
        assert_eq!(seen.verdict, Verdict::Open);
        assert_eq!(seen.service.as_deref(), Some("http"), "{service}: {seen:?}");
        assert_eq!(seen.detail["status"], 200);
        assert_eq!(seen.detail["server"], "stand-in/1.0");
    }
    // A head the close cuts after its last header line, without the blank line.
    let address = http_then_close(b"HTTP/1.0 302 Found\r\nLocation: /RDWeb/\r\n").await;
    let seen = run(target_for(address, None, "http", Transport::Tcp, &ctx())).await;
    assert_eq!(seen.service.as_deref(), Some("http"), "{seen:?}");
    assert_eq!(seen.detail["location"], "/RDWeb/");
    assert!(seen.note.unwrap().contains("inside the response head"));
    // A close inside the status line proves nothing.
    let address = http_then_close(b"HTTP/1.0 30").await;
    let seen = run(target_for(address, None, "http", Transport::Tcp, &ctx())).await;
    assert_eq!(seen.service, None, "{seen:?}");
    assert!(
        seen.note
            .unwrap()
            .contains("closed the connection after 11 bytes")
    );
}

#[tokio::test]
async fn ntp_answers_with_its_time() {
    use rdsports_wire::ntp::{HEADER_LEN, NtpTime, parse_packet};
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let Ok(request) = parse_packet(&buf[..n]) else {
                continue;
            };
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            let at = NtpTime::from_unix(now as i64, 0).to_bits().to_be_bytes();
            // LI 0, version 4, mode 4; stratum 1, poll 6, precision -20; "GPS".
            let mut reply = vec![0x24, 1, 6, 0xec, 0, 0, 0, 0, 0, 0, 0, 0];
            reply.extend_from_slice(b"GPS\0");
            reply.extend_from_slice(&at);
            reply.extend_from_slice(&request.transmit.to_bits().to_be_bytes());
            reply.extend_from_slice(&at);
            reply.extend_from_slice(&at);
            assert_eq!(reply.len(), HEADER_LEN);
            let _ = socket.send_to(&reply, from).await;
        }
    });
    let seen = run(target_for(address, None, "ntp", Transport::Udp, &ctx())).await;
    assert_eq!(seen.verdict, Verdict::Open);
    assert_eq!(seen.service.as_deref(), Some("ntp"), "{seen:?}");
    assert_eq!(seen.detail["stratum"], 1);
    assert_eq!(seen.detail["reference_id"], "GPS");
    // Both clocks are this machine's.
    assert!(
        seen.detail["clock_skew_s"].as_i64().unwrap().abs() <= 2,
        "{seen:?}"
    );
}

#[tokio::test]
async fn radius_silence_is_open_filtered_with_its_reason() {
    let address = udp_server(UdpPeer::Silent).await;
    let seen = run(target_for(address, None, "radius", Transport::Udp, &ctx())).await;
    assert_eq!(seen.verdict, Verdict::OpenFiltered);
    assert!(seen.reason.unwrap().contains("does not know"));
}

#[tokio::test]
async fn udp_services_on_closed_ports_are_closed() {
    for service in [
        "kerberos",
        "dns",
        "ldap",
        "netbios-ns",
        "netbios-dgm",
        "rdp",
    ] {
        let address = closed_udp_port().await;
        let seen = run(target_for(address, None, service, Transport::Udp, &ctx())).await;
        assert_eq!(seen.verdict, Verdict::Closed, "{service}: {seen:?}");
    }
}

#[tokio::test]
async fn a_wrong_answer_is_open_without_the_service() {
    // Something that is not a KDC answers on the Kerberos port.
    let address = udp_server(UdpPeer::Garbage).await;
    let seen = run(target_for(
        address,
        None,
        "kerberos",
        Transport::Udp,
        &ctx(),
    ))
    .await;
    assert_eq!(seen.verdict, Verdict::Open);
    assert_eq!(seen.service, None);
    assert!(seen.note.is_some());
}

#[tokio::test]
async fn the_rdsports_listener_answers_over_tcp_and_udp() {
    use rdsports_wire::listener::{REQUEST_LEN, build_reply, parse_request};
    let tcp = server(|mut stream| async move {
        let mut request = vec![0u8; REQUEST_LEN];
        if stream.read_exact(&mut request).await.is_err() {
            return;
        }
        let (Some(nonce), Ok(peer), Ok(local)) = (
            parse_request(&request),
            stream.peer_addr(),
            stream.local_addr(),
        ) else {
            return;
        };
        let reply = build_reply(nonce, "stand-in", local.port(), peer.ip(), request.len());
        let _ = stream.write_all(&reply).await;
    })
    .await;
    let seen = run(target_for(
        tcp,
        None,
        "rdsports-listener",
        Transport::Tcp,
        &ctx(),
    ))
    .await;
    assert_eq!(
        seen.service.as_deref(),
        Some("rdsports-listener"),
        "{seen:?}"
    );
    assert_eq!(seen.detail["nonce_ok"], true);
    assert_eq!(seen.detail["seen_source"], "127.0.0.1");
    assert_eq!(seen.detail["port"], tcp.port());

    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let udp = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 1024];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            if let Some(nonce) = parse_request(&buf[..n]) {
                let reply = build_reply(nonce, "stand-in", udp.port(), from.ip(), n);
                let _ = socket.send_to(&reply, from).await;
            }
        }
    });
    let seen = run(target_for(
        udp,
        None,
        "rdsports-listener",
        Transport::Udp,
        &ctx(),
    ))
    .await;
    assert_eq!(seen.verdict, Verdict::Open);
    assert_eq!(
        seen.service.as_deref(),
        Some("rdsports-listener"),
        "{seen:?}"
    );
    assert_eq!(seen.detail["host"], "stand-in");
}
