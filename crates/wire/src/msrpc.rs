//! The DCE/RPC endpoint mapper over TCP 135: connection-oriented PDUs (C706 chapter 12,
//! MS-RPCE 2.2.2), NDR (C706 chapter 14) and protocol towers (C706 appendix L).
//!
//! What it does: binds to the endpoint mapper interface (`e1af8308-5d1f-11c9-91a4-
//! 08002b14a0fa` v3.0) with the NDR transfer syntax, parses the `bind_ack` (accepted, or
//! rejected with its reason) or `bind_nak`, then calls `ept_lookup` (opnum 2) with
//! `RPC_C_EP_ALL_ELTS`, no object and no interface, over and over with the context handle the
//! server returns, until the handle comes back zero, the server says there is nothing more,
//! or a bounded number of rounds is reached. Each entry's tower is decoded into interface
//! UUID and version, protocol sequence (`ncacn_ip_tcp`, `ncacn_np`, `ncalrpc`, ...), TCP/UDP
//! port, IPv4 address, pipe or port name, and annotation. This lists the dynamic RPC ports
//! a host really uses, which is what the catalog's "RPC dynamic" flows need.
//!
//! What it does not do: authentication (the endpoint mapper answers anonymous binds),
//! `ept_map`, connectionless RPC, big-endian NDR (Windows and Samba send little-endian).
//!
//! Bind request (72 bytes, little-endian, all fields written out in the tests):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | rpc_vers 5 |
//! | 1 | 1 | rpc_vers_minor 0 |
//! | 2 | 1 | PTYPE 11 (bind) |
//! | 3 | 1 | pfc_flags `PFC_FIRST_FRAG \| PFC_LAST_FRAG` |
//! | 4 | 4 | packed_drep `10 00 00 00` (little-endian, ASCII, IEEE) |
//! | 8 | 2 | frag_length 72 |
//! | 10 | 2 | auth_length 0 |
//! | 12 | 4 | call_id |
//! | 16 | 2+2 | max_xmit_frag, max_recv_frag 5840 |
//! | 20 | 4 | assoc_group_id 0 |
//! | 24 | 4 | n_context_elem 1, reserved |
//! | 28 | 4 | p_cont_id 0, n_transfer_syn 1, reserved |
//! | 32 | 20 | abstract syntax: EPM UUID (NDR byte order), version 3.0 |
//! | 52 | 20 | transfer syntax: NDR `8a885d04-1ceb-11c9-9fe8-08002b104860` version 2 |
//!
//! `ept_lookup` request stub (40 bytes after the 24-byte request header): inquiry_type 0,
//! null object pointer, null interface pointer, vers_option 1 (`RPC_C_VERS_ALL`), the 20-byte
//! context handle, max_ents.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use crate::bytes::{Reader, le16, le32};
use crate::{Exchange, Identification, Progress};
use serde_json::{Map, Value};

/// A UUID in its canonical (string) byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// Reads a UUID in NDR little-endian layout (time_low, time_mid, time_hi_and_version
    /// little-endian, then 8 bytes as is).
    pub fn from_ndr(b: &[u8; 16]) -> Uuid {
        Uuid([
            b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13],
            b[14], b[15],
        ])
    }

    /// The NDR little-endian layout of this UUID.
    pub fn to_ndr(&self) -> [u8; 16] {
        // Swapping the first three fields is its own inverse.
        Uuid::from_ndr(&self.0).0
    }

    /// Whether every byte is zero.
    pub fn is_nil(&self) -> bool {
        self.0 == [0; 16]
    }
}

impl std::fmt::Display for Uuid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// The endpoint mapper interface, `e1af8308-5d1f-11c9-91a4-08002b14a0fa`, version 3.0.
pub const EPM_INTERFACE: Uuid = Uuid([
    0xe1, 0xaf, 0x83, 0x08, 0x5d, 0x1f, 0x11, 0xc9, 0x91, 0xa4, 0x08, 0x00, 0x2b, 0x14, 0xa0, 0xfa,
]);
/// The NDR transfer syntax, `8a885d04-1ceb-11c9-9fe8-08002b104860`, version 2.
pub const NDR_SYNTAX: Uuid = Uuid([
    0x8a, 0x88, 0x5d, 0x04, 0x1c, 0xeb, 0x11, 0xc9, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60,
]);

/// `EPT_S_NOT_REGISTERED`: no (more) elements in the endpoint map.
pub const EPT_S_NOT_REGISTERED: u32 = 0x16c9_a0d6;
/// The `ept_lookup` operation number.
pub const OPNUM_EPT_LOOKUP: u16 = 2;
/// The default `max_ents` asked for per `ept_lookup` call.
pub const DEFAULT_MAX_ENTS: u32 = 100;
/// The default bound on `ept_lookup` calls.
pub const DEFAULT_MAX_ROUNDS: usize = 100;
/// The most entries kept in total, whatever the rounds.
pub const MAX_TOTAL_ENTRIES: usize = 4096;
/// The largest reply (all fragments of one response) accepted.
pub const MAX_REPLY_LEN: usize = 256 * 1024;

const PTYPE_REQUEST: u8 = 0;
const PTYPE_RESPONSE: u8 = 2;
const PTYPE_FAULT: u8 = 3;
const PTYPE_BIND: u8 = 11;
const PTYPE_BIND_ACK: u8 = 12;
const PTYPE_BIND_NAK: u8 = 13;
const PFC_FIRST_FRAG: u8 = 0x01;
const PFC_LAST_FRAG: u8 = 0x02;
const HEADER_LEN: usize = 16;
const MAX_FRAG: u16 = 5840;
const MAX_FRAGMENTS: usize = 256;
const MAX_FLOORS: usize = 16;
const MAX_ANNOTATION: usize = 256;

/// Why a PDU could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes so far are a valid prefix; more are needed.
    #[error("incomplete RPC PDU")]
    Incomplete,
    /// The bytes are not the expected RPC PDU.
    #[error("{0}")]
    Invalid(String),
}

fn invalid(why: impl Into<String>) -> Error {
    Error::Invalid(why.into())
}

/// The server's answer to the bind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindReply {
    /// `bind_ack`: `result` 0 means the presentation context was accepted.
    Ack {
        /// Negotiated `max_xmit_frag`.
        max_xmit_frag: u16,
        /// Negotiated `max_recv_frag`.
        max_recv_frag: u16,
        /// The secondary address (the server's port, such as `"135"`).
        sec_addr: String,
        /// `p_result_t.result` of the first context (0 acceptance, 1 user rejection,
        /// 2 provider rejection, 3 negotiate ack).
        result: u16,
        /// `p_result_t.reason` of the first context.
        reason: u16,
    },
    /// `bind_nak` with its `provider_reject_reason`.
    Nak {
        /// The rejection reason.
        reason: u16,
    },
}

/// One entry of the endpoint map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EptEntry {
    /// The entry's object UUID.
    pub object: Uuid,
    /// The tower octets (`None` for a null tower pointer).
    pub tower: Option<Vec<u8>>,
    /// The annotation (often the service's description), without the terminating NUL.
    pub annotation: String,
}

/// A parsed `ept_lookup` response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupResponse {
    /// The context handle to pass to the next call (all zero when the walk is over).
    pub handle: [u8; 20],
    /// The entries returned.
    pub entries: Vec<EptEntry>,
    /// The operation's status (0, or `EPT_S_NOT_REGISTERED` at the end).
    pub status: u32,
}

/// What arrived in answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallReply {
    /// A `response` PDU carrying an `ept_lookup` result.
    Lookup(LookupResponse),
    /// A `fault` PDU with its status.
    Fault {
        /// The fault status (such as `nca_s_op_rng_error`, 0x1c010002).
        status: u32,
    },
}

/// One decoded tower: what a client would connect to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Endpoint {
    /// The interface UUID (floor 1).
    pub interface: Uuid,
    /// The interface version, `major.minor`.
    pub version: String,
    /// The protocol sequence (`ncacn_ip_tcp`, `ncadg_ip_udp`, `ncacn_np`, `ncalrpc`,
    /// `ncacn_http`, or the raw protocol ids).
    pub protocol: String,
    /// TCP or UDP port, for IP protocol sequences.
    pub port: Option<u16>,
    /// IPv4 address floor, when present (0.0.0.0 means any).
    pub address: Option<Ipv4Addr>,
    /// Pipe, LRPC port or NetBIOS name, for the protocol sequences that use names.
    pub endpoint: Option<String>,
    /// The entry's annotation.
    pub annotation: String,
}

fn header(ptype: u8, frag_len: u16, call_id: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(usize::from(frag_len));
    h.extend_from_slice(&[5, 0, ptype, PFC_FIRST_FRAG | PFC_LAST_FRAG, 0x10, 0, 0, 0]);
    h.extend_from_slice(&frag_len.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes()); // auth_length
    h.extend_from_slice(&call_id.to_le_bytes());
    h
}

/// Builds the bind to the endpoint mapper with NDR (72 bytes).
pub fn build_bind(call_id: u32) -> Vec<u8> {
    let mut p = header(PTYPE_BIND, 72, call_id);
    p.extend_from_slice(&MAX_FRAG.to_le_bytes());
    p.extend_from_slice(&MAX_FRAG.to_le_bytes());
    p.extend_from_slice(&0u32.to_le_bytes()); // assoc_group_id
    p.extend_from_slice(&[1, 0, 0, 0]); // n_context_elem 1, reserved, reserved2
    p.extend_from_slice(&[0, 0, 1, 0]); // p_cont_id 0, n_transfer_syn 1, reserved
    p.extend_from_slice(&EPM_INTERFACE.to_ndr());
    p.extend_from_slice(&3u16.to_le_bytes());
    p.extend_from_slice(&0u16.to_le_bytes());
    p.extend_from_slice(&NDR_SYNTAX.to_ndr());
    p.extend_from_slice(&2u32.to_le_bytes());
    p
}

/// Builds an `ept_lookup` request (64 bytes) continuing from `handle` (all zero at first).
pub fn build_ept_lookup(call_id: u32, handle: &[u8; 20], max_ents: u32) -> Vec<u8> {
    let mut p = header(PTYPE_REQUEST, 64, call_id);
    p.extend_from_slice(&40u32.to_le_bytes()); // alloc_hint: stub length
    p.extend_from_slice(&0u16.to_le_bytes()); // p_cont_id
    p.extend_from_slice(&OPNUM_EPT_LOOKUP.to_le_bytes());
    p.extend_from_slice(&0u32.to_le_bytes()); // inquiry_type RPC_C_EP_ALL_ELTS
    p.extend_from_slice(&0u32.to_le_bytes()); // object: null pointer
    p.extend_from_slice(&0u32.to_le_bytes()); // interface_id: null pointer
    p.extend_from_slice(&1u32.to_le_bytes()); // vers_option RPC_C_VERS_ALL
    p.extend_from_slice(handle);
    p.extend_from_slice(&max_ents.min(500).to_le_bytes()); // IDL range(0,500)
    p
}

/// A checked view of one PDU's common header.
struct Pdu<'a> {
    ptype: u8,
    flags: u8,
    call_id: u32,
    body: &'a [u8],
}

/// Splits the first PDU off `buf`: `Incomplete` until its whole fragment has arrived.
fn next_pdu(buf: &[u8], max: usize) -> Result<(Pdu<'_>, usize), Error> {
    if let Some(&v) = buf.first()
        && v != 5
    {
        return Err(invalid(format!("RPC version {v}, expected 5")));
    }
    if let Some(&minor) = buf.get(1)
        && minor > 1
    {
        return Err(invalid(format!("RPC minor version {minor}")));
    }
    let (Some(h), Some(frag_len)) = (buf.get(..HEADER_LEN), le16(buf, 8)) else {
        return Err(Error::Incomplete);
    };
    // `h` is exactly HEADER_LEN bytes long.
    if h[4] & 0xF0 != 0x10 {
        return Err(invalid(
            "big-endian NDR data representation is not supported",
        ));
    }
    let frag_len = usize::from(frag_len);
    let auth_len = usize::from(le16(h, 10).unwrap_or(0));
    if frag_len < HEADER_LEN || frag_len > max {
        return Err(invalid(format!("fragment length {frag_len}")));
    }
    let Some(bytes) = buf.get(..frag_len) else {
        return Err(Error::Incomplete);
    };
    // An auth verifier (8-byte sec_trailer plus auth_length) ends the fragment.
    let body_end = if auth_len > 0 {
        frag_len.saturating_sub(8 + auth_len)
    } else {
        frag_len
    };
    let body = bytes
        .get(HEADER_LEN..body_end.max(HEADER_LEN))
        .unwrap_or(&[]);
    let pdu = Pdu {
        ptype: h[2],
        flags: h[3],
        call_id: le32(h, 12).unwrap_or(0),
        body,
    };
    Ok((pdu, frag_len))
}

/// Parses the server's reply to the bind (`bind_ack` or `bind_nak`).
pub fn parse_bind_reply(buf: &[u8], call_id: u32) -> Result<BindReply, Error> {
    if let Some(&ptype) = buf.get(2)
        && ptype != PTYPE_BIND_ACK
        && ptype != PTYPE_BIND_NAK
    {
        return Err(invalid(format!(
            "PDU type {ptype}, expected bind_ack or bind_nak"
        )));
    }
    let (pdu, _) = next_pdu(buf, MAX_REPLY_LEN)?;
    if pdu.call_id != call_id {
        return Err(invalid(format!(
            "call id {} answers another call",
            pdu.call_id
        )));
    }
    let b = pdu.body;
    if pdu.ptype == PTYPE_BIND_NAK {
        let reason = le16(b, 0).ok_or_else(|| invalid("bind_nak is truncated"))?;
        return Ok(BindReply::Nak { reason });
    }
    let short = || invalid("bind_ack is truncated");
    let max_xmit_frag = le16(b, 0).ok_or_else(short)?;
    let max_recv_frag = le16(b, 2).ok_or_else(short)?;
    let sec_len = usize::from(le16(b, 8).ok_or_else(short)?);
    let sec = b.get(10..10 + sec_len).ok_or_else(short)?;
    let sec_addr = String::from_utf8_lossy(sec)
        .trim_end_matches('\0')
        .to_owned();
    // The result list is 4-byte aligned relative to the start of the PDU.
    let after_sec = HEADER_LEN + 10 + sec_len;
    let results_at = after_sec.div_ceil(4) * 4 - HEADER_LEN;
    let n_results = *b.get(results_at).ok_or_else(short)?;
    if n_results == 0 {
        return Err(invalid("bind_ack has no results"));
    }
    let result = le16(b, results_at + 4).ok_or_else(short)?;
    let reason = le16(b, results_at + 6).ok_or_else(short)?;
    Ok(BindReply::Ack {
        max_xmit_frag,
        max_recv_frag,
        sec_addr,
        result,
        reason,
    })
}

/// Reads the fragments of one response (or a fault) and returns the joined stub data.
fn read_response(buf: &[u8], call_id: u32) -> Result<Result<Vec<u8>, u32>, Error> {
    let mut stub = Vec::new();
    let mut at = 0;
    for _ in 0..MAX_FRAGMENTS {
        let rest = buf.get(at..).unwrap_or(&[]);
        if let Some(&ptype) = rest.get(2)
            && ptype != PTYPE_RESPONSE
            && ptype != PTYPE_FAULT
        {
            return Err(invalid(format!(
                "PDU type {ptype}, expected response or fault"
            )));
        }
        let (pdu, used) = next_pdu(rest, MAX_REPLY_LEN)?;
        if pdu.call_id != call_id {
            return Err(invalid(format!(
                "call id {} answers another call",
                pdu.call_id
            )));
        }
        if pdu.ptype == PTYPE_FAULT {
            let status = le32(pdu.body, 8).ok_or_else(|| invalid("fault PDU is truncated"))?;
            return Ok(Err(status));
        }
        // Response: alloc_hint (4), p_cont_id (2), cancel_count (1), reserved (1), stub.
        let data = pdu
            .body
            .get(8..)
            .ok_or_else(|| invalid("response PDU is truncated"))?;
        if stub.len() + data.len() > MAX_REPLY_LEN {
            return Err(invalid("response is too large"));
        }
        stub.extend_from_slice(data);
        at += used;
        if pdu.flags & PFC_LAST_FRAG != 0 {
            return Ok(Ok(stub));
        }
    }
    Err(invalid("too many response fragments"))
}

/// An NDR reader over one stub (alignment is relative to the stub start).
struct Ndr<'a> {
    r: Reader<'a>,
}

fn truncated() -> Error {
    invalid("NDR data is truncated")
}

impl<'a> Ndr<'a> {
    fn align(&mut self, n: usize) {
        self.r.align(n);
    }
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], Error> {
        self.r.take(n).ok_or_else(truncated)
    }
    fn u32(&mut self) -> Result<u32, Error> {
        self.align(4);
        self.r.le32().ok_or_else(truncated)
    }
    fn count(&mut self, max: usize) -> Result<usize, Error> {
        let n = self.u32()? as usize;
        if n > max {
            return Err(invalid(format!("NDR count {n} exceeds {max}")));
        }
        Ok(n)
    }
}

/// Parses the stub of an `ept_lookup` response.
pub fn parse_lookup_stub(stub: &[u8]) -> Result<LookupResponse, Error> {
    let mut r = Ndr {
        r: Reader::new(stub),
    };
    let mut handle = [0u8; 20];
    handle.copy_from_slice(r.bytes(20)?);
    let num_ents = r.count(MAX_TOTAL_ENTRIES)?;
    let _max_count = r.u32()?;
    let _offset = r.u32()?;
    let actual = r.count(MAX_TOTAL_ENTRIES)?;
    if actual > num_ents {
        return Err(invalid(format!(
            "{actual} entries sent, {num_ents} announced"
        )));
    }
    let mut entries = Vec::with_capacity(actual.min(512));
    let mut tower_refs = Vec::with_capacity(actual.min(512));
    for _ in 0..actual {
        r.align(4);
        let mut object = [0u8; 16];
        object.copy_from_slice(r.bytes(16)?);
        let tower_ref = r.u32()?;
        let _ann_offset = r.u32()?;
        let ann_len = r.count(MAX_ANNOTATION)?;
        let ann = r.bytes(ann_len)?;
        let annotation = String::from_utf8_lossy(ann)
            .trim_end_matches('\0')
            .to_owned();
        entries.push(EptEntry {
            object: Uuid::from_ndr(&object),
            tower: None,
            annotation,
        });
        tower_refs.push(tower_ref);
    }
    // Deferred referents: the towers, in entry order.
    for (entry, tower_ref) in entries.iter_mut().zip(tower_refs) {
        if tower_ref == 0 {
            continue;
        }
        let _max = r.u32()?;
        let len = r.count(MAX_REPLY_LEN)?;
        entry.tower = Some(r.bytes(len)?.to_vec());
    }
    let status = r.u32()?;
    Ok(LookupResponse {
        handle,
        entries,
        status,
    })
}

/// Parses a complete reply to an `ept_lookup` request with `call_id` (all fragments).
pub fn parse_lookup_reply(buf: &[u8], call_id: u32) -> Result<CallReply, Error> {
    match read_response(buf, call_id)? {
        Err(status) => Ok(CallReply::Fault { status }),
        Ok(stub) => parse_lookup_stub(&stub).map(CallReply::Lookup),
    }
}

/// Decodes a protocol tower into an endpoint. `None` when the tower is too malformed to say
/// which interface it is for.
pub fn decode_tower(tower: &[u8], annotation: &str) -> Option<Endpoint> {
    let mut r = Reader::new(tower);
    let count = usize::from(r.le16()?).min(MAX_FLOORS);
    let mut floors: Vec<(&[u8], &[u8])> = Vec::with_capacity(count);
    for _ in 0..count {
        let lhs_len = usize::from(r.le16()?);
        let lhs = r.take(lhs_len)?;
        let rhs_len = usize::from(r.le16()?);
        let rhs = r.take(rhs_len)?;
        floors.push((lhs, rhs));
    }
    let (lhs1, rhs1) = floors.first()?;
    if lhs1.first() != Some(&0x0d) {
        return None;
    }
    let uuid: [u8; 16] = lhs1.get(1..17)?.try_into().ok()?;
    let major = le16(lhs1, 17)?;
    let minor = le16(rhs1, 0).unwrap_or(0);
    let mut ep = Endpoint {
        interface: Uuid::from_ndr(&uuid),
        version: format!("{major}.{minor}"),
        protocol: String::new(),
        port: None,
        address: None,
        endpoint: None,
        annotation: annotation.to_owned(),
    };
    let mut ids = Vec::new();
    for (lhs, rhs) in floors.iter().skip(2) {
        let Some(&id) = lhs.first() else { continue };
        ids.push(id);
        let text = || {
            String::from_utf8_lossy(rhs)
                .trim_end_matches('\0')
                .to_owned()
        };
        match id {
            0x07 | 0x08 | 0x1f => {
                ep.port = rhs.get(..2).map(|p| u16::from_be_bytes([p[0], p[1]])); // 2 bytes
            }
            0x09 => {
                ep.address = rhs.get(..4).map(|a| Ipv4Addr::new(a[0], a[1], a[2], a[3])); // 4 bytes
            }
            0x0f | 0x10 => ep.endpoint = Some(text()),
            0x11 if ep.endpoint.is_none() => ep.endpoint = Some(text()),
            _ => {}
        }
    }
    let has = |id: u8| ids.contains(&id);
    ep.protocol = if has(0x0b) && has(0x07) {
        "ncacn_ip_tcp".to_owned()
    } else if has(0x0a) && has(0x08) {
        "ncadg_ip_udp".to_owned()
    } else if has(0x0b) && has(0x0f) {
        "ncacn_np".to_owned()
    } else if has(0x0b) && has(0x1f) {
        "ncacn_http".to_owned()
    } else if has(0x0c) || has(0x10) {
        "ncalrpc".to_owned()
    } else if has(0x0b) && has(0x11) {
        "ncacn_nb_tcp".to_owned()
    } else {
        ids.iter()
            .map(|i| format!("{i:#04x}"))
            .collect::<Vec<_>>()
            .join("/")
    };
    Some(ep)
}

/// The C706 name of a `bind_nak` reject reason.
pub fn nak_reason_name(reason: u16) -> String {
    match reason {
        0 => "reason_not_specified".to_owned(),
        1 => "temporary_congestion".to_owned(),
        2 => "local_limit_exceeded".to_owned(),
        3 => "called_paddr_unknown".to_owned(),
        4 => "protocol_version_not_supported".to_owned(),
        5 => "default_context_not_supported".to_owned(),
        6 => "user_data_not_readable".to_owned(),
        7 => "no_psap_available".to_owned(),
        8 => "authentication_type_not_recognized".to_owned(),
        9 => "invalid_checksum".to_owned(),
        other => format!("{other}"),
    }
}

/// The C706 name of a presentation context result and its reason.
pub fn result_name(result: u16, reason: u16) -> String {
    let r = match result {
        0 => "acceptance",
        1 => "user_rejection",
        2 => "provider_rejection",
        3 => "negotiate_ack",
        _ => "unknown_result",
    };
    let why = match reason {
        0 => "reason_not_specified",
        1 => "abstract_syntax_not_supported",
        2 => "proposed_transfer_syntaxes_not_supported",
        3 => "local_limit_exceeded",
        _ => "unknown_reason",
    };
    format!("{r} ({why})")
}

/// Walks the endpoint map: bind, then `ept_lookup` until the map is exhausted.
#[derive(Debug, Clone)]
pub struct EpmLookup {
    max_ents: u32,
    max_rounds: usize,
    state: State,
    call_id: u32,
    rounds: usize,
    endpoints: Vec<Endpoint>,
    seen: BTreeSet<Endpoint>,
    entries: usize,
    undecoded: usize,
    sec_addr: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Bind,
    Lookup,
}

impl EpmLookup {
    /// The default walk: 100 entries per call, at most 100 calls.
    pub fn new() -> Self {
        Self::with_limits(DEFAULT_MAX_ENTS, DEFAULT_MAX_ROUNDS)
    }

    /// A walk asking `max_ents` entries per call (at most 500) for at most `max_rounds` calls.
    pub fn with_limits(max_ents: u32, max_rounds: usize) -> Self {
        EpmLookup {
            max_ents: max_ents.clamp(1, 500),
            max_rounds: max_rounds.max(1),
            state: State::Bind,
            call_id: 1,
            rounds: 0,
            endpoints: Vec::new(),
            seen: BTreeSet::new(),
            entries: 0,
            undecoded: 0,
            sec_addr: String::new(),
        }
    }

    fn next_lookup(&mut self, handle: &[u8; 20]) -> Progress {
        self.call_id = self.call_id.wrapping_add(1);
        self.rounds += 1;
        Progress::Send(build_ept_lookup(self.call_id, handle, self.max_ents))
    }

    fn finish(&self, note: Option<String>) -> Progress {
        let ports: BTreeSet<u16> = self
            .endpoints
            .iter()
            .filter(|e| e.protocol == "ncacn_ip_tcp")
            .filter_map(|e| e.port)
            .collect();
        let endpoints: Vec<Value> = self.endpoints.iter().map(endpoint_json).collect();
        let mut id = Identification::service("msrpc")
            .with("endpoints", endpoints)
            .with("tcp_ports", ports.into_iter().collect::<Vec<_>>())
            .with("entries", self.entries)
            .with("rounds", self.rounds);
        if !self.sec_addr.is_empty() {
            id = id.with("sec_addr", self.sec_addr.clone());
        }
        if self.undecoded > 0 {
            id = id.with("undecoded_towers", self.undecoded);
        }
        id.note = note;
        Progress::Done(id)
    }
}

impl Default for EpmLookup {
    fn default() -> Self {
        Self::new()
    }
}

/// One endpoint as JSON: interface, version, annotation, protocol, and whichever of port,
/// address and endpoint apply.
pub fn endpoint_json(e: &Endpoint) -> Value {
    let mut m = Map::new();
    m.insert("interface".into(), Value::from(e.interface.to_string()));
    m.insert("version".into(), Value::from(e.version.clone()));
    m.insert("annotation".into(), Value::from(e.annotation.clone()));
    m.insert("protocol".into(), Value::from(e.protocol.clone()));
    m.insert("port".into(), e.port.map_or(Value::Null, Value::from));
    if let Some(a) = e.address {
        m.insert("address".into(), Value::from(a.to_string()));
    }
    if let Some(name) = &e.endpoint {
        m.insert("endpoint".into(), Value::from(name.clone()));
    }
    Value::Object(m)
}

impl Exchange for EpmLookup {
    fn start(&mut self) -> Vec<u8> {
        self.state = State::Bind;
        self.call_id = 1;
        build_bind(self.call_id)
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        let full = received.len() >= MAX_REPLY_LEN;
        match self.state {
            State::Bind => match parse_bind_reply(received, self.call_id) {
                Err(Error::Incomplete) if full => Progress::Done(Identification::unrecognised(
                    "bind reply larger than any RPC fragment",
                )),
                Err(Error::Incomplete) => Progress::NeedMore,
                Err(Error::Invalid(why)) => Progress::Done(Identification::unrecognised(format!(
                    "not an RPC bind reply: {why}"
                ))),
                Ok(BindReply::Nak { reason }) => {
                    let mut id = Identification::service("msrpc").with("bind", "nak");
                    id.note = Some(format!("bind rejected: {}", nak_reason_name(reason)));
                    Progress::Done(id)
                }
                Ok(BindReply::Ack {
                    result,
                    reason,
                    sec_addr,
                    ..
                }) => {
                    if result != 0 {
                        let mut id = Identification::service("msrpc").with("bind", "rejected");
                        id.note = Some(format!(
                            "endpoint mapper bind not accepted: {}",
                            result_name(result, reason)
                        ));
                        return Progress::Done(id);
                    }
                    self.sec_addr = sec_addr;
                    self.state = State::Lookup;
                    self.next_lookup(&[0; 20])
                }
            },
            State::Lookup => match parse_lookup_reply(received, self.call_id) {
                Err(Error::Incomplete) if full => {
                    self.finish(Some("ept_lookup reply too large".to_owned()))
                }
                Err(Error::Incomplete) => Progress::NeedMore,
                Err(Error::Invalid(why)) => {
                    self.finish(Some(format!("ept_lookup reply unreadable: {why}")))
                }
                Ok(CallReply::Fault { status }) => {
                    self.finish(Some(format!("ept_lookup failed with fault {status:#010x}")))
                }
                Ok(CallReply::Lookup(resp)) => {
                    for entry in &resp.entries {
                        if self.entries >= MAX_TOTAL_ENTRIES {
                            break;
                        }
                        self.entries += 1;
                        let decoded = entry
                            .tower
                            .as_deref()
                            .and_then(|t| decode_tower(t, &entry.annotation));
                        match decoded {
                            Some(ep) => {
                                if self.seen.insert(ep.clone()) {
                                    self.endpoints.push(ep);
                                }
                            }
                            None => self.undecoded += 1,
                        }
                    }
                    let done_map = resp.status == EPT_S_NOT_REGISTERED || resp.handle == [0; 20];
                    if resp.status != 0 && resp.status != EPT_S_NOT_REGISTERED {
                        return self
                            .finish(Some(format!("ept_lookup status {:#010x}", resp.status)));
                    }
                    if done_map || resp.entries.is_empty() {
                        return self.finish(None);
                    }
                    if self.rounds >= self.max_rounds || self.entries >= MAX_TOTAL_ENTRIES {
                        return self.finish(Some(format!(
                            "stopped after {} ept_lookup calls and {} entries; the map may hold more",
                            self.rounds, self.entries
                        )));
                    }
                    self.next_lookup(&resp.handle)
                }
            },
        }
    }

    fn max_len(&self) -> usize {
        MAX_REPLY_LEN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::testutil::hex;

    #[test]
    fn uuid_round_trip_and_display() {
        assert_eq!(
            EPM_INTERFACE.to_string(),
            "e1af8308-5d1f-11c9-91a4-08002b14a0fa"
        );
        assert_eq!(
            NDR_SYNTAX.to_string(),
            "8a885d04-1ceb-11c9-9fe8-08002b104860"
        );
        assert_eq!(Uuid::from_ndr(&EPM_INTERFACE.to_ndr()), EPM_INTERFACE);
    }

    #[test]
    fn bind_bytes() {
        let expected = hex("05 00 0b 03 10 00 00 00 48 00 00 00 01 00 00 00 \
             d0 16 d0 16 00 00 00 00 \
             01 00 00 00 \
             00 00 01 00 \
             08 83 af e1 1f 5d c9 11 91 a4 08 00 2b 14 a0 fa 03 00 00 00 \
             04 5d 88 8a eb 1c c9 11 9f e8 08 00 2b 10 48 60 02 00 00 00");
        assert_eq!(build_bind(1), expected);
        assert_eq!(EpmLookup::new().start(), expected);
    }

    #[test]
    fn ept_lookup_bytes() {
        let expected = hex("05 00 00 03 10 00 00 00 40 00 00 00 02 00 00 00 \
             28 00 00 00 00 00 02 00 \
             00 00 00 00  00 00 00 00  00 00 00 00  01 00 00 00 \
             00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 \
             64 00 00 00");
        assert_eq!(build_ept_lookup(2, &[0; 20], 100), expected);
    }

    /// bind_ack: max frags 5840, assoc group 0x1234, sec_addr "135\0", 2 bytes of padding to
    /// align to 4, one result.
    fn bind_ack(result: u16, reason: u16) -> Vec<u8> {
        let mut p = hex("05 00 0c 03 10 00 00 00 3c 00 00 00 01 00 00 00 \
             d0 16 d0 16 34 12 00 00 \
             04 00 31 33 35 00 \
             00 00 \
             01 00 00 00");
        p.extend_from_slice(&result.to_le_bytes());
        p.extend_from_slice(&reason.to_le_bytes());
        p.extend_from_slice(&NDR_SYNTAX.to_ndr());
        p.extend_from_slice(&2u32.to_le_bytes());
        assert_eq!(p.len(), 0x3c);
        p
    }

    #[test]
    fn parse_bind_ack_accepted_and_rejected() {
        assert_eq!(
            parse_bind_reply(&bind_ack(0, 0), 1),
            Ok(BindReply::Ack {
                max_xmit_frag: 5840,
                max_recv_frag: 5840,
                sec_addr: "135".into(),
                result: 0,
                reason: 0
            })
        );
        let mut x = EpmLookup::new();
        x.start();
        let Progress::Send(req) = x.on_bytes(&bind_ack(0, 0)) else {
            panic!()
        };
        assert_eq!(req, build_ept_lookup(2, &[0; 20], 100));

        let mut x = EpmLookup::new();
        x.start();
        let Progress::Done(id) = x.on_bytes(&bind_ack(2, 1)) else {
            panic!()
        };
        assert_eq!(id.service, Some("msrpc"));
        assert!(
            id.note
                .unwrap()
                .contains("provider_rejection (abstract_syntax_not_supported)")
        );
    }

    #[test]
    fn parse_bind_nak() {
        let nak = hex("05 00 0d 03 10 00 00 00 18 00 00 00 01 00 00 00 04 00 01 05 00 00 00 00");
        assert_eq!(parse_bind_reply(&nak, 1), Ok(BindReply::Nak { reason: 4 }));
        let mut x = EpmLookup::new();
        x.start();
        let Progress::Done(id) = x.on_bytes(&nak) else {
            panic!()
        };
        assert!(id.note.unwrap().contains("protocol_version_not_supported"));
    }

    /// A 75-byte ncacn_ip_tcp tower: 5 floors.
    fn tcp_tower(iface: Uuid, major: u16, port: u16, ip: [u8; 4]) -> Vec<u8> {
        let mut t = hex("05 00"); // floor count
        t.extend_from_slice(&hex("13 00 0d")); // floor 1: lhs 19 bytes, UUID id
        t.extend_from_slice(&iface.to_ndr());
        t.extend_from_slice(&major.to_le_bytes());
        t.extend_from_slice(&hex("02 00 00 00")); // rhs: minor 0
        t.extend_from_slice(&hex("13 00 0d")); // floor 2: NDR v2.0
        t.extend_from_slice(&NDR_SYNTAX.to_ndr());
        t.extend_from_slice(&hex("02 00 02 00 00 00"));
        t.extend_from_slice(&hex("01 00 0b 02 00 00 00")); // floor 3: RPC CO, minor 0
        t.extend_from_slice(&hex("01 00 07 02 00")); // floor 4: TCP port, big-endian
        t.extend_from_slice(&port.to_be_bytes());
        t.extend_from_slice(&hex("01 00 09 04 00")); // floor 5: IPv4
        t.extend_from_slice(&ip);
        assert_eq!(t.len(), 75);
        t
    }

    const LSA: Uuid = Uuid([
        0x12, 0x34, 0x57, 0x78, 0x12, 0x34, 0xab, 0xcd, 0xef, 0x00, 0x01, 0x23, 0x45, 0x67, 0x89,
        0xab,
    ]);
    const TS: Uuid = Uuid([
        0x48, 0x4a, 0x3a, 0x5b, 0xa6, 0x18, 0x4c, 0x1b, 0x82, 0x6b, 0xbc, 0xef, 0x3c, 0xa6, 0x01,
        0xf2,
    ]);

    fn lookup_stub(handle: [u8; 20], status: u32) -> Vec<u8> {
        let mut s = handle.to_vec();
        s.extend_from_slice(&2u32.to_le_bytes()); // num_ents
        s.extend_from_slice(&100u32.to_le_bytes()); // max_count (max_ents)
        s.extend_from_slice(&0u32.to_le_bytes()); // offset
        s.extend_from_slice(&2u32.to_le_bytes()); // actual_count
        // Entry 1: nil object, tower referent 1, annotation "LSA\0" (offset 0, count 4).
        s.extend_from_slice(&[0; 16]);
        s.extend_from_slice(&hex("01 00 00 00 00 00 00 00 04 00 00 00 4c 53 41 00"));
        // Entry 2: annotation "Remote Desktop\0" (15 bytes, then 1 byte to align).
        s.extend_from_slice(&[0; 16]);
        s.extend_from_slice(&hex("02 00 00 00 00 00 00 00 0f 00 00 00"));
        s.extend_from_slice(b"Remote Desktop\0");
        s.push(0);
        // Deferred towers: max_count, tower_length, octets, pad to 4.
        for t in [
            tcp_tower(LSA, 0, 49668, [0, 0, 0, 0]),
            tcp_tower(TS, 1, 49670, [192, 0, 2, 10]),
        ] {
            s.extend_from_slice(&(t.len() as u32).to_le_bytes());
            s.extend_from_slice(&(t.len() as u32).to_le_bytes());
            s.extend_from_slice(&t);
            while !s.len().is_multiple_of(4) {
                s.push(0);
            }
        }
        s.extend_from_slice(&status.to_le_bytes());
        s
    }

    fn response_pdus(stub: &[u8], call_id: u32, frag_stub: usize) -> Vec<u8> {
        let chunks: Vec<&[u8]> = stub.chunks(frag_stub).collect();
        let mut out = Vec::new();
        for (i, c) in chunks.iter().enumerate() {
            let mut flags = 0;
            if i == 0 {
                flags |= PFC_FIRST_FRAG;
            }
            if i + 1 == chunks.len() {
                flags |= PFC_LAST_FRAG;
            }
            let len = (24 + c.len()) as u16;
            out.extend_from_slice(&[5, 0, PTYPE_RESPONSE, flags, 0x10, 0, 0, 0]);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&call_id.to_le_bytes());
            out.extend_from_slice(&(stub.len() as u32).to_le_bytes());
            out.extend_from_slice(&[0, 0, 0, 0]);
            out.extend_from_slice(c);
        }
        out
    }

    #[test]
    fn parse_lookup_with_two_tcp_towers() {
        let mut handle = [0u8; 20];
        handle[4] = 0x77;
        let stub = lookup_stub(handle, 0);
        let reply = response_pdus(&stub, 2, 4096);
        let Ok(CallReply::Lookup(resp)) = parse_lookup_reply(&reply, 2) else {
            panic!()
        };
        assert_eq!(resp.handle, handle);
        assert_eq!(resp.entries.len(), 2);
        assert_eq!(resp.entries[0].annotation, "LSA");
        assert_eq!(resp.entries[1].annotation, "Remote Desktop");
        let ep = decode_tower(resp.entries[1].tower.as_ref().unwrap(), "Remote Desktop").unwrap();
        assert_eq!(
            ep.interface.to_string(),
            "484a3a5b-a618-4c1b-826b-bcef3ca601f2"
        );
        assert_eq!(ep.version, "1.0");
        assert_eq!(ep.protocol, "ncacn_ip_tcp");
        assert_eq!(ep.port, Some(49670));
        assert_eq!(ep.address, Some(Ipv4Addr::new(192, 0, 2, 10)));

        // The same reply split into fragments of 50 stub bytes parses the same.
        let frags = response_pdus(&stub, 2, 50);
        assert_eq!(parse_lookup_reply(&frags, 2), parse_lookup_reply(&reply, 2));
    }

    #[test]
    fn full_walk_with_two_rounds() {
        let mut x = EpmLookup::new();
        x.start();
        let Progress::Send(_) = x.on_bytes(&bind_ack(0, 0)) else {
            panic!()
        };
        let mut handle = [0u8; 20];
        handle[4] = 1;
        let Progress::Send(next) = x.on_bytes(&response_pdus(&lookup_stub(handle, 0), 2, 4096))
        else {
            panic!()
        };
        // The second request carries the returned handle and call id 3.
        assert_eq!(next, build_ept_lookup(3, &handle, 100));
        // The second round repeats the same entries (deduplicated) and ends the map.
        let Progress::Done(id) = x.on_bytes(&response_pdus(
            &lookup_stub([0; 20], EPT_S_NOT_REGISTERED),
            3,
            4096,
        )) else {
            panic!()
        };
        assert_eq!(id.service, Some("msrpc"));
        assert_eq!(id.detail["tcp_ports"], serde_json::json!([49668, 49670]));
        assert_eq!(id.detail["rounds"], 2);
        assert_eq!(id.detail["entries"], 4);
        assert_eq!(
            id.detail["endpoints"],
            serde_json::json!([
                {"interface": "12345778-1234-abcd-ef00-0123456789ab", "version": "0.0",
                 "annotation": "LSA", "protocol": "ncacn_ip_tcp", "port": 49668, "address": "0.0.0.0"},
                {"interface": "484a3a5b-a618-4c1b-826b-bcef3ca601f2", "version": "1.0",
                 "annotation": "Remote Desktop", "protocol": "ncacn_ip_tcp", "port": 49670,
                 "address": "192.0.2.10"}
            ])
        );
        assert_eq!(id.note, None);
    }

    #[test]
    fn rounds_are_bounded() {
        let mut x = EpmLookup::with_limits(10, 2);
        x.start();
        x.on_bytes(&bind_ack(0, 0));
        let mut handle = [0u8; 20];
        handle[0] = 9;
        let Progress::Send(_) = x.on_bytes(&response_pdus(&lookup_stub(handle, 0), 2, 4096)) else {
            panic!()
        };
        let Progress::Done(id) = x.on_bytes(&response_pdus(&lookup_stub(handle, 0), 3, 4096))
        else {
            panic!()
        };
        assert!(id.note.unwrap().contains("stopped after 2"));
    }

    #[test]
    fn fault_and_not_rpc() {
        let fault = hex("05 00 03 03 10 00 00 00 20 00 00 00 02 00 00 00 \
             20 00 00 00 00 00 00 00 02 00 01 1c 00 00 00 00");
        assert_eq!(
            parse_lookup_reply(&fault, 2),
            Ok(CallReply::Fault {
                status: 0x1c01_0002
            })
        );
        let mut x = EpmLookup::new();
        x.start();
        x.on_bytes(&bind_ack(0, 0));
        let Progress::Done(id) = x.on_bytes(&fault) else {
            panic!()
        };
        assert_eq!(id.service, Some("msrpc"));
        assert!(id.note.unwrap().contains("0x1c010002"));

        let mut x = EpmLookup::new();
        x.start();
        let Progress::Done(id) = x.on_bytes(b"HTTP/1.1 400 Bad Request\r\n\r\n") else {
            panic!()
        };
        assert_eq!(id.service, None);
        // A bind_ack for another call id.
        assert!(matches!(
            parse_bind_reply(&bind_ack(0, 0), 7),
            Err(Error::Invalid(_))
        ));
    }

    #[test]
    fn other_towers() {
        // ncacn_np: floors UUID, NDR, 0x0b, 0x0f "\PIPE\lsass", 0x11 "\\HOST".
        let mut t = hex("05 00 13 00 0d");
        t.extend_from_slice(&LSA.to_ndr());
        t.extend_from_slice(&hex("00 00 02 00 00 00 13 00 0d"));
        t.extend_from_slice(&NDR_SYNTAX.to_ndr());
        t.extend_from_slice(&hex(
            "02 00 02 00 00 00 01 00 0b 02 00 00 00 01 00 0f 0c 00",
        ));
        t.extend_from_slice(b"\\PIPE\\lsass\0");
        t.extend_from_slice(&hex("01 00 11 07 00"));
        t.extend_from_slice(b"\\\\HOST\0");
        let ep = decode_tower(&t, "").unwrap();
        assert_eq!(ep.protocol, "ncacn_np");
        assert_eq!(ep.endpoint.as_deref(), Some("\\PIPE\\lsass"));
        assert_eq!(ep.port, None);
        // ncalrpc: 0x0c and 0x10 "LRPC-1234".
        let mut t = hex("04 00 13 00 0d");
        t.extend_from_slice(&LSA.to_ndr());
        t.extend_from_slice(&hex("00 00 02 00 00 00 13 00 0d"));
        t.extend_from_slice(&NDR_SYNTAX.to_ndr());
        t.extend_from_slice(&hex(
            "02 00 02 00 00 00 01 00 0c 02 00 00 00 01 00 10 0a 00",
        ));
        t.extend_from_slice(b"LRPC-1234\0");
        let ep = decode_tower(&t, "").unwrap();
        assert_eq!(ep.protocol, "ncalrpc");
        assert_eq!(ep.endpoint.as_deref(), Some("LRPC-1234"));
        // Truncated towers decode to None, never panic.
        for n in 0..t.len() {
            let _ = decode_tower(&t[..n], "");
        }
    }

    #[test]
    fn every_truncation_needs_more() {
        let ack = bind_ack(0, 0);
        for n in 0..ack.len() {
            let mut x = EpmLookup::new();
            x.start();
            assert_eq!(
                x.on_bytes(&ack[..n]),
                Progress::NeedMore,
                "bind_ack prefix {n}"
            );
        }
        let reply = response_pdus(&lookup_stub([0; 20], 0), 2, 60);
        for n in 0..reply.len() {
            let mut x = EpmLookup::new();
            x.start();
            x.on_bytes(&ack);
            assert_eq!(
                x.on_bytes(&reply[..n]),
                Progress::NeedMore,
                "response prefix {n}"
            );
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = parse_bind_reply(&bytes, 1);
            let _ = parse_lookup_reply(&bytes, 2);
            let _ = parse_lookup_stub(&bytes);
            let _ = decode_tower(&bytes, "");
            let mut x = EpmLookup::new();
            x.start();
            let _ = x.on_bytes(&bytes);
        }

        #[test]
        fn mutated_stub_never_panics(pos in 0usize..600, val in any::<u8>()) {
            let mut stub = lookup_stub([1; 20], 0);
            let i = pos % stub.len();
            stub[i] = val;
            if let Ok(resp) = parse_lookup_stub(&stub) {
                for e in resp.entries {
                    if let Some(t) = e.tower {
                        let _ = decode_tower(&t, &e.annotation);
                    }
                }
            }
        }
    }
}
