//! nftables: a complete file with its own `table inet rdsports`.
//!
//! The zone-firewall variant has a `forward` chain with the cross-zone flows (or those of one
//! `--boundary`); the host variant (`--host-variant`) has one file per host with an `input`
//! chain (and an `output` chain with `--outbound`). Both accept replies with
//! `ct state established,related accept`, match addresses through named interval sets, count
//! every accept, accept the `--keep` entries, and end in a rate-limited log and a counted drop
//! (enforcing, the default; `--allow-only` leaves both out). An FTP control channel without a
//! fixed passive range gets the kernel's `ftp` conntrack helper, whose expectations the
//! `related` accept then lets through. Applying the file replaces only `table inet rdsports`
//! (`table`, then `delete table`, then the new table, in one transaction).
//!
//! The merge form (`--merge`, `--into FAMILY TABLE CHAIN`) writes regular chains
//! (`rdsports-forward`, `rdsports-input`, `rdsports-output`) and their sets into the admin's
//! table instead: declared (an `add`, which changes nothing that exists), flushed, filled, so a
//! second application leaves one copy. The jump from the admin's base chain cannot be made
//! conditional in an nft file; the header gives the command that adds it only when missing.
//!
//! No user text reaches an nft identifier: sets are named after rule numbers, and names and
//! purposes appear only in `#` comments (one line each) and in `comment "..."` strings
//! restricted to `plain_char`. This module does not run `nft`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ipnet::IpNet;
use rdsports_core::model::Protocol;

use super::naming::{Namer, one_line, plain_char, restricted, trace};
use super::view::{HostView, View, for_each_host_group, zone_view};
use super::{Capabilities, FtpSupport, Generator, RenderOptions, Rendered, Scope};
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
            keep: true,
            merge: true,
            host_variant: true,
            ftp: FtpSupport::Helper,
        }
    }

    fn render(&self, policy: &Policy, opts: &RenderOptions) -> Result<Rendered, GenError> {
        let mut out = Rendered::default();
        if opts.host_variant {
            let mut files = Namer::new(
                self.name(),
                "host name (file name)",
                super::naming::ident_char,
                64,
            );
            // The rules of hosts in one group are the same: rendered once.
            let body = |hv: &HostView, warnings: &mut Vec<String>| host_body(hv, opts, warnings);
            let file = |hv: &HostView, body: &String, out: &mut Rendered| {
                let text = host_file(policy, hv, opts, body)?;
                out.files.push((
                    format!("{}.nft", files.name(policy.host_name(hv.host))),
                    text,
                ));
                Ok(())
            };
            for_each_host_group(policy, opts, &mut out, body, file)?;
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
            let mut files = Namer::new(
                self.name(),
                "name (file name)",
                super::naming::ident_char,
                64,
            );
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
                zone_file(policy, &view, boundary, opts, &mut out.warnings)?,
            ));
            out.warnings.extend(files.into_warnings());
        }
        Ok(out)
    }
}

/// Where the rules go: `table inet rdsports` of their own, or chains in the admin's table.
struct Dest {
    /// (family, table, base chain to jump from) when merging.
    merge: Option<(String, String, String)>,
}

impl Dest {
    fn of(opts: &RenderOptions, policy: &Policy, input: bool) -> Result<Dest, GenError> {
        if !opts.merge && opts.into.is_none() {
            return Ok(Dest { merge: None });
        }
        let (family, table, chain) = opts.into.clone().unwrap_or_else(|| {
            let c = if input { "input" } else { "forward" };
            ("inet".to_owned(), "filter".to_owned(), c.to_owned())
        });
        let bad = |value: &str, reason: &str| GenError::BadOption {
            target: "nftables",
            option: "--into",
            value: value.to_owned(),
            reason: reason.to_owned(),
        };
        if !matches!(family.as_str(), "inet" | "ip" | "ip6") {
            return Err(bad(
                &family,
                "the family of a filter table is inet, ip or ip6",
            ));
        }
        for name in [&table, &chain] {
            let ok = name.len() <= 64
                && name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name.chars().all(super::naming::ident_char);
            if !ok {
                return Err(bad(
                    name,
                    "a table or chain name here is a letter, then letters, digits, `_` or `-` \
                     (at most 64)",
                ));
            }
        }
        let v6 = policy
            .rules
            .iter()
            .any(|r| r.sources.first().is_some_and(|a| a.addr().is_ipv6()))
            || opts.keep.iter().any(|k| k.source.addr().is_ipv6());
        let v4 = policy
            .rules
            .iter()
            .any(|r| r.sources.first().is_some_and(|a| a.addr().is_ipv4()))
            || opts.keep.iter().any(|k| k.source.addr().is_ipv4());
        if (family == "ip" && v6) || (family == "ip6" && v4) {
            return Err(bad(
                &family,
                "the plan has rules of the other address family; merge into an inet table",
            ));
        }
        Ok(Dest {
            merge: Some((family, table, chain)),
        })
    }

    /// The table statement's head: `inet rdsports` or the admin's `FAMILY TABLE`.
    fn table(&self) -> String {
        match &self.merge {
            None => format!("inet {TABLE}"),
            Some((f, t, _)) => format!("{f} {t}"),
        }
    }

    /// The name of our chain for a hook.
    fn chain(&self, hook: &str) -> String {
        match &self.merge {
            None => hook.to_owned(),
            Some(_) => format!("rdsports-{hook}"),
        }
    }

    /// The admin's base chain our chain for `hook` is jumped to from.
    fn base(&self, hook: &str) -> Option<String> {
        let (_, _, c) = self.merge.as_ref()?;
        Some(if matches!(hook, "forward" | "input") {
            c.clone()
        } else {
            hook.to_owned()
        })
    }
}

fn zone_file(
    policy: &Policy,
    view: &View,
    boundary: Option<(usize, usize)>,
    opts: &RenderOptions,
    warnings: &mut Vec<String>,
) -> Result<String, GenError> {
    let dest = Dest::of(opts, &view.policy, false)?;
    let mut s = String::new();
    let what = match boundary {
        None => "every flow between zones".to_owned(),
        Some((a, b)) => format!(
            "flows between zones \"{}\" and \"{}\"",
            one_line(policy.zone_name(a)),
            one_line(policy.zone_name(b))
        ),
    };
    preamble(
        &mut s,
        policy,
        &format!("zone firewall, {what}"),
        &[view],
        opts,
        &dest,
        &["forward"],
    );
    let rules = &view.policy.rules;
    let mut body = Body::new(dest.merge.is_some());
    for (i, r) in rules.iter().enumerate() {
        body.rule(&view.policy, r, i + 1, Match::Both);
    }
    let forward = std::mem::take(&mut body.forward);
    let chains = [Chain {
        hook: "forward",
        rules: &forward,
        kind: ChainKind::Forward,
    }];
    table(&mut s, &body, &dest, opts, &chains);
    warnings.extend(body.namer.into_warnings());
    Ok(s)
}

/// The file of one host of the host variant: its preamble, then `body`, the rules it shares
/// with the hosts of its group ([`host_body`]).
fn host_file(
    policy: &Policy,
    hv: &HostView,
    opts: &RenderOptions,
    body: &str,
) -> Result<String, GenError> {
    let dest = Dest::of(opts, &hv.inbound.policy, true)?;
    let mut s = String::new();
    let name = one_line(policy.host_name(hv.host));
    let mut views = vec![&hv.inbound];
    views.extend(hv.outbound.as_ref());
    let hooks: &[&str] = if hv.outbound.is_some() {
        &["input", "output"]
    } else {
        &["input"]
    };
    preamble(
        &mut s,
        policy,
        &format!("host firewall of \"{name}\""),
        &views,
        opts,
        &dest,
        hooks,
    );
    s.push_str(body);
    Ok(s)
}

/// The table and chains of a host of the host variant, the same for every host of its group;
/// the set names' warnings go to `warnings`.
fn host_body(
    hv: &HostView,
    opts: &RenderOptions,
    warnings: &mut Vec<String>,
) -> Result<String, GenError> {
    let dest = Dest::of(opts, &hv.inbound.policy, true)?;
    let mut body = Body::new(dest.merge.is_some());
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
    let mut chains = vec![Chain {
        hook: "input",
        rules: &input,
        kind: ChainKind::Input,
    }];
    if hv.outbound.is_some() {
        chains.push(Chain {
            hook: "output",
            rules: &output,
            kind: ChainKind::Output,
        });
    }
    let mut t = String::new();
    table(&mut t, &body, &dest, opts, &chains);
    warnings.extend(body.namer.into_warnings());
    Ok(t)
}

fn preamble(
    s: &mut String,
    policy: &Policy,
    what: &str,
    views: &[&View],
    opts: &RenderOptions,
    dest: &Dest,
    hooks: &[&str],
) {
    let before: usize = views.iter().map(|v| v.before).sum();
    let after: usize = views.iter().map(|v| v.policy.rules.len()).sum();
    let _ = writeln!(s, "#!/usr/sbin/nft -f");
    let _ = writeln!(
        s,
        "# rdsports: deployment \"{}\", {what}.",
        one_line(&policy.context.name)
    );
    let _ = writeln!(s, "# {before} flows, {after} rules after aggregation.");
    let zone = hooks == ["forward"];
    let mut lines: Vec<String> = Vec::new();
    match &dest.merge {
        Some((f, t, _)) => {
            let chains: Vec<String> = hooks.iter().map(|h| dest.chain(h)).collect();
            lines.push(format!(
                "Merge form (--into {f} {t} {}): regular chains {} and their sets in your \
                 table {f} {t}. Applying the file again flushes and refills them, and changes \
                 nothing else in the table (it is created empty if missing).",
                dest.base(hooks.first().copied().unwrap_or("forward"))
                    .unwrap_or_default(),
                chains.join(", ")
            ));
            lines.push(
                "Apply with `nft -f FILE`, then add the jump from your base chain once; as \
                 written the command adds it only when it is missing (at the top of the chain):"
                    .to_owned(),
            );
            for h in hooks {
                let base = dest.base(h).unwrap_or_default();
                let ours = dest.chain(h);
                lines.push(format!(
                    "  nft list chain {f} {t} {base} | grep -q 'jump {ours}$' || nft insert \
                     rule {f} {t} {base} jump {ours}"
                ));
            }
            lines.push(
                "Combination: an accept in these chains ends your base chain too (they are \
                 jumped to from it); what they do not accept returns to your base chain, whose \
                 own rules and policy decide it. Enforcing needs your chain's policy drop (or a \
                 final drop); this file drops nothing itself."
                    .to_owned(),
            );
        }
        None => {
            lines.push(format!(
                "Apply with `nft -f FILE`: it replaces table inet {TABLE} and touches nothing else."
            ));
            if opts.drops() {
                lines.push(if zone {
                    "Enforcing: the forward chain drops every forwarded connection that no rule \
                     below accepts (counted; logged at most 5 a second with the prefix \
                     \"rdsports drop: \"); replies of accepted connections pass (ct state \
                     established,related). The router's own traffic (hooks input and output) \
                     is not filtered here: SSH to the router itself is not affected."
                        .to_owned()
                } else {
                    "Enforcing: the input chain drops every new connection to this host that no \
                     rule below accepts (counted; logged at most 5 a second with the prefix \
                     \"rdsports drop: \"), SSH included unless --keep names it; loopback, \
                     replies (ct state established,related) and, for IPv6, neighbour discovery \
                     pass. With --outbound the output chain drops what the host may not open."
                        .to_owned()
                });
                lines.extend(super::options::keep_lines(opts));
            } else {
                lines.push(
                    "Allow-only (--allow-only): the chain accepts the planned flows and drops \
                     nothing (policy accept), so on its own this file restricts nothing. Merge \
                     its rules into your own policy."
                        .to_owned(),
                );
            }
            lines.push(
                "How base chains combine: every base chain on a hook sees the packet, in \
                 priority order; an accept ends only its own base chain, a drop anywhere is \
                 final. A filtering table you already have still decides after this one: to \
                 fit into it instead, render with --into FAMILY TABLE CHAIN."
                    .to_owned(),
            );
        }
    }
    for l in lines {
        super::naming::wrap_comment(s, "#", &l);
    }
    s.push('\n');
    if dest.merge.is_none() {
        // Create the table if missing, then delete it: the new table below replaces any old one.
        let _ = writeln!(s, "table inet {TABLE}\ndelete table inet {TABLE}\n");
    }
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

/// One chain to write: its hook, rule lines and kind.
struct Chain<'a> {
    hook: &'static str,
    rules: &'a [String],
    kind: ChainKind,
}

/// Sets and rule lines being collected.
struct Body {
    sets: String,
    /// (name, type) of every set, in definition order.
    decls: Vec<(String, &'static str)>,
    /// Set name by (family is IPv6, hosts): one set per host list, named after the host when
    /// there is one.
    set_names: BTreeMap<(bool, Vec<usize>), String>,
    /// Prefix of group sets' names (`g`, or `rdsports_g` in the admin's table).
    group_prefix: &'static str,
    namer: Namer,
    forward: Vec<String>,
    ftp: bool,
    /// The FTP helper object's name.
    helper: &'static str,
}

impl Body {
    fn new(merge: bool) -> Body {
        let (host_prefix, group_prefix, helper) = if merge {
            ("rdsports_h_", "rdsports_g", "rdsports-ftp")
        } else {
            ("h_", "g", FTP_HELPER)
        };
        Body {
            sets: String::new(),
            decls: Vec::new(),
            set_names: BTreeMap::new(),
            group_prefix,
            namer: Namer::new(
                "nftables",
                "host name (set name)",
                super::naming::ident_char,
                60,
            )
            .with_prefix(host_prefix),
            forward: Vec::new(),
            ftp: false,
            helper,
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
            Match::Both => super::naming::Show::Both,
            Match::Source => super::naming::Show::Sources,
            Match::Destination => super::naming::Show::Destinations,
        };
        self.forward
            .push(format!("# {}", super::naming::peers(policy, rule, show)));
        let helper = match rule.helper {
            Some(Helper::Ftp) => {
                self.ftp = true;
                format!("ct helper set \"{}\" ", self.helper)
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
            _ => format!("{}{}", self.group_prefix, self.set_names.len() + 1),
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
        self.decls.push((name.clone(), ty));
        self.set_names.insert(key, name.clone());
        name
    }
}

fn table(s: &mut String, body: &Body, dest: &Dest, opts: &RenderOptions, chains: &[Chain<'_>]) {
    let head = dest.table();
    let l3 = dest.merge.as_ref().map_or("inet", |(f, _, _)| f.as_str());
    let helper = |s: &mut String| {
        if body.ftp {
            let _ = writeln!(
                s,
                "\t# Follows FTP control channels so that `ct state related` admits the data channel.\n\
                 \tct helper {} {{\n\t\ttype \"ftp\" protocol tcp\n\t\tl3proto {l3}\n\t}}\n",
                body.helper
            );
        }
    };
    if dest.merge.is_some() {
        // Declare (add: nothing existing changes), then flush what is ours, then fill.
        let _ = writeln!(
            s,
            "# Declares the chains and sets (adds them where missing)."
        );
        let _ = writeln!(s, "table {head} {{");
        helper(s);
        for (name, ty) in &body.decls {
            let _ = writeln!(s, "\tset {name} {{ type {ty}; flags interval; }}");
        }
        for c in chains {
            let _ = writeln!(s, "\tchain {} {{\n\t}}", dest.chain(c.hook));
        }
        s.push_str("}\n\n# Empties them: applying the file again leaves one copy.\n");
        for c in chains {
            let _ = writeln!(s, "flush chain {head} {}", dest.chain(c.hook));
        }
        for (name, _) in &body.decls {
            let _ = writeln!(s, "flush set {head} {name}");
        }
        s.push('\n');
        let _ = writeln!(s, "table {head} {{");
    } else {
        let _ = writeln!(s, "table {head} {{");
        helper(s);
    }
    s.push_str(&body.sets);
    s.push('\n');
    for (i, c) in chains.iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        chain(s, dest, opts, c);
    }
    s.push_str("}\n");
}

fn chain(s: &mut String, dest: &Dest, opts: &RenderOptions, c: &Chain<'_>) {
    let drop = opts.drops();
    let _ = writeln!(s, "\tchain {} {{", dest.chain(c.hook));
    if dest.merge.is_none() {
        let _ = writeln!(
            s,
            "\t\ttype filter hook {} priority filter; policy accept;",
            c.hook
        );
        match c.kind {
            ChainKind::Input => s.push_str("\t\tiif \"lo\" accept\n"),
            ChainKind::Output => s.push_str("\t\toif \"lo\" accept\n"),
            ChainKind::Forward => {}
        }
    }
    s.push_str("\t\tct state established,related accept\n");
    if drop && c.kind == ChainKind::Input {
        s.push_str(
            "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, \
             nd-router-advert } accept\n",
        );
    }
    if opts.default_drop && c.kind != ChainKind::Output {
        for (i, k) in opts.keep.iter().enumerate() {
            let fam = if k.source.addr().is_ipv6() {
                "ip6"
            } else {
                "ip"
            };
            let ports = match k.ports {
                None => String::new(),
                Some((p, r)) => format!("{} dport {r} ", proto(p)),
            };
            let _ = writeln!(s, "\t\t# keep {}: {k}", i + 1);
            let _ = writeln!(
                s,
                "\t\t{fam} saddr {} {ports}counter accept comment \"rdsports keep {}\"",
                element(k.source),
                i + 1
            );
        }
    }
    for line in c.rules {
        let _ = writeln!(s, "\t\t{line}");
    }
    if drop {
        let _ = writeln!(
            s,
            "\t\tlimit rate 5/second burst 10 packets log prefix \"rdsports drop: \" level info"
        );
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
