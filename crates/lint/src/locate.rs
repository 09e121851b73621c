//! Where things are in the deployment file: the lines a finding points at (SARIF regions,
//! table "at file:line") and the `[[lint.accept]]` entries with their places.
//!
//! The core parser has already accepted the file; this reads it again, leniently, only for
//! spans (as `report --check` does for results).

use std::collections::BTreeMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

/// The spans lint needs, by name.
#[derive(Debug, Default)]
pub struct Places {
    /// `[options]` table.
    pub options: Option<Range<usize>>,
    /// Option key -> span of its value.
    pub option: BTreeMap<String, Range<usize>>,
    /// Host name -> span of its `name = ...` value.
    pub host: BTreeMap<String, Range<usize>>,
    /// The `[[lint.accept]]` entries as written.
    pub accepts: Vec<RawAccept>,
}

/// One `[[lint.accept]]` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccept {
    /// The finding id.
    pub id: Spanned<String>,
    /// Hosts the acceptance is limited to (all when absent).
    #[serde(default)]
    pub hosts: Option<Vec<Spanned<String>>>,
    /// Why the finding is accepted (required).
    #[serde(default)]
    pub reason: Option<Spanned<String>>,
}

#[derive(Deserialize)]
struct View {
    #[serde(default)]
    options: Option<Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
    #[serde(default)]
    host: Vec<HostView>,
    #[serde(default)]
    lint: Option<LintView>,
}

#[derive(Deserialize)]
struct HostView {
    name: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LintView {
    #[serde(default)]
    accept: Vec<RawAccept>,
}

/// Reads the places of `text`. An error is a `[lint]` section lint cannot read (an unknown
/// key, a wrong type): message and span.
pub fn places(text: &str) -> Result<Places, (String, Option<Range<usize>>)> {
    let view: View = toml::from_str(text).map_err(|e| (e.message().to_owned(), e.span()))?;
    let mut places = Places::default();
    if let Some(options) = view.options {
        places.options = Some(options.span());
        for (k, v) in options.into_inner() {
            places.option.insert(k, v.span());
        }
    }
    for h in view.host {
        let span = h.name.span();
        places.host.entry(h.name.into_inner()).or_insert(span);
    }
    if let Some(lint) = view.lint {
        places.accepts = lint.accept;
    }
    Ok(places)
}
