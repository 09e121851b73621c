//! The planner: (catalog, deployment) → the exact flows between concrete hosts.
//!
//! Pure and deterministic: the same inputs give the same flows in the same order.

use std::collections::BTreeMap;

use crate::catalog::{Atom, Catalog, Condition, Confidence, Entry, PortParam, PortRef};
use crate::deployment::{Deployment, NpsMode, Options, WinRm};
use crate::model::{Also, Flow, Host, HostOptions, PortRange, Protocol, Role, Zone};

/// The default largest plan: 4,000,000 flows. A plan that size takes about 250 MB to build
/// and about 400 MB to turn into rules; raise it with [`Scope::max_flows`] (the command
/// line's `--max-flows`).
pub const DEFAULT_MAX_FLOWS: u64 = 4_000_000;

/// Which part of the plan to build, and how large it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// Only the flows from or to this host (index into the deployment's hosts).
    pub host: Option<usize>,
    /// The largest number of flows to build; a larger plan is refused before anything is
    /// allocated for it.
    pub max_flows: u64,
}

impl Default for Scope {
    fn default() -> Self {
        Scope {
            host: None,
            max_flows: DEFAULT_MAX_FLOWS,
        }
    }
}

/// Plans `deployment` against `catalog`.
///
/// For every catalog entry whose conditions hold, every host with a source role gets a flow
/// to every other host with a destination role, per protocol and port. Roles on the same
/// host need no flow. Entries whose destination role no host has are reported in
/// [`Plan::unplanned`] and as a warning, never dropped silently.
///
/// The whole plan, however large: callers that take a deployment from a user call
/// [`plan_within`], which counts the flows first and refuses a plan beyond a limit.
pub fn plan<'a>(catalog: &'a Catalog, deployment: &'a Deployment) -> Plan<'a> {
    let scope = Scope {
        host: None,
        max_flows: u64::MAX,
    };
    match plan_within(catalog, deployment, scope) {
        Ok(p) => p,
        // Unreachable: no count exceeds u64::MAX. Build it anyway rather than panic.
        Err(too_large) => {
            let mut flows = Vec::new();
            let mut plan = expand(catalog, deployment, scope, *too_large.entries, &mut |f| {
                flows.push(f);
            });
            plan.flows = flows;
            plan
        }
    }
}

/// Plans `deployment` within `scope`: counts the flows first ([`estimate`]) and refuses a
/// plan larger than `scope.max_flows` with a [`TooLarge`] that says how many flows it would
/// have and which entries make it large. Memory is reserved for the counted flows only.
pub fn plan_within<'a>(
    catalog: &'a Catalog,
    deployment: &'a Deployment,
    scope: Scope,
) -> Result<Plan<'a>, TooLarge> {
    let entries = active(catalog, deployment);
    let estimate = count(catalog, deployment, &entries.active, scope);
    if estimate.flows > scope.max_flows {
        return Err(TooLarge {
            estimate,
            limit: scope.max_flows,
            entries: Box::new(entries),
        });
    }
    // Reserving the counted flows once avoids copying millions of flows while growing.
    let mut flows = Vec::with_capacity(usize::try_from(estimate.flows).unwrap_or(usize::MAX));
    let mut plan = expand(catalog, deployment, scope, entries, &mut |f| flows.push(f));
    plan.flows = flows;
    Ok(plan)
}

/// [`plan_within`] without keeping the flows: each is handed to `each` as it is built, in plan
/// order, and the plan returned has none (`flows` is empty; its warnings and unplanned
/// entries are those of [`plan_within`]). For callers that fold the flows into something
/// smaller, such as an aggregated policy: the millions of flows of a large farm are never in
/// memory at once. A plan beyond the limit is refused before any flow is handed over.
pub fn plan_each<'a>(
    catalog: &'a Catalog,
    deployment: &'a Deployment,
    scope: Scope,
    each: &mut dyn FnMut(Flow),
) -> Result<Plan<'a>, TooLarge> {
    let entries = active(catalog, deployment);
    let estimate = count(catalog, deployment, &entries.active, scope);
    if estimate.flows > scope.max_flows {
        return Err(TooLarge {
            estimate,
            limit: scope.max_flows,
            entries: Box::new(entries),
        });
    }
    Ok(expand(catalog, deployment, scope, entries, each))
}

/// How many flows the plan of `deployment` within `scope` has, counted without building it
/// (the limit in `scope` is not applied).
pub fn estimate(catalog: &Catalog, deployment: &Deployment, scope: Scope) -> Estimate {
    count(
        catalog,
        deployment,
        &active(catalog, deployment).active,
        scope,
    )
}

/// The entries that apply to a deployment, and what the planner says about the others.
#[derive(Debug, Clone)]
struct Entries {
    active: Vec<Active>,
    unplanned: Vec<Unplanned>,
    warnings: Vec<String>,
    skipped_low: Vec<usize>,
}

/// The catalog entries that apply, with their ports resolved and their hosts found.
fn active(catalog: &Catalog, deployment: &Deployment) -> Entries {
    let d = deployment;
    let o = &d.options;
    let mut unplanned: Vec<Unplanned> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let mut skipped_low = Vec::new();
    let by_role: Vec<Vec<usize>> = Role::ALL
        .iter()
        .map(|r| {
            d.hosts
                .iter()
                .enumerate()
                .filter(|(_, h)| h.has(*r))
                .map(|(i, _)| i)
                .collect()
        })
        .collect();
    let hosts_with = |roles: &[Role]| -> Vec<usize> {
        let mut v: Vec<usize> = roles
            .iter()
            .flat_map(|r| by_role[*r as usize].iter().copied())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };

    let mut active: Vec<Active> = Vec::new();
    for (e, entry) in catalog.entries.iter().enumerate() {
        // Conditions of one end's host (RDP over UDP on the listener, the gateway's UDP
        // transport) are decided per host below; the others hold for the deployment.
        if !entry
            .when
            .iter()
            .all(|c| end_of(c, entry) != End::Deployment || holds(c, d))
        {
            continue;
        }
        // The hosts whose own conditions hold: a session host with RDP over UDP off gets no
        // UDP RDP, a gateway with its UDP transport off neither takes nor forwards UDP.
        let of_end = |end: End, hosts: Vec<usize>| -> Vec<usize> {
            let conditions: Vec<&Condition> = entry
                .when
                .iter()
                .filter(|c| end_of(c, entry) == end)
                .collect();
            if conditions.is_empty() {
                return hosts;
            }
            hosts
                .into_iter()
                .filter(|&h| {
                    let ho = d.options_for(h);
                    conditions.iter().all(|c| holds_on(c, d, &ho))
                })
                .collect()
        };
        if entry.confidence == Confidence::Low && !o.low_confidence {
            let applies = !of_end(End::From, hosts_with(&entry.from)).is_empty()
                && !of_end(End::To, hosts_with(&entry.to)).is_empty();
            if applies {
                skipped_low.push(e);
            }
            continue;
        }
        let mut ports = Vec::with_capacity(entry.ports.len());
        for p in &entry.ports {
            match resolve(*p, o) {
                Some(r) => ports.push(r),
                None => warnings.push(format!(
                    "{}: {} has no value, so that part of the flow is not planned: \
                     the firewall needs an FTP helper (nf_conntrack_ftp, `ct helper`, \
                     ASA `inspect ftp`) or set option ftp_passive_range",
                    entry.id,
                    match p {
                        PortRef::Param(p) => p.name(),
                        PortRef::Fixed(_) => "port",
                    }
                )),
            }
        }
        let sources = hosts_with(&entry.from);
        let targets = hosts_with(&entry.to);
        if sources.is_empty() || ports.is_empty() {
            continue;
        }
        if targets.is_empty() {
            let n = sources.len() * entry.protocols.len() * ports.len();
            unplanned.push(Unplanned {
                missing: entry.to[0],
                entry: e,
                flows: n,
            });
            continue;
        }
        let sources = of_end(End::From, sources);
        let targets = of_end(End::To, targets);
        if sources.is_empty() || targets.is_empty() {
            continue;
        }
        // A port the destination sets for itself (its RDP listener, its gateway ports): the
        // targets fall into groups of the same ports, one active entry each.
        let per_host = entry
            .ports
            .iter()
            .any(|p| matches!(p, PortRef::Param(p) if p.is_per_host()));
        let groups: Vec<(Vec<PortRange>, Vec<usize>)> = if per_host && d.has_host_settings() {
            let mut groups: BTreeMap<Vec<PortRange>, Vec<usize>> = BTreeMap::new();
            for t in targets {
                let ho = d.options_for(t);
                let at: Vec<PortRange> = entry
                    .ports
                    .iter()
                    .filter_map(|p| resolve_for(*p, o, &ho))
                    .collect();
                groups.entry(at).or_default().push(t);
            }
            groups.into_iter().collect()
        } else {
            vec![(ports, targets)]
        };
        for (ports, targets) in groups {
            active.push(Active {
                entry: e,
                protocols: entry.protocols.clone(),
                ports,
                sources: sources.clone(),
                targets,
            });
        }
    }
    Entries {
        active,
        unplanned,
        warnings,
        skipped_low,
    }
}

/// Builds the flows of the active entries within `scope`, handing each to `each` in plan
/// order; the plan returned has the warnings and no flows.
fn expand<'a>(
    catalog: &'a Catalog,
    deployment: &'a Deployment,
    scope: Scope,
    entries: Entries,
    each: &mut dyn FnMut(Flow),
) -> Plan<'a> {
    let d = deployment;
    let Entries {
        active,
        unplanned,
        mut warnings,
        skipped_low,
    } = entries;
    // The flows are built in their final order, sorted by source zone, destination zone,
    // source host, destination host, protocol and port: for each pair of zones, each source
    // host of the first zone in turn gets every (to, protocol, ports) it needs in the second
    // zone, merged across entries. Flows that several entries need can only coincide for the
    // same source, so a per-source buffer replaces a global index (and keeps memory flat for
    // large farms), and no sort of the whole plan is needed.
    let zone_of: Vec<usize> = d.hosts.iter().map(|h| h.zone).collect();
    let n_zones = zone_of.iter().max().map_or(0, |z| z + 1);
    // Each active entry's targets by zone: (zone, targets in it, sorted), zones ascending.
    let by_zone: Vec<Vec<(usize, Vec<usize>)>> = active
        .iter()
        .map(|a| {
            let mut zones: Vec<(usize, Vec<usize>)> = Vec::new();
            let mut targets = a.targets.clone();
            targets.sort_by_key(|&t| (zone_of[t], t));
            for t in targets {
                match zones.last_mut() {
                    Some((z, list)) if *z == zone_of[t] => list.push(t),
                    _ => zones.push((zone_of[t], vec![t])),
                }
            }
            zones
        })
        .collect();
    // Each host's entries as a source (indices into `active`, in catalog order), and the
    // zones those entries reach from it, ascending.
    let mut entries_of: Vec<Vec<usize>> = vec![Vec::new(); d.hosts.len()];
    for (i, a) in active.iter().enumerate() {
        for &from in &a.sources {
            entries_of[from].push(i);
        }
    }
    let reach: Vec<Vec<usize>> = entries_of
        .iter()
        .map(|es| {
            let mut zones: Vec<usize> = es
                .iter()
                .flat_map(|&i| by_zone[i].iter().map(|(z, _)| *z))
                .collect();
            zones.sort_unstable();
            zones.dedup();
            zones
        })
        .collect();
    let mut sources_by_zone: Vec<Vec<usize>> = vec![Vec::new(); n_zones];
    for (from, es) in entries_of.iter().enumerate() {
        if !es.is_empty() {
            sources_by_zone[zone_of[from]].push(from);
        }
    }
    let mut buffer: Vec<(usize, Protocol, PortRange, usize)> = Vec::new();
    for sources in &sources_by_zone {
        for to_zone in 0..n_zones {
            for &from in sources {
                if reach[from].binary_search(&to_zone).is_err() {
                    continue;
                }
                buffer.clear();
                // With a host in scope, the other sources only need their flows to that host.
                let only_to = scope.host.filter(|&h| h != from);
                for &i in &entries_of[from] {
                    let a = &active[i];
                    let Ok(z) = by_zone[i].binary_search_by_key(&to_zone, |(z, _)| *z) else {
                        continue;
                    };
                    let in_zone = by_zone[i][z].1.as_slice();
                    let targets: &[usize] = match only_to {
                        None => in_zone,
                        Some(h) => match in_zone.binary_search(&h) {
                            Ok(k) => &in_zone[k..=k],
                            Err(_) => &[],
                        },
                    };
                    for &to in targets.iter().filter(|&&to| to != from) {
                        for &protocol in &a.protocols {
                            for &range in &a.ports {
                                buffer.push((to, protocol, range, a.entry));
                            }
                        }
                    }
                }
                buffer.sort_unstable();
                let mut i = 0;
                while i < buffer.len() {
                    let (to, protocol, ports, entry) = buffer[i];
                    let mut also = Also::default();
                    let mut j = i + 1;
                    while j < buffer.len()
                        && buffer[j].0 == to
                        && buffer[j].1 == protocol
                        && buffer[j].2 == ports
                    {
                        if buffer[j].3 != entry && !also.contains(&buffer[j].3) {
                            also.push(buffer[j].3);
                        }
                        j += 1;
                    }
                    each(Flow {
                        from,
                        to,
                        protocol,
                        ports,
                        entry,
                        also,
                    });
                    i = j;
                }
            }
        }
    }

    // One warning per missing role, naming the entries it holds back.
    let mut missing: Vec<Role> = unplanned.iter().map(|u| u.missing).collect();
    missing.sort();
    missing.dedup();
    for role in missing {
        let of_role: Vec<&Unplanned> = unplanned.iter().filter(|u| u.missing == role).collect();
        let n: usize = of_role.iter().map(|u| u.flows).sum();
        let ids: Vec<&str> = of_role
            .iter()
            .map(|u| catalog.entries[u.entry].id.as_str())
            .collect();
        warnings.push(format!(
            "no host has role {role}: {n} flow{} not planned ({})",
            if n == 1 { "" } else { "s" },
            ids.join(", ")
        ));
    }
    if !skipped_low.is_empty() {
        let ids: Vec<&str> = skipped_low
            .iter()
            .map(|&e| catalog.entries[e].id.as_str())
            .collect();
        warnings.push(format!(
            "low-confidence catalog rows not planned: {} (set option low_confidence = true to include them)",
            ids.join(", ")
        ));
    }
    // One line per host that takes a role by default, the first few of each role in full.
    let mut takers = [0usize; Role::ALL.len()];
    for h in &d.hosts {
        for &r in &h.implied_roles {
            takers[r as usize] += 1;
            if takers[r as usize] <= crate::diag::SHOWN_PER_KIND {
                warnings.push(format!(
                    "{} takes role {r} by default (no host has it)",
                    h.name
                ));
            }
        }
    }
    for role in Role::ALL {
        if let Some(more) = takers[role as usize].checked_sub(crate::diag::SHOWN_PER_KIND)
            && more > 0
        {
            warnings.push(format!(
                "and {} more hosts take role {role} by default",
                crate::diag::thousands(more)
            ));
        }
    }
    Plan {
        catalog,
        deployment,
        flows: Vec::new(),
        unplanned,
        warnings,
    }
}

/// A catalog entry that applies to the deployment, ready to expand into flows.
#[derive(Debug, Clone)]
struct Active {
    entry: usize,
    protocols: Vec<Protocol>,
    ports: Vec<PortRange>,
    sources: Vec<usize>,
    targets: Vec<usize>,
}

/// How many flows a plan has, counted before it is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    /// The number of flows (exact when `exact`, else an upper bound).
    pub flows: u64,
    /// Whether `flows` is the exact count. It is, unless the hosts fall into more than
    /// [`EXACT_GROUPS`] groups of hosts with the same entries, where the count is the sum of
    /// the entries' products (duplicates across entries counted twice).
    pub exact: bool,
    /// The entries with the most flows, largest first (at most three).
    pub largest: Vec<Contribution>,
    /// How many (source zone, destination zone) pairs the flows join (0 for a plan scoped
    /// to one host): every pair is a rule set of its own in the firewall targets, and `rules` and
    /// `report` need about 5 KB per pair. Counted
    /// up to [`MAX_ZONE_PAIRS_COUNTED`]; beyond [`EXACT_GROUPS`] × 2 groups of hosts per
    /// zone, the square of that number (an upper bound).
    pub zone_pairs: u64,
}

/// Zone pairs counted before [`Estimate::zone_pairs`] stops counting.
pub const MAX_ZONE_PAIRS_COUNTED: u64 = 1_000_000;

/// The default largest number of zone pairs `rules` and `report` accept: 50,000 (a
/// deployment of 220 zones that all talk to each other; about 5 KB each, 250 MB).
pub const DEFAULT_MAX_ZONE_PAIRS: u64 = 50_000;

/// The default largest number of zone pairs `diagram` and `report` draw: 1,000 (the
/// diagram's layout grows much faster than the pairs: 100 zones of one host each, 3,000
/// pairs, take 18 s).
pub const DEFAULT_MAX_DIAGRAM_ZONE_PAIRS: u64 = 1_000;

/// One catalog entry's share of a plan: sources × destinations × ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    /// Catalog id (`S24`).
    pub id: String,
    /// The entry's source roles, joined with `/` (beyond two: `gateway/web-access/+9 roles`).
    pub from: String,
    /// The entry's destination roles, as `from`.
    pub to: String,
    /// How many hosts are sources.
    pub sources: usize,
    /// How many hosts are destinations.
    pub targets: usize,
    /// At most this many flows (sources × destinations × protocols × ports).
    pub flows: u64,
}

/// Above this many groups of hosts (hosts that are sources and destinations of the same
/// entries) the estimate is an upper bound: counting exactly takes groups² steps.
pub const EXACT_GROUPS: usize = 4096;

/// A plan larger than the limit, refused before it was built.
#[derive(Debug, Clone)]
pub struct TooLarge {
    /// How many flows the plan would have, and which entries make it large.
    pub estimate: Estimate,
    /// The limit it exceeds.
    pub limit: u64,
    entries: Box<Entries>,
}

impl std::fmt::Display for TooLarge {
    /// `the plan would have 9,006,000 flows, more than the limit of 4,000,000; the largest
    /// entries: S24 rdp ...`, in one paragraph with a line per large entry.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let e = &self.estimate;
        write!(
            f,
            "the plan would have {}{} flows, more than the limit of {}",
            if e.exact { "" } else { "up to " },
            thousands(e.flows),
            thousands(self.limit)
        )?;
        if !e.largest.is_empty() {
            f.write_str("; the largest entries:")?;
        }
        for c in &e.largest {
            write!(
                f,
                "\n  {}: {} {} × {} {} = {} flows",
                c.id,
                thousands(c.sources as u64),
                c.from,
                thousands(c.targets as u64),
                c.to,
                thousands(c.flows)
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for TooLarge {}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    crate::diag::thousands(usize::try_from(n).unwrap_or(usize::MAX))
}

/// Counts the flows [`expand`] would build, in time linear in the hosts plus the square of
/// the number of host groups, and memory linear in the hosts.
///
/// Hosts that are sources of the same entries and destinations of the same entries get the
/// same flows, so they form a group; between two groups every pair of hosts (except a host
/// with itself) gets one flow per distinct (protocol, ports) of the entries they share.
fn count(catalog: &Catalog, d: &Deployment, active: &[Active], scope: Scope) -> Estimate {
    // An entry whose destinations set their own ports is several active entries in a row:
    // one contribution, its destinations and flows summed.
    let mut largest: Vec<Contribution> = Vec::new();
    let mut last_entry = None;
    for a in active {
        let entry = &catalog.entries[a.entry];
        let roles = |rs: &[Role]| match rs {
            [one] => format!("{one}"),
            [a, b] => format!("{a}/{b}"),
            [a, b, rest @ ..] => format!("{a}/{b}/+{} roles", rest.len()),
            [] => String::new(),
        };
        let c = Contribution {
            id: entry.id.clone(),
            from: roles(&entry.from),
            to: roles(&entry.to),
            sources: a.sources.len(),
            targets: a.targets.len(),
            flows: (a.sources.len() as u64)
                .saturating_mul(a.targets.len() as u64)
                .saturating_mul((a.protocols.len() * a.ports.len()) as u64),
        };
        match largest.last_mut() {
            Some(last) if last_entry == Some(a.entry) => {
                last.sources = last.sources.max(c.sources);
                last.targets += c.targets;
                last.flows = last.flows.saturating_add(c.flows);
            }
            _ => largest.push(c),
        }
        last_entry = Some(a.entry);
    }
    let bound = largest
        .iter()
        .fold(0u64, |sum, c| sum.saturating_add(c.flows));
    largest.sort_by(|a, b| b.flows.cmp(&a.flows).then_with(|| a.id.cmp(&b.id)));
    largest.truncate(3);
    let zone_pairs = if scope.host.is_some() {
        0
    } else {
        count_zone_pairs(d, active)
    };
    let upper_bound = Estimate {
        flows: bound,
        exact: false,
        largest: largest.clone(),
        zone_pairs,
    };
    if active.len() > 128 {
        return upper_bound;
    }
    // Each host's entries as a source and as a destination.
    let mut src = vec![0u128; d.hosts.len()];
    let mut dst = vec![0u128; d.hosts.len()];
    for (i, a) in active.iter().enumerate() {
        for &h in &a.sources {
            src[h] |= 1 << i;
        }
        for &h in &a.targets {
            dst[h] |= 1 << i;
        }
    }
    let mut index: std::collections::HashMap<(u128, u128), usize> =
        std::collections::HashMap::new();
    let mut groups: Vec<(u128, u128, u64)> = Vec::new();
    let mut group_of = vec![0usize; d.hosts.len()];
    for h in 0..d.hosts.len() {
        let key = (src[h], dst[h]);
        let g = *index.entry(key).or_insert_with(|| {
            groups.push((key.0, key.1, 0));
            groups.len() - 1
        });
        groups[g].2 += 1;
        group_of[h] = g;
    }
    // Distinct (protocol, ports) of a set of entries, remembered per set.
    let mut memo: std::collections::HashMap<u128, u64> = std::collections::HashMap::new();
    let mut distinct = |mask: u128| -> u64 {
        *memo.entry(mask).or_insert_with(|| {
            let mut ports: Vec<(Protocol, PortRange)> = active
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .flat_map(|(_, a)| {
                    a.protocols
                        .iter()
                        .flat_map(|&p| a.ports.iter().map(move |&r| (p, r)))
                })
                .collect();
            ports.sort_unstable();
            ports.dedup();
            ports.len() as u64
        })
    };
    let mut flows = 0u64;
    let mut add = |pairs: u64, mask: u128, distinct: &mut dyn FnMut(u128) -> u64| {
        if mask != 0 && pairs != 0 {
            flows = flows.saturating_add(pairs.saturating_mul(distinct(mask)));
        }
    };
    match scope.host {
        Some(h) if h < d.hosts.len() => {
            let gh = group_of[h];
            for (g, &(s, t, n)) in groups.iter().enumerate() {
                let others = n - u64::from(g == gh);
                add(others, groups[gh].0 & t, &mut distinct);
                add(others, s & groups[gh].1, &mut distinct);
            }
        }
        _ => {
            if groups.len() > EXACT_GROUPS {
                return upper_bound;
            }
            for (a, &(s, _, na)) in groups.iter().enumerate() {
                if s == 0 {
                    continue;
                }
                for (b, &(_, t, nb)) in groups.iter().enumerate() {
                    let pairs = na * nb - if a == b { na } else { 0 };
                    add(pairs, s & t, &mut distinct);
                }
            }
        }
    }
    Estimate {
        flows,
        exact: true,
        largest,
        zone_pairs,
    }
}

/// The (source zone, destination zone) pairs joined by at least one flow, counted over
/// groups of hosts with the same zone and entries (up to [`MAX_ZONE_PAIRS_COUNTED`]).
fn count_zone_pairs(d: &Deployment, active: &[Active]) -> u64 {
    if active.len() > 128 {
        return 0;
    }
    let mut keys = vec![(0usize, 0u128, 0u128); d.hosts.len()];
    for (h, host) in d.hosts.iter().enumerate() {
        keys[h].0 = host.zone;
    }
    for (i, a) in active.iter().enumerate() {
        for &h in &a.sources {
            keys[h].1 |= 1 << i;
        }
        for &h in &a.targets {
            keys[h].2 |= 1 << i;
        }
    }
    let mut count: std::collections::HashMap<(usize, u128, u128), u64> =
        std::collections::HashMap::new();
    for k in keys {
        *count.entry(k).or_insert(0) += 1;
    }
    let groups: Vec<((usize, u128, u128), u64)> = count.into_iter().collect();
    if groups.len() > 2 * EXACT_GROUPS {
        let n = groups.len() as u64;
        return n.saturating_mul(n);
    }
    let mut pairs: std::collections::HashSet<(usize, usize)> = std::collections::HashSet::new();
    for (a, &((za, s, _), na)) in groups.iter().enumerate() {
        if s == 0 {
            continue;
        }
        for (b, &((zb, _, t), _)) in groups.iter().enumerate() {
            // A group of one host with itself has no flow.
            if s & t != 0 && !(a == b && na == 1) {
                pairs.insert((za, zb));
                if pairs.len() as u64 >= MAX_ZONE_PAIRS_COUNTED {
                    return MAX_ZONE_PAIRS_COUNTED;
                }
            }
        }
    }
    pairs.len() as u64
}

/// Which host decides a condition of a catalog entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The deployment (its options, its roles).
    Deployment,
    /// Each source host, by its own settings.
    From,
    /// Each destination host, by its own settings.
    To,
}

/// The host that decides condition `c` of `entry`: `rdp_udp` the RDP listener (the
/// destination), `gateway_udp` the gateway (the destination of clients' UDP, the source of
/// the UDP it forwards to session hosts); every other condition the deployment.
fn end_of(c: &Condition, entry: &Entry) -> End {
    match c.atom {
        Atom::RdpUdp => End::To,
        Atom::GatewayUdp if entry.to.contains(&Role::Gateway) => End::To,
        Atom::GatewayUdp if entry.from.contains(&Role::Gateway) => End::From,
        _ => End::Deployment,
    }
}

/// Whether a condition decided per host ([`end_of`]) holds for a host with the effective
/// options `o` (any other condition: whether it holds for the deployment `d`).
fn holds_on(c: &Condition, d: &Deployment, o: &HostOptions) -> bool {
    let value = match c.atom {
        Atom::RdpUdp => o.rdp_udp,
        Atom::GatewayUdp => o.gateway_udp,
        _ => return holds(c, d),
    };
    value != c.negated
}

/// Whether one condition holds for the deployment.
fn holds(c: &Condition, d: &Deployment) -> bool {
    let o = &d.options;
    let value = match c.atom {
        Atom::Activation(a) => o.activation == a,
        Atom::BrokerHa => o.broker_ha,
        Atom::Crl(m) => o.crl.contains(&m),
        Atom::Direct => o.direct_access || !d.has(Role::Gateway),
        Atom::DomainBaseline => o.domain_baseline,
        Atom::GatewayFarm => o.gateway_farm,
        Atom::GatewayUdp => o.gateway_udp,
        Atom::Has(r) => d.has(r),
        Atom::Ldaps => o.ldaps,
        Atom::Licensing(m) => o.licensing_mode == m,
        Atom::Netbios => o.netbios,
        Atom::NpsCentral => o.nps == NpsMode::Central,
        Atom::RdpUdp => o.rdp_udp,
        Atom::SqlBrowser => o.sql_browser,
        Atom::SslBridging(b) => o.ssl_bridging == b,
        Atom::VdiUnmanaged => o.vdi_unmanaged,
        Atom::WebAccessPerimeter => web_access_perimeter(d),
        Atom::WebClient => o.web_client,
    };
    value != c.negated
}

/// Some RD Web Access host sits in another zone than some connection broker.
fn web_access_perimeter(d: &Deployment) -> bool {
    d.hosts_with(Role::WebAccess).any(|(_, w)| {
        d.hosts_with(Role::ConnectionBroker)
            .any(|(_, b)| b.zone != w.zone)
    })
}

/// At most `n` ports of `range` to stand for the whole range: both ends, then ports
/// spread evenly between them, sorted. `listen` opens these and `check` probes them when a
/// range cannot be discovered (an endpoint mapper that is an rdsports listener).
pub fn range_sample(range: PortRange, n: usize) -> Vec<u16> {
    let (a, b) = (u32::from(range.start()), u32::from(range.end()));
    let n = n.max(2).min(range.len() as usize);
    let mut ports: Vec<u16> = (0..n)
        .map(|i| {
            let step = (b - a) as u64 * i as u64 / (n as u64 - 1).max(1);
            u16::try_from(u64::from(a) + step).unwrap_or(range.end())
        })
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// The concrete ports of a catalog port for these options (`None`: no value configured).
/// A port a host may set for itself takes the deployment's value here: the ports at one
/// host are [`resolve_for`]'s.
pub fn resolve(p: PortRef, o: &Options) -> Option<PortRange> {
    let single = |port: u16| PortRange::single(port);
    match p {
        PortRef::Fixed(r) => Some(r),
        PortRef::Param(p) => match p {
            PortParam::AdRpc => o.ad_rpc_port.map_or(Some(o.rpc_range), single),
            PortParam::FtpPassive => o.ftp_passive_range,
            PortParam::GatewayHttps => single(o.gateway_https_port),
            PortParam::GatewayUdp => single(o.gateway_udp_port),
            PortParam::Rdp => single(o.rdp_port),
            PortParam::Rpc => Some(o.rpc_range),
            PortParam::Sql => single(o.sql_port),
            PortParam::Winrm => single(match o.winrm {
                WinRm::Http => 5985,
                WinRm::Https => 5986,
            }),
            PortParam::Wmi => single(o.wmi_port),
        },
    }
}

/// The concrete ports of a catalog port at a destination host whose effective per-host
/// options are `host` ([`Deployment::options_for`]): its RDP and gateway ports are its own,
/// every other port the deployment's (`o`).
pub fn resolve_for(p: PortRef, o: &Options, host: &HostOptions) -> Option<PortRange> {
    let single = |port: u16| PortRange::single(port);
    match p {
        PortRef::Param(PortParam::Rdp) => single(host.rdp_port),
        PortRef::Param(PortParam::GatewayHttps) => single(host.gateway_https_port),
        PortRef::Param(PortParam::GatewayUdp) => single(host.gateway_udp_port),
        other => resolve(other, o),
    }
}

/// The flows a deployment needs.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    /// The catalog the plan came from.
    pub catalog: &'a Catalog,
    /// The deployment the plan is for.
    pub deployment: &'a Deployment,
    /// One flow per (from, to, protocol, ports), sorted by source zone, destination zone,
    /// source host, destination host, protocol and port.
    pub flows: Vec<Flow>,
    /// Catalog entries that applied but could not be planned because no host has a role.
    pub unplanned: Vec<Unplanned>,
    /// Things the reader must know (unplanned flows, FTP data channels, defaults taken).
    pub warnings: Vec<String>,
}

/// Catalog entries that apply to the deployment but have no host for one side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unplanned {
    /// The role no host has.
    pub missing: Role,
    /// Index of the entry in the catalog.
    pub entry: usize,
    /// How many flows were not planned for want of that role.
    pub flows: usize,
}

impl<'a> Plan<'a> {
    /// The catalog entry that justifies `flow`.
    pub fn entry(&self, flow: &Flow) -> &'a Entry {
        &self.catalog.entries[flow.entry]
    }

    /// Source host of `flow`.
    pub fn from(&self, flow: &Flow) -> &'a Host {
        &self.deployment.hosts[flow.from]
    }

    /// Destination host of `flow`.
    pub fn to(&self, flow: &Flow) -> &'a Host {
        &self.deployment.hosts[flow.to]
    }

    /// Zone the flow leaves.
    pub fn from_zone(&self, flow: &Flow) -> &'a Zone {
        self.deployment.zone_of(flow.from)
    }

    /// Zone the flow enters.
    pub fn to_zone(&self, flow: &Flow) -> &'a Zone {
        self.deployment.zone_of(flow.to)
    }

    /// Whether the flow leaves its zone (crosses a firewall between zones).
    pub fn crosses_zones(&self, flow: &Flow) -> bool {
        self.deployment.hosts[flow.from].zone != self.deployment.hosts[flow.to].zone
    }

    /// Catalog ids of every entry behind `flow`, primary first.
    pub fn catalog_ids(&self, flow: &Flow) -> Vec<&'a str> {
        std::iter::once(flow.entry)
            .chain(flow.also.iter().copied())
            .map(|i| self.catalog.entries[i].id.as_str())
            .collect()
    }

    /// The ports host `to` must accept: every single port of a flow to it, and for a range
    /// `sample` ports including both ends ([`range_sample`]). Sorted by protocol and port;
    /// each says which flows need it. `listen` opens these.
    pub fn inbound(&self, to: usize, sample: usize) -> Vec<Inbound> {
        // (protocol, port) -> (service and range, catalog id) -> sources
        type Why = BTreeMap<(String, String), Vec<String>>;
        let mut ports: BTreeMap<(Protocol, u16), Why> = BTreeMap::new();
        for f in self.flows.iter().filter(|f| f.to == to) {
            let entry = self.entry(f);
            let (list, label) = if f.ports.len() == 1 {
                (vec![f.ports.start()], entry.service.clone())
            } else {
                (
                    range_sample(f.ports, sample),
                    format!("{} {}", entry.service, f.ports),
                )
            };
            for port in list {
                let sources = ports
                    .entry((f.protocol, port))
                    .or_default()
                    .entry((label.clone(), entry.id.clone()))
                    .or_default();
                let from = &self.from(f).name;
                if !sources.contains(from) {
                    sources.push(from.clone());
                }
            }
        }
        ports
            .into_iter()
            .map(|((protocol, port), why)| Inbound {
                protocol,
                port,
                why: why
                    .into_iter()
                    .map(|((label, id), from)| format!("{label} from {} ({id})", from.join(", ")))
                    .collect::<Vec<_>>()
                    .join("; "),
            })
            .collect()
    }
}

/// A port a host must accept, and the planned flows that need it ([`Plan::inbound`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// TCP or UDP.
    pub protocol: Protocol,
    /// The port.
    pub port: u16,
    /// Why: "rdp from gw01 (S24)", "msrpc 49152-65535 from cb01, cb02 (S10b)" ...
    pub why: String,
}

#[cfg(test)]
mod tests;
