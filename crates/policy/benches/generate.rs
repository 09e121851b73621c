//! Benchmark: every target for a generated 10,000-host deployment.
//!
//! `cargo bench -p rdsports-policy --bench generate` plans the deployment once, then prints,
//! per target (and host variant), the rendering time (best of three runs, policy building and
//! aggregation included), the rule counts before and after aggregation, the files and bytes
//! written, and the total over all targets; then two targets end to end from the plan (what
//! one `rdsports rules` run does after planning). Addresses come from 198.18.0.0/15 (RFC 2544
//! benchmarking range); nothing is probed.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use rdsports_core::plan::plan;
use rdsports_core::{Catalog, Deployment};
use rdsports_policy::{Policy, RenderOptions, Rendered, render_policy, targets};

/// A deployment with `session_hosts` session hosts and brokers, gateways and DCs in
/// proportion (1 gateway per 250 session hosts, 1 broker per 300, 1 DC per 2,000, at least 2
/// of each), plus web access, licensing, NPS, CRL, SQL and clients.
fn deployment(session_hosts: usize) -> String {
    let gateways = (session_hosts / 250).max(2);
    let brokers = (session_hosts / 300).max(2);
    let dcs = (session_hosts / 2000).max(2);
    let mut s = String::from(
        "name = \"bench\"\n[options]\nbroker_ha = true\ncrl = [\"http\", \"ldap\"]\n\
         nps = \"central\"\n\n\
         [[zone]]\nname = \"internet\"\nnetworks = [\"0.0.0.0/0\"]\n\
         [[zone]]\nname = \"perimeter\"\nnetworks = [\"198.18.0.0/24\"]\n\
         [[zone]]\nname = \"servers\"\nnetworks = [\"198.18.1.0/24\"]\n\
         [[zone]]\nname = \"farm\"\nnetworks = [\"198.18.128.0/17\", \"198.19.0.0/16\"]\n\n\
         [[host]]\nname = \"clients\"\naddress = \"0.0.0.0/0\"\nroles = [\"client\"]\n\
         [[host]]\nname = \"clearinghouse\"\naddress = \"0.0.0.0/0\"\nroles = [\"clearinghouse\"]\n",
    );
    let mut host = |name: String, addr: String, roles: &str| {
        let _ = write!(
            s,
            "[[host]]\nname = \"{name}\"\naddress = \"{addr}\"\nroles = [{roles}]\n"
        );
    };
    for i in 0..gateways {
        host(
            format!("gw{i}"),
            format!("198.18.0.{}", 10 + i),
            "\"gateway\", \"web-access\"",
        );
    }
    for i in 0..brokers {
        host(
            format!("cb{i}"),
            format!("198.18.1.{}", 10 + i),
            "\"connection-broker\"",
        );
    }
    for i in 0..dcs {
        host(
            format!("dc{i}"),
            format!("198.18.1.{}", 100 + i),
            "\"domain-controller\", \"dns\"",
        );
    }
    host("ls1".into(), "198.18.1.200".into(), "\"licensing\"");
    host("nps1".into(), "198.18.1.201".into(), "\"nps\"");
    host("pki1".into(), "198.18.1.202".into(), "\"crl\"");
    host("sql1".into(), "198.18.1.203".into(), "\"sql\"");
    for i in 0..session_hosts {
        let n = 128 * 256 + i; // 198.18.128.0 onwards, then into 198.19.0.0/16
        let (b, c, d) = (18 + n / 65536, (n / 256) % 256, n % 256);
        host(
            format!("sh{i}"),
            format!("198.{b}.{c}.{d}"),
            "\"session-host\"",
        );
    }
    s
}

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
