//! AWS security groups: a CloudFormation template (JSON).
//!
//! Every machine of the deployment (a single address outside the internet zone) joins one
//! security group: hosts with the same roles share a group when they also need the same
//! inbound rules (otherwise the group splits, so a group's rules fit every member exactly).
//! A group's ingress rules come from its members' inbound flows; a source that is exactly the
//! members of other groups is written as a reference to those groups, other sources as CIDRs.
//! References to a group defined later (and to the group itself) are separate
//! `AWS::EC2::SecurityGroupIngress` resources, so the template has no dependency cycle. With
//! `--outbound` groups also get egress rules, which replace AWS's default allow-all egress.
//!
//! JSON is written by `serde_json`; logical ids are alphanumeric, descriptions and tags are
//! restricted to the characters EC2 accepts. This module does not talk to AWS.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;
use rdsports_core::model::{PortRange, Protocol};
use serde_json::{Value, json};

use super::naming::{Namer, restricted, trace};
use super::view::View;
use super::{
    Capabilities, FtpSupport, Generator, RenderOptions, Rendered, Scope, require_no_ftp_helper,
};
use crate::aggregate::merge_nets;
use crate::error::GenError;
use crate::policy::{Policy, Rule};

/// The `aws-sg` target.
pub struct AwsSg;

/// CloudFormation's limit on resources per template.
const RESOURCES_MAX: usize = 500;
/// Default quota of inbound (or outbound) rules per security group.
const RULES_QUOTA: usize = 60;
/// Hard limit of rules per group (quota raised as far as it goes).
const RULES_MAX: usize = 1000;
/// Longest description of a group or a rule.
const DESCRIPTION_MAX: usize = 255;

impl Generator for AwsSg {
    fn name(&self) -> &'static str {
        "aws-sg"
    }

    fn description(&self) -> &'static str {
        "AWS: a CloudFormation template with security groups per role set, referencing each \
         other where they can"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            scope: Scope::Cloud,
            host: false,
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
        if !opts.outbound {
            out.warnings.push(
                "aws-sg: security groups deny the inbound traffic they do not allow, but keep \
                 AWS's default egress rule (all outbound allowed) unless --outbound replaces \
                 it with the planned flows"
                    .to_owned(),
            );
        }
        let ctx = &policy.context;
        let machine = |h: usize| {
            ctx.hosts.get(h).is_some_and(|host| {
                host.is_single()
                    && ctx
                        .zones
                        .get(host.zone)
                        .is_none_or(|z| z.networks.iter().all(|n| n.prefix_len() > 0))
            })
        };
        // Rules that concern a machine: into one (ingress), or out of one (egress).
        let relevant = policy.with_rules(
            policy
                .rules
                .iter()
                .filter(|r| {
                    r.to_hosts.iter().any(|&h| machine(h))
                        || (opts.outbound && r.from_hosts.iter().any(|&h| machine(h)))
                })
                .cloned()
                .collect(),
        );
        require_no_ftp_helper(self.name(), &relevant)?;
        let blind = zone_blind(policy);
        let blind = if opts.aggregate {
            blind.aggregate()
        } else {
            blind
        };
        let inbound = blind.inbound_by_host();
        let outbound = if opts.outbound {
            blind.outbound_by_host()
        } else {
            BTreeMap::new()
        };

        // A host's signature: the rules of `blind` that reach it (inbound) or leave it
        // (outbound). Hosts with equal signatures need exactly the same rules.
        let mut sig_in: Vec<Vec<usize>> = vec![Vec::new(); ctx.hosts.len()];
        let mut sig_out: Vec<Vec<usize>> = vec![Vec::new(); ctx.hosts.len()];
        for (i, r) in blind.rules.iter().enumerate() {
            for &h in &r.to_hosts {
                if let Some(s) = sig_in.get_mut(h) {
                    s.push(i);
                }
            }
            if opts.outbound {
                for &h in &r.from_hosts {
                    if let Some(s) = sig_out.get_mut(h) {
                        s.push(i);
                    }
                }
            }
        }
        // Groups: (roles, inbound signature, outbound signature) -> members.
        let mut by_key: BTreeMap<GroupKey, Vec<usize>> = BTreeMap::new();
        for h in (0..ctx.hosts.len()).filter(|&h| machine(h)) {
            out.rules_before += policy.counts.into_host.get(h).copied().unwrap_or(0);
            if opts.outbound {
                out.rules_before += policy.counts.out_of_host.get(h).copied().unwrap_or(0);
            }
            // `h` ranges over 0..ctx.hosts.len().
            let roles: Vec<String> = ctx.hosts[h]
                .roles
                .iter()
                .map(|r| r.name().to_owned())
                .collect();
            let key = (
                roles,
                std::mem::take(&mut sig_in[h]),
                std::mem::take(&mut sig_out[h]),
            );
            by_key.entry(key).or_default().push(h);
        }
        let mut ids = Namer::new(
            self.name(),
            "role set (logical id)",
            |c| c.is_ascii_alphanumeric(),
            200,
        );
        let mut groups: Vec<Group> = Vec::new();
        // Groups of one role set that split (their members need different rules, such as a
        // session host on an RDP port of its own) are numbered: SgSessionHost,
        // SgSessionHost2 ... (the namer gives one name one id, so each needs its own name).
        let mut of_roles: BTreeMap<String, usize> = BTreeMap::new();
        for ((roles, _, _), members) in by_key {
            let camel: String = roles.iter().map(|r| camel(r)).collect();
            let n = of_roles.entry(camel.clone()).or_insert(0);
            *n += 1;
            let id = if *n == 1 {
                ids.name(&format!("Sg{camel}"))
            } else {
                ids.name(&format!("Sg{camel}{n}"))
            };
            groups.push(Group { id, roles, members });
        }
        let group_of: BTreeMap<usize, usize> = groups
            .iter()
            .enumerate()
            .flat_map(|(g, grp)| grp.members.iter().map(move |&h| (h, g)))
            .collect();

        let dep = tag_text(&ctx.name);
        let mut resources = serde_json::Map::new();
        let mut outputs = serde_json::Map::new();
        let mut separate: Vec<(String, Value)> = Vec::new();
        for (g, grp) in groups.iter().enumerate() {
            // The group's rules are those of any member (they are the same for all).
            let Some(&rep) = grp.members.first() else {
                continue;
            };
            let mut inline_in = Vec::new();
            let mut inline_out = Vec::new();
            let mut n_in = 0usize;
            let mut n_out = 0usize;
            let mut dirs = vec![(Side::Sources, inbound.get(&rep))];
            if opts.outbound {
                dirs.push((Side::Destinations, outbound.get(&rep)));
            }
            for (side, view) in dirs {
                let Some(view) = view else { continue };
                let view = View::new(view.clone(), 0, opts);
                out.rules_after += view.policy.rules.len();
                for rule in &view.policy.rules {
                    let peers = match side {
                        Side::Sources => &rule.from_hosts,
                        Side::Destinations => &rule.to_hosts,
                    };
                    let (refs, cidrs) = peer_spec(policy, peers, &groups, &group_of);
                    let desc = rule_text(&trace(&view.policy, rule));
                    for p in &rule.ports {
                        for net in &cidrs {
                            let e = entry(rule.protocol, *p, Peer::Cidr(*net), side, &desc);
                            match side {
                                Side::Sources => inline_in.push(e),
                                Side::Destinations => inline_out.push(e),
                            }
                        }
                        for &r in &refs {
                            // `refs` holds indices into `groups` (from `group_of`).
                            let peer = Peer::Group(&groups[r].id);
                            let e = entry(rule.protocol, *p, peer, side, &desc);
                            if r < g {
                                match side {
                                    Side::Sources => inline_in.push(e),
                                    Side::Destinations => inline_out.push(e),
                                }
                            } else {
                                let (ty, suffix) = match side {
                                    Side::Sources => ("AWS::EC2::SecurityGroupIngress", "In"),
                                    Side::Destinations => ("AWS::EC2::SecurityGroupEgress", "Out"),
                                };
                                let mut props = e;
                                if let Value::Object(m) = &mut props {
                                    m.insert("GroupId".into(), get_att(&grp.id));
                                }
                                let n = separate.len() + 1;
                                separate.push((
                                    format!("{}{suffix}{n}", grp.id),
                                    json!({ "Type": ty, "Properties": props }),
                                ));
                            }
                        }
                        match side {
                            Side::Sources => n_in += cidrs.len() + refs.len(),
                            Side::Destinations => n_out += cidrs.len() + refs.len(),
                        }
                    }
                }
            }
            for (n, what) in [(n_in, "inbound"), (n_out, "outbound")] {
                if n > RULES_MAX {
                    return Err(GenError::LimitExceeded {
                        target: "aws-sg",
                        what: format!("{what} rules of security group {}", grp.id),
                        limit: RULES_MAX,
                        got: n,
                        hint: "split the role set over more groups or narrow the deployment",
                    });
                }
                if n > RULES_QUOTA {
                    out.warnings.push(format!(
                        "aws-sg: security group {} has {n} {what} rules, above the default quota \
                         of {RULES_QUOTA} (raise it in Service Quotas)",
                        grp.id
                    ));
                }
            }
            if opts.outbound && inline_out.is_empty() {
                // An empty SecurityGroupEgress keeps AWS's allow-all egress; this rule matches
                // nothing that leaves the host and so removes it.
                inline_out.push(json!({
                    "IpProtocol": "-1",
                    "CidrIp": "127.0.0.1/32",
                    "Description": "rdsports: removes the default allow-all egress",
                }));
            }
            let members: Vec<&str> = grp.members.iter().map(|&h| policy.host_name(h)).collect();
            let mut props = serde_json::Map::new();
            props.insert(
                "GroupDescription".into(),
                json!(rule_text(&format!(
                    "rdsports {}: {}",
                    ctx.name,
                    grp.roles.join(", ")
                ))),
            );
            props.insert("VpcId".into(), json!({ "Ref": "VpcId" }));
            if !inline_in.is_empty() {
                props.insert("SecurityGroupIngress".into(), Value::Array(inline_in));
            }
            if opts.outbound {
                props.insert("SecurityGroupEgress".into(), Value::Array(inline_out));
            }
            props.insert(
                "Tags".into(),
                json!([
                    { "Key": "Name", "Value": tag_text(&format!("{}-{}", ctx.name, grp.roles.join("+"))) },
                    { "Key": "rdsports-deployment", "Value": dep },
                ]),
            );
            resources.insert(
                grp.id.clone(),
                json!({ "Type": "AWS::EC2::SecurityGroup", "Properties": props }),
            );
            outputs.insert(
                grp.id.clone(),
                json!({
                    "Description": rule_text(&format!("members: {}", members.join(", "))),
                    "Value": get_att(&grp.id),
                }),
            );
        }
        for (id, v) in separate {
            resources.insert(id, v);
        }
        if resources.len() > RESOURCES_MAX {
            return Err(GenError::LimitExceeded {
                target: "aws-sg",
                what: "resources in the template".to_owned(),
                limit: RESOURCES_MAX,
                got: resources.len(),
                hint: "CloudFormation takes 500 resources a template; split the deployment",
            });
        }
        if outputs.len() > 200 {
            outputs.clear();
            out.warnings
                .push("aws-sg: more than 200 groups; outputs left out".to_owned());
        }
        let mut template = json!({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": rule_text(&format!(
                "rdsports security groups for deployment {}: {} flows, {} rules after aggregation",
                ctx.name, out.rules_before, out.rules_after
            )),
            "Parameters": {
                "VpcId": { "Type": "AWS::EC2::VPC::Id", "Description": "VPC of the deployment instances" },
            },
            "Resources": resources,
        });
        if !outputs.is_empty()
            && let Value::Object(m) = &mut template
        {
            m.insert("Outputs".into(), Value::Object(outputs));
        }
        let text = super::naming::json_text(&template);
        let mut files = Namer::new(
            self.name(),
            "deployment name (file name)",
            super::naming::ident_char,
            64,
        );
        out.files
            .push((format!("{}.cfn.json", files.name(&ctx.name)), text));
        out.warnings.extend(ids.into_warnings());
        out.warnings.extend(files.into_warnings());
        Ok(out)
    }
}

/// What makes hosts share a group: roles, and the rules that reach and leave them.
type GroupKey = (Vec<String>, Vec<usize>, Vec<usize>);

struct Group {
    id: String,
    roles: Vec<String>,
    members: Vec<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Sources,
    Destinations,
}

enum Peer<'a> {
    Cidr(IpNet),
    Group(&'a str),
}

/// The same rules with every zone set to 0, so aggregation merges across zones (security
/// groups know no zones).
fn zone_blind(policy: &Policy) -> Policy {
    policy.with_rules(
        policy
            .rules
            .iter()
            .map(|r| Rule {
                from_zone: 0,
                to_zone: 0,
                ..r.clone()
            })
            .collect(),
    )
}

/// Splits peer hosts (distinct) into whole groups (by index) and the addresses of the rest.
fn peer_spec(
    policy: &Policy,
    peers: &[usize],
    groups: &[Group],
    group_of: &BTreeMap<usize, usize>,
) -> (Vec<usize>, Vec<IpNet>) {
    let mut in_group: BTreeMap<usize, usize> = BTreeMap::new();
    for h in peers {
        if let Some(&g) = group_of.get(h) {
            *in_group.entry(g).or_default() += 1;
        }
    }
    // `group_of` maps hosts to indices into `groups`; a group is whole when all its members
    // are peers.
    let whole: BTreeSet<usize> = in_group
        .into_iter()
        .filter(|&(g, n)| groups.get(g).is_some_and(|grp| grp.members.len() == n))
        .map(|(g, _)| g)
        .collect();
    let rest: Vec<IpNet> = peers
        .iter()
        .filter(|h| group_of.get(h).is_none_or(|g| !whole.contains(g)))
        .filter_map(|&h| policy.context.hosts.get(h).map(|x| x.address))
        .collect();
    (whole.into_iter().collect(), merge_nets(&rest))
}

fn entry(proto: Protocol, p: PortRange, peer: Peer<'_>, side: Side, desc: &str) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("IpProtocol".into(), json!(proto.name()));
    m.insert("FromPort".into(), json!(p.start()));
    m.insert("ToPort".into(), json!(p.end()));
    match (peer, side) {
        (Peer::Cidr(IpNet::V4(n)), _) => {
            m.insert("CidrIp".into(), json!(n.to_string()));
        }
        (Peer::Cidr(IpNet::V6(n)), _) => {
            m.insert("CidrIpv6".into(), json!(n.to_string()));
        }
        (Peer::Group(id), Side::Sources) => {
            m.insert("SourceSecurityGroupId".into(), get_att(id));
        }
        (Peer::Group(id), Side::Destinations) => {
            m.insert("DestinationSecurityGroupId".into(), get_att(id));
        }
    }
    m.insert("Description".into(), json!(desc));
    Value::Object(m)
}

fn get_att(id: &str) -> Value {
    json!({ "Fn::GetAtt": [id, "GroupId"] })
}

/// `session-host` → `SessionHost`.
fn camel(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Text EC2 accepts in group and rule descriptions: ASCII letters, digits, space and
/// `._-:/()#,@[]+=&;{}!$*`.
fn rule_text(s: &str) -> String {
    restricted(
        s,
        |c| c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(c),
        DESCRIPTION_MAX,
    )
}

/// Text EC2 accepts in tag values: letters, digits, space and `_.:/=+-@`.
fn tag_text(s: &str) -> String {
    restricted(
        s,
        |c| c.is_ascii_alphanumeric() || " _.:/=+-@".contains(c),
        256,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_ids() {
        assert_eq!(camel("session-host"), "SessionHost");
        assert_eq!(camel("dns"), "Dns");
    }

    #[test]
    fn descriptions_use_the_allowed_characters() {
        assert_eq!(rule_text("a'b\"c<d>é\n"), "a_b_c_d___");
        assert_eq!(tag_text("x;y"), "x_y");
    }
}
