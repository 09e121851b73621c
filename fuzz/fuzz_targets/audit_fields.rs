#![no_main]
//! Differential check of the rule set readers of `rdsports_audit` (issue 23, "values read
//! silently into a verdict"): a valid export (the golden fixtures) with one field set to a
//! value the reader cannot read exactly (a number out of range, a string where a number
//! belongs, null, a misspelt key, a reversed range) is read again, and either every verdict
//! stays the same, or the field is named: by the error, or by a note or a "possible" reason
//! the original read did not have. A verdict that changes unnamed is a value read silently
//! into a verdict: the target panics.
//!
//! The fuzz input's first four bytes pick the fixture, the field, its occurrence and the bad
//! value (`-max_len=4`); a corpus of every such input runs in seconds with `-runs=0`. Run
//! against the readers before issue 23's fixes, it stops at once in every format (a
//! misspelt Azure priority, a null CidrIp, a NACL port -1, a Windows protocol 70000, a GPO
//! `Active=YES` ...).

use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use rdsports_audit::model::Hook;
use rdsports_audit::space::Cube;
use rdsports_audit::{ReadOptions, Ruleset, eval};
use serde_json::{Value, json};

/// A bad value for a field.
#[derive(Clone, Copy)]
enum Bad {
    /// This JSON value.
    Is(fn() -> Value),
    /// The key misspelt (the value kept).
    Misspelt,
}

fn null() -> Value {
    Value::Null
}
fn word() -> Value {
    json!("x")
}
fn number_text() -> Value {
    json!("443")
}
fn bad_range() -> Value {
    json!("3389-3390x")
}
fn reversed() -> Value {
    json!("3390-3389")
}
fn big() -> Value {
    json!(70000)
}
fn minus() -> Value {
    json!(-1)
}
fn fraction() -> Value {
    json!(3.5)
}
fn yes() -> Value {
    json!(true)
}
fn upper_drop() -> Value {
    json!("DROP")
}
fn too_long() -> Value {
    json!(256)
}
fn bad_cidr() -> Value {
    json!("198.51.100.0/33")
}
fn zero() -> Value {
    json!(0)
}

use Bad::{Is, Misspelt};

/// A field of a JSON export: its key (any case), the names that count as naming it, the bad
/// values to try.
struct Field {
    key: &'static str,
    names: &'static [&'static str],
    bad: &'static [Bad],
}

struct Seed {
    format: &'static str,
    text: &'static str,
    fields: &'static [Field],
}

const PORT: &[Bad] = &[
    Is(null),
    Is(number_text),
    Is(big),
    Is(minus),
    Is(fraction),
    Is(yes),
    Misspelt,
];

const SEEDS: &[Seed] = &[
    Seed {
        format: "azure-nsg",
        text: include_str!("../../crates/audit/tests/fixtures/azure-nsg.json"),
        fields: &[
            Field {
                key: "priority",
                names: &["priority"],
                bad: &[
                    Is(null),
                    Is(word),
                    Is(big),
                    Is(minus),
                    Is(fraction),
                    Is(yes),
                    Misspelt,
                ],
            },
            Field {
                key: "destinationPortRange",
                names: &["destinationPortRange", "port"],
                bad: &[Is(word), Is(bad_range), Is(reversed), Is(big), Is(minus)],
            },
        ],
    },
    Seed {
        format: "nft-json",
        text: include_str!("../../crates/audit/tests/fixtures/nft-boundary.json"),
        fields: &[
            Field {
                key: "policy",
                names: &["policy"],
                bad: &[Is(upper_drop), Is(word), Is(null), Is(yes), Is(big)],
            },
            Field {
                key: "len",
                names: &["prefix length"],
                bad: &[
                    Is(too_long),
                    Is(big),
                    Is(minus),
                    Is(word),
                    Is(null),
                    Is(fraction),
                ],
            },
            // The chain a rule is in (the rule objects' `chain` is a string).
            Field {
                key: "chain",
                names: &["chain"],
                bad: &[Is(word)],
            },
            // Top-level objects: `rule` misspelt.
            Field {
                key: "rule",
                names: &["is not an object"],
                bad: &[Misspelt],
            },
            // The value of a port match.
            Field {
                key: "right",
                names: &["port"],
                bad: &[Is(big), Is(minus), Is(word)],
            },
        ],
    },
    Seed {
        format: "aws-sg",
        text: include_str!("../../crates/audit/tests/fixtures/aws-sg.json"),
        fields: &[
            Field {
                key: "FromPort",
                names: &["FromPort"],
                bad: PORT,
            },
            Field {
                key: "ToPort",
                names: &["ToPort"],
                bad: PORT,
            },
            Field {
                key: "CidrIp",
                names: &["CidrIp"],
                bad: &[Is(word), Is(bad_cidr), Is(null), Is(big)],
            },
            Field {
                key: "CidrIpv6",
                names: &["CidrIpv6"],
                bad: &[Is(word), Is(bad_cidr), Is(null), Is(big)],
            },
        ],
    },
    Seed {
        format: "aws-nacl",
        text: include_str!("../../crates/audit/tests/fixtures/aws-nacl.json"),
        fields: &[
            Field {
                key: "RuleNumber",
                names: &["RuleNumber"],
                bad: &[
                    Is(zero),
                    Is(minus),
                    Is(big),
                    Is(word),
                    Is(null),
                    Is(fraction),
                    Misspelt,
                ],
            },
            Field {
                key: "From",
                names: &["From"],
                bad: PORT,
            },
            Field {
                key: "To",
                names: &["To"],
                bad: PORT,
            },
        ],
    },
    Seed {
        format: "windows-json",
        text: include_str!("../../crates/audit/tests/fixtures/windows-sh01.json"),
        fields: &[
            Field {
                key: "Enabled",
                names: &["Enabled"],
                bad: &[Is(word), Is(null), Is(big), Is(minus), Misspelt],
            },
            Field {
                key: "Protocol",
                names: &["protocol"],
                bad: &[Is(big), Is(word), Is(minus), Is(fraction)],
            },
            Field {
                key: "LocalPort",
                names: &["port"],
                bad: &[Is(reversed), Is(word), Is(bad_range)],
            },
        ],
    },
];

/// Rule strings: the fixture with one `|Key=value|` field's value replaced.
const GPO: &str = include_str!("../../crates/audit/tests/fixtures/windows-sh01.gpo.txt");
const GPO_FIELDS: &[(&str, &[&str], &[&str])] = &[
    ("Active", &["Active"], &["YES", "", "1", "true "]),
    ("Protocol", &["Protocol"], &["300", "70000", "x", "", "-1"]),
    (
        "LPort",
        &["LPort", "port"],
        &["", "3390-3389", "x", "70000"],
    ),
];

fn opts() -> ReadOptions {
    let net = |s: &str| s.parse().expect("constant");
    ReadOptions {
        profile: Some("domain".into()),
        internal: vec![net("198.51.100.0/24"), net("192.0.2.0/24")],
        local_subnet: vec![net("192.0.2.0/24")],
        local_address: vec![net("192.0.2.21/32")],
        ..ReadOptions::default()
    }
}

/// Every place `key` is a key of an object (any case), as (JSON pointer of the object, the
/// key as written).
fn occurrences(v: &Value, key: &str, at: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                if k.eq_ignore_ascii_case(key) && fits(key, o, x) {
                    out.push((at.to_owned(), k.clone()));
                }
                occurrences(x, key, &here, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                occurrences(x, key, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Whether this occurrence is the field meant: nft's `chain` of a rule (a string, not a
/// chain object), `right` of a port match, `rule` at the top level.
fn fits(key: &str, obj: &serde_json::Map<String, Value>, value: &Value) -> bool {
    match key {
        "chain" => value.is_string() && obj.contains_key("handle"),
        "right" => obj
            .get("left")
            .and_then(|l| l.get("payload"))
            .and_then(|p| p.get("field"))
            .and_then(Value::as_str)
            .is_some_and(|f| f == "dport" || f == "sport"),
        "rule" => value.get("expr").is_some(),
        _ => true,
    }
}

/// What a read says beyond its verdicts: notes and "possible" reasons.
fn said(rs: &Ruleset) -> BTreeSet<String> {
    let mut s: BTreeSet<String> = rs
        .notes
        .iter()
        .map(|n| format!("{}: {}", n.location, n.message))
        .collect();
    for c in &rs.chains {
        for r in &c.rules {
            if let Some(p) = &r.possible {
                s.insert(format!("{}: {p}", r.location));
            }
        }
    }
    s
}

/// Whether `b` decides every packet as `a` does (accept, drop or possible).
fn same_verdicts(a: &Ruleset, b: &Ruleset) -> bool {
    for hook in [Hook::Input, Hook::Forward, Hook::Output] {
        for piece in eval::evaluate(a, hook, Cube::full()) {
            let want = piece.verdict.decision();
            if eval::evaluate(b, hook, piece.cube)
                .iter()
                .any(|p| p.verdict.decision() != want)
            {
                return false;
            }
        }
    }
    true
}

fn named(text: &str, names: &[&str]) -> bool {
    let t = text.to_ascii_lowercase();
    names.iter().any(|n| t.contains(&n.to_ascii_lowercase()))
}

/// Reads `text` and `mutated` with `format`: the verdicts are the same, or the mutated read
/// names the field (`names`) in its error or in a note or reason the original lacks.
fn check(format: &str, text: &str, mutated: &str, names: &[&str], what: &str) {
    let original = rdsports_audit::read(format, text, "f", &opts()).expect("the fixture reads");
    match rdsports_audit::read(format, mutated, "f", &opts()) {
        Err(e) => assert!(
            named(&format!("{} {}", e.location, e.message), names),
            "{what}: the error does not name the field: {e}"
        ),
        Ok(rs) => {
            if same_verdicts(&original, &rs) {
                return;
            }
            let (before, after) = (said(&original), said(&rs));
            let new: Vec<&String> = after.difference(&before).collect();
            assert!(
                new.iter().any(|s| named(s, names)),
                "{what}: verdicts changed and nothing new names the field: {new:?}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [a, b, c, d, ..] = *data else {
        return;
    };
    let seeds = SEEDS.len() + 1;
    let pick = usize::from(a) % seeds;
    if pick == SEEDS.len() {
        // Rule strings.
        let (key, names, bad) = GPO_FIELDS[usize::from(b) % GPO_FIELDS.len()];
        let needle = format!("|{key}=");
        let at: Vec<usize> = GPO.match_indices(&needle).map(|(i, _)| i).collect();
        if at.is_empty() {
            return;
        }
        let start = at[usize::from(c) % at.len()] + needle.len();
        let end = start + GPO[start..].find('|').unwrap_or(0);
        let value = bad[usize::from(d) % bad.len()];
        let mutated = format!("{}{value}{}", &GPO[..start], &GPO[end..]);
        check(
            "windows-gpo",
            GPO,
            &mutated,
            names,
            &format!("windows-gpo {key}={value} at byte {start}"),
        );
        return;
    }
    let seed = &SEEDS[pick];
    let field = &seed.fields[usize::from(b) % seed.fields.len()];
    let mut v: Value = serde_json::from_str(seed.text).expect("the fixture is JSON");
    let mut found = Vec::new();
    occurrences(&v, field.key, "", &mut found);
    if found.is_empty() {
        return;
    }
    let (obj_at, key) = &found[usize::from(c) % found.len()];
    let bad = field.bad[usize::from(d) % field.bad.len()];
    let Some(Value::Object(obj)) = v.pointer_mut(obj_at) else {
        return;
    };
    let mut names: Vec<&str> = field.names.to_vec();
    let misspelt = format!("{key}x");
    let shown = match bad {
        Is(f) => {
            let value = f();
            let shown = value.to_string();
            obj.insert(key.clone(), value);
            shown
        }
        Misspelt => {
            let value = obj.remove(key).unwrap_or(Value::Null);
            obj.insert(misspelt.clone(), value);
            names.push(&misspelt);
            format!("key {misspelt}")
        }
    };
    let mutated = v.to_string();
    check(
        seed.format,
        seed.text,
        &mutated,
        &names,
        &format!("{} {key} = {shown} at {obj_at}", seed.format),
    );
});
