//! The HTML report as a browser sees it: rendered by headless Chromium (`--dump-dom`), then
//! checked for every host, every flow, the diagram's numbers of nodes and edges, the check
//! verdicts, and names that try to break out of their elements.
//!
//! Chromium is found at `/usr/bin/chromium` or as `chromium` on `PATH` (Debian's package,
//! which `scripts/test.sh` installs). Without it the tests print "skipped: chromium not
//! installed" and pass, unless the environment variable `CI` is "true", where a missing
//! Chromium fails them. With `RDSPORTS_SCREENSHOT=<file.png>` the perimeter test also saves a
//! screenshot of the report there (that is how `docs/report-example.png` is made).

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rdsports_core::plan::Plan;
use rdsports_core::{Catalog, Deployment};
use rdsports_report::diagram::Graph;
use rdsports_report::html::{ReportInput, render};
use rdsports_schema::check::CheckDocument;

const PERIMETER: &str = include_str!("../../../examples/perimeter.toml");
const HOSTILE: &str = include_str!("fixtures/hostile.toml");
const CHECK: &str = include_str!("fixtures/check-gw01.json");
/// A safety net against a hung browser, not a measurement.
const CHROMIUM_DEADLINE: Duration = Duration::from_secs(180);

fn chromium() -> Option<PathBuf> {
    let fixed = Path::new("/usr/bin/chromium");
    if fixed.is_file() {
        return Some(fixed.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|p| p.is_file())
}

/// Chromium, or `None` after printing why the test is skipped (a failure under CI).
fn chromium_or_skip() -> Option<PathBuf> {
    // A Windows build (run under Wine) would hand Linux Chromium a Windows temp path for
    // its profile, which Chromium creates as a folder named `C:\users\...` in the working
    // directory: the test is for Linux's Chromium only.
    if cfg!(windows) {
        println!("skipped: the browser test runs on Linux only");
        return None;
    }
    let found = chromium();
    if found.is_none() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "chromium is not installed and CI=true: install Debian's chromium package"
        );
        println!("skipped: chromium not installed");
    }
    found
}

/// Runs headless Chromium with a fresh profile on `page` plus `extra` flags; returns stdout.
fn run_chromium(chromium: &Path, page: &Path, extra: &[String]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).unwrap();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > CHROMIUM_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {CHROMIUM_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = reader.join().unwrap();
    assert!(status.success(), "chromium failed: {status}");
    out
}

/// Writes the report to a temporary file, has Chromium render it, returns the DOM.
fn rendered_dom(chromium: &Path, html: &str, screenshot: Option<&Path>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, html).unwrap();
    if let Some(png) = screenshot {
        run_chromium(
            chromium,
            &page,
            &[
                format!("--screenshot={}", png.display()),
                "--window-size=1280,2000".to_owned(),
                "--hide-scrollbars".to_owned(),
            ],
        );
        let bytes = std::fs::read(png).unwrap();
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    }
    run_chromium(chromium, &page, &["--dump-dom".to_owned()])
}

/// Text of serialized HTML with tags removed and character references resolved.
fn text(html: &str) -> String {
    let mut plain = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => plain.push(c),
            _ => {}
        }
    }
    let mut out = String::new();
    let mut rest = plain.as_str();
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').filter(|&e| e <= 10);
        let (name, len) = match end {
            Some(e) => (&rest[1..e], e + 1),
            None => ("", 0),
        };
        let c = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "nbsp" => Some('\u{a0}'),
            n if n.starts_with('#') => n[1..].parse::<u32>().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The outer HTML of every element that starts with `open` (up to its `close`).
fn elements<'d>(dom: &'d str, open: &str, close: &str) -> Vec<&'d str> {
    let mut out = Vec::new();
    let mut rest = dom;
    while let Some(i) = rest.find(open) {
        let tail = &rest[i..];
        let end = tail.find(close).map_or(tail.len(), |e| e + close.len());
        out.push(&tail[..end]);
        rest = &tail[end..];
    }
    out
}

/// The text of the cell `<td class="{class}" ...>` inside `row`.
fn cell(row: &str, class: &str) -> String {
    let cells = elements(row, &format!("<td class=\"{class}"), "</td>");
    let first = cells
        .first()
        .unwrap_or_else(|| panic!("no {class} cell in {row}"));
    text(first)
}

fn count_of(
    items: impl IntoIterator<Item = (String, String, String, String)>,
) -> BTreeMap<(String, String, String, String), usize> {
    let mut m = BTreeMap::new();
    for i in items {
        *m.entry(i).or_insert(0) += 1;
    }
    m
}

/// Every host and every flow of `plan` appear in `dom`, and the SVG has the graph's
/// numbers of nodes and edges.
fn assert_plan_rendered(dom: &str, plan: &Plan<'_>) {
    let hosts: Vec<String> = elements(dom, "<tr data-host=", "</tr>")
        .iter()
        .map(|row| cell(row, "host"))
        .collect();
    let expected: Vec<String> = plan
        .deployment
        .hosts
        .iter()
        .map(|h| h.name.clone())
        .collect();
    assert_eq!(hosts, expected);

    let rows = elements(dom, "<tr data-flow=", "</tr>");
    let shown = count_of(rows.iter().map(|row| {
        (
            cell(row, "from"),
            cell(row, "to"),
            cell(row, "proto"),
            cell(row, "ports"),
        )
    }));
    let planned = count_of(plan.flows.iter().map(|f| {
        let r = rdsports_report::plan::record(plan, f);
        (
            r.from.into_owned(),
            r.to.into_owned(),
            r.protocol.to_string(),
            r.ports.to_string(),
        )
    }));
    assert_eq!(rows.len(), plan.flows.len());
    assert_eq!(shown, planned);

    let graph = Graph::new(plan);
    let svgs = elements(dom, "<svg", "</svg>");
    assert_eq!(svgs.len(), 1, "one inline SVG");
    let svg = svgs[0];
    assert_eq!(svg.matches(" data-node=\"").count(), graph.nodes.len());
    assert_eq!(svg.matches(" data-edge=\"").count(), graph.edges.len());
    // Every node's first line is drawn.
    for n in &graph.nodes {
        assert!(text(svg).contains(&n.title), "{}", n.title);
    }
}

#[test]
fn perimeter_report_in_chromium() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let catalog = Catalog::builtin().unwrap();
    let deployment = Deployment::parse(PERIMETER).unwrap();
    let plan = rdsports_core::plan::plan(&catalog, &deployment);
    let mut warnings: Vec<String> = deployment
        .warnings
        .iter()
        .map(|w| w.message.clone())
        .collect();
    warnings.extend(plan.warnings.iter().cloned());
    let rules = vec![
        (
            "gw01".to_owned(),
            "# rdsports rules for gw01 (example fixture)\nNew-NetFirewallRule -DisplayName 'rdsports contoso: clients -> gw01 tcp/443' -Direction Inbound -Protocol TCP -LocalPort 443 -Action Allow\n".to_owned(),
        ),
        (
            "dc01".to_owned(),
            "# rdsports rules for dc01 (example fixture)\nNew-NetFirewallRule -DisplayName 'rdsports contoso: gw01 -> dc01 tcp/88' -Direction Inbound -Protocol TCP -LocalPort 88 -RemoteAddress 198.51.100.10 -Action Allow\n".to_owned(),
        ),
    ];
    let html = render(&ReportInput {
        diff: None,
        plan: &plan,
        warnings: &warnings,
        windows_rules: rules,
        checks: vec![CheckDocument::parse(CHECK).unwrap()],
        lint: Vec::new(),
        fleet: None,
        audits: Vec::new(),
    });
    let screenshot = std::env::var_os("RDSPORTS_SCREENSHOT").map(PathBuf::from);
    let dom = rendered_dom(&chromium, &html, screenshot.as_deref());

    assert_plan_rendered(&dom, &plan);
    // Check results: one row per result, coloured by verdict.
    let checks = elements(&dom, "<tr class=\"v-row-", "</tr>");
    assert_eq!(checks.len(), 7);
    let verdicts: Vec<String> = checks
        .iter()
        .map(|r| text(elements(r, "<span class=\"badge", "</span>")[0]))
        .collect();
    assert_eq!(
        verdicts,
        [
            "open",
            "open",
            "filtered",
            "refused",
            "open|filtered",
            "open",
            "open"
        ]
    );
    // Every warning is shown.
    let shown: Vec<String> = elements(&dom, "<ul class=\"warnings\">", "</ul>")
        .first()
        .map(|ul| {
            elements(ul, "<li>", "</li>")
                .iter()
                .map(|li| text(li))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(shown, warnings);
    // The copy buttons were revealed by the script, so it ran without errors.
    assert_eq!(
        elements(&dom, "<button type=\"button\" class=\"copy\"", "</button>").len(),
        2
    );
    assert!(!dom.contains("class=\"copy\" data-copy=\"rules-0\" hidden"));
}

#[test]
fn hostile_names_stay_text_in_chromium() {
    let Some(chromium) = chromium_or_skip() else {
        return;
    };
    let catalog = Catalog::builtin().unwrap();
    let deployment = Deployment::parse(HOSTILE).unwrap();
    let plan = rdsports_core::plan::plan(&catalog, &deployment);
    let warnings = vec!["<script>document.title='pwned'</script>".to_owned()];
    let html = render(&ReportInput {
        diff: None,
        plan: &plan,
        warnings: &warnings,
        windows_rules: vec![(
            "\"><script>alert(1)</script>".to_owned(),
            "</code></pre><script>document.title='pwned'</script>".to_owned(),
        )],
        checks: Vec::new(),
        lint: Vec::new(),
        fleet: None,
        audits: Vec::new(),
    });
    let dom = rendered_dom(&chromium, &html, None);
    assert_plan_rendered(&dom, &plan);
    // Only our own script element exists and the title is the deployment's name as text.
    assert_eq!(dom.matches("<script").count(), 1, "{dom}");
    let title = elements(&dom, "<title>", "</title>");
    assert_eq!(text(title[0]), format!("RDS flows of {}", deployment.name));
    for z in &deployment.zones {
        assert!(text(&dom).contains(&z.name), "{}", z.name);
    }
    let ul = elements(&dom, "<ul class=\"warnings\">", "</ul>");
    let li: Vec<String> = elements(ul[0], "<li>", "</li>")
        .iter()
        .map(|li| text(li))
        .collect();
    assert_eq!(li, warnings);
}
