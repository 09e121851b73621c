//! The audit section of the HTML report (`rdsports report --audit RESULT.json`): the JSON
//! contract of `rdsports audit --format json` (`schema_version` 1, described in
//! `rdsports_audit::report`) read back, and rendered as missing flows (with the deciding
//! rule and the fix), undecided ones, rules that allow more than the plan (worst first),
//! shadowed and redundant rules, unused ones and what the reader did not understand.
//!
//! The contract is read here on its own, field by field, so a report reads results written
//! by this version of `rdsports audit` and ignores fields later versions add.

use std::fmt::Write as _;

use serde::Deserialize;

use crate::diagram::escape_xml as esc;

/// The `schema_version` of audit results this version reads.
pub const AUDIT_SCHEMA_VERSION: u64 = 1;

/// Most rows one table of the section shows; the rest are counted, and the JSON holds them.
pub const ROWS_MAX: usize = 1000;

/// Flow counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AuditCounts {
    /// Planned flows in scope.
    pub flows: u64,
    /// Allowed.
    pub allowed: u64,
    /// Blocked, fully or in part.
    pub missing: u64,
    /// Undecided.
    pub possible: u64,
}

/// A rule as the audit names it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct AuditRule {
    /// File and line, JSON path or rule name.
    pub location: String,
    /// The rule's text.
    pub text: String,
}

/// One planned flow's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuditFlow {
    /// Source host.
    pub from: String,
    /// Destination host.
    pub to: String,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// Port or range.
    pub ports: String,
    /// Catalog ids.
    #[serde(default)]
    pub catalog: Vec<String>,
    /// `allowed`, `missing` or `possible`.
    pub status: String,
    /// Blocked only in part.
    #[serde(default)]
    pub partial: bool,
    /// The parts blocked, when partial.
    #[serde(default)]
    pub blocked: Vec<String>,
    /// The deciding rule.
    #[serde(default)]
    pub rule: Option<AuditRule>,
    /// For `possible`: why.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The rules that would let the missing flows through.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuditFix {
    /// The `rules` target.
    pub target: String,
    /// Where they go.
    #[serde(default)]
    pub placement: String,
    /// The rules.
    #[serde(default)]
    pub rules: String,
    /// Why they could not be written.
    #[serde(default)]
    pub error: Option<String>,
}

/// An accepting rule that allows more than the plan.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuditTooBroad {
    /// The rule (or policy).
    pub rule: AuditRule,
    /// `input`, `forward` or `output`.
    #[serde(default)]
    pub hook: String,
    /// (source, destination, protocol, port) tuples beyond the plan, a decimal string.
    pub excess: String,
    /// Of which IPv4.
    #[serde(default)]
    pub excess_v4: String,
    /// Disjoint parts.
    #[serde(default)]
    pub pieces: u64,
    /// The largest parts.
    #[serde(default)]
    pub examples: Vec<String>,
}

/// A shadowed or redundant rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuditDeadRule {
    /// Its chain.
    pub chain: String,
    /// The rule.
    pub rule: AuditRule,
    /// What covers it.
    #[serde(default)]
    pub by: Vec<AuditRule>,
}

/// An accepting rule with no hits.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuditUnused {
    /// Its chain.
    pub chain: String,
    /// The rule.
    pub rule: AuditRule,
}

/// What the reader did not understand.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuditNote {
    /// Where.
    pub location: String,
    /// What.
    pub message: String,
}

/// One `rdsports audit --format json` document.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuditDocument {
    /// The contract version.
    pub schema_version: u64,
    /// Deployment name.
    pub deployment: String,
    /// `nftables`, `iptables`, `windows`, `azure-nsg`, `aws-sg` ...
    pub platform: String,
    /// How the platform decides.
    #[serde(default)]
    pub semantics: String,
    /// Which flows were audited.
    pub scope: String,
    /// Rules read.
    pub rules: u64,
    /// Counts.
    pub counts: AuditCounts,
    /// The flows (above 100,000 only those not allowed).
    #[serde(default)]
    pub flows: Vec<AuditFlow>,
    /// The fix.
    #[serde(default)]
    pub fix: Option<AuditFix>,
    /// Worst first.
    #[serde(default)]
    pub too_broad: Vec<AuditTooBroad>,
    /// Rules no packet reaches.
    #[serde(default)]
    pub shadowed: Vec<AuditDeadRule>,
    /// Rules whose removal changes nothing.
    #[serde(default)]
    pub redundant: Vec<AuditDeadRule>,
    /// Accepting rules with zero hits.
    #[serde(default)]
    pub unused: Vec<AuditUnused>,
    /// Not understood.
    #[serde(default)]
    pub notes: Vec<AuditNote>,
    /// The file it was read from (set by the caller, shown in the report).
    #[serde(skip)]
    pub file: String,
}

/// An audit result that cannot be read: what is wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditError {
    /// What is wrong (with line and column where the JSON says).
    pub message: String,
    /// What to do.
    pub hint: String,
}

const HINT: &str = "write the result with this rdsports: `rdsports audit --rules EXPORT --format json > RESULT.json`";

/// Parses a `rdsports audit --format json` document, ignoring fields this version does not
/// know. Errors say what is wrong: not JSON (with line and column), not an object, no or
/// another `schema_version`, a missing or mistyped field.
pub fn parse_audit_result(text: &str) -> Result<AuditDocument, AuditError> {
    let fail = |message: String| AuditError {
        message,
        hint: HINT.to_owned(),
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        fail(format!(
            "not a JSON document (line {}, column {}): {e}",
            e.line(),
            e.column()
        ))
    })?;
    let Some(doc) = value.as_object() else {
        return Err(fail(
            "expected a JSON object as printed by `rdsports audit --format json`".to_owned(),
        ));
    };
    match doc.get("schema_version") {
        None => {
            return Err(fail(
                "no schema_version: is this the output of `rdsports audit --format json`?"
                    .to_owned(),
            ));
        }
        Some(v) if v.as_u64() == Some(AUDIT_SCHEMA_VERSION) => {}
        Some(v) => {
            return Err(AuditError {
                message: format!(
                    "audit result schema_version {v} is not supported (this rdsports reads \
                     version {AUDIT_SCHEMA_VERSION})"
                ),
                hint: "run `rdsports audit --format json` again with the rdsports that writes \
                       this report, or write the report with the rdsports that wrote the result"
                    .to_owned(),
            });
        }
    }
    if !doc.contains_key("counts") || !doc.contains_key("platform") {
        return Err(fail(
            "no `counts` or `platform`: is this the output of `rdsports audit --format json`?"
                .to_owned(),
        ));
    }
    serde_json::from_str::<AuditDocument>(text).map_err(|e| {
        fail(format!(
            "not an audit result (line {}, column {}): {e}",
            e.line(),
            e.column()
        ))
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A rule as `text` over its location.
fn rule_cell(r: &AuditRule) -> String {
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
pub fn badges(a: &AuditDocument) -> String {
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
pub fn section(out: &mut String, audits: &[AuditDocument]) {
    out.push_str("<section id=\"audit\">\n<h2>Firewall audit</h2>\n");
    if audits.is_empty() {
        out.push_str("<p class=\"note\">No audit results were given (run <code>rdsports audit --rules EXPORT --format json &gt; RESULT.json</code> and pass the file with <code>--audit</code>).</p>\n</section>\n");
        return;
    }
    for (k, a) in audits.iter().enumerate() {
        let _ = writeln!(
            out,
            "<h3 id=\"audit-{k}\">{} rule set, {} rule{} <span class=\"tag\">{}</span></h3>",
            esc(&a.platform),
            a.rules,
            plural(a.rules as usize),
            esc(&a.file)
        );
        let _ = writeln!(
            out,
            "<p>{}: {} planned flow{}. <span class=\"note\">How it decides: {}.</span></p>",
            esc(&a.scope),
            a.counts.flows,
            plural(a.counts.flows as usize),
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
    }
    out.push_str("</section>\n");
}

fn missing(out: &mut String, k: usize, a: &AuditDocument) {
    let rows: Vec<&AuditFlow> = a.flows.iter().filter(|f| f.status == "missing").collect();
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

fn possible(out: &mut String, a: &AuditDocument) {
    let rows: Vec<&AuditFlow> = a.flows.iter().filter(|f| f.status == "possible").collect();
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

fn too_broad(out: &mut String, a: &AuditDocument) {
    let _ = writeln!(out, "<h4>Too broad ({})</h4>", a.too_broad.len());
    if a.too_broad.is_empty() {
        out.push_str("<p class=\"note\">No accepting rule allows more than the plan.</p>\n");
        return;
    }
    // Worst first, as the audit wrote them; sorted again by the exact count (decimal
    // strings up to 2^128) so that a hand-edited file still reads worst first.
    let mut rows: Vec<&AuditTooBroad> = a.too_broad.iter().collect();
    rows.sort_by_key(|t| std::cmp::Reverse(t.excess.parse::<u128>().unwrap_or(0)));
    out.push_str("<div class=\"table-wrap\"><table class=\"audit-broad\">\n<thead><tr><th>Rule</th><th>Hook</th><th class=\"num\">Tuples beyond the plan</th><th>Largest parts</th></tr></thead>\n<tbody>\n");
    for t in rows.iter().take(ROWS_MAX) {
        let v4 = if t.excess_v4.is_empty() || t.excess_v4 == t.excess {
            String::new()
        } else {
            format!(
                "<br><span class=\"note\">IPv4: {}</span>",
                esc(&t.excess_v4)
            )
        };
        let mut parts = String::from("<ul class=\"detail\">");
        for e in &t.examples {
            let _ = write!(parts, "<li class=\"mono\">{}</li>", esc(e));
        }
        if t.pieces as usize > t.examples.len() {
            let _ = write!(
                parts,
                "<li class=\"note\">{} part{} in all</li>",
                t.pieces,
                plural(t.pieces as usize)
            );
        }
        parts.push_str("</ul>");
        let _ = writeln!(
            out,
            "<tr class=\"v-row-unknown\"><td>{}</td><td>{}</td><td class=\"num\">{}{v4}</td><td>{parts}</td></tr>",
            rule_cell(&t.rule),
            esc(&t.hook),
            esc(&t.excess)
        );
    }
    out.push_str("</tbody></table></div>\n");
    more(out, rows.len());
}

fn dead(out: &mut String, a: &AuditDocument) {
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
    let all: Vec<(&str, &AuditDeadRule)> = a
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

fn unused(out: &mut String, a: &AuditDocument) {
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

    fn doc(flows: &str, extra: &str) -> String {
        format!(
            "{{\"schema_version\": 1, \"deployment\": \"d\", \"platform\": \"nftables\", \
             \"scope\": \"s\", \"rules\": 1, \"counts\": {{\"flows\": 1, \"allowed\": 0, \
             \"missing\": 1, \"possible\": 0}}, \"flows\": [{flows}]{extra}, \"future\": 1}}"
        )
    }

    const FLOW: &str = "{\"from\": \"<a>\", \"to\": \"b&c\", \"protocol\": \"tcp\", \
        \"ports\": \"3389\", \"status\": \"missing\", \"rule\": {\"location\": \"f:1\", \
        \"text\": \"<script>x</script>\"}}";

    #[test]
    fn bad_results_get_clear_errors() {
        let e = parse_audit_result("{\n oops").unwrap_err();
        assert!(e.message.contains("line 2, column 2"), "{}", e.message);
        let e = parse_audit_result("[]").unwrap_err();
        assert!(e.message.contains("JSON object"));
        let e = parse_audit_result("{}").unwrap_err();
        assert!(e.message.contains("no schema_version"));
        let e = parse_audit_result("{\"schema_version\": 2}").unwrap_err();
        assert!(e.message.contains("schema_version 2 is not supported"));
        assert!(e.hint.contains("rdsports audit --format json"));
        // Check results (their own schema_version 1) are not an audit.
        let e = parse_audit_result("{\"schema_version\": 1, \"results\": []}").unwrap_err();
        assert!(e.message.contains("no `counts` or `platform`"));
        let e = parse_audit_result(&doc(FLOW, "").replace("\"rules\": 1", "\"rules\": \"x\""))
            .unwrap_err();
        assert!(
            e.message.contains("not an audit result (line 1"),
            "{}",
            e.message
        );
    }

    #[test]
    fn text_is_escaped_and_unknown_fields_ignored() {
        let a = parse_audit_result(&doc(FLOW, "")).unwrap();
        let mut html = String::new();
        section(&mut html, &[a]);
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
        let a = parse_audit_result(&doc(&flows, "")).unwrap();
        let mut html = String::new();
        section(&mut html, &[a]);
        assert_eq!(
            html.matches("<tr class=\"v-row-refused\">").count(),
            ROWS_MAX
        );
        assert!(html.contains("… and 5 more, not shown"));
    }
}
