//! The normalised rule set every reader produces and the evaluator runs.
//!
//! A [`Ruleset`] is a list of chains of [`Rule`]s plus, per direction ([`Hook`]), the base
//! chains a packet passes in order. Each platform's decision semantics are expressed in this
//! one form by its reader: nftables base chains by priority, iptables' filter table, Windows
//! precedence (block before allow, then the profile's default), Azure priorities and so on.

use serde::Serialize;

use crate::space::Cube;

pub use rdsports_schema::audit::{Hook, Note, Platform};

/// What a rule does to a packet it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Accept (for nftables: ends this base chain only).
    Accept,
    /// Drop or reject: final.
    Drop,
    /// Continue in chain N, then come back.
    Jump(usize),
    /// Continue in chain N, not coming back.
    Goto(usize),
    /// Back to the calling chain (in a base chain: its policy).
    Return,
    /// No verdict (a counter, a log): the next rule.
    Continue,
    /// A verdict the evaluator cannot follow (a verdict map, a queue to user space): a
    /// packet it matches gets a "possible" verdict.
    Unknown,
}

/// A verdict: accepted or dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The packet passes.
    Accept,
    /// The packet is dropped or rejected.
    Drop,
}

/// One rule, normalised.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The packets it matches (the conditions it could evaluate).
    pub matches: Cube,
    /// Why the match cannot be decided (an interface, a program, an FQDN ...): the rule
    /// may or may not match. `None`: the match is exact.
    pub possible: Option<String>,
    /// What it does.
    pub action: Action,
    /// Where it is: `FILE:LINE`, a JSON path, or a rule name.
    pub location: String,
    /// A short text of the rule as the platform writes it.
    pub text: String,
    /// Hit counter (packets), when the export has one.
    pub hits: Option<u64>,
    /// The rule can never match a new connection (for example `ct state established`
    /// only): it is kept for reports but never matches a planned flow.
    pub never_new: bool,
}

/// A chain (or a Windows/cloud rule list).
#[derive(Debug, Clone)]
pub struct Chain {
    /// Name (`inet filter forward`, `FORWARD`, `inbound (Domain profile)`).
    pub name: String,
    /// Rules in order.
    pub rules: Vec<Rule>,
    /// What happens at the end of a base chain; `None` for a user chain (return).
    pub policy: Option<Decision>,
    /// Where the policy is set.
    pub policy_location: String,
    /// For a base chain that sees only some packets (an nftables `ip` or `ip6` table sees
    /// one family; a cloud filter only what enters or leaves its networks): those packets.
    /// Other packets pass it untouched.
    pub only: Option<Cube>,
    /// Which rules can match a destination address (see [`Ruleset::index`]).
    pub index: Option<DstIndex>,
}

/// The rules of a chain by destination address (or, built with [`DstIndex::on`], by any
/// dimension): for a space whose values of that dimension fall in one elementary interval,
/// the evaluator visits only the rules that can match it.
#[derive(Debug, Clone, Default)]
pub struct DstIndex {
    /// Starts of the elementary intervals, sorted (the first is 0).
    pub bounds: Vec<u128>,
    /// Per elementary interval: indices of the rules whose destinations meet it, sorted.
    pub lists: Vec<Vec<u32>>,
    /// Rules that meet too many intervals to list (wide destinations), sorted.
    pub wide: Vec<u32>,
}

/// How many (interval, rule) entries an index holds at most (32 MiB of lists); rules beyond
/// that, and rules whose destinations span more intervals than [`WIDE`], go to
/// [`DstIndex::wide`], visited for every destination.
const ENTRIES: usize = 8 << 20;
/// See [`ENTRIES`].
const WIDE: usize = 1 << 16;

impl DstIndex {
    /// Builds the index of `rules` by destination address.
    pub fn build(rules: &[Rule]) -> DstIndex {
        DstIndex::on(rules, crate::space::DST)
    }

    /// Builds the index of `rules` by dimension `dim` (see [`crate::space`]).
    pub fn on(rules: &[Rule], dim: usize) -> DstIndex {
        let mut bounds = vec![0u128];
        for r in rules {
            for &(a, b) in r.matches.0[dim].intervals() {
                bounds.push(a);
                if b < u128::MAX {
                    bounds.push(b + 1);
                }
            }
        }
        bounds.sort_unstable();
        bounds.dedup();
        let mut lists = vec![Vec::new(); bounds.len()];
        let mut wide = Vec::new();
        let mut entries = 0usize;
        for (i, r) in rules.iter().enumerate() {
            let spans: Vec<(usize, usize)> = r.matches.0[dim]
                .intervals()
                .iter()
                .map(|&(a, b)| {
                    (
                        bounds.partition_point(|&x| x <= a) - 1,
                        bounds.partition_point(|&x| x <= b) - 1,
                    )
                })
                .collect();
            let n: usize = spans.iter().map(|(f, l)| l - f + 1).sum();
            // A rule in every interval is listed once, as wide.
            if n > WIDE || n >= lists.len() || entries + n > ENTRIES {
                wide.push(i as u32);
                continue;
            }
            entries += n;
            for (f, l) in spans {
                for list in &mut lists[f..=l] {
                    list.push(i as u32);
                }
            }
        }
        DstIndex {
            bounds,
            lists,
            wide,
        }
    }

    /// The elementary interval holding all of `dst`, if one does.
    pub fn slot(&self, dst: &crate::space::Set) -> Option<usize> {
        let (a, _) = *dst.intervals().first()?;
        let (_, b) = *dst.intervals().last()?;
        let k = self.bounds.partition_point(|&x| x <= a) - 1;
        let end = self.bounds.get(k + 1).map_or(u128::MAX, |&n| n - 1);
        (b <= end).then_some(k)
    }

    /// The first rule at or after `from` that can match destinations of slot `k`.
    pub fn next(&self, k: usize, from: usize) -> Option<usize> {
        let pick = |v: &[u32]| {
            let i = v.partition_point(|&x| (x as usize) < from);
            v.get(i).map(|&x| x as usize)
        };
        match (pick(&self.lists[k]), pick(&self.wide)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// A normalised rule set.
#[derive(Debug, Clone)]
pub struct Ruleset {
    /// Platform.
    pub platform: Platform,
    /// Every chain.
    pub chains: Vec<Chain>,
    /// Per hook, the base chains a packet passes, in order.
    pub hooks: Vec<(Hook, Vec<usize>)>,
    /// What the reader did not understand.
    pub notes: Vec<Note>,
    /// Whether the export carries hit counters.
    pub counters: bool,
    /// What a hook without chains does (nftables and iptables: accept).
    pub no_chain: Decision,
    /// Which address families the export covers, [IPv4, IPv6]: `iptables-save` holds one
    /// family, `ip6tables-save` the other; packets of a family not covered are not judged.
    pub families: [bool; 2],
}

impl Ruleset {
    /// A device whose chains every packet passes in `stages` order on every hook
    /// (input, forward, output), IPv4 and IPv6, and which drops what no chain decides:
    /// a firewall appliance's or a policy language's model. Indexed.
    pub fn appliance(
        platform: Platform,
        chains: Vec<Chain>,
        stages: Vec<usize>,
        notes: Vec<Note>,
        counters: bool,
    ) -> Ruleset {
        let mut rs = Ruleset {
            platform,
            chains,
            hooks: vec![
                (Hook::Input, stages.clone()),
                (Hook::Forward, stages.clone()),
                (Hook::Output, stages),
            ],
            notes,
            counters,
            no_chain: Decision::Drop,
            families: [true, true],
        };
        rs.index();
        rs
    }

    /// The base chains of `hook` (empty when it has none).
    pub fn hook(&self, hook: Hook) -> &[usize] {
        self.hooks
            .iter()
            .find(|(h, _)| *h == hook)
            .map(|(_, c)| c.as_slice())
            .unwrap_or(&[])
    }

    /// Builds every chain's destination index (readers call it last; the evaluator works
    /// without it, only slower).
    pub fn index(&mut self) {
        for c in &mut self.chains {
            c.index = Some(DstIndex::build(&c.rules));
        }
    }

    /// How many rules in all chains.
    pub fn rule_count(&self) -> usize {
        self.chains.iter().map(|c| c.rules.len()).sum()
    }
}
