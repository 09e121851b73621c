//! The planner: (catalog, deployment) → the exact flows between concrete hosts.
//!
//! Pure and deterministic: the same inputs give the same flows in the same order.

use crate::catalog::{Atom, Catalog, Condition, Confidence, Entry, PortParam, PortRef};
use crate::deployment::{Deployment, NpsMode, Options, WinRm};
use crate::model::{Flow, Host, PortRange, Protocol, Role, Zone};

/// Plans `deployment` against `catalog`.
///
/// For every catalog entry whose conditions hold, every host with a source role gets a flow
/// to every other host with a destination role, per protocol and port. Roles on the same
/// host need no flow. Entries whose destination role no host has are reported in
/// [`Plan::unplanned`] and as a warning, never dropped silently.
pub fn plan<'a>(catalog: &'a Catalog, deployment: &'a Deployment) -> Plan<'a> {
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

    // The entries that apply, with their ports resolved and their hosts found.
    let mut active: Vec<Active> = Vec::new();
    for (e, entry) in catalog.entries.iter().enumerate() {
        if !entry.when.iter().all(|c| holds(c, d)) {
            continue;
        }
        if entry.confidence == Confidence::Low && !o.low_confidence {
            let applies = !hosts_with(&entry.from).is_empty() && !hosts_with(&entry.to).is_empty();
            if applies {
                skipped_low.push(entry.id.as_str());
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
        active.push(Active {
            entry: e,
            protocols: &entry.protocols,
            ports,
            sources,
            targets,
        });
    }

    // Per source host: every (to, protocol, ports) it needs, merged across entries. Flows
    // that several entries need can only coincide for the same source, so a per-source
    // buffer replaces a global index (and keeps memory flat for large farms).
    // Reserve the upper bound once (before merging duplicates): growing by doubling would copy
    // millions of flows and hold two copies at the peak. Untouched capacity costs no memory.
    let bound: usize = active
        .iter()
        .map(|a| a.sources.len() * a.targets.len() * a.protocols.len() * a.ports.len())
        .sum();
    let mut flows: Vec<Flow> = Vec::with_capacity(bound);
    let mut buffer: Vec<(usize, Protocol, PortRange, usize)> = Vec::new();
    let mut cursors = vec![0usize; active.len()];
    for from in 0..d.hosts.len() {
        buffer.clear();
        for (a, cursor) in active.iter().zip(cursors.iter_mut()) {
            // `sources` is sorted and `from` only grows: advance a cursor instead of searching.
            while *cursor < a.sources.len() && a.sources[*cursor] < from {
                *cursor += 1;
            }
            if a.sources.get(*cursor) != Some(&from) {
                continue;
            }
            for &to in a.targets.iter().filter(|&&to| to != from) {
                for &protocol in a.protocols {
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
            let mut also = Vec::new();
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
            flows.push(Flow {
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
    flows.sort_unstable_by_key(|f| {
        (
            d.hosts[f.from].zone,
            d.hosts[f.to].zone,
            f.from,
            f.to,
            f.protocol,
            f.ports,
        )
    });

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
        warnings.push(format!(
            "low-confidence catalog rows not planned: {} (set option low_confidence = true to include them)",
            skipped_low.join(", ")
        ));
    }
    for h in &d.hosts {
        for r in &h.implied_roles {
            warnings.push(format!(
                "{} takes role {r} by default (no host has it)",
                h.name
            ));
        }
    }
    Plan {
        catalog,
        deployment,
        flows,
        unplanned,
        warnings,
    }
}

/// A catalog entry that applies to the deployment, ready to expand into flows.
struct Active<'c> {
    entry: usize,
    protocols: &'c [Protocol],
    ports: Vec<PortRange>,
    sources: Vec<usize>,
    targets: Vec<usize>,
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
}

#[cfg(test)]
mod tests;
