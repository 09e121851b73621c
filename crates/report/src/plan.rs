//! A plan as a table grouped by zone boundary, JSON (the documented contract,
//! [`rdsports_schema::plan`]), CSV or Markdown.
//!
//! Every format streams into the caller's writer: a flow is written as it is reached, with no
//! value and no `String` of its own, so a plan of millions of flows (a 10,000-host farm) costs
//! little more memory than the plan itself. Give [`write`] a buffered writer.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::io::{self, Write};

use rdsports_core::plan::Plan;
use rdsports_core::{Flow, PortRange, Protocol};
use rdsports_schema::Transport;
use rdsports_schema::plan::{PLAN_SCHEMA_VERSION, PlanDocument, PlanFlow, PortSpan};
use serde::Serialize;

use crate::Format;
use crate::table::Columns;

mod json;

/// The record of `flow` in the JSON contract. Its `catalog_ids` are allocated: fine for a few
/// flows; [`Records`] builds millions without.
pub fn record<'a>(plan: &Plan<'a>, flow: &Flow) -> PlanFlow<'a> {
    let ids: Vec<Cow<'a, str>> = plan
        .catalog_ids(flow)
        .into_iter()
        .map(Cow::Borrowed)
        .collect();
    fields(plan, flow, Cow::Owned(ids))
}

/// The record of `flow` with these `catalog_ids`.
fn fields<'x, 'a: 'x>(
    plan: &Plan<'a>,
    flow: &Flow,
    catalog_ids: Cow<'x, [Cow<'x, str>]>,
) -> PlanFlow<'x> {
    let entry = plan.entry(flow);
    PlanFlow {
        from: Cow::Borrowed(&plan.from(flow).name),
        to: Cow::Borrowed(&plan.to(flow).name),
        protocol: transport(flow.protocol),
        ports: span(flow.ports),
        service: Cow::Borrowed(&entry.service),
        purpose: Cow::Borrowed(&entry.purpose),
        catalog_id: Cow::Borrowed(&entry.id),
        catalog_ids,
        from_zone: Cow::Borrowed(&plan.from_zone(flow).name),
        to_zone: Cow::Borrowed(&plan.to_zone(flow).name),
    }
}

/// The contract's name for a transport.
pub fn transport(p: Protocol) -> Transport {
    match p {
        Protocol::Tcp => Transport::Tcp,
        Protocol::Udp => Transport::Udp,
    }
}

/// The contract's "N" or "N-M" for a port range.
pub fn span(r: PortRange) -> PortSpan {
    PortSpan {
        first: r.start(),
        last: r.end(),
    }
}

/// Builds the JSON records of a plan's flows. A flow that one catalog entry needs (nearly all
/// of them) borrows its one-element `catalog_ids` from here instead of allocating it.
pub struct Records<'r, 'a> {
    plan: &'r Plan<'a>,
    /// Each catalog entry's id, as the `catalog_ids` of the flows it alone needs.
    single: Vec<[Cow<'a, str>; 1]>,
}

impl<'r, 'a> Records<'r, 'a> {
    /// The records of `plan`'s flows.
    pub fn new(plan: &'r Plan<'a>) -> Self {
        Records {
            plan,
            single: plan
                .catalog
                .entries
                .iter()
                .map(|e| [Cow::Borrowed(e.id.as_str())])
                .collect(),
        }
    }

    /// The record of `flow`, one of the plan's flows.
    pub fn of(&self, flow: &Flow) -> PlanFlow<'_> {
        match self.single.get(flow.entry) {
            Some(one) if flow.also.is_empty() => fields(self.plan, flow, Cow::Borrowed(one)),
            _ => record(self.plan, flow),
        }
    }
}

/// The flows of the JSON document, serialised one by one as they are written.
struct FlowList<'x, 'r, 'a> {
    records: &'x Records<'r, 'a>,
    keep: &'x dyn Fn(&Flow) -> bool,
}

impl Serialize for FlowList<'_, '_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.records
                .plan
                .flows
                .iter()
                .filter(|f| (self.keep)(f))
                .map(|f| self.records.of(f)),
        )
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
/// however many flows there are (a 10,000-host farm plans millions). `out` should be
/// buffered: the formats write a flow in many small pieces.
///
/// `warnings` are the deployment's and the plan's warnings as sentences; table and Markdown
/// print them after the flows, JSON carries them, CSV leaves them to the caller (stderr).
pub fn write<W: Write + ?Sized>(
    plan: &Plan<'_>,
    keep: &dyn Fn(&Flow) -> bool,
    warnings: &[String],
    format: Format,
    width: usize,
    out: &mut W,
) -> io::Result<()> {
    match format {
        Format::Json => {
            if let Some(pieces) = json::Pieces::new(plan, warnings)
                && json::write(plan, keep, &pieces, out)?
            {
                return writeln!(out);
            }
            let records = Records::new(plan);
            let doc = PlanDocument {
                schema_version: PLAN_SCHEMA_VERSION,
                deployment: Cow::Borrowed(&plan.deployment.name),
                flows: FlowList {
                    records: &records,
                    keep,
                },
                warnings: Cow::Borrowed(warnings),
            };
            serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::other)?;
            writeln!(out)
        }
        Format::Csv => csv(plan, keep, out),
        Format::Table => table(plan, keep, warnings, width, out),
        Format::Markdown => markdown(plan, keep, warnings, out),
    }
}

/// The plan's flows grouped by (from zone, to zone), in plan order: contiguous slices of
/// `plan.flows` (sorted by zone pair first), with the zone pair. Filtering a group keeps the
/// groups of the filtered flows.
fn boundaries<'p>(plan: &'p Plan<'_>) -> impl Iterator<Item = ((usize, usize), &'p [Flow])> {
    let hosts = &plan.deployment.hosts;
    let zone = move |f: &Flow| (hosts[f.from].zone, hosts[f.to].zone);
    let mut rest = plan.flows.as_slice();
    std::iter::from_fn(move || {
        let first = rest.first()?;
        let key = zone(first);
        let n = rest
            .iter()
            .position(|f| zone(f) != key)
            .unwrap_or(rest.len());
        let (group, tail) = rest.split_at(n);
        rest = tail;
        Some((key, group))
    })
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

/// The widths in characters of what the table's cells are made of, counted once.
struct Widths {
    hosts: Vec<usize>,
    /// Per catalog entry: service, purpose, id.
    entries: Vec<(usize, usize, usize)>,
}

impl Widths {
    fn new(plan: &Plan<'_>) -> Self {
        let chars = |s: &str| s.chars().count();
        Widths {
            hosts: plan
                .deployment
                .hosts
                .iter()
                .map(|h| chars(&h.name))
                .collect(),
            entries: plan
                .catalog
                .entries
                .iter()
                .map(|e| (chars(&e.service), chars(&e.purpose), chars(&e.id)))
                .collect(),
        }
    }

    /// The widths of the cells of `f`'s row ([`TABLE_HEADERS`]).
    fn row(&self, f: &Flow) -> [usize; 7] {
        let digits = |p: u16| p.checked_ilog10().map_or(1, |d| d as usize + 1);
        let ports = if f.ports.start() == f.ports.end() {
            digits(f.ports.start())
        } else {
            digits(f.ports.start()) + 1 + digits(f.ports.end())
        };
        let (service, purpose, id) = self.entries[f.entry];
        let ids = id + f.also.iter().map(|&a| 1 + self.entries[a].2).sum::<usize>();
        [
            self.hosts[f.from],
            self.hosts[f.to],
            f.protocol.name().len(),
            ports,
            service,
            ids,
            purpose,
        ]
    }
}

/// Joins the catalog ids of `f` into `buf` with `sep`.
fn join_ids<'b>(plan: &Plan<'_>, f: &Flow, sep: &str, buf: &'b mut String) -> &'b str {
    buf.clear();
    buf.push_str(&plan.entry(f).id);
    for &a in &f.also {
        buf.push_str(sep);
        buf.push_str(&plan.catalog.entries[a].id);
    }
    buf
}

fn table<W: Write + ?Sized>(
    plan: &Plan<'_>,
    keep: &dyn Fn(&Flow) -> bool,
    warnings: &[String],
    width: usize,
    out: &mut W,
) -> io::Result<()> {
    writeln!(
        out,
        "deployment {}: {} flows between {} hosts in {} zones",
        plan.deployment.name,
        plan.flows.iter().filter(|f| keep(f)).count(),
        plan.deployment.hosts.len(),
        plan.deployment.zones.len()
    )?;
    let widths = Widths::new(plan);
    let mut ids = String::new();
    for (key, group) in boundaries(plan) {
        let n = group.iter().filter(|f| keep(f)).count();
        if n == 0 {
            continue;
        }
        writeln!(out)?;
        writeln!(out, "{}", heading(plan, key, n))?;
        // Measure first, then write: the rows are never held.
        let mut columns = Columns::new(&TABLE_HEADERS, true);
        for f in group.iter().filter(|f| keep(f)) {
            for (column, w) in widths.row(f).into_iter().enumerate() {
                columns.widen(column, w);
            }
        }
        let mut rows = columns.rows(width, 2);
        rows.write(out, &TABLE_HEADERS)?;
        for f in group.iter().filter(|f| keep(f)) {
            let entry = plan.entry(f);
            let w = widths.row(f);
            let mut buf = [0; 11];
            rows.write_counted(
                out,
                &[
                    (plan.from(f).name.as_str(), w[0]),
                    (&plan.to(f).name, w[1]),
                    (f.protocol.name(), w[2]),
                    (span(f.ports).text(&mut buf), w[3]),
                    (&entry.service, w[4]),
                    (join_ids(plan, f, ",", &mut ids), w[5]),
                    (&entry.purpose, w[6]),
                ],
            )?;
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

fn csv<W: Write + ?Sized>(
    plan: &Plan<'_>,
    keep: &dyn Fn(&Flow) -> bool,
    out: &mut W,
) -> io::Result<()> {
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
    let mut ids = String::new();
    for f in plan.flows.iter().filter(|f| keep(f)) {
        let entry = plan.entry(f);
        let mut buf = [0; 11];
        w.write_record([
            plan.from(f).name.as_str(),
            &plan.to(f).name,
            f.protocol.name(),
            span(f.ports).text(&mut buf),
            &entry.service,
            &entry.id,
            join_ids(plan, f, " ", &mut ids),
            &plan.from_zone(f).name,
            &plan.to_zone(f).name,
            &entry.purpose,
        ])?;
    }
    w.flush()
}

fn markdown<W: Write + ?Sized>(
    plan: &Plan<'_>,
    keep: &dyn Fn(&Flow) -> bool,
    warnings: &[String],
    out: &mut W,
) -> io::Result<()> {
    writeln!(out, "# Flows of {}\n", Md(&plan.deployment.name))?;
    let mut ids = String::new();
    for (key, group) in boundaries(plan) {
        let n = group.iter().filter(|f| keep(f)).count();
        if n == 0 {
            continue;
        }
        writeln!(out, "## {}\n", Md(&heading(plan, key, n)))?;
        out.write_all(b"| from | to | protocol | ports | service | catalog | purpose |\n")?;
        out.write_all(b"|---|---|---|---|---|---|---|\n")?;
        for f in group.iter().filter(|f| keep(f)) {
            let entry = plan.entry(f);
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                Md(&plan.from(f).name),
                Md(&plan.to(f).name),
                f.protocol.name(),
                f.ports,
                Md(&entry.service),
                join_ids(plan, f, ", ", &mut ids),
                Md(&entry.purpose)
            )?;
        }
        writeln!(out)?;
    }
    if !warnings.is_empty() {
        out.write_all(b"## Warnings\n\n")?;
        for w in warnings {
            writeln!(out, "- {}", Md(w))?;
        }
    }
    Ok(())
}

/// Text escaped for a Markdown table cell, written without a `String` of its own.
struct Md<'s>(&'s str);

impl fmt::Display for Md<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['|', '\\', '*', '_', '`', '<', '>', '[', ']', '\n', '\r']) {
            f.write_str(&rest[..i])?;
            let c = rest.as_bytes()[i];
            if c == b'\n' || c == b'\r' {
                f.write_str(" ")?;
            } else {
                f.write_char('\\')?;
                f.write_char(char::from(c))?;
            }
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

/// Escapes text for a Markdown table cell.
pub(crate) fn md(text: &str) -> String {
    Md(text).to_string()
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

    /// The document as serde_json writes it from the schema's types, one record per flow.
    fn serialised(plan: &Plan<'_>, keep: &dyn Fn(&Flow) -> bool, warnings: &[String]) -> String {
        let doc: PlanDocument<'_> = PlanDocument {
            schema_version: PLAN_SCHEMA_VERSION,
            deployment: Cow::Borrowed(&plan.deployment.name),
            flows: plan
                .flows
                .iter()
                .filter(|f| keep(f))
                .map(|f| record(plan, f))
                .collect(),
            warnings: Cow::Borrowed(warnings),
        };
        serde_json::to_string_pretty(&doc).unwrap() + "\n"
    }

    #[test]
    fn json_from_pieces_is_what_serde_json_writes() {
        let warnings = ["a \"quoted\" \\ warning\nwith a line break and ünïcode".to_owned()];
        for text in [
            EXAMPLE,
            include_str!("../../../examples/large-farm.toml"),
            include_str!("../../../examples/single-server.toml"),
        ] {
            let c = Catalog::builtin().unwrap();
            let d = Deployment::parse(text).unwrap();
            let p = rdsports_core::plan::plan(&c, &d);
            assert!(json::Pieces::new(&p, &warnings).is_some());
            assert!(p.flows.iter().any(|f| !f.also.is_empty()));
            for keep in [
                &(|_: &Flow| true) as &dyn Fn(&Flow) -> bool,
                &|f: &Flow| f.to == 1,
                &|_: &Flow| false,
            ] {
                for w in [&warnings[..], &[]] {
                    assert_eq!(
                        render(&p, keep, w, Format::Json, 80),
                        serialised(&p, keep, w)
                    );
                }
            }
        }
    }

    #[test]
    fn json_falls_back_to_serde_when_a_marker_is_in_the_text() {
        let c = Catalog::builtin().unwrap();
        let mut d = Deployment::parse(EXAMPLE).unwrap();
        d.name = "\u{E000}\u{E100}".to_owned();
        let p = rdsports_core::plan::plan(&c, &d);
        assert!(json::Pieces::new(&p, &[]).is_none());
        assert_eq!(
            render(&p, &|_| true, &[], Format::Json, 80),
            serialised(&p, &|_| true, &[])
        );
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
