//! Helpers shared by the readers' unit tests.

use proptest::prelude::*;

use crate::eval::{self, Verdict};
use crate::model::{Action, Chain, Decision, Hook, Platform, Rule, Ruleset};
use crate::space::{self, Cube, DIMS, DPORT, DST, PROTO, SPORT, SRC, Set};

/// The verdict of the forward hook on one TCP/UDP packet from client port 50000.
pub(crate) fn verdict(rs: &Ruleset, src: &str, dst: &str, proto: u128, dport: u128) -> Verdict {
    let a = |s: &str| Set::one(space::addr_value(s.parse().unwrap()));
    let cube = Cube::full()
        .with(SRC, &a(src))
        .with(DST, &a(dst))
        .with(PROTO, &Set::one(proto))
        .with(SPORT, &Set::one(50000))
        .with(DPORT, &Set::one(dport));
    let pieces = eval::evaluate(rs, Hook::Forward, cube);
    assert_eq!(pieces.len(), 1, "{pieces:?}");
    pieces[0].verdict.clone()
}

/// Whether that packet is accepted (`None`: possible).
pub(crate) fn allowed(
    rs: &Ruleset,
    src: &str,
    dst: &str,
    proto: u128,
    dport: u128,
) -> Option<bool> {
    verdict(rs, src, dst, proto, dport)
        .decision()
        .map(|d| d == Decision::Accept)
}

/// Values per dimension of the small universe the random rule sets live in.
pub(crate) const SIZES: [u128; DIMS] = [4, 4, 2, 2, 4];

pub(crate) fn universe() -> Cube {
    Cube(std::array::from_fn(|d| Set::range(0, SIZES[d] - 1)))
}

pub(crate) fn dim_set(d: usize) -> impl Strategy<Value = Set> {
    let n = SIZES[d];
    prop_oneof![
        Just(Set::full(d)),
        (0..n, 0..n).prop_map(|(a, b)| Set::range(a.min(b), a.max(b))),
        (0..n, 0..n, 0..n)
            .prop_map(|(a, b, c)| Set::from_intervals(vec![(a, a), (b.min(c), b.max(c))])),
    ]
}

pub(crate) fn cube() -> impl Strategy<Value = Cube> {
    (dim_set(0), dim_set(1), dim_set(2), dim_set(3), dim_set(4))
        .prop_map(|(a, b, c, d, e)| Cube([a, b, c, d, e]))
}

/// (matches, action code, target, possible, never new)
pub(crate) type RawRule = (Cube, u8, usize, bool, bool);

pub(crate) fn raw_rule() -> impl Strategy<Value = RawRule> {
    (cube(), 0u8..8, 0usize..8, 0u8..8, 0u8..16)
        .prop_map(|(c, a, t, p, n)| (c, a, t, p == 0, n == 0))
}

/// Chains `0..stages` are base chains of the forward hook (some seeing only part of the
/// packets); the others are user chains, called only by lower-numbered chains (no loops),
/// often twice.
pub(crate) fn build(
    chains: Vec<Vec<RawRule>>,
    policies: Vec<bool>,
    only: Vec<Option<Cube>>,
    stages: usize,
) -> Ruleset {
    let n = chains.len();
    let chains = chains
        .into_iter()
        .enumerate()
        .map(|(ci, rules)| Chain {
            name: format!("c{ci}"),
            rules: rules
                .into_iter()
                .enumerate()
                .map(|(ri, (c, a, t, p, never_new))| {
                    let first = (ci + 1).max(stages);
                    let target = if first < n {
                        first + t % (n - first)
                    } else {
                        n + t
                    };
                    let action = match a {
                        0 => Action::Accept,
                        1 => Action::Drop,
                        2 | 6 => Action::Jump(target),
                        3 => Action::Goto(target),
                        4 => Action::Return,
                        5 => Action::Unknown,
                        _ => Action::Continue,
                    };
                    Rule {
                        matches: c,
                        possible: p.then(|| "test".to_owned()),
                        action,
                        location: format!("c{ci}:{ri}"),
                        text: String::new(),
                        hits: None,
                        never_new,
                    }
                })
                .collect(),
            policy: (ci < stages).then(|| {
                if policies[ci % policies.len()] {
                    Decision::Accept
                } else {
                    Decision::Drop
                }
            }),
            policy_location: String::new(),
            only: if ci < stages {
                only[ci % only.len()].clone()
            } else {
                None
            },
            index: None,
        })
        .collect();
    let mut rs = Ruleset {
        platform: Platform::Nftables,
        chains,
        hooks: vec![(Hook::Forward, (0..stages).collect())],
        notes: Vec::new(),
        counters: false,
        no_chain: Decision::Drop,
        families: [true, true],
    };
    rs.index();
    rs
}
