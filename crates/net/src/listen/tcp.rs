//! The TCP side of the listener: the accept loop, one connection's request and reply, and
//! the [`Slots`] that bound how many connections are held (closing the oldest idle one to
//! admit a new peer).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rdsports_wire::listener::{self, RequestCheck};
use socket2::{Domain, Socket, Type};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout_at};

use super::{Outcome, Shared, hex, hex_head};
use crate::model::Transport;

/// The TCP connections being handled, over all ports: admits every new peer, closing the
/// oldest idle connection when the limit (or the peer's source's share) is reached.
#[derive(Debug)]
pub(super) struct Slots {
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
    /// Room for `max` connections (at least 1), a quarter of them (at least 1) per source.
    pub(super) fn new(max: usize) -> Slots {
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

/// Accepts connections on one port until aborted, each answered in a task of its own that
/// holds one of the [`Slots`].
pub(super) async fn accept_loop(
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

/// A listening TCP socket on `address` (non-blocking, for tokio).
pub(super) fn bind(address: SocketAddr) -> io::Result<TcpListener> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
