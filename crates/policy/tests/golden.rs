//! Golden tests: every target renders every example deployment (and the test fixtures) to
//! exactly the files under `tests/golden/<target>/`, in the platform's native format.
//!
//! A case that renders one file is kept as `<target>/<case>.<ext>`; one that renders several
//! (a script per host, Aerleon's policy and definitions) as `<target>/<case>/<file>`; one that
//! the target refuses as `<target>/<case>.err` with the error message. On a mismatch the test
//! writes `<file>.actual` beside the golden file and fails; `BLESS=1` rewrites the golden
//! files instead (the workspace's one golden compare, `rdsports_testkit::check`).

mod common;

use std::path::{Path, PathBuf};

use rdsports_core::Plan;
use rdsports_policy::{RenderOptions, render, targets};
use rdsports_testkit::check;

/// A golden variant: a directory name, a target and the options it renders with.
struct Variant {
    dir: &'static str,
    target: &'static str,
    opts: fn() -> RenderOptions,
}

/// Above this many hosts, per-host variants render one host of each role set (`--host`)
/// instead of every host, to keep the golden files readable.
const HOSTS_IN_FULL: usize = 20;

/// The `--host` values a per-host variant renders for `plan`: none (all hosts) for small
/// deployments, else the first host of each role set.
fn host_choices(plan: &Plan<'_>) -> Vec<Option<String>> {
    let hosts = &plan.deployment.hosts;
    if hosts.len() <= HOSTS_IN_FULL {
        return vec![None];
    }
    let mut seen = std::collections::BTreeSet::new();
    hosts
        .iter()
        .filter(|h| h.is_single() && seen.insert(h.roles.clone()))
        .map(|h| Some(h.name.clone()))
        .collect()
}

fn default_opts() -> RenderOptions {
    RenderOptions::default()
}

/// The admin's SSH from a workstation, kept by `--keep`.
fn keep() -> Vec<rdsports_policy::Keep> {
    vec!["203.0.113.5:22".parse().expect("a --keep entry")]
}

fn host_opts() -> RenderOptions {
    RenderOptions {
        host_variant: true,
        outbound: true,
        keep: keep(),
        ..RenderOptions::default()
    }
}

fn allow_only_opts() -> RenderOptions {
    RenderOptions {
        default_drop: false,
        ..RenderOptions::default()
    }
}

fn keep_opts() -> RenderOptions {
    RenderOptions {
        keep: keep(),
        ..RenderOptions::default()
    }
}

fn merge_opts() -> RenderOptions {
    RenderOptions {
        merge: true,
        keep: keep(),
        ..RenderOptions::default()
    }
}

fn outbound_opts() -> RenderOptions {
    RenderOptions {
        outbound: true,
        ..RenderOptions::default()
    }
}

const VARIANTS: &[Variant] = &[
    Variant {
        dir: "windows",
        target: "windows",
        opts: default_opts,
    },
    Variant {
        dir: "windows-outbound",
        target: "windows",
        opts: outbound_opts,
    },
    Variant {
        dir: "windows-netsh",
        target: "windows-netsh",
        opts: default_opts,
    },
    Variant {
        dir: "nftables",
        target: "nftables",
        opts: default_opts,
    },
    Variant {
        dir: "nftables-allow-only",
        target: "nftables",
        opts: allow_only_opts,
    },
    Variant {
        dir: "nftables-merge",
        target: "nftables",
        opts: merge_opts,
    },
    Variant {
        dir: "nftables-host",
        target: "nftables",
        opts: host_opts,
    },
    Variant {
        dir: "iptables",
        target: "iptables",
        opts: default_opts,
    },
    Variant {
        dir: "iptables-merge",
        target: "iptables",
        opts: merge_opts,
    },
    Variant {
        dir: "iptables-host",
        target: "iptables",
        opts: host_opts,
    },
    Variant {
        dir: "azure-nsg",
        target: "azure-nsg",
        opts: default_opts,
    },
    Variant {
        dir: "aws-sg",
        target: "aws-sg",
        opts: default_opts,
    },
    Variant {
        dir: "cisco-asa",
        target: "cisco-asa",
        opts: default_opts,
    },
    Variant {
        dir: "cisco-asa-merge",
        target: "cisco-asa",
        opts: merge_opts,
    },
    Variant {
        dir: "aerleon",
        target: "aerleon",
        opts: default_opts,
    },
    Variant {
        dir: "aerleon-keep",
        target: "aerleon",
        opts: keep_opts,
    },
];

/// Every case: the examples, then the fixtures.
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

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The extension of a rendered file name: from its first dot (`contoso.azure.json` →
/// `.azure.json`).
fn extension(file: &str) -> &str {
    file.find('.').map_or("", |i| &file[i..])
}

#[test]
fn every_target_matches_its_golden_files() {
    let mut failures = Vec::new();
    let cases = cases();
    assert!(cases.len() >= 3, "the examples are there");
    for v in VARIANTS {
        for (case, plan) in &cases {
            let dir = golden_dir().join(v.dir);
            let base = (v.opts)();
            let per_host = matches!(v.target, "windows" | "windows-netsh") || base.host_variant;
            let choices = if per_host {
                host_choices(plan)
            } else {
                vec![None]
            };
            if choices.len() > 1 {
                // One file per chosen host, under <case>/.
                for host in choices {
                    let opts = RenderOptions {
                        host,
                        ..base.clone()
                    };
                    match render(v.target, plan, &opts) {
                        Err(e) => failures.push(format!("{} {case}: {e}", v.dir)),
                        Ok(r) => {
                            for (name, text) in &r.files {
                                failures.extend(check(dir.join(case).join(name), text).err());
                            }
                        }
                    }
                }
                continue;
            }
            match render(v.target, plan, &base) {
                Err(e) => {
                    failures
                        .extend(check(dir.join(format!("{case}.err")), &format!("{e}\n")).err());
                }
                Ok(r) if r.files.len() == 1 => {
                    let (name, text) = &r.files[0];
                    let path = dir.join(format!("{case}{}", extension(name)));
                    failures.extend(check(&path, text).err());
                }
                Ok(r) => {
                    for (name, text) in &r.files {
                        failures.extend(check(dir.join(case).join(name), text).err());
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_target_has_a_golden_variant() {
    for t in targets() {
        assert!(
            VARIANTS.iter().any(|v| v.target == t.name),
            "target {} has no golden files",
            t.name
        );
    }
}

/// Hosts with the same rules share one rendering (moved to each host): rendering all hosts
/// at once gives exactly what rendering each host alone (`--host`) gives.
#[test]
fn shared_host_renderings_equal_single_host_renderings() {
    for (case, plan) in cases() {
        for v in VARIANTS {
            let base = (v.opts)();
            let per_host = matches!(v.target, "windows" | "windows-netsh") || base.host_variant;
            if !per_host || plan.deployment.hosts.len() > HOSTS_IN_FULL {
                continue;
            }
            let Ok(all) = render(v.target, &plan, &base) else {
                continue;
            };
            let mut alone = Vec::new();
            for h in &plan.deployment.hosts {
                let opts = RenderOptions {
                    host: Some(h.name.clone()),
                    ..base.clone()
                };
                if let Ok(r) = render(v.target, &plan, &opts) {
                    alone.extend(r.files);
                }
            }
            for file in &all.files {
                assert!(
                    alone.contains(file),
                    "{} {case}: {} differs when alone",
                    v.dir,
                    file.0
                );
            }
        }
    }
}

/// aws-sg: every machine of every case (up to [`HOSTS_IN_FULL`] hosts: the outputs' member
/// lists of larger ones are cut to the description's limit) is a member of exactly one
/// security group, and each group has an id of its own. Hosts of one role set that need different rules (sh03
/// on an RDP port of its own) split into numbered groups rather than overwrite each other.
#[test]
fn every_machine_is_in_one_security_group() {
    for (case, plan) in cases() {
        if plan.deployment.hosts.len() > HOSTS_IN_FULL {
            continue;
        }
        // A plan the target cannot express (an FTP data channel) has its golden error.
        let Ok(r) = render("aws-sg", &plan, &RenderOptions::default()) else {
            continue;
        };
        let v: serde_json::Value = serde_json::from_str(&r.files[0].1).unwrap();
        let outputs = v["Outputs"].as_object().unwrap();
        let mut members: Vec<String> = outputs
            .values()
            .flat_map(|o| {
                let text = o["Description"].as_str().unwrap();
                let list = text.strip_prefix("members: ").unwrap();
                list.split(", ").map(str::to_owned).collect::<Vec<_>>()
            })
            .collect();
        let groups = v["Resources"]
            .as_object()
            .unwrap()
            .values()
            .filter(|r| r["Type"] == "AWS::EC2::SecurityGroup")
            .count();
        assert_eq!(groups, outputs.len(), "{case}");
        let n = members.len();
        members.sort();
        members.dedup();
        assert_eq!(members.len(), n, "{case}: a host in two groups");
        let d = plan.deployment;
        let internet =
            |h: &rdsports_core::Host| d.zones[h.zone].networks.iter().any(|n| n.prefix_len() == 0);
        let machines: Vec<String> = d
            .hosts
            .iter()
            .filter(|h| h.is_single() && !internet(h))
            .map(|h| h.name.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(members, machines, "{case}");
    }
    let plan = common::fixture_plan("per-host");
    let r = render("aws-sg", &plan, &RenderOptions::default()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&r.files[0].1).unwrap();
    assert_eq!(
        v["Outputs"]["SgSessionHost2"]["Description"],
        "members: sh03"
    );
}
