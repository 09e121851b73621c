//! Fixtures written from Microsoft's documentation (tests/fixtures/README.md) imported into
//! deployment files, compared with the golden files in tests/golden/.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rdsports_import::{Source, model::Model, read};

fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name)
}

/// Every file of a fixture folder, in name order, imported.
fn import(folder: &str) -> (Model, String) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir("fixtures").join(folder))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|f| {
            let name = format!("{folder}/{}", f.file_name().unwrap().to_string_lossy());
            (name, std::fs::read_to_string(f).unwrap())
        })
        .collect();
    let sources: Vec<Source<'_>> = texts
        .iter()
        .map(|(name, text)| Source { name, text })
        .collect();
    let inv = read(&sources).unwrap();
    let model = Model::of(&inv, &BTreeMap::new());
    let mut out = model.render();
    out.push_str("\n# warnings:\n");
    for w in &model.warnings {
        out.push_str(&format!("# {w}\n"));
    }
    (model, out)
}

#[test]
fn windows_powershell_5_1_exports() {
    let (model, text) = import("ps51");
    rdsports_testkit::golden(dir("golden").join("ps51.toml"), &text);
    assert_eq!(model.unresolved.len(), 6, "{:?}", model.unresolved);
}

#[test]
fn powershell_7_exports() {
    let (_, text) = import("ps7");
    rdsports_testkit::golden(dir("golden").join("ps7.toml"), &text);
}

#[test]
fn collector_document() {
    let (model, text) = import("collector");
    rdsports_testkit::golden(dir("golden").join("collector.toml"), &text);
    assert_eq!(model.unresolved, ["sh04"]);
    assert!(!text.contains("your_password_here") && !text.contains("never-copied"));
}

#[test]
fn a_host_without_an_address_fails_plan_at_its_line() {
    let (_, text) = import("ps51");
    let errors = rdsports_core::Deployment::parse(&text).unwrap_err();
    let first = errors
        .iter()
        .find(|d| d.message.contains("<address of cb01.contoso.example>"))
        .unwrap_or_else(|| panic!("{errors:?}"));
    assert!(
        first.hint.as_deref().unwrap_or("").contains("--resolve"),
        "{first:?}"
    );
}

#[test]
fn resolved_names_make_a_file_plan_accepts() {
    let (_, _) = import("ps51");
    let text = std::fs::read_to_string(dir("fixtures/ps51/Get-RDServer.json")).unwrap();
    let inv = read(&[Source {
        name: "Get-RDServer.json",
        text: &text,
    }])
    .unwrap();
    let mut resolved = BTreeMap::new();
    for (i, k) in inv.servers.keys().enumerate() {
        resolved.insert(
            k.clone(),
            vec![format!("192.0.2.{}", 10 + i).parse().unwrap()],
        );
    }
    let model = Model::of(&inv, &resolved);
    let d = rdsports_core::Deployment::parse(&model.render()).unwrap();
    assert_eq!(d.hosts.len(), 7);
}

#[test]
fn the_collectors_file_plans_with_its_per_host_settings() {
    let (_, text) = import("collector");
    // sh04 was not reached: its address is the one to fill in.
    let filled = text.replace("<address of sh04.contoso.example>", "192.0.2.24");
    let d = rdsports_core::Deployment::parse(&filled).unwrap_or_else(|e| panic!("{e:#?}"));
    let sh03 = d.host_index("sh03").unwrap();
    assert_eq!(d.options_for(sh03).rdp_port, 3390);
    assert_eq!(d.options_for(d.host_index("sh01").unwrap()).rdp_port, 3389);
    let gw02 = d.host_index("gw02").unwrap();
    assert!(!d.options_for(gw02).gateway_udp);
    assert!(d.options_for(d.host_index("gw01").unwrap()).gateway_udp);
    let catalog = rdsports_core::Catalog::builtin().unwrap();
    let plan = rdsports_core::plan::plan(&catalog, &d);
    let to = |h: usize| plan.flows.iter().filter(move |f| f.to == h);
    assert!(to(sh03).any(|f| f.ports.to_string() == "3390"));
    assert!(!to(sh03).any(|f| f.ports.to_string() == "3389"));
    assert!(!to(gw02).any(|f| f.ports.to_string() == "3391"));
    assert!(to(d.host_index("gw01").unwrap()).any(|f| f.ports.to_string() == "3391"));
}
