//! A plan as a table grouped by zone boundary, JSON (the documented contract), CSV or
//! Markdown.
//!
//! JSON contract (`schema_version` 1):
//!
//! ```json
//! {"schema_version": 1, "deployment": "contoso",
//!  "flows": [{"from": "gw01", "to": "dc01", "protocol": "tcp", "ports": "88",
//!             "service": "kerberos", "purpose": "...", "catalog_id": "S14",
//!             "catalog_ids": ["S14", "D02"], "from_zone": "perimeter", "to_zone": "internal"}],
//!  "warnings": ["..."]}
//! ```
//!
//! `ports` is "N" or "N-M"; `catalog_id` is the first entry that needs the flow and
//! `catalog_ids` every one of them.

use std::io::{self, Write};

use rdsports_core::Flow;
use rdsports_core::plan::Plan;
use serde::Serialize;

use crate::table::Columns;
use crate::{Format, SCHEMA_VERSION};

/// One flow in the JSON contract.
#[derive(Debug, Serialize)]
pub struct FlowRecord<'a> {
    /// Source host.
    pub from: &'a str,
    /// Destination host.
    pub to: &'a str,
    /// `tcp` or `udp`.
    pub protocol: &'static str,
    /// "N" or "N-M".
    pub ports: String,
    /// Service name from the catalog.
    pub service: &'a str,
    /// Why the flow exists.
    pub purpose: &'a str,
    /// The first catalog entry that needs the flow.
    pub catalog_id: &'a str,
    /// Every catalog entry that needs the flow.
    pub catalog_ids: Vec<&'a str>,
    /// Zone of the source host.
    pub from_zone: &'a str,
    /// Zone of the destination host.
    pub to_zone: &'a str,
}

impl<'a> FlowRecord<'a> {
    /// The record of `flow` in `plan`.
    pub fn new(plan: &Plan<'a>, flow: &Flow) -> Self {
        let entry = plan.entry(flow);
        let ids = plan.catalog_ids(flow);
        FlowRecord {
            from: &plan.from(flow).name,
            to: &plan.to(flow).name,
            protocol: flow.protocol.name(),
            ports: flow.ports.to_string(),
            service: &entry.service,
            purpose: &entry.purpose,
            catalog_id: ids.first().copied().unwrap_or(""),
            catalog_ids: ids,
            from_zone: &plan.from_zone(flow).name,
            to_zone: &plan.to_zone(flow).name,
        }
    }
}

/// The JSON document; flows are serialised one by one as they are written, never collected.
#[derive(Serialize)]
struct Document<'a, 'p> {
    schema_version: u32,
    deployment: &'a str,
    flows: FlowList<'a, 'p>,
    warnings: &'a [String],
}

struct FlowList<'a, 'p> {
    plan: &'a Plan<'p>,
    flows: &'a [&'a Flow],
}

impl Serialize for FlowList<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.flows.len()))?;
        for f in self.flows {
            seq.serialize_element(&FlowRecord::new(self.plan, f))?;
        }
        seq.end()
    }
}

/// Renders the flows of `plan` selected by `keep` (all flows: `|_| true`) into a `String`;
/// see [`write`].
pub fn render(
    plan: &Plan<'_>,
    keep: &dyn Fn(&Flow) -> bool,
    warnings: &[String],
    format: Format,
    width: usize,
) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = write(plan, keep, warnings, format, width, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes the flows of `plan` selected by `keep` to `out`, streaming: memory stays flat
/// however many flows there are (a 10,000-host farm plans millions).
///
/// `warnings` are the deployment's and the plan's warnings as sentences; table and Markdown
/// print them after the flows, JSON carries them, CSV leaves them to the caller (stderr).
pub fn write(
    plan: &Plan<'_>,
    keep: &dyn Fn(&Flow) -> bool,
    warnings: &[String],
    format: Format,
    width: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    let flows: Vec<&Flow> = plan.flows.iter().filter(|f| keep(f)).collect();
    match format {
        Format::Json => {
            let doc = Document {
                schema_version: SCHEMA_VERSION,
                deployment: &plan.deployment.name,
                flows: FlowList {
                    plan,
                    flows: &flows,
                },
                warnings,
            };
            serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
            writeln!(out)
        }
        Format::Csv => csv(plan, &flows, out),
        Format::Table => table(plan, &flows, warnings, width, out),
        Format::Markdown => markdown(plan, &flows, warnings, out),
    }
}

/// Flows grouped by (from zone, to zone), in plan order: contiguous slices of `flows`.
fn boundaries<'f, 'p>(
    plan: &Plan<'_>,
    flows: &'f [&'p Flow],
) -> Vec<((usize, usize), &'f [&'p Flow])> {
    let zone = |f: &Flow| {
        (
            plan.deployment.hosts[f.from].zone,
            plan.deployment.hosts[f.to].zone,
        )
    };
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=flows.len() {
        if i == flows.len() || zone(flows[i]) != zone(flows[start]) {
            groups.push((zone(flows[start]), &flows[start..i]));
            start = i;
        }
    }
    groups
}

fn heading(plan: &Plan<'_>, (a, b): (usize, usize), n: usize) -> String {
    let zones = &plan.deployment.zones;
    let plural = if n == 1 { "" } else { "s" };
    if a == b {
        format!("{} (inside the zone, {n} flow{plural})", zones[a].name)
    } else {
        format!("{} -> {} ({n} flow{plural})", zones[a].name, zones[b].name)
    }
}

const TABLE_HEADERS: [&str; 7] = ["FROM", "TO", "PROTO", "PORTS", "SERVICE", "ID", "PURPOSE"];

fn table_cells(plan: &Plan<'_>, f: &Flow) -> [String; 7] {
    let r = FlowRecord::new(plan, f);
    [
        r.from.to_owned(),
        r.to.to_owned(),
        r.protocol.to_owned(),
        r.ports,
        r.service.to_owned(),
        r.catalog_ids.join(","),
        r.purpose.to_owned(),
    ]
}

fn table(
    plan: &Plan<'_>,
    flows: &[&Flow],
    warnings: &[String],
    width: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        "deployment {}: {} flows between {} hosts in {} zones",
        plan.deployment.name,
        flows.len(),
        plan.deployment.hosts.len(),
        plan.deployment.zones.len()
    )?;
    for (key, group) in boundaries(plan, flows) {
        writeln!(out)?;
        writeln!(out, "{}", heading(plan, key, group.len()))?;
        // Measure first, then write: the rows are made twice but never held.
        let mut columns = Columns::new(&TABLE_HEADERS, true);
        for f in group {
            columns.measure(&table_cells(plan, f));
        }
        columns.write_header(out, width, 2)?;
        for f in group {
            columns.write_row(out, &table_cells(plan, f), width, 2)?;
        }
    }
    if !warnings.is_empty() {
        writeln!(out)?;
        for w in warnings {
            writeln!(out, "warning: {w}")?;
        }
    }
    Ok(())
}

fn csv(plan: &Plan<'_>, flows: &[&Flow], out: &mut dyn Write) -> io::Result<()> {
    let mut w = ::csv::Writer::from_writer(out);
    w.write_record([
        "from",
        "to",
        "protocol",
        "ports",
        "service",
        "catalog_id",
        "catalog_ids",
        "from_zone",
        "to_zone",
        "purpose",
    ])?;
    for f in flows {
        let r = FlowRecord::new(plan, f);
        let ids = r.catalog_ids.join(" ");
        w.write_record([
            r.from,
            r.to,
            r.protocol,
            &r.ports,
            r.service,
            r.catalog_id,
            &ids,
            r.from_zone,
            r.to_zone,
            r.purpose,
        ])?;
    }
    w.flush()
}

fn markdown(
    plan: &Plan<'_>,
    flows: &[&Flow],
    warnings: &[String],
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "# Flows of {}\n", md(&plan.deployment.name))?;
    for (key, group) in boundaries(plan, flows) {
        writeln!(out, "## {}\n", md(&heading(plan, key, group.len())))?;
        out.write_all(b"| from | to | protocol | ports | service | catalog | purpose |\n")?;
        out.write_all(b"|---|---|---|---|---|---|---|\n")?;
        for f in group {
            let r = FlowRecord::new(plan, f);
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                md(r.from),
                md(r.to),
                r.protocol,
                r.ports,
                md(r.service),
                r.catalog_ids.join(", "),
                md(r.purpose)
            )?;
        }
        writeln!(out)?;
    }
    if !warnings.is_empty() {
        out.write_all(b"## Warnings\n\n")?;
        for w in warnings {
            writeln!(out, "- {}", md(w))?;
        }
    }
    Ok(())
}

/// Escapes text for a Markdown table cell.
pub(crate) fn md(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' | '\\' | '*' | '_' | '`' | '<' | '>' | '[' | ']' => {
                s.push('\\');
                s.push(c);
            }
            '\n' | '\r' => s.push(' '),
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use rdsports_core::{Catalog, Deployment};

    use super::*;

    const EXAMPLE: &str = include_str!("../../../examples/perimeter.toml");

    fn with_plan<T>(f: impl FnOnce(&Plan<'_>) -> T) -> T {
        let c = Catalog::builtin().unwrap();
        let d = Deployment::parse(EXAMPLE).unwrap();
        let p = rdsports_core::plan::plan(&c, &d);
        f(&p)
    }

    #[test]
    fn json_follows_the_contract() {
        let text = with_plan(|p| render(p, &|_| true, &["w".into()], Format::Json, 80));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["deployment"], "contoso");
        assert_eq!(v["warnings"][0], "w");
        let flows = v["flows"].as_array().unwrap();
        let kerberos = flows
            .iter()
            .find(|f| {
                f["from"] == "gw01"
                    && f["to"] == "dc01"
                    && f["ports"] == "88"
                    && f["protocol"] == "tcp"
            })
            .unwrap();
        assert_eq!(kerberos["service"], "kerberos");
        assert_eq!(kerberos["catalog_id"], "S14");
        assert_eq!(kerberos["from_zone"], "perimeter");
        assert_eq!(kerberos["to_zone"], "internal");
        let keys: Vec<&String> = kerberos.as_object().unwrap().keys().collect();
        for k in [
            "from",
            "to",
            "protocol",
            "ports",
            "service",
            "purpose",
            "catalog_id",
            "from_zone",
            "to_zone",
        ] {
            assert!(keys.iter().any(|x| *x == k), "{k}");
        }
        assert!(flows.iter().any(|f| f["ports"] == "49152-65535"));
    }

    #[test]
    fn table_groups_by_boundary_and_fits_80_columns() {
        let text = with_plan(|p| {
            render(
                p,
                &|_| true,
                &["no host has role x".into()],
                Format::Table,
                80,
            )
        });
        assert!(text.contains("\ninternet -> perimeter ("), "{text}");
        assert!(text.contains("\nperimeter -> internal ("));
        assert!(text.contains("\ninternal (inside the zone, "));
        assert!(text.ends_with("warning: no host has role x\n"));
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{line}");
        }
    }

    #[test]
    fn csv_and_markdown_hold_every_flow() {
        with_plan(|p| {
            let csv = render(p, &|_| true, &[], Format::Csv, 80);
            assert_eq!(csv.lines().count(), p.flows.len() + 1);
            assert!(csv.starts_with("from,to,protocol,ports,service,catalog_id"));
            let md = render(p, &|_| true, &["a|b".into()], Format::Markdown, 80);
            assert_eq!(
                md.lines()
                    .filter(|l| l.starts_with("| ") && !l.starts_with("| from"))
                    .count(),
                p.flows.len()
            );
            assert!(md.contains("- a\\|b"));
        });
    }
}
