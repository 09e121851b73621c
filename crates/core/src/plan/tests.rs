use super::*;

const PERIMETER: &str = include_str!("../../../../examples/perimeter.toml");
/// The perimeter example with per-host settings: sh03 on RDP 3390 without RDP over UDP,
/// a second gateway gw02 on HTTPS 8443 without its UDP transport.
const PER_HOST: &str = include_str!("../../../policy/tests/fixtures/per-host.toml");

fn deployment(text: &str) -> Deployment {
    Deployment::parse(text).unwrap_or_else(|e| panic!("{e:#?}"))
}

/// The perimeter example with options set (replacing the example's own line for the key).
fn with_options(extra: &str) -> Deployment {
    deployment(&set_options(PERIMETER, extra))
}

fn set_options(text: &str, extra: &str) -> String {
    let mut text = text.to_owned();
    for line in extra.lines() {
        let key = line.split('=').next().unwrap_or("").trim();
        let old = text
            .lines()
            .find(|l| l.split('=').next().unwrap_or("").trim() == key)
            .map(str::to_owned);
        text = match old {
            Some(old) => text.replacen(&old, line, 1),
            None => text.replacen("[options]\n", &format!("[options]\n{line}\n"), 1),
        };
    }
    text
}

/// `from to protocol ports id` strings, for compact assertions.
fn lines(plan: &Plan) -> Vec<String> {
    plan.flows
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {} {}",
                plan.from(f).name,
                plan.to(f).name,
                f.protocol,
                f.ports,
                plan.catalog_ids(f).join("+")
            )
        })
        .collect()
}

fn has(plan: &Plan, line: &str) -> bool {
    lines(plan).iter().any(|l| l.starts_with(line))
}

fn catalog() -> Catalog {
    Catalog::builtin().unwrap()
}

#[test]
fn perimeter_deployment_plans_the_gateway_path_and_not_direct_rdp() {
    let c = catalog();
    let d = deployment(PERIMETER);
    let p = plan(&c, &d);
    assert!(has(&p, "clients gw01 tcp 443 S01+S12"), "{:#?}", lines(&p));
    assert!(has(&p, "clients gw01 udp 3391 S13"));
    assert!(has(&p, "gw01 sh01 tcp 3389 S24"));
    assert!(has(&p, "gw01 sh01 udp 3389 S25"));
    assert!(has(&p, "gw01 cb01 tcp 3389 S23"));
    assert!(has(&p, "gw01 dc01 tcp 88 S14+D02"));
    assert!(has(&p, "gw01 dc01 tcp 49152-65535 S16+D03"));
    assert!(has(&p, "gw01 nps01 udp 1812 S22"));
    assert!(has(&p, "gw01 nps01 udp 1813 S22"));
    assert!(has(&p, "gw01 pki01 tcp 80 S20"));
    assert!(has(&p, "gw01 cb01 tcp 5504 S06"));
    assert!(
        has(&p, "gw01 cb01 tcp 135 S26"),
        "RD Web Access in the perimeter needs WMI"
    );
    assert!(has(&p, "gw01 cb01 tcp 24158 S26"));
    assert!(has(&p, "sh01 ls01 tcp 135 S28a"));
    assert!(has(&p, "sh01 ls01 tcp 49152-65535 S28b"));
    assert!(has(&p, "sh01 ls01 tcp 445 S29"));
    assert!(has(&p, "ls01 clearinghouse tcp 443 S34"));
    assert!(has(&p, "cb01 sh01 tcp 5985 S11"));
    assert!(has(&p, "cb01 cb02 tcp 5985 S11"));
    // The classic RDS security mistake is not planned: no RDP from the internet to hosts.
    for l in lines(&p) {
        assert!(
            !(l.starts_with("clients sh") || l.starts_with("clients cb")),
            "{l}"
        );
    }
    // Only cb01 manages; cb02 does not get WinRM flows of its own.
    assert!(!has(&p, "cb02 sh01 tcp 5985"));
    assert!(
        !p.warnings.iter().any(|w| w.starts_with("no host has role")),
        "{:?}",
        p.warnings
    );
}

#[test]
fn flows_are_unique_and_sorted_by_zone_then_host() {
    let c = catalog();
    let d = deployment(PERIMETER);
    let p = plan(&c, &d);
    let mut keys: Vec<_> = p
        .flows
        .iter()
        .map(|f| (f.from, f.to, f.protocol, f.ports))
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n);
    let order: Vec<_> = p
        .flows
        .iter()
        .map(|f| (d.hosts[f.from].zone, d.hosts[f.to].zone, f.from, f.to))
        .collect();
    assert!(order.windows(2).all(|w| w[0] <= w[1]));
    // Deterministic.
    assert_eq!(lines(&p), lines(&plan(&c, &d)));
}

#[test]
fn roles_on_the_same_host_need_no_flow() {
    let c = catalog();
    let d = deployment(include_str!("../../../../examples/single-server.toml"));
    let p = plan(&c, &d);
    assert!(p.flows.iter().all(|f| f.from != f.to));
    assert!(!has(&p, "rds01 rds01"));
    assert!(has(&p, "clients rds01 tcp 443"));
    assert!(has(&p, "rds01 dc01 tcp 88"));
}

#[test]
fn custom_rdp_port_and_udp_off() {
    let c = catalog();
    let d = with_options("rdp_port = 3390");
    let p = plan(&c, &d);
    assert!(has(&p, "gw01 sh01 tcp 3390 S24"));
    assert!(!has(&p, "gw01 sh01 tcp 3389"));
    let d = with_options("rdp_udp = false");
    let p = plan(&c, &d);
    assert!(
        !lines(&p).iter().any(|l| l.contains(" udp 3389")),
        "{:?}",
        lines(&p)
    );
    assert!(has(&p, "clients gw01 udp 3391"), "gateway UDP stays on");
    let d = with_options("gateway_udp = false");
    let p = plan(&c, &d);
    assert!(!has(&p, "clients gw01 udp 3391"));
    assert!(
        !has(&p, "gw01 sh01 udp 3389"),
        "no gateway UDP transport, no UDP to hosts"
    );
}

#[test]
fn each_crl_method() {
    let c = catalog();
    let p_text = PERIMETER.replace(
        "crl = [\"http\"]",
        "crl = [\"ldap\", \"ftp\"]\nftp_passive_range = \"50000-50100\"",
    );
    let d = deployment(&p_text);
    let p = plan(&c, &d);
    assert!(has(&p, "gw01 pki01 tcp 389 S19"));
    assert!(has(&p, "gw01 pki01 udp 389 S19"));
    assert!(has(&p, "gw01 pki01 tcp 21 S21a"));
    assert!(has(&p, "gw01 pki01 tcp 50000-50100 S21b"));
    assert!(!has(&p, "gw01 pki01 tcp 80"));
    let d = deployment(&PERIMETER.replace("crl = [\"http\"]", "crl = [\"ftp\"]"));
    let p = plan(&c, &d);
    assert!(has(&p, "gw01 pki01 tcp 21 S21a"));
    assert!(
        p.warnings
            .iter()
            .any(|w| w.contains("ftp-passive") && w.contains("ftp_passive_range")),
        "{:?}",
        p.warnings
    );
    let d = deployment(&PERIMETER.replace("crl = [\"http\"]", "crl = []"));
    assert!(
        !lines(&plan(&c, &d))
            .iter()
            .any(|l| l.starts_with("gw01 pki01"))
    );
}

#[test]
fn nps_rpc_range_ad_port_winrm_https() {
    let c = catalog();
    let d = deployment(&PERIMETER.replace("nps = \"central\"", "nps = \"none\""));
    assert!(!has(&plan(&c, &d), "gw01 nps01"));
    let d = with_options("rpc_range = \"50000-50199\"\nad_rpc_port = 49200\nwinrm = \"https\"");
    let p = plan(&c, &d);
    assert!(has(&p, "sh01 ls01 tcp 50000-50199 S28b"));
    assert!(has(&p, "gw01 dc01 tcp 49200 S16+D03"));
    assert!(!lines(&p).iter().any(|l| l.contains("49152-65535")));
    assert!(has(&p, "cb01 sh01 tcp 5986 S11"));
    assert!(!has(&p, "cb01 sh01 tcp 5985"));
}

#[test]
fn broker_ha_netbios_activation_direct_access() {
    let c = catalog();
    let text = format!(
        "{}\n[[host]]\nname = \"sql01\"\naddress = \"192.0.2.70\"\nroles = [\"sql\"]\n",
        set_options(
            PERIMETER,
            "broker_ha = true\nsql_browser = true\nnetbios = true\nactivation = \"web\"\ndirect_access = true"
        )
    );
    let d = deployment(&text);
    let p = plan(&c, &d);
    assert!(has(&p, "cb01 sql01 tcp 1433 A03"));
    assert!(has(&p, "cb02 sql01 udp 1434 A04"));
    assert!(has(&p, "gw01 cb02 tcp 5504 S06+A05"));
    assert!(has(&p, "sh01 ls01 tcp 139 S30a"));
    assert!(has(&p, "sh01 ls01 udp 137 S30b"));
    assert!(has(&p, "sh01 ls01 udp 138 S30c"));
    assert!(!has(&p, "ls01 clearinghouse"));
    assert!(has(&p, "clients sh01 tcp 3389 S03"));
    assert!(has(&p, "clients sh01 udp 3389 S04"));
    assert!(has(&p, "clients cb01 tcp 3389 S02"));
}

#[test]
fn missing_destination_roles_are_reported_not_dropped() {
    let c = catalog();
    let text = PERIMETER.replace("roles = [\"nps\"]", "roles = [\"file-server\"]");
    let d = deployment(&text);
    let p = plan(&c, &d);
    assert!(
        p.warnings
            .iter()
            .any(|w| w == "no host has role nps: 2 flows not planned (S22)"),
        "{:?}",
        p.warnings
    );
    assert_eq!(p.unplanned.len(), 1);
    assert_eq!(p.unplanned[0].missing, Role::Nps);
}

#[test]
fn low_confidence_rows_need_the_option() {
    let c = catalog();
    let d = deployment(PERIMETER);
    let p = plan(&c, &d);
    assert!(!has(&p, "cb01 sh01 tcp 3389"));
    assert!(
        p.warnings
            .iter()
            .any(|w| w.starts_with("low-confidence catalog rows not planned: S07")),
        "{:?}",
        p.warnings
    );
    let d = with_options("low_confidence = true");
    let p = plan(&c, &d);
    assert!(has(&p, "cb01 sh01 tcp 3389 S07"));
    assert!(has(&p, "sh01 dc01 tcp 464 D07"));
}

#[test]
fn baseline_off_and_ldaps() {
    let c = catalog();
    let d = with_options("domain_baseline = false");
    let p = plan(&c, &d);
    assert!(
        !lines(&p).iter().any(|l| l.contains(" D0")),
        "{:?}",
        lines(&p)
    );
    let d = with_options("ldaps = true");
    let p = plan(&c, &d);
    assert!(has(&p, "gw01 dc01 tcp 636 D04c"));
    assert!(has(&p, "gw01 dc01 tcp 3269 D04d"));
}

#[test]
fn range_samples_hold_both_ends() {
    assert_eq!(
        range_sample(PortRange::fixed(49152, 65535), 4),
        [49152, 54613, 60074, 65535]
    );
    assert_eq!(
        range_sample(PortRange::fixed(50000, 50001), 8),
        [50000, 50001]
    );
    assert_eq!(range_sample(PortRange::fixed(135, 135), 3), [135]);
    assert_eq!(range_sample(PortRange::fixed(1, 65535), 0), [1, 65535]);
}

#[test]
fn domain_option_is_checked() {
    let d = with_options("domain = \"Corp.Example.\"");
    assert_eq!(d.options.domain.as_deref(), Some("corp.example"));
    let e = Deployment::parse(&set_options(PERIMETER, "domain = \"bad domain\"")).unwrap_err();
    assert!(e[0].message.contains("is not a DNS domain name"), "{e:?}");
}

/// Every example, a synthetic farm, hosts with many roles, and one host per zone.
fn shapes() -> Vec<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
    let mut texts: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    texts.push(crate::synthetic::deployment(300));
    texts.push(PER_HOST.to_owned());
    // Every host has every role: every entry joins every pair of hosts.
    let all: Vec<String> = Role::ALL.iter().map(|r| format!("\"{r}\"")).collect();
    let mut every = String::from("name = \"every\"\n[options]\nlow_confidence = true\n");
    for i in 0..12 {
        every += &format!(
            "[[host]]\nname = \"h{i}\"\naddress = \"198.18.0.{i}\"\nroles = [{}]\n",
            all[..(i % 17) + 1].join(", ")
        );
    }
    texts.push(every);
    let mut zones = String::from("name = \"zones\"\n");
    let turn = [
        "session-host",
        "connection-broker",
        "gateway",
        "domain-controller",
    ];
    for i in 0..40 {
        zones += &format!("[[zone]]\nname = \"z{i}\"\nnetworks = [\"198.18.0.{i}/32\"]\n");
    }
    for i in 0..40 {
        zones += &format!(
            "[[host]]\nname = \"h{i}\"\naddress = \"198.18.0.{i}\"\nroles = [\"{}\"]\n",
            turn[i % 4]
        );
    }
    texts.push(zones);
    texts
}

/// The plan, built straight from its definition: every entry's (source, target, protocol,
/// port) with the entries of one flow merged, sorted by zone pair, then hosts, protocol and
/// port. `plan` builds it zone pair by zone pair without sorting; this is what it must give.
fn reference(c: &Catalog, d: &Deployment, host: Option<usize>) -> Vec<Flow> {
    let zone = |h: usize| d.hosts[h].zone;
    let mut all = Vec::new();
    for a in &active(c, d).active {
        for &from in &a.sources {
            for &to in &a.targets {
                let in_scope = host.is_none_or(|h| from == h || to == h);
                if to != from && in_scope {
                    for &p in &a.protocols {
                        for &r in &a.ports {
                            all.push((zone(from), zone(to), from, to, p, r, a.entry));
                        }
                    }
                }
            }
        }
    }
    all.sort();
    let mut flows: Vec<Flow> = Vec::new();
    for (_, _, from, to, protocol, ports, entry) in all {
        match flows.last_mut() {
            Some(f) if (f.from, f.to, f.protocol, f.ports) == (from, to, protocol, ports) => {
                if f.entry != entry && !f.also.contains(&entry) {
                    f.also.push(entry);
                }
            }
            _ => flows.push(Flow {
                from,
                to,
                protocol,
                ports,
                entry,
                also: Also::default(),
            }),
        }
    }
    flows
}

#[test]
fn flows_are_every_entrys_merged_in_plan_order() {
    let c = catalog();
    for text in shapes() {
        let d = deployment(&text);
        let full = plan(&c, &d);
        assert_eq!(full.flows, reference(&c, &d, None), "{}", d.name);
        // Handed over one at a time: the same flows, the same warnings, none kept.
        let mut streamed = Vec::new();
        let each = plan_each(&c, &d, Scope::default(), &mut |f| streamed.push(f)).unwrap();
        assert_eq!(streamed, full.flows, "{}", d.name);
        assert!(each.flows.is_empty());
        assert_eq!(
            (each.warnings, each.unplanned),
            (full.warnings, full.unplanned)
        );
        for h in [0, d.hosts.len() / 2, d.hosts.len() - 1] {
            let scope = Scope {
                host: Some(h),
                max_flows: u64::MAX,
            };
            let scoped = plan_within(&c, &d, scope).unwrap();
            assert_eq!(scoped.flows, reference(&c, &d, Some(h)), "{} {h}", d.name);
        }
    }
}

/// The count before planning is the number of flows the plan has: for every example, the
/// synthetic farms, hosts with many roles, and each host's scope.
#[test]
fn estimate_is_the_exact_flow_count() {
    let c = catalog();
    let texts = shapes();
    for text in &texts {
        let d = deployment(text);
        let full = plan(&c, &d);
        let e = estimate(&c, &d, Scope::default());
        assert!(e.exact);
        assert_eq!(e.flows, full.flows.len() as u64, "{}", d.name);
        let zone_pairs: std::collections::BTreeSet<(usize, usize)> = full
            .flows
            .iter()
            .map(|f| (d.hosts[f.from].zone, d.hosts[f.to].zone))
            .collect();
        assert_eq!(e.zone_pairs, zone_pairs.len() as u64, "{}", d.name);
        for h in 0..d.hosts.len() {
            let scope = Scope {
                host: Some(h),
                max_flows: u64::MAX,
            };
            let scoped = plan_within(&c, &d, scope).unwrap();
            let touching = full.flows.iter().filter(|f| f.from == h || f.to == h);
            assert!(scoped.flows.iter().eq(touching), "{} {h}", d.name);
            assert_eq!(estimate(&c, &d, scope).flows, scoped.flows.len() as u64);
        }
    }
}

/// A plan beyond the limit is refused before it is built, naming its size and the entries
/// that make it large.
#[test]
fn plans_beyond_the_limit_are_refused_with_the_count() {
    let c = catalog();
    let d = deployment(PERIMETER);
    let small = Scope {
        host: None,
        max_flows: 3,
    };
    let mut handed = 0;
    assert!(plan_each(&c, &d, small, &mut |_| handed += 1).is_err());
    assert_eq!(handed, 0);
    let d = deployment(&crate::synthetic::deployment(300));
    let n = plan(&c, &d).flows.len() as u64;
    let at_limit = Scope {
        host: None,
        max_flows: n,
    };
    assert_eq!(plan_within(&c, &d, at_limit).unwrap().flows.len() as u64, n);
    let below = Scope {
        max_flows: n - 1,
        ..at_limit
    };
    let err = plan_within(&c, &d, below).unwrap_err();
    assert_eq!(err.estimate.flows, n);
    assert_eq!(err.limit, n - 1);
    let text = err.to_string();
    assert!(text.contains("the plan would have"), "{text}");
    assert!(
        text.contains("D01: 307 gateway/web-access/+9 roles × 2 dns"),
        "{text}"
    );
    assert!(err.estimate.largest.len() <= 3 && !err.estimate.largest.is_empty());
    assert!(err.estimate.largest[0].flows >= err.estimate.largest[1].flows);
}

#[test]
fn inbound_ports_of_the_example() {
    let catalog = catalog();
    let deployment = deployment(PERIMETER);
    let plan = plan(&catalog, &deployment);
    let ls01 = deployment.host_index("ls01").unwrap();
    let ports = plan.inbound(ls01, 4);
    let tcp: Vec<u16> = ports
        .iter()
        .filter(|i| i.protocol == Protocol::Tcp)
        .map(|i| i.port)
        .collect();
    assert_eq!(tcp, [135, 445, 5985, 49152, 54613, 60074, 65535]);
    let rpc = ports.iter().find(|i| i.port == 135).unwrap();
    assert_eq!(rpc.why, "msrpc from sh01, sh02, sh03 (S28a)");
    let end = ports.iter().find(|i| i.port == 65535).unwrap();
    assert_eq!(end.why, "msrpc 49152-65535 from sh01, sh02, sh03 (S28b)");
    // The sample size is honoured, both ends always included.
    let two: Vec<u16> = plan
        .inbound(ls01, 2)
        .iter()
        .filter(|i| i.port > 49_000)
        .map(|i| i.port)
        .collect();
    assert_eq!(two, [49152, 65535]);
}

/// Millions of flows are held at once: a flow is five words (its further entries one of them).
#[test]
fn a_flow_is_five_words() {
    assert!(std::mem::size_of::<Flow>() <= 5 * std::mem::size_of::<usize>());
    let mut also = Also::default();
    assert!(also.is_empty());
    also.push(3);
    also.push(7);
    assert_eq!(&also[..], &[3, 7]);
    assert_eq!(also, Also::from(vec![3, 7]));
    assert_eq!(Also::from(Vec::new()), Also::default());
    assert_eq!(format!("{also:?}"), "[3, 7]");
}

#[test]
fn per_host_settings_are_planned_at_their_host() {
    let c = catalog();
    let d = deployment(PER_HOST);
    let p = plan(&c, &d);
    let all = lines(&p);
    let has = |l: &str| has(&p, l);
    // Each session host is reached on its own RDP port, from each gateway.
    for gw in ["gw01", "gw02"] {
        assert!(has(&format!("{gw} sh01 tcp 3389 S24")), "{all:#?}");
        assert!(has(&format!("{gw} sh03 tcp 3390 S24")), "{all:#?}");
        assert!(!has(&format!("{gw} sh03 tcp 3389")), "{all:#?}");
    }
    // RDP over UDP off on sh03: no UDP RDP to it on any port.
    assert!(has("gw01 sh01 udp 3389 S25"));
    assert!(has("gw01 sh02 udp 3389 S25"));
    assert!(!all.iter().any(|l| l.contains(" sh03 udp")), "{all:#?}");
    // gw02's UDP transport is off: clients get no UDP to it, and it forwards none.
    assert!(has("clients gw01 udp 3391 S13"));
    assert!(!has("clients gw02 udp"), "{all:#?}");
    assert!(
        !all.iter()
            .any(|l| l.starts_with("gw02 sh") && l.contains(" udp "))
    );
    // gw02's HTTPS port is its own; gw01 keeps the deployment's (and Web Access on 443).
    assert!(has("clients gw02 tcp 8443 S12"));
    assert!(!has("clients gw02 tcp 443"));
    assert!(has("clients gw01 tcp 443 S01+S12"));
    // The brokers keep the deployment's RDP port.
    assert!(has("gw02 cb01 tcp 3389 S23"));
    // Nothing else changes: without the settings (and gw02), the other flows are the same.
    let plain = deployment(
        &PER_HOST
            .replace("rdp_port = 3390\nrdp_udp = false\n", "")
            .replace("gateway_https_port = 8443\ngateway_udp = false\n", ""),
    );
    let q = plan(&c, &plain);
    let touched = |l: &String| l.contains("sh03") || l.contains("gw02");
    let (a, b): (Vec<String>, Vec<String>) = (
        all.iter().filter(|l| !touched(l)).cloned().collect(),
        lines(&q).into_iter().filter(|l| !touched(l)).collect(),
    );
    assert_eq!(a, b);
    // A plan scoped to sh03 has its port too.
    let sh03 = d.host_index("sh03").unwrap();
    let scope = Scope {
        host: Some(sh03),
        max_flows: u64::MAX,
    };
    let scoped = plan_within(&c, &d, scope).unwrap();
    assert!(lines(&scoped).contains(&"gw01 sh03 tcp 3390 S24".to_owned()));
    // Its inbound ports (what listen opens) are its own.
    let inbound: Vec<(Protocol, u16)> = p
        .inbound(sh03, 4)
        .iter()
        .map(|i| (i.protocol, i.port))
        .collect();
    assert!(inbound.contains(&(Protocol::Tcp, 3390)), "{inbound:?}");
    assert!(
        !inbound.iter().any(|&(_, port)| port == 3389),
        "{inbound:?}"
    );
}

/// A farm where every session host has a port of its own: the plan is still the reference
/// one, and the estimate an upper bound of it that names each entry once.
#[test]
fn many_per_host_ports_plan_and_estimate() {
    let c = catalog();
    let mut text = PERIMETER.to_owned();
    for i in 0..150 {
        text += &format!(
            "[[host]]\nname = \"shx{i}\"\naddress = \"192.0.2.{}\"\nroles = [\"session-host\"]\n\
             rdp_port = {}\nrdp_udp = {}\n",
            100 + i,
            4000 + i,
            i % 2 == 0
        );
    }
    let d = deployment(&text);
    let p = plan(&c, &d);
    assert_eq!(p.flows, reference(&c, &d, None));
    assert!(has(&p, "gw01 shx7 tcp 4007 S24"));
    assert!(!has(&p, "gw01 shx7 udp"));
    assert!(has(&p, "gw01 shx8 udp 4008 S25"));
    let e = estimate(&c, &d, Scope::default());
    // More than 128 parts of entries: an upper bound (README, Limits).
    assert!(!e.exact);
    assert!(e.flows >= p.flows.len() as u64, "{e:?}");
    let ids: Vec<&str> = e.largest.iter().map(|c| c.id.as_str()).collect();
    let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "{e:?}");
}

/// A low-confidence row held back only by a host's own setting is not listed as "not
/// planned for want of low_confidence": no host it could reach would get it anyway.
#[test]
fn low_confidence_rows_count_only_hosts_whose_settings_allow_them() {
    let c = Catalog::parse(
        "[[flow]]\nid = \"X1\"\nfrom = [\"client\"]\nto = [\"session-host\"]\nprotocol = [\"udp\"]\n\
         ports = [\"rdp\"]\nservice = \"rdp\"\npurpose = \"p\"\nwhen = [\"rdp_udp\"]\n\
         confidence = \"low\"\nreference = \"r\"\n",
    )
    .unwrap();
    let text = |options: &str, host: &str| {
        format!(
            "name = \"t\"\n[options]\n{options}\n\
             [[host]]\nname = \"clients\"\naddress = \"0.0.0.0/0\"\nroles = [\"client\"]\n\
             [[host]]\nname = \"sh01\"\naddress = \"192.0.2.21\"\nroles = [\"session-host\"]\n{host}\n"
        )
    };
    let warned = |host: &str| {
        let d = deployment(&text("", host));
        plan(&c, &d)
            .warnings
            .iter()
            .any(|w| w.starts_with("low-confidence catalog rows not planned: X1"))
    };
    assert!(warned(""));
    assert!(!warned("rdp_udp = false"));
    // Planned with the option, at the host's own port.
    let d = deployment(&text("low_confidence = true", "rdp_port = 3390"));
    let p = plan(&c, &d);
    assert_eq!(lines(&p), ["clients sh01 udp 3390 X1"]);
}
