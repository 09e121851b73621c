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
use crate::socket::{Failure, Pressure, classify, is_foreign_source, millis, no_socket};

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
            let received = match receive_until(&socket, &mut buffer, deadline).await {
                Received::Deadline => break,
                Received::Bytes(n) => n,
                Received::Error(error) => {
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
                if classify(&error) == Failure::Exhausted && !is_foreign_source(target, &error) =>
            {
                pressure.back_off(round, since).await?;
                round += 1;
            }
            Err(error) => return Err(no_socket(target, &error)),
        }
    }
}

/// How one wait for a datagram ended.
#[derive(Debug)]
enum Received {
    Bytes(usize),
    Error(io::Error),
    Deadline,
}

/// A socket as [`receive_until`] sees it: one receive, which may fail with "would block".
trait Receiver {
    fn receive(&self, buffer: &mut [u8]) -> impl std::future::Future<Output = io::Result<usize>>;
}

impl Receiver for UdpSocket {
    async fn receive(&self, buffer: &mut [u8]) -> io::Result<usize> {
        // Data or an error condition (an ICMP port unreachable is an error, not data), then one
        // read: a "would block" goes back to `receive_until`, which paces the retries. tokio's
        // own `recv` retries inside one poll and never yields where readiness lies (Wine).
        self.ready(tokio::io::Interest::READABLE | tokio::io::Interest::ERROR)
            .await?;
        if let Some(error) = self.take_error()? {
            return Err(error);
        }
        self.try_recv(buffer)
    }
}

/// Waits for one datagram until `deadline`, whatever the socket says. The deadline is
/// checked on the clock before every receive, not only by a timer racing the read, and a
/// socket that returns "would block" again and again (Wine's does, about 4,000 times a
/// second) is retried in [`SPURIOUS_PAUSE`] steps after [`SPURIOUS_BEFORE_PAUSE`] empty
/// returns: the wait ends at the deadline and does not spin.
async fn receive_until<R: Receiver>(socket: &R, buffer: &mut [u8], deadline: Instant) -> Received {
    let mut empty = 0u32;
    loop {
        if Instant::now() >= deadline {
            return Received::Deadline;
        }
        match timeout_at(deadline, socket.receive(buffer)).await {
            Err(_elapsed) => return Received::Deadline,
            Ok(Ok(n)) => return Received::Bytes(n),
            Ok(Err(error)) if error.kind() == io::ErrorKind::WouldBlock => {
                empty = empty.saturating_add(1);
                if empty >= SPURIOUS_BEFORE_PAUSE {
                    let until = (Instant::now() + SPURIOUS_PAUSE).min(deadline);
                    tokio::time::sleep_until(until).await;
                }
            }
            Ok(Err(error)) => return Received::Error(error),
        }
    }
}

/// Empty wake-ups (readable, then would-block) taken at full speed before pausing between them.
const SPURIOUS_BEFORE_PAUSE: u32 = 8;
/// The pause between empty wake-ups after that.
const SPURIOUS_PAUSE: Duration = Duration::from_millis(2);

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

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// A socket that always returns "would block" at once (what Wine's does).
    struct Spurious {
        reads: Cell<u32>,
    }

    impl Receiver for Spurious {
        async fn receive(&self, _buffer: &mut [u8]) -> io::Result<usize> {
            self.reads.set(self.reads.get() + 1);
            Err(io::ErrorKind::WouldBlock.into())
        }
    }

    #[tokio::test]
    async fn a_socket_that_never_delivers_ends_at_the_deadline_without_spinning() {
        let socket = Spurious {
            reads: Cell::new(0),
        };
        let wait = Duration::from_millis(100);
        let deadline = Instant::now() + wait;
        let mut buffer = [0u8; 16];
        let received = receive_until(&socket, &mut buffer, deadline).await;
        assert!(matches!(received, Received::Deadline), "{received:?}");
        assert!(Instant::now() >= deadline);
        // At most the fast wake-ups plus one per pause (a spin would be millions).
        let bound =
            SPURIOUS_BEFORE_PAUSE as u128 + wait.as_millis() / SPURIOUS_PAUSE.as_millis() + 2;
        assert!(
            u128::from(socket.reads.get()) <= bound,
            "{} reads in {wait:?}",
            socket.reads.get()
        );
    }

    /// Readable once with a datagram, or an error from the system.
    struct Once(Cell<Option<io::Result<usize>>>);

    impl Receiver for Once {
        async fn receive(&self, _buffer: &mut [u8]) -> io::Result<usize> {
            self.0
                .take()
                .unwrap_or_else(|| Err(io::ErrorKind::WouldBlock.into()))
        }
    }

    #[tokio::test]
    async fn a_datagram_or_an_error_ends_the_wait() {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut buffer = [0u8; 16];
        let got = receive_until(&Once(Cell::new(Some(Ok(7)))), &mut buffer, deadline).await;
        assert!(matches!(got, Received::Bytes(7)), "{got:?}");
        // WSAECONNRESET: the ICMP port unreachable Windows reports on the next receive.
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        let got = receive_until(&Once(Cell::new(Some(Err(reset)))), &mut buffer, deadline).await;
        let Received::Error(error) = got else {
            panic!("{got:?}")
        };
        let observation = from_error(&error, 1, 0.1).expect("a verdict");
        assert_eq!(observation.verdict, Verdict::Closed);
    }

    #[tokio::test]
    async fn a_deadline_already_past_returns_at_once() {
        let socket = Spurious {
            reads: Cell::new(0),
        };
        let mut buffer = [0u8; 16];
        let got = receive_until(&socket, &mut buffer, Instant::now()).await;
        assert!(matches!(got, Received::Deadline));
        assert_eq!(socket.reads.get(), 0);
    }
}
