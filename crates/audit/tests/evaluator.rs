//! The evaluator against brute force: for random rule sets over a small universe, the
//! verdict of every piece equals the verdict a packet-by-packet interpreter gives for every
//! packet the piece holds, and the pieces cover the universe exactly once.

use proptest::prelude::*;
use rdsports_audit::eval::{self, Verdict};
use rdsports_audit::model::{Action, Chain, Decision, Hook, Platform, Rule, Ruleset};
use rdsports_audit::space::{Cube, DIMS, Set};

/// Values per dimension in the universe: 4 sources, 4 destinations, 2 protocols, 2 source
/// ports, 4 destination ports.
const SIZES: [u128; DIMS] = [4, 4, 2, 2, 4];

fn universe() -> Cube {
    Cube(std::array::from_fn(|d| Set::range(0, SIZES[d] - 1)))
}

/// A random subset of one dimension (a union of up to two intervals, possibly everything).
fn dim_set(d: usize) -> impl Strategy<Value = Set> {
    let n = SIZES[d];
    prop_oneof![
        Just(Set::full(d)),
        (0..n, 0..n).prop_map(|(a, b)| Set::range(a.min(b), a.max(b))),
        (0..n, 0..n, 0..n)
            .prop_map(|(a, b, c)| Set::from_intervals(vec![(a, a), (b.min(c), b.max(c))])),
    ]
}

fn cube() -> impl Strategy<Value = Cube> {
    (dim_set(0), dim_set(1), dim_set(2), dim_set(3), dim_set(4))
        .prop_map(|(a, b, c, d, e)| Cube([a, b, c, d, e]))
}

/// (matches, action code, target, possible)
type RawRule = (Cube, u8, usize, bool);

fn raw_rule(possible_ok: bool) -> impl Strategy<Value = RawRule> {
    (cube(), 0u8..6, 0usize..4, any::<bool>())
        .prop_map(move |(c, a, t, p)| (c, a, t, p && possible_ok && a < 2))
}

/// Chains 0 and 1 are base chains (stages of the forward hook) when `stages` is 2; chains 2
/// and 3 are user chains. Jumps go only to higher-numbered user chains (no loops, as nft
/// itself refuses them).
fn build(chains: Vec<Vec<RawRule>>, policies: [bool; 2], stages: usize) -> Ruleset {
    let n = chains.len();
    let chains = chains
        .into_iter()
        .enumerate()
        .map(|(ci, rules)| Chain {
            name: format!("c{ci}"),
            rules: rules
                .into_iter()
                .enumerate()
                .map(|(ri, (c, a, t, p))| {
                    let user_target = (ci.max(1) + 1 + t % 2).min(n);
                    let action = match a {
                        0 => Action::Accept,
                        1 => Action::Drop,
                        2 if user_target < n => Action::Jump(user_target),
                        3 if user_target < n => Action::Goto(user_target),
                        4 => Action::Return,
                        _ => Action::Continue,
                    };
                    Rule {
                        matches: c,
                        possible: p.then(|| "test".to_owned()),
                        action,
                        location: format!("c{ci}:{ri}"),
                        text: String::new(),
                        hits: None,
                        never_new: false,
                    }
                })
                .collect(),
            policy: if ci < 2 {
                Some(if policies[ci] {
                    Decision::Accept
                } else {
                    Decision::Drop
                })
            } else {
                None
            },
            policy_location: String::new(),
            only: None,
            index: None,
        })
        .collect();
    Ruleset {
        platform: Platform::Nftables,
        chains,
        hooks: vec![(Hook::Forward, (0..stages).collect())],
        notes: Vec::new(),
        counters: false,
        no_chain: Decision::Accept,
        families: [true, true],
    }
}

fn hits(r: &Rule, p: &[u128; DIMS]) -> bool {
    (0..DIMS).all(|d| r.matches.0[d].contains(p[d]))
}

/// One chain's outcome for a packet: Some(decision) or None (fell off / returned).
fn run_chain(
    rs: &Ruleset,
    c: usize,
    p: &[u128; DIMS],
    world: &dyn Fn(usize, usize) -> bool,
    depth: usize,
) -> Option<Decision> {
    assert!(depth < 20);
    for (i, r) in rs.chains[c].rules.iter().enumerate() {
        if !hits(r, p) || r.action == Action::Continue {
            continue;
        }
        if r.possible.is_some() && !world(c, i) {
            continue;
        }
        match r.action {
            Action::Accept => return Some(Decision::Accept),
            Action::Drop => return Some(Decision::Drop),
            Action::Return => return None,
            Action::Jump(t) => {
                if let Some(d) = run_chain(rs, t, p, world, depth + 1) {
                    return Some(d);
                }
            }
            Action::Goto(t) => return run_chain(rs, t, p, world, depth + 1),
            Action::Continue | Action::Unknown => {}
        }
    }
    None
}

/// The verdict of the whole hook for one packet in one world.
fn brute(rs: &Ruleset, p: &[u128; DIMS], world: &dyn Fn(usize, usize) -> bool) -> Decision {
    for &c in rs.hook(Hook::Forward) {
        let d = run_chain(rs, c, p, world, 0)
            .unwrap_or(rs.chains[c].policy.unwrap_or(Decision::Accept));
        if d == Decision::Drop {
            return Decision::Drop;
        }
    }
    Decision::Accept
}

fn packets() -> Vec<[u128; DIMS]> {
    let mut out = Vec::new();
    for a in 0..SIZES[0] {
        for b in 0..SIZES[1] {
            for c in 0..SIZES[2] {
                for d in 0..SIZES[3] {
                    for e in 0..SIZES[4] {
                        out.push([a, b, c, d, e]);
                    }
                }
            }
        }
    }
    out
}

fn check(rs: &Ruleset) -> Result<(), TestCaseError> {
    let pieces = eval::evaluate(rs, Hook::Forward, universe());
    let possible: Vec<(usize, usize)> = rs
        .chains
        .iter()
        .enumerate()
        .flat_map(|(c, ch)| {
            ch.rules
                .iter()
                .enumerate()
                .filter(|(_, r)| r.possible.is_some())
                .map(move |(i, _)| (c, i))
        })
        .collect();
    for p in packets() {
        let owners: Vec<&eval::Piece> = pieces
            .iter()
            .filter(|x| (0..DIMS).all(|d| x.cube.0[d].contains(p[d])))
            .collect();
        prop_assert_eq!(
            owners.len(),
            1,
            "packet {:?} is in {} pieces",
            p,
            owners.len()
        );
        // Every world: each possible rule matches or not.
        let mut outcomes = Vec::new();
        for mask in 0u32..(1 << possible.len()) {
            let world = |c: usize, i: usize| {
                let k = possible.iter().position(|&x| x == (c, i)).unwrap_or(0);
                mask & (1 << k) != 0
            };
            outcomes.push(brute(rs, &p, &world));
        }
        outcomes.sort_by_key(|d| *d == Decision::Drop);
        outcomes.dedup();
        match &owners[0].verdict {
            Verdict::Accept(_) => {
                prop_assert_eq!(&outcomes, &vec![Decision::Accept], "packet {:?}", p)
            }
            Verdict::Drop(_) => prop_assert_eq!(&outcomes, &vec![Decision::Drop], "packet {:?}", p),
            Verdict::Possible { .. } => {
                prop_assert_eq!(outcomes.len(), 2, "packet {:?} is not undecided", p)
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Two base chains (accept ends only its own), two user chains, jumps, gotos, returns.
    #[test]
    fn chains_equal_brute_force(
        c0 in prop::collection::vec(raw_rule(false), 0..6),
        c1 in prop::collection::vec(raw_rule(false), 0..6),
        c2 in prop::collection::vec(raw_rule(false), 0..4),
        c3 in prop::collection::vec(raw_rule(false), 0..4),
        policies in any::<[bool; 2]>(),
    ) {
        check(&build(vec![c0, c1, c2, c3], policies, 2))?;
    }

    /// One base chain with undecidable rules: "possible" exactly where the worlds differ.
    #[test]
    fn possible_rules_equal_every_world(
        c0 in prop::collection::vec(raw_rule(true), 0..7),
        c2 in prop::collection::vec(raw_rule(false), 0..3),
        policy in any::<bool>(),
    ) {
        let rs = build(vec![c0, Vec::new(), c2], [policy, true], 1);
        let n: usize = rs.chains.iter().flat_map(|c| &c.rules).filter(|r| r.possible.is_some()).count();
        prop_assume!(n <= 6);
        check(&rs)?;
    }
}

/// A box of the universe: one interval of sources and of destinations.
fn interval(n: u128) -> impl Strategy<Value = (u128, u128)> {
    (0..n, 0..n).prop_map(|(a, b)| (a.min(b), a.max(b)))
}

/// A flow's box for the classifier: source interval, destination interval, service index.
type FlowBox = ((u128, u128), (u128, u128), usize);

/// The indexed evaluator and the classifier against the plain evaluator (the reference):
/// the same pieces in the same order, and a cached verdict exactly where the plain walk
/// leaves a box whole.
fn check_fast(rs: &Ruleset, boxes: &[FlowBox]) -> Result<(), TestCaseError> {
    let ev = eval::Evaluator::new(rs);
    let fast = ev.evaluate(Hook::Forward, universe());
    let slow = eval::evaluate(rs, Hook::Forward, universe());
    prop_assert_eq!(fast.len(), slow.len());
    for (a, b) in fast.iter().zip(&slow) {
        prop_assert_eq!(&a.cube, &b.cube);
        prop_assert_eq!(&a.verdict, &b.verdict);
    }
    let mut classifier = eval::Classifier::new(&ev);
    // Services: each protocol with one source port and a destination port range.
    let services: Vec<(usize, Set, Set, Set)> = [(0, 0, 0, 3), (1, 1, 1, 1), (0, 1, 2, 3)]
        .iter()
        .map(|&(p, s, a, b)| {
            let sets = (Set::one(p), Set::one(s), Set::range(a, b));
            let id = classifier.service(sets.0.clone(), sets.1.clone(), sets.2.clone());
            (id, sets.0, sets.1, sets.2)
        })
        .collect();
    for &(src, dst, k) in boxes {
        let (id, proto, sport, dport) = &services[k % services.len()];
        let cube = Cube([
            Set::range(src.0, src.1),
            Set::range(dst.0, dst.1),
            proto.clone(),
            sport.clone(),
            dport.clone(),
        ]);
        let reference = eval::evaluate(rs, Hook::Forward, cube.clone());
        let got = classifier.verdict(Hook::Forward, *id, src, dst);
        match reference.as_slice() {
            [one] => {
                prop_assert_eq!(&one.cube, &cube);
                prop_assert_eq!(got.as_ref(), Some(&one.verdict), "box {:?}", cube);
            }
            _ => prop_assert!(got.is_none(), "box {:?} splits but has a verdict", cube),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Jumps, gotos, returns, two stages, undecidable rules; many boxes per rule set, so
    /// the classifier answers most of them from its cache.
    #[test]
    fn indexed_and_cached_equal_the_plain_walk(
        c0 in prop::collection::vec(raw_rule(true), 0..6),
        c1 in prop::collection::vec(raw_rule(false), 0..6),
        c2 in prop::collection::vec(raw_rule(false), 0..4),
        c3 in prop::collection::vec(raw_rule(false), 0..4),
        policies in any::<[bool; 2]>(),
        boxes in prop::collection::vec((interval(SIZES[0]), interval(SIZES[1]), 0usize..3), 1..40),
    ) {
        check_fast(&build(vec![c0, c1, c2, c3], policies, 2), &boxes)?;
    }
}
