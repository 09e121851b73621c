//! The listener side of the rdsports handshake: stand-in TCP listeners and UDP responders
//! on the ports a host must accept, for `rdsports listen` and `rdsports demo`.
//!
//! [`open`] binds every requested port and says, per port, whether it is listening, already
//! in use (a real service is there), denied (a privileged port without the privilege) or
//! failed. [`Listeners::serve`] then answers until a [`Cancel`] fires, reporting each
//! contact through a callback:
//!
//! * TCP: at most [`ListenConfig::max_connections`] connections are held at a time, at most
//!   a quarter of them from one source. A new peer is always accepted: when the limit (or
//!   its source's share) is reached, the oldest idle connection (nothing received yet; else
//!   the oldest) is closed to make room, so a flood of idle connections cannot lock out a
//!   genuine handshake. Each connection reads at most [`listener::REQUEST_LEN`] bytes within
//!   [`ListenConfig::read_timeout`] (1 s while more than half the slots are taken), answers a
//!   valid request with the nonce, the host name, the port and the source address it saw,
//!   and closes.
//! * UDP: only a well-formed request is answered ([`udp_reply`]), never with more bytes than
//!   the request had, so a spoofed request cannot be amplified; replies are rate-limited
//!   per port ([`ListenConfig::udp_replies_per_second`], in every one-second window) and one
//!   source gets at most a tenth of them, so a new source is still answered during a flood.
//!
//! What it does not do: execute, store or echo what it receives (a contact keeps only a
//! byte count and the first [`HEAD_LEN`] bytes as hex for the log line), add firewall
//! rules, or decide which ports to open (the caller plans that).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rdsports_wire::listener::{self, RequestCheck};
use socket2::{Domain, Socket, Type};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout_at};

use crate::cancel::Cancel;
use crate::model::Transport;

/// What to listen on and how.
#[derive(Debug, Clone)]
pub struct ListenConfig {
    /// The address to bind: the host's own address, or a wildcard (`0.0.0.0`, `::`).
    pub address: IpAddr,
    /// The host name put into replies (cut to [`listener::MAX_HOST_LEN`] bytes).
    pub host: String,
    /// The ports to open, each with its transport. Duplicates are opened once.
    pub ports: Vec<(Transport, u16)>,
    /// The most TCP connections handled at a time, over all ports (at least 1).
    pub max_connections: usize,
    /// How long a TCP peer may take to send its request.
    pub read_timeout: Duration,
    /// The most UDP replies per second and port (at least 1).
    pub udp_replies_per_second: u32,
}

impl ListenConfig {
    /// A configuration with the defaults: 256 connections, a 5 s read timeout, 100 UDP
    /// replies per second and port.
    pub fn new(address: IpAddr, host: impl Into<String>, ports: Vec<(Transport, u16)>) -> Self {
        ListenConfig {
            address,
            host: host.into(),
            ports,
            max_connections: 256,
            read_timeout: Duration::from_secs(5),
            udp_replies_per_second: 100,
        }
    }
}

pub use rdsports_schema::listen::{Contact, OpenState, Opened, Outcome, ServeSummary};

/// Why [`Listeners::serve_for`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The time given ran out.
    TimeLimit,
    /// Ctrl-C was pressed.
    Interrupted,
}

impl Stop {
    /// The name in the listen document: `time limit` or `ctrl-c`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stop::TimeLimit => "time limit",
            Stop::Interrupted => "ctrl-c",
        }
    }
}

/// The address to bind for a host: its own when it is on this machine (a socket can bind
/// it), else the wildcard of its family; a population binds every IPv4 address. The text
/// says which, for the first line of output.
pub fn bind_address(host_address: Option<IpAddr>, name: &str) -> (IpAddr, String) {
    use std::net::{Ipv4Addr, Ipv6Addr};
    match host_address {
        Some(ip) if std::net::UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok() => {
            (ip, format!("{ip} (the address of {name})"))
        }
        Some(ip) => {
            let wildcard = if ip.is_ipv4() {
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            } else {
                IpAddr::V6(Ipv6Addr::UNSPECIFIED)
            };
            (
                wildcard,
                format!(
                    "{wildcard}, every address of this machine ({ip}, the address of {name}, is \
                     not one of them)"
                ),
            )
        }
        None => (
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            format!(
                "0.0.0.0, every IPv4 address of this machine ({name} is a population, not one \
                 address)"
            ),
        ),
    }
}

/// The first bytes of a contact kept for its log line.
pub const HEAD_LEN: usize = 8;

/// Bound listeners, ready to [`serve`](Listeners::serve).
#[derive(Debug)]
pub struct Listeners {
    tcp: Vec<(u16, TcpListener)>,
    udp: Vec<(u16, UdpSocket)>,
    opened: Vec<Opened>,
    config: ListenConfig,
}

/// Binds every port of `config` (must run inside a tokio runtime). Never fails as a whole:
/// each port's outcome is in [`Listeners::opened`], sorted by transport and port.
pub fn open(config: ListenConfig) -> Listeners {
    let mut ports = config.ports.clone();
    ports.sort_unstable();
    ports.dedup();
    let mut tcp = Vec::new();
    let mut udp = Vec::new();
    let mut opened = Vec::new();
    for (transport, port) in ports {
        let address = SocketAddr::new(config.address, port);
        let bound = match transport {
            Transport::Tcp => bind_tcp(address).map(|l| {
                let local = l.local_addr().unwrap_or(address);
                tcp.push((local.port(), l));
                local
            }),
            Transport::Udp => bind_udp(address).map(|s| {
                let local = s.local_addr().unwrap_or(address);
                udp.push((local.port(), s));
                local
            }),
        };
        opened.push(match bound {
            Ok(local) => Opened {
                transport,
                port,
                state: OpenState::Open,
                bound: Some(local),
                error: None,
            },
            Err(error) => Opened {
                transport,
                port,
                state: state_of(&error),
                bound: None,
                error: Some(error.to_string()),
            },
        });
    }
    Listeners {
        tcp,
        udp,
        opened,
        config,
    }
}

impl Listeners {
    /// What became of each requested port.
    pub fn opened(&self) -> &[Opened] {
        &self.opened
    }

    /// Answers until `limit` has passed or Ctrl-C is pressed, as [`Listeners::serve`]
    /// does; says which of the two ended it. `listen` runs its listeners this way.
    pub async fn serve_for<F>(self, limit: Duration, on_contact: F) -> (ServeSummary, Stop)
    where
        F: FnMut(&Contact),
    {
        let cancel = Cancel::new();
        let interrupted = Cancel::new();
        let timer = {
            let cancel = cancel.clone();
            let interrupted = interrupted.clone();
            tokio::spawn(async move {
                tokio::select! {
                    () = tokio::time::sleep(limit) => {}
                    signal = tokio::signal::ctrl_c() => {
                        if signal.is_ok() {
                            interrupted.cancel();
                        }
                    }
                }
                cancel.cancel();
            })
        };
        let summary = self.serve(&cancel, on_contact).await;
        timer.abort();
        let stop = if interrupted.is_cancelled() {
            Stop::Interrupted
        } else {
            Stop::TimeLimit
        };
        (summary, stop)
    }

    /// Answers on every open port until `cancel` fires, calling `on_contact` for each
    /// contact as it happens, then closes everything. Contacts that arrive faster than
    /// `on_contact` returns are counted but not reported (at most 1,024 wait).
    pub async fn serve<F>(self, cancel: &Cancel, mut on_contact: F) -> ServeSummary
    where
        F: FnMut(&Contact),
    {
        let started = Instant::now();
        let (sender, mut receiver) = mpsc::channel::<Contact>(QUEUE);
        let counters = Arc::new(Counters::default());
        let slots = Arc::new(Slots::new(self.config.max_connections));
        let host: Arc<str> = Arc::from(self.config.host.as_str());
        let mut tasks = JoinSet::new();
        for (port, socket) in self.tcp {
            let shared = Shared {
                host: host.clone(),
                port,
                started,
                sender: sender.clone(),
                counters: counters.clone(),
            };
            let slots = slots.clone();
            let read_timeout = self.config.read_timeout;
            tasks.spawn(accept_loop(socket, shared, slots, read_timeout));
        }
        for (port, socket) in self.udp {
            let shared = Shared {
                host: host.clone(),
                port,
                started,
                sender: sender.clone(),
                counters: counters.clone(),
            };
            let rate = self.config.udp_replies_per_second.max(1);
            tasks.spawn(udp_loop(socket, shared, rate));
        }
        drop(sender);
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => break,
                contact = receiver.recv() => match contact {
                    Some(contact) => on_contact(&contact),
                    // Every task ended (none was open): wait for the cancel.
                    None => {
                        cancel.cancelled().await;
                        break;
                    }
                },
            }
        }
        tasks.abort_all();
        // Report what was already queued.
        while let Ok(contact) = receiver.try_recv() {
            on_contact(&contact);
        }
        ServeSummary {
            contacts: counters.contacts.load(Ordering::Relaxed),
            handshakes: counters.handshakes.load(Ordering::Relaxed),
            unreported: counters.unreported.load(Ordering::Relaxed),
            evicted: counters.evicted.load(Ordering::Relaxed),
        }
    }
}

/// The reply to one datagram: `Some` only for a well-formed request, and never longer than
/// the datagram.
pub fn udp_reply(datagram: &[u8], host: &str, port: u16, peer: IpAddr) -> Option<Vec<u8>> {
    let nonce = listener::parse_request(datagram)?;
    let reply = listener::build_reply(nonce, host, port, peer.to_canonical(), datagram.len());
    (!reply.is_empty() && reply.len() <= datagram.len()).then_some(reply)
}

/// At most `rate` replies in every one-second window (a sliding window over the times of
/// the last `rate` replies: unlike a token bucket that starts full, the first second gets
/// `rate` replies, not twice as many).
#[derive(Debug, Clone)]
pub struct RateLimit {
    rate: usize,
    /// When the last `rate` replies were allowed, oldest first.
    times: std::collections::VecDeque<Instant>,
}

/// The highest rate a [`RateLimit`] keeps times for (its memory).
const MAX_RATE: u32 = 100_000;

impl RateLimit {
    /// `rate` replies a second (at least 1, at most 100,000).
    pub fn new(rate: u32) -> Self {
        let rate = rate.clamp(1, MAX_RATE) as usize;
        RateLimit {
            rate,
            times: std::collections::VecDeque::with_capacity(rate),
        }
    }

    /// Allows one reply at `now` unless `rate` were allowed in the second before it.
    pub fn allow(&mut self, now: Instant) -> bool {
        while self
            .times
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= Duration::from_secs(1))
        {
            self.times.pop_front();
        }
        if self.times.len() < self.rate {
            self.times.push_back(now);
            true
        } else {
            false
        }
    }
}

/// Replies per source and second: at most a tenth of a port's rate (at least 1), so that one
/// source's flood leaves room for the others. Counted in fixed one-second windows; the
/// port's [`RateLimit`] keeps the promise for every window.
#[derive(Debug)]
struct SourceLimit {
    per_source: u32,
    window: Option<Instant>,
    counts: std::collections::HashMap<IpAddr, u32>,
}

/// Sources tracked per window (beyond that, only the port's limit applies).
const MAX_TRACKED_SOURCES: usize = 65_536;

impl SourceLimit {
    fn new(rate: u32) -> Self {
        SourceLimit {
            per_source: (rate / 10).max(1),
            window: None,
            counts: std::collections::HashMap::new(),
        }
    }

    fn allow(&mut self, source: IpAddr, now: Instant) -> bool {
        if self
            .window
            .is_none_or(|w| now.saturating_duration_since(w) >= Duration::from_secs(1))
        {
            self.window = Some(now);
            self.counts.clear();
        }
        if self.counts.len() >= MAX_TRACKED_SOURCES && !self.counts.contains_key(&source) {
            return true;
        }
        let n = self.counts.entry(source).or_insert(0);
        *n += 1;
        *n <= self.per_source
    }
}

/// The TCP connections being handled, over all ports: admits every new peer, closing the
/// oldest idle connection when the limit (or the peer's source's share) is reached.
#[derive(Debug)]
struct Slots {
    max: usize,
    per_source: usize,
    inner: std::sync::Mutex<SlotsInner>,
}

#[derive(Debug, Default)]
struct SlotsInner {
    next: u64,
    /// By admission order (oldest first).
    live: std::collections::BTreeMap<u64, Slot>,
    by_source: std::collections::HashMap<IpAddr, usize>,
}

#[derive(Debug)]
struct Slot {
    source: IpAddr,
    received: Arc<AtomicUsize>,
    abort: Option<tokio::task::AbortHandle>,
}

impl Slots {
    fn new(max: usize) -> Slots {
        let max = max.max(1);
        Slots {
            max,
            per_source: (max / 4).max(1),
            inner: std::sync::Mutex::new(SlotsInner::default()),
        }
    }

    /// Admits a connection from `source`: its id, its received-bytes counter, whether the
    /// listener is under pressure (more than half the slots taken), and how many connections
    /// were closed to make room.
    fn admit(&self, source: IpAddr) -> (u64, Arc<AtomicUsize>, bool, usize) {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut evicted = 0;
        if inner.by_source.get(&source).copied().unwrap_or(0) >= self.per_source {
            evicted += usize::from(inner.evict(Some(source)));
        }
        while inner.live.len() >= self.max && inner.evict(None) {
            evicted += 1;
        }
        let id = inner.next;
        inner.next += 1;
        let received = Arc::new(AtomicUsize::new(0));
        inner.live.insert(
            id,
            Slot {
                source,
                received: received.clone(),
                abort: None,
            },
        );
        *inner.by_source.entry(source).or_insert(0) += 1;
        let pressure = inner.live.len() * 2 > self.max;
        (id, received, pressure, evicted)
    }

    /// Records the task handling connection `id` (to close it when evicted).
    fn set_abort(&self, id: u64, abort: tokio::task::AbortHandle) {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match inner.live.get_mut(&id) {
            Some(slot) => slot.abort = Some(abort),
            // Already done, or already evicted.
            None => abort.abort(),
        }
    }

    /// Connection `id` is done.
    fn release(&self, id: u64) {
        let mut inner = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.remove(id);
    }
}

impl SlotsInner {
    /// Closes the oldest connection that received nothing yet (else the oldest), of `source`
    /// when given. `false` when there was none.
    fn evict(&mut self, source: Option<IpAddr>) -> bool {
        let of_source = |s: &Slot| source.is_none_or(|src| s.source == src);
        let victim = self
            .live
            .iter()
            .find(|(_, s)| of_source(s) && s.received.load(Ordering::Relaxed) == 0)
            .or_else(|| self.live.iter().find(|(_, s)| of_source(s)))
            .map(|(&id, _)| id);
        match victim {
            Some(id) => {
                if let Some(abort) = self.remove(id).and_then(|s| s.abort) {
                    abort.abort();
                }
                true
            }
            None => false,
        }
    }

    fn remove(&mut self, id: u64) -> Option<Slot> {
        let slot = self.live.remove(&id)?;
        if let Some(n) = self.by_source.get_mut(&slot.source) {
            *n -= 1;
            if *n == 0 {
                self.by_source.remove(&slot.source);
            }
        }
        Some(slot)
    }
}

/// How long a connection may take to send its request while the listener is under
/// pressure.
const PRESSURE_READ_TIMEOUT: Duration = Duration::from_secs(1);

/// Contacts waiting for the callback.
const QUEUE: usize = 1024;
/// Largest datagram read (longer ones are cut by the system; a request is 192 bytes).
const DATAGRAM_BUFFER: usize = 2048;

#[derive(Debug, Default)]
struct Counters {
    contacts: AtomicUsize,
    handshakes: AtomicUsize,
    unreported: AtomicUsize,
    evicted: AtomicUsize,
}

/// What every contact of one port shares.
#[derive(Debug, Clone)]
struct Shared {
    host: Arc<str>,
    port: u16,
    started: Instant,
    sender: mpsc::Sender<Contact>,
    counters: Arc<Counters>,
}

impl Shared {
    fn report(&self, peer: SocketAddr, transport: Transport, outcome: Outcome) {
        self.counters.contacts.fetch_add(1, Ordering::Relaxed);
        if outcome.is_handshake() {
            self.counters.handshakes.fetch_add(1, Ordering::Relaxed);
        }
        let contact = Contact {
            at_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            peer: SocketAddr::new(peer.ip().to_canonical(), peer.port()),
            transport,
            port: self.port,
            outcome,
        };
        if self.sender.try_send(contact).is_err() {
            self.counters.unreported.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn accept_loop(
    socket: TcpListener,
    shared: Shared,
    slots: Arc<Slots>,
    read_timeout: Duration,
) {
    // Handlers live in this set: aborting the loop aborts them.
    let mut handlers = JoinSet::new();
    loop {
        // Reap finished handlers so the set stays as small as the slots allow.
        while handlers.try_join_next().is_some() {}
        let (stream, peer) = match socket.accept().await {
            Ok(accepted) => accepted,
            Err(_) => {
                // Out of descriptors, or a connection reset before accept: wait a moment.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let (id, received, pressure, evicted) = slots.admit(peer.ip().to_canonical());
        shared
            .counters
            .evicted
            .fetch_add(evicted, Ordering::Relaxed);
        let timeout = if pressure {
            read_timeout.min(PRESSURE_READ_TIMEOUT)
        } else {
            read_timeout
        };
        let shared = shared.clone();
        let release = slots.clone();
        let abort = handlers.spawn(async move {
            let outcome = answer_tcp(stream, peer, &shared, timeout, &received).await;
            release.release(id);
            shared.report(peer, Transport::Tcp, outcome);
        });
        slots.set_abort(id, abort);
    }
}

/// Reads at most one request from `stream` and answers it.
async fn answer_tcp(
    mut stream: TcpStream,
    peer: SocketAddr,
    shared: &Shared,
    read_timeout: Duration,
    received_bytes: &AtomicUsize,
) -> Outcome {
    let deadline = Instant::now() + read_timeout;
    let mut buffer = [0u8; listener::REQUEST_LEN];
    let mut filled = 0usize;
    loop {
        // `filled < REQUEST_LEN` here: a full buffer is a request or not rdsports.
        let Some(window) = buffer.get_mut(filled..) else {
            return Outcome::Incomplete {
                bytes: filled,
                timed_out: false,
            };
        };
        let read = match timeout_at(deadline, stream.read(window)).await {
            Err(_) => {
                return Outcome::Incomplete {
                    bytes: filled,
                    timed_out: true,
                };
            }
            Ok(Ok(0)) | Ok(Err(_)) if filled == 0 => return Outcome::Empty,
            Ok(Ok(0)) | Ok(Err(_)) => {
                return Outcome::Incomplete {
                    bytes: filled,
                    timed_out: false,
                };
            }
            Ok(Ok(n)) => n,
        };
        filled = filled.saturating_add(read).min(buffer.len());
        received_bytes.store(filled, Ordering::Relaxed);
        let received = buffer.get(..filled).unwrap_or_default();
        match listener::check_request(received) {
            RequestCheck::NeedMore => {}
            RequestCheck::NotRdsports => {
                return Outcome::Other {
                    bytes: filled,
                    head: hex_head(received),
                };
            }
            RequestCheck::Request(nonce) => {
                let reply = listener::build_reply(
                    nonce,
                    &shared.host,
                    shared.port,
                    peer.ip().to_canonical(),
                    filled,
                );
                let write = async {
                    stream.write_all(&reply).await?;
                    stream.shutdown().await
                };
                return match timeout_at(deadline, write).await {
                    Ok(Ok(())) => Outcome::Handshake {
                        nonce: hex(&nonce),
                        reply_bytes: reply.len(),
                    },
                    Ok(Err(error)) => Outcome::Unanswered {
                        reason: format!("the reply could not be sent: {error}"),
                    },
                    Err(_) => Outcome::Unanswered {
                        reason: "the peer did not take the reply in time".into(),
                    },
                };
            }
        }
    }
}

async fn udp_loop(socket: UdpSocket, shared: Shared, rate: u32) {
    let mut limit = RateLimit::new(rate);
    let mut sources = SourceLimit::new(rate);
    let mut buffer = vec![0u8; DATAGRAM_BUFFER];
    loop {
        let (n, peer) = match socket.recv_from(&mut buffer).await {
            Ok(received) => received,
            Err(_) => {
                // Windows reports an earlier reply's ICMP error here; nothing to do.
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        let datagram = buffer.get(..n).unwrap_or_default();
        let outcome = match listener::check_request(datagram) {
            RequestCheck::NotRdsports => Outcome::Other {
                bytes: n,
                head: hex_head(datagram),
            },
            // A datagram is the whole request: a short one is never answered.
            RequestCheck::NeedMore if n == 0 => Outcome::Other {
                bytes: 0,
                head: String::new(),
            },
            RequestCheck::NeedMore => Outcome::Incomplete {
                bytes: n,
                timed_out: false,
            },
            RequestCheck::Request(nonce) => {
                match udp_reply(datagram, &shared.host, shared.port, peer.ip()) {
                    None => Outcome::Unanswered {
                        reason: "no reply fits in the request's size".into(),
                    },
                    Some(_) if !sources.allow(peer.ip().to_canonical(), Instant::now()) => {
                        Outcome::Unanswered {
                            reason: format!(
                                "more than {} requests a second from this source: rate-limited",
                                sources.per_source
                            ),
                        }
                    }
                    Some(_) if !limit.allow(Instant::now()) => Outcome::Unanswered {
                        reason: format!("more than {rate} requests a second: rate-limited"),
                    },
                    Some(reply) => match socket.send_to(&reply, peer).await {
                        Ok(_) => Outcome::Handshake {
                            nonce: hex(&nonce),
                            reply_bytes: reply.len(),
                        },
                        Err(error) => Outcome::Unanswered {
                            reason: format!("the reply could not be sent: {error}"),
                        },
                    },
                }
            }
        };
        shared.report(peer, Transport::Udp, outcome);
    }
}

fn bind_tcp(address: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(address), Type::STREAM, None)?;
    // Unix: rebinding while old connections sit in TIME_WAIT; a port another socket
    // listens on still gives "address in use". (Windows' SO_REUSEADDR would steal ports.)
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    if address.is_ipv6() && address.ip().is_unspecified() {
        // `::` takes IPv4 too where the system allows it.
        let _ = socket.set_only_v6(false);
    }
    socket.bind(&address.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    TcpListener::from_std(socket.into())
}

fn bind_udp(address: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(address), Type::DGRAM, None)?;
    if address.is_ipv6() && address.ip().is_unspecified() {
        let _ = socket.set_only_v6(false);
    }
    socket.bind(&address.into())?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket.into())
}

fn state_of(error: &io::Error) -> OpenState {
    match error.kind() {
        io::ErrorKind::AddrInUse => OpenState::InUse,
        io::ErrorKind::PermissionDenied => OpenState::Denied,
        _ => OpenState::Failed,
    }
}

#[cfg(test)]
mod flood_tests {
    use super::*;

    /// In every one-second window at most `rate` replies, for bursts at any offset; the
    /// first second gets `rate`, not twice as many.
    #[test]
    fn the_rate_limit_holds_for_every_one_second_window() {
        let start = Instant::now();
        for rate in [1u32, 3, 100] {
            let mut limit = RateLimit::new(rate);
            let mut allowed = Vec::new();
            // Requests every 7 ms for 5 s, with bursts of 50 at 0 s, 0.999 s and 2.5 s.
            let mut times: Vec<Duration> = (0..715).map(|i| Duration::from_millis(i * 7)).collect();
            for burst in [0u64, 999, 2500] {
                times.extend(std::iter::repeat_n(Duration::from_millis(burst), 50));
            }
            times.sort();
            for t in times {
                if limit.allow(start + t) {
                    allowed.push(t);
                }
            }
            assert_eq!(
                allowed
                    .iter()
                    .filter(|t| **t < Duration::from_secs(1))
                    .count(),
                rate as usize
            );
            for (i, &t) in allowed.iter().enumerate() {
                let in_window = allowed[i..]
                    .iter()
                    .take_while(|&&u| u < t + Duration::from_secs(1))
                    .count();
                assert!(
                    in_window <= rate as usize,
                    "rate {rate}: {in_window} from {t:?}"
                );
            }
        }
    }

    #[test]
    fn one_source_gets_a_tenth_of_the_rate() {
        let now = Instant::now();
        let mut sources = SourceLimit::new(100);
        let a = IpAddr::from([127, 0, 0, 1]);
        let b = IpAddr::from([127, 0, 0, 2]);
        assert_eq!((0..50).filter(|_| sources.allow(a, now)).count(), 10);
        assert!(sources.allow(b, now));
        assert!(sources.allow(a, now + Duration::from_secs(1)));
    }

    #[test]
    fn slots_evict_the_oldest_idle_connection_and_cap_each_source() {
        let slots = Slots::new(8);
        let a = IpAddr::from([127, 0, 0, 1]);
        let b = IpAddr::from([127, 0, 0, 2]);
        let mut ids = Vec::new();
        for _ in 0..2 {
            let (id, received, _, evicted) = slots.admit(a);
            assert_eq!(evicted, 0);
            received.store(5, Ordering::Relaxed);
            ids.push(id);
        }
        // Source a holds at most 8 / 4 = 2: its third evicts its oldest (all busy: oldest).
        let (_, _, _, evicted) = slots.admit(a);
        assert_eq!(evicted, 1);
        let inner = slots.inner.lock().unwrap();
        assert!(!inner.live.contains_key(&ids[0]));
        assert_eq!(inner.by_source[&a], 2);
        drop(inner);
        // Fill the rest from other sources; the ninth connection evicts an idle one, never
        // the busy connection of a.
        for i in 0..6u8 {
            slots.admit(IpAddr::from([127, 0, 1, i]));
        }
        let (_, _, pressure, evicted) = slots.admit(b);
        assert!(pressure);
        assert_eq!(evicted, 1);
        let inner = slots.inner.lock().unwrap();
        assert_eq!(inner.live.len(), 8);
        assert!(inner.live.contains_key(&ids[1]));
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_head(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(HEAD_LEN)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use proptest::prelude::*;

    use super::*;

    const NONCE: [u8; 16] = [0x5a; 16];

    #[test]
    fn a_request_gets_a_reply_no_longer_than_itself() {
        let request = listener::build_request(NONCE);
        let peer = IpAddr::from([127, 0, 0, 9]);
        let reply = udp_reply(&request, "dc01", 88, peer).unwrap();
        assert!(reply.len() <= request.len());
        let parsed = listener::parse_reply(&reply).unwrap();
        assert_eq!(parsed.nonce, NONCE);
        assert_eq!(parsed.port, 88);
        assert_eq!(parsed.seen, peer);
        assert_eq!(parsed.host, "dc01");
    }

    #[test]
    fn an_ipv4_mapped_peer_is_reported_as_ipv4() {
        let request = listener::build_request(NONCE);
        let mapped: IpAddr = "::ffff:127.0.0.9".parse().unwrap();
        let reply = udp_reply(&request, "h", 1, mapped).unwrap();
        assert_eq!(
            listener::parse_reply(&reply).unwrap().seen,
            IpAddr::from([127, 0, 0, 9])
        );
    }

    #[test]
    fn garbage_and_short_requests_get_nothing() {
        let peer = IpAddr::from(Ipv4Addr::LOCALHOST);
        let request = listener::build_request(NONCE);
        assert_eq!(udp_reply(&request[..191], "h", 1, peer), None);
        assert_eq!(udp_reply(b"", "h", 1, peer), None);
        assert_eq!(udp_reply(b"\x00\x01\x00\x00", "h", 1, peer), None);
        let mut reply_type = request.clone();
        reply_type[5] = 2;
        assert_eq!(udp_reply(&reply_type, "h", 1, peer), None);
    }

    #[test]
    fn the_rate_limit_refills_over_time() {
        let start = Instant::now();
        let mut limit = RateLimit::new(3);
        assert!((0..3).all(|_| limit.allow(start)));
        assert!(!limit.allow(start));
        assert!(!limit.allow(start + Duration::from_millis(100)));
        // A token bucket would have refilled one by now: four in one second.
        assert!(!limit.allow(start + Duration::from_millis(500)));
        assert!(limit.allow(start + Duration::from_millis(1000)));
        // Never more than a second's worth, however long it was quiet.
        let later = start + Duration::from_secs(60);
        assert!((0..3).all(|_| limit.allow(later)));
        assert!(!limit.allow(later));
        let mut zero = RateLimit::new(0);
        assert!(zero.allow(start));
    }

    #[test]
    fn outcomes_are_written_with_their_kind() {
        let other = Outcome::Other {
            bytes: 19,
            head: hex_head(&[3, 0, 0, 0x13, 0x0e, 0xe0, 0, 0, 0, 0]),
        };
        assert_eq!(
            other,
            Outcome::Other {
                bytes: 19,
                head: "03 00 00 13 0e e0 00 00".into()
            }
        );
        assert_eq!(
            serde_json::to_value(OpenState::InUse).unwrap(),
            serde_json::json!("in use")
        );
        let v = serde_json::to_value(&other).unwrap();
        assert_eq!(v["kind"], "other");
        assert_eq!(v["bytes"], 19);
    }

    #[test]
    fn bind_addresses() {
        let (ip, text) = bind_address(Some(IpAddr::from([127, 0, 0, 1])), "dc01");
        assert_eq!(ip, IpAddr::from([127, 0, 0, 1]));
        assert!(text.contains("the address of dc01"));
        let (ip, text) = bind_address(Some(IpAddr::from([192, 0, 2, 40])), "dc01");
        assert_eq!(ip, IpAddr::from([0, 0, 0, 0]));
        assert!(text.contains("is not one of them"), "{text}");
        let (ip, _) = bind_address(Some("2001:db8::1".parse().unwrap()), "dc01");
        assert_eq!(ip, IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED));
        let (_, text) = bind_address(None, "clients");
        assert!(text.contains("population"));
    }

    #[test]
    fn bind_errors_are_sorted() {
        assert_eq!(
            state_of(&io::Error::from(io::ErrorKind::AddrInUse)),
            OpenState::InUse
        );
        assert_eq!(
            state_of(&io::Error::from(io::ErrorKind::PermissionDenied)),
            OpenState::Denied
        );
        assert_eq!(
            state_of(&io::Error::from(io::ErrorKind::AddrNotAvailable)),
            OpenState::Failed
        );
    }

    fn any_ip() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(IpAddr::from),
            any::<[u8; 16]>().prop_map(IpAddr::from),
        ]
    }

    proptest! {
        /// The responder never amplifies: whatever arrives, a reply is no longer than it.
        #[test]
        fn udp_replies_never_amplify(
            datagram in proptest::collection::vec(any::<u8>(), 0..600),
            host in "\\PC{0,100}",
            port in any::<u16>(),
            peer in any_ip(),
        ) {
            if let Some(reply) = udp_reply(&datagram, &host, port, peer) {
                prop_assert!(reply.len() <= datagram.len());
                prop_assert!(listener::parse_request(&datagram).is_some());
            }
        }

        /// Requests of every size at or above 192 bytes are answered, within their size;
        /// anything shorter is not.
        #[test]
        fn requests_of_any_size_are_answered_within_it(
            nonce in any::<[u8; 16]>(),
            extra in proptest::collection::vec(any::<u8>(), 0..400),
            cut in 0usize..192,
            host in "\\PC{0,100}",
            peer in any_ip(),
        ) {
            let mut request = listener::build_request(nonce);
            request.extend_from_slice(&extra);
            let reply = udp_reply(&request, &host, 3391, peer).unwrap();
            prop_assert!(reply.len() <= request.len());
            prop_assert_eq!(listener::parse_reply(&reply).unwrap().nonce, nonce);
            prop_assert_eq!(udp_reply(&request[..cut], &host, 3391, peer), None);
        }
    }
}
