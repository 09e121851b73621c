//! What the names of a configuration stand for: `name`s → addresses, network objects and
//! groups → [`Addrs`], service objects and groups → [`Svc`]s, typed port groups and protocol
//! groups → sets; and the operands of an access-list entry through them.
//!
//! The ASA defines a name before it is used, so [`Objects`] holds the names defined so far
//! and is filled as the configuration is read. What a name stands for also decides how the
//! rest of an entry reads (ports follow a TCP or UDP protocol group, not an ICMP one), which
//! is why the parser asks it word by word.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::lex::{At, HINT_ACE, HINT_CONFIG, Words};
use super::names::{port_number, ported, protocol};
use crate::ReadError;
use crate::model::Note;
use crate::space::{self, DPORT, SPORT, SRC, Set, TCP, UDP, V4};

/// Addresses of an object or an access-list operand: the exact part, and why more may match.
#[derive(Debug, Clone, Default)]
pub(super) struct Addrs {
    /// The addresses it surely matches.
    pub(super) set: Set,
    /// The addresses it may match (a superset of `set`).
    pub(super) wide: Set,
    /// Why `wide` is wider (empty: exact).
    pub(super) unknown: Vec<String>,
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
pub(super) struct Svc {
    /// The protocols.
    pub(super) proto: Set,
    /// The source ports.
    pub(super) sport: Set,
    /// The destination ports.
    pub(super) dport: Set,
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

/// The kinds of object and group whose lines [`Objects::define`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ObjectKind {
    /// `object network`.
    Network,
    /// `object service`.
    Service,
    /// `object-group network`.
    NetworkGroup,
    /// `object-group service NAME` (of service objects).
    ServiceGroup,
    /// `object-group service NAME tcp|udp|tcp-udp` (of ports).
    PortGroup,
    /// `object-group protocol`.
    ProtocolGroup,
}

/// The names defined so far, resolved.
#[derive(Debug, Default)]
pub(super) struct Objects {
    /// `name ADDRESS NAME`.
    names: HashMap<String, IpAddr>,
    /// Network objects and groups.
    nets: HashMap<String, Addrs>,
    /// Service objects and groups.
    svcs: HashMap<String, Vec<Svc>>,
    /// Typed port groups: (protocols, ports).
    ports: HashMap<String, (Set, Set)>,
    /// Protocol groups.
    protos: HashMap<String, Set>,
}

/// A line of the object or group `oname`.
struct ObjectLine<'o, 'l, 't> {
    oname: &'o str,
    w: Words<'l, 't>,
    at: At<'o>,
}

impl ObjectLine<'_, '_, '_> {
    /// Its first word.
    fn first(&self) -> &str {
        self.w.get(0).unwrap_or("")
    }

    /// An error at word `i`.
    fn bad(&self, i: usize, what: &str) -> ReadError {
        self.at.err(
            self.w.col(i),
            format!("{what} in {}", self.oname),
            HINT_CONFIG,
        )
    }
}

/// A dotted netmask as a prefix length.
pub(super) fn mask_len(m: &str) -> Option<u8> {
    let v: u32 = u32::from(m.parse::<std::net::Ipv4Addr>().ok()?);
    let len = v.leading_ones();
    (v.checked_shl(len).unwrap_or(0) == 0).then_some(len as u8)
}

impl Objects {
    /// `name ADDRESS NAME`.
    pub(super) fn name(&mut self, name: &str, ip: IpAddr) {
        self.names.insert(name.to_owned(), ip);
    }

    /// An object or group begins (a new definition of a name replaces the old one).
    pub(super) fn open(&mut self, kind: ObjectKind, name: &str) {
        match kind {
            ObjectKind::Network | ObjectKind::NetworkGroup => {
                self.nets.insert(name.to_owned(), Addrs::default());
            }
            ObjectKind::Service | ObjectKind::ServiceGroup => {
                self.svcs.insert(name.to_owned(), Vec::new());
            }
            ObjectKind::ProtocolGroup => {
                self.protos.insert(name.to_owned(), Set::empty());
            }
            ObjectKind::PortGroup => {}
        }
    }

    /// A port group of the protocols `protos` (TCP, UDP or both) begins.
    pub(super) fn open_port_group(&mut self, name: &str, protos: Set) {
        self.ports.insert(name.to_owned(), (protos, Set::empty()));
    }

    /// An address word: an IP address or a `name`.
    fn ip(&self, w: &str) -> Option<IpAddr> {
        w.parse().ok().or_else(|| self.names.get(w).copied())
    }

    /// A line of the object or group `oname` (not its `description`).
    pub(super) fn define(
        &mut self,
        kind: ObjectKind,
        oname: &str,
        w: Words<'_, '_>,
        at: At<'_>,
        notes: &mut Vec<Note>,
    ) -> Result<(), ReadError> {
        let l = ObjectLine { oname, w, at };
        let understood = match kind {
            ObjectKind::Network => self.network_line(false, &l)?,
            ObjectKind::NetworkGroup => self.network_line(true, &l)?,
            ObjectKind::Service => self.service_line(false, &l)?,
            ObjectKind::ServiceGroup => self.service_line(true, &l)?,
            ObjectKind::PortGroup => self.port_line(&l)?,
            ObjectKind::ProtocolGroup => self.protocol_line(&l)?,
        };
        if !understood {
            notes.push(at.note(format!(
                "`{}` in {oname} is not understood; skipped",
                l.first()
            )));
        }
        Ok(())
    }

    /// A line of a network object or group; whether it is understood.
    fn network_line(&mut self, group: bool, l: &ObjectLine<'_, '_, '_>) -> Result<bool, ReadError> {
        let (w, oname) = (l.w, l.oname);
        let a = match (group, l.first()) {
            (false, how @ ("host" | "subnet" | "range" | "fqdn")) => {
                self.net_value(how, w.from(1), l.at, oname)?
            }
            (false, "nat") => return Ok(true),
            (true, "network-object") => match w.get(1) {
                Some("host") => self.net_value("host", w.from(2), l.at, oname)?,
                Some("object") => match w.get(2).and_then(|o| self.nets.get(o)) {
                    Some(a) => a.clone(),
                    None => {
                        return Err(l.bad(
                            2,
                            "network-object object names no network object defined before it",
                        ));
                    }
                },
                Some(_) => self.net_value("subnet", w.from(1), l.at, oname)?,
                None => return Err(l.bad(1, "network-object without an address")),
            },
            (true, "group-object") => match w.get(1).and_then(|o| self.nets.get(o)) {
                Some(a) => a.clone(),
                None => {
                    return Err(l.bad(1, "group-object names no network group defined before it"));
                }
            },
            _ => return Ok(false),
        };
        if let Some(e) = self.nets.get_mut(oname) {
            e.add(&a);
        }
        Ok(true)
    }

    /// A line of a service object or group; whether it is understood.
    fn service_line(&mut self, group: bool, l: &ObjectLine<'_, '_, '_>) -> Result<bool, ReadError> {
        let w = l.w;
        let svcs = match (group, l.first()) {
            (true, "service-object") if w.get(1) == Some("object") => {
                match w.get(2).and_then(|o| self.svcs.get(o)) {
                    Some(s) => s.clone(),
                    None => {
                        return Err(l.bad(
                            2,
                            "service-object object names no service object defined before it",
                        ));
                    }
                }
            }
            (false, "service") | (true, "service-object") => {
                vec![self.service(w.from(1), l.at, l.oname)?]
            }
            (true, "group-object") => match w.get(1).and_then(|o| self.svcs.get(o)) {
                Some(s) => s.clone(),
                None => match w.get(1).and_then(|o| self.ports.get(o)) {
                    Some((p, d)) => vec![Svc {
                        proto: p.clone(),
                        sport: Set::full(SPORT),
                        dport: d.clone(),
                    }],
                    None => {
                        return Err(
                            l.bad(1, "group-object names no service group defined before it")
                        );
                    }
                },
            },
            _ => return Ok(false),
        };
        if let Some(e) = self.svcs.get_mut(l.oname) {
            e.extend(svcs);
        }
        Ok(true)
    }

    /// A line of a typed port group; whether it is understood.
    fn port_line(&mut self, l: &ObjectLine<'_, '_, '_>) -> Result<bool, ReadError> {
        let w = l.w;
        let set = match l.first() {
            "port-object" => {
                let udp = self
                    .ports
                    .get(l.oname)
                    .is_some_and(|(p, _)| p.contains(UDP) && !p.contains(TCP));
                match port_op(w.from(1), udp) {
                    Some((s, _)) => s,
                    None => {
                        return Err(
                            l.bad(1, "port-object needs eq, neq, lt, gt or range with ports")
                        );
                    }
                }
            }
            "group-object" => match w.get(1).and_then(|o| self.ports.get(o)) {
                Some((_, d)) => d.clone(),
                None => {
                    return Err(l.bad(1, "group-object names no port group defined before it"));
                }
            },
            _ => return Ok(false),
        };
        if let Some(e) = self.ports.get_mut(l.oname) {
            e.1 = e.1.union(&set);
        }
        Ok(true)
    }

    /// A line of a protocol group; whether it is understood.
    fn protocol_line(&mut self, l: &ObjectLine<'_, '_, '_>) -> Result<bool, ReadError> {
        let set = match (l.first(), l.w.get(1)) {
            ("protocol-object", Some(p)) => match protocol(p) {
                Some(s) => s,
                None => return Err(l.bad(1, "protocol-object names no protocol")),
            },
            ("group-object", Some(g)) => match self.protos.get(g) {
                Some(s) => s.clone(),
                None => {
                    return Err(l.bad(1, "group-object names no protocol group defined before it"));
                }
            },
            _ => return Ok(false),
        };
        if let Some(e) = self.protos.get_mut(l.oname) {
            *e = e.union(&set);
        }
        Ok(true)
    }

    /// `host IP`, `subnet IP MASK` / `subnet PREFIX/LEN`, `range A B`, `fqdn [v4|v6] NAME`.
    fn net_value(
        &self,
        how: &str,
        w: Words<'_, '_>,
        at: At<'_>,
        oname: &str,
    ) -> Result<Addrs, ReadError> {
        let fail =
            |i: usize, what: &str| at.err(w.col(i), format!("{what} in {oname}"), HINT_CONFIG);
        Ok(match how {
            "host" => match w.get(0).and_then(|a| self.ip(a)) {
                Some(a) => Addrs::exact(Set::one(space::addr_value(a))),
                None => return Err(fail(0, "host without an IP address")),
            },
            "subnet" => {
                let net = match (w.get(0), w.get(1)) {
                    (Some(p), _) if p.contains('/') => p.parse::<IpNet>().ok(),
                    (Some(a), Some(m)) => match (self.ip(a), mask_len(m)) {
                        (Some(a), Some(l)) => IpNet::new(a, l).ok(),
                        _ => None,
                    },
                    _ => None,
                };
                match net {
                    Some(n) => Addrs::exact(Set::net(n.trunc())),
                    None => {
                        return Err(fail(0, "not an address with a netmask (or an IPv6 prefix)"));
                    }
                }
            }
            "range" => match (
                w.get(0).and_then(|a| self.ip(a)),
                w.get(1).and_then(|a| self.ip(a)),
            ) {
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
                let host = w.last().unwrap_or("");
                Addrs {
                    set: Set::empty(),
                    wide: Set::full(SRC),
                    unknown: vec![format!("FQDN object {oname} ({host}) resolves at run time")],
                }
            }
        })
    }

    /// `service PROTO [source OP ...] [destination OP ...]` (an object service or
    /// service-object), from the word after `service`.
    fn service(&self, w: Words<'_, '_>, at: At<'_>, oname: &str) -> Result<Svc, ReadError> {
        let Some(proto) = w.get(0).and_then(protocol) else {
            return Err(at.err(
                w.col(0),
                format!("service in {oname} names no protocol"),
                HINT_CONFIG,
            ));
        };
        let udp = proto.contains(UDP) && !proto.contains(TCP);
        let mut svc = Svc::proto(proto);
        let mut i = 1;
        while let Some(word) = w.get(i) {
            let dim = match word {
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
            match port_op(w.from(i + 1), udp) {
                Some((s, n)) => {
                    if dim == SPORT {
                        svc.sport = s
                    } else {
                        svc.dport = s
                    }
                    i += 1 + n;
                }
                None => {
                    return Err(at.err(
                        w.col(i + 1),
                        format!("ports in {oname}: expected eq, neq, lt, gt or range"),
                        HINT_CONFIG,
                    ));
                }
            }
        }
        Ok(svc)
    }

    /// The protocol of an access-list entry at word `i`: a keyword, a protocol group, a
    /// service object or group; and whether ports may follow its addresses.
    pub(super) fn services(
        &self,
        w: Words<'_, '_>,
        i: &mut usize,
        at: At<'_>,
    ) -> Result<(Vec<Svc>, bool), ReadError> {
        Ok(match (w.get(*i), w.get(*i + 1)) {
            (Some("object"), Some(o)) => match self.svcs.get(o) {
                Some(s) => {
                    *i += 2;
                    (s.clone(), false)
                }
                None => {
                    return Err(at.err(
                        w.col(*i + 1),
                        format!("no service object {o} is defined"),
                        HINT_ACE,
                    ));
                }
            },
            (Some("object-group"), Some(g)) => {
                *i += 2;
                if let Some(p) = self.protos.get(g) {
                    (vec![Svc::proto(p.clone())], ported(p))
                } else if let Some(s) = self.svcs.get(g) {
                    (s.clone(), false)
                } else {
                    return Err(at.err(
                        w.col(*i - 1),
                        format!("no protocol or service group {g} is defined"),
                        HINT_ACE,
                    ));
                }
            }
            (Some(p), _) => match protocol(p) {
                Some(s) => {
                    *i += 1;
                    let pt = ported(&s);
                    (vec![Svc::proto(s)], pt)
                }
                None => {
                    return Err(at.err(w.col(*i), format!("`{p}` is not a protocol"), HINT_ACE));
                }
            },
            (None, _) => {
                return Err(at.err(
                    w.col(*i),
                    "the entry ends before its protocol".into(),
                    HINT_ACE,
                ));
            }
        })
    }

    /// The source or destination of an access-list entry at word `i`: identity and TrustSec
    /// matches (they narrow the address that follows them), then the address.
    pub(super) fn operand(
        &self,
        w: Words<'_, '_>,
        i: &mut usize,
        at: At<'_>,
        notes: &mut Vec<Note>,
    ) -> Result<Addrs, ReadError> {
        let mut identity = Vec::new();
        while let Some(
            k @ ("user"
            | "user-group"
            | "object-group-user"
            | "security-group"
            | "object-group-security"),
        ) = w.get(*i)
        {
            let what = format!("{k} {}", w.get(*i + 1).unwrap_or(""));
            notes.push(at.note(format!(
                "{what}: identity and TrustSec matches are not evaluated; the entry is \"possible\""
            )));
            identity.push(what);
            *i += 2;
        }
        let mut a = self.address(w, i, at)?;
        if !identity.is_empty() {
            a.set = Set::empty();
            a.unknown.extend(identity);
        }
        Ok(a)
    }

    /// An address at word `i`: `any`, `any4`, `any6`, `host A`, `object O`, `object-group
    /// G`, `interface IF`, `PREFIX/LEN` or `A MASK`.
    fn address(&self, w: Words<'_, '_>, i: &mut usize, at: At<'_>) -> Result<Addrs, ReadError> {
        let here = *i;
        let Some(k) = w.get(here) else {
            return Err(at.err(
                w.col(here),
                "the entry ends before its addresses".into(),
                HINT_ACE,
            ));
        };
        *i += 1;
        let next = w.get(here + 1);
        Ok(match k {
            "any" => Addrs::exact(Set::full(SRC)),
            "any4" => Addrs::exact(Set::range(V4.0, V4.1)),
            "any6" => Addrs::exact(Set::range(V4.0, V4.1).complement(SRC)),
            "host" => {
                *i += 1;
                match next.and_then(|a| self.ip(a)) {
                    Some(a) => Addrs::exact(Set::one(space::addr_value(a))),
                    None => {
                        return Err(at.err(
                            w.col(here + 1),
                            "host without an IP address or name".into(),
                            HINT_ACE,
                        ));
                    }
                }
            }
            "object" | "object-group" => {
                *i += 1;
                match next.and_then(|o| self.nets.get(o)) {
                    Some(a) => a.clone(),
                    None => {
                        return Err(at.err(
                            w.col(here + 1),
                            format!("no network {k} {} is defined", next.unwrap_or("")),
                            HINT_ACE,
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
                        next.unwrap_or("?")
                    )],
                }
            }
            p if p.contains('/') => match p.parse::<IpNet>() {
                Ok(n) => Addrs::exact(Set::net(n.trunc())),
                Err(_) => {
                    return Err(at.err(
                        w.col(here),
                        format!("`{p}` is not an IPv6 prefix"),
                        HINT_ACE,
                    ));
                }
            },
            a => match (self.ip(a), next.and_then(mask_len)) {
                (Some(ip @ IpAddr::V4(_)), Some(l)) => {
                    *i += 1;
                    Addrs::exact(Set::net(
                        IpNet::new(ip, l)
                            .map_err(|_| at.err(w.col(here), "bad network".into(), HINT_ACE))?
                            .trunc(),
                    ))
                }
                (Some(_), None) => {
                    return Err(at.err(
                        w.col(here + 1),
                        format!("`{}` is not a netmask", next.unwrap_or("")),
                        HINT_ACE,
                    ));
                }
                _ => {
                    return Err(at.err(
                        w.col(here),
                        format!("`{a}` is not an address, object or keyword"),
                        HINT_ACE,
                    ));
                }
            },
        })
    }

    /// The ports after an address at word `i`, when the protocol may have ports (`may_port`):
    /// an operator with ports, or a port group; `udp`: port names are UDP's.
    pub(super) fn ports(
        &self,
        w: Words<'_, '_>,
        i: &mut usize,
        may_port: bool,
        udp: bool,
        at: At<'_>,
    ) -> Result<Option<Set>, ReadError> {
        if !may_port {
            return Ok(None);
        }
        match w.get(*i) {
            Some("eq" | "neq" | "lt" | "gt" | "range") => match port_op(w.from(*i), udp) {
                Some((s, n)) => {
                    *i += n;
                    Ok(Some(s))
                }
                None => Err(at.err(
                    w.col(*i + 1),
                    "not a port number or a port name the ASA knows".into(),
                    HINT_ACE,
                )),
            },
            Some("object-group") => match w.get(*i + 1).and_then(|g| self.ports.get(g)) {
                Some((_, s)) => {
                    *i += 2;
                    Ok(Some(s.clone()))
                }
                None => Ok(None),
            },
            _ => Ok(None),
        }
    }
}

/// `eq P`, `neq P`, `lt P`, `gt P`, `range A B`: the ports and how many words it took.
fn port_op(w: Words<'_, '_>, udp: bool) -> Option<(Set, usize)> {
    let p = |i: usize| w.get(i).and_then(|x| port_number(x, udp));
    Some(match w.get(0)? {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::cisco_asa::lex::words;

    fn at() -> At<'static> {
        At { name: "fw", ln: 3 }
    }

    #[test]
    fn port_operators() {
        let op = |s: &str, udp| port_op(Words::new(&words(s), 1), udp);
        assert_eq!(op("eq www", false), Some((Set::one(80), 2)));
        assert_eq!(op("lt 0", false), Some((Set::empty(), 2)));
        assert_eq!(op("gt 65535", false), Some((Set::empty(), 2)));
        assert_eq!(op("range 10 9", false), None);
        assert_eq!(
            op("range radius 1646", true),
            Some((Set::range(1645, 1646), 3))
        );
        assert_eq!(op("eq radius", false), None);
        assert_eq!(op("eq", false), None);
        assert_eq!(op("is 80", false), None);
    }

    #[test]
    fn groups_resolve_through_what_was_defined_before() {
        let mut o = Objects::default();
        let mut notes = Vec::new();
        let mut line = |o: &mut Objects, kind, name: &str, text: &str| {
            o.define(kind, name, Words::new(&words(text), 1), at(), &mut notes)
        };
        o.open(ObjectKind::Network, "web");
        line(
            &mut o,
            ObjectKind::Network,
            "web",
            " subnet 192.0.2.0 255.255.255.0",
        )
        .unwrap();
        o.open(ObjectKind::NetworkGroup, "all");
        line(
            &mut o,
            ObjectKind::NetworkGroup,
            "all",
            " network-object object web",
        )
        .unwrap();
        line(
            &mut o,
            ObjectKind::NetworkGroup,
            "all",
            " network-object host 198.51.100.1",
        )
        .unwrap();
        let all = &o.nets["all"];
        assert!(all.unknown.is_empty());
        assert_eq!(
            all.set,
            Set::net("192.0.2.0/24".parse().unwrap()).union(&Set::one(space::addr_value(
                "198.51.100.1".parse().unwrap()
            )))
        );
        let e = line(
            &mut o,
            ObjectKind::NetworkGroup,
            "all",
            " group-object later",
        )
        .unwrap_err();
        assert_eq!(e.location, "fw:3:15");
        assert_eq!(
            e.message,
            "group-object names no network group defined before it in all"
        );
    }

    #[test]
    fn operands_of_an_entry() {
        let mut o = Objects::default();
        o.name("web", "192.0.2.80".parse().unwrap());
        let ws =
            words("access-list a extended permit tcp host web 192.0.2.0 255.255.255.0 eq https");
        let w = Words::new(&ws, 80);
        let mut notes = Vec::new();
        let mut i = 4;
        let (svcs, may_port) = o.services(w, &mut i, at()).unwrap();
        assert_eq!((svcs.len(), may_port, i), (1, true, 5));
        let src = o.operand(w, &mut i, at(), &mut notes).unwrap();
        assert_eq!(
            src.set,
            Set::one(space::addr_value("192.0.2.80".parse().unwrap()))
        );
        assert_eq!(o.ports(w, &mut i, may_port, false, at()).unwrap(), None);
        let dst = o.operand(w, &mut i, at(), &mut notes).unwrap();
        assert_eq!(dst.set, Set::net("192.0.2.0/24".parse().unwrap()));
        let dport = o.ports(w, &mut i, may_port, false, at()).unwrap();
        assert_eq!((dport, i), (Some(Set::one(443)), ws.len()));
        assert!(notes.is_empty());
    }
}
