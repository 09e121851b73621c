//! The configuration, typed ([`AsaConfig`]), built line by line from `show running-config`
//! (and `show access-list` for the hit counts).
//!
//! Names, objects and groups resolve as they are defined ([`Objects`]); an access-list entry
//! reads its operands through them.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

use super::lex::{self, At, HINT_ACE, HINT_CONFIG, Line, Words};
use super::names::{ported, protocol};
use super::resolve::{Addrs, ObjectKind, Objects, Svc, mask_len};
use crate::ReadError;
use crate::model::Note;
use crate::space::{Set, TCP, UDP};

/// An `interface` block.
pub(super) struct Interface {
    /// `nameif`.
    pub(super) nameif: Option<String>,
    /// `security-level`.
    pub(super) level: Option<u8>,
    /// `ip address` and `ipv6 address`.
    pub(super) nets: Vec<IpNet>,
}

/// One access-list entry, its operands resolved.
pub(super) struct Ace {
    /// Its number in its access list (remarks count), which `show access-list` names.
    pub(super) line: usize,
    /// `FILE:LINE`.
    pub(super) loc: String,
    /// The entry as written.
    pub(super) text: String,
    /// `permit` (else `deny`).
    pub(super) allow: bool,
    /// `inactive`.
    pub(super) inactive: bool,
    /// The protocols and ports of its protocol operand.
    pub(super) services: Vec<Svc>,
    /// The source.
    pub(super) src: Addrs,
    /// The source ports, when given.
    pub(super) sport: Option<Set>,
    /// The destination.
    pub(super) dst: Addrs,
    /// The destination ports, when given.
    pub(super) dport: Option<Set>,
    /// Why the entry may match more than its operands say (`time-range`, words not
    /// understood).
    pub(super) unknown: Vec<String>,
}

/// `access-group ACL in|out interface IF`.
pub(super) struct AccessGroup {
    /// The access list.
    pub(super) acl: String,
    /// The interface (`nameif`).
    pub(super) nameif: String,
    /// `FILE:LINE`.
    pub(super) at: String,
}

/// The access lists bound to interfaces and globally.
#[derive(Default)]
pub(super) struct AccessGroups {
    /// `in interface IF`.
    pub(super) inbound: Vec<AccessGroup>,
    /// `out interface IF`.
    pub(super) outbound: Vec<AccessGroup>,
    /// `global`: (access list, `FILE:LINE`).
    pub(super) global: Option<(String, String)>,
}

/// What the reader takes from a configuration.
#[derive(Default)]
pub(super) struct AsaConfig {
    /// Names, objects and groups.
    pub(super) objects: Objects,
    /// The interfaces, in order.
    pub(super) interfaces: Vec<Interface>,
    /// `route IF NETWORK MASK ...` and `ipv6 route IF PREFIX ...`: (interface, network).
    pub(super) routes: Vec<(String, IpNet)>,
    /// `same-security-traffic permit inter-interface`.
    pub(super) same_security: bool,
    /// The extended access lists, in the order they first appear.
    pub(super) acls: Vec<(String, Vec<Ace>)>,
    /// `access-group`.
    pub(super) access_groups: AccessGroups,
    /// `show access-list`: (access list, entry number) → hit count.
    pub(super) hit_counts: HashMap<(String, usize), u64>,
    /// Top-level lines that do not filter traffic.
    pub(super) other_lines: usize,
    /// What the reader has to say about the lines.
    pub(super) notes: Vec<Note>,
}

/// The block the last unindented line opened.
enum Block {
    Interface,
    Object(ObjectKind, String),
    /// A block whose lines are not read.
    Other,
}

struct Parser<'a> {
    name: &'a str,
    config: AsaConfig,
    block: Block,
    /// The number of the last entry of each access list.
    acl_lines: HashMap<String, usize>,
}

/// Reads the configuration, line by line; the first error in the file stops it.
pub(super) fn parse(text: &str, name: &str) -> Result<AsaConfig, ReadError> {
    let mut p = Parser {
        name,
        config: AsaConfig::default(),
        block: Block::Other,
        acl_lines: HashMap::new(),
    };
    for line in lex::lines(text) {
        if line.indented {
            p.block_line(&line)?;
        } else {
            p.block = Block::Other;
            p.command(&line)?;
        }
    }
    let mut c = p.config;
    let groups = &c.access_groups;
    if c.acls.is_empty() && groups.inbound.is_empty() && groups.global.is_none() {
        return Err(ReadError {
            location: format!("{name}:1:1"),
            message: "no access-list or access-group in this file".into(),
            hint: HINT_CONFIG.into(),
        });
    }
    if c.other_lines > 0 {
        c.notes.push(Note {
            location: name.to_owned(),
            message: format!("{} other configuration lines (hostname, crypto, logging ...) do not filter traffic and are not read", c.other_lines),
        });
    }
    Ok(c)
}

impl Parser<'_> {
    /// An unindented line.
    fn command(&mut self, line: &Line<'_>) -> Result<(), ReadError> {
        let at = At {
            name: self.name,
            ln: line.ln,
        };
        let w = Words::new(&line.words, line.text.len() + 1);
        let first = w.get(0).unwrap_or("");
        match first {
            "names" => {}
            "name" => {
                let (Some(a), Some(nm)) = (w.get(1), w.get(2)) else {
                    return Err(at.err(
                        w.col(1),
                        "name without an address and a name".into(),
                        HINT_CONFIG,
                    ));
                };
                let Ok(ip) = a.parse::<IpAddr>() else {
                    return Err(at.err(
                        w.col(1),
                        format!("`{a}` is not an IP address"),
                        HINT_CONFIG,
                    ));
                };
                self.config.objects.name(nm, ip);
            }
            "interface" => {
                self.config.interfaces.push(Interface {
                    nameif: None,
                    level: None,
                    nets: Vec::new(),
                });
                self.block = Block::Interface;
            }
            "object" | "object-group" => self.block = self.object(first, w, at)?,
            "route" | "ipv6" if first == "route" || w.get(1) == Some("route") => {
                self.route(first == "ipv6", w, at)?;
            }
            "same-security-traffic" => {
                if w.get(1) == Some("permit") && w.get(2) == Some("inter-interface") {
                    self.config.same_security = true;
                }
            }
            "access-group" => self.access_group(w, at)?,
            "access-list" => self.access_list(line, w, at)?,
            // Commands of a configuration script (what `rules` writes): no state.
            "no" | "clear" => {}
            _ => self.config.other_lines += 1,
        }
        Ok(())
    }

    /// `object TYPE NAME` or `object-group TYPE NAME [PROTOCOL]`: the block it opens.
    fn object(&mut self, first: &str, w: Words<'_, '_>, at: At<'_>) -> Result<Block, ReadError> {
        let (Some(kind), Some(oname)) = (w.get(1), w.get(2)) else {
            return Err(at.err(
                w.col(1),
                format!("{first} without a type and a name"),
                HINT_CONFIG,
            ));
        };
        let objects = &mut self.config.objects;
        let k = match (first, kind) {
            ("object", "network") => ObjectKind::Network,
            ("object", "service") => ObjectKind::Service,
            ("object-group", "network") => ObjectKind::NetworkGroup,
            ("object-group", "service") => match w.get(3) {
                Some(t) => match protocol(t) {
                    Some(p) if ported(&p) => {
                        objects.open_port_group(oname, p);
                        ObjectKind::PortGroup
                    }
                    _ => {
                        return Err(at.err(
                            w.col(3),
                            format!("service group type `{t}` is not tcp, udp or tcp-udp"),
                            HINT_CONFIG,
                        ));
                    }
                },
                None => ObjectKind::ServiceGroup,
            },
            ("object-group", "protocol") => ObjectKind::ProtocolGroup,
            // ICMP types: the ICMP flows are not in the plan.
            ("object-group", "icmp-type") => return Ok(Block::Other),
            _ => {
                self.config.notes.push(at.note(format!(
                    "`{first} {kind}` is not read (it does not hold addresses or ports)"
                )));
                return Ok(Block::Other);
            }
        };
        objects.open(k, oname);
        Ok(Block::Object(k, oname.to_owned()))
    }

    /// `route IF NETWORK MASK ...` or `ipv6 route IF PREFIX ...`.
    fn route(&mut self, v6: bool, w: Words<'_, '_>, at: At<'_>) -> Result<(), ReadError> {
        let o = usize::from(v6);
        let Some(ifname) = w.get(1 + o) else {
            return Err(at.err(w.col(1), "route without an interface".into(), HINT_CONFIG));
        };
        let net = if o == 0 {
            match (
                w.get(2).and_then(|a| a.parse::<std::net::Ipv4Addr>().ok()),
                w.get(3).and_then(mask_len),
            ) {
                (Some(a), Some(l)) => IpNet::new(IpAddr::V4(a), l).ok(),
                _ => None,
            }
        } else {
            w.get(3).and_then(|p| p.parse::<IpNet>().ok())
        };
        match net {
            Some(net) => {
                self.config.routes.push((ifname.to_owned(), net.trunc()));
                Ok(())
            }
            None => Err(at.err(
                w.col(2 + o),
                "route without a network and mask".into(),
                HINT_CONFIG,
            )),
        }
    }

    /// `access-group ACL in|out interface IF` or `access-group ACL global`.
    fn access_group(&mut self, w: Words<'_, '_>, at: At<'_>) -> Result<(), ReadError> {
        let (Some(acl), Some(dir)) = (w.get(1), w.get(2)) else {
            return Err(at.err(
                w.col(1),
                "access-group without an access list and a direction".into(),
                HINT_CONFIG,
            ));
        };
        let groups = &mut self.config.access_groups;
        let bound = |i: &str| AccessGroup {
            acl: acl.to_owned(),
            nameif: i.to_owned(),
            at: at.location(),
        };
        match (dir, w.get(3), w.get(4)) {
            ("global", _, _) => groups.global = Some((acl.to_owned(), at.location())),
            ("in", Some("interface"), Some(i)) => {
                if w.get(5) == Some("control-plane") {
                    self.config.notes.push(at.note(format!("access-group {acl} control-plane filters traffic to the ASA itself; not evaluated")));
                } else {
                    groups.inbound.push(bound(i));
                }
            }
            ("out", Some("interface"), Some(i)) => groups.outbound.push(bound(i)),
            _ => return Err(at.err(w.col(2), format!("access-group {acl} {dir}: expected `in interface IF`, `out interface IF` or `global`"), HINT_CONFIG)),
        }
        Ok(())
    }

    /// `access-list NAME extended ...`, and the lines of `show access-list`.
    fn access_list(
        &mut self,
        line: &Line<'_>,
        w: Words<'_, '_>,
        at: At<'_>,
    ) -> Result<(), ReadError> {
        let Some(acl) = w.get(1) else {
            return Err(at.err(w.col(1), "access-list without a name".into(), HINT_CONFIG));
        };
        // `show access-list` lines: `access-list NAME line N extended ... (hitcnt=H) 0x..`.
        if w.get(2) == Some("line") && line.text.contains("(hitcnt=") {
            if let (Some(no), Some(h)) = (
                w.get(3).and_then(|x| x.parse::<usize>().ok()),
                line.text
                    .split("(hitcnt=")
                    .nth(1)
                    .and_then(|s| s.split(')').next())
                    .and_then(|s| s.parse::<u64>().ok()),
            ) {
                self.config
                    .hit_counts
                    .entry((acl.to_owned(), no))
                    .or_insert(h);
            }
            return Ok(());
        }
        if w.get(2) == Some("line")
            || acl.ends_with(';')
            || matches!(acl, "cached" | "alert-interval" | "deny-flow-max")
        {
            // Other `show access-list` lines (headers, remarks with line numbers) and
            // global access-list settings.
            return Ok(());
        }
        let no = self.acl_lines.entry(acl.to_owned()).or_insert(0);
        *no += 1;
        let no = *no;
        match w.get(2) {
            Some("remark") => return Ok(()),
            Some("extended") | Some("permit") | Some("deny") => {}
            Some(t) => {
                self.config.notes.push(at.note(format!(
                    "access-list {acl} {t}: only extended access lists are evaluated"
                )));
                return Ok(());
            }
            None => {
                return Err(at.err(
                    w.col(2),
                    format!("access-list {acl} without an entry"),
                    HINT_CONFIG,
                ));
            }
        }
        let from = if w.get(2) == Some("extended") { 3 } else { 2 };
        let ace = self.ace(w, from, at, line.text, no)?;
        match self.config.acls.iter_mut().find(|(n, _)| n == acl) {
            Some((_, v)) => v.push(ace),
            None => self.config.acls.push((acl.to_owned(), vec![ace])),
        }
        Ok(())
    }

    /// One access-list entry from the word after `extended` (word `from` is permit or deny).
    fn ace(
        &mut self,
        w: Words<'_, '_>,
        from: usize,
        at: At<'_>,
        text: &str,
        no: usize,
    ) -> Result<Ace, ReadError> {
        let allow = match w.get(from) {
            Some("permit") => true,
            Some("deny") => false,
            other => {
                return Err(at.err(
                    w.col(from),
                    format!("expected permit or deny, found `{}`", other.unwrap_or("")),
                    HINT_ACE,
                ));
            }
        };
        let objects = &self.config.objects;
        let notes = &mut self.config.notes;
        let mut i = from + 1;
        let (services, may_port) = objects.services(w, &mut i, at)?;
        let udp = services
            .iter()
            .all(|s| s.proto.contains(UDP) && !s.proto.contains(TCP));
        let src = objects.operand(w, &mut i, at, notes)?;
        let sport = objects.ports(w, &mut i, may_port, udp, at)?;
        let dst = objects.operand(w, &mut i, at, notes)?;
        let dport = objects.ports(w, &mut i, may_port, udp, at)?;
        let (inactive, unknown) = options(w, i, at, notes);
        Ok(Ace {
            line: no,
            loc: at.location(),
            text: text.trim().to_owned(),
            allow,
            inactive,
            services,
            src,
            sport,
            dst,
            dport,
            unknown,
        })
    }

    /// A line of the open block (not its `description`).
    fn block_line(&mut self, line: &Line<'_>) -> Result<(), ReadError> {
        let at = At {
            name: self.name,
            ln: line.ln,
        };
        let w = Words::new(&line.words, 1);
        if w.get(0) == Some("description") {
            return Ok(());
        }
        match &self.block {
            Block::Interface => {
                if let Some(iface) = self.config.interfaces.last_mut() {
                    interface_line(iface, w);
                }
                Ok(())
            }
            Block::Object(kind, oname) => {
                self.config
                    .objects
                    .define(*kind, oname, w, at, &mut self.config.notes)
            }
            Block::Other => Ok(()),
        }
    }
}

/// A line of an `interface` block: `nameif`, `security-level`, `ip address`, `ipv6 address`.
fn interface_line(iface: &mut Interface, w: Words<'_, '_>) {
    match (w.get(0).unwrap_or(""), w.get(1)) {
        ("nameif", Some(n)) => iface.nameif = Some(n.to_owned()),
        ("security-level", Some(l)) => iface.level = l.parse().ok(),
        ("ip", Some("address")) => {
            if let (Some(a), Some(m)) = (
                w.get(2).and_then(|a| a.parse::<std::net::Ipv4Addr>().ok()),
                w.get(3).and_then(mask_len),
            ) && let Ok(n) = IpNet::new(IpAddr::V4(a), m)
            {
                iface.nets.push(n);
            }
        }
        ("ipv6", Some("address")) => {
            if let Some(n) = w.get(2).and_then(|p| p.parse::<IpNet>().ok()) {
                iface.nets.push(n);
            }
        }
        _ => {}
    }
}

/// The words of an entry from word `i` (after its destination): `log [LEVEL] [interval
/// N]`, `inactive`, `time-range NAME`. Returns whether the entry is inactive, and why it may
/// match more.
fn options(
    w: Words<'_, '_>,
    mut i: usize,
    at: At<'_>,
    notes: &mut Vec<Note>,
) -> (bool, Vec<String>) {
    let mut inactive = false;
    let mut unknown = Vec::new();
    while let Some(k) = w.get(i) {
        i += 1;
        match k {
            "log" => {
                while let Some(x) = w.get(i) {
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
                unknown.push(format!("time-range {}", w.get(i).unwrap_or("")));
                i += 1;
            }
            other => {
                notes.push(at.note(format!(
                    "`{other}` in the entry is not understood; the entry is \"possible\""
                )));
                unknown.push(format!("`{other}`"));
            }
        }
    }
    (inactive, unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_is_typed() {
        let text = "interface Gi0/0\n nameif inside\n security-level 100\n ip address 192.0.2.1 255.255.255.0\n\
                    route inside 198.51.100.0 255.255.255.0 192.0.2.254\n\
                    same-security-traffic permit inter-interface\n\
                    access-list a remark x\n\
                    access-list a extended permit tcp any any eq 80 log 6 interval 300 time-range t\n\
                    access-group a in interface inside\naccess-group a out interface inside\n\
                    access-group a global\nhostname fw\n\
                    access-list a line 2 extended permit tcp any any eq www (hitcnt=4) 0x1\n";
        let c = parse(text, "fw").unwrap();
        assert_eq!(c.interfaces.len(), 1);
        assert_eq!(c.interfaces[0].nameif.as_deref(), Some("inside"));
        assert_eq!(c.interfaces[0].level, Some(100));
        assert_eq!(
            c.interfaces[0].nets,
            vec!["192.0.2.1/24".parse::<IpNet>().unwrap()]
        );
        assert_eq!(
            c.routes,
            vec![("inside".to_owned(), "198.51.100.0/24".parse().unwrap())]
        );
        assert!(c.same_security);
        let (acl, aces) = &c.acls[0];
        assert_eq!((acl.as_str(), aces.len()), ("a", 1));
        assert_eq!((aces[0].line, aces[0].loc.as_str()), (2, "fw:8"));
        assert_eq!(aces[0].dport, Some(Set::one(80)));
        assert_eq!(aces[0].unknown, vec!["time-range t".to_owned()]);
        let g = &c.access_groups;
        assert_eq!(
            (g.inbound[0].nameif.as_str(), g.inbound[0].at.as_str()),
            ("inside", "fw:9")
        );
        assert_eq!(g.outbound.len(), 1);
        assert_eq!(g.global, Some(("a".to_owned(), "fw:11".to_owned())));
        assert_eq!(c.hit_counts.get(&("a".to_owned(), 2)), Some(&4));
        assert_eq!(c.other_lines, 1);
        assert_eq!(c.notes.len(), 1, "{:?}", c.notes);
    }

    #[test]
    fn the_first_error_in_the_file_stops_it() {
        let text = "object network a\n host 192.0.2.1\n\
                    access-list x extended permit tcp any object b eq 80\n\
                    object-group network g\n network-object object nosuch\n";
        let e = parse(text, "fw").err().unwrap();
        assert_eq!(e.location, "fw:3:46");
        assert_eq!(e.message, "no network object b is defined");
    }
}
