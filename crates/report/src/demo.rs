//! `rdsports demo` without the network: the scenario (which flow is closed on purpose, the
//! demo's addresses and port offset), the judgement of what the checks found against it
//! ([`evaluate`], a pure function), and the narrative the command prints. The listeners and
//! the checks themselves are `rdsports_net::demo`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use rdsports_core::plan::Plan;
use rdsports_core::{Deployment, PortRange};
use rdsports_schema::check::{CheckDocument, UdpSilence, Verdict, passes};

use crate::check::explain;
use crate::table::Table;

/// The host whose flow the demo leaves closed: the license server.
pub const CLOSED_HOST: &str = "ls01";
/// The port left closed there: the RPC endpoint mapper.
pub const CLOSED_PORT: u16 = 135;
/// Without a private namespace: every port moves up by this much.
pub const PORT_OFFSET: u16 = 20_000;
/// Without a private namespace: the dynamic RPC range, narrowed so that it still fits
/// below 65536 after the offset.
pub const FALLBACK_RPC_RANGE: PortRange = PortRange::fixed(10_000, 10_999);

/// Where the demo runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Network {
    /// A private user and network namespace: real ports.
    Private,
    /// This machine's loopback, ports shifted; the text says why.
    Loopback(String),
}

impl Network {
    /// The port offset this network needs.
    pub fn offset(&self) -> u16 {
        match self {
            Network::Private => 0,
            Network::Loopback(_) => PORT_OFFSET,
        }
    }
}

/// The demo address of every host: 127.0.0.N for a machine, 127.0.1.N for a population.
pub fn lab_addresses(d: &Deployment) -> Vec<IpAddr> {
    let (mut single, mut population) = (10u8, 1u8);
    d.hosts
        .iter()
        .map(|h| {
            let ip = if h.is_single() {
                single = single.saturating_add(1);
                Ipv4Addr::new(127, 0, 0, single)
            } else {
                population = population.saturating_add(1);
                Ipv4Addr::new(127, 0, 1, population)
            };
            IpAddr::V4(ip)
        })
        .collect()
}

/// What the checks found, judged against the scenario.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Results of the closed flow that were refused, as intended.
    pub expected_refusals: usize,
    /// Source hosts whose plan needs the closed flow.
    pub needed: usize,
    /// Results open, as intended.
    pub open: usize,
    /// Of which answered by an rdsports listener.
    pub by_listener: usize,
    /// Flows not probed because the closed endpoint mapper could not name the range.
    pub consequences: usize,
    /// One line per refused result of the closed flow.
    pub failure_lines: Vec<String>,
    /// Everything that did not behave as intended, one sentence each.
    pub deviations: Vec<String>,
    /// Per document: whether it holds a deviation.
    pub unexpected: Vec<bool>,
}

impl Outcome {
    /// Whether the demo behaved as intended: the closed flow refused from every host that
    /// needs it, everything else open, nothing else unexpected.
    pub fn intended(&self) -> bool {
        self.expected_refusals == self.needed && self.deviations.is_empty() && self.open > 0
    }
}

/// The sources that need the closed flow (tcp `port` to `host`, one port).
pub fn needing_closed<'p>(plan: &Plan<'p>, host: usize, port: u16) -> Vec<&'p str> {
    plan.flows
        .iter()
        .filter(|f| f.to == host && f.ports.start() == port && f.ports.len() == 1)
        .map(|f| plan.from(f).name.as_str())
        .collect()
}

/// Judges the check documents: the closed flow must be refused, every other result open
/// (with an honest listener answer), and only the range behind the closed endpoint mapper
/// may go unprobed. `not_listening` are the listeners' own failures, deviations too.
pub fn evaluate(documents: &[CheckDocument], needed: usize, not_listening: &[String]) -> Outcome {
    let mut o = Outcome {
        needed,
        deviations: not_listening.to_vec(),
        ..Outcome::default()
    };
    for doc in documents {
        let mut unexpected = false;
        for r in &doc.results {
            let closed = r.to == CLOSED_HOST && r.protocol == "tcp" && r.port == CLOSED_PORT;
            match (closed, r.verdict) {
                (true, Verdict::Refused) => {
                    o.expected_refusals += 1;
                    o.failure_lines.push(format!(
                        "{} -> {} tcp {}: refused: {}",
                        doc.from,
                        r.to,
                        r.port,
                        explain(r)
                    ));
                }
                (false, Verdict::Open) => {
                    o.open += 1;
                    if r.service.as_deref() == Some("rdsports-listener") {
                        o.by_listener += 1;
                    }
                    let honest = r
                        .facts()
                        .map(|f| f.translated != Some(true) && f.nonce_ok != Some(false));
                    if honest != Ok(true) {
                        unexpected = true;
                        o.deviations.push(format!(
                            "{} -> {} {} {}: {}",
                            doc.from,
                            r.to,
                            r.protocol,
                            r.port,
                            r.note.as_deref().unwrap_or("unexpected listener answer")
                        ));
                    }
                }
                (_, verdict) => {
                    unexpected = true;
                    o.deviations.push(format!(
                        "{} -> {} {} {}: {verdict}, expected {}: {}",
                        doc.from,
                        r.to,
                        r.protocol,
                        r.port,
                        if closed { "refused" } else { "open" },
                        explain(r)
                    ));
                }
            }
        }
        for n in &doc.not_probed {
            // The range behind the closed endpoint mapper cannot be discovered: expected.
            if n.to == CLOSED_HOST && n.reason.contains("refused") {
                o.consequences += 1;
            } else {
                unexpected = true;
                o.deviations.push(format!(
                    "{} -> {} {} {}: not probed: {}",
                    doc.from, n.to, n.protocol, n.ports, n.reason
                ));
            }
        }
        o.unexpected.push(unexpected);
    }
    o
}

/// The opening: what runs where.
pub fn intro(d: &Deployment, network: &Network) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "rdsports demo: the built-in example deployment \"{}\" (examples/perimeter.toml), live \
         on this machine\n",
        d.name
    );
    match network {
        Network::Private => out.push_str(
            "network: a private user and network namespace of this process, with only a \
             loopback interface:\n         real port numbers, no root, nothing on this \
             machine's network is touched\n",
        ),
        Network::Loopback(why) => {
            let _ = writeln!(
                out,
                "network: this machine's loopback ({why})\n         every port is moved up by \
                 {PORT_OFFSET} (389 -> {}), and the dynamic RPC range is narrowed to {} \
                 (-> {}-{}) so that it fits",
                389 + PORT_OFFSET,
                FALLBACK_RPC_RANGE,
                FALLBACK_RPC_RANGE.start() + PORT_OFFSET,
                FALLBACK_RPC_RANGE.end() + PORT_OFFSET
            );
        }
    }
    out.push_str(
        "         each host gets a loopback address of its own instead of its documentation \
         address\n\n",
    );
    out
}

/// Every host: its address, its demo address, its roles and the ports it listens on.
pub fn hosts_table(
    d: &Deployment,
    lab: &[IpAddr],
    listening: &BTreeMap<usize, Vec<String>>,
    width: usize,
) -> String {
    let mut t =
        Table::new(&["HOST", "ADDRESS", "DEMO ADDRESS", "ROLES", "LISTENING ON"]).flexible_last();
    for (i, h) in d.hosts.iter().enumerate() {
        let roles: Vec<&str> = h.roles.iter().map(|r| r.name()).collect();
        t.row(vec![
            h.name.clone(),
            if h.is_single() {
                h.address.addr().to_string()
            } else {
                h.address.to_string()
            },
            lab.get(i).map(ToString::to_string).unwrap_or_default(),
            roles.join(", "),
            listening
                .get(&i)
                .map_or_else(|| "-".to_owned(), |ports| ports.join(" ")),
        ]);
    }
    t.render(width, 0)
}

/// The plan in brief (flows per zone boundary) and the flow left closed. `None` when the
/// plan has no such flow (the example always has it).
pub fn plan_section(plan: &Plan<'_>, closed_host: usize) -> Option<String> {
    let sources = (0..plan.deployment.hosts.len())
        .filter(|&i| plan.flows.iter().any(|f| f.from == i))
        .count();
    let mut boundaries: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for f in &plan.flows {
        *boundaries
            .entry((&plan.from_zone(f).name, &plan.to_zone(f).name))
            .or_default() += 1;
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nplan: {} flows from {sources} hosts (`rdsports plan` lists them)",
        plan.flows.len(),
    );
    for ((a, b), n) in &boundaries {
        let _ = writeln!(
            out,
            "  {a:>10} -> {b:<10} {n:>4} flow{}",
            if *n == 1 { "" } else { "s" }
        );
    }
    let closed_flow = plan
        .flows
        .iter()
        .find(|f| f.to == closed_host && f.ports.start() == CLOSED_PORT && f.ports.len() == 1)?;
    let entry = plan.entry(closed_flow);
    let _ = writeln!(
        out,
        "\nleft closed on purpose: {CLOSED_HOST} tcp {CLOSED_PORT} ({}: {}), needed by {}\n  \
         its listener does not open this port, as when the firewall rule for it is forgotten\n",
        entry.id,
        entry.purpose,
        needing_closed(plan, closed_host, CLOSED_PORT).join(", ")
    );
    Some(out)
}

/// The results of every source host: check's table where it matters (the first host that
/// meets the closed flow, every host with a surprise, or all of them with `full`), a
/// compact line per destination elsewhere.
pub fn results_section(
    documents: &[CheckDocument],
    addresses: &[IpAddr],
    outcome: &Outcome,
    width: usize,
    full: bool,
) -> String {
    let mut out = String::new();
    let mut shown_in_full = false;
    for (k, (doc, address)) in documents.iter().zip(addresses).enumerate() {
        let failing = doc.results.iter().any(|r| !passes(r, UdpSilence::Warn));
        let unexpected = outcome.unexpected.get(k).copied().unwrap_or(false);
        let _ = writeln!(out, "check from {} ({address})", doc.from);
        let first_failure = failing && !shown_in_full;
        if first_failure || unexpected || full {
            shown_in_full |= failing;
            for line in crate::check::table(doc, width, UdpSilence::Warn).lines() {
                let _ = writeln!(out, "  {line}");
            }
        } else {
            out.push_str(&compact(doc));
        }
        out.push('\n');
    }
    out
}

/// What the listeners saw besides the checks' results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contacts {
    /// Handshakes answered.
    pub handshakes: usize,
    /// Other contacts.
    pub others: usize,
}

/// The closing summary: counts, the closed flow and what it means, and the verdict.
pub fn summary_section(
    documents: &[CheckDocument],
    outcome: &Outcome,
    contacts: Contacts,
    closed_id: &str,
    network: &Network,
    elapsed_s: f64,
) -> String {
    let mut out = String::new();
    let total: usize = documents.iter().map(|doc| doc.results.len()).sum();
    let _ = writeln!(out, "summary");
    let _ = writeln!(
        out,
        "  {total} results from {} hosts: {} open ({} answered by an rdsports \
         listener), {} refused; listeners answered {} handshakes and saw {} \
         other contacts (the real protocol probes check sends first, which a stand-in does \
         not speak)",
        documents.len(),
        outcome.open,
        outcome.by_listener,
        outcome.expected_refusals,
        contacts.handshakes,
        contacts.others
    );
    let _ = writeln!(
        out,
        "\n  the flow left closed on purpose failed, as intended: {CLOSED_HOST} tcp {CLOSED_PORT} \
         ({closed_id})"
    );
    for line in &outcome.failure_lines {
        let _ = writeln!(out, "    {line}");
    }
    if outcome.consequences > 0 {
        let _ = writeln!(
            out,
            "    and so the dynamic RPC range behind it was not probed from {} \
             host{} (listed under \"not probed\")",
            outcome.consequences,
            if outcome.consequences == 1 { "" } else { "s" }
        );
    }
    let _ = writeln!(
        out,
        "  what it means: session hosts request RDS client access licenses from the license \
         server over RPC; with the endpoint mapper blocked they cannot, and once the licensing \
         grace period (120 days) ends, users are disconnected because no Remote Desktop \
         license server is available to provide a license\n  the fix: allow TCP {CLOSED_PORT} \
         and the dynamic RPC range from the session hosts to {CLOSED_HOST} (`rdsports rules \
         --target windows --host {CLOSED_HOST}` writes the rule)"
    );
    if outcome.intended() {
        let _ = writeln!(
            out,
            "\ndemo ok: every other flow is open and the closed one was explained ({elapsed_s:.1} s)"
        );
    } else {
        let _ = writeln!(out, "\nthe demo did not behave as intended:");
        if outcome.expected_refusals != outcome.needed {
            let _ = writeln!(
                out,
                "  {} of {} results for {CLOSED_HOST} tcp {CLOSED_PORT} were refused",
                outcome.expected_refusals, outcome.needed
            );
        }
        for d in &outcome.deviations {
            let _ = writeln!(out, "  {d}");
        }
        if matches!(network, Network::Loopback(_)) {
            let _ = writeln!(
                out,
                "  (without a private namespace, services or firewall rules of this machine can \
                 stand in the way)"
            );
        }
    }
    out
}

/// One line per destination: the verdicts and the ports probed (a failing one marked with
/// its verdict), then check's own summary line.
fn compact(doc: &CheckDocument) -> String {
    let mut by_to: Vec<(&str, Vec<String>, BTreeMap<&str, usize>)> = Vec::new();
    for r in &doc.results {
        let mut port = if r.protocol == "udp" {
            format!("{}/udp", r.port)
        } else {
            r.port.to_string()
        };
        if !passes(r, UdpSilence::Warn) {
            let _ = write!(port, " ({}!)", r.verdict);
        }
        match by_to.iter_mut().find(|(to, _, _)| *to == r.to) {
            Some((_, ports, verdicts)) => {
                ports.push(port);
                *verdicts.entry(r.verdict.as_str()).or_default() += 1;
            }
            None => by_to.push((&r.to, vec![port], BTreeMap::from([(r.verdict.as_str(), 1)]))),
        }
    }
    let mut out = String::new();
    for (to, ports, verdicts) in by_to {
        let verdicts: Vec<String> = verdicts.iter().map(|(v, n)| format!("{n} {v}")).collect();
        let _ = writeln!(
            out,
            "  -> {to:<14} {}: {}",
            verdicts.join(", "),
            ports.join(" ")
        );
    }
    for n in &doc.not_probed {
        let _ = writeln!(
            out,
            "  not probed: {} {} {}: {}",
            n.to, n.protocol, n.ports, n.reason
        );
    }
    let summary = crate::check::table(doc, usize::MAX, UdpSilence::Warn);
    if let Some(last) = summary.lines().last() {
        let _ = writeln!(out, "  {last}");
    }
    out
}

#[cfg(test)]
mod tests {
    use rdsports_core::plan::plan;
    use rdsports_core::{Catalog, Deployment};
    use rdsports_schema::check::{CheckRecord, NotProbedRecord};
    use serde_json::{Value, json};

    use super::*;

    const EXAMPLE: &str = include_str!("../../../examples/perimeter.toml");

    fn record(to: &str, port: u16, verdict: Verdict, detail: Value) -> CheckRecord {
        let Value::Object(detail) = detail else {
            panic!("an object")
        };
        CheckRecord {
            to: to.into(),
            address: "127.0.0.11".into(),
            protocol: "tcp".into(),
            port,
            verdict,
            service: (verdict == Verdict::Open).then(|| "rdsports-listener".into()),
            expected_service: Some("msrpc".into()),
            catalog_id: Some("S28a".into()),
            rtt_ms: Some(0.1),
            detail,
            reason: None,
            note: None,
            purpose: None,
            role: None,
            service_matches: None,
            identified: None,
            identification: None,
            wait: None,
            status: None,
        }
    }

    fn document(
        from: &str,
        results: Vec<CheckRecord>,
        not_probed: Vec<NotProbedRecord>,
    ) -> CheckDocument {
        CheckDocument::new(from, results, not_probed)
    }

    fn range_not_probed() -> NotProbedRecord {
        NotProbedRecord {
            to: CLOSED_HOST.into(),
            protocol: "tcp".into(),
            ports: "49152-65535".into(),
            catalog_id: Some("S28b".into()),
            reason: "the endpoint mapper refused the connection".into(),
        }
    }

    #[test]
    fn the_closed_flow_refused_and_the_rest_open_is_the_intended_demo() {
        let docs = vec![document(
            "sh01",
            vec![
                record("ls01", 135, Verdict::Refused, json!({})),
                record(
                    "dc01",
                    88,
                    Verdict::Open,
                    json!({"nonce_ok": true, "translated": false}),
                ),
            ],
            vec![range_not_probed()],
        )];
        let o = evaluate(&docs, 1, &[]);
        assert!(o.intended(), "{o:?}");
        assert_eq!(
            (o.expected_refusals, o.open, o.by_listener, o.consequences),
            (1, 1, 1, 1)
        );
        assert_eq!(o.unexpected, [false]);
        assert!(o.failure_lines[0].starts_with("sh01 -> ls01 tcp 135: refused: "));
    }

    #[test]
    fn every_surprise_is_a_deviation() {
        let docs = vec![
            document(
                "sh01",
                vec![
                    // The closed flow open: a deviation, and one refusal short.
                    record("ls01", 135, Verdict::Open, json!({})),
                    // A listener that saw another source address (a NAT).
                    record("dc01", 88, Verdict::Open, json!({"translated": true})),
                ],
                Vec::new(),
            ),
            document(
                "gw01",
                vec![
                    record("dc01", 389, Verdict::Filtered, json!({})),
                    // An unreadable fact is never read as an honest answer.
                    record("dc01", 636, Verdict::Open, json!({"nonce_ok": "yes"})),
                ],
                vec![NotProbedRecord {
                    reason: "cancelled".into(),
                    ..range_not_probed()
                }],
            ),
        ];
        let o = evaluate(&docs, 1, &["dc01 could not listen on 88".into()]);
        assert!(!o.intended());
        assert_eq!(o.expected_refusals, 0);
        assert_eq!(o.unexpected, [true, true]);
        assert_eq!(o.deviations.len(), 6, "{:#?}", o.deviations);
        assert_eq!(o.deviations[0], "dc01 could not listen on 88");
        assert!(
            o.deviations[1].contains("tcp 135: open, expected refused"),
            "{}",
            o.deviations[1]
        );
        assert!(
            o.deviations[4].contains("dc01 tcp 636"),
            "{}",
            o.deviations[4]
        );
        assert!(o.deviations[5].contains("not probed: cancelled"));
        let text = summary_section(
            &docs,
            &o,
            Contacts {
                handshakes: 1,
                others: 0,
            },
            "S28a",
            &Network::Loopback("--no-namespace".into()),
            1.0,
        );
        assert!(
            text.contains("the demo did not behave as intended:"),
            "{text}"
        );
        assert!(
            text.contains("0 of 1 results for ls01 tcp 135 were refused"),
            "{text}"
        );
        assert!(text.contains("without a private namespace"), "{text}");
    }

    #[test]
    fn lab_addresses_are_loopback_and_distinct() {
        let d = Deployment::parse(EXAMPLE).unwrap();
        let lab = lab_addresses(&d);
        assert_eq!(lab.len(), d.hosts.len());
        let mut unique = lab.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), lab.len());
        for (h, ip) in d.hosts.iter().zip(&lab) {
            assert!(ip.is_loopback());
            let IpAddr::V4(v4) = ip else { panic!() };
            assert_eq!(v4.octets()[2], u8::from(!h.is_single()), "{}", h.name);
        }
    }

    #[test]
    fn the_fallback_range_fits_after_the_offset() {
        assert!(u32::from(FALLBACK_RPC_RANGE.end()) + u32::from(PORT_OFFSET) <= 65_535);
        // Every fixed port of the example fits too, and the closed flow is planned.
        let mut d = Deployment::parse(EXAMPLE).unwrap();
        d.options.rpc_range = FALLBACK_RPC_RANGE;
        let catalog = Catalog::builtin().unwrap();
        let p = plan(&catalog, &d);
        assert!(
            p.flows
                .iter()
                .all(|f| u32::from(f.ports.end()) + u32::from(PORT_OFFSET) <= 65_535)
        );
        let ls01 = d.host_index(CLOSED_HOST).unwrap();
        assert!(
            plan_section(&p, ls01)
                .unwrap()
                .contains("left closed on purpose: ls01 tcp 135")
        );
        assert_eq!(
            needing_closed(&p, ls01, CLOSED_PORT),
            ["sh01", "sh02", "sh03"]
        );
    }
}
