//! Hostile peers: garbage, nothing, one byte per second, 100 MB, a reset mid-reply. Each
//! ends in an `open` verdict, without a service, within the timeout (plus a margin for a
//! busy machine); the note says what happened.

use std::time::Duration;

use rdsports_net::{Observation, Target, Verdict, probe};

use crate::common::{Peer, finishes, hello, settings, tcp_server};

const TIMEOUT_MS: u64 = 1500;

async fn against(peer: Peer) -> Observation {
    let address = tcp_server(peer).await;
    let target = Target::tcp(address).with_probe(hello());
    // Connect plus one conversation timeout, with room for a loaded machine.
    let limit = Duration::from_millis(2 * TIMEOUT_MS) + Duration::from_secs(3);
    let seen = finishes(limit, probe(&target, &settings(TIMEOUT_MS)))
        .await
        .unwrap();
    assert_eq!(seen.verdict, Verdict::Open, "{peer:?}: {seen:?}");
    assert_eq!(seen.service, None, "{peer:?}: {seen:?}");
    seen
}

#[tokio::test]
async fn garbage_is_open_and_unrecognised() {
    let seen = against(Peer::Garbage).await;
    assert!(seen.note.unwrap().contains("something else"));
}

#[tokio::test]
async fn silence_is_open_with_no_reply() {
    let seen = against(Peer::Silent).await;
    assert_eq!(seen.note.as_deref(), Some("no reply within 1500 ms"));
    assert_eq!(seen.detail["reply_bytes"], 0);
}

#[tokio::test]
async fn one_byte_a_second_ends_at_the_deadline() {
    let seen = against(Peer::Drip).await;
    assert!(seen.note.unwrap().contains("still incomplete"));
}

#[tokio::test]
async fn a_flood_is_read_only_up_to_the_bound() {
    let seen = against(Peer::Flood).await;
    assert!(seen.note.unwrap().contains("exceeded 262144 bytes"));
    assert_eq!(seen.detail["reply_bytes"], 262_144);
}

#[tokio::test]
async fn a_reset_mid_reply_is_open_with_a_note() {
    let seen = against(Peer::ResetMidReply).await;
    let note = seen.note.unwrap();
    assert!(
        note.contains("reset after 8 bytes") || note.contains("closed the connection after 8"),
        "{note}"
    );
}

/// A peer that completes the handshake and resets at once answered: `open`, every time,
/// whether the reset reaches us before connect returns or after (the race the repeated runs
/// are there to catch). 200 sequential tries and 200 at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_right_after_the_handshake_is_open_every_time() {
    let address = tcp_server(Peer::ResetAfterHandshake).await;
    let target = Target::tcp(address).with_probe(hello());
    let mut verdicts = std::collections::BTreeMap::new();
    for _ in 0..200 {
        let seen = finishes(
            Duration::from_secs(10),
            probe(&target, &settings(TIMEOUT_MS)),
        )
        .await
        .unwrap();
        *verdicts.entry(seen.verdict).or_insert(0) += 1;
    }
    let run = finishes(
        Duration::from_secs(30),
        rdsports_net::probe_all(
            vec![target.clone(); 200],
            &settings(TIMEOUT_MS),
            &rdsports_net::Cancel::new(),
            |_, _| {},
        ),
    )
    .await;
    for seen in run.observations {
        *verdicts.entry(seen.unwrap().verdict).or_insert(0) += 1;
    }
    assert_eq!(verdicts.get(&Verdict::Open), Some(&400), "{verdicts:?}");
}

/// A reset instead of a SYN-ACK (nothing listens) is `refused`, never `filtered`.
#[tokio::test]
async fn a_reset_instead_of_a_syn_ack_is_refused() {
    let address = crate::common::closed_tcp_port().await;
    for _ in 0..50 {
        let seen = probe(&Target::tcp(address), &settings(TIMEOUT_MS))
            .await
            .unwrap();
        assert_eq!(seen.verdict, Verdict::Refused, "{seen:?}");
    }
}

#[tokio::test]
async fn hostile_peers_in_parallel_all_end() {
    let peers = [
        Peer::Garbage,
        Peer::Silent,
        Peer::Drip,
        Peer::Flood,
        Peer::ResetMidReply,
        Peer::ResetAfterHandshake,
    ];
    let mut targets = Vec::new();
    for peer in peers {
        targets.push(Target::tcp(tcp_server(peer).await).with_probe(hello()));
    }
    let run = finishes(
        Duration::from_secs(15),
        rdsports_net::probe_all(
            targets,
            &settings(TIMEOUT_MS),
            &rdsports_net::Cancel::new(),
            |_, _| {},
        ),
    )
    .await;
    assert!(run.not_probed.is_empty());
    for seen in run.observations {
        let seen = seen.unwrap();
        assert_eq!(seen.verdict, Verdict::Open);
        assert_eq!(seen.service, None);
        assert!(seen.note.is_some());
    }
}
