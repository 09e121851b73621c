//! Reading check results: one file (`lint --check`, `report --check`), a folder of them
//! (`fleet summary`, `report --check-dir`), and the digest that ties results to the
//! deployment file they were made from.

use std::path::Path;

use anyhow::Context;
use rdsports_lint::CheckInput;
use rdsports_report::fleet::ResultFile;

use crate::input;

/// The most result files one folder may hold (a fleet of 100,000 hosts).
const MAX_RESULT_FILES: usize = 100_000;

/// `sha256:<hex>` of the deployment file's text: results record it, the summary compares it.
pub fn digest(text: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Reads every `*.json` of `dir`, in name order, each file capped as check results are.
/// `Ok(Err)`: the message for the user (printed whole), exit 2.
pub fn read_dir(dir: &Path) -> anyhow::Result<Result<Vec<ResultFile>, String>> {
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            && path.is_file()
        {
            paths.push(path);
            if paths.len() > MAX_RESULT_FILES {
                return Ok(Err(format!(
                    "error: {} holds more than {MAX_RESULT_FILES} result files\n",
                    dir.display()
                )));
            }
        }
    }
    paths.sort();
    let mut files = Vec::with_capacity(paths.len());
    for path in paths {
        let (name, bytes) =
            match input::read_capped(&path, input::MAX_RESULTS_BYTES, "check results file") {
                Ok(x) => x,
                Err(input::ReadError::TooLarge(message)) => return Ok(Err(message)),
                Err(input::ReadError::Io(e)) => return Err(e),
            };
        let Ok(text) = std::str::from_utf8(&bytes) else {
            return Ok(Err(format!(
                "error: {name} is not UTF-8 text: not a check result\n"
            )));
        };
        let document = match rdsports_schema::check::CheckDocument::parse(text) {
            Ok(d) => d,
            Err(e) => return Ok(Err(format!("error: {name}: {e}\n"))),
        };
        files.push(ResultFile {
            file: name,
            document,
        });
    }
    Ok(Ok(files))
}

/// Reads one check results file (at most [`input::MAX_RESULTS_BYTES`]). `Ok(Err)`: the
/// message for the user (printed whole, `error: ...` with its hint), exit 2.
pub fn read_results(path: &Path) -> anyhow::Result<Result<CheckInput, String>> {
    let (name, bytes) =
        match input::read_capped(path, input::MAX_RESULTS_BYTES, "check results file") {
            Ok(x) => x,
            Err(input::ReadError::TooLarge(message)) => return Ok(Err(message)),
            Err(input::ReadError::Io(e)) => return Err(e),
        };
    let hint = "  = hint: pass the output of `rdsports check --format json`\n";
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => text,
        Err(e) => {
            return Ok(Err(format!(
                "error: {name}: not UTF-8 text (byte {})\n{hint}",
                e.valid_up_to()
            )));
        }
    };
    let read = rdsports_schema::check::CheckDocument::parse(text)
        .and_then(|document| CheckInput::new(name.clone(), document));
    match read {
        Ok(input) => Ok(Ok(input)),
        // Not JSON at all: the syntax error's place as file:line:column.
        Err(_) if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) => {
            Ok(Err(format!(
                "error: {name}:{}:{}: not JSON: {e}\n{hint}",
                e.line(),
                e.column()
            )))
        }
        Err(e) => Ok(Err(format!("error: {name}: {e}\n{hint}"))),
    }
}
