//! The document of `rdsports audit --format json`: its types and the one reader
//! ([`Audit::parse`]) that `report --audit` uses. The audit crate builds it; the renderings
//! (table, Markdown, JUnit, the HTML section) are in `rdsports_report`.
//!
//! JSON contract, `schema_version` 1: `deployment`, `platform`, `semantics`, `scope`,
//! `rules` (count), `counts` {flows, allowed, missing, possible}, `flows` (one per planned
//! flow in scope: from, to, protocol, ports, catalog, hook, status `allowed|missing|possible`,
//! partial, blocked (the parts blocked when partial), rule {location, text} that decided,
//! reason for `possible`; above 100,000 flows only those not allowed), `flows_listed`
//! (`all` or `not-allowed`), `fix` {target, placement, rules, error} or null, `too_broad`
//! (worst first: rule, hook, excess as a decimal string of (source, destination, protocol,
//! port) tuples beyond the plan, pieces, examples), `shadowed` and `redundant` (chain, rule,
//! by), `unused` (chain, rule), `notes` (location, message), `rule_texts` (location, text:
//! only when a rule's text or location is longer than 240 characters; `rule` above repeats
//! at most 240 characters of each, then `...`, and this lists the rule in full, once).
//! Fields are only ever added.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Version of the JSON contract.
pub const SCHEMA_VERSION: u32 = 1;

/// The verdict on a planned flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every packet of the flow passes.
    Allowed,
    /// Some or all packets of the flow are dropped.
    Missing,
    /// It depends on a rule the reader could not evaluate.
    Possible,
}

/// Flow counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Planned flows in scope.
    pub flows: usize,
    /// Allowed.
    pub allowed: usize,
    /// Blocked, fully or in part.
    pub missing: usize,
    /// Undecided.
    pub possible: usize,
}

/// One planned flow's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowResult {
    /// Source host.
    pub from: String,
    /// Destination host.
    pub to: String,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// Port or range.
    pub ports: String,
    /// Catalog ids behind the flow.
    #[serde(default)]
    pub catalog: Vec<String>,
    /// The hook (direction) that sees it.
    pub hook: Hook,
    /// Verdict.
    pub status: Status,
    /// Blocked only in part.
    #[serde(default)]
    pub partial: bool,
    /// When partial: the parts that are blocked.
    #[serde(default)]
    pub blocked: Vec<String>,
    /// The deciding rule (for `missing`: the one that drops it).
    #[serde(default)]
    pub rule: Option<Described>,
    /// For `possible`: why.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The rules that would let the missing flows through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    /// The `rules` target that wrote them.
    pub target: String,
    /// Where they go.
    pub placement: String,
    /// The rules, in the platform's syntax.
    pub rules: String,
    /// Why they could not be rendered, if so.
    pub error: Option<String>,
}

/// An accepting rule and what it lets through that no planned flow needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TooBroad {
    /// The rule (or policy).
    pub rule: Described,
    /// The hook.
    pub hook: Hook,
    /// Tuples beyond the plan (saturating at 2^128 - 1).
    #[serde(serialize_with = "decimal", deserialize_with = "from_decimal")]
    pub excess: u128,
    /// Of which IPv4 (the IPv6 part, even one rule's, quickly exceeds 2^128).
    #[serde(default, serialize_with = "decimal", deserialize_with = "from_decimal")]
    pub excess_v4: u128,
    /// The same, for people (`N IPv4 and M IPv6`): not in the JSON, empty when read.
    #[serde(skip)]
    pub excess_text: String,
    /// How many disjoint parts the excess has.
    pub pieces: usize,
    /// The largest parts, as `SRC -> DST PROTO/PORTS`.
    pub examples: Vec<String>,
}

fn decimal<S: Serializer>(v: &u128, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// A count written as a decimal string (it may exceed what JSON numbers hold exactly).
fn from_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<u128, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "expected a count as a decimal string (0 to 2^128 - 1), found \"{text}\""
        ))
    })
}

/// A rule that can never match, or that changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadRule {
    /// Its chain.
    pub chain: String,
    /// The rule.
    pub rule: Described,
    /// The earlier rules that together cover it (shadowed), or why it changes nothing.
    pub by: Vec<Described>,
}

/// An accepting rule with a zero hit counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unused {
    /// Its chain.
    pub chain: String,
    /// The rule.
    pub rule: Described,
}

/// The whole audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    /// Contract version.
    pub schema_version: u32,
    /// Deployment name.
    pub deployment: String,
    /// Platform of the rule set.
    pub platform: Platform,
    /// How the platform decides.
    #[serde(default)]
    pub semantics: String,
    /// Which flows were audited.
    pub scope: String,
    /// Rules read.
    pub rules: usize,
    /// Counts.
    pub counts: Counts,
    /// Every flow in scope; above 100,000 flows only those not allowed (`flows_listed`).
    #[serde(default)]
    pub flows: Vec<FlowResult>,
    /// `all`, or `not-allowed` when the allowed flows were left out of `flows` for size.
    #[serde(default)]
    pub flows_listed: FlowsListed,
    /// The fix for the missing flows.
    #[serde(default)]
    pub fix: Option<Fix>,
    /// Worst first.
    #[serde(default)]
    pub too_broad: Vec<TooBroad>,
    /// Rules no packet reaches.
    #[serde(default)]
    pub shadowed: Vec<DeadRule>,
    /// Rules whose removal changes no verdict.
    #[serde(default)]
    pub redundant: Vec<DeadRule>,
    /// Accepting rules with zero hits.
    #[serde(default)]
    pub unused: Vec<Unused>,
    /// What the reader did not understand, and analysis limits.
    #[serde(default)]
    pub notes: Vec<Note>,
    /// The rules whose text or location the references above cut (to 240 characters, ending
    /// in `...`), in full, once each; absent when none is cut.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rule_texts: Vec<Described>,
}

impl Audit {
    /// Parses a `rdsports audit --format json` document, ignoring fields this version does not
    /// know. Errors say what is wrong: not JSON (with line and column), not an object, no or
    /// another `schema_version`, a missing or mistyped field.
    pub fn parse(text: &str) -> Result<Audit, AuditError> {
        let fail = |message: String| AuditError {
            message,
            hint: HINT.to_owned(),
        };
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            fail(format!(
                "not a JSON document (line {}, column {}): {e}",
                e.line(),
                e.column()
            ))
        })?;
        let Some(doc) = value.as_object() else {
            return Err(fail(
                "expected a JSON object as printed by `rdsports audit --format json`".to_owned(),
            ));
        };
        match doc.get("schema_version") {
            None => {
                return Err(fail(
                    "no schema_version: is this the output of `rdsports audit --format json`?"
                        .to_owned(),
                ));
            }
            Some(v) if v.as_u64() == Some(u64::from(SCHEMA_VERSION)) => {}
            Some(v) => {
                return Err(AuditError {
                    message: format!(
                        "audit result schema_version {v} is not supported (this rdsports reads \
                         version {SCHEMA_VERSION})"
                    ),
                    hint: "run `rdsports audit --format json` again with the rdsports that writes \
                           this report, or write the report with the rdsports that wrote the result"
                        .to_owned(),
                });
            }
        }
        if !doc.contains_key("counts") || !doc.contains_key("platform") {
            return Err(fail(
                "no `counts` or `platform`: is this the output of `rdsports audit --format json`?"
                    .to_owned(),
            ));
        }
        serde_json::from_str::<Audit>(text).map_err(|e| {
            fail(format!(
                "not an audit result (line {}, column {}): {e}",
                e.line(),
                e.column()
            ))
        })
    }

    /// Exit status: 0 nothing missing, 1 something missing (or, with `strict`, something
    /// too broad or undecided).
    pub fn exit_code(&self, strict: bool) -> i32 {
        if self.counts.missing > 0
            || (strict && (!self.too_broad.is_empty() || self.counts.possible > 0))
        {
            1
        } else {
            0
        }
    }
}

/// Which flows `flows` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlowsListed {
    /// Every flow in scope.
    #[default]
    All,
    /// Only the flows not allowed (above 100,000 flows, for size).
    NotAllowed,
}

/// The platform a rule set came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Platform {
    /// `nft -j list ruleset`.
    Nftables,
    /// `iptables-save` / `ip6tables-save`.
    Iptables,
    /// Windows Firewall (the rdsports export script, or GPO/registry rule strings).
    Windows,
    /// Azure network security groups (az, Az PowerShell, ARM).
    AzureNsg,
    /// AWS security groups (`aws ec2 describe-security-groups`).
    AwsSg,
    /// AWS network ACLs (`aws ec2 describe-network-acls`), with security groups if given.
    AwsNacl,
    /// Cisco ASA (`show running-config`, `show access-list`).
    CiscoAsa,
    /// Aerleon / Capirca policies (YAML) with their definitions.
    Aerleon,
}

impl Platform {
    /// The name in the JSON document (`nftables`, `azure-nsg`, `aws-nacl` ...).
    pub fn name(self) -> &'static str {
        match self {
            Platform::Nftables => "nftables",
            Platform::Iptables => "iptables",
            Platform::Windows => "windows",
            Platform::AzureNsg => "azure-nsg",
            Platform::AwsSg => "aws-sg",
            Platform::AwsNacl => "aws-nacl",
            Platform::CiscoAsa => "cisco-asa",
            Platform::Aerleon => "aerleon",
        }
    }

    /// The name of the matching `rules` target (for the fix).
    pub fn target(self) -> &'static str {
        match self {
            Platform::Nftables => "nftables",
            Platform::Iptables => "iptables",
            Platform::Windows => "windows",
            Platform::AzureNsg => "azure-nsg",
            Platform::AwsSg | Platform::AwsNacl => "aws-sg",
            Platform::CiscoAsa => "cisco-asa",
            Platform::Aerleon => "aerleon",
        }
    }

    /// How the platform decides, in one sentence (shown in reports).
    pub fn semantics(self) -> &'static str {
        match self {
            Platform::Nftables => {
                "base chains of a hook in priority order; accept ends only its own chain, \
                 drop and reject are final; jump/goto/return; end of a base chain: its policy"
            }
            Platform::Iptables => {
                "filter table, first match; user chains with RETURN; end of a built-in \
                 chain: its policy"
            }
            Platform::Windows => {
                "enabled rules of the active profile; block beats allow; otherwise the \
                 profile's default action"
            }
            Platform::AzureNsg => {
                "security rules by priority, first match, then the default rules; several \
                 NSGs (subnet and NIC) apply in series; inbound rules see flows into the \
                 deployment's networks, outbound rules flows out of them"
            }
            Platform::AwsSg => {
                "the union of every group's allow rules (stateful), everything else denied; \
                 inbound rules see flows into the deployment's networks, outbound rules \
                 flows out of them"
            }
            Platform::AwsNacl => {
                "network ACL entries by rule number, first match, then the * deny; stateless: \
                 a flow needs its inbound entry and the outbound entry of its replies (to \
                 ports 1024-65535); with security groups, their union of allows too"
            }
            Platform::CiscoAsa => {
                "per ingress interface: its inbound access list, then the global one, first \
                 match, then the implicit deny (no list: security levels); the outbound list \
                 of the egress interface after; an interface stands for its zone's networks"
            }
            Platform::Aerleon => {
                "each filter's terms in order, first match; a filter targeting from-zone A \
                 to-zone B judges connections from zone A to zone B, one without zone \
                 targets every connection; after the last term, and for a zone pair no \
                 filter names: the zone firewall's default deny"
            }
        }
    }
}

/// Which packets a hook sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hook {
    /// Packets to this host.
    Input,
    /// Packets through this host (a router between zones).
    Forward,
    /// Packets from this host.
    Output,
}

impl Hook {
    /// `input`, `forward`, `output`.
    pub fn name(self) -> &'static str {
        match self {
            Hook::Input => "input",
            Hook::Forward => "forward",
            Hook::Output => "output",
        }
    }
}

/// Something a reader could not understand or evaluate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// Where (`FILE:LINE`, JSON path).
    pub location: String,
    /// What was not understood and how it was treated.
    pub message: String,
}

/// Where a deciding rule is and what it says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Described {
    /// File and line, JSON path or rule name.
    pub location: String,
    /// The rule's text.
    pub text: String,
}

/// An audit result that cannot be read: what is wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditError {
    /// What is wrong (with line and column where the JSON says).
    pub message: String,
    /// What to do.
    pub hint: String,
}

const HINT: &str = "write the result with this rdsports: `rdsports audit --rules EXPORT --format json > RESULT.json`";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_platform_is_written_by_its_name() {
        for p in [
            Platform::Nftables,
            Platform::Iptables,
            Platform::Windows,
            Platform::AzureNsg,
            Platform::AwsSg,
            Platform::AwsNacl,
            Platform::CiscoAsa,
            Platform::Aerleon,
        ] {
            assert_eq!(
                serde_json::to_string(&p).unwrap(),
                format!("\"{}\"", p.name())
            );
        }
    }

    #[test]
    fn counts_beyond_json_numbers_round_trip_and_bad_ones_are_refused() {
        let t = TooBroad {
            rule: Described::default(),
            hook: Hook::Forward,
            excess: u128::MAX,
            excess_v4: 1 << 64,
            excess_text: String::new(),
            pieces: 1,
            examples: Vec::new(),
        };
        let text = serde_json::to_string(&t).unwrap();
        assert!(
            text.contains(&format!("\"excess\":\"{}\"", u128::MAX)),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<TooBroad>(&text).unwrap(), t);
        let bad = text.replace(&u128::MAX.to_string(), "12x");
        let e = serde_json::from_str::<TooBroad>(&bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected a count as a decimal string"), "{e}");
    }
}
