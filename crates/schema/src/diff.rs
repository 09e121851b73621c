//! The document of `rdsports diff OLD NEW --format json`: what a change to a deployment
//! changes on the firewalls.
//!
//! JSON contract (`schema_version` 1):
//!
//! ```json
//! {"schema_version": 1,
//!  "old": {"label": "before.toml", "deployment": "contoso", "kind": "deployment"},
//!  "new": {"label": "after.toml", "deployment": "contoso", "kind": "deployment"},
//!  "scope": {"host": null, "boundary": null},
//!  "header": {"hosts_added": [{"name": "gw02", "address": "198.51.100.11",
//!                              "zone": "perimeter", "roles": ["gateway"]}],
//!             "hosts_removed": [], "hosts_changed": [], "zones_added": [],
//!             "zones_removed": [], "options_changed": [{"key": "rdp_port",
//!             "old": "3389", "new": "3390"}], "notes": []},
//!  "summary": {"added": 12, "removed": 0, "changed": 0},
//!  "boundaries": [{"from_zone": "internet", "to_zone": "perimeter",
//!    "pairs": [{"from": {"name": "clients", "address": "0.0.0.0/0"},
//!               "to": {"name": "gw02", "address": "198.51.100.11"},
//!               "changes": [{"change": "added", "protocol": "tcp", "ports": "443",
//!                 "service": "https", "purpose": "...", "catalog_ids": ["S01", "S12"],
//!                 "references": [{"catalog_id": "S01", "seed_lines": [12],
//!                                 "reference": null}],
//!                 "old": null}]}]}]}
//! ```
//!
//! * `kind` is `deployment` (a deployment file, planned) or `plan` (a saved
//!   `plan --format json`: its hosts' addresses, roles and the options are not known, so the
//!   header says less, flows are compared by host name, and an `address` is the other
//!   side's when it is a deployment file, else `null`).
//! * `change` is `added` (only NEW has the flow), `removed` (only OLD has it) or `changed`
//!   (the same host pair, protocol and zones on both sides, with other ports or other catalog
//!   entries: `old` holds OLD's side, the flow's own fields NEW's).
//! * `boundaries` are sorted by NEW's zone order (zones only OLD has after them), pairs by
//!   NEW's host order; a boundary with `from_zone == to_zone` is inside one zone.
//!
//! Keys are written in the order of the fields here. Readers must ignore fields they do not
//! know.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Transport;
use crate::plan::PortSpan;

/// The version of the diff document written.
pub const DIFF_SCHEMA_VERSION: u32 = 1;

/// A whole `diff --format json` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffDocument {
    /// [`DIFF_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// What was compared: the old side.
    pub old: DiffSide,
    /// The new side.
    pub new: DiffSide,
    /// The narrowing asked for (`--host`, `--boundary`).
    pub scope: DiffScope,
    /// Hosts, zones and options that changed.
    pub header: DiffHeader,
    /// How many flows were added, removed and changed (within the scope).
    pub summary: DiffSummary,
    /// The flow changes, grouped by zone boundary and then by host pair.
    pub boundaries: Vec<DiffBoundary>,
    /// With `--target`: the firewall rules that change, in that platform's syntax (absent
    /// without `--target`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<RuleChanges>,
}

/// The rules of one target that a change removes and adds: each side's aggregated rules (as
/// `rules` builds them) compared on what they allow, rendered by that target's generator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleChanges {
    /// The target (`nftables`, `windows` ...).
    pub target: String,
    /// How many of the old side's aggregated rules are removed (the whole deployment's, before
    /// `--host`/`--boundary` and before the target picks the rules its firewalls see).
    pub removed: usize,
    /// How many rules of the new side are added (each cut down to the hosts whose traffic it
    /// newly allows).
    pub added: usize,
    /// Per output file (the names `rules` gives them), in name order.
    pub files: Vec<RuleFile>,
}

/// One output file's rule changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleFile {
    /// File name as `rules --out` writes it (`rdsports.nft`, `sh01.ps1` ...).
    pub file: String,
    /// The file as the generator writes it for only the removed rules (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove: Option<String>,
    /// The file as the generator writes it for only the added rules (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add: Option<String>,
}

/// One side of the comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffSide {
    /// The file as named on the command line.
    pub label: String,
    /// The deployment's name.
    pub deployment: String,
    /// What the file is.
    pub kind: SideKind,
}

/// What a side was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SideKind {
    /// A deployment file, planned.
    Deployment,
    /// A saved `plan --format json`.
    Plan,
}

/// The narrowing of a diff.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffScope {
    /// Only flows from or to this host.
    pub host: Option<String>,
    /// Only flows between these two zones (both directions).
    pub boundary: Option<[String; 2]>,
}

/// Hosts, zones and options that changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffHeader {
    /// Hosts only NEW has.
    pub hosts_added: Vec<DiffHost>,
    /// Hosts only OLD has.
    pub hosts_removed: Vec<DiffHost>,
    /// Hosts on both sides whose address, zone, roles or per-host settings differ.
    pub hosts_changed: Vec<HostChange>,
    /// Zones only NEW has.
    pub zones_added: Vec<String>,
    /// Zones only OLD has.
    pub zones_removed: Vec<String>,
    /// Options whose value differs (both sides deployment files).
    pub options_changed: Vec<OptionChange>,
    /// What could not be compared (a side that is a saved plan), as sentences.
    pub notes: Vec<String>,
}

/// A host as one side knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffHost {
    /// Name.
    pub name: String,
    /// Address or population (`null`: a saved plan does not say).
    pub address: Option<String>,
    /// Zone.
    pub zone: String,
    /// Roles, given and implied (`null`: a saved plan does not say).
    pub roles: Option<Vec<String>>,
    /// The per-host keys the host sets for itself (`rdp_port`, `gateway_udp` ...), with their
    /// values as the file writes them; keys it leaves to `[options]` are absent (`null`: a
    /// saved plan does not say).
    #[serde(default)]
    pub settings: Option<BTreeMap<String, String>>,
}

/// A host whose address, zone or roles changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostChange {
    /// Name.
    pub name: String,
    /// OLD's view of the host.
    pub old: DiffHost,
    /// NEW's view.
    pub new: DiffHost,
}

/// An option whose value changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionChange {
    /// The key of `[options]` (`rdp_port`).
    pub key: String,
    /// OLD's value, as the file would write it.
    pub old: String,
    /// NEW's value.
    pub new: String,
}

/// Counts of flow changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffSummary {
    /// Flows only NEW has.
    pub added: usize,
    /// Flows only OLD has.
    pub removed: usize,
    /// Flows whose ports or catalog entries changed.
    pub changed: usize,
}

/// The changes between one pair of zones (in that direction).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffBoundary {
    /// Zone of the sources.
    pub from_zone: String,
    /// Zone of the destinations.
    pub to_zone: String,
    /// The changes per host pair.
    pub pairs: Vec<DiffPair>,
}

/// The changes between two hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffPair {
    /// Source host.
    pub from: Endpoint,
    /// Destination host.
    pub to: Endpoint,
    /// Its flow changes, sorted by protocol and port.
    pub changes: Vec<FlowChange>,
}

/// A host at one end of a flow.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Endpoint {
    /// Name.
    pub name: String,
    /// Address or population (`null`: a saved plan does not say).
    pub address: Option<String>,
}

/// One flow added, removed or changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowChange {
    /// What happened to it.
    pub change: ChangeKind,
    /// `tcp` or `udp`.
    pub protocol: Transport,
    /// Ports: NEW's for an added or changed flow, OLD's for a removed one.
    pub ports: PortSpan,
    /// Service name from the catalog.
    pub service: String,
    /// Why the flow exists (the justification).
    pub purpose: String,
    /// Every catalog entry that needs the flow, primary first.
    pub catalog_ids: Vec<String>,
    /// Where each catalog entry comes from.
    pub references: Vec<Reference>,
    /// OLD's side of a changed flow; `null` otherwise.
    pub old: Option<OldFlow>,
}

/// What happened to a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// Only NEW has it.
    Added,
    /// Only OLD has it.
    Removed,
    /// Both have the host pair and protocol, with other ports or catalog entries.
    Changed,
}

/// OLD's side of a changed flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OldFlow {
    /// OLD's ports.
    pub ports: PortSpan,
    /// OLD's service.
    pub service: String,
    /// OLD's purpose.
    pub purpose: String,
    /// OLD's catalog entries.
    pub catalog_ids: Vec<String>,
}

/// Where a catalog entry comes from: lines of the seed document, or the reference's source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// Catalog id (`S24`).
    pub catalog_id: String,
    /// 1-based lines of the seed document "RDS 2012: Which ports are used during
    /// deployment?" (empty for additions).
    pub seed_lines: Vec<usize>,
    /// The reference's source for additions (`KB 179442 [6]`), when it has one.
    pub reference: Option<String>,
}

impl Reference {
    /// `S24 (seed line 41)`, `S01 (seed lines 12, 13)`, `A03 (KB 179442)`, or the bare id.
    pub fn text(&self) -> String {
        match (self.seed_lines.as_slice(), &self.reference) {
            ([], None) => self.catalog_id.clone(),
            ([], Some(r)) => format!("{} ({r})", self.catalog_id),
            ([one], _) => format!("{} (seed line {one})", self.catalog_id),
            (lines, _) => format!(
                "{} (seed lines {})",
                self.catalog_id,
                lines
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_read_as_a_ticket_says_them() {
        let r = |id: &str, lines: Vec<usize>, reference: Option<&str>| Reference {
            catalog_id: id.into(),
            seed_lines: lines,
            reference: reference.map(str::to_owned),
        };
        assert_eq!(r("S24", vec![41], None).text(), "S24 (seed line 41)");
        assert_eq!(
            r("S01", vec![12, 13], Some("x")).text(),
            "S01 (seed lines 12, 13)"
        );
        assert_eq!(
            r("A03", vec![], Some("KB 179442")).text(),
            "A03 (KB 179442)"
        );
        assert_eq!(r("Z9", vec![], None).text(), "Z9");
    }

    #[test]
    fn a_document_reads_back_and_keys_keep_their_order() {
        let doc = DiffDocument {
            schema_version: DIFF_SCHEMA_VERSION,
            old: DiffSide {
                label: "a.toml".into(),
                deployment: "c".into(),
                kind: SideKind::Deployment,
            },
            new: DiffSide {
                label: "plan.json".into(),
                deployment: "c".into(),
                kind: SideKind::Plan,
            },
            scope: DiffScope::default(),
            header: DiffHeader::default(),
            summary: DiffSummary {
                added: 0,
                removed: 0,
                changed: 1,
            },
            boundaries: vec![DiffBoundary {
                from_zone: "a".into(),
                to_zone: "b".into(),
                pairs: vec![DiffPair {
                    from: Endpoint {
                        name: "x".into(),
                        address: None,
                    },
                    to: Endpoint {
                        name: "y".into(),
                        address: Some("192.0.2.1/32".into()),
                    },
                    changes: vec![FlowChange {
                        change: ChangeKind::Changed,
                        protocol: Transport::Tcp,
                        ports: PortSpan {
                            first: 3390,
                            last: 3390,
                        },
                        service: "rdp".into(),
                        purpose: "p".into(),
                        catalog_ids: vec!["S24".into()],
                        references: vec![],
                        old: Some(OldFlow {
                            ports: PortSpan {
                                first: 3389,
                                last: 3389,
                            },
                            service: "rdp".into(),
                            purpose: "p".into(),
                            catalog_ids: vec!["S24".into()],
                        }),
                    }],
                }],
            }],
            rules: Some(RuleChanges {
                target: "nftables".into(),
                removed: 0,
                added: 1,
                files: vec![RuleFile {
                    file: "rdsports.nft".into(),
                    remove: None,
                    add: Some("table inet rdsports {}\n".into()),
                }],
            }),
        };
        let text = serde_json::to_string(&doc).unwrap();
        assert!(text.starts_with(
            "{\"schema_version\":1,\"old\":{\"label\":\"a.toml\",\"deployment\":\"c\",\
             \"kind\":\"deployment\"},\"new\":"
        ));
        assert!(text.contains("\"change\":\"changed\",\"protocol\":\"tcp\",\"ports\":\"3390\""));
        let back: DiffDocument = serde_json::from_str(&text).unwrap();
        assert_eq!(back, doc);
    }
}
