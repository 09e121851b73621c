//! The evaluator's walk as it was before chain calls were remembered (a stack of frames per
//! space, nesting capped at 64): the reference the walk is compared with, piece by piece and
//! in order, on rule sets without loops of chains.
#![allow(dead_code)]

use crate::eval::{Decider, Piece, RuleRef, Start, Verdict};
use crate::model::{Action, Decision, DstIndex, Hook, Ruleset};
use crate::space::{Cube, DST, SRC};

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

/// Evaluates `cube` through `hook` of `rs`: disjoint pieces covering the cube exactly.
/// (Uses the chains' own destination indexes, if the reader built them; an [`Evaluator`]
/// builds its own and is faster for many evaluations.)
pub fn evaluate_plain(rs: &Ruleset, hook: Hook, cube: Cube) -> Vec<Piece> {
    evaluate_from(rs, hook, cube, Start { stage: 0, at: None })
}

/// Evaluates `cube` through `hook` from `start` (for "what if this rule were not there").
pub fn evaluate_from(rs: &Ruleset, hook: Hook, cube: Cube, start: Start) -> Vec<Piece> {
    let index: Vec<[Option<&DstIndex>; 2]> =
        rs.chains.iter().map(|c| [None, c.index.as_ref()]).collect();
    walk(rs, &index, hook, cube, start)
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
