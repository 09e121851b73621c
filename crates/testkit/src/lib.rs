//! rdsports-testkit: what the workspace's tests share. Dev-only (`publish = false`): it reads
//! and writes files, which the crates under test never do.
//!
//! [`golden`] is the one golden-file compare of the workspace. A golden file holds the exact
//! expected output, in the output's native format; the test renders and compares:
//!
//! * equal: the test passes (and a stale `<file>.actual` from an earlier failure is removed);
//! * different or missing: the output is written to `<file>.actual` beside the golden file and
//!   the test fails with a short, diff-like message (the first line that differs);
//! * `BLESS=1`: the golden file is rewritten with the output instead (its folder created when
//!   needed), except under `CI=true`, where the files are always compared.
//!
//! ```no_run
//! let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/out.txt");
//! rdsports_testkit::golden(&path, "what the code under test rendered\n");
//! ```
#![warn(missing_docs, clippy::print_stdout, clippy::print_stderr)]

use std::fs;
use std::path::{Path, PathBuf};

/// Characters of a differing line shown in a mismatch message (the whole output is in the
/// `.actual` file).
const SHOWN_CHARS: usize = 160;

/// Compares `actual` with the golden file at `path` and panics with a short diff-like message
/// when they differ (see the [crate] documentation, also for `BLESS=1`).
#[track_caller]
pub fn golden(path: impl AsRef<Path>, actual: &str) {
    if let Err(mismatch) = check(path, actual) {
        panic!("{mismatch}");
    }
}

/// [`golden`] without the panic: the mismatch message, for a test that compares many files
/// and reports every mismatch at once.
pub fn check(path: impl AsRef<Path>, actual: &str) -> Result<(), String> {
    compare(path.as_ref(), actual, bless())
}

/// Whether golden files are to be rewritten: `BLESS=1`, not under `CI=true`.
fn bless() -> bool {
    // `UPDATE_GOLDEN` (any value) is what the audit goldens used to take: kept, unadvertised,
    // so the habit still works.
    let asked = std::env::var("BLESS").is_ok_and(|v| v == "1")
        || std::env::var_os("UPDATE_GOLDEN").is_some();
    asked && std::env::var("CI").as_deref() != Ok("true")
}

/// Where the output goes when it does not match: `<file>.actual`.
fn actual_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".actual");
    PathBuf::from(name)
}

fn compare(path: &Path, actual: &str, bless: bool) -> Result<(), String> {
    let actual_path = actual_path(path);
    if bless {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        fs::write(path, actual).map_err(|e| format!("{}: {e}", path.display()))?;
        let _ = fs::remove_file(&actual_path);
        return Ok(());
    }
    let expected = fs::read_to_string(path);
    if expected.as_deref().is_ok_and(|e| e == actual) {
        let _ = fs::remove_file(&actual_path);
        return Ok(());
    }
    let written = match fs::write(&actual_path, actual) {
        Ok(()) => format!("the output is in {}", actual_path.display()),
        Err(e) => format!(
            "the output could not be written to {}: {e}",
            actual_path.display()
        ),
    };
    Err(match expected {
        Err(e) => format!(
            "{} cannot be read ({e}); {written}; BLESS=1 writes it",
            path.display()
        ),
        Ok(expected) => format!(
            "{} differs; {written}; BLESS=1 accepts it\n{}",
            path.display(),
            first_difference(&expected, actual)
        ),
    })
}

/// The first line where `expected` and `actual` differ, as `@@ line N @@` and a `-`/`+` pair
/// (a side that has ended is shown as `(end of file)`).
fn first_difference(expected: &str, actual: &str) -> String {
    let mut want = expected.split_inclusive('\n');
    let mut got = actual.split_inclusive('\n');
    let mut line = 1;
    loop {
        match (want.next(), got.next()) {
            (Some(w), Some(g)) if w == g => line += 1,
            (w, g) => {
                return format!("@@ line {line} @@\n-{}\n+{}", shown(w), shown(g));
            }
        }
    }
}

/// One line of a mismatch message: without its line end (`\r` and a missing final newline
/// are spelled out, since they can be the whole difference), cut to [`SHOWN_CHARS`].
fn shown(line: Option<&str>) -> String {
    let Some(line) = line else {
        return "(end of file)".to_owned();
    };
    let (text, end) = match line.strip_suffix('\n') {
        Some(text) => match text.strip_suffix('\r') {
            Some(text) => (text, "\\r"),
            None => (text, ""),
        },
        None => (line, "(no newline at end of file)"),
    };
    let mut out: String = text.chars().take(SHOWN_CHARS).collect();
    if text.chars().nth(SHOWN_CHARS).is_some() {
        out.push_str("...");
    }
    out + end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_equal_output_passes_and_removes_a_stale_actual() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        fs::write(&path, "one\ntwo\n").unwrap();
        fs::write(actual_path(&path), "old").unwrap();
        assert_eq!(compare(&path, "one\ntwo\n", false), Ok(()));
        assert!(!actual_path(&path).exists());
    }

    #[test]
    fn a_mismatch_writes_the_actual_file_and_names_the_first_differing_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        fs::write(&path, "one\ntwo\nthree\n").unwrap();
        let message = compare(&path, "one\nTWO\nthree\n", false).unwrap_err();
        assert!(message.starts_with(&format!("{} differs;", path.display())));
        assert!(message.ends_with("@@ line 2 @@\n-two\n+TWO"), "{message}");
        assert_eq!(
            fs::read_to_string(actual_path(&path)).unwrap(),
            "one\nTWO\nthree\n"
        );
        // The golden file is left alone.
        assert_eq!(fs::read_to_string(&path).unwrap(), "one\ntwo\nthree\n");
    }

    #[test]
    fn a_missing_golden_file_fails_and_bless_writes_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/dir/a.txt");
        let message = compare(&path, "x\n", false).unwrap_err();
        assert!(message.contains("cannot be read"), "{message}");
        assert!(message.contains("BLESS=1 writes it"), "{message}");
        assert!(!path.exists());
        assert_eq!(compare(&path, "x\n", true), Ok(()));
        assert_eq!(fs::read_to_string(&path).unwrap(), "x\n");
        assert!(!actual_path(&path).exists());
        assert_eq!(compare(&path, "x\n", false), Ok(()));
    }

    #[test]
    fn invisible_differences_are_spelled_out() {
        assert_eq!(
            first_difference("a\nb\n", "a\nb"),
            "@@ line 2 @@\n-b\n+b(no newline at end of file)"
        );
        assert_eq!(first_difference("a\n", "a\r\n"), "@@ line 1 @@\n-a\n+a\\r");
        assert_eq!(
            first_difference("a\n", "a\nb\n"),
            "@@ line 2 @@\n-(end of file)\n+b"
        );
        let long = "x".repeat(SHOWN_CHARS + 1);
        assert!(first_difference("", &long).ends_with(&format!(
            "+{}...(no newline at end of file)",
            "x".repeat(SHOWN_CHARS)
        )));
    }
}
