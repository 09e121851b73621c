//! The open-file budget: how many sockets the engine may hold at once.
//!
//! On Unix the soft `RLIMIT_NOFILE` is raised towards the hard limit where the system allows
//! it, and the budget is what remains after the descriptors already open plus a margin. On
//! Windows sockets are not bounded by an rlimit, so the budget is unbounded and the
//! requested concurrency stands. The engine also backs off when the system still says
//! "too many open files" (another process, a lower system-wide limit); this module only
//! sizes the start.

/// The process's open-file limits and what is left of them for probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdBudget {
    /// The soft limit after any raise (`None` where there is no such limit, as on Windows).
    pub soft: Option<u64>,
    /// The hard limit (`None`: none, or unlimited).
    pub hard: Option<u64>,
    /// The soft limit before this process raised it, when it did.
    pub raised_from: Option<u64>,
    /// Descriptors open when the budget was measured, where that can be counted.
    pub in_use: Option<usize>,
    /// Sockets probes may hold at once (`usize::MAX` when unbounded).
    pub probes: usize,
}

/// Measures the budget, raising the soft limit first where allowed.
pub fn fd_budget() -> FdBudget {
    platform::fd_budget()
}

/// The concurrency to use for `requested` probes in flight: never above the budget and
/// never below 1.
pub fn concurrency_for(requested: usize) -> usize {
    requested.min(fd_budget().probes).max(1)
}

/// How many descriptors to leave alone besides those already open, for a soft limit.
#[cfg(unix)]
fn margin(soft: u64) -> u64 {
    (soft / 16).max(16)
}

#[cfg(unix)]
mod platform {
    use super::{FdBudget, margin};

    pub(super) fn fd_budget() -> FdBudget {
        let Some((soft, hard)) = limits() else {
            return FdBudget {
                soft: None,
                hard: None,
                raised_from: None,
                in_use: None,
                probes: 256,
            };
        };
        let mut raised_from = None;
        let mut current = soft;
        if !is_infinite(soft) {
            for candidate in raise_candidates(soft, hard) {
                if set_soft(candidate, hard) {
                    raised_from = Some(soft);
                    current = candidate;
                    break;
                }
            }
        }
        let in_use = count_open();
        let soft_out = (!is_infinite(current)).then(|| to_u64(current));
        let probes = match soft_out {
            Some(limit) => {
                let used = in_use.map_or(16, |n| u64::try_from(n).unwrap_or(u64::MAX));
                let left = limit
                    .saturating_sub(used)
                    .saturating_sub(margin(limit))
                    .max(1);
                usize::try_from(left).unwrap_or(usize::MAX)
            }
            None => usize::MAX,
        };
        FdBudget {
            soft: soft_out,
            hard: (!is_infinite(hard)).then(|| to_u64(hard)),
            raised_from: raised_from.map(to_u64),
            in_use,
            probes,
        }
    }

    #[expect(
        clippy::useless_conversion,
        reason = "`rlim_t` is `u64` on the common targets but not on every Unix"
    )]
    fn to_u64(v: libc::rlim_t) -> u64 {
        u64::try_from(v).unwrap_or(u64::MAX)
    }

    fn is_infinite(v: libc::rlim_t) -> bool {
        v == libc::RLIM_INFINITY
    }

    /// Soft limits worth trying, highest first: the hard limit itself, then values systems
    /// accept when the hard limit is "unlimited" (macOS refuses an infinite soft limit).
    fn raise_candidates(soft: libc::rlim_t, hard: libc::rlim_t) -> Vec<libc::rlim_t> {
        let mut out = Vec::new();
        if !is_infinite(hard) {
            out.push(hard);
        }
        for fixed in [1 << 20, 65_536, 10_240] {
            let fixed: libc::rlim_t = fixed;
            if fixed <= hard && !out.contains(&fixed) {
                out.push(fixed);
            }
        }
        out.retain(|&c| c > soft);
        out
    }

    fn limits() -> Option<(libc::rlim_t, libc::rlim_t)> {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one `rlimit` through a valid, exclusive pointer.
        let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
        (rc == 0).then_some((limit.rlim_cur, limit.rlim_max))
    }

    fn set_soft(soft: libc::rlim_t, hard: libc::rlim_t) -> bool {
        let limit = libc::rlimit {
            rlim_cur: soft,
            rlim_max: hard,
        };
        // SAFETY: setrlimit reads one `rlimit` through a valid pointer.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 }
    }

    /// Open descriptors, counted where the system lists them.
    fn count_open() -> Option<usize> {
        ["/proc/self/fd", "/dev/fd"]
            .iter()
            .find_map(|dir| std::fs::read_dir(dir).ok().map(|entries| entries.count()))
    }
}

#[cfg(not(unix))]
mod platform {
    use super::FdBudget;

    pub(super) fn fd_budget() -> FdBudget {
        FdBudget {
            soft: None,
            hard: None,
            raised_from: None,
            in_use: None,
            probes: usize::MAX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn margin_is_at_least_sixteen() {
        assert_eq!(margin(64), 16);
        assert_eq!(margin(20_000), 1250);
    }

    #[test]
    fn concurrency_is_never_zero_and_never_above_the_request() {
        assert_eq!(concurrency_for(0), 1);
        assert!(concurrency_for(3) <= 3);
        assert!(concurrency_for(usize::MAX) <= fd_budget().probes.max(1));
    }

    #[cfg(unix)]
    #[test]
    fn the_budget_stays_below_the_soft_limit() {
        let budget = fd_budget();
        if let Some(soft) = budget.soft {
            assert!((budget.probes as u64) < soft);
            assert!(budget.probes >= 1);
        }
        if let (Some(soft), Some(hard)) = (budget.soft, budget.hard) {
            assert!(soft <= hard);
        }
    }
}
