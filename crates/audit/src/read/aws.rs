//! Reader for AWS security groups and network ACLs.
//!
//! Security groups: `aws ec2 describe-security-groups`: every group's `IpPermissions`
//! (inbound) and `IpPermissionsEgress` (outbound) are a union of allows (IpRanges,
//! Ipv6Ranges; IpProtocol `-1` is every protocol); `UserIdGroupPairs` and `PrefixListIds`
//! name members the export does not hold: "possible".
//!
//! Network ACLs: `aws ec2 describe-network-acls`, alone or after the security groups in one
//! file (see [`read_nacl`]).
//!
//! Inbound rules see the flows into the deployment's networks, outbound rules the flows out
//! of them (with `--host`, the host's own flows).
//!
//! A value the reader cannot read exactly never becomes a default: a port that is not a
//! number (`"443"`, null) or an address block not understood makes its rule "possible" on
//! every port or address, with a note; a port beyond 0-65535, a reversed range and a
//! network ACL rule number outside 1-32768 are errors at their JSON path.

use serde_json::Value;

use super::cloud::{cidr, hooks_for, internal_set};
use crate::model::{Action, Chain, Decision, Hook, Note, Platform, Rule, Ruleset};
use crate::read::clip;
use crate::space::{self, Cube, DPORT, DST, PROTO, SPORT, SRC, Set, TCP, UDP};
use crate::{ReadError, ReadOptions};

/// Reads `aws ec2 describe-security-groups` JSON.
pub fn read_sg(text: &str, name: &str, opts: &ReadOptions) -> Result<Ruleset, ReadError> {
    let v: Value = serde_json::from_str(text).map_err(|e| ReadError {
        location: format!("{name}:{}:{}", e.line(), e.column()),
        message: format!("not JSON: {e}"),
        hint: "give the output of `aws ec2 describe-security-groups --group-ids ...`".into(),
    })?;
    let groups: Vec<&Value> = match v.get("SecurityGroups").and_then(Value::as_array) {
        Some(a) => a.iter().collect(),
        None if v.get("IpPermissions").is_some() => vec![&v],
        None => {
            return Err(ReadError {
                location: format!("{name}: $"),
                message: "no \"SecurityGroups\" array".into(),
                hint: "give the output of `aws ec2 describe-security-groups --group-ids ...`"
                    .into(),
            });
        }
    };
    let internal = internal_set(opts);
    let mut notes = Vec::new();
    let mut chains = Vec::new();
    for inbound in [true, false] {
        let key = if inbound {
            "IpPermissions"
        } else {
            "IpPermissionsEgress"
        };
        let mut rules = Vec::new();
        for (g, group) in groups.iter().enumerate() {
            let gid = clip(group.get("GroupId").and_then(Value::as_str).unwrap_or("?"));
            for (i, p) in group
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let loc = format!("{name}: $.SecurityGroups[{g}].{key}[{i}] ({gid})");
                let mut cube = Cube::full();
                let mut possible = Vec::new();
                let proto = p
                    .get("IpProtocol")
                    .map(|x| match x {
                        Value::String(s) => s.to_ascii_lowercase(),
                        other => other.to_string(),
                    })
                    .unwrap_or_default();
                let ported = match proto.as_str() {
                    "-1" | "all" => false,
                    "tcp" | "6" => {
                        cube.0[PROTO] = Set::one(TCP);
                        true
                    }
                    "udp" | "17" => {
                        cube.0[PROTO] = Set::one(UDP);
                        true
                    }
                    "icmp" | "1" => {
                        cube.0[PROTO] = Set::one(1);
                        false
                    }
                    "icmpv6" | "58" => {
                        cube.0[PROTO] = Set::one(58);
                        false
                    }
                    n => match n.parse::<u128>() {
                        Ok(x) if x < 256 => {
                            cube.0[PROTO] = Set::one(x);
                            false
                        }
                        _ => {
                            possible.push(format!("protocol {n}"));
                            false
                        }
                    },
                };
                if ported {
                    let at = format!("{name}: $.SecurityGroups[{g}].{key}[{i}]");
                    match port_range(p, ("FromPort", "ToPort"), true, &at, &mut notes)? {
                        Ok(set) => cube.0[DPORT] = set,
                        Err(why) => possible.push(why),
                    }
                }
                let peer_dim = if inbound { SRC } else { DST };
                let mut peers = Set::empty();
                let mut texts = Vec::new();
                // Address blocks not understood: the rule may allow any peer ("possible").
                let mut unread = Vec::new();
                for (list, k) in [("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6")] {
                    for (j, r) in p
                        .get(list)
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .enumerate()
                    {
                        let given = r.get(k);
                        match given.and_then(Value::as_str).and_then(cidr) {
                            Some(s) => {
                                peers = peers.union(&s);
                                texts.push(given.and_then(Value::as_str).unwrap_or("").to_owned());
                            }
                            None => {
                                let shown = clip(&given.map_or_else(
                                    || "(none)".to_owned(),
                                    |v| v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                                ));
                                notes.push(Note {
                                    location: format!("{loc}.{list}[{j}]"),
                                    message: format!(
                                        "{k} `{shown}` is not understood; the rule is \"possible\" for every address"
                                    ),
                                });
                                unread.push(format!("{k} {shown}"));
                            }
                        }
                    }
                }
                let groups_named = p
                    .get("UserIdGroupPairs")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                let lists = p
                    .get("PrefixListIds")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                let mut members_unknown = Vec::new();
                if groups_named > 0 {
                    members_unknown.push(format!("{groups_named} source group(s)"));
                }
                if lists > 0 {
                    members_unknown.push(format!("{lists} prefix list(s)"));
                }
                let members_unknown = if unread.is_empty() {
                    members_unknown
                } else {
                    let mut why = possible.clone();
                    why.push(format!("{} not understood", unread.join(", ")));
                    rules.push(Rule {
                        matches: cube.clone(),
                        possible: Some(why.join("; ")),
                        action: Action::Accept,
                        location: loc.clone(),
                        text: format!(
                            "{gid} {} {proto} {}",
                            if inbound { "ingress" } else { "egress" },
                            unread.join(",")
                        ),
                        hits: None,
                        never_new: false,
                    });
                    members_unknown
                };
                let text_base = format!(
                    "{gid} {} {} {}",
                    if inbound { "ingress" } else { "egress" },
                    proto,
                    if ported {
                        space::ports_text(&cube.0[DPORT])
                    } else {
                        "all".into()
                    }
                );
                // The address ranges are one exact rule; group and prefix-list peers another,
                // "possible" one (their members are not in the export).
                if !peers.is_empty() {
                    let mut c = cube.clone();
                    c.0[peer_dim] = peers;
                    rules.push(Rule {
                        matches: c,
                        possible: if possible.is_empty() {
                            None
                        } else {
                            Some(possible.join("; "))
                        },
                        action: Action::Accept,
                        location: loc.clone(),
                        text: format!("{text_base} {}", texts.join(",")),
                        hits: None,
                        never_new: false,
                    });
                }
                if !members_unknown.is_empty() {
                    let mut why = possible.clone();
                    why.push(format!(
                        "members of {} are not in the export",
                        members_unknown.join(" and ")
                    ));
                    rules.push(Rule {
                        matches: cube.clone(),
                        possible: Some(why.join("; ")),
                        action: Action::Accept,
                        location: loc.clone(),
                        text: format!("{text_base} {}", members_unknown.join(",")),
                        hits: None,
                        never_new: false,
                    });
                }
            }
        }
        let mut only = Cube::full();
        if inbound {
            only.0[DST] = internal.clone()
        } else {
            only.0[SRC] = internal.clone()
        }
        chains.push(Chain {
            name: format!(
                "security groups {}",
                if inbound { "inbound" } else { "outbound" }
            ),
            rules,
            policy: Some(Decision::Drop),
            policy_location: format!("{name} (security groups deny what no rule allows)"),
            only: if internal.is_empty() {
                None
            } else {
                Some(only)
            },
            index: None,
        });
    }
    if v.get("NetworkAcls").is_some() {
        notes.push(Note {
            location: name.to_owned(),
            message: "network ACLs are not evaluated as aws-sg: read the file with --input-format aws-nacl".into(),
        });
    }
    Ok(Ruleset {
        platform: Platform::AwsSg,
        chains,
        hooks: hooks_for(vec![0], vec![1]),
        notes,
        counters: false,
        no_chain: Decision::Accept,
        families: [true, true],
    })
}

/// The JSON documents of a file: one, or several written one after the other (`aws ec2
/// describe-security-groups ...; aws ec2 describe-network-acls ...` into one file).
fn documents(text: &str, name: &str, hint: &str) -> Result<Vec<Value>, ReadError> {
    let mut out = Vec::new();
    for v in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        match v {
            Ok(v) => out.push(v),
            Err(e) => {
                return Err(ReadError {
                    location: format!("{name}:{}:{}", e.line(), e.column()),
                    message: format!("not JSON: {e}"),
                    hint: hint.into(),
                });
            }
        }
    }
    Ok(out)
}

const NACL_HINT: &str = "give the output of `aws ec2 describe-network-acls --network-acl-ids ...` \
     (and, for the security groups too, `aws ec2 describe-security-groups --group-ids ...` \
     appended to the same file)";

/// Reads `aws ec2 describe-network-acls` JSON, with the security groups of
/// `describe-security-groups` when the file holds them too (two documents one after the other,
/// or one object with both arrays).
///
/// Network ACLs are stateless and ordered: entries by `RuleNumber`, first match, then the `*`
/// deny (32767). A flow into the deployment's networks needs an inbound (`Egress: false`)
/// entry for its packets and an outbound entry for its replies (from its port to the client's
/// source port, 1024-65535); a flow out of them the reverse. With security groups, a flow
/// passes their union of allows and then the network ACLs.
pub fn read_nacl(text: &str, name: &str, opts: &ReadOptions) -> Result<Ruleset, ReadError> {
    let docs = documents(text, name, NACL_HINT)?;
    let mut acls: Vec<(String, &Value)> = Vec::new();
    let mut groups: Vec<Value> = Vec::new();
    for (d, v) in docs.iter().enumerate() {
        let at = if docs.len() > 1 {
            format!("document {} $", d + 1)
        } else {
            "$".to_owned()
        };
        if let Some(a) = v.get("NetworkAcls").and_then(Value::as_array) {
            acls.extend(
                a.iter()
                    .enumerate()
                    .map(|(i, x)| (format!("{at}.NetworkAcls[{i}]"), x)),
            );
        } else if v.get("Entries").is_some() {
            acls.push((at.clone(), v));
        }
        if let Some(g) = v.get("SecurityGroups").and_then(Value::as_array) {
            groups.extend(g.iter().cloned());
        }
    }
    if acls.is_empty() {
        return Err(ReadError {
            location: format!("{name}: $"),
            message: "no \"NetworkAcls\" array".into(),
            hint: NACL_HINT.into(),
        });
    }
    let internal = internal_set(opts);
    let mut chains = Vec::new();
    let mut notes = Vec::new();
    let (mut sg_in, mut sg_out) = (Vec::new(), Vec::new());
    if !groups.is_empty() {
        let sg = read_sg(
            &serde_json::json!({ "SecurityGroups": groups }).to_string(),
            name,
            opts,
        )?;
        chains.extend(sg.chains);
        notes.extend(sg.notes);
        sg_in.push(0);
        sg_out.push(1);
    }
    // (request inbound, reply outbound, request outbound, reply inbound) per ACL.
    let (mut inb, mut inb_reply, mut outb, mut outb_reply) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (path, acl) in &acls {
        let id = clip(
            acl.get("NetworkAclId")
                .and_then(Value::as_str)
                .unwrap_or(path),
        );
        let mut entries: Vec<(i64, bool, usize, &Value)> = Vec::new();
        for (i, e) in acl
            .get("Entries")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let loc = format!("{path}.Entries[{i}]");
            let no = match e.get("RuleNumber") {
                None => {
                    return Err(ReadError {
                        location: format!("{name}: {loc}.RuleNumber"),
                        message: "an entry without a RuleNumber".into(),
                        hint: NACL_HINT.into(),
                    });
                }
                // 1-32766, and 32767 and 32768 for the * entries (IPv4, IPv6).
                Some(v) => match v.as_i64() {
                    Some(n) if (1..=32768).contains(&n) => n,
                    _ => {
                        return Err(ReadError {
                            location: format!("{name}: {loc}.RuleNumber"),
                            message: format!(
                                "RuleNumber {} is not a number from 1 to 32766 (32767 and 32768: the * entries)",
                                clip(&v.to_string())
                            ),
                            hint: NACL_HINT.into(),
                        });
                    }
                },
            };
            let Some(egress) = e.get("Egress").and_then(Value::as_bool) else {
                return Err(ReadError {
                    location: format!("{name}: {loc}.Egress"),
                    message: "an entry without Egress (true or false)".into(),
                    hint: NACL_HINT.into(),
                });
            };
            entries.push((no, egress, i, e));
        }
        entries.sort_by_key(|e| (e.0, e.2));
        // (egress, request): the dimension the CIDR names and the one the ports name.
        for (egress, request) in [(false, true), (true, false), (true, true), (false, false)] {
            // A request into the deployment: inbound entries see its source; the replies
            // leave by the outbound entries, to the flow's source and source port. A
            // request out of it: outbound entries see its destination, the replies come in.
            let into = egress != request;
            let peer = if into { SRC } else { DST };
            let ports = if request { DPORT } else { SPORT };
            let mut rules = Vec::new();
            for &(no, eg, i, e) in &entries {
                if eg != egress {
                    continue;
                }
                let loc = format!("{name}: {path}.Entries[{i}] ({id} rule {no})");
                let at = format!("{name}: {path}.Entries[{i}]");
                if let Some(mut r) = nacl_entry(e, &loc, &at, no, egress, peer, ports, &mut notes)?
                {
                    if !request {
                        // Here the entry's ports are the client's source ports.
                        r.text.push_str(" (for the replies)");
                    }
                    rules.push(r);
                }
            }
            let mut only = Cube::full();
            if into {
                only.0[DST] = internal.clone();
            } else {
                only.0[SRC] = internal.clone();
            }
            let what = match (egress, request) {
                (false, true) => "inbound",
                (true, false) => "outbound, replies to inbound flows",
                (true, true) => "outbound",
                (false, false) => "inbound, replies to outbound flows",
            };
            let idx = chains.len();
            chains.push(Chain {
                name: format!("network ACL {id} {what}"),
                rules,
                policy: Some(Decision::Drop),
                policy_location: format!("{name}: {path} ({id}, rule * deny)"),
                only: if internal.is_empty() {
                    None
                } else {
                    Some(only)
                },
                index: None,
            });
            match (egress, request) {
                (false, true) => inb.push(idx),
                (true, false) => inb_reply.push(idx),
                (true, true) => outb.push(idx),
                (false, false) => outb_reply.push(idx),
            }
        }
    }
    if acls.len() > 1 {
        notes.push(Note {
            location: name.to_owned(),
            message: format!(
                "{} network ACLs: each applies to every flow into or out of the deployment's \
                 networks, in series (the export names subnets by id, not by address)",
                acls.len()
            ),
        });
    }
    // The request's own entry is read last, so it names an allowed flow's verdict.
    let mut input = sg_in.clone();
    input.extend(&inb_reply);
    input.extend(&inb);
    let mut output = sg_out.clone();
    output.extend(&outb_reply);
    output.extend(&outb);
    let mut forward = sg_out;
    forward.extend(&sg_in);
    forward.extend(&outb_reply);
    forward.extend(&inb_reply);
    forward.extend(&outb);
    forward.extend(&inb);
    let mut rs = Ruleset {
        platform: Platform::AwsNacl,
        chains,
        hooks: vec![
            (Hook::Input, input),
            (Hook::Output, output),
            (Hook::Forward, forward),
        ],
        notes,
        counters: false,
        no_chain: Decision::Accept,
        families: [true, true],
    };
    rs.index();
    Ok(rs)
}

/// One network ACL entry (at JSON path `at`) as a rule: its CIDR on `peer`, its port range
/// on `ports`.
#[allow(clippy::too_many_arguments)]
fn nacl_entry(
    e: &Value,
    loc: &str,
    at: &str,
    no: i64,
    egress: bool,
    peer: usize,
    ports: usize,
    notes: &mut Vec<Note>,
) -> Result<Option<Rule>, ReadError> {
    let mut cube = Cube::full();
    let mut possible = Vec::new();
    let proto = match e.get("Protocol") {
        Some(Value::String(s)) => s.to_ascii_lowercase(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "-1".to_owned(),
    };
    let ported = match proto.as_str() {
        "-1" | "all" => false,
        p => match p
            .parse::<u128>()
            .ok()
            .or_else(|| crate::read::nftables::proto_number(p))
        {
            Some(n) if n < 256 => {
                cube.0[PROTO] = Set::one(n);
                n == TCP || n == UDP
            }
            _ => {
                possible.push(format!("protocol {p}"));
                false
            }
        },
    };
    if ported && let Some(r) = e.get("PortRange") {
        // Both directions read the same entry: its note once, with the request.
        let mut once = Vec::new();
        let range = port_range(
            r,
            ("From", "To"),
            false,
            &format!("{at}.PortRange"),
            &mut once,
        )?;
        if ports == DPORT {
            notes.append(&mut once);
        }
        match range {
            Ok(set) => cube.0[ports] = set,
            Err(why) => possible.push(why),
        }
    }
    let block = e
        .get("CidrBlock")
        .or_else(|| e.get("Ipv6CidrBlock"))
        .and_then(Value::as_str)
        .unwrap_or("");
    match cidr(block) {
        Some(s) => cube.0[peer] = s,
        None => {
            notes.push(Note {
                location: loc.to_owned(),
                message: format!(
                    "CIDR block `{}` is not understood; entry skipped",
                    clip(block)
                ),
            });
            return Ok(None);
        }
    }
    let allow = match e.get("RuleAction").and_then(Value::as_str) {
        Some(a) if a.eq_ignore_ascii_case("allow") => true,
        Some(a) if a.eq_ignore_ascii_case("deny") => false,
        other => {
            notes.push(Note {
                location: loc.to_owned(),
                message: format!(
                    "RuleAction {} is not allow or deny; entry skipped",
                    clip(other.unwrap_or("(none)"))
                ),
            });
            return Ok(None);
        }
    };
    let number = if no == 32767 {
        "*".to_owned()
    } else {
        no.to_string()
    };
    Ok(Some(Rule {
        matches: cube,
        possible: (!possible.is_empty()).then(|| possible.join("; ")),
        action: if allow { Action::Accept } else { Action::Drop },
        location: loc.to_owned(),
        text: format!(
            "{number} {} {} {} {block} {}",
            if egress { "egress" } else { "ingress" },
            if allow { "allow" } else { "deny" },
            match proto.as_str() {
                "-1" => "all",
                "6" => "tcp",
                "17" => "udp",
                p => p,
            },
            if ported {
                let r = e.get("PortRange");
                let f = r.and_then(|r| r.get("From")).and_then(Value::as_i64);
                let t = r.and_then(|r| r.get("To")).and_then(Value::as_i64);
                match (f, t) {
                    (Some(f), Some(t)) if f == t => f.to_string(),
                    (Some(f), Some(t)) => format!("{f}-{t}"),
                    _ => "all".into(),
                }
            } else {
                "all".into()
            }
        ),
        hits: None,
        never_new: false,
    }))
}

/// The ports `FromPort`-`ToPort` (`From`-`To`) of `obj`, at JSON path `at`: `Ok(Ok(set))`
/// when both are port numbers (with `minus_one`, -1 and -1 is every port);
/// `Ok(Err(why))` when one is not a number (a string, null, missing): the rule may match
/// any port, it is "possible" (and a note says which); an error when one is out of range or
/// the range is reversed (no export holds that).
fn port_range(
    obj: &Value,
    (from_key, to_key): (&str, &str),
    minus_one: bool,
    at: &str,
    notes: &mut Vec<Note>,
) -> Result<Result<Set, String>, ReadError> {
    let (from, to) = (obj.get(from_key), obj.get(to_key));
    let (f, t) = (from.and_then(Value::as_i64), to.and_then(Value::as_i64));
    for (k, v, n) in [(from_key, from, f), (to_key, to, t)] {
        if n.is_none() {
            let shown = clip(&v.map_or_else(|| "(none)".to_owned(), Value::to_string));
            notes.push(Note {
                location: format!("{at}.{k}"),
                message: format!(
                    "{k} {shown} is not a port number; the rule is \"possible\" for every port"
                ),
            });
            return Ok(Err(format!("{k} {shown} is not a port number")));
        }
    }
    let (f, t) = (f.unwrap_or(0), t.unwrap_or(0));
    if minus_one && f == -1 && t == -1 {
        return Ok(Ok(Set::full(DPORT)));
    }
    for (k, n) in [(from_key, f), (to_key, t)] {
        if !(0..=65535).contains(&n) {
            return Err(ReadError {
                location: format!("{at}.{k}"),
                message: format!("{k} {n} is not a port (0-65535)"),
                hint: "give the export as the aws CLI wrote it".into(),
            });
        }
    }
    if f > t {
        return Err(ReadError {
            location: format!("{at}.{from_key}"),
            message: format!("the port range {f}-{t} is reversed"),
            hint: "give the export as the aws CLI wrote it".into(),
        });
    }
    Ok(Ok(Set::range(f as u128, t as u128)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{self, Verdict};

    fn opts() -> ReadOptions {
        ReadOptions {
            internal: vec!["192.0.2.0/24".parse().unwrap()],
            ..ReadOptions::default()
        }
    }

    fn entry(
        no: i64,
        egress: bool,
        allow: bool,
        proto: &str,
        cidr: &str,
        ports: Option<(u16, u16)>,
    ) -> Value {
        let mut e = serde_json::json!({
            "RuleNumber": no, "Egress": egress, "Protocol": proto, "CidrBlock": cidr,
            "RuleAction": if allow { "allow" } else { "deny" },
        });
        if let Some((a, b)) = ports {
            e["PortRange"] = serde_json::json!({ "From": a, "To": b });
        }
        e
    }

    /// The verdict on a TCP flow from a client (source port `sport`) into 192.0.2.5.
    fn inbound(rs: &Ruleset, dport: u128, sport: u128) -> Verdict {
        let cube = Cube::full()
            .with(
                SRC,
                &Set::one(space::addr_value("198.51.100.7".parse().unwrap())),
            )
            .with(
                DST,
                &Set::one(space::addr_value("192.0.2.5".parse().unwrap())),
            )
            .with(PROTO, &Set::one(TCP))
            .with(SPORT, &Set::one(sport))
            .with(DPORT, &Set::one(dport));
        let p = eval::evaluate(rs, Hook::Forward, cube);
        assert_eq!(p.len(), 1, "{p:?}");
        p[0].verdict.clone()
    }

    fn acl(entries: Vec<Value>) -> Ruleset {
        let text = serde_json::json!({ "NetworkAcls": [ { "NetworkAclId": "acl-1", "Entries": entries } ] })
            .to_string();
        read_nacl(&text, "n.json", &opts()).unwrap()
    }

    #[test]
    fn entries_in_rule_number_order_first_match() {
        // Written out of order: 100 (deny 3389) decides before 200 (allow all TCP).
        let rs = acl(vec![
            entry(200, false, true, "6", "0.0.0.0/0", Some((0, 65535))),
            entry(
                100,
                false,
                false,
                "6",
                "198.51.100.0/24",
                Some((3389, 3389)),
            ),
            entry(100, true, true, "-1", "0.0.0.0/0", None),
        ]);
        assert_eq!(inbound(&rs, 3389, 50000).decision(), Some(Decision::Drop));
        assert_eq!(inbound(&rs, 443, 50000).decision(), Some(Decision::Accept));
    }

    #[test]
    fn replies_need_the_outbound_entry_on_the_client_port() {
        let rs = acl(vec![
            entry(100, false, true, "6", "0.0.0.0/0", Some((443, 443))),
            entry(100, true, true, "6", "0.0.0.0/0", Some((32768, 65535))),
        ]);
        // A client port in 32768-65535: the reply leaves; below it, the * deny drops it.
        assert_eq!(inbound(&rs, 443, 50000).decision(), Some(Decision::Accept));
        match inbound(&rs, 443, 2000) {
            Verdict::Drop(d) => {
                let text = eval::describe(&rs, d).text;
                assert!(
                    text.contains("outbound") || text.contains("rule * deny"),
                    "{text}"
                );
            }
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn security_groups_first_then_the_acls() {
        let sg = r#"{"SecurityGroups": [{"GroupId": "sg-1", "IpPermissions": [
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
            "IpPermissionsEgress": []}]}"#;
        let nacl = serde_json::json!({ "NetworkAcls": [ { "NetworkAclId": "acl-1", "Entries": [
            entry(100, false, true, "-1", "0.0.0.0/0", None),
            entry(100, true, true, "-1", "0.0.0.0/0", None),
        ] } ] });
        let text = format!("{sg}\n{nacl}");
        let rs = read_nacl(&text, "both.json", &opts()).unwrap();
        assert_eq!(rs.platform, Platform::AwsNacl);
        assert_eq!(inbound(&rs, 443, 50000).decision(), Some(Decision::Accept));
        // The ACL allows everything, the groups only 443: the union of allows decides.
        assert_eq!(inbound(&rs, 22, 50000).decision(), Some(Decision::Drop));
    }

    /// One security group with the inbound permission `perm` (JSON).
    fn sg(perm: &str) -> Ruleset {
        let text = format!(
            r#"{{"SecurityGroups": [{{"GroupId": "sg-1", "IpPermissions": [{perm}],
               "IpPermissionsEgress": []}}]}}"#
        );
        read_sg(&text, "sg.json", &opts()).unwrap()
    }

    fn sg_err(perm: &str) -> ReadError {
        let text =
            format!(r#"{{"SecurityGroups": [{{"GroupId": "sg-1", "IpPermissions": [{perm}]}}]}}"#);
        read_sg(&text, "sg.json", &opts()).unwrap_err()
    }

    /// Whether TCP from 198.51.100.7 to 192.0.2.5 port `port` is allowed (`None`: possible).
    fn sg_allows(rs: &Ruleset, port: u128) -> Option<bool> {
        crate::test_support::allowed(rs, "198.51.100.7", "192.0.2.5", TCP, port)
    }

    const ANY: &str = r#""IpRanges": [{"CidrIp": "0.0.0.0/0"}]"#;

    #[test]
    fn sg_ports_read_exactly() {
        let rs = sg(&format!(
            r#"{{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, {ANY}}}"#
        ));
        assert_eq!(sg_allows(&rs, 443), Some(true));
        assert_eq!(sg_allows(&rs, 22), Some(false));
    }

    #[test]
    fn sg_a_port_as_a_string_makes_the_rule_possible() {
        let rs = sg(&format!(
            r#"{{"IpProtocol": "tcp", "FromPort": "443", "ToPort": 443, {ANY}}}"#
        ));
        // Not widened to 0-443 (22 allowed), not dropped: possible on every port.
        assert_eq!(sg_allows(&rs, 22), None);
        assert_eq!(sg_allows(&rs, 443), None);
        assert!(rs.notes.iter().any(|n| n.location
            == "sg.json: $.SecurityGroups[0].IpPermissions[0].FromPort"
            && n.message.contains("FromPort \"443\" is not a port number")));
    }

    #[test]
    fn sg_a_null_port_makes_the_rule_possible() {
        let rs = sg(&format!(
            r#"{{"IpProtocol": "tcp", "FromPort": 443, "ToPort": null, {ANY}}}"#
        ));
        assert_eq!(sg_allows(&rs, 8443), None);
        assert!(rs.notes.iter().any(|n| n.message.contains("ToPort null")));
    }

    #[test]
    fn sg_a_port_out_of_range_is_an_error() {
        let e = sg_err(&format!(
            r#"{{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 70000, {ANY}}}"#
        ));
        assert_eq!(
            e.location,
            "sg.json: $.SecurityGroups[0].IpPermissions[0].ToPort"
        );
        assert!(
            e.message.contains("ToPort 70000 is not a port"),
            "{}",
            e.message
        );
    }

    #[test]
    fn sg_a_bad_cidr_makes_the_rule_possible_for_every_address() {
        for (list, key) in [("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6")] {
            let rs = sg(&format!(
                r#"{{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                    "{list}": [{{"{key}": "198.51.100.0/33"}}]}}"#
            ));
            // Not dropped with the block: the rule may allow this peer.
            assert_eq!(sg_allows(&rs, 443), None, "{key}");
            assert_eq!(sg_allows(&rs, 22), Some(false), "{key}");
            assert!(
                rs.notes.iter().any(|n| n
                    .message
                    .contains(&format!("{key} `198.51.100.0/33` is not understood"))),
                "{:?}",
                rs.notes
            );
        }
    }

    #[test]
    fn nacl_rule_numbers_out_of_range_are_errors() {
        for no in [0, -1, 70000] {
            let text = serde_json::json!({ "NetworkAcls": [ { "NetworkAclId": "acl-1", "Entries": [
                entry(no, false, true, "-1", "0.0.0.0/0", None),
            ] } ] })
            .to_string();
            let e = read_nacl(&text, "n.json", &opts()).unwrap_err();
            assert_eq!(e.location, "n.json: $.NetworkAcls[0].Entries[0].RuleNumber");
            assert!(
                e.message
                    .contains(&format!("RuleNumber {no} is not a number")),
                "{}",
                e.message
            );
        }
        // The * entries are 32767 (IPv4) and 32768 (IPv6).
        acl(vec![
            entry(32767, false, false, "-1", "0.0.0.0/0", None),
            entry(32768, false, false, "-1", "::/0", None),
        ]);
    }

    #[test]
    fn bad_entries_are_located() {
        let e = read_nacl(
            r#"{"NetworkAcls": [{"Entries": [{"Egress": true}]}]}"#,
            "n.json",
            &opts(),
        )
        .unwrap_err();
        assert_eq!(e.location, "n.json: $.NetworkAcls[0].Entries[0].RuleNumber");
        let e = read_nacl(r#"{"SecurityGroups": []}"#, "n.json", &opts()).unwrap_err();
        assert!(e.message.contains("NetworkAcls"));
    }
}
