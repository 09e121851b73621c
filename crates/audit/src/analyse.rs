//! The audit proper: planned flows against a rule set.

use std::collections::{BTreeMap, HashMap};

use rdsports_core::model::Protocol;
use rdsports_core::plan::Plan;
use rdsports_policy::{Policy, RenderOptions};

use crate::eval::{self, Decider, Start, Verdict};
use crate::model::{Action, Decision, Hook, Ruleset};
use crate::report::{
    Audit, Counts, DeadRule, Fix, FlowResult, FlowsListed, SCHEMA_VERSION, Status, TooBroad, Unused,
};
use crate::space::{self, Cube, DPORT, DST, PROTO, Region, SPORT, SRC, Set, TCP, UDP};

/// Which planned flows the audited rule set must carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every flow between zones, through the forward hook (a firewall between all zones).
    CrossZone,
    /// The flows between two zones, both directions, through the forward hook.
    Boundary(usize, usize),
    /// The flows to a host (input hook) and from it (output hook): a host firewall.
    Host(usize),
}

/// The source ports a planned flow may use: 1024–65535 (every system's ephemeral range lies
/// inside it), so a rule limited to source ports blocks or allows it only in part.
pub const EPHEMERAL: (u128, u128) = (1024, 65535);

/// How many cubes a rule's unshadowed part may split into before the shadow computation
/// gives up on that rule (and says so).
const SHADOW_BUDGET: usize = 2_000;

/// A planned flow with the hook that sees it: 8 bytes, as there is one per flow in scope
/// (2.9 M for the benchmark's plan). A plan holds fewer than 2^32 flows (each of its flows
/// takes over 50 bytes: 2^32 of them would be over 200 GB).
struct Planned {
    index: u32,
    hook: Hook,
}

impl Planned {
    fn flow<'p>(&self, plan: &'p Plan<'_>) -> &'p rdsports_core::model::Flow {
        &plan.flows[self.index as usize]
    }
}

/// The packets a verdict is about: for a population such as `0.0.0.0/0` in zone internet,
/// only its addresses outside the deployment's other zones (the internal networks are not
/// "the internet", as Azure's `Internet` tag says too). The plan region ([`flow_cube`]) is
/// every packet the flow may use, what the `rules` generators allow.
fn judged_cube(plan: &Plan<'_>, f: &rdsports_core::model::Flow, own: &[Option<Set>]) -> Cube {
    let cube = flow_cube(plan, f);
    let mut j = cube.clone();
    if let Some(Some(s)) = own.get(f.from) {
        j = j.with(SRC, s);
    }
    if let Some(Some(s)) = own.get(f.to) {
        j = j.with(DST, s);
    }
    if j.is_empty() { cube } else { j }
}

/// A host's addresses in a judged flow (see [`judged_cube`]), with its network.
enum Side {
    /// One interval (its own addresses), and the network.
    Plain((u128, u128), (u128, u128)),
    /// No own addresses: the flow is judged on both networks.
    Empty((u128, u128)),
    /// Several intervals.
    Multi((u128, u128)),
}

/// The source and destination intervals of a flow's judged packets, when each is one.
fn flow_box(
    sides: &[Side],
    f: &rdsports_core::model::Flow,
) -> Option<((u128, u128), (u128, u128))> {
    let net = |s: &Side| match *s {
        Side::Plain(_, n) | Side::Empty(n) | Side::Multi(n) => n,
    };
    let (a, b) = (sides.get(f.from)?, sides.get(f.to)?);
    match (a, b) {
        (Side::Empty(_), _) | (_, Side::Empty(_)) => Some((net(a), net(b))),
        (Side::Plain(x, _), Side::Plain(y, _)) => Some((*x, *y)),
        _ => None,
    }
}

/// Above this many flows in scope, [`Audit::flows`] lists only the flows that are not
/// allowed (the counts still cover every flow).
pub const LIST_ALLOWED_UP_TO: usize = 100_000;

/// A host's addresses without the other zones' networks inside them.
fn own_addresses(d: &rdsports_core::Deployment, h: usize) -> Set {
    let host = &d.hosts[h];
    let mut s = Set::net(host.address.trunc());
    if host.is_single() {
        return s;
    }
    for (z, zone) in d.zones.iter().enumerate() {
        if z == host.zone {
            continue;
        }
        for n in &zone.networks {
            if n.prefix_len() > host.address.prefix_len() && host.address.contains(n) {
                s = s.minus(&Set::net(n.trunc()));
            }
        }
    }
    s
}

/// A zone's addresses: its networks and its hosts' own addresses (a population such as
/// `0.0.0.0/0` without the other zones' networks).
fn zone_space(d: &rdsports_core::Deployment, z: usize) -> Set {
    let mut s = Set::empty();
    for n in &d.zones[z].networks {
        s = s.union(&Set::net(n.trunc()));
    }
    for (h, host) in d.hosts.iter().enumerate() {
        if host.zone == z {
            s = s.union(&own_addresses(d, h));
        }
    }
    s
}

/// The packets of a planned flow.
pub fn flow_cube(plan: &Plan<'_>, f: &rdsports_core::model::Flow) -> Cube {
    let from = plan.from(f).address.trunc();
    let to = plan.to(f).address.trunc();
    let mut c = Cube::full();
    c.0[SRC] = Set::net(from);
    c.0[DST] = Set::net(to);
    c.0[PROTO] = Set::one(match f.protocol {
        Protocol::Tcp => TCP,
        Protocol::Udp => UDP,
    });
    c.0[SPORT] = Set::range(EPHEMERAL.0, EPHEMERAL.1);
    c.0[DPORT] = Set::range(u128::from(f.ports.start()), u128::from(f.ports.end()));
    c
}

/// The planned flows `scope` selects, with their hooks, and how many lie beyond the first
/// 2^32 flows (not audited).
fn in_scope(plan: &Plan<'_>, scope: &Scope) -> (Vec<Planned>, usize) {
    let mut planned = Vec::with_capacity(plan.flows.len());
    let mut beyond = 0usize;
    for (i, f) in plan.flows.iter().enumerate() {
        let (a, b) = (plan.from(f), plan.to(f));
        if a.address.addr().is_ipv4() != b.address.addr().is_ipv4() {
            continue;
        }
        let hook = match *scope {
            Scope::CrossZone if a.zone != b.zone => Hook::Forward,
            Scope::Boundary(x, y)
                if x != y && ((a.zone == x && b.zone == y) || (a.zone == y && b.zone == x)) =>
            {
                Hook::Forward
            }
            Scope::Host(h) if f.to == h => Hook::Input,
            Scope::Host(h) if f.from == h => Hook::Output,
            _ => continue,
        };
        match u32::try_from(i) {
            Ok(index) => planned.push(Planned { index, hook }),
            Err(_) => beyond += 1,
        }
    }
    (planned, beyond)
}

/// Audits `rs` against the flows of `plan` that `scope` selects.
pub fn analyse(rs: &Ruleset, plan: &Plan<'_>, scope: &Scope) -> Audit {
    let d = plan.deployment;
    let (mut planned, beyond) = in_scope(plan, scope);

    // Populations, without the other zones inside them.
    let own: Vec<Option<Set>> = (0..d.hosts.len())
        .map(|h| (!d.hosts[h].is_single()).then(|| own_addresses(d, h)))
        .collect();
    planned.shrink_to_fit();
    let list_allowed = planned.len() <= LIST_ALLOWED_UP_TO;
    let ev = if rs.rule_count() > CELLS_ABOVE {
        eval::Evaluator::with_cells(rs, CUTTERS_ABOVE)
    } else {
        eval::Evaluator::new(rs)
    };
    let mut classifier = eval::Classifier::new(&ev);
    let mut services = HashMap::new();
    let sides: Vec<Side> = (0..d.hosts.len())
        .map(|h| {
            let net = space::net_bounds(d.hosts[h].address.trunc());
            match &own[h] {
                None => Side::Plain(net, net),
                Some(s) if s.is_empty() => Side::Empty(net),
                Some(s) => match s.intervals() {
                    [one] => Side::Plain(*one, net),
                    _ => Side::Multi(net),
                },
            }
        })
        .collect();
    // 1. Every planned flow through its hook.
    let mut flows = Vec::new();
    let mut missing_flows: Vec<usize> = Vec::new();
    let mut counts = Counts::default();
    for p in &planned {
        let f = p.flow(plan);
        let v6 = plan.from(f).address.addr().is_ipv6();
        if !rs.families[usize::from(v6)] {
            counts.possible += 1;
            flows.push(FlowResult {
                from: plan.from(f).name.clone(),
                to: plan.to(f).name.clone(),
                protocol: f.protocol.name().to_owned(),
                ports: f.ports.to_string(),
                catalog: plan
                    .catalog_ids(f)
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect(),
                hook: p.hook,
                status: Status::Possible,
                partial: false,
                blocked: Vec::new(),
                rule: None,
                reason: Some(format!(
                    "the export has no {} rules",
                    if v6 {
                        "IPv6 (ip6tables-save)"
                    } else {
                        "IPv4 (iptables-save)"
                    }
                )),
            });
            continue;
        }
        // Most flows: the verdict shared by every box the rules do not tell apart.
        let mut fast = None;
        if let Some((src, dst)) = flow_box(&sides, f) {
            let key = (f.protocol == Protocol::Tcp, f.ports.start(), f.ports.end());
            let service = *services.entry(key).or_insert_with(|| {
                let c = flow_cube(plan, f);
                classifier.service(c.0[PROTO].clone(), c.0[SPORT].clone(), c.0[DPORT].clone())
            });
            fast = classifier.verdict(p.hook, service, src, dst);
            if matches!(fast, Some(Verdict::Accept(_))) && !list_allowed {
                counts.allowed += 1;
                continue;
            }
        }
        let judged = judged_cube(plan, f, &own);
        let pieces = match fast {
            Some(verdict) => vec![eval::Piece {
                cube: judged.clone(),
                verdict,
            }],
            None => ev.evaluate(p.hook, judged.clone()),
        };
        let mut status = Status::Allowed;
        let mut by = None;
        let mut blocked_part = Vec::new();
        let mut reason = None;
        for piece in &pieces {
            match &piece.verdict {
                Verdict::Drop(dec) => {
                    if status != Status::Missing {
                        by = Some(*dec);
                    }
                    status = Status::Missing;
                    blocked_part.push(part_text(&piece.cube, &judged));
                }
                Verdict::Possible {
                    rule,
                    otherwise,
                    by: ob,
                } if status != Status::Missing => {
                    if status != Status::Possible {
                        let r = &rs.chains[rule.0].rules[rule.1];
                        let cut = |s: &str| crate::read::clip_to(s, crate::report::REFERENCE);
                        reason = Some(format!(
                            "{} ({}); otherwise {}",
                            r.possible
                                .as_deref()
                                .map_or_else(|| "its verdict is not evaluated".into(), cut),
                            cut(&r.location),
                            match otherwise {
                                Decision::Accept => "accepted",
                                Decision::Drop => "dropped",
                            }
                        ));
                        by = Some(eval::Decider::Rule(*rule));
                        let _ = ob;
                    }
                    status = Status::Possible;
                }
                Verdict::Accept(dec) if status == Status::Allowed && by.is_none() => {
                    by = Some(*dec);
                }
                _ => {}
            }
        }
        let partial = status == Status::Missing
            && pieces
                .iter()
                .any(|p| matches!(p.verdict, Verdict::Accept(_)));
        match status {
            Status::Allowed => counts.allowed += 1,
            Status::Missing => {
                counts.missing += 1;
                missing_flows.push(p.index as usize);
            }
            Status::Possible => counts.possible += 1,
        }
        if status == Status::Allowed && !list_allowed {
            continue;
        }
        blocked_part.sort();
        blocked_part.dedup();
        flows.push(FlowResult {
            from: plan.from(f).name.clone(),
            to: plan.to(f).name.clone(),
            protocol: f.protocol.name().to_owned(),
            ports: f.ports.to_string(),
            catalog: plan
                .catalog_ids(f)
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            hook: p.hook,
            status,
            partial,
            blocked: if partial { blocked_part } else { Vec::new() },
            rule: by.map(|b| eval::describe(rs, b)),
            reason,
        });
    }
    counts.flows = planned.len();

    // 2. What each accepting rule allows beyond the plan.
    let too_broad = too_broad(&ev, plan, scope, &planned);

    // 3. Shadowed and redundant rules, 4. unused rules.
    let (shadowed, redundant, mut notes) = dead_rules(&ev);
    let unused = if rs.counters {
        rs.chains
            .iter()
            .flat_map(|c| c.rules.iter().map(move |r| (c, r)))
            .filter(|(_, r)| r.action == Action::Accept && !r.never_new && r.hits == Some(0))
            .map(|(c, r)| Unused {
                chain: c.name.clone(),
                rule: eval::Described {
                    location: r.location.clone(),
                    text: r.text.clone(),
                },
            })
            .collect()
    } else {
        Vec::new()
    };
    notes.extend(rs.notes.iter().cloned());
    // Loops of chains: not followed (the evaluator's verdict is "possible" there).
    for (c, i) in eval::loops(rs) {
        let r = &rs.chains[c].rules[i];
        let (verb, t) = match r.action {
            Action::Goto(t) => ("goto", t),
            Action::Jump(t) => ("jump", t),
            _ => continue,
        };
        notes.push(crate::model::Note {
            location: r.location.clone(),
            message: format!(
                "this {verb} from chain {} to chain {} closes a loop of chains (the kernel \
                 refuses such a rule set): it is not followed, and the flows it matches are \
                 \"possible\"",
                rs.chains[c].name, rs.chains[t].name
            ),
        });
    }
    if beyond > 0 {
        notes.push(crate::model::Note {
            location: "plan".into(),
            message: format!("{beyond} flows after the first 4,294,967,295 were not audited"),
        });
    }

    let fix = fix(rs, plan, scope, &missing_flows);
    let scope_text = match *scope {
        Scope::CrossZone => "every flow between zones (forward hook)".to_owned(),
        Scope::Boundary(a, b) => format!(
            "flows between zones {} and {} (forward hook)",
            d.zones[a].name, d.zones[b].name
        ),
        Scope::Host(h) => format!(
            "flows to host {} (inbound) and from it (outbound)",
            d.hosts[h].name
        ),
    };
    let mut audit = Audit {
        schema_version: SCHEMA_VERSION,
        deployment: d.name.clone(),
        platform: rs.platform,
        semantics: rs.platform.semantics().to_owned(),
        scope: scope_text,
        rules: rs.rule_count(),
        counts,
        flows,
        flows_listed: if list_allowed {
            FlowsListed::All
        } else {
            FlowsListed::NotAllowed
        },
        fix,
        too_broad,
        shadowed,
        redundant,
        unused,
        notes,
        rule_texts: Vec::new(),
    };
    crate::report::bound(&mut audit, rs);
    audit
}

/// The part of a flow's packets a piece covers, in words (for "blocked in part").
fn part_text(piece: &Cube, flow: &Cube) -> String {
    let mut parts = Vec::new();
    if piece.0[SRC] != flow.0[SRC] {
        parts.push(format!("from {}", space::addrs_text(&piece.0[SRC], 3)));
    }
    if piece.0[DST] != flow.0[DST] {
        parts.push(format!("to {}", space::addrs_text(&piece.0[DST], 3)));
    }
    if piece.0[DPORT] != flow.0[DPORT] {
        parts.push(format!("port {}", space::ports_text(&piece.0[DPORT])));
    }
    if piece.0[SPORT] != flow.0[SPORT] {
        parts.push(format!(
            "source port {}",
            space::ports_text(&piece.0[SPORT])
        ));
    }
    if parts.is_empty() {
        "all of it".to_owned()
    } else {
        parts.join(" ")
    }
}

/// Per accepting rule (or policy), what it lets through that no planned flow needs.
fn too_broad(
    ev: &eval::Evaluator<'_>,
    plan: &Plan<'_>,
    scope: &Scope,
    planned: &[Planned],
) -> Vec<TooBroad> {
    let rs = ev.rs;
    let d = plan.deployment;
    let mut universe = Cube::full();
    universe.0[PROTO] = Set::from_intervals(vec![(TCP, TCP), (UDP, UDP)]);
    universe.0[SPORT] = Set::range(EPHEMERAL.0, EPHEMERAL.1);
    universe.0[DPORT] = Set::range(1, 65535);
    // Both ends of a packet are of one family: one universe per family the export covers.
    let v4 = Set::range(space::V4.0, space::V4.1);
    let mut hooks: Vec<(Hook, Cube)> = Vec::new();
    for (i, fam) in [v4.clone(), v4.complement(SRC)].into_iter().enumerate() {
        if !rs.families[i] {
            continue;
        }
        let u = universe.clone().with(SRC, &fam).with(DST, &fam);
        match *scope {
            Scope::Host(h) => {
                let own = Set::net(d.hosts[h].address.trunc());
                hooks.push((Hook::Input, u.clone().with(DST, &own)));
                hooks.push((Hook::Output, u.with(SRC, &own)));
            }
            // A firewall between two zones is judged on the packets between them: what
            // its rules allow between other zones is another boundary's business.
            Scope::Boundary(x, y) => {
                let (a, b) = (zone_space(d, x), zone_space(d, y));
                hooks.push((Hook::Forward, u.clone().with(SRC, &a).with(DST, &b)));
                hooks.push((Hook::Forward, u.with(SRC, &b).with(DST, &a)));
            }
            Scope::CrossZone => hooks.push((Hook::Forward, u)),
        }
    }
    hooks.retain(|(_, c)| !c.is_empty());
    let nets: Vec<(u128, u128)> = d
        .hosts
        .iter()
        .map(|h| space::net_bounds(h.address.trunc()))
        .collect();
    let mut indexes: BTreeMap<Hook, PlanIndex> = BTreeMap::new();
    let mut by_rule: BTreeMap<Decider, Excess> = BTreeMap::new();
    for (hook, cube) in hooks {
        // One index per hook (both families' universes share it).
        let plan_cubes = &*indexes.entry(hook).or_insert_with(|| {
            PlanIndex::new(
                &nets,
                planned
                    .iter()
                    .filter(|p| p.hook == hook)
                    .map(|p| p.flow(plan)),
            )
        });
        let chains: Vec<usize> = {
            let mut seen = vec![false; rs.chains.len()];
            let mut out = Vec::new();
            for &c in rs.hook(hook) {
                for r in reachable(rs, c) {
                    if !std::mem::replace(&mut seen[r], true) {
                        out.push(r);
                    }
                }
            }
            out
        };
        // Split the universe at the rules' destination boundaries, so that each part meets
        // only the rules its destinations can match (the chains' indexes).
        let mut bounds: Vec<u128> = chains
            .iter()
            .filter_map(|&c| rs.chains[c].index.as_ref())
            .flat_map(|i| i.bounds.iter().copied())
            .collect();
        bounds.sort_unstable();
        bounds.dedup();
        let dst = cube.0[DST].clone();
        let mut parts = Vec::new();
        for (k, &a) in bounds.iter().enumerate() {
            let b = bounds.get(k + 1).map_or(u128::MAX, |&n| n - 1);
            let s = dst.intersect(&Set::range(a, b));
            if !s.is_empty() {
                parts.push(cube.clone().with(DST, &s));
            }
        }
        if bounds.is_empty() {
            parts.push(cube);
        }
        // Above the cells' threshold, a universe the chains' indexes do not cut is cut into
        // parts the size of the longest chain's cells, so that each walk's pieces are few at
        // a time. (Cut by the indexes, its parts are thin slices that every cell meets.)
        let longest = chains
            .iter()
            .copied()
            .max_by_key(|&c| (rs.chains[c].rules.len(), std::cmp::Reverse(c)));
        if let ([one], Some(c)) = (parts.as_slice(), longest)
            && let Some(cells) = ev.cells_of(c, one)
        {
            parts = cells;
        }
        for part in parts {
            for piece in ev.evaluate(hook, part) {
                let Verdict::Accept(dec) = piece.verdict else {
                    continue;
                };
                let excess = plan_cubes.subtract(piece.cube);
                if !excess.is_empty() {
                    let e = by_rule.entry(dec).or_insert_with(|| Excess::new(hook));
                    for c in excess.0 {
                        e.add(c);
                    }
                }
            }
        }
    }
    let mut out: Vec<TooBroad> = by_rule
        .into_iter()
        .map(|(dec, e)| {
            let text = match (e.v4, e.v6) {
                (a, 0) => format!("{} IPv4", space::Count(a)),
                (0, b) => format!("{} IPv6", space::Count(b)),
                (a, b) => format!("{} IPv4 and {} IPv6", space::Count(a), space::Count(b)),
            };
            TooBroad {
                rule: eval::describe(rs, dec),
                hook: e.hook,
                excess: e.size,
                excess_v4: e.v4,
                excess_text: text,
                pieces: e.pieces,
                examples: e.largest.iter().map(|(_, c)| cube_text(c)).collect(),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.excess
            .cmp(&a.excess)
            .then_with(|| a.rule.location.cmp(&b.rule.location))
    });
    out
}

/// What one rule allows beyond the plan, added up part by part (the parts themselves are not
/// kept: a large rule set has hundreds of thousands of them).
struct Excess {
    /// The hook of the first part.
    hook: Hook,
    /// Tuples, saturating; of IPv4 and IPv6 sources.
    size: u128,
    v4: u128,
    v6: u128,
    /// How many parts.
    pieces: usize,
    /// The largest parts (by size, then destination ports; the first added among equals), at
    /// most [`EXAMPLES`], with their sizes.
    largest: Vec<(u128, Cube)>,
}

/// How many parts of an excess are shown.
const EXAMPLES: usize = 5;

impl Excess {
    fn new(hook: Hook) -> Excess {
        Excess {
            hook,
            size: 0,
            v4: 0,
            v6: 0,
            pieces: 0,
            largest: Vec::new(),
        }
    }

    fn add(&mut self, c: Cube) {
        let n = c.size();
        self.size = self.size.saturating_add(n);
        if c.0[SRC].subset_of(&Set::range(space::V4.0, space::V4.1)) {
            self.v4 = self.v4.saturating_add(n);
        } else {
            self.v6 = self.v6.saturating_add(n);
        }
        self.pieces += 1;
        // After every part that comes first: larger, or as large with ports not after.
        let at = self.largest.partition_point(|(m, x)| {
            *m > n || (*m == n && x.0[DPORT].intervals() <= c.0[DPORT].intervals())
        });
        if at < EXAMPLES {
            self.largest.insert(at, (n, c));
            self.largest.truncate(EXAMPLES);
        }
    }
}

/// The chains reachable from `c` by jumps and gotos (`c` included).
fn reachable(rs: &Ruleset, c: usize) -> Vec<usize> {
    let mut seen = vec![c];
    let mut known = vec![false; rs.chains.len()];
    if let Some(k) = known.get_mut(c) {
        *k = true;
    }
    let mut i = 0;
    while i < seen.len() {
        for r in &rs.chains[seen[i]].rules {
            if let Action::Jump(t) | Action::Goto(t) = r.action
                && t < rs.chains.len()
                && !std::mem::replace(&mut known[t], true)
            {
                seen.push(t);
            }
        }
        i += 1;
    }
    seen
}

/// Above this many rules, the chains of more than [`CUTTERS_ABOVE`] rules are walked cell by
/// cell ([`eval::Evaluator::with_cells`]) where their indexes do not narrow a space down: the
/// verdicts are the same for every packet, the excess of "too broad" is the same, measured
/// exactly, but they may come in more, smaller parts (and parts of a flow blocked in part may
/// be listed in more pieces). One space through N rules that each cut a hole into it costs
/// N^2; the rule sets of the golden tests and of the audit benchmark (up to 10,000 rules)
/// stay below, their output unchanged.
const CELLS_ABOVE: usize = 16_384;
/// See [`CELLS_ABOVE`].
const CUTTERS_ABOVE: usize = 256;

/// One address dimension, protocol, source and destination ports: a grouping key.
type Key = (Set, Set, Set, Set);

/// The plan's packets as few cubes (flows merged by destination, then by source), sorted by
/// destination for lookups.
struct PlanIndex {
    /// (first destination, last destination, cube), sorted.
    narrow: Vec<(u128, u128, Cube)>,
    /// Cubes with wide destinations (ranges, populations), checked always.
    wide: Vec<Cube>,
    /// The widest destination span in `narrow`.
    span: u128,
}

impl PlanIndex {
    fn new<'f>(
        nets: &[(u128, u128)],
        flows: impl Iterator<Item = &'f rdsports_core::model::Flow>,
    ) -> PlanIndex {
        // Same source, protocol and ports: one cube with the union of the destinations
        // (hosts with the same network are one source). Only the grouping matters here: the
        // map below orders the cubes.
        let mut src_id: HashMap<(u128, u128), u32> = HashMap::new();
        let ids: Vec<u32> = nets
            .iter()
            .map(|n| {
                let next = src_id.len() as u32;
                *src_id.entry(*n).or_insert(next)
            })
            .collect();
        let mut by_src: HashMap<(u32, bool, u16, u16), Vec<u32>> = HashMap::new();
        for f in flows {
            by_src
                .entry((
                    ids[f.from],
                    f.protocol == Protocol::Tcp,
                    f.ports.start(),
                    f.ports.end(),
                ))
                .or_default()
                .push(f.to as u32);
        }
        // Same destinations, protocol and ports: one cube with the union of the sources.
        let mut by_dst: BTreeMap<Key, Vec<(u128, u128)>> = BTreeMap::new();
        let mut id_net = vec![(0, 0); src_id.len()];
        for (n, id) in src_id {
            id_net[id as usize] = n;
        }
        for ((id, tcp, first, last), to) in by_src {
            let dst = Set::from_intervals(to.iter().map(|&t| nets[t as usize]).collect());
            by_dst
                .entry((
                    dst,
                    Set::one(if tcp { TCP } else { UDP }),
                    Set::range(EPHEMERAL.0, EPHEMERAL.1),
                    Set::range(u128::from(first), u128::from(last)),
                ))
                .or_default()
                .push(id_net[id as usize]);
        }
        let mut narrow = Vec::new();
        let mut wide = Vec::new();
        let mut span = 0;
        for ((dst, proto, sport, dport), src) in by_dst {
            let c = Cube([Set::from_intervals(src), dst, proto, sport, dport]);
            // Destinations wider than a few thousand addresses (a farm's range, a
            // population) are checked for every piece; the narrow ones are looked up.
            for &(a, b) in c.0[DST].intervals() {
                if b - a > 1 << 12 {
                    wide.push(c.clone());
                    break;
                }
            }
            if wide.last() == Some(&c) {
                continue;
            }
            for &(a, b) in c.0[DST].intervals() {
                span = span.max(b - a);
                narrow.push((a, b, c.clone().with(DST, &Set::range(a, b))));
            }
        }
        narrow.sort_by_key(|x| (x.0, x.1));
        PlanIndex { narrow, wide, span }
    }

    /// `piece` without the planned packets.
    fn subtract(&self, piece: Cube) -> Region {
        let mut excess = Region::of(piece.clone());
        let cut = |c: &Cube, excess: &mut Region| {
            if excess.0.iter().any(|e| e.meets(c)) {
                *excess = excess.minus_cube(c);
            }
        };
        for c in &self.wide {
            cut(c, &mut excess);
        }
        for &(a, b) in piece.0[DST].intervals() {
            let from = self
                .narrow
                .partition_point(|x| x.0 < a.saturating_sub(self.span));
            for (s, _, c) in &self.narrow[from..] {
                if *s > b || excess.is_empty() {
                    break;
                }
                cut(c, &mut excess);
            }
        }
        excess
    }
}

/// A cube as `SRC -> DST PROTO/PORTS`.
pub fn cube_text(c: &Cube) -> String {
    let mut s = format!(
        "{} -> {} {}/{}",
        space::addrs_text(&c.0[SRC], 3),
        space::addrs_text(&c.0[DST], 3),
        space::protos_text(&c.0[PROTO]),
        space::ports_text(&c.0[DPORT])
    );
    if c.0[SPORT].intervals() != [EPHEMERAL] && c.0[SPORT].intervals() != [(0, 65535)] {
        s.push_str(&format!(" from port {}", space::ports_text(&c.0[SPORT])));
    }
    s
}

/// Shadowed rules (no packet can reach them) and redundant ones (removing them changes no
/// verdict), computed per chain: a rule's packets minus those of every earlier rule of the
/// chain that decides (accept, drop, return) and meets it, all of them together.
fn dead_rules(ev: &eval::Evaluator<'_>) -> (Vec<DeadRule>, Vec<DeadRule>, Vec<crate::model::Note>) {
    let rs = ev.rs;
    let mut shadowed = Vec::new();
    let mut redundant = Vec::new();
    let mut notes = Vec::new();
    let mut given_up = 0usize;
    // Where each base chain sits: (hook, stage).
    let mut base: BTreeMap<usize, (Hook, usize)> = BTreeMap::new();
    for (hook, stages) in &rs.hooks {
        for (s, &c) in stages.iter().enumerate() {
            base.entry(c).or_insert((*hook, s));
        }
    }
    let deciding = |r: &crate::model::Rule| {
        !r.never_new
            && r.possible.is_none()
            && matches!(r.action, Action::Accept | Action::Drop | Action::Return)
    };
    for (ci, chain) in rs.chains.iter().enumerate() {
        for (ri, rule) in chain.rules.iter().enumerate() {
            if !deciding(rule) || rule.matches.is_empty() {
                continue;
            }
            // The earlier deciding rules that can meet it (the indexes narrow them down), in
            // order, until they cover it.
            let mut live = Region::of(rule.matches.clone());
            let mut by = Vec::new();
            let mut gave_up = false;
            let mut j = ev.next_rule(ci, &rule.matches, 0);
            while j < ri {
                let k = j;
                let e = &chain.rules[k];
                j = ev.next_rule(ci, &rule.matches, k + 1);
                if !deciding(e) || !e.matches.meets(&rule.matches) {
                    continue;
                }
                if live.0.iter().any(|c| c.meets(&e.matches)) {
                    live = live.minus_cube(&e.matches);
                    by.push(k);
                }
                if live.is_empty() {
                    break;
                }
                if live.0.len() > SHADOW_BUDGET {
                    gave_up = true;
                    break;
                }
            }
            if gave_up {
                given_up += 1;
                continue;
            }
            let described = eval::Described {
                location: rule.location.clone(),
                text: rule.text.clone(),
            };
            if live.is_empty() {
                shadowed.push(DeadRule {
                    chain: chain.name.clone(),
                    rule: described,
                    by: by
                        .iter()
                        .map(|&j| eval::Described {
                            location: chain.rules[j].location.clone(),
                            text: chain.rules[j].text.clone(),
                        })
                        .collect(),
                });
                continue;
            }
            if rule.action == Action::Return {
                continue;
            }
            let Some(&(hook, stage)) = base.get(&ci) else {
                continue;
            };
            let want = if rule.action == Action::Accept {
                Decision::Accept
            } else {
                Decision::Drop
            };
            let same = live.0.iter().all(|c| {
                ev.evaluate_from(
                    hook,
                    c.clone(),
                    Start {
                        stage,
                        at: Some((ci, ri + 1)),
                    },
                )
                .iter()
                .all(|p| p.verdict.decision() == Some(want))
            });
            if same {
                let later =
                    std::iter::successors(Some(ev.next_rule(ci, &rule.matches, ri + 1)), |&j| {
                        Some(ev.next_rule(ci, &rule.matches, j + 1))
                    })
                    .take_while(|&j| j < chain.rules.len());
                let why = if later
                    .map(|j| &chain.rules[j])
                    .any(|r| r.matches.meets(&rule.matches) && !r.never_new)
                {
                    "the rules after it decide the same"
                } else {
                    "the chain's policy decides the same"
                };
                redundant.push(DeadRule {
                    chain: chain.name.clone(),
                    rule: described,
                    by: vec![eval::Described {
                        location: String::new(),
                        text: why.to_owned(),
                    }],
                });
            }
        }
    }
    if given_up > 0 {
        notes.push(crate::model::Note {
            location: String::new(),
            message: format!(
                "shadowing was not computed for {given_up} rules (the part of them earlier \
                 rules leave splits into more than {SHADOW_BUDGET} pieces)"
            ),
        });
    }
    (shadowed, redundant, notes)
}

/// The rules that would let the missing flows through, from the `rules` generator of the
/// same platform.
fn fix(rs: &Ruleset, plan: &Plan<'_>, scope: &Scope, missing: &[usize]) -> Option<Fix> {
    let missing: Vec<&rdsports_core::model::Flow> =
        missing.iter().map(|&i| &plan.flows[i]).collect();
    if missing.is_empty() {
        return None;
    }
    let full = Policy::from_plan(plan);
    let rules: Vec<rdsports_policy::Rule> = full
        .rules
        .iter()
        .filter(|r| {
            missing.iter().any(|f| {
                r.from_hosts.first() == Some(&f.from)
                    && r.to_hosts.first() == Some(&f.to)
                    && r.protocol == f.protocol
                    && r.ports.first() == Some(&f.ports)
            })
        })
        .cloned()
        .collect();
    let d = plan.deployment;
    // The fix adds allow rules to the rule set the admin has: allow-only, never a second
    // default drop (the generators enforce by default).
    let mut opts = RenderOptions {
        default_drop: false,
        ..RenderOptions::default()
    };
    match *scope {
        Scope::Host(h) => {
            opts.host = Some(d.hosts[h].name.clone());
            opts.outbound = true;
            opts.host_variant = rs.platform != crate::model::Platform::Windows;
        }
        Scope::Boundary(a, b) => {
            opts.boundary = Some((d.zones[a].name.clone(), d.zones[b].name.clone()));
        }
        Scope::CrossZone => {}
    }
    let target = rs.platform.target();
    let policy = full.with_rules(rules).aggregate();
    let (text, error) = match rdsports_policy::render_policy(target, &policy, &opts) {
        Ok(r) => (
            r.files
                .iter()
                .map(|(_, t)| t.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            None,
        ),
        Err(e) => (String::new(), Some(e.to_string())),
    };
    // ASA: the entries go into the lists the interfaces have; never clear or rebind them.
    let text = match rs.platform {
        crate::model::Platform::CiscoAsa => text
            .lines()
            .filter(|l| {
                !l.starts_with("clear configure access-list ") && !l.starts_with("access-group ")
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => text,
    };
    let placement = match rs.platform {
        crate::model::Platform::Nftables => {
            "these are the accepts rdsports rules would write for the missing flows; in \
             nftables an accept in another table does not undo a drop, so add them to the \
             chain that drops the flow, before the deciding rule shown for each flow"
        }
        crate::model::Platform::Iptables => {
            "these are the accepts rdsports rules would write for the missing flows; insert \
             them (iptables -I) before the deciding rule shown for each flow"
        }
        crate::model::Platform::Windows => {
            "these allow rules let the missing flows in; a block rule shown as deciding \
             still wins over them and must be narrowed or removed"
        }
        crate::model::Platform::AzureNsg => {
            "these security rules let the missing flows through; give them priorities \
             below the deciding deny rule shown for each flow"
        }
        crate::model::Platform::AwsSg => {
            "these ingress and egress permissions let the missing flows through; add them \
             to a group attached to the instances"
        }
        crate::model::Platform::AwsNacl => {
            "these are security group permissions for the missing flows; where a network \
             ACL entry decides, add an allow entry for the flow numbered below it and an \
             outbound allow for its replies to ports 1024-65535"
        }
        crate::model::Platform::CiscoAsa => {
            "these are the entries rdsports rules would write, named by zone; insert them \
             (access-list NAME line N ...) into the list bound to the interface the flow \
             enters, before the deciding entry shown for each flow"
        }
        crate::model::Platform::Aerleon => {
            "these are the terms rdsports rules --target aerleon would write, with their \
             network and service definitions; add each term to the filter of its zone pair, \
             before the deciding term shown for each flow, and the definitions to def/"
        }
    };
    Some(Fix {
        target: target.to_owned(),
        placement: placement.to_owned(),
        rules: text,
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`dead_rules`](super::dead_rules) as it was (every earlier candidate gathered first): the
    /// reference.
    /// Shadowed rules (no packet can reach them) and redundant ones (removing them changes no
    /// verdict), computed per chain: a rule's packets minus those of every earlier rule of the
    /// chain that decides (accept, drop, return) and meets it, all of them together.
    pub(super) fn dead_rules_reference(
        ev: &eval::Evaluator<'_>,
    ) -> (Vec<DeadRule>, Vec<DeadRule>, Vec<crate::model::Note>) {
        let rs = ev.rs;
        let mut shadowed = Vec::new();
        let mut redundant = Vec::new();
        let mut notes = Vec::new();
        let mut given_up = 0usize;
        // Where each base chain sits: (hook, stage).
        let mut base: BTreeMap<usize, (Hook, usize)> = BTreeMap::new();
        for (hook, stages) in &rs.hooks {
            for (s, &c) in stages.iter().enumerate() {
                base.entry(c).or_insert((*hook, s));
            }
        }
        let deciding = |r: &crate::model::Rule| {
            !r.never_new
                && r.possible.is_none()
                && matches!(r.action, Action::Accept | Action::Drop | Action::Return)
        };
        for (ci, chain) in rs.chains.iter().enumerate() {
            for (ri, rule) in chain.rules.iter().enumerate() {
                if !deciding(rule) || rule.matches.is_empty() {
                    continue;
                }
                // The earlier deciding rules that can meet it (the indexes narrow them down).
                let mut earlier = Vec::new();
                let mut j = ev.next_rule(ci, &rule.matches, 0);
                while j < ri {
                    earlier.push(j);
                    j = ev.next_rule(ci, &rule.matches, j + 1);
                }
                let mut live = Region::of(rule.matches.clone());
                let mut by = Vec::new();
                let mut gave_up = false;
                for j in earlier {
                    let e = &chain.rules[j];
                    if !deciding(e) || !e.matches.meets(&rule.matches) {
                        continue;
                    }
                    if live.0.iter().any(|c| c.meets(&e.matches)) {
                        live = live.minus_cube(&e.matches);
                        by.push(j);
                    }
                    if live.is_empty() {
                        break;
                    }
                    if live.0.len() > SHADOW_BUDGET {
                        gave_up = true;
                        break;
                    }
                }
                if gave_up {
                    given_up += 1;
                    continue;
                }
                let described = eval::Described {
                    location: rule.location.clone(),
                    text: rule.text.clone(),
                };
                if live.is_empty() {
                    shadowed.push(DeadRule {
                        chain: chain.name.clone(),
                        rule: described,
                        by: by
                            .iter()
                            .map(|&j| eval::Described {
                                location: chain.rules[j].location.clone(),
                                text: chain.rules[j].text.clone(),
                            })
                            .collect(),
                    });
                    continue;
                }
                if rule.action == Action::Return {
                    continue;
                }
                let Some(&(hook, stage)) = base.get(&ci) else {
                    continue;
                };
                let want = if rule.action == Action::Accept {
                    Decision::Accept
                } else {
                    Decision::Drop
                };
                let same = live.0.iter().all(|c| {
                    ev.evaluate_from(
                        hook,
                        c.clone(),
                        Start {
                            stage,
                            at: Some((ci, ri + 1)),
                        },
                    )
                    .iter()
                    .all(|p| p.verdict.decision() == Some(want))
                });
                if same {
                    let later = std::iter::successors(
                        Some(ev.next_rule(ci, &rule.matches, ri + 1)),
                        |&j| Some(ev.next_rule(ci, &rule.matches, j + 1)),
                    )
                    .take_while(|&j| j < chain.rules.len());
                    let why = if later
                        .map(|j| &chain.rules[j])
                        .any(|r| r.matches.meets(&rule.matches) && !r.never_new)
                    {
                        "the rules after it decide the same"
                    } else {
                        "the chain's policy decides the same"
                    };
                    redundant.push(DeadRule {
                        chain: chain.name.clone(),
                        rule: described,
                        by: vec![eval::Described {
                            location: String::new(),
                            text: why.to_owned(),
                        }],
                    });
                }
            }
        }
        if given_up > 0 {
            notes.push(crate::model::Note {
                location: String::new(),
                message: format!(
                    "shadowing was not computed for {given_up} rules (the part of them earlier \
                     rules leave splits into more than {SHADOW_BUDGET} pieces)"
                ),
            });
        }
        (shadowed, redundant, notes)
    }

    use proptest::prelude::*;

    use crate::test_support::{build, raw_rule};

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// The shadowed and redundant rules, with the rules that shadow them, and the notes:
        /// those of the version that gathered every earlier candidate first.
        #[test]
        fn dead_rules_equal_the_reference(
            chains in prop::collection::vec(prop::collection::vec(raw_rule(), 0..12), 1..5),
            policies in prop::collection::vec(any::<bool>(), 1..4),
            stages in 0usize..3,
        ) {
            let stages = stages.min(chains.len());
            let rs = build(chains, policies, vec![None], stages);
            let ev = eval::Evaluator::new(&rs);
            prop_assert_eq!(dead_rules(&ev), dead_rules_reference(&ev));
        }
    }

    /// Many identical rules, and many rules that differ, per chain: the same answer.
    #[test]
    fn dead_rules_of_larger_sets_equal_the_reference() {
        use crate::model::{Chain, Platform, Rule};
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut rnd = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut chains = Vec::new();
        for shape in 0..4 {
            let mut rules = Vec::new();
            for i in 0..600 {
                let (src, port) = match shape {
                    0 => (1, 3389),
                    1 => (rnd(64), 1 + rnd(32)),
                    2 => (rnd(4), rnd(2000)),
                    _ => (i % 7, 1 + rnd(8)),
                };
                let base = space::V4_BASE + 0x0a00_0000;
                let mut cube = Cube::full()
                    .with(
                        SRC,
                        &Set::range(base + u128::from(src), base + u128::from(src) * 3),
                    )
                    .with(PROTO, &Set::one(TCP))
                    .with(
                        DPORT,
                        &Set::range(u128::from(port), u128::from(port) + rnd(3) as u128),
                    );
                if rnd(5) == 0 {
                    cube = cube.with(DST, &Set::range(base, base + u128::from(rnd(9))));
                }
                let action = match rnd(6) {
                    0 => Action::Drop,
                    1 => Action::Return,
                    2 => Action::Continue,
                    _ => Action::Accept,
                };
                rules.push(Rule {
                    matches: cube,
                    possible: (rnd(20) == 0).then(|| "test".to_owned()),
                    action,
                    location: format!("c{shape}:{i}"),
                    text: format!("rule {i}"),
                    hits: None,
                    never_new: rnd(30) == 0,
                });
            }
            chains.push(Chain {
                name: format!("c{shape}"),
                rules,
                policy: Some(if shape % 2 == 0 {
                    Decision::Drop
                } else {
                    Decision::Accept
                }),
                policy_location: String::new(),
                only: None,
                index: None,
            });
        }
        let rs = Ruleset {
            platform: Platform::Iptables,
            chains,
            hooks: vec![(Hook::Forward, vec![0, 1]), (Hook::Input, vec![2, 3])],
            notes: Vec::new(),
            counters: false,
            no_chain: Decision::Accept,
            families: [true, true],
        };
        let ev = eval::Evaluator::new(&rs);
        let (shadowed, redundant, notes) = dead_rules(&ev);
        assert!(
            shadowed.len() > 100 && !redundant.is_empty(),
            "{shadowed:?}"
        );
        assert_eq!((shadowed, redundant, notes), dead_rules_reference(&ev));
    }

    /// "Too broad" cell by cell (as above [`CELLS_ABOVE`] rules) measures the same excess
    /// per rule as the walk of the whole universe, IPv4 and IPv6, on rule sets that cut many
    /// holes (distinct sources, destinations and ports, wide rules among them).
    #[test]
    fn too_broad_cell_by_cell_measures_the_same() {
        use crate::model::{Chain, Platform, Rule};
        let d = rdsports_core::Deployment::parse(include_str!("../../../examples/perimeter.toml"))
            .unwrap();
        let catalog = rdsports_core::Catalog::builtin().unwrap();
        let plan = rdsports_core::plan::plan(&catalog, &d);
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut rnd = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            u128::from(x % n)
        };
        let v4 = |a: u128| space::V4_BASE + a;
        let nets = [0xc000_0200u128, 0xc633_6400, 0x0a00_0000]; // 192.0.2/24, 198.51.100/24, 10/8
        for shape in 0..3 {
            let mut rules = Vec::new();
            for i in 0..400 {
                let mut cube = Cube::full();
                let net = nets[rnd(3) as usize];
                let s = v4(net + rnd(256));
                let t = v4(nets[rnd(2) as usize] + rnd(256));
                match (shape, rnd(8)) {
                    (_, 0) if i > 360 => {}
                    (0, _) => cube = cube.with(SRC, &Set::one(s)),
                    (1, _) => cube = cube.with(SRC, &Set::one(s)).with(DST, &Set::one(t)),
                    _ => cube = cube.with(DST, &Set::range(t, t + rnd(9))),
                }
                if rnd(3) != 0 {
                    let p = 1 + rnd(60_000);
                    cube = cube
                        .with(PROTO, &Set::one(if rnd(2) == 0 { TCP } else { UDP }))
                        .with(DPORT, &Set::range(p, p + rnd(4000)));
                }
                if rnd(10) == 0 {
                    cube = cube.with(
                        SRC,
                        &Set::range(v4(0), v4(u128::from(u32::MAX))).complement(SRC),
                    );
                }
                rules.push(Rule {
                    matches: cube,
                    possible: None,
                    action: if rnd(4) == 0 {
                        Action::Drop
                    } else {
                        Action::Accept
                    },
                    location: format!("r{i}"),
                    text: format!("rule {i}"),
                    hits: None,
                    never_new: false,
                });
            }
            let rs = Ruleset {
                platform: Platform::Iptables,
                chains: vec![Chain {
                    name: "FORWARD".into(),
                    rules,
                    policy: Some(if shape == 1 {
                        Decision::Accept
                    } else {
                        Decision::Drop
                    }),
                    policy_location: "p".into(),
                    only: None,
                    index: None,
                }],
                hooks: vec![(Hook::Forward, vec![0])],
                notes: Vec::new(),
                counters: false,
                no_chain: Decision::Accept,
                families: [true, true],
            };
            let (planned, _) = in_scope(&plan, &Scope::CrossZone);
            let measure = |ev: eval::Evaluator<'_>| {
                let mut v: Vec<(String, u128, u128)> =
                    too_broad(&ev, &plan, &Scope::CrossZone, &planned)
                        .into_iter()
                        .map(|t| (t.rule.location, t.excess, t.excess_v4))
                        .collect();
                v.sort();
                v
            };
            let whole = measure(eval::Evaluator::new(&rs));
            assert!(whole.len() > 20, "{whole:?}");
            assert_eq!(
                measure(eval::Evaluator::with_cells(&rs, 0)),
                whole,
                "shape {shape}"
            );
        }
    }
}
