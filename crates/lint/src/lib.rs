//! `rdsports lint`: the security mistakes of an RDS deployment, each with an id, a severity,
//! the hosts and flows it concerns, what to do and the public source it rests on.
//!
//! Findings come from two places: the deployment file and its plan (RDP or SMB from the
//! internet, RPC ranges and clear-text protocols across zone boundaries ...) and the results
//! of `rdsports check` (NLA, the RDP security layer, TLS, certificates, SMB signing, clock
//! skew). The catalog of findings is [`rules::RULES`]. A finding can be accepted in the
//! deployment file, with a reason:
//!
//! ```toml
//! [[lint.accept]]
//! id = "smb-across-perimeter"
//! hosts = ["gw01"]
//! reason = "domain-joined gateway: Group Policy from the DCs (D05)"
//! ```
//!
//! Pure: the caller hands in the text, the plan and the parsed check documents; nothing here
//! reads files or knows the clock. Linear in the number of flows and results.
#![warn(missing_docs, clippy::print_stdout, clippy::print_stderr)]

pub mod render;
pub mod rules;

use std::collections::BTreeMap;
use std::ops::Range;

use rdsports_core::diag::line_column;
use rdsports_core::plan::Plan;
use rdsports_core::{Diagnostic, Protocol, Role, Zone};
use rdsports_schema::check::{CheckDocument, Facts, Verdict};
use serde::Serialize;

pub use rules::{Basis, Severity};
use rules::{RULES, Rule};

/// How many hosts and flows a finding lists in full; the rest are counted.
pub const MAX_LISTED: usize = 20;

/// A dynamic RPC range wider than this crossing a zone boundary is a finding (KB 154596
/// suggests a few hundred ports at most for a firewall).
pub const RPC_RANGE_LIMIT: u32 = 1024;

/// The largest clock skew Kerberos tolerates by default, in seconds.
pub const MAX_CLOCK_SKEW_S: f64 = 300.0;

/// One `rdsports check --format json` document, with the protocol facts of its results
/// read ([`CheckInput::new`]).
#[derive(Debug, Clone)]
pub struct CheckInput {
    /// The file it came from (for evidence lines).
    pub name: String,
    /// The parsed document.
    pub document: CheckDocument,
    /// The facts of each result, in the order of `document.results`.
    facts: Vec<Facts>,
}

impl CheckInput {
    /// The document read from `name`, with every result's facts read typed: a fact of the
    /// wrong type is an error naming the result (1-based), never a finding silently lost.
    pub fn new(name: String, document: CheckDocument) -> Result<CheckInput, String> {
        let facts = document
            .results
            .iter()
            .enumerate()
            .map(|(i, r)| r.facts().map_err(|e| format!("result {}: {e}", i + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CheckInput {
            name,
            document,
            facts,
        })
    }
}

/// A firewall's rule set, read and audited against the plan (`--rules`).
pub struct RulesInput<'a> {
    /// The export's name (for evidence lines).
    pub name: &'a str,
    /// The rule set as the audit readers normalised it.
    pub ruleset: &'a rdsports_audit::Ruleset,
    /// Its audit against the plan (the "too broad" part is used).
    pub audit: &'a rdsports_audit::report::Audit,
}

/// What lint looks at.
pub struct Input<'a> {
    /// The deployment's text, which the plan's deployment was parsed from (for the lines
    /// findings point at; the places and `[[lint.accept]]` come with the deployment).
    pub text: &'a str,
    /// The plan of that deployment.
    pub plan: &'a Plan<'a>,
    /// Check results, if any.
    pub checks: &'a [CheckInput],
    /// A rule set, if any.
    pub rules: Option<RulesInput<'a>>,
}

/// A place in the deployment file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Location {
    /// First line.
    pub line: usize,
    /// First column (characters).
    pub column: usize,
    /// Last line.
    pub end_line: usize,
    /// Column after the last character.
    pub end_column: usize,
}

/// A planned flow a finding concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowRef {
    /// Source host.
    pub from: String,
    /// Destination host.
    pub to: String,
    /// `tcp` or `udp`.
    pub protocol: &'static str,
    /// `N` or `N-M`.
    pub ports: String,
    /// Every catalog entry behind the flow.
    pub catalog_ids: Vec<String>,
}

/// One finding: a rule, where it applies, and the evidence.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The rule.
    #[serde(skip)]
    pub rule: &'static Rule,
    /// What exactly (the zones, the host and port).
    pub subject: String,
    /// Hosts concerned, in deployment order (at most [`MAX_LISTED`]).
    pub hosts: Vec<String>,
    /// How many hosts in all.
    pub hosts_total: usize,
    /// Planned flows concerned (at most [`MAX_LISTED`]).
    pub flows: Vec<FlowRef>,
    /// How many flows in all.
    pub flows_total: usize,
    /// What check saw (at most [`MAX_LISTED`] lines).
    pub evidence: Vec<String>,
    /// The deployment file's line that causes the finding.
    pub location: Option<Location>,
    /// For a rule of a `--rules` export: its file and line.
    pub external: Option<(String, usize)>,
    /// The reason given in `[[lint.accept]]`, when the finding is accepted.
    pub accepted: Option<String>,
}

/// Everything lint found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Findings not accepted, most severe first.
    pub findings: Vec<Finding>,
    /// Findings accepted in the deployment file, same order.
    pub accepted: Vec<Finding>,
    /// Things to know that are not findings (an acceptance nothing matched, a check result
    /// for a host the deployment does not have).
    pub warnings: Vec<Diagnostic>,
    /// How many check results were read.
    pub results_read: usize,
}

impl Report {
    /// Whether a finding at or above `threshold` remains (exit status 1).
    pub fn fails(&self, threshold: Option<Severity>) -> bool {
        threshold.is_some_and(|t| self.findings.iter().any(|f| f.rule.severity >= t))
    }

    /// Findings per severity (not accepted ones).
    pub fn counts(&self) -> BTreeMap<Severity, usize> {
        let mut counts: BTreeMap<Severity, usize> =
            Severity::DESCENDING.iter().map(|s| (*s, 0)).collect();
        for f in &self.findings {
            *counts.entry(f.rule.severity).or_default() += 1;
        }
        counts
    }
}

/// What a finding is about: a zone pair (zone indices; `usize::MAX` for internet hosts
/// outside an internet zone) or a text (a host and port, an option).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Subject {
    Zones(usize, usize),
    Text(String),
}

/// One occurrence, folded into its group at once (memory stays per group, not per flow).
struct Hit {
    rule: usize,
    subject: Subject,
    hosts: [Option<usize>; 2],
    flow: Option<usize>,
    evidence: Option<String>,
    span: Option<Range<usize>>,
    /// A place in another file (a rule of a `--rules` export: file and line).
    external: Option<(String, usize)>,
}

/// An acceptance, validated.
struct Accept {
    id: String,
    hosts: Option<Vec<usize>>,
    reason: String,
    span: Range<usize>,
    used: bool,
}

/// The hits of one (rule, subject, acceptance).
struct Group {
    rule: usize,
    subject: Subject,
    accepted: Option<usize>,
    hosts: std::collections::BTreeSet<usize>,
    flows: Vec<usize>,
    flows_total: usize,
    evidence: Vec<String>,
    span: Option<Range<usize>>,
    external: Option<(String, usize)>,
}

/// The groups, in order of first appearance.
struct Groups {
    accepts: Vec<Accept>,
    list: Vec<Group>,
    index: BTreeMap<(usize, Subject, Option<usize>), usize>,
}

impl Groups {
    fn add(&mut self, hit: Hit) {
        let id = RULES[hit.rule].id;
        let accepted = self.accepts.iter().position(|a| {
            a.id == id
                && a.hosts.as_ref().is_none_or(|hs| {
                    hit.hosts
                        .iter()
                        .flatten()
                        .any(|h| hs.binary_search(h).is_ok())
                })
        });
        if let Some(a) = accepted {
            self.accepts[a].used = true;
        }
        let key = (hit.rule, hit.subject, accepted);
        let slot = match self.index.get(&key) {
            Some(&slot) => slot,
            None => {
                self.list.push(Group {
                    rule: key.0,
                    subject: key.1.clone(),
                    accepted,
                    hosts: Default::default(),
                    flows: Vec::new(),
                    flows_total: 0,
                    evidence: Vec::new(),
                    span: None,
                    external: None,
                });
                self.index.insert(key, self.list.len() - 1);
                self.list.len() - 1
            }
        };
        let g = &mut self.list[slot];
        g.hosts.extend(hit.hosts.iter().flatten());
        if let Some(f) = hit.flow {
            g.flows_total += 1;
            if g.flows.len() < MAX_LISTED {
                g.flows.push(f);
            }
        }
        if let Some(e) = hit.evidence
            && g.evidence.len() < MAX_LISTED
            && !g.evidence.contains(&e)
        {
            g.evidence.push(e);
        }
        if g.span.is_none() {
            g.span = hit.span;
        }
        if g.external.is_none() {
            g.external = hit.external;
        }
    }
}

/// Lints a deployment. `Err`: the `[lint]` section is wrong (an acceptance without a
/// reason, an unknown id or host): every problem, located in the text.
pub fn lint(input: &Input<'_>) -> Result<Report, Vec<Diagnostic>> {
    let plan = input.plan;
    let d = plan.deployment;
    let section = d.lint.as_ref().map_err(Clone::clone)?;
    let accepts = validate_accepts(&section.accept, plan).map_err(|e| {
        e.into_iter()
            .map(|d| d.locate(input.text))
            .collect::<Vec<_>>()
    })?;
    let host_span = |h: usize| d.places.hosts.get(h).cloned();
    let option_span = |key: &str| d.places.options.get(key).cloned();
    let rule_index = |id: &str| RULES.iter().position(|r| r.id == id).unwrap_or(0);

    let mut groups = Groups {
        accepts,
        list: Vec::new(),
        index: BTreeMap::new(),
    };
    plan_hits(plan, &host_span, &option_span, &rule_index, &mut groups);
    let mut warnings = Vec::new();
    let results_read = check_hits(
        input.checks,
        plan,
        &host_span,
        &rule_index,
        &mut groups,
        &mut warnings,
    );
    if let Some(rules) = &input.rules {
        // Every RDP port of the deployment: its own and each host's.
        let rdp_ports: std::collections::BTreeSet<u16> = std::iter::once(d.options.rdp_port)
            .chain(d.hosts.iter().filter_map(|h| h.settings.rdp_port))
            .collect();
        rule_set_hits(rules, &rdp_ports, &rule_index, &mut groups);
    }
    for a in &groups.accepts {
        if !a.used {
            warnings.push(
                Diagnostic::warning(
                    format!("[[lint.accept]] for \"{}\" matches no finding", a.id),
                    Some(a.span.clone()),
                )
                .with_hint("remove it, or check its id and hosts")
                .locate(input.text),
            );
        }
    }

    let mut report = Report {
        warnings,
        results_read,
        ..Report::default()
    };
    let zone_label = |z: usize| -> &str {
        if z == usize::MAX {
            "internet"
        } else {
            &d.zones[z].name
        }
    };
    for g in groups.list {
        let subject = match &g.subject {
            Subject::Zones(a, b) => format!("{} -> {}", zone_label(*a), zone_label(*b)),
            Subject::Text(t) => t.clone(),
        };
        let reason = g.accepted.map(|a| groups.accepts[a].reason.clone());
        let finding = finding(plan, input.text, &RULES[g.rule], subject, reason, g);
        if finding.accepted.is_some() {
            report.accepted.push(finding);
        } else {
            report.findings.push(finding);
        }
    }
    let order = |f: &Finding| {
        (
            std::cmp::Reverse(f.rule.severity),
            RULES.iter().position(|r| r.id == f.rule.id),
        )
    };
    report.findings.sort_by_key(order);
    report.accepted.sort_by_key(order);
    Ok(report)
}

fn validate_accepts(
    written: &[rdsports_core::deployment::Accept],
    plan: &Plan<'_>,
) -> Result<Vec<Accept>, Vec<Diagnostic>> {
    let d = plan.deployment;
    let ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
    let mut errors = Vec::new();
    let mut accepts = Vec::new();
    for raw in written {
        let id = &raw.id.value;
        let mut ok = true;
        if !ids.contains(&id.as_str()) {
            errors.push(
                Diagnostic::error(
                    format!("unknown finding id \"{id}\""),
                    Some(raw.id.span.clone()),
                )
                .with_hint(rdsports_core::suggest::hint(id, &ids)),
            );
            ok = false;
        }
        let reason = raw
            .reason
            .as_ref()
            .map(|r| r.value.trim().to_owned())
            .unwrap_or_default();
        if reason.is_empty() {
            errors.push(
                Diagnostic::error(
                    format!("the acceptance of \"{id}\" has no reason"),
                    Some(raw.reason.as_ref().unwrap_or(&raw.id).span.clone()),
                )
                .with_hint(
                    "say why the finding is acceptable: reason = \"...\" (a CI pipeline passes \
                     only on documented exceptions)",
                ),
            );
            ok = false;
        }
        let mut hosts = None;
        if let Some(list) = &raw.hosts {
            let names: Vec<&str> = d.hosts.iter().map(|h| h.name.as_str()).collect();
            let mut v = Vec::new();
            for h in list {
                match d.host_index(&h.value) {
                    Some(i) => v.push(i),
                    None => {
                        errors.push(
                            Diagnostic::error(
                                format!("unknown host \"{}\" in [[lint.accept]]", h.value),
                                Some(h.span.clone()),
                            )
                            .with_hint(rdsports_core::suggest::hint(&h.value, &names)),
                        );
                        ok = false;
                    }
                }
            }
            v.sort_unstable();
            hosts = Some(v);
        }
        if ok {
            accepts.push(Accept {
                id: id.clone(),
                hosts,
                reason,
                span: raw.id.span.clone(),
                used: false,
            });
        }
    }
    if errors.is_empty() {
        Ok(accepts)
    } else {
        Err(errors)
    }
}

/// Whether a zone is the internet: it holds a `/0` network (or, without networks, is
/// called "internet").
fn internet_zone(z: &Zone) -> bool {
    if z.networks.is_empty() {
        z.name.eq_ignore_ascii_case("internet")
    } else {
        z.networks.iter().any(|n| n.prefix_len() == 0)
    }
}

fn plan_hits(
    plan: &Plan<'_>,
    host_span: &dyn Fn(usize) -> Option<Range<usize>>,
    option_span: &dyn Fn(&str) -> Option<Range<usize>>,
    rule_index: &dyn Fn(&str) -> usize,
    hits: &mut Groups,
) {
    let d = plan.deployment;
    let o = &d.options;
    let internet_host: Vec<bool> = d
        .hosts
        .iter()
        .map(|h| h.address.prefix_len() == 0 || internet_zone(&d.zones[h.zone]))
        .collect();
    let mut perimeter = vec![false; d.zones.len()];
    for f in &plan.flows {
        if internet_host[f.from] && !internet_host[f.to] {
            perimeter[d.hosts[f.to].zone] = true;
        }
    }
    let zone_key = |h: usize| -> usize {
        if internet_host[h] && !internet_zone(&d.zones[d.hosts[h].zone]) {
            usize::MAX
        } else {
            d.hosts[h].zone
        }
    };
    let between = |f: &rdsports_core::Flow| Subject::Zones(zone_key(f.from), zone_key(f.to));
    let or_host = |key: &str, h: usize| option_span(key).or_else(|| host_span(h));
    let has = |p: rdsports_core::PortRange, port: u16| p.contains(port);

    let mut web_access_exposed = false;
    for (i, f) in plan.flows.iter().enumerate() {
        let entry = plan.entry(f);
        // The flow's catalog ids, primary first (no list allocated per flow).
        let ids = || {
            std::iter::once(f.entry)
                .chain(f.also.iter().copied())
                .map(|e| plan.catalog.entries[e].id.as_str())
        };
        let (zf, zt) = (d.hosts[f.from].zone, d.hosts[f.to].zone);
        let edge = internet_host[f.from] != internet_host[f.to];
        let inbound = internet_host[f.from] && !internet_host[f.to];
        let crosses = zf != zt || edge;
        let inner = if internet_host[f.from] { f.to } else { f.from };
        let mut hit = |rule: &str, span: Option<Range<usize>>| {
            hits.add(Hit {
                rule: rule_index(rule),
                subject: between(f),
                hosts: [Some(f.from), Some(f.to)],
                flow: Some(i),
                evidence: None,
                span,
                external: None,
            });
        };
        let rdp = entry.service == "rdp" || entry.service == "rdp-websocket";
        if rdp && inbound {
            let span = if o.direct_access {
                option_span("direct_access")
            } else {
                host_span(f.to)
            };
            hit("rdp-from-internet", span);
        }
        if inbound && d.hosts[f.to].has(Role::WebAccess) && ids().any(|id| id == "S01") {
            web_access_exposed = true;
        }
        let smb = match f.protocol {
            Protocol::Tcp => has(f.ports, 445) || has(f.ports, 139),
            Protocol::Udp => has(f.ports, 137) || has(f.ports, 138),
        };
        if smb && edge {
            hit("smb-from-internet", host_span(inner));
        } else if smb && zf != zt && perimeter[zf] != perimeter[zt] {
            hit("smb-across-perimeter", host_span(inner));
        }
        let rpc_range = f.protocol == Protocol::Tcp && f.ports == o.rpc_range && f.ports.len() > 1;
        let rpc = f.protocol == Protocol::Tcp && (has(f.ports, 135) || rpc_range);
        if rpc && inbound {
            hit("rpc-from-internet", host_span(inner));
        } else if rpc_range && crosses && f.ports.len() > RPC_RANGE_LIMIT {
            hit("rpc-range-across-zones", or_host("rpc_range", f.from));
        }
        if f.protocol == Protocol::Tcp && has(f.ports, 5985) && crosses {
            hit("winrm-http-across-zones", or_host("winrm", f.from));
        }
        let ldap = has(f.ports, 389) || (f.protocol == Protocol::Tcp && has(f.ports, 3268));
        // CRL retrieval over LDAP (S19) reads public data anonymously: its own finding.
        let crl_only = ids().all(|id| id == "S19");
        if ldap && crosses && !o.ldaps && !crl_only {
            hit("ldap-cleartext-across-zones", or_host("ldaps", f.from));
        }
        if crosses && ids().any(|id| matches!(id, "S19" | "S21a" | "S21b")) {
            hit("crl-ldap-ftp-from-perimeter", or_host("crl", f.from));
        }
        if ids().any(|id| id.starts_with("S30")) && o.netbios {
            hits.add(Hit {
                rule: rule_index("netbios-enabled"),
                subject: Subject::Text("option netbios".into()),
                hosts: [Some(f.from), Some(f.to)],
                flow: Some(i),
                evidence: None,
                span: option_span("netbios"),
                external: None,
            });
        }
    }
    if web_access_exposed && !d.has(Role::Gateway) {
        for (h, _) in d.hosts_with(Role::WebAccess) {
            hits.add(Hit {
                rule: rule_index("web-access-without-gateway"),
                subject: Subject::Text(d.hosts[h].name.clone()),
                hosts: [Some(h), None],
                flow: None,
                evidence: None,
                span: host_span(h),
                external: None,
            });
        }
    }
}

/// Findings on a rule set: any-to-any accepts, RDP (3389 and every RDP port of the
/// deployment, `rdp_ports`) or SMB from any address, and every rule the audit measured as
/// allowing more than the plan.
fn rule_set_hits(
    rules: &RulesInput<'_>,
    rdp_ports: &std::collections::BTreeSet<u16>,
    rule_index: &dyn Fn(&str) -> usize,
    hits: &mut Groups,
) {
    use rdsports_audit::model::Action;
    use rdsports_audit::space::{DPORT, DST, PROTO, SRC, Set, TCP, V4};
    let every_v4 = Set::range(V4.0, V4.1);
    let every_port = Set::range(1, 65_535);
    let tcp = Set::one(TCP);
    let mut hit = |rule: &str, text: &str, location: &str, seen: String| {
        hits.add(Hit {
            rule: rule_index(rule),
            subject: Subject::Text(format!("{location}: {text}")),
            hosts: [None, None],
            flow: None,
            evidence: Some(format!("{seen} ({})", rules.name)),
            span: None,
            external: location
                .rsplit_once(':')
                .and_then(|(file, line)| Some((file.to_owned(), line.parse().ok()?))),
        });
    };
    for chain in &rules.ruleset.chains {
        for r in &chain.rules {
            if r.action != Action::Accept || r.never_new || r.possible.is_some() {
                continue;
            }
            let m = &r.matches.0;
            let from_anywhere = every_v4.subset_of(&m[SRC]);
            if !from_anywhere || !m[PROTO].meets(&tcp) {
                continue;
            }
            if every_v4.subset_of(&m[DST]) && every_port.subset_of(&m[DPORT]) {
                hit(
                    "rules-any-to-any",
                    &r.text,
                    &r.location,
                    format!(
                        "chain {}: any IPv4 source, any destination, every TCP port",
                        chain.name
                    ),
                );
                continue;
            }
            let open: Vec<u16> = rdp_ports
                .iter()
                .copied()
                .chain([3389, 445])
                .filter(|p| m[DPORT].contains(u128::from(*p)))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            if !open.is_empty() {
                let ports: Vec<String> = open.iter().map(u16::to_string).collect();
                hit(
                    "rules-rdp-smb-from-anywhere",
                    &r.text,
                    &r.location,
                    format!(
                        "chain {}: any IPv4 source to TCP {}",
                        chain.name,
                        ports.join(", ")
                    ),
                );
            }
        }
    }
    for t in &rules.audit.too_broad {
        hit(
            "rules-too-broad",
            &t.rule.text,
            &t.rule.location,
            format!("allows beyond the plan: {}", t.excess_text),
        );
    }
}

/// Reads the check documents; returns how many results were read.
fn check_hits(
    checks: &[CheckInput],
    plan: &Plan<'_>,
    host_span: &dyn Fn(usize) -> Option<Range<usize>>,
    rule_index: &dyn Fn(&str) -> usize,
    hits: &mut Groups,
    warnings: &mut Vec<Diagnostic>,
) -> usize {
    let d = plan.deployment;
    let mut read = 0;
    let mut unknown: BTreeMap<String, usize> = BTreeMap::new();
    for check in checks {
        let from = check.document.from.as_str();
        for (r, facts) in check.document.results.iter().zip(&check.facts) {
            read += 1;
            if r.verdict != Verdict::Open {
                continue;
            }
            let to = r.to.as_str();
            let Some(host) = d.host_index(to) else {
                *unknown.entry(to.to_owned()).or_default() += 1;
                continue;
            };
            let protocol = r.protocol.as_str();
            let port = r.port;
            let service = r.service.as_deref().unwrap_or_default();
            let subject = Subject::Text(format!("{to} {protocol}/{port}"));
            let mut hit = |rule: &str, seen: String| {
                hits.add(Hit {
                    rule: rule_index(rule),
                    subject: subject.clone(),
                    hosts: [Some(host), None],
                    flow: None,
                    evidence: Some(format!(
                        "{from} -> {to} {protocol}/{port}: {seen} ({})",
                        check.name
                    )),
                    span: host_span(host),
                    external: None,
                });
            };
            if service == "rdp" {
                if facts.nla_required == Some(false) {
                    hit(
                        "rdp-nla-not-required",
                        format!(
                            "selected protocol {}, NLA not required",
                            text(facts.selected_protocol.as_deref())
                        ),
                    );
                }
                if facts.selected_protocol.as_deref() == Some("rdp") {
                    hit(
                        "rdp-standard-security",
                        "the server selected standard RDP security".into(),
                    );
                }
            }
            if let Some(tls) = &facts.tls {
                let alert = tls.alert.as_deref().unwrap_or_default();
                let error = tls
                    .error
                    .as_deref()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                if alert == "protocol_version" || error.contains("protocol version") {
                    hit(
                        "tls-legacy-only",
                        format!(
                            "TLS 1.2/1.3 refused ({})",
                            if alert.is_empty() { &error } else { alert }
                        ),
                    );
                }
                let cert = tls.certificate.clone().unwrap_or_default();
                if cert.expired == Some(true) || cert.not_yet_valid == Some(true) {
                    hit(
                        "tls-certificate-expired",
                        format!(
                            "certificate {} valid {} to {}",
                            text(cert.subject.as_deref()),
                            text(cert.not_before.as_deref()),
                            text(cert.not_after.as_deref())
                        ),
                    );
                }
                let web_role =
                    d.hosts[host].has(Role::Gateway) || d.hosts[host].has(Role::WebAccess);
                // The host's own HTTPS port (a gateway may set gateway_https_port).
                let web_port = port == d.options_for(host).gateway_https_port || port == 443;
                if cert.self_signed == Some(true) && web_role && web_port {
                    hit(
                        "tls-certificate-self-signed",
                        format!("self-signed certificate {}", text(cert.subject.as_deref())),
                    );
                }
            }
            if service == "smb" && facts.signing_required == Some(false) {
                hit(
                    "smb-signing-not-required",
                    format!(
                        "dialect {}, signing not required",
                        text(facts.dialect.as_deref())
                    ),
                );
            }
            if let Some(skew) = facts.clock_skew_s
                && skew.abs() > MAX_CLOCK_SKEW_S
            {
                hit(
                    "kerberos-clock-skew",
                    format!("clock skew {skew:.0} s (limit {MAX_CLOCK_SKEW_S:.0} s)"),
                );
            }
        }
    }
    for (name, n) in unknown {
        warnings.push(Diagnostic::warning(
            format!(
                "{n} check result{} for host \"{name}\", which the deployment does not have, \
                 were not linted",
                if n == 1 { "" } else { "s" }
            ),
            None,
        ));
    }
    read
}

/// A fact as text (`?` when absent).
fn text(v: Option<&str>) -> &str {
    v.unwrap_or("?")
}

fn finding(
    plan: &Plan<'_>,
    source: &str,
    rule: &'static Rule,
    subject: String,
    accepted: Option<String>,
    g: Group,
) -> Finding {
    let d = plan.deployment;
    let location = g.span.map(|span| {
        let (line, column) = line_column(source, span.start);
        let (end_line, end_column) = line_column(source, span.end);
        Location {
            line,
            column,
            end_line,
            end_column,
        }
    });
    Finding {
        rule,
        subject,
        hosts_total: g.hosts.len(),
        hosts: g
            .hosts
            .iter()
            .take(MAX_LISTED)
            .map(|&h| d.hosts[h].name.clone())
            .collect(),
        flows_total: g.flows_total,
        flows: g
            .flows
            .iter()
            .map(|&i| {
                let f = &plan.flows[i];
                FlowRef {
                    from: plan.from(f).name.clone(),
                    to: plan.to(f).name.clone(),
                    protocol: f.protocol.name(),
                    ports: f.ports.to_string(),
                    catalog_ids: plan.catalog_ids(f).into_iter().map(str::to_owned).collect(),
                }
            })
            .collect(),
        evidence: g.evidence,
        location,
        external: g.external,
        accepted,
    }
}

#[cfg(test)]
mod tests;
