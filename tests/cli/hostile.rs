//! Hostile inputs, generated: files that would exhaust the machine, diagnostics that would
//! grow with the square of the input, encodings, hostile names. Every case asserts on the
//! exit status (2 for bad input, never a signal), on counts and on sizes ("stderr under
//! 1 MB"); the cases that would once have taken gigabytes run under `ulimit -v` in a
//! subprocess. Their time is measured by `bench/hostile.sh`, not here.

#[cfg(unix)]
use std::os::unix::process::ExitStatusExt;
use std::process::Output;

use super::*;

/// Every role, for hosts that have all of them.
const ROLES: [&str; 17] = [
    "client",
    "gateway",
    "web-access",
    "connection-broker",
    "session-host",
    "virtualization-host",
    "virtual-desktop",
    "licensing",
    "domain-controller",
    "dns",
    "nps",
    "crl",
    "sql",
    "file-server",
    "management",
    "clearinghouse",
    "reverse-proxy",
];

/// A documentation-range address for host `i` (198.18.0.0/15: never probed).
fn addr(i: usize) -> String {
    format!("198.{}.{}.{}", 18 + i / 65536, (i / 256) % 256, i % 256)
}

fn host(name: &str, address: &str, roles: &[&str]) -> String {
    let roles: Vec<String> = roles.iter().map(|r| format!("\"{r}\"")).collect();
    format!(
        "[[host]]\nname = \"{name}\"\naddress = \"{address}\"\nroles = [{}]\n",
        roles.join(", ")
    )
}

/// `hosts` hosts that each have every role.
fn every_role(hosts: usize) -> String {
    let mut s = String::from("name = \"every\"\n");
    for i in 0..hosts {
        s += &host(&format!("h{i}"), &addr(i), &ROLES);
    }
    s
}

/// `hosts` hosts with one to four roles each (a fixed pseudo-random pattern).
fn mixed(hosts: usize) -> String {
    let mut s = String::from("name = \"mixed\"\n");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..hosts {
        let mut roles = Vec::new();
        for _ in 0..=(i % 4) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let r = ROLES[(x % 17) as usize];
            if !roles.contains(&r) {
                roles.push(r);
            }
        }
        s += &host(&format!("h{i}"), &addr(i), &roles);
    }
    s
}

/// `zones` zones with one host each, the roles of a deployment in turn.
fn zone_per_host(zones: usize) -> String {
    let mut s = String::from("name = \"zones\"\n");
    for i in 0..zones {
        s += &format!(
            "[[zone]]\nname = \"z{i}\"\nnetworks = [\"{}/32\"]\n",
            addr(i)
        );
    }
    let turn = [
        "session-host",
        "connection-broker",
        "gateway",
        "domain-controller",
        "web-access",
        "licensing",
    ];
    for i in 0..zones {
        s += &host(&format!("h{i}"), &addr(i), &[turn[i % turn.len()]]);
    }
    s
}

/// Runs rdsports with `args` under a virtual memory limit of `mb` MB (`ulimit -v`).
fn limited(mb: usize, args: &[&str]) -> Output {
    let bin = assert_cmd::cargo::cargo_bin!("rdsports");
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {} && exec \"$0\" \"$@\"", mb * 1024))
        .arg(bin)
        .args(args)
        .env("COLUMNS", "100")
        .output()
        .unwrap()
}

/// Exit status 2, not a signal; stderr under 1 MB.
fn bad_input(out: &Output) -> String {
    // A signal (SIGABRT, SIGKILL from the memory cap) is never an answer; Windows has none.
    #[cfg(unix)]
    assert_eq!(out.status.signal(), None, "killed by a signal: {out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        out.stderr.len() < 1 << 20,
        "stderr is {} bytes",
        out.stderr.len()
    );
    stderr
}

#[test]
fn plans_that_would_exhaust_the_machine_are_refused_with_their_size() {
    let dir = tempfile::tempdir().unwrap();
    let every = write(&dir, "every.toml", every_role(3_000).as_bytes());
    let mixed = write(&dir, "mixed.toml", mixed(20_000).as_bytes());
    let zones = write(&dir, "zones.toml", zone_per_host(2_000).as_bytes());
    for (file, flows) in [
        (&every, "188,937,000"),
        (&mixed, " flows, more than the limit of 4,000,000"),
        (&zones, "7,777,887"),
    ] {
        let file = file.to_str().unwrap();
        let mut commands = vec![vec!["plan", file]];
        if flows == "188,937,000" {
            commands.push(vec!["rules", file, "--target", "nftables"]);
            commands.push(vec!["report", file, "-o", "/dev/null"]);
            commands.push(vec!["diagram", file]);
        }
        for args in commands {
            // 1 GB of address space: the old planner asked for 26 GB here and aborted.
            let out = limited(1024, &args);
            let stderr = bad_input(&out);
            assert!(stderr.contains("the plan would have"), "{args:?}: {stderr}");
            assert!(stderr.contains(flows), "{args:?}: {stderr}");
            assert!(stderr.contains("--max-flows"), "{stderr}");
            assert!(stderr.contains("largest entries:\n  "), "{stderr}");
        }
    }
    // One host's flows of the same file fit: `--host` is the way out the message names.
    let out = limited(
        1024,
        &[
            "plan",
            every.to_str().unwrap(),
            "--host",
            "h7",
            "--format",
            "csv",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Raising the limit below the size still refuses, and says the new limit.
    let out = limited(
        1024,
        &["plan", zones.to_str().unwrap(), "--max-flows", "5000000"],
    );
    assert!(bad_input(&out).contains("more than the limit of 5,000,000"));
}

/// Hosts in zones of their own: every zone pair is a rule set and a group of arrows. Within
/// the flow limit, `rules` refuses above 50,000 zone pairs and `diagram` and `report` above
/// 1,000, before building anything (1,000 such zones took 1.5 GB for rules and 14 GB for the
/// diagram).
#[test]
fn zone_pairs_beyond_the_limits_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let many = write(&dir, "z1000.toml", zone_per_host(1_000).as_bytes());
    let some = write(&dir, "z100.toml", zone_per_host(100).as_bytes());
    let few = write(&dir, "z30.toml", zone_per_host(30).as_bytes());
    let (many, some, few) = (
        many.to_str().unwrap(),
        some.to_str().unwrap(),
        few.to_str().unwrap(),
    );
    let stderr = bad_input(&limited(1024, &["rules", many, "--target", "nftables"]));
    assert!(
        stderr.contains(
            "the flows join 306,776 pairs of zones (1,000 zones), more than the limit of 50,000"
        ),
        "{stderr}"
    );
    for args in [
        vec!["diagram", some],
        vec!["report", some, "-o", "/dev/null"],
    ] {
        let stderr = bad_input(&limited(1024, &args));
        assert!(
            stderr.contains("3,176 pairs of zones (100 zones), more than the limit of 1,000"),
            "{stderr}"
        );
    }
    // The plan of the same file is cheap and works; so do small zone counts.
    assert_eq!(
        limited(1024, &["plan", some, "--format", "csv"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(limited(1024, &["diagram", few]).status.code(), Some(0));
    assert_eq!(
        limited(1024, &["rules", some, "--target", "nftables"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn endless_and_oversized_inputs_are_refused_at_once() {
    for args in [
        vec!["plan", "/dev/zero"],
        vec!["rules", "/dev/zero", "--target", "nftables"],
        vec!["report", "--check", "/dev/zero", "-o", "/dev/null"],
    ] {
        let stderr = bad_input(&limited(512, &args));
        assert!(stderr.contains("rdsports reads at most"), "{stderr}");
    }
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 524288 && exec \"$0\" plan - < /dev/zero")
        .arg(assert_cmd::cargo::cargo_bin!("rdsports"))
        .output()
        .unwrap();
    assert!(bad_input(&out).contains("<stdin>: the deployment file is more than 16,777,216 bytes"));
    // A regular file above the cap is refused from its size, before it is read.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(17 << 20)
        .unwrap();
    let stderr = bad_input(&limited(512, &["plan", big.to_str().unwrap()]));
    assert!(stderr.contains("is 17,825,792 bytes"), "{stderr}");
}

#[test]
fn diagnostics_stay_linear_and_capped() {
    let dir = tempfile::tempdir().unwrap();
    // 100,000 duplicated roles on one line of 1.1 MB.
    let line = vec!["\"gateway\""; 100_000].join(", ");
    let dup = write(
        &dir,
        "dup.toml",
        format!(
            "name = \"d\"\n[[host]]\nname = \"a\"\naddress = \"198.18.0.1\"\nroles = [{line}]\n"
        )
        .as_bytes(),
    );
    let out = rdsports()
        .args(["plan", dup.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.stderr.len() < 1 << 20, "{} bytes", out.stderr.len());
    assert_eq!(
        stderr
            .matches("warning: role \"gateway\" is listed twice")
            .count(),
        10
    );
    assert!(
        stderr.contains("and 99,989 more warnings like this"),
        "{stderr}"
    );
    // 20,000 unknown roles and 20,000 duplicate hosts: ten of each in full, then a count.
    let mut text = String::from("name = \"u\"\n");
    for i in 0..20_000 {
        text += &host(&format!("h{i}"), &addr(i), &[&format!("role{i}")]);
        text += &host("twin", &addr(i + 30_000), &["gateway"]);
    }
    let unknown = write(&dir, "unknown.toml", text.as_bytes());
    let stderr = bad_input(
        &rdsports()
            .args(["plan", unknown.to_str().unwrap()])
            .output()
            .unwrap(),
    );
    assert!(
        stderr.contains("and 19,990 more errors like this: unknown role"),
        "{stderr}"
    );
    assert!(
        stderr.contains("and 19,989 more errors like this: duplicate host"),
        "{stderr}"
    );
    assert!(stderr.contains("has 39,999 errors"), "{stderr}");
}

#[test]
fn every_error_has_a_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let deep = format!("name = \"x\"\na.{} = 1\n", vec!["b"; 100].join("."));
    let utf16: Vec<u8> = "name = \"x\"\n"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    for (bytes, at) in [
        (deep.into_bytes(), ":2:1"),
        (utf16, ":1:1"),
        (b"name = \"x\"\n# \0\n".to_vec(), ":2:3"),
        (b"name = \"x\"\n# caf\xe9\n".to_vec(), ":2:6"),
    ] {
        let file = write(&dir, "bad.toml", &bytes);
        let stderr = bad_input(
            &rdsports()
                .args(["plan", file.to_str().unwrap()])
                .output()
                .unwrap(),
        );
        assert!(stderr.contains(&format!("bad.toml{at}")), "{at}: {stderr}");
        assert!(stderr.contains("hint:"), "{stderr}");
    }
}

/// What Windows Notepad and PowerShell save: UTF-8 with a BOM, UTF-16 LE and BE with a BOM,
/// CRLF line ends. Each plans exactly as the UTF-8 original.
#[test]
fn files_saved_by_windows_tools_plan_like_the_original() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("examples/perimeter.toml"))
        .unwrap()
        .replace('\n', "\r\n");
    let plain = rdsports()
        .args(["plan", "--format", "csv"])
        .output()
        .unwrap();
    let mut encodings = vec![
        b"\xEF\xBB\xBF"
            .iter()
            .chain(text.as_bytes())
            .copied()
            .collect::<Vec<u8>>(),
        text.clone().into_bytes(),
    ];
    encodings.push(
        [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect(),
    );
    encodings.push(
        [0xFE, 0xFF]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect(),
    );
    for bytes in encodings {
        let file = write(&dir, "win.toml", &bytes);
        let out = rdsports()
            .args(["plan", file.to_str().unwrap(), "--format", "csv"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.stdout, plain.stdout);
    }
}

/// Reserved device names and names that differ only in case become distinct file names
/// that Windows can create, with a warning; 8,000 CJK names get distinct identifiers and a
/// bounded list of warnings.
#[test]
fn hostile_names_give_distinct_portable_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("name = \"n\"\n");
    let names = [
        "CON", "nul", "COM1", "Aux", "PRN", "LPT1", "GW01", "gw01", "Gw01",
    ];
    for (i, n) in names.iter().enumerate() {
        text += &host(n, &addr(10 + i), &["session-host"]);
    }
    text += &host("gw", &addr(1), &["gateway"]);
    let file = write(&dir, "names.toml", text.as_bytes());
    let out_dir = dir.path().join("out");
    let out = rdsports()
        .args([
            "rules",
            file.to_str().unwrap(),
            "--target",
            "windows",
            "--out",
        ])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut files: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    // The gateway accepts nothing here (no clients): one script per session host.
    assert_eq!(files.len(), names.len(), "{files:?}");
    let lower: std::collections::BTreeSet<String> =
        files.iter().map(|f| f.to_lowercase()).collect();
    assert_eq!(lower.len(), files.len(), "{files:?}");
    for reserved in [
        "CON_.ps1",
        "nul_.ps1",
        "COM1_.ps1",
        "Aux_.ps1",
        "PRN_.ps1",
        "LPT1_.ps1",
    ] {
        assert!(files.contains(&reserved.to_owned()), "{files:?}");
    }
    assert!(
        stderr.contains("CON is a reserved device name on Windows"),
        "{stderr}"
    );
    assert!(stderr.contains("differs from it only in case"), "{stderr}");

    let mut text = String::from("name = \"cjk\"\n");
    for i in 0..8_000u32 {
        let name: String = std::iter::repeat_n(char::from_u32(0x4E00 + i).unwrap(), 2).collect();
        text += &host(&name, &addr(10 + i as usize), &["session-host"]);
    }
    text += &host("gw", &addr(1), &["gateway"]);
    let file = write(&dir, "cjk.toml", text.as_bytes());
    let out = rdsports()
        .args([
            "rules",
            file.to_str().unwrap(),
            "--target",
            "nftables",
            "--host-variant",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.len() < 1 << 20, "{} bytes", out.stderr.len());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("and 7990 more names renamed the same way"),
        "{stderr}"
    );
}

#[test]
fn a_whole_address_space_server_warns_without_zones() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "name = \"z\"\n{}{}",
        host("dc", "0.0.0.0/0", &["domain-controller"]),
        host("sh", &addr(2), &["session-host"])
    );
    let file = write(&dir, "z.toml", text.as_bytes());
    let out = rdsports()
        .args(["plan", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("\"dc\" is the whole address space (0.0.0.0/0)"),
        "{stderr}"
    );
    assert!(stderr.contains("z.toml:4:"), "{stderr}");
}
