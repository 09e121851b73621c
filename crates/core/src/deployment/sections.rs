//! The sections of the deployment file that one command reads: `[firewall]` (`rdsports
//! rules`) and `[lint]` (`rdsports lint`), and the places of hosts and options that lint
//! points its findings at.
//!
//! They come from the same TOML document as the rest of the file (one parse). A problem in a
//! section does not make the deployment invalid: every other command ignores the section, as
//! it always has, and the command that reads it reports the problem.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned as TomlSpanned;
use toml::de::{DeTable, DeValue};

use super::raw::{RawFirewall, RawLint};
use crate::diag::{Diagnostic, Spanned};
use crate::keep::Keep;
use crate::tomlfile;

/// `[firewall]`: what an enforcing firewall keeps besides the planned flows.
///
/// ```toml
/// [firewall]
/// keep = ["198.51.100.7:22", "203.0.113.0/28:3389"]
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FirewallSection {
    /// The `keep` entries, in file order: the same entries as `rules --keep`, written once
    /// for every run of `rules`.
    pub keep: Vec<Keep>,
}

/// `[lint]`: the findings the deployment accepts, each with a reason.
///
/// ```toml
/// [[lint.accept]]
/// id = "smb-across-perimeter"
/// hosts = ["gw01"]
/// reason = "domain-joined gateway: Group Policy from the DCs (D05)"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LintSection {
    /// The `[[lint.accept]]` entries, in file order.
    pub accept: Vec<Accept>,
}

/// One `[[lint.accept]]` entry as written, with its places. Only the lint crate knows the
/// finding ids, so it checks the id, the reason and the host names (and points at them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accept {
    /// The finding id.
    pub id: Spanned<String>,
    /// The hosts the acceptance is limited to (all when absent).
    pub hosts: Option<Vec<Spanned<String>>>,
    /// Why the finding is accepted (lint requires one).
    pub reason: Option<Spanned<String>>,
}

/// Where parts of the deployment are written in its file, as byte ranges into the text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Places {
    /// Per host, in the order of [`Deployment::hosts`](super::Deployment::hosts): the value
    /// of its `name = ...`.
    pub hosts: Vec<Range<usize>>,
    /// Per key set in `[options]`: its value.
    pub options: BTreeMap<String, Range<usize>>,
    /// Per host, in the order of [`Deployment::hosts`](super::Deployment::hosts): per
    /// per-host setting written on it (`rdp_port`, `gateway_udp` ...), its value.
    pub host_settings: Vec<BTreeMap<String, Range<usize>>>,
}

/// How to write `[firewall]`.
const FIREWALL_HINT: &str = "[firewall] takes keep = [\"ADDRESS[/PREFIX][:PORT[-PORT][/tcp|/udp]]\", \
                             ...], for example keep = [\"198.51.100.7:22\"]";

/// How to write `[[lint.accept]]`.
const LINT_HINT: &str = "[[lint.accept]] takes id, hosts (optional) and reason, for example \
                         id = \"smb-across-perimeter\" hosts = [\"gw01\"] reason = \"...\"";

/// Reads `[firewall]` (none: no entries). A value that is not a table is ignored, as other
/// commands ignore the whole section. Errors (unknown keys, a `keep` that is not a list of
/// strings, entries that are not keeps) are not located yet.
pub(crate) fn firewall(
    value: Option<TomlSpanned<DeValue<'_>>>,
) -> Result<FirewallSection, Vec<Diagnostic>> {
    let Some(value) = value else {
        return Ok(FirewallSection::default());
    };
    let span = value.span();
    let DeValue::Table(table) = value.get_ref() else {
        return Ok(FirewallSection::default());
    };
    let unknown: Vec<Diagnostic> = table
        .keys()
        .map(|k| k.get_ref())
        .filter(|k| *k != "keep")
        .map(|key| {
            Diagnostic::error(
                format!("unknown key \"{key}\" in [firewall]"),
                Some(span.clone()),
            )
            .with_hint(FIREWALL_HINT)
        })
        .collect();
    if !unknown.is_empty() {
        return Err(unknown);
    }
    let raw: RawFirewall = tomlfile::deserialize_value(value).map_err(|e| {
        vec![
            Diagnostic::error(
                format!("[firewall] keep: {}", e.message()),
                e.span().or(Some(span)),
            )
            .with_hint(FIREWALL_HINT),
        ]
    })?;
    let mut keep = Vec::new();
    let mut errors = Vec::new();
    for entry in raw.keep {
        match entry.get_ref().parse::<Keep>() {
            Ok(k) => keep.push(k),
            Err(why) => errors.push(
                Diagnostic::error(format!("[firewall] keep {why}"), Some(entry.span()))
                    .with_hint(FIREWALL_HINT),
            ),
        }
    }
    if errors.is_empty() {
        Ok(FirewallSection { keep })
    } else {
        Err(errors)
    }
}

/// Reads `[lint]` (none: no acceptances). The error, serde's first, is not located yet.
pub(crate) fn lint(value: Option<TomlSpanned<DeValue<'_>>>) -> Result<LintSection, Diagnostic> {
    let Some(value) = value else {
        return Ok(LintSection::default());
    };
    let raw: RawLint = tomlfile::deserialize_value(value).map_err(|e| {
        Diagnostic::error(
            format!("cannot read the [lint] section: {}", e.message()),
            e.span(),
        )
        .with_hint(LINT_HINT)
    })?;
    let accept = raw
        .accept
        .into_iter()
        .map(|a| Accept {
            id: Spanned::from_toml(a.id),
            hosts: a
                .hosts
                .map(|hs| hs.into_iter().map(Spanned::from_toml).collect()),
            reason: a.reason.map(Spanned::from_toml),
        })
        .collect();
    Ok(LintSection { accept })
}

/// The places of the keys of `[options]` in a document (none when it has no such table).
pub(crate) fn option_places(document: &DeTable<'_>) -> BTreeMap<String, Range<usize>> {
    match document.get("options").map(TomlSpanned::get_ref) {
        Some(DeValue::Table(options)) => options
            .iter()
            .map(|(k, v)| (k.get_ref().to_string(), v.span()))
            .collect(),
        _ => BTreeMap::new(),
    }
}
