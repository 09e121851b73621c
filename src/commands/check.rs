//! `rdsports check`: prove from this host that every planned flow it needs is open and
//! that the service it needs answers there.
//!
//! Glue only: arguments, loading the deployment, printing. The rounds of probes and what
//! their observations mean live in [`rdsports_net::check`].

use std::io::IsTerminal;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use rdsports_core::{Protocol, Role};
use rdsports_net::check::{AdHoc, AdHocProbe, CheckSpec, check_ad_hoc, check_host, local_hosts};
use rdsports_net::registry::ProbeContext;
use rdsports_net::{Adaptive, Cancel, Settings};
use rdsports_schema::check::{CheckDocument, RunInfo, UdpSilence};

use crate::ExitStatus;
use crate::cli::{CheckArgs, CheckFormat};
use crate::error::UserError;
use crate::input;

/// The ceiling of adaptive waits, and the conversation timeout, when --timeout is not
/// given (1500 ms; 3000 ms on Windows, see [`crate::cli::DEFAULT_TIMEOUT_MS`]).
pub const DEFAULT_TIMEOUT_MS: u64 = crate::cli::DEFAULT_TIMEOUT_MS;

pub fn run(args: &CheckArgs) -> anyhow::Result<ExitStatus> {
    // A pinned --timeout waits that long for every attempt; without it, connect waits
    // adapt to each destination's round trips, up to the default timeout.
    let settings = Settings {
        timeout: Duration::from_millis(args.timeout.unwrap_or(DEFAULT_TIMEOUT_MS)),
        retries: args.retries,
        concurrency: args.concurrency,
        adaptive: args.timeout.is_none().then(Adaptive::default),
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
    let host_index = |name: &str| input::host_index(&deployment, name, &loaded.name);
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
    let Some(plan) = input::plan(&catalog, &deployment, &args.input, Some(from)) else {
        return Ok(ExitStatus::BadInput);
    };
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
        paths_only: args.paths_only,
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
        deployment_digest: Some(input::results::digest(&loaded.text)),
        started_utc: Some(started),
        finished_utc: Some(now_utc()),
    };
    emit(doc, args, udp)
}

/// This host's clock, RFC 3339 UTC (a clock before 1970 reads as 1970).
fn now_utc() -> String {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    rdsports_wire::tls::rfc3339(unix)
}

/// Writes `path` through a temporary file beside it and a rename, so that a fleet engine
/// fetching the file never sees half of it.
fn write_whole(
    path: &std::path::Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = std::path::PathBuf::from(tmp);
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    let mut out = std::io::BufWriter::new(file);
    write(&mut out)
        .and_then(|()| std::io::Write::flush(&mut out))
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    drop(out);
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// The most probes one ad hoc check makes (addresses x ports).
pub const MAX_AD_HOC_PROBES: usize = 100_000;

/// Checks addresses and ports without a deployment file, like PortQry (or `nmap -sT -p`).
fn ad_hoc(
    args: &CheckArgs,
    addresses: &str,
    settings: Settings,
    udp: UdpSilence,
) -> anyhow::Result<ExitStatus> {
    let mut ips = Vec::new();
    for text in addresses.split(',').map(str::trim) {
        let Ok(ip) = IpAddr::from_str(text) else {
            bail!(
                "--target takes IP addresses separated by commas, not \"{text}\" (names are \
                 not resolved: give the address)"
            );
        };
        if !ips.contains(&ip) {
            ips.push(ip);
        }
    }
    let Some(port_list) = &args.port else {
        bail!("--target needs --ports");
    };
    let protocol = match args.protocol.as_deref() {
        None | Some("tcp") => Protocol::Tcp,
        Some("udp") => Protocol::Udp,
        Some(other) => bail!("unknown protocol \"{other}\" (tcp or udp)"),
    };
    let ports = port_list
        .ports(protocol, MAX_AD_HOC_PROBES)
        .map_err(|e| UserError::new(format!("--ports: {e}")))?;
    if ips.len().saturating_mul(ports.len()) > MAX_AD_HOC_PROBES {
        bail!(
            "{} addresses x {} ports is more than {MAX_AD_HOC_PROBES} probes: split the check",
            ips.len(),
            ports.len()
        );
    }
    let catalog = input::catalog()?;
    let service_of = |protocol: Protocol, port: u16| -> String {
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
        args.service
            .clone()
            .or(guessed)
            .unwrap_or_else(|| "unknown".to_owned())
    };
    let services: Vec<String> = ports.iter().map(|&(p, port)| service_of(p, port)).collect();
    let mut probes = Vec::with_capacity(ips.len() * ports.len());
    for &address in &ips {
        for (&(protocol, port), service) in ports.iter().zip(&services) {
            probes.push(AdHocProbe {
                address,
                port,
                protocol,
                service: service.clone(),
            });
        }
    }
    let spec = AdHoc {
        probes,
        settings,
        context: context(args, args.realm.clone()),
        paths_only: args.paths_only,
    };
    let runner = Runner::new()?;
    let progress = |done, total| runner.progress(done, total);
    let doc = runner.block_on(check_ad_hoc(&spec, &runner.cancel, &progress));
    emit(doc, args, udp)
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

fn emit(doc: CheckDocument, args: &CheckArgs, udp: UdpSilence) -> anyhow::Result<ExitStatus> {
    let format = args.format;
    let paths_only = doc.paths_only;
    let doc = doc.judged(udp, paths_only);
    match (&args.output, format) {
        (Some(path), _) => write_whole(path, |out| match format {
            CheckFormat::Table => std::io::Write::write_all(
                out,
                rdsports_report::check::table(&doc, input::width(), udp).as_bytes(),
            ),
            CheckFormat::Json => doc.write_json(out),
            CheckFormat::Junit => {
                std::io::Write::write_all(out, rdsports_report::check::junit(&doc, udp).as_bytes())
            }
        })?,
        (None, CheckFormat::Table) => {
            // Red and yellow rows where colour is on (a terminal, no NO_COLOR); anstream
            // strips the codes elsewhere and translates them on older Windows consoles.
            let text = rdsports_report::check::table_styled(&doc, input::width(), udp, true);
            let mut out = anstream::stdout();
            std::io::Write::write_all(&mut out, text.as_bytes())?;
            std::io::Write::flush(&mut out)?;
        }
        (None, CheckFormat::Json) => {
            // Streamed: 10,000 results need no second copy as text.
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            doc.write_json(&mut out)?;
            std::io::Write::flush(&mut out)?;
        }
        (None, CheckFormat::Junit) => input::print(&rdsports_report::check::junit(&doc, udp))?,
    }
    let unidentified = doc.findings.service_unidentified;
    if unidentified > 0 && format == CheckFormat::Table {
        eprintln!(
            "warning: {unidentified} open TCP port{} answered no probe (service not identified): counted as passing",
            if unidentified == 1 { "" } else { "s" }
        );
    }
    let silent = doc
        .results
        .iter()
        .filter(|r| r.verdict == rdsports_schema::check::Verdict::OpenFiltered)
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
