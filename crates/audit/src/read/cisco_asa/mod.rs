//! Reader for Cisco ASA `show running-config` (and, in the same file, `show access-list` for
//! the hit counts).
//!
//! Read: `names`/`name`, `interface` with `nameif`, `security-level` and `ip address` /
//! `ipv6 address`, `route` / `ipv6 route`, `same-security-traffic permit inter-interface`,
//! `object network` (host, subnet, range, fqdn), `object service`, `object-group network`,
//! `service` (typed port groups and service-object groups) and `protocol`, `access-list NAME
//! extended permit|deny` with protocols, objects, `host`, `any`/`any4`/`any6`, masks, IPv6
//! prefixes, `eq`/`neq`/`lt`/`gt`/`range` ports and `inactive`, and `access-group NAME in|out
//! interface IF` and `access-group NAME global`.
//!
//! Semantics (ASA 8.3 and later: access lists name real addresses): a connection is matched
//! against the inbound access list of the interface it enters, then the global access list,
//! first match, then the implicit deny; an interface with neither falls back to security
//! levels (higher to lower allowed). An outbound access list of the interface it leaves is
//! read after. Which interface a packet enters and leaves by: each interface stands for the
//! networks of the deployment's zone with the interface's name (or the zone given with
//! `--interface NAMEIF=ZONE`), else for its connected network and the routes through it, the
//! most specific one deciding. FQDN objects, identity and security-group matches, the ASA's
//! own interface address and time ranges make an entry "possible".

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::model::{Action, Chain, Decision, Note, Platform, Rule, Ruleset};
use crate::read::nftables::proto_number;
use crate::space::{self, Cube, DPORT, DST, PROTO, SPORT, SRC, Set, TCP, UDP, V4};
use crate::{ReadError, ReadOptions};

/// Addresses of an object or an access-list operand: the exact part, and why more may match.
#[derive(Debug, Clone, Default)]
struct Addrs {
    /// The addresses it surely matches.
    set: Set,
    /// The addresses it may match (a superset of `set`).
    wide: Set,
    /// Why `wide` is wider (empty: exact).
    unknown: Vec<String>,
}

impl Addrs {
    fn exact(set: Set) -> Addrs {
        Addrs {
            wide: set.clone(),
            set,
            unknown: Vec::new(),
        }
    }

    fn add(&mut self, o: &Addrs) {
        self.set = self.set.union(&o.set);
        self.wide = self.wide.union(&o.wide);
        self.unknown.extend(o.unknown.iter().cloned());
    }
}

/// One service: protocols with source and destination ports.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Svc {
    proto: Set,
    sport: Set,
    dport: Set,
}

impl Svc {
    fn proto(proto: Set) -> Svc {
        Svc {
            proto,
            sport: Set::full(SPORT),
            dport: Set::full(DPORT),
        }
    }
}

/// The port names the ASA writes in its configuration (TCP and UDP names differ: `kerberos`
/// is 750 and `radius` 1645, as the ASA defines them).
fn port_number(name: &str, udp: bool) -> Option<u128> {
    if let Ok(n) = name.parse::<u16>() {
        return Some(u128::from(n));
    }
    let both = match name {
        "discard" => 9,
        "echo" => 7,
        "domain" => 53,
        "www" | "http" => 80,
        "sunrpc" => 111,
        "kerberos" => 750,
        "nfs" => 2049,
        "sip" => 5060,
        "tacacs" => 49,
        "talk" => 517,
        "pim-auto-rp" => 496,
        "cifs" => 3020,
        _ => 0,
    };
    if both != 0 {
        return Some(both);
    }
    let n = if udp {
        match name {
            "biff" => 512,
            "bootpc" => 68,
            "bootps" => 67,
            "dnsix" => 195,
            "isakmp" => 500,
            "mobile-ip" => 434,
            "nameserver" => 42,
            "netbios-dgm" => 138,
            "netbios-ns" => 137,
            "ntp" => 123,
            "pcanywhere-status" => 5632,
            "radius" => 1645,
            "radius-acct" => 1646,
            "rip" => 520,
            "secureid-udp" => 5510,
            "snmp" => 161,
            "snmptrap" => 162,
            "syslog" => 514,
            "tftp" => 69,
            "time" => 37,
            "who" => 513,
            "xdmcp" => 177,
            _ => return None,
        }
    } else {
        match name {
            "aol" => 5190,
            "bgp" => 179,
            "chargen" => 19,
            "citrix-ica" => 1494,
            "cmd" | "rsh" => 514,
            "ctiqbe" => 2748,
            "daytime" => 13,
            "exec" => 512,
            "finger" => 79,
            "ftp" => 21,
            "ftp-data" => 20,
            "gopher" => 70,
            "h323" => 1720,
            "hostname" => 101,
            "https" => 443,
            "ident" => 113,
            "imap4" => 143,
            "irc" => 194,
            "klogin" => 543,
            "kshell" => 544,
            "ldap" => 389,
            "ldaps" => 636,
            "login" => 513,
            "lotusnotes" => 1352,
            "lpd" => 515,
            "netbios-ssn" => 139,
            "nntp" => 119,
            "pcanywhere-data" => 5631,
            "pop2" => 109,
            "pop3" => 110,
            "pptp" => 1723,
            "rtsp" => 554,
            "smtp" => 25,
            "sqlnet" => 1521,
            "ssh" => 22,
            "telnet" => 23,
            "uucp" => 540,
            "whois" => 43,
            _ => return None,
        }
    };
    Some(n)
}

/// An ASA protocol keyword (`ip` is every protocol).
fn protocol(name: &str) -> Option<Set> {
    Some(match name {
        "ip" => Set::full(PROTO),
        "tcp-udp" => Set::from_intervals(vec![(TCP, TCP), (UDP, UDP)]),
        "icmp6" => Set::one(58),
        "eigrp" => Set::one(88),
        "ospf" => Set::one(89),
        "pim" => Set::one(103),
        "ipinip" => Set::one(4),
        "nos" => Set::one(94),
        "pcp" => Set::one(108),
        "snp" => Set::one(109),
        "igrp" => Set::one(9),
        "ipsec" => Set::one(50),
        "pptp" => Set::one(47),
        n => match n.parse::<u8>() {
            Ok(x) => Set::one(u128::from(x)),
            Err(_) => Set::one(proto_number(n)?),
        },
    })
}

/// Whether ports may follow a protocol set (TCP and UDP only).
fn ported(p: &Set) -> bool {
    !p.is_empty() && p.subset_of(&Set::from_intervals(vec![(TCP, TCP), (UDP, UDP)]))
}

/// A dotted netmask as a prefix length.
fn mask_len(m: &str) -> Option<u8> {
    let v: u32 = u32::from(m.parse::<std::net::Ipv4Addr>().ok()?);
    let len = v.leading_ones();
    (v.checked_shl(len).unwrap_or(0) == 0).then_some(len as u8)
}

struct Iface {
    nameif: Option<String>,
    level: Option<u8>,
    nets: Vec<IpNet>,
}

/// One access-list entry, read.
struct Ace {
    line: usize,
    loc: String,
    text: String,
    allow: bool,
    inactive: bool,
    /// (packets, why the match may be wider).
    cubes: Vec<(Cube, Option<String>)>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    NetObj,
    SvcObj,
    NetGroup,
    SvcGroup,
    PortGroup,
    ProtoGroup,
    IcmpGroup,
    Interface,
    Other,
}

struct Reader<'a> {
    name: &'a str,
    names: HashMap<String, IpAddr>,
    nets: HashMap<String, Addrs>,
    svcs: HashMap<String, Vec<Svc>>,
    /// Typed port groups: (protocols, ports).
    ports: HashMap<String, (Set, Set)>,
    protos: HashMap<String, Set>,
    notes: Vec<Note>,
}

impl Reader<'_> {
    fn err(&self, line: usize, col: usize, message: String, hint: &str) -> ReadError {
        ReadError {
            location: format!("{}:{line}:{col}", self.name),
            message,
            hint: hint.to_owned(),
        }
    }

    fn note(&mut self, line: usize, message: String) {
        self.notes.push(Note {
            location: format!("{}:{line}", self.name),
            message,
        });
    }

    /// An address word: an IP address or a `name`.
    fn ip(&self, w: &str) -> Option<IpAddr> {
        w.parse().ok().or_else(|| self.names.get(w).copied())
    }
}

/// Words of a line with their columns (1-based).
fn words(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s + 1, &line[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s + 1, &line[s..]));
    }
    out
}

const HINT_CONFIG: &str = "give the output of `show running-config` exactly as the ASA prints it (more system:running-config works too)";

/// Reads `show running-config` (optionally followed by `show access-list`).
pub fn read(text: &str, name: &str, opts: &ReadOptions) -> Result<Ruleset, ReadError> {
    let mut r = Reader {
        name,
        names: HashMap::new(),
        nets: HashMap::new(),
        svcs: HashMap::new(),
        ports: HashMap::new(),
        protos: HashMap::new(),
        notes: Vec::new(),
    };
    let mut ifaces: Vec<Iface> = Vec::new();
    let mut routes: Vec<(String, IpNet)> = Vec::new();
    let mut same_security = false;
    let mut acls: Vec<(String, Vec<Ace>)> = Vec::new();
    let mut acl_lines: HashMap<String, usize> = HashMap::new();
    let mut groups_in: Vec<(String, String, String)> = Vec::new();
    let mut groups_out: Vec<(String, String, String)> = Vec::new();
    let mut global: Option<(String, String)> = None;
    let mut hits: HashMap<(String, usize), u64> = HashMap::new();
    let mut block: (Kind, String) = (Kind::Other, String::new());
    let mut other = 0usize;
    for (n, raw) in text.lines().enumerate() {
        let ln = n + 1;
        let line = raw.trim_end();
        let ws = words(line);
        let Some(&(_, first)) = ws.first() else {
            continue;
        };
        if first.starts_with('!') || first.starts_with(':') || first.ends_with('#') {
            continue;
        }
        let indented = line.starts_with(' ') || line.starts_with('\t');
        if indented {
            sub_command(&mut r, &mut ifaces, &block, &ws, ln)?;
            continue;
        }
        block = (Kind::Other, String::new());
        let w = |i: usize| ws.get(i).map(|x| x.1);
        let col = |i: usize| ws.get(i).map_or(line.len() + 1, |x| x.0);
        match first {
            "names" => {}
            "name" => {
                let (Some(a), Some(nm)) = (w(1), w(2)) else {
                    return Err(r.err(
                        ln,
                        col(1),
                        "name without an address and a name".into(),
                        HINT_CONFIG,
                    ));
                };
                let Ok(ip) = a.parse::<IpAddr>() else {
                    return Err(r.err(
                        ln,
                        col(1),
                        format!("`{a}` is not an IP address"),
                        HINT_CONFIG,
                    ));
                };
                r.names.insert(nm.to_owned(), ip);
            }
            "interface" => {
                ifaces.push(Iface {
                    nameif: None,
                    level: None,
                    nets: Vec::new(),
                });
                block = (Kind::Interface, w(1).unwrap_or("").to_owned());
            }
            "object" | "object-group" => {
                let (Some(kind), Some(oname)) = (w(1), w(2)) else {
                    return Err(r.err(
                        ln,
                        col(1),
                        format!("{first} without a type and a name"),
                        HINT_CONFIG,
                    ));
                };
                let k = match (first, kind) {
                    ("object", "network") => Kind::NetObj,
                    ("object", "service") => Kind::SvcObj,
                    ("object-group", "network") => Kind::NetGroup,
                    ("object-group", "service") => {
                        match w(3) {
                            Some(t) => {
                                match protocol(t) {
                                    Some(p) if ported(&p) => {
                                        r.ports.insert(oname.to_owned(), (p, Set::empty()));
                                        Kind::PortGroup
                                    }
                                    _ => {
                                        return Err(r.err(ln, col(3), format!("service group type `{t}` is not tcp, udp or tcp-udp"), HINT_CONFIG));
                                    }
                                }
                            }
                            None => Kind::SvcGroup,
                        }
                    }
                    ("object-group", "protocol") => Kind::ProtoGroup,
                    ("object-group", "icmp-type") => Kind::IcmpGroup,
                    _ => {
                        r.note(
                            ln,
                            format!(
                                "`{first} {kind}` is not read (it does not hold addresses or ports)"
                            ),
                        );
                        Kind::Other
                    }
                };
                match k {
                    Kind::NetObj | Kind::NetGroup => {
                        r.nets.insert(oname.to_owned(), Addrs::default());
                    }
                    Kind::SvcObj | Kind::SvcGroup => {
                        r.svcs.insert(oname.to_owned(), Vec::new());
                    }
                    Kind::ProtoGroup => {
                        r.protos.insert(oname.to_owned(), Set::empty());
                    }
                    _ => {}
                }
                block = (k, oname.to_owned());
            }
            "route" | "ipv6" if first == "route" || w(1) == Some("route") => {
                let o = usize::from(first == "ipv6");
                let Some(ifname) = w(1 + o) else {
                    return Err(r.err(
                        ln,
                        col(1),
                        "route without an interface".into(),
                        HINT_CONFIG,
                    ));
                };
                let net = if o == 0 {
                    match (
                        w(2).and_then(|a| a.parse::<std::net::Ipv4Addr>().ok()),
                        w(3).and_then(mask_len),
                    ) {
                        (Some(a), Some(l)) => IpNet::new(IpAddr::V4(a), l).ok(),
                        _ => None,
                    }
                } else {
                    w(3).and_then(|p| p.parse::<IpNet>().ok())
                };
                match net {
                    Some(net) => routes.push((ifname.to_owned(), net.trunc())),
                    None => {
                        return Err(r.err(
                            ln,
                            col(2 + o),
                            "route without a network and mask".into(),
                            HINT_CONFIG,
                        ));
                    }
                }
            }
            "same-security-traffic" => {
                if w(1) == Some("permit") && w(2) == Some("inter-interface") {
                    same_security = true;
                }
            }
            "access-group" => {
                let (Some(acl), Some(dir)) = (w(1), w(2)) else {
                    return Err(r.err(
                        ln,
                        col(1),
                        "access-group without an access list and a direction".into(),
                        HINT_CONFIG,
                    ));
                };
                let loc = format!("{name}:{ln}");
                match (dir, w(3), w(4)) {
                    ("global", _, _) => global = Some((acl.to_owned(), loc)),
                    ("in", Some("interface"), Some(i)) => {
                        if w(5) == Some("control-plane") {
                            r.note(ln, format!("access-group {acl} control-plane filters traffic to the ASA itself; not evaluated"));
                        } else {
                            groups_in.push((acl.to_owned(), i.to_owned(), loc));
                        }
                    }
                    ("out", Some("interface"), Some(i)) => groups_out.push((acl.to_owned(), i.to_owned(), loc)),
                    _ => return Err(r.err(ln, col(2), format!("access-group {acl} {dir}: expected `in interface IF`, `out interface IF` or `global`"), HINT_CONFIG)),
                }
            }
            "access-list" => {
                let Some(acl) = w(1) else {
                    return Err(r.err(
                        ln,
                        col(1),
                        "access-list without a name".into(),
                        HINT_CONFIG,
                    ));
                };
                // `show access-list` lines: `access-list NAME line N extended ... (hitcnt=H) 0x..`.
                if w(2) == Some("line") && line.contains("(hitcnt=") {
                    if let (Some(no), Some(h)) = (
                        w(3).and_then(|x| x.parse::<usize>().ok()),
                        line.split("(hitcnt=")
                            .nth(1)
                            .and_then(|s| s.split(')').next())
                            .and_then(|s| s.parse::<u64>().ok()),
                    ) {
                        hits.entry((acl.to_owned(), no)).or_insert(h);
                    }
                    continue;
                }
                if w(2) == Some("line")
                    || acl.ends_with(';')
                    || matches!(acl, "cached" | "alert-interval" | "deny-flow-max")
                {
                    // Other `show access-list` lines (headers, remarks with line numbers) and
                    // global access-list settings.
                    continue;
                }
                let no = acl_lines.entry(acl.to_owned()).or_insert(0);
                *no += 1;
                let no = *no;
                match w(2) {
                    Some("remark") => continue,
                    Some("extended") | Some("permit") | Some("deny") => {}
                    Some(t) => {
                        r.note(
                            ln,
                            format!(
                                "access-list {acl} {t}: only extended access lists are evaluated"
                            ),
                        );
                        continue;
                    }
                    None => {
                        return Err(r.err(
                            ln,
                            col(2),
                            format!("access-list {acl} without an entry"),
                            HINT_CONFIG,
                        ));
                    }
                }
                let from = if w(2) == Some("extended") { 3 } else { 2 };
                let ace = ace(&mut r, &ws, from, ln, line, no)?;
                match acls.iter_mut().find(|(n, _)| n == acl) {
                    Some((_, v)) => v.push(ace),
                    None => acls.push((acl.to_owned(), vec![ace])),
                }
            }
            // Commands of a configuration script (what `rules` writes): no state.
            "no" | "clear" => {}
            _ => other += 1,
        }
    }
    if acls.is_empty() && groups_in.is_empty() && global.is_none() {
        return Err(ReadError {
            location: format!("{name}:1:1"),
            message: "no access-list or access-group in this file".into(),
            hint: HINT_CONFIG.into(),
        });
    }
    if other > 0 {
        r.notes.push(Note {
            location: name.to_owned(),
            message: format!("{other} other configuration lines (hostname, crypto, logging ...) do not filter traffic and are not read"),
        });
    }
    let counters = !hits.is_empty();

    // Which networks each interface stands for.
    let mut nameifs: Vec<String> = Vec::new();
    for n in ifaces
        .iter()
        .filter_map(|i| i.nameif.clone())
        .chain(groups_in.iter().map(|g| g.1.clone()))
        .chain(groups_out.iter().map(|g| g.1.clone()))
    {
        if !nameifs.contains(&n) {
            nameifs.push(n);
        }
    }
    let mut entries: Vec<(u128, usize, Set)> = Vec::new();
    for (k, nif) in nameifs.iter().enumerate() {
        let given: Vec<&IpNet> = opts
            .interfaces
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(nif))
            .flat_map(|(_, v)| v)
            .collect();
        let from_zone = !given.is_empty();
        let nets: Vec<IpNet> = if from_zone {
            given.into_iter().copied().collect()
        } else {
            let mut v: Vec<IpNet> = ifaces
                .iter()
                .filter(|i| i.nameif.as_deref() == Some(nif))
                .flat_map(|i| i.nets.iter().map(|n| n.trunc()))
                .collect();
            v.extend(routes.iter().filter(|(i, _)| i == nif).map(|(_, n)| *n));
            v
        };
        if nets.is_empty() {
            r.notes.push(Note {
                location: name.to_owned(),
                message: format!("interface {nif}: no networks known (no zone of that name, no address or route): connections entering it are \"possible\"; name its zone with --interface {nif}=ZONE"),
            });
            continue;
        }
        if !from_zone {
            r.notes.push(Note {
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

    let acl_rules = |acl: &str, r: &mut Reader<'_>, at: &str| -> Vec<Rule> {
        let Some((_, aces)) = acls.iter().find(|(n, _)| n == acl) else {
            r.notes.push(Note {
                location: at.to_owned(),
                message: format!(
                    "access list {acl} is bound but has no entries: only its implicit deny"
                ),
            });
            return Vec::new();
        };
        let mut out = Vec::new();
        for a in aces {
            for (cube, possible) in &a.cubes {
                out.push(Rule {
                    matches: cube.clone(),
                    possible: possible.clone(),
                    action: if a.allow {
                        Action::Accept
                    } else {
                        Action::Drop
                    },
                    location: a.loc.clone(),
                    text: a.text.clone(),
                    hits: if counters {
                        Some(hits.get(&(acl.to_owned(), a.line)).copied().unwrap_or(0))
                    } else {
                        None
                    },
                    never_new: a.inactive,
                });
            }
        }
        out
    };
    let level = |nif: &str| {
        ifaces
            .iter()
            .find(|i| i.nameif.as_deref() == Some(nif))
            .and_then(|i| i.level)
    };
    let mut chains = Vec::new();
    let mut stages = Vec::new();
    let known = taken.clone();
    for (k, nif) in nameifs.iter().enumerate() {
        if sets[k].is_empty() {
            continue;
        }
        let inb = groups_in.iter().find(|g| &g.1 == nif);
        let mut rules = Vec::new();
        let mut parts = Vec::new();
        if let Some((acl, _, at)) = inb {
            rules.extend(acl_rules(acl, &mut r, at));
            parts.push(format!("access list {acl}"));
        }
        if let Some((acl, at)) = &global {
            // The global list's copy for this interface sees only its packets (so that a
            // global entry for another interface is not "shadowed" by this one's list).
            rules.extend(acl_rules(acl, &mut r, at).into_iter().map(|mut g| {
                g.matches.0[SRC] = g.matches.0[SRC].intersect(&sets[k]);
                g
            }));
            parts.push(format!("global access list {acl}"));
        }
        let policy_location;
        if parts.is_empty() {
            // No access list: security levels decide.
            policy_location = format!("{name} (interface {nif}: security levels, no access list)");
            match level(nif) {
                Some(l) => {
                    for (j, other) in nameifs.iter().enumerate() {
                        let Some(lj) = level(other) else { continue };
                        if j == k || sets[j].is_empty() || !(l > lj || (l == lj && same_security)) {
                            continue;
                        }
                        rules.push(Rule {
                            matches: Cube::full().with(DST, &sets[j]),
                            possible: None,
                            action: Action::Accept,
                            location: format!("{name} (interface {nif}: security-level {l})"),
                            text: format!("security-level {l} ({nif}) to {lj} ({other})"),
                            hits: None,
                            never_new: false,
                        });
                    }
                    let unknown = known.complement(DST);
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
                }
                None => rules.push(Rule {
                    matches: Cube::full(),
                    possible: Some(format!(
                        "interface {nif} has no access list and no security-level in the export"
                    )),
                    action: Action::Accept,
                    location: format!("{name} (interface {nif})"),
                    text: format!("interface {nif}: security levels"),
                    hits: None,
                    never_new: false,
                }),
            }
        } else {
            policy_location = format!(
                "{name} (interface {nif}: implicit deny at the end of {})",
                parts.join(", then ")
            );
        }
        stages.push(chains.len());
        chains.push(Chain {
            name: format!("in interface {nif}"),
            rules,
            policy: Some(Decision::Drop),
            policy_location,
            only: Some(Cube::full().with(SRC, &sets[k])),
            index: None,
        });
    }
    for (acl, nif, at) in &groups_out {
        let Some(k) = nameifs.iter().position(|n| n == nif) else {
            continue;
        };
        if sets[k].is_empty() {
            continue;
        }
        let rules = acl_rules(acl, &mut r, at);
        stages.push(chains.len());
        chains.push(Chain {
            name: format!("out interface {nif}"),
            rules,
            policy: Some(Decision::Drop),
            policy_location: format!(
                "{name} (interface {nif}: implicit deny at the end of outbound access list {acl})"
            ),
            only: Some(Cube::full().with(DST, &sets[k])),
            index: None,
        });
    }
    let unknown = known.complement(SRC);
    if !unknown.is_empty()
        && groups_in.is_empty()
        && let Some((acl, at)) = &global
    {
        // Only a global list: every interface reads it, so which one a packet enters by
        // does not matter.
        let rules = acl_rules(acl, &mut r, at);
        stages.insert(0, chains.len());
        chains.push(Chain {
            name: format!("any interface (global access list {acl})"),
            rules,
            policy: Some(Decision::Drop),
            policy_location: format!(
                "{name} (implicit deny at the end of global access list {acl})"
            ),
            only: Some(Cube::full().with(SRC, &unknown)),
            index: None,
        });
    } else if !unknown.is_empty() {
        stages.insert(0, chains.len());
        chains.push(Chain {
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
        });
    }
    Ok(Ruleset::appliance(
        Platform::CiscoAsa,
        chains,
        stages,
        r.notes,
        counters,
    ))
}

/// A line inside an `interface`, `object` or `object-group` block.
fn sub_command(
    r: &mut Reader<'_>,
    ifaces: &mut [Iface],
    block: &(Kind, String),
    ws: &[(usize, &str)],
    ln: usize,
) -> Result<(), ReadError> {
    let w = |i: usize| ws.get(i).map(|x| x.1);
    let col = |i: usize| ws.get(i).map_or(1, |x| x.0);
    let (kind, oname) = (block.0, block.1.as_str());
    let first = ws[0].1;
    if first == "description" {
        return Ok(());
    }
    let bad = |r: &Reader<'_>, i: usize, what: &str| {
        r.err(ln, col(i), format!("{what} in {oname}"), HINT_CONFIG)
    };
    match kind {
        Kind::Interface => {
            let Some(iface) = ifaces.last_mut() else {
                return Ok(());
            };
            match (first, w(1)) {
                ("nameif", Some(n)) => iface.nameif = Some(n.to_owned()),
                ("security-level", Some(l)) => iface.level = l.parse().ok(),
                ("ip", Some("address")) => {
                    if let (Some(a), Some(m)) = (
                        w(2).and_then(|a| a.parse::<std::net::Ipv4Addr>().ok()),
                        w(3).and_then(mask_len),
                    ) && let Ok(n) = IpNet::new(IpAddr::V4(a), m)
                    {
                        iface.nets.push(n);
                    }
                }
                ("ipv6", Some("address")) => {
                    if let Some(n) = w(2).and_then(|p| p.parse::<IpNet>().ok()) {
                        iface.nets.push(n);
                    }
                }
                _ => {}
            }
        }
        Kind::NetObj | Kind::NetGroup => {
            let a = match (kind, first) {
                (Kind::NetObj, "host")
                | (Kind::NetObj, "subnet")
                | (Kind::NetObj, "range")
                | (Kind::NetObj, "fqdn") => net_value(r, first, &ws[1..], ln, oname)?,
                (Kind::NetObj, "nat") => return Ok(()),
                (Kind::NetGroup, "network-object") => match w(1) {
                    Some("host") => net_value(r, "host", &ws[2..], ln, oname)?,
                    Some("object") => match w(2).and_then(|o| r.nets.get(o)) {
                        Some(a) => a.clone(),
                        None => {
                            return Err(bad(
                                r,
                                2,
                                "network-object object names no network object defined before it",
                            ));
                        }
                    },
                    Some(_) => net_value(r, "subnet", &ws[1..], ln, oname)?,
                    None => return Err(bad(r, 1, "network-object without an address")),
                },
                (Kind::NetGroup, "group-object") => match w(1).and_then(|o| r.nets.get(o)) {
                    Some(a) => a.clone(),
                    None => {
                        return Err(bad(
                            r,
                            1,
                            "group-object names no network group defined before it",
                        ));
                    }
                },
                _ => {
                    r.note(
                        ln,
                        format!("`{}` in {oname} is not understood; skipped", first),
                    );
                    return Ok(());
                }
            };
            if let Some(e) = r.nets.get_mut(oname) {
                e.add(&a);
            }
        }
        Kind::SvcObj | Kind::SvcGroup => {
            let svcs = match (kind, first) {
                (Kind::SvcObj, "service") | (Kind::SvcGroup, "service-object") => {
                    if kind == Kind::SvcGroup && w(1) == Some("object") {
                        match w(2).and_then(|o| r.svcs.get(o)) {
                            Some(s) => s.clone(),
                            None => {
                                return Err(bad(
                                    r,
                                    2,
                                    "service-object object names no service object defined before it",
                                ));
                            }
                        }
                    } else {
                        vec![service(r, &ws[1..], ln, oname)?]
                    }
                }
                (Kind::SvcGroup, "group-object") => match w(1).and_then(|o| r.svcs.get(o)) {
                    Some(s) => s.clone(),
                    None => match w(1).and_then(|o| r.ports.get(o)) {
                        Some((p, d)) => vec![Svc {
                            proto: p.clone(),
                            sport: Set::full(SPORT),
                            dport: d.clone(),
                        }],
                        None => {
                            return Err(bad(
                                r,
                                1,
                                "group-object names no service group defined before it",
                            ));
                        }
                    },
                },
                _ => {
                    r.note(
                        ln,
                        format!("`{first}` in {oname} is not understood; skipped"),
                    );
                    return Ok(());
                }
            };
            if let Some(e) = r.svcs.get_mut(oname) {
                e.extend(svcs);
            }
        }
        Kind::PortGroup => {
            let set = match first {
                "port-object" => {
                    let udp = r
                        .ports
                        .get(oname)
                        .is_some_and(|(p, _)| p.contains(UDP) && !p.contains(TCP));
                    match port_op(&ws[1..], udp) {
                        Some((s, _)) => s,
                        None => {
                            return Err(bad(
                                r,
                                1,
                                "port-object needs eq, neq, lt, gt or range with ports",
                            ));
                        }
                    }
                }
                "group-object" => match w(1).and_then(|o| r.ports.get(o)) {
                    Some((_, d)) => d.clone(),
                    None => {
                        return Err(bad(
                            r,
                            1,
                            "group-object names no port group defined before it",
                        ));
                    }
                },
                _ => {
                    r.note(
                        ln,
                        format!("`{first}` in {oname} is not understood; skipped"),
                    );
                    return Ok(());
                }
            };
            if let Some(e) = r.ports.get_mut(oname) {
                e.1 = e.1.union(&set);
            }
        }
        Kind::ProtoGroup => {
            let set = match (first, w(1)) {
                ("protocol-object", Some(p)) => match protocol(p) {
                    Some(s) => s,
                    None => return Err(bad(r, 1, "protocol-object names no protocol")),
                },
                ("group-object", Some(g)) => match r.protos.get(g) {
                    Some(s) => s.clone(),
                    None => {
                        return Err(bad(
                            r,
                            1,
                            "group-object names no protocol group defined before it",
                        ));
                    }
                },
                _ => {
                    r.note(
                        ln,
                        format!("`{first}` in {oname} is not understood; skipped"),
                    );
                    return Ok(());
                }
            };
            if let Some(e) = r.protos.get_mut(oname) {
                *e = e.union(&set);
            }
        }
        Kind::IcmpGroup | Kind::Other => {}
    }
    Ok(())
}

/// `host IP`, `subnet IP MASK` / `subnet PREFIX/LEN`, `range A B`, `fqdn [v4|v6] NAME`.
fn net_value(
    r: &Reader<'_>,
    how: &str,
    ws: &[(usize, &str)],
    ln: usize,
    oname: &str,
) -> Result<Addrs, ReadError> {
    let w = |i: usize| ws.get(i).map(|x| x.1);
    let col = |i: usize| ws.get(i).map_or(1, |x| x.0);
    let fail = |i: usize, what: &str| r.err(ln, col(i), format!("{what} in {oname}"), HINT_CONFIG);
    Ok(match how {
        "host" => match w(0).and_then(|a| r.ip(a)) {
            Some(a) => Addrs::exact(Set::one(space::addr_value(a))),
            None => return Err(fail(0, "host without an IP address")),
        },
        "subnet" => {
            let net = match (w(0), w(1)) {
                (Some(p), _) if p.contains('/') => p.parse::<IpNet>().ok(),
                (Some(a), Some(m)) => match (r.ip(a), mask_len(m)) {
                    (Some(a), Some(l)) => IpNet::new(a, l).ok(),
                    _ => None,
                },
                _ => None,
            };
            match net {
                Some(n) => Addrs::exact(Set::net(n.trunc())),
                None => return Err(fail(0, "not an address with a netmask (or an IPv6 prefix)")),
            }
        }
        "range" => match (w(0).and_then(|a| r.ip(a)), w(1).and_then(|a| r.ip(a))) {
            (Some(a), Some(b)) if a.is_ipv4() == b.is_ipv4() && a <= b => {
                Addrs::exact(Set::range(space::addr_value(a), space::addr_value(b)))
            }
            _ => {
                return Err(fail(
                    0,
                    "range needs two addresses of one family, lowest first",
                ));
            }
        },
        _ => {
            let host = ws.last().map_or("", |x| x.1);
            Addrs {
                set: Set::empty(),
                wide: Set::full(SRC),
                unknown: vec![format!("FQDN object {oname} ({host}) resolves at run time")],
            }
        }
    })
}

/// `eq P`, `neq P`, `lt P`, `gt P`, `range A B`: the ports and how many words it took.
fn port_op(ws: &[(usize, &str)], udp: bool) -> Option<(Set, usize)> {
    let w = |i: usize| ws.get(i).map(|x| x.1);
    let p = |i: usize| w(i).and_then(|x| port_number(x, udp));
    Some(match w(0)? {
        "eq" => (Set::one(p(1)?), 2),
        "neq" => (Set::one(p(1)?).complement(DPORT), 2),
        "lt" => {
            let v = p(1)?;
            (
                if v == 0 {
                    Set::empty()
                } else {
                    Set::range(0, v - 1)
                },
                2,
            )
        }
        "gt" => {
            let v = p(1)?;
            (
                if v >= 65535 {
                    Set::empty()
                } else {
                    Set::range(v + 1, 65535)
                },
                2,
            )
        }
        "range" => {
            let (a, b) = (p(1)?, p(2)?);
            if a > b {
                return None;
            }
            (Set::range(a, b), 3)
        }
        _ => return None,
    })
}

/// `service PROTO [source OP ...] [destination OP ...]` (an object service or service-object).
fn service(r: &Reader<'_>, ws: &[(usize, &str)], ln: usize, oname: &str) -> Result<Svc, ReadError> {
    let col = |i: usize| ws.get(i).map_or(1, |x| x.0);
    let Some(proto) = ws.first().and_then(|x| protocol(x.1)) else {
        return Err(r.err(
            ln,
            col(0),
            format!("service in {oname} names no protocol"),
            HINT_CONFIG,
        ));
    };
    let udp = proto.contains(UDP) && !proto.contains(TCP);
    let mut svc = Svc::proto(proto);
    let mut i = 1;
    while i < ws.len() {
        let dim = match ws[i].1 {
            "source" => SPORT,
            "destination" => DPORT,
            // ICMP types and codes: the ICMP flows are not in the plan.
            _ if !ported(&svc.proto) => break,
            // `service-object tcp eq 80` (no keyword): destination ports.
            _ => {
                i -= 1;
                DPORT
            }
        };
        match port_op(&ws[i + 1..], udp) {
            Some((s, n)) => {
                if dim == SPORT {
                    svc.sport = s
                } else {
                    svc.dport = s
                }
                i += 1 + n;
            }
            None => {
                return Err(r.err(
                    ln,
                    col(i + 1),
                    format!("ports in {oname}: expected eq, neq, lt, gt or range"),
                    HINT_CONFIG,
                ));
            }
        }
    }
    Ok(svc)
}

/// One access-list entry from the word after `extended` (`ws[from]` is permit or deny).
fn ace(
    r: &mut Reader<'_>,
    ws: &[(usize, &str)],
    from: usize,
    ln: usize,
    line: &str,
    no: usize,
) -> Result<Ace, ReadError> {
    let w = |i: usize| ws.get(i).map(|x| x.1);
    let col = |i: usize| ws.get(i).map_or(line.len() + 1, |x| x.0);
    let hint = "an entry reads: access-list NAME extended permit|deny PROTOCOL SOURCE [PORTS] DESTINATION [PORTS]";
    let allow = match w(from) {
        Some("permit") => true,
        Some("deny") => false,
        other => {
            return Err(r.err(
                ln,
                col(from),
                format!("expected permit or deny, found `{}`", other.unwrap_or("")),
                hint,
            ));
        }
    };
    let mut i = from + 1;
    let mut unknown: Vec<String> = Vec::new();
    // The protocol: a keyword, a protocol group, a service object or group.
    let (svcs, may_port): (Vec<Svc>, bool) = match (w(i), w(i + 1)) {
        (Some("object"), Some(o)) => match r.svcs.get(o) {
            Some(s) => {
                i += 2;
                (s.clone(), false)
            }
            None => {
                return Err(r.err(
                    ln,
                    col(i + 1),
                    format!("no service object {o} is defined"),
                    hint,
                ));
            }
        },
        (Some("object-group"), Some(g)) => {
            i += 2;
            if let Some(p) = r.protos.get(g) {
                (vec![Svc::proto(p.clone())], ported(p))
            } else if let Some(s) = r.svcs.get(g) {
                (s.clone(), false)
            } else {
                return Err(r.err(
                    ln,
                    col(i - 1),
                    format!("no protocol or service group {g} is defined"),
                    hint,
                ));
            }
        }
        (Some(p), _) => match protocol(p) {
            Some(s) => {
                i += 1;
                let pt = ported(&s);
                (vec![Svc::proto(s)], pt)
            }
            None => return Err(r.err(ln, col(i), format!("`{p}` is not a protocol"), hint)),
        },
        (None, _) => {
            return Err(r.err(
                ln,
                col(i),
                "the entry ends before its protocol".into(),
                hint,
            ));
        }
    };
    let udp = svcs
        .iter()
        .all(|s| s.proto.contains(UDP) && !s.proto.contains(TCP));
    let address = |r: &mut Reader<'_>, i: &mut usize| -> Result<Addrs, ReadError> {
        let at = *i;
        let Some(k) = w(at) else {
            return Err(r.err(
                ln,
                col(at),
                "the entry ends before its addresses".into(),
                hint,
            ));
        };
        *i += 1;
        Ok(match k {
            "any" => Addrs::exact(Set::full(SRC)),
            "any4" => Addrs::exact(Set::range(V4.0, V4.1)),
            "any6" => Addrs::exact(Set::range(V4.0, V4.1).complement(SRC)),
            "host" => {
                *i += 1;
                match w(at + 1).and_then(|a| r.ip(a)) {
                    Some(a) => Addrs::exact(Set::one(space::addr_value(a))),
                    None => {
                        return Err(r.err(
                            ln,
                            col(at + 1),
                            "host without an IP address or name".into(),
                            hint,
                        ));
                    }
                }
            }
            "object" | "object-group" => {
                *i += 1;
                match w(at + 1).and_then(|o| r.nets.get(o)) {
                    Some(a) => a.clone(),
                    None => {
                        return Err(r.err(
                            ln,
                            col(at + 1),
                            format!("no network {k} {} is defined", w(at + 1).unwrap_or("")),
                            hint,
                        ));
                    }
                }
            }
            "interface" => {
                *i += 1;
                Addrs {
                    set: Set::empty(),
                    wide: Set::full(SRC),
                    unknown: vec![format!(
                        "the ASA's own address on interface {}",
                        w(at + 1).unwrap_or("?")
                    )],
                }
            }
            p if p.contains('/') => match p.parse::<IpNet>() {
                Ok(n) => Addrs::exact(Set::net(n.trunc())),
                Err(_) => {
                    return Err(r.err(ln, col(at), format!("`{p}` is not an IPv6 prefix"), hint));
                }
            },
            a => match (r.ip(a), w(at + 1).and_then(mask_len)) {
                (Some(ip @ IpAddr::V4(_)), Some(l)) => {
                    *i += 1;
                    Addrs::exact(Set::net(
                        IpNet::new(ip, l)
                            .map_err(|_| r.err(ln, col(at), "bad network".into(), hint))?
                            .trunc(),
                    ))
                }
                (Some(_), None) => {
                    return Err(r.err(
                        ln,
                        col(at + 1),
                        format!("`{}` is not a netmask", w(at + 1).unwrap_or("")),
                        hint,
                    ));
                }
                _ => {
                    return Err(r.err(
                        ln,
                        col(at),
                        format!("`{a}` is not an address, object or keyword"),
                        hint,
                    ));
                }
            },
        })
    };
    let operand = |r: &mut Reader<'_>, i: &mut usize| -> Result<Addrs, ReadError> {
        // Identity and TrustSec matches narrow the address that follows them.
        let mut identity = Vec::new();
        while let Some(
            k @ ("user"
            | "user-group"
            | "object-group-user"
            | "security-group"
            | "object-group-security"),
        ) = w(*i)
        {
            let what = format!("{k} {}", w(*i + 1).unwrap_or(""));
            r.note(ln, format!("{what}: identity and TrustSec matches are not evaluated; the entry is \"possible\""));
            identity.push(what);
            *i += 2;
        }
        let mut a = address(r, i)?;
        if !identity.is_empty() {
            a.set = Set::empty();
            a.unknown.extend(identity);
        }
        Ok(a)
    };
    let ports_at = |r: &Reader<'_>, i: &mut usize| -> Result<Option<Set>, ReadError> {
        if !may_port {
            return Ok(None);
        }
        match w(*i) {
            Some("eq" | "neq" | "lt" | "gt" | "range") => match port_op(&ws[*i..], udp) {
                Some((s, n)) => {
                    *i += n;
                    Ok(Some(s))
                }
                None => Err(r.err(
                    ln,
                    col(*i + 1),
                    "not a port number or a port name the ASA knows".into(),
                    hint,
                )),
            },
            Some("object-group") => match w(*i + 1).and_then(|g| r.ports.get(g)) {
                Some((_, s)) => {
                    *i += 2;
                    Ok(Some(s.clone()))
                }
                None => Ok(None),
            },
            _ => Ok(None),
        }
    };
    let src = operand(r, &mut i)?;
    let sport = ports_at(r, &mut i)?;
    let dst = operand(r, &mut i)?;
    let dport = ports_at(r, &mut i)?;
    let mut inactive = false;
    while let Some(k) = w(i) {
        i += 1;
        match k {
            "log" => {
                while let Some(x) = w(i) {
                    if x == "interval" {
                        i += 2;
                    } else if x.parse::<u32>().is_ok()
                        || matches!(
                            x,
                            "disable"
                                | "default"
                                | "emergencies"
                                | "alerts"
                                | "critical"
                                | "errors"
                                | "warnings"
                                | "notifications"
                                | "informational"
                                | "debugging"
                        )
                    {
                        i += 1;
                    } else {
                        break;
                    }
                }
            }
            "inactive" => inactive = true,
            "time-range" => {
                unknown.push(format!("time-range {}", w(i).unwrap_or("")));
                i += 1;
            }
            other => {
                r.note(
                    ln,
                    format!("`{other}` in the entry is not understood; the entry is \"possible\""),
                );
                unknown.push(format!("`{other}`"));
            }
        }
    }
    // One rule per service, and per exact / undecidable part of the operands.
    let mut merged: Vec<Svc> = Vec::new();
    for mut s in svcs {
        if let Some(p) = &sport {
            s.sport = s.sport.intersect(p);
        }
        if let Some(p) = &dport {
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
    let mut cubes = Vec::new();
    let why = |extra: &[String]| {
        let mut v = unknown.clone();
        v.extend(extra.iter().cloned());
        (!v.is_empty()).then(|| v.join("; "))
    };
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
    Ok(Ace {
        line: no,
        loc: format!("{}:{ln}", r.name),
        text: line.trim().to_owned(),
        allow,
        inactive,
        cubes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Verdict;
    use crate::test_support::{allowed, verdict};

    fn opts(ifaces: &[(&str, &str)]) -> ReadOptions {
        ReadOptions {
            interfaces: ifaces
                .iter()
                .map(|(n, net)| (n.to_string(), vec![net.parse().unwrap()]))
                .collect(),
            ..ReadOptions::default()
        }
    }

    const TWO: &str = "interface Gi0/0\n nameif outside\n security-level 0\n ip address 203.0.113.2 255.255.255.0\n\
                       interface Gi0/1\n nameif inside\n security-level 100\n ip address 192.0.2.1 255.255.255.0\n\
                       route outside 0.0.0.0 0.0.0.0 203.0.113.1 1\n";

    #[test]
    fn security_levels_without_access_lists() {
        let text = format!("{TWO}access-list unused extended permit ip any any\n");
        let rs = read(&text, "fw", &ReadOptions::default()).unwrap();
        // Higher to lower: allowed; lower to higher: dropped by the implicit deny.
        assert_eq!(
            allowed(&rs, "192.0.2.5", "198.51.100.7", TCP, 443),
            Some(true)
        );
        assert_eq!(
            allowed(&rs, "198.51.100.7", "192.0.2.5", TCP, 443),
            Some(false)
        );
    }

    #[test]
    fn interface_list_then_global_then_implicit_deny() {
        let text = format!(
            "{TWO}access-list out_in extended deny tcp any host 192.0.2.5 eq 445\n\
             access-list out_in extended permit tcp any 192.0.2.0 255.255.255.0 eq https\n\
             access-list g extended permit tcp any host 192.0.2.5 range 5985 5986\n\
             access-list g extended permit udp any host 192.0.2.5 eq domain\n\
             access-group out_in in interface outside\naccess-group g global\n"
        );
        let rs = read(&text, "fw", &ReadOptions::default()).unwrap();
        let from = "198.51.100.7";
        assert_eq!(allowed(&rs, from, "192.0.2.5", TCP, 443), Some(true));
        assert_eq!(allowed(&rs, from, "192.0.2.5", TCP, 445), Some(false));
        assert_eq!(allowed(&rs, from, "192.0.2.5", TCP, 5986), Some(true));
        assert_eq!(allowed(&rs, from, "192.0.2.5", UDP, 53), Some(true));
        assert_eq!(allowed(&rs, from, "192.0.2.5", UDP, 54), Some(false));
        // The inside interface has no list of its own: the global one, then the implicit
        // deny (security levels no longer apply).
        assert_eq!(
            allowed(&rs, "192.0.2.9", "192.0.2.5", TCP, 5985),
            Some(true)
        );
        assert_eq!(
            allowed(&rs, "192.0.2.9", "198.51.100.1", TCP, 80),
            Some(false)
        );
    }

    #[test]
    fn outbound_lists_are_read_after() {
        let text = format!(
            "{TWO}access-list o extended deny tcp any any eq telnet\n\
             access-list o extended permit ip any any\naccess-group o out interface outside\n"
        );
        let rs = read(&text, "fw", &ReadOptions::default()).unwrap();
        assert_eq!(
            allowed(&rs, "192.0.2.5", "198.51.100.7", TCP, 23),
            Some(false)
        );
        assert_eq!(
            allowed(&rs, "192.0.2.5", "198.51.100.7", TCP, 22),
            Some(true)
        );
    }

    #[test]
    fn port_operators_and_names() {
        assert_eq!(port_number("kerberos", false), Some(750));
        assert_eq!(port_number("radius", true), Some(1645));
        assert_eq!(port_number("radius", false), None);
        assert_eq!(port_number("https", false), Some(443));
        assert_eq!(port_number("ntp", true), Some(123));
        let text = "access-list a extended permit tcp any any neq www\n\
                    access-list a extended permit udp any any lt 100\n\
                    access-list a extended permit udp any any gt 65000\n\
                    access-list a extended deny ip any any\n\
                    access-group a in interface inside\n";
        let rs = read(text, "fw", &opts(&[("inside", "192.0.2.0/24")])).unwrap();
        let (s, d) = ("192.0.2.5", "198.51.100.7");
        assert_eq!(allowed(&rs, s, d, TCP, 80), Some(false));
        assert_eq!(allowed(&rs, s, d, TCP, 81), Some(true));
        assert_eq!(allowed(&rs, s, d, UDP, 99), Some(true));
        assert_eq!(allowed(&rs, s, d, UDP, 100), Some(false));
        assert_eq!(allowed(&rs, s, d, UDP, 65001), Some(true));
    }

    #[test]
    fn families_ranges_names_and_groups() {
        let text = "names\nname 192.0.2.80 web\nobject network pool\n range 192.0.2.100 192.0.2.109\n\
                    object-group network servers\n network-object host web\n network-object object pool\n\
                    object-group service both tcp-udp\n port-object eq 53\n\
                    access-list a extended permit tcp any6 2001:db8::/32 eq 22\n\
                    access-list a extended permit tcp any4 object-group servers eq 8080\n\
                    access-list a extended permit tcp-udp any4 host web object-group both\n\
                    access-group a in interface outside\n";
        let rs = read(
            text,
            "fw",
            &opts(&[("outside", "0.0.0.0/0"), ("outside", "::/0")]),
        )
        .unwrap();
        assert_eq!(
            allowed(&rs, "2001:db8:1::1", "2001:db8::5", TCP, 22),
            Some(true)
        );
        assert_eq!(
            allowed(&rs, "203.0.113.9", "192.0.2.80", TCP, 8080),
            Some(true)
        );
        assert_eq!(
            allowed(&rs, "203.0.113.9", "192.0.2.109", TCP, 8080),
            Some(true)
        );
        assert_eq!(
            allowed(&rs, "203.0.113.9", "192.0.2.110", TCP, 8080),
            Some(false)
        );
        assert_eq!(
            allowed(&rs, "203.0.113.9", "192.0.2.80", UDP, 53),
            Some(true)
        );
        assert_eq!(
            allowed(&rs, "203.0.113.9", "192.0.2.80", UDP, 54),
            Some(false)
        );
    }

    #[test]
    fn undecidable_matches_are_possible() {
        let text = "object network cdn\n fqdn v4 cdn.example.com\n\
                    access-list a extended permit tcp any object cdn eq https\n\
                    access-list a extended permit tcp user EXAMPLE\\bob any any eq ssh\n\
                    access-list a extended permit tcp any any eq 8443 time-range work\n\
                    access-group a in interface inside\n";
        let rs = read(text, "fw", &opts(&[("inside", "192.0.2.0/24")])).unwrap();
        for port in [443, 22, 8443] {
            match verdict(&rs, "192.0.2.5", "198.51.100.7", TCP, port) {
                Verdict::Possible { otherwise, .. } => assert_eq!(otherwise, Decision::Drop),
                v => panic!("port {port}: {v:?}"),
            }
        }
        assert!(
            rs.notes
                .iter()
                .any(|n| n.message.contains("user EXAMPLE\\bob"))
        );
        // A source on no interface: possible, never guessed.
        assert!(matches!(
            verdict(&rs, "203.0.113.9", "192.0.2.5", TCP, 443),
            Verdict::Possible { .. }
        ));
    }

    #[test]
    fn hit_counts_by_line_with_remarks_counted() {
        let text = "access-list a remark first\n\
                    access-list a extended permit tcp any any eq 80\n\
                    access-list a extended permit tcp any any eq 81 inactive\n\
                    access-group a in interface inside\n\
                    access-list a; 2 elements; name hash: 0x1\n\
                    access-list a line 1 remark first\n\
                    access-list a line 2 extended permit tcp any any eq www (hitcnt=7) 0x2\n\
                    access-list a line 3 extended permit tcp any any eq 81 inactive (hitcnt=0) (inactive) 0x3\n";
        let rs = read(text, "fw", &opts(&[("inside", "192.0.2.0/24")])).unwrap();
        assert!(rs.counters);
        let rules = &rs.chains[0].rules;
        assert_eq!(rules[0].hits, Some(7));
        assert_eq!(rules[1].hits, Some(0));
        assert!(rules[1].never_new, "inactive never matches");
        assert_eq!(
            allowed(&rs, "192.0.2.5", "198.51.100.7", TCP, 81),
            Some(false)
        );
    }

    #[test]
    fn bad_input_is_located() {
        let e = read(
            "access-list a extended permit tcp any 192.0.2.0 255.0.255.0 eq 80\n",
            "fw",
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(e.location, "fw:1:49");
        assert!(e.message.contains("netmask"));
        let e = read(
            "access-list a extended allow tcp any any\n",
            "fw",
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(e.location, "fw:1:24");
        let e = read("hostname fw\n", "fw", &ReadOptions::default()).unwrap_err();
        assert!(e.message.contains("no access-list"));
        let e = read(
            "access-list a extended permit tcp any any eq nosuchport\n",
            "fw",
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert!(e.location.starts_with("fw:1:"), "{e}");
    }
}
