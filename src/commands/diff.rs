//! `rdsports diff OLD NEW`: what a change to the deployment changes on the firewalls.

use rdsports_diff::Narrow;

use crate::ExitStatus;
use crate::cli::DiffArgs;
use crate::error::UserError;
use crate::input::{self, side};

pub fn run(args: &DiffArgs) -> anyhow::Result<ExitStatus> {
    let catalog = input::catalog()?;
    let Some(old) = side::load(&catalog, &args.old, args.max_flows)? else {
        return Ok(ExitStatus::BadInput);
    };
    let Some(new) = side::load(&catalog, &args.new, args.max_flows)? else {
        return Ok(ExitStatus::BadInput);
    };
    let narrow = Narrow {
        host: args.host.clone(),
        boundary: match &args.boundary {
            None => None,
            Some(b) => Some(side::boundary(&old.side, &new.side, b)?),
        },
    };
    if let Some(problem) = narrow.check(&old.side, &new.side) {
        return Err(UserError::new(problem).into());
    }
    let doc = rdsports_diff::diff(&catalog, &old.side, &new.side, &narrow);
    let text = rdsports_report::diff::render(&doc, input::format(args.format), input::width());
    input::print(&text)?;
    Ok(if args.exit_code && rdsports_diff::has_changes(&doc) {
        ExitStatus::Findings
    } else {
        ExitStatus::Ok
    })
}
