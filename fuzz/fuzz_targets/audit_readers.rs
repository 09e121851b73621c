#![no_main]
//! Fuzzes the rule set readers of `rdsports_audit`: the byte decoder (UTF-8, UTF-16 with a
//! byte order mark), format recognition, and every reader on the same text (nft JSON,
//! iptables-save, the Windows export JSON, rule strings and netsh text, Azure NSG, AWS
//! security groups and network ACLs, Cisco ASA configurations, Aerleon policies and, under a
//! fixed policy, their definitions), with the ASA's interfaces and Aerleon's zones named as a
//! deployment would, then evaluates whatever was read on a packet space.

use libfuzzer_sys::fuzz_target;

/// Aerleon definitions for a fuzzed policy.
const DEFS: &str = "networks:\n  LAN:\n    values:\n      - address: 192.0.2.0/24\n  ANY:\n    values:\n      - name: LAN\n      - address: 0.0.0.0/0\nservices:\n  HTTPS:\n    - port: \"443\"\n      protocol: tcp\n";
/// An Aerleon policy for fuzzed definitions.
const POLICY: &str = "filters:\n  - header:\n      targets:\n        srx: from-zone outside to-zone inside\n    terms:\n      - name: t\n        source-address: ANY\n        destination-address: LAN\n        protocol: tcp\n        destination-port: HTTPS\n        action: accept\n";
use rdsports_audit::model::Hook;
use rdsports_audit::space::Cube;
use rdsports_audit::{FORMATS, ReadOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = rdsports_audit::decode(data, "fuzz") else {
        return;
    };
    let _ = rdsports_audit::sniff(&text);
    let opts = ReadOptions {
        internal: vec!["192.0.2.0/24".parse().expect("constant")],
        interfaces: vec![
            ("inside".into(), vec!["192.0.2.0/24".parse().expect("constant")]),
            ("outside".into(), vec!["0.0.0.0/0".parse().expect("constant")]),
        ],
        definitions: vec![("def/d.yaml".into(), DEFS.into())],
        ..ReadOptions::default()
    };
    // Aerleon: the text as definitions under a fixed policy (as a policy: in the loop).
    let as_defs = ReadOptions {
        definitions: vec![("def/fuzz.yaml".into(), text.clone())],
        ..opts.clone()
    };
    if let Ok(rs) = rdsports_audit::read::aerleon::read(POLICY, "p.yaml", &as_defs) {
        let _ = rdsports_audit::eval::evaluate(&rs, Hook::Forward, Cube::full());
    }
    for (format, _) in FORMATS {
        if let Ok(rs) = rdsports_audit::read(format, &text, "fuzz", &opts) {
            for hook in [Hook::Input, Hook::Forward, Hook::Output] {
                let _ = rdsports_audit::eval::evaluate(&rs, hook, Cube::full());
            }
        }
    }
});
