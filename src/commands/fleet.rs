//! `rdsports fleet`: the inventory for Ansible or PowerShell remoting, and the summary of the
//! result files a fleet run brings back.

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use rdsports_report::check::UdpSilence;
use rdsports_report::fleet::{self, Os, ResultFile};

use crate::ExitStatus;
use crate::cli::{
    FleetCommand, FleetInventoryArgs, FleetOs, FleetSummaryArgs, InventoryFormat, SummaryFormat,
};
use crate::input;

/// The largest result file read.
const MAX_RESULT_BYTES: u64 = 64 * 1024 * 1024;
/// The most result files one folder may hold (a fleet of 100,000 hosts).
const MAX_RESULT_FILES: usize = 100_000;

pub fn run(command: &FleetCommand) -> anyhow::Result<ExitStatus> {
    match command {
        FleetCommand::Inventory(args) => inventory(args),
        FleetCommand::Summary(args) => summary(args),
    }
}

/// `sha256:<hex>` of the deployment file's text: results record it, the summary compares it.
pub fn digest(text: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn inventory(args: &FleetInventoryArgs) -> anyhow::Result<ExitStatus> {
    let Some((deployment, loaded)) = input::load(&args.input)? else {
        return Ok(ExitStatus::BadInput);
    };
    let (_, out) = fleet::fleet_hosts(&deployment);
    for (i, why) in &out {
        eprintln!("left out: {} ({why})", deployment.hosts[*i].name);
    }
    let text = match args.format {
        InventoryFormat::Ansible => fleet::ansible_inventory(
            &deployment,
            match args.os {
                FleetOs::Windows => Os::Windows,
                FleetOs::Linux => Os::Linux,
            },
            &digest(&loaded.text),
        ),
        InventoryFormat::Csv => fleet::csv_inventory(&deployment),
    };
    input::print(&text)?;
    Ok(ExitStatus::Ok)
}

/// Reads every `*.json` of `dir`, in name order. `Ok(Err)`: a message, exit 2.
pub fn read_dir(dir: &Path) -> anyhow::Result<Result<Vec<ResultFile>, String>> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            && path.is_file()
        {
            paths.push(path);
            if paths.len() > MAX_RESULT_FILES {
                return Ok(Err(format!(
                    "{} holds more than {MAX_RESULT_FILES} result files",
                    dir.display()
                )));
            }
        }
    }
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let name = path.display().to_string();
        let mut bytes = Vec::new();
        std::fs::File::open(&path)
            .and_then(|f| f.take(MAX_RESULT_BYTES + 1).read_to_end(&mut bytes))
            .with_context(|| format!("cannot read {name}"))?;
        if bytes.len() as u64 > MAX_RESULT_BYTES {
            return Ok(Err(format!(
                "{name} is larger than 64 MiB: not a check result"
            )));
        }
        let Ok(text) = std::str::from_utf8(&bytes) else {
            return Ok(Err(format!("{name} is not UTF-8 text: not a check result")));
        };
        let document = match rdsports_report::html::parse_check_results(text) {
            Ok(d) => d,
            Err(e) => return Ok(Err(format!("{name}: {e}"))),
        };
        let raw = serde_json::from_str(text).unwrap_or_default();
        files.push(ResultFile {
            file: name,
            document,
            raw,
        });
    }
    Ok(Ok(files))
}

fn summary(args: &FleetSummaryArgs) -> anyhow::Result<ExitStatus> {
    let Some((deployment, loaded)) = input::load(&args.input)? else {
        return Ok(ExitStatus::BadInput);
    };
    let files = match read_dir(&args.dir)? {
        Ok(f) => f,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(ExitStatus::BadInput);
        }
    };
    let udp = if args.strict_udp {
        UdpSilence::Fail
    } else {
        UdpSilence::Warn
    };
    let s = fleet::summarize(&deployment, &digest(&loaded.text), &files, udp);
    let text = match args.format {
        SummaryFormat::Table => fleet::summary_table(&s, input::width()),
        SummaryFormat::Json => fleet::summary_json(&s),
    };
    input::print(&text)?;
    for h in s
        .hosts
        .iter()
        .filter(|h| h.status == fleet::Status::Refused)
    {
        eprintln!(
            "error: {}: refused: {}",
            h.file.as_deref().unwrap_or("?"),
            h.detail.as_deref().unwrap_or_default()
        );
    }
    Ok(if s.refused() {
        ExitStatus::BadInput
    } else if s.all_ok() {
        ExitStatus::Ok
    } else {
        ExitStatus::Findings
    })
}
