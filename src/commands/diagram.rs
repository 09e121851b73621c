//! `rdsports diagram` and `rdsports report`: pictures and a self-contained HTML report.

use std::path::Path;
use std::str::FromStr;

use anyhow::Context;
use rdsports_report::diagram::{self, DiagramFormat};
use rdsports_report::html::{self, ReportInput};

use crate::ExitStatus;
use crate::cli::{DiagramArgs, ReportArgs};
use crate::input;

pub fn run(args: &DiagramArgs) -> anyhow::Result<ExitStatus> {
    let Some((deployment, _)) = input::load(&args.input)? else {
        return Ok(ExitStatus::BadInput);
    };
    let catalog = input::catalog()?;
    let Some(plan) = input::plan_for_diagram(&catalog, &deployment, &args.input) else {
        return Ok(ExitStatus::BadInput);
    };
    let format = DiagramFormat::from_str(&args.format)
        .map_err(|_| anyhow::anyhow!("unknown diagram format \"{}\"", args.format))?;
    write(args.output.as_deref(), &diagram::render(&plan, format))?;
    Ok(ExitStatus::Ok)
}

pub fn report(args: &ReportArgs) -> anyhow::Result<ExitStatus> {
    let Some((deployment, _)) = input::load(&args.input)? else {
        return Ok(ExitStatus::BadInput);
    };
    let mut checks = Vec::new();
    for path in &args.checks {
        let bytes = match input::read_capped(path, input::MAX_RESULTS_BYTES, "check results file") {
            Ok((_, bytes)) => bytes,
            Err(input::ReadError::TooLarge(message)) => {
                eprint!("{message}");
                return Ok(ExitStatus::BadInput);
            }
            Err(input::ReadError::Io(e)) => return Err(e),
        };
        let Ok(text) = String::from_utf8(bytes) else {
            eprintln!(
                "error: {}: the check results are not UTF-8 text (write them with `rdsports check --format json > FILE`)",
                path.display()
            );
            return Ok(ExitStatus::BadInput);
        };
        match html::parse_check_results(&text) {
            Ok(doc) => checks.push(doc),
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return Ok(ExitStatus::BadInput);
            }
        }
    }
    let catalog = input::catalog()?;
    let Some(plan) = input::plan_for_diagram(&catalog, &deployment, &args.input) else {
        return Ok(ExitStatus::BadInput);
    };
    let warnings = crate::commands::plan::warnings(&deployment, &plan);
    let windows_rules = windows_rules(&plan);
    let page = html::render(&ReportInput {
        plan: &plan,
        warnings: &warnings,
        windows_rules,
        checks,
    });
    write(args.output.as_deref(), &page)?;
    Ok(ExitStatus::Ok)
}

/// Above this many hosts the report carries one Windows script per group of hosts with the
/// same roles in the same zone (their rules are the same), not one per host.
const ONE_SCRIPT_PER_GROUP_ABOVE: usize = 200;

/// A zone index and a role set.
type HostGroup<'d> = (usize, &'d [rdsports_core::Role]);

/// Each host's Windows Firewall script, by host name (the file names may be sanitised, the
/// host names are not), for hosts that accept flows. In large deployments one host stands
/// for its group, labelled with how many hosts share its rules.
fn windows_rules(plan: &rdsports_core::Plan<'_>) -> Vec<(String, String)> {
    let d = plan.deployment;
    let policy = rdsports_policy::Policy::aggregated_from_plan(plan);
    // (zone, roles) and the hosts that share them, in file order.
    let mut groups: Vec<(HostGroup<'_>, Vec<usize>)> = Vec::new();
    for (i, h) in d.hosts.iter().enumerate() {
        let key = (h.zone, h.roles.as_slice());
        let fold = d.hosts.len() > ONE_SCRIPT_PER_GROUP_ABOVE;
        match groups.iter_mut().find(|(k, _)| fold && *k == key) {
            Some((_, members)) => members.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    let mut scripts = Vec::new();
    for (_, members) in &groups {
        let host = &d.hosts[members[0]];
        let label = match members.len() {
            1 => host.name.clone(),
            n => format!(
                "{} (the same rules serve {} more hosts with its roles in its zone)",
                host.name,
                n - 1
            ),
        };
        let opts = rdsports_policy::RenderOptions {
            host: Some(host.name.clone()),
            ..Default::default()
        };
        match rdsports_policy::render_policy("windows", &policy, &opts) {
            Ok(r) => scripts.extend(r.files.into_iter().map(|(_, text)| (label.clone(), text))),
            Err(e) => eprintln!(
                "warning: no Windows rules for {} in the report: {e}",
                host.name
            ),
        }
    }
    scripts
}

fn write(path: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match path {
        None => input::print(text),
        Some(p) => {
            std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?;
            eprintln!("wrote {}", p.display());
            Ok(())
        }
    }
}
