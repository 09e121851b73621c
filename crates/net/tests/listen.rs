//! The listener and the prober end to end, on loopback only (127.0.0.0/8): handshakes over
//! TCP and UDP from a chosen source address, what the listener reports, nonce mismatches
//! and foreign services told apart, address translation flagged, no UDP amplification,
//! ports in use, the connection limit, and stopping on cancel.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rdsports_net::listen::{self, Contact, ListenConfig, Listeners, OpenState, Outcome};
use rdsports_net::registry::{NonceSource, ProbeContext, target_for};
use rdsports_net::{Cancel, Observation, Settings, Target, Transport, Verdict, probe};
use rdsports_wire::listener;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// Another loopback address, so "the source the listener saw" is not the default one.
const SOURCE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

fn settings() -> Settings {
    Settings {
        timeout: Duration::from_millis(1500),
        retries: 1,
        concurrency: 16,
        adaptive: None,
    }
}

fn ctx() -> ProbeContext {
    ProbeContext {
        nonces: NonceSource::random(),
        ..ProbeContext::default()
    }
}

/// Fails the test on a hang; a slow answer is not a failure.
async fn finishes<F: Future>(future: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(20), future).await {
        Ok(output) => output,
        Err(_) => panic!("did not finish within 20 s"),
    }
}

fn listener_target(address: SocketAddr, transport: Transport) -> Target {
    target_for(address, None, "rdsports-listener", transport, &ctx()).with_source(SOURCE)
}

async fn run(target: Target) -> Observation {
    finishes(probe(&target, &settings())).await.unwrap()
}

/// Listeners on ephemeral loopback ports, served in the background; contacts are collected.
struct Running {
    tcp: SocketAddr,
    udp: SocketAddr,
    cancel: Cancel,
    contacts: Arc<Mutex<Vec<Contact>>>,
    done: tokio::task::JoinHandle<listen::ServeSummary>,
}

fn bound(listeners: &Listeners, transport: Transport) -> SocketAddr {
    listeners
        .opened()
        .iter()
        .find(|o| o.transport == transport && o.state == OpenState::Open)
        .and_then(|o| o.bound)
        .unwrap()
}

fn start(config: ListenConfig) -> Running {
    let listeners = listen::open(config);
    let tcp = bound(&listeners, Transport::Tcp);
    let udp = bound(&listeners, Transport::Udp);
    let cancel = Cancel::new();
    let contacts = Arc::new(Mutex::new(Vec::new()));
    let done = tokio::spawn({
        let cancel = cancel.clone();
        let contacts = contacts.clone();
        async move {
            listeners
                .serve(&cancel, |c| contacts.lock().unwrap().push(c.clone()))
                .await
        }
    });
    Running {
        tcp,
        udp,
        cancel,
        contacts,
        done,
    }
}

fn config() -> ListenConfig {
    ListenConfig::new(
        LOCAL,
        "dc01",
        vec![(Transport::Tcp, 0), (Transport::Udp, 0)],
    )
}

/// Waits until `n` contacts were reported (or fails on a hang).
async fn contacts(running: &Running, n: usize) -> Vec<Contact> {
    finishes(async {
        loop {
            let seen = running.contacts.lock().unwrap().clone();
            if seen.len() >= n {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
}

#[tokio::test]
async fn a_listener_answers_the_prober_over_tcp_and_udp() {
    let running = start(config());
    for (address, transport) in [(running.tcp, Transport::Tcp), (running.udp, Transport::Udp)] {
        let seen = run(listener_target(address, transport)).await;
        assert_eq!(seen.verdict, Verdict::Open, "{transport}: {seen:?}");
        assert_eq!(seen.service.as_deref(), Some("rdsports-listener"));
        assert_eq!(seen.detail["host"], "dc01");
        assert_eq!(seen.detail["port"], address.port());
        assert_eq!(seen.detail["nonce_ok"], true);
        assert_eq!(seen.detail["seen_source"], "127.0.0.2");
        assert_eq!(seen.detail["sent_from"], "127.0.0.2");
        assert_eq!(seen.detail["translated"], false);
        assert_eq!(seen.note, None, "{seen:?}");
    }
    let seen = contacts(&running, 2).await;
    for contact in &seen {
        assert_eq!(contact.peer.ip(), SOURCE);
        assert!(contact.outcome.is_handshake(), "{contact:?}");
    }
    let mut transports: Vec<Transport> = seen.iter().map(|c| c.transport).collect();
    transports.sort();
    assert_eq!(transports, [Transport::Tcp, Transport::Udp]);
    running.cancel.cancel();
    let summary = finishes(running.done).await.unwrap();
    assert_eq!(summary.handshakes, 2);
    assert_eq!(summary.contacts, 2);
}

#[tokio::test]
async fn other_protocols_and_plain_connects_are_logged_not_answered() {
    let running = start(config());
    // An LDAP-looking request: the listener closes without a word.
    let mut stream = TcpStream::connect(running.tcp).await.unwrap();
    stream.write_all(b"\x30\x0c\x02\x01\x01").await.unwrap();
    let mut reply = Vec::new();
    finishes(stream.read_to_end(&mut reply)).await.ok();
    assert!(reply.is_empty());
    // A plain connect that sends nothing.
    drop(TcpStream::connect(running.tcp).await.unwrap());
    let seen = contacts(&running, 2).await;
    let outcomes: Vec<&Outcome> = seen.iter().map(|c| &c.outcome).collect();
    assert!(outcomes.contains(&&Outcome::Other {
        bytes: 5,
        head: "30 0c 02 01 01".into()
    }));
    assert!(outcomes.contains(&&Outcome::Empty));
    // What the registry's real protocol probe makes of a listener: not RDP; the
    // identification follow-up tries the listener handshake first and names it.
    let rdp = target_for(running.tcp, None, "rdp", Transport::Tcp, &ctx());
    let seen = run(rdp).await;
    assert_eq!(seen.verdict, Verdict::Open);
    assert_eq!(seen.service.as_deref(), Some("rdsports-listener"));
    running.cancel.cancel();
}

/// A TCP server that reads the request and answers with `reply(nonce)`.
async fn fake_listener(reply: fn([u8; 16]) -> Vec<u8>) -> SocketAddr {
    let socket = TcpListener::bind((LOCAL, 0)).await.unwrap();
    let address = socket.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = socket.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; listener::REQUEST_LEN];
                if stream.read_exact(&mut request).await.is_ok() {
                    let nonce = listener::parse_request(&request).unwrap_or([0; 16]);
                    let _ = stream.write_all(&reply(nonce)).await;
                }
            });
        }
    });
    address
}

#[tokio::test]
async fn a_nonce_mismatch_and_a_foreign_service_are_told_apart() {
    // A listener that answers with someone else's nonce (a replay, a confused proxy).
    let replayed = fake_listener(|nonce| {
        let mut other = nonce;
        other[0] ^= 0xff;
        listener::build_reply(other, "dc01", 88, SOURCE, listener::REQUEST_LEN)
    })
    .await;
    let seen = run(listener_target(replayed, Transport::Tcp)).await;
    assert_eq!(seen.verdict, Verdict::Open);
    assert_eq!(seen.service.as_deref(), Some("rdsports-listener"));
    assert_eq!(seen.detail["nonce_ok"], false);
    assert!(seen.note.unwrap().contains("nonce mismatch"));

    // A web server on the port.
    let web = fake_listener(|_| b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec()).await;
    let seen = run(listener_target(web, Transport::Tcp)).await;
    assert_eq!(seen.verdict, Verdict::Open);
    assert_eq!(seen.service, None);
    assert!(!seen.detail.contains_key("nonce_ok"));
    let note = seen.note.unwrap();
    assert!(note.contains("not an rdsports listener"), "{note}");
}

#[tokio::test]
async fn address_translation_is_flagged() {
    // The listener saw a documentation address: something rewrote our source on the way.
    let natted = fake_listener(|nonce| {
        let seen = IpAddr::from([203, 0, 113, 9]);
        listener::build_reply(nonce, "gw01", 443, seen, listener::REQUEST_LEN)
    })
    .await;
    let seen = run(listener_target(natted, Transport::Tcp)).await;
    assert_eq!(seen.detail["nonce_ok"], true);
    assert_eq!(seen.detail["translated"], true);
    assert_eq!(
        seen.note.as_deref(),
        Some("address translation: the listener saw 203.0.113.9, we sent from 127.0.0.2")
    );
}

#[tokio::test]
async fn the_udp_responder_never_amplifies() {
    let running = start(config());
    let client = UdpSocket::bind((SOURCE, 0)).await.unwrap();
    client.connect(running.udp).await.unwrap();
    let request = listener::build_request([7; 16]);
    let mut oversized = request.clone();
    oversized.extend_from_slice(&[0xee; 700]);
    let mut no_answer: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"\x00".to_vec(),
        request[..191].to_vec(),
        request[..22].to_vec(),
        vec![0x41; 1400],
    ];
    let mut reply_type = request.clone();
    reply_type[5] = 2;
    no_answer.push(reply_type);
    for datagram in &no_answer {
        client.send(datagram).await.unwrap();
    }
    client.send(&oversized).await.unwrap();
    client.send(&request).await.unwrap();
    let mut buffer = [0u8; 4096];
    let mut replies = Vec::new();
    // Collect whatever comes back until a quiet second.
    while let Ok(Ok(n)) =
        tokio::time::timeout(Duration::from_secs(1), client.recv(&mut buffer)).await
    {
        replies.push(buffer[..n].to_vec());
    }
    assert_eq!(replies.len(), 2, "only the two requests are answered");
    for reply in &replies {
        assert!(reply.len() <= listener::REQUEST_LEN);
        let parsed = listener::parse_reply(reply).unwrap();
        assert_eq!(parsed.nonce, [7; 16]);
        assert_eq!(parsed.seen, SOURCE);
    }
    let seen = contacts(&running, no_answer.len() + 2).await;
    assert_eq!(seen.iter().filter(|c| c.outcome.is_handshake()).count(), 2);
    running.cancel.cancel();
}

#[tokio::test]
async fn udp_replies_are_rate_limited() {
    let mut config = config();
    config.udp_replies_per_second = 20;
    let running = start(config);
    // Ten sources, five requests each, at once: at most 20 answers in the first second (the
    // limiter starts empty, not full), at most 2 per source.
    let started = std::time::Instant::now();
    for i in 0..10u8 {
        let client = UdpSocket::bind((Ipv4Addr::new(127, 0, 0, 10 + i), 0))
            .await
            .unwrap();
        client.connect(running.udp).await.unwrap();
        for _ in 0..5 {
            client
                .send(&listener::build_request([1; 16]))
                .await
                .unwrap();
        }
    }
    let seen = contacts(&running, 50).await;
    let answered: Vec<&Contact> = seen.iter().filter(|c| c.outcome.is_handshake()).collect();
    if started.elapsed() < Duration::from_millis(900) {
        assert!(answered.len() <= 20, "{} answered", answered.len());
    }
    for i in 0..10u8 {
        let from = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 10 + i));
        let n = answered.iter().filter(|c| c.peer.ip() == from).count();
        assert!((1..=2).contains(&n), "{from}: {n}");
    }
    assert!(seen.iter().any(|c| matches!(
        &c.outcome,
        Outcome::Unanswered { reason } if reason.contains("rate-limited")
    )));
    running.cancel.cancel();
}

/// During a flood of valid UDP requests from one source, a request from another source is
/// still answered: five genuine probes, five answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_udp_request_flood_leaves_room_for_a_new_source() {
    let running = start(config());
    let udp = running.udp;
    let flood = tokio::spawn(async move {
        let client = UdpSocket::bind((LOCAL, 0)).await.unwrap();
        client.connect(udp).await.unwrap();
        for i in 0..20_000u32 {
            let _ = client.send(&listener::build_request([7; 16])).await;
            if i % 500 == 0 {
                tokio::task::yield_now().await;
            }
        }
    });
    let mut answered = 0;
    for _ in 0..5 {
        let seen = run(listener_target(udp, Transport::Udp)).await;
        if seen.service.as_deref() == Some("rdsports-listener") {
            answered += 1;
        }
    }
    flood.abort();
    assert_eq!(answered, 5);
    running.cancel.cancel();
}

#[tokio::test]
async fn ports_in_use_are_reported_and_skipped() {
    let taken_tcp = std::net::TcpListener::bind((LOCAL, 0)).unwrap();
    let taken_udp = std::net::UdpSocket::bind((LOCAL, 0)).unwrap();
    let tcp_port = taken_tcp.local_addr().unwrap().port();
    let udp_port = taken_udp.local_addr().unwrap().port();
    let listeners = listen::open(ListenConfig::new(
        LOCAL,
        "h",
        vec![
            (Transport::Tcp, tcp_port),
            (Transport::Udp, udp_port),
            (Transport::Tcp, 0),
        ],
    ));
    let states: Vec<(Transport, u16, OpenState)> = listeners
        .opened()
        .iter()
        .map(|o| (o.transport, o.port, o.state))
        .collect();
    assert!(states.contains(&(Transport::Tcp, tcp_port, OpenState::InUse)));
    assert!(states.contains(&(Transport::Udp, udp_port, OpenState::InUse)));
    assert!(states.contains(&(Transport::Tcp, 0, OpenState::Open)));
    for o in listeners.opened() {
        assert_eq!(o.state == OpenState::Open, o.bound.is_some());
        assert_eq!(o.state != OpenState::Open, o.error.is_some());
    }
}

#[tokio::test]
async fn an_address_not_on_this_machine_fails_the_bind() {
    let listeners = listen::open(ListenConfig::new(
        IpAddr::from([192, 0, 2, 1]),
        "h",
        vec![(Transport::Tcp, 0)],
    ));
    assert_eq!(listeners.opened()[0].state, OpenState::Failed);
}

/// A new peer is never locked out: with every slot held by an idle connection, the oldest
/// idle one is closed and the new peer answered.
#[tokio::test]
async fn a_new_peer_evicts_the_oldest_idle_connection() {
    let mut config = config();
    config.max_connections = 1;
    config.read_timeout = Duration::from_secs(30);
    let running = start(config);
    let mut idle = TcpStream::connect(running.tcp).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let seen = run(listener_target(running.tcp, Transport::Tcp)).await;
    assert_eq!(
        seen.service.as_deref(),
        Some("rdsports-listener"),
        "{seen:?}"
    );
    // The idle connection was closed to make room.
    let mut buf = [0u8; 1];
    let closed = tokio::time::timeout(Duration::from_secs(5), idle.read(&mut buf)).await;
    assert!(matches!(closed, Ok(Ok(0)) | Ok(Err(_))), "{closed:?}");
    running.cancel.cancel();
    let summary = running.done.await.unwrap();
    assert_eq!(summary.evicted, 1);
}

/// 2,000 idle connections (from another source, then from the prober's own) do not lock out
/// a genuine check: ten probes during the flood, ten handshakes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_idle_connections_does_not_lock_out_a_genuine_check() {
    let running = start(config());
    let mut answered = 0;
    for flooder in [LOCAL, SOURCE] {
        let mut idle = Vec::new();
        for _ in 0..1_000 {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind(SocketAddr::new(flooder, 0)).unwrap();
            if let Ok(Ok(stream)) =
                tokio::time::timeout(Duration::from_secs(2), socket.connect(running.tcp)).await
            {
                idle.push(stream);
            }
        }
        assert!(idle.len() >= 900, "{} flood connections", idle.len());
        for _ in 0..5 {
            let seen = run(listener_target(running.tcp, Transport::Tcp)).await;
            if seen.service.as_deref() == Some("rdsports-listener") {
                answered += 1;
            }
        }
        drop(idle);
    }
    assert_eq!(answered, 10);
    running.cancel.cancel();
    let summary = running.done.await.unwrap();
    assert!(summary.evicted >= 1_000, "{summary:?}");
}

#[tokio::test]
async fn cancel_stops_serving_and_closes_the_ports() {
    let running = start(config());
    let tcp = running.tcp;
    running.cancel.cancel();
    finishes(running.done).await.unwrap();
    let seen = run(listener_target(tcp, Transport::Tcp)).await;
    assert_eq!(seen.verdict, Verdict::Refused);
}

#[tokio::test]
async fn a_source_that_is_not_local_is_not_probed() {
    let running = start(config());
    for transport in [Transport::Tcp, Transport::Udp] {
        let address = if transport == Transport::Tcp {
            running.tcp
        } else {
            running.udp
        };
        let target = target_for(address, None, "rdsports-listener", transport, &ctx())
            .with_source(IpAddr::from([192, 0, 2, 1]));
        let outcome = finishes(probe(&target, &settings())).await;
        let why = outcome.unwrap_err().to_string();
        assert!(why.contains("from 192.0.2.1"), "{why}");
    }
    running.cancel.cancel();
}
