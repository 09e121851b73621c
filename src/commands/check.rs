//! `rdsports check`: prove from this host that every planned flow it needs is open.
//!
//! Three rounds of probes, all bounded by the engine's timeouts:
//! 1. every single-port flow from the host, with the protocol probe of its service;
//! 2. follow-ups: the ports an endpoint mapper (135) advertises inside a dynamic RPC range,
//!    and an rdsports listener handshake wherever the first probe found no service it knows
//!    (or UDP silence), so paths proven by `rdsports listen` show as `rdsports-listener`;
//! 3. when the "endpoint mapper" turned out to be an rdsports listener, a sample of the
//!    dynamic range (both ends included, as `listen` opens them).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use rdsports_core::plan::{Plan, plan, range_sample};
use rdsports_core::{Deployment, Flow, Protocol, Role};
use rdsports_net::registry::{self, ProbeContext};
use rdsports_net::{Cancel, Observation, Settings, Target, Transport, Verdict};
use rdsports_report::check::{CheckDocument, CheckRecord, NotProbedRecord, RunInfo, UdpSilence};

use crate::ExitStatus;
use crate::cli::{CheckArgs, CheckFormat};
use crate::input;

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
}

/// One probe of the run and what it stands for.
struct Item {
    flow: usize,
    port: u16,
    transport: Transport,
    /// Not a planned flow of its own (an endpoint mapper probed for a range): not reported.
    auxiliary: bool,
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
            items.push(Item {
                flow: i,
                port: f.ports.start(),
                transport: transport(f.protocol),
                auxiliary: false,
            });
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
    let run = rdsports_net::probe_all(targets, &spec.settings, cancel, |_, _| tick()).await;
    let mut results: Vec<Option<Observation>> = run.observations;
    let mut local_failures: BTreeMap<usize, String> = run.not_probed;

    // Round 2: listener handshakes where nothing known answered, and RPC follow-ups.
    let mut second: Vec<(usize, Option<usize>, Target)> = Vec::new(); // (item, range flow, target)
    for (k, it) in items.iter().enumerate() {
        let Some(obs) = &results[k] else { continue };
        let silent_udp = obs.verdict == Verdict::OpenFiltered;
        let unknown_tcp = obs.verdict == Verdict::Open && obs.service.is_none();
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
    let run2 = rdsports_net::probe_all(batch, &spec.settings, cancel, |_, _| tick()).await;
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
        let run3 = rdsports_net::probe_all(targets, &spec.settings, cancel, |_, _| tick()).await;
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
}

/// The item that probes the endpoint mapper (TCP 135) of host `to`, if any.
fn mapper_item(plan: &Plan<'_>, items: &[Item], to: usize) -> Option<usize> {
    items.iter().position(|it| {
        plan.flows[it.flow].to == to && it.port == 135 && it.transport == Transport::Tcp
    })
}

fn transport(p: Protocol) -> Transport {
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
    } else {
        plan.entry(f).service.as_str()
    };
    let service = service.unwrap_or(entry_service);
    let target = registry::target_for(
        SocketAddr::new(ip, port),
        None,
        service,
        it.transport,
        &spec.context,
    );
    match spec.source {
        Some(source) => target.with_source(source),
        None => target,
    }
}

fn record(spec: &CheckSpec<'_>, f: &Flow, it: &Item, obs: &Observation) -> CheckRecord {
    let plan = spec.plan;
    let entry = plan.entry(f);
    let to = plan.to(f);
    let expected_service = if it.port == 135 && entry.service == "wmi" {
        "msrpc"
    } else {
        entry.service.as_str()
    };
    let expects =
        registry::probe_for(expected_service, it.port, it.transport, "", &spec.context).expects;
    let service_matches = match (&obs.service, expects) {
        (Some(s), _) if s == "rdsports-listener" => None,
        (Some(s), Some(e)) => Some(s == e),
        _ => None,
    };
    let ip = (spec.address_of)(f.to)
        .map(|a| a.to_string())
        .unwrap_or_default();
    CheckRecord {
        to: to.name.clone(),
        address: ip,
        protocol: f.protocol.name().to_owned(),
        port: it.port,
        verdict: obs.verdict.as_str().to_owned(),
        service: obs.service.clone(),
        expected_service: Some(expected_service.to_owned()),
        catalog_id: Some(entry.id.clone()),
        rtt_ms: Some((obs.rtt_ms * 100.0).round() / 100.0),
        detail: obs.detail.clone(),
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
    }
}

/// The probe's note, with the expected rejection on a dynamic RPC port said plainly: the
/// server there does not serve the endpoint mapper's interface, but answering at all proves
/// an RPC server.
fn note(it: &Item, obs: &Observation) -> Option<String> {
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

pub fn run(args: &CheckArgs) -> anyhow::Result<ExitStatus> {
    let settings = Settings {
        timeout: Duration::from_millis(args.timeout),
        retries: args.retries,
        concurrency: args.concurrency,
    }
    .bounded();
    let udp = if args.strict_udp {
        UdpSilence::Fail
    } else {
        UdpSilence::Warn
    };
    if let Some(address) = &args.target {
        return ad_hoc(args, address, settings, udp);
    }
    let Some((deployment, loaded)) = input::load(&args.input)? else {
        return Ok(ExitStatus::BadInput);
    };
    let host_index = |name: &str| -> anyhow::Result<usize> {
        deployment.host_index(name).ok_or_else(|| {
            let names: Vec<&str> = deployment.hosts.iter().map(|h| h.name.as_str()).collect();
            anyhow::anyhow!(
                "no host \"{name}\" in {} (hosts: {})",
                loaded.name,
                names.join(", ")
            )
        })
    };
    let from = match &args.from {
        Some(name) => host_index(name)?,
        None => {
            let local = local_hosts(&deployment);
            match local.as_slice() {
                [one] => *one,
                [] => {
                    eprintln!(
                        "error: no host of {} has an address of this machine",
                        loaded.name
                    );
                    eprintln!("hint: name the host this check runs as with --from HOST");
                    return Ok(ExitStatus::BadInput);
                }
                many => {
                    let names: Vec<&str> = many
                        .iter()
                        .map(|i| deployment.hosts[*i].name.as_str())
                        .collect();
                    eprintln!(
                        "error: several hosts of {} have addresses of this machine: {}",
                        loaded.name,
                        names.join(", ")
                    );
                    eprintln!("hint: choose one with --from HOST");
                    return Ok(ExitStatus::BadInput);
                }
            }
        }
    };
    let to = args.to.as_deref().map(host_index).transpose()?;
    let role = match &args.role {
        None => None,
        Some(r) => Some(Role::from_str(r).map_err(|()| anyhow::anyhow!("unknown role \"{r}\""))?),
    };
    let catalog = input::catalog()?;
    let plan = plan(&catalog, &deployment);
    let address_of = |h: usize| {
        let host = &deployment.hosts[h];
        host.is_single().then(|| host.address.addr())
    };
    let spec = CheckSpec {
        plan: &plan,
        from,
        to,
        role,
        address_of: &address_of,
        port_offset: 0,
        source: None,
        settings,
        context: context(args, deployment.options.domain.clone()),
        range_sample: args.range_sample,
    };
    let n = plan.flows.iter().filter(|f| f.from == from).count();
    if n == 0 {
        eprintln!(
            "rdsports: {} opens no planned flow: nothing to check",
            deployment.hosts[from].name
        );
    }
    let runner = Runner::new()?;
    let progress = |done, total| runner.progress(done, total);
    let started = now_utc();
    let mut doc = runner.block_on(check_host(&spec, &runner.cancel, &progress));
    doc.run = RunInfo {
        rdsports_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        deployment: Some(deployment.name.clone()),
        deployment_digest: Some(crate::commands::fleet::digest(&loaded.text)),
        started_utc: Some(started),
        finished_utc: Some(now_utc()),
    };
    emit(&doc, args, udp)
}

/// This host's clock, RFC 3339 UTC (a clock before 1970 reads as 1970).
fn now_utc() -> String {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    rdsports_wire::tls::rfc3339(unix)
}

/// Writes `text` to `path` through a temporary file beside it and a rename, so that a fleet
/// engine fetching the file never sees half of it.
fn write_whole(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = std::path::PathBuf::from(tmp);
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Checks one address and port without a deployment file, like PortQry.
fn ad_hoc(
    args: &CheckArgs,
    address: &str,
    settings: Settings,
    udp: UdpSilence,
) -> anyhow::Result<ExitStatus> {
    let Ok(ip) = IpAddr::from_str(address) else {
        bail!(
            "--target takes an IP address, not \"{address}\" (names are not resolved: give the address)"
        );
    };
    let Some(port) = args.port else {
        bail!("--target needs --port");
    };
    if port == 0 {
        bail!("port 0 cannot be probed");
    }
    let protocol = match args.protocol.as_deref() {
        None | Some("tcp") => Protocol::Tcp,
        Some("udp") => Protocol::Udp,
        Some(other) => bail!("unknown protocol \"{other}\" (tcp or udp)"),
    };
    let catalog = input::catalog()?;
    let guessed = catalog
        .entries
        .iter()
        .find(|e| {
            e.protocols.contains(&protocol)
                && rdsports_report::ports::default_ports(e)
                    .iter()
                    .any(|r| r.len() == 1 && r.contains(port))
        })
        .map(|e| e.service.clone());
    let service = args
        .service
        .clone()
        .or(guessed)
        .unwrap_or_else(|| "unknown".to_owned());
    let ctx = context(args, args.realm.clone());
    let target = registry::target_for(
        SocketAddr::new(ip, port),
        None,
        &service,
        transport(protocol),
        &ctx,
    );
    let expects = registry::probe_for(&service, port, transport(protocol), "", &ctx).expects;
    let runner = Runner::new()?;
    let doc = runner.block_on(async {
        let run = rdsports_net::probe_all(vec![target], &settings, &runner.cancel, |_, _| {}).await;
        let obs = run.observations.into_iter().next().flatten();
        let record = obs.map(|o| CheckRecord {
            to: address.to_owned(),
            address: address.to_owned(),
            protocol: protocol.name().to_owned(),
            port,
            verdict: o.verdict.as_str().to_owned(),
            service_matches: match (&o.service, expects) {
                (Some(s), Some(e)) => Some(s == e),
                _ => None,
            },
            service: o.service,
            expected_service: Some(service.clone()),
            catalog_id: None,
            rtt_ms: Some((o.rtt_ms * 100.0).round() / 100.0),
            detail: o.detail,
            reason: o.reason,
            note: o.note,
            purpose: None,
            role: None,
        });
        let not_probed = match (&record, run.not_probed.into_values().next()) {
            (None, Some(why)) => vec![NotProbedRecord {
                to: address.to_owned(),
                protocol: protocol.name().to_owned(),
                ports: port.to_string(),
                catalog_id: None,
                reason: why,
            }],
            _ => Vec::new(),
        };
        CheckDocument::new("ad hoc", record.into_iter().collect(), not_probed)
    });
    emit(&doc, args, udp)
}

fn context(args: &CheckArgs, domain: Option<String>) -> ProbeContext {
    ProbeContext {
        realm: args.realm.clone().or(domain),
        radius_secret: args.radius_secret.as_ref().map(|s| s.as_bytes().to_vec()),
        ..ProbeContext::default()
    }
}

/// A tokio runtime with Ctrl-C handling and, on a terminal, a progress bar on stderr.
pub struct Runner {
    runtime: tokio::runtime::Runtime,
    /// Fires on Ctrl-C.
    pub cancel: Cancel,
    bar: indicatif::ProgressBar,
}

impl Runner {
    pub fn new() -> anyhow::Result<Runner> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let bar = indicatif::ProgressBar::new(0);
        if !std::io::stderr().is_terminal() {
            bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
        }
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} probing {pos}/{len} {wide_bar} {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Ok(Runner {
            runtime,
            cancel: Cancel::new(),
            bar,
        })
    }

    /// Progress callback for [`check_host`].
    pub fn progress(&self, done: usize, total: usize) {
        self.bar.set_length(total as u64);
        self.bar.set_position(done as u64);
    }

    /// Runs `future` to completion with Ctrl-C armed; says so when it was interrupted.
    pub fn block_on<T>(&self, future: impl std::future::Future<Output = T>) -> T {
        let out = self.runtime.block_on(async {
            self.cancel.on_ctrl_c();
            future.await
        });
        self.bar.finish_and_clear();
        if self.cancel.is_cancelled() {
            eprintln!("rdsports: interrupted: the results so far follow");
        }
        out
    }
}

fn emit(doc: &CheckDocument, args: &CheckArgs, udp: UdpSilence) -> anyhow::Result<ExitStatus> {
    let format = args.format;
    let text = match format {
        CheckFormat::Table => doc.to_table(input::width(), udp),
        CheckFormat::Json => doc.to_json(),
        CheckFormat::Junit => doc.to_junit(udp),
    };
    match &args.output {
        None => input::print(&text)?,
        Some(path) => write_whole(path, &text)?,
    }
    let silent = doc
        .results
        .iter()
        .filter(|r| r.verdict == "open|filtered")
        .count();
    if silent > 0 && udp == UdpSilence::Warn && format == CheckFormat::Table {
        eprintln!(
            "warning: {silent} UDP flow{} gave no reply (open|filtered): counted as passing; --strict-udp fails them",
            if silent == 1 { "" } else { "s" }
        );
    }
    Ok(if doc.all_pass(udp) {
        ExitStatus::Ok
    } else {
        ExitStatus::Findings
    })
}
