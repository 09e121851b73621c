//! DNS (RFC 1035) query builder and response parser for the `dns` probe (UDP and TCP 53).
//!
//! [`build_query`] writes one standard query (opcode QUERY, class IN, optional RD bit, no
//! EDNS); [`frame_tcp`] adds the two-byte length prefix of RFC 1035 section 4.2.2.
//! [`parse_response`] reads the header, skips the questions and decodes the answer section:
//! A, AAAA, CNAME, NS, PTR, SOA and SRV (RFC 2782) records are decoded, other types are kept
//! as their type number and length. Compressed names (section 4.1.4) are followed with a
//! bound on pointer jumps, label length (63) and name length (255), so a pointer loop is an
//! error, not a hang. The TC bit is reported so the caller can retry over TCP.
//!
//! Any well-formed response with the query's id proves a DNS server, whatever its RCODE
//! (NXDOMAIN and REFUSED included). This module does not resolve, cache, validate DNSSEC,
//! send EDNS options or read the authority and additional sections beyond their counts.
//!
//! [`read_name`] is public so other codecs that reuse RFC 1035 name compression (the
//! NETLOGON structures of an LDAP ping, see [`crate::ldap`]) share one bounded decoder.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde_json::Value;
use thiserror::Error;

use crate::{Exchange, Identification, Progress, bytes};

/// The longest name on the wire, in octets (RFC 1035 section 2.3.4).
pub const MAX_NAME_LEN: usize = 255;

/// The longest label, in octets (RFC 1035 section 2.3.4).
pub const MAX_LABEL_LEN: usize = 63;

/// How many compression pointers one name may follow before it is called a loop.
pub const MAX_POINTER_JUMPS: usize = 64;

/// How many answer records [`parse_response`] keeps (it counts them all).
pub const MAX_RECORDS: usize = 64;

/// Why a DNS message could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DnsError {
    /// The message ends before a field it declares.
    #[error("DNS message is truncated")]
    Truncated,
    /// The id is not the query's: a late or stray reply.
    #[error("DNS reply id {found:#06x} does not match the query id {expected:#06x}")]
    IdMismatch {
        /// The query's id.
        expected: u16,
        /// The reply's id.
        found: u16,
    },
    /// The QR bit is clear: the peer sent a query, not a response.
    #[error("DNS message is a query, not a response")]
    NotAResponse,
    /// A label type other than a plain label or a pointer (RFC 6891 extended labels).
    #[error("DNS label type {0:#04x} is not supported")]
    BadLabelType(u8),
    /// A name longer than 255 octets, or a label longer than 63.
    #[error("DNS name is too long")]
    NameTooLong,
    /// A name follows more than [`MAX_POINTER_JUMPS`] compression pointers.
    #[error("DNS name compression loop")]
    CompressionLoop,
    /// A record's data does not have the size or shape its type requires.
    #[error("DNS record of type {rtype} has malformed data")]
    BadRdata {
        /// The record type.
        rtype: u16,
    },
    /// A query name we refuse to encode (empty label, or too long).
    #[error("invalid query name {0:?}")]
    InvalidQueryName(String),
    /// A message too large for the two-byte TCP length prefix.
    #[error("DNS message of {0} bytes is too large for TCP framing")]
    TooLarge(usize),
}

/// The record types this probe can ask for (RFC 1035 section 3.2.2, RFC 3596, RFC 2782).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QType {
    /// IPv4 address (1).
    A,
    /// IPv6 address (28).
    Aaaa,
    /// Canonical name (5).
    Cname,
    /// Name server (2).
    Ns,
    /// Domain name pointer, for reverse lookups (12).
    Ptr,
    /// Start of authority (6).
    Soa,
    /// Service location (33), such as `_ldap._tcp.dc._msdcs.<domain>`.
    Srv,
}

impl QType {
    /// The type number on the wire.
    pub fn code(self) -> u16 {
        match self {
            QType::A => 1,
            QType::Aaaa => 28,
            QType::Cname => 5,
            QType::Ns => 2,
            QType::Ptr => 12,
            QType::Soa => 6,
            QType::Srv => 33,
        }
    }
}

/// Whether the query asks the server to recurse (the RD bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Recursion {
    /// RD set: ask a resolver to recurse.
    Desired,
    /// RD clear: ask an authoritative server only for its own data.
    NotDesired,
}

/// A decoded DNS name (labels without the root), at most [`MAX_NAME_LEN`] octets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Name {
    labels: Vec<Vec<u8>>,
}

impl Name {
    /// The labels, most specific first, without the empty root label.
    pub fn labels(&self) -> &[Vec<u8>] {
        &self.labels
    }

    /// Presentation form (RFC 1035 section 5.1) without the trailing dot: `dc1.example.com`,
    /// or `.` for the root. Dots and backslashes inside labels are escaped as `\.` and `\\`,
    /// other bytes outside printable ASCII as `\DDD`.
    pub fn to_text(&self) -> String {
        if self.labels.is_empty() {
            return ".".to_owned();
        }
        let mut out = String::new();
        for (index, label) in self.labels.iter().enumerate() {
            if index > 0 {
                out.push('.');
            }
            for &byte in label {
                match byte {
                    b'.' | b'\\' => {
                        out.push('\\');
                        out.push(char::from(byte));
                    }
                    0x21..=0x7e => out.push(char::from(byte)),
                    _ => out.push_str(&format!("\\{byte:03}")),
                }
            }
        }
        out
    }

    /// The labels joined by dots and read as UTF-8 (invalid sequences replaced), without
    /// escaping: the form Microsoft's NETLOGON structures use. Empty for the root.
    pub fn to_utf8(&self) -> String {
        String::from_utf8_lossy(&self.labels.join(&b'.')).into_owned()
    }
}

/// One answer record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The owner name.
    pub name: Name,
    /// The type number.
    pub rtype: u16,
    /// The class number (1 for IN).
    pub class: u16,
    /// Time to live, in seconds.
    pub ttl: u32,
    /// The decoded data.
    pub data: RData,
}

/// Decoded record data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// The canonical name of an alias.
    Cname(Name),
    /// A name server.
    Ns(Name),
    /// A pointer (reverse lookup).
    Ptr(Name),
    /// Start of authority.
    Soa {
        /// The primary name server.
        mname: Name,
        /// The responsible mailbox.
        rname: Name,
        /// Zone serial number.
        serial: u32,
        /// Refresh interval.
        refresh: u32,
        /// Retry interval.
        retry: u32,
        /// Expiry limit.
        expire: u32,
        /// Minimum (negative caching) TTL.
        minimum: u32,
    },
    /// A service location.
    Srv {
        /// Priority (lower first).
        priority: u16,
        /// Weight among equal priorities.
        weight: u16,
        /// The service's port.
        port: u16,
        /// The host offering the service.
        target: Name,
    },
    /// Any other type, kept as its length only.
    Other {
        /// The RDLENGTH.
        len: u16,
    },
}

impl Record {
    /// A one-line summary such as `A 192.0.2.10` or `SRV 0 100 389 dc1.example.com`.
    pub fn summary(&self) -> String {
        match &self.data {
            RData::A(address) => format!("A {address}"),
            RData::Aaaa(address) => format!("AAAA {address}"),
            RData::Cname(name) => format!("CNAME {}", name.to_text()),
            RData::Ns(name) => format!("NS {}", name.to_text()),
            RData::Ptr(name) => format!("PTR {}", name.to_text()),
            RData::Soa {
                mname,
                rname,
                serial,
                ..
            } => {
                format!("SOA {} {} {serial}", mname.to_text(), rname.to_text())
            }
            RData::Srv {
                priority,
                weight,
                port,
                target,
            } => {
                format!("SRV {priority} {weight} {port} {}", target.to_text())
            }
            RData::Other { len } => format!("TYPE{} ({len} bytes)", self.rtype),
        }
    }
}

/// A parsed DNS response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The message id.
    pub id: u16,
    /// The opcode (0 for QUERY).
    pub opcode: u8,
    /// The four-bit RCODE.
    pub rcode: u8,
    /// AA: the server is authoritative for the name.
    pub authoritative: bool,
    /// TC: the reply was truncated; retry over TCP for the whole answer.
    pub truncated: bool,
    /// RA: the server offers recursion.
    pub recursion_available: bool,
    /// ANCOUNT as declared.
    pub answer_count: u16,
    /// NSCOUNT as declared.
    pub authority_count: u16,
    /// ARCOUNT as declared.
    pub additional_count: u16,
    /// The first [`MAX_RECORDS`] answers that could be read. When TC is set, reading stops
    /// quietly at the first record the truncation cut.
    pub answers: Vec<Record>,
}

/// The RFC mnemonic of an RCODE (RFC 1035 section 4.1.1, RFC 2136 section 2.2).
pub fn rcode_name(rcode: u8) -> Option<&'static str> {
    Some(match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        _ => return None,
    })
}

/// Builds a standard query for `name` (dotted, an optional trailing dot; `""` or `.` is the
/// root) of type `qtype`, class IN.
pub fn build_query(
    id: u16,
    name: &str,
    qtype: QType,
    recursion: Recursion,
) -> Result<Vec<u8>, DnsError> {
    let encoded = encode_name(name)?;
    let flags: u16 = match recursion {
        Recursion::Desired => 0x0100,
        Recursion::NotDesired => 0x0000,
    };
    let mut out = Vec::with_capacity(12 + encoded.len() + 4);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    // QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 0.
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&encoded);
    out.extend_from_slice(&qtype.code().to_be_bytes());
    out.extend_from_slice(&1_u16.to_be_bytes());
    Ok(out)
}

/// Encodes a dotted name as uncompressed labels ending in the root label.
pub fn encode_name(name: &str) -> Result<Vec<u8>, DnsError> {
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    let mut out = Vec::with_capacity(trimmed.len() + 2);
    if !trimmed.is_empty() {
        for label in trimmed.split('.') {
            if label.is_empty() || label.len() > MAX_LABEL_LEN {
                return Err(DnsError::InvalidQueryName(name.to_owned()));
            }
            // At most 63, checked above.
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
    }
    out.push(0);
    if out.len() > MAX_NAME_LEN {
        return Err(DnsError::InvalidQueryName(name.to_owned()));
    }
    Ok(out)
}

/// Prefixes a message with its two-byte length for DNS over TCP.
pub fn frame_tcp(message: &[u8]) -> Result<Vec<u8>, DnsError> {
    let len = u16::try_from(message.len()).map_err(|_| DnsError::TooLarge(message.len()))?;
    let mut out = Vec::with_capacity(message.len() + 2);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(message);
    Ok(out)
}

/// Reads a TCP reply: `Ok(None)` until the two-byte length and the whole message arrived.
/// Bytes after the first message are ignored.
pub fn parse_tcp_response(buffer: &[u8], expected_id: u16) -> Result<Option<Response>, DnsError> {
    let Some((prefix, rest)) = buffer.split_first_chunk::<2>() else {
        return Ok(None);
    };
    let len = usize::from(u16::from_be_bytes(*prefix));
    match rest.get(..len) {
        Some(message) => parse_response(message, expected_id).map(Some),
        None => Ok(None),
    }
}

/// Parses one DNS response (a UDP datagram, or a TCP message without its length prefix).
pub fn parse_response(message: &[u8], expected_id: u16) -> Result<Response, DnsError> {
    let id = read_u16(message, 0)?;
    let flags = read_u16(message, 2)?;
    let question_count = read_u16(message, 4)?;
    let answer_count = read_u16(message, 6)?;
    let authority_count = read_u16(message, 8)?;
    let additional_count = read_u16(message, 10)?;
    if flags & 0x8000 == 0 {
        return Err(DnsError::NotAResponse);
    }
    if id != expected_id {
        return Err(DnsError::IdMismatch {
            expected: expected_id,
            found: id,
        });
    }
    let truncated = flags & 0x0200 != 0;
    let mut response = Response {
        id,
        opcode: ((flags >> 11) & 0x0f) as u8,
        rcode: (flags & 0x000f) as u8,
        authoritative: flags & 0x0400 != 0,
        truncated,
        recursion_available: flags & 0x0080 != 0,
        answer_count,
        authority_count,
        additional_count,
        answers: Vec::new(),
    };
    let body = read_body(message, question_count, answer_count, &mut response.answers);
    match body {
        Ok(()) => Ok(response),
        // A truncated (TC) reply may stop anywhere: keep the header and what was read.
        Err(_) if truncated => Ok(response),
        Err(error) => Err(error),
    }
}

fn read_body(
    message: &[u8],
    question_count: u16,
    answer_count: u16,
    answers: &mut Vec<Record>,
) -> Result<(), DnsError> {
    let mut offset = 12;
    // Each question takes at least five bytes, so the loop is bounded by the message.
    for _ in 0..question_count {
        let (_, after) = read_name(message, offset)?;
        offset = after + 4;
        if offset > message.len() {
            return Err(DnsError::Truncated);
        }
    }
    for _ in 0..answer_count {
        let (record, after) = read_record(message, offset)?;
        offset = after;
        if answers.len() < MAX_RECORDS {
            answers.push(record);
        }
    }
    Ok(())
}

fn read_record(message: &[u8], offset: usize) -> Result<(Record, usize), DnsError> {
    let (name, offset) = read_name(message, offset)?;
    let rtype = read_u16(message, offset)?;
    let class = read_u16(message, offset + 2)?;
    let ttl = read_u32(message, offset + 4)?;
    let rdlength = read_u16(message, offset + 8)?;
    let start = offset + 10;
    let end = start + usize::from(rdlength);
    let rdata = message.get(start..end).ok_or(DnsError::Truncated)?;
    let bad = DnsError::BadRdata { rtype };
    // A name inside RDATA must end inside RDATA (pointers may still point anywhere before).
    let name_in_rdata = |at: usize| -> Result<(Name, usize), DnsError> {
        let (name, after) = read_name(message, at)?;
        if after > end {
            return Err(DnsError::BadRdata { rtype });
        }
        Ok((name, after))
    };
    let data = match rtype {
        1 => {
            let octets: [u8; 4] = rdata.try_into().map_err(|_| bad)?;
            RData::A(Ipv4Addr::from(octets))
        }
        28 => {
            let octets: [u8; 16] = rdata.try_into().map_err(|_| bad)?;
            RData::Aaaa(Ipv6Addr::from(octets))
        }
        2 | 5 | 12 => {
            let (target, after) = name_in_rdata(start)?;
            if after != end {
                return Err(bad);
            }
            match rtype {
                2 => RData::Ns(target),
                5 => RData::Cname(target),
                _ => RData::Ptr(target),
            }
        }
        6 => {
            let (mname, after) = name_in_rdata(start)?;
            let (rname, after) = name_in_rdata(after)?;
            if after + 20 != end {
                return Err(bad);
            }
            RData::Soa {
                mname,
                rname,
                serial: read_u32(message, after)?,
                refresh: read_u32(message, after + 4)?,
                retry: read_u32(message, after + 8)?,
                expire: read_u32(message, after + 12)?,
                minimum: read_u32(message, after + 16)?,
            }
        }
        33 => {
            if rdata.len() < 7 {
                return Err(bad);
            }
            let (target, after) = name_in_rdata(start + 6)?;
            if after != end {
                return Err(bad);
            }
            RData::Srv {
                priority: read_u16(message, start)?,
                weight: read_u16(message, start + 2)?,
                port: read_u16(message, start + 4)?,
                target,
            }
        }
        _ => RData::Other { len: rdlength },
    };
    Ok((
        Record {
            name,
            rtype,
            class,
            ttl,
            data,
        },
        end,
    ))
}

/// Reads a possibly compressed name starting at `offset` in `message`; compression
/// pointers are offsets from the start of `message`. Returns the name and the offset just
/// after it in the original position (after the first pointer, if any).
pub fn read_name(message: &[u8], offset: usize) -> Result<(Name, usize), DnsError> {
    let mut labels = Vec::new();
    let mut wire_len = 1_usize; // the root label
    let mut position = offset;
    let mut resume_at = None;
    let mut jumps = 0_usize;
    loop {
        let len_byte = *message.get(position).ok_or(DnsError::Truncated)?;
        match len_byte & 0xc0 {
            0x00 => {
                if len_byte == 0 {
                    let after = resume_at.unwrap_or(position + 1);
                    return Ok((Name { labels }, after));
                }
                let len = usize::from(len_byte);
                wire_len += len + 1;
                if wire_len > MAX_NAME_LEN {
                    return Err(DnsError::NameTooLong);
                }
                let label = message
                    .get(position + 1..position + 1 + len)
                    .ok_or(DnsError::Truncated)?;
                labels.push(label.to_vec());
                position += 1 + len;
            }
            0xc0 => {
                let low = *message.get(position + 1).ok_or(DnsError::Truncated)?;
                jumps += 1;
                if jumps > MAX_POINTER_JUMPS {
                    return Err(DnsError::CompressionLoop);
                }
                if resume_at.is_none() {
                    resume_at = Some(position + 2);
                }
                position = usize::from(u16::from_be_bytes([len_byte & 0x3f, low]));
            }
            _ => return Err(DnsError::BadLabelType(len_byte)),
        }
    }
}

fn read_u16(message: &[u8], offset: usize) -> Result<u16, DnsError> {
    bytes::be16(message, offset).ok_or(DnsError::Truncated)
}

fn read_u32(message: &[u8], offset: usize) -> Result<u32, DnsError> {
    bytes::be32(message, offset).ok_or(DnsError::Truncated)
}

/// What a response tells about the server: service `dns`, its RCODE and answers.
pub fn identify(response: &Response) -> Identification {
    let rcode = rcode_name(response.rcode)
        .map_or_else(|| format!("RCODE{}", response.rcode), str::to_owned);
    let answers: Vec<Value> = response
        .answers
        .iter()
        .map(|record| Value::from(record.summary()))
        .collect();
    let mut identification = Identification::service("dns")
        .with("rcode", rcode.clone())
        .with("authoritative", response.authoritative)
        .with("recursion_available", response.recursion_available)
        .with("truncated", response.truncated)
        .with("answer_count", response.answer_count)
        .with("answers", answers);
    if response.truncated {
        identification.note = Some("reply truncated (TC bit): retry over TCP".to_owned());
    } else if response.rcode != 0 {
        identification.note = Some(format!("the server answered {rcode}"));
    }
    identification
}

/// Which transport a [`DnsQuery`] runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Tcp,
    Udp,
}

/// The `dns` probe: one query, over UDP or TCP.
#[derive(Debug, Clone)]
pub struct DnsQuery {
    id: u16,
    message: Vec<u8>,
    transport: Transport,
}

impl DnsQuery {
    /// A query sent as one UDP datagram. A datagram with another id is ignored (the
    /// exchange keeps waiting); anything else that is not a DNS response ends it.
    pub fn udp(id: u16, name: &str, qtype: QType, recursion: Recursion) -> Result<Self, DnsError> {
        let message = build_query(id, name, qtype, recursion)?;
        Ok(DnsQuery {
            id,
            message,
            transport: Transport::Udp,
        })
    }

    /// A query over TCP, with the two-byte length prefix.
    pub fn tcp(id: u16, name: &str, qtype: QType, recursion: Recursion) -> Result<Self, DnsError> {
        let message = build_query(id, name, qtype, recursion)?;
        Ok(DnsQuery {
            id,
            message,
            transport: Transport::Tcp,
        })
    }
}

impl Exchange for DnsQuery {
    fn start(&mut self) -> Vec<u8> {
        match self.transport {
            Transport::Udp => self.message.clone(),
            // build_query output is at most 12 + 255 + 4 bytes, far below 65535.
            Transport::Tcp => frame_tcp(&self.message).unwrap_or_default(),
        }
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        let parsed = match self.transport {
            Transport::Udp => parse_response(received, self.id).map(Some),
            Transport::Tcp => parse_tcp_response(received, self.id),
        };
        match parsed {
            Ok(Some(response)) => Progress::Done(identify(&response)),
            Ok(None) => Progress::NeedMore,
            Err(DnsError::IdMismatch { .. }) if self.transport == Transport::Udp => {
                Progress::NeedMore
            }
            Err(error) => Progress::Done(Identification::unrecognised(format!(
                "not a DNS response to our query: {error}"
            ))),
        }
    }

    fn max_len(&self) -> usize {
        match self.transport {
            Transport::Udp => 65_535,
            Transport::Tcp => 65_537,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    use crate::testutil::hex;

    #[test]
    fn builds_srv_query() {
        let bytes = build_query(
            0x1234,
            "_ldap._tcp.example.com.",
            QType::Srv,
            Recursion::Desired,
        )
        .unwrap();
        let expected = hex(concat!(
            "12 34",                   // ID
            "01 00",                   // QR=0 opcode=0 RD=1
            "00 01",                   // QDCOUNT 1
            "00 00 00 00 00 00",       // AN, NS, AR 0
            "05 5f 6c 64 61 70",       // "_ldap"
            "04 5f 74 63 70",          // "_tcp"
            "07 65 78 61 6d 70 6c 65", // "example"
            "03 63 6f 6d",             // "com"
            "00",                      // root
            "00 21",                   // QTYPE SRV (33)
            "00 01",                   // QCLASS IN
        ));
        assert_eq!(bytes, expected);
        let tcp = frame_tcp(&bytes).unwrap();
        assert_eq!(&tcp[..2], &[0x00, expected.len() as u8]);
        assert_eq!(&tcp[2..], &expected[..]);
    }

    #[test]
    fn builds_root_and_rejects_bad_names() {
        let bytes = build_query(1, ".", QType::Ns, Recursion::NotDesired).unwrap();
        assert_eq!(
            bytes,
            hex("00 01 00 00 00 01 00 00 00 00 00 00 00 00 02 00 01")
        );
        assert!(build_query(1, "a..b", QType::A, Recursion::Desired).is_err());
        assert!(build_query(1, &"x".repeat(64), QType::A, Recursion::Desired).is_err());
        let long = vec!["abcdefghi"; 26].join(".");
        assert!(build_query(1, &long, QType::A, Recursion::Desired).is_err());
    }

    /// A reply to `example.com A` with a CNAME, an A record and an SRV whose names use
    /// compression pointers back to the question (offset 12).
    fn compressed_reply() -> Vec<u8> {
        hex(concat!(
            "ab cd 81 80",             // id, QR RD RA, NOERROR
            "00 01 00 03 00 00 00 00", // 1 question, 3 answers
            // offset 12: question example.com A IN
            "07 65 78 61 6d 70 6c 65 03 63 6f 6d 00 00 01 00 01",
            // answer 1 (offset 29): www.<ptr 12> CNAME <ptr 12>, ttl 300
            "03 77 77 77 c0 0c 00 05 00 01 00 00 01 2c 00 02 c0 0c",
            // answer 2: <ptr 12> A 192.0.2.10, ttl 60
            "c0 0c 00 01 00 01 00 00 00 3c 00 04 c0 00 02 0a",
            // answer 3: <ptr 12> SRV 0 100 389 dc1.<ptr 12>
            "c0 0c 00 21 00 01 00 00 02 58 00 0c 00 00 00 64 01 85 03 64 63 31 c0 0c",
        ))
    }

    #[test]
    fn parses_compressed_answers() {
        let response = parse_response(&compressed_reply(), 0xabcd).unwrap();
        assert_eq!(response.rcode, 0);
        assert!(response.recursion_available);
        assert!(!response.truncated);
        let summaries: Vec<String> = response.answers.iter().map(Record::summary).collect();
        assert_eq!(
            summaries,
            [
                "CNAME example.com",
                "A 192.0.2.10",
                "SRV 0 100 389 dc1.example.com"
            ]
        );
        assert_eq!(response.answers[0].name.to_text(), "www.example.com");
        assert_eq!(response.answers[0].ttl, 300);
        let identification = identify(&response);
        assert_eq!(identification.service, Some("dns"));
        assert_eq!(identification.detail["rcode"], "NOERROR");
        assert_eq!(identification.detail["answer_count"], 3);
    }

    #[test]
    fn parses_nxdomain_with_soa_authority() {
        let reply = hex(concat!(
            "00 07 81 83", // NXDOMAIN
            // 1 question, 1 authority record (counted; the section itself is not read)
            "00 01 00 00 00 01 00 00",
            "03 6e 6f 6e 00 00 01 00 01",
        ));
        let response = parse_response(&reply, 7).unwrap();
        assert_eq!(response.rcode, 3);
        assert_eq!(response.authority_count, 1);
        let identification = identify(&response);
        assert_eq!(identification.service, Some("dns"));
        assert_eq!(identification.detail["rcode"], "NXDOMAIN");
        assert_eq!(
            identification.note.as_deref(),
            Some("the server answered NXDOMAIN")
        );
    }

    #[test]
    fn decodes_soa_aaaa_ptr_and_other() {
        let reply = hex(concat!(
            "00 09 85 00 00 00 00 04 00 00 00 00",
            // SOA: root owner, mname ns.<root>, rname h.<root>, 5 u32s
            "00 00 06 00 01 00 00 00 0a 00 1b",
            "02 6e 73 00 01 68 00 00 00 00 01 00 00 00 02 00 00 00 03 00 00 00 04 00 00 00 05",
            // AAAA 2001:db8::1
            "00 00 1c 00 01 00 00 00 0a 00 10 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01",
            // PTR ns.<ptr 23>... points at offset 23 = "ns" label of the SOA mname
            "00 00 0c 00 01 00 00 00 0a 00 02 c0 17",
            // TXT (16), 3 bytes
            "00 00 10 00 01 00 00 00 0a 00 03 02 68 69",
        ));
        let response = parse_response(&reply, 9).unwrap();
        assert!(response.authoritative);
        let summaries: Vec<String> = response.answers.iter().map(Record::summary).collect();
        assert_eq!(
            summaries,
            [
                "SOA ns h 1",
                "AAAA 2001:db8::1",
                "PTR ns",
                "TYPE16 (3 bytes)"
            ]
        );
    }

    #[test]
    fn compression_loop_is_an_error() {
        // The answer's owner name is a pointer to itself (offset 12).
        let reply = hex(
            "00 01 81 80 00 00 00 01 00 00 00 00 c0 0c 00 01 00 01 00 00 00 00 00 04 7f 00 00 01",
        );
        assert_eq!(parse_response(&reply, 1), Err(DnsError::CompressionLoop));
        // Two pointers to each other.
        let pair = hex("c0 02 c0 00");
        assert_eq!(read_name(&pair, 0), Err(DnsError::CompressionLoop));
    }

    #[test]
    fn bounds_names() {
        // A label of 64 bytes uses the reserved 01 prefix.
        assert_eq!(read_name(&hex("40"), 0), Err(DnsError::BadLabelType(0x40)));
        // 130 one-byte labels: more than 255 octets.
        let mut message = Vec::new();
        for _ in 0..130 {
            message.extend_from_slice(&[1, b'a']);
        }
        message.push(0);
        assert_eq!(read_name(&message, 0), Err(DnsError::NameTooLong));
    }

    #[test]
    fn checks_id_and_qr() {
        let reply = compressed_reply();
        assert_eq!(
            parse_response(&reply, 0x1111),
            Err(DnsError::IdMismatch {
                expected: 0x1111,
                found: 0xabcd
            })
        );
        let query = build_query(5, "example.com", QType::A, Recursion::Desired).unwrap();
        assert_eq!(parse_response(&query, 5), Err(DnsError::NotAResponse));
    }

    #[test]
    fn reports_truncation_and_keeps_partial_reply() {
        // TC set, claims two answers but holds none.
        let reply = hex("00 02 83 80 00 01 00 02 00 00 00 00 01 61 00 00 01 00 01");
        let response = parse_response(&reply, 2).unwrap();
        assert!(response.truncated);
        assert!(response.answers.is_empty());
        let identification = identify(&response);
        assert_eq!(identification.detail["truncated"], true);
        assert!(identification.note.unwrap().contains("TCP"));
    }

    #[test]
    fn udp_exchange_ignores_stray_ids() {
        let mut query = DnsQuery::udp(0xabcd, "example.com", QType::A, Recursion::Desired).unwrap();
        let request = query.start();
        assert_eq!(&request[..2], &[0xab, 0xcd]);
        let mut stray = compressed_reply();
        stray[1] = 0x00;
        assert_eq!(query.on_bytes(&stray), Progress::NeedMore);
        match query.on_bytes(&compressed_reply()) {
            Progress::Done(identification) => assert_eq!(identification.service, Some("dns")),
            other => panic!("{other:?}"),
        }
        match query.on_bytes(b"HTTP/1.1 400 Bad Request\r\n") {
            Progress::Done(identification) => assert_eq!(identification.service, None),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tcp_exchange_waits_for_whole_message() {
        let mut query = DnsQuery::tcp(0xabcd, "example.com", QType::A, Recursion::Desired).unwrap();
        let request = query.start();
        assert_eq!(
            usize::from(u16::from_be_bytes([request[0], request[1]])),
            request.len() - 2
        );
        let framed = frame_tcp(&compressed_reply()).unwrap();
        for len in 0..framed.len() {
            assert_eq!(query.on_bytes(&framed[..len]), Progress::NeedMore, "{len}");
        }
        assert!(matches!(query.on_bytes(&framed), Progress::Done(id) if id.service == Some("dns")));
    }

    #[test]
    fn truncated_udp_replies_are_clean() {
        let reply = compressed_reply();
        for len in 0..reply.len() {
            let result = parse_response(&reply[..len], 0xabcd);
            assert!(
                matches!(result, Err(DnsError::Truncated)),
                "{len}: {result:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_response(&bytes, 0x1234);
            let _ = parse_tcp_response(&bytes, 0x1234);
            if bytes.len() >= 2 {
                let id = u16::from_be_bytes([bytes[0], bytes[1]]);
                let _ = parse_response(&bytes, id);
            }
            let _ = read_name(&bytes, 0);
            let mut query = DnsQuery::udp(0x1234, "example.com", QType::Srv, Recursion::Desired)
                .unwrap();
            let _ = query.on_bytes(&bytes);
        }

        #[test]
        fn mutated_replies_never_panic(
            index in 0_usize..100,
            value in any::<u8>(),
        ) {
            let mut reply = compressed_reply();
            let at = index % reply.len();
            reply[at] = value;
            let _ = parse_response(&reply, 0xabcd);
        }
    }
}
