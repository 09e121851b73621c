//! `rdsports import`: read the exports (or the collector's document), then write the
//! deployment file, or the drift against one. The reading and deciding is
//! `rdsports_import`'s; here: files, the system resolver (`--resolve`), printing.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use anyhow::Context;
use rdsports_import::{Source, compare, model::Model};

use crate::ExitStatus;
use crate::cli::{DeploymentInput, DriftFormat, ImportArgs};
use crate::error::UserError;
use crate::input;

/// The most files one import reads from folders.
const MAX_FILES: usize = 1000;

pub fn run(args: &ImportArgs) -> anyhow::Result<ExitStatus> {
    if args.collector {
        input::print(rdsports_import::COLLECTOR)?;
        return Ok(ExitStatus::Ok);
    }
    let files = files(&args.sources)?;
    let mut texts = Vec::with_capacity(files.len());
    for f in &files {
        texts.push(input::read_text(f, input::MAX_IMPORT_BYTES, "export")?);
    }
    let sources: Vec<Source<'_>> = texts
        .iter()
        .map(|(name, text)| Source { name, text })
        .collect();
    let inventory = rdsports_import::read(&sources)
        .map_err(|e| UserError::new(format!("{e}")).hint(e.hint.clone()))?;
    let resolved = if args.resolve {
        resolve(&inventory)
    } else {
        BTreeMap::new()
    };
    let model = Model::of(&inventory, &resolved);
    let mut err = std::io::stderr().lock();
    for w in &model.warnings {
        writeln!(err, "warning: {}", rdsports_core::text::one_line(w))?;
    }
    drop(err);

    if let Some(file) = &args.compare {
        let loaded = input::read(&DeploymentInput {
            file: Some(file.clone()),
            max_flows: rdsports_core::plan::DEFAULT_MAX_FLOWS,
        })?;
        let Some(deployment) = input::deployment(&loaded) else {
            return Ok(ExitStatus::BadInput);
        };
        let drift = compare::compare(&model, &deployment, &loaded.name);
        let text = match args.format {
            DriftFormat::Table => compare::table(&drift),
            DriftFormat::Markdown => compare::markdown(&drift),
            DriftFormat::Json => {
                let mut s = serde_json::to_string_pretty(&drift)?;
                s.push('\n');
                s
            }
        };
        input::print(&text)?;
        return Ok(if drift.differs {
            ExitStatus::Findings
        } else {
            ExitStatus::Ok
        });
    }

    let text = model.render();
    match &args.output {
        Some(path) => std::fs::write(path, &text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => input::print(&text)?,
    }
    Ok(ExitStatus::Ok)
}

/// The files to read: each SOURCE, or the `.json` and `.csv` files of a folder (in name order).
fn files(sources: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for s in sources {
        if !s.is_dir() {
            out.push(s.clone());
            continue;
        }
        let mut found: Vec<PathBuf> = std::fs::read_dir(s)
            .with_context(|| format!("cannot read {}", s.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && is_export(p))
            .take(MAX_FILES + 1)
            .collect();
        if found.is_empty() {
            return Err(UserError::new(format!("{} holds no .json or .csv export", s.display()))
                .hint("export each cmdlet into it: `Get-RDServer | ConvertTo-Json -Depth 4 > Get-RDServer.json`, or run the collector (`rdsports import --collector`)")
                .into());
        }
        found.sort();
        out.extend(found);
        if out.len() > MAX_FILES {
            return Err(
                UserError::new(format!("more than {MAX_FILES} export files"))
                    .hint("give the folder of one deployment's exports")
                    .into(),
            );
        }
    }
    Ok(out)
}

fn is_export(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json") || e.eq_ignore_ascii_case("csv"))
}

/// The system resolver's addresses of the servers the sources name without one (only with
/// `--resolve`: the admin asked for these lookups).
fn resolve(inventory: &rdsports_import::Inventory) -> BTreeMap<String, Vec<IpAddr>> {
    let mut out = BTreeMap::new();
    for (key, s) in &inventory.servers {
        if s.addresses.is_some() || s.name.starts_with("dns-") {
            continue;
        }
        match (s.name.as_str(), 0u16).to_socket_addrs() {
            Ok(addrs) => {
                let ips: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
                if !ips.is_empty() {
                    out.insert(key.clone(), ips);
                }
            }
            Err(e) => eprintln!("warning: {} does not resolve: {e}", s.name),
        }
    }
    out
}
