//! Reader for the text of `netsh advfirewall firewall show rule name=all verbose` (English
//! output only), with the profiles' default actions from `netsh advfirewall show allprofiles`
//! when that output is given too.
//!
//! The rule listing is one block per rule, blocks separated by blank lines:
//!
//! ```text
//! Rule Name:                            Remote Desktop - User Mode (TCP-In)
//! ----------------------------------------------------------------------
//! Enabled:                              Yes
//! Direction:                            In
//! Profiles:                             Domain,Private,Public
//! ...
//! Action:                               Allow
//! ```
//!
//! netsh writes its field names in the display language of Windows; this reader knows the
//! English ones only and refuses any other language at the first field it does not know,
//! pointing to the export script (`rdsports audit --windows-export-script`), whose JSON
//! does not depend on the language.
//!
//! The listing holds no profile settings: the default inbound and outbound actions come from
//! `netsh advfirewall show allprofiles` (`Firewall Policy  BlockInbound,AllowOutbound`, and
//! `State`), else inbound is taken as Block and outbound as Allow (the Windows defaults),
//! and a note says so. Semantics are the JSON reader's (see [`windows`]): a rule
//! scoped to a program, a service, an interface type, an address keyword the deployment
//! cannot resolve, or needing IPsec (`Security` other than `NotRequired`) is "possible".

use crate::model::{Decision, Note, Ruleset};
use crate::read::clip;
use crate::read::windows::{self, DOMAIN, PRIVATE, PUBLIC, WinAction, WinRule};
use crate::{ReadError, ReadOptions};

/// What to do when the text is not English netsh output.
const HINT_LANGUAGE: &str = "rdsports reads netsh output in English only; run the script of \
     `rdsports audit --windows-export-script` on the host instead (its JSON does not depend \
     on the display language) and give its output file";

/// The fields of a rule block that this reader knows, in English.
const FIELDS: &[&str] = &[
    "Rule Name",
    "Description",
    "Enabled",
    "Direction",
    "Profiles",
    "Grouping",
    "LocalIP",
    "RemoteIP",
    "Protocol",
    "LocalPort",
    "RemotePort",
    "Edge traversal",
    "Program",
    "Service",
    "InterfaceTypes",
    "Security",
    "Rule source",
    "Action",
];

fn err(name: &str, line: usize, col: usize, message: String, hint: &str) -> ReadError {
    ReadError {
        location: format!("{name}:{line}:{col}"),
        message,
        hint: hint.to_owned(),
    }
}

/// A line that is only dashes (the line under `Rule Name:`).
fn is_separator(line: &str) -> bool {
    let t = line.trim();
    t.len() >= 3 && t.bytes().all(|b| b == b'-')
}

/// `Field:   value` split at the first colon, the value trimmed; `None` for a line with no
/// colon. Field names hold no colon; rule names may.
fn field(line: &str) -> Option<(&str, &str, usize)> {
    let i = line.find(':')?;
    let rest = &line[i + 1..];
    let lead = rest.len() - rest.trim_start().len();
    Some((line[..i].trim_end(), rest.trim(), i + 2 + lead))
}

/// Reads the rule listing `text` (named `name`), with `profiles`, the (name, text) of
/// `netsh advfirewall show allprofiles`, when given.
pub fn read(
    text: &str,
    name: &str,
    profiles: Option<(&str, &str)>,
    opts: &ReadOptions,
) -> Result<Ruleset, ReadError> {
    let mut notes = Vec::new();
    let mut win: Vec<WinRule> = Vec::new();
    // The rule being read: its rule, the line of `Rule Name:`, the fields seen, whether
    // the separator followed, the value of `Security`.
    struct Block {
        rule: WinRule,
        line: usize,
        seen: Vec<&'static str>,
        separated: bool,
        security: Option<String>,
        icmp: bool,
    }
    let mut cur: Option<Block> = None;
    let mut ended = false;
    let finish = |b: Block, win: &mut Vec<WinRule>, name: &str| -> Result<(), ReadError> {
        for required in ["Enabled", "Direction", "Action"] {
            if !b.seen.contains(&required) {
                return Err(err(
                    name,
                    b.line,
                    1,
                    format!("the rule \"{}\" has no `{required}:` line", b.rule.name),
                    "give the complete output of `netsh advfirewall firewall show rule name=all verbose`",
                ));
            }
        }
        let mut r = b.rule;
        if let Some(s) = b.security
            && !s.eq_ignore_ascii_case("notrequired")
            && r.action != Some(WinAction::Block)
        {
            r.scoped.push(format!("needs IPsec (Security {s})"));
        }
        if r.profiles == 0 {
            r.profiles = DOMAIN | PRIVATE | PUBLIC;
        }
        r.location = format!("{name}:{} \"{}\"", b.line, r.name);
        win.push(r);
        Ok(())
    };
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() {
            if let Some(b) = cur.take() {
                finish(b, &mut win, name)?;
            }
            continue;
        }
        let trimmed = line.trim();
        if ended {
            return Err(err(
                name,
                line_no,
                1,
                format!("text after the final `Ok.`: `{}`", clip(trimmed)),
                "give the output of one `netsh advfirewall firewall show rule name=all verbose`",
            ));
        }
        if trimmed == "Ok." {
            if let Some(b) = cur.take() {
                finish(b, &mut win, name)?;
            }
            ended = true;
            continue;
        }
        if trimmed == "No rules match the specified criteria." && cur.is_none() && win.is_empty() {
            notes.push(Note {
                location: format!("{name}:{line_no}"),
                message: "netsh lists no rules".into(),
            });
            continue;
        }
        let indented = line.starts_with(' ') || line.starts_with('\t');
        if let Some(b) = cur.as_mut() {
            if !b.separated {
                if is_separator(line) {
                    b.separated = true;
                    continue;
                }
                return Err(err(
                    name,
                    line_no,
                    1,
                    "expected the line of dashes under `Rule Name:`".into(),
                    "give the output of `netsh advfirewall firewall show rule name=all verbose` unchanged",
                ));
            }
            if indented {
                // The ICMP type/code table under `Protocol:` (`Type  Code`, `8  Any`).
                if b.icmp {
                    continue;
                }
                return Err(err(
                    name,
                    line_no,
                    1,
                    format!(
                        "an indented line outside an ICMP table: `{}`",
                        clip(trimmed)
                    ),
                    "give the output of `netsh advfirewall firewall show rule name=all verbose` unchanged",
                ));
            }
        }
        let Some((key, value, col)) = field(line) else {
            let (message, hint) = if cur.is_none() && win.is_empty() && looks_like_profiles(text) {
                (
                    "this is the output of `netsh advfirewall show allprofiles`, not the rule listing".to_owned(),
                    "give the rules (`netsh advfirewall firewall show rule name=all verbose`) with --rules and this file with --netsh-profiles",
                )
            } else {
                (
                    format!("not a `Field: value` line: `{}`", clip(trimmed)),
                    HINT_LANGUAGE,
                )
            };
            return Err(err(name, line_no, 1, message, hint));
        };
        let Some(&known) = FIELDS.iter().find(|f| **f == key) else {
            if cur.is_none() && win.is_empty() && looks_like_profiles(text) {
                return Err(err(
                    name,
                    line_no,
                    1,
                    "this is the output of `netsh advfirewall show allprofiles`, not the rule listing".into(),
                    "give the rules (`netsh advfirewall firewall show rule name=all verbose`) with --rules and this file with --netsh-profiles",
                ));
            }
            if let Some(b) = cur.as_mut()
                && key.is_ascii()
            {
                // Inside a rule that began with the English `Rule Name:`: a field this
                // version does not know (a later Windows may add one). The rule may depend
                // on it: "possible", and a note.
                notes.push(Note {
                    location: format!("{name}:{line_no}"),
                    message: format!(
                        "field `{}` is not understood; the rule \"{}\" is \"possible\"",
                        clip(key),
                        b.rule.name
                    ),
                });
                b.rule.scoped.push(format!("field {}", clip(key)));
                continue;
            }
            return Err(err(
                name,
                line_no,
                1,
                format!(
                    "`{}` is not a field of English netsh output (netsh writes its fields in \
                     the display language of Windows; only English is read)",
                    clip(key)
                ),
                HINT_LANGUAGE,
            ));
        };
        if known == "Rule Name" {
            if let Some(b) = cur.take() {
                // A new rule without the blank line between them.
                finish(b, &mut win, name)?;
            }
            cur = Some(Block {
                rule: WinRule {
                    name: clip(value),
                    ..WinRule::default()
                },
                line: line_no,
                seen: vec!["Rule Name"],
                separated: false,
                security: None,
                icmp: false,
            });
            continue;
        }
        let Some(b) = cur.as_mut() else {
            return Err(err(
                name,
                line_no,
                1,
                format!("`{known}:` before the first `Rule Name:`"),
                "give the output of `netsh advfirewall firewall show rule name=all verbose` unchanged",
            ));
        };
        if b.seen.contains(&known) {
            return Err(err(
                name,
                line_no,
                1,
                format!(
                    "`{known}:` a second time in the rule \"{}\" (line {}): is a blank line missing?",
                    b.rule.name, b.line
                ),
                "rules are separated by blank lines",
            ));
        }
        b.seen.push(known);
        let bad = |what: &str, expected: &str| {
            err(
                name,
                line_no,
                col,
                format!("{what} `{}` is not one of {expected}", clip(value)),
                HINT_LANGUAGE,
            )
        };
        let lower = value.to_ascii_lowercase();
        let list = |v: &str| -> Vec<String> {
            if v.eq_ignore_ascii_case("any") || v.is_empty() {
                Vec::new()
            } else {
                v.split(',').map(|s| s.trim().to_owned()).collect()
            }
        };
        let r = &mut b.rule;
        match known {
            "Enabled" => {
                r.enabled = match lower.as_str() {
                    "yes" => true,
                    "no" => false,
                    _ => return Err(bad("Enabled", "Yes, No")),
                }
            }
            "Direction" => {
                r.inbound = match lower.as_str() {
                    "in" => true,
                    "out" => false,
                    _ => return Err(bad("Direction", "In, Out")),
                }
            }
            "Profiles" => {
                for p in value.split(',') {
                    match p.trim().to_ascii_lowercase().as_str() {
                        "any" => r.profiles = DOMAIN | PRIVATE | PUBLIC,
                        "domain" => r.profiles |= DOMAIN,
                        "private" => r.profiles |= PRIVATE,
                        "public" => r.profiles |= PUBLIC,
                        _ => return Err(bad("Profiles", "Domain, Private, Public, Any")),
                    }
                }
            }
            "LocalIP" => r.local_addrs = list(value),
            "RemoteIP" => r.remote_addrs = list(value),
            "Protocol" => {
                r.protocol = match lower.as_str() {
                    "any" => None,
                    "tcp" => Some(crate::space::TCP),
                    "udp" => Some(crate::space::UDP),
                    "icmpv4" => {
                        b.icmp = true;
                        Some(1)
                    }
                    "icmpv6" => {
                        b.icmp = true;
                        Some(58)
                    }
                    n => match n.parse::<u8>() {
                        Ok(p) => Some(u128::from(p)),
                        Err(_) => {
                            return Err(bad(
                                "Protocol",
                                "TCP, UDP, ICMPv4, ICMPv6, Any or a number 0-255",
                            ));
                        }
                    },
                }
            }
            "LocalPort" => r.local_ports = list(value),
            "RemotePort" => r.remote_ports = list(value),
            "Program" | "Service" | "InterfaceTypes" if !list(value).is_empty() => {
                let what = match known {
                    "Program" => "program",
                    "Service" => "service",
                    _ => "interface type",
                };
                r.scoped.push(format!("{what} {}", clip(value)));
            }
            "Security" => b.security = Some(value.to_owned()),
            "Action" => {
                r.action = Some(match lower.as_str() {
                    "allow" => WinAction::Allow,
                    "block" => WinAction::Block,
                    "bypass" => WinAction::Bypass,
                    _ => return Err(bad("Action", "Allow, Block, Bypass")),
                })
            }
            // Shown, not filtering: the description, the group, edge traversal (which only
            // widens an allow to traffic through NAT edge devices, already in the address
            // space) and where the rule comes from.
            _ => {}
        }
    }
    if let Some(b) = cur.take() {
        finish(b, &mut win, name)?;
    }
    if win.is_empty() && notes.is_empty() {
        let message = if looks_like_profiles(text) {
            "this is the output of `netsh advfirewall show allprofiles`, not the rule listing"
        } else {
            "no `Rule Name:` block found"
        };
        return Err(err(
            name,
            1,
            1,
            message.into(),
            "give the output of `netsh advfirewall firewall show rule name=all verbose` with --rules",
        ));
    }
    let wanted =
        windows::profile_bit(opts.profile.as_deref().unwrap_or("domain")).unwrap_or(DOMAIN);
    let (defaults, location, always) = match profiles {
        Some((pname, ptext)) => {
            let p = read_profiles(ptext, pname, wanted)?;
            (p.defaults, p.location, p.block_inbound_always)
        }
        None => {
            notes.push(Note {
                location: name.to_owned(),
                message: "the rule listing carries no profile defaults: inbound is taken as \
                          Block and outbound as Allow (the Windows defaults); give the output of \
                          `netsh advfirewall show allprofiles` with --netsh-profiles to read them"
                    .into(),
            });
            ((None, None, true), name.to_owned(), false)
        }
    };
    let mut rs = windows::build(win, wanted, defaults, notes, &location, opts);
    if always && defaults.2 {
        // BlockInboundAlways ("Block all connections"): inbound rules are ignored.
        if let Some(inbound) = rs.chains.first_mut() {
            inbound.rules.clear();
            inbound.policy = Some(Decision::Drop);
        }
        rs.notes.push(Note {
            location,
            message: "the profile's policy is BlockInboundAlways: every inbound connection is \
                      blocked, whatever the rules allow"
                .into(),
        });
    }
    Ok(rs)
}

/// The chosen profile of `netsh advfirewall show allprofiles`.
struct Profile {
    /// (inbound, outbound, firewall on), as [`windows::build`] takes them.
    defaults: (Option<Decision>, Option<Decision>, bool),
    /// `FILE:LINE (Domain Profile Settings)`.
    location: String,
    /// `BlockInboundAlways`.
    block_inbound_always: bool,
}

fn looks_like_profiles(text: &str) -> bool {
    text.lines()
        .any(|l| l.trim_end().ends_with("Profile Settings:"))
}

/// Reads `netsh advfirewall show allprofiles` (or `show domainprofile` ...) for the profile
/// `wanted`.
fn read_profiles(text: &str, name: &str, wanted: u32) -> Result<Profile, ReadError> {
    let mut section: Option<u32> = None;
    // (line of the heading, (line, column, value) of `State`, of `Firewall Policy`).
    type At = Option<(usize, usize, String)>;
    let mut found: Option<(usize, At, At)> = None;
    let mut any = false;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r').trim_end();
        let t = line.trim();
        if let Some(head) = t.strip_suffix("Profile Settings:") {
            any = true;
            let bit = match head.trim() {
                "Domain" => DOMAIN,
                "Private" => PRIVATE,
                "Public" => PUBLIC,
                other => {
                    return Err(err(
                        name,
                        n + 1,
                        1,
                        format!(
                            "`{}` is not the Domain, Private or Public profile",
                            clip(other)
                        ),
                        "give the output of `netsh advfirewall show allprofiles` unchanged",
                    ));
                }
            };
            section = Some(bit);
            if bit == wanted {
                found = Some((n + 1, None, None));
            }
            continue;
        }
        if t.ends_with(':') && !t.contains(' ') {
            // A subsection (`Logging:`): its settings do not filter.
            section = section.map(|_| 0);
            continue;
        }
        if section != Some(wanted) {
            continue;
        }
        let Some(f) = found.as_mut() else { continue };
        let at = |v: &str| {
            let v = v.trim();
            (n + 1, line.rfind(v).map_or(1, |i| i + 1), v.to_owned())
        };
        if let Some(v) = t.strip_prefix("State ") {
            f.1 = Some(at(v));
        } else if let Some(v) = t.strip_prefix("Firewall Policy ") {
            f.2 = Some(at(v));
        }
    }
    let pname = match wanted {
        DOMAIN => "Domain",
        PRIVATE => "Private",
        _ => "Public",
    };
    if !any {
        return Err(err(
            name,
            1,
            1,
            "no `... Profile Settings:` heading (not the English output of `netsh advfirewall show allprofiles`)".into(),
            HINT_LANGUAGE,
        ));
    }
    let Some((line, state, policy)) = found else {
        return Err(err(
            name,
            1,
            1,
            format!("no `{pname} Profile Settings:` section"),
            "give the output of `netsh advfirewall show allprofiles`, or choose the profile with --profile",
        ));
    };
    let on = match state {
        None => true,
        Some((l, c, s)) => match s.to_ascii_uppercase().as_str() {
            "ON" => true,
            "OFF" => false,
            _ => {
                return Err(err(
                    name,
                    l,
                    c,
                    format!("State `{}` is not ON or OFF", clip(&s)),
                    HINT_LANGUAGE,
                ));
            }
        },
    };
    let Some((pl, pc, policy)) = policy else {
        return Err(err(
            name,
            line,
            1,
            format!("the {pname} profile has no `Firewall Policy` line"),
            "give the output of `netsh advfirewall show allprofiles` unchanged",
        ));
    };
    let mut inbound = None;
    let mut outbound = None;
    let mut always = false;
    for part in policy.split(',') {
        match part.trim().to_ascii_lowercase().as_str() {
            "blockinbound" => inbound = Some(Decision::Drop),
            "blockinboundalways" => {
                inbound = Some(Decision::Drop);
                always = true;
            }
            "allowinbound" => inbound = Some(Decision::Accept),
            "allowoutbound" => outbound = Some(Decision::Accept),
            "blockoutbound" => outbound = Some(Decision::Drop),
            "notconfigured" => {}
            other => {
                return Err(err(
                    name,
                    pl,
                    pc,
                    format!(
                        "Firewall Policy `{}` is not BlockInbound, BlockInboundAlways, \
                         AllowInbound, AllowOutbound, BlockOutbound or NotConfigured",
                        clip(other)
                    ),
                    HINT_LANGUAGE,
                ));
            }
        }
    }
    Ok(Profile {
        defaults: (inbound, outbound, on),
        location: format!("{name}:{pl}"),
        block_inbound_always: always,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval;
    use crate::model::Hook;
    use crate::space::{self, Cube, DPORT, DST, PROTO, SRC, Set};

    const RDP: &str = "\
Rule Name:                            Remote Desktop - User Mode (TCP-In)
----------------------------------------------------------------------
Description:                          Inbound rule for RDP traffic. [TCP 3389]
Enabled:                              Yes
Direction:                            In
Profiles:                             Domain,Private,Public
Grouping:                             Remote Desktop
LocalIP:                              Any
RemoteIP:                             198.51.100.0/255.255.255.0
Protocol:                             TCP
LocalPort:                            3389
RemotePort:                           Any
Edge traversal:                       No
Program:                              Any
Service:                              Any
InterfaceTypes:                       Any
Security:                             NotRequired
Rule source:                          Local Setting
Action:                               Allow

Ok.

";

    fn packet(src: &str, proto: u128, port: u128) -> Cube {
        let mut c = Cube::full();
        let a = space::addr_value(src.parse().unwrap());
        c.0[SRC] = Set::from_intervals(vec![(a, a)]);
        let d = space::addr_value("192.0.2.20".parse().unwrap());
        c.0[DST] = Set::from_intervals(vec![(d, d)]);
        c.0[PROTO] = Set::one(proto);
        c.0[DPORT] = Set::from_intervals(vec![(port, port)]);
        c
    }

    fn decide(rs: &Ruleset, src: &str, port: u128) -> Vec<Option<Decision>> {
        eval::evaluate(rs, Hook::Input, packet(src, space::TCP, port))
            .iter()
            .map(|p| p.verdict.decision())
            .collect()
    }

    #[test]
    fn reads_a_rule_and_decides_with_it() {
        let rs = read(RDP, "r.txt", None, &ReadOptions::default()).unwrap();
        assert_eq!(rs.chains[0].rules.len(), 1);
        let rule = &rs.chains[0].rules[0];
        assert_eq!(
            rule.location,
            "r.txt:1 \"Remote Desktop - User Mode (TCP-In)\""
        );
        assert!(rule.possible.is_none());
        assert_eq!(decide(&rs, "198.51.100.7", 3389), [Some(Decision::Accept)]);
        assert_eq!(decide(&rs, "203.0.113.7", 3389), [Some(Decision::Drop)]);
        assert_eq!(decide(&rs, "198.51.100.7", 3390), [Some(Decision::Drop)]);
        assert!(
            rs.notes
                .iter()
                .any(|n| n.message.contains("no profile defaults"))
        );
    }

    #[test]
    fn service_scoped_and_ipsec_rules_are_possible() {
        let text = RDP
            .replace(
                "Service:                              Any",
                "Service:                              termservice",
            )
            .replace("NotRequired", "Authenticate");
        let rs = read(&text, "r.txt", None, &ReadOptions::default()).unwrap();
        let why = rs.chains[0].rules[0].possible.clone().unwrap();
        assert!(why.contains("service termservice"), "{why}");
        assert!(why.contains("needs IPsec (Security Authenticate)"), "{why}");
    }

    #[test]
    fn other_languages_are_refused_at_the_first_field() {
        let german = "\nRegelname:                            Remotedesktop - Benutzermodus (TCP eingehend)\n\
                      ----------------------------------------------------------------------\n\
                      Aktiviert:                            Ja\n";
        let e = read(german, "de.txt", None, &ReadOptions::default()).unwrap_err();
        assert_eq!(e.location, "de.txt:2:1");
        assert!(
            e.message
                .contains("`Regelname` is not a field of English netsh output")
        );
        assert!(e.hint.contains("--windows-export-script"));
        // A known first field, then a localised value.
        let e = read(
            &RDP.replace(
                "Enabled:                              Yes",
                "Enabled:                              Ja",
            ),
            "r.txt",
            None,
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert_eq!(e.location, "r.txt:4:39");
        assert!(e.message.contains("Enabled `Ja`"), "{}", e.message);
    }

    #[test]
    fn an_unknown_english_field_makes_the_rule_possible() {
        let text = RDP.replace(
            "Action:      ",
            "Remote Machine Group:                 O:LSD:(A;;CC;;;S-1-5-21-1)\nAction:      ",
        );
        let rs = read(&text, "r.txt", None, &ReadOptions::default()).unwrap();
        let why = rs.chains[0].rules[0].possible.clone().unwrap();
        assert_eq!(why, "field Remote Machine Group");
        assert!(
            rs.notes
                .iter()
                .any(|n| n.location == "r.txt:19" && n.message.contains("not understood"))
        );
    }

    #[test]
    fn structure_errors_are_located() {
        let no_dashes = RDP.replace(
            "----------------------------------------------------------------------\n",
            "",
        );
        let e = read(&no_dashes, "r.txt", None, &ReadOptions::default()).unwrap_err();
        assert_eq!(e.location, "r.txt:2:1");
        let twice = RDP.replace("Action:                               Allow\n\n", "Action:                               Allow\nAction:                               Block\n");
        let e = read(&twice, "r.txt", None, &ReadOptions::default()).unwrap_err();
        assert!(e.location.starts_with("r.txt:20:"), "{}", e.location);
        let no_action = RDP.replace("Action:                               Allow\n", "");
        let e = read(&no_action, "r.txt", None, &ReadOptions::default()).unwrap_err();
        assert_eq!(e.location, "r.txt:1:1");
        assert!(e.message.contains("no `Action:` line"));
        let e = read("", "r.txt", None, &ReadOptions::default()).unwrap_err();
        assert!(e.message.contains("no `Rule Name:`"));
    }

    const PROFILES: &str = "
Domain Profile Settings:
----------------------------------------------------------------------
State                                 ON
Firewall Policy                       AllowInbound,BlockOutbound
LocalFirewallRules                    N/A (GPO-store only)

Logging:
LogAllowedConnections                 Disable
FileName                              %systemroot%\\system32\\LogFiles\\Firewall\\pfirewall.log

Private Profile Settings:
----------------------------------------------------------------------
State                                 OFF
Firewall Policy                       BlockInboundAlways,AllowOutbound

Public Profile Settings:
----------------------------------------------------------------------
State                                 ON
Firewall Policy                       BlockInboundAlways,AllowOutbound

Ok.
";

    #[test]
    fn profile_defaults_come_from_show_allprofiles() {
        let opts = ReadOptions::default();
        let rs = read(RDP, "r.txt", Some(("p.txt", PROFILES)), &opts).unwrap();
        assert_eq!(rs.chains[0].policy, Some(Decision::Accept));
        assert_eq!(rs.chains[1].policy, Some(Decision::Drop));
        assert_eq!(
            rs.chains[0].policy_location,
            "p.txt:5 (Domain DefaultInboundAction)"
        );
        assert!(
            !rs.notes
                .iter()
                .any(|n| n.message.contains("no profile defaults"))
        );
        // Private: the firewall is off.
        let private = ReadOptions {
            profile: Some("private".into()),
            ..ReadOptions::default()
        };
        let rs = read(RDP, "r.txt", Some(("p.txt", PROFILES)), &private).unwrap();
        assert!(rs.chains[0].rules.is_empty());
        assert_eq!(rs.chains[0].policy, Some(Decision::Accept));
        // Public: block all inbound connections, whatever the rules allow.
        let public = ReadOptions {
            profile: Some("public".into()),
            ..ReadOptions::default()
        };
        let rs = read(RDP, "r.txt", Some(("p.txt", PROFILES)), &public).unwrap();
        assert_eq!(decide(&rs, "198.51.100.7", 3389), [Some(Decision::Drop)]);
        assert!(
            rs.notes
                .iter()
                .any(|n| n.message.contains("BlockInboundAlways"))
        );
    }

    #[test]
    fn profiles_errors_are_located() {
        let opts = ReadOptions::default();
        let e = read(
            RDP,
            "r.txt",
            Some(("p.txt", "Domänenprofil-Einstellungen:\n")),
            &opts,
        )
        .unwrap_err();
        assert_eq!(e.location, "p.txt:1:1");
        assert!(e.hint.contains("--windows-export-script"));
        let bad = PROFILES.replace("AllowInbound,BlockOutbound", "ErlaubenEingehend");
        let e = read(RDP, "r.txt", Some(("p.txt", &bad)), &opts).unwrap_err();
        assert_eq!(e.location, "p.txt:5:39");
        // The profiles given as the rule listing.
        let e = read(PROFILES, "p.txt", None, &opts).unwrap_err();
        assert!(e.message.contains("show allprofiles"), "{}", e.message);
        assert!(e.hint.contains("--netsh-profiles"));
    }

    proptest::proptest! {
        /// Any mix of netsh-shaped lines (known and unknown fields, dashes, ICMP tables,
        /// blank lines, `Ok.`), for both inputs: an error or a rule set, never a panic.
        #[test]
        fn netsh_shaped_text_never_panics(
            lines in proptest::collection::vec((0usize..24, "[ -~]{0,12}"), 0..60),
            plines in proptest::collection::vec((0usize..8, "[ -~]{0,12}"), 0..20),
        ) {
            let mut text = String::new();
            for (k, v) in &lines {
                match FIELDS.get(*k) {
                    Some(f) => text.push_str(&format!("{f}:   {v}\n")),
                    None => text.push_str(match k % 6 {
                        0 => "\n",
                        1 => "-------------------------\n",
                        2 => "                  8   Any\n",
                        3 => "Ok.\n",
                        4 => "Regelname:  x\n",
                        _ => "Rule Name:  r\n-----\nEnabled: Yes\nDirection: In\nAction: Allow\n",
                    }),
                }
            }
            let mut ptext = String::new();
            for (k, v) in &plines {
                ptext.push_str(match k {
                    0 => "Domain Profile Settings:\n",
                    1 => "Public Profile Settings:\n",
                    2 => "Logging:\n",
                    3 => "State ",
                    4 => "Firewall Policy ",
                    _ => "",
                });
                ptext.push_str(v);
                ptext.push('\n');
            }
            for profile in ["domain", "public"] {
                let opts = ReadOptions { profile: Some(profile.into()), ..ReadOptions::default() };
                let _ = read(&text, "t", None, &opts);
                let _ = read(&text, "t", Some(("p", &ptext)), &opts);
            }
        }
    }
}
