//! SMB2 NEGOTIATE over direct TCP (MS-SMB2 2.1, 2.2.1, 2.2.3 and 2.2.4).
//!
//! What it does: builds one SMB2 NEGOTIATE request offering dialects 2.0.2, 2.1, 3.0, 3.0.2
//! and 3.1.1 with the SMB 3.1.1 pre-authentication integrity and encryption negotiate
//! contexts, and parses the NEGOTIATE response: the dialect the server chose, whether signing
//! is enabled or required, the server GUID, the server's clock (FILETIME turned into Unix
//! seconds), the maximum transaction/read/write sizes, capabilities, the negotiate contexts
//! and the security mechanisms named in the SPNEGO hint of the security buffer. An SMB1 reply
//! (`0xFF 'SMB'`) is recognised as SMB with dialect `SMB1`.
//!
//! What it does not do: SESSION_SETUP or anything that authenticates; it never signs or
//! encrypts. The client GUID and the pre-authentication salt are parameters (the caller draws
//! them), so the request bytes are deterministic.
//!
//! The request, as built by [`build_negotiate`] (SMB2 fields are little-endian; offsets are
//! from the start of the SMB2 header, after the 4-byte direct TCP header):
//!
//! | offset | size | field |
//! |---|---|---|
//! | - | 4 | direct TCP: `00` and a 24-bit big-endian length (178) |
//! | 0 | 64 | SMB2 header: `fe 'SMB'`, StructureSize 64, Command 0 (NEGOTIATE), CreditRequest 1, all else 0 |
//! | 64 | 2 | StructureSize 36 |
//! | 66 | 2 | DialectCount 5 |
//! | 68 | 2 | SecurityMode: `SMB2_NEGOTIATE_SIGNING_ENABLED` |
//! | 70 | 2 | Reserved |
//! | 72 | 4 | Capabilities `0x7f` (DFS, leasing, large MTU, multi-channel, persistent handles, directory leasing, encryption) |
//! | 76 | 16 | ClientGuid |
//! | 92 | 4 | NegotiateContextOffset 112 |
//! | 96 | 2 | NegotiateContextCount 2 |
//! | 98 | 2 | Reserved2 |
//! | 100 | 10 | Dialects `0202 0210 0300 0302 0311` |
//! | 110 | 2 | padding to 8 bytes |
//! | 112 | 46 | `SMB2_PREAUTH_INTEGRITY_CAPABILITIES`: SHA-512 and the 32-byte salt |
//! | 158 | 2 | padding to 8 bytes |
//! | 160 | 18 | `SMB2_ENCRYPTION_CAPABILITIES`: AES-128-GCM, AES-128-CCM, AES-256-GCM, AES-256-CCM |

use rdsports_schema::check::facts;

use crate::bytes::{le16, le32, le64};
use crate::{Exchange, Identification, Progress};
use serde_json::{Map, Value};

/// The dialects this probe offers, in the order sent.
pub const DIALECTS: [u16; 5] = [0x0202, 0x0210, 0x0300, 0x0302, 0x0311];

/// The largest NEGOTIATE response accepted (direct TCP header included).
pub const MAX_RESPONSE_LEN: usize = 64 * 1024;

const HEADER_LEN: usize = 64;
const NEGOTIATE_RESPONSE_LEN: usize = 64;
const SMB2_MAGIC: [u8; 4] = [0xFE, b'S', b'M', b'B'];
const SMB1_MAGIC: [u8; 4] = [0xFF, b'S', b'M', b'B'];
const SIGNING_ENABLED: u16 = 0x0001;
const SIGNING_REQUIRED: u16 = 0x0002;
const CLIENT_CAPABILITIES: u32 = 0x0000_007F;
const PREAUTH_INTEGRITY_CAPABILITIES: u16 = 0x0001;
const ENCRYPTION_CAPABILITIES: u16 = 0x0002;
const MAX_CONTEXTS: usize = 32;
const MAX_OIDS: usize = 16;
/// Seconds between 1601-01-01 (FILETIME epoch) and 1970-01-01.
const FILETIME_UNIX_OFFSET: i64 = 11_644_473_600;

const CAPABILITY_NAMES: [(u32, &str); 8] = [
    (0x01, "dfs"),
    (0x02, "leasing"),
    (0x04, "large_mtu"),
    (0x08, "multi_channel"),
    (0x10, "persistent_handles"),
    (0x20, "directory_leasing"),
    (0x40, "encryption"),
    (0x80, "notifications"),
];

/// Why a reply could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes so far are a valid prefix; more are needed.
    #[error("incomplete SMB message")]
    Incomplete,
    /// The bytes are not an SMB NEGOTIATE response.
    #[error("{0}")]
    Invalid(String),
}

/// One negotiate context from a 3.1.1 response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiateContext {
    /// `ContextType`.
    pub context_type: u16,
    /// The context's `Data`.
    pub data: Vec<u8>,
}

/// A parsed SMB2 NEGOTIATE response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiateResponse {
    /// The header `Status` (0 for success).
    pub status: u32,
    /// `DialectRevision`.
    pub dialect: u16,
    /// `SecurityMode`.
    pub security_mode: u16,
    /// `ServerGuid`, as sent (a little-endian GUID structure).
    pub server_guid: [u8; 16],
    /// `Capabilities`.
    pub capabilities: u32,
    /// `MaxTransactSize`.
    pub max_transact_size: u32,
    /// `MaxReadSize`.
    pub max_read_size: u32,
    /// `MaxWriteSize`.
    pub max_write_size: u32,
    /// `SystemTime` (FILETIME: 100 ns ticks since 1601-01-01 UTC).
    pub system_time: u64,
    /// `ServerStartTime` (FILETIME, usually 0).
    pub server_start_time: u64,
    /// The security buffer (a SPNEGO `NegTokenInit2`, or empty).
    pub security_buffer: Vec<u8>,
    /// The negotiate contexts (3.1.1 only).
    pub contexts: Vec<NegotiateContext>,
}

/// What arrived on the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// An SMB2 NEGOTIATE response.
    Smb2(NegotiateResponse),
    /// An SMB2 header with a non-success status and no NEGOTIATE response body.
    Smb2Error {
        /// The header `Status`.
        status: u32,
    },
    /// An SMB1 message.
    Smb1 {
        /// The SMB1 command byte (0x72 for NEGOTIATE).
        command: u8,
        /// The SMB1 NT status.
        status: u32,
    },
}

/// Builds the direct-TCP NEGOTIATE request described in the module docs.
pub fn build_negotiate(client_guid: [u8; 16], salt: [u8; 32]) -> Vec<u8> {
    let mut smb = Vec::with_capacity(184);
    // SMB2 sync header.
    smb.extend_from_slice(&SMB2_MAGIC);
    smb.extend_from_slice(&64u16.to_le_bytes()); // StructureSize
    smb.extend_from_slice(&0u16.to_le_bytes()); // CreditCharge
    smb.extend_from_slice(&0u32.to_le_bytes()); // Status
    smb.extend_from_slice(&0u16.to_le_bytes()); // Command NEGOTIATE
    smb.extend_from_slice(&1u16.to_le_bytes()); // CreditRequest
    smb.extend_from_slice(&0u32.to_le_bytes()); // Flags
    smb.extend_from_slice(&0u32.to_le_bytes()); // NextCommand
    smb.extend_from_slice(&0u64.to_le_bytes()); // MessageId
    smb.extend_from_slice(&0u32.to_le_bytes()); // Reserved (ProcessId)
    smb.extend_from_slice(&0u32.to_le_bytes()); // TreeId
    smb.extend_from_slice(&0u64.to_le_bytes()); // SessionId
    smb.extend_from_slice(&[0u8; 16]); // Signature
    // NEGOTIATE request.
    smb.extend_from_slice(&36u16.to_le_bytes()); // StructureSize
    smb.extend_from_slice(&(DIALECTS.len() as u16).to_le_bytes()); // DialectCount
    smb.extend_from_slice(&SIGNING_ENABLED.to_le_bytes()); // SecurityMode
    smb.extend_from_slice(&0u16.to_le_bytes()); // Reserved
    smb.extend_from_slice(&CLIENT_CAPABILITIES.to_le_bytes());
    smb.extend_from_slice(&client_guid);
    let offset_at = smb.len();
    smb.extend_from_slice(&0u32.to_le_bytes()); // NegotiateContextOffset, patched below
    smb.extend_from_slice(&2u16.to_le_bytes()); // NegotiateContextCount
    smb.extend_from_slice(&0u16.to_le_bytes()); // Reserved2
    for d in DIALECTS {
        smb.extend_from_slice(&d.to_le_bytes());
    }
    pad8(&mut smb);
    let offset = smb.len() as u32;
    // `offset_at + 4 <= smb.len()`: the placeholder was pushed above.
    smb[offset_at..offset_at + 4].copy_from_slice(&offset.to_le_bytes());
    // SMB2_PREAUTH_INTEGRITY_CAPABILITIES: one hash (SHA-512), 32-byte salt.
    let mut preauth = Vec::with_capacity(38);
    preauth.extend_from_slice(&1u16.to_le_bytes()); // HashAlgorithmCount
    preauth.extend_from_slice(&32u16.to_le_bytes()); // SaltLength
    preauth.extend_from_slice(&1u16.to_le_bytes()); // SHA-512
    preauth.extend_from_slice(&salt);
    push_context(&mut smb, PREAUTH_INTEGRITY_CAPABILITIES, &preauth);
    pad8(&mut smb);
    // SMB2_ENCRYPTION_CAPABILITIES: four ciphers, GCM first.
    let mut ciphers = Vec::with_capacity(10);
    ciphers.extend_from_slice(&4u16.to_le_bytes());
    for c in [0x0002u16, 0x0001, 0x0004, 0x0003] {
        ciphers.extend_from_slice(&c.to_le_bytes());
    }
    push_context(&mut smb, ENCRYPTION_CAPABILITIES, &ciphers);

    let mut out = Vec::with_capacity(smb.len() + 4);
    // Direct TCP transport header: a zero byte and a 24-bit big-endian length.
    out.push(0);
    out.extend_from_slice(&(smb.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(&smb);
    out
}

fn pad8(buf: &mut Vec<u8>) {
    while !buf.len().is_multiple_of(8) {
        buf.push(0);
    }
}

fn push_context(buf: &mut Vec<u8>, context_type: u16, data: &[u8]) {
    buf.extend_from_slice(&context_type.to_le_bytes());
    buf.extend_from_slice(&(data.len() as u16).to_le_bytes());
    buf.extend_from_slice(&0u32.to_le_bytes());
    buf.extend_from_slice(data);
}

/// Parses one direct-TCP framed SMB reply: an SMB2 NEGOTIATE response, an SMB2 error, or an
/// SMB1 message.
pub fn parse_reply(buf: &[u8]) -> Result<Reply, Error> {
    let Some(&kind) = buf.first() else {
        return Err(Error::Incomplete);
    };
    if kind != 0 {
        return Err(Error::Invalid(format!(
            "first byte {kind:#04x} is not a direct TCP SMB frame"
        )));
    }
    let Some(len_bytes) = buf.get(1..4) else {
        return Err(Error::Incomplete);
    };
    // `len_bytes` is exactly 3 bytes long.
    let len = (usize::from(len_bytes[0]) << 16)
        | (usize::from(len_bytes[1]) << 8)
        | usize::from(len_bytes[2]);
    if len + 4 > MAX_RESPONSE_LEN {
        return Err(Error::Invalid(format!(
            "SMB message of {len} bytes is too large"
        )));
    }
    // Check the protocol id as soon as it arrives, before the whole message.
    let magic_part = buf.get(4..buf.len().min(8)).unwrap_or(&[]);
    if !SMB2_MAGIC.starts_with(magic_part) && !SMB1_MAGIC.starts_with(magic_part) {
        return Err(Error::Invalid(
            "no SMB protocol id after the direct TCP header".into(),
        ));
    }
    let Some(msg) = buf.get(4..4 + len) else {
        return Err(Error::Incomplete);
    };
    if msg.len() < 4 {
        return Err(Error::Invalid(format!(
            "SMB message of {len} bytes is too short"
        )));
    }
    if msg.starts_with(&SMB1_MAGIC) {
        // SMB1 header: protocol (4), command (1), status (4).
        let (Some(&command), Some(status)) = (msg.get(4), le32(msg, 5)) else {
            return Err(Error::Invalid("SMB1 header is truncated".into()));
        };
        return Ok(Reply::Smb1 { command, status });
    }
    if msg.len() < HEADER_LEN {
        return Err(Error::Invalid("SMB2 header is truncated".into()));
    }
    let (Some(status), Some(command)) = (le32(msg, 8), le16(msg, 12)) else {
        return Err(Error::Invalid("SMB2 header is truncated".into()));
    };
    if command != 0 {
        return Err(Error::Invalid(format!(
            "SMB2 command {command:#06x}, expected NEGOTIATE"
        )));
    }
    // `msg.len() >= HEADER_LEN` was checked above.
    let body = &msg[HEADER_LEN..];
    if le16(body, 0) != Some(65) || body.len() < NEGOTIATE_RESPONSE_LEN {
        if status != 0 {
            return Ok(Reply::Smb2Error { status });
        }
        return Err(Error::Invalid(
            "NEGOTIATE response body is malformed".into(),
        ));
    }
    let field =
        |r: Option<u32>| r.ok_or_else(|| Error::Invalid("NEGOTIATE response is truncated".into()));
    let security_mode = le16(body, 2).unwrap_or(0);
    let dialect = le16(body, 4).unwrap_or(0);
    let context_count = usize::from(le16(body, 6).unwrap_or(0));
    let mut server_guid = [0u8; 16];
    if let Some(g) = body.get(8..24) {
        server_guid.copy_from_slice(g);
    }
    let capabilities = field(le32(body, 24))?;
    let max_transact_size = field(le32(body, 28))?;
    let max_read_size = field(le32(body, 32))?;
    let max_write_size = field(le32(body, 36))?;
    let system_time = le64(body, 40).unwrap_or(0);
    let server_start_time = le64(body, 48).unwrap_or(0);
    let sec_offset = usize::from(le16(body, 56).unwrap_or(0));
    let sec_len = usize::from(le16(body, 58).unwrap_or(0));
    let ctx_offset = le32(body, 60).unwrap_or(0) as usize;
    let security_buffer = if sec_len == 0 {
        Vec::new()
    } else {
        msg.get(sec_offset..sec_offset.saturating_add(sec_len))
            .ok_or_else(|| Error::Invalid("security buffer lies outside the message".into()))?
            .to_vec()
    };
    let mut contexts = Vec::new();
    if dialect == 0x0311 && context_count > 0 {
        let mut at = ctx_offset;
        for i in 0..context_count.min(MAX_CONTEXTS) {
            if i > 0 {
                at = at.div_ceil(8).saturating_mul(8);
            }
            // `at` comes from the peer's 32-bit NegotiateContextOffset: saturate, so an
            // offset near the top of a 32-bit `usize` is "outside", not an overflow.
            let (Some(context_type), Some(data_len)) =
                (le16(msg, at), le16(msg, at.saturating_add(2)))
            else {
                return Err(Error::Invalid(
                    "negotiate context lies outside the message".into(),
                ));
            };
            let start = at.saturating_add(8);
            let end = start.saturating_add(usize::from(data_len));
            let Some(data) = msg.get(start..end) else {
                return Err(Error::Invalid(
                    "negotiate context data lies outside the message".into(),
                ));
            };
            contexts.push(NegotiateContext {
                context_type,
                data: data.to_vec(),
            });
            at = end;
        }
    }
    Ok(Reply::Smb2(NegotiateResponse {
        status,
        dialect,
        security_mode,
        server_guid,
        capabilities,
        max_transact_size,
        max_read_size,
        max_write_size,
        system_time,
        server_start_time,
        security_buffer,
        contexts,
    }))
}

/// The usual name of a dialect revision (`"3.1.1"`), or its hex value.
pub fn dialect_name(dialect: u16) -> String {
    match dialect {
        0x0202 => "2.0.2".to_owned(),
        0x0210 => "2.1".to_owned(),
        0x0300 => "3.0".to_owned(),
        0x0302 => "3.0.2".to_owned(),
        0x0311 => "3.1.1".to_owned(),
        0x02FF => "2.???".to_owned(),
        other => format!("{other:#06x}"),
    }
}

/// Converts a FILETIME (100 ns ticks since 1601) to Unix seconds; `None` for 0 (not set).
pub fn filetime_to_unix(filetime: u64) -> Option<i64> {
    if filetime == 0 {
        return None;
    }
    // u64::MAX / 10^7 fits in i64.
    i64::try_from(filetime / 10_000_000)
        .ok()
        .map(|s| s - FILETIME_UNIX_OFFSET)
}

/// Formats a little-endian GUID structure as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub fn guid_string(g: &[u8; 16]) -> String {
    format!(
        "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        u32::from_le_bytes([g[0], g[1], g[2], g[3]]),
        u16::from_le_bytes([g[4], g[5]]),
        u16::from_le_bytes([g[6], g[7]]),
        g[8],
        g[9],
        g[10],
        g[11],
        g[12],
        g[13],
        g[14],
        g[15]
    )
}

fn capability_names(caps: u32) -> Vec<Value> {
    let mut names: Vec<Value> = CAPABILITY_NAMES
        .iter()
        .filter(|(bit, _)| caps & bit != 0)
        .map(|(_, n)| Value::from(*n))
        .collect();
    let unknown = caps & !0xFF;
    if unknown != 0 {
        names.push(Value::from(format!("{unknown:#010x}")));
    }
    names
}

fn cipher_name(id: u16) -> String {
    match id {
        1 => "aes_128_ccm".to_owned(),
        2 => "aes_128_gcm".to_owned(),
        3 => "aes_256_ccm".to_owned(),
        4 => "aes_256_gcm".to_owned(),
        0 => "none".to_owned(),
        other => format!("{other:#06x}"),
    }
}

fn u16_list(data: &[u8], count_at: usize, list_at: usize, name: fn(u16) -> String) -> Vec<Value> {
    let count = usize::from(le16(data, count_at).unwrap_or(0)).min(64);
    (0..count)
        .filter_map(|i| le16(data, list_at + 2 * i))
        .map(|v| Value::from(name(v)))
        .collect()
}

/// Describes one negotiate context as JSON (`{"type": "encryption", "ciphers": [...]}`).
pub fn describe_context(ctx: &NegotiateContext) -> Value {
    let mut m = Map::new();
    let d = &ctx.data;
    let type_name = match ctx.context_type {
        0x0001 => {
            m.insert(
                "hash_algorithms".into(),
                Value::from(u16_list(d, 0, 4, |v| {
                    if v == 1 {
                        "sha512".to_owned()
                    } else {
                        format!("{v:#06x}")
                    }
                })),
            );
            "preauth_integrity"
        }
        0x0002 => {
            m.insert(
                "ciphers".into(),
                Value::from(u16_list(d, 0, 2, cipher_name)),
            );
            "encryption"
        }
        0x0003 => {
            m.insert(
                "algorithms".into(),
                Value::from(u16_list(d, 0, 8, |v| match v {
                    0 => "none".to_owned(),
                    1 => "lznt1".to_owned(),
                    2 => "lz77".to_owned(),
                    3 => "lz77_huffman".to_owned(),
                    4 => "pattern_v1".to_owned(),
                    5 => "lz4".to_owned(),
                    o => format!("{o:#06x}"),
                })),
            );
            "compression"
        }
        0x0005 => {
            let units: Vec<u16> = d
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            m.insert("name".into(), Value::from(String::from_utf16_lossy(&units)));
            "netname"
        }
        0x0006 => {
            m.insert("flags".into(), Value::from(le32(d, 0).unwrap_or(0)));
            "transport"
        }
        0x0007 => "rdma_transform",
        0x0008 => {
            m.insert(
                "algorithms".into(),
                Value::from(u16_list(d, 0, 2, |v| match v {
                    0 => "hmac_sha256".to_owned(),
                    1 => "aes_cmac".to_owned(),
                    2 => "aes_gmac".to_owned(),
                    o => format!("{o:#06x}"),
                })),
            );
            "signing"
        }
        _ => "",
    };
    let type_value = if type_name.is_empty() {
        format!("{:#06x}", ctx.context_type)
    } else {
        type_name.to_owned()
    };
    m.insert("type".into(), Value::from(type_value));
    Value::Object(m)
}

/// Reads a DER length at `at`; returns (length, header bytes used).
fn der_len(b: &[u8], at: usize) -> Option<(usize, usize)> {
    let first = *b.get(at)?;
    if first < 0x80 {
        return Some((usize::from(first), 1));
    }
    let n = usize::from(first & 0x7F);
    if n == 0 || n > 4 {
        return None;
    }
    let mut len = 0usize;
    for i in 0..n {
        len = (len << 8) | usize::from(*b.get(at + 1 + i)?);
    }
    Some((len, 1 + n))
}

fn oid_string(content: &[u8]) -> Option<String> {
    let (&first, rest) = content.split_first()?;
    let mut parts = vec![u64::from(first / 40).min(2), 0];
    parts[1] = u64::from(first) - parts[0] * 40;
    let mut acc = 0u64;
    for &b in rest {
        if acc > (u64::MAX >> 8) {
            return None;
        }
        acc = (acc << 7) | u64::from(b & 0x7F);
        if b & 0x80 == 0 {
            parts.push(acc);
            acc = 0;
        }
    }
    Some(
        parts
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join("."),
    )
}

fn collect_oids(b: &[u8], depth: usize, out: &mut Vec<String>) {
    let mut at = 0;
    while at < b.len() && out.len() < MAX_OIDS {
        let tag = b[at]; // at < b.len()
        if tag & 0x1F == 0x1F {
            return; // high tag numbers do not occur in SPNEGO
        }
        let Some((len, used)) = der_len(b, at + 1) else {
            return;
        };
        let start = at + 1 + used;
        let Some(content) = b.get(start..start.saturating_add(len)) else {
            return;
        };
        if tag == 0x06 {
            if let Some(oid) = oid_string(content) {
                out.push(oid);
            }
        } else if tag & 0x20 != 0 && depth < 8 {
            collect_oids(content, depth + 1, out);
        }
        at = start + len;
    }
}

/// The mechanisms a SPNEGO `NegTokenInit` offers, by name when known (`ntlmssp`, `kerberos`,
/// `ms_kerberos`, `kerberos_u2u`, `negoex`), else by dotted OID. The SPNEGO OID itself is
/// left out.
pub fn spnego_mechs(security_buffer: &[u8]) -> Vec<String> {
    let mut oids = Vec::new();
    collect_oids(security_buffer, 0, &mut oids);
    let mut mechs: Vec<String> = Vec::new();
    for oid in oids {
        let name = match oid.as_str() {
            "1.3.6.1.5.5.2" => continue,
            "1.3.6.1.4.1.311.2.2.10" => "ntlmssp".to_owned(),
            "1.2.840.113554.1.2.2" => "kerberos".to_owned(),
            "1.2.840.48018.1.2.2" => "ms_kerberos".to_owned(),
            "1.2.840.113554.1.2.2.3" => "kerberos_u2u".to_owned(),
            "1.3.6.1.4.1.311.2.2.30" => "negoex".to_owned(),
            _ => oid,
        };
        if !mechs.contains(&name) {
            mechs.push(name);
        }
    }
    mechs
}

/// What the probe reports for a reply.
pub fn identify(reply: &Reply) -> Identification {
    match reply {
        Reply::Smb1 { command, status } => {
            let mut id = Identification::service("smb")
                .with(facts::DIALECT, "SMB1")
                .with("smb1_command", *command)
                .with("status", format!("{status:#010x}"));
            id.note = Some("the server answered with SMB1".to_owned());
            id
        }
        Reply::Smb2Error { status } => {
            let mut id = Identification::service("smb").with("status", format!("{status:#010x}"));
            id.note = Some(format!("NEGOTIATE failed with status {status:#010x}"));
            id
        }
        Reply::Smb2(r) => {
            let contexts: Vec<Value> = r.contexts.iter().map(describe_context).collect();
            let mechs: Vec<Value> = spnego_mechs(&r.security_buffer)
                .into_iter()
                .map(Value::from)
                .collect();
            let mut id = Identification::service("smb")
                .with(facts::DIALECT, dialect_name(r.dialect))
                .with("signing_enabled", r.security_mode & SIGNING_ENABLED != 0)
                .with(
                    facts::SIGNING_REQUIRED,
                    r.security_mode & SIGNING_REQUIRED != 0,
                )
                .with("server_guid", guid_string(&r.server_guid))
                .with("capabilities", capability_names(r.capabilities))
                .with("max_transact_size", r.max_transact_size)
                .with("max_read_size", r.max_read_size)
                .with("max_write_size", r.max_write_size)
                .with("system_time_unix", filetime_to_unix(r.system_time))
                .with("negotiate_contexts", contexts)
                .with("spnego_mechs", mechs);
            if let Some(start) = filetime_to_unix(r.server_start_time) {
                id = id.with("server_start_time_unix", start);
            }
            if r.status != 0 {
                id.note = Some(format!("NEGOTIATE response with status {:#010x}", r.status));
            }
            id
        }
    }
}

/// The SMB2 NEGOTIATE probe (TCP 445).
#[derive(Debug, Clone)]
pub struct SmbNegotiate {
    client_guid: [u8; 16],
    salt: [u8; 32],
}

impl SmbNegotiate {
    /// A probe with the caller's client GUID and pre-authentication salt.
    pub fn new(client_guid: [u8; 16], salt: [u8; 32]) -> Self {
        SmbNegotiate { client_guid, salt }
    }
}

impl Exchange for SmbNegotiate {
    fn start(&mut self) -> Vec<u8> {
        build_negotiate(self.client_guid, self.salt)
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        match parse_reply(received) {
            Ok(reply) => Progress::Done(identify(&reply)),
            Err(Error::Incomplete) if received.len() < MAX_RESPONSE_LEN => Progress::NeedMore,
            Err(Error::Incomplete) => {
                Progress::Done(Identification::unrecognised("SMB reply too long"))
            }
            Err(Error::Invalid(why)) => Progress::Done(Identification::unrecognised(format!(
                "not an SMB NEGOTIATE reply: {why}"
            ))),
        }
    }

    fn max_len(&self) -> usize {
        MAX_RESPONSE_LEN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::testutil::hex;

    const GUID: [u8; 16] = [0x11; 16];
    const SALT: [u8; 32] = [0x22; 32];

    #[test]
    fn negotiate_request_bytes() {
        let expected = hex(&format!(
            "00 00 00 b2 \
             fe 53 4d 42  40 00  00 00  00 00 00 00  00 00  01 00  00 00 00 00  00 00 00 00 \
             00 00 00 00 00 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00 00 00 00 00 \
             00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 \
             24 00  05 00  01 00  00 00  7f 00 00 00 \
             {guid} \
             70 00 00 00  02 00  00 00 \
             02 02  10 02  00 03  02 03  11 03 \
             00 00 \
             01 00  26 00  00 00 00 00  01 00  20 00  01 00 {salt} \
             00 00 \
             02 00  0a 00  00 00 00 00  04 00  02 00 01 00 04 00 03 00",
            guid = "11 ".repeat(16),
            salt = "22 ".repeat(32),
        ));
        let got = SmbNegotiate::new(GUID, SALT).start();
        assert_eq!(got.len(), 4 + 178);
        assert_eq!(got, expected);
    }

    /// A SPNEGO NegTokenInit2 hint offering MS Kerberos, Kerberos, NEGOEX and NTLMSSP.
    fn spnego_hint() -> Vec<u8> {
        let mech_list = hex("30 2e \
             06 09 2a 86 48 82 f7 12 01 02 02 \
             06 09 2a 86 48 86 f7 12 01 02 02 \
             06 0a 2b 06 01 04 01 82 37 02 02 1e \
             06 0a 2b 06 01 04 01 82 37 02 02 0a");
        let mut a0 = vec![0xa0, mech_list.len() as u8];
        a0.extend_from_slice(&mech_list);
        let mut seq = vec![0x30, a0.len() as u8];
        seq.extend_from_slice(&a0);
        let mut init = vec![0xa0, seq.len() as u8];
        init.extend_from_slice(&seq);
        let mut inner = hex("06 06 2b 06 01 05 05 02");
        inner.extend_from_slice(&init);
        let mut token = vec![0x60, inner.len() as u8];
        token.extend_from_slice(&inner);
        token
    }

    /// An SMB 3.1.1 NEGOTIATE response with the security buffer and three contexts.
    fn smb311_response() -> Vec<u8> {
        let mut m = hex(
            "fe 53 4d 42 40 00 01 00 00 00 00 00 00 00 01 00 01 00 00 00 00 00 00 00 \
             00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 \
             00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
        );
        let sec = spnego_hint();
        // Body: StructureSize 65, SecurityMode 3 (enabled+required), dialect 0x0311,
        // 3 contexts, GUID, caps 0x2f, max sizes 8 MiB, SystemTime, start time 0,
        // security buffer at 128, context list offset patched below.
        m.extend_from_slice(&hex("41 00 03 00 11 03 03 00"));
        m.extend_from_slice(&hex("78 56 34 12 34 12 78 56 9a bc de f0 12 34 56 78"));
        m.extend_from_slice(&hex("2f 00 00 00 00 00 80 00 00 00 80 00 00 00 80 00"));
        // SystemTime 2024-01-01T00:00:00Z = (1704067200 + 11644473600) * 10^7.
        m.extend_from_slice(&133_485_408_000_000_000u64.to_le_bytes());
        m.extend_from_slice(&0u64.to_le_bytes());
        m.extend_from_slice(&128u16.to_le_bytes());
        m.extend_from_slice(&(sec.len() as u16).to_le_bytes());
        let ctx_off_at = m.len();
        m.extend_from_slice(&0u32.to_le_bytes());
        assert_eq!(m.len(), 128);
        m.extend_from_slice(&sec);
        pad8(&mut m);
        let ctx_off = m.len() as u32;
        m[ctx_off_at..ctx_off_at + 4].copy_from_slice(&ctx_off.to_le_bytes());
        // Preauth: 1 hash (SHA-512), 32-byte salt.
        let mut pre = hex("01 00 20 00 01 00");
        pre.extend_from_slice(&[0x33; 32]);
        push_context(&mut m, 1, &pre);
        pad8(&mut m);
        // Encryption: AES-128-GCM chosen.
        push_context(&mut m, 2, &hex("01 00 02 00"));
        pad8(&mut m);
        // Signing: AES-GMAC.
        push_context(&mut m, 8, &hex("01 00 02 00"));
        let mut framed = vec![0];
        framed.extend_from_slice(&(m.len() as u32).to_be_bytes()[1..]);
        framed.extend_from_slice(&m);
        framed
    }

    #[test]
    fn a_context_offset_at_the_top_of_u32_is_outside_not_an_overflow() {
        // Regression: `at + 2` and `at + 8` on the peer's 32-bit NegotiateContextOffset
        // overflowed (a panic in debug builds) where `usize` is 32 bits wide.
        let mut bytes = smb311_response();
        // Transport header (4) + SMB2 header (64) + NegotiateContextOffset at body 60.
        bytes[4 + 64 + 60..4 + 64 + 64].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(parse_reply(&bytes), Err(Error::Invalid(_))));
        let mut near_top = smb311_response();
        near_top[4 + 64 + 60..4 + 64 + 64].copy_from_slice(&(u32::MAX - 1).to_le_bytes());
        assert!(matches!(parse_reply(&near_top), Err(Error::Invalid(_))));
    }

    #[test]
    fn parse_smb311_response() {
        let bytes = smb311_response();
        let Ok(Reply::Smb2(r)) = parse_reply(&bytes) else {
            panic!("{:?}", parse_reply(&bytes))
        };
        assert_eq!(r.dialect, 0x0311);
        assert_eq!(r.contexts.len(), 3);
        let Progress::Done(id) = SmbNegotiate::new(GUID, SALT).on_bytes(&bytes) else {
            panic!()
        };
        assert_eq!(id.service, Some("smb"));
        assert_eq!(id.detail["dialect"], "3.1.1");
        assert_eq!(id.detail["signing_enabled"], true);
        assert_eq!(id.detail["signing_required"], true);
        // The contract with lint: the facts read back typed.
        let facts = rdsports_schema::check::Facts::read(&id.detail).unwrap();
        assert_eq!(facts.dialect.as_deref(), Some("3.1.1"));
        assert_eq!(facts.signing_required, Some(true));
        assert_eq!(
            id.detail["server_guid"],
            "12345678-1234-5678-9abc-def012345678"
        );
        assert_eq!(id.detail["system_time_unix"], 1_704_067_200);
        assert_eq!(id.detail["max_read_size"], 8 * 1024 * 1024);
        assert_eq!(
            id.detail["capabilities"],
            serde_json::json!([
                "dfs",
                "leasing",
                "large_mtu",
                "multi_channel",
                "directory_leasing"
            ])
        );
        assert_eq!(
            id.detail["negotiate_contexts"],
            serde_json::json!([
                {"type": "preauth_integrity", "hash_algorithms": ["sha512"]},
                {"type": "encryption", "ciphers": ["aes_128_gcm"]},
                {"type": "signing", "algorithms": ["aes_gmac"]}
            ])
        );
        assert_eq!(
            id.detail["spnego_mechs"],
            serde_json::json!(["ms_kerberos", "kerberos", "negoex", "ntlmssp"])
        );
        assert_eq!(id.note, None);
    }

    #[test]
    fn parse_smb210_response_without_contexts() {
        let mut m = vec![0u8; 64];
        m[..4].copy_from_slice(&SMB2_MAGIC);
        m[4] = 64;
        let mut body = hex("41 00 01 00 10 02 00 00");
        body.extend_from_slice(&[0; 16]);
        body.extend_from_slice(&hex("01 00 00 00 00 00 01 00 00 00 01 00 00 00 01 00"));
        body.extend_from_slice(&[0; 16]); // times zero
        body.extend_from_slice(&[0; 8]); // no security buffer, no contexts
        m.extend_from_slice(&body);
        let mut framed = vec![0, 0, 0, m.len() as u8];
        framed.extend_from_slice(&m);
        let Progress::Done(id) = SmbNegotiate::new(GUID, SALT).on_bytes(&framed) else {
            panic!()
        };
        assert_eq!(id.detail["dialect"], "2.1");
        assert_eq!(id.detail["signing_required"], false);
        assert_eq!(id.detail["system_time_unix"], Value::Null);
        assert_eq!(id.detail["negotiate_contexts"], serde_json::json!([]));
    }

    #[test]
    fn smb1_reply() {
        // Direct TCP header, then an SMB1 NEGOTIATE (0x72) reply header, status 0.
        let mut m = hex("ff 53 4d 42 72 00 00 00 00 98 01 c8");
        m.resize(35, 0);
        let mut framed = vec![0, 0, 0, m.len() as u8];
        framed.extend_from_slice(&m);
        assert_eq!(
            parse_reply(&framed),
            Ok(Reply::Smb1 {
                command: 0x72,
                status: 0
            })
        );
        let Progress::Done(id) = SmbNegotiate::new(GUID, SALT).on_bytes(&framed) else {
            panic!()
        };
        assert_eq!(id.service, Some("smb"));
        assert_eq!(id.detail["dialect"], "SMB1");
    }

    #[test]
    fn smb2_error_reply() {
        // Header with STATUS_NOT_SUPPORTED (0xc00000bb) and a 9-byte error body.
        let mut m = vec![0u8; 64];
        m[..4].copy_from_slice(&SMB2_MAGIC);
        m[4] = 64;
        m[8..12].copy_from_slice(&0xc000_00bbu32.to_le_bytes());
        m.extend_from_slice(&hex("09 00 00 00 00 00 00 00 00"));
        let mut framed = vec![0, 0, 0, m.len() as u8];
        framed.extend_from_slice(&m);
        let Progress::Done(id) = SmbNegotiate::new(GUID, SALT).on_bytes(&framed) else {
            panic!()
        };
        assert_eq!(id.service, Some("smb"));
        assert!(id.note.unwrap().contains("0xc00000bb"));
    }

    #[test]
    fn not_smb() {
        for bytes in [
            &b"HTTP/1.1 400 Bad Request\r\n"[..],
            &hex("00 00 00 08 de ad be ef 00 00 00 00")[..],
        ] {
            let Progress::Done(id) = SmbNegotiate::new(GUID, SALT).on_bytes(bytes) else {
                panic!()
            };
            assert_eq!(id.service, None);
        }
        // A huge declared length is refused at once.
        assert!(matches!(
            parse_reply(&hex("00 ff ff ff fe 53")),
            Err(Error::Invalid(_))
        ));
    }

    #[test]
    fn every_truncation_needs_more() {
        let bytes = smb311_response();
        for n in 0..bytes.len() {
            assert_eq!(
                SmbNegotiate::new(GUID, SALT).on_bytes(&bytes[..n]),
                Progress::NeedMore,
                "prefix {n}"
            );
        }
    }

    #[test]
    fn bad_offsets_are_errors() {
        let mut bytes = smb311_response();
        // Security buffer offset far past the end.
        bytes[4 + 64 + 56] = 0xff;
        bytes[4 + 64 + 57] = 0xff;
        assert!(matches!(parse_reply(&bytes), Err(Error::Invalid(_))));
    }

    #[test]
    fn filetime_conversion() {
        assert_eq!(filetime_to_unix(116_444_736_000_000_000), Some(0));
        assert_eq!(filetime_to_unix(0), None);
        assert!(filetime_to_unix(u64::MAX).is_some());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_reply(&bytes);
            let _ = spnego_mechs(&bytes);
            let _ = SmbNegotiate::new(GUID, SALT).on_bytes(&bytes);
        }

        #[test]
        fn mutated_response_never_panics(pos in 0usize..400, val in any::<u8>()) {
            let mut bytes = smb311_response();
            let i = pos % bytes.len();
            bytes[i] = val;
            if let Ok(Reply::Smb2(r)) = parse_reply(&bytes) {
                let _ = identify(&Reply::Smb2(r));
            }
        }
    }
}
