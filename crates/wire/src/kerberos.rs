//! Kerberos (RFC 4120) AS-REQ probe and KRB-ERROR / AS-REP parser for UDP and TCP 88.
//!
//! [`build_as_req`] writes an AS-REQ without pre-authentication for a client principal that
//! should not exist ([`PROBE_PRINCIPAL`]) in the realm the caller names, for the service
//! `krbtgt/REALM`, with a caller-chosen nonce, `till` fixed at 2037-09-13 02:48:05 UTC and the
//! encryption types 18, 17 and 23 (AES256, AES128, RC4). Over UDP the message is sent bare;
//! over TCP it carries the four-byte big-endian length prefix of RFC 4120 section 7.2.2.
//!
//! A KDC answers with a KRB-ERROR: usually `KDC_ERR_C_PRINCIPAL_UNKNOWN` (6) or
//! `KDC_ERR_PREAUTH_REQUIRED` (25), `KDC_ERR_WRONG_REALM` (68) for a realm it does not serve.
//! Any KRB-ERROR proves a KDC. [`parse_reply`] reads its error code (named as in RFC 4120
//! section 7.5.9), realms, server name, e-text, the server time `stime`/`susec` as Unix
//! seconds (so the caller can compute the clock skew with [`clock_skew`] against its own
//! clock: Kerberos fails beyond [`MAX_CLOCK_SKEW_SECS`] by default), and, when the e-data is
//! a METHOD-DATA, the pre-authentication types and ETYPE-INFO2 encryption types offered.
//! An AS-REP means the probe principal exists and does not require pre-authentication; it
//! is decoded (realm, name, encryption type) but never decrypted.
//!
//! The probe can leave an event in the KDC's security log (a failed logon for an unknown
//! user). This module does not do pre-authentication, TGS exchanges, FAST, PKINIT or any
//! cryptography.

use serde_json::Value;
use thiserror::Error;

use crate::ber::{self, BerError, Reader, Tag};
use crate::{Exchange, Identification, Progress};

/// The client principal the probe asks a ticket for; it should not exist.
pub const PROBE_PRINCIPAL: &str = "rdsports-probe";

/// The `till` time of the request: a fixed far-future KerberosTime.
pub const TILL: &str = "20370913024805Z";

/// The encryption types offered, in order of preference: aes256-cts-hmac-sha1-96 (18),
/// aes128-cts-hmac-sha1-96 (17), rc4-hmac (23).
pub const ETYPES: [i64; 3] = [18, 17, 23];

/// KDC options: forwardable, renewable, canonicalize (RFC 6806), renewable-ok, as a BIT
/// STRING of 32 bits (bit 0 is the most significant bit of the first byte).
pub const KDC_OPTIONS: [u8; 4] = [0x40, 0x81, 0x00, 0x10];

/// The largest clock difference Kerberos tolerates by default (RFC 4120 section 1.6 and
/// the Windows default "maximum tolerance for computer clock synchronization"): 5 minutes.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// How many characters of a realm, name or e-text are reported.
const MAX_TEXT: usize = 256;

/// How many entries of a METHOD-DATA or ETYPE-INFO2 are kept.
const MAX_ENTRIES: usize = 32;

/// Why bytes are not a Kerberos reply.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KerberosError {
    /// The BER structure is malformed or truncated.
    #[error("malformed Kerberos message: {0}")]
    Ber(#[from] BerError),
    /// The first byte is neither KRB-ERROR (`7e`) nor AS-REP (`6b`).
    #[error("not a KRB-ERROR or AS-REP (first byte {0:#04x})")]
    NotKerberos(u8),
    /// An empty reply.
    #[error("empty Kerberos reply")]
    Empty,
    /// pvno is not 5.
    #[error("Kerberos protocol version {0} is not 5")]
    BadVersion(i64),
    /// msg-type does not match the application tag.
    #[error("Kerberos message type {0} does not match its tag")]
    BadMessageType(i64),
    /// A TCP length prefix with the reserved high bit set (RFC 4120 section 7.2.2).
    #[error("TCP length prefix with the reserved high bit set")]
    ReservedLengthBit,
}

/// A reply to the AS-REQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KdcReply {
    /// A KRB-ERROR.
    Error(KrbError),
    /// An AS-REP.
    AsRep(AsRep),
}

/// A KRB-ERROR (RFC 4120 section 5.9.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KrbError {
    /// error-code.
    pub error_code: i64,
    /// stime as Unix seconds, when it is a valid KerberosTime.
    pub server_time: Option<i64>,
    /// susec.
    pub server_usec: Option<i64>,
    /// crealm (for KDC_ERR_WRONG_REALM, the realm the client is referred to).
    pub crealm: Option<String>,
    /// cname components.
    pub cname: Vec<String>,
    /// realm: the server's realm.
    pub realm: Option<String>,
    /// sname components.
    pub sname: Vec<String>,
    /// e-text.
    pub e_text: Option<String>,
    /// The padata-types of a METHOD-DATA in e-data (PREAUTH_REQUIRED lists the methods).
    pub padata_types: Vec<i64>,
    /// The etypes of an ETYPE-INFO2 inside that METHOD-DATA.
    pub preauth_etypes: Vec<i64>,
}

/// An AS-REP (RFC 4120 section 5.4.2), without its encrypted parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsRep {
    /// crealm.
    pub crealm: String,
    /// cname components.
    pub cname: Vec<String>,
    /// The etype of enc-part.
    pub enc_etype: i64,
}

/// The RFC 4120 section 7.5.9 name of a Kerberos error code.
pub fn error_name(code: i64) -> Option<&'static str> {
    Some(match code {
        0 => "KDC_ERR_NONE",
        1 => "KDC_ERR_NAME_EXP",
        2 => "KDC_ERR_SERVICE_EXP",
        3 => "KDC_ERR_BAD_PVNO",
        4 => "KDC_ERR_C_OLD_MAST_KVNO",
        5 => "KDC_ERR_S_OLD_MAST_KVNO",
        6 => "KDC_ERR_C_PRINCIPAL_UNKNOWN",
        7 => "KDC_ERR_S_PRINCIPAL_UNKNOWN",
        8 => "KDC_ERR_PRINCIPAL_NOT_UNIQUE",
        9 => "KDC_ERR_NULL_KEY",
        10 => "KDC_ERR_CANNOT_POSTDATE",
        11 => "KDC_ERR_NEVER_VALID",
        12 => "KDC_ERR_POLICY",
        13 => "KDC_ERR_BADOPTION",
        14 => "KDC_ERR_ETYPE_NOSUPP",
        15 => "KDC_ERR_SUMTYPE_NOSUPP",
        16 => "KDC_ERR_PADATA_TYPE_NOSUPP",
        17 => "KDC_ERR_TRTYPE_NOSUPP",
        18 => "KDC_ERR_CLIENT_REVOKED",
        19 => "KDC_ERR_SERVICE_REVOKED",
        20 => "KDC_ERR_TGT_REVOKED",
        21 => "KDC_ERR_CLIENT_NOTYET",
        22 => "KDC_ERR_SERVICE_NOTYET",
        23 => "KDC_ERR_KEY_EXPIRED",
        24 => "KDC_ERR_PREAUTH_FAILED",
        25 => "KDC_ERR_PREAUTH_REQUIRED",
        26 => "KDC_ERR_SERVER_NOMATCH",
        27 => "KDC_ERR_MUST_USE_USER2USER",
        28 => "KDC_ERR_PATH_NOT_ACCEPTED",
        29 => "KDC_ERR_SVC_UNAVAILABLE",
        31 => "KRB_AP_ERR_BAD_INTEGRITY",
        32 => "KRB_AP_ERR_TKT_EXPIRED",
        33 => "KRB_AP_ERR_TKT_NYV",
        34 => "KRB_AP_ERR_REPEAT",
        35 => "KRB_AP_ERR_NOT_US",
        36 => "KRB_AP_ERR_BADMATCH",
        37 => "KRB_AP_ERR_SKEW",
        38 => "KRB_AP_ERR_BADADDR",
        39 => "KRB_AP_ERR_BADVERSION",
        40 => "KRB_AP_ERR_MSG_TYPE",
        41 => "KRB_AP_ERR_MODIFIED",
        42 => "KRB_AP_ERR_BADORDER",
        44 => "KRB_AP_ERR_BADKEYVER",
        45 => "KRB_AP_ERR_NOKEY",
        46 => "KRB_AP_ERR_MUT_FAIL",
        47 => "KRB_AP_ERR_BADDIRECTION",
        48 => "KRB_AP_ERR_METHOD",
        49 => "KRB_AP_ERR_BADSEQ",
        50 => "KRB_AP_ERR_INAPP_CKSUM",
        51 => "KRB_AP_PATH_NOT_ACCEPTED",
        52 => "KRB_ERR_RESPONSE_TOO_BIG",
        60 => "KRB_ERR_GENERIC",
        61 => "KRB_ERR_FIELD_TOOLONG",
        62 => "KDC_ERR_CLIENT_NOT_TRUSTED",
        63 => "KDC_ERR_KDC_NOT_TRUSTED",
        64 => "KDC_ERR_INVALID_SIG",
        65 => "KDC_ERR_KEY_TOO_WEAK",
        66 => "KDC_ERR_CERTIFICATE_MISMATCH",
        67 => "KRB_AP_ERR_NO_TGT",
        68 => "KDC_ERR_WRONG_REALM",
        69 => "KRB_AP_ERR_USER_TO_USER_REQUIRED",
        70 => "KDC_ERR_CANT_VERIFY_CERTIFICATE",
        71 => "KDC_ERR_INVALID_CERTIFICATE",
        72 => "KDC_ERR_REVOKED_CERTIFICATE",
        73 => "KDC_ERR_REVOCATION_STATUS_UNKNOWN",
        74 => "KDC_ERR_REVOCATION_STATUS_UNAVAILABLE",
        75 => "KDC_ERR_CLIENT_NAME_MISMATCH",
        76 => "KDC_ERR_KDC_NAME_MISMATCH",
        _ => return None,
    })
}

/// The name of an encryption type number (RFC 3961, 3962, 4757, 8009).
pub fn etype_name(etype: i64) -> Option<&'static str> {
    Some(match etype {
        1 => "des-cbc-crc",
        3 => "des-cbc-md5",
        17 => "aes128-cts-hmac-sha1-96",
        18 => "aes256-cts-hmac-sha1-96",
        19 => "aes128-cts-hmac-sha256-128",
        20 => "aes256-cts-hmac-sha384-192",
        23 => "rc4-hmac",
        24 => "rc4-hmac-exp",
        _ => return None,
    })
}

/// The clock skew in seconds between a server time and the caller's clock: positive when
/// the server is ahead. Compare its absolute value with [`MAX_CLOCK_SKEW_SECS`].
pub fn clock_skew(server_unix: i64, now_unix: i64) -> i64 {
    server_unix.saturating_sub(now_unix)
}

/// Builds the AS-REQ (RFC 4120 section 5.4.1) for `client` in `realm`, without padata.
/// The realm is sent as given: pass it as the KDC knows it (for Active Directory, the DNS
/// domain in upper case); a realm the KDC does not serve draws `KDC_ERR_WRONG_REALM` or a
/// similar KRB-ERROR, which still proves a KDC.
pub fn build_as_req(realm: &str, client: &str, nonce: u32) -> Vec<u8> {
    // PrincipalName ::= SEQUENCE { name-type [0] Int32, name-string [1] SEQUENCE OF KerberosString }
    let principal = |name_type: i64, parts: &[&str]| -> Vec<u8> {
        let strings: Vec<Vec<u8>> = parts.iter().map(|part| ber::general_string(part)).collect();
        let string_parts: Vec<&[u8]> = strings.iter().map(Vec::as_slice).collect();
        ber::sequence(&[
            &ber::explicit(0, &ber::integer(name_type)),
            &ber::explicit(1, &ber::sequence(&string_parts)),
        ])
    };
    let etypes: Vec<Vec<u8>> = ETYPES.iter().map(|&etype| ber::integer(etype)).collect();
    let etype_parts: Vec<&[u8]> = etypes.iter().map(Vec::as_slice).collect();
    let body = ber::sequence(&[
        &ber::explicit(0, &ber::bit_string(&KDC_OPTIONS)),
        // NT-PRINCIPAL (1)
        &ber::explicit(1, &principal(1, &[client])),
        &ber::explicit(2, &ber::general_string(realm)),
        // NT-SRV-INST (2): krbtgt/REALM
        &ber::explicit(3, &principal(2, &["krbtgt", realm])),
        &ber::explicit(5, &ber::generalized_time(TILL)),
        &ber::explicit(7, &ber::integer(i64::from(nonce))),
        &ber::explicit(8, &ber::sequence(&etype_parts)),
    ]);
    let request = ber::sequence(&[
        &ber::explicit(1, &ber::integer(5)),  // pvno
        &ber::explicit(2, &ber::integer(10)), // msg-type KRB_AS_REQ
        &ber::explicit(4, &body),
    ]);
    ber::tlv(Tag::application_constructed(10), &request)
}

/// Prefixes a message with the four-byte big-endian length used over TCP.
pub fn frame_tcp(message: &[u8]) -> Vec<u8> {
    // Our messages are a few hundred bytes; the length always fits in 31 bits.
    let len = u32::try_from(message.len()).unwrap_or(u32::MAX) & 0x7fff_ffff;
    let mut out = Vec::with_capacity(message.len() + 4);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(message);
    out
}

/// The declared length of a TCP reply, once its four-byte prefix has arrived.
pub fn tcp_reply_len(buffer: &[u8]) -> Result<Option<usize>, KerberosError> {
    let Some(prefix) = buffer.first_chunk::<4>() else {
        return Ok(None);
    };
    let len = u32::from_be_bytes(*prefix);
    if len & 0x8000_0000 != 0 {
        return Err(KerberosError::ReservedLengthBit);
    }
    // 31 bits fit in usize on every platform this crate supports (32 and 64 bits).
    Ok(Some(len as usize))
}

/// Reads a TCP reply: `Ok(None)` until the prefix and the whole message arrived.
pub fn parse_tcp_reply(buffer: &[u8]) -> Result<Option<KdcReply>, KerberosError> {
    let Some(len) = tcp_reply_len(buffer)? else {
        return Ok(None);
    };
    match buffer.get(4..).and_then(|rest| rest.get(..len)) {
        Some(message) => parse_reply(message).map(Some),
        None => Ok(None),
    }
}

/// Parses one KRB-ERROR or AS-REP (a UDP datagram, or a TCP message without its prefix).
pub fn parse_reply(message: &[u8]) -> Result<KdcReply, KerberosError> {
    let first = *message.first().ok_or(KerberosError::Empty)?;
    let mut top = Reader::new(message);
    match first {
        0x7e => {
            let body = top.read_constructed(Tag::application_constructed(30))?;
            parse_krb_error(body).map(KdcReply::Error)
        }
        0x6b => {
            let body = top.read_constructed(Tag::application_constructed(11))?;
            parse_as_rep(body).map(KdcReply::AsRep)
        }
        other => Err(KerberosError::NotKerberos(other)),
    }
}

fn parse_krb_error(mut body: Reader<'_>) -> Result<KrbError, KerberosError> {
    let mut fields = body.read_constructed(Tag::SEQUENCE)?;
    let pvno = fields.read_explicit(0)?.read_integer()?;
    if pvno != 5 {
        return Err(KerberosError::BadVersion(pvno));
    }
    let msg_type = fields.read_explicit(1)?.read_integer()?;
    if msg_type != 30 {
        return Err(KerberosError::BadMessageType(msg_type));
    }
    // ctime [2], cusec [3]: the client's, echoed; not needed.
    fields.read_optional_explicit(2)?;
    fields.read_optional_explicit(3)?;
    let server_time = match fields.read_optional_explicit(4)? {
        Some(mut time) => ber::parse_generalized_time(time.read_expected(Tag::GENERALIZED_TIME)?),
        None => None,
    };
    let server_usec = match fields.read_optional_explicit(5)? {
        Some(mut usec) => Some(usec.read_integer()?),
        None => None,
    };
    let error_code = fields.read_explicit(6)?.read_integer()?;
    let crealm = optional_string(&mut fields, 7)?;
    let cname = optional_principal(&mut fields, 8)?;
    let realm = optional_string(&mut fields, 9)?;
    let sname = optional_principal(&mut fields, 10)?;
    let e_text = optional_string(&mut fields, 11)?;
    let mut padata_types = Vec::new();
    let mut preauth_etypes = Vec::new();
    if let Some(mut e_data) = fields.read_optional_explicit(12)? {
        let bytes = e_data.read_octet_string()?;
        // e-data is a METHOD-DATA for PREAUTH_REQUIRED, something else for other errors:
        // decode it when it is one and ignore it otherwise.
        if let Ok((types, etypes)) = parse_method_data(&e_data, bytes) {
            padata_types = types;
            preauth_etypes = etypes;
        }
    }
    Ok(KrbError {
        error_code,
        server_time,
        server_usec,
        crealm,
        cname,
        realm,
        sname,
        e_text,
        padata_types,
        preauth_etypes,
    })
}

/// METHOD-DATA ::= SEQUENCE OF PA-DATA; PA-DATA ::= SEQUENCE { padata-type [1] Int32,
/// padata-value [2] OCTET STRING }. Returns the padata types and, from a PA-ETYPE-INFO2
/// (19), the etypes.
fn parse_method_data(
    parent: &Reader<'_>,
    bytes: &[u8],
) -> Result<(Vec<i64>, Vec<i64>), KerberosError> {
    let mut outer = parent.nested(bytes)?;
    let mut list = outer.read_constructed(Tag::SEQUENCE)?;
    let mut types = Vec::new();
    let mut etypes = Vec::new();
    while !list.is_empty() {
        let mut pa_data = list.read_constructed(Tag::SEQUENCE)?;
        let padata_type = pa_data.read_explicit(1)?.read_integer()?;
        let value = pa_data.read_explicit(2)?.read_octet_string()?;
        if types.len() < MAX_ENTRIES {
            types.push(padata_type);
        }
        if padata_type == 19 {
            // ETYPE-INFO2 ::= SEQUENCE OF SEQUENCE { etype [0] Int32, salt [1] OPTIONAL,
            // s2kparams [2] OPTIONAL }
            let mut info = pa_data.nested(value)?;
            let mut entries = info.read_constructed(Tag::SEQUENCE)?;
            while !entries.is_empty() {
                let mut entry = entries.read_constructed(Tag::SEQUENCE)?;
                let etype = entry.read_explicit(0)?.read_integer()?;
                if etypes.len() < MAX_ENTRIES {
                    etypes.push(etype);
                }
            }
        }
    }
    Ok((types, etypes))
}

fn parse_as_rep(mut body: Reader<'_>) -> Result<AsRep, KerberosError> {
    let mut fields = body.read_constructed(Tag::SEQUENCE)?;
    let pvno = fields.read_explicit(0)?.read_integer()?;
    if pvno != 5 {
        return Err(KerberosError::BadVersion(pvno));
    }
    let msg_type = fields.read_explicit(1)?.read_integer()?;
    if msg_type != 11 {
        return Err(KerberosError::BadMessageType(msg_type));
    }
    fields.read_optional_explicit(2)?; // padata
    let crealm = optional_string(&mut fields, 3)?.unwrap_or_default();
    let cname = optional_principal(&mut fields, 4)?;
    fields.read_explicit(5)?; // ticket
    let mut enc_part = fields.read_explicit(6)?.read_constructed(Tag::SEQUENCE)?;
    let enc_etype = enc_part.read_explicit(0)?.read_integer()?;
    Ok(AsRep {
        crealm,
        cname,
        enc_etype,
    })
}

fn optional_string(fields: &mut Reader<'_>, number: u32) -> Result<Option<String>, KerberosError> {
    match fields.read_optional_explicit(number)? {
        Some(mut inner) => Ok(Some(text(inner.read_expected(Tag::GENERAL_STRING)?))),
        None => Ok(None),
    }
}

fn optional_principal(fields: &mut Reader<'_>, number: u32) -> Result<Vec<String>, KerberosError> {
    let Some(mut inner) = fields.read_optional_explicit(number)? else {
        return Ok(Vec::new());
    };
    let mut name = inner.read_constructed(Tag::SEQUENCE)?;
    name.read_explicit(0)?.read_integer()?;
    let mut strings = name.read_explicit(1)?.read_constructed(Tag::SEQUENCE)?;
    let mut parts = Vec::new();
    while !strings.is_empty() {
        let part = text(strings.read_expected(Tag::GENERAL_STRING)?);
        if parts.len() < MAX_ENTRIES {
            parts.push(part);
        }
    }
    Ok(parts)
}

fn text(bytes: &[u8]) -> String {
    let mut text = String::from_utf8_lossy(bytes).into_owned();
    if let Some((index, _)) = text.char_indices().nth(MAX_TEXT) {
        text.truncate(index);
    }
    text
}

/// What a reply tells about the server: service `kerberos` with its error or AS-REP facts.
pub fn identify(reply: &KdcReply) -> Identification {
    match reply {
        KdcReply::Error(error) => {
            let name = error_name(error.error_code).unwrap_or("unknown");
            let mut identification = Identification::service("kerberos")
                .with("error_code", error.error_code)
                .with("error_name", name);
            if let Some(realm) = &error.realm {
                identification = identification.with("realm", realm.clone());
            }
            if !error.sname.is_empty() {
                identification = identification.with("sname", error.sname.join("/"));
            }
            if let Some(crealm) = &error.crealm {
                identification = identification.with("crealm", crealm.clone());
            }
            if let Some(time) = error.server_time {
                identification = identification.with("server_time_unix", time);
            }
            if let Some(usec) = error.server_usec {
                identification = identification.with("server_usec", usec);
            }
            if let Some(e_text) = &error.e_text {
                identification = identification.with("e_text", e_text.clone());
            }
            if !error.padata_types.is_empty() {
                identification = identification.with("padata_types", error.padata_types.clone());
            }
            if !error.preauth_etypes.is_empty() {
                let names: Vec<Value> = error
                    .preauth_etypes
                    .iter()
                    .map(|&etype| match etype_name(etype) {
                        Some(name) => Value::from(name),
                        None => Value::from(etype),
                    })
                    .collect();
                identification = identification.with("preauth_etypes", names);
            }
            identification.note = match error.error_code {
                6 | 25 => None,
                52 => Some("KRB_ERR_RESPONSE_TOO_BIG: retry over TCP".to_owned()),
                68 => Some(match &error.crealm {
                    Some(crealm) => format!(
                        "KDC_ERR_WRONG_REALM: this KDC does not serve the requested realm \
                         (it refers the client to {crealm})"
                    ),
                    None => "KDC_ERR_WRONG_REALM: this KDC does not serve the requested realm"
                        .to_owned(),
                }),
                code => Some(format!("the KDC answered {name} ({code})")),
            };
            identification
        }
        KdcReply::AsRep(rep) => {
            let etype = etype_name(rep.enc_etype).map_or(Value::from(rep.enc_etype), Value::from);
            let mut identification = Identification::service("kerberos")
                .with("as_rep", true)
                .with("crealm", rep.crealm.clone())
                .with("cname", rep.cname.join("/"))
                .with("enc_etype", etype);
            identification.note = Some(format!(
                "the KDC issued an AS-REP without pre-authentication for {}@{}: that account \
                 does not require Kerberos pre-authentication",
                rep.cname.join("/"),
                rep.crealm
            ));
            identification
        }
    }
}

/// Which transport a [`KerberosAsReq`] runs over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Tcp,
    Udp,
}

/// The `kerberos` probe: an AS-REQ for [`PROBE_PRINCIPAL`] without pre-authentication.
#[derive(Debug, Clone)]
pub struct KerberosAsReq {
    message: Vec<u8>,
    transport: Transport,
}

impl KerberosAsReq {
    /// An AS-REQ sent as one UDP datagram to port 88.
    pub fn udp(realm: &str, nonce: u32) -> Self {
        KerberosAsReq {
            message: build_as_req(realm, PROBE_PRINCIPAL, nonce),
            transport: Transport::Udp,
        }
    }

    /// An AS-REQ over TCP port 88, with the four-byte length prefix.
    pub fn tcp(realm: &str, nonce: u32) -> Self {
        KerberosAsReq {
            message: build_as_req(realm, PROBE_PRINCIPAL, nonce),
            transport: Transport::Tcp,
        }
    }
}

impl Exchange for KerberosAsReq {
    fn start(&mut self) -> Vec<u8> {
        match self.transport {
            Transport::Udp => self.message.clone(),
            Transport::Tcp => frame_tcp(&self.message),
        }
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        let parsed = match self.transport {
            Transport::Udp => parse_reply(received).map(Some),
            Transport::Tcp => match tcp_reply_len(received) {
                Ok(Some(len)) if len.saturating_add(4) > self.max_len() => {
                    return Progress::Done(Identification::unrecognised(format!(
                        "a length prefix of {len} bytes, more than this probe reads"
                    )));
                }
                _ => parse_tcp_reply(received),
            },
        };
        match parsed {
            Ok(Some(reply)) => Progress::Done(identify(&reply)),
            Ok(None) => Progress::NeedMore,
            Err(error) => Progress::Done(Identification::unrecognised(format!(
                "not a Kerberos reply: {error}"
            ))),
        }
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
    fn builds_as_req() {
        let expected = hex(&format!(
            concat!(
                "6a 81 93",                               // [APPLICATION 10] AS-REQ, 147 bytes
                "30 81 90",                               // KDC-REQ SEQUENCE, 144 bytes
                "a1 03 02 01 05",                         // pvno [1] 5
                "a2 03 02 01 0a",                         // msg-type [2] 10 (AS-REQ); no padata [3]
                "a4 81 83 30 81 80",                      // req-body [4] KDC-REQ-BODY, 128 bytes
                "a0 07 03 05 00 40 81 00 10", // kdc-options [0]: forwardable renewable canonicalize renewable-ok
                "a1 1b 30 19 a0 03 02 01 01", // cname [1], name-type NT-PRINCIPAL
                "a1 12 30 10 1b 0e {}",       //   name-string rdsports-probe
                "a2 0d 1b 0b {}",             // realm [2] EXAMPLE.COM
                "a3 20 30 1e a0 03 02 01 02", // sname [3], name-type NT-SRV-INST
                "a1 17 30 15 1b 06 {} 1b 0b {}", // name-string krbtgt / EXAMPLE.COM
                "a5 11 18 0f {}",             // till [5] 20370913024805Z
                "a7 07 02 05 00 de ad be ef", // nonce [7] 0xdeadbeef (sign pad)
                "a8 0b 30 09 02 01 12 02 01 11 02 01 17", // etype [8] 18 17 23
            ),
            octets("rdsports-probe"),
            octets("EXAMPLE.COM"),
            octets("krbtgt"),
            octets("EXAMPLE.COM"),
            octets(TILL),
        ));
        let built = build_as_req("EXAMPLE.COM", PROBE_PRINCIPAL, 0xdead_beef);
        assert_eq!(built, expected);
        assert_eq!(ber::validate(&built, ber::MAX_DEPTH), Ok(36));
        assert_eq!(
            KerberosAsReq::udp("EXAMPLE.COM", 0xdead_beef).start(),
            expected
        );
        let tcp = KerberosAsReq::tcp("EXAMPLE.COM", 0xdead_beef).start();
        assert_eq!(&tcp[..4], &[0, 0, 0, 0x96]);
        assert_eq!(&tcp[4..], &expected[..]);
    }

    /// KRB-ERROR 68 (wrong realm) from a KDC of OTHER.TEST, as RFC 4120 5.9.1 lays it out.
    fn wrong_realm_error() -> Vec<u8> {
        hex(&format!(
            concat!(
                "7e 81 86 30 81 83",    // [APPLICATION 30] KRB-ERROR SEQUENCE, 131 bytes
                "a0 03 02 01 05",       // pvno 5
                "a1 03 02 01 1e",       // msg-type 30
                "a4 11 18 0f {}",       // stime 20240315101112Z
                "a5 05 02 03 01 e2 40", // susec 123456
                "a6 03 02 01 44",       // error-code 68
                "a7 0c 1b 0a {}",       // crealm OTHER.TEST
                "a8 1b 30 19 a0 03 02 01 01 a1 12 30 10 1b 0e {}", // cname rdsports-probe
                "a9 0c 1b 0a {}",       // realm OTHER.TEST
                "aa 1f 30 1d a0 03 02 01 02 a1 16 30 14 1b 06 {} 1b 0a {}", // sname krbtgt/OTHER.TEST
            ),
            octets("20240315101112Z"),
            octets("OTHER.TEST"),
            octets("rdsports-probe"),
            octets("OTHER.TEST"),
            octets("krbtgt"),
            octets("OTHER.TEST"),
        ))
    }

    #[test]
    fn parses_krb_error_wrong_realm() {
        let reply = parse_reply(&wrong_realm_error()).unwrap();
        let KdcReply::Error(error) = &reply else {
            panic!("{reply:?}")
        };
        assert_eq!(error.error_code, 68);
        assert_eq!(error.server_time, Some(1_710_497_472));
        assert_eq!(error.server_usec, Some(123_456));
        assert_eq!(error.crealm.as_deref(), Some("OTHER.TEST"));
        assert_eq!(error.cname, ["rdsports-probe"]);
        assert_eq!(error.realm.as_deref(), Some("OTHER.TEST"));
        assert_eq!(error.sname, ["krbtgt", "OTHER.TEST"]);
        assert_eq!(error.e_text, None);
        let identification = identify(&reply);
        assert_eq!(identification.service, Some("kerberos"));
        assert_eq!(identification.detail["error_name"], "KDC_ERR_WRONG_REALM");
        assert_eq!(identification.detail["server_time_unix"], 1_710_497_472);
        assert!(identification.note.unwrap().contains("OTHER.TEST"));
        // 1_710_497_472 against a client clock 7 minutes behind.
        assert_eq!(clock_skew(1_710_497_472, 1_710_497_052), 420);
        assert!(clock_skew(1_710_497_472, 1_710_497_052).abs() > MAX_CLOCK_SKEW_SECS);
    }

    /// KRB-ERROR 25 with e-text and a METHOD-DATA offering ENC-TIMESTAMP (2) and
    /// ETYPE-INFO2 (19) for AES256 with a salt, and RC4.
    fn preauth_required_error() -> Vec<u8> {
        let etype_info2 = hex(&format!(
            "30 20 30 16 a0 03 02 01 12 a1 0f 1b 0d {} 30 06 a0 04 02 02 00 17",
            octets("EXAMPLE.COMu1")
        ));
        let method_data = ber::sequence(&[
            &ber::sequence(&[
                &ber::explicit(1, &ber::integer(19)),
                &ber::explicit(2, &ber::octet_string(&etype_info2)),
            ]),
            &ber::sequence(&[
                &ber::explicit(1, &ber::integer(2)),
                &ber::explicit(2, &ber::octet_string(b"")),
            ]),
        ]);
        let error = ber::sequence(&[
            &ber::explicit(0, &ber::integer(5)),
            &ber::explicit(1, &ber::integer(30)),
            &ber::explicit(4, &ber::generalized_time("20240315101112Z")),
            &ber::explicit(5, &ber::integer(0)),
            &ber::explicit(6, &ber::integer(25)),
            &ber::explicit(9, &ber::general_string("EXAMPLE.COM")),
            &ber::explicit(11, &ber::general_string("NEEDED_PREAUTH")),
            &ber::explicit(12, &ber::octet_string(&method_data)),
        ]);
        ber::tlv(Tag::application_constructed(30), &error)
    }

    #[test]
    fn parses_preauth_required_with_method_data() {
        let reply = parse_reply(&preauth_required_error()).unwrap();
        let identification = identify(&reply);
        assert_eq!(identification.detail["error_code"], 25);
        assert_eq!(identification.detail["e_text"], "NEEDED_PREAUTH");
        assert_eq!(
            identification.detail["padata_types"],
            serde_json::json!([19, 2])
        );
        assert_eq!(
            identification.detail["preauth_etypes"],
            serde_json::json!(["aes256-cts-hmac-sha1-96", "rc4-hmac"])
        );
        assert_eq!(identification.note, None);
        // A missing sname is tolerated; the realm is reported.
        assert_eq!(identification.detail["realm"], "EXAMPLE.COM");
        assert!(!identification.detail.contains_key("sname"));
    }

    #[test]
    fn parses_as_rep() {
        let ticket = ber::tlv(
            Tag::application_constructed(1),
            &ber::sequence(&[&ber::explicit(0, &ber::integer(5))]),
        );
        let cname = ber::sequence(&[
            &ber::explicit(0, &ber::integer(1)),
            &ber::explicit(1, &ber::sequence(&[&ber::general_string("rdsports-probe")])),
        ]);
        let enc_part = ber::sequence(&[
            &ber::explicit(0, &ber::integer(18)),
            &ber::explicit(2, &ber::octet_string(&[0xaa; 16])),
        ]);
        let rep = ber::tlv(
            Tag::application_constructed(11),
            &ber::sequence(&[
                &ber::explicit(0, &ber::integer(5)),
                &ber::explicit(1, &ber::integer(11)),
                &ber::explicit(3, &ber::general_string("EXAMPLE.COM")),
                &ber::explicit(4, &cname),
                &ber::explicit(5, &ticket),
                &ber::explicit(6, &enc_part),
            ]),
        );
        let reply = parse_reply(&rep).unwrap();
        assert_eq!(
            reply,
            KdcReply::AsRep(AsRep {
                crealm: "EXAMPLE.COM".to_owned(),
                cname: vec!["rdsports-probe".to_owned()],
                enc_etype: 18
            })
        );
        let identification = identify(&reply);
        assert_eq!(
            identification.detail["enc_etype"],
            "aes256-cts-hmac-sha1-96"
        );
        assert!(identification.note.unwrap().contains("pre-authentication"));
    }

    #[test]
    fn rejects_bad_versions_and_other_bytes() {
        let mut error = wrong_realm_error();
        error[10] = 4; // pvno 4
        assert_eq!(parse_reply(&error), Err(KerberosError::BadVersion(4)));
        let mut error = wrong_realm_error();
        error[15] = 0x1f; // msg-type 31
        assert_eq!(parse_reply(&error), Err(KerberosError::BadMessageType(31)));
        assert_eq!(
            parse_reply(b"SSH-2.0-x"),
            Err(KerberosError::NotKerberos(b'S'))
        );
        assert_eq!(parse_reply(&[]), Err(KerberosError::Empty));
        assert_eq!(
            parse_tcp_reply(&hex("80 00 00 01 00")),
            Err(KerberosError::ReservedLengthBit)
        );
    }

    #[test]
    fn tcp_exchange_waits_for_the_whole_reply() {
        let mut probe = KerberosAsReq::tcp("OTHER.TEST", 1);
        let framed = frame_tcp(&wrong_realm_error());
        for len in 0..framed.len() {
            assert_eq!(probe.on_bytes(&framed[..len]), Progress::NeedMore, "{len}");
        }
        let Progress::Done(identification) = probe.on_bytes(&framed) else {
            panic!()
        };
        assert_eq!(identification.service, Some("kerberos"));
        // A prefix declaring more than max_len ends the exchange.
        let Progress::Done(identification) = probe.on_bytes(&hex("00 10 00 00")) else {
            panic!()
        };
        assert_eq!(identification.service, None);
    }

    #[test]
    fn udp_exchange_reports_truncation_cleanly() {
        let mut probe = KerberosAsReq::udp("OTHER.TEST", 1);
        let error = wrong_realm_error();
        for len in 0..error.len() {
            let Progress::Done(identification) = probe.on_bytes(&error[..len]) else {
                panic!("{len}")
            };
            assert_eq!(identification.service, None, "{len}");
        }
        let Progress::Done(identification) = probe.on_bytes(&error) else {
            panic!()
        };
        assert_eq!(identification.service, Some("kerberos"));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_reply(&bytes);
            let _ = parse_tcp_reply(&bytes);
            let _ = KerberosAsReq::udp("X", 1).on_bytes(&bytes);
            let _ = KerberosAsReq::tcp("X", 1).on_bytes(&bytes);
        }

        #[test]
        fn mutated_errors_never_panic(index in 0_usize..400, value in any::<u8>()) {
            let mut error = preauth_required_error();
            let at = index % error.len();
            error[at] = value;
            let _ = parse_reply(&error).map(|reply| identify(&reply));
        }

        #[test]
        fn any_nonce_and_realm_builds_valid_ber(nonce in any::<u32>(), realm in "[A-Z.]{0,300}") {
            let request = build_as_req(&realm, PROBE_PRINCIPAL, nonce);
            prop_assert!(ber::validate(&request, ber::MAX_DEPTH).is_ok());
        }
    }
}
