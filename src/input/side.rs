//! One side of `diff` (and of `report --diff`): a deployment file, planned, or a saved
//! `plan --format json`.

use std::path::Path;

use rdsports_core::Catalog;
use rdsports_diff::Side;
use rdsports_schema::plan::{PLAN_SCHEMA_VERSION, PlanDocument};

use crate::cli::DeploymentInput;
use crate::error::UserError;
use crate::input::{self, Loaded, MAX_DEPLOYMENT_BYTES, MAX_RESULTS_BYTES};

/// A side read from a file.
pub struct LoadedSide {
    /// The side the diff compares.
    pub side: Side,
    /// The aggregated policy of a deployment file's plan, as `rules` builds it, when asked
    /// for (`None` for a saved plan: it has no deployment to build rules from).
    pub policy: Option<rdsports_policy::Policy>,
}

/// Reads `path` as a saved plan (its first non-blank character is `{`) or as a deployment
/// file, and plans the latter within `max_flows` (with `policy`, also its aggregated policy).
/// `Ok(None)`: errors were printed (exit 2).
pub fn load(
    catalog: &Catalog,
    path: &Path,
    max_flows: u64,
    policy: bool,
) -> anyhow::Result<Option<LoadedSide>> {
    // A saved plan of a large farm is larger than any deployment file.
    let (name, text) = input::read_text(path, MAX_RESULTS_BYTES, "deployment file or plan")?;
    if text.trim_start().starts_with('{') {
        let doc: PlanDocument<'_> = serde_json::from_str(&text).map_err(|e| {
            UserError::new(format!(
                "{name}:{}:{}: not a plan document: {e}",
                e.line(),
                e.column()
            ))
            .hint("give a deployment file (TOML) or the output of `rdsports plan --format json`")
        })?;
        if doc.schema_version != PLAN_SCHEMA_VERSION {
            return Err(UserError::new(format!(
                "{name}: plan schema_version {} is not one this rdsports reads ({})",
                doc.schema_version, PLAN_SCHEMA_VERSION
            ))
            .into());
        }
        let side = Side::of_document(&name, &doc).map_err(|e| {
            UserError::new(format!("{name}: {e}"))
                .hint("give the plan as `rdsports plan --format json` wrote it")
        })?;
        return Ok(Some(LoadedSide { side, policy: None }));
    }
    if text.len() as u64 > MAX_DEPLOYMENT_BYTES {
        return Err(UserError::new(format!(
            "{name}: the deployment file is {} bytes; rdsports reads at most {} MiB",
            input::thousands(text.len() as u64),
            MAX_DEPLOYMENT_BYTES >> 20
        ))
        .into());
    }
    let loaded = Loaded { name, text };
    let Some(deployment) = input::deployment(&loaded) else {
        return Ok(None);
    };
    let scope = DeploymentInput {
        file: Some(path.to_owned()),
        max_flows,
    };
    let Some(plan) = input::plan(catalog, &deployment, &scope, None) else {
        return Ok(None);
    };
    Ok(Some(LoadedSide {
        side: Side::of_plan(&loaded.name, &plan),
        policy: policy.then(|| rdsports_policy::Policy::aggregated_from_plan(&plan)),
    }))
}

/// Parses `--boundary ZONE_A:ZONE_B` against the zones of both sides (zone names may hold
/// ':': the split whose two sides are zones of either side wins).
pub fn boundary(old: &Side, new: &Side, text: &str) -> Result<(String, String), UserError> {
    let (a, z) = input::split_boundary(text, |z| old.has_zone(z) || new.has_zone(z))?;
    Ok((a.to_owned(), z.to_owned()))
}
