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
use tokio::time::{Instant, timeout};

use crate::conversation::converse;
use crate::model::{Observation, Settings, Target, TlsMode, Verdict};
use crate::socket::{Failure, Pressure, classify};
use crate::tls;

/// Probes one TCP target. `Err` only when no socket could be had at all (not probed).
pub(crate) async fn probe(
    target: &Target,
    settings: &Settings,
    pressure: &Pressure,
) -> Result<Observation, String> {
    let address = target.address;
    let allowed = settings.retries.saturating_add(1);
    let mut attempts = 0u32;
    let mut exhaustion_rounds = 0u32;
    let exhaustion_since = Instant::now();
    let (stream, rtt) = loop {
        if attempts >= allowed {
            let mut observation = Observation::new(Verdict::Filtered);
            observation.attempts = attempts;
            observation.rtt_ms = millis(settings.timeout);
            observation.reason = Some(format!(
                "no answer to {attempts} connection attempt{} within {} ms each",
                if attempts == 1 { "" } else { "s" },
                settings.timeout.as_millis()
            ));
            return Ok(observation);
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
                _ => return Err(local(target, &error)),
            },
        };
        attempts += 1;
        let started = Instant::now();
        match timeout(settings.timeout, socket.connect(address)).await {
            Ok(Ok(stream)) => break (stream, started.elapsed()),
            Ok(Err(error)) if reset_after_handshake(&error) => {
                // The SYN-ACK came (something listens) and the peer reset before connect
                // returned: that is `open`, never `filtered`.
                let mut observation = Observation::new(Verdict::Open);
                observation.attempts = attempts;
                observation.rtt_ms = millis(started.elapsed());
                observation.reason = Some("connected, then reset by the peer".into());
                observation.add_note("the peer completed the handshake, then reset the connection");
                return Ok(observation);
            }
            Ok(Err(error)) => {
                let rtt = millis(started.elapsed());
                match classify(&error) {
                    Failure::Refused => {
                        let mut observation = Observation::new(Verdict::Refused);
                        observation.attempts = attempts;
                        observation.rtt_ms = rtt;
                        observation.reason = Some("connection refused (reset)".into());
                        return Ok(observation);
                    }
                    Failure::Blocked(reason) => return Ok(unreachable(attempts, rtt, reason)),
                    Failure::Exhausted => {
                        attempts -= 1;
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
            Err(_elapsed) => {}
        }
    };
    let mut observation = Observation::new(Verdict::Open);
    observation.attempts = attempts;
    observation.rtt_ms = millis(rtt);
    observation.reason = Some("connected".into());
    // Boxed: the conversation's state (TLS, buffers) is allocated only for open ports.
    Box::pin(converse_on(stream, target, settings, &mut observation)).await;
    Ok(observation)
}

/// Runs TLS and the exchange on an established connection, filling `observation`.
async fn converse_on(
    stream: TcpStream,
    target: &Target,
    settings: &Settings,
    observation: &mut Observation,
) {
    let deadline = Instant::now() + settings.timeout;
    let timeout_ms = settings.timeout.as_millis();
    let sent_from = stream.local_addr().ok().map(|a| a.ip());
    let peer = target.address.ip();
    let name = target.server_name.as_deref();
    match (target.tls, &target.probe) {
        (TlsMode::Direct, probe) => {
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
                apply(observation, talk.into_identification(timeout_ms));
            }
        }
        (mode, Some(factory)) => {
            let mut stream = stream;
            let mut exchange = factory();
            let talk = converse(&mut stream, exchange.as_mut(), deadline).await;
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
    if let Some(sent_from) = sent_from {
        observation.compare_seen_source(sent_from);
    }
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
fn new_socket(address: SocketAddr, source: Option<IpAddr>) -> io::Result<TcpSocket> {
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
