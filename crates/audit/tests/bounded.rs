//! Output proportional to flows + rules, never to flows x input: a rule's long text (a
//! 100 KB comment) is repeated per flow cut to a window and given in full once; values
//! echoed by locations and diagnostics are cut to a window. Sizes are asserted, not times.

use std::path::PathBuf;

use rdsports_audit::report::{Audit, REFERENCE, Status};
use rdsports_audit::{ReadOptions, Scope};
use rdsports_core::{Catalog, Deployment};
use rdsports_report::audit::text as report;

/// The long value: 100 KB without a space, as one token.
fn long() -> String {
    "x".repeat(100_000)
}

fn large_farm() -> Deployment {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/large-farm.toml");
    Deployment::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn audit(format: &str, text: &str) -> Audit {
    let d = large_farm();
    let opts = ReadOptions {
        internal: d
            .zones
            .iter()
            .flat_map(|z| z.networks.iter().copied())
            .filter(|n| n.prefix_len() > 0)
            .collect(),
        ..ReadOptions::default()
    };
    let rs = rdsports_audit::read(format, text, "export", &opts).unwrap();
    let catalog = Catalog::builtin().unwrap();
    let plan = rdsports_core::plan::plan(&catalog, &d);
    rdsports_audit::analyse(&rs, &plan, &Scope::CrossZone)
}

/// Every rendering is at most `per_flow` bytes a flow plus `once` bytes; returns the sizes.
fn bounded(a: &Audit, per_flow: usize, once: usize) -> [usize; 3] {
    let sizes = [
        report::table(a, 80).len(),
        report::json(a).len(),
        report::markdown(a).len(),
    ];
    for s in sizes {
        assert!(
            s <= per_flow * a.counts.flows + once,
            "{s} bytes for {} flows: {sizes:?}",
            a.counts.flows
        );
    }
    sizes
}

#[test]
fn a_long_comment_is_cut_per_flow_and_given_once() {
    let comment = long();
    let text = format!(
        "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
         -A FORWARD -m comment --comment \"{comment}\" -j DROP\nCOMMIT\n"
    );
    let a = audit("iptables-save", &text);
    assert!(a.counts.flows > 1_000, "{}", a.counts.flows);
    assert_eq!(a.counts.missing + a.counts.possible, a.counts.flows);
    let missing = a
        .flows
        .iter()
        .find(|f| f.status == Status::Missing)
        .unwrap();
    let rule = missing.rule.as_ref().unwrap();
    assert_eq!(rule.text.chars().count(), REFERENCE + 3);
    assert!(rule.text.ends_with("..."));
    // Once, in full.
    assert_eq!(a.rule_texts.len(), 1);
    assert!(a.rule_texts[0].text.contains(&comment));
    for out in [
        report::table(&a, 80),
        report::json(&a),
        report::markdown(&a),
    ] {
        assert_eq!(out.matches(&comment).count(), 1);
    }
    // Was 1.03 GB for a 100 KB export: now about 1 KB a flow and the text once.
    let sizes = bounded(&a, 1_200, 2 * comment.len() + 10_000);
    eprintln!(
        "{} flows: table, JSON, Markdown {sizes:?} bytes",
        a.counts.flows
    );
    // The document reads back with its rule texts.
    let back = rdsports_schema::audit::Audit::parse(&report::json(&a)).unwrap();
    assert_eq!(back.rule_texts, a.rule_texts);
}

#[test]
fn a_long_network_acl_id_is_cut_in_every_location() {
    let id = long();
    let text = serde_json::json!({ "NetworkAcls": [ { "NetworkAclId": id, "Entries": [
        { "RuleNumber": 100, "Egress": false, "Protocol": "-1", "CidrBlock": "0.0.0.0/0", "RuleAction": "deny" },
        { "RuleNumber": 100, "Egress": true, "Protocol": "-1", "CidrBlock": "0.0.0.0/0", "RuleAction": "deny" },
    ] } ] })
    .to_string();
    let a = audit("aws-nacl", &text);
    assert!(a.counts.missing > 1_000, "{}", a.counts.missing);
    // Cut where it is read: nothing long to give in full.
    assert!(a.rule_texts.is_empty());
    let sizes = bounded(&a, 1_200, 10_000);
    eprintln!(
        "{} flows: table, JSON, Markdown {sizes:?} bytes",
        a.counts.flows
    );
}

/// An error's text, as the binary prints it, echoes a window of the value, not all of it.
fn short_error(format: &str, text: &str) -> String {
    let opts = ReadOptions {
        definitions: vec![(
            "def/d.yaml".into(),
            "networks:\n  LAN:\n    values:\n      - address: 192.0.2.0/24\n".into(),
        )],
        ..ReadOptions::default()
    };
    let e = rdsports_audit::read(format, text, "export", &opts)
        .expect_err(format)
        .to_string();
    assert!(e.len() < 2_000, "{format}: {} bytes", e.len());
    e
}

#[test]
fn diagnostics_echo_a_window_of_a_long_value() {
    let v = long();
    // netsh: a rule name (with spaces) in a rule without its Enabled line.
    let name = format!("a {v} b");
    let e = short_error(
        "windows-netsh",
        &format!(
            "Rule Name:                            {name}\n{}\nDirection: In\nAction: Allow\n\nOk.\n",
            "-".repeat(70)
        ),
    );
    assert!(e.contains("has no `Enabled:` line"), "{e}");
    // iptables: a chain never declared.
    let e = short_error(
        "iptables-save",
        &format!("*filter\n:INPUT ACCEPT [0:0]\n-A {v} -j DROP\nCOMMIT\n"),
    );
    assert!(e.contains("is not declared"), "{e}");
    // Cisco ASA: an address that is none.
    let e = short_error(
        "cisco-asa",
        &format!(
            "access-list out extended permit tcp {v} any eq 443\n\
             access-group out in interface outside\n"
        ),
    );
    assert!(e.contains("is not an address"), "{e}");
    // Aerleon: a term whose network is not defined.
    let e = short_error(
        "aerleon",
        &format!(
            "filters:\n  - header:\n      targets:\n        srx: from-zone a to-zone b\n    \
             terms:\n      - name: t\n        source-address: {v}\n        action: accept\n"
        ),
    );
    assert!(e.contains("is not defined"), "{e}");
    // Notes are bounded too: an iptables line it does not understand.
    let text = format!("*filter\n:INPUT ACCEPT [0:0]\n-{v} x\n-A INPUT -j ACCEPT\nCOMMIT\n");
    let rs =
        rdsports_audit::read("iptables-save", &text, "export", &ReadOptions::default()).unwrap();
    assert!(
        rs.notes
            .iter()
            .any(|n| n.message.contains("is not understood"))
    );
    let d = large_farm();
    let catalog = Catalog::builtin().unwrap();
    let plan = rdsports_core::plan::plan(&catalog, &d);
    let a = rdsports_audit::analyse(&rs, &plan, &Scope::CrossZone);
    assert!(a.notes.iter().all(|n| n.message.len() < 2_000));
}
