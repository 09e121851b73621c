//! The collector's document ([`Collected`]), read strictly: each part is read on its own so
//! that an error names its JSON path.

use std::net::IpAddr;

use rdsports_core::Role;
use rdsports_core::deployment::CrlMethod;
use rdsports_schema::import::{
    COLLECTOR_NAME, Collected, Fact, IMPORT_SCHEMA_VERSION, NameAddresses, ServerFacts,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::cmdlets::Cmdlet;
use crate::{Inventory, Problem, json};

const HINT: &str =
    "give the document `rdsports import --collector` prints, as the collector wrote it";

fn typed<T: DeserializeOwned>(v: Value, path: &str) -> Result<T, Problem> {
    serde_json::from_value(v).map_err(|e| Problem::at(path, e.to_string(), HINT))
}

/// Reads the collector's document `v` into `inv`.
pub(crate) fn read(inv: &mut Inventory, mut v: Value) -> Result<(), Problem> {
    unwrap_arrays(&mut v);
    let Value::Object(mut o) = v else {
        return Err(Problem::at(
            "$",
            "expected the collector's document (an object)",
            HINT,
        ));
    };
    match o.get("schema_version").and_then(Value::as_u64) {
        Some(n) if n == u64::from(IMPORT_SCHEMA_VERSION) => {}
        Some(n) => {
            return Err(Problem::at(
                "$.schema_version",
                format!(
                    "schema_version {n} is not supported (this rdsports reads {IMPORT_SCHEMA_VERSION})"
                ),
                "run the collector this rdsports prints (`rdsports import --collector`)",
            ));
        }
        None => return Err(Problem::at("$.schema_version", "no schema_version", HINT)),
    }
    // Parts read on their own, for their paths; the rest (small) read whole.
    let servers = o.remove("servers").unwrap_or(Value::Null);
    let cmdlets = o.remove("cmdlets").unwrap_or(Value::Null);
    let doc: Collected = typed(Value::Object(o), "$")?;
    if doc.collector != COLLECTOR_NAME {
        return Err(Problem::at(
            "$.collector",
            format!("collector {:?} is not rdsports' collector", doc.collector),
            HINT,
        ));
    }
    let at = doc.collected_at.as_deref().and_then(json::date);
    if doc.collected_at.is_some() && at.is_none() {
        return Err(Problem::at(
            "$.collected_at",
            "not a date",
            "ISO 8601 (`.ToString('o')`) or 5.1's \"\\/Date(ms)\\/\"",
        ));
    }
    inv.facts.collected = Some((doc.broker.clone(), at));
    for e in &doc.cmdlet_errors {
        inv.warnings.push(format!(
            "{} failed on {}: {} (what it would have told is unknown)",
            e.cmdlet, doc.broker, e.error
        ));
    }
    match cmdlets {
        Value::Null => {}
        Value::Object(map) => {
            let mut map: Vec<(String, Value)> = map.into_iter().collect();
            map.sort_by_key(|(name, _)| Cmdlet::of(name) != Some(Cmdlet::Server));
            for (name, out) in map {
                let path = format!("$.cmdlets[{name:?}]");
                let Some(c) = Cmdlet::of(&name) else {
                    return Err(Problem::at(&path, format!("unknown cmdlet {name:?}"), HINT));
                };
                c.read(inv, &out, &path)?;
            }
        }
        other => {
            return Err(Problem::at(
                "$.cmdlets",
                format!("expected an object, found {}", json::kind(&other)),
                HINT,
            ));
        }
    }
    let servers: Vec<Value> = match servers {
        Value::Null => Vec::new(),
        Value::Array(a) => a,
        other => {
            return Err(Problem::at(
                "$.servers",
                format!("expected an array, found {}", json::kind(&other)),
                HINT,
            ));
        }
    };
    let mut dns: Vec<(IpAddr, String)> = Vec::new();
    for (i, s) in servers.into_iter().enumerate() {
        let path = format!("$.servers[{i}]");
        let s: ServerFacts = typed(s, &path)?;
        server(inv, s, &path, &mut dns)?;
    }
    if let Some(d) = doc.domain {
        inv.visible.extend([Role::DomainController, Role::Dns]);
        inv.facts.domain = Some(d.name.clone());
        inv.facts.ad_rpc_port = d.ad_rpc_port;
        for (i, dc) in d.controllers.iter().enumerate() {
            inv.role(&dc.name, Role::DomainController, &dc.source)?;
            addresses_of(inv, dc, &format!("$.domain.controllers[{i}]"))?;
        }
    }
    if let Some(db) = doc.broker_database {
        inv.visible.insert(Role::Sql);
        let source = db.source.clone();
        inv.role(&db.server, Role::Sql, &source)?;
        let na = NameAddresses {
            name: db.server.clone(),
            addresses: db.addresses.clone(),
            source: source.clone(),
        };
        addresses_of(inv, &na, "$.broker_database")?;
        inv.facts.database = Some(Fact {
            value: crate::sql::SqlServer {
                host: db.server,
                port: db.port,
                instance: db.instance,
            },
            source,
        });
    }
    if let Some(upd) = doc.user_profile_disks {
        inv.visible.insert(Role::FileServer);
        for path in &upd.value {
            if let Some(host) = path
                .strip_prefix("\\\\")
                .and_then(|r| r.split('\\').next())
                .filter(|h| !h.is_empty())
            {
                inv.role(host, Role::FileServer, &upd.source)?;
            }
        }
    }
    // Names the facts mention: their addresses, for the hosts above (never new hosts).
    for (i, n) in doc.names.iter().enumerate() {
        if inv.servers.contains_key(&n.name.to_ascii_lowercase()) {
            addresses_of(inv, n, &format!("$.names[{i}]"))?;
        }
    }
    // DNS servers: a host with that address gains the role, others become hosts.
    if !dns.is_empty() {
        inv.visible.insert(Role::Dns);
    }
    for (ip, source) in dns {
        let holder = inv.servers.values().find_map(|s| {
            s.addresses
                .as_ref()
                .filter(|a| a.value.iter().any(|(a, _)| *a == ip))
                .map(|_| s.name.clone())
        });
        let name = holder.unwrap_or_else(|| format!("dns-{ip}"));
        inv.role(&name, Role::Dns, &source)?;
        let s = inv.server(&name)?;
        if s.addresses.is_none() {
            s.addresses = Some(Fact {
                value: vec![(ip, None)],
                source: source.clone(),
            });
        }
    }
    Ok(())
}

/// Gives `n.name` the addresses of `n` when it has none yet.
fn addresses_of(inv: &mut Inventory, n: &NameAddresses, path: &str) -> Result<(), Problem> {
    let mut ips = Vec::new();
    for (i, a) in n.addresses.iter().enumerate() {
        ips.push((ip(a, &format!("{path}.addresses[{i}]"))?, None));
    }
    let s = inv.server(&n.name)?;
    if s.addresses.is_none() && !ips.is_empty() {
        s.addresses = Some(Fact {
            value: ips,
            source: n.source.clone(),
        });
    }
    Ok(())
}

fn ip(text: &str, path: &str) -> Result<IpAddr, Problem> {
    // Windows writes link-local IPv6 with a zone (`fe80::1%12`).
    let t = text.split('%').next().unwrap_or(text).trim();
    t.parse().map_err(|_| {
        Problem::at(
            path,
            format!("{text:?} is not an IP address"),
            "the collector writes addresses as Get-NetIPAddress gives them",
        )
    })
}

fn server(
    inv: &mut Inventory,
    f: ServerFacts,
    path: &str,
    dns: &mut Vec<(IpAddr, String)>,
) -> Result<(), Problem> {
    let short = f.name.split('.').next().unwrap_or(&f.name).to_owned();
    if let Some(e) = &f.error {
        inv.warnings.push(format!(
            "{} could not be reached by the collector: {e} (its facts are unknown)",
            f.name
        ));
    }
    let mut ips = Vec::new();
    if let Some(a) = &f.addresses {
        for (i, x) in a.value.iter().enumerate() {
            let p = format!("{path}.addresses.value[{i}]");
            let addr = ip(&x.ip, &p)?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            if x.prefix_length > max {
                return Err(Problem::at(
                    &format!("{p}.prefix_length"),
                    format!("prefix length {} is longer than {max}", x.prefix_length),
                    HINT,
                ));
            }
            // Loopback and link-local addresses say nothing about the deployment's networks.
            let local = match addr {
                IpAddr::V4(v) => v.is_loopback() || v.is_link_local(),
                IpAddr::V6(v) => v.is_loopback() || (v.segments()[0] & 0xffc0) == 0xfe80,
            };
            if !local {
                ips.push((addr, Some(x.prefix_length)));
            }
        }
    }
    if let Some(d) = &f.dns_servers {
        for (i, a) in d.value.iter().enumerate() {
            let addr = ip(a, &format!("{path}.dns_servers.value[{i}]"))?;
            if !dns.iter().any(|(x, _)| *x == addr) {
                dns.push((addr, format!("{short}: {}", d.source)));
            }
        }
    }
    if f.domain.is_some() && inv.facts.domain.is_none() {
        inv.facts.domain = f.domain.clone();
    }
    let mut nps = Vec::new();
    let mut crl: Vec<(Option<String>, CrlMethod)> = Vec::new();
    let s = inv.server(&f.name)?;
    s.unreachable = f.error.clone();
    if !ips.is_empty() {
        s.addresses = f.addresses.as_ref().map(|a| Fact {
            value: ips,
            source: a.source.clone(),
        });
    }
    s.rdp_port = f.rdp_port;
    s.rdp_udp = f.rdp_udp;
    s.rpc_range = f.rpc_range;
    s.winrm = f.winrm;
    let mut central = None;
    let mut crl_source = None;
    if let Some(g) = f.gateway {
        s.gateway_https_port = g.https_port;
        s.gateway_udp_port = g.udp_port;
        s.gateway_udp = g.udp_enabled;
        central = g.central_cap;
        if let Some(n) = g.nps_servers {
            nps = n
                .value
                .iter()
                .map(|x| (x.clone(), n.source.clone()))
                .collect();
        }
        if let Some(c) = g.crl_urls {
            for url in &c.value {
                if let Some(m) = crl_of(url) {
                    crl.push(m);
                }
            }
            crl_source = Some(format!("{short}: {}", c.source));
        }
    }
    if let Some(c) = central {
        inv.visible.insert(Role::Nps);
        inv.facts.central_cap.push((short.clone(), c));
    }
    for (name, source) in nps {
        inv.role(&name, Role::Nps, &format!("{short}: {source}"))?;
    }
    if let Some(source) = crl_source {
        inv.visible.insert(Role::Crl);
        let mut methods: Vec<CrlMethod> = inv
            .facts
            .crl
            .as_ref()
            .map(|c| c.value.clone())
            .unwrap_or_default();
        for (host, m) in &crl {
            if let Some(host) = host {
                inv.role(host, Role::Crl, &source)?;
            }
            if !methods.contains(m) {
                methods.push(*m);
            }
        }
        methods.sort();
        inv.facts.crl = Some(Fact {
            value: methods,
            source,
        });
    }
    Ok(())
}

/// The host and method of a CRL distribution point URL (`http://pki01/crl/ca.crl`,
/// `ldap:///CN=...` names no host and is served by the DCs: not a CRL host of its own).
fn crl_of(url: &str) -> Option<(Option<String>, CrlMethod)> {
    let (scheme, rest) = url.split_once("://")?;
    let method = match scheme.to_ascii_lowercase().as_str() {
        "http" => CrlMethod::Http,
        "ldap" => CrlMethod::Ldap,
        "ftp" => CrlMethod::Ftp,
        _ => return None,
    };
    let host = rest.split(['/', ':', '?']).next().unwrap_or("").trim();
    Some(((!host.is_empty()).then(|| host.to_owned()), method))
}

/// Windows PowerShell 5.1 may write any array as `{"value": [...], "Count": n}`
/// (PowerShell/PowerShell issue #5579): every such object becomes its array, so that the
/// strict reading sees the document as written.
fn unwrap_arrays(v: &mut Value) {
    match v {
        Value::Object(o) => {
            let wrapped = o.len() == 2
                && o.get("Count").is_some_and(Value::is_number)
                && o.get("value").is_some_and(Value::is_array);
            if wrapped {
                if let Some(inner) = o.remove("value") {
                    *v = inner;
                    unwrap_arrays(v);
                }
                return;
            }
            for x in o.values_mut() {
                unwrap_arrays(x);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(unwrap_arrays),
        _ => {}
    }
}
