//! Firewall generators: the [`Generator`] trait, its capability contract, the static
//! registry of targets and what the generators share (views, naming, text cleaning).
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

use std::collections::{BTreeMap, BTreeSet, HashMap};

use rdsports_core::model::Role;

use crate::error::GenError;
use crate::policy::{Policy, Rule, Side};

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

pub use rdsports_core::keep::Keep;

/// Writes `text` as comment lines starting with `mark`, of at most about 92 characters; a
/// line that starts with two spaces (a command) stays whole.
pub(crate) fn wrap_comment(s: &mut String, mark: &str, text: &str) {
    use std::fmt::Write as _;
    if text.starts_with("  ") {
        let _ = writeln!(s, "{mark}{text}");
        return;
    }
    let mut line = String::from(mark);
    for word in text.split(' ') {
        if line.len() > mark.len() && line.len() + 1 + word.len() > 92 {
            let _ = writeln!(s, "{line}");
            line = String::from(mark);
        }
        line.push(' ');
        line.push_str(word);
    }
    let _ = writeln!(s, "{line}");
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

/// A view to render, with its rule counts.
pub(crate) struct View {
    /// Aggregated (or not, as asked) rules.
    pub policy: Policy,
    /// Rules before aggregation.
    pub before: usize,
}

impl View {
    /// A view of `view` (part of a flat or an aggregated policy) that the plan had `before`
    /// flows for, aggregated when the options ask for it (cheap when it already is).
    pub(crate) fn new(view: Policy, before: usize, opts: &RenderOptions) -> View {
        let policy = if opts.aggregate {
            view.aggregate()
        } else {
            view
        };
        View { policy, before }
    }
}

/// The zone-firewall view: one boundary (`--boundary`) or every cross-zone rule, with the
/// boundary it is for (`None` for the whole deployment).
pub(crate) fn zone_view(
    policy: &Policy,
    opts: &RenderOptions,
) -> Result<(View, Option<(usize, usize)>), GenError> {
    match &opts.boundary {
        None => {
            let before = policy.counts.zones(|a, b| a != b);
            Ok((View::new(policy.cross_zone(), before, opts), None))
        }
        Some((a, b)) => {
            let (za, zb) = boundary_zones(policy, a, b)?;
            let before = policy
                .counts
                .zones(|x, y| (x, y) == (za, zb) || (x, y) == (zb, za));
            Ok((
                View::new(policy.boundary(za, zb), before, opts),
                Some((za, zb)),
            ))
        }
    }
}

/// Resolves `--boundary A:B` to zone indices.
pub(crate) fn boundary_zones(
    policy: &Policy,
    a: &str,
    b: &str,
) -> Result<(usize, usize), GenError> {
    let zone = |n: &str| {
        policy.zone_index(n).ok_or_else(|| GenError::UnknownZone {
            name: n.to_owned(),
            known: policy
                .context
                .zones
                .iter()
                .map(|z| z.name.clone())
                .collect(),
        })
    };
    let (za, zb) = (zone(a)?, zone(b)?);
    if za == zb {
        return Err(GenError::SameZone { zone: a.to_owned() });
    }
    Ok((za, zb))
}

/// The hosts a host target renders: `--host`, or every single-address host that is not
/// only a client or the Clearinghouse (those are not machines the admin configures) and has
/// a rule to render.
pub(crate) fn host_targets(
    policy: &Policy,
    opts: &RenderOptions,
    has_rules: &dyn Fn(usize) -> bool,
) -> Result<Vec<usize>, GenError> {
    if let Some(name) = &opts.host {
        let h = policy
            .host_index(name)
            .ok_or_else(|| GenError::UnknownHost {
                name: name.to_owned(),
                known: policy
                    .context
                    .hosts
                    .iter()
                    .map(|h| h.name.clone())
                    .collect(),
            })?;
        return Ok(vec![h]);
    }
    Ok(policy
        .context
        .hosts
        .iter()
        .enumerate()
        .filter(|(i, h)| {
            h.is_single()
                && h.roles
                    .iter()
                    .any(|r| !matches!(r, Role::Client | Role::Clearinghouse))
                && has_rules(*i)
        })
        .map(|(i, _)| i)
        .collect())
}

/// One host's rules: what it must accept and (with `--outbound`) what it may open.
pub(crate) struct HostView {
    /// Host index.
    pub host: usize,
    /// Inbound rules (destination cut down to the host).
    pub inbound: View,
    /// Outbound rules, when asked for.
    pub outbound: Option<View>,
    /// Hosts with the same group have the same rules (the views differ only in the host
    /// itself): generators render the rules once per group.
    pub group: usize,
}

/// The per-host views of a host target (see [`host_targets`] for which hosts).
///
/// Hosts reached by the same rules with the same entries (all session hosts of a farm, say)
/// have the same view but for themselves: it is built and aggregated once and then moved to
/// each of them.
pub(crate) fn host_views(policy: &Policy, opts: &RenderOptions) -> Result<Vec<HostView>, GenError> {
    let n = policy.context.hosts.len();
    let sig_in = signatures(policy, Side::To, n);
    let sig_out = if opts.outbound {
        signatures(policy, Side::From, n)
    } else {
        vec![Vec::new(); n]
    };
    let has = |h: usize| {
        sig_in.get(h).is_some_and(|s| !s.is_empty())
            || sig_out.get(h).is_some_and(|s| !s.is_empty())
    };
    let hosts = host_targets(policy, opts, &has)?;
    let mut cache_in: BTreeMap<&Signature, (usize, Policy)> = BTreeMap::new();
    let mut cache_out: BTreeMap<&Signature, (usize, Policy)> = BTreeMap::new();
    let mut groups: BTreeMap<(&Signature, &Signature), usize> = BTreeMap::new();
    let empty = Vec::new();
    let mut out = Vec::with_capacity(hosts.len());
    for h in hosts {
        let before_in = policy.counts.into_host.get(h).copied().unwrap_or(0);
        let s_in = sig_in.get(h).unwrap_or(&empty);
        let inbound = view_of(policy, h, Side::To, s_in, &mut cache_in, opts);
        let outbound = opts.outbound.then(|| {
            let s_out = sig_out.get(h).unwrap_or(&empty);
            let before = policy.counts.out_of_host.get(h).copied().unwrap_or(0);
            View {
                policy: view_of(policy, h, Side::From, s_out, &mut cache_out, opts),
                before,
            }
        });
        let s_out = sig_out.get(h).unwrap_or(&empty);
        let next = groups.len();
        let group = *groups.entry((s_in, s_out)).or_insert(next);
        out.push(HostView {
            host: h,
            inbound: View {
                policy: inbound,
                before: before_in,
            },
            outbound,
            group,
        });
    }
    Ok(out)
}

/// The rules (by index) that reach a host on one side, with the host's own entries in each.
type Signature = Vec<(usize, Vec<usize>)>;

fn signatures(policy: &Policy, side: Side, n: usize) -> Vec<Signature> {
    let mut sig: Vec<Signature> = vec![Vec::new(); n];
    for (i, r) in policy.rules.iter().enumerate() {
        let (hosts, per) = match side {
            Side::From => (&r.from_hosts, &r.from_entries),
            Side::To => (&r.to_hosts, &r.to_entries),
        };
        for (j, &h) in hosts.iter().enumerate() {
            if let Some(s) = sig.get_mut(h) {
                s.push((i, per.get(j).cloned().unwrap_or_else(|| r.entries.clone())));
            }
        }
    }
    sig
}

/// Host `h`'s (aggregated) view on `side`, from the cache when a host with the same
/// signature was done before.
fn view_of<'s>(
    policy: &Policy,
    h: usize,
    side: Side,
    sig: &'s Signature,
    cache: &mut BTreeMap<&'s Signature, (usize, Policy)>,
    opts: &RenderOptions,
) -> Policy {
    if let Some((rep, view)) = cache.get(sig) {
        return view.moved(*rep, h, side);
    }
    let rules: Vec<Rule> = sig
        .iter()
        .filter_map(|(i, _)| {
            let r = policy.rules.get(*i)?;
            let hosts = if side == Side::From {
                &r.from_hosts
            } else {
                &r.to_hosts
            };
            let pos = hosts.iter().position(|&x| x == h)?;
            policy.cut(r, pos, side)
        })
        .collect();
    let view = policy.with_rules(rules);
    let view = if opts.aggregate {
        view.aggregate()
    } else {
        view
    };
    cache.insert(sig, (h, view.clone()));
    view
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

/// Turns names into identifiers of a restricted alphabet, unique within one rendering, and
/// says which names it had to change.
pub(crate) struct Namer {
    target: &'static str,
    what: &'static str,
    prefix: &'static str,
    allowed: fn(char) -> bool,
    max_len: usize,
    by_name: BTreeMap<String, String>,
    taken: BTreeSet<String>,
    /// Per cleaned-up stem, the last suffix number given: many names that clean up to the
    /// same identifier (CJK names become `n_____`) number on from there, in linear time.
    last_suffix: HashMap<String, usize>,
    warnings: Vec<String>,
    /// Renamed names beyond the ones warned about one by one.
    more_renamed: usize,
}

/// Renamed names warned about one by one; the rest are counted in one line.
const RENAMES_SHOWN: usize = 10;

impl Namer {
    /// A namer for `what` (`zone name`) in `target`; `allowed` must accept ASCII letters,
    /// digits and `_`; names start with a letter and hold at most `max_len` characters.
    pub(crate) fn new(
        target: &'static str,
        what: &'static str,
        allowed: fn(char) -> bool,
        max_len: usize,
    ) -> Namer {
        Namer {
            target,
            what,
            prefix: "",
            allowed,
            max_len: max_len.max(8),
            by_name: BTreeMap::new(),
            taken: BTreeSet::new(),
            last_suffix: HashMap::new(),
            warnings: Vec::new(),
            more_renamed: 0,
        }
    }

    /// Identifiers start with `prefix` (which must be allowed characters, starting with a
    /// letter): keeps them apart from the platform's keywords.
    pub(crate) fn with_prefix(mut self, prefix: &'static str) -> Namer {
        self.prefix = prefix;
        self
    }

    /// The identifier for `name` (the same one every time for the same name).
    pub(crate) fn name(&mut self, name: &str) -> String {
        if let Some(id) = self.by_name.get(name) {
            return id.clone();
        }
        let mut id: String = self.prefix.to_owned();
        id.extend(
            name.chars()
                .map(|c| if (self.allowed)(c) { c } else { '_' }),
        );
        if !id.starts_with(|c: char| c.is_ascii_alphabetic()) {
            id.insert_str(0, "n_");
        }
        truncate_chars(&mut id, self.max_len);
        // Unique: append _2, _3 ... (shortening the stem so the limit holds).
        let stem = id.clone();
        let mut n = self.last_suffix.get(&stem).copied().unwrap_or(1);
        if n > 1 {
            // Numbering goes on where it stopped for this stem.
            let suffix = format!("_{n}");
            let mut s = stem.clone();
            truncate_chars(&mut s, self.max_len.saturating_sub(suffix.len()));
            id = s + &suffix;
        }
        while self.taken.contains(&id) {
            n += 1;
            let suffix = format!("_{n}");
            let mut s = stem.clone();
            truncate_chars(&mut s, self.max_len.saturating_sub(suffix.len()));
            id = s + &suffix;
        }
        if n > 1 {
            self.last_suffix.insert(stem, n);
        }
        if id.strip_prefix(self.prefix) != Some(name) && self.warnings.len() >= RENAMES_SHOWN {
            self.more_renamed += 1;
        } else if id.strip_prefix(self.prefix) != Some(name) {
            self.warnings.push(format!(
                "{}: {} {:?} is written `{}` (allowed: letters, digits and a few marks, \
                 starting with a letter, at most {} characters, unique)",
                self.target, self.what, name, id, self.max_len
            ));
        }
        self.taken.insert(id.clone());
        self.by_name.insert(name.to_owned(), id.clone());
        id
    }

    /// The warnings about renamed names: the first few one by one, then how many more.
    pub(crate) fn into_warnings(mut self) -> Vec<String> {
        if self.more_renamed > 0 {
            self.warnings.push(format!(
                "{}: and {} more names renamed the same way ({})",
                self.target, self.more_renamed, self.what
            ));
        }
        self.warnings
    }
}

/// `[A-Za-z0-9_-]`: identifiers of nft, ASA and Aerleon, and file names.
pub(crate) fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Cuts `s` to at most `max` characters.
pub(crate) fn truncate_chars(s: &mut String, max: usize) {
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
    }
}

/// Text for a comment or description that must stay on one line: every control character and
/// Unicode line or paragraph separator becomes a space.
pub(crate) fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Text restricted to `allowed` characters (others become `_`), cut to `max` characters.
pub(crate) fn restricted(s: &str, allowed: fn(char) -> bool, max: usize) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if allowed(c) { c } else { '_' })
        .collect();
    truncate_chars(&mut out, max);
    out
}

/// Printable ASCII without quotes, backslash and the characters shells and config languages
/// treat specially: what goes inside quoted comments of nft, iptables and ASA.
pub(crate) fn plain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " _-.,;:/()+=@[]".contains(c)
}

/// Which hosts a rule joins, for a comment: `A -> B` on a zone firewall, only the other
/// side in a host's own file (`from A`, `to B`), whose rules are shared by hosts alike.
pub(crate) fn peers(policy: &Policy, rule: &crate::policy::Rule, show: Show) -> String {
    let list = |hosts: &[usize]| one_line(&windows::host_list(policy, hosts));
    match show {
        Show::Both => format!("{} -> {}", list(&rule.from_hosts), list(&rule.to_hosts)),
        Show::Sources => format!("from {}", list(&rule.from_hosts)),
        Show::Destinations => format!("to {}", list(&rule.to_hosts)),
    }
}

/// Which side of a rule a comment names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Show {
    Both,
    Sources,
    Destinations,
}

/// JSON text of `v`, pretty-printed, ending in a newline. U+2028 and U+2029 (valid in JSON
/// strings, but line breaks to JavaScript and some editors) are written as escapes; serde_json
/// already escapes every control character.
pub(crate) fn json_text(v: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(v)
        .unwrap_or_default()
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029");
    text.push('\n');
    text
}

/// The catalog ids and purposes of a rule as one line: `S12 A08: purpose; purpose`.
pub(crate) fn trace(policy: &Policy, rule: &crate::policy::Rule) -> String {
    format!(
        "{}: {}",
        policy.ids(rule).join(" "),
        policy.purposes(rule).join("; ")
    )
}

#[cfg(test)]
mod tests {
    use ipnet::IpNet;
    use rdsports_core::model::{PortRange, Protocol};

    use super::*;

    #[test]
    fn namer_restricts_uniques_and_warns() {
        let mut n = Namer::new("t", "zone name", ident_char, 16);
        assert_eq!(n.name("internal"), "internal");
        assert_eq!(n.name("dmz 1"), "dmz_1");
        assert_eq!(n.name("dmz;1"), "dmz_1_2");
        assert_eq!(n.name("dmz 1"), "dmz_1");
        assert_eq!(n.name("1st"), "n_1st");
        assert_eq!(n.name(""), "n_");
        assert_eq!(n.name("ä\"$(x)"), "n_____x_");
        assert_eq!(n.name("abcdefghijklmnopqrstuvwxyz"), "abcdefghijklmnop");
        assert_eq!(n.name("abcdefghijklmnopQ"), "abcdefghijklmn_2");
        let w = n.into_warnings();
        assert_eq!(w.len(), 7, "{w:#?}");
        assert!(w[0].contains("\"dmz 1\" is written `dmz_1`"));
    }

    /// Thousands of names that clean up to the same identifier: distinct identifiers, the
    /// same ones as numbering from 2 each time would give, and a bounded list of warnings.
    #[test]
    fn namer_is_linear_and_caps_its_warnings() {
        let mut n = Namer::new("t", "host name", ident_char, 12);
        let names: Vec<String> = (0..20_000)
            .map(|i| {
                char::from_u32(0x4E00 + i)
                    .map(|c| c.to_string().repeat(3))
                    .unwrap()
            })
            .collect();
        let ids: Vec<String> = names.iter().map(|x| n.name(x)).collect();
        assert_eq!(ids[0], "n____");
        assert_eq!(ids[1], "n_____2");
        assert_eq!(ids[19_999], "n_____20000");
        let unique: BTreeSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        assert!(ids.iter().all(|i| i.chars().count() <= 12));
        // A name that is its own identifier, taken later by numbering, still gets a new one.
        let mut m = Namer::new("t", "zone name", ident_char, 16);
        assert_eq!(m.name("a b"), "a_b");
        assert_eq!(m.name("a_b_2"), "a_b_2");
        assert_eq!(m.name("a;b"), "a_b_3");
        assert_eq!(m.name("a:b"), "a_b_4");
        let w = n.into_warnings();
        assert_eq!(w.len(), RENAMES_SHOWN + 1);
        assert!(
            w[RENAMES_SHOWN].contains("and 19990 more names renamed the same way (host name)"),
            "{w:?}"
        );
    }

    #[test]
    fn keep_entries_parse_and_print() {
        let k = |s: &str| s.parse::<Keep>();
        let ssh = k("198.51.100.7:22").unwrap();
        assert_eq!(ssh.source, "198.51.100.7/32".parse::<IpNet>().unwrap());
        assert_eq!(
            ssh.ports,
            Some((Protocol::Tcp, PortRange::single(22).unwrap()))
        );
        assert_eq!(ssh.to_string(), "198.51.100.7:22/tcp");
        let net = k("198.51.100.9/24").unwrap();
        assert_eq!(net.source.to_string(), "198.51.100.0/24");
        assert_eq!(net.ports, None);
        assert_eq!(net.to_string(), "198.51.100.0/24");
        assert_eq!(
            k("[2001:db8::7]:8000-8010/udp").unwrap().to_string(),
            "[2001:db8::7]:8000-8010/udp"
        );
        assert_eq!(k("2001:db8::7").unwrap().to_string(), "2001:db8::7");
        assert_eq!(k("[2001:db8::/64]").unwrap().to_string(), "2001:db8::/64");
        for bad in [
            "",
            "host:22",
            "198.51.100.7:0",
            "198.51.100.7:22/icmp",
            "[::1",
            "[::1]22",
        ] {
            assert!(
                k(bad).is_err_and(|e| e.contains("expected ADDRESS")),
                "{bad:?}"
            );
        }
    }

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
    fn one_line_removes_line_breaks() {
        assert_eq!(one_line("a\nb\r\u{2028}c\u{85}\td"), "a b  c  d");
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
