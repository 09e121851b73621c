//! UDP verdicts: closed (ICMP port unreachable on a connected socket), open|filtered
//! (silence), open (a protocol reply, garbage, or any reply to an empty datagram).

use std::time::Duration;

use rdsports_net::{Target, Verdict, probe};

use crate::common::{UdpPeer, closed_udp_port, finishes, hello, settings, udp_server};

#[tokio::test]
async fn a_closed_port_is_closed() {
    let address = closed_udp_port().await;
    let target = Target::udp(address).with_probe(hello());
    let seen = finishes(Duration::from_secs(10), probe(&target, &settings(1000)))
        .await
        .unwrap();
    assert_eq!(seen.verdict, Verdict::Closed);
    assert_eq!(seen.reason.as_deref(), Some("ICMP port unreachable"));
}

#[tokio::test]
async fn silence_is_open_filtered_after_the_retries() {
    let address = udp_server(UdpPeer::Silent).await;
    let target = Target::udp(address).with_probe(hello());
    let seen = finishes(Duration::from_secs(10), probe(&target, &settings(300)))
        .await
        .unwrap();
    assert_eq!(seen.verdict, Verdict::OpenFiltered);
    assert_eq!(seen.attempts, 2);
    assert_eq!(seen.service, None);
    assert!(seen.reason.unwrap().contains("no reply to 2 datagrams"));
}

#[tokio::test]
async fn an_expected_silence_carries_its_reason() {
    let address = udp_server(UdpPeer::Silent).await;
    let target = Target::udp(address)
        .with_probe(hello())
        .with_silence_reason("servers drop requests from unknown clients");
    let seen = finishes(Duration::from_secs(10), probe(&target, &settings(200)))
        .await
        .unwrap();
    assert_eq!(seen.verdict, Verdict::OpenFiltered);
    assert_eq!(
        seen.reason.as_deref(),
        Some("servers drop requests from unknown clients")
    );
}

#[tokio::test]
async fn a_protocol_reply_is_open_with_the_service() {
    let address = udp_server(UdpPeer::Hello).await;
    let target = Target::udp(address).with_probe(hello());
    let seen = finishes(Duration::from_secs(10), probe(&target, &settings(1000)))
        .await
        .unwrap();
    assert_eq!(seen.verdict, Verdict::Open);
    assert_eq!(seen.service.as_deref(), Some("hello"));
    assert_eq!(seen.detail["name"], "udp");
    assert_eq!(seen.attempts, 1);
}

#[tokio::test]
async fn a_garbage_reply_is_open_without_a_service() {
    let address = udp_server(UdpPeer::Garbage).await;
    let target = Target::udp(address).with_probe(hello());
    let seen = finishes(Duration::from_secs(10), probe(&target, &settings(1000)))
        .await
        .unwrap();
    assert_eq!(seen.verdict, Verdict::Open);
    assert_eq!(seen.service, None);
    assert!(seen.note.unwrap().contains("expected WORLD"));
}

#[tokio::test]
async fn a_plain_datagram_reply_is_open() {
    let address = udp_server(UdpPeer::Hello).await;
    let seen = finishes(
        Duration::from_secs(10),
        probe(&Target::udp(address), &settings(1000)),
    )
    .await
    .unwrap();
    assert_eq!(seen.verdict, Verdict::Open);
    assert_eq!(seen.service, None);
    assert_eq!(seen.detail["reply_bytes"], 10);
}
