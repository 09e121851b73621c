//! The orchestration of `rdsports check`: which probes prove the planned flows from one
//! host, in what rounds, and what their observations mean as check results.
//!
//! Three rounds of probes, all bounded by the engine's timeouts:
//! 1. every single-port flow from the host, with the protocol probe of its service (and,
//!    over TCP, the identification follow-up when another service answers: see
//!    [`crate::Identify`]);
//! 2. follow-ups: the ports an endpoint mapper (135) advertises inside a dynamic RPC range,
//!    and an rdsports listener handshake wherever a first probe could not have tried one
//!    (UDP silence, or TCP in paths-only mode), so paths proven by `rdsports listen` show
//!    as `rdsports-listener`;
//! 3. when the "endpoint mapper" turned out to be an rdsports listener, a sample of the
//!    dynamic range (both ends included, as `listen` opens them).
//!
//! [`check_one`] is the ad hoc form: one address and port, no deployment. Neither prints.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};

use rdsports_core::plan::{Plan, range_sample};
use rdsports_core::{Deployment, Flow, Protocol, Role};
use rdsports_schema::check::facts;
use rdsports_schema::check::{CheckDocument, CheckRecord, NotProbedRecord, UdpSilence, WaitRecord};

use crate::registry::{self, ProbeContext};
use crate::{Cancel, Observation, Settings, Target, Transport, Verdict};

/// Ports of a dynamic range probed when only rdsports listeners stand there (and what
/// `rdsports listen` opens by default).
pub const DEFAULT_RANGE_SAMPLE: usize = 4;

/// What to check from one host.
pub struct CheckSpec<'a> {
    /// The plan whose flows are checked.
    pub plan: &'a Plan<'a>,
    /// Index of the source host.
    pub from: usize,
    /// Only flows to this host.
    pub to: Option<usize>,
    /// Only flows to hosts with this role.
    pub role: Option<Role>,
    /// The address to probe for a host (`None`: not probed, such as a population). The
    /// demo maps hosts to loopback addresses here.
    pub address_of: &'a (dyn Fn(usize) -> Option<IpAddr> + Sync),
    /// Added to every destination port (the demo's fallback without a private namespace).
    pub port_offset: u16,
    /// The local address probes leave from (`None`: the system chooses). The demo gives
    /// each source host's loopback address, so listeners see who is calling.
    pub source: Option<IpAddr>,
    /// Timeouts, retries, concurrency.
    pub settings: Settings,
    /// Realm, secrets and nonces for the probes.
    pub context: ProbeContext,
    /// How many ports of a dynamic range to probe when its mapper is an rdsports listener.
    pub range_sample: usize,
    /// Test paths only: no identification follow-up, and any connection counts as open
    /// whatever answers (for paths tested before the servers exist).
    pub paths_only: bool,
}

/// One probe of the run and what it stands for.
struct Item {
    flow: usize,
    port: u16,
    transport: Transport,
    /// Not a planned flow of its own (an endpoint mapper probed for a range): not reported.
    auxiliary: bool,
    /// The RDS web service this item proves (`rd-gateway`, `rd-web-access`) instead of the
    /// catalog's `https`, with the catalog entry that asks for it.
    rds_web: Option<(&'static str, usize)>,
}

/// Checks every planned flow from `spec.from`; `progress(done, total)` is called as results
/// arrive. Cancelling returns what was probed so far.
pub async fn check_host(
    spec: &CheckSpec<'_>,
    cancel: &Cancel,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> CheckDocument {
    let plan = spec.plan;
    let d = plan.deployment;
    let flows: Vec<(usize, &Flow)> = plan
        .flows
        .iter()
        .enumerate()
        .filter(|(_, f)| f.from == spec.from)
        .filter(|(_, f)| spec.to.is_none_or(|t| f.to == t))
        .filter(|(_, f)| spec.role.is_none_or(|r| d.hosts[f.to].has(r)))
        .collect();

    let mut not_probed: Vec<NotProbedRecord> = Vec::new();
    let mut items: Vec<Item> = Vec::new();
    let mut ranges: Vec<usize> = Vec::new();
    for &(i, f) in &flows {
        let entry = plan.entry(f);
        if (spec.address_of)(f.to).is_none() {
            not_probed.push(skipped(
                plan,
                f,
                "the destination is a population, not one machine".into(),
            ));
        } else if f.ports.len() == 1 {
            let web = rds_web_probes(plan, f);
            if web.is_empty() {
                items.push(Item {
                    flow: i,
                    port: f.ports.start(),
                    transport: transport(f.protocol),
                    auxiliary: false,
                    rds_web: None,
                });
            }
            // One item per RDS web service the port must carry (a host that is both
            // gateway and RD Web Access serves both on one port).
            for probe in web {
                items.push(Item {
                    flow: i,
                    port: f.ports.start(),
                    transport: transport(f.protocol),
                    auxiliary: false,
                    rds_web: Some(probe),
                });
            }
        } else if entry.service == "msrpc" && f.protocol == Protocol::Tcp {
            ranges.push(i);
        } else {
            not_probed.push(skipped(
                plan,
                f,
                format!(
                    "a {} port range is used per transfer; its control port is probed instead",
                    entry.service
                ),
            ));
        }
    }
    // Every RPC range needs its endpoint mapper probed, planned flow or not.
    for &r in &ranges {
        let f = &plan.flows[r];
        if mapper_item(plan, &items, f.to).is_none() {
            items.push(Item {
                flow: r,
                port: 135,
                transport: Transport::Tcp,
                auxiliary: true,
                rds_web: None,
            });
        }
    }

    let total = std::sync::atomic::AtomicUsize::new(items.len());
    let done = std::sync::atomic::AtomicUsize::new(0);
    let tick = || {
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        progress(n, total.load(std::sync::atomic::Ordering::Relaxed));
    };

    // Round 1.
    let targets: Vec<Target> = items.iter().map(|it| target(spec, it, None)).collect();
    let run = crate::probe_all(targets, &spec.settings, cancel, |_, _| tick()).await;
    let mut results: Vec<Option<Observation>> = run.observations;
    let mut local_failures: BTreeMap<usize, String> = run.not_probed;

    // Round 2: listener handshakes where nothing known answered, and RPC follow-ups.
    let mut second: Vec<(usize, Option<usize>, Target)> = Vec::new(); // (item, range flow, target)
    for (k, it) in items.iter().enumerate() {
        let Some(obs) = &results[k] else { continue };
        let silent_udp = obs.verdict == Verdict::OpenFiltered;
        // Over TCP the identification follow-up tries the listener handshake itself.
        let unknown_tcp =
            obs.verdict == Verdict::Open && obs.service.is_none() && obs.identification.is_none();
        if silent_udp || unknown_tcp {
            second.push((k, None, target(spec, it, Some("rdsports-listener"))));
        }
    }
    let mut range_plans: Vec<(usize, Vec<u16>, Option<String>)> = Vec::new(); // (flow, ports, why not)
    for &r in &ranges {
        let f = &plan.flows[r];
        let mapper = mapper_item(plan, &items, f.to);
        let Some(obs) = mapper.and_then(|m| results[m].as_ref()) else {
            range_plans.push((
                r,
                Vec::new(),
                Some("the endpoint mapper (135) was not probed".into()),
            ));
            continue;
        };
        if obs.service.as_deref() != Some("msrpc") {
            // Maybe an rdsports listener: decided after round 2.
            range_plans.push((r, Vec::new(), None));
            continue;
        }
        let Some(ip) = (spec.address_of)(f.to) else {
            continue;
        };
        let range = f.ports.start()..=f.ports.end();
        match registry::rpc_follow_ups(obs, ip, range) {
            Ok(follow) if follow.targets.is_empty() => {
                let outside: Vec<String> = follow
                    .outside_range
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                range_plans.push((
                    r,
                    Vec::new(),
                    Some(format!(
                        "the endpoint mapper advertises no port in {} (outside it: {})",
                        f.ports,
                        if outside.is_empty() {
                            "none".to_owned()
                        } else {
                            outside.join(", ")
                        }
                    )),
                ));
            }
            Ok(follow) => {
                let ports: Vec<u16> = follow.targets.iter().map(|t| t.address.port()).collect();
                range_plans.push((r, ports, None));
            }
            Err(why) => range_plans.push((r, Vec::new(), Some(why))),
        }
    }
    // RPC follow-ups become items of their own (results are plain connects).
    let first_followup = items.len();
    for (r, ports, _) in &range_plans {
        for &p in ports {
            items.push(Item {
                flow: *r,
                port: p,
                transport: Transport::Tcp,
                auxiliary: false,
                rds_web: None,
            });
        }
    }
    let followups: Vec<Target> = items[first_followup..]
        .iter()
        .map(|it| target(spec, it, None))
        .collect();
    results.resize(items.len(), None);
    total.fetch_add(
        second.len() + followups.len(),
        std::sync::atomic::Ordering::Relaxed,
    );
    let listener_targets: Vec<Target> = second.iter().map(|(_, _, t)| t.clone()).collect();
    let n_listener = listener_targets.len();
    let mut batch = listener_targets;
    batch.extend(followups);
    let run2 = crate::probe_all(batch, &spec.settings, cancel, |_, _| tick()).await;
    for (j, obs) in run2.observations.into_iter().enumerate() {
        if j < n_listener {
            let k = second[j].0;
            if let Some(o) = obs
                && o.service.as_deref() == Some("rdsports-listener")
            {
                results[k] = Some(o);
            }
        } else {
            results[first_followup + j - n_listener] = obs;
        }
    }
    for (j, why) in run2.not_probed {
        if j >= n_listener {
            local_failures.insert(first_followup + j - n_listener, why);
        }
    }

    // Round 3: ranges whose mapper is an rdsports listener: probe the sample `listen` opens.
    let first_sample = items.len();
    for (r, ports, why) in &mut range_plans {
        if !ports.is_empty() || why.is_some() {
            continue;
        }
        let f = &plan.flows[*r];
        let mapper = mapper_item(plan, &items, f.to);
        let listener = mapper
            .and_then(|m| results[m].as_ref())
            .is_some_and(|o| o.service.as_deref() == Some("rdsports-listener"));
        if !listener {
            let found = mapper.and_then(|m| results[m].as_ref());
            *why = Some(match found {
                Some(o) if o.verdict == Verdict::Open => {
                    "port 135 answered, but not as an RPC endpoint mapper: the dynamic RPC range was not probed".into()
                }
                Some(o) => format!("the endpoint mapper (135) is {}: the dynamic RPC range was not probed", o.verdict),
                None => "the endpoint mapper (135) was not probed".into(),
            });
            continue;
        }
        for p in range_sample(f.ports, spec.range_sample) {
            items.push(Item {
                flow: *r,
                port: p,
                transport: Transport::Tcp,
                auxiliary: false,
                rds_web: None,
            });
            ports.push(p);
        }
    }
    if items.len() > first_sample {
        let targets: Vec<Target> = items[first_sample..]
            .iter()
            .map(|it| target(spec, it, Some("rdsports-listener")))
            .collect();
        total.fetch_add(targets.len(), std::sync::atomic::Ordering::Relaxed);
        results.resize(items.len(), None);
        let run3 = crate::probe_all(targets, &spec.settings, cancel, |_, _| tick()).await;
        for (j, obs) in run3.observations.into_iter().enumerate() {
            results[first_sample + j] = obs;
        }
        for (j, why) in run3.not_probed {
            local_failures.insert(first_sample + j, why);
        }
    }
    for (r, _, why) in &range_plans {
        if let Some(why) = why {
            not_probed.push(skipped(plan, &plan.flows[*r], why.clone()));
        }
    }

    // Records, in item order (plan order, then follow-ups).
    let mut records = Vec::new();
    for (k, it) in items.iter().enumerate() {
        let f = &plan.flows[it.flow];
        match (&results[k], it.auxiliary) {
            (_, true) => {}
            (Some(obs), false) => records.push(record(spec, f, it, obs)),
            (None, false) => {
                let why = local_failures.get(&k).cloned().unwrap_or_else(|| {
                    if cancel.is_cancelled() {
                        "cancelled".into()
                    } else {
                        "not probed".into()
                    }
                });
                let mut n = skipped(plan, f, why);
                n.ports = it.port.to_string();
                not_probed.push(n);
            }
        }
    }
    CheckDocument::new(&d.hosts[spec.from].name, records, not_probed)
        .judged(UdpSilence::Warn, spec.paths_only)
}

/// The catalog entries whose flows carry RD Gateway's HTTP transport (the main channel, and
/// the HTML5 web client's WebSocket through the gateway).
pub const GATEWAY_ENTRIES: [&str; 2] = ["S12", "A08"];
/// The catalog entries whose flows carry RD Web Access.
pub const WEB_ACCESS_ENTRIES: [&str; 1] = ["S01"];

/// The RDS web services a TCP flow must carry (with the catalog entry that asks for each):
/// `rd-gateway` for a gateway transport entry, `rd-web-access` for RD Web Access; empty
/// for every other flow, which keeps its catalog service's probe.
fn rds_web_probes(plan: &Plan<'_>, f: &Flow) -> Vec<(&'static str, usize)> {
    if f.protocol != Protocol::Tcp {
        return Vec::new();
    }
    let mut out: Vec<(&'static str, usize)> = Vec::new();
    for e in std::iter::once(f.entry).chain(f.also.iter().copied()) {
        let entry = &plan.catalog.entries[e];
        if entry.service != "https" {
            continue;
        }
        let service = if GATEWAY_ENTRIES.contains(&entry.id.as_str()) {
            rdsports_wire::rdg::RD_GATEWAY
        } else if WEB_ACCESS_ENTRIES.contains(&entry.id.as_str()) {
            rdsports_wire::rdg::RD_WEB_ACCESS
        } else {
            continue;
        };
        if !out.iter().any(|(s, _)| *s == service) {
            out.push((service, e));
        }
    }
    out
}

/// The item that probes the endpoint mapper (TCP 135) of host `to`, if any.
fn mapper_item(plan: &Plan<'_>, items: &[Item], to: usize) -> Option<usize> {
    items.iter().position(|it| {
        plan.flows[it.flow].to == to && it.port == 135 && it.transport == Transport::Tcp
    })
}

/// The engine's transport for a flow's protocol.
pub fn transport(p: Protocol) -> Transport {
    match p {
        Protocol::Tcp => Transport::Tcp,
        Protocol::Udp => Transport::Udp,
    }
}

/// The probe target of an item, with the flow's service or `service` instead.
fn target(spec: &CheckSpec<'_>, it: &Item, service: Option<&str>) -> Target {
    let plan = spec.plan;
    let f = &plan.flows[it.flow];
    let ip = (spec.address_of)(f.to).unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let port = it.port.saturating_add(spec.port_offset);
    let entry_service = if it.auxiliary || (it.port == 135 && it.transport == Transport::Tcp) {
        "msrpc"
    } else if let Some((web, _)) = it.rds_web {
        web
    } else {
        plan.entry(f).service.as_str()
    };
    let service = service.unwrap_or(entry_service);
    // The RDS web services are asked for by the name clients use (TLS SNI and HTTP Host),
    // when the deployment gives it: that is the certificate they will see.
    let public_name = it
        .rds_web
        .and(plan.deployment.hosts[f.to].settings.public_name.as_deref());
    let target = registry::target_for(
        SocketAddr::new(ip, port),
        public_name,
        service,
        it.transport,
        &spec.context,
    );
    let target = if spec.paths_only {
        target.without_identify()
    } else {
        target
    };
    match spec.source {
        Some(source) => target.with_source(source),
        None => target,
    }
}

fn record(spec: &CheckSpec<'_>, f: &Flow, it: &Item, obs: &Observation) -> CheckRecord {
    let plan = spec.plan;
    let entry = plan.entry(f);
    let to = plan.to(f);
    let (expected_service, entry) = match it.rds_web {
        Some((web, e)) => (web, &plan.catalog.entries[e]),
        None if it.port == 135 && entry.service == "wmi" => ("msrpc", entry),
        None => (entry.service.as_str(), entry),
    };
    let probe = registry::probe_for(expected_service, it.port, it.transport, "", &spec.context);
    let service_matches = registry::service_matches(obs, &probe);
    let ip = (spec.address_of)(f.to)
        .map(|a| a.to_string())
        .unwrap_or_default();
    let mut detail = obs.detail.clone();
    if it.rds_web.is_some()
        && let Some(name) = &to.settings.public_name
    {
        public_name_facts(&mut detail, name);
    }
    CheckRecord {
        to: to.name.clone(),
        address: ip,
        protocol: f.protocol.name().to_owned(),
        port: it.port,
        verdict: obs.verdict,
        service: obs.service.clone(),
        expected_service: Some(expected_service.to_owned()),
        catalog_id: Some(entry.id.clone()),
        rtt_ms: Some(round(obs.rtt_ms)),
        detail,
        reason: obs.reason.clone(),
        note: note(it, obs),
        purpose: Some(entry.purpose.clone()),
        role: Some(
            to.roles
                .iter()
                .map(|r| r.name())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        service_matches,
        identified: identified(obs),
        identification: as_value(obs.identification.as_deref()),
        wait: obs.wait.as_ref().map(wait_record),
        status: None,
    }
}

/// Adds the name clients use and whether the certificate presented covers it
/// ([`facts::PUBLIC_NAME`], [`facts::PUBLIC_NAME_COVERED`]); the latter only when a
/// certificate was read.
fn public_name_facts(detail: &mut serde_json::Map<String, serde_json::Value>, name: &str) {
    detail.insert(facts::PUBLIC_NAME.into(), name.into());
    let covered = detail
        .get(facts::TLS)
        .and_then(|t| t.get("certificate"))
        .and_then(|c| c.get("covers_server_name"))
        .and_then(serde_json::Value::as_bool);
    if let Some(covered) = covered {
        detail.insert(facts::PUBLIC_NAME_COVERED.into(), covered.into());
    }
}

/// What the identification follow-up found, when it ran and something answered.
fn identified(obs: &Observation) -> Option<String> {
    obs.identification.as_ref()?.identified.clone()
}

fn wait_record(wait: &crate::WaitReport) -> WaitRecord {
    WaitRecord {
        mode: wait.mode.clone(),
        decided_by: wait.decided_by.clone(),
        wait_ms: round(wait.wait_ms),
        samples: wait.samples,
    }
}

fn as_value<T: serde::Serialize>(value: Option<&T>) -> Option<serde_json::Value> {
    value.and_then(|v| serde_json::to_value(v).ok())
}

fn round(ms: f64) -> f64 {
    (ms * 100.0).round() / 100.0
}

/// The probe's note, with the expected rejection on a dynamic RPC port said plainly: the
/// server there does not serve the endpoint mapper's interface, but answering at all proves
/// an RPC server.
fn note(it: &Item, obs: &Observation) -> Option<String> {
    // TLS answered, then nothing (a reset or a close) to the gateway's request.
    if it
        .rds_web
        .is_some_and(|(web, _)| web == rdsports_wire::rdg::RD_GATEWAY)
        && obs.service.as_deref() == Some("tls")
        && obs
            .detail
            .get(facts::TLS)
            .is_some_and(|t| t.get("version").is_some())
    {
        let said = obs.note.as_deref().unwrap_or("no answer");
        if said.contains(rdsports_wire::rdg::DROPPED_METHOD) {
            return Some(said.to_owned());
        }
        return Some(format!("{said}; {}", rdsports_wire::rdg::DROPPED_METHOD));
    }
    let rpc_server = it.port != 135 && obs.service.as_deref() == Some("msrpc");
    match &obs.note {
        Some(n) if rpc_server && n.starts_with("bind rejected") => {
            Some("an RPC server answers (it rejects the endpoint mapper's interface, as a dynamic RPC port does)".into())
        }
        other => other.clone(),
    }
}

fn skipped(plan: &Plan<'_>, f: &Flow, reason: String) -> NotProbedRecord {
    NotProbedRecord {
        to: plan.to(f).name.clone(),
        protocol: f.protocol.name().to_owned(),
        ports: f.ports.to_string(),
        catalog_id: Some(plan.entry(f).id.clone()),
        reason,
    }
}

/// The deployment hosts whose address belongs to this machine (a bind to it succeeds).
pub fn local_hosts(d: &Deployment) -> Vec<usize> {
    d.hosts
        .iter()
        .enumerate()
        .filter(|(_, h)| h.is_single())
        .filter(|(_, h)| UdpSocket::bind(SocketAddr::new(h.address.addr(), 0)).is_ok())
        .map(|(i, _)| i)
        .collect()
}

/// An ad hoc check: addresses and ports, no deployment (like PortQry or `nmap -sT -p`).
#[derive(Debug, Clone)]
pub struct AdHoc {
    /// What to probe, in report order.
    pub probes: Vec<AdHocProbe>,
    /// Timeouts, retries, concurrency, adaptive waits.
    pub settings: Settings,
    /// Realm, secrets and nonces for the probes.
    pub context: ProbeContext,
    /// No identification follow-up; any connection counts as open.
    pub paths_only: bool,
}

/// One port of an ad hoc check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdHocProbe {
    /// The address to probe.
    pub address: IpAddr,
    /// The port.
    pub port: u16,
    /// TCP or UDP.
    pub protocol: Protocol,
    /// The catalog service to speak (`unknown`: a plain connect or an empty datagram).
    pub service: String,
}

/// Probes every address and port of `spec`, as `check --target`; `progress(done, total)`
/// is called as results arrive.
pub async fn check_ad_hoc(
    spec: &AdHoc,
    cancel: &Cancel,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> CheckDocument {
    let total = spec.probes.len();
    let targets: Vec<Target> = spec
        .probes
        .iter()
        .map(|p| {
            let address = SocketAddr::new(p.address, p.port);
            let transport = transport(p.protocol);
            let target = registry::target_for(address, None, &p.service, transport, &spec.context);
            if spec.paths_only {
                target.without_identify()
            } else {
                target
            }
        })
        .collect();
    let mut done = 0;
    let run = crate::probe_all(targets, &spec.settings, cancel, |_, _| {
        done += 1;
        progress(done, total);
    })
    .await;
    let mut records = Vec::with_capacity(total);
    let mut not_probed = Vec::new();
    let mut failures = run.not_probed;
    for (k, (p, observation)) in spec.probes.iter().zip(run.observations).enumerate() {
        let text = p.address.to_string();
        let protocol = p.protocol.name();
        let Some(o) = observation else {
            let reason = failures.remove(&k).unwrap_or_else(|| {
                if cancel.is_cancelled() {
                    "cancelled"
                } else {
                    "not probed"
                }
                .to_owned()
            });
            not_probed.push(NotProbedRecord {
                to: text,
                protocol: protocol.to_owned(),
                ports: p.port.to_string(),
                catalog_id: None,
                reason,
            });
            continue;
        };
        let probe =
            registry::probe_for(&p.service, p.port, transport(p.protocol), "", &spec.context);
        records.push(CheckRecord {
            to: text.clone(),
            address: text,
            protocol: protocol.to_owned(),
            port: p.port,
            verdict: o.verdict,
            service_matches: registry::service_matches(&o, &probe),
            identified: identified(&o),
            identification: as_value(o.identification.as_deref()),
            wait: o.wait.as_ref().map(wait_record),
            service: o.service,
            expected_service: Some(p.service.clone()),
            catalog_id: None,
            rtt_ms: Some(round(o.rtt_ms)),
            detail: o.detail,
            reason: o.reason,
            note: o.note,
            purpose: None,
            role: None,
            status: None,
        });
    }
    CheckDocument::new("ad hoc", records, not_probed).judged(UdpSilence::Warn, spec.paths_only)
}
