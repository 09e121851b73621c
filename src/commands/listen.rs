//! `rdsports listen`: stand-in listeners on the ports a deployment host must accept, so
//! `rdsports check` can prove the paths before the real roles are installed.
//!
//! The ports come from the plan (flows whose destination is `--as HOST`; a range opens a
//! sample that includes both ends) or from `--ports`. The listeners themselves live in
//! [`rdsports_net::listen`]; this module chooses the ports and the address, prints what was
//! opened (and how to fix what was denied), one line per contact, and a summary when the
//! time is up or Ctrl-C is pressed.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use rdsports_core::Protocol;
use rdsports_core::plan::{Plan, range_sample};
use rdsports_net::listen::{self, Contact, ListenConfig, OpenState, Opened, ServeSummary};
use rdsports_net::{Cancel, Transport};
use rdsports_report::table::Table;
use serde::Serialize;

use crate::ExitStatus;
use crate::cli::{ListenArgs, ListenFormat};
use crate::input;

/// The most ports one `listen` opens.
pub const MAX_PORTS: usize = 1024;
/// The most contacts kept for the JSON summary (later ones are counted only).
const MAX_KEPT_CONTACTS: usize = 10_000;

/// A port a host must accept, and the planned flows that need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// TCP or UDP.
    pub transport: Transport,
    /// The port.
    pub port: u16,
    /// Why: "rdp from gw01 (S24)", "msrpc 49152-65535 from cb01, cb02 (S10b)" ...
    pub why: String,
}

/// The ports host `to` must accept under `plan`: every single port of a flow to it, and
/// for a range `sample` ports including both ends. Sorted by transport and port.
pub fn inbound(plan: &Plan<'_>, to: usize, sample: usize) -> Vec<Inbound> {
    // (transport, port) -> (service and range, catalog id) -> sources
    type Why = BTreeMap<(String, String), Vec<String>>;
    let mut ports: BTreeMap<(Transport, u16), Why> = BTreeMap::new();
    for f in plan.flows.iter().filter(|f| f.to == to) {
        let entry = plan.entry(f);
        let transport = match f.protocol {
            Protocol::Tcp => Transport::Tcp,
            Protocol::Udp => Transport::Udp,
        };
        let (list, label) = if f.ports.len() == 1 {
            (vec![f.ports.start()], entry.service.clone())
        } else {
            (
                range_sample(f.ports, sample),
                format!("{} {}", entry.service, f.ports),
            )
        };
        for port in list {
            let sources = ports
                .entry((transport, port))
                .or_default()
                .entry((label.clone(), entry.id.clone()))
                .or_default();
            let from = plan.from(f).name.clone();
            if !sources.contains(&from) {
                sources.push(from);
            }
        }
    }
    ports
        .into_iter()
        .map(|((transport, port), why)| Inbound {
            transport,
            port,
            why: why
                .into_iter()
                .map(|((label, id), from)| format!("{label} from {} ({id})", from.join(", ")))
                .collect::<Vec<_>>()
                .join("; "),
        })
        .collect()
}

/// Parses `--ports`: `3389,5504,50000-50010,3391/udp` (TCP unless `/udp`).
pub fn parse_ports(list: &str) -> Result<Vec<(Transport, u16)>, String> {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (range, transport) = match item.rsplit_once('/') {
            Some((r, "tcp")) => (r, Transport::Tcp),
            Some((r, "udp")) => (r, Transport::Udp),
            Some((_, other)) => {
                return Err(format!(
                    "`{item}`: unknown protocol `{other}` (write 3391/udp or 3389/tcp)"
                ));
            }
            None => (item, Transport::Tcp),
        };
        let range: rdsports_core::PortRange = range
            .parse()
            .map_err(|e: String| format!("`{item}`: {e}"))?;
        if out.len() + range.len() as usize > MAX_PORTS {
            return Err(format!("more than {MAX_PORTS} ports: list fewer"));
        }
        out.extend((range.start()..=range.end()).map(|p| (transport, p)));
    }
    if out.is_empty() {
        return Err("no port given".into());
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Parses a duration: `30m`, `90s`, `1h30m`, `500ms`, or plain seconds (`45`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    if rest.is_empty() {
        return Err("empty duration (write 30m, 90s or 1h30m)".into());
    }
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        let (number, tail) = rest.split_at(digits);
        let unit_len = tail.chars().take_while(char::is_ascii_alphabetic).count();
        let (unit, tail) = tail.split_at(unit_len);
        let n: u64 = number
            .parse()
            .map_err(|_| format!("`{text}` is not a duration (write 30m, 90s or 1h30m)"))?;
        let part = match unit {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n.saturating_mul(60)),
            "h" => Duration::from_secs(n.saturating_mul(3600)),
            "d" => Duration::from_secs(n.saturating_mul(86_400)),
            _ => {
                return Err(format!(
                    "`{text}`: unknown unit `{unit}` (ms, s, m, h or d)"
                ));
            }
        };
        total = total.saturating_add(part);
        rest = tail;
    }
    Ok(total)
}

/// The advice for ports the system would not let us bind, one paragraph.
pub fn denied_advice(denied: &[&Opened]) -> Option<String> {
    if denied.is_empty() {
        return None;
    }
    let list = port_list(denied.iter().copied());
    let privileged = denied.iter().any(|o| o.port < 1024);
    let mut text = format!("denied: {list}");
    if privileged && cfg!(unix) {
        let exe = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "rdsports".into());
        let _ = write!(
            text,
            ": ports below 1024 need privileges. Run as root (sudo rdsports listen ...), or \
             grant the capability once: sudo setcap cap_net_bind_service=+ep {exe}"
        );
    } else if cfg!(windows) {
        // WSAEACCES (10013) from bind: Windows needs no privilege for low ports; the port is
        // reserved (an excluded port range, often Hyper-V or WinNAT) or held exclusively.
        let _ = write!(
            text,
            ": Windows refused the port (WSAEACCES): it is in an excluded port range (see \
             `netsh interface ipv4 show excludedportrange protocol=tcp`, and protocol=udp) or \
             another program holds it exclusively. Pick the ports with --ports, or free the range"
        );
    } else if let Some(error) = denied.iter().find_map(|o| o.error.as_deref()) {
        let _ = write!(text, ": {error}");
    }
    Some(text)
}

/// The PowerShell lines that admit the listener through Windows Firewall.
pub fn windows_firewall_lines(open: &[&Opened], exe: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for (transport, name) in [(Transport::Tcp, "TCP"), (Transport::Udp, "UDP")] {
        let ports: Vec<String> = open
            .iter()
            .filter(|o| o.transport == transport)
            .map(|o| o.port.to_string())
            .collect();
        if ports.is_empty() {
            continue;
        }
        lines.push(format!(
            "New-NetFirewallRule -DisplayName 'rdsports listen (temporary)' -Direction Inbound \
             -Action Allow -Protocol {name} -LocalPort {} -Program '{}'",
            ports.join(","),
            exe.replace('\'', "''")
        ));
    }
    if !lines.is_empty() {
        lines.push(
            "Remove-NetFirewallRule -DisplayName 'rdsports listen (temporary)'   # afterwards"
                .into(),
        );
    }
    lines
}

/// The address to bind for a host: its own when it is on this machine, else the wildcard
/// of its family. The text says which, for the first line of output.
pub fn bind_address(host_address: Option<IpAddr>, name: &str) -> (IpAddr, String) {
    match host_address {
        Some(ip) if UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok() => {
            (ip, format!("{ip} (the address of {name})"))
        }
        Some(ip) => {
            let wildcard = if ip.is_ipv4() {
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            } else {
                IpAddr::V6(Ipv6Addr::UNSPECIFIED)
            };
            (
                wildcard,
                format!(
                    "{wildcard}, every address of this machine ({ip}, the address of {name}, is \
                     not one of them)"
                ),
            )
        }
        None => (
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            format!(
                "0.0.0.0, every IPv4 address of this machine ({name} is a population, not one \
                 address)"
            ),
        ),
    }
}

/// One log line for a contact: time since start, source, protocol and port, outcome.
pub fn contact_line(contact: &Contact) -> String {
    format!(
        "{:>9}  {:<22} {} {:<5}  {}",
        format!("+{:.1}s", contact.at_ms as f64 / 1000.0),
        contact.peer.to_string(),
        contact.transport,
        contact.port,
        contact.outcome.describe()
    )
}

/// The JSON summary printed at the end with `--format json`.
#[derive(Debug, Serialize)]
struct Summary<'a> {
    schema_version: u32,
    host: &'a str,
    address: String,
    duration_s: f64,
    stopped_by: &'a str,
    ports: Vec<PortRecord<'a>>,
    contacts: &'a [Contact],
    contacts_not_kept: usize,
    summary: ServeSummary,
}

#[derive(Debug, Serialize)]
struct PortRecord<'a> {
    #[serde(flatten)]
    opened: &'a Opened,
    why: &'a str,
}

pub fn run(args: &ListenArgs) -> anyhow::Result<ExitStatus> {
    let Some((deployment, loaded)) = input::load(&args.input)? else {
        return Ok(ExitStatus::BadInput);
    };
    let Some(index) = deployment.host_index(&args.host) else {
        let names: Vec<&str> = deployment.hosts.iter().map(|h| h.name.as_str()).collect();
        eprintln!(
            "error: no host \"{}\" in {} (hosts: {})",
            args.host,
            loaded.name,
            names.join(", ")
        );
        return Ok(ExitStatus::BadInput);
    };
    let host = &deployment.hosts[index];
    let catalog = input::catalog()?;
    let Some(plan) = input::plan(&catalog, &deployment, &args.input, Some(index)) else {
        return Ok(ExitStatus::BadInput);
    };
    let wanted: Vec<Inbound> = match &args.ports {
        Some(list) => match parse_ports(list) {
            Ok(ports) => {
                let planned = inbound(&plan, index, args.range_sample);
                ports
                    .into_iter()
                    .map(|(transport, port)| Inbound {
                        transport,
                        port,
                        why: planned
                            .iter()
                            .find(|i| i.transport == transport && i.port == port)
                            .map_or_else(|| "given with --ports".to_owned(), |i| i.why.clone()),
                    })
                    .collect()
            }
            Err(e) => {
                eprintln!("error: --ports: {e}");
                return Ok(ExitStatus::BadInput);
            }
        },
        None => inbound(&plan, index, args.range_sample),
    };
    if wanted.is_empty() {
        eprintln!(
            "error: no planned flow goes to {} in {}: there is nothing to listen on",
            host.name, loaded.name
        );
        eprintln!("hint: name the ports with --ports 3389,3391/udp");
        return Ok(ExitStatus::BadInput);
    }
    if wanted.len() > MAX_PORTS {
        eprintln!(
            "error: {} ports to open, more than {MAX_PORTS}: lower --range-sample or use --ports",
            wanted.len()
        );
        return Ok(ExitStatus::BadInput);
    }
    let (address, described) = match args.bind {
        Some(ip) => (ip, format!("{ip} (--bind)")),
        None => bind_address(host.is_single().then(|| host.address.addr()), &host.name),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let json = args.format == ListenFormat::Json;
    // Human lines go to stdout, or to stderr when stdout carries the JSON. A closed pipe
    // (`| head`) must not stop the listeners, so write errors are ignored.
    let say = |text: &str| {
        if json {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
        } else {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    };
    let config = ListenConfig::new(
        address,
        host.name.clone(),
        wanted.iter().map(|i| (i.transport, i.port)).collect(),
    );
    let listeners = runtime.block_on(async { listen::open(config) });
    let why: BTreeMap<(Transport, u16), &str> = wanted
        .iter()
        .map(|i| ((i.transport, i.port), i.why.as_str()))
        .collect();
    let opened: Vec<Opened> = listeners.opened().to_vec();
    say(&format!(
        "rdsports listen as {} on {described}, for {}; Ctrl-C stops\n\n",
        host.name,
        human(args.duration)
    ));
    say(&opened_table(&opened, &why));
    let open: Vec<&Opened> = opened
        .iter()
        .filter(|o| o.state == OpenState::Open)
        .collect();
    let in_use: Vec<&Opened> = opened
        .iter()
        .filter(|o| o.state == OpenState::InUse)
        .collect();
    let denied: Vec<&Opened> = opened
        .iter()
        .filter(|o| o.state == OpenState::Denied)
        .collect();
    let mut notes = String::new();
    if !in_use.is_empty() {
        let _ = writeln!(
            notes,
            "in use: {}: a real service is there; check will probe it",
            port_list(in_use.iter().copied())
        );
        if cfg!(windows) {
            // WSAEADDRINUSE (10048): say how to see who holds it.
            let _ = writeln!(
                notes,
                "  (WSAEADDRINUSE; which program: Get-NetTCPConnection -State Listen -LocalPort \
                 <port> | Select-Object OwningProcess, or Get-NetUDPEndpoint -LocalPort <port>)"
            );
        }
    }
    if let Some(advice) = denied_advice(&denied) {
        let _ = writeln!(notes, "{advice}");
    }
    if cfg!(windows) && !open.is_empty() {
        let exe = std::env::current_exe()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| "rdsports.exe".into());
        let _ = writeln!(
            notes,
            "Windows Firewall must admit the listener, or check sees these ports filtered. As \
             administrator:"
        );
        for line in windows_firewall_lines(&open, &exe) {
            let _ = writeln!(notes, "  {line}");
        }
    }
    if !notes.is_empty() {
        say(&format!("\n{notes}"));
    }
    if open.is_empty() {
        eprintln!("rdsports: no port could be opened: nothing to listen on");
        return Ok(ExitStatus::Findings);
    }
    say(&format!(
        "\nlistening on {} port{}; each contact follows (+time since start, source, port, what \
         came)\n",
        open.len(),
        if open.len() == 1 { "" } else { "s" }
    ));

    let started = Instant::now();
    let cancel = Cancel::new();
    let mut kept: Vec<Contact> = Vec::new();
    let mut not_kept = 0usize;
    let limit = args.duration;
    let (summary, interrupted) = runtime.block_on(async {
        let interrupted = Cancel::new();
        {
            let cancel = cancel.clone();
            let interrupted = interrupted.clone();
            tokio::spawn(async move {
                tokio::select! {
                    () = tokio::time::sleep(limit) => {}
                    signal = tokio::signal::ctrl_c() => {
                        if signal.is_ok() {
                            interrupted.cancel();
                        }
                    }
                }
                cancel.cancel();
            });
        }
        let mut lines = listen::ContactLines::default();
        let summary = listeners
            .serve(&cancel, |contact| {
                // A few lines per port and second, then one summary line per second.
                let (held_back, show) = lines.offer(contact);
                if let Some(held_back) = held_back {
                    say(&format!("{held_back}\n"));
                }
                if show {
                    say(&format!("{}\n", contact_line(contact)));
                }
                if kept.len() < MAX_KEPT_CONTACTS {
                    kept.push(contact.clone());
                } else {
                    not_kept += 1;
                }
            })
            .await;
        if let Some(held_back) = lines.finish() {
            say(&format!("{held_back}\n"));
        }
        (summary, interrupted.is_cancelled())
    });
    let elapsed = started.elapsed();
    let stopped_by = if interrupted { "ctrl-c" } else { "time limit" };
    let mut end = format!(
        "\nstopped after {} ({}): {} contact{}, {} handshake{} answered",
        human(elapsed),
        if interrupted { "Ctrl-C" } else { "--for" },
        summary.contacts,
        if summary.contacts == 1 { "" } else { "s" },
        summary.handshakes,
        if summary.handshakes == 1 { "" } else { "s" },
    );
    if summary.evicted > 0 {
        let _ = write!(
            end,
            "; {} idle connection{} closed to make room for new peers",
            summary.evicted,
            if summary.evicted == 1 { "" } else { "s" }
        );
    }
    if summary.unreported > 0 {
        let _ = write!(
            end,
            " ({} not shown: they came faster than they could be printed)",
            summary.unreported
        );
    }
    say(&format!("{end}\n"));
    if json {
        let records: Vec<PortRecord<'_>> = opened
            .iter()
            .map(|o| PortRecord {
                opened: o,
                why: why.get(&(o.transport, o.port)).copied().unwrap_or(""),
            })
            .collect();
        let doc = Summary {
            schema_version: 1,
            host: &host.name,
            address: address.to_string(),
            duration_s: (elapsed.as_secs_f64() * 10.0).round() / 10.0,
            stopped_by,
            ports: records,
            contacts: &kept,
            contacts_not_kept: not_kept,
            summary,
        };
        let mut text = serde_json::to_string_pretty(&doc)?;
        text.push('\n');
        input::print(&text)?;
    }
    Ok(ExitStatus::Ok)
}

fn opened_table(opened: &[Opened], why: &BTreeMap<(Transport, u16), &str>) -> String {
    let mut table = Table::new(&["PROTO", "PORT", "STATE", "FOR"]).flexible_last();
    for o in opened {
        table.row(vec![
            o.transport.to_string(),
            o.port.to_string(),
            o.state.as_str().to_owned(),
            why.get(&(o.transport, o.port))
                .copied()
                .unwrap_or("")
                .to_owned(),
        ]);
    }
    table.render(input::width(), 2)
}

/// `88, 135, 389/udp`: TCP ports bare, UDP ones marked.
fn port_list<'a>(ports: impl Iterator<Item = &'a Opened>) -> String {
    ports
        .map(|o| match o.transport {
            Transport::Tcp => o.port.to_string(),
            Transport::Udp => format!("{}/udp", o.port),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `1h30m`, `2m5s`, `1.2s`.
fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        let text = format!("{:.1}", d.as_secs_f64());
        return format!("{}s", text.trim_end_matches(".0"));
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        let _ = write!(out, "{h}h");
    }
    if m > 0 {
        let _ = write!(out, "{m}m");
    }
    if s > 0 {
        let _ = write!(out, "{s}s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("5y").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("99999999999999999999h").is_err());
        assert_eq!(human(Duration::from_secs(5400)), "1h30m");
        assert_eq!(human(Duration::from_millis(1200)), "1.2s");
        assert_eq!(human(Duration::from_secs(1)), "1s");
    }

    #[test]
    fn port_lists() {
        assert_eq!(
            parse_ports("3389, 3391/udp,50000-50002,3389/tcp"),
            Ok(vec![
                (Transport::Tcp, 3389),
                (Transport::Tcp, 50000),
                (Transport::Tcp, 50001),
                (Transport::Tcp, 50002),
                (Transport::Udp, 3391),
            ])
        );
        assert!(parse_ports("0").is_err());
        assert!(parse_ports("70000").is_err());
        assert!(parse_ports("1-65535").unwrap_err().contains("more than"));
        assert!(
            parse_ports("53/icmp")
                .unwrap_err()
                .contains("unknown protocol")
        );
        assert!(parse_ports(",").is_err());
    }

    #[test]
    fn inbound_ports_of_the_example() {
        let catalog = input::catalog().unwrap();
        let deployment = rdsports_core::Deployment::parse(input::EXAMPLE).unwrap();
        let plan = rdsports_core::plan::plan(&catalog, &deployment);
        let ls01 = deployment.host_index("ls01").unwrap();
        let ports = inbound(&plan, ls01, 4);
        let tcp: Vec<u16> = ports
            .iter()
            .filter(|i| i.transport == Transport::Tcp)
            .map(|i| i.port)
            .collect();
        assert_eq!(tcp, [135, 445, 5985, 49152, 54613, 60074, 65535]);
        let rpc = ports.iter().find(|i| i.port == 135).unwrap();
        assert_eq!(rpc.why, "msrpc from sh01, sh02, sh03 (S28a)");
        let end = ports.iter().find(|i| i.port == 65535).unwrap();
        assert_eq!(end.why, "msrpc 49152-65535 from sh01, sh02, sh03 (S28b)");
        // The sample size is honoured, both ends always included.
        let two: Vec<u16> = inbound(&plan, ls01, 2)
            .iter()
            .filter(|i| i.port > 49_000)
            .map(|i| i.port)
            .collect();
        assert_eq!(two, [49152, 65535]);
    }

    fn opened(transport: Transport, port: u16, state: OpenState) -> Opened {
        Opened {
            transport,
            port,
            state,
            bound: None,
            error: Some("Permission denied (os error 13)".into()),
        }
    }

    #[test]
    fn denied_ports_come_with_the_fix() {
        let low = opened(Transport::Tcp, 88, OpenState::Denied);
        let udp = opened(Transport::Udp, 389, OpenState::Denied);
        let text = denied_advice(&[&low, &udp]).unwrap();
        assert!(text.starts_with("denied: 88, 389/udp"), "{text}");
        if cfg!(unix) {
            assert!(text.contains("run as root") || text.contains("Run as root"));
            assert!(text.contains("setcap cap_net_bind_service=+ep"));
        }
        if cfg!(windows) {
            assert!(text.contains("WSAEACCES"), "{text}");
            assert!(text.contains("excludedportrange"), "{text}");
            assert!(!text.contains("root"), "{text}");
        }
        assert_eq!(denied_advice(&[]), None);
    }

    #[test]
    fn windows_firewall_rule_lines() {
        let tcp = opened(Transport::Tcp, 3389, OpenState::Open);
        let tcp2 = opened(Transport::Tcp, 5504, OpenState::Open);
        let udp = opened(Transport::Udp, 3391, OpenState::Open);
        let lines = windows_firewall_lines(&[&tcp, &tcp2, &udp], r"C:\Tools\O'Brien\rdsports.exe");
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            "New-NetFirewallRule -DisplayName 'rdsports listen (temporary)' -Direction Inbound \
             -Action Allow -Protocol TCP -LocalPort 3389,5504 -Program \
             'C:\\Tools\\O''Brien\\rdsports.exe'"
        );
        assert!(lines[1].contains("-Protocol UDP -LocalPort 3391"));
        assert!(lines[2].starts_with("Remove-NetFirewallRule"));
        assert!(windows_firewall_lines(&[], "x").is_empty());
    }

    #[test]
    fn bind_addresses() {
        let (ip, text) = bind_address(Some(IpAddr::from([127, 0, 0, 1])), "dc01");
        assert_eq!(ip, IpAddr::from([127, 0, 0, 1]));
        assert!(text.contains("the address of dc01"));
        let (ip, text) = bind_address(Some(IpAddr::from([192, 0, 2, 40])), "dc01");
        assert_eq!(ip, IpAddr::from([0, 0, 0, 0]));
        assert!(text.contains("is not one of them"), "{text}");
        let (ip, _) = bind_address(Some("2001:db8::1".parse().unwrap()), "dc01");
        assert_eq!(ip, IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        let (_, text) = bind_address(None, "clients");
        assert!(text.contains("population"));
    }

    #[test]
    fn contact_lines() {
        let contact = Contact {
            at_ms: 12_345,
            peer: "127.0.0.5:41230".parse().unwrap(),
            transport: Transport::Tcp,
            port: 88,
            outcome: listen::Outcome::Empty,
        };
        assert_eq!(
            contact_line(&contact),
            "   +12.3s  127.0.0.5:41230        tcp 88     connected and closed without sending \
             (a plain port check)"
        );
    }
}
