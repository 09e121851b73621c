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
//!
//! The pieces: `tcp` (the accept loop, answering a connection, the connection slots with
//! their eviction), `udp` (the datagram loop and [`udp_reply`]), `limit` (the rate limits a
//! UDP port answers within).
//!
//! [`listener::REQUEST_LEN`]: rdsports_wire::listener::REQUEST_LEN

mod limit;
mod tcp;
mod udp;

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::cancel::Cancel;
use crate::model::Transport;
use tcp::Slots;

pub use limit::RateLimit;
pub use udp::udp_reply;

/// What to listen on and how.
#[derive(Debug, Clone)]
pub struct ListenConfig {
    /// The address to bind: the host's own address, or a wildcard (`0.0.0.0`, `::`).
    pub address: IpAddr,
    /// The host name put into replies (cut to [`listener::MAX_HOST_LEN`] bytes).
    ///
    /// [`listener::MAX_HOST_LEN`]: rdsports_wire::listener::MAX_HOST_LEN
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
            Transport::Tcp => tcp::bind(address).map(|l| {
                let local = l.local_addr().unwrap_or(address);
                tcp.push((local.port(), l));
                local
            }),
            Transport::Udp => udp::bind(address).map(|s| {
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
            tasks.spawn(tcp::accept_loop(socket, shared, slots, read_timeout));
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
            tasks.spawn(udp::udp_loop(socket, shared, rate));
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

/// Contacts waiting for the callback.
const QUEUE: usize = 1024;

/// What [`Listeners::serve`] counts for its summary, over all ports.
#[derive(Debug, Default)]
pub(super) struct Counters {
    contacts: AtomicUsize,
    handshakes: AtomicUsize,
    unreported: AtomicUsize,
    /// TCP connections closed to make room (counted by the accept loops).
    pub(super) evicted: AtomicUsize,
}

/// What every contact of one port shares.
#[derive(Debug, Clone)]
pub(super) struct Shared {
    /// The host name put into replies.
    pub(super) host: Arc<str>,
    /// The port this listener serves.
    pub(super) port: u16,
    started: Instant,
    sender: mpsc::Sender<Contact>,
    /// The counters of the whole [`Listeners::serve`].
    pub(super) counters: Arc<Counters>,
}

impl Shared {
    /// Counts a contact and queues it for the callback (counted as unreported when the
    /// queue is full).
    pub(super) fn report(&self, peer: SocketAddr, transport: Transport, outcome: Outcome) {
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

/// `bytes` as lowercase hex, without separators (a nonce in a contact).
pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The first [`HEAD_LEN`] bytes as lowercase hex, separated by spaces (a contact's head).
pub(super) fn hex_head(bytes: &[u8]) -> String {
    bytes
        .iter()
        .take(HEAD_LEN)
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn state_of(error: &io::Error) -> OpenState {
    match error.kind() {
        io::ErrorKind::AddrInUse => OpenState::InUse,
        io::ErrorKind::PermissionDenied => OpenState::Denied,
        _ => OpenState::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
