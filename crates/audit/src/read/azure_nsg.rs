//! Reader for Azure network security groups.
//!
//! `az network nsg show` / `list` (camelCase, flat), `Get-AzNetworkSecurityGroup |
//! ConvertTo-Json` (PascalCase) and ARM/REST (`properties`); `securityRules` and
//! `defaultSecurityRules` (the platform defaults are added when the export lacks them);
//! tags `*`/`Any`, `VirtualNetwork` (the deployment's own networks), `Internet` (everything
//! else) and `AzureLoadBalancer` (168.63.129.16); other tags and application security
//! groups make a rule "possible". Several NSGs in one file (a subnet's and a NIC's) apply in
//! series.
//!
//! Inbound rules see the flows into the deployment's networks, outbound rules the flows out
//! of them (with `--host`, the host's own flows).

use serde_json::Value;

use super::cloud::{cidr, hooks_for, internal_set};
use crate::model::{Action, Chain, Decision, Note, Platform, Rule, Ruleset};
use crate::read::clip;
use crate::space::{self, Cube, DPORT, DST, PROTO, SPORT, SRC, Set, TCP, UDP};
use crate::{ReadError, ReadOptions};

/// A field by any of its spellings (`sourcePortRange`, `SourcePortRange`), inside
/// `properties` when there is one.
fn field<'v>(v: &'v Value, name: &str) -> Option<&'v Value> {
    let get = |o: &'v Value| {
        o.as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    get(v).or_else(|| get(field_exact(v, "properties")?))
}

fn field_exact<'v>(v: &'v Value, name: &str) -> Option<&'v Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().flat_map(|x| strings(Some(x))).collect(),
        Some(Value::String(s)) if s.is_empty() => Vec::new(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(other) => vec![other.to_string()],
    }
}

/// Reads Azure NSG JSON (one NSG, or a list of them).
pub fn read(text: &str, name: &str, opts: &ReadOptions) -> Result<Ruleset, ReadError> {
    let v: Value = serde_json::from_str(text).map_err(|e| ReadError {
        location: format!("{name}:{}:{}", e.line(), e.column()),
        message: format!("not JSON: {e}"),
        hint: "give the output of `az network nsg show -g GROUP -n NSG` (or `list`)".into(),
    })?;
    let nsgs: Vec<(String, &Value)> = match &v {
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, x)| (format!("$[{i}]"), x))
            .collect(),
        Value::Object(_) => match field_exact(&v, "value").and_then(Value::as_array) {
            Some(a) => a
                .iter()
                .enumerate()
                .map(|(i, x)| (format!("$.value[{i}]"), x))
                .collect(),
            None => vec![("$".to_owned(), &v)],
        },
        _ => Vec::new(),
    };
    let internal = internal_set(opts);
    let mut notes = Vec::new();
    let mut chains = Vec::new();
    let (mut inbound, mut outbound) = (Vec::new(), Vec::new());
    for (path, nsg) in &nsgs {
        let nsg_name = strings(field_exact(nsg, "name"))
            .into_iter()
            .next()
            .map_or_else(|| path.clone(), |n| clip(&n));
        let mut rules: Vec<(i64, Option<bool>, Rule)> = Vec::new();
        let mut has_defaults = false;
        for key in ["securityRules", "defaultSecurityRules"] {
            let Some(list) = field(nsg, key).and_then(Value::as_array) else {
                continue;
            };
            has_defaults |= key == "defaultSecurityRules" && !list.is_empty();
            let range = if key == "securityRules" {
                USER
            } else {
                DEFAULTS
            };
            for (i, r) in list.iter().enumerate() {
                let loc = format!("{name}: {path}.{key}[{i}]");
                if let Some(x) = azure_rule(r, &loc, range, &internal, &mut notes)? {
                    rules.push(x);
                }
            }
        }
        if nsgs.is_empty()
            || (field(nsg, "securityRules").is_none()
                && field(nsg, "defaultSecurityRules").is_none())
        {
            continue;
        }
        if !has_defaults {
            notes.push(Note {
                location: format!("{name}: {path}"),
                message: format!("NSG {nsg_name}: no defaultSecurityRules in the export; Azure's defaults (65000-65500) are assumed"),
            });
            for (prio, inb, src, dst, allow, n) in [
                (
                    65000,
                    true,
                    "VirtualNetwork",
                    "VirtualNetwork",
                    true,
                    "AllowVnetInBound",
                ),
                (
                    65001,
                    true,
                    "AzureLoadBalancer",
                    "*",
                    true,
                    "AllowAzureLoadBalancerInBound",
                ),
                (65500, true, "*", "*", false, "DenyAllInBound"),
                (
                    65000,
                    false,
                    "VirtualNetwork",
                    "VirtualNetwork",
                    true,
                    "AllowVnetOutBound",
                ),
                (65001, false, "*", "Internet", true, "AllowInternetOutBound"),
                (65500, false, "*", "*", false, "DenyAllOutBound"),
            ] {
                let r = serde_json::json!({
                    "name": n, "priority": prio, "direction": if inb { "Inbound" } else { "Outbound" },
                    "access": if allow { "Allow" } else { "Deny" }, "protocol": "*",
                    "sourceAddressPrefix": src, "destinationAddressPrefix": dst,
                    "sourcePortRange": "*", "destinationPortRange": "*"
                });
                let loc = format!("{name}: {path} (default rule {n})");
                if let Some(x) = azure_rule(&r, &loc, DEFAULTS, &internal, &mut notes)? {
                    rules.push(x);
                }
            }
        }
        rules.sort_by_key(|(p, _, _)| *p);
        for dir_in in [true, false] {
            let idx = chains.len();
            let mut only = Cube::full();
            if dir_in {
                only.0[DST] = internal.clone();
            } else {
                only.0[SRC] = internal.clone();
            }
            chains.push(Chain {
                name: format!(
                    "NSG {nsg_name} {}",
                    if dir_in { "inbound" } else { "outbound" }
                ),
                rules: rules
                    .iter()
                    .filter(|r| r.1.is_none_or(|inbound| inbound == dir_in))
                    .map(|r| r.2.clone())
                    .collect(),
                // Every NSG ends in DenyAll; an NSG without it still denies.
                policy: Some(Decision::Drop),
                policy_location: format!("{name}: {path} (NSG {nsg_name}, implicit deny)"),
                only: if internal.is_empty() {
                    None
                } else {
                    Some(only)
                },
                index: None,
            });
            if dir_in {
                inbound.push(idx)
            } else {
                outbound.push(idx)
            }
        }
    }
    if chains.is_empty() {
        return Err(ReadError {
            location: format!("{name}: $"),
            message: "no NSG with securityRules found".into(),
            hint: "give the output of `az network nsg show -g GROUP -n NSG` (or Get-AzNetworkSecurityGroup | ConvertTo-Json -Depth 10)".into(),
        });
    }
    if nsgs.len() > 1 {
        notes.push(Note {
            location: name.to_owned(),
            message: format!(
                "{} NSGs: applied in series (as a subnet's and a NIC's NSG are)",
                nsgs.len()
            ),
        });
    }
    Ok(Ruleset {
        platform: Platform::AzureNsg,
        chains,
        hooks: hooks_for(inbound, outbound),
        notes,
        counters: false,
        no_chain: Decision::Accept,
        families: [true, true],
    })
}

/// The priorities of `securityRules` (Azure refuses others).
const USER: (i64, i64) = (100, 4096);
/// The priorities of `defaultSecurityRules`.
const DEFAULTS: (i64, i64) = (65000, 65500);

/// One Azure security rule: (priority, inbound (`None`: both directions, "possible"), rule);
/// `None` when skipped (with a note).
/// A priority that is missing, not a number or out of `range` is an error: the rule's
/// place in the order, and so every verdict after it, would be a guess.
fn azure_rule(
    r: &Value,
    at: &str,
    range: (i64, i64),
    internal: &Set,
    notes: &mut Vec<Note>,
) -> Result<Option<(i64, Option<bool>, Rule)>, ReadError> {
    let one = |k: &str| strings(field(r, k)).into_iter().next().unwrap_or_default();
    let rname = clip(&one("name"));
    let loc = format!("{at} \"{rname}\"");
    let given = field(r, "priority");
    let prio = match given.and_then(|p| p.as_i64().or_else(|| p.as_str()?.trim().parse().ok())) {
        Some(p) if (range.0..=range.1).contains(&p) => p,
        _ => {
            return Err(ReadError {
                location: format!("{at}.priority"),
                message: match given {
                    None => format!("the rule \"{rname}\" has no priority"),
                    Some(v) => format!(
                        "the priority {} of the rule \"{rname}\" is not a number from {} to {}",
                        clip(&v.to_string()),
                        range.0,
                        range.1
                    ),
                },
                hint: "every Azure security rule has a priority, 100-4096 (the default rules \
                       65000-65500), which orders it; give the export as az or \
                       Get-AzNetworkSecurityGroup wrote it"
                    .into(),
            });
        }
    };
    let mut possible = Vec::new();
    // A direction or an access not understood may be either: the rule is "possible" in
    // both directions, with no verdict the evaluator can follow (skipped, a deny would
    // vanish).
    let inbound = match one("direction").to_ascii_lowercase().as_str() {
        "inbound" | "0" => Some(true),
        "outbound" | "1" => Some(false),
        other => {
            notes.push(Note {
                location: loc.clone(),
                message: format!(
                    "direction `{}` is not understood; the rule is \"possible\" in both directions",
                    clip(other)
                ),
            });
            possible.push(format!("direction {}", clip(other)));
            None
        }
    };
    let allow = match one("access").to_ascii_lowercase().as_str() {
        "allow" | "0" => Some(true),
        "deny" | "1" => Some(false),
        other => {
            notes.push(Note {
                location: loc.clone(),
                message: format!(
                    "access `{}` is not understood; the rule is \"possible\"",
                    clip(other)
                ),
            });
            possible.push(format!("access {}", clip(other)));
            None
        }
    };
    let mut cube = Cube::full();
    match one("protocol").to_ascii_lowercase().as_str() {
        "*" | "any" | "" => {}
        "tcp" => cube.0[PROTO] = Set::one(TCP),
        "udp" => cube.0[PROTO] = Set::one(UDP),
        "icmp" => cube.0[PROTO] = Set::from_intervals(vec![(1, 1), (58, 58)]),
        "esp" => cube.0[PROTO] = Set::one(50),
        "ah" => cube.0[PROTO] = Set::one(51),
        other => possible.push(format!("protocol {}", clip(other))),
    }
    let mut addrs =
        |single: &str, plural: &str, asg: &str, dim: usize, possible: &mut Vec<String>| {
            let mut list = strings(field(r, single));
            list.extend(strings(field(r, plural)));
            let groups = !strings(field(r, asg)).is_empty()
                || field(r, asg)
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty());
            if groups {
                possible.push(format!("application security group in {asg}"));
            }
            if list.is_empty() {
                // Azure requires a prefix or a group: an export with neither may hold any
                // addresses (read as any, an allow would pass what it does not).
                if !groups {
                    possible.push(format!("no {single}"));
                }
                return;
            }
            let mut set = Set::empty();
            for a in &list {
                let s = match a.to_ascii_lowercase().as_str() {
                    "*" | "any" | "0.0.0.0/0" => Set::full(SRC),
                    "virtualnetwork" => internal.clone(),
                    "internet" => internal.complement(SRC),
                    "azureloadbalancer" => Set::one(space::addr_value(
                        "168.63.129.16".parse().expect("constant"),
                    )),
                    _ => match cidr(a) {
                        Some(s) => s,
                        None => {
                            possible.push(format!("service tag {}", clip(a)));
                            Set::full(SRC)
                        }
                    },
                };
                set = set.union(&s);
            }
            cube.0[dim] = set;
        };
    addrs(
        "sourceAddressPrefix",
        "sourceAddressPrefixes",
        "sourceApplicationSecurityGroups",
        SRC,
        &mut possible,
    );
    addrs(
        "destinationAddressPrefix",
        "destinationAddressPrefixes",
        "destinationApplicationSecurityGroups",
        DST,
        &mut possible,
    );
    for (single, plural, dim) in [
        ("sourcePortRange", "sourcePortRanges", SPORT),
        ("destinationPortRange", "destinationPortRanges", DPORT),
    ] {
        let mut list: Vec<(&str, String)> = Vec::new();
        for key in [single, plural] {
            list.extend(strings(field(r, key)).into_iter().map(|p| (key, p)));
        }
        if list.is_empty() {
            // Azure requires one of them: an export without either may hold any ports
            // (read as any, an allow would pass what it does not).
            possible.push(format!("no {single}"));
            notes.push(Note {
                location: loc.clone(),
                message: format!("neither {single} nor {plural}; the rule is \"possible\""),
            });
            continue;
        }
        if list.iter().any(|(_, p)| p == "*") {
            continue;
        }
        let mut iv = Vec::new();
        let mut exact = true;
        for (key, p) in &list {
            let (a, b) = p.split_once('-').unwrap_or((p, p));
            match (a.trim().parse::<u16>(), b.trim().parse::<u16>()) {
                (Ok(a), Ok(b)) if a <= b => iv.push((u128::from(a), u128::from(b))),
                _ => {
                    // The rule may match any port: it is "possible" on all of them.
                    exact = false;
                    possible.push(format!("port {}", clip(p)));
                    notes.push(Note {
                        location: loc.clone(),
                        message: format!(
                            "{key} `{}` is not understood; the rule is \"possible\"",
                            clip(p)
                        ),
                    });
                }
            }
        }
        if exact {
            cube.0[dim] = Set::from_intervals(iv);
        }
    }
    let text = format!(
        "{rname} {prio} {} {} {} {} -> {} {}",
        match inbound {
            Some(true) => "in",
            Some(false) => "out",
            None => "in|out",
        },
        match allow {
            Some(true) => "allow",
            Some(false) => "deny",
            None => "allow|deny",
        },
        one("protocol"),
        {
            let mut l = strings(field(r, "sourceAddressPrefix"));
            l.extend(strings(field(r, "sourceAddressPrefixes")));
            l.join(",")
        },
        {
            let mut l = strings(field(r, "destinationAddressPrefix"));
            l.extend(strings(field(r, "destinationAddressPrefixes")));
            l.join(",")
        },
        {
            let mut l = strings(field(r, "destinationPortRange"));
            l.extend(strings(field(r, "destinationPortRanges")));
            l.join(",")
        },
    );
    Ok(Some((
        prio,
        inbound,
        Rule {
            matches: cube,
            possible: if possible.is_empty() {
                None
            } else {
                Some(possible.join("; "))
            },
            action: match allow {
                Some(true) => Action::Accept,
                Some(false) => Action::Drop,
                None => Action::Unknown,
            },
            location: loc,
            text,
            hits: None,
            never_new: false,
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Verdict;
    use crate::test_support::verdict;

    fn opts() -> ReadOptions {
        ReadOptions {
            internal: vec!["192.0.2.0/24".parse().unwrap()],
            ..ReadOptions::default()
        }
    }

    /// An NSG: a deny of RDP (`deny` holds its fields) before an allow of everything.
    fn nsg(deny: &str) -> String {
        format!(
            r#"{{"name": "nsg1", "securityRules": [
              {{"name": "deny-rdp", "direction": "Inbound", "access": "Deny", "protocol": "Tcp",
                "sourceAddressPrefix": "*", "destinationAddressPrefix": "*",
                "sourcePortRange": "*", {deny}}},
              {{"name": "allow-all", "priority": 200, "direction": "Inbound", "access": "Allow",
                "protocol": "*", "sourceAddressPrefix": "*", "destinationAddressPrefix": "*",
                "sourcePortRange": "*", "destinationPortRange": "*"}}]}}"#
        )
    }

    fn rdp(rs: &Ruleset) -> Verdict {
        verdict(rs, "198.51.100.7", "192.0.2.5", TCP, 3389)
    }

    #[test]
    fn a_deny_in_priority_order_drops() {
        let rs = read(
            &nsg(r#""priority": 100, "destinationPortRange": "3389""#),
            "n.json",
            &opts(),
        )
        .unwrap();
        assert_eq!(rdp(&rs).decision(), Some(Decision::Drop));
    }

    #[test]
    fn a_missing_priority_is_an_error_at_the_rule() {
        let e = read(&nsg(r#""destinationPortRange": "3389""#), "n.json", &opts()).unwrap_err();
        assert_eq!(e.location, "n.json: $.securityRules[0].priority");
        assert!(e.message.contains("has no priority"), "{}", e.message);
    }

    #[test]
    fn a_misspelt_priority_is_an_error_at_the_rule() {
        let e = read(
            &nsg(r#""priorty": 100, "destinationPortRange": "3389""#),
            "n.json",
            &opts(),
        )
        .unwrap_err();
        assert_eq!(e.location, "n.json: $.securityRules[0].priority");
    }

    #[test]
    fn a_priority_out_of_range_is_an_error_at_the_rule() {
        let e = read(
            &nsg(r#""priority": 70000, "destinationPortRange": "3389""#),
            "n.json",
            &opts(),
        )
        .unwrap_err();
        assert_eq!(e.location, "n.json: $.securityRules[0].priority");
        assert!(e.message.contains("70000"), "{}", e.message);
        assert!(e.message.contains("from 100 to 4096"), "{}", e.message);
    }

    #[test]
    fn an_unreadable_port_makes_the_rule_possible_on_every_port() {
        let rs = read(
            &nsg(r#""priority": 100, "destinationPortRange": "3389-3390x""#),
            "n.json",
            &opts(),
        )
        .unwrap();
        // The deny may match: RDP is neither allowed nor missing.
        assert!(
            matches!(rdp(&rs), Verdict::Possible { .. }),
            "{:?}",
            rdp(&rs)
        );
        assert!(rs.notes.iter().any(|n| {
            n.message
                .contains("destinationPortRange `3389-3390x` is not understood")
                && n.location.contains("securityRules[0]")
        }));
        // A reversed range is as unreadable.
        let rs = read(
            &nsg(r#""priority": 100, "destinationPortRange": "3390-3389""#),
            "n.json",
            &opts(),
        )
        .unwrap();
        assert!(matches!(rdp(&rs), Verdict::Possible { .. }));
    }

    /// A deny whose access, direction or ports cannot be read is kept as "possible", never
    /// skipped: skipped, the allow after it would pass RDP.
    #[test]
    fn a_deny_read_in_part_makes_rdp_possible_not_allowed() {
        for (fields, note) in [
            (
                r#""priority": 100, "destinationPortRange": "3389", "access": "Denied""#,
                "access `denied` is not understood",
            ),
            (
                r#""priority": 100, "destinationPortRange": "3389", "direction": "Both""#,
                "direction `both` is not understood",
            ),
            (r#""priority": 100"#, "neither destinationPortRange nor"),
        ] {
            // Later keys win in serde_json's map: the misread value replaces the good one.
            let rs = read(&nsg(fields), "n.json", &opts()).unwrap();
            assert!(
                matches!(rdp(&rs), Verdict::Possible { .. }),
                "{fields}: {:?}",
                rdp(&rs)
            );
            assert!(
                rs.notes.iter().any(|n| n.message.contains(note)),
                "{fields}: {:?}",
                rs.notes
            );
        }
    }
}
