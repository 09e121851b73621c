//! `rdsports audit` results rendered for people and pipelines: a table for a terminal,
//! JSON (the document of `rdsports_schema::audit`), Markdown and JUnit XML.

use std::fmt::Write as _;

use rdsports_schema::audit::{Audit, FlowResult, Platform, Status};

/// JSON, pretty, with a final newline.
pub fn json(a: &Audit) -> String {
    let mut s =
        serde_json::to_string_pretty(a).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// Wraps `text` (control characters escaped: it comes from the export) at `width` columns
/// with `indent` before continuation lines.
fn wrap(out: &mut String, first: &str, text: &str, indent: usize, width: usize) {
    let text = rdsports_core::text::one_line(text);
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
    if !a.rule_texts.is_empty() {
        let _ = writeln!(
            s,
            "\nRULE TEXTS ({}): the rules cut above (...), in full",
            a.rule_texts.len()
        );
        for r in &a.rule_texts {
            wrap(&mut s, "  ", &r.location, 4, w);
            wrap(&mut s, "    ", &r.text, 6, w);
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
    rdsports_core::text::one_line(&s.replace('|', "\\|").replace('\n', " ")).into_owned()
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
    if !a.rule_texts.is_empty() {
        let _ = writeln!(s, "\n## Rule texts (cut above, in full)\n");
        for r in &a.rule_texts {
            let _ = writeln!(s, "- {}: `{}`", md(&r.location), md(&r.text));
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
