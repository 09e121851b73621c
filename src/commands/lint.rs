//! `rdsports lint`: the deployment's security findings, printed in the chosen format.

use rdsports_lint::{Input, Severity, render, rules};

use crate::ExitStatus;
use crate::cli::{FailOn, LintArgs, LintFormat};
use crate::input;

pub fn run(args: &LintArgs) -> anyhow::Result<ExitStatus> {
    if let Some(id) = &args.explain {
        if id.is_empty() {
            input::print(&render::list())?;
            return Ok(ExitStatus::Ok);
        }
        return match rules::rule(id) {
            Some(rule) => {
                input::print(&render::explain(rule))?;
                Ok(ExitStatus::Ok)
            }
            None => {
                let ids: Vec<&str> = rules::RULES.iter().map(|r| r.id).collect();
                eprintln!(
                    "error: no finding \"{id}\": {}\n  (rdsports lint --explain lists them all)",
                    rdsports_core::suggest::hint(id, &ids)
                );
                Ok(ExitStatus::BadInput)
            }
        };
    }
    let Some((deployment, loaded)) = input::load(&args.input)? else {
        return Ok(ExitStatus::BadInput);
    };
    let mut checks = Vec::new();
    let digest = input::results::digest(&loaded.text);
    for path in &args.checks {
        let check = input::results::read_results(path)?;
        input::results::same_deployment(&check.name, &check.document, &digest)?;
        checks.push(check);
    }
    let catalog = input::catalog()?;
    let Some(plan) = input::plan(&catalog, &deployment, &args.input, None) else {
        return Ok(ExitStatus::BadInput);
    };
    let rules = match &args.rules {
        None => None,
        Some(path) => {
            let r = input::rules::load_rules(
                &deployment,
                &loaded.name,
                path,
                args.rules_format.as_deref(),
                args.rules_host.as_ref(),
                args.rules_boundary.as_ref(),
                &input::rules::ReaderFlags {
                    profile: "domain",
                    interfaces: &[],
                    netsh_profiles: None,
                    definitions: None,
                },
            )?;
            let audit = rdsports_audit::analyse(&r.ruleset, &plan, &r.scope);
            Some((r, audit))
        }
    };
    let report = match rdsports_lint::lint(&Input {
        text: &loaded.text,
        plan: &plan,
        checks: &checks,
        rules: rules.as_ref().map(|(r, audit)| rdsports_lint::RulesInput {
            name: &r.name,
            ruleset: &r.ruleset,
            audit,
        }),
    }) {
        Ok(r) => r,
        Err(diagnostics) => {
            input::print_diagnostics(&loaded, &diagnostics);
            eprintln!(
                "error: {}: the [lint] section is not valid; nothing was linted",
                loaded.name
            );
            return Ok(ExitStatus::BadInput);
        }
    };
    input::print_diagnostics(&loaded, &report.warnings);
    let fail_on = match args.fail_on {
        FailOn::Critical => Some(Severity::Critical),
        FailOn::High => Some(Severity::High),
        FailOn::Medium => Some(Severity::Medium),
        FailOn::Low => Some(Severity::Low),
        FailOn::Never => None,
    };
    // SARIF wants a URI: forward slashes, and the built-in example by its path in the repo.
    let file = match &args.input.file {
        None => "examples/perimeter.toml".to_owned(),
        Some(_) => loaded.name.clone(),
    };
    let uri = file.replace('\\', "/");
    let cx = render::Context {
        deployment: &deployment.name,
        file: &file,
        uri: &uri,
        fail_on,
        version: env!("CARGO_PKG_VERSION"),
    };
    let text = match args.format {
        LintFormat::Table => render::table(&report, &cx),
        LintFormat::Json => render::json(&report, &cx),
        LintFormat::Sarif => render::sarif(&report, &cx),
        LintFormat::Markdown => render::markdown(&report, &cx),
    };
    input::print(&text)?;
    if args.format != LintFormat::Table {
        eprintln!("{}", render::summary_line(&report, &cx));
    }
    Ok(if report.fails(fail_on) {
        ExitStatus::Findings
    } else {
        ExitStatus::Ok
    })
}
