//! Firewall generators: the [`Generator`] trait, its capability contract and the static
//! registry of targets, with what the generators share in submodules: the options of a
//! rendering ([`RenderOptions`], `options`), the views they render (`view`), and naming and
//! text cleaning (`naming`).
//!
//! A generator turns a flow-level [`Policy`] into files an administrator can apply unchanged.
//! It picks its own views (cross-zone, one boundary, each host), aggregates them, and escapes
//! every name and description in one place per target. Before a generator runs, [`check`]
//! holds the [`RenderOptions`] against its [`Capabilities`], so an option a target cannot
//! honour is an error, never silently ignored. Generators do no I/O: they return strings.

pub mod aerleon;
pub mod aws_sg;
pub mod azure_nsg;
pub mod cisco_asa;
pub mod iptables;
pub mod netsh;
pub mod nftables;
pub mod windows;

mod naming;
mod options;
mod view;

use std::collections::BTreeSet;

use crate::error::GenError;
use crate::policy::Policy;

pub use options::{Keep, RenderOptions};

/// What a rendering produced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rendered {
    /// Files as (file name with the platform's extension, content), in a stable order.
    pub files: Vec<(String, String)>,
    /// Harmless limitations and renamed identifiers, for the user to read.
    pub warnings: Vec<String>,
    /// Rules before aggregation (one per flow in the rendered views).
    pub rules_before: usize,
    /// Rules after aggregation.
    pub rules_after: usize,
}

/// Where a target's rules are enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// On each host (Windows Firewall): one file per host, every flow of the host.
    Host,
    /// On a firewall between zones: cross-zone flows only; a host variant may exist.
    Zone,
    /// On a cloud platform's own filters (NSGs, security groups).
    Cloud,
    /// A neutral policy for another generator (Aerleon).
    Neutral,
}

/// How a target handles an FTP control channel whose data ports the server picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FtpSupport {
    /// The target follows the control channel itself (conntrack helper, `inspect ftp`).
    Helper,
    /// The target cannot follow it: a plan that needs it is an error unless
    /// `ftp_passive_range` is set.
    Unsupported,
}

/// What a target can express: checked before it renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Where its rules are enforced.
    pub scope: Scope,
    /// `--host` is meaningful.
    pub host: bool,
    /// `--boundary` is meaningful.
    pub boundary: bool,
    /// `--outbound` is meaningful.
    pub outbound: bool,
    /// The output enforces the plan (drops what it does not need); `--allow-only` is
    /// meaningful.
    pub default_drop: bool,
    /// `--keep` is meaningful.
    pub keep: bool,
    /// A merge form exists (`--merge`).
    pub merge: bool,
    /// A host variant exists.
    pub host_variant: bool,
    /// FTP data channels.
    pub ftp: FtpSupport,
}

/// A firewall generator.
pub trait Generator: Sync {
    /// Target name on the command line (`nftables`).
    fn name(&self) -> &'static str;
    /// One line for `--help`.
    fn description(&self) -> &'static str;
    /// What it can express.
    fn capabilities(&self) -> Capabilities;
    /// Renders a flow-level policy (as [`Policy::from_plan`] builds it).
    fn render(&self, policy: &Policy, opts: &RenderOptions) -> Result<Rendered, GenError>;
}

/// Every target, in the order `--help` lists them (the registry).
pub static GENERATORS: &[&dyn Generator] = &[
    &windows::Windows,
    &netsh::Netsh,
    &nftables::Nftables,
    &iptables::Iptables,
    &azure_nsg::AzureNsg,
    &aws_sg::AwsSg,
    &cisco_asa::CiscoAsa,
    &aerleon::Aerleon,
];

/// The generator called `name`.
pub fn find(name: &str) -> Result<&'static dyn Generator, GenError> {
    GENERATORS
        .iter()
        .copied()
        .find(|g| g.name() == name)
        .ok_or_else(|| GenError::UnknownTarget {
            name: name.to_owned(),
            known: GENERATORS
                .iter()
                .map(|g| g.name())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Holds `opts` against what `generator` can do: an option it cannot honour is an error.
pub fn check(generator: &dyn Generator, opts: &RenderOptions) -> Result<(), GenError> {
    let caps = generator.capabilities();
    let target = generator.name();
    let unsupported = |option: &'static str| GenError::UnsupportedOption { target, option };
    if opts.host.is_some() && !caps.host && !(opts.host_variant && caps.host_variant) {
        return Err(unsupported("--host"));
    }
    if opts.boundary.is_some() && !caps.boundary {
        return Err(unsupported("--boundary"));
    }
    if opts.boundary.is_some() && opts.host_variant {
        return Err(unsupported("--boundary with --host-variant"));
    }
    if opts.outbound && !caps.outbound {
        return Err(unsupported("--outbound"));
    }
    if !opts.keep.is_empty() && !caps.keep {
        return Err(unsupported("--keep"));
    }
    if (opts.merge || opts.into.is_some()) && !caps.merge {
        return Err(unsupported("--merge"));
    }
    if opts.into.is_some() && target != "nftables" {
        return Err(unsupported("--into (nftables only)"));
    }
    if !opts.keep.is_empty() && !opts.default_drop {
        return Err(unsupported(
            "--keep with --allow-only (nothing is dropped to keep it from)",
        ));
    }
    if opts.host_variant && !caps.host_variant {
        return Err(unsupported("--host-variant"));
    }
    Ok(())
}

/// What the enforcement mode means for this target, as warnings: `--allow-only` output
/// restricts nothing on its own; a merged chain enforces only through the admin's policy.
pub(crate) fn mode_warnings(generator: &dyn Generator, opts: &RenderOptions) -> Vec<String> {
    let caps = generator.capabilities();
    let target = generator.name();
    let mut w = Vec::new();
    if caps.default_drop && !opts.default_drop && !opts.merge {
        w.push(format!(
            "{target}: --allow-only: the output accepts the planned flows and drops nothing, so \
             on its own it restricts nothing; merge its rules into a policy that drops the rest"
        ));
    }
    if opts.merge && caps.merge {
        w.push(format!(
            "{target}: merge form: what it does not accept is left to your own rules and \
             policy (or default action), which must drop it for the plan to be enforced"
        ));
    }
    w
}

/// Errors when a rule needs an FTP helper the target does not have (intent would be lost).
pub(crate) fn require_no_ftp_helper(target: &'static str, policy: &Policy) -> Result<(), GenError> {
    let ids: BTreeSet<&str> = policy
        .rules
        .iter()
        .filter(|r| r.helper.is_some())
        .flat_map(|r| policy.ids(r))
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    Err(GenError::Unexpressible {
        target,
        ids: ids.into_iter().map(str::to_owned).collect(),
        reason: "the FTP data channel goes to ports the server picks and this target cannot \
                 follow the control channel; set `ftp_passive_range` in the deployment's \
                 [options] (and on the FTP server) so the data ports become a planned flow"
            .to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn enforcing_is_the_default_and_merge_needs_a_target_that_has_it() {
        let opts = RenderOptions::default();
        assert!(opts.default_drop && opts.drops());
        let merged = RenderOptions {
            merge: true,
            ..RenderOptions::default()
        };
        assert!(!merged.drops());
        assert!(check(find("nftables").unwrap(), &merged).is_ok());
        assert!(check(find("azure-nsg").unwrap(), &merged).is_err());
        let keep_allow = RenderOptions {
            default_drop: false,
            keep: vec!["198.51.100.7:22".parse().unwrap()],
            ..RenderOptions::default()
        };
        assert!(check(find("nftables").unwrap(), &keep_allow).is_err());
    }

    #[test]
    fn registry_names_are_unique_and_found() {
        let names: BTreeSet<_> = GENERATORS.iter().map(|g| g.name()).collect();
        assert_eq!(names.len(), GENERATORS.len());
        for g in GENERATORS {
            assert_eq!(find(g.name()).map(|f| f.name()).ok(), Some(g.name()));
        }
        assert!(matches!(find("pf"), Err(GenError::UnknownTarget { .. })));
    }

    #[test]
    fn options_a_target_cannot_honour_are_errors() {
        let g = find("azure-nsg").unwrap();
        let opts = RenderOptions {
            host_variant: true,
            ..RenderOptions::default()
        };
        assert!(matches!(
            check(g, &opts),
            Err(GenError::UnsupportedOption { .. })
        ));
        let g = find("windows").unwrap();
        let opts = RenderOptions {
            boundary: Some(("a".into(), "b".into())),
            ..RenderOptions::default()
        };
        assert!(matches!(
            check(g, &opts),
            Err(GenError::UnsupportedOption { .. })
        ));
    }
}
