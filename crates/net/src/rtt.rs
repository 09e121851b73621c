//! Adaptive timeouts: a round-trip estimate per destination and one for the whole run, as
//! TCP (RFC 6298) and nmap keep them, and the wait they allow for a connection attempt.
//!
//! Every answered connection attempt (a SYN-ACK or a reset) is a sample of the path to its
//! destination address, and of the run. The wait an estimate allows is
//! `srtt + 4 * rttvar`, and at least [`PEAK_MARGIN`] times the slowest of its last
//! [`RECENT`] samples, clamped between [`Adaptive::min_wait`] and the full timeout.
//!
//! Which estimate applies ([`Adaptive::choose`]): the destination's own once it has
//! [`Adaptive::confident_samples`] samples; before that the run's (nmap's group timing:
//! the destinations of one run mostly share a path, and a destination's first probes are
//! otherwise all made blind); with neither, the full timeout. The TCP probe keeps the
//! issue's rule on top: a `filtered` verdict reached through shortened waits is confirmed
//! at the full timeout unless the destination's *own* estimate is confident by then.
//!
//! Three guards against an estimate that is too short:
//! - a sample from a connect that took [`AMBIGUOUS_AFTER`] or longer is not taken (Karn's
//!   rule: the system may have retransmitted the SYN by then, and a SYN-ACK to the
//!   retransmission cannot be told from one to the first SYN);
//! - the peak guard: the replies that come back first are the fastest of those in flight,
//!   and in a burst they arrive sorted, slowest last. `srtt + 4 * rttvar` of a sorted
//!   ramp is barely above its latest sample (the variation of a slowly rising series is
//!   small), so the wait also covers the slowest recent sample with a margin;
//! - the TCP probe picks the estimate when an attempt starts (an estimate that becomes
//!   confident while the attempt waits is made of the attempt's own cohort) and lets the
//!   wait grow but never shrink while it waits.
//!
//! This module holds numbers only; the TCP probe decides with them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// The adaptive-timeout settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adaptive {
    /// The shortest wait used, however fast the path (nmap's `--min-rtt-timeout` default
    /// is the same 100 ms): it absorbs a busy machine's scheduling delays.
    pub min_wait: Duration,
    /// Samples an estimate needs before it may shorten a wait, and a destination's own
    /// estimate needs before shortened waits alone may decide `filtered`.
    pub confident_samples: u32,
}

impl Default for Adaptive {
    fn default() -> Self {
        Adaptive {
            min_wait: Duration::from_millis(100),
            confident_samples: 16,
        }
    }
}

/// Which estimate shortened a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Basis {
    /// The destination's own.
    Destination,
    /// The run's (every destination's samples).
    Run,
}

impl Adaptive {
    /// The estimate that may shorten a wait to a destination: its own when confident,
    /// else the run's when confident, else none (the full timeout).
    pub(crate) fn choose(&self, paths: &Paths) -> Option<(Basis, Estimate)> {
        if paths.own.samples >= self.confident_samples {
            Some((Basis::Destination, paths.own))
        } else if paths.run.samples >= self.confident_samples {
            Some((Basis::Run, paths.run))
        } else {
            None
        }
    }
}

/// Samples from a connect that took this long or longer are not taken: RFC 6298's initial
/// retransmission timeout is 1 s (Linux's `TCP_TIMEOUT_INIT`), so the SYN may have gone
/// twice and the reply is ambiguous (Karn's rule). Leaving a sample out only makes waits
/// longer.
pub const AMBIGUOUS_AFTER: Duration = Duration::from_secs(1);

/// When the system retransmits an unanswered SYN on its own, if that is known: Linux (and
/// the BSDs, macOS) at RFC 6298's 1 s. On Windows the first retransmission depends on the
/// `InitialRto` of the TCP setting template in use, so none is counted there.
#[cfg(not(windows))]
pub const SYN_RETRANSMIT: Option<Duration> = Some(Duration::from_secs(1));
/// When the system retransmits an unanswered SYN on its own (not counted on Windows).
#[cfg(windows)]
pub const SYN_RETRANSMIT: Option<Duration> = None;

/// The SYNs an unanswered connect attempt amounts to: two when the system retransmitted
/// the SYN within the wait ([`SYN_RETRANSMIT`]) and the retransmission then had at least
/// `shortened` (the wait the estimate allows) to be answered, else one. Without an
/// estimate (`None`) only the first SYN counts.
pub fn syns_sent(
    waited: Duration,
    shortened: Option<Duration>,
    retransmit: Option<Duration>,
) -> u32 {
    match (retransmit, shortened) {
        (Some(rto), Some(wait)) if waited >= rto.saturating_add(wait) => 2,
        _ => 1,
    }
}

/// How many recent samples the peak guard looks at.
pub const RECENT: usize = 16;

/// The wait is at least this many times the slowest of the last [`RECENT`] samples.
pub const PEAK_MARGIN: f64 = 1.25;

/// One round-trip estimate (RFC 6298, section 2), with its last [`RECENT`] samples.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Estimate {
    /// Smoothed round-trip time, seconds.
    pub srtt: f64,
    /// Round-trip variation, seconds.
    pub rttvar: f64,
    /// Samples taken.
    pub samples: u32,
    /// The last samples, microseconds (a ring; zero where not filled yet).
    recent: [u32; RECENT],
}

impl Estimate {
    /// Adds one measured round trip.
    pub fn add(&mut self, rtt: Duration) {
        let r = rtt.as_secs_f64();
        if self.samples == 0 {
            self.srtt = r;
            self.rttvar = r / 2.0;
        } else {
            self.rttvar = 0.75 * self.rttvar + 0.25 * (self.srtt - r).abs();
            self.srtt = 0.875 * self.srtt + 0.125 * r;
        }
        let slot = self.samples as usize % RECENT;
        self.recent[slot] = u32::try_from(rtt.as_micros()).unwrap_or(u32::MAX);
        self.samples = self.samples.saturating_add(1);
    }

    /// The slowest of the last [`RECENT`] samples.
    pub fn peak(&self) -> Duration {
        Duration::from_micros(u64::from(self.recent.iter().copied().max().unwrap_or(0)))
    }

    /// The wait for an attempt: `srtt + 4 * rttvar`, at least [`PEAK_MARGIN`] x
    /// [`Estimate::peak`], within `min..=max`; `max` without a sample.
    pub fn wait(&self, min: Duration, max: Duration) -> Duration {
        if self.samples == 0 {
            return max;
        }
        let spread = self.srtt + 4.0 * self.rttvar;
        let peak = self.peak().as_secs_f64() * PEAK_MARGIN;
        let wait = Duration::try_from_secs_f64(spread.max(peak)).unwrap_or(max);
        wait.clamp(min.min(max), max)
    }
}

/// A destination's estimate and the run's, read together.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Paths {
    /// The destination's own.
    pub(crate) own: Estimate,
    /// The run's.
    pub(crate) run: Estimate,
}

/// The estimates of one run: by destination address, and all samples together.
#[derive(Debug, Default)]
pub(crate) struct RttTable {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_destination: HashMap<IpAddr, Estimate>,
    run: Estimate,
}

impl RttTable {
    pub(crate) fn get(&self, address: IpAddr) -> Paths {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        Paths {
            own: inner
                .by_destination
                .get(&address)
                .copied()
                .unwrap_or_default(),
            run: inner.run,
        }
    }

    /// Takes one sample of `address`, unless it is ambiguous ([`AMBIGUOUS_AFTER`]).
    /// Returns whether it was taken.
    pub(crate) fn add(&self, address: IpAddr, rtt: Duration) -> bool {
        if rtt >= AMBIGUOUS_AFTER {
            return false;
        }
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.by_destination.entry(address).or_default().add(rtt);
        inner.run.add(rtt);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MIN: Duration = Duration::from_millis(100);
    const MAX: Duration = Duration::from_millis(1500);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn estimate_of(samples: impl IntoIterator<Item = Duration>) -> Estimate {
        let mut e = Estimate::default();
        for s in samples {
            e.add(s);
        }
        e
    }

    #[test]
    fn no_sample_waits_the_full_timeout() {
        assert_eq!(Estimate::default().wait(MIN, MAX), MAX);
    }

    #[test]
    fn the_first_sample_sets_srtt_and_half_of_it_as_variation() {
        let e = estimate_of([ms(200)]);
        assert!((e.srtt - 0.2).abs() < 1e-9);
        assert!((e.rttvar - 0.1).abs() < 1e-9);
        // 200 + 4 x 100 ms (above the peak guard's 1.25 x 200 ms).
        assert_eq!(e.wait(MIN, MAX), ms(600));
    }

    #[test]
    fn steady_samples_converge_and_fast_paths_wait_the_minimum() {
        let e = estimate_of([ms(200); 50]);
        assert!((e.srtt - 0.2).abs() < 1e-6);
        // srtt + 4 x rttvar is barely 200 ms now; the peak guard keeps 1.25 x 200 ms.
        assert!(e.srtt + 4.0 * e.rttvar < 0.201);
        assert_eq!(e.wait(MIN, MAX), ms(250));
        let fast = estimate_of([Duration::from_micros(50); 10]);
        assert_eq!(fast.wait(MIN, MAX), MIN);
        // A slow path is never waited for longer than the timeout.
        let slow = estimate_of([Duration::from_secs(5)]);
        assert_eq!(slow.wait(MIN, MAX), MAX);
    }

    /// The replies of a burst arrive sorted, fastest first (here 1,000 of them from 150 to
    /// 250 ms, as through the bench's delay line): the spread formula follows the ramp
    /// closely, so an attempt of the same burst still waiting for a 250 ms reply would be
    /// cut a few ms after it; the peak guard keeps a quarter above the slowest recent
    /// sample.
    #[test]
    fn the_peak_guard_covers_a_sorted_burst() {
        let ramp: Vec<Duration> = (0..=1000)
            .map(|i| Duration::from_micros(150_000 + i * 100))
            .collect();
        let e = estimate_of(ramp.iter().copied());
        let spread = e.srtt + 4.0 * e.rttvar;
        assert!(spread > 0.25 && spread < 0.255, "spread {spread}");
        assert_eq!(e.peak(), ms(250));
        assert_eq!(e.wait(MIN, MAX), Duration::from_micros(312_500));
        // Half-way up the ramp (200 ms) the wait already covers the rest of it.
        let half = estimate_of(ramp[..=500].iter().copied());
        assert!(half.wait(MIN, MAX) >= ms(250), "{:?}", half.wait(MIN, MAX));
    }

    #[test]
    fn an_outlier_leaves_the_peak_after_the_recent_window() {
        let mut e = estimate_of([ms(10); 20]);
        e.add(ms(900));
        assert_eq!(e.peak(), ms(900));
        let wait = e.wait(MIN, MAX);
        assert!(wait >= ms(1124) && wait <= ms(1126), "{wait:?}");
        for _ in 0..RECENT - 1 {
            e.add(ms(10));
        }
        assert_eq!(e.peak(), ms(900));
        e.add(ms(10));
        assert_eq!(e.peak(), ms(10));
        // The variation the outlier left has decayed too: back near the minimum.
        assert!(e.wait(MIN, MAX) < ms(150), "{:?}", e.wait(MIN, MAX));
    }

    #[test]
    fn the_table_keeps_one_estimate_per_destination_and_one_for_the_run() {
        let table = RttTable::default();
        let a: IpAddr = "198.18.0.1".parse().unwrap();
        let b: IpAddr = "198.18.0.2".parse().unwrap();
        assert!(table.add(a, ms(1)));
        assert!(table.add(a, ms(1)));
        assert!(table.add(b, ms(3)));
        assert_eq!(table.get(a).own.samples, 2);
        assert_eq!(table.get(b).own.samples, 1);
        assert_eq!(table.get(a).run.samples, 3);
        let c: IpAddr = "198.18.0.3".parse().unwrap();
        assert_eq!(table.get(c).own.samples, 0);
        assert_eq!(table.get(c).run.samples, 3);
    }

    #[test]
    fn ambiguous_samples_are_not_taken() {
        let table = RttTable::default();
        let a: IpAddr = "198.18.0.1".parse().unwrap();
        assert!(!table.add(a, AMBIGUOUS_AFTER));
        assert!(!table.add(a, ms(1200)));
        assert!(table.add(a, ms(999)));
        assert_eq!(table.get(a).own.samples, 1);
        assert_eq!(table.get(a).run.samples, 1);
    }

    #[test]
    fn the_own_estimate_wins_once_confident_else_the_runs() {
        let adaptive = Adaptive::default();
        let few = estimate_of([ms(5); 15]);
        let enough = estimate_of([ms(7); 16]);
        let pick = |own, run| {
            adaptive
                .choose(&Paths { own, run })
                .map(|(b, e)| (b, e.samples))
        };
        assert_eq!(pick(enough, enough), Some((Basis::Destination, 16)));
        assert_eq!(pick(few, enough), Some((Basis::Run, 16)));
        assert_eq!(pick(Estimate::default(), enough), Some((Basis::Run, 16)));
        assert_eq!(pick(few, few), None);
        assert_eq!(pick(Estimate::default(), Estimate::default()), None);
    }

    #[test]
    fn a_wait_past_the_systems_retransmission_counts_two_syns() {
        let rto = Some(Duration::from_secs(1));
        // 1500 ms: the SYN at 1 s had 500 ms, more than a 300 ms shortened wait.
        assert_eq!(syns_sent(ms(1500), Some(ms(300)), rto), 2);
        // ... but not when the estimate asks for more than it had.
        assert_eq!(syns_sent(ms(1500), Some(ms(600)), rto), 1);
        // 1000 ms (the pinned bench): the retransmission had no time at all.
        assert_eq!(syns_sent(ms(1000), Some(ms(100)), rto), 1);
        // No estimate, or no known retransmission: only the first SYN counts.
        assert_eq!(syns_sent(ms(1500), None, rto), 1);
        assert_eq!(syns_sent(ms(3000), Some(ms(100)), None), 1);
        assert_eq!(syns_sent(ms(300), Some(ms(300)), rto), 1);
    }

    proptest! {
        #[test]
        fn waits_stay_within_the_clamp(samples in proptest::collection::vec(0u64..10_000_000, 0..50)) {
            let mut e = Estimate::default();
            for us in samples {
                e.add(Duration::from_micros(us));
                let wait = e.wait(MIN, MAX);
                prop_assert!(wait >= MIN && wait <= MAX);
                // Never below the slowest recent sample (within the clamp).
                prop_assert!(wait >= e.peak().min(MAX));
            }
        }
    }
}
