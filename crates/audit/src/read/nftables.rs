//! Reader for `nft -j list ruleset` (libnftables-json(5)).
//!
//! A lenient walk over `serde_json::Value`: an expression it does not know makes its rule
//! "possible" (shown as such) and is listed in the notes. A value nft never writes (an
//! object it does not have, a policy other than `accept` or `drop`, a rule in a chain not
//! declared, a prefix longer than its address, a port beyond 65535, a reversed range) is an
//! error at its JSON path: read otherwise, it would change verdicts unseen.
//! Evaluated: tables of the `ip`, `ip6` and `inet` families; `filter` base chains on the
//! prerouting, input, forward, output and postrouting hooks (ordered by priority); user
//! chains; named and anonymous sets; payload, meta and ct matches; accept, drop, reject,
//! jump, goto, return; counters.

use std::collections::HashMap;
use std::net::IpAddr;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::ReadError;
use crate::model::{Action, Chain, Decision, Hook, Note, Platform, Rule, Ruleset};
use crate::read::clip;
use crate::space::{self, Cube, DPORT, DST, PROTO, SPORT, SRC, Set, TCP, UDP, V4};

/// The top level of `nft -j list ruleset`, its array kept as text.
#[derive(Deserialize)]
struct Document<'a> {
    #[serde(borrow)]
    nftables: Vec<&'a RawValue>,
}

/// The kinds of item the reader looks at, each kept as text (`null` included: present).
#[derive(Deserialize)]
struct Kinds<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    set: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    map: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    chain: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    rule: Option<&'a RawValue>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// One item of the `nftables` array: as text, read again by each pass (so the document is
/// never one tree in memory: a tree of serde_json values takes about 30 times the text), or
/// as a tree when the document is not laid out as `nft` writes it.
enum Item<'a> {
    Text(&'a RawValue),
    Tree(&'a Value),
}

impl Item<'_> {
    /// The keys of this item; empty when it is not an object.
    fn keys(&self) -> Vec<String> {
        match self {
            Item::Tree(v) => v
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default(),
            Item::Text(t) => serde_json::from_str::<
                std::collections::BTreeMap<String, serde::de::IgnoredAny>,
            >(t.get())
            .map(|m| m.into_keys().collect())
            .unwrap_or_default(),
        }
    }

    /// The value of `key` (`set`, `map`, `chain` or `rule`) in this item.
    fn get(&self, key: &str) -> Option<Value> {
        match self {
            Item::Tree(v) => v.get(key).cloned(),
            Item::Text(t) => match serde_json::from_str::<Kinds>(t.get()) {
                Ok(k) => {
                    let raw = match key {
                        "set" => k.set,
                        "map" => k.map,
                        "chain" => k.chain,
                        "rule" => k.rule,
                        _ => None,
                    }?;
                    serde_json::from_str(raw.get()).ok()
                }
                // Not an object, or a key twice (the last one counts, as in a tree).
                Err(_) => serde_json::from_str::<Value>(t.get())
                    .ok()?
                    .get(key)
                    .cloned(),
            },
        }
    }
}

/// Reads the JSON of `nft -j list ruleset`. `name` is the file name used in locations.
pub fn read(text: &str, name: &str) -> Result<Ruleset, ReadError> {
    // As nft writes it: one object holding the array, read item by item. (Nested deeper than
    // a tree may be, it is read as a tree, for the same error.)
    if super::object(text)
        && super::nesting(text) < 100
        && let Ok(doc) = serde_json::from_str::<Document>(text)
    {
        let items: Vec<Item> = doc.nftables.into_iter().map(Item::Text).collect();
        return read_items(&items, name);
    }
    let v: Value = serde_json::from_str(text).map_err(|e| ReadError {
        location: format!("{name}:{}:{}", e.line(), e.column()),
        message: format!("not JSON: {e}"),
        hint: "give the output of `nft -j list ruleset` (JSON), not `nft list ruleset`".into(),
    })?;
    let Some(items) = v.get("nftables").and_then(Value::as_array) else {
        return Err(ReadError {
            location: format!("{name}: $"),
            message: "no \"nftables\" array at the top level".into(),
            hint: "give the output of `nft -j list ruleset`".into(),
        });
    };
    let items: Vec<Item> = items.iter().map(Item::Tree).collect();
    read_items(&items, name)
}

/// Reads the items of the `nftables` array.
fn read_items(items: &[Item], name: &str) -> Result<Ruleset, ReadError> {
    let mut r = Reader {
        sets: HashMap::new(),
        notes: Vec::new(),
        corrupt: None,
        corrupt_at: None,
    };
    // Every object is one nft writes: another (a misspelt `rlue`) would be a rule or a set
    // silently left out.
    for (i, item) in items.iter().enumerate() {
        let keys = item.keys();
        if keys.is_empty() {
            return Err(corrupt(
                name,
                &format!("$.nftables[{i}]"),
                "an element of \"nftables\" that is not an object".into(),
            ));
        }
        if let Some(k) = keys.into_iter().find(|k| !OBJECTS.contains(&k.as_str())) {
            return Err(corrupt(
                name,
                &format!("$.nftables[{i}]"),
                format!("`{}` is not an object of nft -j list ruleset", clip(&k)),
            ));
        }
    }
    // Named sets first: rules refer to them by name.
    for (i, item) in items.iter().enumerate() {
        if let Some(s) = item.get("set").or_else(|| item.get("map")) {
            let s = &s;
            let key = (str_of(s, "family"), str_of(s, "table"), str_of(s, "name"));
            let elems = s.get("elem").cloned().unwrap_or(Value::Array(Vec::new()));
            let set = r.values(&elems);
            if let Some(message) = r.corrupt.take() {
                return Err(corrupt(name, &format!("$.nftables[{i}].elem"), message));
            }
            r.sets.insert(key, set);
        }
    }
    let mut chains: Vec<Chain> = Vec::new();
    let mut index: HashMap<(String, String, String), usize> = HashMap::new();
    // Chains of a family not evaluated (their rules are left out with them).
    let mut other_family: std::collections::HashSet<(String, String, String)> =
        std::collections::HashSet::new();
    // (hook, priority, chain) for the base chains.
    let mut bases: Vec<(Hook, i64, usize)> = Vec::new();
    let mut bases_pre: Vec<(i64, usize)> = Vec::new();
    let mut bases_post: Vec<(i64, usize)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(c) = item.get("chain") else { continue };
        let c = &c;
        let family = str_of(c, "family");
        let table = str_of(c, "table");
        let cname = str_of(c, "name");
        // Shown in every rule's location and finding: cut.
        let (sf, st, sc) = (clip(&family), clip(&table), clip(&cname));
        let path = format!("{name}: $.nftables[{i}].chain");
        let only = match family.as_str() {
            "ip" => Some(Cube::full().with(SRC, &Set::range(V4.0, V4.1))),
            "ip6" => Some(Cube::full().with(SRC, &Set::range(V4.0, V4.1).complement(SRC))),
            "inet" => None,
            other => {
                r.notes.push(Note {
                    location: path.clone(),
                    message: format!(
                        "chain {} of family {} is not evaluated (only ip, ip6, inet)",
                        clip(&cname),
                        clip(other)
                    ),
                });
                other_family.insert((family.clone(), table.clone(), cname.clone()));
                continue;
            }
        };
        // nft writes `accept` or `drop` (lower case), and no policy for a user chain.
        let policy = match c.get("policy") {
            None => Some(Decision::Accept),
            Some(Value::String(p)) if p == "accept" => Some(Decision::Accept),
            Some(Value::String(p)) if p == "drop" => Some(Decision::Drop),
            Some(other) => {
                return Err(corrupt(
                    name,
                    &format!("$.nftables[{i}].chain.policy"),
                    format!(
                        "the policy {} of chain {sf} {st} {sc} is not \"accept\" or \"drop\"",
                        clip(&other.to_string())
                    ),
                ));
            }
        };
        let is_base = c.get("hook").is_some();
        let idx = chains.len();
        chains.push(Chain {
            name: format!("{sf} {st} {sc}"),
            rules: Vec::new(),
            policy: if is_base { policy } else { None },
            policy_location: format!("{path} (chain {sf} {st} {sc})"),
            only: if is_base { only } else { None },
            index: None,
        });
        index.insert((family.clone(), table.clone(), cname.clone()), idx);
        if let Some(hook) = c.get("hook").and_then(Value::as_str) {
            let kind = c.get("type").and_then(Value::as_str).unwrap_or("filter");
            if kind != "filter" {
                r.notes.push(Note {
                    location: path.clone(),
                    message: format!(
                        "chain {sf} {st} {sc} is a {kind} chain: not a filter, \
                         not evaluated"
                    ),
                });
                continue;
            }
            let prio = c.get("prio").map(priority).unwrap_or(0);
            match hook {
                "input" => bases.push((Hook::Input, prio, idx)),
                "forward" => bases.push((Hook::Forward, prio, idx)),
                "output" => bases.push((Hook::Output, prio, idx)),
                "prerouting" => bases_pre.push((prio, idx)),
                "postrouting" => bases_post.push((prio, idx)),
                other => r.notes.push(Note {
                    location: path.clone(),
                    message: format!("hook {other} of chain {cname} is not evaluated"),
                }),
            }
        }
    }
    let mut counters = false;
    for (i, item) in items.iter().enumerate() {
        let Some(rule) = item.get("rule") else {
            continue;
        };
        let rule = &rule;
        let key = (
            str_of(rule, "family"),
            str_of(rule, "table"),
            str_of(rule, "chain"),
        );
        let Some(&c) = index.get(&key) else {
            if other_family.contains(&key) {
                continue;
            }
            return Err(corrupt(
                name,
                &format!("$.nftables[{i}].rule"),
                format!(
                    "a rule in chain {} {} {}, which the export does not declare",
                    clip(&key.0),
                    clip(&key.1),
                    clip(&key.2)
                ),
            ));
        };
        let handle = rule.get("handle").and_then(Value::as_u64);
        let path = format!(
            "{name}: $.nftables[{i}] (rule {} {} {}{})",
            clip(&key.0),
            clip(&key.1),
            clip(&key.2),
            handle.map(|h| format!(" handle {h}")).unwrap_or_default()
        );
        let parsed = r.rule(rule, &key, &index, &path);
        if let Some((at, message)) = r.corrupt_at.take() {
            return Err(ReadError {
                location: at,
                message,
                hint: HINT.into(),
            });
        }
        counters |= parsed.hits.is_some();
        chains[c].rules.push(parsed);
    }
    let order = |mut v: Vec<(i64, usize)>| {
        v.sort_by_key(|&(p, c)| (p, c));
        v.into_iter().map(|(_, c)| c).collect::<Vec<_>>()
    };
    let mut hooks = Vec::new();
    for hook in [Hook::Input, Hook::Forward, Hook::Output] {
        let own: Vec<(i64, usize)> = bases
            .iter()
            .filter(|(h, _, _)| *h == hook)
            .map(|&(_, p, c)| (p, c))
            .collect();
        let mut list = Vec::new();
        if hook != Hook::Output {
            list.extend(order(bases_pre.clone()));
        }
        list.extend(order(own));
        if hook != Hook::Input {
            list.extend(order(bases_post.clone()));
        }
        hooks.push((hook, list));
    }
    Ok(Ruleset {
        platform: Platform::Nftables,
        chains,
        hooks,
        notes: r.notes,
        counters,
        no_chain: Decision::Accept,
        families: [true, true],
    })
}

/// A chain priority: a number, or a standard name (`filter`, `raw`, `mangle` ...) with an
/// optional offset.
fn priority(v: &Value) -> i64 {
    if let Some(n) = v.as_i64() {
        return n;
    }
    let s = v.as_str().unwrap_or("filter").replace(' ', "");
    let (base, off) = match s.find(['+', '-']) {
        Some(i) => (&s[..i], s[i..].trim_start_matches('+').parse().unwrap_or(0)),
        None => (s.as_str(), 0),
    };
    let b = match base {
        "raw" => -300,
        "mangle" => -150,
        "dstnat" => -100,
        "filter" => 0,
        "security" => 50,
        "srcnat" => 100,
        _ => 0,
    };
    b + off
}

fn str_of(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_owned()
}

/// Values of a set, as numbers: addresses on the address line, ports and protocols as is.
#[derive(Debug, Clone, Default)]
struct Values {
    addrs: Vec<(u128, u128)>,
    nums: Vec<(u128, u128)>,
    names: Vec<String>,
    unknown: bool,
}

struct Reader {
    sets: HashMap<(String, String, String), Values>,
    notes: Vec<Note>,
    /// A value nft never writes (a prefix longer than its address, a port beyond 65535),
    /// met while collecting values: the export is corrupt.
    corrupt: Option<String>,
    /// The same, with the location of the expression that holds it.
    corrupt_at: Option<(String, String)>,
}

/// The objects of `nft -j list ruleset` (libnftables-json(5)).
const OBJECTS: &[&str] = &[
    "metainfo",
    "table",
    "chain",
    "rule",
    "set",
    "map",
    "element",
    "flowtable",
    "counter",
    "quota",
    "limit",
    "ct helper",
    "ct timeout",
    "ct expectation",
    "secmark",
    "synproxy",
    "tunnel",
];

const HINT: &str = "give the output of `nft -j list ruleset` as nft wrote it";

/// A value nft never writes, at `path`: the export cannot be read.
fn corrupt(name: &str, path: &str, message: String) -> ReadError {
    ReadError {
        location: format!("{name}: {path}"),
        message,
        hint: HINT.into(),
    }
}

impl Reader {
    fn values(&mut self, v: &Value) -> Values {
        let mut out = Values::default();
        self.collect(v, &mut out, 0);
        out
    }

    fn collect(&mut self, v: &Value, out: &mut Values, depth: usize) {
        if depth > 8 {
            out.unknown = true;
            return;
        }
        match v {
            Value::Array(a) => {
                for x in a {
                    self.collect(x, out, depth + 1);
                }
            }
            Value::Number(n) => match n.as_u64() {
                Some(n) => out.nums.push((u128::from(n), u128::from(n))),
                None => out.unknown = true,
            },
            Value::String(s) => match s.parse::<IpAddr>() {
                Ok(a) => {
                    let x = space::addr_value(a);
                    out.addrs.push((x, x));
                }
                Err(_) => match s.parse::<u64>() {
                    Ok(n) => out.nums.push((u128::from(n), u128::from(n))),
                    Err(_) => out.names.push(s.clone()),
                },
            },
            Value::Object(o) => {
                if let Some(s) = o.get("set") {
                    self.collect(s, out, depth + 1);
                } else if let Some(e) = o.get("elem") {
                    // {"elem": {"val": ..., "counter": ...}} or a list of elements.
                    match e.get("val") {
                        Some(val) => self.collect(val, out, depth + 1),
                        None => self.collect(e, out, depth + 1),
                    }
                } else if let Some(p) = o.get("prefix") {
                    let addr = p
                        .get("addr")
                        .and_then(Value::as_str)
                        .and_then(|a| a.parse().ok());
                    let len = p.get("len");
                    let max = if matches!(addr, Some(IpAddr::V6(_))) {
                        128
                    } else {
                        32
                    };
                    match len
                        .and_then(Value::as_u64)
                        .and_then(|l| u8::try_from(l).ok())
                    {
                        Some(l) if l <= max => match addr.map(|a| ipnet::IpNet::new(a, l)) {
                            Some(Ok(n)) => out.addrs.push(space::net_bounds(n.trunc())),
                            _ => out.unknown = true,
                        },
                        _ => {
                            self.corrupt.get_or_insert(format!(
                                "prefix length {} is not a number from 0 to {max}",
                                clip(&len.map_or_else(|| "(none)".into(), Value::to_string))
                            ));
                            out.unknown = true;
                        }
                    }
                } else if let Some(Value::Array(r)) = o.get("range") {
                    let mut a = Values::default();
                    let mut b = Values::default();
                    if let (Some(x), Some(y)) = (r.first(), r.get(1)) {
                        self.collect(x, &mut a, depth + 1);
                        self.collect(y, &mut b, depth + 1);
                    }
                    match (
                        a.addrs.first(),
                        b.addrs.first(),
                        a.nums.first(),
                        b.nums.first(),
                    ) {
                        (Some(x), Some(y), _, _) if x.0 <= y.1 => out.addrs.push((x.0, y.1)),
                        (_, _, Some(x), Some(y)) if x.0 <= y.1 => out.nums.push((x.0, y.1)),
                        (Some(_), Some(_), _, _) | (_, _, Some(_), Some(_)) => {
                            self.corrupt.get_or_insert(format!(
                                "range {} is reversed",
                                nft_text(&Value::Object(o.clone()))
                            ));
                            out.unknown = true;
                        }
                        _ => out.unknown = true,
                    }
                } else {
                    out.unknown = true;
                }
            }
            _ => out.unknown = true,
        }
    }

    fn rule(
        &mut self,
        rule: &Value,
        key: &(String, String, String),
        index: &HashMap<(String, String, String), usize>,
        path: &str,
    ) -> Rule {
        let mut cube = Cube::full();
        let mut possible: Vec<String> = Vec::new();
        let mut never_new = false;
        let mut action = Action::Continue;
        let mut hits = None;
        let mut text: Vec<String> = Vec::new();
        let exprs = rule
            .get("expr")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (k, e) in exprs.iter().enumerate() {
            let epath = format!("{path}.expr[{k}]");
            let Some((kind, body)) = e.as_object().and_then(|o| o.iter().next()) else {
                continue;
            };
            match kind.as_str() {
                "match" => {
                    let (t, ok) = self.matches(body, key, &mut cube, &mut never_new, &epath);
                    text.push(t.clone());
                    if let Err(why) = ok {
                        possible.push(why);
                    }
                }
                "counter" => {
                    if let Some(p) = body.get("packets").and_then(Value::as_u64) {
                        hits = Some(p);
                    }
                    text.push("counter".into());
                }
                "accept" => {
                    action = Action::Accept;
                    text.push("accept".into());
                }
                "drop" => {
                    action = Action::Drop;
                    text.push("drop".into());
                }
                "reject" => {
                    action = Action::Drop;
                    text.push("reject".into());
                }
                "return" => {
                    action = Action::Return;
                    text.push("return".into());
                }
                "jump" | "goto" => {
                    let target = body.get("target").and_then(Value::as_str).unwrap_or("");
                    let t = (key.0.clone(), key.1.clone(), target.to_owned());
                    text.push(format!("{kind} {target}"));
                    match index.get(&t) {
                        Some(&c) if kind == "jump" => action = Action::Jump(c),
                        Some(&c) => action = Action::Goto(c),
                        None => {
                            action = Action::Unknown;
                            self.note(&epath, format!("{kind} to unknown chain {target}"));
                        }
                    }
                }
                "log" | "limit" | "quota" | "meter" | "notrack" | "mangle" | "set" | "dup"
                | "fwd" | "synproxy" | "ct helper" | "ct timeout" | "tproxy" | "flow" => {
                    if kind == "limit" || kind == "quota" {
                        possible.push(format!("{kind}: matches only part of the traffic"));
                    }
                    text.push(kind.clone());
                }
                "xt" => {
                    let what = body
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_owned();
                    possible.push(format!(
                        "an xt (iptables extension `{what}`) statement nft cannot translate"
                    ));
                    self.note(
                        &epath,
                        format!(
                            "xt statement `{what}` (a rule made by iptables-nft that nft cannot \
                             show): its match is not evaluated, the rule is \"possible\"; \
                             read this table with iptables-nft-save instead"
                        ),
                    );
                    text.push(format!("xt {what}"));
                }
                "vmap" | "queue" => {
                    action = Action::Unknown;
                    self.note(&epath, format!("{kind} verdict is not evaluated"));
                    text.push(kind.clone());
                }
                other => {
                    possible.push(format!("`{other}` is not understood"));
                    self.note(&epath, format!("expression `{other}` is not understood"));
                    text.push(other.to_owned());
                }
            }
        }
        if let Some(c) = rule.get("comment").and_then(Value::as_str) {
            text.push(format!("comment \"{c}\""));
        }
        Rule {
            matches: cube,
            possible: if possible.is_empty() {
                None
            } else {
                Some(possible.join("; "))
            },
            action,
            location: path.to_owned(),
            text: text.join(" "),
            hits,
            never_new,
        }
    }

    fn note(&mut self, location: &str, message: String) {
        self.notes.push(Note {
            location: location.to_owned(),
            message,
        });
    }

    /// One `match`: narrows `cube`; `Err(why)` when it cannot be evaluated.
    fn matches(
        &mut self,
        m: &Value,
        key: &(String, String, String),
        cube: &mut Cube,
        never_new: &mut bool,
        path: &str,
    ) -> (String, Result<(), String>) {
        let op = m.get("op").and_then(Value::as_str).unwrap_or("==");
        let left = m.get("left").cloned().unwrap_or(Value::Null);
        let right = m.get("right").cloned().unwrap_or(Value::Null);
        let (field, proto_of) = field(&left);
        let right_vals = match &right {
            Value::String(s) if s.starts_with('@') => {
                let k = (key.0.clone(), key.1.clone(), s[1..].to_owned());
                match self.sets.get(&k) {
                    Some(v) => v.clone(),
                    None => Values {
                        unknown: true,
                        ..Values::default()
                    },
                }
            }
            other => self.values(other),
        };
        if let Some(message) = self.corrupt.take() {
            self.corrupt_at
                .get_or_insert((format!("{path}.match.right"), message));
        }
        let shown_field = match (&field[..], proto_of) {
            ("dport" | "sport", Some(TCP)) => format!("tcp {field}"),
            ("dport" | "sport", Some(UDP)) => format!("udp {field}"),
            ("dport" | "sport", _) => format!("th {field}"),
            ("l4proto" | "nfproto" | "iifname" | "oifname" | "iif" | "oif", _) => {
                format!("meta {field}")
            }
            _ => field.clone(),
        };
        let text = if matches!(op, "==" | "in") {
            format!("{shown_field} {}", nft_text(&right))
        } else {
            format!("{shown_field} {op} {}", nft_text(&right))
        };
        let negate = op == "!=";
        let cmp = |v: &Values| -> Option<Set> {
            let n = v.nums.first()?.0;
            Some(match op {
                "<" => Set::range(0, n.checked_sub(1)?),
                "<=" => Set::range(0, n),
                ">" => Set::range(n + 1, u128::MAX),
                ">=" => Set::range(n, u128::MAX),
                _ => return None,
            })
        };
        if right_vals.unknown && !matches!(field.as_str(), "ct state") {
            self.note(path, format!("the value of `{text}` is not understood"));
            let why = format!("`{text}` is not understood");
            return (text, Err(why));
        }
        let narrow = |cube: &mut Cube, dim: usize, within: Set, vals: Set| {
            let s = if negate {
                within.minus(&vals)
            } else {
                within.intersect(&vals)
            };
            cube.0[dim] = cube.0[dim].intersect(&s);
        };
        match field.as_str() {
            "ip saddr" | "ip daddr" | "ip6 saddr" | "ip6 daddr" => {
                let dim = if field.ends_with("saddr") { SRC } else { DST };
                if !right_vals.nums.is_empty() || !right_vals.names.is_empty() {
                    self.note(path, format!("the value of `{text}` is not an address"));
                    return (text.clone(), Err(format!("`{text}` is not understood")));
                }
                let fam = if field.starts_with("ip6") {
                    Set::range(V4.0, V4.1).complement(SRC)
                } else {
                    Set::range(V4.0, V4.1)
                };
                // The family holds whatever the address says.
                cube.0[SRC] = cube.0[SRC].intersect(&fam);
                cube.0[DST] = cube.0[DST].intersect(&fam);
                narrow(
                    cube,
                    dim,
                    fam,
                    Set::from_intervals(right_vals.addrs.clone()),
                );
                (text, Ok(()))
            }
            "dport" | "sport" => {
                let dim = if field == "dport" { DPORT } else { SPORT };
                if let Some(&(_, n)) = right_vals.nums.iter().find(|&&(_, b)| b > 65535) {
                    self.corrupt_at.get_or_insert((
                        format!("{path}.match.right"),
                        format!("port {n} in `{text}` is beyond 65535"),
                    ));
                }
                if let Some(p) = proto_of {
                    cube.0[PROTO] = cube.0[PROTO].intersect(&Set::one(p));
                }
                let vals = match cmp(&right_vals) {
                    Some(s) => s.intersect(&Set::full(dim)),
                    None => Set::from_intervals(right_vals.nums.clone()),
                };
                if !right_vals.names.is_empty() {
                    return (text.clone(), Err(format!("service names in `{text}`")));
                }
                narrow(cube, dim, Set::full(dim), vals);
                (text, Ok(()))
            }
            "l4proto" => {
                let mut nums = right_vals.nums.clone();
                for n in &right_vals.names {
                    match proto_number(n) {
                        Some(p) => nums.push((p, p)),
                        None => return (text.clone(), Err(format!("protocol {n}"))),
                    }
                }
                narrow(cube, PROTO, Set::full(PROTO), Set::from_intervals(nums));
                (text, Ok(()))
            }
            "nfproto" => {
                let mut s = Set::empty();
                for n in &right_vals.names {
                    match n.as_str() {
                        "ipv4" => s = s.union(&Set::range(V4.0, V4.1)),
                        "ipv6" => s = s.union(&Set::range(V4.0, V4.1).complement(SRC)),
                        _ => {}
                    }
                }
                narrow(cube, SRC, Set::full(SRC), s.clone());
                let d = cube.0[DST].intersect(&if negate { s.complement(SRC) } else { s });
                cube.0[DST] = d;
                (text, Ok(()))
            }
            "ct state" => {
                let has_new = right_vals.names.iter().any(|n| n == "new");
                let matches_new = if negate { !has_new } else { has_new };
                if !matches_new {
                    *never_new = true;
                }
                (text, Ok(()))
            }
            "iifname" | "oifname" | "iif" | "oif" | "iiftype" | "oiftype" => {
                let lo = right_vals.names.iter().all(|n| n == "lo");
                if lo && !right_vals.names.is_empty() && !negate {
                    // Loopback traffic is never a planned flow between hosts.
                    *never_new = true;
                    return (text, Ok(()));
                }
                (text.clone(), Err(format!("interface match `{text}`")))
            }
            _ => {
                self.note(path, format!("match on `{field}` is not evaluated"));
                (text.clone(), Err(format!("`{text}` is not evaluated")))
            }
        }
    }
}

/// The field a match's left side names, and the protocol a port field implies.
fn field(left: &Value) -> (String, Option<u128>) {
    if let Some(p) = left.get("payload") {
        let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("");
        let f = p.get("field").and_then(Value::as_str).unwrap_or("");
        return match (proto, f) {
            ("tcp", "dport" | "sport") => (f.to_owned(), Some(TCP)),
            ("udp", "dport" | "sport") => (f.to_owned(), Some(UDP)),
            ("th", "dport" | "sport") => (f.to_owned(), None),
            ("ip", "protocol") | ("ip6", "nexthdr") => ("l4proto".to_owned(), None),
            _ => (format!("{proto} {f}"), None),
        };
    }
    if let Some(m) = left.get("meta") {
        let k = m.get("key").and_then(Value::as_str).unwrap_or("");
        return (k.to_owned(), None);
    }
    if let Some(c) = left.get("ct") {
        let k = c.get("key").and_then(Value::as_str).unwrap_or("");
        return (format!("ct {k}"), None);
    }
    (short(left), None)
}

/// A protocol name as nft writes it.
pub fn proto_number(n: &str) -> Option<u128> {
    Some(match n {
        "tcp" => TCP,
        "udp" => UDP,
        "icmp" => 1,
        "igmp" => 2,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "icmpv6" | "ipv6-icmp" => 58,
        "sctp" => 132,
        "udplite" => 136,
        _ => return None,
    })
}

/// A value as nft writes it (`{ 80, 443 }`, `192.0.2.0/24`, `1-9`), shortened.
fn nft_text(v: &Value) -> String {
    fn go(v: &Value, depth: usize) -> String {
        if depth > 6 {
            return "...".into();
        }
        match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Array(a) => {
                let items: Vec<String> = a.iter().map(|x| go(x, depth + 1)).collect();
                format!("{{ {} }}", items.join(", "))
            }
            Value::Object(o) => {
                if let Some(s) = o.get("set") {
                    return match s {
                        Value::Array(_) => go(s, depth + 1),
                        other => format!("{{ {} }}", go(other, depth + 1)),
                    };
                }
                if let Some(p) = o.get("prefix") {
                    return format!(
                        "{}/{}",
                        p.get("addr").map(|a| go(a, depth + 1)).unwrap_or_default(),
                        p.get("len").map(|a| go(a, depth + 1)).unwrap_or_default()
                    );
                }
                if let Some(Value::Array(r)) = o.get("range") {
                    let ends: Vec<String> = r.iter().map(|x| go(x, depth + 1)).collect();
                    return ends.join("-");
                }
                Value::Object(o.clone()).to_string()
            }
            other => other.to_string(),
        }
    }
    clip(&go(v, 0))
}

/// A value in a few characters, for rule texts.
fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    clip(&s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::allowed;

    /// A forward chain with policy `policy`, then `items` (JSON objects, comma-separated).
    fn export(policy: &str, items: &str) -> String {
        format!(
            r#"{{"nftables": [
              {{"table": {{"family": "inet", "name": "filter"}}}},
              {{"chain": {{"family": "inet", "table": "filter", "name": "fwd", "type": "filter",
                "hook": "forward", "prio": 0, "policy": {policy}}}}}
              {items}]}}"#
        )
    }

    /// A rule of `fwd` accepting TCP from `src` to port `port` (JSON values).
    fn accept(src: &str, port: &str) -> String {
        format!(
            r#", {{"rule": {{"family": "inet", "table": "filter", "chain": "fwd", "handle": 4,
              "expr": [
                {{"match": {{"op": "==", "left": {{"payload": {{"protocol": "ip", "field": "saddr"}}}},
                  "right": {src}}}}},
                {{"match": {{"op": "==", "left": {{"payload": {{"protocol": "tcp", "field": "dport"}}}},
                  "right": {port}}}}},
                {{"accept": null}}]}}}}"#
        )
    }

    #[test]
    fn a_valid_export_is_read_exactly() {
        let rs = read(
            &export(
                r#""drop""#,
                &accept(r#"{"prefix": {"addr": "198.51.100.0", "len": 24}}"#, "443"),
            ),
            "n.json",
        )
        .unwrap();
        assert_eq!(
            allowed(&rs, "198.51.100.7", "192.0.2.5", TCP, 443),
            Some(true)
        );
        assert_eq!(
            allowed(&rs, "203.0.113.7", "192.0.2.5", TCP, 443),
            Some(false)
        );
    }

    #[test]
    fn a_policy_other_than_accept_or_drop_is_an_error() {
        let e = read(&export(r#""DROP""#, ""), "n.json").unwrap_err();
        assert_eq!(e.location, "n.json: $.nftables[1].chain.policy");
        assert!(e.message.contains("\"DROP\""), "{}", e.message);
    }

    #[test]
    fn a_rule_in_an_undeclared_chain_is_an_error() {
        let text = export(r#""drop""#, &accept(r#""198.51.100.7""#, "443"))
            .replace(r#""chain": "fwd""#, r#""chain": "fwd2""#);
        let e = read(&text, "n.json").unwrap_err();
        assert_eq!(e.location, "n.json: $.nftables[2].rule");
        assert!(e.message.contains("inet filter fwd2"), "{}", e.message);
    }

    #[test]
    fn a_prefix_longer_than_its_address_is_an_error() {
        let e = read(
            &export(
                r#""drop""#,
                &accept(r#"{"prefix": {"addr": "198.51.100.0", "len": 256}}"#, "443"),
            ),
            "n.json",
        )
        .unwrap_err();
        assert!(
            e.location
                .starts_with("n.json: $.nftables[2] (rule inet filter fwd handle 4).expr[0]"),
            "{}",
            e.location
        );
        assert!(e.message.contains("prefix length 256"), "{}", e.message);
    }

    #[test]
    fn a_port_beyond_65535_is_an_error() {
        let e = read(
            &export(r#""drop""#, &accept(r#""198.51.100.7""#, "70000")),
            "n.json",
        )
        .unwrap_err();
        assert!(e.location.contains(".expr[1]"), "{}", e.location);
        assert!(e.message.contains("port 70000"), "{}", e.message);
    }

    #[test]
    fn an_unknown_object_is_an_error() {
        let text = export(r#""drop""#, &accept(r#""198.51.100.7""#, "443"))
            .replace(r#"{"rule":"#, r#"{"rlue":"#);
        let e = read(&text, "n.json").unwrap_err();
        assert_eq!(e.location, "n.json: $.nftables[2]");
        assert!(e.message.contains("`rlue`"), "{}", e.message);
    }
}
