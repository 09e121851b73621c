//! The TCP probe: connect (with retries), then TLS and the protocol exchange as the target
//! asks, all bounded by the per-probe timeout.
//!
//! Verdicts: a completed handshake is `open` (also when the peer resets before connect
//! returns); a reset instead of a SYN-ACK is `refused`; silence after every attempt, or
//! an ICMP "unreachable"/"prohibited" (or a local firewall's refusal), is `filtered` with
//! the reason. What happens after the connection is established never changes the verdict:
//! a peer that sends garbage, nothing, too much, resets or sends a TLS alert leaves an
//! `open` verdict with a note and, when nothing we know answered, no service. Sockets are
//! closed with `SO_LINGER` 0 (a reset, no TIME_WAIT left behind).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use socket2::SockRef;
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, sleep_until};

use rdsports_wire::identify::Step;

use crate::conversation::converse;
use crate::identify;
use crate::model::{Observation, Settings, Target, TlsMode, Verdict, WaitReport};
use crate::rtt::{Adaptive, Estimate, RttTable};
use crate::socket::{Failure, Pressure, classify};
use crate::tls;

/// Probes one TCP target. `Err` only when no socket could be had at all (not probed).
pub(crate) async fn probe(
    target: &Target,
    settings: &Settings,
    pressure: &Pressure,
    rtts: &RttTable,
) -> Result<Observation, String> {
    let address = target.address;
    let allowed = settings.retries.saturating_add(1);
    let mut attempts = 0u32;
    let mut exhaustion_rounds = 0u32;
    let exhaustion_since = Instant::now();
    let mut waits = Waits::default();
    let (stream, rtt) = loop {
        let estimate = rtts.get(address.ip());
        let Some(wait) = waits.next(settings, &estimate, attempts, allowed) else {
            let mut observation = Observation::new(Verdict::Filtered);
            observation.attempts = attempts;
            observation.rtt_ms = millis(waits.last);
            observation.reason = Some(waits.silence(attempts, settings.timeout));
            observation.wait = Some(waits.report(settings, &estimate));
            return Ok(observation);
        };
        let socket = match new_socket(address, target.source) {
            Ok(socket) => socket,
            Err(error) => match classify(&error) {
                Failure::Exhausted if !is_foreign_source(target, &error) => {
                    pressure
                        .back_off(exhaustion_rounds, exhaustion_since)
                        .await?;
                    exhaustion_rounds += 1;
                    continue;
                }
                _ => return Err(local(target, &error)),
            },
        };
        attempts += 1;
        let started = Instant::now();
        let (result, waited) = connect_within(socket, address, wait, settings, rtts).await;
        waits.record(waited, settings.timeout);
        match result {
            Some(Ok(stream)) => {
                let elapsed = started.elapsed();
                rtts.add(address.ip(), elapsed);
                break (stream, elapsed);
            }
            Some(Err(error)) if reset_after_handshake(&error) => {
                // The SYN-ACK came (something listens) and the peer reset before connect
                // returned: that is `open`, never `filtered`.
                let elapsed = started.elapsed();
                rtts.add(address.ip(), elapsed);
                let mut observation = Observation::new(Verdict::Open);
                observation.attempts = attempts;
                observation.rtt_ms = millis(elapsed);
                observation.reason = Some("connected, then reset by the peer".into());
                observation.add_note("the peer completed the handshake, then reset the connection");
                observation.wait = Some(waits.report(settings, &rtts.get(address.ip())));
                return Ok(observation);
            }
            Some(Err(error)) => {
                let elapsed = started.elapsed();
                let rtt = millis(elapsed);
                match classify(&error) {
                    Failure::Refused => {
                        rtts.add(address.ip(), elapsed);
                        let mut observation = Observation::new(Verdict::Refused);
                        observation.attempts = attempts;
                        observation.rtt_ms = rtt;
                        observation.reason = Some("connection refused (reset)".into());
                        observation.wait = Some(waits.report(settings, &rtts.get(address.ip())));
                        return Ok(observation);
                    }
                    Failure::Blocked(reason) => return Ok(unreachable(attempts, rtt, reason)),
                    Failure::Exhausted => {
                        attempts -= 1;
                        waits.forget();
                        pressure
                            .back_off(exhaustion_rounds, exhaustion_since)
                            .await?;
                        exhaustion_rounds += 1;
                    }
                    Failure::TimedOut => {}
                    Failure::Other(text) => {
                        return Ok(unreachable(
                            attempts,
                            rtt,
                            format!("connect failed: {text}"),
                        ));
                    }
                }
            }
            None => {}
        }
    };
    let mut observation = Observation::new(Verdict::Open);
    observation.attempts = attempts;
    observation.rtt_ms = millis(rtt);
    observation.reason = Some("connected".into());
    observation.wait = Some(waits.report(settings, &rtts.get(address.ip())));
    let sent_from = stream.local_addr().ok().map(|a| a.ip());
    // Boxed: the conversation's state (TLS, buffers) is allocated only for open ports.
    let first = Box::pin(converse_on(stream, target, settings, &mut observation)).await;
    if let Some(identify) = &target.identify {
        let answered = observation.service.as_deref();
        let expected = answered == Some(identify.expects) || answered == Some("rdsports-listener");
        // A TLS session whose inside was not the protocol: TLS is what answers.
        let spoke_tls = target.tls == TlsMode::Direct && answered == Some("tls");
        if !expected && !spoke_tls {
            Box::pin(identify::follow_up(
                target,
                identify,
                settings.timeout,
                &first.tried,
                &first.head,
                first.received,
                &mut observation,
            ))
            .await;
        }
    }
    if let Some(sent_from) = sent_from {
        observation.compare_seen_source(sent_from);
    }
    Ok(observation)
}

/// What the first conversation left for the identification follow-up.
#[derive(Default)]
struct FirstConversation {
    /// The steps it amounts to (the expected service's, TLS when it spoke TLS first).
    tried: Vec<Step>,
    /// Its first bytes.
    head: Vec<u8>,
    /// Bytes received in all.
    received: usize,
}

/// The connect waits of one target: how long each attempt may wait, and when silence is a
/// verdict.
///
/// Pinned (no [`Settings::adaptive`]): `retries + 1` attempts of `timeout` each. Adaptive:
/// each attempt waits what the destination's estimate allows, read again while it waits
/// (the full timeout as long as there is no sample). Shortened waits are cheap, so silence after them needs `retries + 2` attempts
/// (the pinned mode gets one more SYN from the kernel's own retransmission at 1 s for
/// free), and, while the estimate has fewer than [`Adaptive::confident_samples`]
/// samples, one more attempt at the full timeout to confirm.
#[derive(Debug, Default)]
struct Waits {
    /// The wait of the last attempt.
    last: Duration,
    /// Whether the last attempt's wait was shortened.
    last_shortened: bool,
    /// Attempts whose wait was the full timeout.
    full: u32,
}

impl Waits {
    /// The wait for attempt `attempts + 1`, or `None` when silence is the verdict.
    fn next(
        &self,
        settings: &Settings,
        estimate: &Estimate,
        attempts: u32,
        allowed: u32,
    ) -> Option<Wait> {
        let Some(adaptive) = settings.adaptive else {
            return (attempts < allowed).then_some(Wait::Fixed(settings.timeout));
        };
        let shortened = Wait::Adaptive(adaptive, 1);
        if attempts < allowed {
            return Some(shortened);
        }
        // Silence so far: enough to decide?
        if self.full > 0 && !self.last_shortened {
            return None;
        }
        if estimate.samples < adaptive.confident_samples {
            return Some(Wait::Fixed(settings.timeout));
        }
        // The extra attempt backs off to twice the wait, as TCP doubles its timeout on a
        // retransmission: a reply slower than the estimate still makes it.
        let enough = allowed.saturating_add(1);
        (attempts < enough).then_some(Wait::Adaptive(adaptive, 2))
    }

    fn record(&mut self, wait: Duration, timeout: Duration) {
        self.last = wait;
        self.last_shortened = wait < timeout;
        if wait >= timeout {
            self.full += 1;
        }
    }

    /// An attempt that never left (no resources): as if it was not made.
    fn forget(&mut self) {
        if !self.last_shortened {
            self.full = self.full.saturating_sub(1);
        }
    }

    fn silence(&self, attempts: u32, timeout: Duration) -> String {
        let plural = if attempts == 1 { "" } else { "s" };
        if self.last_shortened {
            format!(
                "no answer to {attempts} connection attempt{plural} (adaptive waits, the last \
                 {} ms)",
                self.last.as_millis()
            )
        } else if self.full < attempts {
            format!(
                "no answer to {attempts} connection attempt{plural} (the last confirmed at the \
                 full {} ms)",
                timeout.as_millis()
            )
        } else {
            format!(
                "no answer to {attempts} connection attempt{plural} within {} ms each",
                timeout.as_millis()
            )
        }
    }

    fn report(&self, settings: &Settings, estimate: &Estimate) -> WaitReport {
        WaitReport {
            mode: if settings.adaptive.is_some() {
                "adaptive"
            } else {
                "pinned"
            }
            .into(),
            decided_by: if self.last_shortened {
                "adaptive"
            } else {
                "full"
            }
            .into(),
            wait_ms: millis(self.last),
            samples: estimate.samples,
        }
    }
}

/// How long one connection attempt may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// This long.
    Fixed(Duration),
    /// What the destination's estimate allows, times the factor (at least the minimum,
    /// at most the timeout), read again every [`RECHECK`] while waiting. An attempt that
    /// starts before the estimate has [`Adaptive::confident_samples`] samples waits the
    /// full timeout: the first replies to arrive are the fastest ones, and an estimate
    /// made of them alone is short.
    Adaptive(Adaptive, u32),
}

/// How often a waiting adaptive attempt reads its destination's estimate again.
const RECHECK: Duration = Duration::from_millis(25);

/// Connects within `wait`. Returns the connect's result (`None`: the wait ran out) and the
/// wait that applied in the end.
async fn connect_within(
    socket: TcpSocket,
    address: SocketAddr,
    wait: Wait,
    settings: &Settings,
    rtts: &RttTable,
) -> (Option<io::Result<TcpStream>>, Duration) {
    let started = Instant::now();
    // An attempt that starts before the estimate is confident keeps the full timeout: the
    // replies that make the estimate first are the fastest of the attempts in flight with
    // it, and would cut the slower ones short.
    let wait = match wait {
        Wait::Adaptive(adaptive, _)
            if rtts.get(address.ip()).samples < adaptive.confident_samples =>
        {
            Wait::Fixed(settings.timeout)
        }
        other => other,
    };
    let connect = socket.connect(address);
    tokio::pin!(connect);
    loop {
        let (limit, wake) = match wait {
            Wait::Fixed(limit) => (limit, started + limit),
            Wait::Adaptive(adaptive, factor) => {
                let estimate = rtts.get(address.ip());
                let limit = if estimate.samples < adaptive.confident_samples {
                    settings.timeout
                } else {
                    estimate
                        .wait(adaptive.min_wait, settings.timeout)
                        .saturating_mul(factor)
                        .min(settings.timeout)
                };
                (limit, (started + limit).min(Instant::now() + RECHECK))
            }
        };
        tokio::select! {
            result = &mut connect => return (Some(result), limit),
            () = sleep_until(wake) => {
                if Instant::now() >= started + limit {
                    return (None, limit);
                }
            }
        }
    }
}

/// Runs TLS and the exchange on an established connection, filling `observation`.
async fn converse_on(
    stream: TcpStream,
    target: &Target,
    settings: &Settings,
    observation: &mut Observation,
) -> FirstConversation {
    let mut first = FirstConversation::default();
    if let Some(step) = target
        .identify
        .as_ref()
        .and_then(|i| Step::for_service(i.expects))
    {
        first.tried.push(step);
    }
    let deadline = Instant::now() + settings.timeout;
    let timeout_ms = settings.timeout.as_millis();
    let peer = target.address.ip();
    let name = target.server_name.as_deref();
    match (target.tls, &target.probe) {
        (TlsMode::Direct, probe) => {
            // The plain protocol was not tried: only TLS was.
            first.tried = vec![Step::Tls];
            let handshake = tls::handshake(stream, name, peer, deadline).await;
            if handshake.spoke_tls {
                observation.service = Some("tls".into());
            }
            if let Some(note) = &handshake.note {
                observation.add_note(note);
            }
            observation
                .detail
                .insert("tls".into(), handshake.detail.into());
            if let (Some(mut session), Some(factory)) = (handshake.stream, probe) {
                let mut exchange = factory();
                let talk = converse(&mut session, exchange.as_mut(), deadline).await;
                first.received = talk.received;
                first.head.clone_from(&talk.head);
                apply(observation, talk.into_identification(timeout_ms));
            }
        }
        (mode, Some(factory)) => {
            let mut stream = stream;
            let mut exchange = factory();
            let talk = converse(&mut stream, exchange.as_mut(), deadline).await;
            first.received = talk.received;
            first.head.clone_from(&talk.head);
            let identification = talk.into_identification(timeout_ms);
            let upgrade = identification.upgrade_tls && mode == TlsMode::AfterExchange;
            apply(observation, identification);
            if upgrade {
                let handshake = tls::handshake(stream, name, peer, deadline).await;
                if let Some(note) = &handshake.note {
                    observation.add_note(note);
                }
                observation
                    .detail
                    .insert("tls".into(), handshake.detail.into());
            }
        }
        (_, None) => {}
    }
    first
}

/// Merges an exchange's identification: its service wins over a provisional one.
fn apply(observation: &mut Observation, identification: rdsports_wire::Identification) {
    if let Some(service) = identification.service {
        observation.service = Some(service.to_owned());
    }
    observation.detail.extend(identification.detail);
    if let Some(note) = identification.note {
        observation.add_note(note);
    }
}

/// A connect that failed with a reset or an abort: the handshake completed (a reset instead
/// of a SYN-ACK is ECONNREFUSED, WSAECONNREFUSED on Windows), then the peer reset before the
/// connect was seen to finish.
fn reset_after_handshake(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
    )
}

/// A socket that closes with a reset, bound to `source` when one is given.
pub(crate) fn new_socket(address: SocketAddr, source: Option<IpAddr>) -> io::Result<TcpSocket> {
    let socket = if address.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    SockRef::from(&socket).set_linger(Some(Duration::ZERO))?;
    if let Some(source) = source {
        socket.bind(SocketAddr::new(source, 0))?;
    }
    Ok(socket)
}

/// A bind to a source address that is not on this machine (not a lack of ports).
pub(crate) fn is_foreign_source(target: &Target, error: &io::Error) -> bool {
    target.source.is_some() && error.kind() == io::ErrorKind::AddrNotAvailable
}

fn unreachable(attempts: u32, rtt_ms: f64, reason: String) -> Observation {
    let mut observation = Observation::new(Verdict::Filtered);
    observation.attempts = attempts;
    observation.rtt_ms = rtt_ms;
    observation.reason = Some(reason);
    observation
}

pub(crate) fn local(target: &Target, error: &io::Error) -> String {
    match target.source {
        Some(source) => {
            format!("not probed: no socket could be opened here from {source}: {error}")
        }
        None => format!("not probed: no socket could be opened here: {error}"),
    }
}

pub(crate) fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
