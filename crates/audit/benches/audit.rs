//! Benchmark: the 10,000-host plan (about 2.9 million flows) against a 10,000-rule nftables
//! rule set, and one session host's 5,000-rule Windows export.
//!
//! `cargo bench -p rdsports-audit --bench audit`. The nftables export holds the rules
//! rdsports would write for every flow between zones (the aggregated policy, as JSON) plus
//! one RDP rule per session host up to 10,000 rules; the Windows export holds that host's
//! planned inbound rules plus allow and block rules for other addresses up to 5,000. Prints
//! read and audit times (best of three) and the findings. Addresses come from 198.18.0.0/15
//! (RFC 2544); nothing is probed.

use std::time::{Duration, Instant};

use rdsports_audit::{ReadOptions, Scope};
use rdsports_core::model::Protocol;
use rdsports_core::plan::plan;
use rdsports_core::synthetic::deployment;
use rdsports_core::{Catalog, Deployment};
use rdsports_policy::Policy;
use serde_json::{Value, json};

/// Runs per measurement: `AUDIT_BENCH_RUNS` (default 3).
fn runs() -> usize {
    std::env::var("AUDIT_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3)
        .max(1)
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

fn set(nets: &[ipnet::IpNet]) -> Value {
    let elems: Vec<Value> = nets
        .iter()
        .map(|n| json!({"prefix": {"addr": n.addr().to_string(), "len": n.prefix_len()}}))
        .collect();
    json!({"set": elems})
}

fn nft_export(policy: &Policy, d: &Deployment, total: usize) -> String {
    let mut items = vec![
        json!({"table": {"family": "inet", "name": "filter", "handle": 1}}),
        json!({"chain": {"family": "inet", "table": "filter", "name": "forward", "handle": 1,
            "type": "filter", "hook": "forward", "prio": 0, "policy": "drop"}}),
        json!({"rule": {"family": "inet", "table": "filter", "chain": "forward", "handle": 2,
            "expr": [{"match": {"op": "in", "left": {"ct": {"key": "state"}},
            "right": ["established", "related"]}}, {"accept": null}]}}),
    ];
    let mut handle = 3;
    // One RDP rule per session host first (what a hand-kept rule set often looks like).
    for (rules, h) in d
        .hosts
        .iter()
        .filter(|h| h.name.starts_with("sh"))
        .enumerate()
    {
        if rules + policy.rules.len() >= total {
            break;
        }
        items.push(
            json!({"rule": {"family": "inet", "table": "filter", "chain": "forward",
            "handle": handle, "expr": [
            {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}},
                "right": h.address.addr().to_string()}},
            {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}},
                "right": 3389}},
            {"counter": {"packets": 10, "bytes": 600}}, {"accept": null}]}}),
        );
        handle += 1;
    }
    for r in &policy.rules {
        let proto = match r.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        };
        let ports: Vec<Value> = r
            .ports
            .iter()
            .map(|p| {
                if p.start() == p.end() {
                    json!(p.start())
                } else {
                    json!({"range": [p.start(), p.end()]})
                }
            })
            .collect();
        items.push(
            json!({"rule": {"family": "inet", "table": "filter", "chain": "forward",
            "handle": handle, "expr": [
            {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
                "right": set(&r.sources)}},
            {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}},
                "right": set(&r.destinations)}},
            {"match": {"op": "==", "left": {"payload": {"protocol": proto, "field": "dport"}},
                "right": {"set": ports}}},
            {"counter": {"packets": 1, "bytes": 60}}, {"accept": null}]}}),
        );
        handle += 1;
    }
    json!({"nftables": items}).to_string()
}

fn windows_export(policy: &Policy, host: usize, total: usize) -> String {
    let inbound = policy.inbound(host);
    let mut rules = Vec::new();
    for (i, r) in inbound.rules.iter().enumerate() {
        rules.push(json!({
            "Name": format!("rdsports-{i}"), "DisplayName": format!("rdsports {i}"),
            "Enabled": "True", "Direction": "Inbound", "Action": "Allow", "Profile": "Domain",
            "Protocol": if r.protocol == Protocol::Tcp { "TCP" } else { "UDP" },
            "LocalPort": r.ports.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "RemotePort": ["Any"], "LocalAddress": ["Any"],
            "RemoteAddress": r.sources.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "Program": "Any", "Service": "Any"
        }));
    }
    let mut i = 0u32;
    while rules.len() < total {
        let (b, c) = (i / 200 % 250, i % 200);
        let block = i.is_multiple_of(7);
        rules.push(json!({
            "Name": format!("other-{i}"), "DisplayName": format!("other rule {i}"),
            "Enabled": if i.is_multiple_of(11) { 2 } else { 1 }, "Direction": if i.is_multiple_of(5) { 2 } else { 1 },
            "Action": if block { 4 } else { 2 }, "Profile": 1 + (i % 3) * 2,
            "Protocol": if i.is_multiple_of(2) { "6" } else { "17" },
            "LocalPort": [format!("{}", 20000 + i % 30000)], "RemotePort": "Any",
            "LocalAddress": "Any", "RemoteAddress": [format!("198.18.{}.{}/32", 2 + b, c)],
            "Program": if i.is_multiple_of(13) { "C:\\app.exe" } else { "Any" }, "Service": "Any"
        }));
        i += 1;
    }
    json!({"rdsports_windows_export": 1, "Profiles": [
        {"Name": "Domain", "Enabled": "True", "DefaultInboundAction": "Block",
         "DefaultOutboundAction": "Allow"}], "Rules": rules})
    .to_string()
}

fn main() {
    let catalog = Catalog::builtin().unwrap_or_else(|e| panic!("{e:?}"));
    let text = deployment(
        std::env::var("AUDIT_BENCH_SH")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(9_950),
    );
    let d = Deployment::parse(&text).unwrap_or_else(|e| panic!("{e:?}"));
    let p = plan(&catalog, &d);
    let policy = Policy::aggregated_from_plan(&p).cross_zone();
    let internal: Vec<ipnet::IpNet> = d
        .zones
        .iter()
        .flat_map(|z| z.networks.iter().copied())
        .filter(|n| n.prefix_len() > 0)
        .collect();
    println!("{} hosts, {} flows", d.hosts.len(), p.flows.len());

    let nft = nft_export(&policy, &d, 10_000);
    // AUDIT_BENCH_WRITE=DIR: the deployment and both exports as files, for the command line
    // (`rdsports audit DIR/bench.toml --rules DIR/bench.nft.json`).
    let write = std::env::var_os("AUDIT_BENCH_WRITE").map(std::path::PathBuf::from);
    if let Some(dir) = &write {
        std::fs::write(dir.join("bench.toml"), &text).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.join("bench.nft.json"), &nft).unwrap_or_else(|e| panic!("{e}"));
    }
    let (read, rs) = best(runs(), || {
        rdsports_audit::read("nft-json", &nft, "bench.json", &ReadOptions::default())
            .unwrap_or_else(|e| panic!("{e}"))
    });
    let (audit, a) = best(runs(), || {
        rdsports_audit::analyse(&rs, &p, &Scope::CrossZone)
    });
    println!(
        "nftables: {} rules ({:.1} MB JSON); read {:.0} ms, audit {:.0} ms; {} flows: {} allowed, \
         {} missing, {} possible; {} too broad, {} shadowed, {} redundant",
        rs.rule_count(),
        nft.len() as f64 / 1e6,
        read.as_secs_f64() * 1e3,
        audit.as_secs_f64() * 1e3,
        a.counts.flows,
        a.counts.allowed,
        a.counts.missing,
        a.counts.possible,
        a.too_broad.len(),
        a.shadowed.len(),
        a.redundant.len()
    );

    let host = d.host_index("sh0").unwrap_or(0);
    // The host's planned inbound rules, from the flows to it only (a flow-level policy of
    // the whole plan would hold 2.9 million rules).
    let to_host = rdsports_core::plan::Plan {
        catalog: p.catalog,
        deployment: p.deployment,
        flows: p.flows.iter().filter(|f| f.to == host).cloned().collect(),
        unplanned: Vec::new(),
        warnings: Vec::new(),
    };
    let win = windows_export(&Policy::from_plan(&to_host), host, 5_000);
    drop(to_host);
    if let Some(dir) = &write {
        std::fs::write(dir.join("bench.windows.json"), &win).unwrap_or_else(|e| panic!("{e}"));
    }
    let opts = ReadOptions {
        profile: Some("domain".into()),
        local_subnet: d.zones[d.hosts[host].zone].networks.clone(),
        local_address: vec![d.hosts[host].address],
        internal,
        interfaces: Vec::new(),
        definitions: Vec::new(),
    };
    let (read, rs) = best(runs(), || {
        rdsports_audit::read("windows-json", &win, "bench.json", &opts)
            .unwrap_or_else(|e| panic!("{e}"))
    });
    let (audit, a) = best(runs(), || {
        rdsports_audit::analyse(&rs, &p, &Scope::Host(host))
    });
    println!(
        "windows: {} rules read ({:.1} MB JSON); read {:.0} ms, audit {:.0} ms; {} flows: {} \
         allowed, {} missing, {} possible; {} too broad, {} shadowed, {} redundant",
        rs.rule_count(),
        win.len() as f64 / 1e6,
        read.as_secs_f64() * 1e3,
        audit.as_secs_f64() * 1e3,
        a.counts.flows,
        a.counts.allowed,
        a.counts.missing,
        a.counts.possible,
        a.too_broad.len(),
        a.shadowed.len(),
        a.redundant.len()
    );
}
