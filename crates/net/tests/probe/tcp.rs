//! TCP verdicts: refused, open with and without an exchange, IPv6 loopback.

use std::net::SocketAddr;
use std::time::Duration;

use rdsports_net::{Target, Verdict, probe};

use crate::common::{Peer, closed_tcp_port, finishes, hello, settings, tcp_server};

#[tokio::test]
async fn a_closed_port_is_refused() {
    let address = closed_tcp_port().await;
    let seen = probe(&Target::tcp(address), &settings(1500)).await.unwrap();
    assert_eq!(seen.verdict, Verdict::Refused);
    assert_eq!(seen.attempts, 1);
    assert_eq!(seen.service, None);
    assert!(seen.reason.unwrap().contains("refused"));
}

#[tokio::test]
async fn a_plain_connect_is_open_without_a_service() {
    let address = tcp_server(Peer::Silent).await;
    let seen = probe(&Target::tcp(address), &settings(1500)).await.unwrap();
    assert_eq!(seen.verdict, Verdict::Open);
    assert_eq!(seen.service, None);
    assert_eq!(seen.note, None);
    assert_eq!(seen.attempts, 1);
}

#[tokio::test]
async fn an_exchange_identifies_the_service() {
    let address = tcp_server(Peer::Hello).await;
    let target = Target::tcp(address).with_probe(hello());
    let seen = probe(&target, &settings(1500)).await.unwrap();
    assert_eq!(seen.verdict, Verdict::Open);
    assert_eq!(seen.service.as_deref(), Some("hello"));
    assert_eq!(seen.detail["name"], "tcp");
    assert_eq!(seen.note, None);
}

#[tokio::test]
async fn ipv6_loopback_works_when_available() {
    let Ok(listener) = tokio::net::TcpListener::bind("[::1]:0").await else {
        println!("skipped: no IPv6 loopback on this machine");
        return;
    };
    let open: SocketAddr = listener.local_addr().unwrap();
    let seen = probe(&Target::tcp(open), &settings(1500)).await.unwrap();
    assert_eq!(seen.verdict, Verdict::Open);
    drop(listener);
    let seen = finishes(
        Duration::from_secs(10),
        probe(&Target::tcp(open), &settings(1500)),
    )
    .await
    .unwrap();
    assert_eq!(seen.verdict, Verdict::Refused);
}
