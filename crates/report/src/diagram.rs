//! Network diagrams of a plan: Graphviz DOT, Mermaid and a self-drawn SVG.
//!
//! Every format is drawn from one pure graph model ([`Graph`]): zones become clusters, hosts
//! with the same roles in the same zone fold into one node (so a farm of 200 session hosts is
//! one node with a count) unless a host sets its own ports (`rdp_port` ...), and the flows between two nodes fold into one edge labelled with
//! its protocols and ports ("tcp 135, 445, 49152-65535; udp 3389").
//!
//! The SVG layout is our own and deterministic: zones are columns in file order, nodes stack
//! inside them, edges are curves with arrowheads whose labels are placed where they overlap
//! no node and no other label (a numbered legend below the drawing holds every full label).
//! No Graphviz is needed. Nothing here reads files or the clock: the same plan always gives
//! the same bytes. Zones without hosts are left out of every format.
//!
//! All text is escaped for its format; node and cluster identifiers are generated (`n0`,
//! `z0`), never taken from host or zone names.

mod svg;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::str::FromStr;

use rdsports_core::plan::Plan;
use rdsports_core::{HostOptions, PortRange, Protocol, Role};

/// The diagram formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagramFormat {
    /// Graphviz DOT (`dot -Tsvg`), zones as `subgraph cluster_*`.
    Dot,
    /// A Mermaid flowchart, zones as `subgraph`.
    Mermaid,
    /// A standalone SVG drawn by rdsports.
    Svg,
}

impl DiagramFormat {
    /// Every format.
    pub const ALL: [DiagramFormat; 3] = [
        DiagramFormat::Dot,
        DiagramFormat::Mermaid,
        DiagramFormat::Svg,
    ];

    /// `dot`, `mermaid` or `svg`.
    pub fn name(self) -> &'static str {
        match self {
            DiagramFormat::Dot => "dot",
            DiagramFormat::Mermaid => "mermaid",
            DiagramFormat::Svg => "svg",
        }
    }
}

impl FromStr for DiagramFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        DiagramFormat::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| format!("unknown diagram format \"{s}\" (expected dot, mermaid or svg)"))
    }
}

/// Renders the diagram of `plan` in `format`.
pub fn render(plan: &Plan<'_>, format: DiagramFormat) -> String {
    let graph = Graph::new(plan);
    match format {
        DiagramFormat::Dot => graph.dot(),
        DiagramFormat::Mermaid => graph.mermaid(),
        DiagramFormat::Svg => graph.svg(),
    }
}

/// Longest node text line, in characters, before it is cut with "…".
const NODE_LINE_MAX: usize = 30;
/// Longest edge label in DOT and Mermaid before ports are left out (" …+N").
const LABEL_MAX: usize = 96;
/// Width at which DOT and Mermaid labels wrap.
const LABEL_WRAP: usize = 32;
/// At most this many host names in a node's tooltip.
const TOOLTIP_HOSTS: usize = 50;

/// The diagram's graph: zones, folded nodes and folded edges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    /// Deployment name.
    pub name: String,
    /// Zones that hold at least one host, in file order.
    pub clusters: Vec<Cluster>,
    /// Nodes, ordered by zone and then by their first host in file order. A node's id is
    /// `n` followed by its index here.
    pub nodes: Vec<Node>,
    /// Edges, ordered by source node and destination node. An edge's number in labels and
    /// the legend is its index here plus one.
    pub edges: Vec<Edge>,
}

/// A zone of the diagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// Zone name.
    pub name: String,
    /// The zone's networks, as text.
    pub networks: Vec<String>,
    /// Indices into [`Graph::nodes`], in order.
    pub nodes: Vec<usize>,
}

/// Hosts of one zone that have the same roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Index into [`Graph::clusters`].
    pub cluster: usize,
    /// The shared roles (given and implied), sorted.
    pub roles: Vec<Role>,
    /// Indices of the hosts in the deployment, in file order (never empty).
    pub hosts: Vec<usize>,
    /// First line: the host name, up to three names, or "first … last".
    pub title: String,
    /// Second line: role labels ("RDG + RDWA"), preceded by "N × " for several hosts.
    pub subtitle: String,
    /// Every host name (the first 50 and a count of the rest), for tooltips.
    pub tooltip: String,
}

/// Every flow from the hosts of one node to the hosts of another (or of the same) node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// Source node index.
    pub from: usize,
    /// Destination node index (equal to `from` for flows between hosts of one node).
    pub to: usize,
    /// Distinct (protocol, ports), sorted.
    pub ports: Vec<(Protocol, PortRange)>,
    /// Distinct service names, sorted.
    pub services: Vec<String>,
    /// How many planned flows the edge stands for.
    pub flows: usize,
    /// Whether the edge leaves its zone.
    pub crosses: bool,
}

impl Graph {
    /// Builds the graph of `plan`.
    pub fn new(plan: &Plan<'_>) -> Graph {
        let d = plan.deployment;
        // Group hosts by (zone, roles, per-host options), remembering the first host of each
        // group: a session host on an RDP port of its own is a node of its own, never folded
        // into hosts on another port.
        let mut group_of: BTreeMap<(usize, &[Role], HostOptions), usize> = BTreeMap::new();
        let mut groups: Vec<(usize, Vec<Role>, Vec<usize>)> = Vec::new();
        let mut host_group: Vec<usize> = Vec::with_capacity(d.hosts.len());
        for (i, h) in d.hosts.iter().enumerate() {
            let g = *group_of
                .entry((h.zone, h.roles.as_slice(), d.options_for(i)))
                .or_insert_with(|| {
                    groups.push((h.zone, h.roles.clone(), Vec::new()));
                    groups.len() - 1
                });
            if let Some(group) = groups.get_mut(g) {
                group.2.push(i);
            }
            host_group.push(g);
        }
        // Order groups by zone, then first host (groups are created in first-host order).
        let mut order: Vec<usize> = (0..groups.len()).collect();
        order.sort_by_key(|&g| groups.get(g).map(|x| x.0));
        let mut node_of_group = vec![0; groups.len()];
        for (n, &g) in order.iter().enumerate() {
            if let Some(slot) = node_of_group.get_mut(g) {
                *slot = n;
            }
        }

        let mut clusters: Vec<Cluster> = Vec::new();
        let mut cluster_of_zone: BTreeMap<usize, usize> = BTreeMap::new();
        let mut nodes: Vec<Node> = Vec::with_capacity(groups.len());
        for &g in &order {
            let Some((zone, roles, hosts)) = groups.get(g) else {
                continue;
            };
            let cluster = *cluster_of_zone.entry(*zone).or_insert_with(|| {
                let z = d.zones.get(*zone);
                clusters.push(Cluster {
                    name: z.map_or_else(String::new, |z| z.name.clone()),
                    networks: z.map_or_else(Vec::new, |z| {
                        z.networks.iter().map(ToString::to_string).collect()
                    }),
                    nodes: Vec::new(),
                });
                clusters.len() - 1
            });
            if let Some(c) = clusters.get_mut(cluster) {
                c.nodes.push(nodes.len());
            }
            let names: Vec<&str> = hosts
                .iter()
                .filter_map(|&h| d.hosts.get(h).map(|h| h.name.as_str()))
                .collect();
            nodes.push(Node {
                cluster,
                roles: roles.clone(),
                hosts: hosts.clone(),
                title: fit(&names_line(&names), NODE_LINE_MAX),
                subtitle: fit(&roles_line(roles, names.len()), NODE_LINE_MAX),
                tooltip: tooltip(&names),
            });
        }

        struct Acc {
            ports: BTreeSet<(Protocol, PortRange)>,
            /// Catalog entries (their services, sorted and without repeats, at the end).
            entries: BTreeSet<usize>,
            flows: usize,
        }
        // Per (node, node): the index of its accumulator. Consecutive flows mostly share a
        // pair of nodes, so the last one is tried first.
        let mut index: BTreeMap<(usize, usize), usize> = BTreeMap::new();
        let mut acc: Vec<Acc> = Vec::new();
        let mut last: Option<((usize, usize), usize)> = None;
        for f in &plan.flows {
            let node = |h: usize| {
                host_group
                    .get(h)
                    .and_then(|&g| node_of_group.get(g))
                    .copied()
            };
            let (Some(a), Some(b)) = (node(f.from), node(f.to)) else {
                continue;
            };
            let i = match last {
                Some((key, i)) if key == (a, b) => i,
                _ => {
                    let i = *index.entry((a, b)).or_insert_with(|| {
                        acc.push(Acc {
                            ports: BTreeSet::new(),
                            entries: BTreeSet::new(),
                            flows: 0,
                        });
                        acc.len() - 1
                    });
                    last = Some(((a, b), i));
                    i
                }
            };
            let a = &mut acc[i];
            a.ports.insert((f.protocol, f.ports));
            a.entries.insert(f.entry);
            a.flows += 1;
        }
        let service = |e: usize| plan.catalog.entries[e].service.as_str();
        let edges = index
            .into_iter()
            .map(|((from, to), i)| {
                let a = &acc[i];
                let services: BTreeSet<&str> = a.entries.iter().map(|&e| service(e)).collect();
                Edge {
                    from,
                    to,
                    ports: a.ports.iter().copied().collect(),
                    services: services.into_iter().map(str::to_owned).collect(),
                    flows: a.flows,
                    crosses: nodes.get(from).map(|n| n.cluster) != nodes.get(to).map(|n| n.cluster),
                }
            })
            .collect();
        Graph {
            name: d.name.clone(),
            clusters,
            nodes,
            edges,
        }
    }

    /// Graphviz DOT.
    pub fn dot(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "digraph {} {{", dot_str(&self.name));
        out.push_str(
            "  graph [rankdir=LR, newrank=true, nodesep=0.35, ranksep=1.4, fontname=\"Helvetica\", fontsize=12];\n  \
             node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", color=\"#555555\", fontname=\"Helvetica\", fontsize=11];\n  \
             edge [fontname=\"Helvetica\", fontsize=9, color=\"#2563eb\", fontcolor=\"#1e40af\"];\n",
        );
        for (c, cluster) in self.clusters.iter().enumerate() {
            let _ = writeln!(out, "  subgraph \"cluster_{c}\" {{");
            let _ = writeln!(out, "    label={};", dot_str(&cluster.name));
            out.push_str(
                "    style=\"rounded,filled\"; fillcolor=\"#f3f4f6\"; color=\"#9ca3af\";\n",
            );
            for &n in &cluster.nodes {
                if let Some(node) = self.nodes.get(n) {
                    let _ = writeln!(
                        out,
                        "    \"n{n}\" [label={}, tooltip={}];",
                        dot_str(&format!("{}\n{}", node.title, node.subtitle)),
                        dot_str(&node.tooltip)
                    );
                }
            }
            out.push_str("  }\n");
        }
        for e in &self.edges {
            let label = wrap(&e.label_within(LABEL_MAX), LABEL_WRAP).join("\n");
            let _ = write!(
                out,
                "  \"n{}\" -> \"n{}\" [label={}, tooltip={}",
                e.from,
                e.to,
                dot_str(&label),
                dot_str(&self.edge_tooltip(e))
            );
            if !e.crosses {
                out.push_str(", color=\"#6b7280\", fontcolor=\"#374151\"");
            }
            out.push_str("];\n");
        }
        out.push_str("}\n");
        out
    }

    /// A Mermaid flowchart.
    pub fn mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for (c, cluster) in self.clusters.iter().enumerate() {
            let _ = writeln!(out, "  subgraph z{c}[\"{}\"]", mermaid_text(&cluster.name));
            out.push_str("    direction TB\n");
            for &n in &cluster.nodes {
                if let Some(node) = self.nodes.get(n) {
                    let _ = writeln!(
                        out,
                        "    n{n}[\"{}<br/>{}\"]",
                        mermaid_text(&node.title),
                        mermaid_text(&node.subtitle)
                    );
                }
            }
            out.push_str("  end\n");
        }
        let mut inner = Vec::new();
        for (i, e) in self.edges.iter().enumerate() {
            let label: Vec<String> = wrap(&e.label_within(LABEL_MAX), LABEL_WRAP)
                .iter()
                .map(|l| mermaid_text(l))
                .collect();
            let _ = writeln!(
                out,
                "  n{} -->|\"{}\"| n{}",
                e.from,
                label.join("<br/>"),
                e.to
            );
            if !e.crosses {
                inner.push(i.to_string());
            }
        }
        out.push_str("  classDef default fill:#ffffff,stroke:#555555\n");
        if !inner.is_empty() {
            let _ = writeln!(out, "  linkStyle {} stroke:#6b7280", inner.join(","));
        }
        out
    }

    /// A standalone SVG document (also valid inline in HTML).
    pub fn svg(&self) -> String {
        svg::render(self, &[])
    }

    /// [`Graph::svg`] with edge `i` given the extra class `rd-{marks[i]}` (`rd-added`,
    /// `rd-changed`: the report's changes since an older deployment).
    pub fn svg_marked(&self, marks: &[Option<&'static str>]) -> String {
        svg::render(self, marks)
    }

    /// "gw01 → dc01: tcp 88, 135 (12 flows: kerberos, ldap)".
    pub fn edge_tooltip(&self, e: &Edge) -> String {
        let title = |n: usize| self.nodes.get(n).map_or("", |n| n.title.as_str());
        format!(
            "{} → {}: {} ({} flow{}: {})",
            title(e.from),
            title(e.to),
            e.label(),
            e.flows,
            if e.flows == 1 { "" } else { "s" },
            e.services.join(", ")
        )
    }
}

impl Edge {
    /// Every port: "tcp 135, 445, 49152-65535; udp 3389".
    pub fn label(&self) -> String {
        self.label_within(usize::MAX)
    }

    /// The label cut to at most `max` characters: ports that do not fit are left out and
    /// counted (" …+3"). Deterministic: the first ports in (protocol, port) order are kept.
    pub fn label_within(&self, max: usize) -> String {
        let total = self.ports.len();
        let mut out = String::new();
        let mut len = 0;
        let mut shown = 0;
        let mut last: Option<Protocol> = None;
        for &(proto, range) in &self.ports {
            let piece = match last {
                None => format!("{proto} {range}"),
                Some(p) if p == proto => format!(", {range}"),
                Some(_) => format!("; {proto} {range}"),
            };
            let rest = total - shown - 1;
            let suffix = if rest == 0 {
                0
            } else {
                format!(" …+{rest}").chars().count()
            };
            let n = piece.chars().count();
            if len + n + suffix > max {
                break;
            }
            out.push_str(&piece);
            len += n;
            shown += 1;
            last = Some(proto);
        }
        if shown < total {
            if !out.is_empty() {
                out.push(' ');
            }
            let _ = write!(out, "…+{}", total - shown);
        }
        out
    }
}

/// "sh01", "cb01, cb02", "sh001 … sh200".
fn names_line(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [a] => (*a).to_owned(),
        [a, b] => format!("{a}, {b}"),
        [a, b, c] => format!("{a}, {b}, {c}"),
        [a, .., z] => format!("{a} … {z}"),
    }
}

/// "RDG + RDWA", "200 × RDSH".
fn roles_line(roles: &[Role], hosts: usize) -> String {
    let labels: Vec<&str> = roles.iter().map(|r| r.label()).collect();
    let labels = if labels.is_empty() {
        "no role".to_owned()
    } else {
        labels.join(" + ")
    };
    if hosts > 1 {
        format!("{hosts} × {labels}")
    } else {
        labels
    }
}

fn tooltip(names: &[&str]) -> String {
    let mut s = names
        .iter()
        .take(TOOLTIP_HOSTS)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > TOOLTIP_HOSTS {
        let _ = write!(s, " and {} more", names.len() - TOOLTIP_HOSTS);
    }
    s
}

/// `text` cut to `max` characters with a trailing "…".
pub(crate) fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// Breaks a label into lines of at most `width` characters after ", " and "; " (a piece
/// longer than `width` gets a line of its own).
fn wrap(label: &str, width: usize) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut chars = label.chars().peekable();
    while let Some(c) = chars.next() {
        cur.push(c);
        if (c == ',' || c == ';') && chars.peek() == Some(&' ') {
            chars.next();
            cur.push(' ');
            pieces.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        pieces.push(cur);
    }
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for p in pieces {
        if !line.is_empty() && line.chars().count() + p.trim_end().chars().count() > width {
            lines.push(line.trim_end().to_owned());
            line.clear();
        }
        line.push_str(&p);
    }
    if !line.trim_end().is_empty() {
        lines.push(line.trim_end().to_owned());
    }
    lines
}

/// A DOT double-quoted string. Backslashes are doubled so that names such as `\N` stay
/// literal; newlines become `\n` (centred lines).
fn dot_str(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push('"');
    for c in text.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            c if c.is_control() => s.push('\u{fffd}'),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// Text for a quoted Mermaid label: characters Mermaid or HTML would interpret become
/// Mermaid entity codes (`#34;`), which Mermaid turns into HTML character references.
fn mermaid_text(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' | '#' | '&' | '<' | '>' | '|' | '`' | '%' | '\\' => {
                let _ = write!(s, "#{};", u32::from(c));
            }
            c if c.is_control() => s.push('\u{fffd}'),
            c => s.push(c),
        }
    }
    s
}

/// Escapes text for XML and HTML content and double-quoted attributes. Characters XML 1.0
/// forbids (controls other than tab, newline and carriage return, U+FFFE, U+FFFF) become
/// U+FFFD.
pub(crate) fn escape_xml(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&#39;"),
            '\t' | '\n' | '\r' => s.push(c),
            c if c.is_control() || c == '\u{fffe}' || c == '\u{ffff}' => s.push('\u{fffd}'),
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests;
