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
use rdsports_core::model::{Host, PortRange, Protocol, Zone};
use rdsports_core::plan::Plan;

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
}

impl Policy {
    /// One rule per planned flow. Flows whose two ends have different address families
    /// cannot exist on the wire; they are left out with a warning.
    pub fn from_plan(plan: &Plan<'_>) -> Policy {
        let dep = plan.deployment;
        let entries = plan
            .catalog
            .entries
            .iter()
            .map(|e| EntryInfo {
                id: e.id.clone(),
                service: e.service.clone(),
                purpose: e.purpose.clone(),
            })
            .collect::<Vec<_>>();
        let context = Context {
            name: dep.name.clone(),
            zones: dep.zones.clone(),
            hosts: dep.hosts.clone(),
            entries,
            ftp_passive_range: dep.options.ftp_passive_range,
        };
        let mut rules = Vec::with_capacity(plan.flows.len());
        let mut warnings = Vec::new();
        let mut mixed = Vec::new();
        for flow in &plan.flows {
            let (Some(from), Some(to)) = (context.hosts.get(flow.from), context.hosts.get(flow.to))
            else {
                warnings.push(format!(
                    "a flow names host {} or {} that the deployment does not have; left out",
                    flow.from, flow.to
                ));
                continue;
            };
            if from.address.addr().is_ipv4() != to.address.addr().is_ipv4() {
                mixed.push(format!(
                    "{:?} → {:?} {}/{}",
                    from.name, to.name, flow.protocol, flow.ports
                ));
                continue;
            }
            let mut ids: Vec<usize> = std::iter::once(flow.entry)
                .chain(flow.also.iter().copied())
                .filter(|&i| i < context.entries.len())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let helper = needs_ftp_helper(&context, &ids, flow.protocol, flow.ports);
            rules.push(Rule {
                from_zone: from.zone,
                to_zone: to.zone,
                protocol: flow.protocol,
                ports: vec![flow.ports],
                from_hosts: vec![flow.from],
                to_hosts: vec![flow.to],
                sources: vec![from.address.trunc()],
                destinations: vec![to.address.trunc()],
                entries: ids,
                helper,
            });
        }
        if !mixed.is_empty() {
            const SHOWN: usize = 3;
            let total = mixed.len();
            mixed.truncate(SHOWN);
            let more = if total > SHOWN {
                format!(" and {} more", total - SHOWN)
            } else {
                String::new()
            };
            warnings.push(format!(
                "{total} planned flows join an IPv4 and an IPv6 address, which no packet can do; \
                 they are left out: {}{more}",
                mixed.join(", ")
            ));
        }
        Policy {
            context: Arc::new(context),
            rules,
            warnings,
        }
    }

    /// A policy over the same context with other rules.
    pub fn with_rules(&self, rules: Vec<Rule>) -> Policy {
        Policy {
            context: Arc::clone(&self.context),
            rules,
            warnings: self.warnings.clone(),
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
            for &h in hosts {
                let Some(host) = self.context.hosts.get(h) else {
                    continue;
                };
                let mut r = rule.clone();
                let one = vec![h];
                let addr = vec![host.address.trunc()];
                match side {
                    Side::From => {
                        r.from_hosts = one;
                        r.sources = addr;
                    }
                    Side::To => {
                        r.to_hosts = one;
                        r.destinations = addr;
                    }
                }
                out.entry(h).or_default().push(r);
            }
        }
        out.into_iter()
            .map(|(h, rules)| (h, self.with_rules(rules)))
            .collect()
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

#[derive(Clone, Copy)]
enum Side {
    From,
    To,
}

/// Whether a flow carries an FTP control channel whose data channel the firewall must follow.
fn needs_ftp_helper(
    ctx: &Context,
    entries: &[usize],
    protocol: Protocol,
    ports: PortRange,
) -> Option<Helper> {
    let ftp = entries
        .iter()
        .filter_map(|&i| ctx.entries.get(i))
        .any(|e| e.service.eq_ignore_ascii_case("ftp"));
    (ftp && protocol == Protocol::Tcp
        && ports.contains(FTP_CONTROL_PORT)
        && ctx.ftp_passive_range.is_none())
    .then_some(Helper::Ftp)
}

/// The FTP control port (RFC 959).
pub const FTP_CONTROL_PORT: u16 = 21;
