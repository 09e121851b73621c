//! Cisco ASA: network and service object-groups and one access list per zone interface.
//!
//! Each zone is an interface whose `nameif` is the zone name; its access list
//! (`<zone>_access_in`, applied `in interface <zone>`) permits the cross-zone flows that enter
//! the firewall there, that is the flows leaving that zone. Addresses and ports go into
//! object-groups, one per host list and per port list, reused across lines. Replies pass by
//! the ASA's stateful inspection; FTP data channels by `inspect ftp`, which the default global
//! policy enables. Re-applying the file first clears the access lists and object-groups it
//! defines, so the result is the same. Enforcing (the default) gives every zone interface a
//! list ending in `deny ip any any log`; `--merge` writes one global access list instead,
//! read after the interfaces' own lists.
//!
//! Names (zones, object-groups) are restricted to `[A-Za-z0-9_-]`, starting with a letter;
//! remarks and descriptions to `plain_char`. This module does not talk to an ASA.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ipnet::IpNet;
use rdsports_core::model::{PortRange, Protocol};

use super::naming::{Namer, ident_char, plain_char, restricted, trace};
use super::view::zone_view;
use super::{Capabilities, FtpSupport, Generator, RenderOptions, Rendered, Scope};
use crate::error::GenError;
use crate::policy::Policy;

/// The `cisco-asa` target.
pub struct CiscoAsa;

/// The access list of the merge form.
const GLOBAL_ACL: &str = "rdsports_global";
/// Longest interface name (`nameif`).
const NAMEIF_MAX: usize = 48;
/// Longest object-group name.
const GROUP_MAX: usize = 64;
/// Longest access-list remark.
const REMARK_MAX: usize = 100;
/// Longest object-group description.
const DESCRIPTION_MAX: usize = 200;

impl Generator for CiscoAsa {
    fn name(&self) -> &'static str {
        "cisco-asa"
    }

    fn description(&self) -> &'static str {
        "Cisco ASA: object-groups and an access list per zone interface"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            scope: Scope::Zone,
            host: false,
            boundary: true,
            outbound: false,
            default_drop: true,
            keep: true,
            merge: true,
            host_variant: false,
            ftp: FtpSupport::Helper,
        }
    }

    fn render(&self, policy: &Policy, opts: &RenderOptions) -> Result<Rendered, GenError> {
        let mut out = Rendered::default();
        let (view, boundary) = zone_view(policy, opts)?;
        let p = &view.policy;
        let mut ifaces = Namer::new(self.name(), "zone name (nameif)", ident_char, NAMEIF_MAX);
        let mut groups = Groups::new();
        // Access-list lines per source zone.
        let mut acls: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        for (i, r) in p.rules.iter().enumerate() {
            let n = i + 1;
            let src = groups.network(p, &r.from_hosts, &r.sources);
            let dst = groups.network(p, &r.to_hosts, &r.destinations);
            let svc = groups.service(r.protocol, &r.ports);
            let acl = if opts.merge {
                GLOBAL_ACL.to_owned()
            } else {
                format!("{}_access_in", ifaces.name(p.zone_name(r.from_zone)))
            };
            let mut remark = format!("r{n} {}", trace(p, r));
            remark = restricted(&remark, plain_char, REMARK_MAX);
            let lines = acls
                .entry(if opts.merge { 0 } else { r.from_zone })
                .or_default();
            lines.push(format!("access-list {acl} remark {remark}"));
            lines.push(format!(
                "access-list {acl} extended permit {} object-group {src} object-group {dst} \
                 object-group {svc}",
                proto(r.protocol)
            ));
            if r.helper.is_some() {
                out.warnings.push(format!(
                    "cisco-asa: r{n} ({}) carries FTP; its data channel relies on `inspect ftp` \
                     (on in the default global_policy)",
                    p.ids(r).join(" ")
                ));
            }
        }
        // Enforcing: every zone interface of the view gets an access list (a deny-only one
        // when no flow enters the firewall there): without one, the ASA would let traffic
        // from a higher to a lower security level pass.
        if opts.drops() {
            let zones: Vec<usize> = match boundary {
                Some((a, b)) => vec![a, b],
                None => (0..p.context.zones.len()).collect(),
            };
            for z in zones {
                acls.entry(z).or_default();
            }
        }
        let keeps: Vec<String> = if opts.default_drop {
            opts.keep.iter().map(keep_ace).collect()
        } else {
            Vec::new()
        };
        let mut s = String::new();
        let _ = writeln!(
            s,
            "! rdsports: deployment {}, Cisco ASA access lists {}.",
            restricted(&policy.context.name, plain_char, 200),
            if opts.merge {
                "in one global access list"
            } else {
                "per zone interface"
            }
        );
        let _ = writeln!(
            s,
            "! {} flows, {} rules after aggregation.",
            view.before,
            p.rules.len()
        );
        let mut notes: Vec<String> = Vec::new();
        if opts.merge {
            notes.push(format!(
                "Apply in configuration mode. Merge form (--merge): one access list \
                 {GLOBAL_ACL} bound with `access-group {GLOBAL_ACL} global`. The interfaces' \
                 own access groups stay as they are and are read first; a connection they do \
                 not match is matched against this list, then denied by the implicit deny at \
                 its end. An explicit `deny ip any any` at the end of an interface list stops \
                 it before this list is read. An existing global access group is replaced."
            ));
        } else {
            notes.push(
                "Apply in configuration mode. Each zone is the interface whose nameif is the \
                 zone name below; replies are allowed by the ASA's stateful inspection. \
                 `access-group ... in interface` REPLACES the access list the interface had: \
                 to keep yours, render with --merge (a global access list read after them)."
                    .to_owned(),
            );
            if opts.drops() {
                notes.push(
                    "Enforcing: every zone interface gets a list that ends in `deny ip any any \
                     log`, so what no rule permits is denied and logged (syslog 106100) with a \
                     hit count (`show access-list`), whatever the security levels. Management \
                     of the ASA itself (ssh, asdm, http) is set by its own commands and not \
                     affected."
                        .to_owned(),
                );
                notes.extend(super::options::keep_lines(opts));
            } else {
                notes.push(
                    "Allow-only (--allow-only): no explicit deny; the implicit deny at the end of \
                     each list still applies, and interfaces without a list here keep their \
                     security-level behaviour."
                        .to_owned(),
                );
            }
        }
        for n in notes {
            super::naming::wrap_comment(&mut s, "!", &n);
        }
        s.push_str("!\n");
        let acl_name = |ifaces: &mut Namer, z: usize| {
            if opts.merge {
                GLOBAL_ACL.to_owned()
            } else {
                format!("{}_access_in", ifaces.name(p.zone_name(z)))
            }
        };
        // Clear what this file defines, access lists first (they reference the groups).
        for &z in acls.keys() {
            let _ = writeln!(
                s,
                "clear configure access-list {}",
                acl_name(&mut ifaces, z)
            );
        }
        for name in groups.names() {
            let _ = writeln!(s, "no {name}");
        }
        s.push_str("!\n");
        s.push_str(&groups.text);
        for (&z, lines) in &acls {
            let acl = acl_name(&mut ifaces, z);
            if !opts.merge {
                let _ = writeln!(s, "! zone {}", restricted(p.zone_name(z), plain_char, 200));
            }
            for (i, k) in keeps.iter().enumerate() {
                let _ = writeln!(s, "access-list {acl} remark rdsports keep {}", i + 1);
                let _ = writeln!(s, "access-list {acl} extended {k}");
            }
            for l in lines {
                let _ = writeln!(s, "{l}");
            }
            if opts.drops() {
                let _ = writeln!(s, "access-list {acl} extended deny ip any any log");
            }
            if opts.merge {
                let _ = writeln!(s, "access-group {acl} global");
            } else {
                let iface = ifaces.name(p.zone_name(z));
                let _ = writeln!(s, "access-group {acl} in interface {iface}");
            }
            s.push_str("!\n");
        }
        out.rules_before = view.before;
        out.rules_after = p.rules.len();
        let mut files = Namer::new(self.name(), "deployment name (file name)", ident_char, 64);
        out.files
            .push((format!("{}.asa", files.name(&policy.context.name)), s));
        out.warnings.extend(ifaces.into_warnings());
        out.warnings.extend(groups.namer.into_warnings());
        out.warnings.extend(files.into_warnings());
        Ok(out)
    }
}

/// Object-groups being defined.
struct Groups {
    text: String,
    networks: BTreeMap<Vec<usize>, String>,
    services: BTreeMap<(Protocol, Vec<PortRange>), String>,
    order: Vec<String>,
    namer: Namer,
}

impl Groups {
    fn new() -> Groups {
        Groups {
            text: String::new(),
            networks: BTreeMap::new(),
            services: BTreeMap::new(),
            order: Vec::new(),
            namer: Namer::new(
                "cisco-asa",
                "host name (object-group)",
                ident_char,
                GROUP_MAX,
            )
            .with_prefix("rds-h-"),
        }
    }

    /// The definitions' heads (`object-group network NAME`), in definition order.
    fn names(&self) -> impl Iterator<Item = &String> {
        self.order.iter()
    }

    fn network(&mut self, p: &Policy, hosts: &[usize], nets: &[IpNet]) -> String {
        if let Some(n) = self.networks.get(hosts) {
            return n.clone();
        }
        let name = match hosts {
            [h] => self.namer.name(p.host_name(*h)),
            _ => format!("rds-g{}", self.networks.len() + 1),
        };
        let _ = writeln!(self.text, "object-group network {name}");
        let desc = super::windows::host_list(p, hosts);
        let _ = writeln!(
            self.text,
            " description {}",
            restricted(&desc, plain_char, DESCRIPTION_MAX)
        );
        for n in nets {
            let _ = writeln!(self.text, " network-object {}", network_object(*n));
        }
        self.networks.insert(hosts.to_vec(), name.clone());
        self.order.push(format!("object-group network {name}"));
        name
    }

    fn service(&mut self, protocol: Protocol, ports: &[PortRange]) -> String {
        let key = (protocol, ports.to_vec());
        if let Some(n) = self.services.get(&key) {
            return n.clone();
        }
        let name = format!("rds-{}-{}", proto(protocol), self.services.len() + 1);
        let _ = writeln!(self.text, "object-group service {name} {}", proto(protocol));
        for r in ports {
            if r.start() == r.end() {
                let _ = writeln!(self.text, " port-object eq {}", r.start());
            } else {
                let _ = writeln!(self.text, " port-object range {} {}", r.start(), r.end());
            }
        }
        self.services.insert(key, name.clone());
        self.order
            .push(format!("object-group service {name} {}", proto(protocol)));
        name
    }
}

fn proto(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    }
}

/// The permit of a `--keep` entry (after `extended`).
fn keep_ace(k: &super::Keep) -> String {
    let src = match k.source {
        n if n.prefix_len() == 0 => "any".to_owned(),
        n => network_object(n),
    };
    match k.ports {
        None => format!("permit ip {src} any"),
        Some((p, r)) if r.start() == r.end() => {
            format!("permit {} {src} any eq {}", proto(p), r.start())
        }
        Some((p, r)) => format!(
            "permit {} {src} any range {} {}",
            proto(p),
            r.start(),
            r.end()
        ),
    }
}

/// `host A`, `A MASK` (IPv4) or `A/LEN` (IPv6).
fn network_object(n: IpNet) -> String {
    match n {
        IpNet::V4(v4) if v4.prefix_len() == 32 => format!("host {}", v4.addr()),
        IpNet::V4(v4) => format!("{} {}", v4.network(), v4.netmask()),
        IpNet::V6(v6) if v6.prefix_len() == 128 => format!("host {}", v6.addr()),
        IpNet::V6(v6) => format!("{}/{}", v6.network(), v6.prefix_len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_objects() {
        let n = |s: &str| s.parse::<IpNet>().unwrap();
        assert_eq!(network_object(n("192.0.2.1/32")), "host 192.0.2.1");
        assert_eq!(
            network_object(n("192.0.2.0/25")),
            "192.0.2.0 255.255.255.128"
        );
        assert_eq!(network_object(n("0.0.0.0/0")), "0.0.0.0 0.0.0.0");
        assert_eq!(network_object(n("2001:db8::/64")), "2001:db8::/64");
        assert_eq!(network_object(n("2001:db8::5/128")), "host 2001:db8::5");
    }
}
