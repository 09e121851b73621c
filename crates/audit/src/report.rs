//! The audit result (the JSON contract) and its renderings: table, JSON, JUnit, Markdown.
//!
//! JSON contract, `schema_version` 1: `deployment`, `platform`, `semantics`, `scope`,
//! `rules` (count), `counts` {flows, allowed, missing, possible}, `flows` (one per planned
//! flow in scope: from, to, protocol, ports, catalog, hook, status `allowed|missing|possible`,
//! partial, blocked (the parts blocked when partial), rule {location, text} that decided,
//! reason for `possible`; above 100,000 flows only those not allowed), `flows_listed`
//! (`all` or `not-allowed`), `fix` {target, placement, rules, error} or null, `too_broad`
//! (worst first: rule, hook, excess as a decimal string of (source, destination, protocol,
//! port) tuples beyond the plan, pieces, examples), `shadowed` and `redundant` (chain, rule,
//! by), `unused` (chain, rule), `notes` (location, message). Fields are only ever added.

use std::fmt::Write as _;

use serde::{Serialize, Serializer};

use crate::eval::Described;
use crate::model::{Hook, Note, Platform};

/// Version of the JSON contract.
pub const SCHEMA_VERSION: u32 = 1;

/// The verdict on a planned flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every packet of the flow passes.
    Allowed,
    /// Some or all packets of the flow are dropped.
    Missing,
    /// It depends on a rule the reader could not evaluate.
    Possible,
}

/// Flow counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Planned flows in scope.
    pub flows: usize,
    /// Allowed.
    pub allowed: usize,
    /// Blocked, fully or in part.
    pub missing: usize,
    /// Undecided.
    pub possible: usize,
}

/// One planned flow's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct FlowResult {
    /// Source host.
    pub from: String,
    /// Destination host.
    pub to: String,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// Port or range.
    pub ports: String,
    /// Catalog ids behind the flow.
    pub catalog: Vec<String>,
    /// The hook (direction) that sees it.
    pub hook: Hook,
    /// Verdict.
    pub status: Status,
    /// Blocked only in part.
    pub partial: bool,
    /// When partial: the parts that are blocked.
    pub blocked: Vec<String>,
    /// The deciding rule (for `missing`: the one that drops it).
    pub rule: Option<Described>,
    /// For `possible`: why.
    pub reason: Option<String>,
}

/// The rules that would let the missing flows through.
#[derive(Debug, Clone, Serialize)]
pub struct Fix {
    /// The `rules` target that wrote them.
    pub target: String,
    /// Where they go.
    pub placement: String,
    /// The rules, in the platform's syntax.
    pub rules: String,
    /// Why they could not be rendered, if so.
    pub error: Option<String>,
}

/// An accepting rule and what it lets through that no planned flow needs.
#[derive(Debug, Clone, Serialize)]
pub struct TooBroad {
    /// The rule (or policy).
    pub rule: Described,
    /// The hook.
    pub hook: Hook,
    /// Tuples beyond the plan (saturating at 2^128 - 1).
    #[serde(serialize_with = "decimal")]
    pub excess: u128,
    /// Of which IPv4 (the IPv6 part, even one rule's, quickly exceeds 2^128).
    #[serde(serialize_with = "decimal")]
    pub excess_v4: u128,
    /// The same, for people.
    #[serde(skip)]
    pub excess_text: String,
    /// How many disjoint parts the excess has.
    pub pieces: usize,
    /// The largest parts, as `SRC -> DST PROTO/PORTS`.
    pub examples: Vec<String>,
}

fn decimal<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// A rule that can never match, or that changes nothing.
#[derive(Debug, Clone, Serialize)]
pub struct DeadRule {
    /// Its chain.
    pub chain: String,
    /// The rule.
    pub rule: Described,
    /// The earlier rules that together cover it (shadowed), or why it changes nothing.
    pub by: Vec<Described>,
}

/// An accepting rule with a zero hit counter.
#[derive(Debug, Clone, Serialize)]
pub struct Unused {
    /// Its chain.
    pub chain: String,
    /// The rule.
    pub rule: Described,
}

/// The whole audit.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// Contract version.
    pub schema_version: u32,
    /// Deployment name.
    pub deployment: String,
    /// Platform of the rule set.
    pub platform: Platform,
    /// How the platform decides.
    pub semantics: String,
    /// Which flows were audited.
    pub scope: String,
    /// Rules read.
    pub rules: usize,
    /// Counts.
    pub counts: Counts,
    /// Every flow in scope; above 100,000 flows only those not allowed (`flows_listed`).
    pub flows: Vec<FlowResult>,
    /// `all`, or `not-allowed` when the allowed flows were left out of `flows` for size.
    pub flows_listed: &'static str,
    /// The fix for the missing flows.
    pub fix: Option<Fix>,
    /// Worst first.
    pub too_broad: Vec<TooBroad>,
    /// Rules no packet reaches.
    pub shadowed: Vec<DeadRule>,
    /// Rules whose removal changes no verdict.
    pub redundant: Vec<DeadRule>,
    /// Accepting rules with zero hits.
    pub unused: Vec<Unused>,
    /// What the reader did not understand, and analysis limits.
    pub notes: Vec<Note>,
}

impl Audit {
    /// Exit status: 0 nothing missing, 1 something missing (or, with `strict`, something
    /// too broad or undecided).
    pub fn exit_code(&self, strict: bool) -> i32 {
        if self.counts.missing > 0
            || (strict && (!self.too_broad.is_empty() || self.counts.possible > 0))
        {
            1
        } else {
            0
        }
    }
}

/// JSON, pretty, with a final newline.
pub fn json(a: &Audit) -> String {
    let mut s =
        serde_json::to_string_pretty(a).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// Wraps `text` at `width` columns with `indent` before continuation lines.
fn wrap(out: &mut String, first: &str, text: &str, indent: usize, width: usize) {
    let mut line = first.to_owned();
    let mut fresh = true;
    for word in text.split(' ') {
        let len = line.chars().count();
        if !fresh && len + 1 + word.chars().count() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = " ".repeat(indent);
            fresh = true;
        }
        if !fresh {
            line.push(' ');
        }
        line.push_str(word);
        fresh = false;
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

/// A table for a terminal, grouped by finding, readable in `width` columns (80 by default).
pub fn table(a: &Audit, width: usize) -> String {
    let w = width.max(60);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "audit of a {} rule set ({} rules) for deployment {}",
        platform_name(a.platform),
        a.rules,
        a.deployment
    );
    wrap(&mut s, "scope: ", &a.scope, 7, w);
    wrap(&mut s, "semantics: ", &a.semantics, 11, w);
    let _ = writeln!(
        s,
        "flows: {} planned, {} allowed, {} missing, {} possible\n",
        a.counts.flows, a.counts.allowed, a.counts.missing, a.counts.possible
    );
    let flow_line = |f: &FlowResult| {
        format!(
            "{} -> {} {}/{} ({})",
            f.from,
            f.to,
            f.protocol,
            f.ports,
            f.catalog.join(" ")
        )
    };
    let missing: Vec<&FlowResult> = a
        .flows
        .iter()
        .filter(|f| f.status == Status::Missing)
        .collect();
    let _ = writeln!(s, "MISSING ({})", missing.len());
    for f in &missing {
        wrap(&mut s, "  ", &flow_line(f), 4, w);
        if f.partial {
            wrap(&mut s, "    blocked in part: ", &f.blocked.join("; "), 6, w);
        }
        if let Some(r) = &f.rule {
            wrap(
                &mut s,
                "    by ",
                &format!("{} [{}]", r.text, r.location),
                6,
                w,
            );
        }
    }
    if let Some(fix) = &a.fix {
        let _ = writeln!(s, "\n  fix ({}):", fix.target);
        wrap(&mut s, "  ", &fix.placement, 2, w);
        match &fix.error {
            Some(e) => wrap(&mut s, "  cannot render: ", e, 4, w),
            None => {
                for line in fix.rules.lines() {
                    let _ = writeln!(s, "    {line}");
                }
            }
        }
    }
    let possible: Vec<&FlowResult> = a
        .flows
        .iter()
        .filter(|f| f.status == Status::Possible)
        .collect();
    let _ = writeln!(s, "\nPOSSIBLE ({})", possible.len());
    for f in &possible {
        wrap(&mut s, "  ", &flow_line(f), 4, w);
        if let Some(r) = &f.reason {
            wrap(&mut s, "    ", r, 4, w);
        }
    }
    let _ = writeln!(s, "\nTOO BROAD ({})", a.too_broad.len());
    for t in &a.too_broad {
        wrap(
            &mut s,
            "  ",
            &format!("{} [{}]", t.rule.text, t.rule.location),
            4,
            w,
        );
        wrap(
            &mut s,
            "    allows beyond the plan: ",
            &format!(
                "{} (source, destination, protocol, port) tuples",
                t.excess_text
            ),
            6,
            w,
        );
        for e in &t.examples {
            wrap(&mut s, "      ", e, 8, w);
        }
        if t.pieces > t.examples.len() {
            let _ = writeln!(s, "      ... {} more parts", t.pieces - t.examples.len());
        }
    }
    for (title, list, why) in [
        ("SHADOWED", &a.shadowed, "covered by "),
        ("REDUNDANT", &a.redundant, "because "),
    ] {
        let _ = writeln!(s, "\n{title} ({})", list.len());
        for d in list.iter() {
            wrap(
                &mut s,
                "  ",
                &format!("{} [{}]", d.rule.text, d.rule.location),
                4,
                w,
            );
            for b in &d.by {
                let t = if b.location.is_empty() {
                    b.text.clone()
                } else {
                    format!("{} [{}]", b.text, b.location)
                };
                wrap(&mut s, &format!("    {why}"), &t, 6, w);
            }
        }
    }
    let _ = writeln!(s, "\nUNUSED ({})", a.unused.len());
    for u in &a.unused {
        wrap(
            &mut s,
            "  ",
            &format!("{} [{}]", u.rule.text, u.rule.location),
            4,
            w,
        );
    }
    if !a.notes.is_empty() {
        let _ = writeln!(s, "\nNOT UNDERSTOOD ({})", a.notes.len());
        for n in &a.notes {
            wrap(
                &mut s,
                "  ",
                &format!("{}: {}", n.location, n.message),
                4,
                w,
            );
        }
    }
    s
}

fn platform_name(p: Platform) -> &'static str {
    match p {
        Platform::Nftables => "nftables",
        Platform::Iptables => "iptables",
        Platform::Windows => "Windows Firewall",
        Platform::AzureNsg => "Azure NSG",
        Platform::AwsSg => "AWS security group",
        Platform::AwsNacl => "AWS network ACL",
        Platform::CiscoAsa => "Cisco ASA",
        Platform::Aerleon => "Capirca/Aerleon policy",
    }
}

fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Markdown: a summary and one table per finding.
pub fn markdown(a: &Audit) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Audit: {} rule set, deployment {}\n\n- scope: {}\n- semantics: {}\n- rules: {}\n- flows: {} planned, {} allowed, {} missing, {} possible\n",
        platform_name(a.platform),
        md(&a.deployment),
        md(&a.scope),
        md(&a.semantics),
        a.rules,
        a.counts.flows,
        a.counts.allowed,
        a.counts.missing,
        a.counts.possible
    );
    let _ = writeln!(
        s,
        "## Flows\n\n| From | To | Protocol | Ports | Catalog | Verdict | Rule |\n|---|---|---|---|---|---|---|"
    );
    for f in &a.flows {
        let verdict = match (f.status, f.partial) {
            (Status::Missing, true) => format!("missing (in part: {})", f.blocked.join("; ")),
            (Status::Missing, false) => "missing".to_owned(),
            (Status::Allowed, _) => "allowed".to_owned(),
            (Status::Possible, _) => format!("possible: {}", f.reason.clone().unwrap_or_default()),
        };
        let rule = f
            .rule
            .as_ref()
            .map(|r| format!("`{}` ({})", r.text, r.location))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            md(&f.from),
            md(&f.to),
            f.protocol,
            f.ports,
            f.catalog.join(" "),
            md(&verdict),
            md(&rule)
        );
    }
    if let Some(fix) = &a.fix {
        let _ = writeln!(
            s,
            "\n## Fix ({})\n\n{}\n\n```\n{}```",
            fix.target,
            md(&fix.placement),
            fix.rules
        );
    }
    let _ = writeln!(
        s,
        "\n## Too broad\n\n| Rule | Location | Beyond the plan | Largest parts |\n|---|---|---|---|"
    );
    for t in &a.too_broad {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} |",
            md(&t.rule.text),
            md(&t.rule.location),
            t.excess_text,
            md(&t.examples.join("; "))
        );
    }
    for (title, list) in [("Shadowed", &a.shadowed), ("Redundant", &a.redundant)] {
        let _ = writeln!(
            s,
            "\n## {title}\n\n| Chain | Rule | Location | Covered by |\n|---|---|---|---|"
        );
        for d in list.iter() {
            let by: Vec<String> =
                d.by.iter()
                    .map(|b| {
                        if b.location.is_empty() {
                            b.text.clone()
                        } else {
                            b.location.clone()
                        }
                    })
                    .collect();
            let _ = writeln!(
                s,
                "| {} | `{}` | {} | {} |",
                md(&d.chain),
                md(&d.rule.text),
                md(&d.rule.location),
                md(&by.join("; "))
            );
        }
    }
    let _ = writeln!(
        s,
        "\n## Unused\n\n| Chain | Rule | Location |\n|---|---|---|"
    );
    for u in &a.unused {
        let _ = writeln!(
            s,
            "| {} | `{}` | {} |",
            md(&u.chain),
            md(&u.rule.text),
            md(&u.rule.location)
        );
    }
    if !a.notes.is_empty() {
        let _ = writeln!(s, "\n## Not understood\n");
        for n in &a.notes {
            let _ = writeln!(s, "- {}: {}", md(&n.location), md(&n.message));
        }
    }
    s
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// JUnit XML: one test case per planned flow (failure: missing; skipped: possible), one per
/// too-broad rule.
pub fn junit(a: &Audit) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let failures = a.counts.missing;
    let _ = writeln!(
        s,
        "<testsuites name=\"rdsports audit\" tests=\"{}\" failures=\"{}\">",
        a.flows.len() + a.too_broad.len(),
        failures + a.too_broad.len()
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"flows\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
        a.flows.len(),
        failures,
        a.counts.possible
    );
    for f in &a.flows {
        let name = format!("{} -> {} {}/{}", f.from, f.to, f.protocol, f.ports);
        let _ = write!(
            s,
            "    <testcase classname=\"{}\" name=\"{}\"",
            xml(&f.to),
            xml(&name)
        );
        let rule = f
            .rule
            .as_ref()
            .map(|r| format!("{} [{}]", r.text, r.location))
            .unwrap_or_default();
        match f.status {
            Status::Allowed => s.push_str("/>\n"),
            Status::Missing => {
                let _ = writeln!(
                    s,
                    ">\n      <failure message=\"blocked{}\">{}</failure>\n    </testcase>",
                    if f.partial { " in part" } else { "" },
                    xml(&rule)
                );
            }
            Status::Possible => {
                let _ = writeln!(
                    s,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    xml(f.reason.as_deref().unwrap_or(""))
                );
            }
        }
    }
    s.push_str("  </testsuite>\n");
    let _ = writeln!(
        s,
        "  <testsuite name=\"too broad\" tests=\"{}\" failures=\"{}\">",
        a.too_broad.len(),
        a.too_broad.len()
    );
    for t in &a.too_broad {
        let _ = writeln!(
            s,
            "    <testcase classname=\"too broad\" name=\"{}\">\n      <failure message=\"allows {} tuples beyond the plan\">{}</failure>\n    </testcase>",
            xml(&format!("{} [{}]", t.rule.text, t.rule.location)),
            t.excess_text,
            xml(&t.examples.join("\n"))
        );
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}
