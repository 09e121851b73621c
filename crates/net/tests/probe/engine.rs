//! The engine over mixed targets: every index reported once, results in target order, a
//! probe whose codec panics costs only its own target.

use std::sync::Arc;
use std::time::Duration;

use rdsports_net::{Cancel, Target, Verdict, probe_all};
use rdsports_wire::{Exchange, Progress};

use crate::common::{
    Peer, UdpPeer, closed_tcp_port, closed_udp_port, finishes, hello, settings, tcp_server,
    udp_server,
};

struct Panics;

impl Exchange for Panics {
    fn start(&mut self) -> Vec<u8> {
        b"HELLO\n".to_vec()
    }
    fn on_bytes(&mut self, _: &[u8]) -> Progress {
        panic!("a codec bug, on purpose");
    }
}

#[tokio::test]
async fn mixed_targets_come_back_in_order() {
    let hello_tcp = tcp_server(Peer::Hello).await;
    let hello_udp = udp_server(UdpPeer::Hello).await;
    let targets = vec![
        Target::tcp(hello_tcp).with_probe(hello()),
        Target::tcp(closed_tcp_port().await),
        Target::udp(hello_udp).with_probe(hello()),
        Target::udp(closed_udp_port().await).with_probe(hello()),
        Target::tcp(hello_tcp).with_probe(Arc::new(|| Box::new(Panics) as Box<dyn Exchange>)),
        Target::tcp(hello_tcp),
    ];
    let mut calls = vec![0u32; targets.len()];
    let mut small = settings(1000);
    small.concurrency = 2;
    let run = finishes(
        Duration::from_secs(20),
        probe_all(targets, &small, &Cancel::new(), |index, _| {
            calls[index] += 1
        }),
    )
    .await;
    assert!(!run.cancelled);
    assert_eq!(run.concurrency, 2);
    assert_eq!(calls, vec![1, 1, 1, 1, 0, 1]);
    let verdicts: Vec<Option<Verdict>> = run
        .observations
        .iter()
        .map(|o| o.as_ref().map(|o| o.verdict))
        .collect();
    assert_eq!(
        verdicts,
        vec![
            Some(Verdict::Open),
            Some(Verdict::Refused),
            Some(Verdict::Open),
            Some(Verdict::Closed),
            None,
            Some(Verdict::Open),
        ]
    );
    assert_eq!(
        run.observations[0].as_ref().unwrap().service.as_deref(),
        Some("hello")
    );
    assert_eq!(
        run.observations[2].as_ref().unwrap().service.as_deref(),
        Some("hello")
    );
    assert_eq!(run.not_probed.keys().copied().collect::<Vec<_>>(), vec![4]);
    assert!(run.not_probed[&4].contains("probe failed"));
}

#[tokio::test]
async fn an_empty_list_is_an_empty_run() {
    let run = probe_all(Vec::new(), &settings(1000), &Cancel::new(), |_, _| {}).await;
    assert!(run.observations.is_empty());
    assert!(!run.cancelled);
}

#[tokio::test]
async fn observations_serialise_with_contract_verdicts() {
    let targets = vec![Target::tcp(closed_tcp_port().await)];
    let run = probe_all(targets, &settings(1000), &Cancel::new(), |_, _| {}).await;
    let json = serde_json::to_value(run.observations[0].as_ref().unwrap()).unwrap();
    assert_eq!(json["verdict"], "refused");
    assert_eq!(json["attempts"], 1);
}
