//! What the cloud readers ([`azure_nsg`](super::azure_nsg) and [`aws`](super::aws)) share:
//! the deployment's own networks, address blocks, and the hooks of inbound and outbound
//! chains.
//!
//! Both: inbound rules see the flows into the deployment's networks, outbound rules the
//! flows out of them (with `--host`, the host's own flows).

use std::net::IpAddr;

use crate::ReadOptions;
use crate::model::Hook;
use crate::space::{self, Set};

/// The deployment's own networks (`--internal`, without the default routes) as one set.
pub(super) fn internal_set(opts: &ReadOptions) -> Set {
    Set::from_intervals(
        opts.internal
            .iter()
            .filter(|n| n.prefix_len() > 0)
            .map(|n| space::net_bounds(n.trunc()))
            .collect(),
    )
}

/// An address block: `CIDR` or a single address.
pub(super) fn cidr(s: &str) -> Option<Set> {
    let s = s.trim();
    if let Ok(n) = s.parse::<ipnet::IpNet>() {
        return Some(Set::net(n.trunc()));
    }
    s.parse::<IpAddr>()
        .ok()
        .map(|a| Set::one(space::addr_value(a)))
}

/// The chains a cloud filter becomes: packets into the deployment's networks meet the
/// inbound chains, packets out of them the outbound chains, in series.
pub(super) fn hooks_for(inbound: Vec<usize>, outbound: Vec<usize>) -> Vec<(Hook, Vec<usize>)> {
    let mut forward = outbound.clone();
    forward.extend(inbound.iter().copied());
    vec![
        (Hook::Input, inbound),
        (Hook::Output, outbound),
        (Hook::Forward, forward),
    ]
}
