//! The network half of `rdsports demo`: stand-in listeners for every host of a planned
//! deployment, each on an address of its own, and `check` from every source host at once.
//!
//! What the demo means (which flow is closed on purpose, what counts as behaving as
//! intended) and its narrative are `rdsports_report::demo`; the binary enters the private
//! namespace ([`crate::namespace`]) before any thread exists and hands the addresses here.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use rdsports_core::Protocol;
use rdsports_core::plan::Plan;
use rdsports_schema::check::CheckDocument;

use crate::check::{CheckSpec, DEFAULT_RANGE_SAMPLE, check_host, transport};
use crate::listen::{self, ListenConfig, OpenState};
use crate::registry::ProbeContext;
use crate::{Cancel, Settings, Transport};

/// Where the demo's hosts are and which port is left closed.
#[derive(Debug, Clone)]
pub struct Layout<'a> {
    /// The address of every host, by host index (loopback addresses).
    pub addresses: &'a [IpAddr],
    /// Every port moves up by this much (0 in a private namespace).
    pub offset: u16,
    /// The host and TCP port whose listener is not opened, as when a rule is forgotten.
    pub closed: (usize, u16),
}

/// The listeners of every host, serving until [`Listening::check`] is done.
#[derive(Debug)]
pub struct Listening {
    /// Per host with listeners: the ports listening (`3389`, `3391/udp`).
    pub listening: BTreeMap<usize, Vec<String>>,
    /// Ports a listener could not open, one sentence each.
    pub not_listening: Vec<String>,
    cancel: Cancel,
    servers: Vec<tokio::task::JoinHandle<listen::ServeSummary>>,
    handshakes: Arc<AtomicUsize>,
    others: Arc<AtomicUsize>,
}

/// What the checks and the listeners saw.
#[derive(Debug)]
pub struct Run {
    /// The source hosts, in the order of `documents`.
    pub sources: Vec<usize>,
    /// One check document per source host.
    pub documents: Vec<CheckDocument>,
    /// Handshakes the listeners answered.
    pub handshakes: usize,
    /// Other contacts they saw (the real protocol probes `check` sends first).
    pub others: usize,
}

/// Opens the listeners of every host of `plan` at `layout`'s addresses (all but the closed
/// port) and starts serving. Must run inside a tokio runtime.
pub fn open(plan: &Plan<'_>, layout: &Layout<'_>) -> Listening {
    let d = plan.deployment;
    let cancel = Cancel::new();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let others = Arc::new(AtomicUsize::new(0));
    let mut listening = BTreeMap::new();
    let mut not_listening = Vec::new();
    let mut servers = Vec::new();
    let (closed_host, closed_port) = layout.closed;
    for (i, host) in d.hosts.iter().enumerate() {
        let Some(&address) = layout.addresses.get(i) else {
            continue;
        };
        let ports: Vec<(Transport, u16)> = plan
            .inbound(i, DEFAULT_RANGE_SAMPLE)
            .into_iter()
            .filter(|p| !(i == closed_host && p.protocol == Protocol::Tcp && p.port == closed_port))
            .map(|p| (transport(p.protocol), p.port.saturating_add(layout.offset)))
            .collect();
        if ports.is_empty() {
            continue;
        }
        let mut config = ListenConfig::new(address, host.name.clone(), ports);
        config.read_timeout = Duration::from_secs(2);
        let listeners = listen::open(config);
        let mut shown = Vec::new();
        for o in listeners.opened() {
            let port = match o.transport {
                Transport::Tcp => o.port.to_string(),
                Transport::Udp => format!("{}/udp", o.port),
            };
            if o.state == OpenState::Open {
                shown.push(port);
            } else {
                not_listening.push(format!(
                    "{} could not listen on {port} at {address}: {} ({})",
                    host.name,
                    o.state.as_str(),
                    o.error.as_deref().unwrap_or("")
                ));
            }
        }
        listening.insert(i, shown);
        let cancel = cancel.clone();
        let (handshakes, others) = (handshakes.clone(), others.clone());
        servers.push(tokio::spawn(async move {
            listeners
                .serve(&cancel, |contact| {
                    if contact.outcome.is_handshake() {
                        handshakes.fetch_add(1, Ordering::Relaxed);
                    } else {
                        others.fetch_add(1, Ordering::Relaxed);
                    }
                })
                .await
        }));
    }
    Listening {
        listening,
        not_listening,
        cancel,
        servers,
        handshakes,
        others,
    }
}

impl Listening {
    /// Checks from every source host of `plan` at once, then closes the listeners.
    pub async fn check(self, plan: &Plan<'_>, layout: &Layout<'_>) -> Run {
        let d = plan.deployment;
        let Listening {
            cancel,
            servers,
            handshakes,
            others,
            ..
        } = self;
        let sources: Vec<usize> = (0..d.hosts.len())
            .filter(|&i| plan.flows.iter().any(|f| f.from == i))
            .collect();
        let settings = Settings {
            timeout: Duration::from_millis(500),
            retries: 0,
            concurrency: 64,
            adaptive: None,
        };
        let address_of = |h: usize| layout.addresses.get(h).copied();
        let specs: Vec<CheckSpec<'_>> = sources
            .iter()
            .map(|&from| CheckSpec {
                plan,
                from,
                to: None,
                role: None,
                address_of: &address_of,
                port_offset: layout.offset,
                source: layout.addresses.get(from).copied(),
                settings,
                context: ProbeContext {
                    realm: d.options.domain.clone(),
                    ..ProbeContext::default()
                },
                range_sample: DEFAULT_RANGE_SAMPLE,
                paths_only: false,
            })
            .collect();
        let progress = |_: usize, _: usize| {};
        let documents = join_all(
            specs
                .iter()
                .map(|spec| check_host(spec, &cancel, &progress))
                .collect(),
        )
        .await;
        cancel.cancel();
        for server in servers {
            let _ = server.await;
        }
        Run {
            sources,
            documents,
            handshakes: handshakes.load(Ordering::Relaxed),
            others: others.load(Ordering::Relaxed),
        }
    }
}

/// Runs every future to completion, concurrently, in the calling task; outputs in order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pending: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (future, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => done = false,
                }
            }
        }
        if done { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn join_all_keeps_the_order() {
        let futures: Vec<_> = [30u64, 0, 10]
            .into_iter()
            .map(|ms| async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                ms
            })
            .collect();
        assert_eq!(join_all(futures).await, [30, 0, 10]);
    }
}
