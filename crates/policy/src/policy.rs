//! The neutral policy: allow rules between sets of addresses, built from a [`Plan`], with the
//! views the generators need (cross-zone, one boundary, one host's inbound or outbound).
//!
//! A [`Policy`] built by [`Policy::from_plan`] holds one rule per planned flow, so every rule
//! names exactly the catalog entries that need it. [`Policy::aggregate`] (in
//! [`crate::aggregate`]) merges rules into fewer, wider ones without changing what is allowed.
//! This module renders nothing and does no I/O; it knows no platform.

use std::collections::BTreeMap;
use std::sync::Arc;

use ipnet::IpNet;
use rdsports_core::model::{Flow, Host, PortRange, Protocol, Zone};
use rdsports_core::plan::Plan;
use rdsports_core::{Catalog, Deployment};

/// Facts shared by every rule of a policy and its views: the deployment's names and addresses
/// and the catalog entries the rules cite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// Deployment name (rule groups, table names).
    pub name: String,
    /// Zones of the deployment, indexed by [`Rule::from_zone`] / [`Rule::to_zone`].
    pub zones: Vec<Zone>,
    /// Hosts of the deployment, indexed by [`Rule::from_hosts`] / [`Rule::to_hosts`].
    pub hosts: Vec<Host>,
    /// Catalog entries, indexed by [`Rule::entries`].
    pub entries: Vec<EntryInfo>,
    /// The FTP CRL server's fixed passive data range, when the deployment sets one.
    pub ftp_passive_range: Option<PortRange>,
}

/// What a rule needs to know about a catalog entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo {
    /// Catalog id (`S12`).
    pub id: String,
    /// Service name (`rdp`, `ftp` ...).
    pub service: String,
    /// Why the flow exists.
    pub purpose: String,
}

/// A connection-tracking helper a rule needs besides its ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Helper {
    /// FTP control channel whose passive data channel goes to ports the server picks (no
    /// `ftp_passive_range` set): the firewall must follow the control channel (conntrack
    /// `ftp` helper, ASA `inspect ftp`) or the transfer fails.
    Ftp,
}

/// One allow rule: every source may open a connection to every destination on every port.
///
/// A rule is an exact product: every host of `from_hosts` reaches every host of `to_hosts` on
/// every port of `ports`, and nothing else. `sources` and `destinations` are the hosts'
/// addresses, collapsed into the fewest networks that cover exactly the same addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Zone of every source host.
    pub from_zone: usize,
    /// Zone of every destination host.
    pub to_zone: usize,
    /// Transport.
    pub protocol: Protocol,
    /// Destination ports: sorted, disjoint and not adjacent.
    pub ports: Vec<PortRange>,
    /// Source hosts (indices into [`Context::hosts`]), sorted.
    pub from_hosts: Vec<usize>,
    /// Destination hosts, sorted.
    pub to_hosts: Vec<usize>,
    /// Source addresses, sorted (one address family).
    pub sources: Vec<IpNet>,
    /// Destination addresses, sorted (the same family as `sources`).
    pub destinations: Vec<IpNet>,
    /// Catalog entries behind the rule (indices into [`Context::entries`]), sorted.
    pub entries: Vec<usize>,
    /// Per source host (parallel to `from_hosts`): the entries of that host's flows in the
    /// rule, sorted. After a host view cuts the other side down, an upper bound.
    pub from_entries: Vec<Vec<usize>>,
    /// Per destination host (parallel to `to_hosts`): the entries of that host's flows.
    pub to_entries: Vec<Vec<usize>>,
    /// A helper the firewall needs for this rule.
    pub helper: Option<Helper>,
}

/// A neutral policy: the allow rules of a deployment (or of a view of it).
#[derive(Debug, Clone)]
pub struct Policy {
    /// Names, addresses and catalog entries the rules refer to.
    pub context: Arc<Context>,
    /// The rules, in a deterministic order.
    pub rules: Vec<Rule>,
    /// Things the reader must know about how the plan became this policy.
    pub warnings: Vec<String>,
    /// Flow counts of the plan the policy came from (shared by its views).
    pub counts: Arc<FlowCounts>,
}

impl Policy {
    /// One rule per planned flow. Flows whose two ends have different address families
    /// cannot exist on the wire; they are left out with a warning.
    pub fn from_plan(plan: &Plan<'_>) -> Policy {
        let context = Context::from_plan(plan);
        let mut rules = Vec::with_capacity(plan.flows.len());
        let flows = |each: &mut dyn FnMut(&Flow)| plan.flows.iter().for_each(each);
        let (warnings, counts) = scan(&context, flows, |f| {
            let mut ids: Vec<usize> = std::iter::once(f.entry)
                .chain(f.also.iter().copied())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let (from, to) = (&context.hosts[f.from], &context.hosts[f.to]);
            rules.push(Rule {
                from_zone: f.class.0,
                to_zone: f.class.1,
                protocol: f.class.2,
                ports: vec![f.ports],
                from_hosts: vec![f.from],
                to_hosts: vec![f.to],
                sources: vec![from.address.trunc()],
                destinations: vec![to.address.trunc()],
                from_entries: vec![ids.clone()],
                to_entries: vec![ids.clone()],
                entries: ids,
                helper: f.class.3,
            });
        });
        Policy {
            context: Arc::new(context),
            rules,
            warnings,
            counts: Arc::new(counts),
        }
    }

    /// The aggregated policy of a plan, built straight from its flows: the same rules as
    /// `Policy::from_plan(plan).aggregate()`, much faster for large plans (no rule per flow is
    /// ever built).
    pub fn aggregated_from_plan(plan: &Plan<'_>) -> Policy {
        Policy::aggregated_from_flows(plan.catalog, plan.deployment, plan.flows.len(), |each| {
            plan.flows.iter().for_each(each);
        })
    }

    /// The aggregated policy of the flows that `flows` hands to the function it is given, one
    /// at a time and in plan order (as `rdsports_core::plan::plan_each` builds them), without
    /// their ever being held: the same policy as [`Policy::aggregated_from_plan`] of a plan of
    /// those flows. `capacity` is how many flows to expect (0 if unknown).
    pub fn aggregated_from_flows(
        catalog: &Catalog,
        deployment: &Deployment,
        capacity: usize,
        flows: impl FnOnce(&mut dyn FnMut(&Flow)),
    ) -> Policy {
        let context = Context::new(catalog, deployment);
        let mut agg = crate::aggregate::Aggregator::new(&context, capacity);
        let (warnings, counts) = scan(&context, flows, |f| agg.push(f));
        let rules = agg.finish(&context);
        Policy {
            context: Arc::new(context),
            rules,
            warnings,
            counts: Arc::new(counts),
        }
    }

    /// A policy over the same context with other rules.
    pub fn with_rules(&self, rules: Vec<Rule>) -> Policy {
        Policy {
            context: Arc::clone(&self.context),
            rules,
            warnings: self.warnings.clone(),
            counts: Arc::clone(&self.counts),
        }
    }

    /// Rules that leave one zone for another (what a firewall between zones sees).
    pub fn cross_zone(&self) -> Policy {
        self.with_rules(
            self.rules
                .iter()
                .filter(|r| r.from_zone != r.to_zone)
                .cloned()
                .collect(),
        )
    }

    /// Rules between zones `a` and `b`, both directions (what the firewall on that boundary
    /// sees). Empty when `a == b`: flows inside one zone cross no boundary.
    pub fn boundary(&self, a: usize, b: usize) -> Policy {
        self.with_rules(
            self.rules
                .iter()
                .filter(|r| {
                    a != b
                        && ((r.from_zone == a && r.to_zone == b)
                            || (r.from_zone == b && r.to_zone == a))
                })
                .cloned()
                .collect(),
        )
    }

    /// Rules whose destination zone is `zone` (inbound on that zone's filter), intra-zone
    /// rules included.
    pub fn into_zone(&self, zone: usize) -> Policy {
        self.with_rules(
            self.rules
                .iter()
                .filter(|r| r.to_zone == zone)
                .cloned()
                .collect(),
        )
    }

    /// Rules whose source zone is `zone`.
    pub fn out_of_zone(&self, zone: usize) -> Policy {
        self.with_rules(
            self.rules
                .iter()
                .filter(|r| r.from_zone == zone)
                .cloned()
                .collect(),
        )
    }

    /// What host `host` must accept: the rules that have it as a destination, cut down to it.
    pub fn inbound(&self, host: usize) -> Policy {
        self.by_host(Side::To)
            .remove(&host)
            .unwrap_or_else(|| self.with_rules(Vec::new()))
    }

    /// What host `host` must be allowed to open: the rules that have it as a source, cut down
    /// to it.
    pub fn outbound(&self, host: usize) -> Policy {
        self.by_host(Side::From)
            .remove(&host)
            .unwrap_or_else(|| self.with_rules(Vec::new()))
    }

    /// Every host's inbound view at once (one pass over the rules), keyed by host index.
    /// Hosts without inbound rules are absent.
    pub fn inbound_by_host(&self) -> BTreeMap<usize, Policy> {
        self.by_host(Side::To)
    }

    /// Every host's outbound view at once, keyed by host index.
    pub fn outbound_by_host(&self) -> BTreeMap<usize, Policy> {
        self.by_host(Side::From)
    }

    fn by_host(&self, side: Side) -> BTreeMap<usize, Policy> {
        let mut out: BTreeMap<usize, Vec<Rule>> = BTreeMap::new();
        for rule in &self.rules {
            let hosts = match side {
                Side::From => &rule.from_hosts,
                Side::To => &rule.to_hosts,
            };
            for (i, &h) in hosts.iter().enumerate() {
                if let Some(r) = self.cut(rule, i, side) {
                    out.entry(h).or_default().push(r);
                }
            }
        }
        out.into_iter()
            .map(|(h, rules)| (h, self.with_rules(rules)))
            .collect()
    }

    /// `rule` cut down to the `i`-th host of one side (`None` for a host index the context
    /// does not have): that host's own entries, and on the other side only those.
    pub(crate) fn cut(&self, rule: &Rule, i: usize, side: Side) -> Option<Rule> {
        let (hosts, per) = match side {
            Side::From => (&rule.from_hosts, &rule.from_entries),
            Side::To => (&rule.to_hosts, &rule.to_entries),
        };
        let h = *hosts.get(i)?;
        let addr = vec![self.context.hosts.get(h)?.address.trunc()];
        let own = per.get(i).cloned().unwrap_or_else(|| rule.entries.clone());
        let keep = |es: &Vec<usize>| -> Vec<usize> {
            es.iter()
                .copied()
                .filter(|e| own.binary_search(e).is_ok())
                .collect()
        };
        // Built field by field: cloning the rule would copy the side that is cut down.
        let (from_hosts, to_hosts, sources, destinations, from_entries, to_entries) = match side {
            Side::From => (
                vec![h],
                rule.to_hosts.clone(),
                addr,
                rule.destinations.clone(),
                vec![own.clone()],
                rule.to_entries.iter().map(keep).collect(),
            ),
            Side::To => (
                rule.from_hosts.clone(),
                vec![h],
                rule.sources.clone(),
                addr,
                rule.from_entries.iter().map(keep).collect(),
                vec![own.clone()],
            ),
        };
        Some(Rule {
            from_zone: rule.from_zone,
            to_zone: rule.to_zone,
            protocol: rule.protocol,
            ports: rule.ports.clone(),
            from_hosts,
            to_hosts,
            sources,
            destinations,
            entries: own,
            from_entries,
            to_entries,
            helper: rule.helper,
        })
    }

    /// A host view of host `from` (one side of every rule is `[from]`) moved to host `to`:
    /// the same rules with `to` and its address on that side.
    pub(crate) fn moved(&self, from: usize, to: usize, side: Side) -> Policy {
        let addr = self.context.hosts.get(to).map(|h| h.address.trunc());
        let rules = self
            .rules
            .iter()
            .map(|r| {
                let mut r = r.clone();
                let (hosts, nets) = match side {
                    Side::From => (&mut r.from_hosts, &mut r.sources),
                    Side::To => (&mut r.to_hosts, &mut r.destinations),
                };
                for x in hosts.iter_mut().filter(|x| **x == from) {
                    *x = to;
                }
                if let Some(a) = addr {
                    *nets = vec![a];
                }
                r
            })
            .collect();
        self.with_rules(rules)
    }

    /// Index of the zone called `name`.
    pub fn zone_index(&self, name: &str) -> Option<usize> {
        self.context.zones.iter().position(|z| z.name == name)
    }

    /// Index of the host called `name`.
    pub fn host_index(&self, name: &str) -> Option<usize> {
        self.context.hosts.iter().position(|h| h.name == name)
    }

    /// Catalog ids of `rule`, in catalog order.
    pub fn ids<'a>(&'a self, rule: &Rule) -> Vec<&'a str> {
        rule.entries
            .iter()
            .filter_map(|&i| self.context.entries.get(i))
            .map(|e| e.id.as_str())
            .collect()
    }

    /// Purposes of `rule`'s catalog entries, in catalog order, without repeats.
    pub fn purposes<'a>(&'a self, rule: &Rule) -> Vec<&'a str> {
        let mut out: Vec<&str> = Vec::new();
        for e in rule
            .entries
            .iter()
            .filter_map(|&i| self.context.entries.get(i))
        {
            if !out.contains(&e.purpose.as_str()) {
                out.push(e.purpose.as_str());
            }
        }
        out
    }

    /// Name of zone `zone` (empty for an index the context does not have).
    pub fn zone_name(&self, zone: usize) -> &str {
        self.context.zones.get(zone).map_or("", |z| z.name.as_str())
    }

    /// Name of host `host` (empty for an index the context does not have).
    pub fn host_name(&self, host: usize) -> &str {
        self.context.hosts.get(host).map_or("", |h| h.name.as_str())
    }
}

impl Context {
    /// The names, addresses and catalog entries of a plan.
    pub fn from_plan(plan: &Plan<'_>) -> Context {
        Context::new(plan.catalog, plan.deployment)
    }

    /// The names, addresses and catalog entries of the plans of `deployment`.
    pub fn new(catalog: &Catalog, deployment: &Deployment) -> Context {
        let dep = deployment;
        Context {
            name: dep.name.clone(),
            zones: dep.zones.clone(),
            hosts: dep.hosts.clone(),
            entries: catalog
                .entries
                .iter()
                .map(|e| EntryInfo {
                    id: e.id.clone(),
                    service: e.service.clone(),
                    purpose: e.purpose.clone(),
                })
                .collect(),
            ftp_passive_range: dep.options.ftp_passive_range,
        }
    }
}

/// How many planned flows each part of the deployment has: the "before aggregation" counts
/// of the views.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowCounts {
    /// Flows into each host (indexed like [`Context::hosts`]).
    pub into_host: Vec<usize>,
    /// Flows out of each host.
    pub out_of_host: Vec<usize>,
    /// Flows per (source zone, destination zone).
    pub zone_pairs: BTreeMap<(usize, usize), usize>,
}

impl FlowCounts {
    /// Flows between zones for which `pick(from, to)` holds.
    pub fn zones(&self, pick: impl Fn(usize, usize) -> bool) -> usize {
        self.zone_pairs
            .iter()
            .filter(|((a, b), _)| pick(*a, *b))
            .map(|(_, n)| n)
            .sum()
    }
}

/// What never merges: zone pair, protocol and helper.
pub(crate) type Class = (usize, usize, Protocol, Option<Helper>);

/// A planned flow as the policy sees it (host indices valid, one address family).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FlowItem<'a> {
    pub from: usize,
    pub to: usize,
    pub class: Class,
    pub ports: PortRange,
    /// The primary catalog entry (valid index).
    pub entry: usize,
    /// Further catalog entries (may hold invalid indices; users filter).
    pub also: &'a [usize],
}

/// Walks the flows that `flows` hands over, hands every usable one to `each`, and returns the
/// warnings about the others and the flow counts.
fn scan(
    ctx: &Context,
    flows: impl FnOnce(&mut dyn FnMut(&Flow)),
    mut each: impl FnMut(FlowItem<'_>),
) -> (Vec<String>, FlowCounts) {
    let ftp: Vec<bool> = ctx
        .entries
        .iter()
        .map(|e| e.service.eq_ignore_ascii_case("ftp"))
        .collect();
    let mut counts = FlowCounts {
        into_host: vec![0; ctx.hosts.len()],
        out_of_host: vec![0; ctx.hosts.len()],
        zone_pairs: BTreeMap::new(),
    };
    let zones = ctx.zones.len();
    let mut pairs = vec![0usize; zones * zones];
    let mut warnings = Vec::new();
    let mut mixed = Vec::new();
    let mut bad = 0usize;
    let mut mixed_total = 0usize;
    flows(&mut |flow: &Flow| {
        let (Some(from), Some(to)) = (ctx.hosts.get(flow.from), ctx.hosts.get(flow.to)) else {
            bad += 1;
            return;
        };
        if flow.entry >= ctx.entries.len() {
            bad += 1;
            return;
        }
        if from.address.addr().is_ipv4() != to.address.addr().is_ipv4() {
            if mixed.len() < MIXED_SHOWN {
                mixed.push(format!(
                    "{:?} → {:?} {}/{}",
                    from.name, to.name, flow.protocol, flow.ports
                ));
            }
            mixed_total += 1;
            return;
        }
        let is_ftp = |i: &usize| ftp.get(*i).copied().unwrap_or(false);
        let helper = (flow.protocol == Protocol::Tcp
            && flow.ports.contains(FTP_CONTROL_PORT)
            && ctx.ftp_passive_range.is_none()
            && (is_ftp(&flow.entry) || flow.also.iter().any(is_ftp)))
        .then_some(Helper::Ftp);
        // Host indices were checked above.
        counts.into_host[flow.to] += 1;
        counts.out_of_host[flow.from] += 1;
        match pairs.get_mut(from.zone * zones + to.zone) {
            Some(n) if from.zone < zones && to.zone < zones => *n += 1,
            _ => *counts.zone_pairs.entry((from.zone, to.zone)).or_default() += 1,
        }
        each(FlowItem {
            from: flow.from,
            to: flow.to,
            class: (from.zone, to.zone, flow.protocol, helper),
            ports: flow.ports,
            entry: flow.entry,
            also: &flow.also,
        });
    });
    for (i, &n) in pairs.iter().enumerate() {
        if n > 0 {
            *counts.zone_pairs.entry((i / zones, i % zones)).or_default() += n;
        }
    }
    if bad > 0 {
        warnings.push(format!(
            "{bad} planned flows name a host or catalog entry the plan does not have; left out"
        ));
    }
    if mixed_total > 0 {
        let more = if mixed_total > mixed.len() {
            format!(" and {} more", mixed_total - mixed.len())
        } else {
            String::new()
        };
        warnings.push(format!(
            "{mixed_total} planned flows join an IPv4 and an IPv6 address, which no packet can \
             do; they are left out: {}{more}",
            mixed.join(", ")
        ));
    }
    (warnings, counts)
}

/// How many mixed-family flows a warning names.
const MIXED_SHOWN: usize = 3;

/// One side of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// The sources.
    From,
    /// The destinations.
    To,
}

/// The FTP control port (RFC 959).
pub const FTP_CONTROL_PORT: u16 = 21;
