//! NetBIOS over TCP/IP (RFC 1001, RFC 1002) probes: the name service node status query on
//! UDP 137 and the session service SESSION REQUEST on TCP 139.
//!
//! [`build_node_status_request`] writes an NBSTAT query (RFC 1002 section 4.2.17) for the
//! wildcard name `*`, which every NetBIOS node answers with its name table (RFC 1002
//! section 4.2.18). [`parse_node_status_response`] reads the names, their suffixes (`<00>`
//! workstation or domain, `<20>` file server, `<1C>` domain controllers ...), the group flag
//! and the MAC address from the statistics. Encoded names use the first-level encoding of
//! RFC 1001 section 14.1 (each nibble plus `'A'`).
//!
//! [`build_session_request`] writes a SESSION REQUEST (RFC 1002 section 4.3.2) calling
//! `*SMBSERVER` from `RDSPORTS`; [`parse_session_response`] reads the POSITIVE (0x82),
//! NEGATIVE (0x83, with its error code named) or RETARGET (0x84) SESSION RESPONSE. Each of
//! them proves the NetBIOS session service.
//!
//! The datagram service on UDP 138 has no reply by design (RFC 1002 section 4.4: datagrams
//! are unacknowledged), so no probe can tell an open port from a filtered one, and this
//! module provides nothing for it. It does not register or resolve names, browse, or speak
//! SMB over the session it opens.

use std::net::Ipv4Addr;

use serde_json::Value;
use thiserror::Error;

use crate::dns;
use crate::{Exchange, Identification, Progress, bytes};

/// The wildcard name `*` padded with NULs, which a node status query asks about.
pub const WILDCARD_NAME: [u8; 16] = [b'*', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/// The called name of the session request: `*SMBSERVER`, the generic name Windows accepts
/// for its server service (suffix 0x20).
pub const CALLED_NAME: &str = "*SMBSERVER";

/// The calling name of the session request (suffix 0x00, workstation).
pub const CALLING_NAME: &str = "RDSPORTS";

/// How many names of a node status reply are kept.
pub const MAX_NAMES: usize = 64;

/// Why bytes are not the NetBIOS reply we expect.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NetbiosError {
    /// The message ends before a field it declares.
    #[error("NetBIOS message is truncated")]
    Truncated,
    /// The transaction id is not ours: a late or stray datagram.
    #[error("NetBIOS transaction id {found:#06x} does not match {expected:#06x}")]
    IdMismatch {
        /// Our transaction id.
        expected: u16,
        /// The reply's.
        found: u16,
    },
    /// The R bit is clear: a request, not a response.
    #[error("NetBIOS name service message is a request, not a response")]
    NotAResponse,
    /// The response carries no answer record.
    #[error("NetBIOS name service response without an answer")]
    NoAnswer,
    /// The resource record name is malformed.
    #[error("NetBIOS name: {0}")]
    Name(dns::DnsError),
    /// A session packet type that is not a session response.
    #[error("NetBIOS session packet type {0:#04x} is not a session response")]
    UnexpectedType(u8),
    /// A session response whose length does not fit its type.
    #[error("NetBIOS session response type {packet_type:#04x} with length {len}")]
    BadLength {
        /// The packet type.
        packet_type: u8,
        /// The declared length.
        len: usize,
    },
}

impl From<dns::DnsError> for NetbiosError {
    fn from(error: dns::DnsError) -> Self {
        match error {
            dns::DnsError::Truncated => NetbiosError::Truncated,
            other => NetbiosError::Name(other),
        }
    }
}

/// One entry of a node's name table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameEntry {
    /// The first 15 bytes without trailing spaces; bytes outside printable ASCII are
    /// written `\xNN`.
    pub name: String,
    /// The 16th byte: the service suffix.
    pub suffix: u8,
    /// The name's NAME_FLAGS (G 0x8000, ONT 0x6000, DRG 0x1000, CNF 0x0800, ACT 0x0400, PRM
    /// 0x0200).
    pub flags: u16,
}

impl NameEntry {
    /// Whether the G bit marks a group name.
    pub fn is_group(&self) -> bool {
        self.flags & 0x8000 != 0
    }

    /// The usual meaning of this suffix for this kind of name, when well known.
    pub fn role(&self) -> Option<&'static str> {
        Some(match (self.suffix, self.is_group()) {
            (0x00, false) => "workstation",
            (0x00, true) => "domain or workgroup",
            (0x01, true) => "master browser",
            (0x03, false) => "messenger",
            (0x1b, false) => "domain master browser",
            (0x1c, true) => "domain controllers",
            (0x1d, false) => "master browser",
            (0x1e, true) => "browser elections",
            (0x20, false) => "file server",
            _ => return None,
        })
    }
}

/// A parsed node status response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStatus {
    /// The RCODE of the header (0 for a positive response).
    pub rcode: u8,
    /// The resource record type (0x0021 NBSTAT).
    pub rr_type: u16,
    /// The first [`MAX_NAMES`] names.
    pub names: Vec<NameEntry>,
    /// UNIT_ID from the statistics: the MAC address, when present.
    pub mac: Option<[u8; 6]>,
}

/// A session service response (RFC 1002 section 4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionResponse {
    /// POSITIVE SESSION RESPONSE (0x82): the session is open.
    Positive,
    /// NEGATIVE SESSION RESPONSE (0x83) with its error code.
    Negative {
        /// The error code.
        code: u8,
    },
    /// RETARGET SESSION RESPONSE (0x84): connect to this address and port instead.
    Retarget {
        /// RETARGET_IP_ADDRESS.
        address: Ipv4Addr,
        /// PORT.
        port: u16,
    },
}

/// The RFC 1002 section 4.3.4 meaning of a NEGATIVE SESSION RESPONSE error code.
pub fn negative_response_name(code: u8) -> Option<&'static str> {
    Some(match code {
        0x80 => "Not listening on called name",
        0x81 => "Not listening for calling name",
        0x82 => "Called name not present",
        0x83 => "Called name present, but insufficient resources",
        0x8f => "Unspecified error",
        _ => return None,
    })
}

/// A 16-byte NetBIOS name: `name` upper-cased, cut to 15 bytes, padded with spaces, then
/// `suffix`.
pub fn raw_name(name: &str, suffix: u8) -> [u8; 16] {
    let mut raw = [b' '; 16];
    for (slot, byte) in raw.iter_mut().zip(name.bytes().take(15)) {
        *slot = byte.to_ascii_uppercase();
    }
    // raw is a fixed 16-byte array: index 15 is its last byte.
    raw[15] = suffix;
    raw
}

/// The first-level encoding (RFC 1001 section 14.1) of a 16-byte name as one label with
/// an empty scope: length 0x20, 32 letters `A`..`P`, then the root label.
pub fn encode_name(raw: &[u8; 16]) -> [u8; 34] {
    let mut out = [0_u8; 34];
    out[0] = 0x20;
    // index < 16, so 2 * index + 2 <= 32 stays inside the 34-byte array.
    for (index, byte) in raw.iter().enumerate() {
        out[1 + 2 * index] = b'A' + (byte >> 4);
        out[2 + 2 * index] = b'A' + (byte & 0x0f);
    }
    out
}

/// Builds the NBSTAT node status request for `*` (RFC 1002 section 4.2.17).
pub fn build_node_status_request(transaction_id: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(50);
    out.extend_from_slice(&transaction_id.to_be_bytes());
    // OPCODE 0 (query), NM_FLAGS 0 (unicast, no recursion), RCODE 0.
    out.extend_from_slice(&[0x00, 0x00]);
    // QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 0.
    out.extend_from_slice(&[0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]);
    out.extend_from_slice(&encode_name(&WILDCARD_NAME));
    // QUESTION_TYPE NBSTAT (0x0021), QUESTION_CLASS IN (0x0001).
    out.extend_from_slice(&[0x00, 0x21, 0x00, 0x01]);
    out
}

/// Parses a node status response (RFC 1002 section 4.2.18) to `transaction_id`.
pub fn parse_node_status_response(
    message: &[u8],
    transaction_id: u16,
) -> Result<NodeStatus, NetbiosError> {
    let id = read_u16(message, 0)?;
    let flags = read_u16(message, 2)?;
    let question_count = read_u16(message, 4)?;
    let answer_count = read_u16(message, 6)?;
    if flags & 0x8000 == 0 {
        return Err(NetbiosError::NotAResponse);
    }
    if id != transaction_id {
        return Err(NetbiosError::IdMismatch {
            expected: transaction_id,
            found: id,
        });
    }
    let rcode = (flags & 0x000f) as u8;
    let mut offset = 12;
    for _ in 0..question_count {
        let (_, after) = dns::read_name(message, offset)?;
        offset = after + 4;
    }
    if answer_count == 0 {
        return Err(NetbiosError::NoAnswer);
    }
    let (_, after) = dns::read_name(message, offset)?;
    let rr_type = read_u16(message, after)?;
    let rdlength = usize::from(read_u16(message, after + 8)?);
    let start = after + 10;
    let rdata = message
        .get(start..start + rdlength)
        .ok_or(NetbiosError::Truncated)?;
    let mut status = NodeStatus {
        rcode,
        rr_type,
        names: Vec::new(),
        mac: None,
    };
    if rr_type != 0x0021 {
        // A NB (0x0020) answer or another record: a NetBIOS name server, but no table.
        return Ok(status);
    }
    let (&count, entries) = rdata.split_first().ok_or(NetbiosError::Truncated)?;
    let table_len = usize::from(count) * 18;
    let table = entries.get(..table_len).ok_or(NetbiosError::Truncated)?;
    for entry in table.chunks_exact(18) {
        if status.names.len() >= MAX_NAMES {
            break;
        }
        // chunks_exact yields 18-byte entries: 15 name bytes, the suffix, two flag bytes.
        let (Some(name), Some(&suffix), Some(flag_bytes)) = (
            entry.get(..15),
            entry.get(15),
            entry.get(16..).and_then(<[u8]>::first_chunk::<2>),
        ) else {
            return Err(NetbiosError::Truncated);
        };
        status.names.push(NameEntry {
            name: name_text(name),
            suffix,
            flags: u16::from_be_bytes(*flag_bytes),
        });
    }
    status.mac = entries
        .get(table_len..)
        .and_then(<[u8]>::first_chunk::<6>)
        .copied();
    Ok(status)
}

fn name_text(bytes: &[u8]) -> String {
    let end = bytes
        .iter()
        .rposition(|&b| b != b' ' && b != 0)
        .map_or(0, |index| index + 1);
    let mut out = String::new();
    for &byte in bytes.get(..end).unwrap_or(&[]) {
        if (0x20..0x7f).contains(&byte) && byte != b'\\' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

fn read_u16(message: &[u8], offset: usize) -> Result<u16, NetbiosError> {
    bytes::be16(message, offset).ok_or(NetbiosError::Truncated)
}

/// Builds a SESSION REQUEST (RFC 1002 section 4.3.2) from `calling` (suffix 0x00) to
/// `called` (suffix 0x20).
pub fn build_session_request(called: &str, calling: &str) -> Vec<u8> {
    let called = encode_name(&raw_name(called, 0x20));
    let calling = encode_name(&raw_name(calling, 0x00));
    let mut out = Vec::with_capacity(4 + 68);
    // TYPE 0x81, FLAGS 0 (no length extension), LENGTH 68.
    out.extend_from_slice(&[0x81, 0x00, 0x00, 0x44]);
    out.extend_from_slice(&called);
    out.extend_from_slice(&calling);
    out
}

/// Reads a session service response: `Ok(None)` until the whole packet arrived. SESSION
/// KEEP ALIVE packets (0x85) before it are skipped.
pub fn parse_session_response(buffer: &[u8]) -> Result<Option<SessionResponse>, NetbiosError> {
    let mut rest = buffer;
    loop {
        let Some(header) = rest.first_chunk::<4>() else {
            return Ok(None);
        };
        let [packet_type, flags, high, low] = *header;
        // The E bit of FLAGS extends LENGTH to 17 bits.
        let len = (usize::from(flags & 0x01) << 16) | usize::from(u16::from_be_bytes([high, low]));
        let bad_length = NetbiosError::BadLength { packet_type, len };
        if !(0x82..=0x85).contains(&packet_type) {
            return Err(NetbiosError::UnexpectedType(packet_type));
        }
        let expected = match packet_type {
            0x82 | 0x85 => 0,
            0x83 => 1,
            _ => 6,
        };
        if len != expected {
            return Err(bad_length);
        }
        let Some(body) = rest.get(4..4 + len) else {
            return Ok(None);
        };
        let response = match (packet_type, body) {
            (0x82, _) => SessionResponse::Positive,
            (0x83, [code]) => SessionResponse::Negative { code: *code },
            (0x84, [a, b, c, d, port_high, port_low]) => SessionResponse::Retarget {
                address: Ipv4Addr::new(*a, *b, *c, *d),
                port: u16::from_be_bytes([*port_high, *port_low]),
            },
            _ => {
                // A keep-alive: look at what follows.
                rest = rest.get(4..).unwrap_or(&[]);
                continue;
            }
        };
        return Ok(Some(response));
    }
}

/// What a node status response tells: service `netbios`, the name table and MAC address.
pub fn identify_node_status(status: &NodeStatus) -> Identification {
    let names: Vec<Value> = status
        .names
        .iter()
        .map(|entry| {
            let mut object = serde_json::Map::new();
            object.insert("name".to_owned(), Value::from(entry.name.clone()));
            object.insert(
                "suffix".to_owned(),
                Value::from(format!("{:02X}", entry.suffix)),
            );
            object.insert("group".to_owned(), Value::from(entry.is_group()));
            if let Some(role) = entry.role() {
                object.insert("role".to_owned(), Value::from(role));
            }
            Value::Object(object)
        })
        .collect();
    let mut identification = Identification::service("netbios").with("names", names);
    let unique = |suffix: u8| {
        status
            .names
            .iter()
            .find(|entry| entry.suffix == suffix && !entry.is_group())
    };
    if let Some(entry) = unique(0x00).or_else(|| unique(0x20)) {
        identification = identification.with("computer_name", entry.name.clone());
    }
    if let Some(entry) = status
        .names
        .iter()
        .find(|entry| entry.suffix == 0x00 && entry.is_group())
    {
        identification = identification.with("workgroup", entry.name.clone());
    }
    let domain_controller = status
        .names
        .iter()
        .any(|entry| entry.suffix == 0x1c && entry.is_group());
    identification = identification.with("domain_controller", domain_controller);
    if let Some(mac) = status.mac.filter(|mac| mac.iter().any(|&b| b != 0)) {
        let text: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
        identification = identification.with("mac", text.join(":"));
    }
    if status.rr_type != 0x0021 {
        identification.note = Some(format!(
            "answered with record type {:#06x}, not NBSTAT",
            status.rr_type
        ));
    } else if status.rcode != 0 {
        identification.note = Some(format!("negative response, RCODE {}", status.rcode));
    }
    identification
}

/// What a session response tells: service `netbios`.
pub fn identify_session(response: &SessionResponse) -> Identification {
    let identification = Identification::service("netbios");
    match response {
        SessionResponse::Positive => identification.with("session_response", "positive"),
        SessionResponse::Negative { code } => {
            let meaning = negative_response_name(*code).unwrap_or("unknown error");
            let mut identification = identification
                .with("session_response", "negative")
                .with("error_code", *code)
                .with("error", meaning);
            identification.note = Some(format!("NEGATIVE SESSION RESPONSE {code:#04x}: {meaning}"));
            identification
        }
        SessionResponse::Retarget { address, port } => {
            let mut identification = identification
                .with("session_response", "retarget")
                .with("retarget_address", address.to_string())
                .with("retarget_port", *port);
            identification.note = Some(format!("RETARGET SESSION RESPONSE to {address}:{port}"));
            identification
        }
    }
}

/// The `netbios` name service probe: an NBSTAT query for `*` on UDP 137.
#[derive(Debug, Clone)]
pub struct NodeStatusQuery {
    transaction_id: u16,
}

impl NodeStatusQuery {
    /// A node status query with this transaction id.
    pub fn new(transaction_id: u16) -> Self {
        NodeStatusQuery { transaction_id }
    }
}

impl Exchange for NodeStatusQuery {
    fn start(&mut self) -> Vec<u8> {
        build_node_status_request(self.transaction_id)
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        match parse_node_status_response(received, self.transaction_id) {
            Ok(status) => Progress::Done(identify_node_status(&status)),
            Err(NetbiosError::IdMismatch { .. }) => Progress::NeedMore,
            Err(error) => Progress::Done(Identification::unrecognised(format!(
                "not a NetBIOS node status response: {error}"
            ))),
        }
    }

    fn max_len(&self) -> usize {
        65_535
    }
}

/// The `netbios` session service probe: a SESSION REQUEST on TCP 139.
#[derive(Debug, Clone, Default)]
pub struct SessionRequest;

impl SessionRequest {
    /// A session request from [`CALLING_NAME`] to [`CALLED_NAME`].
    pub fn new() -> Self {
        SessionRequest
    }
}

impl Exchange for SessionRequest {
    fn start(&mut self) -> Vec<u8> {
        build_session_request(CALLED_NAME, CALLING_NAME)
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        match parse_session_response(received) {
            Ok(Some(response)) => Progress::Done(identify_session(&response)),
            Ok(None) => Progress::NeedMore,
            Err(error) => Progress::Done(Identification::unrecognised(format!(
                "not a NetBIOS session response: {error}"
            ))),
        }
    }

    fn max_len(&self) -> usize {
        1024
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    use crate::testutil::hex;

    fn octets(text: &str) -> String {
        text.bytes().map(|b| format!("{b:02x} ")).collect()
    }

    #[test]
    fn encodes_names() {
        // '*' = 0x2a -> "CK", NUL -> "AA".
        let wildcard = encode_name(&WILDCARD_NAME);
        assert_eq!(&wildcard[1..33], b"CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        // "*SMBSERVER" + 5 spaces + 0x20.
        let called = encode_name(&raw_name(CALLED_NAME, 0x20));
        assert_eq!(&called[1..33], b"CKFDENECFDEFFCFGEFFCCACACACACACA");
        let calling = encode_name(&raw_name("rdsports", 0x00));
        assert_eq!(&calling[1..33], b"FCEEFDFAEPFCFEFDCACACACACACACAAA");
        assert_eq!((called[0], called[33]), (0x20, 0x00));
    }

    #[test]
    fn builds_node_status_request() {
        let expected = hex(&format!(
            concat!(
                "12 34",                   // NAME_TRN_ID
                "00 00",                   // query, NM_FLAGS 0, RCODE 0
                "00 01 00 00 00 00 00 00", // QDCOUNT 1
                "20 {} 00",                // QUESTION_NAME "*" (32 letters), empty scope
                "00 21 00 01",             // NBSTAT, IN
            ),
            octets("CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        ));
        assert_eq!(build_node_status_request(0x1234), expected);
        assert_eq!(NodeStatusQuery::new(0x1234).start(), expected);
    }

    #[test]
    fn builds_session_request() {
        let expected = hex(&format!(
            "81 00 00 44 20 {} 00 20 {} 00",
            octets("CKFDENECFDEFFCFGEFFCCACACACACACA"),
            octets("FCEEFDFAEPFCFEFDCACACACACACACAAA")
        ));
        assert_eq!(SessionRequest::new().start(), expected);
    }

    /// A node status response from DC1 in EXAMPLE: DC1<00>, EXAMPLE<00> group, DC1<20>,
    /// EXAMPLE<1C> group, EXAMPLE<1B>, with MAC 00:15:5d:01:02:03.
    fn node_status_reply() -> Vec<u8> {
        let name = |text: &str, suffix: u8, flags: &str| {
            format!("{} {suffix:02x} {flags}", octets(&format!("{text:<15}")))
        };
        hex(&format!(
            concat!(
                "12 34 84 00",             // response, AA, RCODE 0
                "00 00 00 01 00 00 00 00", // ANCOUNT 1
                "20 {} 00",                // RR_NAME "*"
                "00 21 00 01 00 00 00 00", // NBSTAT IN, TTL 0
                "00 8b",                   // RDLENGTH 1 + 5*18 + 48
                "05",                      // NUM_NAMES
                "{} {} {} {} {}",
                "00 15 5d 01 02 03", // UNIT_ID (MAC)
                "{}",                // the rest of the statistics (42 bytes)
            ),
            octets("CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            name("DC1", 0x00, "04 00"),
            name("EXAMPLE", 0x00, "84 00"),
            name("DC1", 0x20, "04 00"),
            name("EXAMPLE", 0x1c, "84 00"),
            name("EXAMPLE", 0x1b, "04 00"),
            "00 ".repeat(42),
        ))
    }

    #[test]
    fn parses_node_status() {
        let status = parse_node_status_response(&node_status_reply(), 0x1234).unwrap();
        assert_eq!(status.names.len(), 5);
        assert_eq!(status.names[0].name, "DC1");
        assert!(!status.names[0].is_group());
        assert!(status.names[1].is_group());
        assert_eq!(status.names[3].role(), Some("domain controllers"));
        assert_eq!(status.mac, Some([0x00, 0x15, 0x5d, 0x01, 0x02, 0x03]));
        let identification = identify_node_status(&status);
        assert_eq!(identification.service, Some("netbios"));
        assert_eq!(identification.detail["computer_name"], "DC1");
        assert_eq!(identification.detail["workgroup"], "EXAMPLE");
        assert_eq!(identification.detail["domain_controller"], true);
        assert_eq!(identification.detail["mac"], "00:15:5d:01:02:03");
        assert_eq!(
            identification.detail["names"][2],
            serde_json::json!({"name": "DC1", "suffix": "20", "group": false, "role": "file server"})
        );
    }

    #[test]
    fn node_status_edge_cases() {
        assert_eq!(
            parse_node_status_response(&node_status_reply(), 0x9999),
            Err(NetbiosError::IdMismatch {
                expected: 0x9999,
                found: 0x1234
            })
        );
        let request = build_node_status_request(0x1234);
        assert_eq!(
            parse_node_status_response(&request, 0x1234),
            Err(NetbiosError::NotAResponse)
        );
        // The __MSBROWSE__ name has control bytes.
        assert_eq!(
            name_text(b"\x01\x02__MSBROWSE__\x02"),
            "\\x01\\x02__MSBROWSE__\\x02"
        );
        // Samba reports a zero MAC: not shown.
        let mut reply = node_status_reply();
        let mac_at = reply.len() - 48;
        reply[mac_at..mac_at + 6].fill(0);
        let identification =
            identify_node_status(&parse_node_status_response(&reply, 0x1234).unwrap());
        assert!(!identification.detail.contains_key("mac"));
        // A datagram for another transaction is ignored by the exchange.
        let mut query = NodeStatusQuery::new(0x9999);
        assert_eq!(query.on_bytes(&node_status_reply()), Progress::NeedMore);
    }

    #[test]
    fn truncated_node_status_is_clean() {
        let reply = node_status_reply();
        let mut query = NodeStatusQuery::new(0x1234);
        for len in 0..reply.len() {
            // RDLENGTH covers the statistics too, so every cut is a truncation.
            let result = parse_node_status_response(&reply[..len], 0x1234);
            assert_eq!(result, Err(NetbiosError::Truncated), "{len}");
            let Progress::Done(identification) = query.on_bytes(&reply[..len]) else {
                panic!("{len}")
            };
            assert_eq!(identification.service, None, "{len}");
        }
    }

    #[test]
    fn parses_session_responses() {
        assert_eq!(
            parse_session_response(&hex("82 00 00 00")),
            Ok(Some(SessionResponse::Positive))
        );
        assert_eq!(
            parse_session_response(&hex("83 00 00 01 82")),
            Ok(Some(SessionResponse::Negative { code: 0x82 }))
        );
        assert_eq!(
            parse_session_response(&hex("84 00 00 06 c0 00 02 0a 00 8b")),
            Ok(Some(SessionResponse::Retarget {
                address: Ipv4Addr::new(192, 0, 2, 10),
                port: 139
            }))
        );
        // A keep-alive before the answer is skipped.
        assert_eq!(
            parse_session_response(&hex("85 00 00 00 82 00 00 00")),
            Ok(Some(SessionResponse::Positive))
        );
        assert_eq!(parse_session_response(&hex("83 00")), Ok(None));
        assert_eq!(parse_session_response(&hex("83 00 00 01")), Ok(None));
        assert_eq!(
            parse_session_response(&hex("83 00 00 02 82 00")),
            Err(NetbiosError::BadLength {
                packet_type: 0x83,
                len: 2
            })
        );
        assert_eq!(
            parse_session_response(&hex("83 01 00 01 82")),
            Err(NetbiosError::BadLength {
                packet_type: 0x83,
                len: 0x1_0001
            })
        );
        assert_eq!(
            parse_session_response(b"SSH-"),
            Err(NetbiosError::UnexpectedType(b'S'))
        );
    }

    #[test]
    fn session_exchange_identifies_every_response() {
        let mut probe = SessionRequest::new();
        let Progress::Done(identification) = probe.on_bytes(&hex("83 00 00 01 80")) else {
            panic!()
        };
        assert_eq!(identification.service, Some("netbios"));
        assert_eq!(
            identification.detail["error"],
            "Not listening on called name"
        );
        let Progress::Done(identification) = probe.on_bytes(&hex("84 00 00 06 c0 00 02 0a 00 8b"))
        else {
            panic!()
        };
        assert_eq!(identification.detail["retarget_address"], "192.0.2.10");
        let Progress::Done(identification) = probe.on_bytes(&hex("82 00 00 00")) else {
            panic!()
        };
        assert_eq!(identification.detail["session_response"], "positive");
        assert_eq!(probe.on_bytes(&hex("82 00")), Progress::NeedMore);
        let Progress::Done(identification) = probe.on_bytes(b"HTTP/1.0 400") else {
            panic!()
        };
        assert_eq!(identification.service, None);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_node_status_response(&bytes, 0x1234);
            if bytes.len() >= 2 {
                let _ = parse_node_status_response(&bytes, u16::from_be_bytes([bytes[0], bytes[1]]));
            }
            let _ = parse_session_response(&bytes);
            let _ = NodeStatusQuery::new(0x1234).on_bytes(&bytes);
            let _ = SessionRequest::new().on_bytes(&bytes);
        }

        #[test]
        fn mutated_node_status_never_panics(index in 0_usize..300, value in any::<u8>()) {
            let mut reply = node_status_reply();
            let at = index % reply.len();
            reply[at] = value;
            let _ = parse_node_status_response(&reply, 0x1234).map(|s| identify_node_status(&s));
        }
    }
}
