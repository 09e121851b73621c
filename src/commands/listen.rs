//! `rdsports listen`: stand-in listeners on the ports a deployment host must accept, so
//! `rdsports check` can prove the paths before the real roles are installed.
//!
//! Glue: the ports come from the plan ([`rdsports_core::Plan::inbound`]) or from `--ports`,
//! the listeners are [`rdsports_net::listen`], the text is [`rdsports_report::listen`] and
//! the JSON document is [`rdsports_schema::listen`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Instant;

use rdsports_core::Protocol;
use rdsports_core::plan::Inbound;
use rdsports_net::Transport;
use rdsports_net::check::transport;
use rdsports_net::listen::{self, Contact, ListenConfig, OpenState, Opened};
use rdsports_report::listen::{
    ContactLines, contact_line, denied_advice, human, opened_table, port_list,
    windows_firewall_lines,
};
use rdsports_schema::listen::{
    LISTEN_SCHEMA_VERSION, ListenDocument, MAX_KEPT_CONTACTS, PortRecord,
};

use crate::ExitStatus;
use crate::cli::{ListenArgs, ListenFormat};
use crate::error::UserError;
use crate::input;

/// The most ports one `listen` opens.
pub const MAX_PORTS: usize = 1024;

/// This program's path, for the lines that admit it through a firewall.
fn exe(fallback: &str) -> String {
    std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| fallback.into())
}

pub fn run(args: &ListenArgs) -> anyhow::Result<ExitStatus> {
    let Some((deployment, loaded)) = input::load(&args.input)? else {
        return Ok(ExitStatus::BadInput);
    };
    let index = input::host_index(&deployment, &args.host, &loaded.name)?;
    let host = &deployment.hosts[index];
    let catalog = input::catalog()?;
    let Some(plan) = input::plan(&catalog, &deployment, &args.input, Some(index)) else {
        return Ok(ExitStatus::BadInput);
    };
    let planned = plan.inbound(index, args.range_sample);
    let wanted: Vec<Inbound> = match &args.ports {
        Some(list) => match list.ports(Protocol::Tcp, MAX_PORTS) {
            Ok(mut ports) => {
                ports.sort_unstable();
                ports
                    .into_iter()
                    .map(|(protocol, port)| Inbound {
                        protocol,
                        port,
                        why: planned
                            .iter()
                            .find(|i| i.protocol == protocol && i.port == port)
                            .map_or_else(|| "given with --ports".to_owned(), |i| i.why.clone()),
                    })
                    .collect()
            }
            Err(e) => return Err(UserError::new(format!("--ports: {e}")).into()),
        },
        None => planned,
    };
    if wanted.is_empty() {
        return Err(UserError::new(format!(
            "no planned flow goes to {} in {}: there is nothing to listen on",
            host.name, loaded.name
        ))
        .hint("name the ports with --ports 3389,3391/udp")
        .into());
    }
    if wanted.len() > MAX_PORTS {
        return Err(UserError::new(format!(
            "{} ports to open, more than {MAX_PORTS}",
            wanted.len()
        ))
        .hint("lower --range-sample, or name the ports with --ports")
        .into());
    }
    let (address, described) = match args.bind {
        Some(ip) => (ip, format!("{ip} (--bind)")),
        None => listen::bind_address(host.is_single().then(|| host.address.addr()), &host.name),
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
        wanted
            .iter()
            .map(|i| (transport(i.protocol), i.port))
            .collect(),
    );
    let listeners = runtime.block_on(async { listen::open(config) });
    let why: BTreeMap<(Transport, u16), &str> = wanted
        .iter()
        .map(|i| ((transport(i.protocol), i.port), i.why.as_str()))
        .collect();
    let opened: Vec<Opened> = listeners.opened().to_vec();
    say(&format!(
        "rdsports listen as {} on {described}, for {}; Ctrl-C stops\n\n",
        host.name,
        human(args.duration)
    ));
    say(&opened_table(&opened, &why, input::width()));
    let with_state =
        |state: OpenState| -> Vec<&Opened> { opened.iter().filter(|o| o.state == state).collect() };
    let (open, in_use, denied) = (
        with_state(OpenState::Open),
        with_state(OpenState::InUse),
        with_state(OpenState::Denied),
    );
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
    if let Some(advice) = denied_advice(&denied, &exe("rdsports")) {
        let _ = writeln!(notes, "{advice}");
    }
    if cfg!(windows) && !open.is_empty() {
        let _ = writeln!(
            notes,
            "Windows Firewall must admit the listener, or check sees these ports filtered. As \
             administrator:"
        );
        for line in windows_firewall_lines(&open, &exe("rdsports.exe")) {
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
    let mut kept: Vec<Contact> = Vec::new();
    let mut not_kept = 0usize;
    let (summary, stop) = runtime.block_on(async {
        let mut lines = ContactLines::default();
        let result = listeners
            .serve_for(args.duration, |contact| {
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
        result
    });
    let elapsed = started.elapsed();
    let interrupted = stop == listen::Stop::Interrupted;
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
        let ports = opened
            .iter()
            .map(|o| PortRecord {
                opened: o.clone(),
                why: why
                    .get(&(o.transport, o.port))
                    .copied()
                    .unwrap_or("")
                    .to_owned(),
            })
            .collect();
        let doc = ListenDocument {
            schema_version: LISTEN_SCHEMA_VERSION,
            host: host.name.clone(),
            address: address.to_string(),
            duration_s: (elapsed.as_secs_f64() * 10.0).round() / 10.0,
            stopped_by: stop.as_str().to_owned(),
            ports,
            contacts: kept,
            contacts_not_kept: not_kept,
            summary,
        };
        let mut text = serde_json::to_string_pretty(&doc)?;
        text.push('\n');
        input::print(&text)?;
    }
    Ok(ExitStatus::Ok)
}
