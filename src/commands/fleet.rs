//! `rdsports fleet`: the inventory for Ansible or PowerShell remoting, and the summary of the
//! result files a fleet run brings back.

use std::path::Path;

use anyhow::Context;
use rdsports_report::fleet::{self, Os, ResultFile};
use rdsports_schema::check::UdpSilence;

use crate::ExitStatus;
use crate::cli::{
    FleetCommand, FleetInventoryArgs, FleetOs, FleetSummaryArgs, InventoryFormat, SummaryFormat,
};
use crate::input;

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

/// Reads every `*.json` of `dir`, in name order, each file capped as check results are.
/// `Ok(Err)`: the message for the user (printed whole), exit 2.
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
                    "error: {} holds more than {MAX_RESULT_FILES} result files\n",
                    dir.display()
                )));
            }
        }
    }
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let (name, bytes) =
            match input::read_capped(&path, input::MAX_RESULTS_BYTES, "check results file") {
                Ok(x) => x,
                Err(input::ReadError::TooLarge(message)) => return Ok(Err(message)),
                Err(input::ReadError::Io(e)) => return Err(e),
            };
        let Ok(text) = std::str::from_utf8(&bytes) else {
            return Ok(Err(format!(
                "error: {name} is not UTF-8 text: not a check result\n"
            )));
        };
        let document = match rdsports_schema::check::CheckDocument::parse(text) {
            Ok(d) => d,
            Err(e) => return Ok(Err(format!("error: {name}: {e}\n"))),
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
            eprint!("{message}");
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
