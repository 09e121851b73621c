//! TLS: a direct handshake with and without an exchange inside, SNI, TLS 1.2, the upgrade
//! after an exchange (as RDP after X.224), an alert and a peer that does not speak TLS.
//! The server uses the self-signed certificate in `data/` (see its README).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rdsports_net::{Observation, Target, TlsMode, Verdict, probe};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::common::{Peer, finishes, hello, read_line, settings, starttls, tcp_server};

const CERT: &[u8] = include_bytes!("data/cert.der");
const KEY: &[u8] = include_bytes!("data/key.der");

pub fn server_config(versions: &[&'static rustls::SupportedProtocolVersion]) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(CERT.to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(KEY.to_vec())),
        )
        .unwrap();
    Arc::new(config)
}

#[derive(Clone, Copy)]
pub(crate) enum Mode {
    /// TLS first, then the line protocol inside; the reply names the SNI received.
    Direct,
    /// The line protocol in clear (`STARTTLS`), then TLS.
    StartTls,
}

pub(crate) async fn tls_server(
    mode: Mode,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> SocketAddr {
    let acceptor = TlsAcceptor::from(server_config(versions));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Mode::StartTls = mode {
                    if read_line(&mut stream).await.is_none() {
                        return;
                    }
                    let _ = stream.write_all(b"WORLD starttls\n").await;
                }
                let Ok(mut session) = acceptor.accept(stream).await else {
                    return;
                };
                if let Mode::Direct = mode {
                    let sni = session
                        .get_ref()
                        .1
                        .server_name()
                        .unwrap_or("none")
                        .to_owned();
                    if read_line(&mut session).await.is_some() {
                        let _ = session.write_all(format!("WORLD {sni}\n").as_bytes()).await;
                    }
                }
                let _ =
                    tokio::time::timeout(Duration::from_secs(30), read_line(&mut session)).await;
            });
        }
    });
    address
}

async fn run(target: Target) -> Observation {
    let seen = finishes(Duration::from_secs(10), probe(&target, &settings(1500)))
        .await
        .unwrap();
    assert_eq!(seen.verdict, Verdict::Open, "{seen:?}");
    seen
}

#[tokio::test]
async fn direct_tls_records_the_session_and_runs_the_exchange_inside() {
    let address = tls_server(Mode::Direct, rustls::ALL_VERSIONS).await;
    let seen = run(Target::tcp(address)
        .with_tls(TlsMode::Direct)
        .with_probe(hello()))
    .await;
    assert_eq!(seen.service.as_deref(), Some("hello"));
    assert_eq!(seen.detail["name"], "none", "no SNI is sent for an address");
    let tls = &seen.detail["tls"];
    assert_eq!(tls["version"], "TLS 1.3");
    assert!(tls["cipher_suite"].as_str().unwrap().starts_with("TLS13_"));
    assert_eq!(tls["chain_length"], 1);
    let certificate = &tls["certificate"];
    assert_eq!(certificate["common_name"], "rdsports-test.invalid");
    assert_eq!(
        certificate["dns_names"],
        serde_json::json!(["rdsports-test.invalid"])
    );
    assert_eq!(certificate["self_signed"], true);
    assert_eq!(certificate["expired"], false);
    assert!(
        certificate.get("covers_server_name").is_none(),
        "no name was asked for"
    );
    assert_eq!(seen.note, None);
}

#[tokio::test]
async fn the_server_name_is_sent_as_sni() {
    let address = tls_server(Mode::Direct, rustls::ALL_VERSIONS).await;
    let target = Target::tcp(address)
        .with_tls(TlsMode::Direct)
        .with_probe(hello())
        .with_server_name("rdsports-test.invalid");
    let seen = run(target).await;
    assert_eq!(seen.detail["name"], "rdsports-test.invalid");
    assert_eq!(
        seen.detail["tls"]["certificate"]["covers_server_name"],
        true
    );
}

#[tokio::test]
async fn a_handshake_alone_identifies_tls() {
    let address = tls_server(Mode::Direct, &[&rustls::version::TLS12]).await;
    let seen = run(Target::tcp(address).with_tls(TlsMode::Direct)).await;
    assert_eq!(seen.service.as_deref(), Some("tls"));
    assert_eq!(seen.detail["tls"]["version"], "TLS 1.2");
}

#[tokio::test]
async fn tls_after_the_exchange_when_asked() {
    let address = tls_server(Mode::StartTls, rustls::ALL_VERSIONS).await;
    let target = Target::tcp(address)
        .with_tls(TlsMode::AfterExchange)
        .with_probe(starttls());
    let seen = run(target).await;
    assert_eq!(seen.service.as_deref(), Some("hello"));
    assert_eq!(seen.detail["name"], "starttls");
    assert_eq!(seen.detail["tls"]["version"], "TLS 1.3");
    assert_eq!(seen.detail["tls"]["chain_length"], 1);
}

#[tokio::test]
async fn no_tls_without_the_upgrade_flag() {
    let address = tcp_server(Peer::Hello).await;
    let seen = run(Target::tcp(address)
        .with_tls(TlsMode::AfterExchange)
        .with_probe(hello()))
    .await;
    assert_eq!(seen.service.as_deref(), Some("hello"));
    assert!(seen.detail.get("tls").is_none());
}

#[tokio::test]
async fn an_alert_is_a_detail_on_an_open_port() {
    let address = tcp_server(Peer::TlsAlert).await;
    let seen = run(Target::tcp(address)
        .with_tls(TlsMode::Direct)
        .with_probe(hello()))
    .await;
    assert_eq!(seen.service.as_deref(), Some("tls"));
    assert_eq!(seen.detail["tls"]["alert"], "handshake_failure");
    assert!(seen.note.unwrap().contains("handshake_failure"));
}

#[tokio::test]
async fn a_peer_that_does_not_speak_tls_is_unrecognised() {
    let address = tcp_server(Peer::Garbage).await;
    let seen = run(Target::tcp(address).with_tls(TlsMode::Direct)).await;
    assert_eq!(seen.service, None);
    assert!(seen.detail["tls"]["error"].is_string());
    assert!(seen.note.unwrap().contains("TLS handshake failed"));
}

#[tokio::test]
async fn a_silent_peer_ends_the_handshake_at_the_deadline() {
    let address = tcp_server(Peer::Silent).await;
    let seen = run(Target::tcp(address).with_tls(TlsMode::Direct)).await;
    assert_eq!(seen.service, None);
    assert_eq!(seen.detail["tls"]["error"], "handshake timed out");
}
