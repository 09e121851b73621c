//! The UDP probe: a connected socket, the exchange's request, a bounded wait for replies,
//! and retries on silence.
//!
//! The socket is connected so the system reports an ICMP port-unreachable for it (as
//! `ECONNREFUSED` on Unix, `WSAECONNRESET` on Windows): that is `closed`. Any datagram back
//! is `open`, with the service when the exchange recognises it. Silence after every
//! retry is `open|filtered`, never `open`. An ICMP "prohibited" or "unreachable" is
//! `filtered`, as nmap reports it. The receive buffer is bounded by the exchange's
//! `max_len` and by the largest datagram.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use rdsports_wire::{Exchange, Progress};
use tokio::net::UdpSocket;
use tokio::time::{Instant, timeout_at};

use crate::model::{Observation, Settings, Target, Verdict};
use crate::socket::{Failure, Pressure, classify};
use crate::tcp::millis;

/// Probes one UDP target. `Err` only when no socket could be had at all (not probed).
pub(crate) async fn probe(
    target: &Target,
    settings: &Settings,
    pressure: &Pressure,
) -> Result<Observation, String> {
    let address = target.address;
    let socket = bound_socket(target, pressure).await?;
    if let Err(error) = socket.connect(address).await {
        return Ok(from_error(&error, 0, 0.0).unwrap_or_else(|| {
            filtered(
                0,
                0.0,
                format!("the socket could not be connected: {error}"),
            )
        }));
    }
    let sent_from = socket.local_addr().ok().map(|a| a.ip());
    let mut exchange: Option<Box<dyn Exchange>> = target.probe.as_ref().map(|factory| factory());
    let request = exchange.as_mut().map(|e| e.start()).unwrap_or_default();
    let max = exchange
        .as_ref()
        .map_or(MAX_DATAGRAM, |e| e.max_len())
        .clamp(1, MAX_DATAGRAM);
    let mut buffer = vec![0u8; max];
    let allowed = settings.retries.saturating_add(1);
    let mut sent = 0u32;
    let mut first_reply: Option<(f64, usize)> = None;
    let mut exhaustion_rounds = 0u32;
    let exhaustion_since = Instant::now();

    while sent < allowed && first_reply.is_none() {
        let started = Instant::now();
        if let Err(error) = socket.send(&request).await {
            if classify(&error) == Failure::Exhausted {
                pressure
                    .back_off(exhaustion_rounds, exhaustion_since)
                    .await?;
                exhaustion_rounds += 1;
                continue;
            }
            let rtt = millis(started.elapsed());
            return Ok(from_error(&error, sent + 1, rtt)
                .unwrap_or_else(|| filtered(sent + 1, rtt, format!("sending failed: {error}"))));
        }
        sent += 1;
        let deadline = started + settings.timeout;
        loop {
            let received = match timeout_at(deadline, socket.recv(&mut buffer)).await {
                Err(_elapsed) => break,
                Ok(Ok(n)) => n,
                Ok(Err(error)) => {
                    let rtt = millis(started.elapsed());
                    match from_error(&error, sent, rtt) {
                        Some(observation) => return Ok(observation),
                        // A transient receive error: keep waiting for this attempt.
                        None => {
                            tokio::time::sleep(Duration::from_millis(5)).await;
                            continue;
                        }
                    }
                }
            };
            let rtt = millis(started.elapsed());
            first_reply.get_or_insert((rtt, received));
            let Some(exchange) = exchange.as_mut() else {
                let mut observation = open(sent, rtt);
                observation
                    .detail
                    .insert("reply_bytes".into(), received.into());
                return Ok(observation);
            };
            let datagram = buffer.get(..received).unwrap_or_default();
            match exchange.on_bytes(datagram) {
                Progress::NeedMore => {}
                Progress::Send(bytes) => {
                    // The answer to this send is read in the same loop; a failure to send
                    // leaves the reply we have.
                    let _ = socket.send(&bytes).await;
                }
                Progress::Done(identification) => {
                    let mut observation = open(sent, rtt);
                    observation.service = identification.service.map(str::to_owned);
                    observation.detail.extend(identification.detail);
                    if let Some(note) = identification.note {
                        observation.add_note(note);
                    }
                    if let Some(sent_from) = sent_from {
                        observation.compare_seen_source(sent_from);
                    }
                    return Ok(observation);
                }
            }
        }
    }

    if let Some((rtt, bytes)) = first_reply {
        let mut observation = open(sent, rtt);
        observation
            .detail
            .insert("reply_bytes".into(), bytes.into());
        observation.add_note(format!(
            "a reply of {bytes} bytes came back but was not recognised as the expected protocol"
        ));
        return Ok(observation);
    }
    let mut observation = Observation::new(Verdict::OpenFiltered);
    observation.attempts = sent;
    observation.rtt_ms = millis(settings.timeout);
    observation.reason = Some(target.silence_reason.clone().unwrap_or_else(|| {
        format!(
            "no reply to {sent} datagram{} within {} ms each",
            if sent == 1 { "" } else { "s" },
            settings.timeout.as_millis()
        )
    }));
    Ok(observation)
}

/// A socket bound to the target's source address, or else to the wildcard address of the
/// target's family, waiting out descriptor exhaustion.
async fn bound_socket(target: &Target, pressure: &Pressure) -> Result<UdpSocket, String> {
    let local: SocketAddr = match target.source {
        Some(source) => (source, 0).into(),
        None if target.address.is_ipv4() => (Ipv4Addr::UNSPECIFIED, 0).into(),
        None => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let since = Instant::now();
    let mut round = 0u32;
    loop {
        match UdpSocket::bind(local).await {
            Ok(socket) => return Ok(socket),
            Err(error)
                if classify(&error) == Failure::Exhausted
                    && !crate::tcp::is_foreign_source(target, &error) =>
            {
                pressure.back_off(round, since).await?;
                round += 1;
            }
            Err(error) => return Err(crate::tcp::local(target, &error)),
        }
    }
}

/// The verdict an error from `connect`, `send` or `recv` decides, if any.
fn from_error(error: &io::Error, attempts: u32, rtt_ms: f64) -> Option<Observation> {
    // Windows reports an ICMP port-unreachable on a connected UDP socket as a reset.
    if error.kind() == io::ErrorKind::ConnectionReset {
        return Some(closed(attempts, rtt_ms));
    }
    match classify(error) {
        Failure::Refused => Some(closed(attempts, rtt_ms)),
        Failure::Blocked(reason) => Some(filtered(attempts, rtt_ms, reason)),
        Failure::Exhausted | Failure::TimedOut => None,
        Failure::Other(text) => Some(filtered(attempts, rtt_ms, text)),
    }
}

fn open(attempts: u32, rtt_ms: f64) -> Observation {
    let mut observation = Observation::new(Verdict::Open);
    observation.attempts = attempts;
    observation.rtt_ms = rtt_ms;
    observation.reason = Some("a datagram came back".into());
    observation
}

fn closed(attempts: u32, rtt_ms: f64) -> Observation {
    let mut observation = Observation::new(Verdict::Closed);
    observation.attempts = attempts;
    observation.rtt_ms = rtt_ms;
    observation.reason = Some("ICMP port unreachable".into());
    observation
}

fn filtered(attempts: u32, rtt_ms: f64, reason: String) -> Observation {
    let mut observation = Observation::new(Verdict::Filtered);
    observation.attempts = attempts;
    observation.rtt_ms = rtt_ms;
    observation.reason = Some(reason);
    observation
}

/// The largest UDP payload.
const MAX_DATAGRAM: usize = 65_535;
