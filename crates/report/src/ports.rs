//! The catalog (`rdsports ports`) as a table, JSON, CSV or Markdown, and the explanation of
//! one port or catalog id (`rdsports ports 5504`).
//!
//! Ports written as parameters (`rdp`, `rpc` ...) are shown with their default values, as a
//! deployment without options would get them.

use std::fmt::Write as _;

use rdsports_core::catalog::{Catalog, Entry, PortRef, SEED};
use rdsports_core::deployment::Options;
use rdsports_core::plan::resolve;
use rdsports_core::{PortRange, Protocol, Role};
use rdsports_schema::ports::{CatalogEntry, Confidence, PORTS_SCHEMA_VERSION, PortsDocument};

use crate::Format;
use crate::plan::{md, span, transport};
use crate::table::Table;

/// Which catalog entries to show.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Entries with this role on either side.
    pub role: Option<Role>,
    /// Entries whose (default) ports include this port.
    pub port: Option<u16>,
    /// Entries of this service.
    pub service: Option<String>,
    /// Entries that use this protocol.
    pub protocol: Option<Protocol>,
}

impl Filter {
    /// Whether `entry` passes the filter.
    pub fn matches(&self, entry: &Entry) -> bool {
        self.role
            .is_none_or(|r| entry.from.contains(&r) || entry.to.contains(&r))
            && self
                .port
                .is_none_or(|p| default_ports(entry).iter().any(|r| r.contains(p)))
            && self.service.as_ref().is_none_or(|s| entry.service == *s)
            && self.protocol.is_none_or(|p| entry.protocols.contains(&p))
    }
}

/// The entry's ports with every parameter at its default value. A parameter without a
/// default (the FTP passive range) is left out.
pub fn default_ports(entry: &Entry) -> Vec<PortRange> {
    let o = Options::default();
    entry.ports.iter().filter_map(|p| resolve(*p, &o)).collect()
}

/// `443`, `135, 49152-65535`: the entry's ports at their defaults (a parameter without a
/// default by its name, such as `ftp-passive`).
pub fn ports_text(entry: &Entry) -> String {
    let o = Options::default();
    entry
        .ports
        .iter()
        .map(|p: &PortRef| resolve(*p, &o).map_or_else(|| p.to_string(), |r| r.to_string()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn roles_text(roles: &[Role]) -> String {
    roles.iter().map(|r| r.name()).collect::<Vec<_>>().join("|")
}

fn protocols_text(entry: &Entry) -> String {
    entry
        .protocols
        .iter()
        .map(|p| p.name())
        .collect::<Vec<_>>()
        .join("+")
}

fn when_text(entry: &Entry) -> String {
    if entry.when.is_empty() {
        "always".to_owned()
    } else {
        entry
            .when
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" and ")
    }
}

/// The entry as the JSON document ([`rdsports_schema::ports`]) carries it.
pub fn catalog_entry(e: &Entry) -> CatalogEntry {
    CatalogEntry {
        id: e.id.clone(),
        from: e.from.iter().map(|r| r.name().to_owned()).collect(),
        to: e.to.iter().map(|r| r.name().to_owned()).collect(),
        protocols: e.protocols.iter().map(|&p| transport(p)).collect(),
        ports: e.ports.iter().map(ToString::to_string).collect(),
        default_ports: default_ports(e).into_iter().map(span).collect(),
        service: e.service.clone(),
        purpose: e.purpose.clone(),
        when: e.when.iter().map(ToString::to_string).collect(),
        configurable: e.is_configurable(),
        configure: e.configure.clone(),
        confidence: match e.confidence {
            rdsports_core::catalog::Confidence::High => Confidence::High,
            rdsports_core::catalog::Confidence::Medium => Confidence::Medium,
            rdsports_core::catalog::Confidence::Low => Confidence::Low,
        },
        section: e.source.section.clone(),
        seed_lines: e.source.seed_lines.clone(),
        seed_text: e.source.seed_lines.iter().map(|n| seed_line(*n)).collect(),
        reference: e.source.reference.clone(),
    }
}

/// Line `n` (1-based) of the seed document, trimmed.
pub fn seed_line(n: usize) -> String {
    SEED.lines()
        .nth(n.saturating_sub(1))
        .unwrap_or("")
        .replace('\u{a0}', " ")
        .trim()
        .to_owned()
}

/// Renders the entries that pass `filter`.
pub fn render(catalog: &Catalog, filter: &Filter, format: Format, width: usize) -> String {
    let entries: Vec<&Entry> = catalog
        .entries
        .iter()
        .filter(|e| filter.matches(e))
        .collect();
    match format {
        Format::Json => {
            let doc = PortsDocument {
                schema_version: PORTS_SCHEMA_VERSION,
                flows: entries.iter().map(|e| catalog_entry(e)).collect(),
            };
            let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::Csv => {
            let mut w = ::csv::Writer::from_writer(Vec::new());
            let _ = w.write_record([
                "id",
                "from",
                "to",
                "protocol",
                "ports",
                "service",
                "purpose",
                "when",
                "configurable",
                "confidence",
                "seed_lines",
                "reference",
            ]);
            for e in &entries {
                let lines = e
                    .source
                    .seed_lines
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ");
                let _ = w.write_record([
                    e.id.as_str(),
                    &roles_text(&e.from),
                    &roles_text(&e.to),
                    &protocols_text(e),
                    &ports_text(e),
                    &e.service,
                    &e.purpose,
                    &when_text(e),
                    if e.is_configurable() { "yes" } else { "no" },
                    e.confidence.name(),
                    &lines,
                    e.source.reference.as_deref().unwrap_or(""),
                ]);
            }
            String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
        }
        Format::Markdown => {
            let mut out = String::from(
                "| id | from | to | protocol | ports | service | purpose | when | seed lines |\n|---|---|---|---|---|---|---|---|---|\n",
            );
            for e in &entries {
                let lines = e
                    .source
                    .seed_lines
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {}{} | {} | {} |",
                    e.id,
                    md(&roles_text(&e.from).replace('|', ", ")),
                    md(&roles_text(&e.to).replace('|', ", ")),
                    protocols_text(e),
                    ports_text(e),
                    md(&e.service),
                    md(&e.purpose),
                    match e.confidence {
                        rdsports_core::catalog::Confidence::Low =>
                            " (low confidence, off by default)",
                        _ => "",
                    },
                    md(&when_text(e)),
                    if lines.is_empty() {
                        "—".to_owned()
                    } else {
                        lines
                    },
                );
            }
            out
        }
        Format::Table => {
            let mut t = Table::new(&["ID", "FROM", "TO", "PROTO", "PORTS", "SERVICE", "PURPOSE"])
                .flexible_last();
            for e in &entries {
                t.row(vec![
                    e.id.clone(),
                    short_roles(&e.from),
                    short_roles(&e.to),
                    protocols_text(e),
                    ports_text(e).replace(", ", ","),
                    e.service.clone(),
                    e.purpose.clone(),
                ]);
            }
            let mut out = t.render(width, 0);
            let _ = writeln!(
                out,
                "\n{} of {} catalog entries",
                entries.len(),
                catalog.entries.len()
            );
            out
        }
    }
}

/// Roles as short labels; long lists read "any member" (the domain-member baseline) or
/// "RDS servers" (WinRM management).
fn short_roles(roles: &[Role]) -> String {
    if roles.len() > 4 {
        let members = roles.contains(&Role::Nps);
        return if members { "any member" } else { "RDS servers" }.to_owned();
    }
    roles
        .iter()
        .map(|r| r.label())
        .collect::<Vec<_>>()
        .join("|")
}

/// What `rdsports ports QUERY` explains: a port number or a catalog id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// Every entry whose default ports include this port.
    Port(u16),
    /// One entry (or the entries of one seed row, `S05` for `S05a` and `S05b`).
    Id(String),
}

/// The entries `query` selects, in catalog order.
pub fn select<'c>(catalog: &'c Catalog, query: &Query) -> Vec<&'c Entry> {
    catalog
        .entries
        .iter()
        .filter(|e| match query {
            Query::Port(p) => default_ports(e).iter().any(|r| r.contains(*p)),
            Query::Id(id) => {
                e.id.eq_ignore_ascii_case(id)
                    || (e.id.len() == id.len() + 1
                        && e.id[..id.len()].eq_ignore_ascii_case(id)
                        && e.id.ends_with(|c: char| c.is_ascii_lowercase()))
            }
        })
        .collect()
}

/// Explains the entries `query` selects: who connects to whom, why, when, how to change the
/// port and the seed line it comes from. JSON gives the same records as `render`.
pub fn explain(catalog: &Catalog, query: &Query, format: Format, width: usize) -> String {
    let entries = select(catalog, query);
    if format != Format::Table {
        let ids: Vec<&str> = entries.iter().map(|e| e.id.as_str()).collect();
        let keep = Catalog {
            entries: catalog
                .entries
                .iter()
                .filter(|e| ids.contains(&e.id.as_str()))
                .cloned()
                .collect(),
        };
        return render(&keep, &Filter::default(), format, width);
    }
    let mut out = String::new();
    for (i, e) in entries.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "{} {}  {}  [{}]",
            protocols_text(e).to_uppercase(),
            ports_text(e),
            e.service,
            e.id
        );
        let _ = writeln!(
            out,
            "  {} -> {}",
            roles_text(&e.from).replace('|', ", "),
            roles_text(&e.to).replace('|', ", ")
        );
        let _ = writeln!(out, "  why:        {}", e.purpose);
        let _ = writeln!(out, "  when:       {}{}", when_text(e), both_roles(e));
        let _ = writeln!(
            out,
            "  change:     {}",
            e.configure
                .as_deref()
                .unwrap_or("no documented way to change this port")
        );
        let _ = writeln!(
            out,
            "  confidence: {}{}",
            e.confidence.name(),
            match e.confidence {
                rdsports_core::catalog::Confidence::Low =>
                    " (planned only with option low_confidence = true)",
                _ => "",
            }
        );
        if let Some(section) = &e.source.section {
            let _ = writeln!(out, "  seed:       {section}");
        }
        for n in &e.source.seed_lines {
            let _ = writeln!(out, "    line {n:>2}: {}", seed_line(*n));
        }
        if let Some(r) = &e.source.reference {
            let _ = writeln!(out, "  reference:  {r}");
        }
    }
    out
}

fn both_roles(e: &Entry) -> &'static str {
    if e.when.is_empty() {
        " (whenever hosts of both roles exist)"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::builtin().unwrap()
    }

    #[test]
    fn explains_5504_with_its_seed_lines() {
        let text = explain(&catalog(), &Query::Port(5504), Format::Table, 100);
        assert!(
            text.starts_with(
                "TCP 5504  rdcb-publishing  [S06]\n  web-access -> connection-broker\n"
            ),
            "{text}"
        );
        assert!(text.contains("line 24: - TCP 5504: connection to RD Web Access"));
        assert!(text.contains(
            "line 55: - TCP 5504: connection to RD Connection Broker for centralized publishing"
        ));
        assert!(text.contains("[A05]"));
        assert!(
            !text.contains("S21b"),
            "the FTP passive range has no default port"
        );
        assert!(text.contains("change:     no documented way"));
    }

    #[test]
    fn ids_select_split_rows() {
        let c = catalog();
        let ids: Vec<&str> = select(&c, &Query::Id("s05".into()))
            .iter()
            .map(|e| e.id.as_str())
            .collect();
        assert_eq!(ids, ["S05a", "S05b"]);
        assert_eq!(select(&c, &Query::Id("S14".into())).len(), 1);
        assert!(
            select(&c, &Query::Port(49200))
                .iter()
                .any(|e| e.id == "S28b")
        );
    }

    #[test]
    fn filters_combine() {
        let c = catalog();
        let f = Filter {
            role: Some(Role::Nps),
            protocol: Some(Protocol::Udp),
            ..Filter::default()
        };
        let text = render(&c, &f, Format::Csv, 80);
        assert!(
            text.lines()
                .any(|l| l.starts_with("S22,gateway,nps,udp,\"1812, 1813\",radius")),
            "{text}"
        );
        let f = Filter {
            service: Some("kerberos".into()),
            ..Filter::default()
        };
        let v: serde_json::Value = serde_json::from_str(&render(&c, &f, Format::Json, 80)).unwrap();
        let ids: Vec<&str> = v["flows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["S14", "D02"]);
        assert_eq!(
            v["flows"][0]["seed_text"][0],
            "- TCP 88: Kerberos for user authentication"
        );
    }

    #[test]
    fn table_fits_80_columns() {
        for line in render(&catalog(), &Filter::default(), Format::Table, 80).lines() {
            assert!(line.chars().count() <= 80, "{line}");
        }
    }
}
