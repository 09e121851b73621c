//! Reading check results: one file (`lint --check`, `report --check`), a folder of them
//! (`fleet summary`, `report --check-dir`), and the digest that ties results to the
//! deployment file they were made from.

use std::path::Path;

use anyhow::Context;
use rdsports_lint::CheckInput;
use rdsports_report::fleet::{FileFacts, ResultFile};
use rdsports_schema::check::{CheckDocument, UdpSilence};

use crate::error::UserError;
use crate::input;

/// The most result files one folder may hold (a fleet of 100,000 hosts).
const MAX_RESULT_FILES: usize = 100_000;

/// `sha256:<hex>` of the deployment file's text: results record it, the summary compares it.
pub fn digest(text: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// What to do with a file that is not check results.
const HINT: &str = "pass the output of `rdsports check --format json`";

/// Reads one check results file (at most [`input::MAX_RESULTS_BYTES`]; UTF-8 or UTF-16 with
/// a byte order mark, as PowerShell 5.1's `>` writes it) with the one reader every command
/// uses (`CheckDocument::parse`). Not JSON at all: an error at the file's line and column.
pub fn read_check(path: &Path) -> anyhow::Result<(String, CheckDocument)> {
    let (name, text) = input::read_text(path, input::MAX_RESULTS_BYTES, "check results file")?;
    match CheckDocument::parse(&text) {
        Ok(document) => Ok((name, document)),
        Err(_) if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&text) => Err(
            UserError::new(format!("{name}:{}:{}: not JSON: {e}", e.line(), e.column()))
                .hint(HINT)
                .into(),
        ),
        Err(e) => Err(UserError::new(format!("{name}: {e}")).hint(HINT).into()),
    }
}

/// Refuses check results made from another deployment file than the one whose digest is
/// `digest` (results without a digest, written by hand or by an older rdsports, are read).
pub fn same_deployment(name: &str, document: &CheckDocument, digest: &str) -> anyhow::Result<()> {
    match document.run.deployment_digest.as_deref() {
        Some(theirs) if theirs != digest => Err(UserError::new(format!(
            "{name}: the check results were made from another deployment file (digest \
             {theirs}, this one is {digest})"
        ))
        .hint("run check again with this deployment file, or give its results")
        .into()),
        _ => Ok(()),
    }
}

/// The `*.json` entries of `dir`, in name order; one that is not a regular file is an
/// unreadable input.
fn result_paths(dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            // A dangling link, a folder, a FIFO or a device named *.json is not a result
            // that went missing: it is an input that cannot be read.
            if !path.is_file() {
                return Err(UserError::new(format!(
                    "{}: not a regular file (a folder, a dangling link, a pipe or a device)",
                    path.display()
                ))
                .hint("give the folder the fleet engine fetched the results into")
                .into());
            }
            paths.push(path);
            if paths.len() > MAX_RESULT_FILES {
                return Err(UserError::new(format!(
                    "{} holds more than {MAX_RESULT_FILES} result files",
                    dir.display()
                ))
                .into());
            }
        }
    }
    paths.sort();
    Ok(paths)
}

/// Reads every `*.json` of `dir`, in name order, each as [`read_check`] does, keeping every
/// document (`report --check-dir` shows them all).
pub fn read_dir(dir: &Path) -> anyhow::Result<Vec<ResultFile>> {
    let mut files = Vec::new();
    for path in result_paths(dir)? {
        let (file, document) = read_check(&path)?;
        files.push(ResultFile { file, document });
    }
    Ok(files)
}

/// What `fleet summary` keeps of every `*.json` of `dir`: each file is read, summarised and
/// dropped before the next, so memory holds one document at a time.
pub fn facts_of_dir(dir: &Path, udp: UdpSilence) -> anyhow::Result<Vec<FileFacts>> {
    let mut facts = Vec::new();
    for path in result_paths(dir)? {
        let (file, document) = read_check(&path)?;
        facts.push(FileFacts::of(file, &document, udp));
    }
    Ok(facts)
}

/// Reads one check results file for `lint --check`: [`read_check`], with the protocol facts
/// of every result read typed.
pub fn read_results(path: &Path) -> anyhow::Result<CheckInput> {
    let (name, document) = read_check(path)?;
    CheckInput::new(name.clone(), document)
        .map_err(|e| UserError::new(format!("{name}: {e}")).hint(HINT).into())
}
