//! Hostile names never inject into a generated script or configuration.
//!
//! Deployment, zone and host names, catalog ids and purposes are drawn from quotes, `$( )`,
//! backticks, newlines, semicolons, braces, brackets, `%`, `&`, `|`, Unicode quotes and line
//! separators. A property test renders every target and checks in-process that the output
//! keeps its structure (PowerShell literals balanced, batch and firewall lines free of
//! metacharacters, JSON that parses and holds no foreign ARM expression or intrinsic, YAML
//! scalars that are all quoted and escaped). A second test runs a few hostile deployments
//! through the platforms' own tools (nft, iptables-restore, aclgen, cfn-lint).

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use ipnet::IpNet;
use proptest::prelude::*;
use rdsports_core::Catalog;
use rdsports_core::deployment::{Deployment, FirewallSection, LintSection, Options, Places};
use rdsports_core::model::{Host, Role, Zone};
use rdsports_policy::{RenderOptions, Rendered, render, targets};
use serde_json::Value;

/// Pieces hostile names are made of.
const PIECES: &[&str] = &[
    "'",
    "\"",
    "$(",
    ")",
    "`",
    "\n",
    "\r",
    ";",
    "{",
    "}",
    "[",
    "]",
    "#",
    "%",
    "&",
    "|",
    "<",
    ">",
    "\\",
    "\u{2019}",
    "\u{2018}",
    "\u{201A}",
    "\u{2028}",
    "\u{85}",
    "\0",
    "é",
    "😀",
    " ",
    "-",
    "..",
    "/",
    "rm -rf /",
    "[concat('x')]",
    "*",
    ":",
    "!",
    "^",
    "=",
    "@",
    "x",
    "Get-Process",
    "\t",
    "--",
    "COMMIT",
    "*filter",
    "}\n}\ntable ip x {",
    "accept",
    "\u{feff}",
];

fn hostile() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..7).prop_map(|v| v.concat())
}

/// A perimeter-style deployment whose every name is hostile (made unique by a suffix where
/// the deployment requires unique names).
fn deployment(names: &[String]) -> Deployment {
    let n = |i: usize| names.get(i).cloned().unwrap_or_default();
    let net = |s: &str| s.parse::<IpNet>().expect("network");
    let zones = vec![
        Zone {
            name: format!("{}0", n(1)),
            networks: vec![net("0.0.0.0/0")],
        },
        Zone {
            name: format!("{}1", n(2)),
            networks: vec![net("198.51.100.0/24")],
        },
        Zone {
            name: format!("{}2", n(3)),
            networks: vec![net("192.0.2.0/24")],
        },
    ];
    let host = |i: usize, addr: &str, zone: usize, mut roles: Vec<Role>| {
        roles.sort();
        Host {
            name: format!("{}{i}", n(4 + i % 4)),
            address: net(addr),
            zone,
            roles,
            implied_roles: Vec::new(),
            settings: Default::default(),
        }
    };
    Deployment {
        name: n(0),
        options: Options::default(),
        zones,
        hosts: vec![
            host(0, "0.0.0.0/0", 0, vec![Role::Client]),
            host(
                1,
                "198.51.100.10/32",
                1,
                vec![Role::Gateway, Role::WebAccess],
            ),
            host(
                2,
                "192.0.2.10/32",
                2,
                vec![Role::ConnectionBroker, Role::Management],
            ),
            host(3, "192.0.2.21/32", 2, vec![Role::SessionHost]),
            host(4, "192.0.2.22/32", 2, vec![Role::SessionHost]),
            host(5, "192.0.2.30/32", 2, vec![Role::Licensing]),
            host(
                6,
                "192.0.2.40/32",
                2,
                vec![Role::DomainController, Role::Dns],
            ),
            host(7, "192.0.2.60/32", 2, vec![Role::Crl]),
            host(8, "0.0.0.0/0", 0, vec![Role::Clearinghouse]),
        ],
        warnings: Vec::new(),
        firewall: Ok(FirewallSection::default()),
        lint: Ok(LintSection::default()),
        places: Places::default(),
    }
}

/// The builtin catalog with hostile text appended to every id and purpose.
fn catalog(id: &str, purpose: &str) -> Catalog {
    let mut c = common::catalog().clone();
    for e in &mut c.entries {
        e.id = format!("{}{id}", e.id);
        e.purpose = format!("{purpose}{}", e.purpose);
    }
    c
}

/// Renders every target (and the host variants) for a deployment.
fn render_all(c: &Catalog, d: &Deployment) -> Vec<(String, Rendered)> {
    let plan = rdsports_core::plan::plan(c, d);
    assert!(!plan.flows.is_empty(), "the hostile deployment has flows");
    let mut out = Vec::new();
    for t in targets() {
        let mut sets = vec![RenderOptions::default()];
        if t.capabilities.outbound {
            sets.push(RenderOptions {
                outbound: true,
                ..RenderOptions::default()
            });
        }
        if t.capabilities.host_variant {
            sets.push(RenderOptions {
                host_variant: true,
                outbound: true,
                default_drop: true,
                ..RenderOptions::default()
            });
        }
        for opts in sets {
            let r = render(t.name, &plan, &opts)
                .unwrap_or_else(|e| panic!("{} fails on hostile names: {e}", t.name));
            out.push((t.name.to_owned(), r));
        }
    }
    out
}

/// Characters that must never appear outside quoted literals and comments in a line of
/// a firewall file (nft, iptables, ASA) or a batch file.
const META: &[char] = &[
    '`', '$', '\\', '\'', '%', '&', '<', '>', '^', '!', '\u{2028}', '\u{85}',
];

/// Checks one rendered file; `Err` says what is wrong.
fn check_file(target: &str, name: &str, text: &str) -> Result<(), String> {
    if name.contains("..")
        || name.starts_with('/')
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c))
    {
        return Err(format!("file name {name:?}"));
    }
    if text.contains('\0') || text.contains('\u{2028}') || text.contains('\u{2029}') {
        return Err("NUL or a Unicode line separator in the output".into());
    }
    match target {
        "windows" => check_powershell(text),
        "windows-netsh" => check_batch(text),
        "nftables" => check_lines(text, "#", &['"'], &['|']),
        "iptables" => check_lines(text, "#", &['"'], &['|', ';', '{', '}']),
        "cisco-asa" => {
            // Remarks and descriptions are free text to the end of the line: check the rest.
            let heads: Vec<&str> = text
                .lines()
                .map(|l| l.split(" remark ").next().unwrap_or(l))
                .map(|l| l.split(" description ").next().unwrap_or(l))
                .collect();
            for l in text.lines() {
                if l.chars().any(char::is_control) {
                    return Err(format!("control character in {l:?}"));
                }
            }
            check_lines(&heads.join("\n"), "!", &[], &['"', '{', '}', ';', '|', '#'])
        }
        "azure-nsg" | "aws-sg" => check_json(target, text),
        "aerleon" => check_yaml(text),
        _ => Err(format!("no check for target {target}")),
    }
}

/// PowerShell: outside single-quoted literals (quotes doubled inside, four quote forms),
/// non-comment lines hold only our own variables and no `$(`, backtick or `;`.
fn check_powershell(text: &str) -> Result<(), String> {
    common::powershell::check(text).map_err(|e| format!("PowerShell grammar: {e}"))?;
    const QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];
    for line in text.lines() {
        if line.starts_with('#') || line.is_empty() {
            if line.contains('\r') {
                return Err("CR in a comment".into());
            }
            continue;
        }
        let mut outside = String::new();
        let mut chars = line.chars().peekable();
        let mut in_str = false;
        while let Some(c) = chars.next() {
            if in_str {
                if QUOTES.contains(&c) {
                    if chars.peek().is_some_and(|n| QUOTES.contains(n)) {
                        chars.next();
                    } else {
                        in_str = false;
                        outside.push('Q');
                    }
                }
            } else if QUOTES.contains(&c) {
                in_str = true;
            } else {
                outside.push(c);
            }
        }
        if in_str {
            return Err(format!("unterminated literal in {line:?}"));
        }
        let vars: BTreeSet<&str> = outside
            .match_indices('$')
            .map(|(i, _)| {
                let rest = &outside[i + 1..];
                let end = rest
                    .find(|c: char| !c.is_ascii_alphanumeric())
                    .unwrap_or(rest.len());
                &rest[..end]
            })
            .collect();
        // `$p`: the loop over the firewall profiles at the start of every script.
        if !vars.is_subset(&["ErrorActionPreference", "Group", "Common", "p"].into()) {
            return Err(format!("foreign variable or subexpression in {line:?}"));
        }
        if outside.contains('`') || outside.contains(';') && !outside.starts_with("$Common") {
            return Err(format!("metacharacter outside a literal in {line:?}"));
        }
    }
    Ok(())
}

/// Batch: no `%`, `^`, `&` (but our `2>&1`), `|` (but our `||`), `!` or `"` inside a value.
fn check_batch(text: &str) -> Result<(), String> {
    for line in text.split("\r\n") {
        if line.contains('\n') || line.contains('\r') {
            return Err(format!("bare line break in {line:?}"));
        }
        let own = line
            .replace(" >nul 2>&1", "")
            .replace(" >nul || exit /b 1", "");
        if own.contains(['%', '^', '&', '|', '!', '<', '>', '`']) {
            return Err(format!("metacharacter in {line:?}"));
        }
        if own.matches('"').count() % 2 != 0 {
            return Err(format!("unbalanced quotes in {line:?}"));
        }
    }
    Ok(())
}

/// Firewall files: comment lines start with `comment`; elsewhere, after removing literals
/// between `quotes`, no metacharacter of [`META`] or of `forbidden` appears.
fn check_lines(
    text: &str,
    comment: &str,
    quotes: &[char],
    forbidden: &[char],
) -> Result<(), String> {
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with(comment) || t.is_empty() {
            continue;
        }
        let mut outside = String::new();
        let mut inside = false;
        for c in t.chars() {
            if quotes.contains(&c) {
                inside = !inside;
            } else if inside {
                if c.is_control() || c == '"' {
                    return Err(format!("control character in a literal in {line:?}"));
                }
            } else {
                outside.push(c);
            }
        }
        if inside {
            return Err(format!("unterminated literal in {line:?}"));
        }
        if outside.contains(META) || outside.contains(forbidden) {
            return Err(format!("metacharacter in {line:?}"));
        }
    }
    Ok(())
}

/// JSON: parses; object keys are ours; ARM strings that look like expressions are escaped.
fn check_json(target: &str, text: &str) -> Result<(), String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    fn walk(v: &Value, target: &str, path: &str) -> Result<(), String> {
        match v {
            Value::String(s) => {
                let ours = ["[parameters('location')]", "[resourceGroup().location]"];
                if target == "azure-nsg"
                    && s.starts_with('[')
                    && s.ends_with(']')
                    && !s.starts_with("[[")
                    && !ours.contains(&s.as_str())
                {
                    return Err(format!("unescaped ARM expression {s:?} at {path}"));
                }
                Ok(())
            }
            Value::Array(a) => a.iter().try_for_each(|x| walk(x, target, path)),
            Value::Object(m) => {
                for (k, x) in m {
                    let known = k
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "$:-".contains(c));
                    if !known {
                        return Err(format!("foreign key {k:?} at {path}"));
                    }
                    if target == "aws-sg" && k.starts_with("Fn::") && k != "Fn::GetAtt" {
                        return Err(format!("foreign intrinsic {k} at {path}"));
                    }
                    // EC2 accepts only these characters in descriptions and tag values.
                    let text_ok = |x: &Value, extra: &str| {
                        x.as_str().is_none_or(|t| {
                            t.chars()
                                .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
                        })
                    };
                    if target == "aws-sg"
                        && ((k.ends_with("Description") && !text_ok(x, " ._-:/()#,@[]+=&;{}!$*"))
                            || (k == "Value"
                                && path.ends_with("/Tags")
                                && !text_ok(x, " _.:/=+-@")))
                    {
                        return Err(format!("{k} {x} holds characters EC2 rejects at {path}"));
                    }
                    walk(x, target, &format!("{path}/{k}"))?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
    walk(&v, target, "")
}

/// YAML: every line is a comment, a structural key, or `key: scalar` where the scalar is a
/// bare word of ours or a double-quoted string with only our escapes.
fn check_yaml(text: &str) -> Result<(), String> {
    let quoted_ok = |s: &str| -> bool {
        let Some(inner) = s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
            return false;
        };
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('"' | '\\') => {}
                    Some('u') => {
                        if chars
                            .by_ref()
                            .take(4)
                            .filter(char::is_ascii_hexdigit)
                            .count()
                            != 4
                        {
                            return false;
                        }
                    }
                    Some('U') => {
                        if chars
                            .by_ref()
                            .take(8)
                            .filter(char::is_ascii_hexdigit)
                            .count()
                            != 8
                        {
                            return false;
                        }
                    }
                    _ => return false,
                },
                '"' => return false,
                ' '..='~' => {}
                _ => return false,
            }
        }
        true
    };
    for line in text.lines() {
        let t = line.trim_start().trim_start_matches("- ");
        if t.starts_with('#') || t.is_empty() {
            continue;
        }
        let (key, value) = match t.split_once(": ") {
            Some((k, v)) => (k, v),
            None => match t.strip_suffix(':') {
                Some(k) => (k, ""),
                None => return Err(format!("unexpected YAML line {line:?}")),
            },
        };
        let key_ok = key.chars().all(|c| c.is_ascii_lowercase() || c == '-') || quoted_ok(key);
        let bare = ["tcp", "udp", "accept", "deny", "[]", "{}"];
        let value_ok = value.is_empty() || bare.contains(&value) || quoted_ok(value);
        if !key_ok || !value_ok {
            return Err(format!("unquoted or malformed scalar in {line:?}"));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn hostile_names_never_escape_their_quoting(
        names in prop::collection::vec(hostile(), 8),
        id in hostile(),
        purpose in hostile(),
    ) {
        let c = catalog(&id, &purpose);
        let d = deployment(&names);
        for (target, r) in render_all(&c, &d) {
            let mut seen = BTreeSet::new();
            for (name, text) in &r.files {
                prop_assert!(seen.insert(name.clone()), "{target}: file {name} twice");
                if let Err(e) = check_file(&target, name, text) {
                    return Err(TestCaseError::fail(format!("{target} {name}: {e}\n{text}")));
                }
            }
            // A file name that is not a name of the deployment verbatim was sanitised: the
            // user must have been told.
            if r.warnings.is_empty() {
                let mut names: BTreeSet<&str> = d.hosts.iter().map(|h| h.name.as_str()).collect();
                names.extend([d.name.as_str(), "networks", "services"]);
                for (file, _) in &r.files {
                    let base = file.rsplit('/').next().unwrap_or(file);
                    let stem = base.split('.').next().unwrap_or(base);
                    prop_assert!(
                        names.contains(stem),
                        "{target}: file {file} renames a name without a warning"
                    );
                }
            }
        }
    }
}

/// A few fixed hostile deployments, checked by the platforms' own tools.
#[test]
fn platform_tools_accept_hostile_renderings() {
    let samples: Vec<Vec<String>> = vec![
        [
            "a'b\"c$(x)`",
            "in ter;net",
            "dmz}{",
            "lan\n#x",
            "h'",
            "h\"",
            "h$(",
            "h`",
        ]
        .map(String::from)
        .to_vec(),
        [
            "[concat('x')]",
            "z%PATH%",
            "z&|<>",
            "z\u{2028}",
            "é😀",
            "\u{2019}x",
            "--",
            "*filter",
        ]
        .map(String::from)
        .to_vec(),
        ["", "", "", "", "", "", "", ""].map(String::from).to_vec(),
    ];
    let tmp = tempfile::tempdir().expect("tempdir");
    for (i, names) in samples.iter().enumerate() {
        let c = catalog("\"'$(`;{", "}\n'; rm -rf / #");
        let d = deployment(names);
        for (j, (target, r)) in render_all(&c, &d).into_iter().enumerate() {
            let dir = tmp.path().join(format!("{i}-{j}-{target}"));
            for (name, text) in &r.files {
                let p = dir.join(name);
                std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
                std::fs::write(&p, text).expect("write");
            }
            tool_check(&target, &dir, &r);
        }
    }
}

fn tool_check(target: &str, dir: &Path, r: &Rendered) {
    let netns = |program: &str, args: &[&str], stdin: Option<&Path>| -> Option<(bool, String)> {
        let tool = ["/usr/sbin", "/sbin", "/usr/bin"]
            .iter()
            .map(|d| Path::new(d).join(program))
            .find(|p| p.is_file());
        let Some(tool) = tool else {
            assert!(!common::ci(), "{program} not installed, and CI=true");
            eprintln!("skipped: {program} not installed");
            return None;
        };
        #[cfg(unix)]
        let root = {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
        };
        #[cfg(not(unix))]
        let root = false;
        let mut cmd = Command::new("unshare");
        cmd.arg(if root { "-n" } else { "-rn" })
            .arg(tool)
            .args(args);
        cmd.stdin(match stdin {
            Some(p) => Stdio::from(std::fs::File::open(p).expect("open")),
            None => Stdio::null(),
        });
        let out = cmd.output().ok()?;
        Some((
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        ))
    };
    match target {
        "nftables" => {
            for (name, _) in &r.files {
                let f = dir.join(name);
                if let Some((ok, out)) = netns("nft", &["-c", "-f", &f.to_string_lossy()], None) {
                    assert!(ok, "nft rejects hostile {}:\n{out}", f.display());
                }
            }
        }
        "iptables" => {
            for (name, _) in &r.files {
                let f = dir.join(name);
                let tool = if name.ends_with(".v6.rules") {
                    "ip6tables-restore"
                } else {
                    "iptables-restore"
                };
                if let Some((ok, out)) = netns(tool, &["--test"], Some(&f)) {
                    assert!(ok, "{tool} rejects hostile {}:\n{out}", f.display());
                }
            }
        }
        "aerleon" => {
            let Some(aclgen) = common::require_tool("aclgen") else {
                return;
            };
            let out = Command::new(aclgen)
                .arg(format!(
                    "--base_directory={}",
                    dir.join("policies").display()
                ))
                .arg(format!(
                    "--definitions_directory={}",
                    dir.join("def").display()
                ))
                .arg(format!("--output_directory={}", dir.display()))
                .output()
                .expect("aclgen runs");
            assert!(
                out.status.success(),
                "aclgen rejects hostile policy:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        "aws-sg" => {
            let Some(lint) = common::require_tool("cfn-lint") else {
                return;
            };
            for (name, _) in &r.files {
                let out = Command::new(&lint)
                    .arg(dir.join(name))
                    .output()
                    .expect("cfn-lint runs");
                assert!(
                    out.status.success(),
                    "cfn-lint rejects hostile template:\n{}",
                    String::from_utf8_lossy(&out.stdout)
                );
            }
        }
        _ => {}
    }
}
