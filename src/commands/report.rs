//! `rdsports report`: one self-contained HTML page with the plan, the diagram, the Windows
//! rules, and the check, fleet, audit and lint results given. Glue: the page is
//! `rdsports_report::html`.

use rdsports_report::html::{self, ReportInput};

use crate::ExitStatus;
use crate::cli::ReportArgs;
use crate::error::UserError;
use crate::input;

pub fn run(args: &ReportArgs) -> anyhow::Result<ExitStatus> {
    let Some((deployment, loaded)) = input::load(&args.input)? else {
        return Ok(ExitStatus::BadInput);
    };
    let digest = input::results::digest(&loaded.text);
    let mut checks = Vec::new();
    for path in &args.checks {
        let (name, document) = input::results::read_check(path)?;
        input::results::same_deployment(&name, &document, &digest)?;
        checks.push((name, document));
    }
    let mut fleet = None;
    if let Some(dir) = &args.check_dir {
        let files = input::results::read_dir(dir)?;
        let summary = rdsports_report::fleet::summarize(
            &deployment,
            &digest,
            &files,
            rdsports_schema::check::UdpSilence::Warn,
        );
        if summary.refused() {
            for line in rdsports_report::fleet::refused_lines(&summary) {
                eprintln!("error: {line}");
            }
            eprintln!(
                "  = hint: run check again with this deployment file, or remove the old results"
            );
            return Ok(ExitStatus::BadInput);
        }
        for f in files {
            // Only the result that summarize used for each host (a second one is ignored).
            if summary
                .hosts
                .iter()
                .any(|h| h.file.as_deref() == Some(f.file.as_str()))
            {
                checks.push((f.file, f.document));
            }
        }
        for line in rdsports_report::fleet::ignored_lines(&summary) {
            eprintln!("warning: {line}");
        }
        fleet = Some(summary);
    }
    let audits = audits(&args.audits, &deployment.name)?;
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
    let scripts = rdsports_policy::host_scripts::windows_scripts(&deployment, &policy);
    drop(policy);
    let Some(plan) = input::plan_for_diagram(&catalog, &deployment, &args.input) else {
        return Ok(ExitStatus::BadInput);
    };
    let diff = match &args.diff {
        None => None,
        Some(old) => {
            let Some(old) = input::side::load(&catalog, old, args.input.max_flows, false)? else {
                return Ok(ExitStatus::BadInput);
            };
            let new = rdsports_diff::Side::of_plan(&loaded.name, &plan);
            Some(rdsports_diff::diff(
                &catalog,
                &old.side,
                &new,
                &rdsports_diff::Narrow::default(),
            ))
        }
    };
    let warnings = input::plan_warnings(&deployment, &plan);
    for w in &scripts.warnings {
        eprintln!("warning: {w}");
    }
    let fleet_ok = fleet.as_ref().is_none_or(|s| s.all_ok());
    let audit_ok = audits.iter().all(|a| a.audit.counts.missing == 0);
    let lint = match lint(&plan, &loaded, &checks) {
        Ok(doc) => html::lint_rows(&doc, &loaded.name),
        Err(status) => return Ok(status),
    };
    let page = html::render(&ReportInput {
        diff,
        plan: &plan,
        warnings: &warnings,
        windows_rules: scripts.scripts,
        checks: checks.into_iter().map(|(_, doc)| doc).collect(),
        lint,
        fleet,
        audits,
    });
    input::write_output(args.output.as_deref(), &page)?;
    // A fleet run where a host is blocked or did not report, or an audit with a missing
    // flow, is a finding (exit 1).
    Ok(if fleet_ok && audit_ok {
        ExitStatus::Ok
    } else {
        ExitStatus::Findings
    })
}

/// Reads the `--audit` results (`rdsports audit --format json`) of this deployment, with
/// the reader every command uses (`Audit::parse`).
fn audits(
    paths: &[std::path::PathBuf],
    deployment: &str,
) -> anyhow::Result<Vec<rdsports_report::audit::AuditFile>> {
    let mut out = Vec::new();
    for path in paths {
        let (name, text) = input::read_text(path, input::MAX_RESULTS_BYTES, "audit result file")?;
        let audit = rdsports_schema::audit::Audit::parse(&text)
            .map_err(|e| UserError::new(format!("{name}: {}", e.message)).hint(e.hint))?;
        if audit.deployment != deployment {
            return Err(UserError::new(format!(
                "{name}: the audit is of deployment \"{}\", this report of \"{deployment}\"",
                audit.deployment
            ))
            .hint("audit again with this deployment file, or leave the result out")
            .into());
        }
        out.push(rdsports_report::audit::AuditFile { file: name, audit });
    }
    Ok(out)
}

/// `rdsports lint` of the deployment with the report's check results, as its document.
/// `Err`: the `[lint]` section is invalid; its errors were printed.
fn lint(
    plan: &rdsports_core::Plan<'_>,
    loaded: &input::Loaded,
    checks: &[(String, rdsports_schema::check::CheckDocument)],
) -> Result<rdsports_schema::lint::LintDocument, ExitStatus> {
    let mut inputs = Vec::with_capacity(checks.len());
    for (name, doc) in checks {
        match rdsports_lint::CheckInput::new(name.clone(), doc.clone()) {
            Ok(c) => inputs.push(c),
            Err(e) => {
                eprintln!("error: {name}: {e}");
                return Err(ExitStatus::BadInput);
            }
        }
    }
    let report = match rdsports_lint::lint(&rdsports_lint::Input {
        text: &loaded.text,
        plan,
        checks: &inputs,
        rules: None,
    }) {
        Ok(r) => r,
        Err(diagnostics) => {
            input::print_diagnostics(loaded, &diagnostics);
            return Err(ExitStatus::BadInput);
        }
    };
    let uri = loaded.name.replace('\\', "/");
    Ok(rdsports_lint::render::document(
        &report,
        &rdsports_lint::render::Context {
            deployment: &plan.deployment.name,
            file: &loaded.name,
            uri: &uri,
            fail_on: None,
            version: env!("CARGO_PKG_VERSION"),
        },
    ))
}
