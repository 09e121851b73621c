//! The audit result is the document `rdsports_schema::audit` defines; it is re-exported
//! here for the crate's readers and analysis. Its renderings (table, JSON, Markdown, JUnit)
//! are in `rdsports_report::audit::text`.
//!
//! Its size stays linear in flows and rules: where it refers to a rule (each flow's deciding
//! rule, each finding) it repeats at most [`REFERENCE`] characters of the rule's text and
//! location; a rule cut there is given in full once, in [`Audit::rule_texts`].

use std::collections::HashSet;

pub use rdsports_schema::audit::{
    Audit, Counts, DeadRule, Described, Fix, FlowResult, FlowsListed, SCHEMA_VERSION, Status,
    TooBroad, Unused,
};

use crate::model::Ruleset;
use crate::read::{WINDOW, bounded, clip_to};

/// How many characters of a rule's text, and of its location, a reference to the rule
/// repeats: four windows of [`WINDOW`] (a rule's text is several values).
pub const REFERENCE: usize = 4 * WINDOW;

/// A reference to a rule: its location and text, each cut to [`REFERENCE`] characters.
pub fn described(location: &str, text: &str) -> Described {
    Described {
        location: clip_to(location, REFERENCE),
        text: clip_to(text, REFERENCE),
    }
}

/// Bounds what `audit` repeats (the rules of its findings, its notes) and lists, once each,
/// the full text of every rule of `rs` that a reference in it cuts.
pub(crate) fn bound(audit: &mut Audit, rs: &Ruleset) {
    let cut = |d: &mut Described| *d = described(&d.location, &d.text);
    for dead in audit.shadowed.iter_mut().chain(audit.redundant.iter_mut()) {
        dead.chain = clip_to(&dead.chain, REFERENCE);
        cut(&mut dead.rule);
        dead.by.iter_mut().for_each(cut);
    }
    for u in &mut audit.unused {
        u.chain = clip_to(&u.chain, REFERENCE);
        cut(&mut u.rule);
    }
    for n in &mut audit.notes {
        n.location = clip_to(&n.location, REFERENCE);
        n.message = bounded(&n.message);
    }
    let long = |s: &str| s.len() > REFERENCE && s.chars().nth(REFERENCE).is_some();
    if !rs
        .chains
        .iter()
        .flat_map(|c| &c.rules)
        .any(|r| long(&r.text) || long(&r.location))
    {
        return;
    }
    let shown: HashSet<(&str, &str)> = audit
        .flows
        .iter()
        .filter_map(|f| f.rule.as_ref())
        .chain(audit.too_broad.iter().map(|t| &t.rule))
        .chain(
            audit
                .shadowed
                .iter()
                .chain(&audit.redundant)
                .flat_map(|d| std::iter::once(&d.rule).chain(&d.by)),
        )
        .chain(audit.unused.iter().map(|u| &u.rule))
        .map(|d| (d.location.as_str(), d.text.as_str()))
        .collect();
    let mut texts = Vec::new();
    let mut listed = HashSet::new();
    for r in rs.chains.iter().flat_map(|c| &c.rules) {
        if !(long(&r.text) || long(&r.location)) {
            continue;
        }
        let d = described(&r.location, &r.text);
        if shown.contains(&(d.location.as_str(), d.text.as_str()))
            && listed.insert((r.location.as_str(), r.text.as_str()))
        {
            texts.push(Described {
                location: r.location.clone(),
                text: r.text.clone(),
            });
        }
    }
    audit.rule_texts = texts;
}
