//! Tests of the diff: unit cases on the example deployment, a saved plan, and the property
//! that applying a diff to OLD gives NEW.

use proptest::prelude::*;
use rdsports_core::{Catalog, Deployment, plan::plan};

use super::*;
use rdsports_audit::space::Region;
use rdsports_policy::{Policy, RenderOptions};

const BASE: &str = include_str!("../../../examples/perimeter.toml");

fn side(label: &str, text: &str) -> Side {
    let catalog = Catalog::builtin().unwrap();
    let d = Deployment::parse(text).unwrap();
    Side::of_plan(label, &plan(&catalog, &d))
}

fn compare(old: &str, new: &str, narrow: &Narrow) -> (Side, Side, DiffDocument) {
    let catalog = Catalog::builtin().unwrap();
    let (a, b) = (side("old.toml", old), side("new.toml", new));
    let doc = diff(&catalog, &a, &b, narrow);
    (a, b, doc)
}

fn changes(doc: &DiffDocument) -> Vec<(String, String, String, ChangeKind, String)> {
    doc.boundaries
        .iter()
        .flat_map(|b| {
            b.pairs.iter().flat_map(move |p| {
                p.changes.iter().map(move |c| {
                    (
                        p.from.name.clone(),
                        p.to.name.clone(),
                        format!("{} {}", c.protocol, c.ports),
                        c.change,
                        c.catalog_ids.join(","),
                    )
                })
            })
        })
        .collect()
}

#[test]
fn the_same_deployment_changes_nothing() {
    let (_, _, doc) = compare(BASE, BASE, &Narrow::default());
    assert!(!has_changes(&doc));
    assert_eq!(doc.summary, DiffSummary::default());
}

#[test]
fn a_new_rdp_port_changes_the_rdp_flows_and_the_option() {
    let new = BASE.replace("rdp_port = 3389", "rdp_port = 3390");
    let (_, _, doc) = compare(BASE, &new, &Narrow::default());
    assert_eq!(
        doc.header.options_changed,
        vec![OptionChange {
            key: "rdp_port".into(),
            old: "3389".into(),
            new: "3390".into()
        }]
    );
    assert_eq!(doc.summary.added + doc.summary.removed, 0);
    assert!(doc.summary.changed > 0);
    let gw_sh: Vec<_> = changes(&doc)
        .into_iter()
        .filter(|c| c.0 == "gw01" && c.1 == "sh01")
        .collect();
    assert_eq!(
        gw_sh,
        vec![
            (
                "gw01".into(),
                "sh01".into(),
                "tcp 3390".into(),
                ChangeKind::Changed,
                "S24".into()
            ),
            (
                "gw01".into(),
                "sh01".into(),
                "udp 3390".into(),
                ChangeKind::Changed,
                "S25".into()
            ),
        ]
    );
    let first = &doc.boundaries[0].pairs[0].changes[0];
    assert_eq!(first.old.as_ref().map(|o| o.ports.first), Some(3389));
}

#[test]
fn a_new_host_adds_its_flows_grouped_by_boundary_with_references() {
    let new = format!(
        "{BASE}\n[[host]]\nname = \"sh04\"\naddress = \"192.0.2.24\"\nroles = [\"session-host\"]\n"
    );
    let (_, _, doc) = compare(BASE, &new, &Narrow::default());
    assert_eq!(doc.header.hosts_added.len(), 1);
    assert_eq!(
        doc.header.hosts_added[0].address.as_deref(),
        Some("192.0.2.24")
    );
    assert_eq!(doc.summary.removed + doc.summary.changed, 0);
    assert!(changes(&doc).iter().all(|c| c.0 == "sh04" || c.1 == "sh04"));
    let b = &doc.boundaries[0];
    assert_eq!(
        (b.from_zone.as_str(), b.to_zone.as_str()),
        ("perimeter", "internal")
    );
    let rdp = &b.pairs[0].changes[0];
    assert_eq!(rdp.catalog_ids, ["S24"]);
    assert!(!rdp.references[0].seed_lines.is_empty());
    // Narrowed to a boundary: only the flows across it, both directions.
    let narrow = Narrow {
        host: None,
        boundary: Some(("internal".into(), "perimeter".into())),
    };
    let (_, _, doc) = compare(BASE, &new, &narrow);
    assert!(doc.boundaries.iter().all(|b| b.from_zone != b.to_zone));
}

#[test]
fn a_saved_plan_compares_by_name_and_says_what_it_does_not_know() {
    let catalog = Catalog::builtin().unwrap();
    let d = Deployment::parse(BASE).unwrap();
    let p = plan(&catalog, &d);
    let records: Vec<_> = p
        .flows
        .iter()
        .map(|f| rdsports_report_record(&p, f))
        .collect();
    let doc = PlanDocument {
        schema_version: 1,
        deployment: "contoso".into(),
        flows: records,
        warnings: Vec::new().into(),
    };
    let saved = Side::of_document("plan.json", &doc).unwrap();
    let now = side("now.toml", BASE);
    let d = diff(&catalog, &saved, &now, &Narrow::default());
    assert_eq!(d.summary, DiffSummary::default());
    assert_eq!(d.header.notes.len(), 1);
    assert!(d.header.hosts_changed.is_empty());
    // A repeated flow is refused with its JSON path.
    let mut twice = doc.clone();
    twice.flows.push(twice.flows[3].clone());
    let err = Side::of_document("p.json", &twice).unwrap_err();
    assert_eq!(err.path, format!("flows[{}]", doc.flows.len()));
}

/// The plan JSON record of a flow, as `plan --format json` writes it.
fn rdsports_report_record<'a>(
    p: &rdsports_core::Plan<'a>,
    f: &rdsports_core::Flow,
) -> rdsports_schema::plan::PlanFlow<'a> {
    let e = p.entry(f);
    rdsports_schema::plan::PlanFlow {
        from: p.from(f).name.as_str().into(),
        to: p.to(f).name.as_str().into(),
        protocol: transport(f.protocol),
        ports: PortSpan {
            first: f.ports.start(),
            last: f.ports.end(),
        },
        service: e.service.as_str().into(),
        purpose: e.purpose.as_str().into(),
        catalog_id: e.id.as_str().into(),
        catalog_ids: p
            .catalog_ids(f)
            .into_iter()
            .map(std::borrow::Cow::Borrowed)
            .collect::<Vec<_>>()
            .into(),
        from_zone: p.from_zone(f).name.as_str().into(),
        to_zone: p.to_zone(f).name.as_str().into(),
    }
}

/// A small deployment: some of a pool of hosts, in one to three zones, with a few options.
fn deployment() -> impl Strategy<Value = String> {
    const POOL: [(&str, &str); 9] = [
        ("clients", "\"client\""),
        ("gw1", "\"gateway\", \"web-access\""),
        ("gw2", "\"gateway\""),
        ("cb1", "\"connection-broker\""),
        ("cb2", "\"connection-broker\""),
        ("sh1", "\"session-host\""),
        ("sh2", "\"session-host\""),
        ("dc1", "\"domain-controller\", \"dns\""),
        ("sql1", "\"sql\""),
    ];
    (
        proptest::collection::vec(any::<bool>(), POOL.len()),
        proptest::collection::vec(0usize..3, POOL.len()),
        prop_oneof![Just(3389u16), Just(3390)],
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        proptest::collection::vec(any::<bool>(), POOL.len()),
    )
        .prop_map(move |(present, zones, rdp, gw_udp, ha, direct, baseline, own)| {
            let mut s = format!(
                "name = \"p\"\n[options]\nrdp_port = {rdp}\ngateway_udp = {gw_udp}\n\
                 broker_ha = {ha}\ndirect_access = {direct}\ndomain_baseline = {baseline}\n\
                 [[zone]]\nname = \"internet\"\nnetworks = [\"0.0.0.0/0\"]\n"
            );
            for z in 0..3 {
                s.push_str(&format!(
                    "[[zone]]\nname = \"z{z}\"\nnetworks = [\"198.18.{z}.0/24\"]\n"
                ));
            }
            let mut any_host = false;
            for (i, (name, roles)) in POOL.iter().enumerate() {
                if !present[i] {
                    continue;
                }
                any_host = true;
                let address = if *name == "clients" {
                    "0.0.0.0/0".to_owned()
                } else {
                    format!("198.18.{}.{}", zones[i], 10 + i)
                };
                s.push_str(&format!(
                    "[[host]]\nname = \"{name}\"\naddress = \"{address}\"\nroles = [{roles}]\n"
                ));
                // Per-host settings: a session host on its own RDP port, a gateway without UDP.
                if own[i] && name.starts_with("sh") {
                    s.push_str("rdp_port = 3391\n");
                }
                if own[i] && name.starts_with("gw") {
                    s.push_str("gateway_udp = false\n");
                }
            }
            if !any_host {
                s.push_str("[[host]]\nname = \"sh1\"\naddress = \"198.18.0.5\"\nroles = [\"session-host\"]\n");
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Applying the diff's flows to OLD's plan gives NEW's plan exactly, whole or narrowed
    /// to one host.
    #[test]
    fn applying_the_diff_to_old_gives_new(old in deployment(), new in deployment()) {
        let catalog = Catalog::builtin().unwrap();
        let (Ok(a), Ok(b)) = (Deployment::parse(&old), Deployment::parse(&new)) else {
            return Err(TestCaseError::reject("a generated deployment has errors"));
        };
        let pa = plan(&catalog, &a);
        let saved = PlanDocument {
            schema_version: 1,
            deployment: "p".into(),
            flows: pa.flows.iter().map(|f| rdsports_report_record(&pa, f)).collect::<Vec<_>>(),
            warnings: Vec::new().into(),
        };
        let saved = Side::of_document("old.json", &saved).unwrap();
        let (a, b) = (Side::of_plan("old", &pa), Side::of_plan("new", &plan(&catalog, &b)));
        // OLD as a saved plan: compared by name, applying still gives NEW (without addresses).
        let doc = diff(&catalog, &saved, &b, &Narrow::default());
        let bare = |s: &Side| {
            let mut f: Vec<SideFlow> = s.flows.iter().cloned().map(|mut f| {
                f.from.address = None;
                f.to.address = None;
                f
            }).collect();
            f.sort();
            f
        };
        let mut applied = apply(&saved.flows, &doc);
        applied.sort();
        prop_assert_eq!(applied, bare(&b));
        for narrow in [
            Narrow::default(),
            Narrow { host: Some("sh1".into()), boundary: None },
            Narrow { host: None, boundary: Some(("z0".into(), "z1".into())) },
        ] {
            let doc = diff(&catalog, &a, &b, &narrow);
            let within = |s: &Side| {
                let mut f: Vec<SideFlow> = s.flows.iter().filter(|f| narrow.keeps(f)).cloned().collect();
                f.sort();
                f
            };
            let mut applied = apply(&within(&a), &doc);
            applied.sort();
            prop_assert_eq!(applied, within(&b));
            let n = doc.summary.added + doc.summary.removed + doc.summary.changed;
            prop_assert_eq!(n, changes(&doc).len());
            prop_assert_eq!(within(&a) == within(&b), doc.boundaries.is_empty());
        }
    }
}

/// `a` and `b` allow the same traffic, class by class.
fn same_space(a: &BTreeMap<rules::Class, Region>, b: &BTreeMap<rules::Class, Region>) -> bool {
    let inside = |x: &Region, y: Option<&Region>| {
        x.0.iter().all(|c| {
            let mut rest = Region::of(c.clone());
            for k in y.map(|r| r.0.as_slice()).unwrap_or(&[]) {
                rest = rest.minus_cube(k);
            }
            rest.is_empty()
        })
    };
    a.iter().all(|(k, r)| inside(r, b.get(k))) && b.iter().all(|(k, r)| inside(r, a.get(k)))
}

fn policy(text: &str) -> Policy {
    let catalog = Catalog::builtin().unwrap();
    let d = Deployment::parse(text).unwrap();
    Policy::aggregated_from_plan(&plan(&catalog, &d))
}

#[test]
fn the_same_deployment_and_a_regrouping_change_no_rule() {
    let catalog = Catalog::builtin().unwrap();
    let d = Deployment::parse(BASE).unwrap();
    let p = plan(&catalog, &d);
    let (agg, flat) = (Policy::aggregated_from_plan(&p), Policy::from_plan(&p));
    // One rule per flow against the aggregated rules: other rules, the same traffic.
    assert_ne!(agg.rules.len(), flat.rules.len());
    for (a, b) in [(&agg, &agg), (&agg, &flat), (&flat, &agg)] {
        let delta = rules::rule_delta(a, b);
        assert!(delta.removed.rules.is_empty() && delta.added.rules.is_empty());
        let changes = rules::render_changes("nftables", &delta, &RenderOptions::default()).unwrap();
        assert!(changes.files.is_empty());
    }
}

#[test]
fn a_new_session_host_adds_only_its_rules_and_removes_none() {
    let old = policy(BASE);
    let new_text = format!(
        "{BASE}\n[[host]]\nname = \"sh09\"\naddress = \"192.0.2.29\"\nroles = [\"session-host\"]\n"
    );
    let new = policy(&new_text);
    let delta = rules::rule_delta(&old, &new);
    assert!(!delta.added.rules.is_empty());
    let sh = new.host_index("sh09").unwrap();
    // Every added rule is cut down to traffic of the new host.
    for r in &delta.added.rules {
        assert!(r.from_hosts == [sh] || r.to_hosts == [sh], "{r:?}");
    }
    // Windows: only the new host's script and the scripts of hosts it talks to change.
    let opts = RenderOptions::default();
    let changes = rules::render_changes("windows", &delta, &opts).unwrap();
    assert!(
        changes
            .files
            .iter()
            .any(|f| f.file == "sh09.ps1" && f.add.is_some())
    );
    let all = rdsports_policy::render_policy("windows", &new, &opts).unwrap();
    assert!(changes.files.len() < all.files.len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The rule delta: what the kept old rules and the added rules allow is exactly what the
    /// new rules allow; every removed rule allows something the new side does not; the
    /// delta renders for every target.
    #[test]
    fn the_rule_delta_turns_old_space_into_new_space(old in deployment(), new in deployment()) {
        let catalog = Catalog::builtin().unwrap();
        let (Ok(a), Ok(b)) = (Deployment::parse(&old), Deployment::parse(&new)) else {
            return Err(TestCaseError::reject("a generated deployment has errors"));
        };
        let (pa, pb) = (plan(&catalog, &a), plan(&catalog, &b));
        let (old, new) = (Policy::aggregated_from_plan(&pa), Policy::aggregated_from_plan(&pb));
        let delta = rules::rule_delta(&old, &new);
        let kept: Vec<_> = old.rules.iter().filter(|r| !delta.removed.rules.contains(r)).cloned().collect();
        let mut after = rules::allowed(&old.with_rules(kept));
        for (class, region) in rules::allowed(&delta.added) {
            let into = after.entry(class).or_default();
            into.0.extend(region.0);
        }
        prop_assert!(same_space(&after, &rules::allowed(&new)));
        let new_space = rules::allowed(&new);
        for r in &delta.removed.rules {
            let (class, c) = rules::unit(&old, r);
            let mut rest = Region::of(c);
            for k in new_space.get(&class).map(|x| x.0.as_slice()).unwrap_or(&[]) {
                rest = rest.minus_cube(k);
            }
            prop_assert!(!rest.is_empty());
        }
        // The flat policy of the new plan allows the same: no change against it.
        let flat = rules::rule_delta(&new, &Policy::from_plan(&pb));
        prop_assert!(flat.removed.rules.is_empty() && flat.added.rules.is_empty());
        for t in rdsports_policy::targets() {
            let changes = rules::render_changes(t.name, &delta, &RenderOptions::default());
            prop_assert!(changes.is_ok(), "{}: {:?}", t.name, changes.err());
        }
    }
}

/// What the accepting rules of a rendered iptables zone firewall (every `*.rules` file of
/// `files`) allow, read back by audit's iptables reader: the union of their matches.
fn iptables_accepts(files: &[(String, String)]) -> Region {
    use rdsports_audit::model::Action;
    let mut out = Region::empty();
    for (name, text) in files.iter().filter(|(n, _)| n.ends_with(".rules")) {
        let rs = rdsports_audit::read::iptables::read(text, name).unwrap();
        for chain in &rs.chains {
            for r in &chain.rules {
                if r.action == Action::Accept && !r.never_new && r.possible.is_none() {
                    let mut fresh = Region::of(r.matches.clone());
                    for have in &out.0 {
                        fresh = fresh.minus_cube(have);
                    }
                    out.0.extend(fresh.0);
                }
            }
        }
    }
    out
}

/// Whether every packet of `a` is in `b`.
fn within(a: &Region, b: &Region) -> bool {
    a.0.iter().all(|c| {
        let mut rest = Region::of(c.clone());
        for k in &b.0 {
            rest = rest.minus_cube(k);
        }
        rest.is_empty()
    })
}

fn minus(a: &Region, b: &Region) -> Region {
    let mut out = a.clone();
    for k in &b.0 {
        out = out.minus_cube(k);
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// The rendered delta, read back from the platform's text (iptables, by audit's reader):
    /// the added rules allow everything the new firewall allows that the old one did not,
    /// and nothing the new one does not; the removed rules everything the old one allowed
    /// that the new one does not, and nothing the old one did not.
    #[test]
    fn the_rendered_delta_covers_the_difference_of_the_rendered_firewalls(
        old in deployment(),
        new in deployment(),
    ) {
        let catalog = Catalog::builtin().unwrap();
        let (Ok(a), Ok(b)) = (Deployment::parse(&old), Deployment::parse(&new)) else {
            return Err(TestCaseError::reject("a generated deployment has errors"));
        };
        let (pa, pb) = (plan(&catalog, &a), plan(&catalog, &b));
        let (old, new) = (Policy::aggregated_from_plan(&pa), Policy::aggregated_from_plan(&pb));
        let delta = rules::rule_delta(&old, &new);
        let opts = RenderOptions { default_drop: false, aggregate: true, ..RenderOptions::default() };
        let render = |p: &Policy| {
            iptables_accepts(&rdsports_policy::render_policy("iptables", p, &opts).unwrap().files)
        };
        let (before, after) = (render(&old), render(&new));
        let (removed, added) = (render(&delta.removed), render(&delta.added));
        prop_assert!(within(&added, &after));
        prop_assert!(within(&minus(&after, &before), &added));
        prop_assert!(within(&removed, &before));
        prop_assert!(within(&minus(&before, &after), &removed));
    }
}

#[test]
fn the_rendered_iptables_delta_of_a_new_gateway_reads_back_as_its_traffic() {
    let old = policy(BASE);
    let new = policy(&format!(
        "{BASE}\n[[host]]\nname = \"gw09\"\naddress = \"198.51.100.19\"\nroles = [\"gateway\"]\n"
    ));
    let delta = rules::rule_delta(&old, &new);
    let opts = RenderOptions {
        default_drop: false,
        ..RenderOptions::default()
    };
    let render = |p: &Policy| {
        iptables_accepts(
            &rdsports_policy::render_policy("iptables", p, &opts)
                .unwrap()
                .files,
        )
    };
    let (before, after, added) = (render(&old), render(&new), render(&delta.added));
    assert!(delta.removed.rules.is_empty());
    // The gateway's new traffic is there, read back from the text, and is all of `added`.
    let new_traffic = minus(&after, &before);
    assert!(!new_traffic.is_empty());
    assert!(within(&new_traffic, &added));
    assert!(within(&added, &after));
    // Not all of `added` is new on the wire: ls01 -> gw09 tcp/443 (internal -> perimeter) was
    // allowed before by ls01's rule to the clearinghouse (0.0.0.0/0, internal -> internet).
    // The delta compares rules zone pair by zone pair (the zone decides which firewall holds
    // the rule), so in the perimeter it is a new rule.
    let extra = minus(&added, &new_traffic);
    assert!(!extra.is_empty() && within(&extra, &before));
}
