#![no_main]
//! Fuzzes the rule set readers of `rdsports_audit`: the byte decoder (UTF-8, UTF-16 with a
//! byte order mark), format recognition, and every reader on the same text (nft JSON,
//! iptables-save, the Windows export JSON, rule strings and netsh text, Azure NSG, AWS
//! security groups and network ACLs, Cisco ASA configurations), with the ASA's interfaces
//! named as a deployment would, then evaluates whatever was read on a packet space.

use libfuzzer_sys::fuzz_target;
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
        ..ReadOptions::default()
    };
    for (format, _) in FORMATS {
        if let Ok(rs) = rdsports_audit::read(format, &text, "fuzz", &opts) {
            for hook in [Hook::Input, Hook::Forward, Hook::Output] {
                let _ = rdsports_audit::eval::evaluate(&rs, hook, Cube::full());
            }
        }
    }
});
