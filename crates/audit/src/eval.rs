//! The evaluator: which part of a packet space each rule set accepts or drops, and by which
//! rule, following the chains of one hook exactly as the platform does.
//!
//! A space (a [`Cube`]) walks the rules. Where a rule matches only part of it, the space is
//! split and each part goes on alone, so every verdict is exact for every packet it covers.
//! A rule whose match could not be decided ([`Rule::possible`]) is remembered: if the
//! verdict would differ had it matched, the part is [`Verdict::Possible`], never guessed.
//!
//! A chain called (jump, goto) with the same packets twice is walked once: what a chain does
//! to a space depends on the chain and the space alone, so a walk remembers it for the rest
//! of the evaluation, and a rule set whose chains each call the next twice takes time linear
//! in its size. A jump or goto that closes a loop of chains (the kernels refuse such rule
//! sets, an export may still hold one) is not followed: its packets get a "possible" verdict
//! ([`loops`]).

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::model::{Action, Decision, DstIndex, Hook, Ruleset};
use crate::space::{Cube, DPORT, DST, SPORT, SRC};

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

/// Where an evaluation starts: a hook from its first base chain, or one rule of a chain.
#[derive(Debug, Clone, Copy)]
pub struct Start {
    /// Which base chain of the hook (0: the first).
    pub stage: usize,
    /// (chain, rule index) to start at, inside that stage; `None`: the stage's base chain
    /// from its first rule.
    pub at: Option<(usize, usize)>,
}

/// The jumps and gotos that close a loop of chains (the rule's chain and its target call
/// each other, directly or through others), sorted. The evaluator does not follow them: the
/// packets they match get a "possible" verdict naming the rule, as for a verdict it cannot
/// follow. Only rules the evaluator would follow count (not those that never match a new
/// connection, match nothing or are "possible" themselves).
pub fn loops(rs: &Ruleset) -> Vec<RuleRef> {
    let n = rs.chains.len();
    let followed =
        |r: &crate::model::Rule| !r.never_new && r.possible.is_none() && !r.matches.is_empty();
    let mut edges: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (c, ch) in rs.chains.iter().enumerate() {
        for (i, r) in ch.rules.iter().enumerate() {
            if let Action::Jump(t) | Action::Goto(t) = r.action
                && t < n
                && followed(r)
            {
                edges[c].push((t, i));
            }
        }
    }
    if edges.iter().all(Vec::is_empty) {
        return Vec::new();
    }
    let comp = components(&edges);
    let mut out = Vec::new();
    for (c, es) in edges.iter().enumerate() {
        for &(t, i) in es {
            if comp[c] == comp[t] {
                out.push((c, i));
            }
        }
    }
    out.sort_unstable();
    out
}

/// Per chain: whether two rules or more jump or go to it (rules the evaluator follows).
fn shared(rs: &Ruleset) -> Vec<bool> {
    let mut calls = vec![0u8; rs.chains.len()];
    for ch in &rs.chains {
        for r in &ch.rules {
            if let Action::Jump(t) | Action::Goto(t) = r.action
                && let Some(n) = calls.get_mut(t)
                && !r.never_new
                && r.possible.is_none()
            {
                *n = n.saturating_add(1);
            }
        }
    }
    calls.into_iter().map(|n| n >= 2).collect()
}

/// The strongly connected component of every node of a graph (Tarjan's algorithm, without
/// recursion: a chain of chains may be as long as the export).
fn components(edges: &[Vec<(usize, usize)>]) -> Vec<usize> {
    const NONE: usize = usize::MAX;
    let n = edges.len();
    let mut order = vec![NONE; n];
    let mut low = vec![0; n];
    let mut comp = vec![NONE; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut ncomp = 0;
    for root in 0..n {
        if order[root] != NONE {
            continue;
        }
        // (node, next edge to look at)
        let mut dfs = vec![(root, 0usize)];
        order[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut e)) = dfs.last_mut() {
            if let Some(&(w, _)) = edges[v].get(*e) {
                *e += 1;
                if order[w] == NONE {
                    order[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    dfs.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(order[w]);
                }
                continue;
            }
            dfs.pop();
            if let Some(&(u, _)) = dfs.last() {
                low[u] = low[u].min(low[v]);
            }
            if low[v] == order[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp[w] = ncomp;
                    if w == v {
                        break;
                    }
                }
                ncomp += 1;
            }
        }
    }
    comp
}

/// Evaluates `cube` through `hook` of `rs`: disjoint pieces covering the cube exactly.
/// (Uses the chains' own destination indexes, if the reader built them; an [`Evaluator`]
/// builds its own and is faster for many evaluations.)
pub fn evaluate(rs: &Ruleset, hook: Hook, cube: Cube) -> Vec<Piece> {
    evaluate_from(rs, hook, cube, Start { stage: 0, at: None })
}

/// Evaluates `cube` through `hook` from `start` (for "what if this rule were not there").
pub fn evaluate_from(rs: &Ruleset, hook: Hook, cube: Cube, start: Start) -> Vec<Piece> {
    let loops: HashSet<RuleRef> = loops(rs).into_iter().collect();
    let shared = shared(rs);
    let walker = Walker {
        rs,
        index: &|c| {
            [
                None,
                rs.chains.get(c).and_then(|ch| ch.index.as_ref()),
                None,
                None,
            ]
        },
        loops: &loops,
        cells: None,
        shared: &shared,
    };
    walker.walk(hook, cube, start)
}

/// A rule set with an index by source and destination address and by source and destination
/// port for every chain: an evaluation visits only the rules whose addresses and ports can
/// match the packets at hand (leapfrogging between the indexes). The
/// pieces and verdicts are those of [`evaluate`], in the same order (an index only skips
/// rules that cannot match).
pub struct Evaluator<'a> {
    /// The rule set.
    pub rs: &'a Ruleset,
    /// Per chain: by source and destination address, source and destination port.
    index: Vec<[DstIndex; 4]>,
    /// The rules that close a loop of chains ([`loops`]).
    loops: HashSet<RuleRef>,
    /// The large chains cut into cells ([`Evaluator::with_cells`]).
    cells: Option<Cells>,
    /// Per chain: whether two rules or more call it.
    shared: Vec<bool>,
}

impl<'a> Evaluator<'a> {
    /// Indexes every chain of `rs`.
    pub fn new(rs: &'a Ruleset) -> Evaluator<'a> {
        let index = rs
            .chains
            .iter()
            .map(|c| INDEXED.map(|d| DstIndex::on(&c.rules, d)))
            .collect();
        Evaluator {
            rs,
            index,
            loops: loops(rs).into_iter().collect(),
            cells: None,
            shared: shared(rs),
        }
    }

    /// [`Evaluator::new`], and the chains of more than `above` rules cut into [`Cells`]: a
    /// space their indexes do not narrow down to a few rules (the universe, a population) is
    /// walked through them cell by cell. The verdicts are those of [`Evaluator::new`] for
    /// every packet, in pieces that may be smaller (and come in another order); the time is
    /// no longer quadratic in the rules that each cut a hole into such a space.
    pub fn with_cells(rs: &'a Ruleset, above: usize) -> Evaluator<'a> {
        let mut ev = Evaluator::new(rs);
        let all: Vec<usize> = (0..rs.chains.len()).collect();
        ev.cells = Some(Cells::new(rs, &all, above));
        ev
    }

    /// [`evaluate`], with the indexes.
    pub fn evaluate(&self, hook: Hook, cube: Cube) -> Vec<Piece> {
        self.evaluate_from(hook, cube, Start { stage: 0, at: None })
    }

    /// [`evaluate_from`], with the indexes.
    pub fn evaluate_from(&self, hook: Hook, cube: Cube, start: Start) -> Vec<Piece> {
        let walker = Walker {
            rs: self.rs,
            index: &|c| self.indexes(c),
            loops: &self.loops,
            cells: self.cells.as_ref(),
            shared: &self.shared,
        };
        walker.walk(hook, cube, start)
    }

    /// `cube` cut by the [`Cells`] of chain `c`, if it has cells.
    pub fn cells_of(&self, c: usize, cube: &Cube) -> Option<Vec<Cube>> {
        let parts = self.cells.as_ref()?.split(c, cube)?;
        Some(parts.into_iter().map(|(part, _)| part).collect())
    }

    fn indexes(&self, c: usize) -> [Option<&DstIndex>; 4] {
        match self.index.get(c) {
            Some(i) => i.each_ref().map(Some),
            None => [None; 4],
        }
    }

    /// The first rule of chain `c` at or after `from` that can match `cube` by its addresses
    /// and ports (`rules.len()` when none can); the rules skipped cannot match any packet of
    /// `cube`.
    pub fn next_rule(&self, c: usize, cube: &Cube, from: usize) -> usize {
        skip(self.rs, self.indexes(c), None, c, cube, from)
    }
}

/// The dimensions an [`Evaluator`] indexes, in the order of its indexes.
const INDEXED: [usize; 4] = [SRC, DST, SPORT, DPORT];

/// The first rule of chain `c` at or after `from` that the indexes do not rule out for
/// `cube`: where the cube's values of a dimension fall in one slot of its index, a rule
/// must be listed in that slot (leapfrogging between the indexes to a rule all list), and, with
/// `within`, be one of those rules.
fn skip(
    rs: &Ruleset,
    index: [Option<&DstIndex>; 4],
    within: Option<&[u32]>,
    c: usize,
    cube: &Cube,
    from: usize,
) -> usize {
    let len = rs.chains.get(c).map_or(0, |ch| ch.rules.len());
    if let Some(w) = within
        && w.len() <= NARROW
    {
        // A cell's few rules: the indexes would only cost.
        let i = w.partition_point(|&r| (r as usize) < from);
        return w.get(i).map_or(len, |&r| (r as usize).min(len));
    }
    let mut slots: [Option<(&DstIndex, usize)>; 4] = [None; 4];
    for (k, d) in INDEXED.into_iter().enumerate() {
        slots[k] = index[k]
            .and_then(|idx| idx.slot(&cube.0[d]).map(|s| (idx, s)))
            // An index whose every rule is wide narrows nothing.
            .filter(|(idx, s)| !(idx.lists[*s].is_empty() && idx.wide.len() >= len));
    }
    let mut at = from;
    loop {
        if at >= len {
            return len;
        }
        let mut next = at;
        for (idx, k) in slots.iter().flatten() {
            next = next.max(idx.next(*k, next).unwrap_or(len));
        }
        if let Some(w) = within {
            let i = w.partition_point(|&r| (r as usize) < next);
            next = next.max(w.get(i).map_or(len, |&r| r as usize));
        }
        if next == at {
            return at;
        }
        at = next;
    }
}

/// Undecidable rules a space passed, in order: (rule, what it does if it matches).
type Pending = Vec<(RuleRef, Option<Decision>)>;

/// How one chain (with the chains it calls) ends for a part of the packets it was given.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    /// The end of the chain or a `return` (in chain N): back to the caller; in a base chain,
    /// its policy.
    Exit(usize),
    /// Accepted by this rule: the end of the base chain.
    Accept(RuleRef),
    /// Dropped.
    Drop(Decider),
}

/// A part of the packets a chain was given, with how the chain ends for it and the
/// undecidable rules it passed in that chain and the chains it called.
#[derive(Debug, Clone)]
struct Event {
    cube: Cube,
    outcome: Outcome,
    pending: Pending,
}

/// What is left to do in a chain's walk, last first.
enum Task {
    /// Walk these packets from rule `at` (only through the rules of cell `leaf` of the chain's
    /// [`Cells`], when given).
    Walk {
        cube: Cube,
        at: usize,
        pending: Pending,
        leaf: Option<u32>,
    },
    /// An outcome for the caller.
    Emit(Event),
}

/// One chain being walked for one space.
struct Frame {
    chain: usize,
    /// The packets it was called with (remembered for them), `None` for the walk's first
    /// chain.
    key: Option<Cube>,
    todo: Vec<Task>,
    out: Vec<Event>,
    /// The call that waits for the called chain: (rule index, goto, pending so far, cell).
    waiting: Option<(usize, bool, Pending, Option<u32>)>,
}

impl Frame {
    /// Chain `chain` for `cube` from rule `at`, or for each of `cells` (parts of `cube`, with
    /// the cell of the chain's [`Cells`] each lies in).
    fn new(
        chain: usize,
        key: Option<Cube>,
        cube: Cube,
        at: usize,
        cells: Option<Vec<(Cube, u32)>>,
    ) -> Frame {
        let todo = match cells {
            Some(cells) => cells
                .into_iter()
                .rev()
                .map(|(cube, leaf)| Task::Walk {
                    cube,
                    at,
                    pending: Vec::new(),
                    leaf: Some(leaf),
                })
                .collect(),
            None => vec![Task::Walk {
                cube,
                at,
                pending: Vec::new(),
                leaf: None,
            }],
        };
        Frame {
            chain,
            key,
            todo,
            out: Vec::new(),
            waiting: None,
        }
    }

    /// Continues after a call to a chain that ended with `events`, in their order: after a
    /// jump, a part that came back walks on from the next rule; after a goto, each part ends
    /// this chain as it ended the called one.
    fn resume(
        &mut self,
        at: usize,
        goto: bool,
        pending: &Pending,
        leaf: Option<u32>,
        events: impl DoubleEndedIterator<Item = Event>,
    ) {
        for e in events.rev() {
            let mut p = pending.clone();
            p.extend_from_slice(&e.pending);
            self.todo.push(match e.outcome {
                Outcome::Exit(_) if !goto => Task::Walk {
                    cube: e.cube,
                    at: at + 1,
                    pending: p,
                    leaf,
                },
                outcome => Task::Emit(Event {
                    cube: e.cube,
                    outcome,
                    pending: p,
                }),
            });
        }
    }
}

/// A top-level step of a walk: a space at a stage of the hook, or a finished piece.
enum Work {
    Item(Item),
    Piece(Piece),
}

/// A space at a stage of the hook.
struct Item {
    cube: Cube,
    stage: usize,
    /// Where in the stage it starts (`None`: its base chain's first rule).
    at: Option<(usize, usize)>,
    /// Undecidable rules passed, with the stage each was in.
    pending: Vec<(RuleRef, Option<Decision>, usize)>,
    accepts: Option<Decider>,
}

/// The walk of [`evaluate_from`] with the indexes given per chain.
struct Walker<'w> {
    rs: &'w Ruleset,
    index: &'w dyn Fn(usize) -> [Option<&'w DstIndex>; 4],
    loops: &'w HashSet<RuleRef>,
    /// Large chains cut into cells: a space the indexes do not narrow down is walked cell
    /// by cell, each through the few rules that can meet it.
    cells: Option<&'w Cells>,
    /// Per chain: whether two rules or more call it (only such chains are remembered: a
    /// chain called from one rule is walked again only when that rule's chain is).
    shared: &'w [bool],
}

/// What chains did to the spaces they were called with, in this walk.
type Memo = HashMap<(usize, Cube), Rc<Vec<Event>>>;

impl Walker<'_> {
    /// The pieces of `cube` through `hook` from `start`: each stage's chain walked as a whole
    /// (with what it calls), then each part it ends with goes on, in the order the parts
    /// came out (the order of a depth-first walk: a part split off waits until the part that
    /// stayed is decided).
    fn walk(&self, hook: Hook, cube: Cube, start: Start) -> Vec<Piece> {
        let rs = self.rs;
        let stages = rs.hook(hook);
        let mut out = Vec::new();
        let mut memo = Memo::new();
        let mut work = vec![Work::Item(Item {
            cube,
            stage: start.stage,
            at: start.at,
            pending: Vec::new(),
            accepts: None,
        })];
        while let Some(w) = work.pop() {
            let mut item = match w {
                Work::Piece(p) => {
                    out.push(p);
                    continue;
                }
                Work::Item(item) => item,
            };
            if item.cube.is_empty() {
                continue;
            }
            let (c, from) = match item.at.take() {
                Some(at) => at,
                None => match stages.get(item.stage) {
                    None => {
                        let by = item.accepts.unwrap_or(Decider::NoChain);
                        let d = if stages.is_empty() {
                            rs.no_chain
                        } else {
                            Decision::Accept
                        };
                        out.push(Piece {
                            verdict: resolve(&item.pending, item.stage, d, by),
                            cube: item.cube,
                        });
                        continue;
                    }
                    Some(&c) => {
                        if let Some(only) = rs.chains.get(c).and_then(|ch| ch.only.as_ref())
                            && !item.cube.subset_of(only)
                        {
                            // Packets this chain never sees go on to the next stage.
                            for other in item.cube.minus(only) {
                                work.push(Work::Item(Item {
                                    cube: other,
                                    stage: item.stage + 1,
                                    at: None,
                                    pending: item.pending.clone(),
                                    accepts: item.accepts,
                                }));
                            }
                            item.cube = item.cube.intersect(only);
                            if item.cube.is_empty() {
                                continue;
                            }
                        }
                        (c, 0)
                    }
                },
            };
            let events = self.chain(&mut memo, c, item.cube, from);
            for e in events.into_iter().rev() {
                let mut pending = item.pending.clone();
                pending.extend(e.pending.iter().map(|&(r, d)| (r, d, item.stage)));
                // Some(accepts): on to the next stage; None: dropped, by `by`.
                let (accepts, by) = match e.outcome {
                    Outcome::Exit(at) => {
                        // The end of a base chain (or of the chain a goto from it reached):
                        // its policy.
                        let base = stages.get(item.stage).copied().unwrap_or(at);
                        let policy = rs
                            .chains
                            .get(base)
                            .and_then(|b| b.policy)
                            .unwrap_or(Decision::Accept);
                        match policy {
                            Decision::Drop => (None, Decider::Policy(base)),
                            // An accept ends this base chain: on to the next one.
                            Decision::Accept => (
                                Some(item.accepts.unwrap_or(Decider::Policy(base))),
                                Decider::NoChain,
                            ),
                        }
                    }
                    // The last base chain's accepting rule names the verdict (for a cloud
                    // filter: the inbound rule rather than the outbound default).
                    Outcome::Accept(r) => (Some(Decider::Rule(r)), Decider::NoChain),
                    Outcome::Drop(by) => (None, by),
                };
                work.push(match accepts {
                    Some(accepts) => Work::Item(Item {
                        cube: e.cube,
                        stage: item.stage + 1,
                        at: None,
                        pending,
                        accepts: Some(accepts),
                    }),
                    None => Work::Piece(Piece {
                        verdict: resolve(&pending, item.stage, Decision::Drop, by),
                        cube: e.cube,
                    }),
                });
            }
        }
        out
    }

    /// The frame of chain `c` for `cube` from rule `from`: with [`Cells`] for the chain, a
    /// space that the indexes do not narrow down to a few rules is cut into the chain's cells.
    fn frame(&self, c: usize, key: Option<Cube>, cube: Cube, from: usize) -> Frame {
        let split = self
            .cells
            .filter(|_| from == 0 && !self.narrow(c, &cube))
            .and_then(|cells| cells.split(c, &cube));
        Frame::new(c, key, cube, from, split)
    }

    /// Whether an index of chain `c` leaves few rules (at most [`NARROW`]) for `cube`.
    fn narrow(&self, c: usize, cube: &Cube) -> bool {
        let index = (self.index)(c);
        INDEXED.iter().enumerate().any(|(k, &d)| {
            index[k].is_some_and(|idx| {
                idx.slot(&cube.0[d])
                    .is_some_and(|s| idx.lists[s].len() + idx.wide.len() <= NARROW)
            })
        })
    }

    /// What chain `c` (with the chains it calls) does to `cube` from rule `from`: the parts
    /// in depth-first order with how the chain ends for each. A called chain's answer is
    /// remembered for the rest of the walk, by chain and packets.
    fn chain(&self, memo: &mut Memo, c: usize, cube: Cube, from: usize) -> Vec<Event> {
        let mut frames = vec![self.frame(c, None, cube, from)];
        loop {
            let Some(f) = frames.last_mut() else {
                return Vec::new();
            };
            match f.todo.pop() {
                Some(Task::Emit(e)) => f.out.push(e),
                Some(Task::Walk {
                    cube,
                    at,
                    pending,
                    leaf,
                }) => {
                    if let Some((t, cube)) = self.step(memo, f, cube, at, pending, leaf) {
                        let frame = self.frame(t, Some(cube.clone()), cube, 0);
                        frames.push(frame);
                    }
                }
                None => {
                    let Some(done) = frames.pop() else {
                        return Vec::new();
                    };
                    let Some(caller) = frames.last_mut() else {
                        return done.out;
                    };
                    let Some((at, goto, pending, leaf)) = caller.waiting.take() else {
                        continue;
                    };
                    match done.key {
                        Some(key) if self.shared.get(done.chain).copied().unwrap_or(false) => {
                            caller.resume(at, goto, &pending, leaf, done.out.iter().cloned());
                            memo.insert((done.chain, key), Rc::new(done.out));
                        }
                        // Not remembered: its parts move on.
                        _ => caller.resume(at, goto, &pending, leaf, done.out.into_iter()),
                    }
                }
            }
        }
    }

    /// Walks `cube` through frame `f`'s chain from rule `at` until it ends or calls another
    /// chain, pushing split-off parts onto the frame's tasks. `Some((chain, packets))`: a call
    /// whose answer is not known yet (the frame waits for it).
    fn step(
        &self,
        memo: &Memo,
        f: &mut Frame,
        mut cube: Cube,
        mut i: usize,
        mut pending: Pending,
        leaf: Option<u32>,
    ) -> Option<(usize, Cube)> {
        let rs = self.rs;
        let c = f.chain;
        let within = leaf.and_then(|l| self.cells?.leaf(c, l));
        let Some(chain) = rs.chains.get(c) else {
            f.out.push(Event {
                cube,
                outcome: Outcome::Drop(Decider::NoChain),
                pending,
            });
            return None;
        };
        let emit = |f: &mut Frame, cube, outcome, pending| {
            f.out.push(Event {
                cube,
                outcome,
                pending,
            });
            None
        };
        loop {
            // Skip to the next rule that can match these addresses.
            if i < chain.rules.len() {
                i = skip(rs, (self.index)(c), within, c, &cube, i);
            }
            let Some(rule) = chain.rules.get(i) else {
                // End of a chain: back to the caller, or the base chain's policy.
                return emit(f, cube, Outcome::Exit(c), pending);
            };
            if rule.never_new || rule.action == Action::Continue || !cube.meets(&rule.matches) {
                i += 1;
                continue;
            }
            if !cube.subset_of(&rule.matches) {
                for outside in cube.minus(&rule.matches) {
                    f.todo.push(Task::Walk {
                        cube: outside,
                        at: i + 1,
                        pending: pending.clone(),
                        leaf,
                    });
                }
                cube = cube.intersect(&rule.matches);
            }
            if rule.possible.is_some() {
                let d = match rule.action {
                    Action::Accept => Some(Decision::Accept),
                    Action::Drop => Some(Decision::Drop),
                    _ => None,
                };
                pending.push(((c, i), d));
                i += 1;
                continue;
            }
            match rule.action {
                Action::Accept => return emit(f, cube, Outcome::Accept((c, i)), pending),
                Action::Drop => {
                    return emit(f, cube, Outcome::Drop(Decider::Rule((c, i))), pending);
                }
                Action::Jump(t) | Action::Goto(t) => {
                    if t >= rs.chains.len() || self.loops.contains(&(c, i)) {
                        pending.push(((c, i), None));
                        i += 1;
                        continue;
                    }
                    let goto = matches!(rule.action, Action::Goto(_));
                    let key = (t, cube);
                    if let Some(events) = memo.get(&key) {
                        f.resume(i, goto, &pending, leaf, events.iter().cloned());
                        return None;
                    }
                    f.waiting = Some((i, goto, pending, leaf));
                    return Some((t, key.1));
                }
                Action::Return => return emit(f, cube, Outcome::Exit(c), pending),
                Action::Continue => i += 1,
                Action::Unknown => {
                    pending.push(((c, i), None));
                    i += 1;
                }
            }
        }
    }
}

/// A space that an index narrows down to this many rules of a chain is walked whole, even
/// through a chain of [`Cells`].
const NARROW: usize = 64;

/// A cell of a chain's [`Cells`] is split while more of its rules than this cut it.
const CUTTERS: usize = 16;

/// At most this many (cell, rule) pairs in the cells of one chain; beyond it, cells are no
/// longer split (they hold more rules).
const CELL_ENTRIES: usize = 1 << 24;

/// Large chains cut into cells, for walking a space that their indexes do not narrow down
/// (the universe, in "too broad"): a box of the packet space (one interval per dimension) is
/// split, at the median of the boundaries its rules draw inside it in the dimension where
/// they draw the most, while more than [`CUTTERS`] rules cut it (meet it without covering
/// it). Each cell lists the rules that can meet it; a space is walked cell by cell, each part
/// through its cell's rules only. Holes cut by N rules into one space cost N^2 to carry; in
/// a cell, at most [`CUTTERS`] rules cut.
pub struct Cells {
    /// Per chain: its cells, when it has more rules than asked for.
    trees: Vec<Option<Tree>>,
}

/// One chain's cells: a tree of splits (the root is node 0), and each leaf's rules.
struct Tree {
    nodes: Vec<Node>,
    leaves: Vec<Vec<u32>>,
}

enum Node {
    /// Values below `at` of dimension `dim` go to the first, the others to the second.
    Split {
        dim: usize,
        at: u128,
        kids: [u32; 2],
    },
    /// A cell (its index in [`Tree::leaves`]).
    Leaf(u32),
}

/// Whether `s` has a value in `[a, b]`.
fn meets_range(s: &crate::space::Set, a: u128, b: u128) -> bool {
    let iv = s.intervals();
    let k = iv.partition_point(|&(_, e)| e < a);
    iv.get(k).is_some_and(|&(x, _)| x <= b)
}

impl Cells {
    /// The cells of every chain in `chains` that has more than `above` rules.
    pub fn new(rs: &Ruleset, chains: &[usize], above: usize) -> Cells {
        let mut trees: Vec<Option<Tree>> = (0..rs.chains.len()).map(|_| None).collect();
        for &c in chains {
            if let Some(ch) = rs.chains.get(c)
                && ch.rules.len() > above
                && trees[c].is_none()
            {
                trees[c] = Some(Tree::new(&ch.rules));
            }
        }
        Cells { trees }
    }

    /// The rules of cell `leaf` of chain `c`.
    fn leaf(&self, c: usize, leaf: u32) -> Option<&[u32]> {
        let t = self.trees.get(c)?.as_ref()?;
        t.leaves.get(leaf as usize).map(Vec::as_slice)
    }

    /// `cube` cut by the cells of chain `c` (in the order of the tree: lower values first),
    /// with the cell each part lies in; `None` when the chain has no cells.
    fn split(&self, c: usize, cube: &Cube) -> Option<Vec<(Cube, u32)>> {
        use crate::space::{DIMS, Set, max_of};
        let t = self.trees.get(c)?.as_ref()?;
        let mut out = Vec::new();
        let full: [(u128, u128); DIMS] = std::array::from_fn(|d| (0, max_of(d)));
        let mut todo = vec![(0u32, full)];
        while let Some((n, bx)) = todo.pop() {
            match t.nodes[n as usize] {
                Node::Leaf(l) => {
                    let mut part = cube.clone();
                    for (d, &(a, b)) in bx.iter().enumerate() {
                        if (a, b) != (0, max_of(d)) {
                            part = part.with(d, &Set::range(a, b));
                        }
                    }
                    if !part.is_empty() {
                        out.push((part, l));
                    }
                }
                Node::Split { dim, at, kids } => {
                    let (lo, hi) = bx[dim];
                    let mut upper = bx;
                    upper[dim] = (at, hi);
                    let mut lower = bx;
                    lower[dim] = (lo, at - 1);
                    // The upper half onto the stack first: the lower one comes out first.
                    if meets_range(&cube.0[dim], at, hi) {
                        todo.push((kids[1], upper));
                    }
                    if meets_range(&cube.0[dim], lo, at - 1) {
                        todo.push((kids[0], lower));
                    }
                }
            }
        }
        Some(out)
    }
}

impl Tree {
    fn new(rules: &[crate::model::Rule]) -> Tree {
        use crate::space::{DIMS, max_of};
        // Each rule's hull (lowest to highest value per dimension), side by side: the cells
        // are cut at hulls' boundaries, and a rule is listed in every cell its hull meets (a
        // hull holds all the rule's packets, so no rule that can meet a cell is left out).
        let hulls: Vec<[(u128, u128); DIMS]> = rules
            .iter()
            .map(|r| {
                std::array::from_fn(|d| {
                    let iv = r.matches.0[d].intervals();
                    match (iv.first(), iv.last()) {
                        (Some(&(a, _)), Some(&(_, b))) => (a, b),
                        _ => (1, 0),
                    }
                })
            })
            .collect();
        let list: Vec<u32> = (0..rules.len() as u32)
            .filter(|&i| {
                let r = &rules[i as usize];
                !r.never_new && !r.matches.is_empty()
            })
            .collect();
        let full: [(u128, u128); DIMS] = std::array::from_fn(|d| (0, max_of(d)));
        let mut t = Tree {
            nodes: vec![Node::Leaf(0)],
            leaves: Vec::new(),
        };
        let mut entries = list.len();
        // (node to fill, its box, its rules, depth)
        let mut todo = vec![(0usize, full, list, 0usize)];
        while let Some((n, bx, list, depth)) = todo.pop() {
            // How many boundaries the rules draw inside the box, per dimension.
            let mut count = [0usize; DIMS];
            let mut cutters = 0;
            if list.len() > CUTTERS && entries < CELL_ENTRIES && depth < 96 {
                for &i in &list {
                    let h = &hulls[i as usize];
                    let mut cuts = false;
                    for d in 0..DIMS {
                        let k = usize::from(h[d].0 > bx[d].0) + usize::from(h[d].1 < bx[d].1);
                        count[d] += k;
                        cuts |= k > 0;
                    }
                    cutters += usize::from(cuts);
                }
            }
            if cutters <= CUTTERS {
                t.nodes[n] = Node::Leaf(t.leaves.len() as u32);
                t.leaves.push(list);
                continue;
            }
            // The dimension with the most boundaries, at their median (a boundary inside).
            let Some(dim) = (0..DIMS).max_by_key(|&d| (count[d], DIMS - d)) else {
                continue;
            };
            let (lo, hi) = bx[dim];
            let mut inner = Vec::with_capacity(count[dim]);
            for &i in &list {
                let (a, e) = hulls[i as usize][dim];
                if a > lo {
                    inner.push(a);
                }
                if e < hi {
                    inner.push(e + 1);
                }
            }
            let mid = inner.len() / 2;
            let at = *inner.select_nth_unstable(mid).1;
            let kids = [t.nodes.len() as u32, t.nodes.len() as u32 + 1];
            t.nodes.push(Node::Leaf(0));
            t.nodes.push(Node::Leaf(0));
            t.nodes[n] = Node::Split { dim, at, kids };
            for (k, (a, b)) in [(lo, at - 1), (at, hi)].into_iter().enumerate() {
                let sub: Vec<u32> = list
                    .iter()
                    .copied()
                    .filter(|&i| {
                        let (x, y) = hulls[i as usize][dim];
                        x <= b && y >= a
                    })
                    .collect();
                entries += sub.len();
                let mut half = bx;
                half[dim] = (a, b);
                todo.push((kids[k] as usize, half, sub, depth + 1));
            }
            entries -= list.len();
        }
        t
    }
}

/// The verdict, weighed against the undecidable rules the packets passed (`stage`: the
/// stage where it is decided).
fn resolve(
    pending: &[(RuleRef, Option<Decision>, usize)],
    final_stage: usize,
    d: Decision,
    by: Decider,
) -> Verdict {
    let definite = match d {
        Decision::Accept => Verdict::Accept(by),
        Decision::Drop => Verdict::Drop(by),
    };
    for &(rule, action, stage) in pending {
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::eval_reference;
    use crate::model::{Chain, Platform, Rule};
    use crate::space::Set;
    use crate::test_support::{build, cube, raw_rule, universe};

    fn same(a: &[Piece], b: &[Piece]) -> Result<(), TestCaseError> {
        prop_assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            prop_assert_eq!(&x.cube, &y.cube);
            prop_assert_eq!(&x.verdict, &y.verdict);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// The walk that remembers chain calls gives the pieces of the walk before it (a
        /// stack of frames per space), with the same verdicts, in the same order: from the
        /// first stage and from a rule of a stage, plain and indexed.
        #[test]
        fn remembered_calls_equal_the_frame_walk(
            chains in prop::collection::vec(prop::collection::vec(raw_rule(), 0..6), 1..7),
            policies in prop::collection::vec(any::<bool>(), 1..4),
            only in prop::collection::vec(prop::option::weighted(0.3, cube()), 1..4),
            stages in 0usize..4,
            at in (0usize..4, 0usize..7, 0usize..7),
        ) {
            let stages = stages.min(chains.len());
            let rs = build(chains, policies, only, stages);
            prop_assert!(loops(&rs).is_empty());
            let old = eval_reference::evaluate_plain(&rs, Hook::Forward, universe());
            same(&evaluate(&rs, Hook::Forward, universe()), &old)?;
            let ev = Evaluator::new(&rs);
            same(&ev.evaluate(Hook::Forward, universe()), &old)?;
            let start = Start { stage: at.0, at: Some((at.1 % rs.chains.len(), at.2)) };
            let old = eval_reference::evaluate_from(&rs, Hook::Forward, universe(), start);
            same(&evaluate_from(&rs, Hook::Forward, universe(), start), &old)?;
            same(&ev.evaluate_from(Hook::Forward, universe(), start), &old)?;
        }
    }

    /// The verdict of the piece holding each packet of the small universe.
    fn verdicts(pieces: &[Piece]) -> Vec<Verdict> {
        use crate::space::DIMS;
        use crate::test_support::SIZES;
        let mut out = Vec::new();
        let mut p = [0u128; DIMS];
        loop {
            let owners: Vec<&Piece> = pieces
                .iter()
                .filter(|x| (0..DIMS).all(|d| x.cube.0[d].contains(p[d])))
                .collect();
            assert_eq!(owners.len(), 1, "packet {p:?}");
            out.push(owners[0].verdict.clone());
            let mut d = 0;
            while d < DIMS {
                p[d] += 1;
                if p[d] < SIZES[d] {
                    break;
                }
                p[d] = 0;
                d += 1;
            }
            if d == DIMS {
                return out;
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Walking chains cell by cell gives every packet the verdict of the whole walk.
        #[test]
        fn cells_give_the_same_verdicts(
            chains in prop::collection::vec(prop::collection::vec(raw_rule(), 0..60), 1..4),
            policies in prop::collection::vec(any::<bool>(), 1..4),
            stages in 1usize..3,
        ) {
            let stages = stages.min(chains.len());
            let rs = build(chains, policies, vec![None], stages);
            let whole = Evaluator::new(&rs).evaluate(Hook::Forward, universe());
            let cut = Evaluator::with_cells(&rs, 0).evaluate(Hook::Forward, universe());
            prop_assert_eq!(verdicts(&cut), verdicts(&whole));
        }
    }

    fn rule(matches: Cube, action: Action, location: &str) -> Rule {
        Rule {
            matches,
            possible: None,
            action,
            location: location.to_owned(),
            text: String::new(),
            hits: None,
            never_new: false,
        }
    }

    fn chain(name: &str, rules: Vec<Rule>, policy: Option<Decision>) -> Chain {
        Chain {
            name: name.to_owned(),
            rules,
            policy,
            policy_location: String::new(),
            only: None,
            index: None,
        }
    }

    /// A base chain (drop) calling chain 1; chain k calls chain k + 1 twice (`call`); the
    /// last chain accepts destination port 3 and drops port 2.
    fn diamond(levels: usize, call: fn(usize) -> Action) -> Ruleset {
        let mut chains = vec![chain(
            "base",
            vec![rule(Cube::full(), Action::Jump(1), "base:0")],
            Some(Decision::Drop),
        )];
        for k in 1..levels {
            let next = rule(Cube::full(), call(k + 1), &format!("c{k}"));
            chains.push(chain(&format!("c{k}"), vec![next.clone(), next], None));
        }
        let port = |p| Cube::full().with(crate::space::DPORT, &Set::one(p));
        chains.push(chain(
            "last",
            vec![
                rule(port(3), Action::Accept, "last:0"),
                rule(port(2), Action::Drop, "last:1"),
            ],
            None,
        ));
        Ruleset {
            platform: Platform::Iptables,
            chains,
            hooks: vec![(Hook::Forward, vec![0])],
            notes: Vec::new(),
            counters: false,
            no_chain: Decision::Accept,
            families: [true, true],
        }
    }

    /// Chains that each jump twice to the next, 30 and 64 deep (2^30 and 2^64 paths): every
    /// verdict exact, from the last chain's rules or the base chain's policy.
    #[test]
    fn diamonds_of_jumps_are_walked_once_per_chain() {
        for levels in [30, 64, 200] {
            let rs = diamond(levels, Action::Jump);
            let last = rs.chains.len() - 1;
            let plain = evaluate(&rs, Hook::Forward, universe());
            let fast = Evaluator::new(&rs).evaluate(Hook::Forward, universe());
            for ev in [plain, fast] {
                let verdict = |p: u128| {
                    ev.iter()
                        .filter(|x| x.cube.0[crate::space::DPORT].contains(p))
                        .map(|x| x.verdict.clone())
                        .collect::<Vec<_>>()
                };
                assert_eq!(verdict(3), [Verdict::Accept(Decider::Rule((last, 0)))]);
                assert_eq!(verdict(2), [Verdict::Drop(Decider::Rule((last, 1)))]);
                assert_eq!(verdict(0), [Verdict::Drop(Decider::Policy(0))]);
                assert_eq!(ev.len(), 3, "{ev:?}");
            }
        }
    }

    /// The same with gotos: a goto's chain ends the caller's chain too.
    #[test]
    fn diamonds_of_gotos() {
        let rs = diamond(64, Action::Goto);
        let pieces = evaluate(&rs, Hook::Forward, universe());
        let last = rs.chains.len() - 1;
        let verdicts: Vec<Verdict> = pieces.iter().map(|p| p.verdict.clone()).collect();
        assert!(verdicts.contains(&Verdict::Accept(Decider::Rule((last, 0)))));
        assert!(verdicts.contains(&Verdict::Drop(Decider::Rule((last, 1)))));
        assert!(verdicts.contains(&Verdict::Drop(Decider::Policy(0))));
    }

    /// Loops of chains, by jump or goto, one chain or two: never followed; the packets they
    /// match are "possible", naming a rule of the loop, otherwise what the rest decides.
    #[test]
    fn loops_of_chains_make_possible_verdicts() {
        for call in [Action::Jump as fn(usize) -> Action, Action::Goto] {
            // base -> 1 -> 1
            let rs = Ruleset {
                chains: vec![
                    chain(
                        "base",
                        vec![rule(Cube::full(), Action::Jump(1), "base:0")],
                        Some(Decision::Drop),
                    ),
                    chain("a", vec![rule(Cube::full(), call(1), "a:0")], None),
                ],
                ..diamond(1, Action::Jump)
            };
            assert_eq!(loops(&rs), [(1, 0)]);
            let pieces = evaluate(&rs, Hook::Forward, universe());
            assert_eq!(pieces.len(), 1);
            assert_eq!(
                pieces[0].verdict,
                Verdict::Possible {
                    rule: (1, 0),
                    otherwise: Decision::Drop,
                    by: Decider::Policy(0)
                }
            );
            // base -> 1 -> 2 -> 1
            let rs = Ruleset {
                chains: vec![
                    chain(
                        "base",
                        vec![rule(Cube::full(), Action::Jump(1), "base:0")],
                        Some(Decision::Accept),
                    ),
                    chain("a", vec![rule(Cube::full(), call(2), "a:0")], None),
                    chain("b", vec![rule(Cube::full(), call(1), "b:0")], None),
                ],
                ..diamond(1, Action::Jump)
            };
            assert_eq!(loops(&rs), [(1, 0), (2, 0)]);
            for pieces in [
                evaluate(&rs, Hook::Forward, universe()),
                Evaluator::new(&rs).evaluate(Hook::Forward, universe()),
            ] {
                assert_eq!(pieces.len(), 1);
                assert!(matches!(
                    pieces[0].verdict,
                    Verdict::Possible {
                        rule: (1, 0),
                        otherwise: Decision::Accept,
                        ..
                    }
                ));
            }
        }
    }
}
