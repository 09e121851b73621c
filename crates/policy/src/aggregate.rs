//! Aggregation: fewer, wider rules that allow exactly the same (source, destination,
//! protocol, port) set.
//!
//! Each rule is a product `from_hosts × to_hosts × ports`. Two products that agree on two of
//! the three sides merge into one whose third side is the union, and the union of the two
//! products is exactly the merged product. [`Policy::aggregate`] applies that merge on each
//! side in turn until nothing changes, always keeping zone pair, protocol and helper apart.
//! Ports are merged into sorted, disjoint ranges ([`merge_ports`]); addresses into the fewest
//! networks that cover the same addresses (`ipnet`'s aggregate). Catalog entries are united,
//! so every merged rule still names every flow behind it, and each host of a rule keeps the
//! entries of its own flows ([`Rule::from_entries`], [`Rule::to_entries`]), so a view of one
//! host names only that host's flows.
//!
//! Large plans take a fast path (`Aggregator`): flows become integer tuples, pairs and
//! host sets are found by sorting and interning, and only the few products left go through
//! the general merge loop.
//!
//! Nothing here changes what is allowed; the property tests in `tests/aggregate.rs` check
//! that over random deployments.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ipnet::IpNet;
use rdsports_core::model::{PortRange, Protocol};

use crate::policy::{Class, Context, FlowItem, Helper, Policy, Rule};

impl Policy {
    /// The same allowed set in fewer rules (see the module documentation).
    ///
    /// A policy of single flows (as [`Policy::from_plan`] builds it) takes the fast path of
    /// [`Policy::aggregated_from_plan`]; rules that are already products are merged as they
    /// are.
    pub fn aggregate(&self) -> Policy {
        let flat = self
            .rules
            .iter()
            .all(|r| r.from_hosts.len() == 1 && r.to_hosts.len() == 1 && !r.entries.is_empty());
        let rules = if flat {
            let mut agg = Aggregator::new(&self.context, self.rules.len());
            for r in &self.rules {
                // `flat`: one source, one destination and at least one entry.
                let (from, to, entry) = (r.from_hosts[0], r.to_hosts[0], r.entries[0]);
                for &ports in &r.ports {
                    agg.push(FlowItem {
                        from,
                        to,
                        class: (r.from_zone, r.to_zone, r.protocol, r.helper),
                        ports,
                        entry,
                        also: &r.entries[1..],
                    });
                }
            }
            agg.finish(&self.context)
        } else {
            let prods = self.rules.iter().map(Product::of_rule).collect();
            finish(&self.context, prods)
        };
        self.with_rules(rules)
    }
}

/// The fast path: collects single flows as integer tuples, then sorts them into (source,
/// destination) pairs with their ports united, merges pairs that share destination and ports
/// into source sets, then those that share sources and ports into destination sets, all on
/// interned integer keys; the few products left go through the general merge loop.
pub(crate) struct Aggregator {
    n_entries: usize,
    /// Zone pairs, interned in first-seen order (the planner's order).
    zone_pairs: Interner<(usize, usize)>,
    last_pair: Option<((usize, usize), u32)>,
    entry_sets: SetInterner,
    /// (zone pair, from, to, protocol and helper, first port, last port, entry set) per
    /// flow: the planner's order, so that sorting is nearly free.
    flows: Vec<(u32, u32, u32, u8, u16, u16, u32)>,
}

impl Aggregator {
    pub(crate) fn new(ctx: &Context, capacity: usize) -> Aggregator {
        Aggregator {
            n_entries: ctx.entries.len(),
            zone_pairs: Interner::default(),
            last_pair: None,
            entry_sets: SetInterner::with_singletons(ctx.entries.len()),
            flows: Vec::with_capacity(capacity),
        }
    }

    /// Adds one flow.
    pub(crate) fn push(&mut self, f: FlowItem<'_>) {
        let n = self.n_entries;
        let es = if f.also.iter().all(|&a| a == f.entry || a >= n) {
            id(f.entry)
        } else {
            let mut v: Vec<u32> = std::iter::once(f.entry)
                .chain(f.also.iter().copied().filter(|&a| a < n))
                .map(id)
                .collect();
            v.sort_unstable();
            v.dedup();
            self.entry_sets.intern(&v)
        };
        let (zf, zt, protocol, helper) = f.class;
        let z = match self.last_pair {
            Some((k, z)) if k == (zf, zt) => z,
            _ => {
                let z = self.zone_pairs.intern((zf, zt));
                self.last_pair = Some(((zf, zt), z));
                z
            }
        };
        let ph = proto_helper(protocol, helper);
        self.flows.push((
            z,
            id(f.from),
            id(f.to),
            ph,
            f.ports.start(),
            f.ports.end(),
            es,
        ));
    }

    /// The aggregated rules of every flow pushed.
    ///
    /// Indexing in the loops stays below the `k < len` checks; interned ids index the
    /// interner that handed them out.
    pub(crate) fn finish(self, ctx: &Context) -> Vec<Rule> {
        let Aggregator {
            zone_pairs,
            mut entry_sets,
            mut flows,
            ..
        } = self;
        // The planner's order is this order (but for FTP helpers), which pdqsort handles in
        // linear time.
        flows.sort_unstable();
        let class = |z: u32, ph: u8| {
            let (zf, zt) = zone_pairs.get(z);
            let (protocol, helper) = from_proto_helper(ph);
            (zf, zt, protocol, helper)
        };
        let mut classes: Interner<Class> = Interner::default();

        // Pairs: (class, to, port list, from, entry set).
        let mut port_lists = SetInterner::default();
        let mut pairs: Vec<(u32, u32, u32, u32, u32)> = Vec::new();
        let mut ports: Vec<PortRange> = Vec::new();
        let mut key: Vec<u32> = Vec::new();
        let mut ents: Vec<u32> = Vec::new();
        let mut k = 0;
        while k < flows.len() {
            let (z, f, t, ph, ..) = flows[k];
            ports.clear();
            ents.clear();
            while k < flows.len()
                && (flows[k].0, flows[k].1, flows[k].2, flows[k].3) == (z, f, t, ph)
            {
                let (.., a, b, e) = flows[k];
                ports.extend(PortRange::new(a, b));
                ents.push(e);
                k += 1;
            }
            let c = classes.intern(class(z, ph));
            ports = merge_ports(std::mem::take(&mut ports));
            key.clear();
            key.extend(
                ports
                    .iter()
                    .map(|r| (u32::from(r.start()) << 16) | u32::from(r.end())),
            );
            let p = port_lists.intern(&key);
            let e = entry_sets.union(&ents);
            pairs.push((c, t, p, f, e));
        }
        drop(flows);

        // Sources per (class, destination, ports): (class, source set, ports, to, entries of
        // `to`, index of the per-source entries).
        pairs.sort_unstable();
        let mut host_sets = SetInterner::default();
        let mut prods: Vec<(u32, u32, u32, u32, u32, usize)> = Vec::new();
        let mut from_ents: Vec<Vec<u32>> = Vec::new();
        let mut members: Vec<u32> = Vec::new();
        let mut k = 0;
        while k < pairs.len() {
            let (c, t, p, ..) = pairs[k];
            members.clear();
            ents.clear();
            while k < pairs.len() && (pairs[k].0, pairs[k].1, pairs[k].2) == (c, t, p) {
                members.push(pairs[k].3);
                ents.push(pairs[k].4);
                k += 1;
            }
            let fs = host_sets.intern(&members);
            let e = entry_sets.union(&ents);
            prods.push((c, fs, p, t, e, from_ents.len()));
            from_ents.push(ents.clone());
        }
        drop(pairs);

        // Destinations per (class, sources, ports).
        prods.sort_unstable();
        let mut out: Vec<Product> = Vec::new();
        let mut k = 0;
        while k < prods.len() {
            let (c, fs, p, ..) = prods[k];
            let sources = host_sets.get(fs).to_vec();
            let mut per_source: Vec<Vec<u32>> = vec![Vec::new(); sources.len()];
            let mut to = BTreeMap::new();
            while k < prods.len() && (prods[k].0, prods[k].1, prods[k].2) == (c, fs, p) {
                let (_, _, _, t, e, fe) = prods[k];
                to.insert(
                    t as usize,
                    entry_sets.get(e).iter().map(|&x| x as usize).collect(),
                );
                for (slot, &x) in per_source.iter_mut().zip(&from_ents[fe]) {
                    slot.push(x);
                }
                k += 1;
            }
            let from = sources
                .iter()
                .zip(&per_source)
                .map(|(&h, es)| {
                    let u = entry_sets.union(es);
                    (
                        h as usize,
                        entry_sets.get(u).iter().map(|&x| x as usize).collect(),
                    )
                })
                .collect();
            out.push(Product {
                class: classes.get(c),
                from,
                to,
                ports: port_lists
                    .get(p)
                    .iter()
                    .filter_map(|&x| PortRange::new((x >> 16) as u16, (x & 0xFFFF) as u16))
                    .collect(),
            });
        }
        finish(ctx, out)
    }
}

/// The general merge loop over products, then rules in render order.
fn finish(ctx: &Context, mut prods: Vec<Product>) -> Vec<Rule> {
    loop {
        let before = prods.len();
        prods = merge_on(prods, Axis::Ports);
        prods = merge_on(prods, Axis::From);
        prods = merge_on(prods, Axis::To);
        if prods.len() == before {
            break;
        }
    }
    let mut rules: Vec<Rule> = prods.into_iter().map(|p| p.into_rule(ctx)).collect();
    rules.sort_by(|a, b| rule_order(a).cmp(&rule_order(b)));
    rules
}

/// Protocol and helper as one sortable byte (TCP before UDP, as `Protocol`'s order).
fn proto_helper(p: Protocol, h: Option<Helper>) -> u8 {
    let p = match p {
        Protocol::Tcp => 0,
        Protocol::Udp => 2,
    };
    p + u8::from(h.is_some())
}

fn from_proto_helper(ph: u8) -> (Protocol, Option<Helper>) {
    let p = if ph >= 2 {
        Protocol::Udp
    } else {
        Protocol::Tcp
    };
    (p, (ph % 2 == 1).then_some(Helper::Ftp))
}

/// Host and entry indices fit in `u32` (no deployment or catalog within the input limits
/// comes near 4 billion items).
fn id(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// Interns small values (classes) as `u32` ids.
struct Interner<T> {
    ids: BTreeMap<T, u32>,
    values: Vec<T>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            ids: BTreeMap::new(),
            values: Vec::new(),
        }
    }
}

impl<T: Ord + Copy> Interner<T> {
    fn intern(&mut self, v: T) -> u32 {
        if let Some(&i) = self.ids.get(&v) {
            return i;
        }
        let i = id(self.values.len());
        self.values.push(v);
        self.ids.insert(v, i);
        i
    }

    /// The value of an id this interner handed out.
    fn get(&self, i: u32) -> T {
        self.values[i as usize]
    }
}

/// Interns sorted lists of `u32` (port lists, host sets, entry sets) as ids, remembering the
/// last one (runs of equal lists are common).
#[derive(Default)]
struct SetInterner {
    ids: HashMap<Vec<u32>, u32>,
    values: Vec<Vec<u32>>,
    last: Option<u32>,
}

impl SetInterner {
    /// An interner whose ids `0..n` are the one-element sets `{0}` .. `{n-1}`.
    fn with_singletons(n: usize) -> SetInterner {
        let mut s = SetInterner::default();
        for i in 0..n {
            s.intern(&[id(i)]);
        }
        s
    }

    fn intern(&mut self, v: &[u32]) -> u32 {
        if let Some(l) = self.last
            && self.values[l as usize] == v
        {
            return l;
        }
        let i = match self.ids.get(v) {
            Some(&i) => i,
            None => {
                let i = id(self.values.len());
                self.values.push(v.to_vec());
                self.ids.insert(v.to_vec(), i);
                i
            }
        };
        self.last = Some(i);
        i
    }

    /// The list behind an id this interner handed out.
    fn get(&self, i: u32) -> &[u32] {
        &self.values[i as usize]
    }

    /// The id of the union of the sets `ids` (ids this interner handed out).
    fn union(&mut self, ids: &[u32]) -> u32 {
        match ids {
            [] => self.intern(&[]),
            [first, rest @ ..] if rest.iter().all(|x| x == first) => *first,
            _ => {
                let mut all: Vec<u32> = ids
                    .iter()
                    .flat_map(|&i| self.values[i as usize].iter().copied())
                    .collect();
                all.sort_unstable();
                all.dedup();
                self.intern(&all)
            }
        }
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

/// Catalog entries per host of one side of a product.
type Side = BTreeMap<usize, BTreeSet<usize>>;

struct Product {
    class: Class,
    from: Side,
    to: Side,
    ports: Vec<PortRange>,
}

impl Product {
    fn of_rule(r: &Rule) -> Product {
        let side = |hosts: &[usize], per: &[Vec<usize>]| -> Side {
            hosts
                .iter()
                .enumerate()
                .map(|(i, &h)| {
                    let es = per.get(i).map_or(&r.entries, |e| e);
                    (h, es.iter().copied().collect())
                })
                .collect()
        };
        Product {
            class: (r.from_zone, r.to_zone, r.protocol, r.helper),
            from: side(&r.from_hosts, &r.from_entries),
            to: side(&r.to_hosts, &r.to_entries),
            ports: merge_ports(r.ports.clone()),
        }
    }

    fn into_rule(self, ctx: &Context) -> Rule {
        let addrs = |side: &Side| {
            merge_nets(
                &side
                    .keys()
                    .filter_map(|&h| ctx.hosts.get(h))
                    .map(|h| h.address)
                    .collect::<Vec<_>>(),
            )
        };
        let entries: BTreeSet<usize> = self.to.values().flatten().copied().collect();
        let (from_zone, to_zone, protocol, helper) = self.class;
        Rule {
            from_zone,
            to_zone,
            protocol,
            sources: addrs(&self.from),
            destinations: addrs(&self.to),
            ports: self.ports,
            from_hosts: self.from.keys().copied().collect(),
            to_hosts: self.to.keys().copied().collect(),
            from_entries: self
                .from
                .into_values()
                .map(|e| e.into_iter().collect())
                .collect(),
            to_entries: self
                .to
                .into_values()
                .map(|e| e.into_iter().collect())
                .collect(),
            entries: entries.into_iter().collect(),
            helper,
        }
    }
}

/// Merges products that agree on everything but `axis`, uniting that side (and, on every
/// side, the entries of hosts that appear in both).
fn merge_on(prods: Vec<Product>, axis: Axis) -> Vec<Product> {
    type Key = (Class, Vec<usize>, Vec<usize>, Vec<PortRange>);
    let keys = |s: &Side| s.keys().copied().collect::<Vec<_>>();
    let mut groups: BTreeMap<Key, Product> = BTreeMap::new();
    for p in prods {
        let key: Key = match axis {
            Axis::From => (p.class, Vec::new(), keys(&p.to), p.ports.clone()),
            Axis::To => (p.class, keys(&p.from), Vec::new(), p.ports.clone()),
            Axis::Ports => (p.class, keys(&p.from), keys(&p.to), Vec::new()),
        };
        match groups.get_mut(&key) {
            None => {
                groups.insert(key, p);
            }
            Some(g) => {
                if let Axis::Ports = axis {
                    let mut all = std::mem::take(&mut g.ports);
                    all.extend(p.ports);
                    g.ports = merge_ports(all);
                }
                for (h, es) in p.from {
                    g.from.entry(h).or_default().extend(es);
                }
                for (h, es) in p.to {
                    g.to.entry(h).or_default().extend(es);
                }
            }
        }
    }
    groups.into_values().collect()
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
    fn interned_unions() {
        let mut s = SetInterner::with_singletons(4);
        let ab = s.intern(&[0, 1]);
        assert_eq!(s.union(&[2, 2]), 2);
        let u = s.union(&[ab, 3, 1]);
        assert_eq!(s.get(u), &[0, 1, 3]);
        assert_eq!(s.intern(&[0, 1, 3]), u);
    }
}
