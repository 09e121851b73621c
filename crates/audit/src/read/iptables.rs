//! Reader for `iptables-save` and `ip6tables-save` (with or without `-c` counters), one or
//! both families in one file.
//!
//! Evaluated: the `filter` table's built-in chains (INPUT, FORWARD, OUTPUT) with their
//! policies, user chains (`-j CHAIN`, `-g CHAIN`, RETURN) and the common matches: `-s`, `-d`
//! (with `!`), `-p`, `--dport`/`--sport`, `-m multiport --dports/--sports/--ports`, `-m
//! conntrack --ctstate`, `-m state --state`, `-m iprange`, `-m comment`. `-i`/`-o` (other
//! than `lo`), `-m set`, `-m limit` and unknown matches make a rule "possible". Other tables
//! are listed in the notes when they drop packets.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::ReadError;
use crate::model::{Action, Chain, Decision, Hook, Note, Platform, Rule, Ruleset};
use crate::read::nftables::proto_number;
use crate::space::{self, Cube, DPORT, DST, PROTO, SPORT, SRC, Set, TCP, UDP, V4};

/// Splits a line into words, honouring double quotes and backslash escapes.
fn words(line: &str) -> Result<Vec<String>, usize> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = line.char_indices().peekable();
    let mut open_at = 0;
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                in_word = true;
                open_at = i;
            }
            '\\' if quoted => {
                if let Some((_, n)) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quoted {
        return Err(open_at);
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

struct Block {
    table: String,
    v6: bool,
}

/// Reads `iptables-save` / `ip6tables-save` output. `name` is used in locations.
pub fn read(text: &str, name: &str) -> Result<Ruleset, ReadError> {
    let mut chains: Vec<Chain> = Vec::new();
    let mut notes = Vec::new();
    let mut index: HashMap<(usize, String), usize> = HashMap::new();
    let mut block: Option<Block> = None;
    let mut blocks = 0usize;
    let mut next_v6 = false;
    let mut hooks: Vec<(Hook, Vec<usize>)> = vec![
        (Hook::Input, vec![]),
        (Hook::Forward, vec![]),
        (Hook::Output, vec![]),
    ];
    let mut counters = false;
    let mut families = [false, false];
    let lines: Vec<&str> = text.lines().collect();
    // Which family each table block is: the generator comment, else its addresses.
    let block_v6 = |from: usize| -> bool {
        for l in &lines[from..] {
            let l = l.trim();
            if l == "COMMIT" {
                break;
            }
            if let Ok(ws) = words(l) {
                for w in ws.windows(2) {
                    if matches!(w[0].as_str(), "-s" | "-d" | "--source" | "--destination")
                        && w[1].contains(':')
                    {
                        return true;
                    }
                }
            }
        }
        false
    };
    for (n, raw) in lines.iter().enumerate() {
        let lineno = n + 1;
        let line = raw.trim();
        let loc = format!("{name}:{lineno}");
        if line.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            if c.contains("ip6tables-save") {
                next_v6 = true;
            } else if c.contains("iptables-save") && c.contains("Generated") {
                next_v6 = false;
            }
            continue;
        }
        if let Some(t) = line.strip_prefix('*') {
            let v6 = next_v6 || block_v6(n + 1);
            families[usize::from(v6)] = true;
            blocks += 1;
            block = Some(Block {
                table: t.trim().to_owned(),
                v6,
            });
            continue;
        }
        if line == "COMMIT" {
            block = None;
            next_v6 = false;
            continue;
        }
        let Some(b) = &block else {
            return Err(ReadError {
                location: format!("{loc}:1"),
                message: format!("`{}` outside a table", first_word(line)),
                hint: "iptables-save output starts each table with *filter (or *nat ...) and ends it with COMMIT".into(),
            });
        };
        let family = if b.v6 {
            Set::range(V4.0, V4.1).complement(SRC)
        } else {
            Set::range(V4.0, V4.1)
        };
        let fam_name = if b.v6 { "ip6tables" } else { "iptables" };
        if let Some(rest) = line.strip_prefix(':') {
            let mut it = rest.split_whitespace();
            let cname = it.next().unwrap_or("").to_owned();
            let policy = match it.next() {
                Some("DROP") => Some(Decision::Drop),
                Some("ACCEPT") => Some(Decision::Accept),
                _ => None,
            };
            let idx = chains.len();
            let builtin = policy.is_some();
            chains.push(Chain {
                name: format!("{fam_name} {} {cname}", b.table),
                rules: Vec::new(),
                policy,
                policy_location: loc.clone(),
                only: if builtin {
                    Some(Cube::full().with(SRC, &family))
                } else {
                    None
                },
                index: None,
            });
            index.insert((blocks, cname.clone()), idx);
            if b.table == "filter" {
                let hook = match cname.as_str() {
                    "INPUT" => Some(Hook::Input),
                    "FORWARD" => Some(Hook::Forward),
                    "OUTPUT" => Some(Hook::Output),
                    _ => None,
                };
                if let Some(h) = hook
                    && let Some(entry) = hooks.iter_mut().find(|(x, _)| *x == h)
                {
                    entry.1.push(idx);
                }
            }
            continue;
        }
        let ws = match words(line) {
            Ok(w) => w,
            Err(col) => {
                return Err(ReadError {
                    location: format!("{loc}:{}", col + 1),
                    message: "unterminated quote".into(),
                    hint: "give the file exactly as iptables-save wrote it".into(),
                });
            }
        };
        let mut ws: &[String] = &ws;
        let mut hits = None;
        if let Some(first) = ws.first()
            && first.starts_with('[')
            && first.ends_with(']')
        {
            hits = first[1..first.len() - 1]
                .split(':')
                .next()
                .and_then(|p| p.parse::<u64>().ok());
            counters = true;
            ws = &ws[1..];
        }
        match ws.first().map(String::as_str) {
            Some("-A") | Some("--append") => {}
            Some(other) => {
                notes.push(Note {
                    location: loc.clone(),
                    message: format!("`{other}` line is not understood; skipped"),
                });
                continue;
            }
            None => continue,
        }
        let Some(cname) = ws.get(1) else {
            return Err(ReadError {
                location: format!("{loc}:1"),
                message: "-A without a chain".into(),
                hint: "a rule line reads -A CHAIN MATCHES -j TARGET".into(),
            });
        };
        let Some(&c) = index.get(&(blocks, cname.clone())) else {
            return Err(ReadError {
                location: format!("{loc}:1"),
                message: format!("chain {cname} is not declared in this table"),
                hint: "iptables-save declares every chain with a :CHAIN line after *table".into(),
            });
        };
        let mut rule = parse_rule(&ws[2..], &family, &loc, &mut notes);
        if rule.hits.is_none() {
            rule.hits = hits;
        }
        counters |= rule.hits.is_some();
        rule.text = ws
            .iter()
            .map(|w| {
                if w.contains(char::is_whitespace) {
                    format!("\"{w}\"")
                } else {
                    w.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" ");
        // Targets: chains of this table.
        if let Some(t) = rule_target(&ws[2..]) {
            rule.action = match t.1.as_str() {
                "ACCEPT" => Action::Accept,
                "DROP" | "REJECT" | "TARPIT" => Action::Drop,
                "RETURN" => Action::Return,
                "LOG" | "NFLOG" | "ULOG" | "MARK" | "CONNMARK" | "TRACE" | "CT" | "NOTRACK"
                | "TCPMSS" | "DSCP" | "TOS" | "CLASSIFY" | "TTL" | "HL" | "SET" | "AUDIT"
                | "CHECKSUM" | "SECMARK" | "CONNSECMARK" => Action::Continue,
                "QUEUE" | "NFQUEUE" => Action::Unknown,
                other => match index.get(&(blocks, other.to_owned())) {
                    Some(&tc) if t.0 => Action::Goto(tc),
                    Some(&tc) => Action::Jump(tc),
                    None if b.table != "filter" => Action::Continue,
                    None => {
                        notes.push(Note {
                            location: loc.clone(),
                            message: format!("target {other} is not understood"),
                        });
                        Action::Unknown
                    }
                },
            };
        }
        if b.table != "filter" && rule.action == Action::Drop {
            notes.push(Note {
                location: loc.clone(),
                message: format!(
                    "table {} drops packets here; only the filter table is evaluated",
                    b.table
                ),
            });
        }
        chains[c].rules.push(rule);
    }
    if block.is_some() {
        return Err(ReadError {
            location: format!("{name}:{}:1", lines.len()),
            message: "the last table has no COMMIT".into(),
            hint: "the file looks cut off; export it again".into(),
        });
    }
    if blocks == 0 {
        return Err(ReadError {
            location: format!("{name}:1:1"),
            message: "no table (*filter ...) found".into(),
            hint: "give the output of iptables-save (or ip6tables-save)".into(),
        });
    }
    for (v6, present) in [(false, families[0]), (true, families[1])] {
        if !present {
            notes.push(Note {
                location: name.to_owned(),
                message: format!(
                    "no {} rules in this export: {} flows are not judged (give both exports in one file)",
                    if v6 { "ip6tables" } else { "iptables" },
                    if v6 { "IPv6" } else { "IPv4" }
                ),
            });
        }
    }
    Ok(Ruleset {
        platform: Platform::Iptables,
        chains,
        hooks,
        notes,
        counters,
        no_chain: Decision::Accept,
        families,
    })
}

fn first_word(s: &str) -> &str {
    s.split_whitespace().next().unwrap_or("")
}

/// The target of a rule: (is a goto, name).
fn rule_target(ws: &[String]) -> Option<(bool, String)> {
    let mut t = None;
    for w in ws.windows(2) {
        match w[0].as_str() {
            "-j" | "--jump" => t = Some((false, w[1].clone())),
            "-g" | "--goto" => t = Some((true, w[1].clone())),
            _ => {}
        }
    }
    t
}

fn parse_addr_list(v: &str) -> Option<Set> {
    let mut iv = Vec::new();
    for part in v.split(',') {
        let (a, m) = match part.split_once('/') {
            Some((a, m)) => (a, Some(m)),
            None => (part, None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let len = match m {
            None => {
                if addr.is_ipv4() {
                    32
                } else {
                    128
                }
            }
            Some(m) => match m.parse::<u8>() {
                Ok(l) => l,
                Err(_) => {
                    let mask: std::net::Ipv4Addr = m.parse().ok()?;
                    let bits = u32::from(mask);
                    if bits.leading_ones() + bits.trailing_zeros() != 32 {
                        return None;
                    }
                    bits.leading_ones() as u8
                }
            },
        };
        let net = ipnet::IpNet::new(addr, len).ok()?.trunc();
        iv.push(space::net_bounds(net));
    }
    Some(Set::from_intervals(iv))
}

fn parse_ports(v: &str) -> Option<Set> {
    let mut iv = Vec::new();
    for part in v.split(',') {
        let (a, b) = match part.split_once(':') {
            Some((a, b)) => (
                if a.is_empty() {
                    0
                } else {
                    a.parse::<u16>().ok()?
                },
                if b.is_empty() {
                    65535
                } else {
                    b.parse::<u16>().ok()?
                },
            ),
            None => {
                let p = part.parse::<u16>().ok()?;
                (p, p)
            }
        };
        iv.push((u128::from(a), u128::from(b)));
    }
    Some(Set::from_intervals(iv))
}

fn parse_range(v: &str) -> Option<Set> {
    let (a, b) = v.split_once('-')?;
    let a: IpAddr = a.parse().ok()?;
    let b: IpAddr = b.parse().ok()?;
    Some(Set::range(space::addr_value(a), space::addr_value(b)))
}

/// The matches of one rule (the words after `-A CHAIN`).
fn parse_rule(ws: &[String], family: &Set, loc: &str, notes: &mut Vec<Note>) -> Rule {
    let mut cube = Cube::full();
    cube.0[SRC] = family.clone();
    cube.0[DST] = family.clone();
    let mut possible: Vec<String> = Vec::new();
    let mut never_new = false;
    let mut hits = None;
    let mut i = 0;
    let mut negate = false;
    let mut proto: Option<u128> = None;
    let bad = |what: String, notes: &mut Vec<Note>, possible: &mut Vec<String>| {
        notes.push(Note {
            location: loc.to_owned(),
            message: format!("{what} is not understood; the rule is \"possible\""),
        });
        possible.push(what);
    };
    let narrow = |cube: &mut Cube, dim: usize, within: Set, s: Set, neg: bool| {
        let s = if neg {
            within.minus(&s)
        } else {
            within.intersect(&s)
        };
        cube.0[dim] = cube.0[dim].intersect(&s);
    };
    while i < ws.len() {
        let w = ws[i].as_str();
        let arg = ws.get(i + 1).map(String::as_str);
        if w == "!" {
            negate = true;
            i += 1;
            continue;
        }
        // The old form puts `!` after the option: `-s ! 192.0.2.1`.
        let (arg, skip) = match arg {
            Some("!") => {
                negate = !negate;
                (ws.get(i + 2).map(String::as_str), 3)
            }
            a => (a, 2),
        };
        let neg = std::mem::take(&mut negate);
        match w {
            "-s" | "--source" | "-d" | "--destination" => {
                let dim = if w.starts_with("-s") || w == "--source" {
                    SRC
                } else {
                    DST
                };
                match arg.and_then(parse_addr_list) {
                    Some(s) => narrow(&mut cube, dim, family.clone(), s, neg),
                    None => bad(
                        format!("address `{}`", arg.unwrap_or("")),
                        notes,
                        &mut possible,
                    ),
                }
                i += skip;
            }
            "--src-range" | "--dst-range" => {
                let dim = if w == "--src-range" { SRC } else { DST };
                match arg.and_then(parse_range) {
                    Some(s) => narrow(&mut cube, dim, family.clone(), s, neg),
                    None => bad(
                        format!("range `{}`", arg.unwrap_or("")),
                        notes,
                        &mut possible,
                    ),
                }
                i += skip;
            }
            "-p" | "--protocol" => {
                let a = arg.unwrap_or("");
                let num = match a {
                    "all" | "0" => None,
                    name => name.parse::<u128>().ok().or_else(|| proto_number(name)),
                };
                match (a, num) {
                    ("all" | "0", _) => {}
                    (_, Some(p)) => {
                        proto = Some(p);
                        narrow(&mut cube, PROTO, Set::full(PROTO), Set::one(p), neg);
                    }
                    (name, None) => bad(format!("protocol `{name}`"), notes, &mut possible),
                }
                i += skip;
            }
            "--dport"
            | "--destination-port"
            | "--sport"
            | "--source-port"
            | "--dports"
            | "--destination-ports"
            | "--sports"
            | "--source-ports"
            | "--ports" => {
                let dim = if w.starts_with("--d") { DPORT } else { SPORT };
                match arg.and_then(parse_ports) {
                    Some(s) if w == "--ports" => {
                        // Either port: not one product; kept exact only without negation.
                        if neg {
                            bad("! --ports".into(), notes, &mut possible);
                        } else {
                            possible
                                .push("--ports matches the source or the destination port".into());
                            narrow(&mut cube, DPORT, Set::full(DPORT), s, false);
                        }
                    }
                    Some(s) => narrow(&mut cube, dim, Set::full(dim), s, neg),
                    None => bad(
                        format!("ports `{}`", arg.unwrap_or("")),
                        notes,
                        &mut possible,
                    ),
                }
                if proto.is_none() {
                    narrow(
                        &mut cube,
                        PROTO,
                        Set::full(PROTO),
                        Set::from_intervals(vec![(TCP, TCP), (UDP, UDP)]),
                        false,
                    );
                }
                i += skip;
            }
            "--ctstate" | "--state" => {
                let has_new = arg.unwrap_or("").split(',').any(|s| s == "NEW");
                if has_new == neg {
                    never_new = true;
                }
                i += skip;
            }
            "-i" | "--in-interface" | "-o" | "--out-interface" => {
                let a = arg.unwrap_or("");
                if a == "lo" && !neg {
                    never_new = true;
                } else {
                    possible.push(format!("interface match `{w} {a}`"));
                }
                i += skip;
            }
            "-m" | "--match" => {
                match arg.unwrap_or("") {
                    "tcp" | "udp" | "multiport" | "conntrack" | "state" | "comment" | "iprange" => {
                    }
                    "limit" | "hashlimit" | "recent" | "connlimit" | "statistic" | "quota" => {
                        possible.push(format!(
                            "-m {}: matches only part of the traffic",
                            arg.unwrap_or("")
                        ));
                    }
                    "set" => {
                        possible.push("-m set: the ipset's members are not in the export".into())
                    }
                    "addrtype" | "owner" | "mark" | "connmark" | "physdev" | "mac" | "policy"
                    | "string" | "u32" | "bpf" | "time" | "icmp" | "icmp6" | "length" | "ttl"
                    | "hl" | "dscp" | "tos" | "pkttype" | "rt" | "frag" | "ah" | "esp" => {
                        possible.push(format!("-m {} is not evaluated", arg.unwrap_or("")));
                    }
                    other => bad(format!("-m {other}"), notes, &mut possible),
                }
                i += skip;
            }
            "--comment" | "-j" | "--jump" | "-g" | "--goto" => i += skip,
            "-c" | "--set-counters" => {
                hits = arg.and_then(|p| p.parse::<u64>().ok());
                i += 3;
            }
            "--syn" | "-f" | "--fragment" => {
                if w != "--syn" {
                    possible.push(format!("{w} is not evaluated"));
                }
                i += 1;
            }
            other if other.starts_with("--") => {
                // An option of a module we know nothing more of (for example --icmp-type,
                // --match-set, --limit): the module already made the rule "possible" or
                // the option carries no match (log and reject settings).
                let known_harmless = matches!(
                    other,
                    "--log-prefix"
                        | "--log-level"
                        | "--reject-with"
                        | "--log-uid"
                        | "--log-tcp-options"
                        | "--log-ip-options"
                        | "--limit"
                        | "--limit-burst"
                        | "--match-set"
                        | "--icmp-type"
                        | "--icmpv6-type"
                        | "--set-mark"
                        | "--set-xmark"
                        | "--tcp-flags"
                        | "--to-destination"
                        | "--to-source"
                        | "--to-ports"
                        | "--nflog-group"
                        | "--nflog-prefix"
                        | "--queue-num"
                        | "--uid-owner"
                        | "--gid-owner"
                        | "--mark"
                        | "--src-type"
                        | "--dst-type"
                        | "--set"
                        | "--name"
                        | "--rcheck"
                        | "--update"
                        | "--seconds"
                        | "--hitcount"
                        | "--ctstatus"
                        | "--ctdir"
                        | "--mac-source"
                        | "--zone"
                        | "--notrack"
                        | "--helper"
                        | "--clamp-mss-to-pmtu"
                        | "--set-mss"
                );
                if !known_harmless {
                    bad(format!("option {other}"), notes, &mut possible);
                }
                // Options take one value unless the next word is another option.
                i += if arg.is_some_and(|a| !a.starts_with('-')) {
                    skip
                } else {
                    1
                };
            }
            other => {
                bad(format!("word `{other}`"), notes, &mut possible);
                i += 1;
            }
        }
    }
    Rule {
        matches: cube,
        possible: if possible.is_empty() {
            None
        } else {
            Some(possible.join("; "))
        },
        action: Action::Continue,
        location: loc.to_owned(),
        text: String::new(),
        hits,
        never_new,
    }
}
