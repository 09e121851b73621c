//! Fleet checks: the inventory an engine (Ansible, PowerShell remoting) runs `check` on, and
//! the summary of the result files it brings back.
//!
//! The inventory holds every host of the deployment that is one machine; populations
//! (`0.0.0.0/0`, a client subnet) and hosts outside the fleet (the Microsoft Clearinghouse)
//! are left out and named. The summary lists every host of the inventory: a host without a
//! result is "not run", never silently absent, and a result made from another deployment file
//! (another digest) is refused rather than merged.
//!
//! Ansible inventory (YAML-shape JSON, which Ansible's YAML inventory plugin reads):
//!
//! ```json
//! {"all": {"vars": {"rdsports_deployment": "contoso", "rdsports_digest": "sha256:…",
//!                   "ansible_connection": "psrp"},
//!          "hosts": {"gw01": {"ansible_host": "198.51.100.10", "rdsports_roles": ["gateway"],
//!                             "rdsports_zone": "perimeter"}},
//!          "children": {"rds_gateway": {"hosts": {"gw01": {}}},
//!                       "zone_perimeter": {"hosts": {"gw01": {}}}}}}
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rdsports_core::text::one_line;
use rdsports_core::{Deployment, Role};
use serde_json::{Map, Value, json};

use crate::table::Table;
use rdsports_schema::check::{CheckDocument, CheckRecord, Status, UdpSilence, passes};
use rdsports_schema::fleet::{FleetHost, FleetStatus, FleetSummary, Ignored};

/// How the engine reaches the hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    /// Windows Server: PowerShell remoting (`ansible_connection: psrp`).
    Windows,
    /// Linux (a lab, a stand-in): SSH.
    Linux,
}

/// The hosts of the fleet (indices, file order) and the hosts left out, with the reason.
pub fn fleet_hosts(d: &Deployment) -> (Vec<usize>, Vec<(usize, &'static str)>) {
    let mut fleet = Vec::new();
    let mut out = Vec::new();
    for (i, h) in d.hosts.iter().enumerate() {
        if !h.is_single() {
            out.push((i, "a population, not one machine"));
        } else if h.roles.iter().all(|r| matches!(r, Role::Clearinghouse)) {
            out.push((i, "outside the fleet (Microsoft Clearinghouse)"));
        } else {
            fleet.push(i);
        }
    }
    (fleet, out)
}

/// An Ansible group name for `text`: letters, digits and underscores only.
fn group_name(prefix: &str, text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{prefix}_{clean}")
}

/// The Ansible inventory (see the module docs), pretty JSON with a final newline.
pub fn ansible_inventory(d: &Deployment, os: Os, digest: &str) -> String {
    let (fleet, out) = fleet_hosts(d);
    let mut hosts = Map::new();
    let mut children: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for &i in &fleet {
        let h = &d.hosts[i];
        let zone = &d.zones[h.zone].name;
        hosts.insert(
            h.name.clone(),
            json!({
                "ansible_host": h.address.addr().to_string(),
                "rdsports_roles": h.roles.iter().map(|r| r.name()).collect::<Vec<_>>(),
                "rdsports_zone": zone,
            }),
        );
        let groups = h
            .roles
            .iter()
            .map(|r| group_name("rds", r.name()))
            .chain(std::iter::once(group_name("zone", zone)));
        for g in groups {
            children
                .entry(g)
                .or_default()
                .insert(h.name.clone(), json!({}));
        }
    }
    let mut vars = Map::new();
    vars.insert("rdsports_deployment".into(), d.name.clone().into());
    vars.insert("rdsports_digest".into(), digest.into());
    match os {
        Os::Windows => {
            vars.insert("ansible_connection".into(), "psrp".into());
        }
        Os::Linux => {
            vars.insert("ansible_connection".into(), "ssh".into());
        }
    }
    vars.insert(
        "rdsports_left_out".into(),
        out.iter()
            .map(|(i, why)| format!("{}: {why}", d.hosts[*i].name))
            .collect::<Vec<_>>()
            .into(),
    );
    let children: Map<String, Value> = children
        .into_iter()
        .map(|(g, members)| (g, json!({ "hosts": members })))
        .collect();
    let doc = json!({"all": {"vars": vars, "hosts": hosts, "children": children}});
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// The inventory as CSV for `Import-Csv | Invoke-Command`: name, address, roles, zone.
pub fn csv_inventory(d: &Deployment) -> String {
    let (fleet, _) = fleet_hosts(d);
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["name", "address", "roles", "zone"]);
    for i in fleet {
        let h = &d.hosts[i];
        let roles: Vec<&str> = h.roles.iter().map(|r| r.name()).collect();
        let _ = w.write_record([
            h.name.as_str(),
            &h.address.addr().to_string(),
            &roles.join(" "),
            &d.zones[h.zone].name,
        ]);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// One result file as the binary read it.
#[derive(Debug, Clone)]
pub struct ResultFile {
    /// The file name (for messages).
    pub file: String,
    /// The parsed document.
    pub document: CheckDocument,
}

/// What the summary keeps of one result file: its host, digest, result count and first
/// failures. Made as each file is read ([`FileFacts::of`]), so a fleet's summary holds one
/// file's document at a time, never all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFacts {
    /// The file name (for messages).
    pub file: String,
    /// The host the result says it is from.
    pub from: String,
    /// The deployment digest it carries.
    pub digest: Option<String>,
    /// Results in it.
    pub results: usize,
    /// Results that do not pass.
    pub blocked: usize,
    /// The first five that do not pass (`dc01 tcp/389 filtered`).
    pub first_blocked: Vec<String>,
}

impl FileFacts {
    /// The facts of one result file under these UDP rules.
    pub fn of(file: String, document: &CheckDocument, udp: UdpSilence) -> Self {
        let mut blocked = 0;
        let mut first_blocked = Vec::new();
        for r in document.results.iter().filter(|r| !passes(r, udp)) {
            blocked += 1;
            if first_blocked.len() < 5 {
                first_blocked.push(failing(r, document, udp));
            }
        }
        FileFacts {
            file,
            from: document.from.clone(),
            digest: document.run.deployment_digest.clone(),
            results: document.results.len(),
            blocked,
            first_blocked,
        }
    }
}

/// One result that does not pass, in a few words: `dc01 tcp/389 filtered`, and for an open
/// port what is wrong with it (`gw01 tcp/443 open: http, expected rd-gateway`,
/// `gw01 tcp/443 open: certificate refused by clients`).
fn failing(r: &CheckRecord, document: &CheckDocument, udp: UdpSilence) -> String {
    let what = format!("{} {}/{} {}", r.to, r.protocol, r.port, r.verdict);
    match document.status(r, udp) {
        Status::WrongService => format!(
            "{what}: {}, expected {}",
            r.identified
                .as_deref()
                .or(r.service.as_deref())
                .unwrap_or("unknown"),
            r.expected_service.as_deref().unwrap_or("?")
        ),
        Status::CertificateRefused => format!("{what}: certificate refused by clients"),
        _ => what,
    }
}

/// [`summarize_facts`] of result files read whole.
pub fn summarize(
    d: &Deployment,
    digest: &str,
    files: &[ResultFile],
    udp: UdpSilence,
) -> FleetSummary {
    let facts: Vec<FileFacts> = files
        .iter()
        .map(|f| FileFacts::of(f.file.clone(), &f.document, udp))
        .collect();
    summarize_facts(d, digest, &facts)
}

/// Merges result files (in the order given; the first file for a host wins) into one line
/// per host of the inventory. A result belongs to the host its file is named after
/// (`results/HOST.json`, as the fleet engines fetch them): a file whose `from` names another
/// host is refused with both names, never merged as that other host's result.
pub fn summarize_facts(d: &Deployment, digest: &str, files: &[FileFacts]) -> FleetSummary {
    let (fleet, _) = fleet_hosts(d);
    let mut by_host: BTreeMap<&str, &FileFacts> = BTreeMap::new();
    let mut impostors: BTreeMap<&str, (&FileFacts, String)> = BTreeMap::new();
    let mut ignored = Vec::new();
    let in_fleet = |name: &str| fleet.iter().any(|&i| d.hosts[i].name == name);
    for f in files {
        let host = f.from.as_str();
        let named = std::path::Path::new(&f.file)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if named != host {
            let why = format!(
                "the file of {named} says it is the result of \"{host}\": a result belongs to \
                 the host its file is named after; not merged"
            );
            if in_fleet(named) {
                impostors.entry(named).or_insert((f, why));
            } else {
                ignored.push(Ignored {
                    file: f.file.clone(),
                    reason: why,
                });
            }
        } else if !in_fleet(host) {
            ignored.push(Ignored {
                file: f.file.clone(),
                reason: format!(
                    "its host \"{host}\" is not a host of the fleet of {}",
                    d.name
                ),
            });
        } else if let Some(first) = by_host.get(host) {
            ignored.push(Ignored {
                file: f.file.clone(),
                reason: format!("a second result for {host} (using {})", first.file),
            });
        } else {
            by_host.insert(host, f);
        }
    }
    let refused = |name: String, f: &FileFacts, why: String| FleetHost {
        host: name,
        status: FleetStatus::Refused,
        results: f.results,
        blocked: 0,
        file: Some(f.file.clone()),
        detail: Some(why),
    };
    let hosts = fleet
        .iter()
        .map(|&i| {
            let name = d.hosts[i].name.clone();
            if let Some((f, why)) = impostors.get(name.as_str()) {
                return refused(name, f, why.clone());
            }
            let Some(f) = by_host.get(name.as_str()) else {
                return FleetHost {
                    host: name,
                    status: FleetStatus::NotRun,
                    results: 0,
                    blocked: 0,
                    file: None,
                    detail: Some("no result file: the engine did not reach the host or check did not run".into()),
                };
            };
            let theirs = f.digest.as_deref().unwrap_or("");
            if theirs != digest {
                let why = if theirs.is_empty() {
                    "the result carries no deployment digest (made by an older rdsports, or by hand)".to_owned()
                } else {
                    format!("made from another deployment file (digest {theirs}, this one is {digest})")
                };
                return refused(name, f, why);
            }
            FleetHost {
                host: name,
                status: if f.blocked == 0 { FleetStatus::Ok } else { FleetStatus::Blocked },
                results: f.results,
                blocked: f.blocked,
                file: Some(f.file.clone()),
                detail: (f.blocked > 0).then(|| {
                    let mut s = f.first_blocked.join(", ");
                    if f.blocked > f.first_blocked.len() {
                        let _ = write!(s, " and {} more", f.blocked - f.first_blocked.len());
                    }
                    s
                }),
            }
        })
        .collect();
    FleetSummary::new(d.name.clone(), digest.to_owned(), hosts, ignored)
}

/// The summary as a table with a closing line.
pub fn summary_table(s: &FleetSummary, width: usize) -> String {
    let mut t = Table::new(&["host", "status", "results", "blocked", "detail"]).flexible_last();
    for h in &s.hosts {
        t.row(vec![
            h.host.clone(),
            h.status.label().to_owned(),
            h.results.to_string(),
            h.blocked.to_string(),
            h.detail.clone().unwrap_or_default(),
        ]);
    }
    let mut out = t.render(width, 0);
    for line in ignored_lines(s) {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "fleet {}: {} hosts: {} ok, {} blocked, {} not run, {} refused",
        s.deployment,
        s.hosts.len(),
        s.summary.ok,
        s.summary.blocked,
        s.summary.not_run,
        s.summary.refused
    );
    out
}

/// One line per result file left out: `ignored: FILE: REASON` (control characters escaped:
/// file names and reasons come from the results folder).
pub fn ignored_lines(s: &FleetSummary) -> Vec<String> {
    s.ignored
        .iter()
        .map(|Ignored { file, reason }| {
            format!("ignored: {}: {}", one_line(file), one_line(reason))
        })
        .collect()
}

/// One line per refused result: `FILE: refused: WHY` (escaped as [`ignored_lines`]).
pub fn refused_lines(s: &FleetSummary) -> Vec<String> {
    s.hosts
        .iter()
        .filter(|h| h.status == FleetStatus::Refused)
        .map(|h| {
            format!(
                "{}: refused: {}",
                one_line(h.file.as_deref().unwrap_or("?")),
                one_line(h.detail.as_deref().unwrap_or_default())
            )
        })
        .collect()
}

/// The summary as JSON (`rdsports_schema::fleet`), pretty, with a final newline.
pub fn summary_json(s: &FleetSummary) -> String {
    let mut out = serde_json::to_string_pretty(s).unwrap_or_default();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests;
