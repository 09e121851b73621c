//! Reading deployment files and printing their diagnostics.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;

use anyhow::Context;
use rdsports_core::{Catalog, Deployment, Diagnostic, Severity};

use crate::cli::{DeploymentInput, FormatArg};

/// The built-in example deployment, planned when no file is given.
pub const EXAMPLE: &str = include_str!("../examples/perimeter.toml");
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

/// Reads the deployment file (or takes the built-in example).
pub fn read(input: &DeploymentInput) -> anyhow::Result<Result<Loaded, String>> {
    let Some(path) = &input.file else {
        return Ok(Ok(Loaded {
            name: EXAMPLE_NAME.to_owned(),
            text: EXAMPLE.to_owned(),
        }));
    };
    let (name, bytes) = if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
        ("<stdin>".to_owned(), bytes)
    } else {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        (path.display().to_string(), bytes)
    };
    match rdsports_core::decode(&bytes) {
        Ok(text) => Ok(Ok(Loaded {
            name,
            text: text.to_owned(),
        })),
        Err(d) => Ok(Err(d.render(&name, ""))),
    }
}

/// Reads and parses the deployment file (or the built-in example), printing its diagnostics
/// to stderr. `None`: the input was bad and the reason is printed; the command exits 2.
pub fn load(input: &DeploymentInput) -> anyhow::Result<Option<(Deployment, Loaded)>> {
    let loaded = match read(input)? {
        Ok(l) => l,
        Err(message) => {
            eprint!("{message}");
            return Ok(None);
        }
    };
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
                .count();
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "error: {} has {errors} error{}; nothing was planned",
                loaded.name,
                if errors == 1 { "" } else { "s" }
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
