//! Snapshot tests of the diagrams of the example deployments in DOT, Mermaid and SVG.
//!
//! Golden files sit in `tests/golden/` with their native extensions. On a mismatch the test
//! writes `<file>.actual` beside the golden file and fails; `BLESS=1` rewrites the golden
//! files instead.

use std::fs;
use std::path::Path;

use rdsports_core::{Catalog, Deployment};
use rdsports_report::diagram::{DiagramFormat, render};

const PERIMETER: &str = include_str!("../../../examples/perimeter.toml");
const LARGE: &str = include_str!("../../../examples/large-farm.toml");

fn check_golden(name: &str, actual: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let path = dir.join(name);
    let actual_path = dir.join(format!("{name}.actual"));
    if std::env::var("BLESS").as_deref() == Ok("1") {
        fs::create_dir_all(&dir).unwrap();
        fs::write(&path, actual).unwrap();
        let _ = fs::remove_file(&actual_path);
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_default();
    if expected == actual {
        let _ = fs::remove_file(&actual_path);
        return;
    }
    fs::write(&actual_path, actual).unwrap();
    panic!(
        "{name} differs from its golden file: compare {} with {}; \
         run `BLESS=1 cargo test -p rdsports-report --test golden` to accept the new output",
        path.display(),
        actual_path.display()
    );
}

fn snapshot(example: &str, text: &str) {
    let catalog = Catalog::builtin().unwrap();
    let deployment = Deployment::parse(text).unwrap();
    let plan = rdsports_core::plan::plan(&catalog, &deployment);
    for (format, ext) in [
        (DiagramFormat::Dot, "dot"),
        (DiagramFormat::Mermaid, "mmd"),
        (DiagramFormat::Svg, "svg"),
    ] {
        check_golden(&format!("{example}.{ext}"), &render(&plan, format));
    }
}

#[test]
fn perimeter_diagrams() {
    snapshot("perimeter", PERIMETER);
}

#[test]
fn large_farm_diagrams() {
    snapshot("large-farm", LARGE);
}
