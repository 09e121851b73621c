//! The document of `rdsports plan --format json`: every flow the deployment needs.
//!
//! JSON contract (`schema_version` 1):
//!
//! ```json
//! {"schema_version": 1, "deployment": "contoso",
//!  "flows": [{"from": "gw01", "to": "dc01", "protocol": "tcp", "ports": "88",
//!             "service": "kerberos", "purpose": "...", "catalog_id": "S14",
//!             "catalog_ids": ["S14", "D02"], "from_zone": "perimeter", "to_zone": "internal"}],
//!  "warnings": ["..."]}
//! ```
//!
//! `ports` is "N" or "N-M" ([`PortSpan`]); `catalog_id` is the first entry that needs the flow
//! and `catalog_ids` every one of them. Keys are written in the order above (the order of the
//! fields here), as version 1 has always written them. Readers must ignore fields they do not
//! know.
//!
//! A plan of a large farm holds millions of flows, so the types borrow their text (`Cow`) and
//! the document is generic over its list of flows: a writer hands any `Serialize` sequence
//! (one [`PlanFlow`] at a time, never a `Vec` of them) and a reader gets the default, a
//! `Vec<PlanFlow>`.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Transport;

/// The version of the plan document written.
pub const PLAN_SCHEMA_VERSION: u32 = 1;

/// A whole `plan --format json` document. `Flows` is what the writer serialises as the list
/// of flows (a lazy sequence of [`PlanFlow`]s); readers use the default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanDocument<'a, Flows = Vec<PlanFlow<'a>>> {
    /// [`PLAN_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The deployment's name.
    #[serde(borrow)]
    pub deployment: Cow<'a, str>,
    /// The planned flows, sorted by source zone, destination zone, source host, destination
    /// host, protocol and port.
    pub flows: Flows,
    /// The deployment's and the plan's warnings, as sentences.
    pub warnings: Cow<'a, [String]>,
}

/// One planned flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanFlow<'a> {
    /// Source host.
    #[serde(borrow)]
    pub from: Cow<'a, str>,
    /// Destination host.
    #[serde(borrow)]
    pub to: Cow<'a, str>,
    /// `tcp` or `udp`.
    pub protocol: Transport,
    /// Destination port or range: "N" or "N-M".
    pub ports: PortSpan,
    /// Service name from the catalog.
    #[serde(borrow)]
    pub service: Cow<'a, str>,
    /// Why the flow exists.
    #[serde(borrow)]
    pub purpose: Cow<'a, str>,
    /// The first catalog entry that needs the flow.
    #[serde(borrow)]
    pub catalog_id: Cow<'a, str>,
    /// Every catalog entry that needs the flow, `catalog_id` first.
    pub catalog_ids: Cow<'a, [Cow<'a, str>]>,
    /// Zone of the source host.
    #[serde(borrow)]
    pub from_zone: Cow<'a, str>,
    /// Zone of the destination host.
    #[serde(borrow)]
    pub to_zone: Cow<'a, str>,
}

/// A port or an inclusive range of ports, written "N" or "N-M" (`first <= last`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortSpan {
    /// First port.
    pub first: u16,
    /// Last port (equal to `first` for a single port).
    pub last: u16,
}

impl PortSpan {
    /// "N" or "N-M" written into `buf`, without allocating (what `Display` and `Serialize`
    /// write).
    pub fn text(self, buf: &mut [u8; 11]) -> &str {
        fn digits(mut n: u16, out: &mut [u8]) -> usize {
            let mut tmp = [0u8; 5];
            let mut i = tmp.len();
            loop {
                i -= 1;
                tmp[i] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
            let len = tmp.len() - i;
            out[..len].copy_from_slice(&tmp[i..]);
            len
        }
        let mut len = digits(self.first, &mut buf[..]);
        if self.last != self.first {
            buf[len] = b'-';
            len += 1;
            len += digits(self.last, &mut buf[len..]);
        }
        // Only ASCII digits and '-' were written.
        std::str::from_utf8(&buf[..len]).unwrap_or_default()
    }
}

impl fmt::Display for PortSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text(&mut [0; 11]))
    }
}

impl FromStr for PortSpan {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let port = |p: &str| {
            p.parse::<u16>()
                .map_err(|_| format!("`{s}` is not a port or a range of ports (N or N-M)"))
        };
        let (first, last) = match s.split_once('-') {
            None => (port(s)?, port(s)?),
            Some((a, b)) => (port(a)?, port(b)?),
        };
        if first > last {
            return Err(format!("`{s}`: the range ends before it starts"));
        }
        Ok(PortSpan { first, last })
    }
}

impl Serialize for PortSpan {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.text(&mut [0; 11]))
    }
}

impl<'de> Deserialize<'de> for PortSpan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Cow::<'de, str>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow<'a>() -> PlanFlow<'a> {
        PlanFlow {
            from: "gw01".into(),
            to: "dc01".into(),
            protocol: Transport::Tcp,
            ports: PortSpan {
                first: 88,
                last: 88,
            },
            service: "kerberos".into(),
            purpose: "Kerberos \"for\" users".into(),
            catalog_id: "S14".into(),
            catalog_ids: vec![Cow::from("S14"), Cow::from("D02")].into(),
            from_zone: "perimeter".into(),
            to_zone: "internal".into(),
        }
    }

    #[test]
    fn keys_keep_the_order_version_1_writes_and_read_back() {
        let doc: PlanDocument<'_> = PlanDocument {
            schema_version: PLAN_SCHEMA_VERSION,
            deployment: "contoso".into(),
            flows: vec![flow()],
            warnings: vec!["w".to_owned()].into(),
        };
        let text = serde_json::to_string(&doc).unwrap();
        assert_eq!(
            text,
            "{\"schema_version\":1,\"deployment\":\"contoso\",\"flows\":[{\"from\":\"gw01\",\
             \"to\":\"dc01\",\"protocol\":\"tcp\",\"ports\":\"88\",\"service\":\"kerberos\",\
             \"purpose\":\"Kerberos \\\"for\\\" users\",\"catalog_id\":\"S14\",\
             \"catalog_ids\":[\"S14\",\"D02\"],\"from_zone\":\"perimeter\",\
             \"to_zone\":\"internal\"}],\"warnings\":[\"w\"]}"
        );
        let back: PlanDocument<'_> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, doc);
    }

    #[test]
    fn a_writer_may_stream_the_flows() {
        struct Lazy(usize);
        impl Serialize for Lazy {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq((0..self.0).map(|_| flow()))
            }
        }
        let streamed = PlanDocument {
            schema_version: PLAN_SCHEMA_VERSION,
            deployment: "contoso".into(),
            flows: Lazy(2),
            warnings: Cow::Borrowed(&[]),
        };
        let held: PlanDocument<'_> = PlanDocument {
            schema_version: PLAN_SCHEMA_VERSION,
            deployment: "contoso".into(),
            flows: vec![flow(), flow()],
            warnings: Vec::new().into(),
        };
        assert_eq!(
            serde_json::to_string_pretty(&streamed).unwrap(),
            serde_json::to_string_pretty(&held).unwrap()
        );
    }

    #[test]
    fn port_spans_are_n_or_n_dash_m() {
        for (text, first, last) in [
            ("88", 88, 88),
            ("0", 0, 0),
            ("65535", 65535, 65535),
            ("49152-65535", 49152, 65535),
            ("1-9", 1, 9),
        ] {
            let span = PortSpan { first, last };
            assert_eq!(span.to_string(), text);
            assert_eq!(text.parse::<PortSpan>(), Ok(span));
            assert_eq!(serde_json::to_string(&span).unwrap(), format!("\"{text}\""));
            assert_eq!(
                serde_json::from_str::<PortSpan>(&format!("\"{text}\"")).unwrap(),
                span
            );
        }
        for bad in ["", "x", "9-1", "1-", "70000", "1-2-3"] {
            assert!(bad.parse::<PortSpan>().is_err(), "{bad}");
        }
    }
}
