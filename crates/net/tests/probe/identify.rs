//! Wrong services and hostile peers behind a port that expects another protocol: each is
//! open, and the identification follow-up names what answers (or says it is unknown or
//! silent) within its budget, by the engine's own accounting.

use std::net::SocketAddr;
use std::time::Duration;

use rdsports_net::registry::{NonceSource, ProbeContext, target_for};
use rdsports_net::{IdentificationReport, Observation, Transport, Verdict, probe};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::common::{Peer, finishes, read_line, settings, tcp_server};
use crate::tls::{Mode, tls_server};

const TIMEOUT_MS: u64 = 800;

fn ctx() -> ProbeContext {
    ProbeContext {
        realm: Some("corp.example".into()),
        radius_secret: None,
        now_unix: Some(1_700_000_000),
        nonces: NonceSource::seeded(11),
    }
}

/// Probes `address` as the catalog service `service`; the port is open.
async fn probe_as(address: SocketAddr, service: &str) -> Observation {
    let target = target_for(address, None, service, Transport::Tcp, &ctx());
    assert!(target.identify.is_some());
    // The connect, the exchange and the follow-up: three timeouts, with room for a
    // loaded machine. A hang fails; a slow answer does not.
    let seen = finishes(
        Duration::from_millis(3 * TIMEOUT_MS) + Duration::from_secs(5),
        probe(&target, &settings(TIMEOUT_MS)),
    )
    .await
    .unwrap();
    assert_eq!(seen.verdict, Verdict::Open, "{seen:?}");
    seen
}

/// The follow-up stayed inside its budget: every step's share ended by the budget (start
/// and share rounded to the millisecond), steps ran one after another, and none overran
/// its share by more than a scheduler's slack.
fn within_budget(report: &IdentificationReport) {
    assert_eq!(report.budget_ms, TIMEOUT_MS as f64);
    let mut previous_end = 0.0;
    for step in &report.steps {
        assert!(
            step.start_ms + step.allotted_ms <= report.budget_ms + 1.0,
            "{report:?}"
        );
        // Each figure is rounded to 0.01 ms: a start and the previous start + spent can
        // differ by 0.015 ms from rounding alone (0.18 + 0.01 < 0.02 + 0.17 in f64).
        assert!(step.start_ms + 0.02 >= previous_end, "{report:?}");
        assert!(step.spent_ms <= step.allotted_ms + 100.0, "{report:?}");
        previous_end = step.start_ms + step.spent_ms;
    }
}

/// A server that answers whatever arrives with `reply` and closes.
async fn answers(reply: &'static [u8], wait_for_newline: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                if wait_for_newline {
                    if read_line(&mut stream).await.is_none() {
                        return;
                    }
                } else {
                    let mut buf = [0u8; 4096];
                    let _ = stream.read(&mut buf).await;
                }
                let _ = stream.write_all(reply).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    address
}

/// A server that sends `banner` as soon as a client connects, then reads and closes.
async fn banner_first(banner: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = stream.write_all(banner).await;
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let _ = stream
                    .write_all(b"Invalid SSH identification string.\r\n")
                    .await;
            });
        }
    });
    address
}

const HTTP_400: &[u8] = b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n";

#[tokio::test]
async fn http_on_an_rdp_port_is_named_from_its_first_reply() {
    let seen = probe_as(answers(HTTP_400, false).await, "rdp").await;
    assert_eq!(seen.service.as_deref(), Some("http"), "{seen:?}");
    let report = seen.identification.unwrap();
    assert_eq!(report.identified.as_deref(), Some("http"));
    // The status line named it; the HTTP step confirmed it and read the headers.
    assert_eq!(report.by.as_deref(), Some("http"));
    assert_eq!(report.steps.len(), 1);
    assert_eq!(seen.detail["status"], 400);
    assert_eq!(seen.detail["server"], "nginx");
    within_budget(&report);
}

#[tokio::test]
async fn an_http_server_that_waits_for_a_newline_is_found_by_a_later_step() {
    let seen = probe_as(answers(HTTP_400, true).await, "rdp").await;
    assert_eq!(seen.service.as_deref(), Some("http"), "{seen:?}");
    let report = seen.identification.unwrap();
    assert_eq!(report.identified.as_deref(), Some("http"));
    assert!(!report.steps.is_empty());
    within_budget(&report);
}

#[tokio::test]
async fn tls_on_an_ldap_port_shows_its_certificate() {
    let address = tls_server(Mode::Direct, &[&rustls::version::TLS13]).await;
    let seen = probe_as(address, "ldap").await;
    assert_eq!(seen.service.as_deref(), Some("tls"), "{seen:?}");
    let report = seen.identification.unwrap();
    assert_eq!(report.identified.as_deref(), Some("tls"));
    within_budget(&report);
    let subject = seen.detail["tls"]["certificate"]["subject"]
        .as_str()
        .unwrap();
    assert!(!subject.is_empty(), "{:?}", seen.detail);
}

#[tokio::test]
async fn an_ssh_banner_on_the_winrm_port_is_ssh() {
    let seen = probe_as(banner_first(b"SSH-2.0-OpenSSH_9.6p1\r\n").await, "winrm").await;
    assert_eq!(seen.service.as_deref(), Some("ssh"), "{seen:?}");
    assert_eq!(seen.detail["banner"], "SSH-2.0-OpenSSH_9.6p1");
    assert_eq!(
        seen.identification.unwrap().by.as_deref(),
        Some("first reply")
    );
}

#[tokio::test]
async fn a_silent_port_is_open_and_unidentified_within_the_budget() {
    let seen = probe_as(tcp_server(Peer::Silent).await, "rdp").await;
    assert_eq!(seen.service, None, "{seen:?}");
    let report = seen.identification.unwrap();
    assert_eq!(report.identified, None);
    assert_eq!(report.first_bytes, None);
    assert!(report.steps.len() >= 2, "{report:?}");
    within_budget(&report);
}

#[tokio::test]
async fn garbage_to_every_probe_is_unknown_with_its_first_bytes() {
    let seen = probe_as(tcp_server(Peer::Garbage).await, "ldap").await;
    assert_eq!(seen.service, None, "{seen:?}");
    let report = seen.identification.unwrap();
    assert_eq!(report.identified.as_deref(), Some("unknown"));
    assert!(
        report
            .first_bytes
            .as_deref()
            .unwrap()
            .starts_with("00 ff 13 37 20 74 68 69 73"),
        "{report:?}"
    );
    assert_eq!(
        report.first_bytes_text.as_deref(),
        Some("...7 this is not the protocol..")
    );
    within_budget(&report);
}

#[tokio::test]
async fn a_stand_in_listener_is_recognised_first() {
    use rdsports_net::listen::{ListenConfig, open};
    let probe_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listeners = open(ListenConfig::new(
        "127.0.0.1".parse().unwrap(),
        "rdsh01",
        vec![(Transport::Tcp, probe_port)],
    ));
    let cancel = rdsports_net::Cancel::new();
    let stop = cancel.clone();
    let serving = tokio::spawn(async move { listeners.serve(&stop, |_| {}).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let seen = probe_as(SocketAddr::from(([127, 0, 0, 1], probe_port)), "rdp").await;
    cancel.cancel();
    let _ = serving.await;
    assert_eq!(
        seen.service.as_deref(),
        Some("rdsports-listener"),
        "{seen:?}"
    );
    assert_eq!(
        seen.identification.unwrap().by.as_deref(),
        Some("rdsports-listener")
    );
}
