//! Shared helpers of the integration tests: the example deployments, their plans, and the
//! Python tools the validation tests run.
#![allow(
    dead_code,
    reason = "each test binary that mounts this module uses a different part of it"
)]

use std::path::{Path, PathBuf};

use rdsports_core::{Catalog, Deployment, Plan};
use rdsports_policy::Policy;

pub mod powershell;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Names of the example deployments (`examples/*.toml` without the extension), sorted.
pub fn examples() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(workspace().join("examples"))
        .expect("examples/ exists")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    out.sort();
    out
}

/// The builtin catalog, leaked so that plans can borrow it for the whole test.
pub fn catalog() -> &'static Catalog {
    Box::leak(Box::new(
        Catalog::builtin().expect("the builtin catalog parses"),
    ))
}

/// The deployment of example `name`, leaked.
pub fn deployment(name: &str) -> &'static Deployment {
    let path = workspace().join("examples").join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&path).expect("example readable");
    Box::leak(Box::new(
        Deployment::parse(&text).unwrap_or_else(|d| panic!("{name}.toml does not parse: {d:?}")),
    ))
}

/// The plan of example `name`.
pub fn plan(name: &str) -> Plan<'static> {
    rdsports_core::plan::plan(catalog(), deployment(name))
}

/// The flow-level policy of example `name`.
pub fn policy(name: &str) -> Policy {
    Policy::from_plan(&plan(name))
}

/// A Python tool from the test venv (`$RDSPORTS_PYTOOLS/bin/NAME`, default
/// `<workspace>/target/pytools`) or from PATH. `None` when neither has it: the caller skips,
/// unless `CI=true`, where a missing tool fails the test.
pub fn tool(name: &str) -> Option<PathBuf> {
    let venv = std::env::var_os("RDSPORTS_PYTOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/pytools"));
    // A venv's entry points: bin/NAME on Unix, Scripts\NAME.exe on Windows (a Linux venv
    // seen from a Windows test under Wine has none: the tool is missing there).
    #[cfg(unix)]
    let candidate = venv.join("bin").join(name);
    #[cfg(not(unix))]
    let candidate = venv.join("Scripts").join(format!("{name}.exe"));
    if candidate.is_file() {
        return Some(candidate);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Whether a missing tool must fail the test.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Finds `name` or reports the skip (and fails under CI).
pub fn require_tool(name: &str) -> Option<PathBuf> {
    match tool(name) {
        Some(p) => Some(p),
        None if ci() => panic!("{name} not installed, and CI=true: a missing tool is a failure"),
        None => {
            eprintln!("skipped: {name} not installed");
            None
        }
    }
}

/// The deployment of test fixture `name` (`tests/fixtures/<name>.toml`), leaked.
pub fn fixture(name: &str) -> &'static Deployment {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}.toml"));
    let text = std::fs::read_to_string(&path).expect("fixture readable");
    Box::leak(Box::new(
        Deployment::parse(&text).unwrap_or_else(|d| panic!("{name}.toml does not parse: {d:?}")),
    ))
}

/// The plan of test fixture `name`.
pub fn fixture_plan(name: &str) -> Plan<'static> {
    rdsports_core::plan::plan(catalog(), fixture(name))
}
