//! The configuration as chains: access-list entries → cubes; interfaces and routes → the
//! packets each interface stands for; access groups and security levels → one chain per
//! interface a packet enters or leaves by.

use ipnet::IpNet;

use super::config::{AccessGroup, Ace, AsaConfig};
use super::resolve::Svc;
use crate::ReadOptions;
use crate::model::{Action, Chain, Decision, Note, Platform, Rule, Ruleset};
use crate::space::{self, Cube, DPORT, DST, PROTO, SPORT, SRC, Set};

/// The packets each interface stands for.
struct Zones {
    /// The interfaces (`nameif`), configured or bound by an access group, in that order.
    nameifs: Vec<String>,
    /// The addresses of each (the most specific network deciding, as a route lookup does).
    sets: Vec<Set>,
    /// The addresses of all of them.
    known: Set,
}

/// The rule set of a configuration.
pub(super) fn ruleset(mut config: AsaConfig, name: &str, opts: &ReadOptions) -> Ruleset {
    let mut notes = std::mem::take(&mut config.notes);
    let config = &config;
    let zones = zones(config, opts, name, &mut notes);
    let mut chains = Vec::new();
    let mut stages = Vec::new();
    for k in 0..zones.nameifs.len() {
        if zones.sets[k].is_empty() {
            continue;
        }
        stages.push(chains.len());
        chains.push(inbound(config, &zones, k, name, &mut notes));
    }
    for g in &config.access_groups.outbound {
        let Some(k) = zones.nameifs.iter().position(|n| n == &g.nameif) else {
            continue;
        };
        if zones.sets[k].is_empty() {
            continue;
        }
        stages.push(chains.len());
        chains.push(outbound(config, g, &zones.sets[k], name, &mut notes));
    }
    if let Some(c) = unknown_interface(config, &zones, name, &mut notes) {
        stages.insert(0, chains.len());
        chains.push(c);
    }
    let counters = !config.hit_counts.is_empty();
    Ruleset::appliance(Platform::CiscoAsa, chains, stages, notes, counters)
}

/// Which packets each interface stands for: the networks of the zone of its name (or the
/// one `--interface NAMEIF=ZONE` names), else its own address and the routes through it.
fn zones(config: &AsaConfig, opts: &ReadOptions, name: &str, notes: &mut Vec<Note>) -> Zones {
    let groups = &config.access_groups;
    let mut nameifs: Vec<String> = Vec::new();
    for n in config
        .interfaces
        .iter()
        .filter_map(|i| i.nameif.clone())
        .chain(groups.inbound.iter().map(|g| g.nameif.clone()))
        .chain(groups.outbound.iter().map(|g| g.nameif.clone()))
    {
        if !nameifs.contains(&n) {
            nameifs.push(n);
        }
    }
    let mut entries: Vec<(u128, usize, Set)> = Vec::new();
    for (k, nif) in nameifs.iter().enumerate() {
        let (nets, from_zone) = networks(config, opts, nif);
        if nets.is_empty() {
            notes.push(Note {
                location: name.to_owned(),
                message: format!("interface {nif}: no networks known (no zone of that name, no address or route): connections entering it are \"possible\"; name its zone with --interface {nif}=ZONE"),
            });
            continue;
        }
        if !from_zone {
            notes.push(Note {
                location: name.to_owned(),
                message: format!(
                    "interface {nif} has no zone of its name: taken to stand for {} (its address and routes in the configuration; --interface {nif}=ZONE names its zone)",
                    nets.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                ),
            });
        }
        for n in nets {
            let (a, b) = space::net_bounds(n);
            entries.push((b - a, k, Set::range(a, b)));
        }
    }
    // The most specific network decides (as a route lookup does).
    entries.sort_by_key(|e| (e.0, e.1));
    let mut sets = vec![Set::empty(); nameifs.len()];
    let mut taken = Set::empty();
    for (_, k, s) in entries {
        let own = s.minus(&taken);
        taken = taken.union(&own);
        sets[k] = sets[k].union(&own);
    }
    Zones {
        nameifs,
        sets,
        known: taken,
    }
}

/// The networks of interface `nif`, and whether a zone names them (else they are its
/// addresses and routes in the configuration).
fn networks(config: &AsaConfig, opts: &ReadOptions, nif: &str) -> (Vec<IpNet>, bool) {
    let given: Vec<&IpNet> = opts
        .interfaces
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(nif))
        .flat_map(|(_, v)| v)
        .collect();
    if !given.is_empty() {
        return (given.into_iter().copied().collect(), true);
    }
    let mut v: Vec<IpNet> = config
        .interfaces
        .iter()
        .filter(|i| i.nameif.as_deref() == Some(nif))
        .flat_map(|i| i.nets.iter().map(|n| n.trunc()))
        .collect();
    v.extend(
        config
            .routes
            .iter()
            .filter(|(i, _)| i == nif)
            .map(|(_, n)| *n),
    );
    (v, false)
}

/// The packets of an entry: one cube per service, and per exact / undecidable part of the
/// operands, with why it may match more.
fn cubes(ace: &Ace) -> Vec<(Cube, Option<String>)> {
    let mut merged: Vec<Svc> = Vec::new();
    for mut s in ace.services.iter().cloned() {
        if let Some(p) = &ace.sport {
            s.sport = s.sport.intersect(p);
        }
        if let Some(p) = &ace.dport {
            s.dport = s.dport.intersect(p);
        }
        match merged
            .iter_mut()
            .find(|m| m.sport == s.sport && m.dport == s.dport)
        {
            Some(m) => m.proto = m.proto.union(&s.proto),
            None => match merged
                .iter_mut()
                .find(|m| m.sport == s.sport && m.proto == s.proto)
            {
                Some(m) => m.dport = m.dport.union(&s.dport),
                None => merged.push(s),
            },
        }
    }
    let why = |extra: &[String]| {
        let mut v = ace.unknown.clone();
        v.extend(extra.iter().cloned());
        (!v.is_empty()).then(|| v.join("; "))
    };
    let (src, dst) = (&ace.src, &ace.dst);
    let mut cubes = Vec::new();
    for s in &merged {
        let base = Cube::full()
            .with(PROTO, &s.proto)
            .with(SPORT, &s.sport)
            .with(DPORT, &s.dport);
        if !src.set.is_empty() && !dst.set.is_empty() {
            cubes.push((
                base.clone().with(SRC, &src.set).with(DST, &dst.set),
                why(&[]),
            ));
        }
        if !src.unknown.is_empty() || !dst.unknown.is_empty() {
            let mut extra = src.unknown.clone();
            extra.extend(dst.unknown.iter().cloned());
            cubes.push((base.with(SRC, &src.wide).with(DST, &dst.wide), why(&extra)));
        }
    }
    cubes.retain(|(c, _)| !c.is_empty());
    cubes
}

/// The rules of access list `acl`, bound at `at`.
fn acl_rules(config: &AsaConfig, acl: &str, at: &str, notes: &mut Vec<Note>) -> Vec<Rule> {
    let Some((_, aces)) = config.acls.iter().find(|(n, _)| n == acl) else {
        notes.push(Note {
            location: at.to_owned(),
            message: format!(
                "access list {acl} is bound but has no entries: only its implicit deny"
            ),
        });
        return Vec::new();
    };
    let counters = !config.hit_counts.is_empty();
    let mut out = Vec::new();
    for a in aces {
        for (cube, possible) in cubes(a) {
            out.push(Rule {
                matches: cube,
                possible,
                action: if a.allow {
                    Action::Accept
                } else {
                    Action::Drop
                },
                location: a.loc.clone(),
                text: a.text.clone(),
                hits: if counters {
                    Some(
                        config
                            .hit_counts
                            .get(&(acl.to_owned(), a.line))
                            .copied()
                            .unwrap_or(0),
                    )
                } else {
                    None
                },
                never_new: a.inactive,
            });
        }
    }
    out
}

/// The chain of connections entering interface `k`: its inbound access list, then the
/// global one (its copy sees only this interface's packets), then the implicit deny; with
/// neither, security levels.
fn inbound(
    config: &AsaConfig,
    zones: &Zones,
    k: usize,
    name: &str,
    notes: &mut Vec<Note>,
) -> Chain {
    let nif = &zones.nameifs[k];
    let groups = &config.access_groups;
    let mut rules = Vec::new();
    let mut parts = Vec::new();
    if let Some(g) = groups.inbound.iter().find(|g| &g.nameif == nif) {
        rules.extend(acl_rules(config, &g.acl, &g.at, notes));
        parts.push(format!("access list {}", g.acl));
    }
    if let Some((acl, at)) = &groups.global {
        // The global list's copy for this interface sees only its packets (so that a
        // global entry for another interface is not "shadowed" by this one's list).
        rules.extend(acl_rules(config, acl, at, notes).into_iter().map(|mut g| {
            g.matches.0[SRC] = g.matches.0[SRC].intersect(&zones.sets[k]);
            g
        }));
        parts.push(format!("global access list {acl}"));
    }
    let policy_location = if parts.is_empty() {
        // No access list: security levels decide.
        rules.extend(security_levels(config, zones, k, name));
        format!("{name} (interface {nif}: security levels, no access list)")
    } else {
        format!(
            "{name} (interface {nif}: implicit deny at the end of {})",
            parts.join(", then ")
        )
    };
    Chain {
        name: format!("in interface {nif}"),
        rules,
        policy: Some(Decision::Drop),
        policy_location,
        only: Some(Cube::full().with(SRC, &zones.sets[k])),
        index: None,
    }
}

/// Interface `k` without an access list: connections to interfaces of a lower security
/// level (or the same one, with `same-security-traffic permit inter-interface`) pass.
fn security_levels(config: &AsaConfig, zones: &Zones, k: usize, name: &str) -> Vec<Rule> {
    let nif = &zones.nameifs[k];
    let level = |nif: &str| {
        config
            .interfaces
            .iter()
            .find(|i| i.nameif.as_deref() == Some(nif))
            .and_then(|i| i.level)
    };
    let Some(l) = level(nif) else {
        return vec![Rule {
            matches: Cube::full(),
            possible: Some(format!(
                "interface {nif} has no access list and no security-level in the export"
            )),
            action: Action::Accept,
            location: format!("{name} (interface {nif})"),
            text: format!("interface {nif}: security levels"),
            hits: None,
            never_new: false,
        }];
    };
    let mut rules = Vec::new();
    for (j, other) in zones.nameifs.iter().enumerate() {
        let Some(lj) = level(other) else { continue };
        if j == k || zones.sets[j].is_empty() || !(l > lj || (l == lj && config.same_security)) {
            continue;
        }
        rules.push(Rule {
            matches: Cube::full().with(DST, &zones.sets[j]),
            possible: None,
            action: Action::Accept,
            location: format!("{name} (interface {nif}: security-level {l})"),
            text: format!("security-level {l} ({nif}) to {lj} ({other})"),
            hits: None,
            never_new: false,
        });
    }
    let unknown = zones.known.complement(DST);
    if !unknown.is_empty() {
        rules.push(Rule {
            matches: Cube::full().with(DST, &unknown),
            possible: Some(format!("the destination is on no interface the configuration or the deployment names; security levels decide (interface {nif}: {l})")),
            action: Action::Accept,
            location: format!("{name} (interface {nif}: security-level {l})"),
            text: format!("security-level {l} ({nif}) to an unknown interface"),
            hits: None,
            never_new: false,
        });
    }
    rules
}

/// The chain of connections leaving by the interface of `g` (whose addresses are `set`).
fn outbound(
    config: &AsaConfig,
    g: &AccessGroup,
    set: &Set,
    name: &str,
    notes: &mut Vec<Note>,
) -> Chain {
    let (acl, nif) = (&g.acl, &g.nameif);
    Chain {
        name: format!("out interface {nif}"),
        rules: acl_rules(config, acl, &g.at, notes),
        policy: Some(Decision::Drop),
        policy_location: format!(
            "{name} (interface {nif}: implicit deny at the end of outbound access list {acl})"
        ),
        only: Some(Cube::full().with(DST, set)),
        index: None,
    }
}

/// The chain of connections from addresses on no known interface, if there are any: the
/// global access list when it is the only one (every interface reads it, so which one a
/// packet enters by does not matter), else "possible".
fn unknown_interface(
    config: &AsaConfig,
    zones: &Zones,
    name: &str,
    notes: &mut Vec<Note>,
) -> Option<Chain> {
    let unknown = zones.known.complement(SRC);
    if unknown.is_empty() {
        return None;
    }
    let groups = &config.access_groups;
    if groups.inbound.is_empty()
        && let Some((acl, at)) = &groups.global
    {
        return Some(Chain {
            name: format!("any interface (global access list {acl})"),
            rules: acl_rules(config, acl, at, notes),
            policy: Some(Decision::Drop),
            policy_location: format!(
                "{name} (implicit deny at the end of global access list {acl})"
            ),
            only: Some(Cube::full().with(SRC, &unknown)),
            index: None,
        });
    }
    Some(Chain {
        name: "unknown interface".into(),
        rules: vec![Rule {
            matches: Cube::full(),
            possible: Some("the source address is on no interface the configuration or the deployment names (--interface NAMEIF=ZONE)".into()),
            action: Action::Drop,
            location: name.to_owned(),
            text: "connections entering an unknown interface".into(),
            hits: None,
            never_new: false,
        }],
        policy: Some(Decision::Accept),
        policy_location: name.to_owned(),
        only: Some(Cube::full().with(SRC, &unknown)),
        index: None,
    })
}
