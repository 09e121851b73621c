//! Snapshot tests of the diagrams of the example deployments in DOT, Mermaid and SVG.
//!
//! Golden files sit in `tests/golden/` with their native extensions. On a mismatch the test
//! writes `<file>.actual` beside the golden file and fails; `BLESS=1` rewrites the golden
//! files instead (`rdsports_testkit::golden`).

use std::fs;
use std::path::Path;

use rdsports_core::{Catalog, Deployment};
use rdsports_report::diagram::{DiagramFormat, render};

const PERIMETER: &str = include_str!("../../../examples/perimeter.toml");
const LARGE: &str = include_str!("../../../examples/large-farm.toml");

fn check_golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    rdsports_testkit::golden(path, actual);
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

/// The firewall audit section of `rdsports report --audit`, from two results of
/// `rdsports audit --format json` (an nftables boundary with missing, too broad, shadowed and
/// unused findings; a Windows host with undecided flows).
#[test]
fn audit_section() {
    use rdsports_report::audit::{AuditFile, section};
    use rdsports_schema::audit::Audit;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let docs: Vec<_> = ["audit-nft-boundary.json", "audit-windows-sh01.json"]
        .iter()
        .map(|f| {
            let audit = Audit::parse(&fs::read_to_string(dir.join(f)).unwrap()).unwrap();
            AuditFile {
                file: (*f).to_owned(),
                audit,
            }
        })
        .collect();
    let mut html = String::new();
    section(&mut html, &docs);
    check_golden("audit-section.html", &html);
    // Missing flows are red with the deciding rule; the fix is ready to copy.
    assert!(html.contains("<tr class=\"v-row-refused\"><td>gw01</td><td>dc01</td><td>udp</td>"));
    assert!(html.contains("data-copy=\"audit-fix-0\""));
    // Worst first: the 2^32 - 1 tuples of the WinRM rule before the 255 of the share rule.
    let winrm = html.find("broker manages the gateway").unwrap();
    let share = html.find("old file share rule").unwrap();
    assert!(winrm < share);
    assert!(html.contains("<h4>Possible (2)</h4>"));
    assert!(html.contains("shadowed</span>"));
    assert!(html.contains("<h4>Unused (3)</h4>"));
}
