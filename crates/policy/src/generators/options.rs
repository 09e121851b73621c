//! The options of one rendering ([`RenderOptions`], the `rules` command's flags) and what
//! they put into a rendered file's header.

pub use rdsports_core::keep::Keep;

/// Options of one rendering (the `rules` command's flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// Render only this host (host targets, and host variants of zone targets).
    pub host: Option<String>,
    /// Render only the boundary between these two zones (both directions).
    pub boundary: Option<(String, String)>,
    /// Also render what each host may open (outbound rules).
    pub outbound: bool,
    /// Enforce the plan: end with an explicit drop of everything the plan does not need (with
    /// counters and logging where the target has them). On by default; `false` is
    /// `--allow-only`, the allow rules alone for people who merge them into their own policy.
    pub default_drop: bool,
    /// Management access the plan does not contain, accepted before the drop (`--keep`).
    pub keep: Vec<Keep>,
    /// Merge into the firewall the admin already runs instead of replacing it (`--merge`,
    /// `--into`): nftables a regular chain in the admin's table, iptables user chains for
    /// `iptables-restore --noflush`, Cisco ASA a global access list.
    pub merge: bool,
    /// nftables: the admin's base chain to jump from, as (family, table, chain)
    /// (`--into inet filter forward`); `None` with `merge` is `inet filter forward` (or
    /// `input` for the host variant).
    pub into: Option<(String, String, String)>,
    /// Render a host firewall (input chain per host) instead of the zone firewall
    /// (nftables, iptables).
    pub host_variant: bool,
    /// Aggregate addresses and ports (on by default; off renders one rule per flow).
    pub aggregate: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            host: None,
            boundary: None,
            outbound: false,
            default_drop: true,
            keep: Vec::new(),
            merge: false,
            into: None,
            host_variant: false,
            aggregate: true,
        }
    }
}

impl RenderOptions {
    /// Whether the rendered file ends in its own drop: enforcing, and not merged (a merged
    /// chain returns to the admin's chain, whose rules and policy decide the rest).
    pub(crate) fn drops(&self) -> bool {
        self.default_drop && !self.merge
    }
}

/// What an enforcing zone or host firewall keeps, as comment lines (without the comment
/// mark): the `--keep` entries, or a reminder that none was given.
pub(crate) fn keep_lines(opts: &RenderOptions) -> Vec<String> {
    if opts.keep.is_empty() {
        return vec![
            "Keeps: nothing the plan does not need (no --keep: SSH or other management access \
             through this firewall is dropped too)."
                .to_owned(),
        ];
    }
    let list: Vec<String> = opts.keep.iter().map(ToString::to_string).collect();
    vec![format!(
        "Keeps (--keep and [firewall] keep, accepted before the drop): {}.",
        list.join(", ")
    )]
}
