//! `rdsports demo`: the built-in example deployment brought to life on this machine, in a
//! private network, and checked from every host, with one flow closed on purpose.
//!
//! On Linux the process first moves into an unprivileged user and network namespace of its
//! own ([`rdsports_net::namespace`]): real port numbers, no root, and nothing on the
//! machine's network is touched. Where that is impossible (or with `--no-namespace`) it
//! stays on this machine's loopback with a stated port offset. Each deployment host gets
//! its own loopback address (127.0.0.N; populations 127.0.1.N), never its documentation
//! address. Listeners stand in for every host ([`rdsports_net::listen`], in-process), the
//! license server's RPC endpoint mapper is left closed, and `check` runs from every source
//! host at once. The exit status says whether everything behaved as the demo intends.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rdsports_core::plan::plan;
use rdsports_core::{Deployment, PortRange, Protocol};
use rdsports_net::listen::{self, ListenConfig, OpenState};
use rdsports_net::namespace::{PrivateNetwork, enter_private_network};
use rdsports_net::registry::ProbeContext;
use rdsports_net::{Cancel, Settings, Transport};
use rdsports_report::check::explain;
use rdsports_report::table::Table;
use rdsports_schema::check::{CheckDocument, UdpSilence, Verdict};

use crate::ExitStatus;
use crate::cli::DemoArgs;
use crate::input;
use rdsports_net::check::{CheckSpec, DEFAULT_RANGE_SAMPLE, check_host, transport};

/// The flow the demo leaves closed: the license server's RPC endpoint mapper.
const CLOSED_HOST: &str = "ls01";
const CLOSED_PORT: u16 = 135;
/// Without a private namespace: every port moves up by this much.
const PORT_OFFSET: u16 = 20_000;
/// Without a private namespace: the dynamic RPC range, narrowed so that it still fits
/// below 65536 after the offset.
const FALLBACK_RPC_RANGE: PortRange = PortRange::fixed(10_000, 10_999);

/// Where the demo runs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Network {
    /// A private user and network namespace: real ports.
    Private,
    /// This machine's loopback, ports shifted; the text says why.
    Loopback(String),
}

pub fn run(args: &DemoArgs) -> anyhow::Result<ExitStatus> {
    // Before any thread exists: the kernel refuses a user namespace to a threaded process.
    let network = if args.no_namespace {
        Network::Loopback("--no-namespace".into())
    } else {
        match enter_private_network() {
            Ok(PrivateNetwork::Entered) => Network::Private,
            Ok(PrivateNetwork::Unavailable(why)) => Network::Loopback(why),
            Err(broken) => anyhow::bail!("{broken}"),
        }
    };
    let started = Instant::now();
    let mut deployment = Deployment::parse(input::EXAMPLE)
        .map_err(|_| anyhow::anyhow!("the built-in example does not parse (a bug)"))?;
    let offset = match network {
        Network::Private => 0,
        Network::Loopback(_) => {
            deployment.options.rpc_range = FALLBACK_RPC_RANGE;
            PORT_OFFSET
        }
    };
    let catalog = input::catalog()?;
    let plan = plan(&catalog, &deployment);
    let d = &deployment;
    let closed_host = d
        .host_index(CLOSED_HOST)
        .context("the built-in example has no license server ls01 (a bug)")?;
    let lab: Vec<IpAddr> = lab_addresses(d);
    let width = input::width();

    let mut out = String::new();
    let _ = writeln!(
        out,
        "rdsports demo: the built-in example deployment \"{}\" (examples/perimeter.toml), live \
         on this machine\n",
        d.name
    );
    match &network {
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

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let _guard = runtime.enter();

    // Listeners for every host that must accept something.
    let cancel = Cancel::new();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let others = Arc::new(AtomicUsize::new(0));
    let mut listening: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut deviations: Vec<String> = Vec::new();
    let mut servers = Vec::new();
    for (i, host) in d.hosts.iter().enumerate() {
        let ports: Vec<(Transport, u16)> = plan
            .inbound(i, DEFAULT_RANGE_SAMPLE)
            .into_iter()
            .filter(|p| !(i == closed_host && p.protocol == Protocol::Tcp && p.port == CLOSED_PORT))
            .map(|p| (transport(p.protocol), p.port.saturating_add(offset)))
            .collect();
        if ports.is_empty() {
            continue;
        }
        let mut config = ListenConfig::new(lab[i], host.name.clone(), ports);
        config.read_timeout = Duration::from_secs(2);
        let listeners = listen::open(config);
        let mut shown = Vec::new();
        for o in listeners.opened() {
            let port = match o.transport {
                Transport::Tcp => o.port.to_string(),
                Transport::Udp => format!("{}/udp", o.port),
            };
            if o.state == OpenState::Open {
                shown.push(port);
            } else {
                deviations.push(format!(
                    "{} could not listen on {port} at {}: {} ({})",
                    host.name,
                    lab[i],
                    o.state.as_str(),
                    o.error.as_deref().unwrap_or("")
                ));
            }
        }
        listening.insert(i, shown);
        let cancel = cancel.clone();
        let (handshakes, others) = (handshakes.clone(), others.clone());
        servers.push(runtime.spawn(async move {
            listeners
                .serve(&cancel, |contact| {
                    if contact.outcome.is_handshake() {
                        handshakes.fetch_add(1, Ordering::Relaxed);
                    } else {
                        others.fetch_add(1, Ordering::Relaxed);
                    }
                })
                .await
        }));
    }

    out.push_str(&hosts_table(d, &lab, &listening, width));
    let sources: Vec<usize> = (0..d.hosts.len())
        .filter(|&i| plan.flows.iter().any(|f| f.from == i))
        .collect();
    let mut boundaries: BTreeMap<(String, String), usize> = BTreeMap::new();
    for f in &plan.flows {
        *boundaries
            .entry((plan.from_zone(f).name.clone(), plan.to_zone(f).name.clone()))
            .or_default() += 1;
    }
    let _ = writeln!(
        out,
        "\nplan: {} flows from {} hosts (`rdsports plan` lists them)",
        plan.flows.len(),
        sources.len()
    );
    for ((a, b), n) in &boundaries {
        let _ = writeln!(
            out,
            "  {a:>10} -> {b:<10} {n:>4} flow{}",
            if *n == 1 { "" } else { "s" }
        );
    }
    let needing: Vec<&str> = plan
        .flows
        .iter()
        .filter(|f| f.to == closed_host && f.ports.start() == CLOSED_PORT && f.ports.len() == 1)
        .map(|f| plan.from(f).name.as_str())
        .collect();
    let closed_flow = plan
        .flows
        .iter()
        .find(|f| f.to == closed_host && f.ports.start() == CLOSED_PORT && f.ports.len() == 1)
        .context("the built-in example plans no RPC to the license server (a bug)")?;
    let closed_entry = plan.entry(closed_flow);
    let _ = writeln!(
        out,
        "\nleft closed on purpose: {CLOSED_HOST} tcp {CLOSED_PORT} ({}: {}), needed by {}\n  \
         its listener does not open this port, as when the firewall rule for it is forgotten\n",
        closed_entry.id,
        closed_entry.purpose,
        needing.join(", ")
    );
    input::print(&out)?;

    // Check from every source host at once.
    let settings = Settings {
        timeout: Duration::from_millis(500),
        retries: 0,
        concurrency: 64,
        adaptive: None,
    };
    let address_of = |h: usize| lab.get(h).copied();
    let specs: Vec<CheckSpec<'_>> = sources
        .iter()
        .map(|&from| CheckSpec {
            plan: &plan,
            from,
            to: None,
            role: None,
            address_of: &address_of,
            port_offset: offset,
            source: lab.get(from).copied(),
            settings,
            context: ProbeContext {
                realm: d.options.domain.clone(),
                ..ProbeContext::default()
            },
            range_sample: DEFAULT_RANGE_SAMPLE,
            paths_only: false,
        })
        .collect();
    let progress = |_: usize, _: usize| {};
    let documents: Vec<CheckDocument> = runtime.block_on(async {
        join_all(
            specs
                .iter()
                .map(|spec| check_host(spec, &cancel, &progress))
                .collect(),
        )
        .await
    });
    cancel.cancel();
    for server in servers {
        let _ = runtime.block_on(server);
    }

    // Results per source host.
    let mut out = String::new();
    let mut expected_refusals = 0usize;
    let mut open = 0usize;
    let mut by_listener = 0usize;
    let mut consequences = 0usize;
    let mut failure_lines = Vec::new();
    let mut shown_in_full = false;
    for (doc, &from) in documents.iter().zip(&sources) {
        let mut unexpected_here = false;
        for r in &doc.results {
            let closed = r.to == CLOSED_HOST && r.protocol == "tcp" && r.port == CLOSED_PORT;
            match (closed, r.verdict) {
                (true, Verdict::Refused) => {
                    expected_refusals += 1;
                    failure_lines.push(format!(
                        "{} -> {} tcp {}: refused: {}",
                        doc.from,
                        r.to,
                        r.port,
                        explain(r)
                    ));
                }
                (false, Verdict::Open) => {
                    open += 1;
                    if r.service.as_deref() == Some("rdsports-listener") {
                        by_listener += 1;
                    }
                    if r.detail.get("translated").and_then(|v| v.as_bool()) == Some(true)
                        || r.detail.get("nonce_ok").and_then(|v| v.as_bool()) == Some(false)
                    {
                        unexpected_here = true;
                        deviations.push(format!(
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
                    unexpected_here = true;
                    deviations.push(format!(
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
                consequences += 1;
            } else {
                unexpected_here = true;
                deviations.push(format!(
                    "{} -> {} {} {}: not probed: {}",
                    doc.from, n.to, n.protocol, n.ports, n.reason
                ));
            }
        }
        let failing = doc
            .results
            .iter()
            .any(|r| !rdsports_schema::check::passes(r, UdpSilence::Warn));
        let _ = writeln!(out, "check from {} ({})", doc.from, lab[from]);
        // The table `check` prints, where it matters: the first host that meets the closed
        // flow, every host with a surprise, or every host with --full.
        let first_failure = failing && !shown_in_full;
        if first_failure || unexpected_here || args.full {
            shown_in_full |= failing;
            for line in rdsports_report::check::table(doc, width, UdpSilence::Warn).lines() {
                let _ = writeln!(out, "  {line}");
            }
        } else {
            out.push_str(&compact(doc));
        }
        out.push('\n');
    }

    let total: usize = documents.iter().map(|doc| doc.results.len()).sum();
    let _ = writeln!(out, "summary");
    let _ = writeln!(
        out,
        "  {total} results from {} hosts: {open} open ({by_listener} answered by an rdsports \
         listener), {expected_refusals} refused; listeners answered {} handshakes and saw {} \
         other contacts (the real protocol probes check sends first, which a stand-in does \
         not speak)",
        documents.len(),
        handshakes.load(Ordering::Relaxed),
        others.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "\n  the flow left closed on purpose failed, as intended: {CLOSED_HOST} tcp {CLOSED_PORT} \
         ({})",
        closed_entry.id
    );
    for line in &failure_lines {
        let _ = writeln!(out, "    {line}");
    }
    if consequences > 0 {
        let _ = writeln!(
            out,
            "    and so the dynamic RPC range behind it was not probed from {consequences} \
             host{} (listed under \"not probed\")",
            if consequences == 1 { "" } else { "s" }
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
    let intended = expected_refusals == needing.len() && deviations.is_empty() && open > 0;
    if intended {
        let _ = writeln!(
            out,
            "\ndemo ok: every other flow is open and the closed one was explained ({:.1} s)",
            started.elapsed().as_secs_f64()
        );
    } else {
        let _ = writeln!(out, "\nthe demo did not behave as intended:");
        if expected_refusals != needing.len() {
            let _ = writeln!(
                out,
                "  {expected_refusals} of {} results for {CLOSED_HOST} tcp {CLOSED_PORT} were \
                 refused",
                needing.len()
            );
        }
        for d in &deviations {
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
    input::print(&out)?;
    Ok(if intended {
        ExitStatus::Ok
    } else {
        ExitStatus::Findings
    })
}

/// The demo address of every host: 127.0.0.N for a machine, 127.0.1.N for a population.
fn lab_addresses(d: &Deployment) -> Vec<IpAddr> {
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

fn hosts_table(
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
        if !rdsports_schema::check::passes(r, UdpSilence::Warn) {
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
    let summary = rdsports_report::check::table(doc, usize::MAX, UdpSilence::Warn);
    if let Some(last) = summary.lines().last() {
        let _ = writeln!(out, "  {last}");
    }
    out
}

/// Runs every future to completion, concurrently, in the calling task; outputs in order.
async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pending: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (future, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => done = false,
                }
            }
        }
        if done { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lab_addresses_are_loopback_and_distinct() {
        let d = Deployment::parse(input::EXAMPLE).unwrap();
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
        // Every fixed port of the example fits too.
        let d = Deployment::parse(input::EXAMPLE).unwrap();
        let catalog = input::catalog().unwrap();
        let mut d = d;
        d.options.rpc_range = FALLBACK_RPC_RANGE;
        let p = plan(&catalog, &d);
        assert!(
            p.flows
                .iter()
                .all(|f| u32::from(f.ports.end()) + u32::from(PORT_OFFSET) <= 65_535)
        );
    }

    #[tokio::test]
    async fn join_all_keeps_the_order() {
        let futures: Vec<_> = [30u64, 0, 10]
            .into_iter()
            .map(|ms| async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                ms
            })
            .collect();
        assert_eq!(join_all(futures).await, [30, 0, 10]);
    }
}
