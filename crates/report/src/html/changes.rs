//! The report's "Changes since OLD" section (`rdsports report NEW --diff OLD`): the flows a
//! diff adds, removes and changes, and the marks it puts on the flow matrix and the diagram.
//!
//! Added and changed flows are flows of NEW's plan: their rows in the flow matrix and the
//! diagram edges that hold them are marked. Removed flows are in no plan the page shows: they
//! are listed here, and counted under the diagram.

use std::collections::HashMap;
use std::fmt::Write as _;

use rdsports_core::plan::Plan;
use rdsports_core::{Flow, Protocol};
use rdsports_schema::Transport;
use rdsports_schema::diff::{ChangeKind, DiffDocument};
use rdsports_schema::plan::PortSpan;

use crate::diagram::{Graph, escape_xml as esc};
use crate::diff::{header_lines, ids_cell, ports_cell, references, summary_line};

/// Styles of the marks, written only in a page with a diff (pages without one stay as they
/// were). More specific than the diagram's own styles, which come later in the page.
const STYLE: &str = "\
#changes tr.diff-added td:first-child,#flows tr.diff-added td:first-child{box-shadow:inset 4px 0 #16a34a}\n\
#changes tr.diff-removed td:first-child{box-shadow:inset 4px 0 #dc2626}\n\
#changes tr.diff-changed td:first-child,#flows tr.diff-changed td:first-child{box-shadow:inset 4px 0 #d97706}\n\
.diagram .rdsports-diagram .rd-edge.rd-added path{stroke:#16a34a;stroke-width:2.8;stroke-dasharray:none}\n\
.diagram .rdsports-diagram .rd-edge.rd-changed path{stroke:#d97706;stroke-width:2.4}\n\
.diff-mark{font-size:.75rem;font-weight:700;border-radius:4px;padding:0 .3rem;margin-left:.3rem}\n\
.diff-mark.added{color:#15803d;border:1px solid #16a34a}\n\
.diff-mark.changed{color:#b45309;border:1px solid #d97706}\n";

/// The most change rows the section lists; the rest are counted (the CSV of `rdsports diff`
/// lists them all).
const MAX_ROWS: usize = 1_000;

/// What the diff marks in NEW's plan.
pub(super) struct Marks {
    /// (from, to, protocol, ports) of NEW's added and changed flows.
    flows: HashMap<(String, String, Transport, PortSpan), ChangeKind>,
    /// Per diagram edge: `added` when it holds an added flow, else `changed` when it holds a
    /// changed one.
    pub(super) edges: Vec<Option<&'static str>>,
}

impl Marks {
    pub(super) fn new(plan: &Plan<'_>, graph: &Graph, diff: &DiffDocument) -> Marks {
        let mut flows = HashMap::new();
        for b in &diff.boundaries {
            for p in &b.pairs {
                for c in &p.changes {
                    if c.change != ChangeKind::Removed {
                        flows.insert(
                            (p.from.name.clone(), p.to.name.clone(), c.protocol, c.ports),
                            c.change,
                        );
                    }
                }
            }
        }
        let d = plan.deployment;
        let mut node_of = vec![usize::MAX; d.hosts.len()];
        for (n, node) in graph.nodes.iter().enumerate() {
            for &h in &node.hosts {
                if let Some(slot) = node_of.get_mut(h) {
                    *slot = n;
                }
            }
        }
        let edge_of: HashMap<(usize, usize), usize> = graph
            .edges
            .iter()
            .enumerate()
            .map(|(i, e)| ((e.from, e.to), i))
            .collect();
        let mut edges = vec![None; graph.edges.len()];
        let mut marks = Marks {
            flows,
            edges: Vec::new(),
        };
        for f in &plan.flows {
            let Some(kind) = marks.of(plan, f) else {
                continue;
            };
            let (a, b) = (node_of[f.from], node_of[f.to]);
            if let Some(&e) = edge_of.get(&(a, b)) {
                let mark = match kind {
                    ChangeKind::Added => "added",
                    _ => "changed",
                };
                if edges[e] != Some("added") {
                    edges[e] = Some(mark);
                }
            }
        }
        marks.edges = edges;
        marks
    }

    /// The mark of one of NEW's flows.
    pub(super) fn of(&self, plan: &Plan<'_>, f: &Flow) -> Option<ChangeKind> {
        if self.flows.is_empty() {
            return None;
        }
        let protocol = match f.protocol {
            Protocol::Tcp => Transport::Tcp,
            Protocol::Udp => Transport::Udp,
        };
        let ports = PortSpan {
            first: f.ports.start(),
            last: f.ports.end(),
        };
        self.flows
            .get(&(
                plan.from(f).name.clone(),
                plan.to(f).name.clone(),
                protocol,
                ports,
            ))
            .copied()
    }
}

/// `<tr>`'s class and the tag after the destination for a marked flow row.
pub(super) fn row_mark(kind: Option<ChangeKind>) -> (&'static str, &'static str) {
    match kind {
        Some(ChangeKind::Added) => (
            " class=\"diff-added\"",
            " <span class=\"diff-mark added\">added</span>",
        ),
        Some(ChangeKind::Changed) => (
            " class=\"diff-changed\"",
            " <span class=\"diff-mark changed\">changed</span>",
        ),
        _ => ("", ""),
    }
}

/// The note under the diagram: how edges are marked and how many flows were removed.
pub(super) fn diagram_note(out: &mut String, diff: &DiffDocument) {
    let _ = writeln!(
        out,
        "<p class=\"note\">Since {}: thick green arrows hold added flows, orange ones changed \
         flows; {} removed flow{} {} no arrow (listed under <a href=\"#changes\">Changes</a>).</p>",
        esc(&diff.old.label),
        diff.summary.removed,
        if diff.summary.removed == 1 { "" } else { "s" },
        if diff.summary.removed == 1 {
            "has"
        } else {
            "have"
        },
    );
}

/// The section.
pub(super) fn section(out: &mut String, diff: &DiffDocument) {
    let _ = writeln!(out, "<style>\n{STYLE}</style>");
    let _ = writeln!(
        out,
        "<section id=\"changes\">\n<h2>Changes since {}</h2>",
        esc(&diff.old.label)
    );
    let _ = writeln!(
        out,
        "<p>{} compared with {}: <strong>{}</strong>.</p>",
        esc(&diff.new.label),
        esc(&diff.old.label),
        esc(&summary_line(diff))
    );
    let header = header_lines(diff);
    if !header.is_empty() {
        out.push_str("<ul>\n");
        for (m, text) in header {
            let _ = writeln!(out, "<li><code>{}</code> {}</li>", esc(m), esc(&text));
        }
        out.push_str("</ul>\n");
    }
    let mut shown = 0usize;
    for b in &diff.boundaries {
        if shown >= MAX_ROWS {
            break;
        }
        let title = if b.from_zone == b.to_zone {
            format!("{} (inside the zone)", esc(&b.from_zone))
        } else {
            format!("{} → {}", esc(&b.from_zone), esc(&b.to_zone))
        };
        let _ = writeln!(out, "<h3>{title}</h3>");
        out.push_str(
            "<div class=\"table-wrap\"><table class=\"changes\">\n<thead><tr><th>Change</th>\
             <th>From</th><th>To</th><th>Protocol</th><th>Ports</th><th>Service</th>\
             <th>Catalog</th><th class=\"purpose\">Purpose</th><th>Reference</th></tr></thead>\n<tbody>\n",
        );
        for p in &b.pairs {
            let host = |e: &rdsports_schema::diff::Endpoint| match &e.address {
                Some(a) => format!(
                    "{} <span class=\"note mono\">{}</span>",
                    esc(&e.name),
                    esc(a)
                ),
                None => esc(&e.name),
            };
            for c in &p.changes {
                if shown >= MAX_ROWS {
                    break;
                }
                shown += 1;
                let kind = match c.change {
                    ChangeKind::Added => "added",
                    ChangeKind::Removed => "removed",
                    ChangeKind::Changed => "changed",
                };
                let _ = writeln!(
                    out,
                    "<tr class=\"diff-{kind}\"><td>{kind}</td><td>{}</td><td>{}</td><td>{}</td>\
                     <td class=\"mono\">{}</td><td>{}</td><td>{}</td><td class=\"purpose\">{}</td>\
                     <td>{}</td></tr>",
                    host(&p.from),
                    host(&p.to),
                    c.protocol,
                    esc(&ports_cell(c)),
                    esc(&c.service),
                    esc(&ids_cell(c)),
                    esc(&c.purpose),
                    esc(&references(&c.references)),
                );
            }
        }
        out.push_str("</tbody></table></div>\n");
    }
    let total = diff.summary.added + diff.summary.removed + diff.summary.changed;
    if total > shown {
        let _ = writeln!(
            out,
            "<p class=\"note\">The first {shown} changes are listed; {} more are not. \
             <code>rdsports diff {} {} --format csv</code> lists every one.</p>",
            total - shown,
            esc(&diff.old.label),
            esc(&diff.new.label)
        );
    }
    out.push_str("</section>\n");
}
