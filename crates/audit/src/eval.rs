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
    let walker = Walker {
        rs,
        index: &|c| [None, rs.chains.get(c).and_then(|ch| ch.index.as_ref())],
        loops: &loops,
    };
    walker.walk(hook, cube, start)
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
    /// The rules that close a loop of chains ([`loops`]).
    loops: HashSet<RuleRef>,
}

impl<'a> Evaluator<'a> {
    /// Indexes every chain of `rs`.
    pub fn new(rs: &'a Ruleset) -> Evaluator<'a> {
        let index = rs
            .chains
            .iter()
            .map(|c| [DstIndex::on(&c.rules, SRC), DstIndex::on(&c.rules, DST)])
            .collect();
        Evaluator {
            rs,
            index,
            loops: loops(rs).into_iter().collect(),
        }
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
        };
        walker.walk(hook, cube, start)
    }

    /// TEMP
    pub fn dst_bounds(&self, c: usize) -> &[u128] {
        self.index.get(c).map_or(&[], |[_, d]| &d.bounds)
    }

    fn indexes(&self, c: usize) -> [Option<&DstIndex>; 2] {
        match self.index.get(c) {
            Some([s, d]) => [Some(s), Some(d)],
            None => [None, None],
        }
    }

    /// The first rule of chain `c` at or after `from` that can match `cube` by its source
    /// and destination addresses (`rules.len()` when none can); the rules skipped cannot
    /// match any packet of `cube`.
    pub fn next_rule(&self, c: usize, cube: &Cube, from: usize) -> usize {
        skip(self.rs, self.indexes(c), c, cube, from)
    }
}

/// The first rule of chain `c` at or after `from` that the indexes do not rule out for
/// `cube`: where the cube's values of a dimension fall in one slot of its index, a rule
/// must be listed in that slot (leapfrogging between the two indexes to a rule both list).
fn skip(rs: &Ruleset, index: [Option<&DstIndex>; 2], c: usize, cube: &Cube, from: usize) -> usize {
    let len = rs.chains.get(c).map_or(0, |ch| ch.rules.len());
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
    /// Walk these packets from rule `at`.
    Walk {
        cube: Cube,
        at: usize,
        pending: Pending,
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
    /// The call that waits for the called chain: (rule index, goto, pending so far).
    waiting: Option<(usize, bool, Pending)>,
}

impl Frame {
    fn new(chain: usize, key: Option<Cube>, cube: Cube, at: usize) -> Frame {
        Frame {
            chain,
            key,
            todo: vec![Task::Walk {
                cube,
                at,
                pending: Vec::new(),
            }],
            out: Vec::new(),
            waiting: None,
        }
    }

    /// Continues after a call to a chain that ended with `events`, in their order: after a
    /// jump, a part that came back walks on from the next rule; after a goto, each part ends
    /// this chain as it ended the called one.
    fn resume(&mut self, at: usize, goto: bool, pending: &Pending, events: &[Event]) {
        for e in events.iter().rev() {
            let mut p = pending.clone();
            p.extend_from_slice(&e.pending);
            self.todo.push(match e.outcome {
                Outcome::Exit(_) if !goto => Task::Walk {
                    cube: e.cube.clone(),
                    at: at + 1,
                    pending: p,
                },
                outcome => Task::Emit(Event {
                    cube: e.cube.clone(),
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
    index: &'w dyn Fn(usize) -> [Option<&'w DstIndex>; 2],
    loops: &'w HashSet<RuleRef>,
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
                let next = |accepts| {
                    Work::Item(Item {
                        cube: e.cube.clone(),
                        stage: item.stage + 1,
                        at: None,
                        pending: pending.clone(),
                        accepts,
                    })
                };
                let piece = |d, by| {
                    Work::Piece(Piece {
                        cube: e.cube.clone(),
                        verdict: resolve(&pending, item.stage, d, by),
                    })
                };
                work.push(match e.outcome {
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
                            Decision::Drop => piece(Decision::Drop, Decider::Policy(base)),
                            // An accept ends this base chain: on to the next one.
                            Decision::Accept => {
                                next(Some(item.accepts.unwrap_or(Decider::Policy(base))))
                            }
                        }
                    }
                    // The last base chain's accepting rule names the verdict (for a cloud
                    // filter: the inbound rule rather than the outbound default).
                    Outcome::Accept(r) => next(Some(Decider::Rule(r))),
                    Outcome::Drop(by) => piece(Decision::Drop, by),
                });
            }
        }
        out
    }

    /// What chain `c` (with the chains it calls) does to `cube` from rule `from`: the parts
    /// in depth-first order with how the chain ends for each. A called chain's answer is
    /// remembered for the rest of the walk, by chain and packets.
    fn chain(&self, memo: &mut Memo, c: usize, cube: Cube, from: usize) -> Vec<Event> {
        let mut frames = vec![Frame::new(c, None, cube, from)];
        loop {
            let Some(f) = frames.last_mut() else {
                return Vec::new();
            };
            match f.todo.pop() {
                Some(Task::Emit(e)) => f.out.push(e),
                Some(Task::Walk { cube, at, pending }) => {
                    if let Some((t, cube)) = self.step(memo, f, cube, at, pending) {
                        frames.push(Frame::new(t, Some(cube.clone()), cube, 0));
                    }
                }
                None => {
                    let Some(done) = frames.pop() else {
                        return Vec::new();
                    };
                    let Some(caller) = frames.last_mut() else {
                        return done.out;
                    };
                    let events = Rc::new(done.out);
                    if let Some(key) = done.key {
                        memo.insert((done.chain, key), events.clone());
                    }
                    if let Some((at, goto, pending)) = caller.waiting.take() {
                        caller.resume(at, goto, &pending, &events);
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
    ) -> Option<(usize, Cube)> {
        let rs = self.rs;
        let c = f.chain;
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
                i = skip(rs, (self.index)(c), c, &cube, i);
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
                        f.resume(i, goto, &pending, events);
                        return None;
                    }
                    f.waiting = Some((i, goto, pending));
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
