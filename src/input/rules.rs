//! Reading a firewall's rule export for `audit` and `lint --rules`: the file (capped,
//! decoded), its format (named or sniffed), the reader's options from the deployment and the
//! command line, and the scope the rules are judged in.

use std::path::Path;

use rdsports_audit::{Platform, ReadOptions, Scope};

use crate::error::UserError;
use crate::input;

/// What the readers need from the command line besides the file.
pub struct ReaderFlags<'a> {
    /// Windows: the profile whose rules and defaults apply (`domain`, `private`, `public`).
    pub profile: &'a str,
    /// Cisco ASA: `--interface NAMEIF=ZONE`, each.
    pub interfaces: &'a [String],
    /// `netsh advfirewall show allprofiles`, for the defaults of a netsh rule listing.
    pub netsh_profiles: Option<&'a Path>,
    /// Aerleon: `--definitions DIR`.
    pub definitions: Option<&'a Path>,
}

/// An export read and normalised, with the scope it is judged in.
pub struct LoadedRules {
    /// The export's name (its path).
    pub name: String,
    /// The rule set.
    pub ruleset: rdsports_audit::Ruleset,
    /// Which planned flows it is judged for.
    pub scope: Scope,
}

/// Reads an export (capped, decoded, its format named or sniffed) for `deployment` and finds
/// the scope (`--host`, `--boundary`, or every flow between zones). A mistake in any of it
/// is a [`UserError`] (exit 2). Used by `audit` and by `lint --rules`.
pub fn load_rules(
    deployment: &rdsports_core::Deployment,
    deployment_name: &str,
    path: &Path,
    input_format: Option<&str>,
    host_name: Option<&String>,
    boundary_text: Option<&String>,
    flags: &ReaderFlags<'_>,
) -> anyhow::Result<LoadedRules> {
    let interfaces = flags.interfaces;
    let (name, text) = read_export(path)?;
    let formats = || {
        rdsports_audit::FORMATS
            .iter()
            .map(|(n, d)| format!("  {n:<14} {d}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    // A format given is one of rdsports_audit::FORMATS: clap checked it (cli::export_formats).
    let format = match input_format {
        Some(f) => f,
        None => match rdsports_audit::sniff(&text) {
            Some(f) => f,
            None => {
                return Err(UserError::new(format!(
                    "{name}: not a rule set export rdsports recognises; name its format \
                     with --input-format:\n{}",
                    formats()
                ))
                .hint(
                    "netsh output is read in English only: elsewhere use the script of \
                     --windows-export-script",
                )
                .into());
            }
        },
    };
    let host = match host_name {
        None => None,
        Some(h) => Some(input::host_index(deployment, h, deployment_name)?),
    };
    let mut opts = ReadOptions {
        profile: Some(flags.profile.to_owned()),
        internal: deployment
            .zones
            .iter()
            .flat_map(|z| z.networks.iter().copied())
            .filter(|n| n.prefix_len() > 0)
            .collect(),
        ..ReadOptions::default()
    };
    // Cisco ASA: an interface named like a zone stands for its networks; --interface
    // NAMEIF=ZONE names the others (and wins).
    opts.interfaces = deployment
        .zones
        .iter()
        .map(|z| (z.name.clone(), z.networks.clone()))
        .collect();
    for given in interfaces {
        let zone = given
            .split_once('=')
            .and_then(|(i, z)| Some((i, deployment.zones.iter().find(|x| x.name == z)?)));
        let Some((nameif, zone)) = zone else {
            let names: Vec<&str> = deployment.zones.iter().map(|z| z.name.as_str()).collect();
            return Err(UserError::new(format!(
                "--interface {given}: expected NAMEIF=ZONE with a zone of {deployment_name} \
                 (zones: {})",
                names.join(", ")
            ))
            .into());
        };
        opts.interfaces
            .retain(|(n, _)| !n.eq_ignore_ascii_case(nameif));
        opts.interfaces
            .push((nameif.to_owned(), zone.networks.clone()));
    }
    if format == "aerleon" {
        opts.definitions = aerleon_definitions(path, flags.definitions)?;
    }
    if let Some(h) = host {
        let hh = &deployment.hosts[h];
        opts.local_address = vec![hh.address];
        opts.local_subnet = deployment.zones[hh.zone].networks.clone();
    }
    let profiles = match flags.netsh_profiles {
        Some(_) if format != "windows-netsh" => {
            return Err(UserError::new(format!(
                "--netsh-profiles goes with a netsh rule listing (--input-format \
                 windows-netsh), and {name} is {format}"
            ))
            .into());
        }
        Some(p) => Some(read_export(p)?),
        None => None,
    };
    let read = match &profiles {
        Some((pname, ptext)) => rdsports_audit::read::netsh::read(
            &text,
            &name,
            Some((pname.as_str(), ptext.as_str())),
            &opts,
        ),
        None => rdsports_audit::read(format, &text, &name, &opts),
    };
    let ruleset = read.map_err(|e| UserError::new(e.to_string()))?;
    let scope = match (host, boundary_text) {
        (Some(h), _) => Scope::Host(h),
        (None, Some(b)) => {
            let (x, y) = input::zone_pair(deployment, deployment_name, b)?;
            Scope::Boundary(x, y)
        }
        (None, None) if ruleset.platform == Platform::Windows => {
            return Err(UserError::new(
                "a Windows Firewall rule set belongs to one host: name it with --host",
            )
            .into());
        }
        (None, None) => Scope::CrossZone,
    };
    Ok(LoadedRules {
        name,
        ruleset,
        scope,
    })
}

/// Reads an export file (capped at 64 MiB, UTF-8 or UTF-16): (its name, its text).
fn read_export(path: &Path) -> anyhow::Result<(String, String)> {
    // At most 64 MiB (a 100,000-rule nft JSON export is about 40 MiB).
    let (name, bytes) = input::read_capped(path, input::MAX_RULES_BYTES, "rule set export")?;
    let text = rdsports_audit::decode(&bytes, &name).map_err(|e| UserError::new(e.to_string()))?;
    Ok((name, text))
}

/// The Aerleon definitions files (name, text): the `*.yaml` of `--definitions DIR`, else of
/// `def/` beside the `policies/` directory that holds the policy (walking up from it, as
/// aclgen's default layout has them).
fn aerleon_definitions(
    policy: &Path,
    given: Option<&Path>,
) -> anyhow::Result<Vec<(String, String)>> {
    let dir = match given {
        Some(d) => d.to_path_buf(),
        None => {
            let found = policy
                .ancestors()
                .skip(1)
                .find(|a| a.file_name().is_some_and(|n| n == "policies"))
                .and_then(Path::parent)
                .map(|p| p.join("def"));
            match found {
                Some(d) => d,
                None => {
                    return Err(UserError::new(format!(
                        "{}: no policies/ directory above the policy, so no def/ beside it; \
                         name the definitions directory with --definitions DIR",
                        policy.display()
                    ))
                    .into());
                }
            }
        }
    };
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) => {
            return Err(UserError::new(format!(
                "{}: cannot read the Aerleon definitions directory ({e}); it is def/ beside \
                 policies/ (aclgen's layout), or name it with --definitions DIR",
                dir.display()
            ))
            .into());
        }
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(UserError::new(format!(
            "{}: no *.yaml definitions (networks and services) in it; name the directory \
             with --definitions DIR",
            dir.display()
        ))
        .into());
    }
    let mut out = Vec::new();
    for f in files {
        let (name, bytes) = input::read_capped(&f, input::MAX_RULES_BYTES, "Aerleon definitions")?;
        let text =
            rdsports_audit::decode(&bytes, &name).map_err(|e| UserError::new(e.to_string()))?;
        out.push((name, text));
    }
    Ok(out)
}
