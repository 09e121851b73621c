//! Adaptive timeouts: a round-trip estimate per destination, as TCP (RFC 6298) and nmap
//! keep one, and the wait it allows for the next connection attempt.
//!
//! Every answered connection attempt (a SYN-ACK or a reset) is a sample of the path to its
//! destination address. The wait for the next attempt there is `srtt + 4 * rttvar`,
//! clamped between [`Adaptive::min_wait`] and the full timeout. Until the estimate has
//! [`Adaptive::confident_samples`] samples the full timeout is used (and a `filtered`
//! verdict is confirmed at the full timeout). This module holds numbers only; the TCP
//! probe decides with them.

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
    /// Samples an estimate needs before shortened waits alone may decide `filtered`.
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

/// One destination's round-trip estimate (RFC 6298, section 2).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Estimate {
    /// Smoothed round-trip time, seconds.
    pub srtt: f64,
    /// Round-trip variation, seconds.
    pub rttvar: f64,
    /// Samples taken.
    pub samples: u32,
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
        self.samples = self.samples.saturating_add(1);
    }

    /// The wait for the next attempt: `srtt + 4 * rttvar` within `min..=max`, or `max`
    /// without a sample.
    pub fn wait(&self, min: Duration, max: Duration) -> Duration {
        if self.samples == 0 {
            return max;
        }
        let secs = self.srtt + 4.0 * self.rttvar;
        let wait = Duration::try_from_secs_f64(secs).unwrap_or(max);
        wait.clamp(min.min(max), max)
    }
}

/// The estimates of one run, by destination address.
#[derive(Debug, Default)]
pub(crate) struct RttTable {
    estimates: Mutex<HashMap<IpAddr, Estimate>>,
}

impl RttTable {
    pub(crate) fn get(&self, address: IpAddr) -> Estimate {
        let map = self
            .estimates
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.get(&address).copied().unwrap_or_default()
    }

    pub(crate) fn add(&self, address: IpAddr, rtt: Duration) {
        let mut map = self
            .estimates
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        map.entry(address).or_default().add(rtt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MIN: Duration = Duration::from_millis(100);
    const MAX: Duration = Duration::from_millis(1500);

    #[test]
    fn no_sample_waits_the_full_timeout() {
        assert_eq!(Estimate::default().wait(MIN, MAX), MAX);
    }

    #[test]
    fn the_first_sample_sets_srtt_and_half_of_it_as_variation() {
        let mut e = Estimate::default();
        e.add(Duration::from_millis(200));
        assert!((e.srtt - 0.2).abs() < 1e-9);
        assert!((e.rttvar - 0.1).abs() < 1e-9);
        // 200 + 4 x 100 ms.
        assert_eq!(e.wait(MIN, MAX), Duration::from_millis(600));
    }

    #[test]
    fn steady_samples_converge_and_fast_paths_wait_the_minimum() {
        let mut e = Estimate::default();
        for _ in 0..50 {
            e.add(Duration::from_millis(200));
        }
        assert!((e.srtt - 0.2).abs() < 1e-6);
        let wait = e.wait(MIN, MAX);
        assert!(wait >= Duration::from_millis(200) && wait < Duration::from_millis(205));
        let mut fast = Estimate::default();
        for _ in 0..10 {
            fast.add(Duration::from_micros(50));
        }
        assert_eq!(fast.wait(MIN, MAX), MIN);
        // A slow path is never waited for longer than the timeout.
        let mut slow = Estimate::default();
        slow.add(Duration::from_secs(5));
        assert_eq!(slow.wait(MIN, MAX), MAX);
    }

    #[test]
    fn the_table_keeps_one_estimate_per_destination() {
        let table = RttTable::default();
        let a: IpAddr = "198.18.0.1".parse().unwrap();
        let b: IpAddr = "198.18.0.2".parse().unwrap();
        table.add(a, Duration::from_millis(1));
        table.add(a, Duration::from_millis(1));
        assert_eq!(table.get(a).samples, 2);
        assert_eq!(table.get(b).samples, 0);
    }

    proptest! {
        #[test]
        fn waits_stay_within_the_clamp(samples in proptest::collection::vec(0u64..10_000_000, 0..50)) {
            let mut e = Estimate::default();
            for us in samples {
                e.add(Duration::from_micros(us));
                let wait = e.wait(MIN, MAX);
                prop_assert!(wait >= MIN && wait <= MAX);
            }
        }
    }
}
