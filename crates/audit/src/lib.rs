//! rdsports-audit: read the rule set a firewall has today and say, flow by flow, what it
//! blocks, what it allows beyond the plan and which of its rules are dead.
//!
//! * Readers ([`read`](mod@read), one module a platform, named like its `rules` generator)
//!   turn an export into one normalised [`Ruleset`]: [`nftables`](read::nftables) (`nft -j
//!   list ruleset`), [`iptables`](read::iptables) (`iptables-save`),
//!   [`windows`](read::windows) (the rdsports export script's JSON, and the GPO/registry
//!   rule strings), [`netsh`](read::netsh) (`netsh advfirewall firewall show rule name=all
//!   verbose`, English), [`azure_nsg`](read::azure_nsg) (Azure NSGs), [`aws`](read::aws)
//!   (AWS security groups and network ACLs), [`cisco_asa`](read::cisco_asa) (Cisco ASA
//!   `show running-config` and `show access-list`), [`aerleon`](read::aerleon) (Aerleon and
//!   Capirca policies with their definitions).
//! * [`eval`] runs packet spaces ([`space`]) through a rule set with the platform's own
//!   decision order, exactly: every verdict holds for every packet it covers.
//! * [`analyse`] weighs the planned flows against it and builds the [`report::Audit`]:
//!   missing flows (with the fix from the `rules` generators), rules that allow more than the
//!   plan (measured exactly), shadowed, redundant and unused rules.
//!
//! The crate is pure: it reads no files and knows no clock. The binary loads the exports.
#![warn(missing_docs, clippy::print_stdout, clippy::print_stderr)]

pub mod analyse;
pub mod eval;
#[cfg(test)]
mod eval_reference;
pub mod model;
pub mod read;
pub mod report;
pub mod space;
#[cfg(test)]
mod test_support;

use std::fmt;

pub use analyse::{Scope, analyse};
pub use model::{Platform, Ruleset};

/// A rule set the reader could not read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// `FILE:LINE:COLUMN` or `FILE: JSON path`.
    pub location: String,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
}

impl fmt::Display for ReadError {
    /// The message bounded ([`read::bounded`]): it echoes at most a window of any one value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}\n  hint: {}",
            self.location,
            read::bounded(&self.message),
            self.hint
        )
    }
}

impl std::error::Error for ReadError {}

/// The formats [`read()`] knows, by name (`--input-format`).
pub const FORMATS: &[(&str, &str)] = &[
    ("nft-json", "nft -j list ruleset"),
    (
        "iptables-save",
        "iptables-save / ip6tables-save, with or without -c",
    ),
    (
        "windows-json",
        "the JSON of rdsports audit --windows-export-script (UTF-8 or UTF-16)",
    ),
    (
        "windows-gpo",
        "Windows Firewall rule strings (v2.x|Action=...|), one a line (registry or GPO)",
    ),
    (
        "windows-netsh",
        "netsh advfirewall firewall show rule name=all verbose (English output)",
    ),
    (
        "azure-nsg",
        "az network nsg show/list, Get-AzNetworkSecurityGroup | ConvertTo-Json, or ARM JSON",
    ),
    ("aws-sg", "aws ec2 describe-security-groups"),
    (
        "aws-nacl",
        "aws ec2 describe-network-acls, alone or with describe-security-groups in one file",
    ),
    (
        "cisco-asa",
        "show running-config (with show access-list for hit counts, in one file)",
    ),
    (
        "aerleon",
        "an Aerleon/Capirca policy (.yaml), its definitions from def/ or --definitions DIR",
    ),
];

/// Decodes an export: UTF-8 (a BOM is skipped) or UTF-16LE/BE with a BOM (what Windows
/// PowerShell 5.1 writes with `>`).
pub fn decode(bytes: &[u8], name: &str) -> Result<String, ReadError> {
    let utf16 = |le: bool| -> Result<String, ReadError> {
        let units: Vec<u16> = bytes[2..]
            .chunks(2)
            .map(|c| {
                let pair = [c[0], *c.get(1).unwrap_or(&0)];
                if le {
                    u16::from_le_bytes(pair)
                } else {
                    u16::from_be_bytes(pair)
                }
            })
            .collect();
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|e| ReadError {
                location: name.to_owned(),
                message: format!("invalid UTF-16: {e}"),
                hint: "save the export as UTF-8 (Out-File -Encoding utf8)".into(),
            })
    };
    match bytes {
        [0xFF, 0xFE, ..] => utf16(true),
        [0xFE, 0xFF, ..] => utf16(false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => std::str::from_utf8(rest)
            .map(str::to_owned)
            .map_err(|e| bad_utf8(name, bytes, e.valid_up_to() + 3)),
        _ => std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|e| bad_utf8(name, bytes, e.valid_up_to())),
    }
}

fn bad_utf8(name: &str, bytes: &[u8], at: usize) -> ReadError {
    let before = &bytes[..at.min(bytes.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    ReadError {
        location: format!("{name}:{line}:{col}"),
        message: "not UTF-8 (and no UTF-16 byte order mark)".into(),
        hint: "save the export as UTF-8 or UTF-16 with a byte order mark".into(),
    }
}

/// Guesses the format of an export from its text.
pub fn sniff(text: &str) -> Option<&'static str> {
    let t = text.trim_start();
    if t.starts_with('{') && t.contains("\"nftables\"") {
        return Some("nft-json");
    }
    if t.starts_with('{') || t.starts_with('[') {
        if t.contains("\"rdsports_windows_export\"") || t.contains("\"Rules\"") {
            return Some("windows-json");
        }
        if t.contains("\"NetworkAcls\"") {
            return Some("aws-nacl");
        }
        if t.contains("\"SecurityGroups\"") || t.contains("\"IpPermissions\"") {
            return Some("aws-sg");
        }
        let lower = t.to_ascii_lowercase();
        if lower.contains("\"securityrules\"") || lower.contains("\"defaultsecurityrules\"") {
            return Some("azure-nsg");
        }
        return None;
    }
    // An Aerleon policy (YAML with filters of headers and terms).
    if t.lines()
        .any(|l| l.trim_end() == "filters:" || l.starts_with("filters: "))
        && t.contains("header:")
    {
        return Some("aerleon");
    }
    // A Cisco ASA configuration (it may start with `: Saved`, which is not iptables-save).
    if t.lines().any(|l| {
        l.starts_with("access-group ")
            || (l.starts_with("access-list ") && l.contains(" extended "))
            || l.starts_with("ASA Version ")
    }) {
        return Some("cisco-asa");
    }
    let first = t
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    match first {
        Some(l) if l.starts_with('*') || l.starts_with(':') || l.starts_with("-A ") => {
            Some("iptables-save")
        }
        Some(l) if l.starts_with("v2.") || l.contains("|Action=") => Some("windows-gpo"),
        Some(l) if l.starts_with("Rule Name:") => Some("windows-netsh"),
        // netsh in another display language (`Regelname:`, `Nom de la règle :`) or the
        // profile listing: a `Field: value` line over a line of dashes. The reader refuses
        // it with the hint to use the export script.
        Some(l) if l.contains(':') && second_is_dashes(t) => Some("windows-netsh"),
        _ => None,
    }
}

/// Whether the second non-blank line of `t` is a line of dashes (netsh's rule heading).
fn second_is_dashes(t: &str) -> bool {
    t.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .nth(1)
        .is_some_and(|l| l.len() >= 20 && l.bytes().all(|b| b == b'-'))
}

/// Reads an export in `format` (see [`FORMATS`]) with the reader of its platform (see
/// [`mod@read`]).
pub fn read(
    format: &str,
    text: &str,
    name: &str,
    opts: &ReadOptions,
) -> Result<Ruleset, ReadError> {
    match format {
        "nft-json" => read::nftables::read(text, name),
        "iptables-save" => read::iptables::read(text, name),
        "windows-json" => read::windows::read_json(text, name, opts),
        "windows-gpo" => read::windows::read_gpo(text, name, opts),
        "windows-netsh" => read::netsh::read(text, name, None, opts),
        "azure-nsg" => read::azure_nsg::read(text, name, opts),
        "aws-sg" => read::aws::read_sg(text, name, opts),
        "aws-nacl" => read::aws::read_nacl(text, name, opts),
        "cisco-asa" => read::cisco_asa::read(text, name, opts),
        "aerleon" => read::aerleon::read(text, name, opts),
        other => Err(ReadError {
            location: name.to_owned(),
            message: format!("unknown input format {other}"),
            hint: format!(
                "one of {}",
                FORMATS.iter().map(|f| f.0).collect::<Vec<_>>().join(", ")
            ),
        }),
    }
}

/// What a reader needs beyond the text.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Windows: the profile whose rules and default actions apply (`domain`, `private`,
    /// `public`); default `domain`.
    pub profile: Option<String>,
    /// Windows: the networks `LocalSubnet` stands for (the zone of the audited host).
    pub local_subnet: Vec<ipnet::IpNet>,
    /// Windows: the audited host's own addresses (`LocalAddress` of rules).
    pub local_address: Vec<ipnet::IpNet>,
    /// Cloud filters: the deployment's own networks (every zone's networks except
    /// `0.0.0.0/0` and `::/0`): the Azure tag `VirtualNetwork`, and what inbound and outbound
    /// rules protect.
    pub internal: Vec<ipnet::IpNet>,
    /// Cisco ASA: the networks behind each interface, by `nameif` (the deployment's zones by
    /// name, and `--interface NAMEIF=ZONE`); an interface not named here stands for its
    /// address and routes in the configuration. Aerleon: the zones that `from-zone A
    /// to-zone B` targets name.
    pub interfaces: Vec<(String, Vec<ipnet::IpNet>)>,
    /// Aerleon: the definitions files (name, text) holding `networks:` and `services:`.
    pub definitions: Vec<(String, String)>,
}
