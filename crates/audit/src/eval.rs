//! The evaluator: which part of a packet space each rule set accepts or drops, and by which
//! rule, following the chains of one hook exactly as the platform does.
//!
//! A space (a [`Cube`]) walks the rules. Where a rule matches only part of it, the space is
//! split and each part goes on alone, so every verdict is exact for every packet it covers.
//! A rule whose match could not be decided ([`Rule::possible`]) is remembered: if the
//! verdict would differ had it matched, the part is [`Verdict::Possible`], never guessed.

use crate::model::{Action, Decision, DstIndex, Hook, Ruleset};
use crate::space::{Cube, DST, SRC};

/// A rule by position: (chain index, rule index).
pub type RuleRef = (usize, usize);

/// What decided a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Decider {
    /// A rule.
    Rule(RuleRef),
    /// The policy at the end of a base chain.
    Policy(usize),
    /// The hook has no chain (the packet passes, or not, by the platform's default).
    NoChain,
}

/// The verdict on a part of a space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted (by the last base chain's accepting rule, else the first accepting policy).
    Accept(Decider),
    /// Dropped or rejected.
    Drop(Decider),
    /// Depends on a rule the reader could not evaluate.
    Possible {
        /// The rule that may match.
        rule: RuleRef,
        /// What happens if it does not.
        otherwise: Decision,
        /// What decides then.
        by: Decider,
    },
}

impl Verdict {
    /// Accept or drop, when definite.
    pub fn decision(&self) -> Option<Decision> {
        match self {
            Verdict::Accept(_) => Some(Decision::Accept),
            Verdict::Drop(_) => Some(Decision::Drop),
            Verdict::Possible { .. } => None,
        }
    }
}

/// A part of a space with its verdict.
#[derive(Debug, Clone)]
pub struct Piece {
    /// The packets.
    pub cube: Cube,
    /// What happens to them.
    pub verdict: Verdict,
}

/// How deep jumps may nest before the evaluation gives up (nftables allows 16 levels).
const MAX_DEPTH: usize = 64;

#[derive(Clone)]
struct Item {
    cube: Cube,
    stage: usize,
    stack: Vec<(usize, usize)>,
    pending: Vec<(RuleRef, Option<Decision>, usize)>,
    accepts: Option<Decider>,
}

/// Where an evaluation starts: a hook from its first base chain, or one rule of a chain.
#[derive(Debug, Clone, Copy)]
pub struct Start {
    /// Which base chain of the hook (0: the first).
    pub stage: usize,
    /// (chain, rule index) to start at, inside that stage; `None`: the stage's base chain
    /// from its first rule.
    pub at: Option<(usize, usize)>,
}

/// Evaluates `cube` through `hook` of `rs`: disjoint pieces covering the cube exactly.
/// (Uses the chains' own destination indexes, if the reader built them; an [`Evaluator`]
/// builds its own and is faster for many evaluations.)
pub fn evaluate(rs: &Ruleset, hook: Hook, cube: Cube) -> Vec<Piece> {
    evaluate_from(rs, hook, cube, Start { stage: 0, at: None })
}

/// Evaluates `cube` through `hook` from `start` (for "what if this rule were not there").
pub fn evaluate_from(rs: &Ruleset, hook: Hook, cube: Cube, start: Start) -> Vec<Piece> {
    let index: Vec<[Option<&DstIndex>; 2]> =
        rs.chains.iter().map(|c| [None, c.index.as_ref()]).collect();
    walk(rs, &index, hook, cube, start)
}

/// A rule set with an index by source and one by destination address for every chain: an
/// evaluation visits only the rules whose addresses can match the packets at hand. The
/// pieces and verdicts are those of [`evaluate`], in the same order (an index only skips
/// rules that cannot match).
pub struct Evaluator<'a> {
    /// The rule set.
    pub rs: &'a Ruleset,
    /// Per chain: [by source, by destination].
    index: Vec<[DstIndex; 2]>,
}

impl<'a> Evaluator<'a> {
    /// Indexes every chain of `rs`.
    pub fn new(rs: &'a Ruleset) -> Evaluator<'a> {
        let index = rs
            .chains
            .iter()
            .map(|c| [DstIndex::on(&c.rules, SRC), DstIndex::on(&c.rules, DST)])
            .collect();
        Evaluator { rs, index }
    }

    /// [`evaluate`], with the indexes.
    pub fn evaluate(&self, hook: Hook, cube: Cube) -> Vec<Piece> {
        self.evaluate_from(hook, cube, Start { stage: 0, at: None })
    }

    /// [`evaluate_from`], with the indexes.
    pub fn evaluate_from(&self, hook: Hook, cube: Cube, start: Start) -> Vec<Piece> {
        let index: Vec<[Option<&DstIndex>; 2]> =
            self.index.iter().map(|[s, d]| [Some(s), Some(d)]).collect();
        walk(self.rs, &index, hook, cube, start)
    }

    /// The first rule of chain `c` at or after `from` that can match `cube` by its source
    /// and destination addresses (`rules.len()` when none can); the rules skipped cannot
    /// match any packet of `cube`.
    pub fn next_rule(&self, c: usize, cube: &Cube, from: usize) -> usize {
        let index = self.index.get(c).map(|[s, d]| [Some(s), Some(d)]);
        skip(self.rs, index.as_ref(), c, cube, from)
    }
}

/// The first rule of chain `c` at or after `from` that the indexes do not rule out for
/// `cube`: where the cube's values of a dimension fall in one slot of its index, a rule
/// must be listed in that slot (leapfrogging between the two indexes to a rule both list).
fn skip(
    rs: &Ruleset,
    index: Option<&[Option<&DstIndex>; 2]>,
    c: usize,
    cube: &Cube,
    from: usize,
) -> usize {
    let len = rs.chains.get(c).map_or(0, |ch| ch.rules.len());
    let Some(index) = index else {
        return from.min(len);
    };
    let slots: [Option<(&DstIndex, usize)>; 2] = [SRC, DST].map(|d| {
        let idx = index[usize::from(d == DST)]?;
        idx.slot(&cube.0[d]).map(|k| (idx, k))
    });
    let mut at = from;
    loop {
        if at >= len {
            return len;
        }
        let mut next = at;
        for (idx, k) in slots.iter().flatten() {
            next = next.max(idx.next(*k, next).unwrap_or(len));
        }
        if next == at {
            return at;
        }
        at = next;
    }
}

/// The walk of [`evaluate_from`] with the indexes given per chain.
fn walk(
    rs: &Ruleset,
    index: &[[Option<&DstIndex>; 2]],
    hook: Hook,
    cube: Cube,
    start: Start,
) -> Vec<Piece> {
    let stages = rs.hook(hook);
    let mut out = Vec::new();
    if cube.is_empty() {
        return out;
    }
    let mut work = vec![Item {
        cube,
        stage: start.stage,
        stack: start.at.map(|f| vec![f]).unwrap_or_default(),
        pending: Vec::new(),
        accepts: None,
    }];
    while let Some(mut item) = work.pop() {
        let verdict = run(rs, index, stages, &mut item, &mut work);
        if item.cube.is_empty() {
            continue;
        }
        out.push(Piece {
            cube: item.cube,
            verdict,
        });
    }
    out
}

impl Item {
    /// The same position with other packets (no copy of this item's packets).
    fn with(&self, cube: Cube) -> Item {
        Item {
            cube,
            stage: self.stage,
            stack: self.stack.clone(),
            pending: self.pending.clone(),
            accepts: self.accepts,
        }
    }
}

/// Walks one item to its verdict, pushing split-off parts onto `work`.
fn run(
    rs: &Ruleset,
    index: &[[Option<&DstIndex>; 2]],
    stages: &[usize],
    item: &mut Item,
    work: &mut Vec<Item>,
) -> Verdict {
    loop {
        if item.stack.is_empty() {
            match stages.get(item.stage) {
                None => {
                    let by = item.accepts.unwrap_or(Decider::NoChain);
                    let d = if stages.is_empty() {
                        rs.no_chain
                    } else {
                        Decision::Accept
                    };
                    return resolve(item, d, by);
                }
                Some(&c) => {
                    if let Some(only) = rs.chains.get(c).and_then(|ch| ch.only.as_ref())
                        && !item.cube.subset_of(only)
                    {
                        {
                            // Packets this chain never sees go on to the next stage.
                            for other in item.cube.minus(only) {
                                let mut o = item.with(other);
                                o.stage += 1;
                                work.push(o);
                            }
                            item.cube = item.cube.intersect(only);
                            if item.cube.is_empty() {
                                return Verdict::Drop(Decider::NoChain);
                            }
                        }
                    }
                    item.stack.push((c, 0))
                }
            }
        }
        let depth = item.stack.len();
        let (c, i) = *item.stack.last().expect("stack is not empty");
        let Some(chain) = rs.chains.get(c) else {
            return resolve(item, Decision::Drop, Decider::NoChain);
        };
        // Skip to the next rule that can match these addresses.
        let i = if i < chain.rules.len() {
            let n = skip(rs, index.get(c), c, &item.cube, i);
            if let Some(top) = item.stack.last_mut() {
                top.1 = n;
            }
            n
        } else {
            i
        };
        let Some(rule) = chain.rules.get(i) else {
            // End of a chain: back to the caller, or the base chain's policy.
            if depth > 1 {
                item.stack.pop();
                if let Some(top) = item.stack.last_mut() {
                    top.1 += 1;
                }
                continue;
            }
            let base = stages.get(item.stage).copied().unwrap_or(c);
            let policy = rs
                .chains
                .get(base)
                .and_then(|b| b.policy)
                .unwrap_or(Decision::Accept);
            match policy {
                Decision::Drop => return resolve(item, Decision::Drop, Decider::Policy(base)),
                Decision::Accept => {
                    item.accepts.get_or_insert(Decider::Policy(base));
                    if let Some(v) = next_stage(item) {
                        return v;
                    }
                    continue;
                }
            }
        };
        let advance = |item: &mut Item| {
            if let Some(top) = item.stack.last_mut() {
                top.1 += 1;
            }
        };
        if rule.never_new || rule.action == Action::Continue || !item.cube.meets(&rule.matches) {
            advance(item);
            continue;
        }
        if !item.cube.subset_of(&rule.matches) {
            for outside in item.cube.minus(&rule.matches) {
                let mut o = item.with(outside);
                advance(&mut o);
                work.push(o);
            }
            item.cube = item.cube.intersect(&rule.matches);
        }
        if rule.possible.is_some() {
            let d = match rule.action {
                Action::Accept => Some(Decision::Accept),
                Action::Drop => Some(Decision::Drop),
                _ => None,
            };
            item.pending.push(((c, i), d, item.stage));
            advance(item);
            continue;
        }
        match rule.action {
            Action::Accept => {
                // The last base chain's accepting rule names the verdict (for a cloud
                // filter: the inbound rule rather than the outbound default).
                item.accepts = Some(Decider::Rule((c, i)));
                if let Some(v) = next_stage(item) {
                    return v;
                }
            }
            Action::Drop => return resolve(item, Decision::Drop, Decider::Rule((c, i))),
            Action::Jump(t) | Action::Goto(t) => {
                if depth >= MAX_DEPTH || t >= rs.chains.len() {
                    item.pending.push(((c, i), None, item.stage));
                    advance(item);
                    continue;
                }
                if rule.action == Action::Goto(t) {
                    // Replace the frame: the end of the target returns to our caller.
                    item.stack.pop();
                    if item.stack.is_empty() {
                        // A goto from the base chain: at its end, the base chain's policy.
                        item.stack.push((t, 0));
                        continue;
                    }
                    // The caller's frame still points at its jump; it advances on return.
                }
                item.stack.push((t, 0));
            }
            Action::Return => {
                item.stack.pop();
                if item.stack.is_empty() {
                    // Return from a base chain: its policy.
                    let base = stages.get(item.stage).copied().unwrap_or(c);
                    item.stack.push((base, usize::MAX));
                    continue;
                }
                advance(item);
            }
            Action::Continue => advance(item),
            Action::Unknown => {
                item.pending.push(((c, i), None, item.stage));
                advance(item);
            }
        }
    }
}

/// An accept ends this base chain: on to the next one (`None`), or the final verdict.
fn next_stage(item: &mut Item) -> Option<Verdict> {
    item.stack.clear();
    item.stage += 1;
    None
}

/// The verdict, weighed against the undecidable rules the packets passed.
fn resolve(item: &Item, d: Decision, by: Decider) -> Verdict {
    let definite = match d {
        Decision::Accept => Verdict::Accept(by),
        Decision::Drop => Verdict::Drop(by),
    };
    let final_stage = item.stage;
    for &(rule, action, stage) in &item.pending {
        let if_matched = match action {
            Some(Decision::Drop) => Some(Decision::Drop),
            // A possible accept skips the rest of its own chain only: a drop in a later base
            // chain happens either way.
            Some(Decision::Accept) if d == Decision::Drop && final_stage > stage => {
                Some(Decision::Drop)
            }
            Some(Decision::Accept) => Some(Decision::Accept),
            None => None,
        };
        if if_matched != Some(d) {
            return Verdict::Possible {
                rule,
                otherwise: d,
                by,
            };
        }
    }
    definite
}

/// A verdict's deciding rule or policy, as the user reads it (a reference: cut to
/// [`crate::report::REFERENCE`] characters).
pub fn describe(rs: &Ruleset, by: Decider) -> Described {
    match by {
        Decider::Rule((c, i)) => {
            let r = &rs.chains[c].rules[i];
            crate::report::described(&r.location, &r.text)
        }
        Decider::Policy(c) => {
            let ch = &rs.chains[c];
            crate::report::described(
                &ch.policy_location,
                &format!(
                    "{} policy {}",
                    ch.name,
                    match ch.policy.unwrap_or(Decision::Accept) {
                        Decision::Accept => "accept",
                        Decision::Drop => "drop",
                    }
                ),
            )
        }
        Decider::NoChain => Described {
            location: String::new(),
            text: "no chain on this hook".to_owned(),
        },
    }
}

pub use rdsports_schema::audit::Described;

/// Verdicts on boxes (one interval of source and of destination addresses, one service:
/// protocol, source and destination ports), shared between the boxes no rule tells apart.
///
/// Per service, the rules that can match it cut the address lines into cells (every rule's
/// address sets, and every chain's `only`, are unions of cells). Two boxes of one service
/// whose addresses span the same cells meet, and lie inside, the same rules: the walk takes
/// the same turns for both. The first such box is evaluated; if it stays whole (one piece)
/// its verdict holds for all of them, else [`Classifier::verdict`] answers `None` and the
/// caller evaluates the box itself.
pub struct Classifier<'e, 'a> {
    ev: &'e Evaluator<'a>,
    services: Vec<Service>,
    cache: std::collections::HashMap<(Hook, usize, [usize; 4]), Option<Verdict>>,
}

struct Service {
    proto: crate::space::Set,
    sport: crate::space::Set,
    dport: crate::space::Set,
    /// Cell boundaries of the source and destination lines, sorted.
    bounds: [Vec<u128>; 2],
}

impl<'e, 'a> Classifier<'e, 'a> {
    /// A classifier over `ev`'s rule set.
    pub fn new(ev: &'e Evaluator<'a>) -> Classifier<'e, 'a> {
        Classifier {
            ev,
            services: Vec::new(),
            cache: std::collections::HashMap::new(),
        }
    }

    /// Registers a service (its number for [`Classifier::verdict`]).
    pub fn service(
        &mut self,
        proto: crate::space::Set,
        sport: crate::space::Set,
        dport: crate::space::Set,
    ) -> usize {
        use crate::space::{DPORT, PROTO, SPORT};
        let mut bounds = [Vec::new(), Vec::new()];
        let meets = |c: &Cube| {
            c.0[PROTO].meets(&proto) && c.0[SPORT].meets(&sport) && c.0[DPORT].meets(&dport)
        };
        let cubes = self
            .ev
            .rs
            .chains
            .iter()
            .flat_map(|ch| ch.rules.iter().map(|r| &r.matches).chain(ch.only.as_ref()));
        for c in cubes.filter(|c| meets(c)) {
            for (side, d) in [SRC, DST].into_iter().enumerate() {
                for &(a, b) in c.0[d].intervals() {
                    bounds[side].push(a);
                    if b < u128::MAX {
                        bounds[side].push(b + 1);
                    }
                }
            }
        }
        for b in &mut bounds {
            b.sort_unstable();
            b.dedup();
        }
        self.services.push(Service {
            proto,
            sport,
            dport,
            bounds,
        });
        self.services.len() - 1
    }

    /// The verdict on the box `src` x `dst` x `service` through `hook`, when the evaluator
    /// leaves it whole; `None` when it splits it (evaluate it then).
    pub fn verdict(
        &mut self,
        hook: Hook,
        service: usize,
        src: (u128, u128),
        dst: (u128, u128),
    ) -> Option<Verdict> {
        let s = self.services.get(service)?;
        let cell = |b: &[u128], v: u128| b.partition_point(|&x| x <= v);
        let key = (
            hook,
            service,
            [
                cell(&s.bounds[0], src.0),
                cell(&s.bounds[0], src.1),
                cell(&s.bounds[1], dst.0),
                cell(&s.bounds[1], dst.1),
            ],
        );
        if let Some(v) = self.cache.get(&key) {
            return v.clone();
        }
        let cube = Cube([
            crate::space::Set::range(src.0, src.1),
            crate::space::Set::range(dst.0, dst.1),
            s.proto.clone(),
            s.sport.clone(),
            s.dport.clone(),
        ]);
        let mut pieces = self.ev.evaluate(hook, cube);
        let v = match pieces.len() {
            1 => pieces.pop().map(|p| p.verdict),
            _ => None,
        };
        self.cache.insert(key, v.clone());
        v
    }
}
