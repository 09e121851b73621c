use std::fmt::Write as _;

use quick_xml::Reader;
use quick_xml::events::Event;
use rdsports_core::{Catalog, Deployment};

use super::*;

const PERIMETER: &str = include_str!("../../../../examples/perimeter.toml");
const LARGE: &str = include_str!("../../../../examples/large-farm.toml");
const HOSTILE: &str = include_str!("../../tests/fixtures/hostile.toml");

fn with_plan<T>(text: &str, f: impl FnOnce(&Plan<'_>) -> T) -> T {
    let c = Catalog::builtin().unwrap();
    let d = Deployment::parse(text).unwrap();
    let p = rdsports_core::plan::plan(&c, &d);
    f(&p)
}

/// What an XML document holds, read with a real parser (which fails on malformed XML).
struct Xml {
    /// (element name, attributes) of every element.
    elements: Vec<(String, Vec<(String, String)>)>,
    /// The text of every text run, entity references resolved.
    texts: Vec<String>,
}

fn parse_xml(doc: &str) -> Xml {
    let mut reader = Reader::from_str(doc);
    let mut elements = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut text = String::new();
    loop {
        let ev = reader
            .read_event()
            .unwrap_or_else(|e| panic!("bad XML: {e}"));
        match ev {
            Event::Start(e) | Event::Empty(e) => {
                texts.push(std::mem::take(&mut text));
                let name: String = e.name().as_ref().to_owned();
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        (
                            a.key.as_ref().to_owned(),
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .unwrap()
                                .into_owned(),
                        )
                    })
                    .collect();
                elements.push((name, attrs));
            }
            Event::End(_) => texts.push(std::mem::take(&mut text)),
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => match r.resolve_char_ref().unwrap() {
                Some(c) => text.push(c),
                None => text.push(match r.xml10_content().as_ref() {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    other => panic!("unknown entity {other}"),
                }),
            },
            Event::Eof => break,
            Event::CData(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {
                panic!("unexpected {ev:?}")
            }
            Event::Decl(_) => {}
        }
    }
    texts.retain(|t| !t.is_empty());
    Xml { elements, texts }
}

fn count_attr(xml: &Xml, attr: &str) -> usize {
    xml.elements
        .iter()
        .filter(|(_, a)| a.iter().any(|(k, _)| k == attr))
        .count()
}

#[test]
fn hosts_with_the_same_roles_in_a_zone_fold_into_one_node() {
    with_plan(LARGE, |p| {
        let g = Graph::new(p);
        let farm = g
            .nodes
            .iter()
            .find(|n| n.roles == [Role::SessionHost])
            .unwrap();
        assert_eq!(farm.hosts.len(), 200);
        assert_eq!(farm.title, "sh001 … sh200");
        assert_eq!(farm.subtitle, "200 × RDSH");
        assert!(
            farm.tooltip.ends_with(", sh050 and 150 more"),
            "{}",
            farm.tooltip
        );
        let brokers = g
            .nodes
            .iter()
            .find(|n| n.title.starts_with("cb01"))
            .unwrap();
        assert_eq!(brokers.title, "cb01, cb02, cb03");
        assert_eq!(brokers.subtitle, "3 × RDCB");
        // Every host is in exactly one node, every flow in exactly one edge.
        let mut hosts: Vec<usize> = g.nodes.iter().flat_map(|n| n.hosts.clone()).collect();
        hosts.sort_unstable();
        assert_eq!(hosts, (0..p.deployment.hosts.len()).collect::<Vec<_>>());
        assert_eq!(
            g.edges.iter().map(|e| e.flows).sum::<usize>(),
            p.flows.len()
        );
        let names: Vec<&str> = g.clusters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["internet", "perimeter", "servers", "farm"]);
    });
}

#[test]
fn perimeter_graph_has_the_expected_nodes_and_edges() {
    with_plan(PERIMETER, |p| {
        let g = Graph::new(p);
        let titles: Vec<(&str, &str)> = g
            .nodes
            .iter()
            .map(|n| (n.title.as_str(), n.subtitle.as_str()))
            .collect();
        assert_eq!(
            titles,
            [
                ("clients", "Client"),
                ("clearinghouse", "Clearinghouse"),
                ("gw01", "RDG + RDWA"),
                // cb01 takes role management by default, so it is not folded with cb02.
                ("cb01", "RDCB + MGMT"),
                ("cb02", "RDCB"),
                ("sh01, sh02, sh03", "3 × RDSH"),
                ("ls01", "RDLS"),
                ("dc01", "DC + DNS"),
                ("nps01", "NPS"),
                ("pki01", "CDP"),
            ]
        );
        let clients_gw = g.edges.iter().find(|e| e.from == 0 && e.to == 2).unwrap();
        assert_eq!(clients_gw.label(), "tcp 443; udp 3391");
        assert!(clients_gw.crosses);
        let rdp = g.edges.iter().find(|e| e.from == 2 && e.to == 5).unwrap();
        assert_eq!(rdp.label(), "tcp 3389; udp 3389");
        assert_eq!(rdp.flows, 6);
        let inner = g.edges.iter().find(|e| e.from == 5 && e.to == 7).unwrap();
        assert!(!inner.crosses);
        // Edges are unique per (from, to) and sorted.
        let keys: Vec<(usize, usize)> = g.edges.iter().map(|e| (e.from, e.to)).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(keys, sorted);
    });
}

#[test]
fn long_labels_are_shortened_deterministically() {
    let r = |a, b| PortRange::new(a, b).unwrap();
    let e = Edge {
        from: 0,
        to: 1,
        ports: vec![
            (Protocol::Tcp, r(53, 53)),
            (Protocol::Tcp, r(88, 88)),
            (Protocol::Tcp, r(135, 135)),
            (Protocol::Tcp, r(49152, 65535)),
            (Protocol::Udp, r(53, 53)),
            (Protocol::Udp, r(123, 123)),
        ],
        services: vec![],
        flows: 6,
        crosses: true,
    };
    assert_eq!(e.label(), "tcp 53, 88, 135, 49152-65535; udp 53, 123");
    assert_eq!(e.label_within(100), e.label());
    assert_eq!(e.label_within(20), "tcp 53, 88, 135 …+3");
    assert!(e.label_within(20).chars().count() <= 20);
    assert_eq!(e.label_within(12), "tcp 53 …+5");
    assert_eq!(e.label_within(3), "…+6");
    for max in 0..60 {
        let l = e.label_within(max);
        assert!(l.chars().count() <= max.max(4), "{max}: {l}");
    }
}

#[test]
fn labels_wrap_after_separators() {
    assert_eq!(
        wrap(
            "tcp 53, 88, 135, 389, 445, 3268, 49152-65535; udp 53, 88",
            20
        ),
        [
            "tcp 53, 88, 135,",
            "389, 445, 3268,",
            "49152-65535; udp 53,",
            "88"
        ]
    );
    assert_eq!(wrap("tcp 443", 3), ["tcp 443"]);
    assert!(wrap("", 10).is_empty());
}

#[test]
fn formats_parse_from_their_names() {
    for f in DiagramFormat::ALL {
        assert_eq!(f.name().parse::<DiagramFormat>(), Ok(f));
    }
    assert!("png".parse::<DiagramFormat>().unwrap_err().contains("png"));
}

#[test]
fn svg_is_well_formed_and_counts_nodes_and_edges() {
    for text in [PERIMETER, LARGE] {
        with_plan(text, |p| {
            let g = Graph::new(p);
            let svg = g.svg();
            let xml = parse_xml(&svg);
            assert_eq!(count_attr(&xml, "data-node"), g.nodes.len());
            assert_eq!(count_attr(&xml, "data-edge"), g.edges.len());
            assert_eq!(count_attr(&xml, "data-zone"), g.clusters.len());
            assert_eq!(count_attr(&xml, "data-label"), g.edges.len());
            for n in &g.nodes {
                assert!(xml.texts.contains(&n.title), "{}", n.title);
            }
            // Deterministic.
            assert_eq!(svg, g.svg());
            assert_eq!(svg, render(p, DiagramFormat::Svg));
        });
    }
}

#[test]
fn svg_labels_do_not_overlap_each_other() {
    with_plan(PERIMETER, |p| {
        let g = Graph::new(p);
        let xml = parse_xml(&g.svg());
        let rects: Vec<(f64, f64, f64, f64)> = xml
            .elements
            .windows(2)
            .filter(|w| w[0].1.iter().any(|(k, _)| k == "data-label"))
            .map(|w| {
                let get = |k: &str| -> f64 {
                    w[1].1
                        .iter()
                        .find(|(a, _)| a == k)
                        .unwrap()
                        .1
                        .parse()
                        .unwrap()
                };
                (get("x"), get("y"), get("width"), get("height"))
            })
            .collect();
        assert_eq!(rects.len(), g.edges.len());
        for (i, a) in rects.iter().enumerate() {
            for b in &rects[i + 1..] {
                let apart =
                    a.0 + a.2 <= b.0 || b.0 + b.2 <= a.0 || a.1 + a.3 <= b.1 || b.1 + b.3 <= a.1;
                assert!(apart, "{a:?} {b:?}");
            }
        }
    });
}

#[test]
fn hostile_names_are_escaped_in_every_format() {
    with_plan(HOSTILE, |p| {
        let g = Graph::new(p);
        let names: Vec<&str> = p.deployment.hosts.iter().map(|h| h.name.as_str()).collect();

        // SVG: well-formed, and every name comes back as text.
        let xml = parse_xml(&g.svg());
        for n in &g.nodes {
            assert!(xml.texts.contains(&n.title), "{}", n.title);
        }
        for z in &p.deployment.zones {
            assert!(xml.texts.contains(&z.name), "{}", z.name);
        }
        let elements: Vec<&str> = xml.elements.iter().map(|(n, _)| n.as_str()).collect();
        assert!(
            !elements.contains(&"script") && !elements.contains(&"b"),
            "{elements:?}"
        );

        // DOT: identifiers are generated; inside quoted strings every quote and backslash
        // is escaped, so unescaping the strings gives back the names.
        let dot = g.dot();
        let strings = dot_strings(&dot);
        for name in &names {
            assert!(
                strings.iter().any(|s| s.contains(name)),
                "{name} not in {strings:?}"
            );
        }
        assert!(dot.contains("\"n0\" [label="));
        for line in dot.lines() {
            let quotes = line
                .replace("\\\\", "")
                .replace("\\\"", "")
                .matches('"')
                .count();
            assert_eq!(quotes % 2, 0, "{line}");
        }

        // Mermaid: labels hold no raw quote, bracket-breaking or HTML characters.
        let mmd = g.mermaid();
        for line in mmd
            .lines()
            .filter(|l| l.contains("[\"") || l.contains("|\""))
        {
            let inner: String = line
                .split_once('"')
                .and_then(|(_, rest)| rest.rsplit_once('"'))
                .map(|(label, _)| label.to_owned())
                .unwrap();
            let plain = inner.replace("<br/>", "");
            for c in ['"', '<', '>', '&', '|', '`', '%'] {
                assert!(!plain.contains(c), "{c} in {line}");
            }
        }
        assert!(
            mmd.contains("#34;#62;#60;script#62;alert(1)#60;/script#62;"),
            "{mmd}"
        );
        assert!(mmd.contains("[\"end<br/>RDG + RDWA\"]"), "{mmd}");
        // Mermaid reads `#word;` as an entity code anywhere, even in a colour followed by a
        // semicolon: the only ones in the output are the codes of the characters we escape.
        for text in [
            mmd.as_str(),
            &with_plan(PERIMETER, |p| Graph::new(p).mermaid()),
        ] {
            for (i, _) in text.match_indices('#') {
                let rest = &text[i + 1..];
                let word: String = rest
                    .chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .collect();
                if rest[word.len()..].starts_with(';') {
                    let ours = ["34", "35", "37", "38", "60", "62", "92", "96", "124"];
                    assert!(ours.contains(&word.as_str()), "#{word}; in {text}");
                }
            }
        }
    });
}

/// The unescaped contents of DOT's double-quoted strings.
fn dot_strings(dot: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = dot.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => s.push('\n'),
                    Some(c) => s.push(c),
                    None => break,
                },
                '"' => break,
                c => s.push(c),
            }
        }
        out.push(s);
    }
    out
}

#[test]
fn ten_thousand_hosts_fold_into_a_small_diagram() {
    let mut text = String::from(
        "name = \"big\"\n[[zone]]\nname = \"internet\"\nnetworks = [\"0.0.0.0/0\"]\n\
         [[zone]]\nname = \"internal\"\nnetworks = [\"198.18.0.0/15\"]\n\
         [[host]]\nname = \"clients\"\naddress = \"0.0.0.0/0\"\nroles = [\"client\"]\n\
         [[host]]\nname = \"cb01\"\naddress = \"198.19.255.1\"\nroles = [\"connection-broker\"]\n\
         [[host]]\nname = \"dc01\"\naddress = \"198.19.255.2\"\nroles = [\"domain-controller\"]\n",
    );
    for i in 0..10_000u32 {
        let _ = write!(
            text,
            "[[host]]\nname = \"sh{i:05}\"\naddress = \"198.18.{}.{}\"\nroles = [\"session-host\"]\n",
            i / 250,
            i % 250 + 1
        );
    }
    with_plan(&text, |p| {
        let g = Graph::new(p);
        assert_eq!(g.nodes.len(), 4);
        let farm = g.nodes.iter().find(|n| n.hosts.len() == 10_000).unwrap();
        assert_eq!(farm.title, "sh00000 … sh09999");
        assert_eq!(farm.subtitle, "10000 × RDSH");
        let svg = g.svg();
        let xml = parse_xml(&svg);
        assert_eq!(count_attr(&xml, "data-node"), 4);
        assert_eq!(count_attr(&xml, "data-edge"), g.edges.len());
        assert!(svg.len() < 64 * 1024, "{}", svg.len());
    });
}

/// A host with settings of its own (sh03 on RDP 3390 without UDP, gw02 on HTTPS 8443) is a
/// node of its own: its edges carry its ports, never folded with its role mates'.
#[test]
fn hosts_with_their_own_ports_are_nodes_of_their_own() {
    let text = include_str!("../../../policy/tests/fixtures/per-host.toml");
    with_plan(text, |p| {
        let g = Graph::new(p);
        let node = |title: &str| {
            g.nodes
                .iter()
                .position(|n| n.title == title)
                .unwrap_or_else(|| panic!("{title}: {:?}", g.nodes))
        };
        let (clients, gw01, gw02) = (node("clients"), node("gw01"), node("gw02"));
        let (sh, sh03) = (node("sh01, sh02"), node("sh03"));
        assert_eq!(g.nodes[sh].subtitle, "2 × RDSH");
        let edge = |a: usize, b: usize| {
            g.edges
                .iter()
                .find(|e| e.from == a && e.to == b)
                .map(Edge::label)
        };
        assert_eq!(edge(gw01, sh).as_deref(), Some("tcp 3389; udp 3389"));
        assert_eq!(edge(gw01, sh03).as_deref(), Some("tcp 3390"));
        assert_eq!(edge(gw02, sh).as_deref(), Some("tcp 3389"));
        assert_eq!(edge(gw02, sh03).as_deref(), Some("tcp 3390"));
        assert_eq!(edge(clients, gw01).as_deref(), Some("tcp 443; udp 3391"));
        assert_eq!(edge(clients, gw02).as_deref(), Some("tcp 8443"));
    });
}
