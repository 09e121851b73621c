//! Hostile input without a fuzzer: every fixture, truncated at every byte and with bytes
//! replaced (a fixed pseudo-random sequence, so a failure repeats), read as each kind of input
//! and, when it reads, turned into a deployment file. Nothing may panic; the fuzz target
//! `fuzz/fuzz_targets/import_readers.rs` does the same with libFuzzer.

use std::collections::BTreeMap;
use std::path::Path;

use rdsports_import::{Cmdlet, Source, model::Model, read};

fn all_kinds(text: &str) {
    let mut names: Vec<String> = Cmdlet::ALL
        .iter()
        .map(|c| format!("{}.json", c.name()))
        .collect();
    names.push("Get-RDServer.csv".into());
    names.push("rdsports-collected.json".into());
    for name in &names {
        if let Ok(inv) = read(&[Source { name, text }]) {
            let m = Model::of(&inv, &BTreeMap::new());
            let _ = rdsports_core::Deployment::parse(&m.render());
        }
    }
}

fn fixtures() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "json" || x == "csv") {
                out.push(std::fs::read_to_string(p).unwrap());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn truncated_fixtures_never_panic() {
    for text in fixtures() {
        let cuts: Vec<usize> = (0..=text.len())
            .filter(|i| text.is_char_boundary(*i))
            .step_by(7)
            .collect();
        for cut in cuts {
            all_kinds(&text[..cut]);
        }
    }
}

#[test]
fn mutated_fixtures_never_panic() {
    const BYTES: &[u8] = b"{}[]\",:0123456789-.\\/ aZ\n";
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for text in fixtures() {
        for _ in 0..150 {
            let mut b = text.clone().into_bytes();
            for _ in 0..1 + next() % 4 {
                let i = (next() % b.len() as u64) as usize;
                b[i] = BYTES[(next() % BYTES.len() as u64) as usize];
            }
            if let Ok(t) = String::from_utf8(b) {
                all_kinds(&t);
            }
        }
    }
}
