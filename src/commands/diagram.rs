//! `rdsports diagram`: the plan as a picture (SVG, Graphviz dot, Mermaid).

use std::str::FromStr;

use rdsports_report::diagram::{self, DiagramFormat};

use crate::ExitStatus;
use crate::cli::DiagramArgs;
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
    input::write_output(args.output.as_deref(), &diagram::render(&plan, format))?;
    Ok(ExitStatus::Ok)
}
