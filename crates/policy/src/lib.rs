//! rdsports-policy: the planned flows of an RDS deployment as one neutral policy, and
//! generators that turn it into firewall rules an administrator can apply unchanged.
//!
//! * [`Policy`] ([`policy`]): allow rules between address sets, one per planned flow, with
//!   views per boundary and per host; [`Policy::aggregate`] ([`aggregate`]) merges them into
//!   fewer rules that allow exactly the same traffic and still name every catalog entry.
//! * [`generators`]: one generator per platform (Windows Firewall, nftables, iptables, Azure NSG,
//!   AWS security groups, Cisco ASA, Aerleon) behind the [`Generator`] trait, listed in one
//!   static registry ([`targets`]).
//!
//! ```no_run
//! # fn demo(plan: &rdsports_core::Plan<'_>) -> Result<(), rdsports_policy::GenError> {
//! let opts = rdsports_policy::RenderOptions::default();
//! let out = rdsports_policy::render("nftables", plan, &opts)?;
//! for (file, text) in &out.files {
//!     // write `text` to `file`
//! #   let _ = (file, text);
//! }
//! # Ok(()) }
//! ```
//!
//! The crate is pure: it reads no files and prints nothing. How to apply each target's output
//! is in docs/reference/platforms/<target>.md.
#![warn(missing_docs, clippy::print_stdout, clippy::print_stderr)]

pub mod aggregate;
pub mod error;
pub mod files;
pub mod generators;
pub mod host_scripts;
pub mod policy;

use rdsports_core::plan::Plan;

pub use error::GenError;
pub use generators::{Capabilities, FtpSupport, Generator, Keep, RenderOptions, Rendered, Scope};
pub use policy::{Context, EntryInfo, FlowCounts, Helper, Policy, Rule};

/// A target as `--help` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// Name on the command line (`nftables`).
    pub name: &'static str,
    /// One line describing what it renders.
    pub description: &'static str,
    /// What it can express.
    pub capabilities: Capabilities,
}

/// Every target, in registry order.
pub fn targets() -> Vec<Target> {
    generators::GENERATORS
        .iter()
        .map(|g| Target {
            name: g.name(),
            description: g.description(),
            capabilities: g.capabilities(),
        })
        .collect()
}

/// Renders `plan` for target `target` (see [`targets`]).
///
/// Warnings of the policy (flows left out) come first in [`Rendered::warnings`].
pub fn render(target: &str, plan: &Plan<'_>, opts: &RenderOptions) -> Result<Rendered, GenError> {
    // Check the target and options before the (for large plans, costly) policy is built.
    generators::check(generators::find(target)?, opts)?;
    let policy = if opts.aggregate {
        Policy::aggregated_from_plan(plan)
    } else {
        Policy::from_plan(plan)
    };
    render_policy(target, &policy, opts)
}

/// Renders a policy for `target`: a flow-level one (as [`Policy::from_plan`] builds it) or an
/// aggregated one ([`Policy::aggregated_from_plan`], which renders faster; with
/// `opts.aggregate == false` its rules stay aggregated). Rendering one prepared policy for
/// several targets saves building it each time.
pub fn render_policy(
    target: &str,
    policy: &Policy,
    opts: &RenderOptions,
) -> Result<Rendered, GenError> {
    let generator = generators::find(target)?;
    generators::check(generator, opts)?;
    let mut out = generator.render(policy, opts)?;
    let renamed = files::portable(&mut out.files, generator.name());
    out.warnings.extend(renamed);
    out.warnings
        .extend(generators::mode_warnings(generator, opts));
    // Policy warnings first; each warning once (per-host files repeat the same renames).
    let mut seen = std::collections::BTreeSet::new();
    out.warnings = policy
        .warnings
        .iter()
        .chain(out.warnings.iter())
        .filter(|w| seen.insert(w.as_str()))
        .cloned()
        .collect();
    Ok(out)
}
