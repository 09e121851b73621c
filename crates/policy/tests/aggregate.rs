//! Property tests of aggregation: over random deployments and flows, the aggregated policy
//! allows exactly the same (source, destination, protocol, port) set as the unaggregated one,
//! at the level of hosts and at the level of addresses, and so do the per-host and
//! per-boundary views.
//!
//! Address sets are compared exactly by coordinate compression: the boundaries of every
//! network and port range of both policies cut each axis into elementary intervals, and one
//! point per cell decides membership for the whole cell.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;
use proptest::prelude::*;
use rdsports_core::Catalog;
use rdsports_core::deployment::{Deployment, FirewallSection, LintSection, Options, Places};
use rdsports_core::model::{Flow, Host, PortRange, Protocol, Role, Zone};
use rdsports_core::plan::Plan;
use rdsports_policy::{Policy, Rule};

/// Positions on one line for both families: IPv4 as is, IPv6 (all inside 2001:db8::/112)
/// after them.
fn pos(addr: std::net::IpAddr) -> u128 {
    match addr {
        std::net::IpAddr::V4(a) => u128::from(u32::from(a)),
        std::net::IpAddr::V6(a) => (1u128 << 40) + (u128::from(a) & 0xFFFF),
    }
}

/// `[start, end)` of a network on the line.
fn span(n: IpNet) -> (u128, u128) {
    let n = n.trunc();
    (pos(n.network()), pos(n.broadcast()) + 1)
}

/// A random host address: IPv4 inside 198.18.0.0/27 (single or small networks), or IPv6 inside
/// 2001:db8::/112. Nothing is probed: these only feed the aggregation.
fn address() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        6 => (0u32..32, 27u8..=32).prop_map(|(x, len)| {
            IpNet::new(std::net::Ipv4Addr::from(0xC612_0000 + x).into(), len).unwrap().trunc()
        }),
        1 => (0u16..64, 124u8..=128).prop_map(|(x, len)| {
            let a = std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, x);
            IpNet::new(a.into(), len).unwrap().trunc()
        }),
    ]
}

fn port_range() -> impl Strategy<Value = PortRange> {
    prop_oneof![
        8 => (1u16..48, 0u16..6).prop_map(|(a, l)| PortRange::new(a, a + l).unwrap()),
        1 => Just(PortRange::new(49152, 65535).unwrap()),
        1 => Just(PortRange::new(65530, 65535).unwrap()),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    zones: usize,
    hosts: Vec<(IpNet, usize)>,
    flows: Vec<(usize, usize, bool, PortRange, usize)>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        1usize..4,
        prop::collection::vec((address(), 0usize..4), 2..10),
    )
        .prop_flat_map(|(zones, hosts)| {
            let n = hosts.len();
            let flows =
                prop::collection::vec((0..n, 0..n, any::<bool>(), port_range(), 0usize..6), 1..40);
            (Just(zones), Just(hosts), flows).prop_map(|(zones, hosts, flows)| Case {
                zones,
                hosts: hosts.into_iter().map(|(a, z)| (a, z % zones)).collect(),
                flows,
            })
        })
}

fn deployment(c: &Case) -> Deployment {
    Deployment {
        name: "prop".into(),
        options: Options::default(),
        zones: (0..c.zones)
            .map(|i| Zone {
                name: format!("z{i}"),
                networks: Vec::new(),
            })
            .collect(),
        hosts: c
            .hosts
            .iter()
            .enumerate()
            .map(|(i, (a, z))| Host {
                name: format!("h{i}"),
                address: *a,
                zone: *z,
                roles: vec![Role::SessionHost],
                implied_roles: Vec::new(),
                settings: Default::default(),
            })
            .collect(),
        warnings: Vec::new(),
        firewall: Ok(FirewallSection::default()),
        lint: Ok(LintSection::default()),
        places: Places::default(),
    }
}

fn plan<'a>(catalog: &'a Catalog, d: &'a Deployment, c: &Case) -> Plan<'a> {
    let flows = c
        .flows
        .iter()
        .filter(|(f, t, ..)| f != t)
        .map(|&(from, to, tcp, ports, entry)| Flow {
            from,
            to,
            protocol: if tcp { Protocol::Tcp } else { Protocol::Udp },
            ports,
            entry: entry % catalog.entries.len(),
            also: Default::default(),
        })
        .collect();
    Plan {
        catalog,
        deployment: d,
        flows,
        unplanned: Vec::new(),
        warnings: Vec::new(),
    }
}

/// Host-level allowed set: (from, to, protocol) → merged ports.
fn host_set(rules: &[Rule]) -> BTreeMap<(usize, usize, Protocol), Vec<PortRange>> {
    let mut m: BTreeMap<(usize, usize, Protocol), Vec<PortRange>> = BTreeMap::new();
    for r in rules {
        for &f in &r.from_hosts {
            for &t in &r.to_hosts {
                m.entry((f, t, r.protocol))
                    .or_default()
                    .extend(r.ports.iter().copied());
            }
        }
    }
    m.into_iter()
        .map(|(k, v)| (k, rdsports_policy::aggregate::merge_ports(v)))
        .collect()
}

fn allows(rules: &[Rule], s: u128, d: u128, p: Protocol, port: u32) -> bool {
    rules.iter().any(|r| {
        r.protocol == p
            && r.ports
                .iter()
                .any(|x| u32::from(x.start()) <= port && port <= u32::from(x.end()))
            && r.sources.iter().any(|n| {
                let (a, b) = span(*n);
                a <= s && s < b
            })
            && r.destinations.iter().any(|n| {
                let (a, b) = span(*n);
                a <= d && d < b
            })
    })
}

/// Whether two rule sets allow the same (source, destination, protocol, port) set.
fn same_addresses(a: &[Rule], b: &[Rule]) -> Result<(), String> {
    let mut xs = BTreeSet::new();
    let mut ys = BTreeSet::new();
    let mut ps = BTreeSet::new();
    for r in a.iter().chain(b) {
        for n in &r.sources {
            let (s, e) = span(*n);
            xs.insert(s);
            xs.insert(e);
        }
        for n in &r.destinations {
            let (s, e) = span(*n);
            ys.insert(s);
            ys.insert(e);
        }
        for p in &r.ports {
            ps.insert(u32::from(p.start()));
            ps.insert(u32::from(p.end()) + 1);
        }
    }
    for &x in &xs {
        for &y in &ys {
            for proto in [Protocol::Tcp, Protocol::Udp] {
                for &p in &ps {
                    if allows(a, x, y, proto, p) != allows(b, x, y, proto, p) {
                        return Err(format!("differ at {x:#x} -> {y:#x} {proto}/{p}"));
                    }
                }
            }
        }
    }
    Ok(())
}

fn check_invariants(p: &Policy) -> Result<(), String> {
    for r in &p.rules {
        if r.ports
            .windows(2)
            .any(|w| u32::from(w[0].end()) + 1 >= u32::from(w[1].start()))
        {
            return Err(format!("ports not disjoint and sorted: {:?}", r.ports));
        }
        if r.entries.is_empty() || r.from_hosts.is_empty() || r.to_hosts.is_empty() {
            return Err("a rule without entries or hosts".into());
        }
        let fam = |n: &[IpNet]| {
            n.iter()
                .map(|a| a.addr().is_ipv4())
                .collect::<BTreeSet<_>>()
        };
        if fam(&r.sources).len() != 1 || fam(&r.sources) != fam(&r.destinations) {
            return Err("a rule mixes address families".into());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn aggregation_keeps_the_allowed_set(c in case()) {
        let catalog = common::catalog();
        let d = deployment(&c);
        let plan = plan(catalog, &d, &c);
        let flat = Policy::from_plan(&plan);
        let agg = flat.aggregate();
        prop_assert!(agg.rules.len() <= flat.rules.len());
        prop_assert_eq!(host_set(&flat.rules), host_set(&agg.rules));
        prop_assert_eq!(same_addresses(&flat.rules, &agg.rules), Ok(()));
        prop_assert_eq!(check_invariants(&agg), Ok(()));
        // Aggregating twice changes nothing that is allowed.
        let again = agg.aggregate();
        prop_assert_eq!(host_set(&again.rules), host_set(&agg.rules));
        // Every catalog entry behind a flow still shows on the rules.
        let ids = |p: &Policy| p.rules.iter().flat_map(|r| r.entries.clone()).collect::<BTreeSet<_>>();
        prop_assert_eq!(ids(&flat), ids(&agg));
    }

    #[test]
    fn views_of_the_aggregate_match_views_of_the_flows(c in case()) {
        let catalog = common::catalog();
        let d = deployment(&c);
        let plan = plan(catalog, &d, &c);
        let flat = Policy::from_plan(&plan);
        let agg = flat.aggregate();
        for h in 0..d.hosts.len() {
            let a = flat.inbound(h).aggregate();
            let b = agg.inbound(h);
            prop_assert_eq!(host_set(&a.rules), host_set(&b.rules));
            prop_assert_eq!(same_addresses(&a.rules, &b.rules), Ok(()));
            let a = flat.outbound(h).aggregate();
            let b = agg.outbound(h);
            prop_assert_eq!(same_addresses(&a.rules, &b.rules), Ok(()));
        }
        for z1 in 0..c.zones {
            for z2 in 0..c.zones {
                let a = flat.boundary(z1, z2).aggregate();
                let b = agg.boundary(z1, z2);
                prop_assert_eq!(host_set(&a.rules), host_set(&b.rules));
            }
        }
        let cross = flat.cross_zone().aggregate();
        prop_assert!(cross.rules.iter().all(|r| r.from_zone != r.to_zone));
    }
}

#[test]
fn aggregation_shrinks_the_examples() {
    for e in common::examples() {
        let flat = common::policy(&e);
        let agg = flat.aggregate();
        assert!(
            agg.rules.len() * 2 <= flat.rules.len(),
            "{e}: {} rules from {} flows",
            agg.rules.len(),
            flat.rules.len()
        );
        assert_eq!(host_set(&flat.rules), host_set(&agg.rules), "{e}");
    }
}

/// Flows handed over one at a time as the planner builds them give the policy of the plan
/// that holds them (examples and a farm of 300 session hosts).
#[test]
fn aggregating_flows_as_they_are_planned_gives_the_policy_of_the_plan() {
    let catalog = common::catalog();
    let farm: &'static Deployment = Box::leak(Box::new(
        Deployment::parse(&rdsports_core::synthetic::deployment(300)).unwrap(),
    ));
    let mut deployments: Vec<&Deployment> = common::examples()
        .iter()
        .map(|e| common::deployment(e))
        .collect();
    deployments.push(farm);
    for d in deployments {
        let held = Policy::aggregated_from_plan(&rdsports_core::plan::plan(catalog, d));
        let streamed = Policy::aggregated_from_flows(catalog, d, 0, |each| {
            let scope = rdsports_core::plan::Scope::default();
            let _ = rdsports_core::plan::plan_each(catalog, d, scope, &mut |f| each(&f));
        });
        assert_eq!(streamed.rules, held.rules, "{}", d.name);
        assert_eq!(streamed.warnings, held.warnings, "{}", d.name);
        assert_eq!(streamed.counts, held.counts, "{}", d.name);
    }
}

/// Per-host settings (the per-host fixture: sh03 on RDP 3390 without UDP, gw02 on HTTPS
/// 8443 without UDP): aggregation never lends a host the port of another. Each host gets
/// exactly its own ports, as the flows say, and the streamed policy is the held one.
#[test]
fn aggregation_keeps_each_hosts_own_ports() {
    let plan = common::fixture_plan("per-host");
    let d = plan.deployment;
    let flat = Policy::from_plan(&plan);
    let agg = flat.aggregate();
    assert_eq!(host_set(&flat.rules), host_set(&agg.rules));
    let set = host_set(&agg.rules);
    let h = |n: &str| d.host_index(n).unwrap();
    let ports = |from: &str, to: &str, p: Protocol| set.get(&(h(from), h(to), p)).cloned();
    let one = |p: u16| Some(vec![PortRange::single(p).unwrap()]);
    assert_eq!(ports("gw01", "sh03", Protocol::Tcp), one(3390));
    assert_eq!(ports("gw02", "sh03", Protocol::Tcp), one(3390));
    assert_eq!(ports("gw01", "sh01", Protocol::Tcp), one(3389));
    assert_eq!(ports("gw01", "sh03", Protocol::Udp), None);
    assert_eq!(ports("gw01", "sh01", Protocol::Udp), one(3389));
    assert_eq!(ports("gw02", "sh01", Protocol::Udp), None);
    assert_eq!(ports("clients", "gw02", Protocol::Udp), None);
    assert_eq!(ports("clients", "gw01", Protocol::Udp), one(3391));
    assert_eq!(ports("clients", "gw02", Protocol::Tcp), one(8443));
    assert_eq!(ports("clients", "gw01", Protocol::Tcp), one(443));
    let catalog = common::catalog();
    let streamed = Policy::aggregated_from_flows(catalog, d, 0, |each| {
        let scope = rdsports_core::plan::Scope::default();
        let _ = rdsports_core::plan::plan_each(catalog, d, scope, &mut |f| each(&f));
    });
    assert_eq!(streamed.rules, Policy::aggregated_from_plan(&plan).rules);
}
