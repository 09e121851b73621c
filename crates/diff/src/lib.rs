//! What a change to a deployment changes on the firewalls: the delta of two plans.
//!
//! A [`Side`] is one plan in a neutral form: its flows with host names, addresses and zones,
//! built from a planned deployment ([`Side::of_plan`]) or from a saved `plan --format json`
//! ([`Side::of_document`]). [`diff`] compares two sides and builds the documented
//! [`DiffDocument`] (`rdsports_schema::diff`): the flows added, removed and changed, grouped by
//! zone boundary and host pair, each with its catalog ids, purpose and seed lines, and a
//! header of the hosts, zones and options that changed. [`apply`] replays a diff on the old
//! side's flows; it gives the new side's flows exactly (the property the tests hold the diff
//! to).
//!
//! A flow is identified by its zones, its two hosts (with their addresses when both sides
//! know them), its protocol and its ports: the unit a firewall rule allows. Two flows with
//! the same identity but other catalog entries, or the same hosts, zones and protocol with
//! other ports and the same primary catalog entry, are one *changed* flow; everything else
//! is added or removed.
//!
//! This crate is pure: it reads no files and knows no clock.
#![warn(missing_docs, clippy::print_stdout, clippy::print_stderr)]

pub mod rules;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rdsports_core::deployment::{NpsMode, Options, WinRm};
use rdsports_core::model::{LicensingMode, SslBridging, activation_name, crl_name};
use rdsports_core::{Catalog, Host, Plan, Protocol};
use rdsports_schema::Transport;
use rdsports_schema::diff::{
    ChangeKind, DIFF_SCHEMA_VERSION, DiffBoundary, DiffDocument, DiffHeader, DiffHost, DiffPair,
    DiffScope, DiffSide, DiffSummary, Endpoint, FlowChange, HostChange, OldFlow, OptionChange,
    Reference, SideKind,
};
use rdsports_schema::plan::{PlanDocument, PortSpan};

/// One plan in the form the diff compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Side {
    /// What the side was read from.
    pub info: DiffSide,
    /// Zone names, in the deployment's order (a saved plan: in order of first use).
    pub zones: Vec<String>,
    /// Hosts in the deployment's order (a saved plan: the hosts its flows name, in order of
    /// first use, without address or roles).
    pub hosts: Vec<DiffHost>,
    /// Every option's key and value as the file would write it (`None` for a saved plan).
    pub options: Option<Vec<(&'static str, String)>>,
    /// The flows, in plan order.
    pub flows: Vec<SideFlow>,
}

/// Text shared by the flows of a side (a host's name, a zone, a catalog entry's purpose):
/// a plan of millions of flows holds each once.
pub type Text = Arc<str>;

/// A host at one end of a [`SideFlow`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Peer {
    /// Name.
    pub name: Text,
    /// Address or population (`None`: a saved plan does not say).
    pub address: Option<Text>,
}

/// One flow of a [`Side`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SideFlow {
    /// Zone of the source.
    pub from_zone: Text,
    /// Zone of the destination.
    pub to_zone: Text,
    /// Source host.
    pub from: Peer,
    /// Destination host.
    pub to: Peer,
    /// Transport.
    pub protocol: Transport,
    /// Destination ports.
    pub ports: PortSpan,
    /// Catalog entries, primary first.
    pub catalog_ids: Arc<[Text]>,
    /// Service of the primary entry.
    pub service: Text,
    /// Purpose of the primary entry.
    pub purpose: Text,
}

/// The identity of a flow, what a firewall rule allows: zones, hosts (with their addresses
/// when both sides know them), protocol and ports.
type Identity<'f> = (
    &'f str,
    &'f str,
    &'f str,
    Option<&'f str>,
    &'f str,
    Option<&'f str>,
    Transport,
    PortSpan,
);

impl SideFlow {
    fn identity(&self, addresses: bool) -> Identity<'_> {
        fn address(p: &Peer, addresses: bool) -> Option<&str> {
            p.address.as_deref().filter(|_| addresses)
        }
        (
            &self.from_zone,
            &self.to_zone,
            &self.from.name,
            address(&self.from, addresses),
            &self.to.name,
            address(&self.to, addresses),
            self.protocol,
            self.ports,
        )
    }

    /// The identity without the ports: flows of one group may be one changed flow.
    fn group(&self, addresses: bool) -> Group<'_> {
        let (a, b, c, d, e, f, g, _) = self.identity(addresses);
        (a, b, c, d, e, f, g)
    }
}

/// [`Identity`] without the ports.
type Group<'f> = (
    &'f str,
    &'f str,
    &'f str,
    Option<&'f str>,
    &'f str,
    Option<&'f str>,
    Transport,
);

/// Interns text: each distinct string is allocated once.
#[derive(Default)]
struct Interner(HashMap<String, Text>);

impl Interner {
    fn get(&mut self, s: &str) -> Text {
        if let Some(t) = self.0.get(s) {
            return t.clone();
        }
        let t: Text = Arc::from(s);
        self.0.insert(s.to_owned(), t.clone());
        t
    }
}

/// A saved plan that cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadPlan {
    /// JSON path of the offending value (`flows[12]`).
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for BadPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for BadPlan {}

/// How a host's address is written: the bare address of a single machine, the CIDR of a
/// population.
pub fn address(host: &Host) -> String {
    if host.is_single() {
        host.address.addr().to_string()
    } else {
        host.address.to_string()
    }
}

impl Side {
    /// The side of a planned deployment (`label`: the file as named on the command line).
    pub fn of_plan(label: &str, plan: &Plan<'_>) -> Side {
        let d = plan.deployment;
        let peers: Vec<Peer> = d
            .hosts
            .iter()
            .map(|h| Peer {
                name: Arc::from(h.name.as_str()),
                address: Some(Arc::from(address(h).as_str())),
            })
            .collect();
        let zones: Vec<Text> = d.zones.iter().map(|z| Arc::from(z.name.as_str())).collect();
        // Per catalog entry: its id, service and purpose, and the ids of a flow it alone needs.
        let entries: Vec<(Text, Text, Arc<[Text]>)> = plan
            .catalog
            .entries
            .iter()
            .map(|e| {
                let id: Text = Arc::from(e.id.as_str());
                (
                    Arc::from(e.service.as_str()),
                    Arc::from(e.purpose.as_str()),
                    Arc::from([id]),
                )
            })
            .collect();
        let flows = plan
            .flows
            .iter()
            .map(|f| {
                let (service, purpose, alone) = &entries[f.entry];
                let catalog_ids = if f.also.is_empty() {
                    alone.clone()
                } else {
                    std::iter::once(f.entry)
                        .chain(f.also.iter().copied())
                        .map(|e| entries[e].2[0].clone())
                        .collect()
                };
                SideFlow {
                    from_zone: zones[d.hosts[f.from].zone].clone(),
                    to_zone: zones[d.hosts[f.to].zone].clone(),
                    from: peers[f.from].clone(),
                    to: peers[f.to].clone(),
                    protocol: transport(f.protocol),
                    ports: PortSpan {
                        first: f.ports.start(),
                        last: f.ports.end(),
                    },
                    catalog_ids,
                    service: service.clone(),
                    purpose: purpose.clone(),
                }
            })
            .collect();
        Side {
            info: DiffSide {
                label: label.to_owned(),
                deployment: d.name.clone(),
                kind: SideKind::Deployment,
            },
            zones: d.zones.iter().map(|z| z.name.clone()).collect(),
            hosts: d
                .hosts
                .iter()
                .map(|h| DiffHost {
                    name: h.name.clone(),
                    address: Some(address(h)),
                    zone: d.zones[h.zone].name.clone(),
                    roles: Some(h.roles.iter().map(|r| r.name().to_owned()).collect()),
                    settings: Some(host_settings(h)),
                })
                .collect(),
            options: Some(option_values(&d.options)),
            flows,
        }
    }

    /// The side of a saved `plan --format json`. A flow that repeats another's hosts,
    /// protocol and ports, or a host named in two zones, is refused (a plan has neither).
    pub fn of_document(label: &str, doc: &PlanDocument<'_>) -> Result<Side, BadPlan> {
        let mut zones: Vec<String> = Vec::new();
        let mut hosts: Vec<DiffHost> = Vec::new();
        let mut host_zone: HashMap<&str, usize> = HashMap::new();
        let mut text = Interner::default();
        let mut flows: Vec<SideFlow> = Vec::with_capacity(doc.flows.len());
        for (i, f) in doc.flows.iter().enumerate() {
            for zone in [&f.from_zone, &f.to_zone] {
                if !zones.iter().any(|z| z == zone.as_ref()) {
                    zones.push(zone.to_string());
                }
            }
            for (name, zone, key) in [(&f.from, &f.from_zone, "from"), (&f.to, &f.to_zone, "to")] {
                match host_zone.get(name.as_ref()) {
                    Some(&h) if hosts[h].zone != zone.as_ref() => {
                        return Err(BadPlan {
                            path: format!("flows[{i}].{key}_zone"),
                            message: format!(
                                "host \"{name}\" is in zone \"{zone}\" here and in \"{}\" in an \
                                 earlier flow; a plan puts each host in one zone",
                                hosts[h].zone
                            ),
                        });
                    }
                    Some(_) => {}
                    None => {
                        host_zone.insert(name.as_ref(), hosts.len());
                        hosts.push(DiffHost {
                            name: name.to_string(),
                            address: None,
                            zone: zone.to_string(),
                            roles: None,
                            settings: None,
                        });
                    }
                }
            }
            let mut catalog_ids: Vec<Text> = f.catalog_ids.iter().map(|c| text.get(c)).collect();
            if catalog_ids.is_empty() {
                catalog_ids.push(text.get(&f.catalog_id));
            }
            let peer = |name: &str, text: &mut Interner| Peer {
                name: text.get(name),
                address: None,
            };
            flows.push(SideFlow {
                from_zone: text.get(&f.from_zone),
                to_zone: text.get(&f.to_zone),
                from: peer(&f.from, &mut text),
                to: peer(&f.to, &mut text),
                protocol: f.protocol,
                ports: f.ports,
                catalog_ids: catalog_ids.into(),
                service: text.get(&f.service),
                purpose: text.get(&f.purpose),
            });
        }
        let mut seen: HashMap<Identity<'_>, usize> = HashMap::with_capacity(flows.len());
        for (i, flow) in flows.iter().enumerate() {
            if let Some(first) = seen.insert(flow.identity(false), i) {
                return Err(BadPlan {
                    path: format!("flows[{i}]"),
                    message: format!(
                        "repeats flows[{first}] ({} -> {} {} {}); a plan has one flow per host \
                         pair, protocol and ports",
                        flow.from.name, flow.to.name, flow.protocol, flow.ports
                    ),
                });
            }
        }
        drop(seen);
        Ok(Side {
            info: DiffSide {
                label: label.to_owned(),
                deployment: doc.deployment.to_string(),
                kind: SideKind::Plan,
            },
            zones,
            hosts,
            options: None,
            flows,
        })
    }

    /// Whether the side knows its hosts' addresses (a deployment file does).
    pub fn knows_addresses(&self) -> bool {
        self.info.kind == SideKind::Deployment
    }

    /// Whether a host called `name` is on this side.
    pub fn has_host(&self, name: &str) -> bool {
        self.hosts.iter().any(|h| h.name == name)
    }

    /// Whether a zone called `name` is on this side.
    pub fn has_zone(&self, name: &str) -> bool {
        self.zones.iter().any(|z| z == name)
    }
}

/// The narrowing of a diff: as `plan --host` and `rules --boundary`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Narrow {
    /// Only the flows from or to this host.
    pub host: Option<String>,
    /// Only the flows between these two zones, both directions.
    pub boundary: Option<(String, String)>,
}

impl Narrow {
    /// Whether `f` is within the narrowing.
    pub fn keeps(&self, f: &SideFlow) -> bool {
        let host = self
            .host
            .as_ref()
            .is_none_or(|h| *f.from.name == **h || *f.to.name == **h);
        let boundary = self.boundary.as_ref().is_none_or(|(a, b)| {
            let (x, y) = (&*f.from_zone, &*f.to_zone);
            (x == a && y == b) || (x == b && y == a)
        });
        host && boundary
    }

    /// Why the narrowing names nothing of either side (`None`: it is fine): a host or zone
    /// that neither side has, or a boundary from a zone to itself.
    pub fn check(&self, old: &Side, new: &Side) -> Option<String> {
        if let Some(h) = &self.host
            && !old.has_host(h)
            && !new.has_host(h)
        {
            return Some(format!(
                "no host \"{h}\" in {} or {}",
                old.info.label, new.info.label
            ));
        }
        if let Some((a, b)) = &self.boundary {
            if a == b {
                return Some(format!(
                    "--boundary {a}:{b} names one zone twice; flows inside a zone cross no \
                     boundary"
                ));
            }
            for z in [a, b] {
                if !old.has_zone(z) && !new.has_zone(z) {
                    return Some(format!(
                        "no zone \"{z}\" in {} or {}",
                        old.info.label, new.info.label
                    ));
                }
            }
        }
        None
    }
}

/// The flows and header that changed from `old` to `new`, within `narrow`. The catalog
/// gives each catalog id its seed lines (an id it does not know gets none).
///
/// Flows are matched by reference, never copied: memory beyond the two sides is a few words
/// per flow, and a few hundred bytes per change.
pub fn diff(catalog: &Catalog, old: &Side, new: &Side, narrow: &Narrow) -> DiffDocument {
    let addresses = old.knows_addresses() && new.knows_addresses();
    fn keyed<'s>(
        side: &'s Side,
        narrow: &Narrow,
        addresses: bool,
    ) -> HashMap<Identity<'s>, &'s SideFlow> {
        side.flows
            .iter()
            .filter(|f| narrow.keeps(f))
            .map(|f| (f.identity(addresses), f))
            .collect()
    }
    let (before, after) = (keyed(old, narrow, addresses), keyed(new, narrow, addresses));
    let mut changes: Vec<(&SideFlow, ChangeKind, Option<&SideFlow>)> = Vec::new();
    // OLD's flows NEW lacks, by group, in OLD's plan order.
    let mut only_old: HashMap<Group<'_>, Vec<&SideFlow>> = HashMap::new();
    for f in old.flows.iter().filter(|f| narrow.keeps(f)) {
        match after.get(&f.identity(addresses)) {
            Some(n) if !same_reasons(n, f) => changes.push((n, ChangeKind::Changed, Some(f))),
            Some(_) => {}
            None => only_old.entry(f.group(addresses)).or_default().push(f),
        }
    }
    for f in new.flows.iter().filter(|f| narrow.keeps(f)) {
        if before.contains_key(&f.identity(addresses)) {
            continue;
        }
        // The same hosts, zones and protocol with other ports, for the same primary entry:
        // the flow changed its ports (rdp_port, rpc_range ...).
        let paired = only_old.get_mut(&f.group(addresses)).and_then(|olds| {
            let i = olds
                .iter()
                .position(|o| o.catalog_ids.first() == f.catalog_ids.first())?;
            Some(olds.remove(i))
        });
        match paired {
            Some(o) => changes.push((f, ChangeKind::Changed, Some(o))),
            None => changes.push((f, ChangeKind::Added, None)),
        }
    }
    drop((before, after));
    for olds in only_old.into_values() {
        changes.extend(olds.into_iter().map(|f| (f, ChangeKind::Removed, None)));
    }
    let mut summary = DiffSummary::default();
    for (_, kind, _) in &changes {
        match kind {
            ChangeKind::Added => summary.added += 1,
            ChangeKind::Removed => summary.removed += 1,
            ChangeKind::Changed => summary.changed += 1,
        }
    }
    // Endpoints as the document shows them. Compared by name (a saved plan), a side that
    // knows its hosts' addresses still shows them (the note in the header says whose).
    let known: HashMap<&str, &str> = if addresses {
        HashMap::new()
    } else {
        [new, old]
            .into_iter()
            .filter(|s| s.knows_addresses())
            .flat_map(|s| &s.hosts)
            .filter_map(|h| Some((h.name.as_str(), h.address.as_deref()?)))
            .fold(HashMap::new(), |mut m, (n, a)| {
                m.entry(n).or_insert(a);
                m
            })
    };
    let endpoint = |p: &Peer| Endpoint {
        name: p.name.to_string(),
        address: if addresses {
            p.address.as_deref().map(str::to_owned)
        } else {
            known.get(&*p.name).map(|a| (*a).to_owned())
        },
    };
    let references = References::new(catalog);
    let zone_rank = rank(new.zones.iter().chain(&old.zones).map(String::as_str));
    let host_rank = rank(new.hosts.iter().chain(&old.hosts).map(|h| h.name.as_str()));
    let order = |f: &SideFlow, kind: ChangeKind| {
        (
            zone_rank(&f.from_zone),
            zone_rank(&f.to_zone),
            host_rank(&f.from.name),
            f.from.address.clone().filter(|_| addresses),
            host_rank(&f.to.name),
            f.to.address.clone().filter(|_| addresses),
            f.protocol,
            f.ports,
            kind,
        )
    };
    changes.sort_by_cached_key(|(f, kind, _)| order(f, *kind));
    let mut boundaries: Vec<DiffBoundary> = Vec::new();
    for (f, kind, old_flow) in changes {
        let ids = |f: &SideFlow| f.catalog_ids.iter().map(|c| c.to_string()).collect();
        let change = FlowChange {
            change: kind,
            protocol: f.protocol,
            ports: f.ports,
            service: f.service.to_string(),
            purpose: f.purpose.to_string(),
            references: f.catalog_ids.iter().map(|id| references.of(id)).collect(),
            catalog_ids: ids(f),
            old: old_flow.map(|o| OldFlow {
                ports: o.ports,
                service: o.service.to_string(),
                purpose: o.purpose.to_string(),
                catalog_ids: ids(o),
            }),
        };
        let (from, to) = (endpoint(&f.from), endpoint(&f.to));
        let boundary = match boundaries.last_mut() {
            Some(b) if *b.from_zone == *f.from_zone && *b.to_zone == *f.to_zone => b,
            _ => {
                boundaries.push(DiffBoundary {
                    from_zone: f.from_zone.to_string(),
                    to_zone: f.to_zone.to_string(),
                    pairs: Vec::new(),
                });
                boundaries.last_mut().unwrap_or_else(|| unreachable!())
            }
        };
        match boundary.pairs.last_mut() {
            Some(p) if p.from == from && p.to == to => p.changes.push(change),
            _ => boundary.pairs.push(DiffPair {
                from,
                to,
                changes: vec![change],
            }),
        }
    }
    DiffDocument {
        schema_version: DIFF_SCHEMA_VERSION,
        old: old.info.clone(),
        new: new.info.clone(),
        scope: DiffScope {
            host: narrow.host.clone(),
            boundary: narrow.boundary.clone().map(|(a, b)| [a, b]),
        },
        header: header(old, new),
        summary,
        boundaries,
        rules: None,
    }
}

/// Whether two flows of one identity have the same catalog entries, service and purpose.
fn same_reasons(a: &SideFlow, b: &SideFlow) -> bool {
    a.catalog_ids == b.catalog_ids && a.service == b.service && a.purpose == b.purpose
}

/// Whether the document reports any change (flows, hosts, zones or options).
pub fn has_changes(doc: &DiffDocument) -> bool {
    let h = &doc.header;
    !doc.boundaries.is_empty()
        || !h.hosts_added.is_empty()
        || !h.hosts_removed.is_empty()
        || !h.hosts_changed.is_empty()
        || !h.zones_added.is_empty()
        || !h.zones_removed.is_empty()
        || !h.options_changed.is_empty()
}

/// Replays the flow changes of `doc` on `old` (OLD's flows within the diff's scope): the
/// result, sorted, is NEW's flows within the scope, as the diff compared them (against a
/// saved plan, by host name: without addresses). A change that does not fit `old` (a removed
/// flow it lacks) is skipped.
pub fn apply(old: &[SideFlow], doc: &DiffDocument) -> Vec<SideFlow> {
    let addresses = doc.old.kind == SideKind::Deployment && doc.new.kind == SideKind::Deployment;
    let bare = |p: &Peer| Peer {
        name: p.name.clone(),
        address: p.address.clone().filter(|_| addresses),
    };
    type Owned = (Text, Text, Peer, Peer, Transport, PortSpan);
    let key = |f: &SideFlow| -> Owned {
        (
            f.from_zone.clone(),
            f.to_zone.clone(),
            f.from.clone(),
            f.to.clone(),
            f.protocol,
            f.ports,
        )
    };
    let mut flows: BTreeMap<Owned, SideFlow> = old
        .iter()
        .map(|f| {
            let f = SideFlow {
                from: bare(&f.from),
                to: bare(&f.to),
                ..f.clone()
            };
            (key(&f), f)
        })
        .collect();
    let text = |s: &str| -> Text { Arc::from(s) };
    let peer = |e: &Endpoint| Peer {
        name: text(&e.name),
        address: e.address.as_deref().map(text).filter(|_| addresses),
    };
    for b in &doc.boundaries {
        for p in &b.pairs {
            for c in &p.changes {
                let flow = |ports, ids: &[String], service: &str, purpose: &str| SideFlow {
                    from_zone: text(&b.from_zone),
                    to_zone: text(&b.to_zone),
                    from: peer(&p.from),
                    to: peer(&p.to),
                    protocol: c.protocol,
                    ports,
                    catalog_ids: ids.iter().map(|i| text(i)).collect(),
                    service: text(service),
                    purpose: text(purpose),
                };
                let now = flow(c.ports, &c.catalog_ids, &c.service, &c.purpose);
                match c.change {
                    ChangeKind::Removed => {
                        flows.remove(&key(&now));
                    }
                    ChangeKind::Added => {
                        flows.insert(key(&now), now);
                    }
                    ChangeKind::Changed => {
                        if let Some(o) = &c.old {
                            let was = flow(o.ports, &o.catalog_ids, &o.service, &o.purpose);
                            flows.remove(&key(&was));
                        }
                        flows.insert(key(&now), now);
                    }
                }
            }
        }
    }
    flows.into_values().collect()
}

/// The header: hosts, zones and options that changed.
fn header(old: &Side, new: &Side) -> DiffHeader {
    let mut h = DiffHeader::default();
    let zones_of = |s: &Side| s.zones.clone();
    h.zones_added = zones_of(new)
        .into_iter()
        .filter(|z| !old.has_zone(z))
        .collect();
    h.zones_removed = zones_of(old)
        .into_iter()
        .filter(|z| !new.has_zone(z))
        .collect();
    let find = |s: &Side, name: &str| s.hosts.iter().find(|h| h.name == name).cloned();
    for n in &new.hosts {
        match find(old, &n.name) {
            None => h.hosts_added.push(n.clone()),
            Some(o) => {
                let address = o.address.is_some() && n.address.is_some() && o.address != n.address;
                let roles = o.roles.is_some() && n.roles.is_some() && o.roles != n.roles;
                let settings =
                    o.settings.is_some() && n.settings.is_some() && o.settings != n.settings;
                if o.zone != n.zone || address || roles || settings {
                    h.hosts_changed.push(HostChange {
                        name: n.name.clone(),
                        old: o,
                        new: n.clone(),
                    });
                }
            }
        }
    }
    h.hosts_removed = old
        .hosts
        .iter()
        .filter(|o| !new.has_host(&o.name))
        .cloned()
        .collect();
    if let (Some(a), Some(b)) = (&old.options, &new.options) {
        for ((key, va), (_, vb)) in a.iter().zip(b) {
            if va != vb {
                h.options_changed.push(OptionChange {
                    key: (*key).to_owned(),
                    old: va.clone(),
                    new: vb.clone(),
                });
            }
        }
    }
    for (side, which) in [(old, "OLD"), (new, "NEW")] {
        if side.info.kind == SideKind::Plan {
            h.notes.push(format!(
                "{which} ({}) is a saved plan: its hosts' addresses and roles and the options \
                 are not known; flows are compared by host name and zone{}",
                side.info.label,
                match (old.knows_addresses(), new.knows_addresses()) {
                    (false, true) => format!(", addresses are those of NEW ({})", new.info.label),
                    (true, false) => format!(", addresses are those of OLD ({})", old.info.label),
                    _ => String::new(),
                }
            ));
        }
    }
    h
}

/// A function giving each name its first position in `names` (names it lacks come last).
fn rank<'n>(names: impl Iterator<Item = &'n str>) -> impl Fn(&str) -> usize {
    let mut at: HashMap<String, usize> = HashMap::new();
    for (i, n) in names.enumerate() {
        at.entry(n.to_owned()).or_insert(i);
    }
    move |n| at.get(n).copied().unwrap_or(usize::MAX)
}

/// The seed lines and reference of each catalog id.
struct References<'c> {
    by_id: HashMap<&'c str, &'c rdsports_core::catalog::Entry>,
}

impl<'c> References<'c> {
    fn new(catalog: &'c Catalog) -> Self {
        References {
            by_id: catalog.entries.iter().map(|e| (e.id.as_str(), e)).collect(),
        }
    }

    fn of(&self, id: &str) -> Reference {
        match self.by_id.get(id) {
            Some(e) => Reference {
                catalog_id: id.to_owned(),
                seed_lines: e.source.seed_lines.clone(),
                reference: e.source.reference.clone(),
            },
            None => Reference {
                catalog_id: id.to_owned(),
                seed_lines: Vec::new(),
                reference: None,
            },
        }
    }
}

/// The contract's name for a transport.
fn transport(p: Protocol) -> Transport {
    match p {
        Protocol::Tcp => Transport::Tcp,
        Protocol::Udp => Transport::Udp,
    }
}

/// The per-host keys `host` sets for itself, with their values as the file writes them.
pub fn host_settings(host: &Host) -> BTreeMap<String, String> {
    let s = &host.settings;
    [
        ("rdp_port", s.rdp_port.map(|p| p.to_string())),
        ("rdp_udp", s.rdp_udp.map(|b| b.to_string())),
        (
            "gateway_https_port",
            s.gateway_https_port.map(|p| p.to_string()),
        ),
        ("gateway_udp", s.gateway_udp.map(|b| b.to_string())),
        (
            "gateway_udp_port",
            s.gateway_udp_port.map(|p| p.to_string()),
        ),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k.to_owned(), v?)))
    .collect()
}

/// Every option of `[options]` with its value as the file writes it, in the order of
/// [`Options`]' fields.
pub fn option_values(o: &Options) -> Vec<(&'static str, String)> {
    let flag = |b: bool| b.to_string();
    let quoted = |s: &str| format!("\"{s}\"");
    vec![
        ("rdp_port", o.rdp_port.to_string()),
        ("rdp_udp", flag(o.rdp_udp)),
        ("gateway_udp", flag(o.gateway_udp)),
        ("gateway_https_port", o.gateway_https_port.to_string()),
        ("gateway_udp_port", o.gateway_udp_port.to_string()),
        (
            "crl",
            format!(
                "[{}]",
                o.crl
                    .iter()
                    .map(|m| quoted(crl_name(*m)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        (
            "nps",
            quoted(match o.nps {
                NpsMode::None => "none",
                NpsMode::Central => "central",
            }),
        ),
        ("rpc_range", quoted(&o.rpc_range.to_string())),
        (
            "ad_rpc_port",
            o.ad_rpc_port.map_or("(none)".to_owned(), |p| p.to_string()),
        ),
        ("wmi_port", o.wmi_port.to_string()),
        (
            "winrm",
            quoted(match o.winrm {
                WinRm::Http => "http",
                WinRm::Https => "https",
            }),
        ),
        (
            "licensing_mode",
            quoted(match o.licensing_mode {
                LicensingMode::PerUser => "per-user",
                LicensingMode::PerDevice => "per-device",
            }),
        ),
        ("activation", quoted(activation_name(o.activation))),
        ("netbios", flag(o.netbios)),
        ("broker_ha", flag(o.broker_ha)),
        ("sql_port", o.sql_port.to_string()),
        ("sql_browser", flag(o.sql_browser)),
        ("direct_access", flag(o.direct_access)),
        ("vdi_unmanaged", flag(o.vdi_unmanaged)),
        ("web_client", flag(o.web_client)),
        ("gateway_farm", flag(o.gateway_farm)),
        (
            "ssl_bridging",
            quoted(match o.ssl_bridging {
                SslBridging::HttpsHttps => "https-https",
                SslBridging::HttpsHttp => "https-http",
            }),
        ),
        (
            "ftp_passive_range",
            o.ftp_passive_range
                .map_or("(none)".to_owned(), |r| quoted(&r.to_string())),
        ),
        ("domain_baseline", flag(o.domain_baseline)),
        ("ldaps", flag(o.ldaps)),
        ("low_confidence", flag(o.low_confidence)),
        (
            "domain",
            o.domain.as_deref().map_or("(none)".to_owned(), quoted),
        ),
    ]
}

#[cfg(test)]
mod tests;
