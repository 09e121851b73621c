//! Benchmark: parse and plan generated deployments of growing size (up to 10,000 hosts).
//!
//! `cargo bench -p rdsports-core --bench plan` prints, per size, the hosts, the flows, the
//! parse and plan times (best of several runs) and the process's peak resident memory.
//! Addresses come from 198.18.0.0/15 (RFC 2544 benchmarking range); nothing is probed.

use std::time::{Duration, Instant};

use rdsports_core::plan::plan;
use rdsports_core::synthetic::deployment;
use rdsports_core::{Catalog, Deployment};

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let v = f();
        best = best.min(t.elapsed());
        last = Some(v);
    }
    (best, last.unwrap_or_else(f))
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let catalog = Catalog::builtin().unwrap_or_else(|e| panic!("{e:?}"));
    println!(
        "{:>8} {:>8} {:>10} {:>10} {:>10}",
        "sh", "hosts", "flows", "parse ms", "plan ms"
    );
    for sh in [100, 1_000, 4_000, 9_950] {
        let text = deployment(sh);
        let (parse, d) = best(3, || {
            Deployment::parse(&text).unwrap_or_else(|e| panic!("{e:?}"))
        });
        let (planned, flows) = best(3, || plan(&catalog, &d).flows.len());
        println!(
            "{:>8} {:>8} {:>10} {:>10.1} {:>10.1}",
            sh,
            d.hosts.len(),
            flows,
            parse.as_secs_f64() * 1e3,
            planned.as_secs_f64() * 1e3
        );
    }
    if let Some(mb) = peak_rss_mb() {
        println!("peak RSS of the whole run: {mb:.0} MB");
    }
}
