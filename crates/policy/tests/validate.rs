//! The platforms' own tools check the generated files: `nft -c -f` and
//! `iptables-restore --test` (inside a fresh user and network namespace, `unshare -rn`, so
//! they need no privileges and touch no real firewall), Aerleon's `aclgen` and `cfn-lint`
//! (from the test venv, see `common::tool`), and a structural check of the ARM template.
//!
//! A missing tool prints `skipped: <tool> not installed` and passes, except under `CI=true`,
//! where it fails.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rdsports_core::Plan;
use rdsports_policy::{GenError, RenderOptions, Rendered, render};
use serde_json::Value;

/// Every case: the examples and the fixtures.
fn cases() -> Vec<(String, Plan<'static>)> {
    let mut out: Vec<(String, Plan<'static>)> = common::examples()
        .into_iter()
        .map(|e| (e.clone(), common::plan(&e)))
        .collect();
    for f in ["ftp-v6", "ftp-passive-v6", "per-host"] {
        out.push((format!("fixture-{f}"), common::fixture_plan(f)));
    }
    out
}

/// `--keep` entries of both families.
fn keeps() -> Vec<rdsports_policy::Keep> {
    [
        "203.0.113.5:22",
        "198.51.100.0/24",
        "[2001:db8::5]:8000-8010/udp",
    ]
    .iter()
    .map(|k| k.parse().expect("a --keep entry"))
    .collect()
}

/// The option sets a zone firewall is checked with: default (enforcing), allow-only, with
/// keeps, the host variant with everything, the merge forms (zone and host), one rule per
/// flow, and the first boundary of the deployment.
fn zone_option_sets(plan: &Plan<'_>) -> Vec<RenderOptions> {
    let mut sets = vec![
        RenderOptions::default(),
        RenderOptions {
            default_drop: false,
            ..RenderOptions::default()
        },
        RenderOptions {
            keep: keeps(),
            ..RenderOptions::default()
        },
        RenderOptions {
            host_variant: true,
            outbound: true,
            keep: keeps(),
            ..RenderOptions::default()
        },
        RenderOptions {
            merge: true,
            keep: keeps(),
            ..RenderOptions::default()
        },
        RenderOptions {
            merge: true,
            host_variant: true,
            outbound: true,
            ..RenderOptions::default()
        },
        RenderOptions {
            aggregate: false,
            ..RenderOptions::default()
        },
    ];
    if let [a, b, ..] = plan.deployment.zones.as_slice() {
        sets.push(RenderOptions {
            boundary: Some((a.name.clone(), b.name.clone())),
            ..RenderOptions::default()
        });
    }
    sets
}

/// Writes the rendered files under `dir` and returns their paths.
fn write(dir: &Path, r: &Rendered) -> Vec<PathBuf> {
    r.files
        .iter()
        .map(|(name, text)| {
            let p = dir.join(name);
            std::fs::create_dir_all(p.parent().expect("file has a parent")).expect("mkdir");
            std::fs::write(&p, text).expect("write");
            p
        })
        .collect()
}

/// `unshare` flags for a fresh network namespace: `-n` as root (keeps the real
/// CAP_NET_ADMIN, so nft may enlarge its netlink buffer for big batches), else `-rn` (a new
/// user namespace too, so no privilege is needed).
fn unshare_flags() -> &'static str {
    #[cfg(unix)]
    let root = {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
    };
    // No namespaces elsewhere: `unshare` is not found and the test says it was skipped.
    #[cfg(not(unix))]
    let root = false;
    if root { "-n" } else { "-rn" }
}

/// Whether `unshare` works here (prints the skip otherwise).
fn netns_available() -> bool {
    let ok = Command::new("unshare")
        .args([unshare_flags(), "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(!common::ci(), "unshare -rn does not work here, and CI=true");
        eprintln!("skipped: unshare -rn (user namespaces) not available");
    }
    ok
}

/// Runs `program args...` inside a new user and network namespace, with `stdin` from a file.
fn in_netns(program: &Path, args: &[&str], stdin: Option<&Path>) -> (bool, String) {
    let mut cmd = Command::new("unshare");
    cmd.arg(unshare_flags()).arg(program).args(args);
    cmd.stdin(match stdin {
        Some(p) => Stdio::from(std::fs::File::open(p).expect("open stdin file")),
        None => Stdio::null(),
    });
    let out = cmd.output().expect("unshare runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A system tool (`nft`, `iptables-restore`) on PATH or in /usr/sbin, /sbin.
fn system_tool(name: &str) -> Option<PathBuf> {
    let found = common::tool(name).or_else(|| {
        ["/usr/sbin", "/sbin"]
            .iter()
            .map(|d| Path::new(d).join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            !common::ci(),
            "{name} not installed, and CI=true: a missing tool is a failure"
        );
        eprintln!("skipped: {name} not installed");
    }
    found
}

#[test]
fn nft_accepts_every_nftables_file() {
    let Some(nft) = system_tool("nft") else {
        return;
    };
    if !netns_available() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut checked = 0;
    for (case, plan) in cases() {
        for (i, opts) in zone_option_sets(&plan).into_iter().enumerate() {
            let r = render("nftables", &plan, &opts).expect("nftables renders every case");
            let dir = tmp.path().join(format!("{case}-{i}"));
            for file in write(&dir, &r) {
                // A merge file goes into the admin's table: check it on top of one.
                let text = std::fs::read_to_string(&file).expect("read");
                let (ok, out) = if text.contains("# Merge form") {
                    let script = format!(
                        "{} -f {} && {} -c -f {}",
                        nft.display(),
                        admin_nft(&dir).display(),
                        nft.display(),
                        file.display()
                    );
                    in_netns(Path::new("sh"), &["-c", &script], None)
                } else {
                    in_netns(&nft, &["-c", "-f", &file.to_string_lossy()], None)
                };
                if !ok && out.contains("Message too long") && unshare_flags() == "-rn" {
                    // Without CAP_NET_ADMIN nft cannot enlarge its netlink buffer.
                    eprintln!(
                        "skipped: {} is too large a batch for nft without root",
                        file.display()
                    );
                    continue;
                }
                assert!(ok, "nft -c rejects {}:\n{out}", file.display());
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "checked {checked} files");
}

/// An admin's own filtering table (`inet filter` with base chains that drop, and an SSH
/// accept), written into `dir`.
fn admin_nft(dir: &Path) -> PathBuf {
    let p = dir.join("admin-table.nft");
    std::fs::write(
        &p,
        "table inet filter {\n\
         \tchain input { type filter hook input priority filter; policy drop; tcp dport 22 accept; }\n\
         \tchain forward { type filter hook forward priority filter; policy drop; tcp dport 22 accept; }\n\
         \tchain output { type filter hook output priority filter; policy accept; }\n\
         }\n",
    )
    .expect("write");
    p
}

/// The commands a merge file's header gives for its jumps (`#  iptables -C ... || ...`).
fn jump_commands(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("#  "))
        .filter(|l| l.contains(" || "))
        .map(str::to_owned)
        .collect()
}

/// Applying a merge file twice (with the jump commands from its header each time) into a
/// namespace whose firewall already has the admin's rules leaves exactly what applying it
/// once did: one jump, one copy of every chain; the admin's rules stay.
#[test]
fn merge_files_are_idempotent() {
    let (Some(nft), Some(v4), Some(v6)) = (
        system_tool("nft"),
        system_tool("iptables-restore"),
        system_tool("ip6tables-restore"),
    ) else {
        return;
    };
    if !netns_available() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut proved = 0;
    for (case, plan) in cases() {
        for (i, host_variant) in [false, true].into_iter().enumerate() {
            let opts = RenderOptions {
                merge: true,
                host_variant,
                outbound: host_variant,
                keep: keeps(),
                ..RenderOptions::default()
            };
            for target in ["iptables", "nftables"] {
                let r = render(target, &plan, &opts).expect("renders");
                let dir = tmp.path().join(format!("{case}-{target}-{i}"));
                for file in write(&dir, &r) {
                    let text = std::fs::read_to_string(&file).expect("read");
                    let jumps = jump_commands(&text).join("\n");
                    assert!(!jumps.is_empty(), "{}: no jump commands", file.display());
                    let v6_file = file.to_string_lossy().ends_with(".v6.rules");
                    let (admin, apply, save) = if target == "nftables" {
                        (
                            format!("{} -f {}", nft.display(), admin_nft(&dir).display()),
                            format!("{} -f {}", nft.display(), file.display()),
                            format!("{} list ruleset", nft.display()),
                        )
                    } else {
                        let (restore, bin) = if v6_file {
                            (&v6, "ip6tables")
                        } else {
                            (&v4, "iptables")
                        };
                        let save = format!(
                            "{} -t filter; {} -t raw",
                            restore.display().to_string().replace("-restore", "-save"),
                            restore.display().to_string().replace("-restore", "-save")
                        );
                        (
                            format!(
                                "{bin} -P FORWARD DROP && {bin} -A FORWARD -p tcp --dport 22 -j ACCEPT"
                            ),
                            format!("{} --noflush < {}", restore.display(), file.display()),
                            save,
                        )
                    };
                    // iptables-save's own comment lines carry a time stamp.
                    let script = format!(
                        "set -e\n{admin}\n{apply}\n{jumps}\n({save}) | grep -v '^#' > {d}/once\n\
                         {apply}\n{jumps}\n({save}) | grep -v '^#' > {d}/twice\n",
                        d = dir.display()
                    );
                    let (ok, out) = in_netns(Path::new("sh"), &["-c", &script], None);
                    assert!(ok, "{}: applying fails:\n{out}", file.display());
                    let once = std::fs::read_to_string(dir.join("once")).expect("once");
                    let twice = std::fs::read_to_string(dir.join("twice")).expect("twice");
                    assert_eq!(
                        once,
                        twice,
                        "{}: the second application changed the firewall",
                        file.display()
                    );
                    let ours = if target == "nftables" {
                        "jump rdsports-"
                    } else {
                        "-j RDSPORTS-"
                    };
                    let jump_lines = once
                        .lines()
                        .filter(|l| l.contains(ours) && !l.contains("RDSPORTS-r"))
                        .count();
                    assert_eq!(
                        jump_lines,
                        jumps.lines().count(),
                        "{}: one jump per base chain:\n{once}",
                        file.display()
                    );
                    assert!(
                        once.contains("dport 22 accept") || once.contains("--dport 22 -j ACCEPT"),
                        "{}: the admin's SSH rule is gone:\n{once}",
                        file.display()
                    );
                    proved += 1;
                }
            }
        }
    }
    assert!(proved >= 10, "proved {proved} files");
}

#[test]
fn iptables_restore_accepts_every_iptables_file() {
    let Some(v4) = system_tool("iptables-restore") else {
        return;
    };
    let Some(v6) = system_tool("ip6tables-restore") else {
        return;
    };
    if !netns_available() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut checked = 0;
    for (case, plan) in cases() {
        for (i, opts) in zone_option_sets(&plan).into_iter().enumerate() {
            let r = render("iptables", &plan, &opts).expect("iptables renders every case");
            let dir = tmp.path().join(format!("{case}-{i}"));
            for file in write(&dir, &r) {
                let tool = if file.to_string_lossy().ends_with(".v6.rules") {
                    &v6
                } else {
                    &v4
                };
                let merge = std::fs::read_to_string(&file)
                    .expect("read")
                    .contains("# Merge form");
                let args: &[&str] = if merge {
                    &["--test", "--noflush"]
                } else {
                    &["--test"]
                };
                let (ok, out) = in_netns(tool, args, Some(&file));
                assert!(
                    ok,
                    "{} --test rejects {}:\n{out}",
                    tool.display(),
                    file.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 10, "checked {checked} files");
}

#[test]
fn aclgen_accepts_every_aerleon_policy() {
    let Some(aclgen) = common::require_tool("aclgen") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    for (case, plan) in cases() {
        for (i, opts) in [
            RenderOptions::default(),
            RenderOptions {
                default_drop: false,
                ..RenderOptions::default()
            },
            RenderOptions {
                keep: keeps(),
                ..RenderOptions::default()
            },
        ]
        .into_iter()
        .enumerate()
        {
            let r = render("aerleon", &plan, &opts).expect("aerleon renders every case");
            let dir = tmp.path().join(format!("{case}-{i}"));
            write(&dir, &r);
            run_aclgen(&aclgen, &dir);
        }
    }
}

/// Runs aclgen on a rendered Aerleon tree and checks it wrote the SRX and Palo Alto files.
fn run_aclgen(aclgen: &Path, dir: &Path) {
    let out_dir = dir.join("out");
    std::fs::create_dir_all(&out_dir).expect("mkdir");
    let out = Command::new(aclgen)
        .arg(format!(
            "--base_directory={}",
            dir.join("policies").display()
        ))
        .arg(format!(
            "--definitions_directory={}",
            dir.join("def").display()
        ))
        .arg(format!("--output_directory={}", out_dir.display()))
        .output()
        .expect("aclgen runs");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "aclgen fails on {}:\n{log}",
        dir.display()
    );
    assert!(
        !log.contains("Traceback"),
        "aclgen raised on {}:\n{log}",
        dir.display()
    );
    let written: BTreeSet<String> = std::fs::read_dir(&out_dir)
        .expect("aclgen output")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.path()
                .extension()
                .map(|x| x.to_string_lossy().into_owned())
        })
        .collect();
    let policy = std::fs::read_to_string(
        std::fs::read_dir(dir.join("policies/pol"))
            .expect("policy dir")
            .filter_map(|e| e.ok())
            .next()
            .expect("one policy")
            .path(),
    )
    .expect("policy readable");
    if !policy.contains("filters: []") {
        assert!(
            written.contains("srx") && written.contains("xml"),
            "aclgen wrote {written:?} for {}",
            dir.display()
        );
    }
}

#[test]
fn cfn_lint_accepts_every_cloudformation_template() {
    let Some(cfn_lint) = common::require_tool("cfn-lint") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut files = Vec::new();
    for (case, plan) in cases() {
        for (i, opts) in [
            RenderOptions::default(),
            RenderOptions {
                outbound: true,
                ..RenderOptions::default()
            },
        ]
        .into_iter()
        .enumerate()
        {
            match render("aws-sg", &plan, &opts) {
                Ok(r) => files.extend(write(&tmp.path().join(format!("{case}-{i}")), &r)),
                Err(GenError::Unexpressible { .. }) if case == "fixture-ftp-v6" => {}
                Err(e) => panic!("aws-sg fails on {case}: {e}"),
            }
        }
    }
    assert!(files.len() >= 8);
    let out = Command::new(&cfn_lint)
        .args(&files)
        .output()
        .expect("cfn-lint runs");
    assert!(
        out.status.success(),
        "cfn-lint finds problems:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn arm_templates_are_well_formed() {
    for (case, plan) in cases() {
        for opts in [
            RenderOptions::default(),
            RenderOptions {
                outbound: true,
                default_drop: true,
                ..RenderOptions::default()
            },
            RenderOptions {
                aggregate: false,
                ..RenderOptions::default()
            },
        ] {
            match render("azure-nsg", &plan, &opts) {
                // One rule per flow can exceed an NSG's priorities (large-farm does).
                Err(GenError::LimitExceeded { .. }) if !opts.aggregate => {}
                Ok(r) => {
                    assert_eq!(r.files.len(), 1);
                    let v: Value = serde_json::from_str(&r.files[0].1).expect("valid JSON");
                    if let Err(e) = check_arm(&v) {
                        panic!("{case}: ARM template is malformed: {e}");
                    }
                }
                Err(GenError::Unexpressible { .. }) if case == "fixture-ftp-v6" => {}
                Err(e) => panic!("azure-nsg fails on {case}: {e}"),
            }
        }
    }
}

#[test]
fn the_arm_check_catches_mistakes() {
    let plan = common::plan("perimeter");
    let r = render("azure-nsg", &plan, &RenderOptions::default()).expect("renders");
    let good: Value = serde_json::from_str(&r.files[0].1).expect("JSON");
    assert_eq!(check_arm(&good), Ok(()));
    let rules = |v: &mut Value| -> Vec<Value> {
        v["resources"][0]["properties"]["securityRules"]
            .as_array()
            .expect("rules")
            .clone()
    };
    let mut bad = good.clone();
    let mut rs = rules(&mut bad);
    rs[1]["properties"]["priority"] = rs[0]["properties"]["priority"].clone();
    bad["resources"][0]["properties"]["securityRules"] = Value::Array(rs);
    assert!(check_arm(&bad).is_err_and(|e| e.contains("priority")));
    let mut bad = good.clone();
    let mut rs = rules(&mut bad);
    rs[0]["properties"]["access"] = Value::from("Permit");
    bad["resources"][0]["properties"]["securityRules"] = Value::Array(rs);
    assert!(check_arm(&bad).is_err_and(|e| e.contains("access")));
    let mut bad = good.clone();
    let mut rs = rules(&mut bad);
    rs[0]["properties"]["sourceAddressPrefixes"] = Value::from(vec!["192.0.2.1"]);
    bad["resources"][0]["properties"]["securityRules"] = Value::Array(rs);
    assert!(check_arm(&bad).is_err_and(|e| e.contains("both")));
    let mut bad = good.clone();
    bad["contentVersion"] = Value::from("1");
    assert!(check_arm(&bad).is_err());
}

/// The structure Azure Resource Manager requires of our template (a subset of the
/// deploymentTemplate schema and the NSG resource rules).
fn check_arm(v: &Value) -> Result<(), String> {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    if s(v, "$schema").as_deref()
        != Some("https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#")
    {
        return Err("$schema is not the deployment template schema".into());
    }
    let cv = s(v, "contentVersion").ok_or("contentVersion missing")?;
    let parts: Vec<&str> = cv.split('.').collect();
    if parts.len() != 4 || parts.iter().any(|p| p.parse::<u32>().is_err()) {
        return Err(format!("contentVersion {cv:?} is not N.N.N.N"));
    }
    let allowed_top: BTreeSet<&str> = [
        "$schema",
        "contentVersion",
        "apiProfile",
        "metadata",
        "parameters",
        "variables",
        "functions",
        "resources",
        "outputs",
    ]
    .into();
    for k in v.as_object().ok_or("template is not an object")?.keys() {
        if !allowed_top.contains(k.as_str()) {
            return Err(format!("unknown top-level key {k}"));
        }
    }
    for (name, p) in v
        .get("parameters")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let ty = s(p, "type").ok_or(format!("parameter {name} has no type"))?;
        if ![
            "string",
            "securestring",
            "int",
            "bool",
            "object",
            "secureObject",
            "array",
        ]
        .contains(&ty.as_str())
        {
            return Err(format!("parameter {name} has type {ty}"));
        }
    }
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.len() <= 80
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
            && n.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            && n.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    };
    let resources = v
        .get("resources")
        .and_then(Value::as_array)
        .ok_or("resources missing")?;
    let mut nsg_names = BTreeSet::new();
    for r in resources {
        if s(r, "type").as_deref() != Some("Microsoft.Network/networkSecurityGroups") {
            return Err(format!("unexpected resource type {:?}", r.get("type")));
        }
        let api = s(r, "apiVersion").ok_or("apiVersion missing")?;
        if !(api.len() == 10 && api.as_bytes()[4] == b'-' && api.as_bytes()[7] == b'-') {
            return Err(format!("apiVersion {api} is not a date"));
        }
        let name = s(r, "name").ok_or("NSG without a name")?;
        if !name_ok(&name) || !nsg_names.insert(name.clone()) {
            return Err(format!("NSG name {name:?} is invalid or repeated"));
        }
        s(r, "location").ok_or(format!("NSG {name} has no location"))?;
        let rules = r
            .pointer("/properties/securityRules")
            .and_then(Value::as_array)
            .ok_or(format!("NSG {name} has no securityRules"))?;
        if rules.len() > 1000 {
            return Err(format!("NSG {name} has {} rules", rules.len()));
        }
        let mut names = BTreeSet::new();
        let mut priorities: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
        for rule in rules {
            let rn = s(rule, "name").ok_or("rule without a name")?;
            if !name_ok(&rn) || !names.insert(rn.clone()) {
                return Err(format!("rule name {rn:?} is invalid or repeated"));
            }
            let p = rule
                .get("properties")
                .ok_or(format!("rule {rn} has no properties"))?;
            let access = s(p, "access").unwrap_or_default();
            if !["Allow", "Deny"].contains(&access.as_str()) {
                return Err(format!("rule {rn}: access {access:?}"));
            }
            let direction = s(p, "direction").unwrap_or_default();
            if !["Inbound", "Outbound"].contains(&direction.as_str()) {
                return Err(format!("rule {rn}: direction {direction:?}"));
            }
            let protocol = s(p, "protocol").unwrap_or_default();
            if !["Tcp", "Udp", "Icmp", "Esp", "Ah", "*"].contains(&protocol.as_str()) {
                return Err(format!("rule {rn}: protocol {protocol:?}"));
            }
            let priority = p.get("priority").and_then(Value::as_u64).unwrap_or(0);
            if !(100..=4096).contains(&priority) {
                return Err(format!("rule {rn}: priority {priority} outside 100..4096"));
            }
            if !priorities.entry(direction).or_default().insert(priority) {
                return Err(format!(
                    "rule {rn}: priority {priority} repeated in NSG {name}"
                ));
            }
            if let Some(d) = s(p, "description")
                && d.chars().count() > 140
            {
                return Err(format!("rule {rn}: description longer than 140"));
            }
            for (one, many, port) in [
                ("sourcePortRange", "sourcePortRanges", true),
                ("destinationPortRange", "destinationPortRanges", true),
                ("sourceAddressPrefix", "sourceAddressPrefixes", false),
                (
                    "destinationAddressPrefix",
                    "destinationAddressPrefixes",
                    false,
                ),
            ] {
                let values: Vec<String> = match (p.get(one), p.get(many)) {
                    (Some(_), Some(_)) => return Err(format!("rule {rn}: both {one} and {many}")),
                    (None, None) => return Err(format!("rule {rn}: neither {one} nor {many}")),
                    (Some(v), None) => {
                        vec![v.as_str().ok_or(format!("{one} not a string"))?.into()]
                    }
                    (None, Some(v)) => v
                        .as_array()
                        .filter(|a| !a.is_empty())
                        .ok_or(format!("rule {rn}: {many} empty or not a list"))?
                        .iter()
                        .map(|x| x.as_str().map(str::to_owned).ok_or(format!("{many} item")))
                        .collect::<Result<_, _>>()?,
                };
                for x in values {
                    let ok = if port { port_ok(&x) } else { prefix_ok(&x) };
                    if !ok {
                        return Err(format!("rule {rn}: {one} value {x:?}"));
                    }
                }
            }
        }
    }
    Ok(())
}

fn port_ok(x: &str) -> bool {
    let n = |t: &str| t.parse::<u16>().is_ok();
    x == "*"
        || n(x)
        || x.split_once('-')
            .is_some_and(|(a, b)| n(a) && n(b) && a.parse::<u16>().ok() <= b.parse::<u16>().ok())
}

fn prefix_ok(x: &str) -> bool {
    ["*", "Internet", "VirtualNetwork", "AzureLoadBalancer"].contains(&x)
        || x.parse::<std::net::IpAddr>().is_ok()
        || x.parse::<ipnet::IpNet>().is_ok()
}
