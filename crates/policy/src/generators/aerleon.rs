//! Aerleon: a policy (YAML) plus network and service definitions that Aerleon's `aclgen`
//! accepts, so that users reach Aerleon's other platforms through it.
//!
//! The policy has one filter per direction of each zone boundary (`from-zone A to-zone B`),
//! whose header targets Aerleon's zone-based stateful platforms (`srx`, `paloalto`); further
//! targets can be added to the headers by hand. Each aggregated rule becomes a term that names
//! a source and a destination network (`def/networks.yaml`, one per host list) and a service
//! (`def/services.yaml`, one per protocol and port list).
//!
//! Every name is restricted to `[A-Za-z0-9_-]` (Aerleon's token alphabet), comments to
//! `plain_char` (they reach other platforms' configurations through Aerleon), and every
//! YAML scalar is written double-quoted by [`yaml_str`]. This module does not run `aclgen`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ipnet::IpNet;
use rdsports_core::model::{PortRange, Protocol};

use super::naming::{Namer, ident_char, plain_char, restricted, trace};
use super::view::zone_view;
use super::{Capabilities, FtpSupport, Generator, RenderOptions, Rendered, Scope};
use crate::error::GenError;
use crate::policy::Policy;

/// The `aerleon` target.
pub struct Aerleon;

/// Longest term name: Aerleon names Palo Alto services `service-<term>-<protocol>`, which
/// must fit in 63 characters.
const TERM_MAX: usize = 50;
/// Longest comment we write.
const COMMENT_MAX: usize = 250;
/// Header targets of every filter, as (platform, option template with `{from}`/`{to}`).
const TARGETS: [(&str, &str); 2] = [
    ("srx", "from-zone {from} to-zone {to}"),
    ("paloalto", "from-zone {from} to-zone {to}"),
];

impl Generator for Aerleon {
    fn name(&self) -> &'static str {
        "aerleon"
    }

    fn description(&self) -> &'static str {
        "Aerleon: policy and definitions (YAML) for aclgen, one filter per zone direction"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            scope: Scope::Neutral,
            host: false,
            boundary: true,
            outbound: false,
            default_drop: true,
            keep: true,
            merge: false,
            host_variant: false,
            ftp: FtpSupport::Helper,
        }
    }

    fn render(&self, policy: &Policy, opts: &RenderOptions) -> Result<Rendered, GenError> {
        let mut out = Rendered::default();
        let (view, _) = zone_view(policy, opts)?;
        let p = &view.policy;
        let mut zones = Namer::new(self.name(), "zone name", ident_char, 40);
        let mut terms = Namer::new(self.name(), "term name", ident_char, TERM_MAX);
        let mut defs = Defs::new();
        // Terms per (from zone, to zone).
        let mut filters: BTreeMap<(usize, usize), Vec<String>> = BTreeMap::new();
        for (i, r) in p.rules.iter().enumerate() {
            let n = i + 1;
            let src = defs.network(p, &r.from_hosts, &r.sources);
            let dst = defs.network(p, &r.to_hosts, &r.destinations);
            let svc = defs.service(r.protocol, &r.ports);
            let name = terms.name(&format!("r{n}-{}", p.ids(r).join("-")).to_ascii_lowercase());
            let comment = restricted(&format!("r{n} {}", trace(p, r)), plain_char, COMMENT_MAX);
            let t = accept_term(
                &name,
                &comment,
                Some(&src),
                Some(&dst),
                Some((r.protocol, &svc)),
            );
            filters.entry((r.from_zone, r.to_zone)).or_default().push(t);
            if r.helper.is_some() {
                out.warnings.push(format!(
                    "aerleon: r{n} ({}) carries FTP; its data channel relies on the platform's \
                     FTP ALG (on by default on SRX; application ftp on Palo Alto)",
                    p.ids(r).join(" ")
                ));
            }
        }
        // The `--keep` entries, defined once for the keep term every filter gets before its
        // deny.
        let keeps: Vec<KeepTerm> = if opts.default_drop && !filters.is_empty() {
            opts.keep
                .iter()
                .enumerate()
                .map(|(i, k)| {
                    let comment = format!("rdsports keep {}: {k}", i + 1);
                    let comment = restricted(&comment, plain_char, COMMENT_MAX);
                    let source = (k.source.prefix_len() > 0).then(|| defs.keep_network(i, k));
                    let service = k
                        .ports
                        .map(|(protocol, ports)| (protocol, defs.service(protocol, &[ports])));
                    KeepTerm {
                        comment,
                        source,
                        service,
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# rdsports: deployment {}, {} flows, {} rules after aggregation.",
            restricted(&policy.context.name, plain_char, 200),
            view.before,
            p.rules.len()
        );
        s.push_str("# Render with: aclgen --base_directory=policies --definitions_directory=def\n");
        let note = if opts.default_drop {
            "Enforcing: each filter (one zone direction) ends in a term that denies what no term \
             before it accepts. How it combines: aclgen writes each filter as the complete \
             policy set of its zone pair (SRX: `replace:` of the from-zone/to-zone policies; \
             Palo Alto: the rulebase it writes), so it replaces that pair's policies; add your \
             own terms to this file, or render with --allow-only and merge the terms into your \
             own filters."
        } else {
            "Allow-only (--allow-only): no final deny term; the platform's default (deny on SRX \
             and Palo Alto between zones) decides the rest. Each filter still replaces its zone \
             pair's policies when aclgen's output is applied."
        };
        super::naming::wrap_comment(&mut s, "#", note);
        if opts.default_drop {
            for line in super::options::keep_lines(opts) {
                super::naming::wrap_comment(&mut s, "#", &line);
            }
            if !opts.keep.is_empty() {
                super::naming::wrap_comment(
                    &mut s,
                    "#",
                    "Each filter accepts them in a keep term before its deny; a zone pair \
                     without a filter here is left to the platform's default.",
                );
            }
        }
        s.push_str(if filters.is_empty() {
            "filters: []\n"
        } else {
            "filters:\n"
        });
        for (&(from, to), ts) in &filters {
            let (zf, zt) = (zones.name(p.zone_name(from)), zones.name(p.zone_name(to)));
            s.push_str("  - header:\n");
            let comment = format!(
                "rdsports {}: from zone {} to zone {}",
                policy.context.name,
                p.zone_name(from),
                p.zone_name(to)
            );
            let _ = writeln!(
                s,
                "      comment: {}",
                yaml_str(&restricted(&comment, plain_char, COMMENT_MAX))
            );
            s.push_str("      targets:\n");
            for (platform, template) in TARGETS {
                let opt = template.replace("{from}", &zf).replace("{to}", &zt);
                let _ = writeln!(s, "        {platform}: {}", yaml_str(&opt));
            }
            s.push_str("    terms:\n");
            for t in ts {
                s.push_str(t);
            }
            if opts.default_drop {
                for (i, k) in keeps.iter().enumerate() {
                    let name = terms.name(&format!("keep-{}-{zf}-{zt}", i + 1));
                    let service = k.service.as_ref().map(|(p, name)| (*p, name.as_str()));
                    s.push_str(&accept_term(
                        &name,
                        &k.comment,
                        k.source.as_deref(),
                        None,
                        service,
                    ));
                }
                let _ = writeln!(
                    s,
                    "      - name: {}",
                    yaml_str(&format!("default-deny-{zf}-{zt}"))
                );
                s.push_str("        comment: \"rdsports default drop\"\n        action: deny\n");
            }
        }
        let mut files = Namer::new(self.name(), "deployment name (file name)", ident_char, 64);
        let stem = files.name(&policy.context.name);
        out.files.push((format!("policies/pol/{stem}.yaml"), s));
        out.files
            .push(("def/networks.yaml".to_owned(), defs.networks_text()));
        out.files
            .push(("def/services.yaml".to_owned(), defs.services_text()));
        out.rules_before = view.before;
        out.rules_after = p.rules.len();
        out.warnings.extend(zones.into_warnings());
        out.warnings.extend(terms.into_warnings());
        out.warnings.extend(defs.namer.into_warnings());
        out.warnings.extend(files.into_warnings());
        Ok(out)
    }
}

/// A `--keep` entry's term, the same in every filter: the source network omitted for /0,
/// the service for an entry without ports (every protocol).
struct KeepTerm {
    comment: String,
    source: Option<String>,
    service: Option<(Protocol, String)>,
}

/// An accepting term; a missing address or service matches any (a term without a service
/// matches every protocol).
fn accept_term(
    name: &str,
    comment: &str,
    source: Option<&str>,
    destination: Option<&str>,
    service: Option<(Protocol, &str)>,
) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "      - name: {}", yaml_str(name));
    let _ = writeln!(t, "        comment: {}", yaml_str(comment));
    if let Some(source) = source {
        let _ = writeln!(t, "        source-address: {}", yaml_str(source));
    }
    if let Some(destination) = destination {
        let _ = writeln!(t, "        destination-address: {}", yaml_str(destination));
    }
    if let Some((protocol, service)) = service {
        let _ = writeln!(t, "        protocol: {}", proto(protocol));
        let _ = writeln!(t, "        destination-port: {}", yaml_str(service));
    }
    t.push_str("        action: accept\n");
    t
}

/// Network and service definitions being collected.
struct Defs {
    networks: BTreeMap<Vec<usize>, String>,
    network_text: Vec<String>,
    services: BTreeMap<(Protocol, Vec<PortRange>), String>,
    service_text: Vec<String>,
    namer: Namer,
}

impl Defs {
    fn new() -> Defs {
        Defs {
            networks: BTreeMap::new(),
            network_text: Vec::new(),
            services: BTreeMap::new(),
            service_text: Vec::new(),
            namer: Namer::new("aerleon", "host name (network name)", ident_char, 60)
                .with_prefix("RDS_H_"),
        }
    }

    fn network(&mut self, p: &Policy, hosts: &[usize], nets: &[IpNet]) -> String {
        if let Some(n) = self.networks.get(hosts) {
            return n.clone();
        }
        let name = match hosts {
            [h] => self.namer.name(p.host_name(*h)),
            _ => format!("RDS_G{}", self.networks.len() + 1),
        };
        let mut t = format!("  {}:\n", yaml_str(&name));
        let hosts_text = super::windows::host_list(p, hosts);
        let _ = writeln!(t, "    values:");
        for (i, n) in nets.iter().enumerate() {
            let _ = writeln!(t, "      - address: {}", yaml_str(&n.trunc().to_string()));
            if i == 0 {
                let _ = writeln!(
                    t,
                    "        comment: {}",
                    yaml_str(&restricted(&hosts_text, plain_char, COMMENT_MAX))
                );
            }
        }
        self.network_text.push(t);
        self.networks.insert(hosts.to_vec(), name.clone());
        name
    }

    /// Defines the network of `--keep` entry `i` (0-based); its name.
    fn keep_network(&mut self, i: usize, k: &super::Keep) -> String {
        let name = format!("RDS_KEEP_{}", i + 1);
        let mut t = format!("  {}:\n    values:\n", yaml_str(&name));
        let _ = writeln!(t, "      - address: {}", yaml_str(&k.source.to_string()));
        let _ = writeln!(
            t,
            "        comment: {}",
            yaml_str(&format!("rdsports keep {}", i + 1))
        );
        self.network_text.push(t);
        name
    }

    fn service(&mut self, protocol: Protocol, ports: &[PortRange]) -> String {
        let key = (protocol, ports.to_vec());
        if let Some(n) = self.services.get(&key) {
            return n.clone();
        }
        let name = format!(
            "RDS_{}_{}",
            proto(protocol).to_ascii_uppercase(),
            self.services.len() + 1
        );
        let mut t = format!("  {}:\n", yaml_str(&name));
        for r in ports {
            let _ = writeln!(t, "    - port: {}", yaml_str(&r.to_string()));
            let _ = writeln!(t, "      protocol: {}", proto(protocol));
        }
        self.service_text.push(t);
        self.services.insert(key, name.clone());
        name
    }

    fn networks_text(&self) -> String {
        let mut s = String::from("# rdsports: networks of the policy (one per host list).\n");
        if self.network_text.is_empty() {
            s.push_str("networks: {}\n");
        } else {
            s.push_str("networks:\n");
            s.extend(self.network_text.iter().map(String::as_str));
        }
        s
    }

    fn services_text(&self) -> String {
        let mut s =
            String::from("# rdsports: services of the policy (one per protocol and ports).\n");
        if self.service_text.is_empty() {
            s.push_str("services: {}\n");
        } else {
            s.push_str("services:\n");
            s.extend(self.service_text.iter().map(String::as_str));
        }
        s
    }
}

fn proto(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    }
}

/// A YAML double-quoted scalar of `s`: backslash and quote escaped, and every character
/// outside printable ASCII written as `\uXXXX` / `\UXXXXXXXX`, so no value can end the line,
/// open a comment or change the document's structure.
pub fn yaml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            c if u32::from(c) <= 0xFFFF => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\U{:08X}", u32::from(c));
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_scalars_are_quoted_and_escaped() {
        assert_eq!(yaml_str("a: b # c"), "\"a: b # c\"");
        assert_eq!(yaml_str("q\"\\\n"), "\"q\\\"\\\\\\u000A\"");
        assert_eq!(yaml_str("é😀"), "\"\\u00E9\\U0001F600\"");
    }
}
