//! iptables: iptables-save format, equivalent to the nftables output.
//!
//! The zone-firewall variant fills the `FORWARD` chain of the filter table; the host variant
//! (`--host-variant`) fills `INPUT` (and `OUTPUT` with `--outbound`), one file per host.
//! Replies pass through `-m conntrack --ctstate RELATED,ESTABLISHED`; ports go through
//! `multiport` (at most 15 slots a line); a rule with many sources and destinations jumps to a
//! chain of its own (`rds-rN`) instead of multiplying lines. An FTP control channel without a
//! fixed passive range gets `-j CT --helper ftp` in the raw table. IPv6 rules go to a second
//! file (`*.v6.rules`, for `ip6tables-restore`). `iptables-restore` replaces the tables the
//! file names (filter, and raw when a helper is needed). Enforcing (the default) ends each
//! chain in a rate-limited LOG and a DROP, after the `--keep` entries; `--allow-only` does not.
//!
//! The merge form (`--merge`) writes user chains only (`RDSPORTS-FWD`, `RDSPORTS-IN`,
//! `RDSPORTS-OUT`, `RDSPORTS-rN`, and `RDSPORTS-PRE`/`RDSPORTS-RAWOUT` in raw), for
//! `iptables-restore --noflush`: declaring an existing chain empties it, so applying twice
//! leaves one copy; built-in chains are not declared (that would reset their policies). A
//! restore file cannot add a rule only when missing, so the header gives the `-C || -I`
//! commands for the jumps.
//!
//! User text appears only in `#` comment lines (one line each) and in `--comment "..."`
//! restricted to `plain_char`; chain names are built from rule numbers. This module does
//! not run iptables.

use std::fmt::Write as _;

use ipnet::IpNet;
use rdsports_core::model::{PortRange, Protocol};

use super::naming::{Namer, one_line, plain_char, restricted, trace};
use super::view::{HostView, View, for_each_host_group, zone_view};
use super::{Capabilities, FtpSupport, Generator, RenderOptions, Rendered, Scope};
use crate::error::GenError;
use crate::policy::{Helper, Policy, Rule};

/// The `iptables` target.
pub struct Iptables;

/// `multiport` takes at most 15 ports, a range counting two.
const MULTIPORT_SLOTS: usize = 15;
/// Above this many (source, destination) pairs a rule gets a chain of its own.
const PAIRS_INLINE: usize = 8;
/// iptables' comment limit (`XT_MAX_COMMENT_LEN` less the terminator).
const COMMENT_MAX: usize = 255;

impl Generator for Iptables {
    fn name(&self) -> &'static str {
        "iptables"
    }

    fn description(&self) -> &'static str {
        "iptables: iptables-save format (filter table) for the firewall between zones (or \
         per host with --host-variant), IPv6 in a second file"
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
        let mut files = Namer::new(
            self.name(),
            "name (file name)",
            super::naming::ident_char,
            64,
        );
        if opts.host_variant {
            // The rules of hosts in one group are the same: rendered once (all but the first
            // line, which names the host).
            let texts = |hv: &HostView, _: &mut Vec<String>| {
                Ok(host_files(policy, hv, opts)
                    .into_iter()
                    .map(|(v6, t)| (v6, t.split_once('\n').map_or(t.clone(), |x| x.1.to_owned())))
                    .collect::<Vec<_>>())
            };
            let file = |hv: &HostView, texts: &Vec<(bool, String)>, out: &mut Rendered| {
                let stem = files.name(policy.host_name(hv.host));
                let what = format!(
                    "host firewall of \"{}\"",
                    one_line(policy.host_name(hv.host))
                );
                for (v6, text) in texts {
                    let mut t = first_line(policy, &what, *v6);
                    t.push_str(text);
                    out.files.push((file_name(&stem, *v6), t));
                }
                Ok(())
            };
            for_each_host_group(policy, opts, &mut out, texts, file)?;
        } else {
            if opts.outbound {
                out.warnings.push(
                    "iptables: --outbound has no meaning for the FORWARD chain of a zone \
                     firewall (it sees both directions); use it with --host-variant"
                        .to_owned(),
                );
            }
            let (view, boundary) = zone_view(policy, opts)?;
            let dep = files.name(&policy.context.name);
            let stem = match boundary {
                None => dep,
                Some((a, b)) => {
                    format!(
                        "{dep}-{}-{}",
                        files.name(policy.zone_name(a)),
                        files.name(policy.zone_name(b))
                    )
                }
            };
            let what = match boundary {
                None => "every flow between zones".to_owned(),
                Some((a, b)) => format!(
                    "flows between zones \"{}\" and \"{}\"",
                    one_line(policy.zone_name(a)),
                    one_line(policy.zone_name(b))
                ),
            };
            for v6 in families(&view.policy.rules, opts) {
                let mut t = Tables::new(opts);
                for (i, r) in view.policy.rules.iter().enumerate() {
                    if is_v6(r) == v6 {
                        t.rule(&view.policy, r, i + 1, Chain::Forward);
                    }
                }
                let text = t.file(
                    policy,
                    &format!("zone firewall, {what}"),
                    &[&view],
                    v6,
                    opts,
                    &[Chain::Forward],
                );
                out.files.push((file_name(&stem, v6), text));
            }
            out.rules_before = view.before;
            out.rules_after = view.policy.rules.len();
        }
        out.warnings.extend(files.into_warnings());
        Ok(out)
    }
}

/// The first line of a file, which names what it is for.
fn first_line(policy: &Policy, what: &str, v6: bool) -> String {
    format!(
        "# rdsports: deployment \"{}\", {what}, IPv{}.\n",
        one_line(&policy.context.name),
        if v6 { 6 } else { 4 }
    )
}

fn file_name(stem: &str, v6: bool) -> String {
    if v6 {
        format!("{stem}.v6.rules")
    } else {
        format!("{stem}.rules")
    }
}

/// The address families to render: IPv4 always (the file that always exists), IPv6 when a
/// rule needs it.
fn families(rules: &[Rule], opts: &RenderOptions) -> Vec<bool> {
    let keep_v6 = opts.default_drop && opts.keep.iter().any(|k| k.source.addr().is_ipv6());
    if rules.iter().any(is_v6) || keep_v6 {
        vec![false, true]
    } else {
        vec![false]
    }
}

fn is_v6(r: &Rule) -> bool {
    r.sources
        .first()
        .or(r.destinations.first())
        .is_some_and(|a| a.addr().is_ipv6())
}

fn host_files(policy: &Policy, hv: &HostView, opts: &RenderOptions) -> Vec<(bool, String)> {
    let mut all: Vec<&Rule> = hv.inbound.policy.rules.iter().collect();
    if let Some(o) = &hv.outbound {
        all.extend(o.policy.rules.iter());
    }
    let all: Vec<Rule> = all.into_iter().cloned().collect();
    let mut views = vec![&hv.inbound];
    views.extend(hv.outbound.as_ref());
    let mut chains = vec![Chain::Input];
    if hv.outbound.is_some() {
        chains.push(Chain::Output);
    }
    let what = format!(
        "host firewall of \"{}\"",
        one_line(policy.host_name(hv.host))
    );
    families(&all, opts)
        .into_iter()
        .map(|v6| {
            let mut t = Tables::new(opts);
            for (i, r) in hv.inbound.policy.rules.iter().enumerate() {
                if is_v6(r) == v6 {
                    t.rule(&hv.inbound.policy, r, i + 1, Chain::Input);
                }
            }
            if let Some(o) = &hv.outbound {
                let offset = hv.inbound.policy.rules.len();
                for (i, r) in o.policy.rules.iter().enumerate() {
                    if is_v6(r) == v6 {
                        t.rule(&o.policy, r, offset + i + 1, Chain::Output);
                    }
                }
            }
            (v6, t.file(policy, &what, &views, v6, opts, &chains))
        })
        .collect()
}

/// A built-in chain of the filter table, and which addresses its rules match.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Chain {
    Forward,
    Input,
    Output,
}

impl Chain {
    fn name(self) -> &'static str {
        match self {
            Chain::Forward => "FORWARD",
            Chain::Input => "INPUT",
            Chain::Output => "OUTPUT",
        }
    }

    /// The user chain that holds this chain's rules in the merge form.
    fn user(self) -> &'static str {
        match self {
            Chain::Forward => "RDSPORTS-FWD",
            Chain::Input => "RDSPORTS-IN",
            Chain::Output => "RDSPORTS-OUT",
        }
    }

    /// The raw-table user chain of the merge form.
    fn raw_user(self) -> &'static str {
        match self {
            Chain::Forward | Chain::Input => "RDSPORTS-PRE",
            Chain::Output => "RDSPORTS-RAWOUT",
        }
    }

    /// The raw-table chain that sees the same packets first.
    fn raw(self) -> &'static str {
        match self {
            Chain::Forward | Chain::Input => "PREROUTING",
            Chain::Output => "OUTPUT",
        }
    }
}

#[derive(Default)]
struct Tables {
    /// The merge form: user chains for `iptables-restore --noflush`.
    merge: bool,
    /// Raw-table chains the helper rules went to.
    raw_chains: Vec<Chain>,
    raw: Vec<String>,
    user_chains: Vec<String>,
    /// Lines per built-in chain, in `Chain` order of first use.
    lines: Vec<(Chain, Vec<String>)>,
    user_lines: Vec<String>,
}

impl Tables {
    fn new(opts: &RenderOptions) -> Tables {
        Tables {
            merge: opts.merge,
            ..Tables::default()
        }
    }

    /// Where the rules of built-in chain `c` go: the chain itself, or its user chain.
    fn target(&self, c: Chain) -> &'static str {
        if self.merge { c.user() } else { c.name() }
    }

    /// Where helper rules for packets of `c` go in the raw table.
    fn raw_target(&self, c: Chain) -> &'static str {
        if self.merge { c.raw_user() } else { c.raw() }
    }

    /// A per-rule chain's name.
    fn own(&self, n: usize) -> String {
        if self.merge {
            format!("RDSPORTS-r{n}")
        } else {
            format!("rds-r{n}")
        }
    }

    fn chain_lines(&mut self, c: Chain) -> &mut Vec<String> {
        let i = match self.lines.iter().position(|(k, _)| *k == c) {
            Some(i) => i,
            None => {
                self.lines.push((c, Vec::new()));
                self.lines.len() - 1
            }
        };
        // `i` was found or just pushed.
        &mut self.lines[i].1
    }

    fn rule(&mut self, policy: &Policy, rule: &Rule, n: usize, chain: Chain) {
        let srcs: Vec<Option<IpNet>> = if chain == Chain::Output {
            vec![None]
        } else {
            rule.sources.iter().map(|a| Some(*a)).collect()
        };
        let dsts: Vec<Option<IpNet>> = if chain == Chain::Input {
            vec![None]
        } else {
            rule.destinations.iter().map(|a| Some(*a)).collect()
        };
        let proto = match rule.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        };
        let comment = restricted(
            &format!("r{n} {}", policy.ids(rule).join(" ")),
            plain_char,
            COMMENT_MAX,
        );
        let chunks = port_chunks(&rule.ports);
        let mut lines = vec![
            format!("# r{n} {}", one_line(&trace(policy, rule))),
            format!(
                "# {}",
                super::naming::peers(
                    policy,
                    rule,
                    match chain {
                        Chain::Forward => super::naming::Show::Both,
                        Chain::Input => super::naming::Show::Sources,
                        Chain::Output => super::naming::Show::Destinations,
                    }
                )
            ),
        ];
        let base = self.target(chain);
        if srcs.len() * dsts.len() <= PAIRS_INLINE {
            for s in &srcs {
                for d in &dsts {
                    for p in &chunks {
                        lines.push(format!(
                            "-A {base}{}{} -p {proto} {p} -m comment --comment \"{comment}\" -j ACCEPT",
                            addr("-s", *s),
                            addr("-d", *d)
                        ));
                    }
                }
            }
        } else {
            let own = self.own(n);
            for s in &srcs {
                lines.push(format!(
                    "-A {base}{} -p {proto} -m comment --comment \"{comment}\" -j {own}",
                    addr("-s", *s)
                ));
            }
            self.user_chains.push(own.clone());
            self.user_lines
                .push(format!("# r{n}: destinations and ports"));
            for d in &dsts {
                for p in &chunks {
                    self.user_lines.push(format!(
                        "-A {own}{} -p {proto} {p} -m comment --comment \"{comment}\" -j ACCEPT",
                        addr("-d", *d)
                    ));
                }
            }
        }
        self.chain_lines(chain).extend(lines);
        if rule.helper == Some(Helper::Ftp) {
            let raw = self.raw_target(chain);
            if !self.raw_chains.contains(&chain) {
                self.raw_chains.push(chain);
            }
            for s in &srcs {
                for d in &dsts {
                    for p in &chunks {
                        self.raw.push(format!(
                            "-A {raw}{}{} -p {proto} {p} -m comment --comment \"{comment}\" -j CT --helper ftp",
                            addr("-s", *s),
                            addr("-d", *d)
                        ));
                    }
                }
            }
        }
    }

    fn file(
        mut self,
        policy: &Policy,
        what: &str,
        views: &[&View],
        v6: bool,
        opts: &RenderOptions,
        chains: &[Chain],
    ) -> String {
        let before: usize = views.iter().map(|v| v.before).sum();
        let after: usize = views.iter().map(|v| v.policy.rules.len()).sum();
        let tool = if v6 {
            "ip6tables-restore"
        } else {
            "iptables-restore"
        };
        let mut s = first_line(policy, what, v6);
        let _ = writeln!(
            s,
            "# {before} flows, {after} rules after aggregation (both families)."
        );
        let mut notes: Vec<String> = Vec::new();
        if self.merge {
            let mut users: Vec<&str> = chains.iter().map(|c| c.user()).collect();
            let raw_users: Vec<&str> = self.raw_chains.iter().map(|c| c.raw_user()).collect();
            users.extend(raw_users.iter().copied());
            notes.push(format!(
                "Merge form (--merge): user chains {} for `{tool} --noflush`, which changes \
                 nothing else: declaring a chain that exists empties it, so applying the file \
                 again leaves one copy. Built-in chains and their policies stay as they are.",
                users.join(", ")
            ));
            notes.push(
                "Apply, then add each jump from the built-in chain once; as written the \
                 commands add a jump only when it is missing (at the top of the chain):"
                    .to_owned(),
            );
            let bin = if v6 { "ip6tables" } else { "iptables" };
            notes.push(format!("  {tool} --noflush < FILE"));
            for &c in chains {
                let (b, u) = (c.name(), c.user());
                notes.push(format!(
                    "  {bin} -C {b} -j {u} 2>/dev/null || {bin} -I {b} -j {u}"
                ));
            }
            for &c in &self.raw_chains {
                let (b, u) = (c.raw(), c.raw_user());
                notes.push(format!(
                    "  {bin} -t raw -C {b} -j {u} 2>/dev/null || {bin} -t raw -I {b} -j {u}"
                ));
            }
            notes.push(
                "Combination: an ACCEPT in these chains ends the built-in chain too; what they \
                 do not accept returns to the built-in chain, whose own rules and policy decide \
                 it. Enforcing needs that chain's policy DROP (or a final DROP); this file \
                 drops nothing itself."
                    .to_owned(),
            );
        } else {
            notes.push(format!(
                "Apply with `{tool} < FILE`: it REPLACES the whole filter table{} (every \
                 chain, rules of your own too). To keep them, render with --merge instead.",
                if self.raw.is_empty() {
                    ""
                } else {
                    " and the raw table"
                }
            ));
            if opts.drops() {
                notes.push(if chains == [Chain::Forward] {
                    "Enforcing: FORWARD drops every forwarded connection that no rule accepts \
                     (the DROP rule counts them; logged at most 5 a second with the prefix \
                     \"rdsports drop: \"); replies pass (RELATED,ESTABLISHED). INPUT and OUTPUT, \
                     the router's own traffic, stay open: SSH to the router is not affected."
                        .to_owned()
                } else {
                    "Enforcing: INPUT drops every new connection to this host that no rule \
                     accepts (counted, logged at most 5 a second with the prefix \"rdsports \
                     drop: \"), SSH included unless --keep names it; loopback, replies and, for \
                     IPv6, neighbour discovery pass. With --outbound OUTPUT drops what the host \
                     may not open."
                        .to_owned()
                });
                notes.extend(super::options::keep_lines(opts));
            } else {
                notes.push(
                    "Allow-only (--allow-only): the chains accept the planned flows and drop \
                     nothing (policy ACCEPT), so on their own they restrict nothing. Merge the \
                     rules into your own policy."
                        .to_owned(),
                );
            }
        }
        for n in notes {
            super::naming::wrap_comment(&mut s, "#", &n);
        }
        if !self.raw.is_empty() {
            s.push_str("*raw\n");
            if self.merge {
                for c in &self.raw_chains {
                    let _ = writeln!(s, ":{} - [0:0]", c.raw_user());
                }
            } else {
                s.push_str(":PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n");
            }
            s.push_str(
                "# FTP control channels: the ftp helper lets RELATED admit the data channel.\n",
            );
            for l in &self.raw {
                let _ = writeln!(s, "{l}");
            }
            s.push_str("COMMIT\n");
        }
        s.push_str("*filter\n");
        if self.merge {
            for &c in chains {
                let _ = writeln!(s, ":{} - [0:0]", c.user());
            }
        } else {
            s.push_str(":INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n");
        }
        for c in &self.user_chains {
            let _ = writeln!(s, ":{c} - [0:0]");
        }
        let drop = opts.drops();
        for &c in chains {
            let base = self.target(c);
            let _ = writeln!(s, "# {base}");
            if !self.merge {
                match c {
                    Chain::Input => {
                        let _ = writeln!(s, "-A INPUT -i lo -j ACCEPT");
                    }
                    Chain::Output => {
                        let _ = writeln!(s, "-A OUTPUT -o lo -j ACCEPT");
                    }
                    Chain::Forward => {}
                }
            }
            let _ = writeln!(
                s,
                "-A {base} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
            );
            if v6 && drop && c == Chain::Input {
                for t in ND_TYPES {
                    let _ = writeln!(
                        s,
                        "-A {base} -p ipv6-icmp -m icmp6 --icmpv6-type {t} -j ACCEPT"
                    );
                }
            }
            if opts.default_drop && c != Chain::Output {
                for (i, k) in opts.keep.iter().enumerate() {
                    if k.source.addr().is_ipv6() != v6 {
                        continue;
                    }
                    let ports = match k.ports {
                        None => String::new(),
                        Some((p, r)) => {
                            let p = match p {
                                Protocol::Tcp => "tcp",
                                Protocol::Udp => "udp",
                            };
                            if r.start() == r.end() {
                                format!(" -p {p} --dport {}", r.start())
                            } else {
                                format!(" -p {p} --dport {}:{}", r.start(), r.end())
                            }
                        }
                    };
                    let _ = writeln!(s, "# keep {}: {k}", i + 1);
                    let _ = writeln!(
                        s,
                        "-A {base}{}{ports} -m comment --comment \"rdsports keep {}\" -j ACCEPT",
                        addr("-s", Some(k.source)),
                        i + 1
                    );
                }
            }
            let lines = self.chain_lines(c).clone();
            for l in lines {
                let _ = writeln!(s, "{l}");
            }
            if drop {
                let _ = writeln!(
                    s,
                    "-A {base} -m limit --limit 5/sec --limit-burst 10 -j LOG --log-prefix \"rdsports drop: \""
                );
                let _ = writeln!(
                    s,
                    "-A {base} -m comment --comment \"rdsports default drop\" -j DROP"
                );
            }
        }
        for l in &self.user_lines {
            let _ = writeln!(s, "{l}");
        }
        s.push_str("COMMIT\n");
        s
    }
}

/// ICMPv6 neighbour discovery, which a host's default drop must let through.
const ND_TYPES: [&str; 4] = [
    "neighbour-solicitation",
    "neighbour-advertisement",
    "router-solicitation",
    "router-advertisement",
];

fn addr(flag: &str, a: Option<IpNet>) -> String {
    match a {
        Some(n) if n.prefix_len() > 0 => format!(" {flag} {n}"),
        _ => String::new(),
    }
}

/// Port matches of at most [`MULTIPORT_SLOTS`] slots each.
fn port_chunks(ports: &[PortRange]) -> Vec<String> {
    if let [p] = ports {
        return vec![if p.start() == p.end() {
            format!("--dport {}", p.start())
        } else {
            format!("--dport {}:{}", p.start(), p.end())
        }];
    }
    let mut out = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    let mut slots = 0;
    for p in ports {
        let (text, cost) = if p.start() == p.end() {
            (p.start().to_string(), 1)
        } else {
            (format!("{}:{}", p.start(), p.end()), 2)
        };
        if slots + cost > MULTIPORT_SLOTS {
            out.push(format!("-m multiport --dports {}", cur.join(",")));
            cur.clear();
            slots = 0;
        }
        cur.push(text);
        slots += cost;
    }
    if !cur.is_empty() {
        out.push(format!("-m multiport --dports {}", cur.join(",")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiport_chunks_respect_fifteen_slots() {
        let ports: Vec<PortRange> = (1..=20)
            .map(|p| PortRange::single(p * 2).unwrap())
            .collect();
        let c = port_chunks(&ports);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].matches(',').count(), 14);
        let r = [PortRange::new(1, 2).unwrap(); 8];
        assert_eq!(
            port_chunks(&r).len(),
            2,
            "7 ranges fit in 14 slots, the 8th does not"
        );
    }
}
