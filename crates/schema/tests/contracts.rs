//! The JSON examples of docs/reference/contracts.md are checked against the types that write
//! them: each block marked `<!-- contract: NAME -->` parses with NAME's type (as the readers
//! read it), and every key the example shows is a key the type writes back, at the same
//! place. A renamed or misspelt field in the page, or a field the type no longer has, fails.

use std::path::Path;

use rdsports_schema::{audit, check, diff, fleet, import, lint, listen, plan};
use serde_json::Value;

/// Parses a document with its type and writes it back as JSON.
type ReadBack = fn(&str) -> Result<Value, String>;

/// The documented contracts, each with the reader that parses it and writes it back.
const CONTRACTS: &[(&str, ReadBack)] = &[
    ("plan", |t| {
        let doc: plan::PlanDocument = serde_json::from_str(t).map_err(|e| e.to_string())?;
        serde_json::to_value(&doc).map_err(|e| e.to_string())
    }),
    ("check", |t| {
        let doc = check::CheckDocument::parse(t)?;
        serde_json::to_value(&doc).map_err(|e| e.to_string())
    }),
    ("audit", |t| {
        let doc = audit::Audit::parse(t).map_err(|e| format!("{e:?}"))?;
        serde_json::to_value(&doc).map_err(|e| e.to_string())
    }),
    ("lint", |t| {
        let doc: lint::LintDocument = serde_json::from_str(t).map_err(|e| e.to_string())?;
        serde_json::to_value(&doc).map_err(|e| e.to_string())
    }),
    ("listen", |t| {
        let doc: listen::ListenDocument = serde_json::from_str(t).map_err(|e| e.to_string())?;
        serde_json::to_value(&doc).map_err(|e| e.to_string())
    }),
    ("fleet", |t| {
        let doc: fleet::FleetSummary = serde_json::from_str(t).map_err(|e| e.to_string())?;
        serde_json::to_value(&doc).map_err(|e| e.to_string())
    }),
    ("import", |t| {
        let doc: import::Collected = serde_json::from_str(t).map_err(|e| e.to_string())?;
        serde_json::to_value(&doc).map_err(|e| e.to_string())
    }),
    ("drift", |t| {
        let doc: import::Drift = serde_json::from_str(t).map_err(|e| e.to_string())?;
        serde_json::to_value(&doc).map_err(|e| e.to_string())
    }),
    ("diff", |t| {
        let doc: diff::DiffDocument = serde_json::from_str(t).map_err(|e| e.to_string())?;
        serde_json::to_value(&doc).map_err(|e| e.to_string())
    }),
];

fn page() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/reference/contracts.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The ```json blocks that follow a `<!-- contract: NAME -->` line, with their line numbers.
fn examples(text: &str) -> Vec<(String, usize, String)> {
    let mut found = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((_, line)) = lines.next() {
        let Some(name) = line
            .trim()
            .strip_prefix("<!-- contract:")
            .and_then(|r| r.strip_suffix("-->"))
        else {
            continue;
        };
        let (fence, open) = lines.next().expect("a block after the marker");
        assert_eq!(
            open.trim(),
            "```json",
            "line {}: a ```json block",
            fence + 1
        );
        let mut body = String::new();
        for (_, l) in lines.by_ref() {
            if l.trim_start().starts_with("```") {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        found.push((name.trim().to_owned(), fence + 2, body));
    }
    found
}

/// Every key of `shown` is in `written` at the same place (arrays element by element).
fn keys_written(shown: &Value, written: &Value, at: &str, missing: &mut Vec<String>) {
    match (shown, written) {
        (Value::Object(s), Value::Object(w)) => {
            for (k, v) in s {
                match w.get(k) {
                    Some(wv) => keys_written(v, wv, &format!("{at}.{k}"), missing),
                    None => missing.push(format!("{at}.{k}")),
                }
            }
        }
        (Value::Array(s), Value::Array(w)) => {
            for (i, v) in s.iter().enumerate() {
                match w.get(i) {
                    Some(wv) => keys_written(v, wv, &format!("{at}[{i}]"), missing),
                    None => missing.push(format!("{at}[{i}]")),
                }
            }
        }
        _ => {}
    }
}

#[test]
fn every_documented_contract_parses_with_its_type_and_shows_only_written_keys() {
    let text = page();
    let found = examples(&text);
    for (name, _) in CONTRACTS {
        assert!(
            found.iter().any(|(n, _, _)| n == name),
            "contracts.md has no example of the {name} contract"
        );
    }
    for (name, line, body) in &found {
        let (_, read) = CONTRACTS
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("contracts.md line {line}: unknown contract {name:?}"));
        let written = read(body)
            .unwrap_or_else(|e| panic!("contracts.md line {line}: the {name} example: {e}"));
        let shown: Value = serde_json::from_str(body).expect("parsed above");
        let mut missing = Vec::new();
        keys_written(&shown, &written, "$", &mut missing);
        assert!(
            missing.is_empty(),
            "contracts.md line {line}: the {name} example shows keys its type does not write: {missing:?}"
        );
    }
}

#[test]
fn a_misspelt_key_is_caught() {
    let (_, read) = CONTRACTS[0];
    let body =
        r#"{"schema_version": 1, "deployment": "d", "flows": [], "warnings": [], "warning": 1}"#;
    let written = read(body).expect("unknown fields are ignored by readers");
    let mut missing = Vec::new();
    keys_written(
        &serde_json::from_str(body).expect("json"),
        &written,
        "$",
        &mut missing,
    );
    assert_eq!(missing, ["$.warning"]);
}
