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
    let Some((deployment, loaded)) = input::load(&args.input)? else {
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
        match rdsports_schema::check::CheckDocument::parse(&text) {
            Ok(doc) => checks.push(doc),
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return Ok(ExitStatus::BadInput);
            }
        }
    }
    let mut fleet = None;
    let mut check_files = args.checks.clone();
    if let Some(dir) = &args.check_dir {
        let files = match input::results::read_dir(dir)? {
            Ok(f) => f,
            Err(message) => {
                eprint!("{message}");
                return Ok(ExitStatus::BadInput);
            }
        };
        let digest = input::results::digest(&loaded.text);
        let summary = rdsports_report::fleet::summarize(
            &deployment,
            &digest,
            &files,
            rdsports_schema::check::UdpSilence::Warn,
        );
        if summary.refused() {
            for h in summary
                .hosts
                .iter()
                .filter(|h| h.status == rdsports_report::fleet::Status::Refused)
            {
                eprintln!(
                    "error: {}: refused: {}",
                    h.file.as_deref().unwrap_or("?"),
                    h.detail.as_deref().unwrap_or_default()
                );
            }
            eprintln!("hint: run check again with this deployment file, or remove the old results");
            return Ok(ExitStatus::BadInput);
        }
        for f in files {
            // Only the result that summarize used for each host (a second one is ignored).
            if summary
                .hosts
                .iter()
                .any(|h| h.file.as_deref() == Some(f.file.as_str()))
            {
                check_files.push(std::path::PathBuf::from(&f.file));
                checks.push(f.document);
            }
        }
        for (file, why) in &summary.ignored {
            eprintln!("warning: {file}: ignored: {why}");
        }
        fleet = Some(summary);
    }
    let audits = match audits(&args.audits, &deployment.name)? {
        Ok(a) => a,
        Err(status) => return Ok(status),
    };
    let catalog = input::catalog()?;
    // The Windows rules' aggregated policy is built first, as the flows are planned, and the
    // scripts from it; the plan the report draws is built after them: the policy and the
    // plan are never in memory together (a 10,000-host farm plans millions of flows).
    // Planning twice costs less than holding both.
    let mut planned = None;
    let policy = rdsports_policy::Policy::aggregated_from_flows(&catalog, &deployment, 0, |each| {
        planned = input::plan_for_diagram_each(&catalog, &deployment, &args.input, &mut |f| {
            each(&f);
        });
    });
    if planned.is_none() {
        return Ok(ExitStatus::BadInput);
    }
    let windows_rules = windows_rules(&deployment, &policy);
    drop(policy);
    let Some(plan) = input::plan_for_diagram(&catalog, &deployment, &args.input) else {
        return Ok(ExitStatus::BadInput);
    };
    let warnings = input::plan_warnings(&deployment, &plan);
    let fleet_ok = fleet.as_ref().is_none_or(|s| s.all_ok());
    let audit_ok = audits.iter().all(|a| a.audit.counts.missing == 0);
    let lint = match lint_rows(&plan, &loaded, &check_files) {
        Ok(rows) => rows,
        Err(status) => return Ok(status),
    };
    let page = html::render(&ReportInput {
        plan: &plan,
        warnings: &warnings,
        windows_rules,
        checks,
        lint,
        fleet,
        audits,
    });
    write(args.output.as_deref(), &page)?;
    // A fleet run where a host is blocked or did not report, or an audit with a missing
    // flow, is a finding (exit 1).
    Ok(if fleet_ok && audit_ok {
        ExitStatus::Ok
    } else {
        ExitStatus::Findings
    })
}

/// Reads the `--audit` results (`rdsports audit --format json`) of this deployment. `Err`:
/// the reason was printed, exit 2.
fn audits(
    paths: &[std::path::PathBuf],
    deployment: &str,
) -> anyhow::Result<Result<Vec<rdsports_report::audit::AuditFile>, ExitStatus>> {
    let mut out = Vec::new();
    for path in paths {
        let (name, bytes) =
            match input::read_capped(path, input::MAX_RESULTS_BYTES, "audit result file") {
                Ok(x) => x,
                Err(input::ReadError::TooLarge(message)) => {
                    eprint!("{message}");
                    return Ok(Err(ExitStatus::BadInput));
                }
                Err(input::ReadError::Io(e)) => return Err(e),
            };
        let Ok(text) = String::from_utf8(bytes) else {
            eprintln!(
                "error: {name}: the audit result is not UTF-8 text\n  hint: write it with `rdsports audit --rules EXPORT --format json > RESULT.json`"
            );
            return Ok(Err(ExitStatus::BadInput));
        };
        let doc = match rdsports_schema::audit::Audit::parse(&text) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: {name}: {}\n  hint: {}", e.message, e.hint);
                return Ok(Err(ExitStatus::BadInput));
            }
        };
        if doc.deployment != deployment {
            eprintln!(
                "error: {name}: the audit is of deployment \"{}\", this report of \"{deployment}\"\n  hint: audit again with this deployment file, or leave the result out",
                doc.deployment
            );
            return Ok(Err(ExitStatus::BadInput));
        }
        out.push(rdsports_report::audit::AuditFile {
            file: name,
            audit: doc,
        });
    }
    Ok(Ok(out))
}

/// The lint findings for the report's section (the same as `rdsports lint` with the same
/// `--check` files). `Err`: the `[lint]` section is invalid; its errors were printed.
fn lint_rows(
    plan: &rdsports_core::Plan<'_>,
    loaded: &input::Loaded,
    check_files: &[std::path::PathBuf],
) -> Result<Vec<html::LintRow>, ExitStatus> {
    let mut checks = Vec::new();
    for path in check_files {
        // Already read and checked above as the report's check results.
        if let Ok(Ok(c)) = input::results::read_results(path) {
            checks.push(c);
        }
    }
    let report = match rdsports_lint::lint(&rdsports_lint::Input {
        text: &loaded.text,
        plan,
        checks: &checks,
        rules: None,
    }) {
        Ok(r) => r,
        Err(diagnostics) => {
            input::print_diagnostics(loaded, &diagnostics);
            return Err(ExitStatus::BadInput);
        }
    };
    Ok(report
        .findings
        .iter()
        .chain(&report.accepted)
        .map(|f| {
            let mut hosts = f.hosts.join(", ");
            if f.hosts_total > f.hosts.len() {
                hosts.push_str(&format!(" and {} more", f.hosts_total - f.hosts.len()));
            }
            html::LintRow {
                severity: f.rule.severity.name().to_owned(),
                id: f.rule.id.to_owned(),
                title: f.rule.title.to_owned(),
                subject: f.subject.clone(),
                hosts,
                fix: f.rule.fix.split_whitespace().collect::<Vec<_>>().join(" "),
                source_url: f.rule.sources[0].url.to_owned(),
                location: f.location.map(|l| format!("{}:{}", loaded.name, l.line)),
                accepted: f.accepted.clone(),
            }
        })
        .collect())
}

/// Above this many hosts the report carries one Windows script per group of hosts with the
/// same roles in the same zone (their rules are the same), not one per host.
const ONE_SCRIPT_PER_GROUP_ABOVE: usize = 200;

/// A zone index and a role set.
type HostGroup<'d> = (usize, &'d [rdsports_core::Role]);

/// Each host's Windows Firewall script, by host name (the file names may be sanitised, the
/// host names are not), for hosts that accept flows, from the aggregated `policy` of the
/// deployment's plan. In large deployments one host stands for its group, labelled with how
/// many hosts share its rules.
fn windows_rules(
    d: &rdsports_core::Deployment,
    policy: &rdsports_policy::Policy,
) -> Vec<(String, String)> {
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
        match rdsports_policy::render_policy("windows", policy, &opts) {
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
