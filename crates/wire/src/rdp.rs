//! RDP connection initiation: the X.224 Connection Request carrying `RDP_NEG_REQ` and the
//! parse of the server's X.224 Connection Confirm (MS-RDPBCGR 2.2.1.1 and 2.2.1.2, framed in
//! TPKT, RFC 1006 section 6, and X.224 class 0, ISO 8073 / ITU-T X.224 section 13).
//!
//! What it does: builds the 19-byte Connection Request that offers TLS, CredSSP (NLA) and
//! CredSSP with Early User Authorization, and reads the Connection Confirm to learn which
//! security protocol the server chose (`RDP_NEG_RSP`), why it refused (`RDP_NEG_FAILURE`),
//! or that it only speaks standard RDP security (a confirm without negotiation data).
//!
//! What it does not do: the TLS handshake that follows (done by rustls in `rdsports-net`),
//! CredSSP, MCS or anything later in the connection sequence. It sends no routing token or
//! `mstshash` cookie and never any credential.
//!
//! Wire layout of the request (all of it built by [`build_connection_request`]):
//!
//! | bytes | field | value |
//! |---|---|---|
//! | 0 | TPKT version | `03` |
//! | 1 | TPKT reserved | `00` |
//! | 2..4 | TPKT length, big-endian, whole packet | `00 13` (19) |
//! | 4 | X.224 length indicator (header bytes after this one) | `0e` (14) |
//! | 5 | X.224 CR code, credit 0 | `e0` |
//! | 6..8 | DST-REF | `00 00` |
//! | 8..10 | SRC-REF | `00 00` |
//! | 10 | class option | `00` |
//! | 11 | `RDP_NEG_REQ` type | `01` |
//! | 12 | flags | `00` |
//! | 13..15 | length, little-endian | `08 00` |
//! | 15..19 | requestedProtocols, little-endian | `0b 00 00 00` (SSL, HYBRID, HYBRID_EX) |

use rdsports_schema::check::facts;

use crate::{Exchange, Identification, Progress};
use serde_json::Value;

/// `PROTOCOL_RDP`: standard RDP security (no TLS).
pub const PROTOCOL_RDP: u32 = 0x0000_0000;
/// `PROTOCOL_SSL`: TLS 1.0, 1.1 or 1.2.
pub const PROTOCOL_SSL: u32 = 0x0000_0001;
/// `PROTOCOL_HYBRID`: CredSSP (Network Level Authentication).
pub const PROTOCOL_HYBRID: u32 = 0x0000_0002;
/// `PROTOCOL_RDSTLS`: RDSTLS (used with server redirection).
pub const PROTOCOL_RDSTLS: u32 = 0x0000_0004;
/// `PROTOCOL_HYBRID_EX`: CredSSP with Early User Authorization Result PDU.
pub const PROTOCOL_HYBRID_EX: u32 = 0x0000_0008;
/// `PROTOCOL_RDSAAD`: RDS AAD authentication (Microsoft Entra ID).
pub const PROTOCOL_RDSAAD: u32 = 0x0000_0010;

/// What the probe offers by default: TLS, CredSSP and CredSSP with Early User Authorization.
pub const DEFAULT_REQUESTED_PROTOCOLS: u32 = PROTOCOL_SSL | PROTOCOL_HYBRID | PROTOCOL_HYBRID_EX;

/// `SSL_REQUIRED_BY_SERVER` failure code.
pub const SSL_REQUIRED_BY_SERVER: u32 = 1;
/// `SSL_NOT_ALLOWED_BY_SERVER` failure code.
pub const SSL_NOT_ALLOWED_BY_SERVER: u32 = 2;
/// `SSL_CERT_NOT_ON_SERVER` failure code.
pub const SSL_CERT_NOT_ON_SERVER: u32 = 3;
/// `INCONSISTENT_FLAGS` failure code.
pub const INCONSISTENT_FLAGS: u32 = 4;
/// `HYBRID_REQUIRED_BY_SERVER` failure code.
pub const HYBRID_REQUIRED_BY_SERVER: u32 = 5;
/// `SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER` failure code.
pub const SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER: u32 = 6;

/// The largest Connection Confirm this module accepts (a real one is 11 or 19 bytes).
pub const MAX_CONFIRM_LEN: usize = 1024;

const TPKT_HEADER_LEN: usize = 4;
const X224_CR: u8 = 0xE0;
const X224_CC: u8 = 0xD0;
const TYPE_RDP_NEG_REQ: u8 = 0x01;
const TYPE_RDP_NEG_RSP: u8 = 0x02;
const TYPE_RDP_NEG_FAILURE: u8 = 0x03;

/// `RDP_NEG_RSP` flags and their names, in bit order (MS-RDPBCGR 2.2.1.2.1).
const NEG_RSP_FLAGS: [(u8, &str); 5] = [
    (0x01, "extended_client_data_supported"),
    (0x02, "dynvc_gfx_protocol_supported"),
    (0x04, "negrsp_flag_reserved"),
    (0x08, "restricted_admin_mode_supported"),
    (0x10, "redirected_authentication_mode_supported"),
];

/// Why a Connection Confirm could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes so far are a valid prefix; more are needed.
    #[error("incomplete Connection Confirm")]
    Incomplete,
    /// The bytes are not a TPKT/X.224 Connection Confirm.
    #[error("not an X.224 Connection Confirm: {0}")]
    Invalid(String),
}

/// What the server answered in its Connection Confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negotiation {
    /// `RDP_NEG_RSP`: the server selected a security protocol.
    Response {
        /// The `selectedProtocol` value (one of the `PROTOCOL_*` constants).
        selected_protocol: u32,
        /// The `RDP_NEG_RSP` flags byte.
        flags: u8,
    },
    /// `RDP_NEG_FAILURE`: the server refused every protocol offered.
    Failure {
        /// The `failureCode` value (one of the failure code constants).
        code: u32,
    },
    /// A Connection Confirm without negotiation data: standard RDP security only (a server
    /// older than RDP 5.2 or one configured for the RDP security layer).
    None,
}

/// A builder for the default probe request: see the module docs for the bytes.
pub fn build_connection_request(requested_protocols: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(19);
    // TPKT: version 3, reserved, length 19 (big-endian).
    out.extend_from_slice(&[0x03, 0x00, 0x00, 0x13]);
    // X.224 CR TPDU: LI 14, CR code, DST-REF 0, SRC-REF 0, class 0.
    out.extend_from_slice(&[0x0E, X224_CR, 0x00, 0x00, 0x00, 0x00, 0x00]);
    // RDP_NEG_REQ: type 1, flags 0, length 8 (little-endian), requestedProtocols.
    out.extend_from_slice(&[TYPE_RDP_NEG_REQ, 0x00, 0x08, 0x00]);
    out.extend_from_slice(&requested_protocols.to_le_bytes());
    out
}

/// Parses a TPKT-framed X.224 Connection Confirm. Trailing bytes after the TPKT packet are
/// ignored.
pub fn parse_connection_confirm(buf: &[u8]) -> Result<Negotiation, Error> {
    let Some(&version) = buf.first() else {
        return Err(Error::Incomplete);
    };
    if version != 0x03 {
        return Err(Error::Invalid(format!(
            "TPKT version byte {version:#04x}, expected 0x03"
        )));
    }
    let Some(header) = buf.get(..TPKT_HEADER_LEN) else {
        return Err(Error::Incomplete);
    };
    // `header` is exactly 4 bytes long.
    let tpkt_len = usize::from(u16::from_be_bytes([header[2], header[3]]));
    // TPKT header plus the 7-byte fixed part of an X.224 CC TPDU.
    if tpkt_len < TPKT_HEADER_LEN + 7 {
        return Err(Error::Invalid(format!(
            "TPKT length {tpkt_len} is too short"
        )));
    }
    if tpkt_len > MAX_CONFIRM_LEN {
        return Err(Error::Invalid(format!(
            "TPKT length {tpkt_len} is larger than a Connection Confirm"
        )));
    }
    // The X.224 code byte arrives before the whole packet: reject early when it is wrong.
    if let Some(&code) = buf.get(5)
        && code & 0xF0 != X224_CC
    {
        return Err(Error::Invalid(format!(
            "X.224 TPDU code {code:#04x}, expected 0xd0 (CC)"
        )));
    }
    let Some(packet) = buf.get(..tpkt_len) else {
        return Err(Error::Incomplete);
    };
    // `packet` holds `tpkt_len >= 11` bytes, so `x224` holds at least 7.
    let x224 = &packet[TPKT_HEADER_LEN..];
    let li = usize::from(x224[0]);
    if li < 6 || li + 1 > x224.len() {
        return Err(Error::Invalid(format!(
            "X.224 length indicator {li} does not fit TPKT length {tpkt_len}"
        )));
    }
    // x224[1] is the code (checked above), 2..4 DST-REF, 4..6 SRC-REF, 6 class option;
    // `6 <= li < x224.len()`, so `7..=li` is in range (empty when `li == 6`).
    let neg = &x224[7..=li];
    if neg.is_empty() {
        return Ok(Negotiation::None);
    }
    let Some(neg) = neg.get(..8) else {
        return Err(Error::Invalid(format!(
            "{} bytes of negotiation data, expected 8",
            neg.len()
        )));
    };
    // `neg` is exactly 8 bytes long.
    let length = u16::from_le_bytes([neg[2], neg[3]]);
    if length != 8 {
        return Err(Error::Invalid(format!(
            "negotiation structure length {length}, expected 8"
        )));
    }
    let value = u32::from_le_bytes([neg[4], neg[5], neg[6], neg[7]]);
    match neg[0] {
        TYPE_RDP_NEG_RSP => Ok(Negotiation::Response {
            selected_protocol: value,
            flags: neg[1],
        }),
        TYPE_RDP_NEG_FAILURE => Ok(Negotiation::Failure { code: value }),
        other => Err(Error::Invalid(format!(
            "negotiation type {other:#04x}, expected 0x02 or 0x03"
        ))),
    }
}

/// The name of a `selectedProtocol` value (`rdp`, `ssl`, `hybrid`, `rdstls`, `hybrid_ex`,
/// `aad`), or `None` for a value the specification does not define.
pub fn protocol_name(protocol: u32) -> Option<&'static str> {
    match protocol {
        PROTOCOL_RDP => Some("rdp"),
        PROTOCOL_SSL => Some("ssl"),
        PROTOCOL_HYBRID => Some("hybrid"),
        PROTOCOL_RDSTLS => Some("rdstls"),
        PROTOCOL_HYBRID_EX => Some("hybrid_ex"),
        PROTOCOL_RDSAAD => Some("aad"),
        _ => None,
    }
}

/// The specification's name of an `RDP_NEG_FAILURE` code, or `None` when unknown.
pub fn failure_name(code: u32) -> Option<&'static str> {
    match code {
        SSL_REQUIRED_BY_SERVER => Some("SSL_REQUIRED_BY_SERVER"),
        SSL_NOT_ALLOWED_BY_SERVER => Some("SSL_NOT_ALLOWED_BY_SERVER"),
        SSL_CERT_NOT_ON_SERVER => Some("SSL_CERT_NOT_ON_SERVER"),
        INCONSISTENT_FLAGS => Some("INCONSISTENT_FLAGS"),
        HYBRID_REQUIRED_BY_SERVER => Some("HYBRID_REQUIRED_BY_SERVER"),
        SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER => Some("SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER"),
        _ => None,
    }
}

/// The names of the `RDP_NEG_RSP` flags set in `flags`, in bit order; unknown bits appear as
/// `0x..` strings.
pub fn flag_names(flags: u8) -> Vec<String> {
    let mut names = Vec::new();
    let mut known = 0u8;
    for (bit, name) in NEG_RSP_FLAGS {
        known |= bit;
        if flags & bit != 0 {
            names.push(name.to_owned());
        }
    }
    let unknown = flags & !known;
    if unknown != 0 {
        names.push(format!("{unknown:#04x}"));
    }
    names
}

/// Turns a parsed negotiation into what the probe reports.
pub fn identify(negotiation: &Negotiation) -> Identification {
    match *negotiation {
        Negotiation::Response {
            selected_protocol,
            flags,
        } => {
            let name = protocol_name(selected_protocol)
                .map_or_else(|| format!("{selected_protocol:#010x}"), str::to_owned);
            let nla = matches!(selected_protocol, PROTOCOL_HYBRID | PROTOCOL_HYBRID_EX);
            let flag_list: Vec<Value> = flag_names(flags).into_iter().map(Value::from).collect();
            let mut id = Identification::service("rdp")
                .with("negotiation", "response")
                .with(facts::SELECTED_PROTOCOL, name)
                .with(facts::NLA_REQUIRED, nla)
                .with("flags", flag_list);
            // Every protocol except standard RDP security starts with a TLS handshake.
            id.upgrade_tls = selected_protocol != PROTOCOL_RDP;
            if protocol_name(selected_protocol).is_none() {
                id.note = Some(format!(
                    "unknown selected protocol {selected_protocol:#010x}"
                ));
            }
            id
        }
        Negotiation::Failure { code } => {
            let name = failure_name(code).map_or_else(|| format!("{code:#010x}"), str::to_owned);
            Identification::service("rdp")
                .with("negotiation", "failure")
                .with("failure_code", name.clone())
                .with(facts::NLA_REQUIRED, code == HYBRID_REQUIRED_BY_SERVER)
                .with(facts::SELECTED_PROTOCOL, Value::Null)
                .with("flags", Vec::<Value>::new())
                .note_with(format!(
                    "server refused the offered security protocols: {name}"
                ))
        }
        Negotiation::None => Identification::service("rdp")
            .with("negotiation", "none")
            .with(facts::SELECTED_PROTOCOL, "rdp")
            .with(facts::NLA_REQUIRED, false)
            .with("flags", Vec::<Value>::new())
            .note_with("no negotiation data: the server uses standard RDP security"),
    }
}

trait NoteWith {
    fn note_with(self, note: impl Into<String>) -> Self;
}

impl NoteWith for Identification {
    fn note_with(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

/// The RDP X.224 negotiation probe (TCP 3389, or any RDP listener).
#[derive(Debug, Clone)]
pub struct RdpNegotiate {
    requested_protocols: u32,
}

impl RdpNegotiate {
    /// A probe offering [`DEFAULT_REQUESTED_PROTOCOLS`].
    pub fn new() -> Self {
        RdpNegotiate {
            requested_protocols: DEFAULT_REQUESTED_PROTOCOLS,
        }
    }

    /// A probe offering exactly `requested_protocols` (`PROTOCOL_*` bits).
    pub fn with_protocols(requested_protocols: u32) -> Self {
        RdpNegotiate {
            requested_protocols,
        }
    }
}

impl Default for RdpNegotiate {
    fn default() -> Self {
        Self::new()
    }
}

impl Exchange for RdpNegotiate {
    fn start(&mut self) -> Vec<u8> {
        build_connection_request(self.requested_protocols)
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        match parse_connection_confirm(received) {
            Ok(negotiation) => Progress::Done(identify(&negotiation)),
            Err(Error::Incomplete) if received.len() < MAX_CONFIRM_LEN => Progress::NeedMore,
            Err(Error::Incomplete) => Progress::Done(Identification::unrecognised(
                "reply too long for an X.224 Connection Confirm",
            )),
            Err(Error::Invalid(why)) => Progress::Done(Identification::unrecognised(format!(
                "not an RDP Connection Confirm: {why}"
            ))),
        }
    }

    fn max_len(&self) -> usize {
        MAX_CONFIRM_LEN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::testutil::hex;

    #[test]
    fn connection_request_bytes() {
        let expected = hex("03 00 00 13 \
             0e e0 00 00 00 00 00 \
             01 00 08 00 0b 00 00 00");
        assert_eq!(
            build_connection_request(DEFAULT_REQUESTED_PROTOCOLS),
            expected
        );
        assert_eq!(RdpNegotiate::new().start(), expected);
        // Only TLS offered: requestedProtocols 0x00000001.
        assert_eq!(&build_connection_request(PROTOCOL_SSL)[15..], &[1, 0, 0, 0]);
    }

    /// TPKT(19) + X.224 CC + RDP_NEG_RSP selecting HYBRID with flags 0x1f.
    const NEG_RSP_HYBRID: &str = "03 00 00 13  0e d0 00 00 12 34 00  02 1f 08 00 02 00 00 00";

    #[test]
    fn neg_rsp_hybrid() {
        let bytes = hex(NEG_RSP_HYBRID);
        let neg = parse_connection_confirm(&bytes).unwrap();
        assert_eq!(
            neg,
            Negotiation::Response {
                selected_protocol: PROTOCOL_HYBRID,
                flags: 0x1f
            }
        );
        let Progress::Done(id) = RdpNegotiate::new().on_bytes(&bytes) else {
            panic!("not done")
        };
        assert_eq!(id.service, Some("rdp"));
        assert_eq!(id.detail["selected_protocol"], "hybrid");
        assert_eq!(id.detail["nla_required"], true);
        // The contract with lint: the facts read back typed.
        let facts = rdsports_schema::check::Facts::read(&id.detail).unwrap();
        assert_eq!(facts.selected_protocol.as_deref(), Some("hybrid"));
        assert_eq!(facts.nla_required, Some(true));
        assert_eq!(
            id.detail["flags"],
            serde_json::json!([
                "extended_client_data_supported",
                "dynvc_gfx_protocol_supported",
                "negrsp_flag_reserved",
                "restricted_admin_mode_supported",
                "redirected_authentication_mode_supported"
            ])
        );
        assert!(id.upgrade_tls);
        assert_eq!(id.note, None);
    }

    #[test]
    fn neg_rsp_ssl_and_hybrid_ex_and_aad() {
        let ssl = hex("03 00 00 13 0e d0 00 00 00 00 00 02 01 08 00 01 00 00 00");
        let Progress::Done(id) = RdpNegotiate::new().on_bytes(&ssl) else {
            panic!()
        };
        assert_eq!(id.detail["selected_protocol"], "ssl");
        assert_eq!(id.detail["nla_required"], false);
        assert_eq!(
            id.detail["flags"],
            serde_json::json!(["extended_client_data_supported"])
        );
        assert!(id.upgrade_tls);

        let ex = hex("03 00 00 13 0e d0 00 00 00 00 00 02 00 08 00 08 00 00 00");
        let Progress::Done(id) = RdpNegotiate::new().on_bytes(&ex) else {
            panic!()
        };
        assert_eq!(id.detail["selected_protocol"], "hybrid_ex");
        assert_eq!(id.detail["nla_required"], true);

        let aad = hex("03 00 00 13 0e d0 00 00 00 00 00 02 00 08 00 10 00 00 00");
        let Progress::Done(id) = RdpNegotiate::new().on_bytes(&aad) else {
            panic!()
        };
        assert_eq!(id.detail["selected_protocol"], "aad");

        let odd = hex("03 00 00 13 0e d0 00 00 00 00 00 02 40 08 00 00 01 00 00");
        let Progress::Done(id) = RdpNegotiate::new().on_bytes(&odd) else {
            panic!()
        };
        assert_eq!(id.detail["selected_protocol"], "0x00000100");
        assert_eq!(id.detail["flags"], serde_json::json!(["0x40"]));
        assert!(id.note.unwrap().contains("unknown selected protocol"));
    }

    #[test]
    fn neg_failure_hybrid_required() {
        // RDP_NEG_FAILURE: type 3, flags 0, length 8, failureCode 5.
        let bytes = hex("03 00 00 13 0e d0 00 00 00 00 00 03 00 08 00 05 00 00 00");
        assert_eq!(
            parse_connection_confirm(&bytes),
            Ok(Negotiation::Failure { code: 5 })
        );
        let Progress::Done(id) = RdpNegotiate::new().on_bytes(&bytes) else {
            panic!()
        };
        assert_eq!(id.service, Some("rdp"));
        assert_eq!(id.detail["failure_code"], "HYBRID_REQUIRED_BY_SERVER");
        assert_eq!(id.detail["nla_required"], true);
        assert!(!id.upgrade_tls);
        assert!(id.note.unwrap().contains("HYBRID_REQUIRED_BY_SERVER"));
    }

    #[test]
    fn neg_failure_ssl_required() {
        let bytes = hex("03 00 00 13 0e d0 00 00 00 00 00 03 00 08 00 01 00 00 00");
        let Progress::Done(id) = RdpNegotiate::new().on_bytes(&bytes) else {
            panic!()
        };
        assert_eq!(id.detail["failure_code"], "SSL_REQUIRED_BY_SERVER");
        assert_eq!(id.detail["nla_required"], false);
    }

    #[test]
    fn confirm_without_negotiation_is_standard_security() {
        // TPKT(11) + X.224 CC with LI 6 and no variable part.
        let bytes = hex("03 00 00 0b 06 d0 00 00 00 00 00");
        assert_eq!(parse_connection_confirm(&bytes), Ok(Negotiation::None));
        let Progress::Done(id) = RdpNegotiate::new().on_bytes(&bytes) else {
            panic!()
        };
        assert_eq!(id.service, Some("rdp"));
        assert_eq!(id.detail["selected_protocol"], "rdp");
        assert!(!id.upgrade_tls);
    }

    #[test]
    fn not_rdp() {
        let Progress::Done(id) = RdpNegotiate::new().on_bytes(b"SSH-2.0-OpenSSH_9.6\r\n") else {
            panic!()
        };
        assert_eq!(id.service, None);
        assert!(id.note.unwrap().contains("TPKT version"));
        // A TPKT packet carrying an X.224 Disconnect Request (0x80) is not a confirm.
        let dr = hex("03 00 00 0b 06 80 00 00 00 00 00");
        let Progress::Done(id) = RdpNegotiate::new().on_bytes(&dr) else {
            panic!()
        };
        assert_eq!(id.service, None);
        // A TPKT length that cannot hold a CC.
        assert!(matches!(
            parse_connection_confirm(&hex("03 00 00 05 00")),
            Err(Error::Invalid(_))
        ));
        // Negotiation data with a wrong length field.
        let bad = hex("03 00 00 13 0e d0 00 00 00 00 00 02 00 09 00 02 00 00 00");
        assert!(matches!(
            parse_connection_confirm(&bad),
            Err(Error::Invalid(_))
        ));
        // LI larger than the packet.
        let bad = hex("03 00 00 0b 0e d0 00 00 00 00 00");
        assert!(matches!(
            parse_connection_confirm(&bad),
            Err(Error::Invalid(_))
        ));
    }

    #[test]
    fn every_truncation_needs_more() {
        for reply in [NEG_RSP_HYBRID, "03 00 00 0b 06 d0 00 00 00 00 00"] {
            let bytes = hex(reply);
            for n in 0..bytes.len() {
                assert_eq!(
                    RdpNegotiate::new().on_bytes(&bytes[..n]),
                    Progress::NeedMore,
                    "prefix {n}"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_connection_confirm(&bytes);
            let _ = RdpNegotiate::new().on_bytes(&bytes);
        }

        #[test]
        fn tpkt_shaped_bytes_never_panic(li in any::<u8>(), len in 0u16..64, tail in proptest::collection::vec(any::<u8>(), 0..40)) {
            let mut bytes = vec![3, 0];
            bytes.extend_from_slice(&len.to_be_bytes());
            bytes.push(li);
            bytes.push(0xd0);
            bytes.extend_from_slice(&tail);
            let _ = parse_connection_confirm(&bytes);
        }
    }
}
