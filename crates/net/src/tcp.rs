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

use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{Instant, sleep_until};

use rdsports_schema::check::facts;
use rdsports_wire::identify::Step;

use crate::conversation::{FirstConversation, converse};
use crate::model::{Observation, Settings, Target, TlsMode, Verdict, WaitReport};
use crate::rtt::{Adaptive, Basis, Estimate, RttTable, SYN_RETRANSMIT, syns_sent};
use crate::socket::{
    Failure, Pressure, classify, is_foreign_source, millis, new_socket, no_socket,
};
use crate::tls;

/// Where a TCP target's connect stands between two attempts.
///
/// [`probe`] hands it back after an unanswered attempt that needs another, so the engine
/// can give the socket to a target that has not started yet and run the next attempt when
/// one is free: the SYNs still needed are then spread over the rest of the run instead of
/// ending it, three after one another, on the last targets started. It is a few words (the
/// attempts made and their waits), not a waiting task.
#[derive(Debug, Default)]
pub(crate) struct Connecting {
    attempts: u32,
    waits: Waits,
}

/// What one call of [`probe`] ends with.
#[derive(Debug)]
pub(crate) enum Progress {
    /// The verdict.
    Done(Box<Observation>),
    /// Connected (`open`) and conversed: the identification follow-up is the caller's.
    Conversed(Box<Conversed>),
    /// The last attempt was not answered and another is needed.
    Again(Connecting),
}

/// An open target after its first conversation.
#[derive(Debug)]
pub(crate) struct Conversed {
    /// The observation so far.
    pub(crate) observation: Observation,
    /// What the conversation left for the identification follow-up.
    pub(crate) first: FirstConversation,
    /// The address the connection was made from, when known.
    pub(crate) sent_from: Option<IpAddr>,
}

/// Probes one TCP target, from where `connecting` stands: runs attempts until one is
/// answered or refused, silence is the verdict, or an unanswered attempt needs another
/// ([`Progress::Again`], to be passed back in). `Err` only when no socket could be had at
/// all (not probed).
pub(crate) async fn probe(
    target: &Target,
    settings: &Settings,
    pressure: &Pressure,
    rtts: &RttTable,
    connecting: Connecting,
) -> Result<Progress, String> {
    let address = target.address;
    let Connecting {
        mut attempts,
        mut waits,
    } = connecting;
    let mut exhaustion_rounds = 0u32;
    let exhaustion_since = Instant::now();
    // Set once an attempt of this call went unanswered: the next is left to the engine.
    let mut unanswered = false;
    let (stream, rtt) = loop {
        let own = rtts.get(address.ip()).own;
        let Some(wait) = waits.next(settings, &own, attempts) else {
            let mut observation = Observation::new(Verdict::Filtered);
            observation.attempts = attempts;
            observation.rtt_ms = millis(waits.last);
            observation.reason = Some(waits.silence(attempts, settings.timeout));
            observation.wait = Some(waits.report(settings, &own, true));
            return Ok(done(observation));
        };
        if unanswered {
            return Ok(Progress::Again(Connecting { attempts, waits }));
        }
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
                _ => return Err(no_socket(target, &error)),
            },
        };
        attempts += 1;
        let started = Instant::now();
        let attempt = connect_within(socket, address, wait, settings, rtts).await;
        waits.record(&attempt, settings.timeout);
        let result = attempt.result;
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
                observation.wait = Some(waits.report(settings, &rtts.get(address.ip()).own, false));
                return Ok(done(observation));
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
                        observation.wait =
                            Some(waits.report(settings, &rtts.get(address.ip()).own, false));
                        return Ok(done(observation));
                    }
                    Failure::Blocked(reason) => {
                        return Ok(done(unreachable(attempts, rtt, reason)));
                    }
                    Failure::Exhausted => {
                        attempts -= 1;
                        waits.forget();
                        pressure
                            .back_off(exhaustion_rounds, exhaustion_since)
                            .await?;
                        exhaustion_rounds += 1;
                    }
                    Failure::TimedOut => unanswered = true,
                    Failure::Other(text) => {
                        return Ok(done(unreachable(
                            attempts,
                            rtt,
                            format!("connect failed: {text}"),
                        )));
                    }
                }
            }
            None => unanswered = true,
        }
    };
    let mut observation = Observation::new(Verdict::Open);
    observation.attempts = attempts;
    observation.rtt_ms = millis(rtt);
    observation.reason = Some("connected".into());
    observation.wait = Some(waits.report(settings, &rtts.get(address.ip()).own, false));
    let sent_from = stream.local_addr().ok().map(|a| a.ip());
    // Boxed: the conversation's state (TLS, buffers) is allocated only for open ports.
    let first = Box::pin(converse_on(stream, target, settings, &mut observation)).await;
    Ok(Progress::Conversed(Box::new(Conversed {
        observation,
        first,
        sent_from,
    })))
}

fn done(observation: Observation) -> Progress {
    Progress::Done(Box::new(observation))
}

/// The connect waits of one target: how long each attempt may wait, and when silence is a
/// verdict.
///
/// Pinned (no [`Settings::adaptive`]): `retries + 1` attempts of `timeout` each.
///
/// Adaptive: each attempt waits what the estimate allows ([`Adaptive::choose`]; the full
/// timeout while there is none). Silence is counted in SYNs: a shortened wait is one SYN,
/// a full wait long enough for the system's own retransmission to be answered is two
/// ([`syns_sent`]; the pinned mode gets that second SYN for free). Silence is the verdict:
/// - after `retries + 1` attempts that all waited the full timeout (exactly as pinned);
/// - or after `retries + 2` SYNs (one more than pinned sends attempts, since shortened
///   waits are cheap: with 1 % loss each way two SYNs leave (2 %)^2 of the open ports
///   `filtered`, three (2 %)^3). When the destination's own estimate is confident, every
///   one of them waits what that estimate allows (it covers 1.25x the slowest of its
///   recent replies). Otherwise the last backs off to twice the wait, as TCP doubles its
///   timeout on a retransmission: a full wait followed by one backed-off confirmation is
///   enough (two SYNs and a third).
///
/// The run's first burst starts blind (no estimate): each such attempt waits the full
/// timeout unless the destination's own estimate becomes confident and then allows no
/// more than the attempt has waited ([`connect_within`]); that attempt then counts as one
/// shortened SYN, and the two SYNs after it wait that estimate.
///
/// The rule: a silence reached through shortened waits alone is confirmed at the
/// full timeout unless the destination's own estimate has
/// [`Adaptive::confident_samples`] samples when the verdict is due (evaluated then, not
/// when the first attempt started: by then its open and refused ports have usually
/// answered). A wait shortened by the run's estimate thus never decides `filtered` alone
/// for a destination that has not shown its own round trips.
#[derive(Debug, Default)]
struct Waits {
    /// The wait of the last attempt.
    last: Duration,
    /// Whether the last attempt's wait was shortened.
    last_shortened: bool,
    /// Attempts whose wait was the full timeout.
    full: u32,
    /// SYNs the unanswered attempts amount to.
    syns: u32,
    /// What the last attempt added to `syns` (taken back by [`Waits::forget`]).
    last_syns: u32,
}

impl Waits {
    /// The wait for attempt `attempts + 1`, or `None` when silence is the verdict. `own` is
    /// the destination's own estimate now.
    fn next(&self, settings: &Settings, own: &Estimate, attempts: u32) -> Option<Wait> {
        let allowed = settings.retries.saturating_add(1);
        let Some(adaptive) = settings.adaptive else {
            return (attempts < allowed).then_some(Wait::Fixed(settings.timeout));
        };
        if attempts >= allowed && self.full >= attempts {
            return None;
        }
        let needed = allowed.saturating_add(1);
        let confident = own.samples >= adaptive.confident_samples;
        if self.syns < needed {
            if self.syns.saturating_add(1) < needed {
                return Some(Wait::Adaptive(adaptive, 1));
            }
            // The last SYN needed: confirmed at the full timeout when nothing else would
            // be; at the destination's own estimate when that is confident (its own
            // round trips back the wait); else (a full wait, then the run's estimate)
            // backed off.
            if confident {
                return Some(Wait::Adaptive(adaptive, 1));
            }
            if self.full == 0 {
                return Some(Wait::Fixed(settings.timeout));
            }
            return Some(Wait::Adaptive(adaptive, 2));
        }
        if self.full > 0 || confident {
            return None;
        }
        Some(Wait::Fixed(settings.timeout))
    }

    fn record(&mut self, attempt: &Attempt, timeout: Duration) {
        self.last = attempt.waited;
        self.last_shortened = attempt.waited < timeout;
        if !self.last_shortened {
            self.full += 1;
        }
        self.last_syns = syns_sent(attempt.waited, attempt.estimate, SYN_RETRANSMIT);
        self.syns = self.syns.saturating_add(self.last_syns);
    }

    /// An attempt that never left (no resources): as if it was not made.
    fn forget(&mut self) {
        if !self.last_shortened {
            self.full = self.full.saturating_sub(1);
        }
        self.syns = self.syns.saturating_sub(self.last_syns);
        self.last_syns = 0;
    }

    fn silence(&self, attempts: u32, timeout: Duration) -> String {
        let plural = if attempts == 1 { "" } else { "s" };
        if self.full >= attempts {
            format!(
                "no answer to {attempts} connection attempt{plural} within {} ms each",
                timeout.as_millis()
            )
        } else if self.full == 0 {
            format!(
                "no answer to {attempts} connection attempt{plural} (adaptive waits, the last \
                 {} ms)",
                self.last.as_millis()
            )
        } else {
            format!(
                "no answer to {attempts} connection attempt{plural} (adaptive waits, confirmed \
                 at the full {} ms)",
                timeout.as_millis()
            )
        }
    }

    /// The record of the wait that decided: for `filtered` (`silence`), the full timeout
    /// when a wait at the full timeout took part, else the last shortened wait; for an
    /// answer, the answered attempt's wait.
    fn report(&self, settings: &Settings, own: &Estimate, silence: bool) -> WaitReport {
        let full = if silence {
            self.full > 0
        } else {
            !self.last_shortened
        };
        WaitReport {
            mode: if settings.adaptive.is_some() {
                "adaptive"
            } else {
                "pinned"
            }
            .into(),
            decided_by: if full { "full" } else { "adaptive" }.into(),
            wait_ms: millis(if full { settings.timeout } else { self.last }),
            samples: own.samples,
        }
    }
}

/// How long one connection attempt may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// This long.
    Fixed(Duration),
    /// What the estimate chosen when the attempt starts allows ([`Adaptive::choose`]),
    /// times the factor (at most the timeout), read again every [`RECHECK`] while waiting;
    /// the full timeout when no estimate is confident at the start, ended early once the
    /// destination's own estimate is confident and allows no more than was waited.
    Adaptive(Adaptive, u32),
}

/// How often a waiting adaptive attempt reads its estimate again.
const RECHECK: Duration = Duration::from_millis(25);

/// One connection attempt's outcome.
struct Attempt {
    /// The connect's result (`None`: the wait ran out).
    result: Option<io::Result<TcpStream>>,
    /// The wait that applied in the end.
    waited: Duration,
    /// The (unfactored) wait the estimate allowed at the end, when one was confident.
    estimate: Option<Duration>,
}

/// Connects within `wait`.
async fn connect_within(
    socket: TcpSocket,
    address: SocketAddr,
    wait: Wait,
    settings: &Settings,
    rtts: &RttTable,
) -> Attempt {
    let started = Instant::now();
    let ip = address.ip();
    // The estimate is chosen when the attempt starts and kept: one that becomes confident
    // while this attempt waits is made of the replies of the attempts started with it,
    // the fastest first, and taken at that moment would cut the slower ones short. A wait
    // read again may grow (the estimate takes in the slower replies) but never shrinks;
    // only a blind attempt (below) ends before its full timeout, and only once the
    // estimate it is held to has stopped growing.
    let chosen = match wait {
        Wait::Adaptive(adaptive, factor) => adaptive
            .choose(&rtts.get(ip))
            .map(|(basis, _)| (adaptive, factor, basis)),
        Wait::Fixed(_) => None,
    };
    let current = |adaptive: &Adaptive, basis: Basis| {
        let paths = rtts.get(ip);
        let estimate = match basis {
            Basis::Destination => paths.own,
            Basis::Run => paths.run,
        };
        estimate.wait(adaptive.min_wait, settings.timeout)
    };
    let mut limit = match (wait, chosen) {
        (Wait::Fixed(limit), _) => limit,
        (_, Some((adaptive, factor, basis))) => current(&adaptive, basis)
            .saturating_mul(factor)
            .min(settings.timeout),
        (Wait::Adaptive(..), None) => settings.timeout,
    };
    // An adaptive attempt that started blind (no confident estimate: the run's first
    // burst) ends once the destination's own estimate is confident and the attempt has
    // waited what that estimate allows now, as a later attempt would. Read again at every
    // check, not when it became confident: replies of one burst arrive sorted, so while
    // they keep coming the slowest recent one is close to the time waited and its margin
    // ([`crate::rtt::PEAK_MARGIN`]) keeps the attempt waiting; it ends only once no reply
    // came for a fifth of that time.
    let blind = match (wait, chosen) {
        (Wait::Adaptive(adaptive, factor), None) => Some((adaptive, factor)),
        _ => None,
    };
    let connect = socket.connect(address);
    tokio::pin!(connect);
    let result = loop {
        // Every adaptive wait reads its estimate again (`chosen` or `blind` is set).
        let wake = if matches!(wait, Wait::Adaptive(..)) {
            (started + limit).min(Instant::now() + RECHECK)
        } else {
            started + limit
        };
        tokio::select! {
            // The connect first: an answer that is in when the wait ends still counts.
            biased;
            result = &mut connect => break Some(result),
            () = sleep_until(wake) => {
                if let Some((adaptive, factor, basis)) = chosen {
                    let now = current(&adaptive, basis)
                        .saturating_mul(factor)
                        .min(settings.timeout);
                    limit = limit.max(now);
                }
                if let Some((adaptive, factor)) = blind {
                    let own = rtts.get(ip).own;
                    if own.samples >= adaptive.confident_samples {
                        let allowed = own
                            .wait(adaptive.min_wait, settings.timeout)
                            .saturating_mul(factor);
                        let waited = started.elapsed();
                        if waited >= allowed {
                            limit = waited.min(limit);
                        }
                    }
                }
                if Instant::now() >= started + limit {
                    break None;
                }
            }
        }
    };
    let estimate = settings.adaptive.and_then(|adaptive| {
        adaptive
            .choose(&rtts.get(ip))
            .map(|(_, e)| e.wait(adaptive.min_wait, settings.timeout))
    });
    Attempt {
        result,
        waited: limit,
        estimate,
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
                .insert(facts::TLS.into(), handshake.detail.into());
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
                    .insert(facts::TLS.into(), handshake.detail.into());
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

fn unreachable(attempts: u32, rtt_ms: f64, reason: String) -> Observation {
    let mut observation = Observation::new(Verdict::Filtered);
    observation.attempts = attempts;
    observation.rtt_ms = rtt_ms;
    observation.reason = Some(reason);
    observation
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Duration = Duration::from_millis(1500);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn settings(adaptive: bool) -> Settings {
        Settings {
            timeout: TIMEOUT,
            retries: 1,
            concurrency: 1,
            adaptive: adaptive.then(Adaptive::default),
        }
    }

    fn estimate(samples: u32) -> Estimate {
        let mut e = Estimate::default();
        for _ in 0..samples {
            e.add(ms(200));
        }
        e
    }

    /// An unanswered attempt that waited `waited`, the estimate then allowing `allowed`.
    fn silent(waited: Duration, allowed: Option<Duration>) -> Attempt {
        Attempt {
            result: None,
            waited,
            estimate: allowed,
        }
    }

    /// Runs the decisions to the verdict: each attempt waits what `wait_of` says for the
    /// wait asked; returns the waits asked for.
    fn decide(
        settings: &Settings,
        own: &dyn Fn(u32) -> Estimate,
        wait_of: &dyn Fn(Wait) -> Attempt,
    ) -> (Vec<Wait>, Waits) {
        let mut waits = Waits::default();
        let mut asked = Vec::new();
        let mut attempts = 0;
        while let Some(wait) = waits.next(settings, &own(attempts), attempts) {
            asked.push(wait);
            attempts += 1;
            waits.record(&wait_of(wait), settings.timeout);
            assert!(attempts < 10, "no verdict: {asked:?}");
        }
        (asked, waits)
    }

    /// A shortened attempt waits 300 ms (its factor times that); a fixed one its time.
    fn shortened(wait: Wait) -> Attempt {
        match wait {
            Wait::Fixed(limit) => silent(limit, Some(ms(300))),
            Wait::Adaptive(_, factor) => silent(ms(300) * factor, Some(ms(300))),
        }
    }

    #[test]
    fn pinned_makes_retries_plus_one_attempts_at_the_timeout() {
        let s = settings(false);
        let (asked, waits) = decide(&s, &|_| estimate(100), &shortened);
        assert_eq!(asked, vec![Wait::Fixed(TIMEOUT); 2]);
        let report = waits.report(&s, &estimate(100), true);
        assert_eq!(report.mode, "pinned");
        assert_eq!(report.decided_by, "full");
        assert_eq!(report.wait_ms, 1500.0);
        assert_eq!(
            waits.silence(2, TIMEOUT),
            "no answer to 2 connection attempts within 1500 ms each"
        );
    }

    #[test]
    fn a_confident_destination_is_decided_by_three_shortened_syns() {
        let s = settings(true);
        let a = Adaptive::default();
        let (asked, waits) = decide(&s, &|_| estimate(16), &shortened);
        assert_eq!(asked, vec![Wait::Adaptive(a, 1); 3]);
        let report = waits.report(&s, &estimate(16), true);
        assert_eq!(report.decided_by, "adaptive");
        assert_eq!(report.wait_ms, 300.0);
        assert_eq!(report.samples, 16);
        assert_eq!(
            waits.silence(3, TIMEOUT),
            "no answer to 3 connection attempts (adaptive waits, the last 300 ms)"
        );
    }

    /// Without retries: two SYNs, both at the confident destination's own estimate.
    #[test]
    fn no_retries_is_two_shortened_syns_for_a_confident_destination() {
        let mut s = settings(true);
        s.retries = 0;
        let a = Adaptive::default();
        let (asked, _) = decide(&s, &|_| estimate(16), &shortened);
        assert_eq!(asked, vec![Wait::Adaptive(a, 1); 2]);
    }

    /// Shortened by the run's estimate while the destination has too few samples of its
    /// own: the last SYN needed is sent at the full timeout (the rule), and that
    /// full wait decides.
    #[test]
    fn shortened_waits_without_a_confident_own_estimate_are_confirmed_at_the_full_timeout() {
        let s = settings(true);
        let a = Adaptive::default();
        let (asked, waits) = decide(&s, &|_| estimate(3), &shortened);
        assert_eq!(
            asked,
            vec![
                Wait::Adaptive(a, 1),
                Wait::Adaptive(a, 1),
                Wait::Fixed(TIMEOUT)
            ]
        );
        let report = waits.report(&s, &estimate(3), true);
        assert_eq!(report.decided_by, "full");
        assert_eq!(report.wait_ms, 1500.0);
        assert_eq!(
            waits.silence(3, TIMEOUT),
            "no answer to 3 connection attempts (adaptive waits, confirmed at the full 1500 ms)"
        );
    }

    /// Confidence is read when the verdict is due: a destination whose own estimate filled
    /// up during the first two attempts needs no full-timeout confirmation.
    #[test]
    fn confidence_is_evaluated_when_the_last_wait_is_chosen() {
        let s = settings(true);
        let a = Adaptive::default();
        let own = |attempts: u32| estimate(if attempts < 2 { 0 } else { 40 });
        let (asked, waits) = decide(&s, &own, &shortened);
        assert_eq!(asked, vec![Wait::Adaptive(a, 1); 3]);
        assert_eq!(waits.report(&s, &estimate(40), true).decided_by, "adaptive");
    }

    /// The first attempts of a run have no estimate: the full timeout, during which the
    /// system retransmits the SYN at 1 s. Those two SYNs and one backed-off confirmation
    /// decide (not two more attempts as before).
    #[test]
    fn a_full_wait_with_the_systems_retransmission_needs_one_backed_off_confirmation() {
        let s = settings(true);
        let a = Adaptive::default();
        // Only the first attempt starts without an estimate (converted to the full
        // timeout); the later ones are shortened by the estimate made meanwhile.
        let made = std::cell::Cell::new(0u32);
        let first_full = |wait: Wait| {
            made.set(made.get() + 1);
            match wait {
                Wait::Adaptive(_, 1) if made.get() == 1 => silent(TIMEOUT, Some(ms(300))),
                other => shortened(other),
            }
        };
        let (asked, waits) = decide(&s, &|_| estimate(0), &first_full);
        if SYN_RETRANSMIT.is_some() {
            assert_eq!(asked, vec![Wait::Adaptive(a, 1), Wait::Adaptive(a, 2)]);
        } else {
            // No known retransmission (Windows): the full wait is one SYN.
            assert_eq!(
                asked,
                vec![
                    Wait::Adaptive(a, 1),
                    Wait::Adaptive(a, 1),
                    Wait::Adaptive(a, 2)
                ]
            );
        }
        assert_eq!(waits.syns, 3);
        let report = waits.report(&s, &estimate(0), true);
        assert_eq!(report.decided_by, "full");
        assert_eq!(report.wait_ms, 1500.0);
    }

    /// No estimate ever (a destination and a run with nothing that answers): as pinned,
    /// `retries + 1` attempts at the full timeout.
    #[test]
    fn without_any_estimate_adaptive_is_pinned() {
        let s = settings(true);
        let a = Adaptive::default();
        let blind = |wait: Wait| match wait {
            Wait::Fixed(limit) => silent(limit, None),
            Wait::Adaptive(..) => silent(TIMEOUT, None),
        };
        let (asked, waits) = decide(&s, &|_| Estimate::default(), &blind);
        assert_eq!(asked, vec![Wait::Adaptive(a, 1), Wait::Adaptive(a, 1)]);
        assert_eq!(waits.full, 2);
        assert_eq!(
            waits.silence(2, TIMEOUT),
            "no answer to 2 connection attempts within 1500 ms each"
        );
    }

    #[test]
    fn an_attempt_that_never_left_is_forgotten() {
        let mut waits = Waits::default();
        waits.record(&silent(TIMEOUT, Some(ms(100))), TIMEOUT);
        let syns = waits.syns;
        waits.record(&silent(TIMEOUT, Some(ms(100))), TIMEOUT);
        waits.forget();
        assert_eq!((waits.full, waits.syns), (1, syns));
        waits.record(&silent(ms(100), Some(ms(100))), TIMEOUT);
        waits.forget();
        assert_eq!((waits.full, waits.syns), (1, syns));
    }

    #[test]
    fn an_answer_reports_the_wait_of_the_attempt_that_got_it() {
        let s = settings(true);
        let mut waits = Waits::default();
        waits.record(&silent(TIMEOUT, None), TIMEOUT);
        waits.record(&silent(ms(250), Some(ms(250))), TIMEOUT);
        let report = waits.report(&s, &estimate(20), false);
        assert_eq!(report.decided_by, "adaptive");
        assert_eq!(report.wait_ms, 250.0);
        waits.record(&silent(TIMEOUT, None), TIMEOUT);
        assert_eq!(waits.report(&s, &estimate(20), false).decided_by, "full");
    }
}
