//! Benchmark: every target for a generated 10,000-host deployment.
//!
//! `cargo bench -p rdsports-policy --bench generate` plans the deployment once, then prints,
//! per target (and host variant), the rendering time (best of three runs, policy building and
//! aggregation included), the rule counts before and after aggregation, the files and bytes
//! written, and the total over all targets; then two targets end to end from the plan (what
//! one `rdsports rules` run does after planning). Addresses come from 198.18.0.0/15 (RFC 2544
//! benchmarking range); nothing is probed.

use std::time::{Duration, Instant};

use rdsports_core::plan::plan;
use rdsports_core::synthetic::deployment;
use rdsports_core::{Catalog, Deployment};
use rdsports_policy::{Policy, RenderOptions, Rendered, render_policy, targets};

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

fn main() {
    let catalog = Catalog::builtin().unwrap_or_else(|e| panic!("{e:?}"));
    let text = deployment(9_950);
    let d = Deployment::parse(&text).unwrap_or_else(|e| panic!("{e:?}"));
    let (plan_time, p) = best(3, || plan(&catalog, &d));
    let (policy_time, policy) = best(3, || Policy::aggregated_from_plan(&p));
    println!(
        "{} hosts, {} flows; plan {:.1} ms, aggregated policy {:.1} ms ({} rules)\n",
        d.hosts.len(),
        p.flows.len(),
        plan_time.as_secs_f64() * 1e3,
        policy_time.as_secs_f64() * 1e3,
        policy.rules.len()
    );
    println!(
        "{:<28} {:>9} {:>10} {:>9} {:>7} {:>11}",
        "target", "ms", "before", "after", "files", "bytes"
    );
    let mut total = Duration::ZERO;
    for t in targets() {
        let mut variants = vec![(t.name.to_owned(), RenderOptions::default())];
        if t.capabilities.host_variant {
            variants.push((
                format!("{} --host-variant", t.name),
                RenderOptions {
                    host_variant: true,
                    ..RenderOptions::default()
                },
            ));
        }
        for (label, opts) in variants {
            let (time, r): (Duration, Rendered) = best(3, || {
                render_policy(t.name, &policy, &opts).unwrap_or_else(|e| panic!("{label}: {e}"))
            });
            total += time;
            let bytes: usize = r.files.iter().map(|(_, text)| text.len()).sum();
            println!(
                "{label:<28} {:>9.1} {:>10} {:>9} {:>7} {:>11}",
                time.as_secs_f64() * 1e3,
                r.rules_before,
                r.rules_after,
                r.files.len(),
                bytes
            );
        }
    }
    println!("{:<28} {:>9.1}", "all targets", total.as_secs_f64() * 1e3);
    println!(
        "{:<28} {:>9.1}",
        "policy + all targets",
        (policy_time + total).as_secs_f64() * 1e3
    );
    // One `rdsports rules` invocation builds the policy itself: end to end from the plan.
    for target in ["nftables", "windows"] {
        let (time, _) = best(3, || {
            rdsports_policy::render(target, &p, &RenderOptions::default())
                .unwrap_or_else(|e| panic!("{target}: {e}"))
        });
        println!(
            "{:<28} {:>9.1}",
            format!("render({target}) from plan"),
            time.as_secs_f64() * 1e3
        );
    }
}
