//! Aggregation: fewer, wider rules that allow exactly the same (source, destination,
//! protocol, port) set.
//!
//! Each rule is a product `from_hosts × to_hosts × ports`. Two products that agree on two of
//! the three sides merge into one whose third side is the union, and the union of the two
//! products is exactly the merged product. [`Policy::aggregate`] applies that merge on each
//! side in turn until nothing changes, always keeping zone pair, protocol and helper apart.
//! Ports are merged into sorted, disjoint ranges ([`merge_ports`]); addresses into the fewest
//! networks that cover the same addresses (`ipnet`'s aggregate). Catalog entries are united,
//! so every merged rule still names every flow behind it.
//!
//! Nothing here changes what is allowed; the property tests in `tests/aggregate.rs` check
//! that over random deployments.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;
use rdsports_core::model::{PortRange, Protocol};

use crate::policy::{Context, Helper, Policy, Rule};

/// Zone pair, protocol and helper: what a merge never mixes.
type Class = (usize, usize, Protocol, Option<Helper>);

/// Ports and catalog entries collected for one (class, source host, destination host).
type PairSlot = (Vec<PortRange>, BTreeSet<usize>);

impl Policy {
    /// The same allowed set in fewer rules (see the module documentation).
    pub fn aggregate(&self) -> Policy {
        // Step 1: one product per (class, source host, destination host), ports united.
        let mut pairs: BTreeMap<(Class, usize, usize), PairSlot> = BTreeMap::new();
        for r in &self.rules {
            let class = (r.from_zone, r.to_zone, r.protocol, r.helper);
            for &f in &r.from_hosts {
                for &t in &r.to_hosts {
                    let slot = pairs.entry((class, f, t)).or_default();
                    slot.0.extend(r.ports.iter().copied());
                    slot.1.extend(r.entries.iter().copied());
                }
            }
        }
        let mut prods: Vec<Product> = pairs
            .into_iter()
            .map(|((class, f, t), (ports, entries))| Product {
                class,
                from: vec![f],
                to: vec![t],
                ports: merge_ports(ports),
                entries,
            })
            .collect();
        // Steps 2..: merge along each side until a whole round changes nothing.
        loop {
            let before = prods.len();
            prods = merge_on(prods, Axis::From);
            prods = merge_on(prods, Axis::To);
            prods = merge_on(prods, Axis::Ports);
            if prods.len() == before {
                break;
            }
        }
        let ctx = &self.context;
        let mut rules: Vec<Rule> = prods.into_iter().map(|p| p.into_rule(ctx)).collect();
        rules.sort_by(|a, b| rule_order(a).cmp(&rule_order(b)));
        self.with_rules(rules)
    }
}

/// Merges port ranges into sorted, disjoint, non-adjacent ranges covering the same ports.
pub fn merge_ports(mut ports: Vec<PortRange>) -> Vec<PortRange> {
    ports.sort_unstable();
    let mut out: Vec<PortRange> = Vec::with_capacity(ports.len());
    for p in ports {
        match out.last_mut() {
            Some(last) if u32::from(p.start()) <= u32::from(last.end()) + 1 => {
                if p.end() > last.end() {
                    // Both bounds come from valid ranges and last.start <= p.start <= p.end.
                    if let Some(m) = PortRange::new(last.start(), p.end()) {
                        *last = m;
                    }
                }
            }
            _ => out.push(p),
        }
    }
    out
}

/// The fewest networks covering exactly the addresses of `nets`, sorted.
pub fn merge_nets(nets: &[IpNet]) -> Vec<IpNet> {
    let mut out = IpNet::aggregate(&nets.iter().map(IpNet::trunc).collect::<Vec<_>>());
    out.sort_unstable();
    out
}

/// The order rules are rendered in: zone pair, then catalog order, then the rest.
pub(crate) fn rule_order(r: &Rule) -> impl Ord + '_ {
    (
        r.from_zone,
        r.to_zone,
        &r.entries,
        r.protocol,
        &r.ports,
        r.helper,
        &r.from_hosts,
        &r.to_hosts,
    )
}

#[derive(Clone, Copy)]
enum Axis {
    From,
    To,
    Ports,
}

struct Product {
    class: Class,
    from: Vec<usize>,
    to: Vec<usize>,
    ports: Vec<PortRange>,
    entries: BTreeSet<usize>,
}

impl Product {
    fn into_rule(self, ctx: &Context) -> Rule {
        let addrs = |hosts: &[usize]| {
            merge_nets(
                &hosts
                    .iter()
                    .filter_map(|&h| ctx.hosts.get(h))
                    .map(|h| h.address)
                    .collect::<Vec<_>>(),
            )
        };
        let (from_zone, to_zone, protocol, helper) = self.class;
        Rule {
            from_zone,
            to_zone,
            protocol,
            sources: addrs(&self.from),
            destinations: addrs(&self.to),
            ports: self.ports,
            from_hosts: self.from,
            to_hosts: self.to,
            entries: self.entries.into_iter().collect(),
            helper,
        }
    }
}

/// Merges products that agree on everything but `axis`, uniting that side.
fn merge_on(prods: Vec<Product>, axis: Axis) -> Vec<Product> {
    type Key = (Class, Vec<usize>, Vec<usize>, Vec<PortRange>);
    let mut groups: BTreeMap<Key, Product> = BTreeMap::new();
    for p in prods {
        let key: Key = match axis {
            Axis::From => (p.class, Vec::new(), p.to.clone(), p.ports.clone()),
            Axis::To => (p.class, p.from.clone(), Vec::new(), p.ports.clone()),
            Axis::Ports => (p.class, p.from.clone(), p.to.clone(), Vec::new()),
        };
        match groups.get_mut(&key) {
            None => {
                groups.insert(key, p);
            }
            Some(g) => {
                match axis {
                    Axis::From => g.from = union_sorted(&g.from, &p.from),
                    Axis::To => g.to = union_sorted(&g.to, &p.to),
                    Axis::Ports => {
                        let mut all = std::mem::take(&mut g.ports);
                        all.extend(p.ports);
                        g.ports = merge_ports(all);
                    }
                }
                g.entries.extend(p.entries);
            }
        }
    }
    groups.into_values().collect()
}

fn union_sorted(a: &[usize], b: &[usize]) -> Vec<usize> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) if x == y => {
                out.push(x);
                i += 1;
                j += 1;
            }
            (Some(&x), Some(&y)) if x < y => {
                out.push(x);
                i += 1;
            }
            (Some(_), Some(&y)) => {
                out.push(y);
                j += 1;
            }
            (Some(&x), None) => {
                out.push(x);
                i += 1;
            }
            (None, Some(&y)) => {
                out.push(y);
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pr(a: u16, b: u16) -> PortRange {
        PortRange::new(a, b).unwrap()
    }

    #[test]
    fn ports_merge_overlapping_and_adjacent_only() {
        let got = merge_ports(vec![
            pr(445, 445),
            pr(135, 135),
            pr(136, 139),
            pr(49152, 65535),
        ]);
        assert_eq!(got, vec![pr(135, 139), pr(445, 445), pr(49152, 65535)]);
        let got = merge_ports(vec![pr(10, 20), pr(15, 16), pr(22, 30), pr(21, 21)]);
        assert_eq!(got, vec![pr(10, 30)]);
        let got = merge_ports(vec![pr(65535, 65535), pr(1, 65534)]);
        assert_eq!(got, vec![pr(1, 65535)]);
        assert_eq!(
            merge_ports(vec![pr(3, 3), pr(5, 5)]),
            vec![pr(3, 3), pr(5, 5)]
        );
        assert!(merge_ports(Vec::new()).is_empty());
    }

    #[test]
    fn nets_merge_exactly() {
        let n = |s: &str| s.parse::<IpNet>().unwrap();
        let got = merge_nets(&[n("192.0.2.0/32"), n("192.0.2.1/32"), n("192.0.2.3/32")]);
        assert_eq!(got, vec![n("192.0.2.0/31"), n("192.0.2.3/32")]);
        let got = merge_nets(&[n("198.51.100.7/24"), n("198.51.100.9/32")]);
        assert_eq!(got, vec![n("198.51.100.0/24")]);
    }

    #[test]
    fn union_of_sorted_lists() {
        assert_eq!(union_sorted(&[1, 3, 5], &[2, 3, 9]), vec![1, 2, 3, 5, 9]);
        assert_eq!(union_sorted(&[], &[4]), vec![4]);
    }
}
