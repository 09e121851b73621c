//! `rdsports diagram` and `rdsports report`: pictures and a self-contained HTML report.

use std::path::Path;
use std::str::FromStr;

use anyhow::Context;
use rdsports_core::plan::plan;
use rdsports_report::diagram::{self, DiagramFormat};
use rdsports_report::html::{self, ReportInput};

use crate::ExitStatus;
use crate::cli::{DiagramArgs, ReportArgs};
use crate::input;

pub fn run(args: &DiagramArgs) -> anyhow::Result<ExitStatus> {
    let Some((deployment, _)) = load(&args.input)? else {
        return Ok(ExitStatus::BadInput);
    };
    let catalog = input::catalog()?;
    let plan = plan(&catalog, &deployment);
    let format = DiagramFormat::from_str(&args.format)
        .map_err(|_| anyhow::anyhow!("unknown diagram format \"{}\"", args.format))?;
    write(args.output.as_deref(), &diagram::render(&plan, format))?;
    Ok(ExitStatus::Ok)
}

pub fn report(args: &ReportArgs) -> anyhow::Result<ExitStatus> {
    let Some((deployment, _)) = load(&args.input)? else {
        return Ok(ExitStatus::BadInput);
    };
    let mut checks = Vec::new();
    for path in &args.checks {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        match html::parse_check_results(&text) {
            Ok(doc) => checks.push(doc),
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return Ok(ExitStatus::BadInput);
            }
        }
    }
    let catalog = input::catalog()?;
    let plan = plan(&catalog, &deployment);
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

/// Each host's Windows Firewall script, by host name (the file names may be sanitised, the
/// host names are not), for hosts that accept flows.
fn windows_rules(plan: &rdsports_core::Plan<'_>) -> Vec<(String, String)> {
    let policy = rdsports_policy::Policy::aggregated_from_plan(plan);
    let mut scripts = Vec::new();
    for host in &plan.deployment.hosts {
        let opts = rdsports_policy::RenderOptions {
            host: Some(host.name.clone()),
            ..Default::default()
        };
        match rdsports_policy::render_policy("windows", &policy, &opts) {
            Ok(r) => scripts.extend(
                r.files
                    .into_iter()
                    .map(|(_, text)| (host.name.clone(), text)),
            ),
            Err(e) => eprintln!(
                "warning: no Windows rules for {} in the report: {e}",
                host.name
            ),
        }
    }
    scripts
}

fn load(
    input: &crate::cli::DeploymentInput,
) -> anyhow::Result<Option<(rdsports_core::Deployment, input::Loaded)>> {
    let loaded = match input::read(input)? {
        Ok(l) => l,
        Err(message) => {
            eprint!("{message}");
            return Ok(None);
        }
    };
    Ok(input::deployment(&loaded).map(|d| (d, loaded)))
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
