#![no_main]
//! Fuzzes the readers of `rdsports_import`: the same text read as each cmdlet's export
//! (`Get-RDServer.json` ... `Get-RDVirtualDesktop.json`), as `Get-RDServer | Export-Csv`, and
//! as the collector's document; whatever is read is turned into a deployment file and its
//! drift against that file's own parse (when it parses). Nothing may panic, hang or grow
//! without bound.

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use rdsports_import::{Cmdlet, Source, compare, model::Model};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut names: Vec<String> = Cmdlet::ALL
        .iter()
        .map(|c| format!("{}.json", c.name()))
        .collect();
    names.push("Get-RDServer.csv".into());
    names.push("rdsports-collected.json".into());
    for name in &names {
        let Ok(inv) = rdsports_import::read(&[Source { name, text }]) else {
            continue;
        };
        let model = Model::of(&inv, &BTreeMap::new());
        let file = model.render();
        if let Ok(d) = rdsports_core::Deployment::parse(&file) {
            let _ = compare::compare(&model, &d, "fuzz.toml");
        }
    }
});
