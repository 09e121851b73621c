//! Benchmark: lint generated deployments of growing size (up to 10,000 hosts).
//!
//! `cargo bench -p rdsports-lint --bench lint` prints, per size, the hosts, the planned flows,
//! the findings and the lint time (best of three; the plan is built once, outside the
//! timing), then the process's peak resident memory. Addresses come from 198.18.0.0/15;
//! nothing is probed.

use std::time::{Duration, Instant};

use rdsports_core::plan::plan;
use rdsports_core::synthetic::deployment;
use rdsports_core::{Catalog, Deployment};
use rdsports_lint::{Input, lint};

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let catalog = Catalog::builtin().unwrap_or_else(|e| panic!("{e:?}"));
    println!(
        "{:>8} {:>8} {:>10} {:>9} {:>10}",
        "sh", "hosts", "flows", "findings", "lint ms"
    );
    for sh in [100, 1_000, 4_000, 9_950] {
        let text = deployment(sh);
        let d = Deployment::parse(&text).unwrap_or_else(|e| panic!("{e:?}"));
        let p = plan(&catalog, &d);
        let mut best = Duration::MAX;
        let mut findings = 0;
        for _ in 0..3 {
            let t = Instant::now();
            let report = lint(&Input {
                text: &text,
                plan: &p,
                checks: &[],
                rules: None,
            })
            .unwrap_or_else(|e| panic!("{e:?}"));
            best = best.min(t.elapsed());
            findings = report.findings.len() + report.accepted.len();
        }
        println!(
            "{:>8} {:>8} {:>10} {:>9} {:>10.1}",
            sh,
            d.hosts.len(),
            p.flows.len(),
            findings,
            best.as_secs_f64() * 1e3
        );
    }
    if let Some(mb) = peak_rss_mb() {
        println!("peak RSS {mb:.0} MB (the plan included)");
    }
}
