//! Reading the files commands share (deployment files, rule exports, check results) and
//! printing their diagnostics.

pub mod results;
pub mod rules;
pub mod side;

use std::io::{IsTerminal, Read, Write};
use std::path::Path;

use anyhow::Context;
use rdsports_core::plan::{
    DEFAULT_MAX_DIAGRAM_ZONE_PAIRS, DEFAULT_MAX_FLOWS, DEFAULT_MAX_ZONE_PAIRS,
    MAX_ZONE_PAIRS_COUNTED, Scope, estimate, plan_each, plan_within,
};
use rdsports_core::{Catalog, Deployment, Diagnostic, Flow, Plan, Severity};

use crate::cli::{DeploymentInput, FormatArg};
use crate::error::UserError;

/// The built-in example deployment, planned when no file is given.
pub const EXAMPLE: &str = include_str!("../../examples/perimeter.toml");
/// Its name in messages.
pub const EXAMPLE_NAME: &str = "examples/perimeter.toml (built in)";

/// A deployment file read from disk (or the built-in example) with its text, for
/// diagnostics.
pub struct Loaded {
    /// What to call the file in messages.
    pub name: String,
    /// The file's text.
    pub text: String,
}

/// The largest deployment file read: 16 MiB, about 130,000 hosts (the 10,032-host
/// benchmark deployment is 1.2 MB). A larger file is refused with exit status 2.
pub const MAX_DEPLOYMENT_BYTES: u64 = 16 << 20;
/// The largest `check --format json` results file `report --check` reads: 64 MiB.
pub const MAX_RESULTS_BYTES: u64 = 64 << 20;
/// The largest firewall rule export read (for `audit`): 64 MiB.
pub const MAX_RULES_BYTES: u64 = 64 << 20;
/// The largest cmdlet export or collector document read (for `import`): 64 MiB, as
/// `rdsports_import::MAX_INPUT_BYTES`.
pub const MAX_IMPORT_BYTES: u64 = rdsports_import::MAX_INPUT_BYTES as u64;

/// Reads at most `limit` bytes of `path` (`-`: standard input) and refuses larger inputs,
/// without reading more than `limit + 1` bytes (so `/dev/zero` and endless pipes are refused
/// at once, with bounded memory). `what` names the kind of file in the message ("deployment
/// file", "check results"); a larger input is a [`UserError`] (exit 2).
pub fn read_capped(path: &Path, limit: u64, what: &str) -> anyhow::Result<(String, Vec<u8>)> {
    let (name, mut reader): (String, Box<dyn Read>) = if path == Path::new("-") {
        ("<stdin>".to_owned(), Box::new(std::io::stdin().lock()))
    } else {
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let name = path.display().to_string();
        // A regular file says its size: refuse before reading a byte.
        if let Ok(meta) = file.metadata()
            && meta.is_file()
            && meta.len() > limit
        {
            return Err(too_large(&name, what, limit, Some(meta.len())).into());
        }
        (name, Box::new(file))
    };
    let mut bytes = Vec::new();
    (&mut reader)
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {name}"))?;
    if bytes.len() as u64 > limit {
        return Err(too_large(&name, what, limit, None).into());
    }
    Ok((name, bytes))
}

/// The message for an input above its limit.
fn too_large(name: &str, what: &str, limit: u64, size: Option<u64>) -> UserError {
    let size = match size {
        Some(n) => format!("{} bytes", thousands(n)),
        None => format!("more than {} bytes", thousands(limit)),
    };
    let hint = if what.starts_with("deployment") {
        "is this the right file? 100,000 hosts take about 12 MiB; fold hosts with the same \
         roles into a population (address = \"198.51.100.0/24\")"
    } else if what.starts_with("rule set") {
        "is this the right file? Export one firewall (one table, one host's rules) at a time"
    } else {
        "is this the right file? Split the input, or give the results of one host per file"
    };
    UserError::new(format!(
        "{name}: the {what} is {size}; rdsports reads at most {} MiB",
        limit >> 20
    ))
    .hint(hint)
}

/// Reads a text file as [`read_capped`] does and decodes it as Windows tools save text
/// (UTF-8 with or without a byte order mark, UTF-16 with one: `rdsports_core::decode`);
/// undecodable bytes are an error at their line and column.
pub fn read_text(path: &Path, limit: u64, what: &str) -> anyhow::Result<(String, String)> {
    let (name, bytes) = read_capped(path, limit, what)?;
    match rdsports_core::decode(&bytes) {
        Ok(text) => Ok((name, text.into_owned())),
        Err(d) => Err(UserError::rendered(d.message.clone(), d.render(&name, "")).into()),
    }
}

/// The index of host `name` in `deployment` (read from `file`), or the error that lists
/// the hosts there are.
pub fn host_index(deployment: &Deployment, name: &str, file: &str) -> Result<usize, UserError> {
    deployment.host_index(name).ok_or_else(|| {
        let names: Vec<&str> = deployment.hosts.iter().map(|h| h.name.as_str()).collect();
        UserError::new(format!(
            "no host \"{name}\" in {file} (hosts: {})",
            names.join(", ")
        ))
    })
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    rdsports_core::diag::thousands(usize::try_from(n).unwrap_or(usize::MAX))
}

/// Reads the deployment file (or takes the built-in example); too large or not text is a
/// [`UserError`] (exit 2).
pub fn read(input: &DeploymentInput) -> anyhow::Result<Loaded> {
    let Some(path) = &input.file else {
        return Ok(Loaded {
            name: EXAMPLE_NAME.to_owned(),
            text: EXAMPLE.to_owned(),
        });
    };
    let (name, text) = read_text(path, MAX_DEPLOYMENT_BYTES, "deployment file")?;
    Ok(Loaded { name, text })
}

/// Reads and parses the deployment file (or the built-in example), printing its diagnostics
/// to stderr. `None`: the deployment has errors, printed; the command exits 2.
pub fn load(input: &DeploymentInput) -> anyhow::Result<Option<(Deployment, Loaded)>> {
    let loaded = read(input)?;
    Ok(deployment(&loaded).map(|d| (d, loaded)))
}

/// Parses the deployment, printing warnings (and errors) to stderr. `None`: errors were
/// printed, exit 2.
pub fn deployment(loaded: &Loaded) -> Option<Deployment> {
    match Deployment::parse(&loaded.text) {
        Ok(d) => {
            print_diagnostics(loaded, &d.warnings);
            Some(d)
        }
        Err(diagnostics) => {
            print_diagnostics(loaded, &diagnostics);
            let errors = diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .map(Diagnostic::count)
                .sum::<usize>();
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "error: {} has {} error{}; nothing was planned",
                loaded.name,
                thousands(errors as u64),
                if errors == 1 { "" } else { "s" }
            );
            None
        }
    }
}

/// Plans the deployment for `rules` and `report`: as [`plan`], and refuses a plan whose
/// flows join more than [`DEFAULT_MAX_ZONE_PAIRS`] zone pairs (each pair is a rule of its
/// own, about 5 KB: hosts in zones of their own make thousands of them).
pub fn plan_for_rules<'a>(
    catalog: &'a Catalog,
    deployment: &'a Deployment,
    input: &DeploymentInput,
    host: Option<usize>,
) -> Option<Plan<'a>> {
    plan_within_zone_pairs(
        catalog,
        deployment,
        input,
        host,
        DEFAULT_MAX_ZONE_PAIRS,
        "rule set",
        None,
    )
}

/// [`plan_for_rules`] handing each flow to `each` as it is built instead of keeping it (the
/// plan returned has no flows: see `rdsports_core::plan::plan_each`).
pub fn plan_for_rules_each<'a>(
    catalog: &'a Catalog,
    deployment: &'a Deployment,
    input: &DeploymentInput,
    host: Option<usize>,
    each: &mut dyn FnMut(Flow),
) -> Option<Plan<'a>> {
    plan_within_zone_pairs(
        catalog,
        deployment,
        input,
        host,
        DEFAULT_MAX_ZONE_PAIRS,
        "rule set",
        Some(each),
    )
}

/// Plans the deployment for `diagram` and `report` (which draws the diagram): refuses more
/// than [`DEFAULT_MAX_DIAGRAM_ZONE_PAIRS`] zone pairs (the layout grows much faster).
pub fn plan_for_diagram<'a>(
    catalog: &'a Catalog,
    deployment: &'a Deployment,
    input: &DeploymentInput,
) -> Option<Plan<'a>> {
    plan_within_zone_pairs(
        catalog,
        deployment,
        input,
        None,
        DEFAULT_MAX_DIAGRAM_ZONE_PAIRS,
        "drawn apart in the diagram",
        None,
    )
}

/// [`plan_for_diagram`] handing each flow to `each` as it is built instead of keeping it (the
/// plan returned has no flows: see `rdsports_core::plan::plan_each`).
pub fn plan_for_diagram_each<'a>(
    catalog: &'a Catalog,
    deployment: &'a Deployment,
    input: &DeploymentInput,
    each: &mut dyn FnMut(Flow),
) -> Option<Plan<'a>> {
    plan_within_zone_pairs(
        catalog,
        deployment,
        input,
        None,
        DEFAULT_MAX_DIAGRAM_ZONE_PAIRS,
        "drawn apart in the diagram",
        Some(each),
    )
}

/// [`plan`], refusing a plan whose flows join more than `max_pairs` zone pairs unless
/// `--max-flows` was raised above its default; with `stream`, each flow is handed to it
/// instead of kept.
fn plan_within_zone_pairs<'a>(
    catalog: &'a Catalog,
    deployment: &'a Deployment,
    input: &DeploymentInput,
    host: Option<usize>,
    max_pairs: u64,
    each: &str,
    stream: Option<&mut dyn FnMut(Flow)>,
) -> Option<Plan<'a>> {
    if host.is_none() && input.max_flows <= DEFAULT_MAX_FLOWS {
        let scope = Scope {
            host,
            max_flows: input.max_flows,
        };
        let pairs = estimate(catalog, deployment, scope).zone_pairs;
        if pairs > max_pairs {
            let name = input
                .file
                .as_ref()
                .map_or_else(|| EXAMPLE_NAME.to_owned(), |p| p.display().to_string());
            let zones = deployment.zones.len();
            eprintln!(
                "error: {name}: the flows join {}{} pairs of zones ({} zones), more than the \
                 limit of {}: every pair of zones is {each}\n  = hint: put hosts \
                 that share a firewall into one zone{}, or raise --max-flows above {} to lift \
                 this limit as well",
                thousands(pairs),
                if pairs >= MAX_ZONE_PAIRS_COUNTED {
                    "+"
                } else {
                    ""
                },
                thousands(zones as u64),
                thousands(max_pairs),
                if each.starts_with("a rule") {
                    ", make the rules of one host with --host NAME"
                } else {
                    ""
                },
                thousands(DEFAULT_MAX_FLOWS),
            );
            return None;
        }
    }
    plan_with(catalog, deployment, input, host, stream)
}

/// Plans the deployment within the `--max-flows` limit, for the flows from or to `host`
/// (all flows without). `None`: the plan is too large; the count, the entries that make it
/// large and what to do were printed, and the command exits 2.
pub fn plan<'a>(
    catalog: &'a Catalog,
    deployment: &'a Deployment,
    input: &DeploymentInput,
    host: Option<usize>,
) -> Option<Plan<'a>> {
    plan_with(catalog, deployment, input, host, None)
}

/// [`plan`]; with `stream`, each flow is handed to it instead of kept.
fn plan_with<'a>(
    catalog: &'a Catalog,
    deployment: &'a Deployment,
    input: &DeploymentInput,
    host: Option<usize>,
    stream: Option<&mut dyn FnMut(Flow)>,
) -> Option<Plan<'a>> {
    let scope = Scope {
        host,
        max_flows: input.max_flows,
    };
    let planned = match stream {
        None => plan_within(catalog, deployment, scope),
        Some(each) => plan_each(catalog, deployment, scope, each),
    };
    match planned {
        Ok(plan) => Some(plan),
        Err(too_large) => {
            let name = input
                .file
                .as_ref()
                .map_or_else(|| EXAMPLE_NAME.to_owned(), |p| p.display().to_string());
            let scoped = if host.is_none() {
                " plan one host with --host NAME,"
            } else {
                ""
            };
            eprintln!(
                "error: {name}: {too_large}\n  = hint: fold hosts with the same roles into a \
                 population (one [[host]] with address = \"198.51.100.0/24\"),{scoped} or \
                 raise the limit with --max-flows N (planning takes about 60 bytes per flow, \
                 rules about 100)"
            );
            None
        }
    }
}

/// Prints diagnostics to stderr in the compiler layout.
pub fn print_diagnostics(loaded: &Loaded, diagnostics: &[Diagnostic]) {
    let mut err = std::io::stderr().lock();
    for d in diagnostics {
        let _ = write!(err, "{}", d.render(&loaded.name, &loaded.text));
    }
}

/// The built-in catalog. Its tests guarantee it parses; if it ever did not, that is a bug
/// worth a clear message rather than a panic.
pub fn catalog() -> anyhow::Result<Catalog> {
    Catalog::builtin().map_err(|e| {
        let text: String = e
            .iter()
            .map(|d| d.render("rds.toml", rdsports_core::catalog::RDS_TOML))
            .collect();
        anyhow::anyhow!("the built-in catalog does not parse (a bug):\n{text}")
    })
}

/// The report crate's format for a CLI format.
pub fn format(f: FormatArg) -> rdsports_report::Format {
    match f {
        FormatArg::Table => rdsports_report::Format::Table,
        FormatArg::Json => rdsports_report::Format::Json,
        FormatArg::Csv => rdsports_report::Format::Csv,
        FormatArg::Markdown => rdsports_report::Format::Markdown,
    }
}

/// Width for tables: the terminal's, else $COLUMNS, else 100.
pub fn width() -> usize {
    if std::io::stdout().is_terminal()
        && let Some((w, _)) = terminal_size::terminal_size()
    {
        return usize::from(w.0).max(40);
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100)
        .max(40)
}

/// Writes `text` to stdout (a closed pipe surfaces as an io error the caller ignores).
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Parses `--boundary ZONE_A:ZONE_B` into zone indices. Zone names may hold ':' themselves:
/// the split whose two sides are zones wins.
pub fn zone_pair(
    deployment: &Deployment,
    file: &str,
    text: &str,
) -> Result<(usize, usize), UserError> {
    let zone = |z: &str| deployment.zones.iter().position(|x| x.name == z);
    let (a, z) = split_boundary(text, |z| zone(z).is_some())?;
    match (zone(a), zone(z)) {
        (Some(x), Some(y)) => Ok((x, y)),
        (None, _) | (_, None) => {
            let missing = if zone(a).is_none() { a } else { z };
            let names: Vec<&str> = deployment.zones.iter().map(|z| z.name.as_str()).collect();
            Err(UserError::new(format!(
                "no zone \"{missing}\" in {file} (zones: {})",
                names.join(", ")
            )))
        }
    }
}

/// Splits `--boundary ZONE_A:ZONE_B` at a ':'. Zone names may hold ':' themselves: the split
/// whose two sides are both zones (`is_zone`) wins, else the first.
pub fn split_boundary(
    text: &str,
    is_zone: impl Fn(&str) -> bool,
) -> Result<(&str, &str), UserError> {
    let mut splits = text
        .match_indices(':')
        .map(|(i, _)| (&text[..i], &text[i + 1..]));
    let first = splits.clone().next();
    splits
        .find(|(a, z)| is_zone(a) && is_zone(z))
        .or(first)
        .ok_or_else(|| {
            UserError::new("--boundary takes ZONE_A:ZONE_B, for example perimeter:internal")
        })
}

/// The deployment's warnings (as sentences) followed by the plan's.
pub fn plan_warnings(
    deployment: &rdsports_core::Deployment,
    plan: &rdsports_core::Plan<'_>,
) -> Vec<String> {
    deployment
        .warnings
        .iter()
        .map(|d| match d.line {
            Some(line) => format!("line {line}: {}", d.message),
            None => d.message.clone(),
        })
        .chain(plan.warnings.iter().cloned())
        .collect()
}

/// Writes `text` to `path`, or to standard output.
pub fn write_output(path: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match path {
        None => print(text),
        Some(p) => {
            std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?;
            eprintln!("wrote {}", p.display());
            Ok(())
        }
    }
}
