//! `rdsports_net::check` on loopback (127.11.0.0/16 only): the rounds of a host's check,
//! what a wrong service and a stand-in listener mean, and the ad hoc form.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use rdsports_core::plan::plan;
use rdsports_core::{Catalog, Deployment, Protocol};
use rdsports_net::check::{AdHoc, AdHocProbe, CheckSpec, check_ad_hoc, check_host};
use rdsports_net::registry::{NonceSource, ProbeContext};
use rdsports_net::{Cancel, Settings};
use rdsports_schema::check::{CheckDocument, Status};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The gateway, a DC and a session host; probes go to 127.11.0.3 whatever the host.
const LOOPBACK: &str = "name = \"loop\"\n[options]\ndomain = \"lab.test\"\n\
    [[host]]\nname = \"gw01\"\naddress = \"127.0.0.1\"\nroles = [\"gateway\"]\n\
    [[host]]\nname = \"dc01\"\naddress = \"127.0.0.2\"\nroles = [\"domain-controller\", \"dns\"]\n\
    [[host]]\nname = \"sh01\"\naddress = \"127.0.0.3\"\nroles = [\"session-host\"]\n";

const TARGET: Ipv4Addr = Ipv4Addr::new(127, 11, 0, 3);
/// Ports are shifted so that nothing of this machine's own (xrdp on 3389) answers.
const OFFSET: u16 = 20_000;

fn settings() -> Settings {
    Settings {
        timeout: Duration::from_millis(500),
        retries: 0,
        concurrency: 16,
        adaptive: None,
    }
}

fn context() -> ProbeContext {
    ProbeContext {
        realm: Some("lab.test".into()),
        nonces: NonceSource::seeded(3),
        ..ProbeContext::default()
    }
}

/// Checks the flows from gw01 to `to`, every host at `target`, ports shifted by
/// [`OFFSET`].
async fn check_to(to: &str, paths_only: bool, target: Ipv4Addr) -> CheckDocument {
    let catalog = Catalog::builtin().unwrap();
    let deployment = Deployment::parse(LOOPBACK).unwrap();
    let plan = plan(&catalog, &deployment);
    let address_of = move |_: usize| Some(IpAddr::V4(target));
    let spec = CheckSpec {
        plan: &plan,
        from: deployment.host_index("gw01").unwrap(),
        to: deployment.host_index(to),
        role: None,
        address_of: &address_of,
        port_offset: OFFSET,
        source: None,
        settings: settings(),
        context: context(),
        range_sample: 2,
        paths_only,
    };
    tokio::time::timeout(
        Duration::from_secs(30),
        check_host(&spec, &Cancel::new(), &|_, _| {}),
    )
    .await
    .expect("the check finished")
}

/// A web server at `target:port` that answers anything with a 400.
async fn web_server(target: Ipv4Addr, port: u16) -> Option<()> {
    let listener = TcpListener::bind(SocketAddr::from((target, port)))
        .await
        .ok()?;
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                    .await;
            });
        }
    });
    Some(())
}

#[tokio::test]
async fn a_web_server_on_the_session_hosts_rdp_port_is_a_wrong_service() {
    let doc = match web_server(TARGET, 3389 + OFFSET).await {
        Some(()) => check_to("sh01", false, TARGET).await,
        None => panic!("{TARGET}:{} is taken", 3389 + OFFSET),
    };
    let rdp = doc
        .results
        .iter()
        .find(|r| r.protocol == "tcp" && r.port == 3389)
        .unwrap();
    assert_eq!(rdp.verdict.as_str(), "open");
    assert_eq!(rdp.service.as_deref(), Some("http"));
    assert_eq!(rdp.identified.as_deref(), Some("http"));
    assert_eq!(rdp.service_matches, Some(false));
    assert_eq!(rdp.status, Some(Status::WrongService));
    assert_eq!(rdp.catalog_id.as_deref(), Some("S24"));
    assert_eq!(doc.findings.wrong_service, 1);
    // UDP 3389 has no listener: ICMP port unreachable, blocked.
    let udp = doc
        .results
        .iter()
        .find(|r| r.protocol == "udp" && r.port == 3389)
        .unwrap();
    assert_eq!(udp.verdict.as_str(), "closed");
    assert!(!doc.all_pass(rdsports_schema::check::UdpSilence::Warn));
}

#[tokio::test]
async fn paths_only_takes_any_connection_as_open() {
    let other = Ipv4Addr::new(127, 11, 0, 4);
    web_server(other, 3389 + OFFSET).await.expect("a free port");
    let doc = check_to("sh01", true, other).await;
    let rdp = doc
        .results
        .iter()
        .find(|r| r.protocol == "tcp" && r.port == 3389)
        .unwrap();
    assert_eq!(rdp.verdict.as_str(), "open");
    assert_eq!(rdp.identification, None);
    assert_eq!(rdp.status, Some(Status::Pass));
    assert!(doc.paths_only);
    assert_eq!(doc.findings.wrong_service, 0);
}

#[tokio::test]
async fn an_unanswered_endpoint_mapper_leaves_the_rpc_range_unprobed() {
    let doc = check_to("dc01", false, Ipv4Addr::new(127, 11, 0, 5)).await;
    let range = doc
        .not_probed
        .iter()
        .find(|n| n.ports == "49152-65535")
        .expect("the range is listed as not probed");
    assert!(range.reason.contains("endpoint mapper"), "{}", range.reason);
    assert!(doc.results.iter().all(|r| r.port < 49_152));
    assert!(doc.results.iter().any(|r| r.port == 135));
}

#[tokio::test]
async fn ad_hoc_probes_one_port() {
    let closed = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let open = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let open_port = open.local_addr().unwrap().port();
    let probe = |port: u16, service: &str| AdHocProbe {
        address: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port,
        protocol: Protocol::Tcp,
        service: service.into(),
    };
    let spec = AdHoc {
        probes: vec![probe(port, "ldap"), probe(open_port, "unknown")],
        settings: settings(),
        context: context(),
        paths_only: false,
    };
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let progress = |_: usize, total: usize| {
        assert_eq!(total, 2);
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    };
    let doc = check_ad_hoc(&spec, &Cancel::new(), &progress).await;
    assert_eq!(calls.into_inner(), 2);
    assert_eq!(doc.from, "ad hoc");
    assert_eq!(doc.results.len(), 2);
    assert_eq!(doc.results[0].verdict.as_str(), "refused");
    assert_eq!(doc.results[0].status, Some(Status::Blocked));
    // A plain connect with no service expected: open, nothing to identify.
    assert_eq!(doc.results[1].verdict.as_str(), "open");
    assert_eq!(doc.results[1].port, open_port);
    assert_eq!(doc.results[1].identification, None);
    assert_eq!(doc.results[1].status, Some(Status::Pass));
    assert_eq!(doc.findings.blocked, 1);
}
