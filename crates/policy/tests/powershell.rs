//! Every `.ps1` the project writes, parsed by a real PowerShell grammar (tree-sitter-powershell)
//! and checked against the table of documented cmdlets and parameters in
//! `common/powershell.rs`: `rules --target windows` for every example and fixture with every
//! option set, the golden `.ps1` files, the PowerShell blocks of the README and of every
//! page under docs/, and the firewall lines `rdsports listen` prints on Windows. The hostile-name property test
//! (`hostile.rs`) sends its scripts through the same check.

mod common;

use std::path::Path;

use common::powershell::{check, commands, parse};
use rdsports_policy::{RenderOptions, render};

/// The option sets `rules --target windows` takes.
fn option_sets() -> Vec<(&'static str, RenderOptions)> {
    vec![
        ("default", RenderOptions::default()),
        (
            "--outbound",
            RenderOptions {
                outbound: true,
                ..RenderOptions::default()
            },
        ),
        (
            "--no-aggregate",
            RenderOptions {
                aggregate: false,
                ..RenderOptions::default()
            },
        ),
    ]
}

#[test]
fn every_generated_script_parses_and_uses_only_documented_cmdlets() {
    let mut scripts = 0;
    let mut plans: Vec<(String, rdsports_core::Plan<'static>)> = common::examples()
        .into_iter()
        .map(|name| {
            let plan = common::plan(&name);
            (name, plan)
        })
        .collect();
    plans.push((
        "fixture ftp-passive-v6".into(),
        common::fixture_plan("ftp-passive-v6"),
    ));
    for (name, plan) in &plans {
        for (opts_name, opts) in option_sets() {
            let rendered = render("windows", plan, &opts)
                .unwrap_or_else(|e| panic!("{name} {opts_name}: {e}"));
            for (file, text) in &rendered.files {
                assert!(file.ends_with(".ps1"), "{file}");
                let used = check(text).unwrap_or_else(|e| panic!("{name} {opts_name} {file}: {e}"));
                assert!(
                    used.iter().any(|c| c.name == "New-NetFirewallRule"),
                    "{name} {opts_name} {file}: no rule is created"
                );
                scripts += 1;
            }
        }
    }
    assert!(scripts >= 3 * 20, "only {scripts} scripts were checked");
    eprintln!("parsed and checked {scripts} generated PowerShell scripts");
}

#[test]
fn every_golden_script_parses() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files = Vec::new();
    let mut dirs = vec![golden];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("golden dir").flatten() {
            let p = entry.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "ps1") {
                files.push(p);
            }
        }
    }
    assert!(files.len() >= 20, "only {} golden .ps1 files", files.len());
    for p in files {
        let text = std::fs::read_to_string(&p).expect("read");
        check(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    }
}

/// The pages whose `powershell` blocks are checked: the README, CONTRIBUTING and every page
/// under docs/.
fn pages() -> Vec<std::path::PathBuf> {
    let root = common::workspace();
    let mut pages = vec![root.join("README.md"), root.join("CONTRIBUTING.md")];
    let mut dirs = vec![root.join("docs")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("docs/").flatten() {
            let p = entry.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|e| e == "md") {
                pages.push(p);
            }
        }
    }
    pages.sort();
    pages
}

/// The fenced code blocks of a page tagged `powershell` (or `ps1`, `pwsh`), with their lines.
fn powershell_blocks(text: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match &mut current {
            Some((_, body)) if line.trim_start().starts_with("```") => {
                let body = std::mem::take(body);
                blocks.push((current.take().map_or(0, |c| c.0), body));
            }
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
            None => {
                let tag = line.trim_start().strip_prefix("```").map(str::trim);
                if matches!(tag, Some("powershell" | "ps1" | "pwsh")) {
                    current = Some((i + 1, String::new()));
                }
            }
        }
    }
    blocks
}

#[test]
fn the_documentation_powershell_parses_and_uses_only_documented_cmdlets() {
    let root = common::workspace();
    let mut checked = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("a page");
        let name = page
            .strip_prefix(&root)
            .unwrap_or(&page)
            .display()
            .to_string();
        let name = name.replace('\\', "/");
        for (line, body) in powershell_blocks(&text) {
            check(&body).unwrap_or_else(|e| panic!("{name} block at line {line}: {e}"));
            checked.push(name.clone());
        }
    }
    // The Windows pages show the scripts being run; the guide shows the fleet script.
    for page in [
        "docs/windows.md",
        "docs/reference/platforms/windows.md",
        "docs/guide.md",
    ] {
        assert!(
            checked.iter().any(|c| c == page),
            "{page} has no powershell block: {checked:?}"
        );
    }
}

/// The lines `rdsports listen` prints for Windows Firewall (src/commands/listen.rs): the
/// program rule and the port rules, with the path of an exe that needs quoting.
#[test]
fn listen_firewall_lines_parse() {
    // As `windows_firewall_lines` formats them (its unit test pins the same text).
    let lines = r#"New-NetFirewallRule -DisplayName 'rdsports listen (temporary)' -Direction Inbound -Action Allow -Protocol TCP -LocalPort 3389,5504 -Program 'C:\Tools\O''Brien\rdsports.exe'
New-NetFirewallRule -DisplayName 'rdsports listen (temporary)' -Direction Inbound -Action Allow -Protocol UDP -LocalPort 3391 -Program 'C:\Tools\O''Brien\rdsports.exe'
Remove-NetFirewallRule -DisplayName 'rdsports listen (temporary)'   # afterwards
"#;
    check(lines).expect("listen's lines");
}

#[test]
fn the_checker_rejects_what_powershell_would() {
    // Broken syntax: an unterminated literal, an unclosed hashtable, a stray closing brace.
    for bad in [
        "New-NetFirewallRule -DisplayName 'x\n",
        "$Common = @{ Group = 'g'\nNew-NetFirewallRule @Common\n",
        "New-NetFirewallRule -DisplayName x }\n",
    ] {
        assert!(parse(bad).is_err(), "{bad:?} parsed");
    }
    // Well formed, but not a documented command or parameter.
    assert!(check("Invoke-Expression 'x'\n").is_err());
    assert!(check("New-NetFirewallRule -DisplayName x -Port 80\n").is_err());
    assert!(check("$C = @{ Bogus = 1 }\nNew-NetFirewallRule @C -DisplayName x\n").is_err());
    assert!(check("New-NetFirewallRule @Missing -DisplayName x\n").is_err());
    // And what it accepts, it reads right: the splat's keys are the command's parameters.
    let c = commands("$C = @{ Group = 'g'; Action = 'Allow' }\nNew-NetFirewallRule @C -Direction Inbound | Out-Null\n")
        .expect("parses");
    assert_eq!(c.len(), 2);
    assert_eq!(c[0].name, "New-NetFirewallRule");
    assert_eq!(c[0].parameters, ["Group", "Action", "Direction"]);
    assert_eq!(c[1].name, "Out-Null");
}

/// The fleet script under contrib/ parses with the PowerShell grammar, and declares the
/// parameters the README uses.
#[test]
fn the_fleet_script_parses() {
    common::powershell::parse(common::powershell::FLEET_SCRIPT)
        .unwrap_or_else(|e| panic!("contrib/powershell/Invoke-RdsportsFleet.ps1: {e}"));
    let params = common::powershell::fleet_script_parameters();
    for p in [
        "Inventory",
        "Deployment",
        "Binary",
        "Results",
        "ThrottleLimit",
        "TimeoutSeconds",
    ] {
        assert!(params.iter().any(|q| q == p), "{p} not in {params:?}");
    }
}

/// The import collector parses with the PowerShell grammar and calls only documented cmdlets
/// and parameters (the RemoteDesktop, CimCmdlets, NetTCPIP, DnsClient, WSMan and core
/// entries of the table), and never asks for a RADIUS shared secret.
#[test]
fn the_import_collector_parses_and_uses_only_documented_cmdlets() {
    let text = common::powershell::IMPORT_COLLECTOR;
    let commands = common::powershell::check(text)
        .unwrap_or_else(|e| panic!("crates/import/src/collector.ps1: {e}"));
    for cmdlet in [
        "Get-RDServer",
        "Get-RDDeploymentGatewayConfiguration",
        "Get-RDLicenseConfiguration",
        "Get-RDConnectionBrokerHighAvailability",
        "Get-RDSessionCollection",
        "Get-RDSessionHost",
        "Get-RDVirtualDesktopCollection",
        "Get-RDVirtualDesktop",
        "Get-CimInstance",
        "Invoke-CimMethod",
        "Invoke-Command",
        "New-PSSessionOption",
    ] {
        assert!(
            commands.iter().any(|c| c.name == cmdlet),
            "{cmdlet} is not called"
        );
    }
    let radius = commands
        .iter()
        .find(|c| {
            text.lines()
                .nth(c.line - 1)
                .is_some_and(|l| l.contains("Win32_TSGatewayRADIUSServer"))
        })
        .expect("the RADIUS servers are read");
    assert!(
        radius.parameters.iter().any(|p| p == "Property"),
        "{radius:?}"
    );
    assert!(
        !text.contains("SharedSecret"),
        "the collector names the shared secret"
    );
}
