//! The documentation kept true: the README's two commands, the generated pages (the catalog
//! table, the CLI reference), every relative link and anchor of the pages, and every
//! `rdsports` command and flag they show.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use super::*;

/// The clap definitions of the binary, compiled into the test so that the pages are checked
/// against the command line itself, not against a help text.
#[path = "../../src/cli.rs"]
#[allow(dead_code, clippy::all)]
mod cli_def;

/// The catalog reference's table is generated from the catalog; BLESS=1 rewrites it.
#[test]
fn the_catalog_page_matches_the_catalog() {
    let out = rdsports()
        .args(["ports", "--format", "markdown"])
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    let path = root().join("docs/reference/catalog.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (start, end) = ("<!-- catalog:start -->\n", "<!-- catalog:end -->");
    let a = readme
        .find(start)
        .expect("catalog.md has a catalog:start marker")
        + start.len();
    let b = readme
        .find(end)
        .expect("catalog.md has a catalog:end marker");
    if readme[a..b] != table {
        if std::env::var_os("BLESS").is_some() {
            std::fs::write(&path, format!("{}{}{}", &readme[..a], table, &readme[b..])).unwrap();
        } else {
            panic!(
                "docs/reference/catalog.md's table differs from `rdsports ports --format markdown`; run BLESS=1 cargo test --test cli"
            );
        }
    }
}

/// CI runs exactly the README's test command.
#[test]
fn ci_runs_the_readme_test_command() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    let command = readme
        .split("Run every test")
        .nth(1)
        .and_then(|s| s.split("```sh\n").nth(1))
        .and_then(|s| s.lines().next())
        .expect("README names the test command");
    assert!(
        ci.lines().any(|l| l.trim() == format!("exec {command}")),
        "{command:?} not in .ci/run"
    );
}

#[test]
fn completions_and_man_page() {
    rdsports()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("rdsports"));
    rdsports()
        .args(["completions", "powershell"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Register-ArgumentCompleter"));
    rdsports()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH rdsports"));
    rdsports()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit status: 0 ok, 1 findings"));
}

/// The Markdown pages: the README, the project's own pages and everything under docs/.
fn pages() -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = [
        "README.md",
        "CONTRIBUTING.md",
        "CHANGELOG.md",
        "ARCHITECTURE.md",
    ]
    .iter()
    .map(|p| root().join(p))
    .collect();
    let mut dirs = vec![root().join("docs")];
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

fn shown(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// A page's lines outside fenced code blocks, with their line numbers.
fn prose(text: &str) -> Vec<(usize, &str)> {
    let mut fenced = false;
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            lines.push((i + 1, line));
        }
    }
    lines
}

/// The line with its inline code spans blanked out (a link inside code is no link).
fn without_code(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_code = false;
    for c in line.chars() {
        if c == '`' {
            in_code = !in_code;
            out.push(' ');
        } else {
            out.push(if in_code { ' ' } else { c });
        }
    }
    out
}

/// The anchor GitHub gives a heading: its text as rendered (links by their text, no code
/// marks or emphasis), lower case, every character but letters, digits, `-`, `_` and spaces
/// dropped, spaces turned into `-`.
fn github_anchor(heading: &str) -> String {
    let mut text = String::new();
    let mut rest = heading;
    // [text](target) renders as text.
    while let Some(open) = rest.find('[') {
        let Some(mid) = rest[open..].find("](") else {
            break;
        };
        let Some(close) = rest[open + mid..].find(')') else {
            break;
        };
        text.push_str(&rest[..open]);
        text.push_str(&rest[open + 1..open + mid]);
        rest = &rest[open + mid + close + 1..];
    }
    text.push_str(rest);
    text.chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Every anchor of a page: its headings, numbered as GitHub numbers repeated ones.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for (_, line) in prose(text) {
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let heading = heading.trim_start_matches('#').trim();
        let base = github_anchor(heading);
        let mut anchor = base.clone();
        let mut n = 0;
        while seen.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        seen.insert(anchor);
    }
    seen
}

/// The targets of the Markdown links (`[text](target)`, `![alt](target)`) of a line.
fn link_targets(line: &str) -> Vec<String> {
    let line = without_code(line);
    let mut targets = Vec::new();
    let mut rest = line.as_str();
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let Some(end) = after.find(')') else {
            break;
        };
        targets.push(after[..end].trim().to_owned());
        rest = &after[end..];
    }
    targets
}

/// Whether `target`, a link in `page`, names a file or folder that exists and, for a Markdown
/// page, a heading it has. `None` when it resolves; the reason otherwise.
fn broken(page: &Path, target: &str) -> Option<String> {
    if target.contains("://") || target.starts_with("mailto:") {
        return None;
    }
    let (path, anchor) = match target.split_once('#') {
        Some((p, a)) => (p, Some(a)),
        None => (target, None),
    };
    let file = if path.is_empty() {
        page.to_path_buf()
    } else {
        page.parent().expect("a page is in a folder").join(path)
    };
    if !file.exists() {
        return Some(format!("{} does not exist", file.display()));
    }
    let anchor = anchor?;
    if file.extension().is_none_or(|e| e != "md") {
        return None;
    }
    let text = std::fs::read_to_string(&file).expect("a page");
    if anchors(&text).contains(anchor) {
        None
    } else {
        Some(format!("{} has no heading for #{anchor}", shown(&file)))
    }
}

#[test]
fn github_anchors_are_computed_as_github_does() {
    assert_eq!(
        github_anchor("The guide: rdsports by task"),
        "the-guide-rdsports-by-task"
    );
    assert_eq!(
        github_anchor("`[firewall]`: what the rules keep"),
        "firewall-what-the-rules-keep"
    );
    assert_eq!(
        github_anchor("`rdsports check` itself (`bench/check.sh`)"),
        "rdsports-check-itself-benchchecksh"
    );
    assert_eq!(
        github_anchor("Questions about rdsports' own results"),
        "questions-about-rdsports-own-results"
    );
    assert_eq!(
        github_anchor("A [link](x.md) and RDG_OUT_DATA"),
        "a-link-and-rdg_out_data"
    );
    let numbered = anchors("# A\n## Pitfalls\n```\n# not a heading\n```\n### Pitfalls\n");
    assert_eq!(
        numbered.into_iter().collect::<Vec<_>>(),
        ["a", "pitfalls", "pitfalls-1"]
    );
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let mut checked = 0;
    let mut problems = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("a page");
        for (line, content) in prose(&text) {
            for target in link_targets(content) {
                checked += 1;
                if let Some(why) = broken(&page, &target) {
                    problems.push(format!("{}:{line}: ({target}): {why}", shown(&page)));
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} links were found");
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

#[test]
fn a_broken_link_or_anchor_is_found() {
    let guide = root().join("docs/guide.md");
    assert_eq!(broken(&guide, "troubleshooting.md"), None);
    assert_eq!(broken(&guide, "#plan"), None);
    assert_eq!(broken(&guide, "reference/catalog.md#ids"), None);
    assert!(broken(&guide, "troubleshooting.md#no-such-heading").is_some());
    assert!(broken(&guide, "no-such-page.md").is_some());
    assert!(broken(&guide, "#no-such-heading").is_some());
    assert_eq!(
        link_targets("see [a](b.md#c), `[not](a link)` and ![img](d.png)"),
        ["b.md#c", "d.png"]
    );
}

/// An `rdsports` command line shown in a page: the words after the program name, up to a
/// redirection, a pipe or a comment.
fn command_words(line: &str) -> Option<Vec<&str>> {
    let mut words = line.split_whitespace().peekable();
    let program = words.next()?;
    let program = program.trim_start_matches(".\\").trim_start_matches("./");
    if program != "rdsports" && program != "rdsports.exe" {
        return None;
    }
    Some(
        words
            .take_while(|w| {
                !w.starts_with('>')
                    && !w.starts_with('<')
                    && !w.starts_with('#')
                    && !w.starts_with("2>")
                    && !matches!(*w, "|" | "||" | "&&" | ";")
            })
            .collect(),
    )
}

/// What is wrong with an `rdsports` command line, if anything: its subcommand and every flag
/// must exist in the clap definition.
fn wrong_command(cli: &clap::Command, words: &[&str], strict: bool) -> Option<String> {
    let mut cmd = cli;
    let mut rest = words;
    while let Some(first) = rest.first() {
        if first.starts_with('-') || !cmd.has_subcommands() {
            break;
        }
        match cmd.find_subcommand(first) {
            Some(sub) => {
                cmd = sub;
                rest = &rest[1..];
            }
            // An inline span that is not a command line (`rdsports drop: `) is left alone.
            None if !strict => return None,
            None => return Some(format!("no command `{first}`")),
        }
    }
    for word in rest {
        let known = if let Some(long) = word.strip_prefix("--") {
            let long = long.split('=').next().unwrap_or(long);
            long.is_empty()
                || matches!(long, "help" | "version")
                || cmd.get_arguments().any(|a| {
                    a.get_long() == Some(long)
                        || a.get_all_aliases().is_some_and(|al| al.contains(&long))
                })
        } else if let Some(short) = word.strip_prefix('-') {
            let mut chars = short.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii_alphabetic() => {
                    matches!(c, 'h' | 'V') || cmd.get_arguments().any(|a| a.get_short() == Some(c))
                }
                _ => true,
            }
        } else {
            true
        };
        if !known {
            return Some(format!(
                "`{}` has no flag {word}",
                cmd.get_bin_name().unwrap_or(cmd.get_name())
            ));
        }
    }
    None
}

/// Every command line of a page: the lines of its shell code blocks (other blocks' only after
/// a `$ ` prompt: the rest is output), continuation lines joined, and its inline code spans.
fn command_lines(text: &str) -> Vec<(usize, String, bool)> {
    let mut found = Vec::new();
    let mut fence: Option<String> = None;
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(tag) = trimmed.strip_prefix("```") {
            fence = match fence {
                Some(_) => None,
                None => Some(tag.trim().to_owned()),
            };
            continue;
        }
        match &fence {
            Some(tag) => {
                let (start, mut joined) = pending.take().unwrap_or((i + 1, String::new()));
                joined.push_str(trimmed.trim_end_matches(['\\', '`']));
                joined.push(' ');
                if trimmed.ends_with('\\') || trimmed.ends_with(" `") {
                    pending = Some((start, joined));
                    continue;
                }
                let joined = joined.split_whitespace().collect::<Vec<_>>().join(" ");
                let shown = joined.as_str();
                // Shell blocks are commands; other blocks (output, diagrams) are commands only
                // after a `$ ` prompt.
                let shell = matches!(
                    tag.as_str(),
                    "sh" | "bash" | "shell" | "console" | "powershell" | "ps1" | "pwsh" | "cmd"
                );
                let command = match shown.strip_prefix("$ ") {
                    Some(c) => Some(c),
                    None if shell => Some(shown),
                    None => None,
                };
                if let Some(c) = command {
                    for part in c.split(" && ").flat_map(|p| p.split(" || ")) {
                        found.push((start, part.trim().to_owned(), true));
                    }
                }
            }
            None => {
                for (n, span) in line.split('`').enumerate() {
                    if n % 2 == 1 && span.starts_with("rdsports ") {
                        found.push((i + 1, span.to_owned(), false));
                    }
                }
            }
        }
    }
    found
}

#[test]
fn every_command_and_flag_shown_exists() {
    let mut cli = cli_def::Cli::command();
    cli.build();
    let mut checked = 0;
    let mut problems = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("a page");
        for (line, command, strict) in command_lines(&text) {
            let Some(words) = command_words(&command) else {
                continue;
            };
            checked += 1;
            if let Some(why) = wrong_command(&cli, &words, strict) {
                problems.push(format!("{}:{line}: {command}: {why}", shown(&page)));
            }
        }
    }
    assert!(checked > 100, "only {checked} command lines were found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_wrong_command_or_flag_is_found() {
    let mut cli = cli_def::Cli::command();
    cli.build();
    let check = |line: &str| {
        let words = command_words(line).expect("a command line");
        wrong_command(&cli, &words, true)
    };
    assert_eq!(
        check("rdsports check contoso.toml --as gw01 -f json > x.json"),
        None
    );
    assert_eq!(check(".\\rdsports.exe check .\\a.toml --from sh01"), None);
    assert_eq!(
        check("rdsports fleet summary results/ contoso.toml --format json"),
        None
    );
    assert!(check("rdsports chek contoso.toml").is_some());
    assert!(check("rdsports check contoso.toml --frm gw01").is_some());
    assert!(check("rdsports fleet summary results/ --os linux").is_some());
    assert!(check("rdsports plan -t nftables").is_some());
    let lines = command_lines(
        "```sh\nrdsports rules a.toml \\\n    --target nftables\n```\n```text\n$ rdsports plan\nrdsports demo: output\n```\nsee `rdsports ports 5504`\n",
    );
    let shown: Vec<&str> = lines.iter().map(|(_, c, _)| c.as_str()).collect();
    assert_eq!(
        shown,
        [
            "rdsports rules a.toml --target nftables",
            "rdsports plan",
            "rdsports ports 5504"
        ]
    );
}

/// What opens the generated CLI reference.
const CLI_INTRO: &str = "# The command line

Every command and option of `rdsports`, as `rdsports <command> --help` prints them. This page
is generated from the command line's definition (`src/cli.rs`): a test fails when the two
differ, and `BLESS=1 cargo test --test cli` rewrites it. How to use each command is in
[the guide](../guide.md); `rdsports man` prints the same as a man page.
";

/// The CLI reference: the long help of the program and of every command, each under its
/// own heading.
fn cli_reference() -> String {
    let mut cli = cli_def::Cli::command().term_width(100);
    cli.build();
    let mut sections = Vec::new();
    fn walk(cmd: &clap::Command, sections: &mut Vec<(String, String)>) {
        let name = cmd.get_bin_name().unwrap_or(cmd.get_name()).to_owned();
        let help = cmd.clone().render_long_help().to_string();
        let help: Vec<&str> = help.lines().map(str::trim_end).collect();
        sections.push((name, help.join("\n").trim_end().to_owned()));
        for sub in cmd.get_subcommands() {
            if sub.get_name() != "help" {
                walk(sub, sections);
            }
        }
    }
    walk(&cli, &mut sections);
    let mut out = format!("{CLI_INTRO}\n");
    for (name, _) in &sections {
        out.push_str(&format!(
            "- [`{name}`](#{})\n",
            github_anchor(&format!("`{name}`"))
        ));
    }
    for (name, help) in &sections {
        out.push_str(&format!("\n## `{name}`\n\n```text\n{help}\n```\n"));
    }
    out
}

#[test]
fn the_cli_reference_is_generated_from_clap() {
    rdsports_testkit::golden(root().join("docs/reference/cli.md"), &cli_reference());
}

/// `rdsports --help` and every command's long help name the page that explains it, and the
/// page and its anchor exist.
#[test]
fn every_command_help_names_its_docs_page() {
    let mut cli = cli_def::Cli::command();
    cli.build();
    let readme = root().join("README.md");
    let mut commands = vec![cli.clone()];
    commands.extend(
        cli.get_subcommands()
            .filter(|c| c.get_name() != "help")
            .cloned(),
    );
    for mut cmd in commands {
        let name = cmd.get_bin_name().unwrap_or(cmd.get_name()).to_owned();
        let help = cmd.render_long_help().to_string();
        let pages: Vec<&str> = help
            .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | ';'))
            .map(|w| w.trim_end_matches(['.', ':']))
            .filter(|w| (w.starts_with("docs/") || w.starts_with("README.md")) && w.contains(".md"))
            // `docs/reference/platforms/<target>.md` stands for one page per target.
            .filter(|w| !w.contains('<'))
            .collect();
        assert!(!pages.is_empty(), "`{name} --help` names no page:\n{help}");
        for page in pages {
            assert_eq!(broken(&readme, page), None, "`{name} --help` names {page}");
        }
    }
}
