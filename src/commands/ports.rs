//! `rdsports ports`: the catalog, filtered, or the explanation of one port or id.

use std::str::FromStr;

use anyhow::bail;
use rdsports_core::{Catalog, Protocol, Role};
use rdsports_report::ports::{self, Filter, Query};

use crate::ExitStatus;
use crate::cli::PortsArgs;
use crate::input;

pub fn run(args: &PortsArgs) -> anyhow::Result<ExitStatus> {
    let catalog = input::catalog()?;
    let format = input::format(args.format);
    let width = input::width();
    let role = match &args.role {
        None => None,
        Some(r) => match Role::from_str(r) {
            Ok(role) => Some(role),
            Err(()) => {
                let names: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
                bail!("unknown role \"{r}\" (roles: {})", names.join(", "));
            }
        },
    };
    if let Some(s) = &args.service
        && !rdsports_core::catalog::SERVICES.contains(&s.as_str())
    {
        bail!(
            "unknown service \"{s}\" (services: {})",
            rdsports_core::catalog::SERVICES.join(", ")
        );
    }
    let filter = Filter {
        role,
        port: args.port,
        service: args.service.clone(),
        protocol: args
            .protocol
            .as_deref()
            .and_then(|p| Protocol::from_str(p).ok()),
    };
    let filtered = filter.role.is_some()
        || filter.port.is_some()
        || filter.service.is_some()
        || filter.protocol.is_some();
    let Some(q) = &args.query else {
        input::print(&ports::render(&catalog, &filter, format, width))?;
        // A filter that matches nothing is a query that found nothing: exit 1, as documented.
        if filtered && !catalog.entries.iter().any(|e| filter.matches(e)) {
            eprintln!("rdsports: no catalog entry matches the filters");
            return Ok(ExitStatus::Findings);
        }
        return Ok(ExitStatus::Ok);
    };
    // With a PORT or ID, the filters narrow what is explained (they used to be ignored).
    let catalog = Catalog {
        entries: catalog
            .entries
            .into_iter()
            .filter(|e| filter.matches(e))
            .collect(),
    };
    let query = match q.parse::<u32>() {
        Ok(n) => match u16::try_from(n) {
            Ok(p) if p > 0 => Query::Port(p),
            _ => bail!("{q} is not a port (1-65535)"),
        },
        Err(_) => Query::Id(q.clone()),
    };
    let selected = ports::select(&catalog, &query);
    if selected.is_empty() {
        eprintln!(
            "rdsports: no catalog entry {} {q}{}",
            if matches!(query, Query::Port(_)) {
                "uses port"
            } else {
                "has id"
            },
            if filtered {
                " and matches the filters"
            } else {
                ""
            }
        );
        eprintln!("hint: `rdsports ports` lists the whole catalog");
        return Ok(ExitStatus::Findings);
    }
    input::print(&ports::explain(&catalog, &query, format, width))?;
    Ok(ExitStatus::Ok)
}
