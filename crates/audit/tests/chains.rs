//! Hostile shapes of chains, read and audited end to end against examples/perimeter.toml
//! (every flow between zones): loops of chains by goto or jump (which once made the walk
//! spin forever), and "diamonds", chains that each call the next twice (which once took
//! time doubling with every level). Only the results are checked here; the time is measured
//! by `bench/audit-scale.sh`.

use std::path::PathBuf;

use rdsports_audit::report::{Audit, Status};
use rdsports_audit::{ReadOptions, Scope};
use rdsports_core::{Catalog, Deployment};

fn audit(format: &str, text: &str) -> Audit {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/perimeter.toml");
    let d = Deployment::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(rdsports_audit::sniff(text), Some(format));
    let rs = rdsports_audit::read(format, text, "x", &ReadOptions::default()).unwrap();
    let catalog = Catalog::builtin().unwrap();
    let plan = rdsports_core::plan::plan(&catalog, &d);
    rdsports_audit::analyse(&rs, &plan, &Scope::CrossZone)
}

/// Every flow is "possible" because of a rule of the loop (one of `lines`), otherwise
/// dropped by FORWARD's policy, and a note names each rule of the loop.
fn every_flow_possible(a: &Audit, lines: &[&str]) {
    assert!(a.counts.flows > 0);
    assert_eq!(a.counts.possible, a.counts.flows, "{:#?}", a.flows);
    for f in &a.flows {
        assert_eq!(f.status, Status::Possible);
        let reason = f.reason.as_deref().unwrap();
        assert!(
            lines.iter().any(|l| reason.contains(&format!("(x{l})"))),
            "{reason}"
        );
        assert!(reason.ends_with("otherwise dropped"), "{reason}");
    }
    for l in lines {
        assert!(
            a.notes
                .iter()
                .any(|n| n.location == format!("x{l}") && n.message.contains("loop of chains")),
            "{:#?}",
            a.notes
        );
    }
}

#[test]
fn iptables_goto_to_itself() {
    let text = "*filter\n:FORWARD DROP [0:0]\n:A - [0:0]\n-A FORWARD -j A\n-A A -g A\nCOMMIT\n";
    assert_eq!(text.len(), 72);
    every_flow_possible(&audit("iptables-save", text), &[":5"]);
}

#[test]
fn iptables_chains_that_goto_each_other() {
    let text = "*filter\n:FORWARD DROP [0:0]\n:A - [0:0]\n:B - [0:0]\n\
                -A FORWARD -j A\n-A A -g B\n-A B -g A\nCOMMIT\n";
    every_flow_possible(&audit("iptables-save", text), &[":6", ":7"]);
}

#[test]
fn iptables_jump_to_itself() {
    let text = "*filter\n:FORWARD DROP [0:0]\n:A - [0:0]\n-A FORWARD -j A\n-A A -j A\nCOMMIT\n";
    every_flow_possible(&audit("iptables-save", text), &[":5"]);
}

fn nft(rules: &[(&str, &str)], chains: &[&str]) -> String {
    let mut items = vec![
        r#"{"table": {"family": "inet", "name": "filter", "handle": 1}}"#.to_owned(),
        r#"{"chain": {"family": "inet", "table": "filter", "name": "forward", "handle": 1, "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}}"#.to_owned(),
    ];
    for c in chains {
        items.push(format!(
            r#"{{"chain": {{"family": "inet", "table": "filter", "name": "{c}"}}}}"#
        ));
    }
    for (c, expr) in rules {
        items.push(format!(
            r#"{{"rule": {{"family": "inet", "table": "filter", "chain": "{c}", "expr": [{expr}]}}}}"#
        ));
    }
    format!("{{\"nftables\": [\n{}\n]}}\n", items.join(",\n"))
}

#[test]
fn nftables_chains_that_goto_each_other() {
    let text = nft(
        &[
            ("forward", r#"{"jump": {"target": "a"}}"#),
            ("a", r#"{"goto": {"target": "b"}}"#),
            ("b", r#"{"goto": {"target": "a"}}"#),
        ],
        &["a", "b"],
    );
    let at = |i: usize| format!(": $.nftables[{i}] (rule inet filter {})", ["a", "b"][i - 5]);
    every_flow_possible(&audit("nft-json", &text), &[&at(5), &at(6)]);
}

/// The flows of the example on TCP 3389 are accepted by the last chain, every other flow is
/// dropped by FORWARD's policy (or, for flows of several ports, in part).
fn diamond_verdicts(a: &Audit, accepting: &str) {
    assert_eq!(a.counts.possible, 0);
    assert!(a.counts.allowed > 0 && a.counts.missing > 0);
    for f in &a.flows {
        let rdp = f.protocol == "tcp" && f.ports == "3389";
        let want = if rdp {
            Status::Allowed
        } else {
            Status::Missing
        };
        assert_eq!(f.status, want, "{f:?}");
        let rule = f.rule.as_ref().unwrap();
        if rdp {
            assert!(rule.location.ends_with(accepting), "{f:?}");
        } else if !f.partial {
            assert!(rule.text.ends_with("policy drop"), "{f:?}");
        }
    }
}

#[test]
fn iptables_diamonds() {
    for levels in [30, 64] {
        let mut text = String::from("*filter\n:FORWARD DROP [0:0]\n");
        for k in 0..levels {
            text += &format!(":C{k} - [0:0]\n");
        }
        text += "-A FORWARD -j C0\n";
        for k in 0..levels - 1 {
            text += &format!("-A C{k} -j C{}\n-A C{k} -j C{}\n", k + 1, k + 1);
        }
        text += &format!(
            "-A C{} -p tcp -m tcp --dport 3389 -j ACCEPT\nCOMMIT\n",
            levels - 1
        );
        let line = text.lines().count() - 1;
        let a = audit("iptables-save", &text);
        diamond_verdicts(&a, &format!("x:{line}"));
        assert!(a.notes.iter().all(|n| !n.message.contains("loop")));
    }
}

#[test]
fn nftables_diamonds() {
    for levels in [30, 64] {
        let chains: Vec<String> = (0..levels).map(|k| format!("c{k}")).collect();
        let mut rules = vec![(
            "forward".to_owned(),
            r#"{"jump": {"target": "c0"}}"#.to_owned(),
        )];
        for k in 0..levels - 1 {
            let jump = format!(r#"{{"jump": {{"target": "c{}"}}}}"#, k + 1);
            rules.push((format!("c{k}"), jump.clone()));
            rules.push((format!("c{k}"), jump));
        }
        rules.push((
            format!("c{}", levels - 1),
            r#"{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 3389}}, {"accept": null}"#.to_owned(),
        ));
        let refs: Vec<(&str, &str)> = rules
            .iter()
            .map(|(c, e)| (c.as_str(), e.as_str()))
            .collect();
        let names: Vec<&str> = chains.iter().map(String::as_str).collect();
        let a = audit("nft-json", &nft(&refs, &names));
        let last = 2 + levels + rules.len() - 1;
        diamond_verdicts(
            &a,
            &format!("$.nftables[{last}] (rule inet filter c{})", levels - 1),
        );
    }
}
