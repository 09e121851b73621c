//! `rdsports plan`: the flows a deployment needs.

use crate::ExitStatus;
use crate::cli::{FormatArg, PlanArgs};
use crate::input;

pub fn run(args: &PlanArgs) -> anyhow::Result<ExitStatus> {
    if args.input.file.is_none() && args.format == FormatArg::Table {
        eprintln!(
            "(no FILE given: planning the built-in example, {})",
            input::EXAMPLE_NAME
        );
    }
    let Some((deployment, loaded)) = input::load(&args.input)? else {
        return Ok(ExitStatus::BadInput);
    };
    let catalog = input::catalog()?;
    let host = match &args.host {
        None => None,
        Some(h) => Some(input::host_index(&deployment, h, &loaded.name)?),
    };
    let Some(plan) = input::plan(&catalog, &deployment, &args.input, host) else {
        return Ok(ExitStatus::BadInput);
    };
    let warnings = input::plan_warnings(&deployment, &plan);
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    rdsports_report::plan::write(
        &plan,
        &|f| host.is_none_or(|h| f.from == h || f.to == h),
        &warnings,
        input::format(args.format),
        input::width(),
        &mut out,
    )?;
    std::io::Write::flush(&mut out)?;
    drop(out);
    if args.format == FormatArg::Csv {
        // CSV has no place for warnings: the plan's go to stderr (the deployment's were
        // printed there, with file:line:column, while loading it).
        for w in &plan.warnings {
            eprintln!("warning: {w}");
        }
    }
    Ok(ExitStatus::Ok)
}
