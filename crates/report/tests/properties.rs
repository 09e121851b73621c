//! Properties: the check-result parser never panics, and any printable host and zone names
//! give well-formed SVG, DOT strings that round-trip, and HTML where names stay text.

use std::fmt::Write as _;

use proptest::prelude::*;
use quick_xml::Reader;
use quick_xml::events::Event;
use rdsports_core::{Catalog, Deployment};
use rdsports_report::diagram::Graph;
use rdsports_report::html::{ReportInput, render};
use rdsports_schema::check::CheckDocument;

const CHECK: &str = include_str!("fixtures/check-gw01.json");
const ROLES: [&str; 8] = [
    "client",
    "gateway",
    "web-access",
    "connection-broker",
    "session-host",
    "licensing",
    "domain-controller",
    "nps",
];

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Printable names of up to 24 characters that are not blank.
fn name() -> impl Strategy<Value = String> {
    "\\PC{1,24}".prop_filter("blank", |s| !s.trim().is_empty())
}

fn deployment_text(zones: &[String], hosts: &[(String, usize, usize)]) -> String {
    let mut t = format!("name = {}\n", toml_str(&zones[0]));
    for (i, z) in zones.iter().enumerate() {
        let _ = writeln!(
            t,
            "[[zone]]\nname = {}\nnetworks = [\"198.18.{i}.0/24\"]",
            toml_str(z)
        );
    }
    for (i, (name, role, zone)) in hosts.iter().enumerate() {
        let _ = writeln!(
            t,
            "[[host]]\nname = {}\naddress = \"198.18.{}.{}\"\nroles = [\"{}\"]",
            toml_str(name),
            zone % zones.len(),
            i + 1,
            ROLES[role % ROLES.len()]
        );
    }
    t
}

/// Element count with attribute `attr`; panics on malformed XML.
fn count_attr(xml: &str, attr: &str) -> usize {
    let mut reader = Reader::from_str(xml);
    let mut n = 0;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                if e.attributes().any(|a| a.unwrap().key.as_ref() == attr) {
                    n += 1;
                }
            }
            Ok(Event::Eof) => return n,
            Ok(_) => {}
            Err(e) => panic!("malformed SVG: {e}"),
        }
    }
}

proptest! {
    #[test]
    fn check_parser_never_panics_on_any_text(text in any::<String>()) {
        let _ = CheckDocument::parse(&text);
    }

    #[test]
    fn check_parser_never_panics_on_cut_or_edited_files(
        cut in 0..CHECK.len(),
        at in 0..CHECK.len(),
        insert in "[\\[\\]{}\":,0-9a-z\\\\ -]{0,8}",
    ) {
        let cut = CHECK.char_indices().map(|(i, _)| i).take_while(|&i| i <= cut).last().unwrap_or(0);
        let _ = CheckDocument::parse(&CHECK[..cut]);
        let at = CHECK.char_indices().map(|(i, _)| i).take_while(|&i| i <= at).last().unwrap_or(0);
        let edited = format!("{}{insert}{}", &CHECK[..at], &CHECK[at..]);
        let _ = CheckDocument::parse(&edited);
    }

    #[test]
    fn any_names_render_safely(
        zones in prop::collection::btree_set(name(), 3),
        hosts in prop::collection::btree_map(name(), (0usize..8, 0usize..3), 1..10),
    ) {
        let zones: Vec<String> = zones.into_iter().collect();
        let hosts: Vec<(String, usize, usize)> =
            hosts.into_iter().map(|(n, (r, z))| (n, r, z)).collect();
        let text = deployment_text(&zones, &hosts);
        let catalog = Catalog::builtin().unwrap();
        let deployment = Deployment::parse(&text)
            .unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        let plan = rdsports_core::plan::plan(&catalog, &deployment);
        let graph = Graph::new(&plan);

        let svg = graph.svg();
        prop_assert_eq!(count_attr(&svg, "data-node"), graph.nodes.len());
        prop_assert_eq!(count_attr(&svg, "data-edge"), graph.edges.len());

        let dot = graph.dot();
        for line in dot.lines() {
            let quotes = line.replace("\\\\", "").replace("\\\"", "").matches('"').count();
            prop_assert_eq!(quotes % 2, 0, "{}", line);
        }

        let html = render(&ReportInput {
        diff: None,
            plan: &plan,
            warnings: &plan.warnings,
            windows_rules: hosts.iter().map(|(n, _, _)| (n.clone(), n.clone())).collect(),
            checks: Vec::new(),
        lint: Vec::new(),
        fleet: None,
        audits: Vec::new(),
        });
        prop_assert_eq!(html.matches("<script").count(), 1);
        prop_assert_eq!(html.matches("<tr data-host=").count(), hosts.len());
        for (n, _, _) in &hosts {
            let escaped = n
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\'', "&#39;");
            let cell = format!("<td class=\"host\">{escaped}</td>");
            prop_assert!(html.contains(&cell), "{}", cell);
        }
    }
}
