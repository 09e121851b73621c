//! `rdsports rules`: firewall rules for the planned flows, per platform.

use std::io::{BufWriter, Write as _};

use anyhow::Context;
use rdsports_policy::{Policy, RenderOptions};

use crate::ExitStatus;
use crate::cli::RulesArgs;
use crate::input;

pub fn run(args: &RulesArgs) -> anyhow::Result<ExitStatus> {
    // --target is one of these: clap checked it (cli::targets).
    let targets = rdsports_policy::targets();
    let Some((deployment, loaded)) = input::load(&args.input)? else {
        return Ok(ExitStatus::BadInput);
    };
    if let Some(h) = &args.host {
        input::host_index(&deployment, h, &loaded.name)?;
    }
    let boundary = match &args.boundary {
        None => None,
        Some(b) => {
            let (a, z) = input::zone_pair(&deployment, &loaded.name, b)?;
            Some((
                deployment.zones[a].name.clone(),
                deployment.zones[z].name.clone(),
            ))
        }
    };
    let catalog = input::catalog()?;
    let host = args.host.as_deref().and_then(|h| deployment.host_index(h));
    // Aggregated rules (the default) are built as the flows are planned, so the millions of
    // flows of a large farm are never held at once. Without aggregation every flow is a rule
    // of its own, built from the whole plan.
    let (plan, policy) = if args.no_aggregate {
        let Some(plan) = input::plan_for_rules(&catalog, &deployment, &args.input, host) else {
            return Ok(ExitStatus::BadInput);
        };
        (plan, None)
    } else {
        let mut planned = None;
        let policy = Policy::aggregated_from_flows(&catalog, &deployment, 0, |each| {
            planned =
                input::plan_for_rules_each(&catalog, &deployment, &args.input, host, &mut |f| {
                    each(&f);
                });
        });
        let Some(plan) = planned else {
            return Ok(ExitStatus::BadInput);
        };
        (plan, Some(policy))
    };
    let enforces = targets
        .iter()
        .any(|t| t.name == args.target && t.capabilities.default_drop);
    if args.allow_only && !enforces {
        eprintln!(
            "note: --allow-only changes nothing for {}: its rules only allow (the platform's \
             default action blocks the rest)",
            args.target
        );
    }
    if args.default_drop {
        eprintln!(
            "note: --default-drop is the default now (zone firewalls enforce the plan); \
             --allow-only turns it off"
        );
    }
    // `[firewall] keep` in the deployment file: kept where the output drops, with --keep.
    let file_keeps = match &deployment.firewall {
        Ok(firewall) => firewall.keep.clone(),
        Err(diagnostics) => {
            input::print_diagnostics(&loaded, diagnostics);
            return Ok(ExitStatus::BadInput);
        }
    };
    let mut keep = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut add = |k: rdsports_policy::Keep| {
        if seen.insert(k) {
            keep.push(k);
        }
    };
    if !file_keeps.is_empty() {
        let caps = rdsports_policy::generators::find(&args.target)
            .map(|g| g.capabilities())
            .ok();
        if caps.is_some_and(|c| c.keep) && !args.allow_only {
            file_keeps.into_iter().for_each(&mut add);
        } else {
            let why = if args.allow_only {
                "with --allow-only nothing is dropped to keep them from".to_owned()
            } else {
                format!("{} takes no keep entries (as with --keep)", args.target)
            };
            eprintln!(
                "note: [firewall] keep in {} is not applied: {why}",
                loaded.name
            );
        }
    }
    args.keep.iter().copied().for_each(add);
    let into = args.into.as_ref().and_then(|v| match v.as_slice() {
        [f, t, c] => Some((f.clone(), t.clone(), c.clone())),
        _ => None,
    });
    let opts = RenderOptions {
        host: args.host.clone(),
        boundary,
        outbound: args.outbound,
        default_drop: !args.allow_only,
        keep,
        merge: args.merge || into.is_some(),
        into,
        host_variant: args.host_variant,
        aggregate: !args.no_aggregate,
    };
    let rendered = match &policy {
        Some(policy) => rdsports_policy::render_policy(&args.target, policy, &opts),
        None => rdsports_policy::render(&args.target, &plan, &opts),
    };
    drop(policy);
    let rendered = match rendered {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitStatus::BadInput);
        }
    };
    // The deployment's own warnings were printed (with file:line:column) while loading it.
    for w in plan.warnings.iter().chain(&rendered.warnings) {
        eprintln!("warning: {w}");
    }
    let files = rendered.files.len();
    match &args.out {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            // "wrote" lines are buffered (flushed when the loop ends, or on an error).
            let mut err = BufWriter::new(std::io::stderr().lock());
            for (name, content) in rendered.files {
                let path = dir.join(&name);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("cannot create {}", parent.display()))?;
                }
                std::fs::write(&path, content)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                writeln!(err, "wrote {}", path.display())?;
            }
            err.flush()?;
        }
        None => {
            let json = rendered
                .files
                .iter()
                .filter(|(n, _)| n.ends_with(".json"))
                .count();
            if json > 1 {
                eprintln!(
                    "error: target {} makes {} JSON files; name a directory with --out (or one host with --host)",
                    args.target, json
                );
                return Ok(ExitStatus::BadInput);
            }
            let many = files > 1;
            let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            for (name, content) in &rendered.files {
                if many {
                    // The separator must be a comment in the file's own language.
                    let comment = if name.ends_with(".asa") {
                        "!"
                    } else if name.ends_with(".cmd") {
                        "rem"
                    } else {
                        "#"
                    };
                    writeln!(out, "{comment} ===== {name} =====")?;
                }
                out.write_all(content.as_bytes())?;
                if many && !content.ends_with('\n') {
                    out.write_all(b"\n")?;
                }
            }
            out.flush()?;
        }
    }
    eprintln!(
        "rules: {} before aggregation, {} after ({} file{})",
        rendered.rules_before,
        rendered.rules_after,
        files,
        if files == 1 { "" } else { "s" }
    );
    Ok(ExitStatus::Ok)
}
