//! Windows Firewall through `netsh advfirewall`: one batch file per host, for hosts without
//! the NetSecurity PowerShell module (Windows Server 2008 R2).
//!
//! `netsh` has no rule groups, so every rule of the deployment carries the same name
//! (`rdsports <deployment>`): the script first deletes that name (all of them at once) and then
//! adds the rules anew, so running it twice gives the same rules. The catalog ids and purposes
//! go into each rule's description. Lines stay below cmd's 8191-character limit by splitting
//! long address lists over several rules.
//!
//! cmd.exe expands `%` and treats `"`, `^`, `&`, `|`, `<`, `>` specially; every piece of text
//! from the deployment or catalog is therefore restricted to `plain_char` (letters, digits,
//! space and `_-.,:/()+=@[]`) before it reaches the file. This module does not run netsh.

use std::fmt::Write as _;

use super::naming::{Namer, plain_char, restricted, trace};
use super::view::{HostView, for_each_host_group};
use super::windows::{Direction, address, ports, proto_word};
use super::{
    Capabilities, FtpSupport, Generator, RenderOptions, Rendered, Scope, require_no_ftp_helper,
};
use crate::error::GenError;
use crate::policy::{Policy, Rule};

/// The `windows-netsh` target.
pub struct Netsh;

/// Longest command line we write (cmd.exe allows 8191 characters).
const LINE_MAX: usize = 8000;
/// Longest description we write.
const DESCRIPTION_MAX: usize = 1000;

impl Generator for Netsh {
    fn name(&self) -> &'static str {
        "windows-netsh"
    }

    fn description(&self) -> &'static str {
        "Windows Firewall: a netsh advfirewall batch file per host (no PowerShell needed)"
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
        let mut files = Namer::new(
            self.name(),
            "host name (file name)",
            super::naming::ident_char,
            64,
        );
        let dep = cmd_text(&policy.context.name, 100);
        if dep != policy.context.name {
            out.warnings.push(format!(
                "windows-netsh: deployment name {:?} is written {dep:?} (batch files allow only \
                 letters, digits, space and _-.,:/()+=@[] here)",
                policy.context.name
            ));
        }
        let rule_name = format!("rdsports {dep}");
        // The rules of hosts in one group are the same: rendered once.
        let body = |hv: &HostView, _: &mut Vec<String>| {
            require_no_ftp_helper(self.name(), &hv.inbound.policy)?;
            if let Some(o) = &hv.outbound {
                require_no_ftp_helper(self.name(), &o.policy)?;
            }
            let mut body = String::new();
            for r in &hv.inbound.policy.rules {
                add_rule(
                    &mut body,
                    &hv.inbound.policy,
                    r,
                    Direction::Inbound,
                    &rule_name,
                );
            }
            if let Some(o) = &hv.outbound {
                for r in &o.policy.rules {
                    add_rule(&mut body, &o.policy, r, Direction::Outbound, &rule_name);
                }
            }
            Ok(body)
        };
        let file = |hv: &HostView, body: &String, out: &mut Rendered| {
            let mut s = String::new();
            let host = cmd_text(policy.host_name(hv.host), 100);
            let _ = writeln!(s, "@echo off");
            let _ = writeln!(
                s,
                "rem rdsports: Windows Firewall rules (netsh) for host {host} of deployment {dep}."
            );
            s.push_str(
                "rem Run as Administrator. Running it again first deletes every rule with the\n\
                 rem name below and then adds the rules anew.\n",
            );
            let _ = writeln!(
                s,
                "rem Inbound: {} flows, {} rules after aggregation.",
                hv.inbound.before,
                hv.inbound.policy.rules.len()
            );
            if let Some(o) = &hv.outbound {
                let _ = writeln!(
                    s,
                    "rem Outbound: {} flows, {} rules after aggregation.",
                    o.before,
                    o.policy.rules.len()
                );
            }
            s.push_str(
                "rem These rules only allow: what they do not allow is blocked by each profile's\n\
                 rem default inbound action, BlockInbound (Windows' default). The two commands\n\
                 rem below show every profile's state and policy: each should say ON and\n\
                 rem BlockInbound, or unplanned ports stay open.\n\
                 netsh advfirewall show allprofiles state\n\
                 netsh advfirewall show allprofiles firewallpolicy\n",
            );
            let _ = writeln!(
                s,
                "netsh advfirewall firewall delete rule name=\"{rule_name}\" >nul 2>&1"
            );
            s.push_str(body);
            s.push_str("exit /b 0\n");
            // Windows batch files want CRLF line ends.
            out.files.push((
                format!("{}.cmd", files.name(policy.host_name(hv.host))),
                s.replace('\n', "\r\n"),
            ));
            Ok(())
        };
        for_each_host_group(policy, opts, &mut out, body, file)?;
        out.warnings.extend(files.into_warnings());
        Ok(out)
    }
}

fn add_rule(s: &mut String, policy: &Policy, rule: &Rule, dir: Direction, name: &str) {
    let (dir_word, port_word, remote) = match dir {
        Direction::Inbound => ("in", "localport", &rule.sources),
        Direction::Outbound => ("out", "remoteport", &rule.destinations),
    };
    let description = cmd_text(&trace(policy, rule), DESCRIPTION_MAX);
    let _ = writeln!(s, "rem {}", cmd_text(&trace(policy, rule), 2000));
    let fixed = format!(
        "netsh advfirewall firewall add rule name=\"{name}\" dir={dir_word} action=allow \
         enable=yes profile=any protocol={} {port_word}={} description=\"{description}\" remoteip=",
        proto_word(rule.protocol),
        ports(rule)
    );
    let tail = " >nul || exit /b 1";
    // Split the remote addresses so that no line exceeds LINE_MAX.
    let mut chunk: Vec<String> = Vec::new();
    let mut len = fixed.len() + tail.len();
    for a in remote {
        let a = address(*a);
        if !chunk.is_empty() && len + a.len() + 1 > LINE_MAX {
            let _ = writeln!(s, "{fixed}{}{tail}", chunk.join(","));
            chunk.clear();
            len = fixed.len() + tail.len();
        }
        len += a.len() + 1;
        chunk.push(a);
    }
    let _ = writeln!(s, "{fixed}{}{tail}", chunk.join(","));
}

/// Text that is safe anywhere in a batch file line (also inside `"..."`), cut to `max`:
/// double quotes become single quotes, other characters outside `plain_char` and `;'`
/// become `_`.
fn cmd_text(s: &str, max: usize) -> String {
    let s: String = s.chars().map(|c| if c == '"' { '\'' } else { c }).collect();
    restricted(&s, |c| plain_char(c) || c == ';' || c == '\'', max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_text_has_no_metacharacters() {
        let t = cmd_text("a%PATH%&del \"x\"^|<>!\n; it's", 100);
        assert_eq!(t, "a_PATH__del 'x'______; it's");
    }
}
