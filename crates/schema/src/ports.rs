//! The document of `rdsports ports --format json` (and of `rdsports ports PORT|ID --format
//! json`): the catalog entries that pass the filters, with the seed lines they come from.
//!
//! JSON contract (`schema_version` 1):
//!
//! ```json
//! {"schema_version": 1,
//!  "flows": [{"id": "S14", "from": ["gateway"], "to": ["domain-controller"],
//!             "protocols": ["tcp", "udp"], "ports": ["88"], "default_ports": ["88"],
//!             "service": "kerberos", "purpose": "Kerberos for user authentication",
//!             "when": [], "configurable": false, "configure": null, "confidence": "high",
//!             "section": "Remote Desktop Gateway", "seed_lines": [38],
//!             "seed_text": ["- TCP 88: Kerberos for user authentication"],
//!             "reference": "UDP added from KB 179442 [6]"}]}
//! ```
//!
//! `ports` are as the catalog writes them (numbers, ranges or parameter names such as `rdp`);
//! `default_ports` the same with every parameter at its default value ("N" or "N-M", a
//! parameter without a default left out). Absent optional values are `null`. Keys are written
//! in the order above (the order of the fields here), as version 1 has always written them.
//! Readers must ignore fields they do not know.

use serde::{Deserialize, Serialize};

use crate::Transport;
use crate::plan::PortSpan;

/// The version of the ports document written.
pub const PORTS_SCHEMA_VERSION: u32 = 1;

/// A whole `ports --format json` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortsDocument {
    /// [`PORTS_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The catalog entries shown, in catalog order.
    pub flows: Vec<CatalogEntry>,
}

/// One catalog entry: a flow between two roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogEntry {
    /// The entry's id (`S14`).
    pub id: String,
    /// Roles that open the connection.
    pub from: Vec<String>,
    /// Roles that accept it.
    pub to: Vec<String>,
    /// Transports.
    pub protocols: Vec<Transport>,
    /// As written: numbers, ranges or parameter names.
    pub ports: Vec<String>,
    /// With parameters at their defaults.
    pub default_ports: Vec<PortSpan>,
    /// Service name.
    pub service: String,
    /// Why the flow exists.
    pub purpose: String,
    /// Conditions on the deployment's options (empty: always).
    pub when: Vec<String>,
    /// Whether the port can be changed.
    pub configurable: bool,
    /// How to change the port, where documented.
    pub configure: Option<String>,
    /// How sure the reference is.
    pub confidence: Confidence,
    /// The seed document's section.
    pub section: Option<String>,
    /// Lines of the seed document (1-based) the entry comes from.
    pub seed_lines: Vec<usize>,
    /// Those lines, trimmed.
    pub seed_text: Vec<String>,
    /// Where else the entry comes from.
    pub reference: Option<String>,
}

/// How sure the reference is about an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Stated by the seed or a Microsoft source.
    High,
    /// An inference the reference marks as a guess; planned by default.
    Medium,
    /// Unresolved; planned only with `low_confidence = true`.
    Low,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_the_order_version_1_writes_and_read_back() {
        let doc = PortsDocument {
            schema_version: PORTS_SCHEMA_VERSION,
            flows: vec![CatalogEntry {
                id: "S14".into(),
                from: vec!["gateway".into()],
                to: vec!["domain-controller".into()],
                protocols: vec![Transport::Tcp, Transport::Udp],
                ports: vec!["88".into()],
                default_ports: vec![PortSpan {
                    first: 88,
                    last: 88,
                }],
                service: "kerberos".into(),
                purpose: "p".into(),
                when: Vec::new(),
                configurable: false,
                configure: None,
                confidence: Confidence::High,
                section: Some("s".into()),
                seed_lines: vec![38],
                seed_text: vec!["t".into()],
                reference: None,
            }],
        };
        let text = serde_json::to_string(&doc).unwrap();
        assert_eq!(
            text,
            "{\"schema_version\":1,\"flows\":[{\"id\":\"S14\",\"from\":[\"gateway\"],\
             \"to\":[\"domain-controller\"],\"protocols\":[\"tcp\",\"udp\"],\"ports\":[\"88\"],\
             \"default_ports\":[\"88\"],\"service\":\"kerberos\",\"purpose\":\"p\",\"when\":[],\
             \"configurable\":false,\"configure\":null,\"confidence\":\"high\",\"section\":\"s\",\
             \"seed_lines\":[38],\"seed_text\":[\"t\"],\"reference\":null}]}"
        );
        assert_eq!(serde_json::from_str::<PortsDocument>(&text).unwrap(), doc);
    }
}
