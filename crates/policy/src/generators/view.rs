//! The views a generator renders: the cross-zone rules or one boundary of a zone firewall,
//! and the per-host views of a host firewall, grouped so that hosts with the same rules are
//! built (and rendered) once.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use rdsports_core::model::Role;

use super::{RenderOptions, Rendered};
use crate::error::GenError;
use crate::policy::{Policy, Rule, Side};

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
fn host_views(policy: &Policy, opts: &RenderOptions) -> Result<Vec<HostView>, GenError> {
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

/// Renders a host target's files: for each host of [`host_views`], in order, `shared` builds
/// what the hosts of its group have in common (once per group; it may add warnings), then
/// `each` renders the host's own files from it into `out`. Adds every host's rule counts to
/// `out`.
pub(crate) fn for_each_host_group<S>(
    policy: &Policy,
    opts: &RenderOptions,
    out: &mut Rendered,
    mut shared: impl FnMut(&HostView, &mut Vec<String>) -> Result<S, GenError>,
    mut each: impl FnMut(&HostView, &S, &mut Rendered) -> Result<(), GenError>,
) -> Result<(), GenError> {
    let mut groups: HashMap<usize, S> = HashMap::new();
    for hv in host_views(policy, opts)? {
        out.rules_before += hv.inbound.before + hv.outbound.as_ref().map_or(0, |o| o.before);
        out.rules_after += hv.inbound.policy.rules.len()
            + hv.outbound.as_ref().map_or(0, |o| o.policy.rules.len());
        let common = match groups.entry(hv.group) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(shared(&hv, &mut out.warnings)?),
        };
        each(&hv, common, out)?;
    }
    Ok(())
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
