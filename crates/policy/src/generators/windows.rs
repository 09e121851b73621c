//! Windows Firewall through PowerShell's NetSecurity module: one script per host.
//!
//! Each script removes the deployment's rule group and creates it anew (so running it twice
//! gives the same rules), with one `New-NetFirewallRule` per aggregated rule: inbound allow
//! rules for what the host must accept (and, with `--outbound`, outbound rules for what it
//! opens), every profile, remote addresses from the other side's hosts. DisplayName and
//! Description carry the catalog ids and purposes.
//!
//! Every piece of text from the deployment or catalog goes through [`ps_quote`] (a
//! single-quoted PowerShell string, quotes doubled, line breaks removed) or, in comments,
//! through `one_line`. This module does not talk to Windows; it returns text.

use std::fmt::Write as _;

use ipnet::IpNet;
use rdsports_core::model::Protocol;

use super::naming::{one_line, trace};
use super::view::{HostView, View, for_each_host_group};
use super::{
    Capabilities, FtpSupport, Generator, RenderOptions, Rendered, Scope, require_no_ftp_helper,
};
use crate::error::GenError;
use crate::policy::{Policy, Rule};

/// The `windows` target.
pub struct Windows;

impl Generator for Windows {
    fn name(&self) -> &'static str {
        "windows"
    }

    fn description(&self) -> &'static str {
        "Windows Firewall: a PowerShell script per host (New-NetFirewallRule, one rule group)"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            scope: Scope::Host,
            host: true,
            boundary: false,
            outbound: true,
            default_drop: false,
            keep: false,
            merge: false,
            host_variant: false,
            ftp: FtpSupport::Unsupported,
        }
    }

    fn render(&self, policy: &Policy, opts: &RenderOptions) -> Result<Rendered, GenError> {
        let mut out = Rendered::default();
        let mut files =
            super::naming::Namer::new(self.name(), "host name (file name)", file_char, 64);
        // The rules of hosts in one group are the same: rendered once.
        let body = |hv: &HostView, _: &mut Vec<String>| {
            require_no_ftp_helper(self.name(), &hv.inbound.policy)?;
            if let Some(o) = &hv.outbound {
                require_no_ftp_helper(self.name(), &o.policy)?;
            }
            let mut body = String::new();
            for rule in &hv.inbound.policy.rules {
                new_rule(&mut body, &hv.inbound.policy, rule, Direction::Inbound);
            }
            if let Some(o) = &hv.outbound {
                for rule in &o.policy.rules {
                    new_rule(&mut body, &o.policy, rule, Direction::Outbound);
                }
            }
            Ok(body)
        };
        let file = |hv: &HostView, body: &String, out: &mut Rendered| {
            let host = policy.host_name(hv.host);
            let mut s = String::new();
            header(&mut s, policy, host, &hv.inbound, hv.outbound.as_ref());
            s.push_str(body);
            out.files.push((format!("{}.ps1", files.name(host)), s));
            Ok(())
        };
        for_each_host_group(policy, opts, &mut out, body, file)?;
        out.warnings.extend(files.into_warnings());
        Ok(out)
    }
}

/// Inbound or outbound, with the words each side uses.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub(crate) fn word(self) -> &'static str {
        match self {
            Direction::Inbound => "Inbound",
            Direction::Outbound => "Outbound",
        }
    }
}

fn header(s: &mut String, policy: &Policy, host: &str, inb: &View, outb: Option<&View>) {
    let dep = &policy.context.name;
    let _ = writeln!(
        s,
        "# rdsports: Windows Firewall rules for host \"{}\" of deployment \"{}\".",
        one_line(host),
        one_line(dep)
    );
    s.push_str(
        "# Run as Administrator (Windows Server 2012 or later). Running it again first removes\n\
         # the rule group below and then creates it anew.\n",
    );
    let _ = writeln!(
        s,
        "# Inbound: {} flows, {} rules after aggregation.",
        inb.before,
        inb.policy.rules.len()
    );
    if let Some(o) = outb {
        let _ = writeln!(
            s,
            "# Outbound: {} flows, {} rules after aggregation.",
            o.before,
            o.policy.rules.len()
        );
    }
    s.push_str(
        "# These rules only allow. What they do not allow is blocked by each profile's default\n\
         # inbound action, Block (Windows' default): the script relies on it and warns below when\n\
         # a profile allows inbound traffic by default or has the firewall turned off.\n",
    );
    if outb.is_some() {
        s.push_str(
            "# The outbound rules restrict only where DefaultOutboundAction is Block (Windows'\n\
             # default is Allow); the script says so for each profile that allows.\n",
        );
    }
    s.push_str("#Requires -RunAsAdministrator\n#Requires -Modules NetSecurity\n\n");
    s.push_str("$ErrorActionPreference = 'Stop'\n");
    // The effective settings (ActiveStore: local settings merged with Group Policy). Only
    // literal single-quoted text here, formatted with -f.
    s.push_str(
        "foreach ($p in Get-NetFirewallProfile -PolicyStore ActiveStore) {\n\
         \x20   if ([string]$p.Enabled -eq 'False') {\n\
         \x20       Write-Warning ('rdsports: the {0} firewall profile is off: these rules have no effect there (Set-NetFirewallProfile -Profile {0} -Enabled True)' -f $p.Name)\n\
         \x20   }\n\
         \x20   if ([string]$p.DefaultInboundAction -eq 'Allow') {\n\
         \x20       Write-Warning ('rdsports: the {0} profile allows inbound traffic by default: unplanned ports stay open (Set-NetFirewallProfile -Profile {0} -DefaultInboundAction Block)' -f $p.Name)\n\
         \x20   }\n",
    );
    if outb.is_some() {
        s.push_str(
            "    if ([string]$p.DefaultOutboundAction -ne 'Block') {\n\
             \x20       Write-Warning ('rdsports: the {0} profile allows outbound traffic by default: the outbound rules restrict nothing there' -f $p.Name)\n\
             \x20   }\n",
        );
    }
    s.push_str("}\n");
    let _ = writeln!(s, "$Group = {}", ps_quote(&group_name(dep)));
    s.push_str(
        "$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }\n\n\
         Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule\n",
    );
}

/// The rule group of a deployment.
pub(crate) fn group_name(deployment: &str) -> String {
    format!("rdsports {deployment}")
}

fn new_rule(s: &mut String, policy: &Policy, rule: &Rule, dir: Direction) {
    let ids = policy.ids(rule).join(" ");
    let purposes = policy.purposes(rule);
    let first = purposes.first().copied().unwrap_or("");
    let (peers, peer_zone, remote) = match dir {
        Direction::Inbound => (&rule.from_hosts, rule.from_zone, &rule.sources),
        Direction::Outbound => (&rule.to_hosts, rule.to_zone, &rule.destinations),
    };
    let peer_names = host_list(policy, peers);
    let arrow = if dir == Direction::Inbound {
        "from"
    } else {
        "to"
    };
    let display = format!(
        "rdsports {ids} {} {}: {first}",
        proto_word(rule.protocol),
        ports(rule)
    );
    let description = format!(
        "{} | {arrow} {peer_names} (zone {})",
        trace(policy, rule),
        policy.zone_name(peer_zone)
    );
    let _ = writeln!(s, "\n# {}", one_line(&trace(policy, rule)));
    let _ = writeln!(
        s,
        "# {arrow} {} (zone {})",
        one_line(&peer_names),
        one_line(policy.zone_name(peer_zone))
    );
    let port_param = if dir == Direction::Inbound {
        "LocalPort"
    } else {
        "RemotePort"
    };
    let _ = writeln!(
        s,
        "New-NetFirewallRule @Common -Direction {} -DisplayName {} -Description {} -Protocol {} \
         -{port_param} {} -RemoteAddress {} | Out-Null",
        dir.word(),
        ps_quote(&display),
        ps_quote(&description),
        proto_word(rule.protocol),
        ps_list(rule.ports.iter().map(ToString::to_string)),
        ps_list(remote.iter().map(|n| address(*n))),
    );
}

/// `TCP` / `UDP` as NetSecurity and netsh write them.
pub(crate) fn proto_word(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "TCP",
        Protocol::Udp => "UDP",
    }
}

/// Ports as `135,49152-65535`.
pub(crate) fn ports(rule: &Rule) -> String {
    rule.ports
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Up to ten host names, then how many more.
pub(crate) fn host_list(policy: &Policy, hosts: &[usize]) -> String {
    const SHOWN: usize = 10;
    let mut names: Vec<&str> = hosts
        .iter()
        .take(SHOWN)
        .map(|&h| policy.host_name(h))
        .collect();
    let more = hosts.len().saturating_sub(SHOWN);
    let more_text = format!("and {more} more");
    if more > 0 {
        names.push(&more_text);
    }
    names.join(", ")
}

/// An address as Windows Firewall takes it: a single address bare, the whole address space as
/// a range (`0.0.0.0/0` is not accepted everywhere), other networks as CIDR.
pub(crate) fn address(net: IpNet) -> String {
    match net {
        IpNet::V4(n) if n.prefix_len() == 0 => "0.0.0.0-255.255.255.255".to_owned(),
        IpNet::V6(n) if n.prefix_len() == 0 => {
            "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff".to_owned()
        }
        n if n.prefix_len() == n.max_prefix_len() => n.addr().to_string(),
        n => n.to_string(),
    }
}

/// A PowerShell single-quoted string literal of `s`, on one line.
///
/// Inside single quotes PowerShell expands nothing (`$`, backticks and `$( )` stay literal);
/// the only special characters are the quote characters themselves, which PowerShell
/// recognises in four forms (`'`, U+2018, U+2019, U+201A, U+201B). Each is doubled. Line
/// breaks and other control characters become spaces, so a value cannot end the line.
pub fn ps_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in one_line(s).chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

fn ps_list(items: impl Iterator<Item = String>) -> String {
    let quoted: Vec<String> = items.map(|i| ps_quote(&i)).collect();
    format!("@({})", quoted.join(", "))
}

/// File names: `[A-Za-z0-9_-]`.
pub(crate) fn file_char(c: char) -> bool {
    super::naming::ident_char(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_doubles_every_quote_form_and_keeps_one_line() {
        assert_eq!(ps_quote("it's"), "'it''s'");
        assert_eq!(ps_quote("a\u{2019}b"), "'a\u{2019}\u{2019}b'");
        assert_eq!(ps_quote("$(rm -r /) `n"), "'$(rm -r /) `n'");
        assert_eq!(
            ps_quote("x\n'; Remove-Item C:\\ #"),
            "'x ''; Remove-Item C:\\ #'"
        );
    }

    #[test]
    fn addresses() {
        let n = |s: &str| s.parse::<IpNet>().unwrap();
        assert_eq!(address(n("0.0.0.0/0")), "0.0.0.0-255.255.255.255");
        assert_eq!(address(n("192.0.2.10/32")), "192.0.2.10");
        assert_eq!(address(n("192.0.2.0/25")), "192.0.2.0/25");
        assert_eq!(address(n("2001:db8::1/128")), "2001:db8::1");
    }
}
