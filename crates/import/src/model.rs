//! The deployment file an [`Inventory`] describes: every value with its source, what the
//! sources could not tell said in a comment and a warning, never guessed silently.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::IpAddr;

use ipnet::IpNet;
use rdsports_core::Role;
use rdsports_core::deployment::crl_name;
use rdsports_schema::import::Fact;

use crate::{Inventory, Server};

/// A value written into the file, with the comment naming its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The key.
    pub key: &'static str,
    /// The value as TOML (`3389`, `"per-user"`, `["http"]`).
    pub value: String,
    /// Where it comes from.
    pub comment: String,
}

/// One `[[host]]` of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostModel {
    /// Its name in the file.
    pub name: String,
    /// Its name in the deployment (an FQDN), when it differs.
    pub full_name: Option<String>,
    /// Its address (or network, for populations); `None`: unknown, to fill in.
    pub address: Option<String>,
    /// The prefix length of the address's network, when the source gave one.
    pub prefix: Option<u8>,
    /// Where the address comes from (or which to fill in).
    pub address_comment: String,
    /// Its roles.
    pub roles: Vec<Role>,
    /// Where the roles come from.
    pub roles_comment: String,
    /// Per-host settings that differ from `[options]` (the keys of the per-host spec).
    pub settings: Vec<Line>,
    /// Notes (unreachable, assumptions).
    pub notes: Vec<String>,
    /// A population (clients, the Clearinghouse), not a server.
    pub population: bool,
}

/// One `[[zone]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneModel {
    /// Its name.
    pub name: String,
    /// Its networks.
    pub networks: Vec<IpNet>,
    /// Where they come from.
    pub comment: String,
}

/// The deployment file an import describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// The deployment's name.
    pub name: Line,
    /// Comment lines at the top.
    pub header: Vec<String>,
    /// `[options]` lines (only values a source gave, or a stated assumption).
    pub options: Vec<Line>,
    /// Options the sources could not tell, with the comment that says so.
    pub unknown_options: Vec<String>,
    /// Zones.
    pub zones: Vec<ZoneModel>,
    /// Hosts (servers by name, then populations).
    pub hosts: Vec<HostModel>,
    /// What the admin must know.
    pub warnings: Vec<String>,
    /// Hosts whose address is to be filled in.
    pub unresolved: Vec<String>,
    /// Roles the sources could see.
    pub visible: BTreeSet<Role>,
}

/// The text a host's unknown address is written as: `plan` refuses it and points at it.
pub fn placeholder(name: &str) -> String {
    format!("<address of {name}>")
}

/// Roles that accept RDP (the hosts `rdp_port` and `rdp_udp` apply to).
const RDP_ROLES: [Role; 3] = [
    Role::SessionHost,
    Role::ConnectionBroker,
    Role::VirtualDesktop,
];

impl Model {
    /// The file `inv` describes. `resolved` holds addresses the system resolver gave for names
    /// (`--resolve`), by lower-case name.
    pub fn of(inv: &Inventory, resolved: &BTreeMap<String, Vec<IpAddr>>) -> Model {
        let mut b = Builder {
            warnings: inv.warnings.clone(),
            unknown: Vec::new(),
            options: Vec::new(),
        };
        let names = host_names(inv);
        let servers: Vec<(&Server, String)> = inv
            .servers
            .iter()
            .filter_map(|(k, s)| names.get(k).map(|n| (s, n.clone())))
            .collect();
        for (k, s) in &inv.servers {
            if s.roles.is_empty() {
                b.warnings.push(format!(
                    "{} has no role the sources name: left out of the file",
                    s.name
                ));
                let _ = k;
            }
        }
        // Per-host values: the most common one goes to [options], the others stay per host.
        let rdp: Vec<(&Server, &String)> = servers
            .iter()
            .filter(|(s, _)| RDP_ROLES.iter().any(|r| s.roles.contains_key(r)))
            .map(|(s, n)| (*s, n))
            .collect();
        let gateways: Vec<(&Server, &String)> = servers
            .iter()
            .filter(|(s, _)| s.roles.contains_key(&Role::Gateway))
            .map(|(s, n)| (*s, n))
            .collect();
        let mut per_host: BTreeMap<String, Vec<Line>> = BTreeMap::new();
        b.per_host(
            &rdp,
            "rdp_port",
            3389,
            |s| s.rdp_port.as_ref(),
            &mut per_host,
            "the RDP-Tcp PortNumber",
        );
        b.per_host(
            &rdp,
            "rdp_udp",
            true,
            |s| s.rdp_udp.as_ref(),
            &mut per_host,
            "whether RDP over UDP is on",
        );
        b.per_host(
            &gateways,
            "gateway_https_port",
            443,
            |s| s.gateway_https_port.as_ref(),
            &mut per_host,
            "the gateway's HTTP transport port",
        );
        b.per_host(
            &gateways,
            "gateway_udp",
            true,
            |s| s.gateway_udp.as_ref(),
            &mut per_host,
            "whether the gateway's UDP transport is on",
        );
        b.per_host(
            &gateways,
            "gateway_udp_port",
            3391,
            |s| s.gateway_udp_port.as_ref(),
            &mut per_host,
            "the gateway's UDP transport port",
        );
        b.deployment_options(inv, &servers);

        let has = |r: Role| servers.iter().any(|(s, _)| s.roles.contains_key(&r));
        let mut hosts = Vec::new();
        let mut unresolved = Vec::new();
        for (s, name) in &servers {
            if s.roles.is_empty() {
                continue;
            }
            let full_name = (!s.name.eq_ignore_ascii_case(name)).then(|| s.name.clone());
            let (address, prefix, address_comment) = address_of(s, name, resolved, &mut unresolved);
            let mut sources: Vec<&str> = s.roles.values().map(String::as_str).collect();
            sources.dedup();
            let mut notes = Vec::new();
            if s.roles.contains_key(&Role::Gateway)
                && let Some(f) = &inv.facts.gateway_external_fqdn
            {
                notes.push(format!(
                    "clients reach the gateways as {} ({})",
                    f.value, f.source
                ));
            }
            if let Some(e) = &s.unreachable {
                notes.push(format!("not reached by the collector: {e}"));
            }
            hosts.push(HostModel {
                name: name.clone(),
                full_name,
                address,
                prefix,
                address_comment,
                roles: s.roles.keys().copied().collect(),
                roles_comment: dedup(sources).join("; "),
                settings: per_host.remove(name).unwrap_or_default(),
                notes,
                population: false,
            });
        }
        if !unresolved.is_empty() {
            b.warnings.push(format!(
                "no address known for {}: fill them in (the file says where), or run `rdsports \
                 import --resolve` to ask the system resolver",
                unresolved.join(", ")
            ));
        }
        // Virtual desktops: their names are known, their network is not.
        if !inv.facts.virtual_desktops.is_empty() {
            let vms = &inv.facts.virtual_desktops;
            let shown: Vec<&str> = vms.iter().take(8).map(String::as_str).collect();
            let more = if vms.len() > 8 {
                format!(" and {} more", vms.len() - 8)
            } else {
                String::new()
            };
            let list = format!("{}{more}", shown.join(", "));
            unresolved.push("virtual-desktops".into());
            hosts.push(HostModel {
                name: "virtual-desktops".into(),
                full_name: None,
                address: None,
                prefix: None,
                address_comment: format!(
                    "FILL IN: the network of the virtual desktops {list} (Get-RDVirtualDesktop names them; no source gives their addresses)"
                ),
                roles: vec![Role::VirtualDesktop],
                roles_comment: "Get-RDVirtualDesktop VirtualDesktopName".into(),
                settings: Vec::new(),
                notes: Vec::new(),
                population: false,
            });
        }
        // Populations.
        let gateway = has(Role::Gateway);
        let mut client_note = if gateway {
            "clients reach the gateway from any address (an assumption: the sources cannot \
             tell where clients are; narrow it to your client networks)"
                .to_owned()
        } else {
            "clients on any address (an assumption: there is no gateway and the sources cannot \
             tell where clients are; narrow it to your client networks)"
                .to_owned()
        };
        if !gateway {
            b.warnings.push(
                "no gateway: clients are assumed on any address (0.0.0.0/0); narrow the \
                 \"clients\" host to your client networks"
                    .into(),
            );
        }
        if let Some(m) = &inv.facts.gateway_mode
            && m.value == "DoNotUse"
            && gateway
        {
            client_note.push_str(&format!(
                "; {} = DoNotUse: clients are not sent through the gateway",
                m.source
            ));
        }
        if !servers.is_empty() {
            hosts.push(population("clients", Role::Client, client_note));
        }
        if has(Role::Licensing) {
            hosts.push(population(
                "clearinghouse",
                Role::Clearinghouse,
                "the license server activates over the internet (activation is not in the \
                 sources: rdsports' default, automatic)"
                    .into(),
            ));
        }
        let zones = zones_of(&mut hosts, &mut b.warnings);
        let name = deployment_name(inv);
        let mut header = vec![format!(
            "Written by `rdsports import` from {}.",
            inv.sources.join(", ")
        )];
        if let Some((broker, at)) = &inv.facts.collected {
            header.push(match at {
                Some(at) => format!("Collected on {broker} at {at}."),
                None => format!("Collected on {broker}."),
            });
        }
        header.push(
            "Every value names its source; what the sources could not tell is said in a comment."
                .into(),
        );
        header.push(
            "Never in the sources (rdsports' defaults apply; set them by hand when they differ): \
             activation, wmi_port, netbios, web_client, gateway_farm, ssl_bridging, \
             ftp_passive_range, ldaps; hosts with roles management and reverse-proxy."
                .into(),
        );
        if !b.unknown.is_empty() {
            let keys: Vec<&str> = b
                .unknown
                .iter()
                .map(|u| u.split(':').next().unwrap_or(u))
                .collect();
            b.warnings.push(format!(
                "not in the sources, rdsports' defaults assumed: {} (the file says which)",
                keys.join(", ")
            ));
        }
        Model {
            name,
            header,
            options: b.options,
            unknown_options: b.unknown,
            zones,
            hosts,
            warnings: b.warnings,
            unresolved,
            visible: inv.visible.clone(),
        }
    }

    /// The deployment file.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for h in &self.header {
            let _ = writeln!(out, "# {}", comment(h));
        }
        let _ = writeln!(
            out,
            "name = {}  # {}",
            self.name.value,
            comment(&self.name.comment)
        );
        out.push_str("\n[options]\n");
        for o in &self.options {
            let _ = writeln!(out, "{} = {}  # {}", o.key, o.value, comment(&o.comment));
        }
        for u in &self.unknown_options {
            let _ = writeln!(out, "# {}", comment(u));
        }
        for z in &self.zones {
            let nets: Vec<String> = z
                .networks
                .iter()
                .map(|n| toml_string(&n.to_string()))
                .collect();
            let _ = writeln!(
                out,
                "\n[[zone]]\nname = {}\nnetworks = [{}]  # {}",
                toml_string(&z.name),
                nets.join(", "),
                comment(&z.comment)
            );
        }
        for h in &self.hosts {
            out.push_str("\n[[host]]\n");
            for n in &h.notes {
                let _ = writeln!(out, "# {}", comment(n));
            }
            match &h.full_name {
                Some(f) => {
                    let _ = writeln!(out, "name = {}  # {}", toml_string(&h.name), comment(f));
                }
                None => {
                    let _ = writeln!(out, "name = {}", toml_string(&h.name));
                }
            }
            let address = h.address.clone().unwrap_or_else(|| {
                if h.name == "virtual-desktops" {
                    "<network of the virtual desktops>".to_owned()
                } else {
                    placeholder(h.full_name.as_deref().unwrap_or(&h.name))
                }
            });
            let _ = writeln!(
                out,
                "address = {}  # {}",
                toml_string(&address),
                comment(&h.address_comment)
            );
            let roles: Vec<String> = h.roles.iter().map(|r| toml_string(r.name())).collect();
            let _ = writeln!(
                out,
                "roles = [{}]  # {}",
                roles.join(", "),
                comment(&h.roles_comment)
            );
            for s in &h.settings {
                let _ = writeln!(out, "{} = {}  # {}", s.key, s.value, comment(&s.comment));
            }
        }
        out
    }
}

fn population(name: &str, role: Role, note: String) -> HostModel {
    HostModel {
        name: name.into(),
        full_name: None,
        address: Some("0.0.0.0/0".into()),
        prefix: None,
        address_comment: note,
        roles: vec![role],
        roles_comment: "a population, not a server".into(),
        settings: Vec::new(),
        notes: Vec::new(),
        population: true,
    }
}

fn dedup(mut v: Vec<&str>) -> Vec<&str> {
    let mut seen = BTreeSet::new();
    v.retain(|x| seen.insert(*x));
    v
}

/// The file's name of each server: its first label when no other server shares it, else its
/// whole name.
fn host_names(inv: &Inventory) -> BTreeMap<String, String> {
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    let short = |s: &Server| -> String {
        let first = s.name.split('.').next().unwrap_or(&s.name);
        // An address-named host (dns-192.0.2.53) keeps its whole name.
        if s.name.starts_with("dns-") {
            s.name.clone()
        } else {
            first.to_ascii_lowercase()
        }
    };
    for s in inv.servers.values() {
        *count.entry(short(s)).or_default() += 1;
    }
    inv.servers
        .iter()
        .map(|(k, s)| {
            let n = short(s);
            let name = if count[&n] == 1 || s.name.chars().count() > 64 {
                n
            } else {
                k.clone()
            };
            (k.clone(), name)
        })
        .collect()
}

/// The address written for a server, and where it comes from.
fn address_of(
    s: &Server,
    name: &str,
    resolved: &BTreeMap<String, Vec<IpAddr>>,
    unresolved: &mut Vec<String>,
) -> (Option<String>, Option<u8>, String) {
    let pick = |ips: &[IpAddr]| ips.iter().find(|a| a.is_ipv4()).or(ips.first()).copied();
    if let Some(a) = &s.addresses {
        let ips: Vec<IpAddr> = a.value.iter().map(|(ip, _)| *ip).collect();
        if let Some(ip) = pick(&ips) {
            let prefix = a.value.iter().find(|(x, _)| *x == ip).and_then(|(_, p)| *p);
            let others: Vec<String> = ips
                .iter()
                .filter(|x| **x != ip)
                .map(ToString::to_string)
                .collect();
            let mut c = format!("{name}: {}", a.source);
            if !others.is_empty() {
                c.push_str(&format!(" (also {})", others.join(", ")));
            }
            return (Some(ip.to_string()), prefix, c);
        }
    }
    if let Some(ips) = resolved.get(&s.name.to_ascii_lowercase())
        && let Some(ip) = pick(ips)
    {
        return (
            Some(ip.to_string()),
            None,
            format!("{}: the system resolver (--resolve)", s.name),
        );
    }
    unresolved.push(name.to_owned());
    (
        None,
        None,
        format!(
            "FILL IN: the sources give no address for {}; write it here, or run `rdsports import --resolve`",
            s.name
        ),
    )
}

/// Zones from the hosts' networks (prefix lengths from the collector); an assumption said
/// when a host has none.
fn zones_of(hosts: &mut [HostModel], warnings: &mut Vec<String>) -> Vec<ZoneModel> {
    // The networks the addresses' prefix lengths give, from the address comments' hosts.
    let mut zones: Vec<ZoneModel> = Vec::new();
    let nets: Vec<(usize, Option<IpNet>)> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| (i, h_net(h)))
        .collect();
    let any_prefix = nets.iter().any(|(_, n)| n.is_some());
    if !any_prefix {
        if hosts.iter().any(|h| !h.population) {
            warnings.push(
                "no prefix lengths in the sources (the cmdlets give none): every host is in one \
                 zone; run the collector, or add [[zone]] tables"
                    .into(),
            );
        }
        return zones;
    }
    let mut assumed = Vec::new();
    for (i, net) in nets {
        let h = &hosts[i];
        if h.population {
            continue;
        }
        let Some(addr) = h.address.as_ref().and_then(|a| a.parse::<IpAddr>().ok()) else {
            continue;
        };
        let net = match net {
            Some(n) => (n, format!("{}: prefix length {}", h.name, n.prefix_len())),
            None => {
                if zones
                    .iter()
                    .any(|z| z.networks.iter().any(|n| n.contains(&addr)))
                {
                    continue;
                }
                let len = if addr.is_ipv4() { 24 } else { 64 };
                assumed.push(h.name.clone());
                let n = IpNet::new(addr, len)
                    .map(|n| n.trunc())
                    .unwrap_or_else(|_| IpNet::from(addr));
                (
                    n,
                    format!(
                        "{}: assumed /{len}, the sources give no prefix length",
                        h.name
                    ),
                )
            }
        };
        if !zones.iter().any(|z| z.networks.contains(&net.0)) {
            zones.push(ZoneModel {
                name: zone_name(&net.0),
                networks: vec![net.0],
                comment: net.1,
            });
        }
    }
    if !assumed.is_empty() {
        warnings.push(format!(
            "no prefix length for {}: their zones assume /24 (IPv4) or /64 (IPv6)",
            assumed.join(", ")
        ));
    }
    zones.sort_by(|a, b| a.networks.cmp(&b.networks));
    if hosts.iter().any(|h| h.population) {
        zones.insert(
            0,
            ZoneModel {
                name: "internet".into(),
                networks: vec![IpNet::V4(ipnet::Ipv4Net::default())],
                comment: "the clients and the Clearinghouse (populations on any address)".into(),
            },
        );
    }
    zones
}

/// The network of a host's address, when its prefix length is known.
fn h_net(h: &HostModel) -> Option<IpNet> {
    let ip: IpAddr = h.address.as_ref()?.parse().ok()?;
    IpNet::new(ip, h.prefix?).ok().map(|n| n.trunc())
}

fn zone_name(n: &IpNet) -> String {
    format!("net-{}", n.to_string().replace(['.', ':', '/'], "-"))
}

fn deployment_name(inv: &Inventory) -> Line {
    if let Some(d) = &inv.facts.domain {
        let first = d.value.split('.').next().unwrap_or(&d.value).trim();
        if !first.is_empty() {
            return Line {
                key: "name",
                value: toml_string(&first.to_ascii_lowercase()),
                comment: format!("the domain {} ({})", d.value, d.source),
            };
        }
    }
    let from_names = inv
        .servers
        .values()
        .find_map(|s| s.name.split_once('.').map(|(_, d)| d.to_owned()));
    match from_names {
        Some(d) => Line {
            key: "name",
            value: toml_string(&d.split('.').next().unwrap_or(&d).to_ascii_lowercase()),
            comment: format!("the servers' domain, {d}"),
        },
        None => Line {
            key: "name",
            value: toml_string("rds"),
            comment: "the sources name no domain: rename it".into(),
        },
    }
}

/// Decides options (and per-host values) from the facts.
struct Builder {
    warnings: Vec<String>,
    unknown: Vec<String>,
    options: Vec<Line>,
}

/// A value written in TOML.
trait Toml: Copy + Ord + ToString {
    fn toml(self) -> String {
        self.to_string()
    }
}
impl Toml for u16 {}
impl Toml for bool {}

impl Builder {
    fn option(&mut self, key: &'static str, value: String, comment: String) {
        self.options.push(Line {
            key,
            value,
            comment,
        });
    }

    fn unknown(&mut self, key: &'static str, why: &str, default: &str) {
        self.unknown
            .push(format!("{key}: {why}; rdsports assumes {default}"));
    }

    /// The value most hosts have goes to `[options]`, each other host's to its own table.
    #[allow(clippy::too_many_arguments)]
    fn per_host<T: Toml>(
        &mut self,
        hosts: &[(&Server, &String)],
        key: &'static str,
        default: T,
        get: impl Fn(&Server) -> Option<&Fact<T>>,
        per_host: &mut BTreeMap<String, Vec<Line>>,
        what: &str,
    ) {
        if hosts.is_empty() {
            return;
        }
        let known: Vec<(&String, &Fact<T>)> = hosts
            .iter()
            .filter_map(|(s, n)| get(s).map(|f| (*n, f)))
            .collect();
        if known.is_empty() {
            self.unknown(key, &format!("no source gives {what}"), &default.toml());
            return;
        }
        let mut counts: BTreeMap<T, Vec<&String>> = BTreeMap::new();
        for (n, f) in &known {
            counts.entry(f.value).or_default().push(n);
        }
        let most = counts.values().map(Vec::len).max().unwrap_or(0);
        let common = if counts.get(&default).is_some_and(|v| v.len() == most) {
            default
        } else {
            counts
                .iter()
                .find(|(_, v)| v.len() == most)
                .map_or(default, |(k, _)| *k)
        };
        let with: &Vec<&String> = &counts[&common];
        let first = known
            .iter()
            .find(|(_, f)| f.value == common)
            .map(|(_, f)| f.source.clone())
            .unwrap_or_default();
        let names: Vec<&str> = with.iter().take(4).map(|s| s.as_str()).collect();
        let more = if with.len() > 4 {
            format!(" and {} more", with.len() - 4)
        } else {
            String::new()
        };
        self.option(
            key,
            common.toml(),
            format!(
                "{}{more}: {first} ({} of {} hosts)",
                names.join(", "),
                with.len(),
                hosts.len()
            ),
        );
        for (n, f) in &known {
            if f.value != common {
                per_host.entry((*n).clone()).or_default().push(Line {
                    key,
                    value: f.value.toml(),
                    comment: format!("{n}: {}", f.source),
                });
            }
        }
        let missing: Vec<&str> = hosts
            .iter()
            .filter(|(s, _)| get(s).is_none())
            .map(|(_, n)| n.as_str())
            .collect();
        if !missing.is_empty() {
            self.warnings.push(format!(
                "{key} of {} is unknown (not collected): [options]' {} applies to them",
                missing.join(", "),
                common.toml()
            ));
        }
    }

    fn deployment_options(&mut self, inv: &Inventory, servers: &[(&Server, String)]) {
        let f = &inv.facts;
        let collected = f.collected.is_some();
        // NPS: central when the gateways say so.
        let central: Vec<&(String, Fact<bool>)> = f.central_cap.iter().collect();
        if let Some((gw, c)) = central.iter().find(|(_, c)| c.value).or(central.first()) {
            let v = if c.value { "central" } else { "none" };
            self.option("nps", toml_string(v), format!("{gw}: {}", c.source));
            if c.value
                && !servers
                    .iter()
                    .any(|(s, _)| s.roles.contains_key(&Role::Nps))
            {
                self.warnings.push(
                    "the gateway's policy store is central but no NPS server was named: add the \
                     NPS host (role nps)"
                        .into(),
                );
            }
        } else if servers
            .iter()
            .any(|(s, _)| s.roles.contains_key(&Role::Gateway))
        {
            self.unknown("nps", "the sources do not say where the gateway's policies are (Win32_TSGatewayServerSettings CentralCAPEnabled)", "a central NPS only when a host has role nps");
        }
        if let Some(c) = &f.crl {
            let m: Vec<String> = c.value.iter().map(|m| toml_string(crl_name(*m))).collect();
            self.option("crl", format!("[{}]", m.join(", ")), c.source.clone());
        } else {
            self.unknown(
                "crl",
                "no source gives the CRL distribution points of the gateway certificate",
                "[\"http\"]",
            );
        }
        // RPC range: no per-host key (the catalog's RPC flows take one range).
        let ranges: Vec<(&str, &Fact<String>)> = servers
            .iter()
            .filter_map(|(s, n)| s.rpc_range.as_ref().map(|r| (n.as_str(), r)))
            .collect();
        if let Some((n, r)) = ranges.first() {
            let text = r.value.trim().to_owned();
            if text.contains('-') && text.split('-').all(|p| p.trim().parse::<u16>().is_ok()) {
                self.option(
                    "rpc_range",
                    toml_string(&text),
                    format!("{n}: {}", r.source),
                );
                let other: Vec<&str> = ranges
                    .iter()
                    .filter(|(_, x)| x.value.trim() != text)
                    .map(|(n, _)| *n)
                    .collect();
                if !other.is_empty() {
                    self.warnings.push(format!(
                        "the RPC range differs on {} (rpc_range is one range for the deployment: {text} written)",
                        other.join(", ")
                    ));
                }
            } else {
                self.unknown(
                    "rpc_range",
                    &format!("{n}'s {} is {:?}, not one range", r.source, r.value),
                    "49152-65535",
                );
            }
        } else if collected {
            self.option(
                "rpc_range",
                toml_string("49152-65535"),
                "no host restricts it (KB 154596 HKLM:\\Software\\Microsoft\\Rpc\\Internet Ports absent): Windows' range".into(),
            );
        } else {
            self.unknown(
                "rpc_range",
                "the cmdlets do not give the RPC range (KB 154596)",
                "49152-65535",
            );
        }
        if let Some(p) = &f.ad_rpc_port {
            self.option("ad_rpc_port", p.value.to_string(), p.source.clone());
        }
        // WinRM: HTTP when the servers listen on it, HTTPS when they listen only there.
        let winrm: Vec<(&str, &Fact<Vec<String>>)> = servers
            .iter()
            .filter_map(|(s, n)| s.winrm.as_ref().map(|w| (n.as_str(), w)))
            .collect();
        if let Some((n, w)) = winrm.first() {
            let http =
                |w: &Fact<Vec<String>>| w.value.iter().any(|t| t.eq_ignore_ascii_case("HTTP"));
            let v = if winrm.iter().all(|(_, w)| http(w)) {
                "http"
            } else {
                "https"
            };
            self.option(
                "winrm",
                toml_string(v),
                format!(
                    "{n}: {} ({} of {} servers listen on HTTP)",
                    w.source,
                    winrm.iter().filter(|(_, w)| http(w)).count(),
                    winrm.len()
                ),
            );
        } else {
            self.unknown("winrm", "no source gives the WinRM listeners", "\"http\"");
        }
        match &f.licensing_mode {
            Some(m) if m.value == "PerUser" => self.option(
                "licensing_mode",
                toml_string("per-user"),
                format!("{} = PerUser", m.source),
            ),
            Some(m) if m.value == "PerDevice" => self.option(
                "licensing_mode",
                toml_string("per-device"),
                format!("{} = PerDevice", m.source),
            ),
            Some(m) => {
                self.unknown(
                    "licensing_mode",
                    &format!("{} = {}", m.source, m.value),
                    "\"per-user\"",
                );
            }
            None => self.unknown(
                "licensing_mode",
                "no Get-RDLicenseConfiguration",
                "\"per-user\"",
            ),
        }
        if let Some(ha) = &f.broker_ha {
            self.option("broker_ha", ha.value.to_string(), ha.source.clone());
        } else if servers
            .iter()
            .filter(|(s, _)| s.roles.contains_key(&Role::ConnectionBroker))
            .count()
            > 1
        {
            self.unknown(
                "broker_ha",
                "several brokers but no Get-RDConnectionBrokerHighAvailability",
                "false",
            );
        }
        if let Some(db) = &f.database {
            match (db.value.port, &db.value.instance) {
                (Some(p), _) => self.option(
                    "sql_port",
                    p.to_string(),
                    format!("{} ({},{p})", db.source, db.value.host),
                ),
                (None, Some(i)) => {
                    self.option(
                        "sql_browser",
                        "true".into(),
                        format!(
                            "{} ({}\\{i}: a named instance found through SQL Browser)",
                            db.source, db.value.host
                        ),
                    );
                    self.unknown(
                        "sql_port",
                        &format!("the named instance {i} has no port in the connection string"),
                        "1433",
                    );
                }
                (None, None) => self.option(
                    "sql_port",
                    "1433".into(),
                    format!("{} names no port: SQL Server's default", db.source),
                ),
            }
        }
        let gateways = servers
            .iter()
            .any(|(s, _)| s.roles.contains_key(&Role::Gateway));
        let do_not_use = f.gateway_mode.as_ref().filter(|m| m.value == "DoNotUse");
        if let Some(m) = do_not_use
            && gateways
        {
            self.option(
                "direct_access",
                "true".into(),
                format!(
                    "{} = DoNotUse: clients connect to the hosts, not through the gateway",
                    m.source
                ),
            );
        } else if let Some(b) = &f.bypass_local
            && b.value
            && gateways
        {
            self.option(
                "direct_access",
                "true".into(),
                format!("{} = true: local clients bypass the gateway", b.source),
            );
        }
        if let Some(v) = &f.vdi_unmanaged {
            self.option("vdi_unmanaged", v.value.to_string(), v.source.clone());
        }
        if let Some(d) = &f.domain {
            self.option("domain", toml_string(&d.value), d.source.clone());
        }
    }
}

/// `s` as a TOML string.
pub(crate) fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// `s` fit for a `#` comment: one line, control characters shown as `\u{..}`.
fn comment(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}
