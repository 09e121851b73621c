//! Admission control for the UDP responder: a port's [`RateLimit`] and each source's share
//! of it ([`SourceLimit`]). Pure: the time is always given, so the flood tests below need no
//! socket and no clock.

use std::net::IpAddr;
use std::time::Duration;

use tokio::time::Instant;

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
pub(super) struct SourceLimit {
    /// Replies per source and window.
    pub(super) per_source: u32,
    window: Option<Instant>,
    counts: std::collections::HashMap<IpAddr, u32>,
    /// The sources that sent in the window before this one.
    previous: std::collections::HashSet<IpAddr>,
}

/// Sources tracked per window (beyond that, only the port's limit applies).
const MAX_TRACKED_SOURCES: usize = 65_536;

impl SourceLimit {
    /// Limits for a port that replies `rate` times a second.
    pub(super) fn new(rate: u32) -> Self {
        SourceLimit {
            per_source: (rate / 10).max(1),
            window: None,
            counts: std::collections::HashMap::new(),
            previous: std::collections::HashSet::new(),
        }
    }

    /// Whether `source` is new: it sent nothing in the window before this one (call after
    /// [`SourceLimit::allow`], which starts a new window when one is over).
    pub(super) fn is_new(&self, source: IpAddr) -> bool {
        !self.previous.contains(&source)
    }

    /// Allows one reply to `source` at `now` unless it had its share of this window.
    pub(super) fn allow(&mut self, source: IpAddr, now: Instant) -> bool {
        if self
            .window
            .is_none_or(|w| now.saturating_duration_since(w) >= Duration::from_secs(1))
        {
            // The window just over becomes the one before; one quiet second or more in
            // between, and every source is new again.
            let next = self.window.map(|w| w + Duration::from_secs(1));
            let quiet =
                next.is_none_or(|n| now.saturating_duration_since(n) >= Duration::from_secs(1));
            self.previous = if quiet {
                std::collections::HashSet::new()
            } else {
                self.counts.drain().map(|(source, _)| source).collect()
            };
            self.counts.clear();
            self.window = Some(now);
        }
        if self.counts.len() >= MAX_TRACKED_SOURCES && !self.counts.contains_key(&source) {
            return true;
        }
        let n = self.counts.entry(source).or_insert(0);
        *n += 1;
        *n <= self.per_source
    }
}

/// Why a request was not answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// The source had its share of this second (the number).
    SourceShare(u32),
    /// The port had its replies of this second (the number).
    PortRate(u32),
}

/// A port's admission: at most `rate` replies in every second, at most a tenth of them to
/// one source, and a fifth of them kept for sources that sent nothing in the second before,
/// so a new prober is answered while sources that keep sending use up the rest.
#[derive(Debug)]
pub(super) struct Admission {
    rate: u32,
    /// Replies any source may use: `rate` less the reserve.
    shared: RateLimit,
    /// Replies kept for new sources (none when `rate` is below 5).
    reserve: Option<RateLimit>,
    sources: SourceLimit,
}

impl Admission {
    /// The admission of a port that replies `rate` times a second (at least 1).
    pub(super) fn new(rate: u32) -> Self {
        let rate = rate.max(1);
        let reserved = rate / 5;
        Admission {
            rate,
            shared: RateLimit::new(rate - reserved),
            reserve: (reserved > 0).then(|| RateLimit::new(reserved)),
            sources: SourceLimit::new(rate),
        }
    }

    /// Whether a request from `source` at `now` is answered.
    pub(super) fn admit(&mut self, source: IpAddr, now: Instant) -> Result<(), Refusal> {
        if !self.sources.allow(source, now) {
            return Err(Refusal::SourceShare(self.sources.per_source));
        }
        let reserved = match &mut self.reserve {
            Some(reserve) if self.sources.is_new(source) => reserve.allow(now),
            _ => false,
        };
        if reserved || self.shared.allow(now) {
            Ok(())
        } else {
            Err(Refusal::PortRate(self.rate))
        }
    }
}

#[cfg(test)]
mod tests {
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

    /// README: with at most 100 UDP replies per port a second and 10 per source, a new source
    /// (one that sent nothing in the second before) is answered from a fifth of the rate kept
    /// for new sources, while 200 sources flood the port with valid requests (each within its
    /// share); the port never replies more than 100 times in a second.
    #[test]
    fn a_new_source_is_answered_during_a_flood_from_many_sources() {
        let start = Instant::now();
        let mut port = Admission::new(100);
        let flooder = |i: u32| IpAddr::from([127, 1, (i / 250) as u8, (i % 250) as u8 + 1]);
        let newcomer = IpAddr::from([127, 9, 9, 9]);
        let mut answered_at = Vec::new();
        let mut newcomer_answered = Vec::new();
        // 5 s: every 10 ms each of 200 sources sends (far beyond the port's rate); from
        // 2.5 s on, the newcomer sends every 10 ms too.
        for tick in 0..500u64 {
            let now = start + Duration::from_millis(tick * 10);
            for i in 0..200 {
                if port.admit(flooder(i), now).is_ok() {
                    answered_at.push(tick);
                }
            }
            if tick >= 250 && port.admit(newcomer, now).is_ok() {
                newcomer_answered.push(tick);
                answered_at.push(tick);
            }
        }
        // Its first request, and its share (10) of the second it arrived in, are answered.
        assert_eq!(newcomer_answered.first(), Some(&250));
        assert!(
            newcomer_answered.iter().filter(|&&t| t < 300).count() >= 10,
            "{newcomer_answered:?}"
        );
        // Never more than 100 replies in any one-second window.
        for (k, &t) in answered_at.iter().enumerate() {
            let in_window = answered_at[k..]
                .iter()
                .take_while(|&&u| u < t + 100)
                .count();
            assert!(
                in_window <= 100,
                "{in_window} replies in the second from tick {t}"
            );
        }
    }
}
