//! The lint report as a table (grouped by severity), JSON, SARIF 2.1.0 and Markdown.
//!
//! The JSON document is `rdsports_schema::lint::LintDocument`.

use std::fmt::Write as _;

use rdsports_schema::lint::{
    LINT_SCHEMA_VERSION, LintDocument, LintFinding, LintFlow, LintLocation, LintSource, LintSummary,
};
use serde_json::{Value, json};

use crate::rules::{RULES, Rule, Severity};
use crate::{Finding, Report};

/// What the renderers need besides the report.
pub struct Context<'a> {
    /// The deployment's name.
    pub deployment: &'a str,
    /// The deployment file as the user named it ("at" lines).
    pub file: &'a str,
    /// The same as a SARIF artifact URI (forward slashes).
    pub uri: &'a str,
    /// The `--fail-on` threshold (`None`: never fail).
    pub fail_on: Option<Severity>,
    /// rdsports' version, for SARIF's tool driver.
    pub version: &'a str,
}

fn fail_on_name(t: Option<Severity>) -> &'static str {
    t.map_or("never", Severity::name)
}

/// The table: findings grouped by severity, then the accepted ones, then a summary line.
pub fn table(report: &Report, cx: &Context<'_>) -> String {
    let mut out = String::new();
    for severity in Severity::DESCENDING {
        let of: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.rule.severity == severity)
            .collect();
        if of.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{} ({})", severity.name().to_uppercase(), of.len());
        for f in of {
            finding_lines(&mut out, f, cx);
        }
        out.push('\n');
    }
    if !report.accepted.is_empty() {
        let _ = writeln!(out, "ACCEPTED ({})", report.accepted.len());
        for f in &report.accepted {
            let _ = writeln!(
                out,
                "  {:<8} {}  {}",
                f.rule.severity.name(),
                f.rule.id,
                f.subject
            );
            let _ = writeln!(
                out,
                "           reason: {}",
                f.accepted.as_deref().unwrap_or_default()
            );
        }
        out.push('\n');
    }
    out.push_str(&summary_line(report, cx));
    out.push('\n');
    out
}

fn finding_lines(out: &mut String, f: &Finding, cx: &Context<'_>) {
    let _ = writeln!(out, "  {}  {}", f.rule.id, f.rule.title);
    let _ = writeln!(out, "    where: {}", f.subject);
    if !f.flows.is_empty() {
        for flow in &f.flows {
            let _ = writeln!(
                out,
                "      {} -> {} {} {} [{}]",
                flow.from,
                flow.to,
                flow.protocol,
                flow.ports,
                flow.catalog_ids.join(", ")
            );
        }
        if f.flows_total > f.flows.len() {
            let _ = writeln!(
                out,
                "      and {} more flows like these",
                f.flows_total - f.flows.len()
            );
        }
    } else if !f.hosts.is_empty() {
        let _ = writeln!(out, "    hosts: {}", hosts_text(f));
    }
    for e in &f.evidence {
        let _ = writeln!(out, "    seen:  {e}");
    }
    if let Some(l) = f.location {
        let _ = writeln!(out, "    at:    {}:{}:{}", cx.file, l.line, l.column);
    }
    wrap(out, "    fix:   ", &squash(f.rule.fix));
    if let Some(s) = f.rule.sources.first() {
        wrap(out, "    source: ", &format!("{} <{}>", s.title, s.url));
    }
}

/// Table lines stay within this many columns (a word longer than the room left, such as a
/// URL, gets a line of its own).
const WIDTH: usize = 100;

/// Writes `label` and `text` word-wrapped at [`WIDTH`], continuation lines indented under
/// the text.
fn wrap(out: &mut String, label: &str, text: &str) {
    let indent = label.chars().count();
    out.push_str(label);
    let mut col = indent;
    for (i, word) in text.split_whitespace().enumerate() {
        let len = word.chars().count();
        if i > 0 && col + 1 + len > WIDTH {
            out.push('\n');
            out.extend(std::iter::repeat_n(' ', indent));
            col = indent;
        } else if i > 0 {
            out.push(' ');
            col += 1;
        }
        out.push_str(word);
        col += len;
    }
    out.push('\n');
}

fn hosts_text(f: &Finding) -> String {
    let mut s = f.hosts.join(", ");
    if f.hosts_total > f.hosts.len() {
        let _ = write!(s, " and {} more", f.hosts_total - f.hosts.len());
    }
    s
}

/// `lint: 0 critical, 1 high, 2 medium, 0 low (3 accepted): fails on high and above`.
pub fn summary_line(report: &Report, cx: &Context<'_>) -> String {
    let counts = report.counts();
    let parts: Vec<String> = Severity::DESCENDING
        .iter()
        .map(|s| format!("{} {}", counts[s], s.name()))
        .collect();
    let verdict = match cx.fail_on {
        None => "never fails (--fail-on never)".to_owned(),
        Some(t) if report.fails(Some(t)) => format!("FAILS: a finding at {t} or above remains"),
        Some(t) => format!("passes (fails on {t} and above)"),
    };
    format!(
        "lint {}: {} ({} accepted); {}",
        cx.deployment,
        parts.join(", "),
        report.accepted.len(),
        verdict
    )
}

/// The SARIF result level (`error`, `warning`, `note`).
fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// The `security-severity` score code-scanning tools sort by (CVSS-like, 0.0-10.0).
fn score(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

fn finding(f: &Finding) -> LintFinding {
    LintFinding {
        evidence: f.evidence.clone(),
        fix: f.rule.fix.to_owned(),
        flows: f
            .flows
            .iter()
            .map(|r| LintFlow {
                catalog_ids: r.catalog_ids.clone(),
                from: r.from.clone(),
                ports: r.ports.clone(),
                protocol: r.protocol.to_owned(),
                to: r.to.clone(),
            })
            .collect(),
        flows_total: f.flows_total,
        hosts: f.hosts.clone(),
        hosts_total: f.hosts_total,
        id: f.rule.id.to_owned(),
        location: f.location.map(|l| LintLocation {
            column: l.column,
            end_column: l.end_column,
            end_line: l.end_line,
            line: l.line,
        }),
        reason: f.accepted.clone(),
        severity: f.rule.severity,
        sources: f
            .rule
            .sources
            .iter()
            .map(|s| LintSource {
                title: s.title.to_owned(),
                url: s.url.to_owned(),
            })
            .collect(),
        subject: f.subject.clone(),
        title: f.rule.title.to_owned(),
    }
}

/// The JSON document (`rdsports_schema::lint`), pretty, with a final newline.
pub fn json(report: &Report, cx: &Context<'_>) -> String {
    let mut s = serde_json::to_string_pretty(&document(report, cx)).unwrap_or_default();
    s.push('\n');
    s
}

/// The report as the typed document `lint --format json` writes and `report` shows.
pub fn document(report: &Report, cx: &Context<'_>) -> LintDocument {
    let counts = report.counts();
    LintDocument {
        accepted: report.accepted.iter().map(finding).collect(),
        deployment: cx.deployment.to_owned(),
        fail_on: fail_on_name(cx.fail_on).to_owned(),
        fails: report.fails(cx.fail_on),
        findings: report.findings.iter().map(finding).collect(),
        results_read: report.results_read,
        schema_version: LINT_SCHEMA_VERSION,
        summary: LintSummary {
            accepted: report.accepted.len(),
            critical: counts[&Severity::Critical],
            high: counts[&Severity::High],
            low: counts[&Severity::Low],
            medium: counts[&Severity::Medium],
        },
        warnings: report.warnings.iter().map(|d| d.message.clone()).collect(),
    }
}

fn sarif_rule(r: &Rule) -> Value {
    let sources: Vec<String> = r
        .sources
        .iter()
        .map(|s| format!("- {} <{}>", s.title, s.url))
        .collect();
    json!({
        "id": r.id,
        "name": r.id,
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": r.rationale},
        "help": {"text": format!("{}\n\nFix: {}\n\nSources:\n{}", r.rationale, r.fix, sources.join("\n"))},
        "helpUri": r.sources[0].url,
        "defaultConfiguration": {"level": sarif_level(r.severity)},
        "properties": {
            "security-severity": score(r.severity),
            "severity": r.severity.name(),
            "tags": ["security", "rds", "firewall"],
        },
    })
}

fn sarif_result(f: &Finding, cx: &Context<'_>) -> Value {
    let rule_index = RULES.iter().position(|r| r.id == f.rule.id).unwrap_or(0);
    let mut message = format!("{}: {}", f.rule.title, f.subject);
    if f.flows_total > 0 {
        let _ = write!(message, " ({} planned flows", f.flows_total);
        if let Some(flow) = f.flows.first() {
            let _ = write!(
                message,
                ", e.g. {} -> {} {} {}",
                flow.from, flow.to, flow.protocol, flow.ports
            );
        }
        message.push(')');
    }
    if let Some(e) = f.evidence.first() {
        let _ = write!(message, ". Seen: {e}");
    }
    let _ = write!(message, ". Fix: {}", f.rule.fix);
    let (uri, (line, column, end_line, end_column)) = match (&f.external, f.location) {
        (Some((file, line)), _) => (file.replace('\\', "/"), (*line, 1, *line, 1)),
        (None, l) => (
            cx.uri.to_owned(),
            l.map_or((1, 1, 1, 1), |l| {
                (l.line, l.column, l.end_line, l.end_column)
            }),
        ),
    };
    let mut v = json!({
        "ruleId": f.rule.id,
        "ruleIndex": rule_index,
        "level": sarif_level(f.rule.severity),
        "message": {"text": message},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": uri},
                "region": {
                    "startLine": line,
                    "startColumn": column,
                    "endLine": end_line,
                    "endColumn": end_column.max(column),
                },
            },
        }],
        "properties": {"hosts": f.hosts, "subject": f.subject},
    });
    if let Some(reason) = &f.accepted {
        v["suppressions"] = json!([{"kind": "inSource", "justification": reason}]);
    }
    v
}

/// SARIF 2.1.0: one run, the catalog as the driver's rules, one result per finding (accepted
/// ones carry an in-source suppression), locations on the deployment file's lines.
pub fn sarif(report: &Report, cx: &Context<'_>) -> String {
    let results: Vec<Value> = report
        .findings
        .iter()
        .chain(&report.accepted)
        .map(|f| sarif_result(f, cx))
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "rdsports",
                "version": cx.version,
                "informationUri": "https://learn.microsoft.com/troubleshoot/windows-server/remote/ports-used-by-rds",
                "rules": RULES.iter().map(sarif_rule).collect::<Vec<_>>(),
            }},
            "artifacts": [{"location": {"uri": cx.uri}}],
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

fn md_cell(s: &str) -> String {
    rdsports_core::text::one_line(&s.replace('|', "\\|").replace('\n', " ")).into_owned()
}

/// Markdown: a table of findings per severity, then the accepted ones.
pub fn markdown(report: &Report, cx: &Context<'_>) -> String {
    let mut out = format!("# rdsports lint: {}\n\n", md_cell(cx.deployment));
    let _ = writeln!(out, "{}\n", md_cell(&summary_line(report, cx)));
    let head = "| id | where | hosts | at | fix |\n|---|---|---|---|---|\n";
    for severity in Severity::DESCENDING {
        let of: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.rule.severity == severity)
            .collect();
        if of.is_empty() {
            continue;
        }
        let _ = writeln!(out, "## {} ({})\n", severity.name(), of.len());
        out.push_str(head);
        for f in of {
            let at = f
                .location
                .map(|l| format!("{}:{}", cx.file, l.line))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                f.rule.id,
                md_cell(&f.subject),
                md_cell(&hosts_text(f)),
                md_cell(&at),
                md_cell(f.rule.fix)
            );
        }
        out.push('\n');
    }
    if !report.accepted.is_empty() {
        let _ = writeln!(out, "## accepted ({})\n", report.accepted.len());
        out.push_str("| id | severity | where | reason |\n|---|---|---|---|\n");
        for f in &report.accepted {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                f.rule.id,
                f.rule.severity.name(),
                md_cell(&f.subject),
                md_cell(f.accepted.as_deref().unwrap_or_default())
            );
        }
        out.push('\n');
    }
    out
}

/// `--explain ID`: the rule's rationale, fix and sources.
pub fn explain(rule: &Rule) -> String {
    let mut out = format!(
        "{}  ({}, from the {})\n{}\n\nwhy:  {}\nfix:  {}\nsources:\n",
        rule.id,
        rule.severity.name(),
        match rule.basis {
            crate::Basis::Plan => "deployment file and its plan",
            crate::Basis::Check => "results of rdsports check (--check)",
            crate::Basis::Rules =>
                "a firewall's rule set, read by rdsports audit's readers (--rules)",
        },
        rule.title,
        squash(rule.rationale),
        squash(rule.fix)
    );
    for s in rule.sources {
        let _ = writeln!(out, "  - {}\n    {}", s.title, s.url);
    }
    let _ = writeln!(
        out,
        "\naccept it in the deployment file:\n  [[lint.accept]]\n  id = \"{}\"\n  hosts = [\"...\"]   # optional: only these hosts\n  reason = \"...\"    # required",
        rule.id
    );
    out
}

/// `--explain` without an id: every rule, one line each.
pub fn list() -> String {
    let mut out = String::new();
    for r in RULES {
        let _ = writeln!(out, "{:<30} {:<8} {}", r.id, r.severity.name(), r.title);
    }
    out
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
