//! The self-contained HTML report (`rdsports report`): one HTML5 file with inline CSS, the
//! inline SVG diagram and a few lines of optional JavaScript, no external assets, so it works
//! offline, in light and dark colour schemes, and prints.
//!
//! Sections: a summary (deployment, counts, check verdicts), the diagram
//! ([`crate::diagram`]), the hosts, the flow matrix grouped by zone boundary with purposes,
//! catalog ids and (with check results) the verdicts of the matching probes, the catalog entries behind the flows with the seed document's lines, the Windows rules
//! per host (ready to copy), check results coloured by verdict with their details, the
//! firewall audits ([`crate::audit`]), and every warning.
//!
//! This module does not generate firewall rules or run checks: the caller hands it the
//! PowerShell scripts and the parsed `rdsports check --format json` documents
//! (`rdsports_schema::check::CheckDocument::parse`). The page holds no timestamps: the same input gives the same
//! bytes. Every piece of text from the deployment, the rules or the check files is escaped;
//! element ids are generated from indices, never from names.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hasher};

use rdsports_core::plan::Plan;
use rdsports_core::{Flow, PortRange, Protocol};
use serde_json::{Map, Value};

use rdsports_schema::check::{CheckDocument, CheckRecord, Status, UdpSilence, VERDICTS};

use crate::check::explain;
use crate::diagram::{Graph, escape_xml as esc};
use crate::ports::seed_line;

mod changes;

const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");
/// Longest text shown for one value of a check result's details.
const DETAIL_MAX: usize = 400;

/// Everything the report shows.
#[derive(Debug, Clone)]
pub struct ReportInput<'a> {
    /// The plan.
    pub plan: &'a Plan<'a>,
    /// The deployment's and the plan's warnings as sentences, shown as given.
    pub warnings: &'a [String],
    /// (host name, PowerShell script) for every host with Windows firewall rules, in the
    /// order to show them.
    pub windows_rules: Vec<(String, String)>,
    /// Parsed check result documents, one per `--check` file ([`CheckDocument::parse`]).
    pub checks: Vec<CheckDocument>,
    /// The findings of `rdsports lint`, most severe first (accepted ones carry a reason).
    pub lint: Vec<LintRow>,
    /// A fleet run's status per host (`report --check-dir`), every host of the inventory.
    pub fleet: Option<rdsports_schema::fleet::FleetSummary>,
    /// Results of `rdsports audit --format json` (`report --audit`), in the order given.
    pub audits: Vec<crate::audit::AuditFile>,
    /// The diff of an older version of the deployment against this one (`report --diff`):
    /// the "Changes since OLD" section and the marks on the flow matrix and the diagram.
    pub diff: Option<rdsports_schema::diff::DiffDocument>,
}

/// One finding of `rdsports lint`, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintRow {
    /// `critical`, `high`, `medium` or `low`.
    pub severity: String,
    /// The finding id (`rdp-from-internet`).
    pub id: String,
    /// One line.
    pub title: String,
    /// Where (`perimeter -> internal`, `dc01 tcp/88`).
    pub subject: String,
    /// The hosts concerned, as one text.
    pub hosts: String,
    /// What to do.
    pub fix: String,
    /// The first public source.
    pub source_url: String,
    /// `file:line` of the deployment line that causes it.
    pub location: Option<String>,
    /// The reason of the acceptance, when the finding is accepted.
    pub accepted: Option<String>,
}

/// Renders the report as one HTML5 document.
pub fn render(input: &ReportInput<'_>) -> String {
    let plan = input.plan;
    let d = plan.deployment;
    let graph = Graph::new(plan);
    let checks = CheckIndex::new(&input.checks);
    let marks = input
        .diff
        .as_ref()
        .map(|d| changes::Marks::new(plan, &graph, d));
    let mut out = String::with_capacity(64 * 1024 + plan.flows.len() * 400);

    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"color-scheme\" content=\"light dark\">\n");
    let _ = writeln!(
        out,
        "<meta name=\"generator\" content=\"rdsports {}\">",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(out, "<title>RDS flows of {}</title>", esc(&d.name));
    let _ = writeln!(out, "<style>\n{CSS}</style>\n</head>\n<body>");

    // Header and navigation.
    let _ = writeln!(
        out,
        "<header>\n<h1>RDS network flows of <span class=\"deployment\">{}</span></h1>",
        esc(&d.name)
    );
    let _ = writeln!(
        out,
        "<p class=\"sub\">Report by rdsports {}: the flows this Remote Desktop Services deployment needs, from the built-in catalog.</p>",
        env!("CARGO_PKG_VERSION")
    );
    out.push_str("<nav><ul><li><a href=\"#summary\">Summary</a></li>");
    if input.diff.is_some() {
        out.push_str("<li><a href=\"#changes\">Changes</a></li>");
    }
    out.push_str(
        "<li><a href=\"#diagram\">Diagram</a></li>\
         <li><a href=\"#hosts\">Hosts</a></li><li><a href=\"#flows\">Flows</a></li>\
         <li><a href=\"#catalog\">Catalog references</a></li><li><a href=\"#rules\">Windows rules</a></li>\
         <li><a href=\"#checks\">Check results</a></li><li><a href=\"#audit\">Firewall audit</a></li><li><a href=\"#lint\">Lint</a></li><li><a href=\"#warnings\">Warnings</a></li></ul></nav>\n</header>\n<main>\n",
    );

    summary(&mut out, input, &graph);
    if let Some(diff) = &input.diff {
        changes::section(&mut out, diff);
    }

    out.push_str("<section id=\"diagram\">\n<h2>Diagram</h2>\n");
    out.push_str(
        "<p class=\"note\">Hosts of one zone with the same roles share a box. Solid arrows cross a zone boundary, dashed ones stay inside a zone; the numbers refer to the list under the drawing.</p>\n",
    );
    out.push_str("<div class=\"diagram\">\n");
    match &marks {
        Some(m) => out.push_str(&graph.svg_marked(&m.edges)),
        None => out.push_str(&graph.svg()),
    }
    out.push_str("</div>\n");
    if let Some(diff) = &input.diff {
        changes::diagram_note(&mut out, diff);
    }
    out.push_str("</section>\n");

    hosts(&mut out, plan);
    flows(
        &mut out,
        plan,
        &graph,
        &checks,
        !input.checks.is_empty(),
        marks.as_ref(),
    );
    catalog(&mut out, plan);
    rules(&mut out, &input.windows_rules);
    check_results(&mut out, input);
    crate::audit::section(&mut out, &input.audits);
    lint(&mut out, &input.lint);

    out.push_str("<section id=\"warnings\">\n<h2>Warnings</h2>\n");
    if input.warnings.is_empty() {
        out.push_str("<p class=\"note\">No warnings.</p>\n");
    } else {
        out.push_str("<ul class=\"warnings\">\n");
        for w in input.warnings {
            let _ = writeln!(out, "<li>{}</li>", esc(w));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n</main>\n");
    let _ = writeln!(out, "<script>\n{JS}</script>\n</body>\n</html>");
    out
}

/// Check results by (from host, to host, protocol), for matching them with flows.
struct CheckIndex<'c> {
    by_path: BTreeMap<(&'c str, &'c str, &'c str), Vec<&'c CheckRecord>>,
}

impl<'c> CheckIndex<'c> {
    fn new(checks: &'c [CheckDocument]) -> Self {
        let mut by_path: BTreeMap<(&str, &str, &str), Vec<&CheckRecord>> = BTreeMap::new();
        for file in checks {
            for r in &file.results {
                by_path
                    .entry((file.from.as_str(), r.to.as_str(), r.protocol.as_str()))
                    .or_default()
                    .push(r);
            }
        }
        CheckIndex { by_path }
    }

    /// The results that probed `flow` (its hosts, protocol and a port of its range).
    fn of(&self, plan: &Plan<'_>, flow: &Flow) -> Vec<&'c CheckRecord> {
        let key = (
            plan.from(flow).name.as_str(),
            plan.to(flow).name.as_str(),
            flow.protocol.name(),
        );
        self.by_path.get(&key).map_or_else(Vec::new, |rs| {
            rs.iter()
                .filter(|r| flow.ports.contains(r.port))
                .copied()
                .collect()
        })
    }
}

/// The planned (from, to, protocol) paths and their ports, for the hosts checks ran from.
type Planned<'p> = BTreeMap<(&'p str, &'p str, &'static str), Vec<PortRange>>;

fn planned_from<'p>(plan: &Plan<'p>, checks: &[CheckDocument]) -> Planned<'p> {
    let sources: BTreeSet<&str> = checks.iter().map(|c| c.from.as_str()).collect();
    let mut planned: Planned<'p> = BTreeMap::new();
    for f in &plan.flows {
        let from = plan.from(f).name.as_str();
        if sources.contains(from) {
            planned
                .entry((from, plan.to(f).name.as_str(), f.protocol.name()))
                .or_default()
                .push(f.ports);
        }
    }
    planned
}

/// CSS class of a verdict.
fn verdict_class(v: &str) -> &'static str {
    match v {
        "open" => "v-open",
        "refused" => "v-refused",
        "closed" => "v-closed",
        "filtered" => "v-filtered",
        "open|filtered" => "v-unknown",
        _ => "v-other",
    }
}

fn row_class(v: &str) -> &'static str {
    match v {
        "open" => "v-row-open",
        "refused" => "v-row-refused",
        "closed" => "v-row-closed",
        "filtered" => "v-row-filtered",
        "open|filtered" => "v-row-unknown",
        _ => "v-row-other",
    }
}

fn badge(verdict: &str, count: Option<usize>) -> String {
    match count {
        Some(n) => format!(
            "<span class=\"badge {}\">{} {n}</span>",
            verdict_class(verdict),
            esc(verdict)
        ),
        None => format!(
            "<span class=\"badge {}\">{}</span>",
            verdict_class(verdict),
            esc(verdict)
        ),
    }
}

/// A red "N wrong service(s)" badge, or nothing for none.
fn wrong_badge(n: usize) -> String {
    if n == 0 {
        return String::new();
    }
    format!(
        "<span class=\"badge v-refused\">{n} wrong service{}</span> ",
        plural(n)
    )
}

/// A badge counting certificates clients will refuse (nothing when there are none).
fn certificate_badge(n: usize) -> String {
    if n == 0 {
        return String::new();
    }
    format!(
        "<span class=\"badge v-refused\">{n} certificate{} refused by clients</span> ",
        plural(n)
    )
}

/// Verdict counts over every result, known verdicts first.
fn verdict_counts<'c>(results: impl Iterator<Item = &'c CheckRecord>) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in results {
        *counts.entry(r.verdict.as_str()).or_default() += 1;
    }
    let mut out: Vec<(String, usize)> = VERDICTS
        .iter()
        .filter_map(|v| counts.remove(v).map(|n| ((*v).to_owned(), n)))
        .collect();
    out.extend(counts.into_iter().map(|(v, n)| (v.to_owned(), n)));
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn summary(out: &mut String, input: &ReportInput<'_>, graph: &Graph) {
    let plan = input.plan;
    let d = plan.deployment;
    // Flows come sorted by zone pair: a pair is looked up once per run, not once per flow.
    let mut boundaries: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut crossing = 0;
    let mut last = None;
    for f in &plan.flows {
        let pair = (d.hosts[f.from].zone, d.hosts[f.to].zone);
        if pair.0 != pair.1 {
            crossing += 1;
            if last != Some(pair) {
                boundaries.insert(pair);
                last = Some(pair);
            }
        }
    }
    let results: usize = input.checks.iter().map(|c| c.results.len()).sum();
    out.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n<dl class=\"stats\">\n");
    let stats: [(&str, String); 9] = [
        ("Deployment", esc(&d.name)),
        ("Hosts", d.hosts.len().to_string()),
        ("Zones", d.zones.len().to_string()),
        ("Flows", plan.flows.len().to_string()),
        ("Cross-zone flows", crossing.to_string()),
        ("Zone boundaries", boundaries.len().to_string()),
        ("Diagram nodes", graph.nodes.len().to_string()),
        ("Warnings", input.warnings.len().to_string()),
        ("Checks", results.to_string()),
    ];
    for (k, v) in stats {
        let _ = writeln!(out, "<div><dt>{k}</dt><dd>{v}</dd></div>");
    }
    out.push_str("</dl>\n");
    if results > 0 {
        out.push_str("<p class=\"verdicts\">");
        for (v, n) in verdict_counts(input.checks.iter().flat_map(|c| &c.results)) {
            out.push_str(&badge(&v, Some(n)));
            out.push(' ');
        }
        let wrong: usize = input.checks.iter().map(|c| c.findings.wrong_service).sum();
        out.push_str(&wrong_badge(wrong));
        let refused: usize = input
            .checks
            .iter()
            .map(|c| c.findings.certificate_refused)
            .sum();
        out.push_str(&certificate_badge(refused));
        out.push_str("</p>\n");
    }
    for (k, a) in input.audits.iter().enumerate() {
        let _ = writeln!(
            out,
            "<p class=\"verdicts\"><a href=\"#audit-{k}\">Audit of the {} rule set</a>: {}</p>",
            a.audit.platform.name(),
            crate::audit::badges(&a.audit)
        );
    }
    if !boundaries.is_empty() {
        out.push_str("<p>Zone boundaries crossed: ");
        let list: Vec<String> = boundaries
            .iter()
            .map(|&(a, b)| {
                let name = |z: usize| d.zones.get(z).map_or("", |z| z.name.as_str());
                format!("{} → {}", esc(name(a)), esc(name(b)))
            })
            .collect();
        out.push_str(&list.join(", "));
        out.push_str(".</p>\n");
    }
    out.push_str("</section>\n");
}

fn hosts(out: &mut String, plan: &Plan<'_>) {
    let d = plan.deployment;
    let mut out_flows = vec![0usize; d.hosts.len()];
    let mut in_flows = vec![0usize; d.hosts.len()];
    for f in &plan.flows {
        if let Some(n) = out_flows.get_mut(f.from) {
            *n += 1;
        }
        if let Some(n) = in_flows.get_mut(f.to) {
            *n += 1;
        }
    }
    out.push_str("<section id=\"hosts\">\n<h2>Hosts</h2>\n<div class=\"table-wrap\"><table class=\"hosts\">\n");
    out.push_str("<thead><tr><th>Host</th><th>Address</th><th>Zone</th><th>Roles</th><th class=\"num\">Flows out</th><th class=\"num\">Flows in</th></tr></thead>\n<tbody>\n");
    for (i, h) in d.hosts.iter().enumerate() {
        let roles: Vec<String> = h
            .roles
            .iter()
            .map(|r| {
                if h.implied_roles.contains(r) {
                    format!("{} <span class=\"tag\">by default</span>", r.name())
                } else {
                    r.name().to_owned()
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "<tr data-host=\"{i}\"><td class=\"host\">{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&h.name),
            esc(&if h.is_single() {
                h.address.addr().to_string()
            } else {
                h.address.to_string()
            }),
            esc(d.zones.get(h.zone).map_or("", |z| z.name.as_str())),
            roles.join(", "),
            out_flows.get(i).copied().unwrap_or(0),
            in_flows.get(i).copied().unwrap_or(0),
        );
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

/// (source zone, destination zone) and the flows between them with their plan indices.
type Boundary<'p> = ((usize, usize), Vec<(usize, &'p Flow)>);

/// Above this many flows the matrix folds the hosts of one diagram node into one row per
/// (node, node, protocol, ports, catalog entry), saying how many flows each row stands for:
/// a farm of thousands of hosts plans millions of flows, too many for a page.
pub const FOLD_FLOWS_ABOVE: usize = 10_000;

fn flows(
    out: &mut String,
    plan: &Plan<'_>,
    graph: &Graph,
    checks: &CheckIndex<'_>,
    with_checks: bool,
    marks: Option<&changes::Marks>,
) {
    let d = plan.deployment;
    out.push_str("<section id=\"flows\">\n<h2>Flows by zone boundary</h2>\n");
    if plan.flows.is_empty() {
        out.push_str("<p class=\"note\">The plan has no flows.</p>\n</section>\n");
        return;
    }
    if plan.flows.len() > FOLD_FLOWS_ABOVE {
        folded_flows(out, plan, graph, checks, with_checks);
        out.push_str("</section>\n");
        return;
    }
    // Flows are sorted by (source zone, destination zone): consecutive runs are the groups.
    let mut groups: Vec<Boundary<'_>> = Vec::new();
    for (i, f) in plan.flows.iter().enumerate() {
        let key = (plan.from(f).zone, plan.to(f).zone);
        match groups.last_mut() {
            Some((k, v)) if *k == key => v.push((i, f)),
            _ => groups.push((key, vec![(i, f)])),
        }
    }
    let catalog_index: BTreeMap<&str, usize> = plan
        .catalog
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id.as_str(), i))
        .collect();
    for (g, ((a, b), group)) in groups.iter().enumerate() {
        let name = |z: usize| d.zones.get(z).map_or("", |z| z.name.as_str());
        let n = group.len();
        let title = if a == b {
            format!("{} (inside the zone)", esc(name(*a)))
        } else {
            format!("{} → {}", esc(name(*a)), esc(name(*b)))
        };
        let _ = writeln!(
            out,
            "<h3 id=\"boundary-{g}\">{title} <span class=\"note\">{n} flow{}</span></h3>",
            plural(n)
        );
        out.push_str("<div class=\"table-wrap\"><table class=\"flows\">\n<thead><tr><th>From</th><th>To</th><th>Protocol</th><th>Ports</th><th>Service</th><th class=\"purpose\">Purpose</th><th>Catalog</th>");
        if with_checks {
            out.push_str("<th>Check</th>");
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for &(i, f) in group {
            let r = crate::plan::record(plan, f);
            let ids: Vec<String> = r
                .catalog_ids
                .iter()
                .map(|id| match catalog_index.get(id.as_ref()) {
                    // The seed lines are quoted once, in the catalog section the id links to.
                    Some(e) => format!("<a href=\"#cat-{e}\">{}</a>", esc(id)),
                    None => esc(id),
                })
                .collect();
            let (class, tag) = changes::row_mark(marks.and_then(|m| m.of(plan, f)));
            let _ = write!(
                out,
                "<tr data-flow=\"{i}\"{class}><td class=\"from\">{}</td><td class=\"to\">{}{tag}</td><td class=\"proto\">{}</td><td class=\"ports mono\">{}</td><td class=\"service\">{}</td><td class=\"purpose\">{}</td><td class=\"ids\">{}</td>",
                esc(&r.from),
                esc(&r.to),
                r.protocol,
                esc(&r.ports.to_string()),
                esc(&r.service),
                esc(&r.purpose),
                ids.join(", "),
            );
            if with_checks {
                let found = checks.of(plan, f);
                out.push_str("<td class=\"check\">");
                if found.is_empty() {
                    out.push_str("<span class=\"note\">not checked</span>");
                } else {
                    let counts = verdict_counts(found.into_iter());
                    let single = counts.len() == 1 && counts.first().is_some_and(|c| c.1 == 1);
                    for (v, n) in counts {
                        out.push_str(&badge(&v, (!single).then_some(n)));
                        out.push(' ');
                    }
                }
                out.push_str("</td>");
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table></div>\n");
    }
    out.push_str("</section>\n");
}

/// The flow matrix of a large plan: hosts of one diagram node share a row.
fn folded_flows(
    out: &mut String,
    plan: &Plan<'_>,
    graph: &Graph,
    checks: &CheckIndex<'_>,
    with_checks: bool,
) {
    let d = plan.deployment;
    let mut node_of = vec![0usize; d.hosts.len()];
    for (n, node) in graph.nodes.iter().enumerate() {
        for &h in &node.hosts {
            if let Some(slot) = node_of.get_mut(h) {
                *slot = n;
            }
        }
    }
    let _ = writeln!(
        out,
        "<p class=\"note\">This plan has {} flows: hosts with the same roles in the same zone \
         share a row, as in the diagram, and each row says how many flows it stands for. \
         <code>rdsports plan --format csv</code> lists every flow.</p>",
        plan.flows.len()
    );
    // Key: (from zone, to zone, from node, to node, protocol, ports, entry) -> how many
    // flows, and the flows themselves only when check results are matched to them (a plan
    // this size has millions).
    type Key = (usize, usize, usize, usize, Protocol, PortRange, usize);
    let mut by_key: HashMap<Key, (usize, Vec<&Flow>), BuildHasherDefault<Mix>> = HashMap::default();
    for f in &plan.flows {
        let key = (
            d.hosts[f.from].zone,
            d.hosts[f.to].zone,
            node_of.get(f.from).copied().unwrap_or(0),
            node_of.get(f.to).copied().unwrap_or(0),
            f.protocol,
            f.ports,
            f.entry,
        );
        let row = by_key.entry(key).or_default();
        row.0 += 1;
        if with_checks {
            row.1.push(f);
        }
    }
    let mut rows: Vec<(Key, (usize, Vec<&Flow>))> = by_key.into_iter().collect();
    rows.sort_unstable_by_key(|(key, _)| *key);
    let title = |n: usize| {
        graph.nodes.get(n).map_or(String::new(), |node| {
            if node.hosts.len() > 1 {
                format!("{} ({} hosts)", node.title, node.hosts.len())
            } else {
                node.title.clone()
            }
        })
    };
    let mut current: Option<(usize, usize)> = None;
    for ((za, zb, na, nb, proto, ports, entry), (n, flows)) in &rows {
        if current != Some((*za, *zb)) {
            if current.is_some() {
                out.push_str("</tbody></table></div>\n");
            }
            current = Some((*za, *zb));
            let name = |z: usize| d.zones.get(z).map_or("", |z| z.name.as_str());
            let _ = writeln!(out, "<h3>{} → {}</h3>", esc(name(*za)), esc(name(*zb)));
            out.push_str("<div class=\"table-wrap\"><table class=\"flows\">\n<thead><tr><th>From</th><th>To</th><th>Protocol</th><th>Ports</th><th>Service</th><th class=\"purpose\">Purpose</th><th>Catalog</th><th>Flows</th>");
            if with_checks {
                out.push_str("<th>Check</th>");
            }
            out.push_str("</tr></thead>\n<tbody>\n");
        }
        let e = plan.catalog.entries.get(*entry);
        let _ = write!(
            out,
            "<tr><td class=\"from\">{}</td><td class=\"to\">{}</td><td class=\"proto\">{}</td><td class=\"ports mono\">{}</td><td class=\"service\">{}</td><td class=\"purpose\">{}</td><td class=\"ids\"><a href=\"#cat-{entry}\">{}</a></td><td>{}</td>",
            esc(&title(*na)),
            esc(&title(*nb)),
            proto.name(),
            esc(&ports.to_string()),
            esc(e.map_or("", |e| e.service.as_str())),
            esc(e.map_or("", |e| e.purpose.as_str())),
            esc(e.map_or("", |e| e.id.as_str())),
            n,
        );
        if with_checks {
            let found: Vec<&CheckRecord> = flows.iter().flat_map(|f| checks.of(plan, f)).collect();
            out.push_str("<td class=\"check\">");
            if found.is_empty() {
                out.push_str("<span class=\"note\">not checked</span>");
            } else {
                for (v, n) in verdict_counts(found.into_iter()) {
                    out.push_str(&badge(&v, Some(n)));
                    out.push(' ');
                }
            }
            out.push_str("</td>");
        }
        out.push_str("</tr>\n");
    }
    if current.is_some() {
        out.push_str("</tbody></table></div>\n");
    }
}

/// A fast hash of small integer keys (the folded matrix hashes one key per flow; the
/// standard hasher resists attacks this input does not need to).
#[derive(Default)]
struct Mix(u64);

impl Hasher for Mix {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.write_u64(u64::from(n));
    }

    fn write_u16(&mut self, n: u16) {
        self.write_u64(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

fn catalog(out: &mut String, plan: &Plan<'_>) {
    let mut is_used = vec![false; plan.catalog.entries.len()];
    for f in &plan.flows {
        for &e in std::iter::once(&f.entry).chain(f.also.iter()) {
            if let Some(u) = is_used.get_mut(e) {
                *u = true;
            }
        }
    }
    let used = (0..is_used.len()).filter(|&e| is_used[e]);
    out.push_str("<section id=\"catalog\">\n<h2>Catalog references</h2>\n");
    out.push_str("<p class=\"note\">The catalog entries behind the flows, with the lines of the seed document “RDS 2012: Which ports are used during deployment?” they come from.</p>\n");
    out.push_str("<div class=\"table-wrap\"><table class=\"catalog\">\n<thead><tr><th>Id</th><th>Service</th><th>Purpose</th><th>Source</th></tr></thead>\n<tbody>\n");
    for i in used {
        let Some(e) = plan.catalog.entries.get(i) else {
            continue;
        };
        let mut source = String::new();
        if let Some(section) = &e.source.section {
            let _ = write!(source, "<div>Seed section “{}”</div>", esc(section));
        }
        for l in &e.source.seed_lines {
            let _ = write!(
                source,
                "<blockquote><span class=\"note\">line {l}:</span> {}</blockquote>",
                esc(&seed_line(*l))
            );
        }
        if let Some(reference) = &e.source.reference {
            let _ = write!(source, "<div>Reference: {}</div>", esc(reference));
        }
        let _ = writeln!(
            out,
            "<tr id=\"cat-{i}\"><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td>{source}</td></tr>",
            esc(&e.id),
            esc(&e.service),
            esc(&e.purpose),
        );
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

fn rules(out: &mut String, windows_rules: &[(String, String)]) {
    out.push_str("<section id=\"rules\">\n<h2>Windows firewall rules per host</h2>\n");
    if windows_rules.is_empty() {
        out.push_str("<p class=\"note\">This report holds no Windows rules.</p>\n</section>\n");
        return;
    }
    out.push_str("<p class=\"note\">PowerShell for Windows Defender Firewall, to run on each host as an administrator. Open a host to see its script.</p>\n");
    for (i, (host, script)) in windows_rules.iter().enumerate() {
        let lines = script.lines().count();
        let _ = writeln!(
            out,
            "<details data-rules=\"{i}\"><summary>{} <span class=\"note\">{lines} line{}</span></summary><div class=\"rules\"><button type=\"button\" class=\"copy\" data-copy=\"rules-{i}\" hidden>Copy</button><pre id=\"rules-{i}\"><code>{}</code></pre></div></details>",
            esc(host),
            plural(lines),
            esc(script)
        );
    }
    out.push_str("</section>\n");
}

/// Every host of a fleet run: ok, blocked, not run or refused.
fn fleet_status(out: &mut String, s: &rdsports_schema::fleet::FleetSummary) {
    use rdsports_schema::fleet::FleetStatus as Status;
    let _ = writeln!(
        out,
        "<h3 id=\"fleet\">Fleet: {} hosts</h3>\n<p class=\"verdicts\"><span class=\"badge v-open\">ok {}</span> <span class=\"badge v-refused\">blocked {}</span> <span class=\"badge v-filtered\">not run {}</span> <span class=\"badge v-other\">refused {}</span></p>",
        s.hosts.len(),
        s.summary.ok,
        s.summary.blocked,
        s.summary.not_run,
        s.summary.refused
    );
    out.push_str("<table class=\"fleet\">\n<thead><tr><th>host</th><th>status</th><th>results</th><th>blocked</th><th>detail</th></tr></thead>\n<tbody>\n");
    for h in &s.hosts {
        let class = match h.status {
            Status::Ok => "v-open",
            Status::Blocked => "v-refused",
            Status::NotRun => "v-filtered",
            Status::Refused => "v-other",
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td><span class=\"badge {class}\">{}</span></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&h.host),
            esc(h.status.label()),
            h.results,
            h.blocked,
            esc(h.detail.as_deref().unwrap_or_default())
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

/// The rows of the lint section from `rdsports lint`'s document: open findings, then the
/// accepted ones; locations as `file:line` of the deployment file named `file`.
pub fn lint_rows(doc: &rdsports_schema::lint::LintDocument, file: &str) -> Vec<LintRow> {
    doc.findings
        .iter()
        .chain(&doc.accepted)
        .map(|f| {
            let mut hosts = f.hosts.join(", ");
            if f.hosts_total > f.hosts.len() {
                let _ = write!(hosts, " and {} more", f.hosts_total - f.hosts.len());
            }
            LintRow {
                severity: f.severity.name().to_owned(),
                id: f.id.clone(),
                title: f.title.clone(),
                subject: f.subject.clone(),
                hosts,
                fix: f.fix.split_whitespace().collect::<Vec<_>>().join(" "),
                source_url: f.sources.first().map(|s| s.url.clone()).unwrap_or_default(),
                location: f.location.map(|l| format!("{file}:{}", l.line)),
                accepted: f.reason.clone(),
            }
        })
        .collect()
}

/// The lint section: open findings, then accepted ones with their reasons.
fn lint(out: &mut String, rows: &[LintRow]) {
    out.push_str("<section id=\"lint\">\n<h2>Lint</h2>\n");
    let open = rows.iter().filter(|r| r.accepted.is_none()).count();
    let _ = writeln!(
        out,
        "<p class=\"note\">{open} finding{} of <code>rdsports lint</code>, {} accepted in the deployment file. <code>rdsports lint --explain ID</code> gives the rationale and sources.</p>",
        plural(open),
        rows.len() - open
    );
    if rows.is_empty() {
        out.push_str("</section>\n");
        return;
    }
    out.push_str("<table class=\"lint\">\n<thead><tr><th>severity</th><th>id</th><th>where</th><th>hosts</th><th>what to do</th></tr></thead>\n<tbody>\n");
    for r in rows {
        let class = match (r.accepted.is_some(), r.severity.as_str()) {
            (true, _) => "v-other",
            (false, "critical" | "high") => "v-refused",
            (false, "medium") => "v-filtered",
            _ => "v-unknown",
        };
        let _ = write!(
            out,
            "<tr><td><span class=\"badge {class}\">{}</span></td><td><code>{}</code><br>{}</td><td>{}",
            esc(&r.severity),
            esc(&r.id),
            esc(&r.title),
            esc(&r.subject)
        );
        if let Some(l) = &r.location {
            let _ = write!(out, "<br><span class=\"note\">{}</span>", esc(l));
        }
        let _ = write!(out, "</td><td>{}</td><td>", esc(&r.hosts));
        match &r.accepted {
            Some(reason) => {
                let _ = write!(out, "<strong>accepted:</strong> {}", esc(reason));
            }
            None => {
                let _ = write!(
                    out,
                    "{} <a href=\"{}\">source</a>",
                    esc(&r.fix),
                    esc(&r.source_url)
                );
            }
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody>\n</table>\n</section>\n");
}

fn check_results(out: &mut String, input: &ReportInput<'_>) {
    let plan = input.plan;
    out.push_str("<section id=\"checks\">\n<h2>Check results</h2>\n");
    if let Some(fleet) = &input.fleet {
        fleet_status(out, fleet);
    }
    if input.checks.is_empty() {
        out.push_str("<p class=\"note\">No check results were given (run <code>rdsports check --format json</code> on a host and pass the file with <code>--check</code>).</p>\n</section>\n");
        return;
    }
    let planned = planned_from(plan, &input.checks);
    for (k, file) in input.checks.iter().enumerate() {
        let known = plan.deployment.host_index(&file.from).is_some();
        let _ = write!(out, "<h3 id=\"check-{k}\">From {}", esc(&file.from));
        if !known {
            out.push_str(" <span class=\"tag\">not a host of this deployment</span>");
        }
        out.push_str("</h3>\n<p class=\"verdicts\">");
        for (v, n) in verdict_counts(file.results.iter()) {
            out.push_str(&badge(&v, Some(n)));
            out.push(' ');
        }
        out.push_str(&wrong_badge(file.findings.wrong_service));
        out.push_str(&certificate_badge(file.findings.certificate_refused));
        let planned_from = plan
            .flows
            .iter()
            .filter(|f| plan.from(f).name == file.from)
            .count();
        let _ = writeln!(
            out,
            "<span class=\"note\">{} result{}; the plan has {planned_from} flow{} from this host</span></p>",
            file.results.len(),
            plural(file.results.len()),
            plural(planned_from)
        );
        out.push_str("<div class=\"table-wrap\"><table class=\"checks\">\n<thead><tr><th>To</th><th>Address</th><th>Protocol</th><th class=\"num\">Port</th><th>Verdict</th><th>Service (expected)</th><th>Catalog</th><th class=\"num\">RTT ms</th><th>What it means</th><th>Details</th></tr></thead>\n<tbody>\n");
        for (j, r) in file.results.iter().enumerate() {
            let service = match (&r.service, &r.expected_service) {
                (Some(s), Some(x)) if s == x => esc(s),
                (Some(s), Some(x)) => format!("{} (expected {})", esc(s), esc(x)),
                (Some(s), None) => esc(s),
                (None, Some(x)) => format!("– (expected {})", esc(x)),
                (None, None) => String::new(),
            };
            let rtt = r.rtt_ms.map_or_else(String::new, |v| format!("{v:.1}"));
            let status = file.status(r, UdpSilence::Warn);
            let (row, verdict) = if status == Status::WrongService {
                (
                    "v-row-refused",
                    format!(
                        "{} <span class=\"badge v-refused\">wrong service</span>",
                        badge(r.verdict.as_str(), None)
                    ),
                )
            } else if status == Status::CertificateRefused {
                (
                    "v-row-refused",
                    format!(
                        "{} <span class=\"badge v-refused\">certificate refused</span>",
                        badge(r.verdict.as_str(), None)
                    ),
                )
            } else {
                (
                    row_class(r.verdict.as_str()),
                    badge(r.verdict.as_str(), None),
                )
            };
            let service = match (&r.service, r.service_matches) {
                (None, Some(false)) => format!(
                    "unknown (expected {})",
                    esc(r.expected_service.as_deref().unwrap_or("?"))
                ),
                (Some(s), Some(false)) => format!(
                    "{} (expected {})",
                    esc(s),
                    esc(r.expected_service.as_deref().unwrap_or("?"))
                ),
                _ => service,
            };
            let mut to = esc(&r.to);
            let is_planned = planned
                .get(&(file.from.as_str(), r.to.as_str(), r.protocol.as_str()))
                .is_some_and(|ports| ports.iter().any(|p| p.contains(r.port)));
            if !is_planned {
                to.push_str(" <span class=\"tag\">not planned</span>");
            }
            let _ = writeln!(
                out,
                "<tr class=\"{}\" data-check=\"{k}-{j}\"><td>{to}</td><td class=\"mono\">{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{service}</td><td class=\"mono\">{}</td><td class=\"num\">{rtt}</td><td>{}</td><td>{}</td></tr>",
                row,
                esc(&r.address),
                esc(&r.protocol),
                r.port,
                verdict,
                esc(r.catalog_id.as_deref().unwrap_or("")),
                esc(&explain(r)),
                detail(&r.detail),
            );
        }
        out.push_str("</tbody></table></div>\n");
        if !file.not_probed.is_empty() {
            let _ = writeln!(out, "<p>Not probed from {}:</p>", esc(&file.from));
            out.push_str("<div class=\"table-wrap\"><table class=\"not-probed\">\n<thead><tr><th>To</th><th>Protocol</th><th>Ports</th><th>Catalog</th><th>Why</th></tr></thead>\n<tbody>\n");
            for n in &file.not_probed {
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
                    esc(&n.to),
                    esc(&n.protocol),
                    esc(&n.ports),
                    esc(n.catalog_id.as_deref().unwrap_or("")),
                    esc(&n.reason),
                );
            }
            out.push_str("</tbody></table></div>\n");
        }
    }
    out.push_str("</section>\n");
}

/// A result's details as a list of `name: value` (long values cut).
fn detail(map: &Map<String, Value>) -> String {
    if map.is_empty() {
        return String::new();
    }
    let mut s = String::from("<ul class=\"detail\">");
    for (k, v) in map {
        let text = match v {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        let _ = write!(
            s,
            "<li><code>{}</code>: {}</li>",
            esc(k),
            esc(&crate::diagram::fit(&text, DETAIL_MAX))
        );
    }
    s.push_str("</ul>");
    s
}

#[cfg(test)]
mod tests;
