//! The rule delta of two plans: which of the old side's aggregated rules a firewall must
//! drop and which rules of the new side it must add, computed on what the rules allow.
//!
//! Each side's rules are its aggregated [`Policy`] (as `rules` builds it). A rule allows an
//! exact product: its sources × its destinations × its ports, for one protocol, from one zone
//! to another (zones by name, since the zone decides which boundary's file holds the rule),
//! with or without a connection-tracking helper. Two rules are compared only within the same
//! (source zone, destination zone, protocol, helper) class, on that product ([`Cube`]s of
//! `rdsports_audit::space`, exact).
//!
//! * **removed**: the old rules that allow something the new side does not allow at all;
//! * **kept**: the other old rules (everything they allow, the new side allows too);
//! * **added**: the new rules that allow something no kept rule allows, each cut down to the
//!   destination hosts, and then the source hosts, that have such traffic.
//!
//! So `(old − removed) ∪ added` allows exactly what the new side allows ([`allowed`] computes
//! it; the tests hold the delta to this), and a rule regrouped with the same traffic is
//! neither removed nor added.

use std::collections::BTreeMap;

use ipnet::IpNet;
use rdsports_audit::space::{Cube, DPORT, DST, Region, SRC, Set};
use rdsports_core::Protocol;
use rdsports_policy::{Helper, Policy, Rule};
use rdsports_schema::diff::{RuleChanges, RuleFile};

/// What never compares across: source zone, destination zone (names), protocol, helper.
pub type Class = (String, String, Protocol, Option<Helper>);

/// The rules a change removes (over the old side's context) and adds (over the new side's).
#[derive(Debug, Clone)]
pub struct RuleDelta {
    /// Old rules that allow traffic the new side does not: `old.with_rules(...)`.
    pub removed: Policy,
    /// New rules (cut down) that allow traffic the kept old rules do not.
    pub added: Policy,
}

/// The class and the allowed space of `rule` in `policy`.
pub fn unit(policy: &Policy, rule: &Rule) -> (Class, Cube) {
    let class = (
        policy.zone_name(rule.from_zone).to_owned(),
        policy.zone_name(rule.to_zone).to_owned(),
        rule.protocol,
        rule.helper,
    );
    (class, cube(&rule.sources, &rule.destinations, rule))
}

fn nets(n: &[IpNet]) -> Set {
    n.iter()
        .fold(Set::empty(), |s, &net| s.union(&Set::net(net.trunc())))
}

fn cube(sources: &[IpNet], destinations: &[IpNet], rule: &Rule) -> Cube {
    let ports = Set::from_intervals(
        rule.ports
            .iter()
            .map(|p| (u128::from(p.start()), u128::from(p.end())))
            .collect(),
    );
    Cube::full()
        .with(SRC, &nets(sources))
        .with(DST, &nets(destinations))
        .with(DPORT, &ports)
}

/// Everything `policy` allows, per class, as disjoint cubes.
pub fn allowed(policy: &Policy) -> BTreeMap<Class, Region> {
    let mut out: BTreeMap<Class, Region> = BTreeMap::new();
    for r in &policy.rules {
        let (class, c) = unit(policy, r);
        let region = out.entry(class).or_default();
        // Add only what is not there yet: the cubes stay disjoint.
        let mut fresh = Region::of(c);
        for have in &region.0 {
            fresh = fresh.minus_cube(have);
        }
        region.0.extend(fresh.0);
    }
    out
}

/// Whether `c` lies inside the union of `cubes`.
fn covered(c: &Cube, cubes: &[Cube]) -> bool {
    let mut rest = Region::of(c.clone());
    for k in cubes {
        if rest.is_empty() {
            return true;
        }
        rest = rest.minus_cube(k);
    }
    rest.is_empty()
}

/// The rule delta from `old` to `new` (see the module documentation).
pub fn rule_delta(old: &Policy, new: &Policy) -> RuleDelta {
    let mut new_cubes: BTreeMap<Class, Vec<Cube>> = BTreeMap::new();
    for r in &new.rules {
        let (class, c) = unit(new, r);
        new_cubes.entry(class).or_default().push(c);
    }
    let mut removed = Vec::new();
    let mut kept: BTreeMap<Class, Vec<Cube>> = BTreeMap::new();
    for r in &old.rules {
        let (class, c) = unit(old, r);
        let inside = new_cubes.get(&class).is_some_and(|n| covered(&c, n));
        if inside {
            kept.entry(class).or_default().push(c);
        } else {
            removed.push(r.clone());
        }
    }
    let none = Vec::new();
    let mut added = Vec::new();
    for r in &new.rules {
        let (class, c) = unit(new, r);
        let stay = kept.get(&class).unwrap_or(&none);
        if covered(&c, stay) {
            continue;
        }
        if let Some(cut) = narrowed(new, r, stay) {
            added.push(cut);
        }
    }
    RuleDelta {
        removed: old.with_rules(removed),
        added: new.with_rules(added),
    }
}

/// `rule` cut down to the destination hosts, then the source hosts, with traffic outside
/// `stay`; the cut still holds every such packet of the rule. `None`: nothing left.
fn narrowed(policy: &Policy, rule: &Rule, stay: &[Cube]) -> Option<Rule> {
    let addr = |h: usize| policy.context.hosts.get(h).map(|x| x.address.trunc());
    let mut r = rule.clone();
    // Destination hosts whose part of the rule is not all kept.
    let keep_to: Vec<bool> = r
        .to_hosts
        .iter()
        .map(|&h| match addr(h) {
            Some(a) => !covered(&cube(&r.sources, &[a], &r), stay),
            None => true,
        })
        .collect();
    retain(&mut r.to_hosts, &keep_to);
    retain(&mut r.to_entries, &keep_to);
    r.destinations = aggregate(r.to_hosts.iter().filter_map(|&h| addr(h)));
    let keep_from: Vec<bool> = r
        .from_hosts
        .iter()
        .map(|&h| match addr(h) {
            Some(a) => !covered(&cube(&[a], &r.destinations, &r), stay),
            None => true,
        })
        .collect();
    retain(&mut r.from_hosts, &keep_from);
    retain(&mut r.from_entries, &keep_from);
    r.sources = aggregate(r.from_hosts.iter().filter_map(|&h| addr(h)));
    if r.from_hosts.is_empty() || r.to_hosts.is_empty() {
        return None;
    }
    // The entries of the hosts left on both sides (the rule's own when they share none).
    let union = |per: &[Vec<usize>]| {
        let mut v: Vec<usize> = per.iter().flatten().copied().collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let (from, to) = (union(&r.from_entries), union(&r.to_entries));
    let both: Vec<usize> = from
        .into_iter()
        .filter(|e| to.binary_search(e).is_ok())
        .collect();
    if !both.is_empty() {
        r.entries = both;
    }
    Some(r)
}

fn retain<T>(v: &mut Vec<T>, keep: &[bool]) {
    let mut i = 0;
    v.retain(|_| {
        let k = keep.get(i).copied().unwrap_or(true);
        i += 1;
        k
    });
}

fn aggregate(nets: impl Iterator<Item = IpNet>) -> Vec<IpNet> {
    let v: Vec<IpNet> = nets.collect();
    let mut out = IpNet::aggregate(&v);
    out.sort();
    out
}

/// The rule changes of `delta` for `target`, rendered by its generator with `opts` (the
/// options of `rules --target`): per output file, the file as the generator writes it for
/// only the removed rules (over the old side) and for only the added ones (over the new
/// side). A file the generator writes the same with no rules at all (a host or boundary the
/// change does not touch) is left out. A side whose deployment lacks the host or a zone that
/// `opts` narrows to has nothing to remove or add there.
pub fn render_changes(
    target: &str,
    delta: &RuleDelta,
    opts: &rdsports_policy::RenderOptions,
) -> Result<RuleChanges, rdsports_policy::GenError> {
    let mut files: BTreeMap<String, RuleFile> = BTreeMap::new();
    let mut count = [0usize; 2];
    for (i, policy) in [&delta.removed, &delta.added].into_iter().enumerate() {
        count[i] = policy.rules.len();
        if !within(policy, opts) || policy.rules.is_empty() {
            continue;
        }
        let empty: BTreeMap<String, String> =
            rdsports_policy::render_policy(target, &policy.with_rules(Vec::new()), opts)?
                .files
                .into_iter()
                .collect();
        let rendered = rdsports_policy::render_policy(target, policy, opts)?;
        for (name, text) in rendered.files {
            if empty.get(&name) == Some(&text) {
                continue;
            }
            let file = files.entry(name.clone()).or_insert_with(|| RuleFile {
                file: name,
                remove: None,
                add: None,
            });
            if i == 0 {
                file.remove = Some(text);
            } else {
                file.add = Some(text);
            }
        }
    }
    Ok(RuleChanges {
        target: target.to_owned(),
        removed: count[0],
        added: count[1],
        files: files.into_values().collect(),
    })
}

/// Whether the host and zones `opts` narrows to exist in `policy`'s deployment.
fn within(policy: &Policy, opts: &rdsports_policy::RenderOptions) -> bool {
    opts.host
        .as_deref()
        .is_none_or(|h| policy.host_index(h).is_some())
        && opts
            .boundary
            .as_ref()
            .is_none_or(|(a, b)| policy.zone_index(a).is_some() && policy.zone_index(b).is_some())
}
