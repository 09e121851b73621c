//! The audit section of the HTML report (`rdsports report --audit RESULT.json`): the
//! document of `rdsports audit --format json` (`rdsports_schema::audit`) rendered as missing
//! flows (with the deciding rule and the fix), undecided ones, rules that allow more than the
//! plan (worst first), shadowed and redundant rules, unused ones and what the reader did not
//! understand.

pub mod text;

use std::fmt::Write as _;

use rdsports_schema::audit::{Audit, DeadRule, Described, FlowResult, Status, TooBroad};

use crate::diagram::escape_xml as esc;

/// Most rows one table of the section shows; the rest are counted, and the JSON holds them.
pub const ROWS_MAX: usize = 1000;

/// An audit result and the file it was read from (shown in the report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFile {
    /// The file's name.
    pub file: String,
    /// The result, read with [`Audit::parse`].
    pub audit: Audit,
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A rule as `text` over its location.
fn rule_cell(r: &Described) -> String {
    format!(
        "<code>{}</code><br><span class=\"note\">{}</span>",
        esc(&r.text),
        esc(&r.location)
    )
}

/// "and N more (the JSON lists them)" under a table cut at [`ROWS_MAX`].
fn more(out: &mut String, total: usize) {
    if total > ROWS_MAX {
        let _ = writeln!(
            out,
            "<p class=\"note\">… and {} more, not shown (the audit's JSON holds them all).</p>",
            total - ROWS_MAX
        );
    }
}

/// Badges of one audit: flows by verdict and the rule findings.
pub fn badges(a: &Audit) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<span class=\"badge v-open\">allowed {}</span> <span class=\"badge v-refused\">missing {}</span> <span class=\"badge v-filtered\">possible {}</span> <span class=\"badge v-unknown\">too broad {}</span> <span class=\"badge v-other\">shadowed {}</span> <span class=\"badge v-other\">redundant {}</span> <span class=\"badge v-other\">unused {}</span>",
        a.counts.allowed,
        a.counts.missing,
        a.counts.possible,
        a.too_broad.len(),
        a.shadowed.len(),
        a.redundant.len(),
        a.unused.len()
    );
    s
}

/// The "Firewall audit" section for `audits` (one part per result file).
pub fn section(out: &mut String, audits: &[AuditFile]) {
    out.push_str("<section id=\"audit\">\n<h2>Firewall audit</h2>\n");
    if audits.is_empty() {
        out.push_str("<p class=\"note\">No audit results were given (run <code>rdsports audit --rules EXPORT --format json &gt; RESULT.json</code> and pass the file with <code>--audit</code>).</p>\n</section>\n");
        return;
    }
    for (k, AuditFile { file, audit: a }) in audits.iter().enumerate() {
        let _ = writeln!(
            out,
            "<h3 id=\"audit-{k}\">{} rule set, {} rule{} <span class=\"tag\">{}</span></h3>",
            a.platform.name(),
            a.rules,
            plural(a.rules),
            esc(file)
        );
        let _ = writeln!(
            out,
            "<p>{}: {} planned flow{}. <span class=\"note\">How it decides: {}.</span></p>",
            esc(&a.scope),
            a.counts.flows,
            plural(a.counts.flows),
            esc(&a.semantics)
        );
        let _ = writeln!(out, "<p class=\"verdicts\">{}</p>", badges(a));
        missing(out, k, a);
        possible(out, a);
        too_broad(out, a);
        dead(out, a);
        unused(out, a);
        if !a.notes.is_empty() {
            let _ = writeln!(
                out,
                "<h4>Not understood ({})</h4>\n<ul class=\"warnings\">",
                a.notes.len()
            );
            for n in a.notes.iter().take(ROWS_MAX) {
                let _ = writeln!(
                    out,
                    "<li>{} <span class=\"note\">{}</span></li>",
                    esc(&n.message),
                    esc(&n.location)
                );
            }
            out.push_str("</ul>\n");
            more(out, a.notes.len());
        }
        rule_texts(out, a);
    }
    out.push_str("</section>\n");
}

/// The rules whose text the tables cut (`...`), in full, folded away.
fn rule_texts(out: &mut String, a: &Audit) {
    if a.rule_texts.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<details class=\"rule-texts\"><summary>Rule texts ({}): the rules cut above (...), in full</summary>\n<dl>",
        a.rule_texts.len()
    );
    for r in a.rule_texts.iter().take(ROWS_MAX) {
        let _ = writeln!(
            out,
            "<dt>{}</dt><dd><pre><code>{}</code></pre></dd>",
            esc(&r.location),
            esc(&r.text)
        );
    }
    out.push_str("</dl></details>\n");
    more(out, a.rule_texts.len());
}

fn missing(out: &mut String, k: usize, a: &Audit) {
    let rows: Vec<&FlowResult> = a
        .flows
        .iter()
        .filter(|f| f.status == Status::Missing)
        .collect();
    let _ = writeln!(out, "<h4>Missing ({})</h4>", a.counts.missing);
    if rows.is_empty() {
        out.push_str("<p class=\"note\">Every planned flow in scope passes.</p>\n");
        return;
    }
    out.push_str("<div class=\"table-wrap\"><table class=\"audit-missing\">\n<thead><tr><th>From</th><th>To</th><th>Protocol</th><th>Ports</th><th>Catalog</th><th>Blocked by</th></tr></thead>\n<tbody>\n");
    for f in rows.iter().take(ROWS_MAX) {
        let mut by = f.rule.as_ref().map(rule_cell).unwrap_or_default();
        if f.partial {
            let _ = write!(
                by,
                "<br><span class=\"tag\">in part</span> {}",
                esc(&f.blocked.join(", "))
            );
        }
        let _ = writeln!(
            out,
            "<tr class=\"v-row-refused\"><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{by}</td></tr>",
            esc(&f.from),
            esc(&f.to),
            esc(&f.protocol),
            esc(&f.ports),
            esc(&f.catalog.join(" "))
        );
    }
    out.push_str("</tbody></table></div>\n");
    more(out, rows.len());
    if let Some(fix) = &a.fix {
        match &fix.error {
            Some(e) => {
                let _ = writeln!(
                    out,
                    "<p class=\"note\">No fix in {} syntax: {}</p>",
                    esc(&fix.target),
                    esc(e)
                );
            }
            None => {
                let lines = fix.rules.lines().count();
                let _ = writeln!(
                    out,
                    "<details data-fix=\"{k}\"><summary>Fix ({}): {} <span class=\"note\">{lines} line{}</span></summary><div class=\"rules\"><button type=\"button\" class=\"copy\" data-copy=\"audit-fix-{k}\" hidden>Copy</button><pre id=\"audit-fix-{k}\"><code>{}</code></pre></div></details>",
                    esc(&fix.target),
                    esc(&fix.placement),
                    plural(lines),
                    esc(&fix.rules)
                );
            }
        }
    }
}

fn possible(out: &mut String, a: &Audit) {
    let rows: Vec<&FlowResult> = a
        .flows
        .iter()
        .filter(|f| f.status == Status::Possible)
        .collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "<h4>Possible ({})</h4>", a.counts.possible);
    out.push_str("<p class=\"note\">The verdict depends on something the export cannot settle; it is never guessed.</p>\n");
    out.push_str("<div class=\"table-wrap\"><table class=\"audit-possible\">\n<thead><tr><th>From</th><th>To</th><th>Protocol</th><th>Ports</th><th>Catalog</th><th>Why</th></tr></thead>\n<tbody>\n");
    for f in rows.iter().take(ROWS_MAX) {
        let _ = writeln!(
            out,
            "<tr class=\"v-row-filtered\"><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
            esc(&f.from),
            esc(&f.to),
            esc(&f.protocol),
            esc(&f.ports),
            esc(&f.catalog.join(" ")),
            esc(f.reason.as_deref().unwrap_or_default())
        );
    }
    out.push_str("</tbody></table></div>\n");
    more(out, rows.len());
}

fn too_broad(out: &mut String, a: &Audit) {
    let _ = writeln!(out, "<h4>Too broad ({})</h4>", a.too_broad.len());
    if a.too_broad.is_empty() {
        out.push_str("<p class=\"note\">No accepting rule allows more than the plan.</p>\n");
        return;
    }
    // Worst first, as the audit wrote them; sorted again by the exact count so that a
    // hand-edited file still reads worst first.
    let mut rows: Vec<&TooBroad> = a.too_broad.iter().collect();
    rows.sort_by_key(|t| std::cmp::Reverse(t.excess));
    out.push_str("<div class=\"table-wrap\"><table class=\"audit-broad\">\n<thead><tr><th>Rule</th><th>Hook</th><th class=\"num\">Tuples beyond the plan</th><th>Largest parts</th></tr></thead>\n<tbody>\n");
    for t in rows.iter().take(ROWS_MAX) {
        let v4 = if t.excess_v4 == 0 || t.excess_v4 == t.excess {
            String::new()
        } else {
            format!("<br><span class=\"note\">IPv4: {}</span>", t.excess_v4)
        };
        let mut parts = String::from("<ul class=\"detail\">");
        for e in &t.examples {
            let _ = write!(parts, "<li class=\"mono\">{}</li>", esc(e));
        }
        if t.pieces > t.examples.len() {
            let _ = write!(
                parts,
                "<li class=\"note\">{} part{} in all</li>",
                t.pieces,
                plural(t.pieces)
            );
        }
        parts.push_str("</ul>");
        let _ = writeln!(
            out,
            "<tr class=\"v-row-unknown\"><td>{}</td><td>{}</td><td class=\"num\">{}{v4}</td><td>{parts}</td></tr>",
            rule_cell(&t.rule),
            t.hook.name(),
            t.excess
        );
    }
    out.push_str("</tbody></table></div>\n");
    more(out, rows.len());
}

fn dead(out: &mut String, a: &Audit) {
    let _ = writeln!(
        out,
        "<h4>Shadowed ({}) and redundant ({})</h4>",
        a.shadowed.len(),
        a.redundant.len()
    );
    if a.shadowed.is_empty() && a.redundant.is_empty() {
        out.push_str("<p class=\"note\">Every rule can match, and each changes a verdict.</p>\n");
        return;
    }
    out.push_str("<div class=\"table-wrap\"><table class=\"audit-dead\">\n<thead><tr><th>Finding</th><th>Chain</th><th>Rule</th><th>Covered by</th></tr></thead>\n<tbody>\n");
    let all: Vec<(&str, &DeadRule)> = a
        .shadowed
        .iter()
        .map(|d| ("shadowed", d))
        .chain(a.redundant.iter().map(|d| ("redundant", d)))
        .collect();
    for (kind, d) in all.iter().take(ROWS_MAX) {
        let by: Vec<String> = d.by.iter().map(rule_cell).collect();
        let _ = writeln!(
            out,
            "<tr><td><span class=\"badge v-other\">{kind}</span></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&d.chain),
            rule_cell(&d.rule),
            by.join("<br>")
        );
    }
    out.push_str("</tbody></table></div>\n");
    more(out, all.len());
}

fn unused(out: &mut String, a: &Audit) {
    let _ = writeln!(out, "<h4>Unused ({})</h4>", a.unused.len());
    if a.unused.is_empty() {
        out.push_str("<p class=\"note\">No accepting rule has a zero hit counter (or the export carries no counters).</p>\n");
        return;
    }
    out.push_str("<div class=\"table-wrap\"><table class=\"audit-unused\">\n<thead><tr><th>Chain</th><th>Rule</th></tr></thead>\n<tbody>\n");
    for u in a.unused.iter().take(ROWS_MAX) {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(&u.chain),
            rule_cell(&u.rule)
        );
    }
    out.push_str("</tbody></table></div>\n");
    more(out, a.unused.len());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(audit: Audit) -> AuditFile {
        AuditFile {
            file: "a.json".into(),
            audit,
        }
    }

    fn doc(flows: &str, extra: &str) -> String {
        format!(
            "{{\"schema_version\": 1, \"deployment\": \"d\", \"platform\": \"nftables\", \
             \"scope\": \"s\", \"rules\": 1, \"counts\": {{\"flows\": 1, \"allowed\": 0, \
             \"missing\": 1, \"possible\": 0}}, \"flows\": [{flows}]{extra}, \"future\": 1}}"
        )
    }

    const FLOW: &str = "{\"from\": \"<a>\", \"to\": \"b&c\", \"protocol\": \"tcp\", \
        \"ports\": \"3389\", \"hook\": \"forward\", \"status\": \"missing\", \"rule\": {\"location\": \"f:1\", \
        \"text\": \"<script>x</script>\"}}";

    #[test]
    fn bad_results_get_clear_errors() {
        let e = Audit::parse("{\n oops").unwrap_err();
        assert!(e.message.contains("line 2, column 2"), "{}", e.message);
        let e = Audit::parse("[]").unwrap_err();
        assert!(e.message.contains("JSON object"));
        let e = Audit::parse("{}").unwrap_err();
        assert!(e.message.contains("no schema_version"));
        let e = Audit::parse("{\"schema_version\": 2}").unwrap_err();
        assert!(e.message.contains("schema_version 2 is not supported"));
        assert!(e.hint.contains("rdsports audit --format json"));
        // Check results (their own schema_version 1) are not an audit.
        let e = Audit::parse("{\"schema_version\": 1, \"results\": []}").unwrap_err();
        assert!(e.message.contains("no `counts` or `platform`"));
        let e =
            Audit::parse(&doc(FLOW, "").replace("\"rules\": 1", "\"rules\": \"x\"")).unwrap_err();
        assert!(
            e.message.contains("not an audit result (line 1"),
            "{}",
            e.message
        );
    }

    #[test]
    fn text_is_escaped_and_unknown_fields_ignored() {
        let a = Audit::parse(&doc(FLOW, "")).unwrap();
        let mut html = String::new();
        section(&mut html, &[file(a)]);
        assert!(html.contains("<td>&lt;a&gt;</td><td>b&amp;c</td>"));
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(!html.contains("<script>"));
        let mut empty = String::new();
        section(&mut empty, &[]);
        assert!(empty.contains("No audit results were given"));
    }

    #[test]
    fn long_lists_are_cut_and_counted() {
        let flows = vec![FLOW; ROWS_MAX + 5].join(",");
        let a = Audit::parse(&doc(&flows, "")).unwrap();
        let mut html = String::new();
        section(&mut html, &[file(a)]);
        assert_eq!(
            html.matches("<tr class=\"v-row-refused\">").count(),
            ROWS_MAX
        );
        assert!(html.contains("… and 5 more, not shown"));
    }

    /// The rule texts the tables cut are in the page in full, escaped, folded away.
    #[test]
    fn rule_texts_are_shown_in_full() {
        let long = format!(
            "-A FORWARD -m comment --comment \\\"{}<b>\\\" -j DROP",
            "x".repeat(500)
        );
        let extra = format!(", \"rule_texts\": [{{\"location\": \"f:1\", \"text\": \"{long}\"}}]");
        let a = Audit::parse(&doc(FLOW, &extra)).unwrap();
        let mut html = String::new();
        section(&mut html, &[file(a)]);
        assert!(
            html.contains("<summary>Rule texts (1): the rules cut above (...), in full</summary>")
        );
        assert!(html.contains(&"x".repeat(500)));
        assert!(html.contains("&lt;b&gt;"));
        let a = Audit::parse(&doc(FLOW, "")).unwrap();
        let mut html = String::new();
        section(&mut html, &[file(a)]);
        assert!(!html.contains("Rule texts"));
    }
}
