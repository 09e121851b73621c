//! A diff of two plans ([`rdsports_schema::diff::DiffDocument`]) as a table, JSON, Markdown
//! or the CSV of a firewall change request.
//!
//! The table and Markdown group the flow changes by zone boundary, then by host pair (with
//! the hosts' addresses), one row per flow: `+` added, `-` removed, `~` changed (its ports
//! or catalog entries written `old->new`). The CSV has one row per firewall action, with the
//! columns change tickets use: a changed flow whose ports moved is a `remove` of the old
//! ports and an `add` of the new ones; a flow whose catalog entries alone changed needs no
//! action and has no row.

use std::fmt::Write as _;

use rdsports_core::text::one_line;
use rdsports_schema::diff::{
    ChangeKind, DiffDocument, DiffHost, Endpoint, FlowChange, Reference, RuleChanges,
};

use crate::Format;
use crate::plan::md;
use crate::table::Columns;

/// Renders `doc` in `format`; tables fit `width` columns where they can.
pub fn render(doc: &DiffDocument, format: Format, width: usize) -> String {
    match format {
        Format::Json => {
            let mut s = serde_json::to_string_pretty(doc).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::Csv => csv(doc),
        Format::Table => table(doc, width),
        Format::Markdown => markdown(doc),
    }
}

/// `12 flows added, 0 removed, 2 changed` (or `no flow changed`).
pub fn summary_line(doc: &DiffDocument) -> String {
    let s = doc.summary;
    if s.added + s.removed + s.changed == 0 {
        return "no flow changed".to_owned();
    }
    format!(
        "{} flow{} added, {} removed, {} changed",
        s.added,
        if s.added == 1 { "" } else { "s" },
        s.removed,
        s.changed
    )
}

/// The header's lines (hosts, zones, options, notes), each without a marker: `("+", text)`.
pub fn header_lines(doc: &DiffDocument) -> Vec<(&'static str, String)> {
    let h = &doc.header;
    let host = |x: &DiffHost| {
        let mut s = format!("host {}", x.name);
        if let Some(a) = &x.address {
            let _ = write!(s, " {a}");
        }
        let _ = write!(s, " in {}", x.zone);
        if let Some(roles) = &x.roles {
            let _ = write!(s, ": {}", roles.join(", "));
        }
        if let Some(settings) = x.settings.as_ref().filter(|m| !m.is_empty()) {
            let set: Vec<String> = settings.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            let _ = write!(s, " ({})", set.join(", "));
        }
        s
    };
    let mut lines = Vec::new();
    for z in &h.zones_added {
        lines.push(("+", format!("zone {z}")));
    }
    for z in &h.zones_removed {
        lines.push(("-", format!("zone {z}")));
    }
    for x in &h.hosts_added {
        lines.push(("+", host(x)));
    }
    for x in &h.hosts_removed {
        lines.push(("-", host(x)));
    }
    for c in &h.hosts_changed {
        let mut parts = Vec::new();
        if c.old.address != c.new.address
            && let (Some(a), Some(b)) = (&c.old.address, &c.new.address)
        {
            parts.push(format!("address {a}->{b}"));
        }
        if c.old.zone != c.new.zone {
            parts.push(format!("zone {}->{}", c.old.zone, c.new.zone));
        }
        if c.old.roles != c.new.roles
            && let (Some(a), Some(b)) = (&c.old.roles, &c.new.roles)
        {
            let gained: Vec<&str> = b
                .iter()
                .filter(|r| !a.contains(r))
                .map(String::as_str)
                .collect();
            let lost: Vec<&str> = a
                .iter()
                .filter(|r| !b.contains(r))
                .map(String::as_str)
                .collect();
            if !gained.is_empty() {
                parts.push(format!("roles +{}", gained.join(", +")));
            }
            if !lost.is_empty() {
                parts.push(format!("roles -{}", lost.join(", -")));
            }
        }
        if c.old.settings != c.new.settings
            && let (Some(a), Some(b)) = (&c.old.settings, &c.new.settings)
        {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let value = |m: &std::collections::BTreeMap<String, String>| {
                    m.get(k).cloned().unwrap_or_else(|| "(options)".to_owned())
                };
                if a.get(k) != b.get(k) {
                    parts.push(format!("{k} {}->{}", value(a), value(b)));
                }
            }
        }
        lines.push(("~", format!("host {}: {}", c.name, parts.join("; "))));
    }
    for o in &h.options_changed {
        lines.push(("~", format!("option {}: {}->{}", o.key, o.old, o.new)));
    }
    for n in &h.notes {
        lines.push(("note:", n.clone()));
    }
    lines
}

/// `+`, `-` or `~`.
pub fn marker(kind: ChangeKind) -> &'static str {
    match kind {
        ChangeKind::Added => "+",
        ChangeKind::Removed => "-",
        ChangeKind::Changed => "~",
    }
}

/// The ports of a change: `443`, or `3389->3390` when a changed flow's ports moved.
pub fn ports_cell(c: &FlowChange) -> String {
    match &c.old {
        Some(o) if o.ports != c.ports => format!("{}->{}", o.ports, c.ports),
        _ => c.ports.to_string(),
    }
}

/// The catalog ids of a change: `S14,D02`, or `S18->S18,D01` when a changed flow's entries
/// differ.
pub fn ids_cell(c: &FlowChange) -> String {
    let now = c.catalog_ids.join(",");
    match &c.old {
        Some(o) if o.catalog_ids != c.catalog_ids => format!("{}->{now}", o.catalog_ids.join(",")),
        _ => now,
    }
}

/// `S24 (seed line 41); S25 (seed line 42)`.
pub fn references(refs: &[Reference]) -> String {
    refs.iter()
        .map(Reference::text)
        .collect::<Vec<_>>()
        .join("; ")
}

fn endpoint(e: &Endpoint) -> String {
    match &e.address {
        Some(a) => format!("{} ({a})", e.name),
        None => e.name.clone(),
    }
}

fn boundary_heading(from: &str, to: &str) -> String {
    if from == to {
        format!("{from} (inside the zone)")
    } else {
        format!("{from} -> {to}")
    }
}

fn title(doc: &DiffDocument) -> String {
    let name = if doc.old.deployment == doc.new.deployment {
        doc.new.deployment.clone()
    } else {
        format!("{} -> {}", doc.old.deployment, doc.new.deployment)
    };
    let mut scope = String::new();
    if let Some(h) = &doc.scope.host {
        let _ = write!(scope, ", host {h}");
    }
    if let Some([a, b]) = &doc.scope.boundary {
        let _ = write!(scope, ", boundary {a}:{b}");
    }
    format!(
        "{name}: {} -> {}{scope}",
        one_line(&doc.old.label),
        one_line(&doc.new.label)
    )
}

const HEADERS: [&str; 6] = ["", "PROTO", "PORTS", "SERVICE", "ID", "PURPOSE"];

fn row(c: &FlowChange) -> [String; 6] {
    [
        marker(c.change).to_owned(),
        c.protocol.to_string(),
        ports_cell(c),
        one_line(&c.service).into_owned(),
        one_line(&ids_cell(c)).into_owned(),
        one_line(&c.purpose).into_owned(),
    ]
}

fn table(doc: &DiffDocument, width: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", title(doc));
    let _ = writeln!(out, "{}", summary_line(doc));
    let header = header_lines(doc);
    if !header.is_empty() {
        out.push('\n');
        for (m, text) in header {
            // Long lines (notes) wrap under their first word, within the width.
            let indent = 3 + m.chars().count();
            let mut line = format!("  {m}");
            for word in one_line(&text).split(' ') {
                let len = line.chars().count();
                if len > indent && len + 1 + word.chars().count() > width.max(40) {
                    let _ = writeln!(out, "{line}");
                    line = " ".repeat(indent - 1);
                }
                line.push(' ');
                line.push_str(word);
            }
            let _ = writeln!(out, "{line}");
        }
    }
    for b in &doc.boundaries {
        out.push('\n');
        let _ = writeln!(
            out,
            "{}",
            one_line(&boundary_heading(&b.from_zone, &b.to_zone))
        );
        let mut columns = Columns::new(&HEADERS, true);
        for p in &b.pairs {
            for c in &p.changes {
                columns.measure(&row(c));
            }
        }
        let mut rows = columns.rows(width, 4);
        let mut bytes = Vec::new();
        let _ = rows.write(&mut bytes, &HEADERS);
        for p in &b.pairs {
            let _ = std::io::Write::write_fmt(
                &mut bytes,
                format_args!(
                    "  {} -> {}\n",
                    one_line(&endpoint(&p.from)),
                    one_line(&endpoint(&p.to))
                ),
            );
            for c in &p.changes {
                let _ = rows.write(&mut bytes, &row(c));
            }
        }
        out.push_str(&String::from_utf8_lossy(&bytes));
    }
    if let Some(rules) = &doc.rules {
        out.push('\n');
        let mut line = String::new();
        for word in rules_heading(rules, str::to_owned).split(' ') {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width.max(40) {
                let _ = writeln!(out, "{line}");
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        let _ = writeln!(out, "{line}");
        for f in &rules.files {
            for (what, text) in [("remove", &f.remove), ("add", &f.add)] {
                if let Some(text) = text {
                    let _ = writeln!(out, "\n===== {}: rules to {what} =====", one_line(&f.file));
                    out.push_str(text);
                    if !text.ends_with('\n') {
                        out.push('\n');
                    }
                }
            }
        }
    }
    out
}

/// `Rules for nftables: 2 to remove, 3 to add.` and what the blocks are (the target as
/// `text` writes it: plain, or escaped for Markdown).
fn rules_heading(rules: &RuleChanges, text: fn(&str) -> String) -> String {
    let t = text(&one_line(&rules.target));
    if rules.files.is_empty() {
        return format!(
            "Rules for {t}: no rule to remove or add (what the rules allow is the same)."
        );
    }
    format!(
        "Rules for {t}: of the deployment's aggregated rules, {} removed and {} added \
         ({t} writes those its firewalls see). Each block below is the file `rules --target \
         {t}` writes, for those rules alone and without the final drop: review them, then \
         load the new side's full `rules` output (these documents replace what they manage).",
        rules.removed, rules.added,
    )
}

/// The info string of a fenced block of file `name` (by its extension).
fn fence_language(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "ps1" => "powershell",
        "cmd" => "bat",
        "nft" => "nft",
        "json" => "json",
        "yaml" | "pol" => "yaml",
        "sh" => "sh",
        _ => "text",
    }
}

/// A fence longer than any run of backticks in `text`.
fn fence(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat((longest + 1).max(3))
}

fn markdown(doc: &DiffDocument) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Changes: {}\n", md(&title(doc)));
    let _ = writeln!(out, "**{}**\n", summary_line(doc));
    let header = header_lines(doc);
    if !header.is_empty() {
        out.push_str("## Hosts, zones and options\n\n");
        for (m, text) in header {
            let m = match m {
                "+" => "added",
                "-" => "removed",
                "~" => "changed",
                _ => "note",
            };
            let _ = writeln!(out, "- {m}: {}", md(&text));
        }
        out.push('\n');
    }
    for b in &doc.boundaries {
        let _ = writeln!(
            out,
            "## {}\n",
            md(&boundary_heading(&b.from_zone, &b.to_zone))
        );
        out.push_str(
            "| | from | to | protocol | ports | service | catalog | purpose | reference |\n",
        );
        out.push_str("|---|---|---|---|---|---|---|---|---|\n");
        for p in &b.pairs {
            for c in &p.changes {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    match c.change {
                        ChangeKind::Added => "added",
                        ChangeKind::Removed => "removed",
                        ChangeKind::Changed => "changed",
                    },
                    md(&endpoint(&p.from)),
                    md(&endpoint(&p.to)),
                    c.protocol,
                    md(&ports_cell(c)),
                    md(&c.service),
                    md(&ids_cell(c)),
                    md(&c.purpose),
                    md(&references(&c.references)),
                );
            }
        }
        out.push('\n');
    }
    if let Some(rules) = &doc.rules {
        let _ = writeln!(out, "## Rules for {}\n", md(&rules.target));
        let _ = writeln!(out, "{}\n", rules_heading(rules, md));
        for f in &rules.files {
            let _ = writeln!(out, "### {}\n", md(&f.file));
            for (what, text) in [("remove", &f.remove), ("add", &f.add)] {
                if let Some(text) = text {
                    let fence = fence(text);
                    let _ = writeln!(out, "Rules to {what}:\n");
                    let _ = writeln!(out, "{fence}{}", fence_language(&f.file));
                    out.push_str(text);
                    if !text.ends_with('\n') {
                        out.push('\n');
                    }
                    let _ = writeln!(out, "{fence}\n");
                }
            }
        }
    }
    out
}

/// The CSV columns of a change request.
const CSV_HEADERS: [&str; 10] = [
    "action",
    "source",
    "source_address",
    "destination",
    "destination_address",
    "protocol",
    "ports",
    "service",
    "justification",
    "reference",
];

fn csv(doc: &DiffDocument) -> String {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(CSV_HEADERS);
    for b in &doc.boundaries {
        for p in &b.pairs {
            for c in &p.changes {
                let mut actions: Vec<(&str, String, String, String)> = Vec::new();
                let now = (c.ports.to_string(), c.service.clone(), c.purpose.clone());
                match (&c.change, &c.old) {
                    (ChangeKind::Added, _) => actions.push(("add", now.0, now.1, now.2)),
                    (ChangeKind::Removed, _) => actions.push(("remove", now.0, now.1, now.2)),
                    (ChangeKind::Changed, Some(o)) if o.ports != c.ports => {
                        actions.push((
                            "remove",
                            o.ports.to_string(),
                            o.service.clone(),
                            o.purpose.clone(),
                        ));
                        actions.push(("add", now.0, now.1, now.2));
                    }
                    (ChangeKind::Changed, _) => {}
                }
                let reference = references(&c.references);
                for (action, ports, service, purpose) in actions {
                    let _ = w.write_record([
                        action,
                        &p.from.name,
                        p.from.address.as_deref().unwrap_or(""),
                        &p.to.name,
                        p.to.address.as_deref().unwrap_or(""),
                        &c.protocol.to_string(),
                        &ports,
                        &service,
                        &purpose,
                        &reference,
                    ]);
                }
            }
        }
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use rdsports_schema::diff::{
        DIFF_SCHEMA_VERSION, DiffHeader, DiffScope, DiffSide, DiffSummary, RuleFile, SideKind,
    };

    use super::*;

    fn doc(files: Vec<RuleFile>) -> DiffDocument {
        let side = |label: &str| DiffSide {
            label: label.into(),
            deployment: "c".into(),
            kind: SideKind::Deployment,
        };
        DiffDocument {
            schema_version: DIFF_SCHEMA_VERSION,
            old: side("old.toml"),
            new: side("new.toml"),
            scope: DiffScope::default(),
            header: DiffHeader::default(),
            summary: DiffSummary::default(),
            boundaries: Vec::new(),
            rules: Some(RuleChanges {
                target: "windows".into(),
                removed: 1,
                added: 0,
                files: files.clone(),
            }),
        }
    }

    #[test]
    fn a_block_with_backticks_gets_a_longer_fence_and_its_language() {
        // PowerShell escapes with backticks: a run of three must not close the block.
        let text = "Write-Host ```a`` b\n";
        let d = doc(vec![RuleFile {
            file: "sh01.ps1".into(),
            remove: Some(text.into()),
            add: None,
        }]);
        let md = render(&d, Format::Markdown, 80);
        assert!(
            md.contains(
                "### sh01.ps1\n\nRules to remove:\n\n````powershell\nWrite-Host ```a`` b\n````\n"
            ),
            "{md}"
        );
        assert!(!md.contains("Rules to add"));
        let table = render(&d, Format::Table, 80);
        assert!(table.contains("\n===== sh01.ps1: rules to remove =====\nWrite-Host ```a`` b\n"));
        assert!(table.lines().all(|l| l.chars().count() <= 80), "{table}");
        // CSV: flows only.
        assert_eq!(
            render(&d, Format::Csv, 80),
            render(&DiffDocument { rules: None, ..d }, Format::Csv, 80)
        );
    }

    #[test]
    fn no_rule_change_says_so() {
        let table = render(&doc(Vec::new()), Format::Table, 80);
        assert!(table.ends_with(
            "\nRules for windows: no rule to remove or add (what the rules allow is the same).\n"
        ));
    }
}
