//! Cancellation keeps the results so far and abandons the probes in flight.

use std::time::Duration;

use rdsports_net::{Cancel, Target, Verdict, probe_all};

use crate::common::{Peer, closed_tcp_port, finishes, hello, settings, tcp_server};

#[tokio::test]
async fn cancel_returns_partial_results() {
    let silent = tcp_server(Peer::Silent).await;
    let mut targets = Vec::new();
    for _ in 0..3 {
        targets.push(Target::tcp(closed_tcp_port().await));
    }
    for _ in 0..4 {
        // Each of these waits the full (long) timeout for a reply that never comes.
        targets.push(Target::tcp(silent).with_probe(hello()));
    }
    let cancel = Cancel::new();
    let mut seen = Vec::new();
    let on_result = |index: usize, _: &rdsports_net::Observation| {
        seen.push(index);
        if seen.len() == 3 {
            cancel.cancel();
        }
    };
    let run = finishes(
        Duration::from_secs(20),
        probe_all(targets, &settings(60_000), &cancel, on_result),
    )
    .await;
    assert!(run.cancelled);
    seen.sort_unstable();
    assert_eq!(seen, vec![0, 1, 2]);
    for index in 0..3 {
        assert_eq!(
            run.observations[index].as_ref().unwrap().verdict,
            Verdict::Refused
        );
    }
    assert!(run.observations[3..].iter().all(Option::is_none));
    assert!(run.not_probed.is_empty());
}

#[tokio::test]
async fn a_cancelled_token_probes_nothing() {
    let cancel = Cancel::new();
    cancel.cancel();
    let targets = vec![Target::tcp(closed_tcp_port().await)];
    let run = probe_all(targets, &settings(1000), &cancel, |_, _| {}).await;
    assert!(run.cancelled);
    assert_eq!(run.observations, vec![None]);
}
