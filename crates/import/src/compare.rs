//! Drift: what differs between a deployment file and the deployment that runs
//! (`rdsports import SOURCE... --compare FILE`).
//!
//! Hosts are matched by name (any case; the file's `sh01` is the running
//! `sh01.contoso.example`). Only what the sources can see is compared: a role no source could
//! see (management, a reverse proxy; domain controllers without the collector) is never
//! reported, populations (clients, the Clearinghouse) are the file's own choice, and an option
//! is compared only when a source gave it.

use rdsports_core::deployment::{NpsMode, WinRm};
use rdsports_core::model::{HostSettings, activation_name, crl_name};
use rdsports_core::{Deployment, Role};
use rdsports_schema::import::{DRIFT_SCHEMA_VERSION, Difference, DifferenceKind, Drift};

use crate::model::{HostModel, Model, toml_string};

/// Roles that are never drift: the file's populations and what no source sees.
const NOT_COMPARED: [Role; 4] = [
    Role::Client,
    Role::Clearinghouse,
    Role::Management,
    Role::ReverseProxy,
];

/// The drift between `running` (what the sources describe) and the deployment `file` (named
/// `file_name`).
pub fn compare(running: &Model, file: &Deployment, file_name: &str) -> Drift {
    let mut out = Vec::new();
    let servers: Vec<&HostModel> = running.hosts.iter().filter(|h| !h.population).collect();
    let find = |h: &HostModel| {
        file.hosts.iter().position(|f| {
            f.name.eq_ignore_ascii_case(&h.name)
                || h.full_name
                    .as_deref()
                    .is_some_and(|full| f.name.eq_ignore_ascii_case(full))
        })
    };
    let mut matched = vec![false; file.hosts.len()];
    for h in &servers {
        let Some(i) = find(h) else {
            out.push(diff(
                DifferenceKind::HostMissing,
                Some(&h.name),
                "host",
                None,
                Some(
                    h.address
                        .clone()
                        .unwrap_or_else(|| "address unknown".into()),
                ),
                &h.roles_comment,
            ));
            continue;
        };
        matched[i] = true;
        let f = &file.hosts[i];
        // Roles written in the file (implied ones are not).
        let written: Vec<Role> = f
            .roles
            .iter()
            .copied()
            .filter(|r| !f.implied_roles.contains(r))
            .collect();
        for r in &h.roles {
            if !written.contains(r) && !NOT_COMPARED.contains(r) {
                out.push(diff(
                    DifferenceKind::Role,
                    Some(&f.name),
                    r.name(),
                    None,
                    Some(r.name().into()),
                    &h.roles_comment,
                ));
            }
        }
        for r in &written {
            if !h.roles.contains(r) && running.visible.contains(r) && !NOT_COMPARED.contains(r) {
                out.push(diff(
                    DifferenceKind::Role,
                    Some(&f.name),
                    r.name(),
                    Some(r.name().into()),
                    None,
                    &h.roles_comment,
                ));
            }
        }
        if let Some(a) = &h.address {
            let same = a.parse::<std::net::IpAddr>().is_ok_and(|ip| {
                f.address.addr() == ip && f.address.prefix_len() == f.address.max_prefix_len()
            });
            if !same {
                out.push(diff(
                    DifferenceKind::Address,
                    Some(&f.name),
                    "address",
                    Some(f.address.to_string()),
                    Some(a.clone()),
                    &h.address_comment,
                ));
            }
        }
        // Per-host values: the running host's own (its line, else [options]') against the
        // file's value for that host.
        for key in [
            "rdp_port",
            "rdp_udp",
            "gateway_https_port",
            "gateway_udp",
            "gateway_udp_port",
        ] {
            let run = h
                .settings
                .iter()
                .find(|s| s.key == key)
                .or_else(|| running.options.iter().find(|o| o.key == key));
            let Some(run) = run else { continue };
            let applies = match key {
                "rdp_port" | "rdp_udp" => {
                    HostSettings::RDP_ROLES.iter().any(|r| h.roles.contains(r))
                }
                _ => h.roles.contains(&Role::Gateway),
            };
            if !applies {
                continue;
            }
            let mine = host_setting(file, i, key);
            if mine != run.value {
                out.push(diff(
                    DifferenceKind::Option,
                    Some(&f.name),
                    key,
                    Some(mine),
                    Some(run.value.clone()),
                    &run.comment,
                ));
            }
        }
    }
    for (i, f) in file.hosts.iter().enumerate() {
        if matched[i] {
            continue;
        }
        let seen = f
            .roles
            .iter()
            .filter(|r| !f.implied_roles.contains(r))
            .any(|r| running.visible.contains(r) && !NOT_COMPARED.contains(r));
        if seen {
            out.push(diff(
                DifferenceKind::HostExtra,
                Some(&f.name),
                "host",
                Some(f.address.to_string()),
                None,
                "not in the sources",
            ));
        }
    }
    out.sort_by(|a, b| {
        (a.host.as_deref(), a.kind, &a.item).cmp(&(b.host.as_deref(), b.kind, &b.item))
    });
    // Deployment-wide options a source gave.
    for o in &running.options {
        if PER_HOST.contains(&o.key) {
            continue;
        }
        let Some(mine) = option(file, o.key) else {
            continue;
        };
        if mine != o.value {
            out.push(diff(
                DifferenceKind::Option,
                None,
                o.key,
                Some(mine),
                Some(o.value.clone()),
                &o.comment,
            ));
        }
    }
    Drift {
        schema_version: DRIFT_SCHEMA_VERSION,
        file: file_name.to_owned(),
        deployment: file.name.clone(),
        differs: !out.is_empty(),
        differences: out,
    }
}

/// The options that are set per host.
const PER_HOST: [&str; 5] = [
    "rdp_port",
    "rdp_udp",
    "gateway_https_port",
    "gateway_udp",
    "gateway_udp_port",
];

fn diff(
    kind: DifferenceKind,
    host: Option<&str>,
    item: &str,
    file: Option<String>,
    running: Option<String>,
    source: &str,
) -> Difference {
    Difference {
        kind,
        host: host.map(str::to_owned),
        item: item.to_owned(),
        file,
        running,
        source: source.to_owned(),
    }
}

/// The file's value of per-host `key` on host `host`: the host's own, else `[options]`'.
fn host_setting(file: &Deployment, host: usize, key: &str) -> String {
    let o = file.options_for(host);
    match key {
        "rdp_port" => o.rdp_port.to_string(),
        "rdp_udp" => o.rdp_udp.to_string(),
        "gateway_https_port" => o.gateway_https_port.to_string(),
        "gateway_udp" => o.gateway_udp.to_string(),
        _ => o.gateway_udp_port.to_string(),
    }
}

/// The file's value of option `key`, written as the model writes it.
fn option(file: &Deployment, key: &str) -> Option<String> {
    let o = &file.options;
    Some(match key {
        "rdp_port" => o.rdp_port.to_string(),
        "rdp_udp" => o.rdp_udp.to_string(),
        "gateway_https_port" => o.gateway_https_port.to_string(),
        "gateway_udp" => o.gateway_udp.to_string(),
        "gateway_udp_port" => o.gateway_udp_port.to_string(),
        "nps" => toml_string(match o.nps {
            NpsMode::Central => "central",
            NpsMode::None => "none",
        }),
        "crl" => {
            let m: Vec<String> = o.crl.iter().map(|m| toml_string(crl_name(*m))).collect();
            format!("[{}]", m.join(", "))
        }
        "rpc_range" => toml_string(&o.rpc_range.to_string()),
        "ad_rpc_port" => o
            .ad_rpc_port
            .map_or_else(|| "none".into(), |p| p.to_string()),
        "winrm" => toml_string(match o.winrm {
            WinRm::Http => "http",
            WinRm::Https => "https",
        }),
        "licensing_mode" => toml_string(match o.licensing_mode {
            rdsports_core::model::LicensingMode::PerUser => "per-user",
            rdsports_core::model::LicensingMode::PerDevice => "per-device",
        }),
        "activation" => toml_string(activation_name(o.activation)),
        "broker_ha" => o.broker_ha.to_string(),
        "sql_port" => o.sql_port.to_string(),
        "sql_browser" => o.sql_browser.to_string(),
        "direct_access" => o.direct_access.to_string(),
        "vdi_unmanaged" => o.vdi_unmanaged.to_string(),
        "domain" => o
            .domain
            .as_deref()
            .map_or_else(|| "none".into(), toml_string),
        _ => return None,
    })
}

/// The drift as a table for a terminal.
pub fn table(d: &Drift) -> String {
    if !d.differs {
        return format!("{} matches the running deployment.\n", d.file);
    }
    let rows: Vec<[String; 5]> = d.differences.iter().map(row).collect();
    let head = ["KIND", "HOST", "ITEM", "FILE", "RUNNING"].map(String::from);
    let mut width = head.clone().map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in std::iter::once(&head).chain(&rows) {
        let cells: Vec<String> = r
            .iter()
            .zip(width)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out.push_str(&format!(
        "\n{} difference(s) between {} and the running deployment.\n",
        d.differences.len(),
        d.file
    ));
    out
}

/// The drift as Markdown.
pub fn markdown(d: &Drift) -> String {
    let mut out = format!("## Drift of {} ({})\n\n", d.file, d.deployment);
    if !d.differs {
        out.push_str("No difference: the file describes the running deployment.\n");
        return out;
    }
    out.push_str("| kind | host | item | file | running | source |\n|---|---|---|---|---|---|\n");
    for x in &d.differences {
        let [k, h, i, f, r] = row(x);
        let cells =
            [k, h, i, f, r, x.source.clone()].map(|c| c.replace('|', "\\|").replace('\n', " "));
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

fn row(x: &Difference) -> [String; 5] {
    let kind = match x.kind {
        DifferenceKind::HostMissing => "host missing",
        DifferenceKind::HostExtra => "host extra",
        DifferenceKind::Role => "role",
        DifferenceKind::Address => "address",
        DifferenceKind::Option => "option",
    };
    let clean = |s: &str| rdsports_core::text::lines(s).replace('\n', " ");
    [
        kind.to_owned(),
        clean(x.host.as_deref().unwrap_or("-")),
        clean(&x.item),
        clean(x.file.as_deref().unwrap_or("-")),
        clean(x.running.as_deref().unwrap_or("-")),
    ]
}
