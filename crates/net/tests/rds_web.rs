//! The RDS web services on loopback (127.11.25.0/24 only): `check` from a client to a host
//! that is both RD Gateway and RD Web Access, behind TLS with certificates made here.
//!
//! A stand-in that answers as [MS-TSGU] 4.2.1 says a gateway does (a 401 challenge to
//! `RDG_OUT_DATA /remoteDesktopGateway/`) and as RD Web Access does (a redirect of `/RDWeb/`
//! into its pages, a 401 for the feed) passes; an nginx-like default page, a proxy that
//! resets the connection on the gateway's method, a certificate without the public name and
//! an expired one are each a finding, with the evidence.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{CertificateParams, KeyPair, date_time_ymd};
use rdsports_core::plan::plan;
use rdsports_core::{Catalog, Deployment};
use rdsports_net::check::{CheckSpec, check_host};
use rdsports_net::registry::{NonceSource, ProbeContext};
use rdsports_net::{Cancel, Settings};
use rdsports_schema::check::{CheckDocument, CheckRecord, Status};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// A client and a host with both web roles, whose public name is rds.contoso.example.
const DEPLOYMENT: &str = "name = \"web\"\n[options]\ngateway_udp = false\n\
    [[host]]\nname = \"pc01\"\naddress = \"127.0.0.9\"\nroles = [\"client\"]\n\
    [[host]]\nname = \"gw01\"\naddress = \"127.0.0.10\"\nroles = [\"gateway\", \"web-access\"]\n\
    public_name = \"rds.contoso.example\"\n";

const PUBLIC_NAME: &str = "rds.contoso.example";
/// Ports are shifted so that nothing of this machine's own answers (443 + 20,000).
const OFFSET: u16 = 20_000;

/// What the stand-in does with one request (its request line is given).
type Answer = fn(&str) -> Reply;

enum Reply {
    /// Send these bytes; keep the connection for another request.
    Send(&'static [u8]),
    /// Reset the connection (SO_LINGER 0), as a proxy that drops the method.
    Reset,
}

/// A certificate for `names`, valid from `from` to `to` (years), with its key.
fn certificate(
    names: &[&str],
    from: i32,
    to: i32,
) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
    params.not_before = date_time_ymd(from, 1, 1);
    params.not_after = date_time_ymd(to, 1, 1);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (
        CertificateDer::from(cert.der().to_vec()),
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
}

/// Reads one request head (up to the empty line); `None` at the end of the stream.
async fn request_head<S: AsyncRead + Unpin>(stream: &mut S) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 || stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).ok()
}

/// A TLS stand-in at `address` with `cert`, answering each request with `answer`.
async fn stand_in(
    address: SocketAddr,
    cert: (CertificateDer<'static>, PrivateKeyDer<'static>),
    answer: Answer,
) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.0], cert.1)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind(address)
        .await
        .unwrap_or_else(|e| panic!("{address} is taken: {e}"));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut session) = acceptor.accept(stream).await else {
                    return;
                };
                while let Some(head) = request_head(&mut session).await {
                    let line = head.lines().next().unwrap_or("").to_owned();
                    match answer(&line) {
                        Reply::Send(bytes) => {
                            if session.write_all(bytes).await.is_err() {
                                return;
                            }
                            let _ = session.flush().await;
                        }
                        Reply::Reset => {
                            let (tcp, _) = session.get_ref();
                            let _ = socket2::SockRef::from(tcp).set_linger(Some(Duration::ZERO));
                            return;
                        }
                    }
                }
            });
        }
    });
}

const CHALLENGE: &[u8] = b"HTTP/1.1 401 Unauthorized\r\nServer: Microsoft-HTTPAPI/2.0\r\n\
WWW-Authenticate: Negotiate\r\nWWW-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n";
const RDWEB: &[u8] = b"HTTP/1.1 302 Found\r\nServer: Microsoft-IIS/10.0\r\n\
Location: https://rds.contoso.example/RDWeb/Pages/\r\nContent-Length: 0\r\n\r\n";
const FEED: &[u8] = b"HTTP/1.1 401 Unauthorized\r\nServer: Microsoft-IIS/10.0\r\n\
WWW-Authenticate: Negotiate\r\nWWW-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n";
const NGINX: &[u8] = b"HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nContent-Type: text/html\r\n\
Content-Length: 22\r\n\r\n<h1>Welcome to nginx!\n";

/// A gateway and RD Web Access, as the specifications and IIS answer.
fn rds(line: &str) -> Reply {
    if line.starts_with("RDG_OUT_DATA /remoteDesktopGateway/ ") {
        Reply::Send(CHALLENGE)
    } else if line.starts_with("GET /RDWeb/Feed/webfeed.aspx ") {
        Reply::Send(FEED)
    } else if line.starts_with("GET /RDWeb/ ") {
        Reply::Send(RDWEB)
    } else {
        Reply::Send(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    }
}

/// A default web site: the same page whatever is asked.
fn nginx(_: &str) -> Reply {
    Reply::Send(NGINX)
}

/// RD Web Access behind a proxy that resets the connection on the gateway's method.
fn waf(line: &str) -> Reply {
    if line.starts_with("RDG_") {
        Reply::Reset
    } else {
        rds(line)
    }
}

/// Checks the flows from pc01 to gw01, gw01 at `target`.
async fn check(target: Ipv4Addr) -> CheckDocument {
    let catalog = Catalog::builtin().unwrap();
    let deployment = Deployment::parse(DEPLOYMENT).unwrap();
    let plan = plan(&catalog, &deployment);
    let address_of = move |_: usize| Some(IpAddr::V4(target));
    let spec = CheckSpec {
        plan: &plan,
        from: deployment.host_index("pc01").unwrap(),
        to: deployment.host_index("gw01"),
        role: None,
        address_of: &address_of,
        port_offset: OFFSET,
        source: None,
        settings: Settings {
            timeout: Duration::from_millis(3000),
            retries: 0,
            concurrency: 8,
            adaptive: None,
        },
        context: ProbeContext {
            nonces: NonceSource::seeded(25),
            ..ProbeContext::default()
        },
        range_sample: 2,
        paths_only: false,
    };
    tokio::time::timeout(
        Duration::from_secs(30),
        check_host(&spec, &Cancel::new(), &|_, _| {}),
    )
    .await
    .expect("the check finished")
}

/// The result for `service` on TCP 443.
fn result<'d>(doc: &'d CheckDocument, service: &str) -> &'d CheckRecord {
    doc.results
        .iter()
        .find(|r| r.port == 443 && r.expected_service.as_deref() == Some(service))
        .unwrap_or_else(|| panic!("no {service} result: {:#?}", doc.results))
}

async fn run(
    last: u8,
    cert: (CertificateDer<'static>, PrivateKeyDer<'static>),
    answer: Answer,
) -> CheckDocument {
    let target = Ipv4Addr::new(127, 11, 25, last);
    stand_in(SocketAddr::from((target, 443 + OFFSET)), cert, answer).await;
    check(target).await
}

#[tokio::test]
async fn a_gateway_and_rd_web_access_that_answer_as_specified_pass() {
    let doc = run(1, certificate(&[PUBLIC_NAME], 2020, 2100), rds).await;
    let gateway = result(&doc, "rd-gateway");
    assert_eq!(
        gateway.service.as_deref(),
        Some("rd-gateway"),
        "{gateway:#?}"
    );
    assert_eq!(gateway.status, Some(Status::Pass), "{gateway:#?}");
    assert_eq!(gateway.catalog_id.as_deref(), Some("S12"));
    assert_eq!(gateway.detail["status"], 401);
    assert_eq!(
        gateway.detail["www_authenticate"],
        serde_json::json!(["Negotiate", "NTLM"])
    );
    assert_eq!(gateway.detail["public_name"], PUBLIC_NAME);
    assert_eq!(gateway.detail["public_name_covered"], true);
    assert_eq!(gateway.identification, None);
    let web = result(&doc, "rd-web-access");
    assert_eq!(web.service.as_deref(), Some("rd-web-access"), "{web:#?}");
    assert_eq!(web.status, Some(Status::Pass));
    assert_eq!(web.catalog_id.as_deref(), Some("S01"));
    assert_eq!(web.detail["feed_status"], 401);
    assert!(
        doc.all_pass(rdsports_schema::check::UdpSilence::Warn),
        "{doc:#?}"
    );
    assert_eq!(doc.findings.certificate_refused, 0);
}

#[tokio::test]
async fn an_nginx_default_page_on_the_gateways_port_is_a_wrong_service() {
    let doc = run(2, certificate(&[PUBLIC_NAME], 2020, 2100), nginx).await;
    let gateway = result(&doc, "rd-gateway");
    assert_eq!(gateway.verdict.as_str(), "open");
    assert_eq!(gateway.service.as_deref(), Some("http"));
    assert_eq!(gateway.service_matches, Some(false));
    assert_eq!(gateway.status, Some(Status::WrongService));
    assert_eq!(gateway.detail["server"], "nginx/1.24.0");
    assert_eq!(gateway.detail["status_line"], "HTTP/1.1 200 OK");
    let note = gateway.note.as_deref().unwrap();
    assert!(
        note.starts_with(
            "HTTP/1.1 200 OK (Server: nginx/1.24.0) to RDG_OUT_DATA /remoteDesktopGateway/"
        ) && note.contains("the RD Gateway role is not installed"),
        "{note}"
    );
    // No follow-up: the answer said what is there.
    assert_eq!(gateway.identification, None);
    let web = result(&doc, "rd-web-access");
    assert_eq!(web.status, Some(Status::WrongService));
    assert!(
        web.note
            .as_deref()
            .unwrap()
            .contains("not RD Web Access's redirect"),
        "{web:#?}"
    );
    assert_eq!(doc.findings.wrong_service, 2);
    assert!(!doc.all_pass(rdsports_schema::check::UdpSilence::Warn));
}

#[tokio::test]
async fn a_proxy_that_resets_on_rdg_out_data_is_a_wrong_service() {
    let doc = run(3, certificate(&[PUBLIC_NAME], 2020, 2100), waf).await;
    let gateway = result(&doc, "rd-gateway");
    assert_eq!(gateway.verdict.as_str(), "open");
    assert_eq!(gateway.service.as_deref(), Some("tls"), "{gateway:#?}");
    assert_eq!(gateway.status, Some(Status::WrongService));
    let note = gateway.note.as_deref().unwrap();
    assert!(note.contains("drops the gateway's method"), "{note}");
    // RD Web Access on the same port still passes.
    assert_eq!(result(&doc, "rd-web-access").status, Some(Status::Pass));
    assert_eq!(doc.findings.wrong_service, 1);
}

#[tokio::test]
async fn a_certificate_without_the_public_name_is_refused_by_clients() {
    let doc = run(4, certificate(&["gw01.corp.example"], 2020, 2100), rds).await;
    for service in ["rd-gateway", "rd-web-access"] {
        let r = result(&doc, service);
        assert_eq!(r.service.as_deref(), Some(service));
        assert_eq!(r.status, Some(Status::CertificateRefused), "{r:#?}");
        assert_eq!(r.detail["public_name_covered"], false);
        let why = rdsports_schema::check::certificate_problem(r).unwrap();
        assert!(why.contains("does not cover rds.contoso.example"), "{why}");
    }
    assert_eq!(doc.findings.certificate_refused, 2);
    assert!(!doc.all_pass(rdsports_schema::check::UdpSilence::Warn));
}

#[tokio::test]
async fn an_expired_certificate_is_refused_by_clients() {
    let doc = run(5, certificate(&[PUBLIC_NAME], 2020, 2021), rds).await;
    let r = result(&doc, "rd-gateway");
    assert_eq!(r.status, Some(Status::CertificateRefused), "{r:#?}");
    assert_eq!(r.detail["public_name_covered"], true);
    assert_eq!(r.detail["tls"]["certificate"]["expired"], true);
    let why = rdsports_schema::check::certificate_problem(r).unwrap();
    assert!(why.contains("expired on 2021-01-01"), "{why}");
    assert_eq!(doc.findings.certificate_refused, 2);
}
