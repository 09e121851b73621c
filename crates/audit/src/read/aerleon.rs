//! Aerleon (Capirca) policies: a policy file (`policies/pol/NAME.yaml`: `filters`, each a
//! `header` and ordered `terms`) with the network and service definitions it names
//! (`def/*.yaml`: `networks:` and `services:`), as `rdsports rules --target aerleon` writes
//! them and as Aerleon's `aclgen` reads them.
//!
//! Semantics: each filter is a first-match list of terms. A filter whose `srx` or `paloalto`
//! target reads `from-zone A to-zone B` judges the connections from zone A to zone B (the
//! deployment's zones, the most specific network deciding); after its last term, the zone
//! firewall's default deny. A zone pair no filter names is denied by that same default. A
//! filter without a zone target judges every connection (noted). Term keys the reader cannot
//! evaluate (`source-interface`, `option`, `icmp-type`, `platform`, `expiration`, ...) make
//! the term a "possible" match, never ignored.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use ipnet::IpNet;
use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use crate::model::{Action, Chain, Decision, Note, Platform, Rule, Ruleset};
use crate::space::{self, Cube, DPORT, DST, PROTO, SPORT, SRC, Set};
use crate::{ReadError, ReadOptions};

/// A YAML value of a header or term key.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Val {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<Val>),
    Map(BTreeMap<String, Val>),
    Null(()),
}

impl Val {
    /// The words of a value: strings split at white space (Aerleon's lists), list items.
    fn words(&self, out: &mut Vec<String>) {
        match self {
            Val::Str(s) => out.extend(s.split_whitespace().map(str::to_owned)),
            Val::Int(n) => out.push(n.to_string()),
            Val::Bool(b) => out.push(b.to_string()),
            Val::List(v) => v.iter().for_each(|x| x.words(out)),
            Val::Map(_) | Val::Null(()) => {}
        }
    }

    /// Whether a mapping is anywhere in it (where only words belong).
    fn has_map(&self) -> bool {
        match self {
            Val::Map(_) => true,
            Val::List(v) => v.iter().any(Val::has_map),
            _ => false,
        }
    }
}

type Fields = BTreeMap<String, Spanned<Val>>;
/// A service: its entries.
type SvcDef = Spanned<Vec<Spanned<Fields>>>;

#[derive(Debug, Deserialize)]
struct PolicyFile {
    filters: Option<Vec<Spanned<FilterDef>>>,
}

#[derive(Debug, Deserialize)]
struct FilterDef {
    header: Option<Spanned<Fields>>,
    terms: Option<Vec<Spanned<Fields>>>,
}

#[derive(Debug, Deserialize)]
struct DefFile {
    networks: Option<BTreeMap<String, Spanned<NetDef>>>,
    services: Option<BTreeMap<String, SvcDef>>,
}

#[derive(Debug, Deserialize)]
struct NetDef {
    values: Option<Vec<Spanned<Fields>>>,
}

/// Term keys that do not change what a term matches.
const HARMLESS: &[&str] = &[
    "name", "comment", "counter", "owner", "log", "logging", "log-name", "action",
];

/// Deepest chain of network or service names followed.
const DEPTH: usize = 32;

struct Reader {
    networks: BTreeMap<String, (String, Spanned<NetDef>)>,
    services: BTreeMap<String, (String, SvcDef)>,
    notes: Vec<Note>,
    /// Networks already resolved: each name is followed once, however many names name it.
    resolved_networks: RefCell<HashMap<String, Set>>,
    /// Services already resolved (their ports per protocol number).
    resolved_services: RefCell<HashMap<String, BTreeMap<u128, Set>>>,
}

fn at(file: &str, l: &Location) -> String {
    format!("{file}:{}:{}", l.line(), l.column())
}

fn yaml_error(file: &str, e: &serde_saphyr::Error) -> ReadError {
    let location = match e.location() {
        Some(l) => at(file, &l),
        None => file.to_owned(),
    };
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("invalid YAML");
    let first = first.strip_prefix("error: ").unwrap_or(first);
    // The location is ours: drop the parser's own `line L column C: `.
    let message = match first.strip_prefix("line ").and_then(|r| r.split_once(": ")) {
        Some((_, m)) => m,
        None => first,
    }
    .to_owned();
    ReadError {
        location,
        message: format!("not an Aerleon YAML file: {message}"),
        hint: "a policy has `filters:` (each a `header` and `terms`); definitions have \
               `networks:` and `services:` (aclgen's YAML format)"
            .into(),
    }
}

/// Refuses a mapping among the values of `f` (names, ports, words belong there).
fn no_maps(f: &Fields, file: &str, what: &str) -> Result<(), ReadError> {
    match f.iter().find(|(_, v)| v.value.has_map()) {
        None => Ok(()),
        Some((k, v)) => Err(ReadError {
            location: at(file, &v.referenced),
            message: format!("{what}: `{k}` holds a mapping where names or values belong"),
            hint: "write a name, a string of names separated by spaces, or a list of them".into(),
        }),
    }
}

impl Reader {
    fn err(&self, file: &str, l: &Location, message: String, hint: &str) -> ReadError {
        ReadError {
            location: at(file, l),
            message,
            hint: hint.to_owned(),
        }
    }

    /// The addresses of network `n` (names followed, cycles refused).
    fn network(
        &self,
        n: &str,
        file: &str,
        l: &Location,
        stack: &mut Vec<String>,
    ) -> Result<Set, ReadError> {
        let Some((dfile, def)) = self.networks.get(n) else {
            return Err(self.err(
                file,
                l,
                format!("network {n} is not defined"),
                "define it under `networks:` in a definitions file (def/*.yaml beside policies/, or --definitions DIR)",
            ));
        };
        if stack.iter().any(|s| s == n) || stack.len() >= DEPTH {
            return Err(self.err(
                dfile,
                &def.referenced,
                format!("network {n} names itself (through {})", stack.join(" -> ")),
                "a network may name others, never in a cycle",
            ));
        }
        if let Some(set) = self.resolved_networks.borrow().get(n) {
            return Ok(set.clone());
        }
        stack.push(n.to_owned());
        let mut set = Set::empty();
        for item in def.value.values.iter().flatten() {
            let f = &item.value;
            no_maps(f, dfile, &format!("network {n}"))?;
            if let Some(a) = f.get("address") {
                let mut w = Vec::new();
                a.value.words(&mut w);
                for text in w {
                    let net = text
                        .parse::<IpNet>()
                        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
                        .map_err(|_| {
                            self.err(
                                dfile,
                                &a.referenced,
                                format!("network {n}: {text} is not an address or prefix"),
                                "write an address as 192.0.2.0/24 or 2001:db8::/32",
                            )
                        })?;
                    set = set.union(&Set::net(net.trunc()));
                }
            } else if let Some(o) = f.get("name") {
                let mut w = Vec::new();
                o.value.words(&mut w);
                for other in w {
                    set = set.union(&self.network(&other, dfile, &o.referenced, stack)?);
                }
            } else {
                return Err(self.err(
                    dfile,
                    &item.referenced,
                    format!("network {n}: a value with neither `address` nor `name`"),
                    "each value is `- address: CIDR` or `- name: OTHER_NETWORK`",
                ));
            }
        }
        stack.pop();
        self.resolved_networks
            .borrow_mut()
            .insert(n.to_owned(), set.clone());
        Ok(set)
    }

    /// The ports of service `n` per protocol number.
    fn service(
        &self,
        n: &str,
        file: &str,
        l: &Location,
        stack: &mut Vec<String>,
        out: &mut BTreeMap<u128, Set>,
    ) -> Result<(), ReadError> {
        let Some((dfile, def)) = self.services.get(n) else {
            return Err(self.err(
                file,
                l,
                format!("service {n} is not defined"),
                "define it under `services:` in a definitions file (def/*.yaml beside policies/, or --definitions DIR)",
            ));
        };
        if stack.iter().any(|s| s == n) || stack.len() >= DEPTH {
            return Err(self.err(
                dfile,
                &def.referenced,
                format!("service {n} names itself (through {})", stack.join(" -> ")),
                "a service may name others, never in a cycle",
            ));
        }
        let add = |out: &mut BTreeMap<u128, Set>, own: &BTreeMap<u128, Set>| {
            for (num, set) in own {
                let e = out.entry(*num).or_insert_with(Set::empty);
                *e = e.union(set);
            }
        };
        if let Some(own) = self.resolved_services.borrow().get(n) {
            add(out, own);
            return Ok(());
        }
        // This service's own ports, then added to `out` (and remembered).
        let mut own = BTreeMap::new();
        let out_all = out;
        let out = &mut own;
        stack.push(n.to_owned());
        for item in &def.value {
            let f = &item.value;
            no_maps(f, dfile, &format!("service {n}"))?;
            if let Some(o) = f.get("name") {
                let mut w = Vec::new();
                o.value.words(&mut w);
                for other in w {
                    self.service(&other, dfile, &o.referenced, stack, out)?;
                }
                continue;
            }
            let (Some(p), Some(pr)) = (f.get("port"), f.get("protocol")) else {
                return Err(self.err(
                    dfile,
                    &item.referenced,
                    format!("service {n}: an entry without `port` and `protocol`"),
                    "each entry is `- port: \"N\"` or `\"A-B\"` with `protocol: tcp`",
                ));
            };
            let mut pw = Vec::new();
            pr.value.words(&mut pw);
            let mut ports = Vec::new();
            p.value.words(&mut ports);
            let mut set = Set::empty();
            for text in &ports {
                let (a, b) = text.split_once('-').unwrap_or((text, text));
                match (a.trim().parse::<u16>(), b.trim().parse::<u16>()) {
                    (Ok(a), Ok(b)) if a <= b => {
                        set = set.union(&Set::range(u128::from(a), u128::from(b)))
                    }
                    _ => {
                        return Err(self.err(
                            dfile,
                            &p.referenced,
                            format!("service {n}: port {text} is not N or A-B (0-65535)"),
                            "write a port as \"3389\" or a range as \"49152-65535\"",
                        ));
                    }
                }
            }
            for w in pw {
                let Some(num) = protocol(&w) else {
                    return Err(self.err(
                        dfile,
                        &pr.referenced,
                        format!("service {n}: unknown protocol {w}"),
                        "tcp, udp, or a protocol number",
                    ));
                };
                let e = out.entry(num).or_insert_with(Set::empty);
                *e = e.union(&set);
            }
        }
        stack.pop();
        add(out_all, &own);
        self.resolved_services
            .borrow_mut()
            .insert(n.to_owned(), own);
        Ok(())
    }

    fn words<'f>(f: &'f Fields, key: &str) -> Option<(Vec<String>, &'f Location)> {
        f.get(key).map(|v| {
            let mut w = Vec::new();
            v.value.words(&mut w);
            (w, &v.referenced)
        })
    }

    fn addresses(&self, f: &Fields, key: &str, file: &str) -> Result<Option<Set>, ReadError> {
        let Some((names, l)) = Self::words(f, key) else {
            return Ok(None);
        };
        let mut set = Set::empty();
        for n in names {
            set = set.union(&self.network(&n, file, l, &mut Vec::new())?);
        }
        Ok(Some(set))
    }

    fn ports(
        &self,
        f: &Fields,
        key: &str,
        file: &str,
    ) -> Result<Option<BTreeMap<u128, Set>>, ReadError> {
        let Some((names, l)) = Self::words(f, key) else {
            return Ok(None);
        };
        let mut out = BTreeMap::new();
        for n in names {
            self.service(&n, file, l, &mut Vec::new(), &mut out)?;
        }
        Ok(Some(out))
    }
}

fn protocol(w: &str) -> Option<u128> {
    Some(match w.to_ascii_lowercase().as_str() {
        "tcp" => space::TCP,
        "udp" => space::UDP,
        "icmp" => 1,
        "igmp" => 2,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "icmpv6" => 58,
        "sctp" => 132,
        n => return n.parse::<u8>().ok().map(u128::from),
    })
}

/// The zone pair of a header's `srx` / `paloalto` target (`from-zone A to-zone B`).
fn zone_pair(h: &Fields) -> Option<(String, String, String)> {
    let Some(Val::Map(targets)) = h.get("targets").map(|t| &t.value) else {
        return None;
    };
    for (platform, v) in targets {
        let mut w = Vec::new();
        v.words(&mut w);
        if let Some(i) = w.iter().position(|x| x == "from-zone")
            && let Some(j) = w.iter().position(|x| x == "to-zone")
            && let (Some(a), Some(b)) = (w.get(i + 1), w.get(j + 1))
        {
            return Some((platform.clone(), a.clone(), b.clone()));
        }
    }
    None
}

/// Reads an Aerleon policy (`text`, named `name`) with its definitions files
/// ([`ReadOptions::definitions`]); the zones are [`ReadOptions::interfaces`].
pub fn read(text: &str, name: &str, opts: &ReadOptions) -> Result<Ruleset, ReadError> {
    let policy: PolicyFile = serde_saphyr::from_str(text).map_err(|e| yaml_error(name, &e))?;
    let mut r = Reader {
        networks: BTreeMap::new(),
        services: BTreeMap::new(),
        notes: Vec::new(),
        resolved_networks: RefCell::default(),
        resolved_services: RefCell::default(),
    };
    if opts.definitions.is_empty() {
        return Err(ReadError {
            location: name.to_owned(),
            message: "no Aerleon definitions found (networks and services)".into(),
            hint: "aclgen reads them from def/ beside the policies/ directory; name the \
                   directory with --definitions DIR"
                .into(),
        });
    }
    for (dname, dtext) in &opts.definitions {
        let d: DefFile = serde_saphyr::from_str(dtext).map_err(|e| yaml_error(dname, &e))?;
        for (k, v) in d.networks.into_iter().flatten() {
            if r.networks.contains_key(&k) {
                return Err(r.err(
                    dname,
                    &v.referenced,
                    format!("network {k} is defined twice"),
                    "define each network once across the definitions files",
                ));
            }
            r.networks.insert(k, (dname.clone(), v));
        }
        for (k, v) in d.services.into_iter().flatten() {
            if r.services.contains_key(&k) {
                return Err(r.err(
                    dname,
                    &v.referenced,
                    format!("service {k} is defined twice"),
                    "define each service once across the definitions files",
                ));
            }
            r.services.insert(k, (dname.clone(), v));
        }
    }
    // The zones, disjoint: the most specific network decides. Two names of the same
    // networks (a zone and `--interface NAME=ZONE`) are one zone, `owner` its first name.
    let owner: Vec<usize> = opts
        .interfaces
        .iter()
        .map(|(_, nets)| {
            opts.interfaces
                .iter()
                .position(|(_, n)| n == nets)
                .unwrap_or(0)
        })
        .collect();
    let mut entries: Vec<(u128, usize, Set)> = Vec::new();
    for (k, (_, nets)) in opts.interfaces.iter().enumerate() {
        if owner[k] != k {
            continue;
        }
        for n in nets {
            let (a, b) = space::net_bounds(*n);
            entries.push((b - a, k, Set::range(a, b)));
        }
    }
    entries.sort_by_key(|e| (e.0, e.1));
    let mut zones = vec![Set::empty(); opts.interfaces.len()];
    let mut taken = Set::empty();
    for (_, k, s) in entries {
        let own = s.minus(&taken);
        taken = taken.union(&own);
        zones[k] = zones[k].union(&own);
    }
    let zone = |z: &str| {
        opts.interfaces
            .iter()
            .position(|(n, _)| n == z)
            .map(|k| owner[k])
    };

    let mut chains = Vec::new();
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut any_zoned = false;
    for (fi, filter) in policy.filters.iter().flatten().enumerate() {
        let floc = at(name, &filter.referenced);
        let Some(header) = &filter.value.header else {
            return Err(r.err(
                name,
                &filter.referenced,
                format!("filter {} has no header", fi + 1),
                "each filter is `- header: {targets: ...}` with `terms:`",
            ));
        };
        let pair = zone_pair(&header.value);
        let only = match &pair {
            Some((platform, a, b)) => {
                any_zoned = true;
                match (zone(a), zone(b)) {
                    (Some(za), Some(zb)) => {
                        pairs.push((za, zb));
                        Some(Cube::full().with(SRC, &zones[za]).with(DST, &zones[zb]))
                    }
                    _ => {
                        let missing = if zone(a).is_none() { a } else { b };
                        r.notes.push(Note {
                            location: floc.clone(),
                            message: format!("filter {} ({platform} from-zone {a} to-zone {b}): zone {missing} is not a zone of the deployment (--interface {missing}=ZONE names it); the filter judges no planned flow", fi + 1),
                        });
                        Some(Cube::full().with(SRC, &Set::empty()))
                    }
                }
            }
            None => {
                r.notes.push(Note {
                    location: floc.clone(),
                    message: format!("filter {} names no from-zone/to-zone target: taken to judge every connection", fi + 1),
                });
                None
            }
        };
        let mut rules = Vec::new();
        for term in filter.value.terms.iter().flatten() {
            rules.extend(term_rules(&mut r, term, name)?);
        }
        let label = match &pair {
            Some((_, a, b)) => format!("from-zone {a} to-zone {b}"),
            None => format!("filter {}", fi + 1),
        };
        chains.push(Chain {
            name: label.clone(),
            rules,
            policy: Some(Decision::Drop),
            policy_location: format!(
                "{floc} (after the last term of {label}: the {} default deny)",
                if pair.is_some() {
                    "zone firewall's"
                } else {
                    "platform's"
                }
            ),
            only,
            index: None,
        });
    }
    if any_zoned {
        // Zone pairs no filter names: the zone firewall's default (deny).
        for (a, (za, _)) in opts.interfaces.iter().enumerate() {
            for (b, (zb, _)) in opts.interfaces.iter().enumerate() {
                if owner[a] != a
                    || owner[b] != b
                    || pairs.contains(&(a, b))
                    || zones[a].is_empty()
                    || zones[b].is_empty()
                {
                    continue;
                }
                let only = Some(Cube::full().with(SRC, &zones[a]).with(DST, &zones[b]));
                let rules = if a == b {
                    vec![Rule {
                        matches: Cube::full(),
                        possible: Some(format!(
                            "within zone {za}: SRX denies it without a policy, Palo Alto's intrazone default allows it"
                        )),
                        action: Action::Drop,
                        location: name.to_owned(),
                        text: format!("no filter from-zone {za} to-zone {zb}"),
                        hits: None,
                        never_new: false,
                    }]
                } else {
                    Vec::new()
                };
                chains.push(Chain {
                    name: format!("from-zone {za} to-zone {zb} (no filter)"),
                    rules,
                    policy: Some(Decision::Drop),
                    policy_location: format!("{name} (no filter from-zone {za} to-zone {zb}: the zone firewall's default deny)"),
                    only,
                    index: None,
                });
            }
        }
        let unknown = taken.complement(SRC);
        for dim in [SRC, DST] {
            if unknown.is_empty() {
                break;
            }
            chains.push(Chain {
                name: "no zone".into(),
                rules: vec![Rule {
                    matches: Cube::full(),
                    possible: Some("the address is in no zone of the deployment: which filter applies is unknown".into()),
                    action: Action::Drop,
                    location: name.to_owned(),
                    text: "connections from or to no zone".into(),
                    hits: None,
                    never_new: false,
                }],
                policy: Some(Decision::Drop),
                policy_location: name.to_owned(),
                only: Some(Cube::full().with(dim, &unknown)),
                index: None,
            });
        }
    }
    if chains.is_empty() {
        r.notes.push(Note {
            location: name.to_owned(),
            message:
                "the policy has no filters: the platform's default (deny) decides every connection"
                    .into(),
        });
    }
    let stages: Vec<usize> = (0..chains.len()).collect();
    Ok(Ruleset::appliance(
        Platform::Aerleon,
        chains,
        stages,
        r.notes,
        false,
    ))
}

/// The rules of one term (one per protocol with ports, else one).
fn term_rules(r: &mut Reader, term: &Spanned<Fields>, file: &str) -> Result<Vec<Rule>, ReadError> {
    let f = &term.value;
    let loc = format!("{file}:{}", term.referenced.line());
    let tname = Reader::words(f, "name")
        .and_then(|(w, _)| w.first().cloned())
        .unwrap_or_else(|| format!("term at line {}", term.referenced.line()));
    no_maps(f, file, &format!("term {tname}"))?;
    let action = match Reader::words(f, "action") {
        None => {
            return Err(r.err(
                file,
                &term.referenced,
                format!("term {tname} has no action"),
                "action: accept, deny, reject or next",
            ));
        }
        Some((w, l)) => match w.first().map(String::as_str) {
            Some("accept") => Action::Accept,
            Some("deny" | "reject" | "reject-with-tcp-rst") => Action::Drop,
            Some("next") => Action::Continue,
            other => {
                return Err(r.err(
                    file,
                    l,
                    format!("term {tname}: unknown action {}", other.unwrap_or("")),
                    "action: accept, deny, reject or next",
                ));
            }
        },
    };
    let mut possible = Vec::new();
    for (k, v) in f {
        if HARMLESS.contains(&k.as_str())
            || matches!(
                k.as_str(),
                "source-address"
                    | "destination-address"
                    | "source-address-exclude"
                    | "destination-address-exclude"
                    | "protocol"
                    | "source-port"
                    | "destination-port"
            )
        {
            continue;
        }
        possible.push(k.clone());
        r.notes.push(Note {
            location: at(file, &v.referenced),
            message: format!("term {tname}: `{k}` is not evaluated: the term is a possible match"),
        });
    }
    let mut cube = Cube::full();
    if let Some(s) = r.addresses(f, "source-address", file)? {
        cube = cube.with(SRC, &s);
    }
    if let Some(s) = r.addresses(f, "destination-address", file)? {
        cube = cube.with(DST, &s);
    }
    if let Some(s) = r.addresses(f, "source-address-exclude", file)? {
        let rest = cube.0[SRC].minus(&s);
        cube = cube.with(SRC, &rest);
    }
    if let Some(s) = r.addresses(f, "destination-address-exclude", file)? {
        let rest = cube.0[DST].minus(&s);
        cube = cube.with(DST, &rest);
    }
    let protos: Option<Vec<u128>> = match Reader::words(f, "protocol") {
        None => None,
        Some((w, l)) => Some(
            w.iter()
                .map(|p| {
                    protocol(p).ok_or_else(|| {
                        r.err(
                            file,
                            l,
                            format!("term {tname}: unknown protocol {p}"),
                            "tcp, udp, icmp, or a protocol number",
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
    };
    let sports = r.ports(f, "source-port", file)?;
    let dports = r.ports(f, "destination-port", file)?;
    if (sports.is_some() || dports.is_some()) && protos.is_none() {
        return Err(r.err(
            file,
            &term.referenced,
            format!("term {tname} names ports but no protocol"),
            "add protocol: tcp (or udp) to the term",
        ));
    }
    let text = format!(
        "term {tname} ({})",
        match action {
            Action::Accept => "accept",
            Action::Drop => "deny",
            _ => "next",
        }
    );
    let possible = (!possible.is_empty())
        .then(|| format!("term {tname}: {} not evaluated", possible.join(", ")));
    let rule = |matches: Cube| Rule {
        matches,
        possible: possible.clone(),
        action,
        location: loc.clone(),
        text: text.clone(),
        hits: None,
        never_new: false,
    };
    let Some(protos) = protos else {
        return Ok(vec![rule(cube)]);
    };
    let mut out = Vec::new();
    let several = protos.len() > 1;
    for p in protos {
        let mut c = cube.clone().with(PROTO, &Set::one(p));
        let pick = |m: &Option<BTreeMap<u128, Set>>| {
            m.as_ref()
                .map(|m| m.get(&p).cloned().unwrap_or_else(Set::empty))
        };
        if let Some(s) = pick(&sports) {
            c = c.with(SPORT, &s);
        }
        if let Some(s) = pick(&dports) {
            c = c.with(DPORT, &s);
        }
        if !c.is_empty() {
            let mut one = rule(c);
            if several {
                one.text = format!("{} {}", one.text, space::protos_text(&Set::one(p)));
            }
            out.push(one);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{self, Verdict};
    use crate::test_support::{allowed, verdict};

    const DEFS: &str = "networks:\n  WEB:\n    values:\n      - address: 198.51.100.10/32\n  \
                        LAN:\n    values:\n      - address: 192.0.2.0/24\n  SERVERS:\n    values:\n      \
                        - name: WEB\n      - address: 192.0.2.40\n  LOOP:\n    values:\n      - name: LOOP\n\
                        services:\n  HTTPS:\n    - port: \"443\"\n      protocol: tcp\n  DNS:\n    \
                        - port: 53\n      protocol: tcp\n    - port: \"53\"\n      protocol: udp\n  \
                        HIGH:\n    - port: \"49152-65535\"\n      protocol: tcp\n";

    fn opts() -> ReadOptions {
        ReadOptions {
            interfaces: vec![
                ("internet".into(), vec!["0.0.0.0/0".parse().unwrap()]),
                ("dmz".into(), vec!["198.51.100.0/24".parse().unwrap()]),
                ("lan".into(), vec!["192.0.2.0/24".parse().unwrap()]),
            ],
            definitions: vec![("def/d.yaml".into(), DEFS.into())],
            ..ReadOptions::default()
        }
    }

    fn policy(filters: &str) -> String {
        format!("filters:\n{filters}")
    }

    fn zoned(from: &str, to: &str, terms: &str) -> String {
        format!(
            "  - header:\n      targets:\n        srx: from-zone {from} to-zone {to}\n    terms:\n{terms}"
        )
    }

    #[test]
    fn first_match_per_zone_pair_then_default_deny() {
        let text = policy(&zoned(
            "internet",
            "dmz",
            "      - name: no-lan\n        source-address: LAN\n        action: deny\n      \
             - name: web\n        destination-address: WEB\n        protocol: tcp\n        \
             destination-port: HTTPS\n        action: accept\n",
        ));
        let rs = read(&text, "p.yaml", &opts()).unwrap();
        assert_eq!(
            allowed(&rs, "203.0.113.5", "198.51.100.10", 6, 443),
            Some(true)
        );
        // Not the named port, not the named host: the filter's default deny.
        assert_eq!(
            allowed(&rs, "203.0.113.5", "198.51.100.10", 6, 80),
            Some(false)
        );
        assert_eq!(
            allowed(&rs, "203.0.113.5", "198.51.100.11", 6, 443),
            Some(false)
        );
        // A zone pair no filter names: denied too (the zone firewall's default).
        assert_eq!(
            allowed(&rs, "192.0.2.5", "198.51.100.10", 6, 443),
            Some(false)
        );
        match verdict(&rs, "192.0.2.5", "198.51.100.10", 6, 443) {
            Verdict::Drop(eval::Decider::Policy(c)) => {
                assert!(
                    rs.chains[c]
                        .policy_location
                        .contains("no filter from-zone lan to-zone dmz")
                )
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn names_excludes_protocols_and_next() {
        let text = policy(&zoned(
            "dmz",
            "lan",
            "      - name: counted\n        counter: c1\n        action: next\n      \
             - name: servers\n        source-address: WEB\n        destination-address: SERVERS LAN\n        \
             destination-address-exclude: SERVERS\n        protocol: [tcp, udp]\n        \
             destination-port: \"DNS HIGH\"\n        action: accept\n",
        ));
        let rs = read(&text, "p.yaml", &opts()).unwrap();
        assert!(rs.notes.is_empty(), "{:?}", rs.notes);
        assert_eq!(
            allowed(&rs, "198.51.100.10", "192.0.2.7", 17, 53),
            Some(true)
        );
        assert_eq!(
            allowed(&rs, "198.51.100.10", "192.0.2.7", 6, 50000),
            Some(true)
        );
        // UDP has no high ports in HIGH; the excluded server is not reached.
        assert_eq!(
            allowed(&rs, "198.51.100.10", "192.0.2.7", 17, 50000),
            Some(false)
        );
        assert_eq!(
            allowed(&rs, "198.51.100.10", "192.0.2.40", 6, 53),
            Some(false)
        );
        assert_eq!(
            allowed(&rs, "198.51.100.11", "192.0.2.7", 6, 53),
            Some(false)
        );
    }

    #[test]
    fn unevaluated_keys_are_possible_and_noted() {
        for key in [
            "source-interface: ge-0/0/0",
            "option: tcp-established",
            "icmp-type: echo-request",
            "platform: juniper",
            "expiration: 2030-01-01",
        ] {
            let text = policy(&zoned(
                "internet",
                "dmz",
                &format!("      - name: t\n        {key}\n        action: accept\n"),
            ));
            let rs = read(&text, "p.yaml", &opts()).unwrap();
            let k = key.split(':').next().unwrap();
            match verdict(&rs, "203.0.113.5", "198.51.100.10", 6, 443) {
                Verdict::Possible { .. } => {}
                v => panic!("{key}: {v:?}"),
            }
            assert!(
                rs.notes
                    .iter()
                    .any(|n| n.message.contains(k) && n.location.starts_with("p.yaml:7:")),
                "{key}: {:?}",
                rs.notes
            );
        }
    }

    #[test]
    fn a_zone_the_deployment_lacks_is_noted() {
        let text = policy(&zoned(
            "untrust",
            "dmz",
            "      - name: web\n        destination-address: WEB\n        action: accept\n",
        ));
        let rs = read(&text, "p.yaml", &opts()).unwrap();
        assert!(
            rs.notes[0].message.contains("--interface untrust=ZONE"),
            "{:?}",
            rs.notes
        );
        assert_eq!(
            allowed(&rs, "203.0.113.5", "198.51.100.10", 6, 443),
            Some(false)
        );
        // Named as the deployment's internet zone (what --interface untrust=internet does).
        let mut named = opts();
        let internet = named.interfaces[0].1.clone();
        named.interfaces.push(("untrust".into(), internet));
        let rs = read(&text, "p.yaml", &named).unwrap();
        assert!(rs.notes.is_empty(), "{:?}", rs.notes);
        assert_eq!(
            allowed(&rs, "203.0.113.5", "198.51.100.10", 6, 443),
            Some(true)
        );
        assert_eq!(
            allowed(&rs, "203.0.113.5", "198.51.100.11", 6, 443),
            Some(false)
        );
        assert_eq!(
            allowed(&rs, "192.0.2.1", "198.51.100.10", 6, 443),
            Some(false)
        );
    }

    #[test]
    fn filters_without_zones_judge_everything() {
        let text = policy(
            "  - header:\n      targets:\n        juniper: edge-in inet\n    terms:\n      \
             - name: web\n        destination-address: WEB\n        action: accept\n",
        );
        let rs = read(&text, "p.yaml", &opts()).unwrap();
        assert!(rs.notes[0].message.contains("every connection"));
        assert_eq!(allowed(&rs, "192.0.2.5", "198.51.100.10", 6, 1), Some(true));
        assert_eq!(
            allowed(&rs, "192.0.2.5", "198.51.100.11", 6, 1),
            Some(false)
        );
    }

    #[test]
    fn bad_input_is_located() {
        let o = opts();
        let err = |t: &str| read(t, "p.yaml", &o).unwrap_err();
        let e = err(&policy(&zoned(
            "internet",
            "dmz",
            "      - name: t\n        destination-address: NOPE\n        action: accept\n",
        )));
        assert_eq!(e.location, "p.yaml:7:30", "{e}");
        assert!(e.message.contains("network NOPE is not defined"));
        assert!(e.hint.contains("--definitions"));
        let e = err(&policy(&zoned(
            "internet",
            "dmz",
            "      - name: t\n        protocol: tcp\n        destination-port: NOPE\n        action: accept\n",
        )));
        assert!(e.message.contains("service NOPE"), "{e}");
        assert_eq!(e.location, "p.yaml:8:27", "{e}");
        let e = err(&policy(&zoned(
            "internet",
            "dmz",
            "      - name: t\n        action: permit\n",
        )));
        assert!(e.message.contains("unknown action permit"), "{e}");
        let e = err(&policy(&zoned(
            "internet",
            "dmz",
            "      - name: t\n        destination-address: LOOP\n        action: accept\n",
        )));
        assert!(e.message.contains("names itself"), "{e}");
        assert!(e.location.starts_with("def/d.yaml:"), "{e}");
        let e = err(&policy(&zoned(
            "internet",
            "dmz",
            "      - name: t\n        comment:\n        protocol: tcp\n        destination-port: [HTTPS, {a: b}]\n        action: accept\n",
        )));
        assert_eq!(e.location, "p.yaml:9:27", "{e}");
        assert!(
            e.message.contains("`destination-port` holds a mapping"),
            "{e}"
        );
        let e = err("filters: 5\n");
        assert_eq!(e.location, "p.yaml:1:10", "{e}");
        assert!(!e.message.contains("line 1"), "{e}");
        let e = err("filters:\n  - header: [\n");
        assert!(e.location.starts_with("p.yaml:"), "{e}");
        assert!(e.location.matches(':').count() == 2, "{e}");
        let e = read(
            &policy(&zoned(
                "internet",
                "dmz",
                "      - name: t\n        action: accept\n",
            )),
            "p.yaml",
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert!(e.hint.contains("--definitions DIR"), "{e}");
        let bad = ReadOptions {
            definitions: vec![(
                "def/x.yaml".into(),
                "services:\n  S:\n    - port: \"99999\"\n      protocol: tcp\n".into(),
            )],
            ..opts()
        };
        let e = read(
            &policy(&zoned(
                "internet",
                "dmz",
                "      - name: t\n        protocol: tcp\n        destination-port: S\n        action: accept\n",
            )),
            "p.yaml",
            &bad,
        )
        .unwrap_err();
        assert_eq!(e.location, "def/x.yaml:3:13", "{e}");
    }

    /// Networks and services 30 deep that each name the next twice (2^30 paths): each name
    /// is resolved once, with the same addresses and ports; a loop through them is refused.
    #[test]
    fn definitions_naming_the_next_twice() {
        let levels = 30;
        let mut defs = String::from("networks:\n");
        for k in 0..levels {
            defs += &format!(
                "  N{k}:\n    values:\n      - name: N{0}\n      - name: N{0}\n",
                k + 1
            );
        }
        defs += &format!("  N{levels}:\n    values:\n      - address: 192.0.2.0/24\n");
        defs += "  LOOP0:\n    values:\n      - name: LOOP1\n      - name: LOOP1\n";
        defs += "  LOOP1:\n    values:\n      - name: N25\n      - name: LOOP0\n";
        defs += "services:\n";
        for k in 0..levels {
            defs += &format!("  S{k}:\n    - name: S{0}\n    - name: S{0}\n", k + 1);
        }
        defs += &format!("  S{levels}:\n    - port: \"3389\"\n      protocol: tcp\n");
        let opts = ReadOptions {
            definitions: vec![("def/d.yaml".into(), defs)],
            ..opts()
        };
        let text = policy(&zoned(
            "dmz",
            "lan",
            "      - name: rdp\n        destination-address: N0\n        protocol: tcp\n        \
             destination-port: S0\n        action: accept\n",
        ));
        let rs = read(&text, "p.yaml", &opts).unwrap();
        assert_eq!(
            allowed(&rs, "198.51.100.10", "192.0.2.21", 6, 3389),
            Some(true)
        );
        assert_eq!(
            allowed(&rs, "198.51.100.10", "192.0.2.21", 6, 3390),
            Some(false)
        );
        assert_eq!(
            allowed(&rs, "198.51.100.10", "198.51.100.20", 6, 3389),
            Some(false)
        );
        let looped = text.replace("destination-address: N0", "destination-address: LOOP0");
        let e = read(&looped, "p.yaml", &opts).unwrap_err();
        assert!(
            e.message
                .contains("network LOOP0 names itself (through LOOP0 -> LOOP1)"),
            "{e}"
        );
    }
}
