//! Azure network security groups: an ARM template (JSON) with one NSG per zone.
//!
//! Each zone's NSG gets an inbound allow rule for every aggregated rule that enters the zone
//! (flows inside the zone too: a subnet's NSG also filters traffic within the subnet), and with
//! `--outbound` an outbound rule for every rule that leaves it. Priorities are deterministic:
//! rules in policy order from 100 in steps of 10 (steps of 1 when that does not fit). Enforcing
//! (the default) gives every zone in scope an NSG ending in a deny-all at 4096, with the
//! AzureLoadBalancer probe source allowed at 4095 and `--keep` entries from 4000. `0.0.0.0/0` becomes the service tag `Internet`.
//! Zones that hold the whole address space (the internet) get no NSG.
//!
//! All JSON is written by `serde_json`; strings that ARM would read as template expressions
//! (`[...]`) are escaped by [`arm_str`]; resource and rule names are restricted to the
//! characters Azure accepts. This module does not talk to Azure.

use std::collections::BTreeSet;

use ipnet::IpNet;
use rdsports_core::model::Protocol;
use serde_json::{Value, json};

use super::naming::{Namer, trace, truncate_chars};
use super::view::{View, boundary_zones};
use super::{
    Capabilities, FtpSupport, Generator, RenderOptions, Rendered, Scope, require_no_ftp_helper,
};
use crate::error::GenError;
use crate::policy::{Policy, Rule};

/// The `azure-nsg` target.
pub struct AzureNsg;

/// ARM template schema.
pub const SCHEMA: &str =
    "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#";
/// API version of `Microsoft.Network/networkSecurityGroups`.
pub const API_VERSION: &str = "2023-09-01";
/// Lowest and highest priority of a security rule.
pub const PRIORITY: (u32, u32) = (100, 4096);
/// Priority of the first `--keep` allow.
const KEEP_PRIORITY: usize = 4000;
/// Security rules per NSG.
const RULES_MAX: usize = 1000;
/// Address prefixes per NSG (sources and destinations over all rules).
const PREFIXES_MAX: usize = 4000;
/// Longest rule description.
const DESCRIPTION_MAX: usize = 140;
/// Longest resource or rule name.
const NAME_MAX: usize = 80;

impl Generator for AzureNsg {
    fn name(&self) -> &'static str {
        "azure-nsg"
    }

    fn description(&self) -> &'static str {
        "Azure: an ARM template with one network security group per zone"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            scope: Scope::Cloud,
            host: false,
            boundary: true,
            outbound: true,
            default_drop: true,
            keep: true,
            merge: false,
            host_variant: false,
            ftp: FtpSupport::Unsupported,
        }
    }

    fn render(&self, policy: &Policy, opts: &RenderOptions) -> Result<Rendered, GenError> {
        let mut out = Rendered::default();
        let (scope, pick): (Policy, Box<dyn Fn(usize, usize) -> bool>) = match &opts.boundary {
            Some((a, b)) => {
                let (za, zb) = boundary_zones(policy, a, b)?;
                (
                    policy.boundary(za, zb),
                    Box::new(move |x, y| (x, y) == (za, zb) || (x, y) == (zb, za)),
                )
            }
            None => (
                policy.with_rules(policy.rules.clone()),
                Box::new(|_, _| true),
            ),
        };
        require_no_ftp_helper(self.name(), &scope)?;
        let mut names = Namer::new(self.name(), "zone name (NSG name)", name_char, NAME_MAX);
        let dep = names.name(&policy.context.name);
        let mut resources = Vec::new();
        let mut internet_tag = false;
        for (z, zone) in policy.context.zones.iter().enumerate() {
            let counts = &policy.counts;
            let before_in = counts.zones(|x, y| y == z && pick(x, y));
            let before_out = counts.zones(|x, y| x == z && pick(x, y));
            let inbound = View::new(scope.into_zone(z), before_in, opts);
            let outbound = opts
                .outbound
                .then(|| View::new(scope.out_of_zone(z), before_out, opts));
            let used = !inbound.policy.rules.is_empty()
                || outbound
                    .as_ref()
                    .is_some_and(|o| !o.policy.rules.is_empty());
            if zone.networks.iter().any(|n| n.prefix_len() == 0) {
                if !inbound.policy.rules.is_empty() {
                    out.warnings.push(format!(
                        "azure-nsg: zone {:?} holds the whole address space (the internet), so it \
                         gets no NSG; its inbound flows ({}) are left to the far side",
                        zone.name,
                        ids_of(&inbound.policy).join(", ")
                    ));
                }
                continue;
            }
            // Enforcing: every zone in scope gets an NSG (one that only denies when no flow
            // enters it), or Azure's AllowVnetInBound would let the whole network in.
            let in_scope =
                opts.boundary.is_none() || (0..policy.context.zones.len()).any(|o| pick(z, o));
            if !(used || (opts.drops() && in_scope)) {
                continue;
            }
            let nsg = names.name(&format!("nsg-{dep}-{}", zone.name));
            let mut rules = Vec::new();
            let mut prefixes = 0usize;
            let mut rule_names = Namer::new(self.name(), "rule name", name_char, NAME_MAX);
            let mut dirs = vec![(Dir::Inbound, &inbound)];
            dirs.extend(outbound.as_ref().map(|o| (Dir::Outbound, o)));
            for (dir, view) in dirs {
                let n = view.policy.rules.len();
                // Planned rules stay below the keeps (4000 up), the load balancer (4095) and
                // the deny-all (4096) when enforcing.
                let ceiling = if opts.drops() {
                    KEEP_PRIORITY
                } else {
                    PRIORITY.1 as usize
                };
                let step = if PRIORITY.0 as usize + n.saturating_sub(1) * 10 < ceiling {
                    10
                } else {
                    1
                };
                if PRIORITY.0 as usize + n.saturating_sub(1) * step >= ceiling {
                    return Err(limit(&nsg, "allow rules", ceiling - PRIORITY.0 as usize, n));
                }
                if KEEP_PRIORITY + opts.keep.len() >= PRIORITY.1 as usize - 1 {
                    return Err(limit(&nsg, "--keep entries", 95, opts.keep.len()));
                }
                for (i, r) in view.policy.rules.iter().enumerate() {
                    let priority = PRIORITY.0 as usize + i * step;
                    let (rule, count, tag) =
                        security_rule(&view.policy, r, dir, priority, &mut rule_names);
                    prefixes += count;
                    internet_tag |= tag;
                    rules.push(rule);
                }
                if opts.drops() {
                    if dir == Dir::Inbound {
                        for (i, k) in opts.keep.iter().enumerate() {
                            rules.push(keep_rule(k, i));
                        }
                        rules.push(load_balancer());
                    }
                    rules.push(deny_all(dir));
                }
                out.rules_before += view.before;
                out.rules_after += n;
            }
            if rules.len() > RULES_MAX {
                return Err(limit(&nsg, "security rules", RULES_MAX, rules.len()));
            }
            if prefixes > PREFIXES_MAX {
                return Err(limit(&nsg, "address prefixes", PREFIXES_MAX, prefixes));
            }
            out.warnings.extend(rule_names.into_warnings());
            resources.push(json!({
                "type": "Microsoft.Network/networkSecurityGroups",
                "apiVersion": API_VERSION,
                "name": nsg,
                "location": "[parameters('location')]",
                "tags": {
                    "rdsports-deployment": arm_str(&policy.context.name),
                    "rdsports-zone": arm_str(&zone.name),
                },
                "properties": { "securityRules": rules },
            }));
        }
        if internet_tag {
            out.warnings.push(
                "azure-nsg: the whole address space (0.0.0.0/0, ::/0) is written as the service \
                 tag Internet (addresses outside the virtual network)"
                    .to_owned(),
            );
        }
        if opts.drops() {
            out.warnings.push(
                "azure-nsg: enforcing: the deny-all at priority 4096 overrides Azure's \
                 AllowVnetInBound (65000), so hosts of the virtual network, peered networks and \
                 on-premises space reach only the planned ports; AzureLoadBalancer probes stay \
                 allowed (priority 4095)"
                    .to_owned(),
            );
        }
        let template = json!({
            "$schema": SCHEMA,
            "contentVersion": "1.0.0.0",
            "metadata": {
                "generator": "rdsports",
                "deployment": arm_str(&policy.context.name),
                "flows": out.rules_before,
                "rulesAfterAggregation": out.rules_after,
                "enforcement": enforcement(opts),
            },
            "parameters": {
                "location": {
                    "type": "string",
                    "defaultValue": "[resourceGroup().location]",
                    "metadata": { "description": "Region of the network security groups." },
                },
            },
            "resources": resources,
        });
        let text = super::naming::json_text(&template);
        let mut files = Namer::new(
            self.name(),
            "deployment name (file name)",
            super::naming::ident_char,
            64,
        );
        let file = format!("{}.azure.json", files.name(&policy.context.name));
        out.warnings.extend(files.into_warnings());
        out.files.push((file, text));
        out.warnings.extend(names.into_warnings());
        Ok(out)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Inbound,
    Outbound,
}

impl Dir {
    fn word(self) -> &'static str {
        match self {
            Dir::Inbound => "Inbound",
            Dir::Outbound => "Outbound",
        }
    }
}

fn limit(nsg: &str, what: &str, limit: usize, got: usize) -> GenError {
    GenError::LimitExceeded {
        target: "azure-nsg",
        what: format!("{what} in NSG {nsg}"),
        limit,
        got,
        hint: "render one boundary at a time (--boundary) or split the zone",
    }
}

fn ids_of(policy: &Policy) -> Vec<String> {
    let ids: BTreeSet<&str> = policy.rules.iter().flat_map(|r| policy.ids(r)).collect();
    ids.into_iter().map(str::to_owned).collect()
}

/// One security rule; also returns how many address prefixes it uses and whether it used the
/// `Internet` tag.
fn security_rule(
    policy: &Policy,
    rule: &Rule,
    dir: Dir,
    priority: usize,
    names: &mut Namer,
) -> (Value, usize, bool) {
    let ids = policy.ids(rule).join("-");
    let dir_short = if dir == Dir::Inbound { "in" } else { "out" };
    let mut name = names.name(&format!("allow-{dir_short}-{priority}-{ids}"));
    // Azure: a name ends with a word character or `_`.
    while name.ends_with(['-', '.']) {
        name.pop();
        name.push('_');
    }
    let mut description = trace(policy, rule);
    truncate_chars(&mut description, DESCRIPTION_MAX);
    let (src, tag_s) = prefixes(&rule.sources);
    let (dst, tag_d) = prefixes(&rule.destinations);
    let ports: Vec<String> = rule.ports.iter().map(ToString::to_string).collect();
    let count = src.len() + dst.len();
    let mut props = serde_json::Map::new();
    props.insert("description".into(), json!(arm_str(&description)));
    props.insert("protocol".into(), json!(protocol(rule.protocol)));
    props.insert("sourcePortRange".into(), json!("*"));
    one_or_many(
        &mut props,
        "destinationPortRange",
        "destinationPortRanges",
        ports,
    );
    one_or_many(
        &mut props,
        "sourceAddressPrefix",
        "sourceAddressPrefixes",
        src,
    );
    one_or_many(
        &mut props,
        "destinationAddressPrefix",
        "destinationAddressPrefixes",
        dst,
    );
    props.insert("access".into(), json!("Allow"));
    props.insert("priority".into(), json!(priority));
    props.insert("direction".into(), json!(dir.word()));
    (
        json!({ "name": name, "properties": props }),
        count,
        tag_s || tag_d,
    )
}

/// What the template enforces, for its metadata (JSON has no comments).
fn enforcement(opts: &RenderOptions) -> String {
    if !opts.drops() {
        return "allow-only (--allow-only): no deny-all; Azure's default rules (AllowVnetInBound \
                at 65000) still let the whole virtual network in"
            .to_owned();
    }
    let mut s = "enforcing: each NSG denies at priority 4096 every inbound connection no rule \
                 allows (Azure's AllowVnetInBound at 65000 is overridden); AzureLoadBalancer \
                 probes are allowed at 4095"
        .to_owned();
    if opts.outbound {
        s.push_str("; outbound is denied at 4096 except the planned flows");
    } else {
        s.push_str("; outbound stays as Azure's defaults allow (render --outbound to restrict it)");
    }
    if opts.keep.is_empty() {
        s.push_str("; keeps: nothing the plan does not need");
    } else {
        let k: Vec<String> = opts.keep.iter().map(ToString::to_string).collect();
        s.push_str(&format!(
            "; keeps (--keep, priority 4000 up): {}",
            k.join(", ")
        ));
    }
    s
}

/// An inbound allow for a `--keep` entry, at 4000 + its index.
fn keep_rule(k: &super::Keep, i: usize) -> Value {
    let (proto, ports) = match k.ports {
        None => ("*", "*".to_owned()),
        Some((p, r)) => (protocol(p), r.to_string()),
    };
    let (src, _) = prefixes(&[k.source]);
    json!({
        "name": format!("keep-{}", i + 1),
        "properties": {
            "description": arm_str(&format!("rdsports keep {}: {k}", i + 1)),
            "protocol": proto,
            "sourcePortRange": "*",
            "destinationPortRange": ports,
            "sourceAddressPrefix": src.first().cloned().unwrap_or_else(|| "*".to_owned()),
            "destinationAddressPrefix": "*",
            "access": "Allow",
            "priority": KEEP_PRIORITY + i,
            "direction": "Inbound",
        },
    })
}

/// Azure's load balancer health probes (source tag AzureLoadBalancer), which the deny-all
/// would otherwise block.
fn load_balancer() -> Value {
    json!({
        "name": "allow-azure-load-balancer",
        "properties": {
            "description": "rdsports: Azure load balancer health probes",
            "protocol": "*",
            "sourcePortRange": "*",
            "destinationPortRange": "*",
            "sourceAddressPrefix": "AzureLoadBalancer",
            "destinationAddressPrefix": "*",
            "access": "Allow",
            "priority": PRIORITY.1 - 1,
            "direction": "Inbound",
        },
    })
}

fn deny_all(dir: Dir) -> Value {
    let name = if dir == Dir::Inbound {
        "deny-all-inbound"
    } else {
        "deny-all-outbound"
    };
    json!({
        "name": name,
        "properties": {
            "description": "rdsports default drop",
            "protocol": "*",
            "sourcePortRange": "*",
            "destinationPortRange": "*",
            "sourceAddressPrefix": "*",
            "destinationAddressPrefix": "*",
            "access": "Deny",
            "priority": PRIORITY.1,
            "direction": dir.word(),
        },
    })
}

fn one_or_many(
    props: &mut serde_json::Map<String, Value>,
    one: &str,
    many: &str,
    mut items: Vec<String>,
) {
    if items.len() == 1 {
        props.insert(one.to_owned(), json!(items.pop()));
    } else {
        props.insert(many.to_owned(), json!(items));
    }
}

/// Address prefixes; the whole address space becomes the `Internet` tag (once).
fn prefixes(nets: &[IpNet]) -> (Vec<String>, bool) {
    let mut out = Vec::new();
    let mut tag = false;
    for n in nets {
        if n.prefix_len() == 0 {
            if !tag {
                out.push("Internet".to_owned());
            }
            tag = true;
        } else if n.prefix_len() == n.max_prefix_len() {
            out.push(n.addr().to_string());
        } else {
            out.push(n.to_string());
        }
    }
    (out, tag)
}

fn protocol(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "Tcp",
        Protocol::Udp => "Udp",
    }
}

/// Name characters Azure accepts: ASCII word characters, `.`, `-`.
fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// A string ARM reads literally: one that starts with `[` and ends with `]` would be a
/// template expression, so it gets a second `[` (ARM's escape).
pub fn arm_str(s: &str) -> String {
    if s.starts_with('[') && s.ends_with(']') {
        format!("[{s}")
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_are_escaped() {
        assert_eq!(arm_str("[concat('a')]"), "[[concat('a')]");
        assert_eq!(arm_str("[a] b"), "[a] b");
        assert_eq!(arm_str("plain"), "plain");
    }

    #[test]
    fn internet_tag_once() {
        let n = |s: &str| s.parse::<IpNet>().unwrap();
        let (p, tag) = prefixes(&[n("0.0.0.0/0"), n("::/0")]);
        assert_eq!(p, vec!["Internet"]);
        assert!(tag);
        let (p, tag) = prefixes(&[n("192.0.2.1/32"), n("192.0.2.128/25")]);
        assert_eq!(p, vec!["192.0.2.1", "192.0.2.128/25"]);
        assert!(!tag);
    }
}
