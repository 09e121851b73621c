//! Readers for Windows Firewall: the JSON the rdsports export script writes
//! ([`EXPORT_SCRIPT`]) and the rule strings Group Policy and the registry hold
//! (`v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=3389|...|`, MS-GPFAS 2.2.2.10).
//!
//! Semantics: only enabled rules of the chosen profile (default Domain) count; a block rule
//! beats an allow rule; an allow rule with "override block rules" (authenticated bypass)
//! beats a block but needs IPsec, so it is "possible"; otherwise the profile's default
//! action (inbound: Block when not configured; outbound: Allow). A rule scoped to a
//! program, a service, an app package, an interface, or a remote address keyword other than
//! `Any`/`LocalSubnet` is "possible". So is a rule whose `Enabled` (`Active`) is neither
//! true nor false, whose protocol is not understood, with a reversed port range or an empty
//! port or address field (`LPort=`): each with a note. A protocol number beyond 255 is an
//! error at the rule.

use std::net::IpAddr;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::model::{Action, Chain, Decision, Hook, Note, Platform, Rule, Ruleset};
use crate::read::clip;
use crate::space::{self, Cube, DPORT, DST, PROTO, SPORT, SRC, Set};
use crate::{ReadError, ReadOptions};

/// The PowerShell script `rdsports audit --windows-export-script` prints. It reads the
/// active policy store (local rules and Group Policy together) and writes one JSON file.
pub const EXPORT_SCRIPT: &str = include_str!("export-firewall.ps1");

/// A Windows rule before it becomes a [`Rule`].
#[derive(Debug, Default)]
pub(crate) struct WinRule {
    pub(crate) name: String,
    pub(crate) location: String,
    pub(crate) enabled: bool,
    pub(crate) inbound: bool,
    /// The direction was not understood: the rule is in both directions, "possible" (a
    /// scoped entry says why).
    pub(crate) both: bool,
    pub(crate) action: Option<WinAction>,
    pub(crate) profiles: u32,
    pub(crate) protocol: Option<u128>,
    pub(crate) local_ports: Vec<String>,
    pub(crate) remote_ports: Vec<String>,
    pub(crate) local_addrs: Vec<String>,
    pub(crate) remote_addrs: Vec<String>,
    pub(crate) scoped: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WinAction {
    Allow,
    Block,
    Bypass,
}

pub(crate) const DOMAIN: u32 = 1;
pub(crate) const PRIVATE: u32 = 2;
pub(crate) const PUBLIC: u32 = 4;

pub(crate) fn profile_bit(name: &str) -> Option<u32> {
    match name.trim().to_ascii_lowercase().as_str() {
        "domain" | "1" => Some(DOMAIN),
        "private" | "2" => Some(PRIVATE),
        "public" | "4" => Some(PUBLIC),
        _ => None,
    }
}

/// A value that may be a string, a number, a bool or a list of them, as strings.
fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().flat_map(|x| strings(Some(x))).collect(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Bool(b)) => vec![b.to_string()],
        Some(other) => vec![other.to_string()],
    }
}

fn one(v: Option<&Value>) -> String {
    strings(v).into_iter().next().unwrap_or_default()
}

/// The export script's JSON as written: the rules kept as text, each read on its own (so the
/// document is never one tree in memory: a tree of serde_json values takes about 30 times the
/// text).
#[derive(Deserialize)]
struct Export<'a> {
    #[serde(rename = "Rules", borrow)]
    rules: Vec<&'a RawValue>,
    #[serde(rename = "Profiles", default, borrow, deserialize_with = "present")]
    profiles: Option<&'a RawValue>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// Reads the JSON of the export script (UTF-8 text; use [`crate::decode`] for UTF-16).
pub fn read_json(text: &str, name: &str, opts: &ReadOptions) -> Result<Ruleset, ReadError> {
    let mut notes = Vec::new();
    // (Nested deeper than a tree may be, it is read as a tree, for the same error.)
    if super::object(text)
        && super::nesting(text) < 100
        && let Ok(doc) = serde_json::from_str::<Export>(text)
    {
        let mut win = Vec::with_capacity(doc.rules.len());
        for (i, r) in doc.rules.iter().enumerate() {
            let r: Value = serde_json::from_str(r.get()).unwrap_or(Value::Null);
            json_rule(i, &r, name, &mut notes, &mut win)?;
        }
        let profiles: Option<Value> = doc
            .profiles
            .and_then(|p| serde_json::from_str(p.get()).ok());
        return json_profiles(win, profiles.as_ref(), notes, name, opts);
    }
    let v: Value = serde_json::from_str(text).map_err(|e| ReadError {
        location: format!("{name}:{}:{}", e.line(), e.column()),
        message: format!("not JSON: {e}"),
        hint: "run the script of `rdsports audit --windows-export-script` and give its output file"
            .into(),
    })?;
    let Some(rules) = v.get("Rules").and_then(Value::as_array) else {
        return Err(ReadError {
            location: format!("{name}: $"),
            message: "no \"Rules\" array".into(),
            hint: "run the script of `rdsports audit --windows-export-script` and give its output file".into(),
        });
    };
    let mut win = Vec::with_capacity(rules.len());
    for (i, r) in rules.iter().enumerate() {
        json_rule(i, r, name, &mut notes, &mut win)?;
    }
    json_profiles(win, v.get("Profiles"), notes, name, opts)
}

/// Rule `i` of the export (`r`), added to `win` (or a note why not); a protocol number
/// beyond 255 is an error.
fn json_rule(
    i: usize,
    r: &Value,
    name: &str,
    notes: &mut Vec<Note>,
    win: &mut Vec<WinRule>,
) -> Result<(), ReadError> {
    let display = one(r.get("DisplayName"));
    let id = one(r.get("Name"));
    let shown = if display.is_empty() {
        id.clone()
    } else {
        display
    };
    let shown = clip(&shown);
    let location = format!("{name}: $.Rules[{i}] \"{shown}\"");
    let mut scoped = Vec::new();
    // True/False, or the NetSecurity enum's numbers (1 True, 2 False). Anything else may
    // be either: the rule is "possible" (read as disabled, a block rule would vanish).
    let enabled = match one(r.get("Enabled")).to_ascii_lowercase().as_str() {
        "true" | "1" => true,
        "false" | "2" => false,
        _ => {
            let v = clip(
                &r.get("Enabled")
                    .map_or_else(|| "(none)".into(), Value::to_string),
            );
            notes.push(Note {
                location: location.clone(),
                message: format!("Enabled {v} is not True or False; the rule is \"possible\""),
            });
            scoped.push(format!("Enabled {v} (enabled or not)"));
            true
        }
    };
    let direction = one(r.get("Direction")).to_ascii_lowercase();
    // A direction not understood may be either: the rule is "possible" in both (skipped, a
    // block rule would vanish).
    let (inbound, both) = match direction.as_str() {
        "inbound" | "1" => (true, false),
        "outbound" | "2" => (false, false),
        other => {
            notes.push(Note {
                location: location.clone(),
                message: format!(
                    "direction `{}` is not understood; the rule is \"possible\" in both directions",
                    clip(other)
                ),
            });
            scoped.push(format!("direction {} (inbound or outbound)", clip(other)));
            (true, true)
        }
    };
    let action = match one(r.get("Action")).to_ascii_lowercase().as_str() {
        "allow" | "2" => Some(WinAction::Allow),
        "block" | "4" => Some(WinAction::Block),
        _ => None,
    };
    let bypass = matches!(
        one(r.get("OverrideBlockRules"))
            .to_ascii_lowercase()
            .as_str(),
        "true" | "1"
    );
    let mut profiles = 0u32;
    for p in strings(r.get("Profile")) {
        let p = p.trim().to_ascii_lowercase();
        if p == "any" || p == "0" {
            profiles = DOMAIN | PRIVATE | PUBLIC;
        } else if let Ok(n) = p.parse::<u32>() {
            profiles |= n;
        } else {
            for part in p.split(',') {
                profiles |= profile_bit(part).unwrap_or(0);
            }
        }
    }
    let protocol = match one(r.get("Protocol")).to_ascii_lowercase().as_str() {
        "any" | "" | "256" => None,
        "tcp" => Some(space::TCP),
        "udp" => Some(space::UDP),
        "icmpv4" => Some(1),
        "icmpv6" => Some(58),
        n => match n.parse::<u128>() {
            Ok(p) if p < 256 => Some(p),
            Ok(p) => {
                return Err(ReadError {
                    location: format!("{name}: $.Rules[{i}].Protocol"),
                    message: format!("protocol {p} is not a number from 0 to 255 (or Any)"),
                    hint: "run the script of `rdsports audit --windows-export-script` and \
                           give its output file as it wrote it"
                        .into(),
                });
            }
            Err(_) => {
                // Any protocol, "possible": skipped, a block rule would vanish.
                notes.push(Note {
                    location: location.clone(),
                    message: format!(
                        "protocol `{}` is not understood; the rule is \"possible\"",
                        clip(n)
                    ),
                });
                scoped.push(format!("protocol {}", clip(n)));
                None
            }
        },
    };
    for (field, what) in [
        ("Program", "program"),
        ("Service", "service"),
        ("Package", "app package"),
        ("InterfaceAlias", "interface"),
        ("InterfaceType", "interface type"),
        ("LocalUser", "local user"),
        ("RemoteUser", "remote user"),
        ("RemoteMachine", "remote machine"),
    ] {
        let vals = strings(r.get(field));
        let any = vals.is_empty()
            || vals.iter().all(|s| {
                let s = s.trim().to_ascii_lowercase();
                s.is_empty() || s == "any" || s == "*" || (s == "0" && field == "InterfaceType")
            });
        if !any {
            scoped.push(format!("{what} {}", clip(&vals.join(","))));
        }
    }
    win.push(WinRule {
        name: shown,
        location,
        enabled,
        inbound,
        both,
        action: if bypass && action == Some(WinAction::Allow) {
            Some(WinAction::Bypass)
        } else {
            action
        },
        profiles,
        protocol,
        local_ports: strings(r.get("LocalPort")),
        remote_ports: strings(r.get("RemotePort")),
        local_addrs: strings(r.get("LocalAddress")),
        remote_addrs: strings(r.get("RemoteAddress")),
        scoped,
    });
    Ok(())
}

/// The rule set of the export's rules, with the profile's default actions from `profiles`.
fn json_profiles(
    win: Vec<WinRule>,
    profiles: Option<&Value>,
    notes: Vec<Note>,
    name: &str,
    opts: &ReadOptions,
) -> Result<Ruleset, ReadError> {
    // Profiles: default actions and whether the firewall is on.
    let mut defaults = (None, None, true);
    let wanted = opts.profile.as_deref().unwrap_or("domain");
    let wanted_bit = profile_bit(wanted).unwrap_or(DOMAIN);
    for (i, p) in profiles
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let pname = one(p.get("Name"));
        if profile_bit(&pname) != Some(wanted_bit) {
            continue;
        }
        // A value not understood is an error: read as a default, a profile that is off or
        // allows by default would be audited as one that blocks.
        let bad = |k: &str| ReadError {
            location: format!("{name}: $.Profiles[{i}].{k}"),
            message: format!(
                "{k} {} of the {} profile is not understood",
                clip(&p.get(k).map_or_else(|| "(none)".into(), Value::to_string)),
                clip(&pname)
            ),
            hint: "run the script of `rdsports audit --windows-export-script` and give its \
                   output file as it wrote it (actions: Allow, Block or NotConfigured; Enabled: \
                   True, False or NotConfigured)"
                .into(),
        };
        let act = |k: &str| match one(p.get(k)).to_ascii_lowercase().as_str() {
            "allow" | "2" => Ok(Some(Decision::Accept)),
            "block" | "4" => Ok(Some(Decision::Drop)),
            // NotConfigured: the Windows default.
            "notconfigured" | "0" | "" => Ok(None),
            _ => Err(bad(k)),
        };
        // GpoBoolean: False 0, True 1, NotConfigured 2 (the default: on).
        let enabled = match one(p.get("Enabled")).to_ascii_lowercase().as_str() {
            "false" | "0" => false,
            "true" | "1" | "notconfigured" | "2" | "" => true,
            _ => return Err(bad("Enabled")),
        };
        defaults = (
            act("DefaultInboundAction")?,
            act("DefaultOutboundAction")?,
            enabled,
        );
    }
    Ok(build(
        win,
        wanted_bit,
        defaults,
        notes,
        &format!("{name}: $.Profiles"),
        opts,
    ))
}

/// Reads rule strings (`v2.x|Action=...|`), one a line; other text on a line before `v2.`
/// (a registry value name, `reg query` columns) is ignored.
pub fn read_gpo(text: &str, name: &str, opts: &ReadOptions) -> Result<Ruleset, ReadError> {
    let mut notes = Vec::new();
    let mut win = Vec::new();
    let mut seen = 0;
    for (n, line) in text.lines().enumerate() {
        let Some(start) = line.find("v2.") else {
            if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
                notes.push(Note {
                    location: format!("{name}:{}", n + 1),
                    message: "no rule string (v2.x|...) on this line; skipped".into(),
                });
            }
            continue;
        };
        seen += 1;
        let location = format!("{name}:{}", n + 1);
        let mut r = WinRule {
            location: location.clone(),
            enabled: true,
            inbound: true,
            ..WinRule::default()
        };
        let mut profiles = 0;
        for field in line[start..].trim_end().split('|').skip(1) {
            if field.is_empty() {
                continue;
            }
            let (k, v) = field.split_once('=').unwrap_or((field, ""));
            match k {
                "Action" => {
                    r.action = match v {
                        "Allow" => Some(WinAction::Allow),
                        "Block" => Some(WinAction::Block),
                        "ByPass" => Some(WinAction::Bypass),
                        _ => None,
                    }
                }
                "Active" if v.eq_ignore_ascii_case("TRUE") => r.enabled = true,
                "Active" if v.eq_ignore_ascii_case("FALSE") => r.enabled = false,
                "Active" => {
                    // Enabled or not: the rule is "possible" (read as disabled, a block
                    // rule would vanish).
                    notes.push(Note {
                        location: location.clone(),
                        message: format!(
                            "Active={} is not TRUE or FALSE; the rule is \"possible\"",
                            clip(v)
                        ),
                    });
                    r.scoped
                        .push(format!("Active={} (enabled or not)", clip(v)));
                }
                "Dir" if v == "In" => r.inbound = true,
                "Dir" if v == "Out" => r.inbound = false,
                "Dir" => {
                    // Either direction: "possible" in both (read as one, a block rule
                    // would vanish from the other).
                    notes.push(Note {
                        location: location.clone(),
                        message: format!(
                            "Dir={} is not In or Out; the rule is \"possible\" in both directions",
                            clip(v)
                        ),
                    });
                    r.both = true;
                    r.scoped
                        .push(format!("Dir={} (inbound or outbound)", clip(v)));
                }
                "Protocol" => match v.parse::<u128>() {
                    Ok(p) if p < 256 => r.protocol = Some(p),
                    Ok(p) => {
                        return Err(ReadError {
                            location: location.clone(),
                            message: format!("Protocol={p} is not a number from 0 to 255"),
                            hint: "give the rule strings as the registry or the GPO holds them"
                                .into(),
                        });
                    }
                    Err(_) => {
                        notes.push(Note {
                            location: location.clone(),
                            message: format!(
                                "Protocol={} is not understood; the rule is \"possible\"",
                                clip(v)
                            ),
                        });
                        r.scoped.push(format!("Protocol={}", clip(v)));
                    }
                },
                "LPort" | "LPort2_10" | "LPort2_20" | "RPort" | "RPort2_10" | "LA4" | "LA6"
                | "LA42" | "LA62" | "RA4" | "RA6" | "RA42" | "RA62"
                    if v.trim().is_empty() =>
                {
                    // Empty is not "any" (Windows writes no field then): "possible".
                    notes.push(Note {
                        location: location.clone(),
                        message: format!("{k}= is empty; the rule is \"possible\""),
                    });
                    r.scoped.push(format!("empty {k}="));
                }
                "Profile" => profiles |= profile_bit(v).unwrap_or(0),
                "LPort" | "LPort2_10" | "LPort2_20" => r.local_ports.push(v.to_owned()),
                "RPort" | "RPort2_10" => r.remote_ports.push(v.to_owned()),
                "LA4" | "LA6" | "LA42" | "LA62" => r.local_addrs.push(v.to_owned()),
                "RA4" | "RA6" | "RA42" | "RA62" => r.remote_addrs.push(v.to_owned()),
                "Name" => r.name = clip(v),
                "App" => r.scoped.push(format!("program {}", clip(v))),
                "Svc" => r.scoped.push(format!("service {}", clip(v))),
                "PCross" | "AppPkgId" => r.scoped.push(format!("app package {}", clip(v))),
                "IF" | "IFType" => r.scoped.push(format!("interface {}", clip(v))),
                "LUAuth" | "RUAuth" | "RMauth" | "LUOwn" => {
                    r.scoped.push(format!("user {}", clip(v)))
                }
                "Desc" | "EmbedCtxt" | "Edge" | "Defer" | "Security" | "Security2"
                | "Security2_9" | "TTK" | "TTK2_22" | "TTK2_27" | "TTK2_28" | "NNm" => {}
                "ICMP4" | "ICMP6" => {}
                other => {
                    let other = clip(other);
                    notes.push(Note {
                        location: location.clone(),
                        message: format!(
                            "field {other} is not understood; the rule is \"possible\""
                        ),
                    });
                    r.scoped.push(format!("field {other}"));
                }
            }
        }
        r.profiles = if profiles == 0 {
            DOMAIN | PRIVATE | PUBLIC
        } else {
            profiles
        };
        if r.name.is_empty() {
            r.name = format!("rule on line {}", n + 1);
        }
        r.location = format!("{location} \"{}\"", r.name);
        win.push(r);
    }
    if seen == 0 {
        return Err(ReadError {
            location: format!("{name}:1:1"),
            message: "no Windows Firewall rule string (v2.x|Action=...|) found".into(),
            hint: "export HKLM\\SYSTEM\\CurrentControlSet\\Services\\SharedAccess\\Parameters\\FirewallPolicy\\FirewallRules (reg query) or use --windows-export-script".into(),
        });
    }
    notes.push(Note {
        location: name.to_owned(),
        message: "rule strings carry no profile defaults: inbound is taken as Block and \
                  outbound as Allow (the Windows defaults)"
            .into(),
    });
    let wanted = profile_bit(opts.profile.as_deref().unwrap_or("domain")).unwrap_or(DOMAIN);
    Ok(build(win, wanted, (None, None, true), notes, name, opts))
}

/// Addresses of a Windows address list; `Err` for a keyword the deployment cannot resolve.
fn addresses(list: &[String], opts: &ReadOptions, local: bool) -> Result<Set, String> {
    if list.is_empty() {
        return Ok(Set::full(SRC));
    }
    let mut iv = Vec::new();
    for item in list.iter().flat_map(|s| s.split(',')) {
        let item = item.trim();
        match item.to_ascii_lowercase().as_str() {
            "" | "any" | "*" => return Ok(Set::full(SRC)),
            "localsubnet" | "localsubnet4" | "localsubnet6" if !opts.local_subnet.is_empty() => {
                iv.extend(
                    opts.local_subnet
                        .iter()
                        .map(|n| space::net_bounds(n.trunc())),
                );
                continue;
            }
            "me" if local && !opts.local_address.is_empty() => {
                iv.extend(
                    opts.local_address
                        .iter()
                        .map(|n| space::net_bounds(n.trunc())),
                );
                continue;
            }
            _ => {}
        }
        let parsed = if let Some((a, b)) = item.split_once('-') {
            match (a.trim().parse::<IpAddr>(), b.trim().parse::<IpAddr>()) {
                (Ok(a), Ok(b)) => Some((space::addr_value(a), space::addr_value(b))),
                _ => None,
            }
        } else if let Some((a, m)) = item.split_once('/') {
            let addr = a.parse::<IpAddr>().ok();
            let len = m.parse::<u8>().ok().or_else(|| {
                let mask: std::net::Ipv4Addr = m.parse().ok()?;
                let bits = u32::from(mask);
                (bits.leading_ones() + bits.trailing_zeros() == 32)
                    .then_some(bits.leading_ones() as u8)
            });
            match (addr, len) {
                (Some(a), Some(l)) => ipnet::IpNet::new(a, l)
                    .ok()
                    .map(|n| space::net_bounds(n.trunc())),
                _ => None,
            }
        } else {
            item.parse::<IpAddr>().ok().map(|a| {
                let x = space::addr_value(a);
                (x, x)
            })
        };
        match parsed {
            Some(p) => iv.push(p),
            None => return Err(format!("address `{}`", clip(item))),
        }
    }
    Ok(Set::from_intervals(iv))
}

/// Ports of a Windows port list; `Err` for a keyword (RPC, RPC-EPMap, IPHTTPS ...).
fn ports(list: &[String]) -> Result<Set, String> {
    if list.is_empty() {
        return Ok(Set::full(DPORT));
    }
    let mut iv = Vec::new();
    for item in list.iter().flat_map(|s| s.split(',')) {
        let item = item.trim();
        if item.is_empty() || item.eq_ignore_ascii_case("any") {
            return Ok(Set::full(DPORT));
        }
        let (a, b) = item.split_once('-').unwrap_or((item, item));
        match (a.trim().parse::<u16>(), b.trim().parse::<u16>()) {
            (Ok(a), Ok(b)) if a <= b => iv.push((u128::from(a), u128::from(b))),
            // Reversed: it may mean the range or nothing ("possible" on every port).
            (Ok(_), Ok(_)) => return Err(format!("port range `{}` reversed", clip(item))),
            _ => {
                if item.eq_ignore_ascii_case("rpcepmap") || item.eq_ignore_ascii_case("rpc-epmap") {
                    iv.push((135, 135));
                } else {
                    return Err(format!("port keyword `{}`", clip(item)));
                }
            }
        }
    }
    Ok(Set::from_intervals(iv))
}

pub(crate) fn build(
    win: Vec<WinRule>,
    profile: u32,
    defaults: (Option<Decision>, Option<Decision>, bool),
    mut notes: Vec<Note>,
    profiles_location: &str,
    opts: &ReadOptions,
) -> Ruleset {
    let pname = match profile {
        DOMAIN => "Domain",
        PRIVATE => "Private",
        _ => "Public",
    };
    let mut chains = Vec::new();
    for inbound in [true, false] {
        let mut bypass = Vec::new();
        let mut block = Vec::new();
        let mut allow = Vec::new();
        for w in win.iter().filter(|w| w.both || w.inbound == inbound) {
            if !w.enabled || w.profiles & profile == 0 {
                continue;
            }
            let mut possible = w.scoped.clone();
            // An action not understood may be Block (which beats every Allow) or Allow: the
            // rule is "possible" with no verdict the evaluator follows, among the blocks
            // (skipped, a block would vanish).
            let action = w.action.unwrap_or_else(|| {
                if inbound || !w.both {
                    notes.push(Note {
                        location: w.location.clone(),
                        message: "action is not understood; the rule is \"possible\"".into(),
                    });
                }
                possible.push("action not understood (allow or block)".into());
                WinAction::Block
            });
            let mut cube = Cube::full();
            let (remote_dim, local_dim, rport_dim, lport_dim) = if inbound {
                (SRC, DST, SPORT, DPORT)
            } else {
                (DST, SRC, DPORT, SPORT)
            };
            if let Some(p) = w.protocol {
                cube.0[PROTO] = Set::one(p);
            }
            match addresses(&w.remote_addrs, opts, false) {
                Ok(s) => cube.0[remote_dim] = s,
                Err(e) => possible.push(format!("remote {e}")),
            }
            match addresses(&w.local_addrs, opts, true) {
                Ok(s) => cube.0[local_dim] = s,
                Err(e) => possible.push(format!("local {e}")),
            }
            let ported = matches!(w.protocol, Some(space::TCP) | Some(space::UDP));
            if ported {
                match ports(&w.local_ports) {
                    Ok(s) => cube.0[lport_dim] = s,
                    Err(e) => possible.push(format!("local {e}")),
                }
                match ports(&w.remote_ports) {
                    Ok(s) => cube.0[rport_dim] = s,
                    Err(e) => possible.push(format!("remote {e}")),
                }
            }
            let mut rule = Rule {
                matches: cube,
                possible: None,
                action: match (w.action, action) {
                    (None, _) => Action::Unknown,
                    (_, WinAction::Block) => Action::Drop,
                    _ => Action::Accept,
                },
                location: w.location.clone(),
                text: rule_text(w),
                hits: None,
                never_new: false,
            };
            if action == WinAction::Bypass {
                possible.push("authenticated bypass (needs IPsec authentication)".into());
            }
            if !possible.is_empty() {
                rule.possible = Some(possible.join("; "));
            }
            match action {
                WinAction::Bypass => bypass.push(rule),
                WinAction::Block => block.push(rule),
                WinAction::Allow => allow.push(rule),
            }
        }
        let (default, dir) = if inbound {
            (defaults.0.unwrap_or(Decision::Drop), "inbound")
        } else {
            (defaults.1.unwrap_or(Decision::Accept), "outbound")
        };
        let mut rules = bypass;
        rules.extend(block);
        rules.extend(allow);
        if !defaults.2 {
            notes.push(Note {
                location: profiles_location.to_owned(),
                message: format!("the {pname} profile is disabled: nothing is filtered"),
            });
            rules.clear();
        }
        chains.push(Chain {
            name: format!("{dir} ({pname} profile)"),
            rules,
            policy: Some(if defaults.2 {
                default
            } else {
                Decision::Accept
            }),
            policy_location: format!(
                "{profiles_location} ({pname} Default{}Action)",
                if inbound { "Inbound" } else { "Outbound" }
            ),
            only: None,
            index: None,
        });
    }
    Ruleset {
        platform: Platform::Windows,
        chains,
        hooks: vec![(Hook::Input, vec![0]), (Hook::Output, vec![1])],
        notes,
        counters: false,
        no_chain: Decision::Accept,
        families: [true, true],
    }
}

fn rule_text(w: &WinRule) -> String {
    let list = |v: &[String]| {
        if v.is_empty() {
            "Any".to_owned()
        } else {
            v.join(",")
        }
    };
    format!(
        "{} {} {} {} remote {} local {} port {}",
        w.name,
        match (w.both, w.inbound) {
            (true, _) => "in|out",
            (false, true) => "in",
            (false, false) => "out",
        },
        match w.action {
            Some(WinAction::Allow) => "allow",
            Some(WinAction::Block) => "block",
            Some(WinAction::Bypass) => "bypass",
            None => "?",
        },
        match w.protocol {
            None => "any".to_owned(),
            Some(p) => space::protos_text(&Set::one(p)),
        },
        list(&w.remote_addrs),
        list(&w.local_addrs),
        list(if w.inbound {
            &w.local_ports
        } else {
            &w.remote_ports
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{self, Verdict};

    /// The inbound verdict on TCP from 198.51.100.7 to 192.0.2.5 port `port`.
    fn inbound(rs: &Ruleset, port: u128) -> Verdict {
        let a = |s: &str| Set::one(space::addr_value(s.parse().unwrap()));
        let cube = Cube::full()
            .with(SRC, &a("198.51.100.7"))
            .with(DST, &a("192.0.2.5"))
            .with(PROTO, &Set::one(space::TCP))
            .with(SPORT, &Set::one(50000))
            .with(DPORT, &Set::one(port));
        let p = eval::evaluate(rs, Hook::Input, cube);
        assert_eq!(p.len(), 1, "{p:?}");
        p[0].verdict.clone()
    }

    fn possible(v: &Verdict) -> bool {
        matches!(v, Verdict::Possible { .. })
    }

    /// The export script's JSON: a block of RDP (`block` holds its own fields) and an
    /// allow of every TCP port.
    fn json(block: &str) -> String {
        format!(
            r#"{{"Rules": [
              {{"DisplayName": "block rdp", "Direction": "Inbound", "Action": "Block",
                "Profile": "Any", {block}}},
              {{"DisplayName": "allow tcp", "Enabled": "True", "Direction": "Inbound",
                "Action": "Allow", "Profile": "Any", "Protocol": "TCP", "LocalPort": ["Any"]}}]}}"#
        )
    }

    fn read_j(block: &str) -> Result<Ruleset, ReadError> {
        read_json(&json(block), "w.json", &ReadOptions::default())
    }

    #[test]
    fn json_block_beats_allow() {
        let rs = read_j(r#""Enabled": "True", "Protocol": "TCP", "LocalPort": ["3389"]"#).unwrap();
        assert_eq!(inbound(&rs, 3389).decision(), Some(Decision::Drop));
        assert_eq!(inbound(&rs, 443).decision(), Some(Decision::Accept));
        // Disabled (False, or the enum's 2): gone.
        for off in [r#""False""#, "2"] {
            let rs = read_j(&format!(
                r#""Enabled": {off}, "Protocol": "TCP", "LocalPort": ["3389"]"#
            ))
            .unwrap();
            assert_eq!(inbound(&rs, 3389).decision(), Some(Decision::Accept));
        }
    }

    #[test]
    fn json_an_unknown_enabled_makes_the_rule_possible() {
        let rs = read_j(r#""Enabled": "Maybe", "Protocol": "TCP", "LocalPort": ["3389"]"#).unwrap();
        assert!(possible(&inbound(&rs, 3389)));
        assert_eq!(inbound(&rs, 443).decision(), Some(Decision::Accept));
        assert!(
            rs.notes
                .iter()
                .any(|n| n.message.contains("Enabled \"Maybe\" is not True or False")),
            "{:?}",
            rs.notes
        );
    }

    #[test]
    fn json_a_protocol_beyond_255_is_an_error() {
        let e =
            read_j(r#""Enabled": "True", "Protocol": 70000, "LocalPort": ["3389"]"#).unwrap_err();
        assert_eq!(e.location, "w.json: $.Rules[0].Protocol");
        assert!(e.message.contains("protocol 70000"), "{}", e.message);
    }

    #[test]
    fn json_a_reversed_port_range_makes_the_rule_possible() {
        let rs =
            read_j(r#""Enabled": "True", "Protocol": "TCP", "LocalPort": ["3390-3389"]"#).unwrap();
        assert!(possible(&inbound(&rs, 3389)));
        assert!(possible(&inbound(&rs, 443)));
    }

    /// Rule strings: `block` (a block of TCP) then an allow of every TCP port.
    fn gpo(block: &str) -> Result<Ruleset, ReadError> {
        let text = format!(
            "v2.10|Action=Block|Dir=In|{block}|Name=block rdp|\n\
             v2.10|Action=Allow|Active=TRUE|Dir=In|Protocol=6|Name=allow tcp|\n"
        );
        read_gpo(&text, "g.txt", &ReadOptions::default())
    }

    #[test]
    fn gpo_block_beats_allow() {
        let rs = gpo("Active=TRUE|Protocol=6|LPort=3389").unwrap();
        assert_eq!(inbound(&rs, 3389).decision(), Some(Decision::Drop));
        assert_eq!(inbound(&rs, 443).decision(), Some(Decision::Accept));
        let rs = gpo("Active=FALSE|Protocol=6|LPort=3389").unwrap();
        assert_eq!(inbound(&rs, 3389).decision(), Some(Decision::Accept));
    }

    #[test]
    fn gpo_an_unknown_active_makes_the_rule_possible() {
        let rs = gpo("Active=YES|Protocol=6|LPort=3389").unwrap();
        assert!(possible(&inbound(&rs, 3389)));
        assert!(
            rs.notes.iter().any(|n| n.location == "g.txt:1"
                && n.message.contains("Active=YES is not TRUE or FALSE"))
        );
    }

    #[test]
    fn gpo_a_protocol_beyond_255_is_an_error() {
        let e = gpo("Active=TRUE|Protocol=300|LPort=3389").unwrap_err();
        assert_eq!(e.location, "g.txt:1");
        assert!(e.message.contains("Protocol=300"), "{}", e.message);
    }

    #[test]
    fn gpo_an_empty_port_makes_the_rule_possible() {
        // Read as "any port", the block would drop every TCP flow.
        let rs = gpo("Active=TRUE|Protocol=6|LPort=").unwrap();
        assert!(possible(&inbound(&rs, 443)));
        assert!(
            rs.notes
                .iter()
                .any(|n| n.message.contains("LPort= is empty"))
        );
    }

    /// A block rule whose direction or action cannot be read stays "possible", never
    /// skipped: skipped, the allow after it would pass RDP.
    #[test]
    fn a_block_read_in_part_makes_rdp_possible_not_allowed() {
        for (rs, note) in [
            (
                read_j(
                    r#""Enabled": "True", "Protocol": "TCP", "LocalPort": "3389", "Direction": "Both""#,
                ),
                "direction `both` is not understood",
            ),
            (
                read_j(
                    r#""Enabled": "True", "Protocol": "TCP", "LocalPort": "3389", "Action": "Deny""#,
                ),
                "action is not understood",
            ),
            (
                gpo("Active=TRUE|Protocol=6|LPort=3389|Dir=Both"),
                "Dir=Both is not In or Out",
            ),
            (
                gpo("Active=TRUE|Protocol=6|LPort=3389|Action=Deny"),
                "action is not understood",
            ),
        ] {
            let rs = rs.unwrap();
            assert!(
                possible(&inbound(&rs, 3389)),
                "{note}: {:?}",
                inbound(&rs, 3389)
            );
            assert_eq!(
                inbound(&rs, 443).decision(),
                Some(Decision::Accept),
                "{note}"
            );
            assert!(
                rs.notes.iter().any(|n| n.message.contains(note)),
                "{note}: {:?}",
                rs.notes
            );
        }
    }

    /// A profile whose Enabled or default action cannot be read is an error: read as the
    /// default, a profile that is off would be audited as one that filters.
    #[test]
    fn json_a_profile_value_not_understood_is_an_error() {
        for (field, value) in [
            ("Enabled", "Maybe"),
            ("DefaultInboundAction", "Permit"),
            ("DefaultOutboundAction", "7"),
        ] {
            let text = format!(
                r#"{{"Rules": [], "Profiles": [{{"Name": "Domain", "{field}": "{value}"}}]}}"#
            );
            let e = read_json(&text, "w.json", &ReadOptions::default()).unwrap_err();
            assert_eq!(e.location, format!("w.json: $.Profiles[0].{field}"));
            assert!(e.message.contains(value), "{}", e.message);
        }
        let ok = r#"{"Rules": [], "Profiles": [{"Name": "Domain", "Enabled": "NotConfigured",
            "DefaultInboundAction": "NotConfigured", "DefaultOutboundAction": "Allow"}]}"#;
        let rs = read_json(ok, "w.json", &ReadOptions::default()).unwrap();
        assert_eq!(inbound(&rs, 3389).decision(), Some(Decision::Drop));
    }
}
