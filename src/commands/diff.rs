//! `rdsports diff OLD NEW`: what a change to the deployment changes on the firewalls.

use rdsports_diff::Narrow;
use rdsports_policy::RenderOptions;

use crate::ExitStatus;
use crate::cli::DiffArgs;
use crate::error::UserError;
use crate::input::{self, side};

pub fn run(args: &DiffArgs) -> anyhow::Result<ExitStatus> {
    let catalog = input::catalog()?;
    let rules = args.target.is_some();
    let Some(old) = side::load(&catalog, &args.old, args.max_flows, rules)? else {
        return Ok(ExitStatus::BadInput);
    };
    let Some(new) = side::load(&catalog, &args.new, args.max_flows, rules)? else {
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
    let mut doc = rdsports_diff::diff(&catalog, &old.side, &new.side, &narrow);
    if let Some(target) = &args.target {
        let (Some(a), Some(b)) = (&old.policy, &new.policy) else {
            let saved = if old.policy.is_none() {
                &old.side.info.label
            } else {
                &new.side.info.label
            };
            return Err(UserError::new(format!(
                "{saved}: --target needs the deployment file on both sides; a saved plan has \
                 no rules to compare"
            ))
            .hint("give the deployment file the plan was made from, or leave out --target")
            .into());
        };
        // The rules as `rules --target` writes them, without the final drop: the blocks are
        // rules to remove and add, not a policy of their own.
        let opts = RenderOptions {
            host: args.host.clone(),
            boundary: narrow.boundary.clone(),
            outbound: args.outbound,
            default_drop: false,
            keep: Vec::new(),
            merge: false,
            into: None,
            host_variant: args.host_variant,
            aggregate: true,
        };
        let delta = rdsports_diff::rules::rule_delta(a, b);
        let changes = rdsports_diff::rules::render_changes(target, &delta, &opts)
            .map_err(|e| UserError::new(e.to_string()))?;
        doc.rules = Some(changes);
    }
    let text = rdsports_report::diff::render(&doc, input::format(args.format), input::width());
    input::print(&text)?;
    Ok(if args.exit_code && rdsports_diff::has_changes(&doc) {
        ExitStatus::Findings
    } else {
        ExitStatus::Ok
    })
}
