//! nftables: a complete file with its own `table inet rdsports`.
//!
//! The zone-firewall variant has a `forward` chain with the cross-zone flows (or those of one
//! `--boundary`); the host variant (`--host-variant`) has one file per host with an `input`
//! chain (and an `output` chain with `--outbound`). Both accept replies with
//! `ct state established,related accept`, match addresses through named interval sets, count
//! every accept, and can end in a counted drop (`--default-drop`). An FTP control channel
//! without a fixed passive range gets the kernel's `ftp` conntrack helper, whose expectations
//! the `related` accept then lets through. Applying the file replaces only `table inet
//! rdsports` (`table`, then `delete table`, then the new table, in one transaction).
//!
//! No user text reaches an nft identifier: sets are named after rule numbers, and names and
//! purposes appear only in `#` comments (one line each) and in `comment "..."` strings
//! restricted to `plain_char`. This module does not run `nft`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use ipnet::IpNet;
use rdsports_core::model::Protocol;

use super::{
    Capabilities, FtpSupport, Generator, HostView, Namer, RenderOptions, Rendered, Scope, View,
    host_views, one_line, plain_char, restricted, trace, zone_view,
};
use crate::aggregate::merge_nets;
use crate::error::GenError;
use crate::policy::{Helper, Policy, Rule};

/// The `nftables` target.
pub struct Nftables;

/// The table every rendering owns.
pub const TABLE: &str = "rdsports";
/// Name of the FTP conntrack helper object.
const FTP_HELPER: &str = "ftp-standard";
/// nft's limit on a rule comment, in bytes (`NFTNL_UDATA_COMMENT_MAXLEN`).
const COMMENT_MAX: usize = 127;

impl Generator for Nftables {
    fn name(&self) -> &'static str {
        "nftables"
    }

    fn description(&self) -> &'static str {
        "nftables: table inet rdsports with a forward chain between zones (or an input chain \
         per host with --host-variant)"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            scope: Scope::Zone,
            host: false,
            boundary: true,
            outbound: true,
            default_drop: true,
            host_variant: true,
            ftp: FtpSupport::Helper,
        }
    }

    fn render(&self, policy: &Policy, opts: &RenderOptions) -> Result<Rendered, GenError> {
        let mut out = Rendered::default();
        if opts.host_variant {
            let mut files = Namer::new(self.name(), "host name (file name)", super::ident_char, 64);
            let mut bodies = HashMap::new();
            for hv in host_views(policy, opts)? {
                let text = host_file(policy, &hv, opts, &mut bodies, &mut out.warnings);
                out.rules_before +=
                    hv.inbound.before + hv.outbound.as_ref().map_or(0, |o| o.before);
                out.rules_after += hv.inbound.policy.rules.len()
                    + hv.outbound.as_ref().map_or(0, |o| o.policy.rules.len());
                out.files.push((
                    format!("{}.nft", files.name(policy.host_name(hv.host))),
                    text,
                ));
            }
            out.warnings.extend(files.into_warnings());
        } else {
            if opts.outbound {
                out.warnings.push(
                    "nftables: --outbound has no meaning for the forward chain of a zone \
                     firewall (it sees both directions); use it with --host-variant"
                        .to_owned(),
                );
            }
            let (view, boundary) = zone_view(policy, opts)?;
            let mut files = Namer::new(self.name(), "name (file name)", super::ident_char, 64);
            let stem = match boundary {
                None => files.name(&policy.context.name),
                Some((a, b)) => {
                    let a = files.name(policy.zone_name(a));
                    let b = files.name(policy.zone_name(b));
                    format!("{}-{a}-{b}", files.name(&policy.context.name))
                }
            };
            out.rules_before = view.before;
            out.rules_after = view.policy.rules.len();
            out.files.push((
                format!("{stem}.nft"),
                zone_file(policy, &view, boundary, opts, &mut out.warnings),
            ));
            out.warnings.extend(files.into_warnings());
        }
        Ok(out)
    }
}

fn zone_file(
    policy: &Policy,
    view: &View,
    boundary: Option<(usize, usize)>,
    opts: &RenderOptions,
    warnings: &mut Vec<String>,
) -> String {
    let mut s = String::new();
    let what = match boundary {
        None => "every flow between zones".to_owned(),
        Some((a, b)) => format!(
            "flows between zones \"{}\" and \"{}\"",
            one_line(policy.zone_name(a)),
            one_line(policy.zone_name(b))
        ),
    };
    preamble(&mut s, policy, &format!("zone firewall, {what}"), &[view]);
    let rules = &view.policy.rules;
    let mut body = Body::new();
    for (i, r) in rules.iter().enumerate() {
        body.rule(&view.policy, r, i + 1, Match::Both);
    }
    table(&mut s, &body, |s| {
        chain(
            s,
            "forward",
            "forward",
            &body.forward,
            opts.default_drop,
            ChainKind::Forward,
        );
    });
    warnings.extend(body.namer.into_warnings());
    s
}

fn host_file(
    policy: &Policy,
    hv: &HostView,
    opts: &RenderOptions,
    bodies: &mut HashMap<usize, String>,
    warnings: &mut Vec<String>,
) -> String {
    let mut s = String::new();
    let name = one_line(policy.host_name(hv.host));
    let mut views = vec![&hv.inbound];
    views.extend(hv.outbound.as_ref());
    preamble(
        &mut s,
        policy,
        &format!("host firewall of \"{name}\""),
        &views,
    );
    // The rules of hosts in one group are the same: rendered once.
    let text = bodies.entry(hv.group).or_insert_with(|| {
        let mut body = Body::new();
        for (i, r) in hv.inbound.policy.rules.iter().enumerate() {
            body.rule(&hv.inbound.policy, r, i + 1, Match::Source);
        }
        let input = std::mem::take(&mut body.forward);
        let mut output = Vec::new();
        if let Some(o) = &hv.outbound {
            let offset = hv.inbound.policy.rules.len();
            for (i, r) in o.policy.rules.iter().enumerate() {
                body.rule(&o.policy, r, offset + i + 1, Match::Destination);
            }
            output = std::mem::take(&mut body.forward);
        }
        let mut t = String::new();
        table(&mut t, &body, |t| {
            chain(
                t,
                "input",
                "input",
                &input,
                opts.default_drop,
                ChainKind::Input,
            );
            if hv.outbound.is_some() {
                t.push('\n');
                chain(
                    t,
                    "output",
                    "output",
                    &output,
                    opts.default_drop,
                    ChainKind::Output,
                );
            }
        });
        warnings.extend(body.namer.into_warnings());
        t
    });
    s.push_str(text);
    s
}

fn preamble(s: &mut String, policy: &Policy, what: &str, views: &[&View]) {
    let before: usize = views.iter().map(|v| v.before).sum();
    let after: usize = views.iter().map(|v| v.policy.rules.len()).sum();
    let _ = writeln!(s, "#!/usr/sbin/nft -f");
    let _ = writeln!(
        s,
        "# rdsports: deployment \"{}\", {what}.",
        one_line(&policy.context.name)
    );
    let _ = writeln!(s, "# {before} flows, {after} rules after aggregation.");
    let _ = writeln!(
        s,
        "# Apply with `nft -f FILE`: it replaces table inet {TABLE} and touches nothing else.\n"
    );
    // Create the table if missing, then delete it: the new table below replaces any old one.
    let _ = writeln!(s, "table inet {TABLE}\ndelete table inet {TABLE}\n");
}

/// Which side's addresses a rule matches.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Match {
    Both,
    Source,
    Destination,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ChainKind {
    Forward,
    Input,
    Output,
}

/// Sets and rule lines being collected.
struct Body {
    sets: String,
    /// Set name by (family is IPv6, hosts): one set per host list, named after the host when
    /// there is one.
    set_names: BTreeMap<(bool, Vec<usize>), String>,
    namer: Namer,
    forward: Vec<String>,
    ftp: bool,
}

impl Body {
    fn new() -> Body {
        Body {
            sets: String::new(),
            set_names: BTreeMap::new(),
            namer: Namer::new("nftables", "host name (set name)", super::ident_char, 60)
                .with_prefix("h_"),
            forward: Vec::new(),
            ftp: false,
        }
    }

    fn rule(&mut self, policy: &Policy, rule: &Rule, n: usize, m: Match) {
        let v6 = rule
            .sources
            .first()
            .or(rule.destinations.first())
            .is_some_and(|a| a.addr().is_ipv6());
        let family = if v6 { "ip6" } else { "ip" };
        let mut matches = String::new();
        if m != Match::Destination {
            let name = self.set(policy, v6, &rule.from_hosts, &rule.sources);
            let _ = write!(matches, "{family} saddr @{name} ");
        }
        if m != Match::Source {
            let name = self.set(policy, v6, &rule.to_hosts, &rule.destinations);
            let _ = write!(matches, "{family} daddr @{name} ");
        }
        let proto = proto(rule.protocol);
        let _ = write!(matches, "{proto} dport {}", port_set(rule));
        let mut comment = format!("r{n} {}", policy.ids(rule).join(" "));
        comment = restricted(&comment, plain_char, COMMENT_MAX);
        self.forward
            .push(format!("# r{n} {}", one_line(&trace(policy, rule))));
        let show = match m {
            Match::Both => super::Show::Both,
            Match::Source => super::Show::Sources,
            Match::Destination => super::Show::Destinations,
        };
        self.forward
            .push(format!("# {}", super::peers(policy, rule, show)));
        let helper = match rule.helper {
            Some(Helper::Ftp) => {
                self.ftp = true;
                format!("ct helper set \"{FTP_HELPER}\" ")
            }
            None => String::new(),
        };
        self.forward.push(format!(
            "{matches} {helper}counter accept comment \"{comment}\""
        ));
    }

    /// The set holding `hosts` (addresses `nets`), defined on first use.
    fn set(&mut self, policy: &Policy, v6: bool, hosts: &[usize], nets: &[IpNet]) -> String {
        let key = (v6, hosts.to_vec());
        if let Some(name) = self.set_names.get(&key) {
            return name.clone();
        }
        let name = match hosts {
            [h] => self.namer.name(policy.host_name(*h)),
            _ => format!("g{}", self.set_names.len() + 1),
        };
        let ty = if v6 { "ipv6_addr" } else { "ipv4_addr" };
        let elements: Vec<String> = merge_nets(nets).iter().map(|n| element(*n)).collect();
        if hosts.len() > 1 {
            let _ = writeln!(
                self.sets,
                "\t# {}",
                one_line(&super::windows::host_list(policy, hosts))
            );
        }
        if elements.len() <= 4 {
            let _ = writeln!(
                self.sets,
                "\tset {name} {{ type {ty}; flags interval; elements = {{ {} }}; }}",
                elements.join(", ")
            );
        } else {
            let _ = writeln!(
                self.sets,
                "\tset {name} {{\n\t\ttype {ty}\n\t\tflags interval\n\t\telements = {{\n\t\t\t{}\n\t\t}}\n\t}}",
                elements.join(",\n\t\t\t")
            );
        }
        self.set_names.insert(key, name.clone());
        name
    }
}

fn table(s: &mut String, body: &Body, chains: impl FnOnce(&mut String)) {
    let _ = writeln!(s, "table inet {TABLE} {{");
    if body.ftp {
        let _ = writeln!(
            s,
            "\t# Follows FTP control channels so that `ct state related` admits the data channel.\n\
             \tct helper {FTP_HELPER} {{\n\t\ttype \"ftp\" protocol tcp\n\t\tl3proto inet\n\t}}\n"
        );
    }
    s.push_str(&body.sets);
    s.push('\n');
    chains(s);
    s.push_str("}\n");
}

fn chain(s: &mut String, name: &str, hook: &str, rules: &[String], drop: bool, kind: ChainKind) {
    let _ = writeln!(s, "\tchain {name} {{");
    let _ = writeln!(
        s,
        "\t\ttype filter hook {hook} priority filter; policy accept;"
    );
    match kind {
        ChainKind::Input => s.push_str("\t\tiif \"lo\" accept\n"),
        ChainKind::Output => s.push_str("\t\toif \"lo\" accept\n"),
        ChainKind::Forward => {}
    }
    s.push_str("\t\tct state established,related accept\n");
    if drop && kind == ChainKind::Input {
        s.push_str(
            "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, \
             nd-router-advert } accept\n",
        );
    }
    for line in rules {
        let _ = writeln!(s, "\t\t{line}");
    }
    if drop {
        let _ = writeln!(s, "\t\tcounter drop comment \"rdsports default drop\"");
    }
    s.push_str("\t}\n");
}

fn proto(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    }
}

fn port_set(rule: &Rule) -> String {
    let ports: Vec<String> = rule.ports.iter().map(ToString::to_string).collect();
    if ports.len() == 1 {
        ports.join("")
    } else {
        format!("{{ {} }}", ports.join(", "))
    }
}

/// A set element: a single address bare, a network as CIDR.
fn element(n: IpNet) -> String {
    if n.prefix_len() == n.max_prefix_len() {
        n.addr().to_string()
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_and_ports() {
        let n = |s: &str| s.parse::<IpNet>().unwrap();
        assert_eq!(element(n("192.0.2.1/32")), "192.0.2.1");
        assert_eq!(element(n("0.0.0.0/0")), "0.0.0.0/0");
        assert_eq!(element(n("2001:db8::/64")), "2001:db8::/64");
    }
}
