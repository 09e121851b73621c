//! The engine: runs many probes at once, bounded by the open-file budget, and keeps what
//! it has when cancelled.
//!
//! Probes run as tokio tasks in a `JoinSet`; at most `concurrency` are in flight, where
//! `concurrency` is the requested value lowered to the open-file budget
//! ([`crate::fdlimit`]) and lowered again, for a while, whenever the system still runs out
//! of descriptors. A TCP probe whose connect went unanswered and needs another attempt
//! gives its place back ([`tcp::Progress::Again`]): targets not started yet go first, and
//! the waiting attempts, a few words each, run in the order they were left as places free
//! up. A silent port's SYNs are thus spread over the run (more time between them, too),
//! and the run does not end with its last targets' SYNs sent one after another on
//! otherwise idle sockets. Results are handed to a callback as they arrive and returned in
//! target order. Cancelling stops at once: probes in flight are abandoned (their sockets closed)
//! and their targets stay `None`. A probe that panics (a bug in a codec) costs its own
//! target only. The engine does not print; the caller decides what to show.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::cancel::Cancel;
use crate::fdlimit::{FdBudget, fd_budget};
use crate::model::{Observation, Settings, Target, Transport};
use crate::rtt::RttTable;
use crate::socket::Pressure;
use crate::{identify, tcp, udp};

/// The results of [`probe_all`].
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeRun {
    /// One entry per target, in target order; `None` when the target was not probed
    /// (cancelled first, or listed in `not_probed`).
    pub observations: Vec<Option<Observation>>,
    /// Whether the run was cancelled before every target was probed.
    pub cancelled: bool,
    /// The concurrency the run started with (the request, lowered to the budget).
    pub concurrency: usize,
    /// The open-file budget measured at the start.
    pub fd_budget: FdBudget,
    /// How many times probes had to wait because the system ran out of descriptors,
    /// buffers or ephemeral ports (each wait lowers the concurrency for a while).
    pub resource_waits: usize,
    /// The lowest concurrency the run went down to (equal to `concurrency` when it never
    /// ran out of resources).
    pub lowest_concurrency: usize,
    /// Targets that could not be probed for a local reason (no socket for a long time, a
    /// probe that failed unexpectedly), by target index, with the reason.
    pub not_probed: BTreeMap<usize, String>,
}

/// Why a single probe could not be run (the local system, not the peer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotProbed(pub String);

impl std::fmt::Display for NotProbed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotProbed {}

/// Probes every target and returns the observations in target order.
///
/// `on_result` is called once per finished target, with its index, as results arrive.
/// When `cancel` fires, the run stops at once and returns what it has. Never fails: a
/// target that could not be probed is `None` with its reason in
/// [`ProbeRun::not_probed`].
pub async fn probe_all<F>(
    targets: Vec<Target>,
    settings: &Settings,
    cancel: &Cancel,
    mut on_result: F,
) -> ProbeRun
where
    F: FnMut(usize, &Observation),
{
    let budget = fd_budget();
    let concurrency = settings.concurrency.min(budget.probes).max(1);
    let pressure = Arc::new(Pressure::new(concurrency));
    let settings = settings.bounded();
    let rtts = Arc::new(RttTable::default());
    let mut observations: Vec<Option<Observation>> = vec![None; targets.len()];
    let targets = Arc::new(targets);
    let mut not_probed = BTreeMap::new();
    let mut cancelled = false;
    let mut fresh = 0..targets.len();
    let mut waiting: VecDeque<(usize, tcp::Connecting)> = VecDeque::new();
    let mut tasks = JoinSet::new();
    let mut indices = HashMap::new();

    loop {
        if cancel.is_cancelled() {
            cancelled = true;
            break;
        }
        while tasks.len() < pressure.limit() {
            let (index, connecting) = match fresh.next() {
                Some(index) => (index, tcp::Connecting::default()),
                None => match waiting.pop_front() {
                    Some(next) => next,
                    None => break,
                },
            };
            let pressure_for_task = pressure.clone();
            let rtts = rtts.clone();
            let targets = targets.clone();
            pressure.started();
            let handle = tasks.spawn(async move {
                let target = &targets[index];
                run(target, &settings, &pressure_for_task, &rtts, connecting).await
            });
            indices.insert(handle.id(), index);
        }
        if tasks.is_empty() {
            break;
        }
        let joined = tokio::select! {
            biased;
            () = cancel.cancelled() => {
                cancelled = true;
                break;
            }
            joined = tasks.join_next_with_id() => joined,
        };
        let Some(joined) = joined else { break };
        pressure.finished();
        match joined {
            Ok((id, result)) => {
                let Some(index) = indices.remove(&id) else {
                    continue;
                };
                match result {
                    Ok(Ran::Done(observation)) => {
                        on_result(index, &observation);
                        if let Some(slot) = observations.get_mut(index) {
                            *slot = Some(*observation);
                        }
                    }
                    Ok(Ran::Again(connecting)) => waiting.push_back((index, connecting)),
                    Err(reason) => {
                        not_probed.insert(index, reason);
                    }
                }
            }
            Err(error) => {
                if let Some(index) = indices.remove(&error.id()) {
                    not_probed.insert(index, format!("not probed: the probe failed ({error})"));
                }
            }
        }
    }
    tasks.abort_all();
    ProbeRun {
        observations,
        cancelled,
        concurrency,
        fd_budget: budget,
        resource_waits: pressure.waits(),
        lowest_concurrency: pressure.lowest(),
        not_probed,
    }
}

/// Probes one target on its own (no concurrency limit beyond this one socket).
pub async fn probe(target: &Target, settings: &Settings) -> Result<Observation, NotProbed> {
    let pressure = Pressure::new(1);
    let settings = settings.bounded();
    let rtts = RttTable::default();
    let mut connecting = tcp::Connecting::default();
    loop {
        match run(target, &settings, &pressure, &rtts, connecting).await {
            Ok(Ran::Done(observation)) => return Ok(*observation),
            Ok(Ran::Again(next)) => connecting = next,
            Err(reason) => return Err(NotProbed(reason)),
        }
    }
}

/// Where one run of a target ends.
enum Ran {
    /// The observation.
    Done(Box<Observation>),
    /// A TCP connect attempt went unanswered and another is needed.
    Again(tcp::Connecting),
}

/// Runs `target` from where `connecting` stands (UDP probes always run to their verdict).
/// An open TCP target's identification follow-up runs here, right after its probe, in the
/// same task, holding the same place in the concurrency limit (as when `tcp` ran it).
async fn run(
    target: &Target,
    settings: &Settings,
    pressure: &Pressure,
    rtts: &RttTable,
    connecting: tcp::Connecting,
) -> Result<Ran, String> {
    match target.transport {
        Transport::Tcp => Ok(
            match tcp::probe(target, settings, pressure, rtts, connecting).await? {
                tcp::Progress::Done(observation) => Ran::Done(observation),
                tcp::Progress::Conversed(conversed) => {
                    Ran::Done(Box::new(identified(target, settings, *conversed).await))
                }
                tcp::Progress::Again(connecting) => Ran::Again(connecting),
            },
        ),
        Transport::Udp => udp::probe(target, settings, pressure)
            .await
            .map(|observation| Ran::Done(Box::new(observation))),
    }
}

/// An open TCP target after its first conversation: the identification follow-up, then the
/// comparison of the source address the stand-in listener saw with ours (the follow-up may
/// be what found the listener).
async fn identified(
    target: &Target,
    settings: &Settings,
    conversed: tcp::Conversed,
) -> Observation {
    let tcp::Conversed {
        mut observation,
        first,
        sent_from,
    } = conversed;
    identify::after_first(target, settings.timeout, &first, &mut observation).await;
    if let Some(sent_from) = sent_from {
        observation.compare_seen_source(sent_from);
    }
    observation
}
