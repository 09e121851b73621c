//! Sockets: the TCP socket every probe opens, socket errors sorted into what they mean for
//! a verdict, and the back-off used when the system runs out of descriptors, buffers or
//! ephemeral ports.
//!
//! "Too many open files" and its relatives are never a verdict: the probe waits (shrinking
//! the engine's concurrency) and tries again; only after [`RESOURCE_WAIT_LIMIT`] without a
//! socket is the target given up as "not probed". Platform error codes are kept to the few
//! `cfg` lines below; everything else goes by [`io::ErrorKind`].

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use socket2::SockRef;
use tokio::net::TcpSocket;
use tokio::time::Instant;

use crate::model::Target;

/// A TCP socket that closes with a reset, bound to `source` when one is given.
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

/// Why `target` is not probed when no socket could be opened for it.
pub(crate) fn no_socket(target: &Target, error: &io::Error) -> String {
    match target.source {
        Some(source) => {
            format!("not probed: no socket could be opened here from {source}: {error}")
        }
        None => format!("not probed: no socket could be opened here: {error}"),
    }
}

/// A duration in milliseconds, as observations report them.
pub(crate) fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// What a socket error means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The peer answered "nothing here" (TCP reset; UDP ICMP port unreachable).
    Refused,
    /// A router or firewall answered "unreachable" or "prohibited", or the local firewall
    /// refused: the reason says which.
    Blocked(String),
    /// A local resource ran out (descriptors, buffers, ephemeral ports): wait and retry.
    Exhausted,
    /// The kernel gave up waiting (its own connect timeout).
    TimedOut,
    /// Anything else, with the system's words.
    Other(String),
}

/// Sorts an error from `socket`, `connect`, `send` or `recv`.
pub(crate) fn classify(error: &io::Error) -> Failure {
    if is_exhaustion(error) {
        return Failure::Exhausted;
    }
    match error.kind() {
        io::ErrorKind::ConnectionRefused => Failure::Refused,
        io::ErrorKind::HostUnreachable => Failure::Blocked("host unreachable (ICMP)".into()),
        io::ErrorKind::NetworkUnreachable => {
            Failure::Blocked("network unreachable (ICMP or no route)".into())
        }
        io::ErrorKind::PermissionDenied => Failure::Blocked(
            "prohibited (ICMP administratively prohibited, or the local firewall)".into(),
        ),
        io::ErrorKind::TimedOut => Failure::TimedOut,
        _ => Failure::Other(error.to_string()),
    }
}

/// Descriptor, buffer or port exhaustion.
fn is_exhaustion(error: &io::Error) -> bool {
    if matches!(
        error.kind(),
        io::ErrorKind::AddrNotAvailable | io::ErrorKind::OutOfMemory
    ) {
        return true;
    }
    error
        .raw_os_error()
        .is_some_and(|code| EXHAUSTION_CODES.contains(&code))
}

#[cfg(unix)]
const EXHAUSTION_CODES: [i32; 4] = [libc::EMFILE, libc::ENFILE, libc::ENOBUFS, libc::ENOMEM];

/// WSAEMFILE and WSAENOBUFS.
#[cfg(windows)]
const EXHAUSTION_CODES: [i32; 2] = [10_024, 10_055];

#[cfg(not(any(unix, windows)))]
const EXHAUSTION_CODES: [i32; 0] = [];

/// Shared by the engine and its probes: the concurrency currently allowed, lowered when
/// probes run out of resources and raised back slowly once they stop doing so.
#[derive(Debug)]
pub(crate) struct Pressure {
    limit: AtomicUsize,
    ceiling: usize,
    active: AtomicUsize,
    waits: AtomicUsize,
    lowest: AtomicUsize,
    last_shrink: Mutex<Option<Instant>>,
}

impl Pressure {
    /// Starts at `ceiling` probes in flight.
    pub(crate) fn new(ceiling: usize) -> Self {
        let ceiling = ceiling.max(1);
        Pressure {
            limit: AtomicUsize::new(ceiling),
            ceiling,
            active: AtomicUsize::new(0),
            waits: AtomicUsize::new(0),
            lowest: AtomicUsize::new(ceiling),
            last_shrink: Mutex::new(None),
        }
    }

    /// Probes allowed in flight now.
    pub(crate) fn limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed).max(1)
    }

    /// A probe started.
    pub(crate) fn started(&self) {
        self.active.fetch_add(1, Ordering::Relaxed);
    }

    /// A probe ended; after a quiet second the limit grows back by one.
    pub(crate) fn finished(&self) {
        let _ = self
            .active
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |a| {
                Some(a.saturating_sub(1))
            });
        let last = *self
            .last_shrink
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.is_none_or(|at| at.elapsed() > QUIET) {
            let ceiling = self.ceiling;
            let _ = self
                .limit
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| {
                    Some((l + 1).min(ceiling))
                });
        }
    }

    /// A probe ran out of resources: lower the limit below the probes in flight (at most
    /// once per [`SHRINK_EVERY`], so a burst of failures shrinks it once).
    pub(crate) fn exhausted(&self) {
        self.waits.fetch_add(1, Ordering::Relaxed);
        let mut last = self
            .last_shrink
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.is_some_and(|at| at.elapsed() < SHRINK_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        let active = self.active.load(Ordering::Relaxed);
        let target = (active.saturating_mul(3) / 4).max(1);
        let _ = self
            .limit
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| {
                Some(l.min(target).max(1))
            });
        self.lowest.fetch_min(self.limit(), Ordering::Relaxed);
    }

    /// How many times probes waited for a descriptor, buffer or port.
    pub(crate) fn waits(&self) -> usize {
        self.waits.load(Ordering::Relaxed)
    }

    /// The lowest concurrency the run was lowered to.
    pub(crate) fn lowest(&self) -> usize {
        self.lowest.load(Ordering::Relaxed).max(1)
    }

    /// Waits before retrying after exhaustion `round` (0-based). `Err` once
    /// [`RESOURCE_WAIT_LIMIT`] has passed since `since`.
    pub(crate) async fn back_off(&self, round: u32, since: Instant) -> Result<(), String> {
        self.exhausted();
        if since.elapsed() >= RESOURCE_WAIT_LIMIT {
            return Err(format!(
                "not probed: no socket could be had for {} s (too many open files or no \
                 buffer space)",
                RESOURCE_WAIT_LIMIT.as_secs()
            ));
        }
        let wait = BACK_OFF_FIRST
            .saturating_mul(1 << round.min(6))
            .min(BACK_OFF_MAX);
        tokio::time::sleep(wait).await;
        Ok(())
    }
}

/// How long a probe keeps trying to get a socket before giving the target up.
pub const RESOURCE_WAIT_LIMIT: Duration = Duration::from_secs(30);
const BACK_OFF_FIRST: Duration = Duration::from_millis(5);
const BACK_OFF_MAX: Duration = Duration::from_millis(250);
const SHRINK_EVERY: Duration = Duration::from_millis(100);
const QUIET: Duration = Duration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_failures() {
        let e = |kind| io::Error::from(kind);
        assert_eq!(
            classify(&e(io::ErrorKind::ConnectionRefused)),
            Failure::Refused
        );
        assert!(matches!(
            classify(&e(io::ErrorKind::HostUnreachable)),
            Failure::Blocked(_)
        ));
        assert!(matches!(
            classify(&e(io::ErrorKind::NetworkUnreachable)),
            Failure::Blocked(_)
        ));
        assert!(matches!(
            classify(&e(io::ErrorKind::PermissionDenied)),
            Failure::Blocked(_)
        ));
        assert_eq!(classify(&e(io::ErrorKind::TimedOut)), Failure::TimedOut);
        assert_eq!(
            classify(&e(io::ErrorKind::AddrNotAvailable)),
            Failure::Exhausted
        );
        assert!(matches!(
            classify(&e(io::ErrorKind::InvalidInput)),
            Failure::Other(_)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn descriptor_exhaustion_is_not_a_verdict() {
        for code in [libc::EMFILE, libc::ENFILE, libc::ENOBUFS] {
            assert_eq!(
                classify(&io::Error::from_raw_os_error(code)),
                Failure::Exhausted
            );
        }
        assert_eq!(
            classify(&io::Error::from_raw_os_error(libc::ECONNREFUSED)),
            Failure::Refused
        );
        assert!(matches!(
            classify(&io::Error::from_raw_os_error(libc::EACCES)),
            Failure::Blocked(_)
        ));
    }

    #[tokio::test]
    async fn pressure_shrinks_below_active_and_grows_back() {
        let pressure = Pressure::new(100);
        for _ in 0..40 {
            pressure.started();
        }
        pressure.exhausted();
        assert_eq!(pressure.limit(), 30);
        // A second failure right away does not shrink again.
        pressure.exhausted();
        assert_eq!(pressure.limit(), 30);
        pressure.finished();
        assert_eq!(pressure.limit(), 30, "no growth right after a shrink");
    }

    #[test]
    fn pressure_never_goes_below_one() {
        let pressure = Pressure::new(0);
        pressure.exhausted();
        assert_eq!(pressure.limit(), 1);
    }
}
