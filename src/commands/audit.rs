//! `rdsports audit`: an exported rule set against the planned flows.

use rdsports_core::plan::plan;

use crate::ExitStatus;
use crate::cli::{AuditArgs, AuditFormat};
use crate::error::UserError;
use crate::input;

pub fn run(args: &AuditArgs) -> anyhow::Result<ExitStatus> {
    if args.windows_export_script {
        input::print(rdsports_audit::read::windows::EXPORT_SCRIPT)?;
        return Ok(ExitStatus::Ok);
    }
    let Some(path) = &args.rules else {
        return Err(UserError::new("name the exported rule set with --rules FILE").into());
    };
    let Some((deployment, loaded)) = input::load(&args.input)? else {
        return Ok(ExitStatus::BadInput);
    };
    let rules = input::rules::load_rules(
        &deployment,
        &loaded.name,
        path,
        args.input_format.as_deref(),
        args.host.as_ref(),
        args.boundary.as_ref(),
        &input::rules::ReaderFlags {
            profile: &args.profile,
            interfaces: &args.interface,
            netsh_profiles: args.netsh_profiles.as_deref(),
            definitions: args.definitions.as_deref(),
        },
    )?;
    let (ruleset, scope) = (rules.ruleset, rules.scope);
    let catalog = input::catalog()?;
    let plan = plan(&catalog, &deployment);
    let audit = rdsports_audit::analyse(&ruleset, &plan, &scope);
    let out = match args.format {
        AuditFormat::Table => rdsports_report::audit::text::table(&audit, audit_width()),
        AuditFormat::Json => rdsports_report::audit::text::json(&audit),
        AuditFormat::Junit => rdsports_report::audit::text::junit(&audit),
        AuditFormat::Markdown => rdsports_report::audit::text::markdown(&audit),
    };
    input::print(&out)?;
    Ok(match audit.exit_code(args.strict) {
        0 => ExitStatus::Ok,
        _ => ExitStatus::Findings,
    })
}

/// Width of the table: the terminal's, else $COLUMNS, else 80 (the audit reads in 80).
fn audit_width() -> usize {
    if std::env::var_os("COLUMNS").is_none()
        && !std::io::IsTerminal::is_terminal(&std::io::stdout())
    {
        return 80;
    }
    input::width()
}
