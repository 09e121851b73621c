//! Benchmark driver for `bench/net-probe.sh`: probes the cross product of some hosts and
//! ports with plain TCP connects and prints a one-line JSON summary; or serves listening
//! ports for it to find.
//!
//! It refuses any address outside 127.0.0.0/8 and 198.18.0.0/15 (the benchmark range), so
//! it cannot be pointed at a real network by mistake.
//!
//! ```text
//! probe_many serve PORTS
//! probe_many probe HOSTS PORTS TIMEOUT_MS RETRIES CONCURRENCY
//! ```
//! `HOSTS` is `198.18.0.1-10` (a last-octet range) or one address; `PORTS` is a
//! comma-separated list of ports and ranges (`10001-10334,20001-20333`).
#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example prints its results"
)]

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use rdsports_net::{Cancel, Settings, Target, probe_all};
use tokio::net::TcpListener;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("no runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = match args.first().map(String::as_str) {
        Some("serve") if args.len() == 2 => runtime.block_on(serve(&args[1])),
        Some("probe") if args.len() == 6 => runtime.block_on(probe(&args[1..])),
        _ => Err(
            "usage: probe_many serve PORTS | probe HOSTS PORTS TIMEOUT_MS RETRIES CONCURRENCY"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("probe_many: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(ports: &str) -> Result<(), String> {
    let ports = parse_ports(ports)?;
    let mut listeners = 0usize;
    for port in ports {
        let listener = TcpListener::bind((Ipv4Addr::UNSPECIFIED, port))
            .await
            .map_err(|e| format!("bind {port}: {e}"))?;
        listeners += 1;
        tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => drop(stream),
                    Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
                }
            }
        });
    }
    println!("serving {listeners} ports");
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())
}

async fn probe(args: &[String]) -> Result<(), String> {
    let hosts = parse_hosts(&args[0])?;
    let ports = parse_ports(&args[1])?;
    let timeout_ms: u64 = args[2].parse().map_err(|_| "bad TIMEOUT_MS")?;
    let retries: u32 = args[3].parse().map_err(|_| "bad RETRIES")?;
    let concurrency: usize = args[4].parse().map_err(|_| "bad CONCURRENCY")?;
    let mut targets = Vec::with_capacity(hosts.len() * ports.len());
    for host in &hosts {
        for &port in &ports {
            targets.push(Target::tcp(SocketAddr::new(*host, port)));
        }
    }
    let settings = Settings {
        timeout: Duration::from_millis(timeout_ms),
        retries,
        concurrency,
        adaptive: None,
    };
    let count = targets.len();
    let cancel = Cancel::new();
    cancel.on_ctrl_c();
    let started = Instant::now();
    let run = probe_all(targets, &settings, &cancel, |_, _| {}).await;
    let wall = started.elapsed();
    let mut verdicts: BTreeMap<String, usize> = BTreeMap::new();
    for observation in run.observations.iter().flatten() {
        *verdicts.entry(observation.verdict.to_string()).or_default() += 1;
    }
    let summary = serde_json::json!({
        "targets": count,
        "verdicts": verdicts,
        "not_probed": run.not_probed.len(),
        "wall_s": wall.as_secs_f64(),
        "timeout_ms": timeout_ms,
        "retries": retries,
        "concurrency": run.concurrency,
        "lowest_concurrency": run.lowest_concurrency,
        "resource_waits": run.resource_waits,
    });
    println!("{summary}");
    Ok(())
}

/// `198.18.0.1-10` or a single address; only loopback and 198.18.0.0/15.
fn parse_hosts(text: &str) -> Result<Vec<IpAddr>, String> {
    let (base, last) = match text.split_once('-') {
        Some((base, last)) => (base, Some(last)),
        None => (text, None),
    };
    let base: Ipv4Addr = base.parse().map_err(|_| format!("bad host {text}"))?;
    let octets = base.octets();
    let end = match last {
        Some(last) => last
            .parse::<u8>()
            .map_err(|_| format!("bad host range {text}"))?,
        None => octets[3],
    };
    let mut hosts = Vec::new();
    for octet in octets[3]..=end {
        let address = Ipv4Addr::new(octets[0], octets[1], octets[2], octet);
        let benchmark_range = octets[0] == 198 && (octets[1] & 0xfe) == 18;
        if !(address.is_loopback() || benchmark_range) {
            return Err(format!(
                "{address} is outside 127.0.0.0/8 and 198.18.0.0/15"
            ));
        }
        hosts.push(IpAddr::V4(address));
    }
    Ok(hosts)
}

/// `10001-10334,20001` into a list of ports.
fn parse_ports(text: &str) -> Result<Vec<u16>, String> {
    let mut ports = Vec::new();
    for part in text.split(',') {
        let (low, high) = part.split_once('-').unwrap_or((part, part));
        let low: u16 = low.parse().map_err(|_| format!("bad port {part}"))?;
        let high: u16 = high.parse().map_err(|_| format!("bad port {part}"))?;
        ports.extend(low..=high);
    }
    Ok(ports)
}
