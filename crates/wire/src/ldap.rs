//! LDAP (RFC 4511) rootDSE probe and CLDAP "LDAP ping" (MS-ADTS section 6.3.3) codecs.
//!
//! [`LdapRootDse`] sends one anonymous SearchRequest for the rootDSE (baseObject `""`, scope
//! baseObject, filter `(objectClass=*)`, the attributes in [`ROOTDSE_ATTRIBUTES`]) and reads
//! LDAPMessages until one complete response arrives, so a reply split across TCP reads gives
//! [`Progress::NeedMore`]. A SearchResultEntry proves an LDAP server and yields its naming
//! contexts, `dnsHostName`, `currentTime` and so on; any LDAPResult (an error, or a
//! SearchResultDone with no entry) also proves an LDAP server and is reported with its
//! resultCode. The same exchange serves LDAPS (636) and the global catalog (3268, 3269):
//! the caller wraps TLS around it. No bind is sent.
//!
//! [`CldapPing`] is the connectionless form Active Directory and Samba answer on UDP 389:
//! a rootDSE search for the `Netlogon` attribute with the filter `(&(NtVer=\06\00\00\00))`,
//! optionally with `(DnsDomain=...)` (MS-ADTS 6.3.3 allows every other clause to be left
//! out; the DC then answers for its default naming context). NtVer 0x00000006 asks for the
//! NETLOGON_SAM_LOGON_RESPONSE_EX structure (MS-ADTS 6.3.1.9), which [`parse_netlogon`]
//! decodes: forest, domain and DC names, sites, domain GUID and DS_FLAG bits. Active
//! Directory encodes CLDAP replies as ordinary LDAPv3 messages (not the RFC 1798 form),
//! SearchResultEntry then SearchResultDone, and so does this module.
//!
//! BER lengths may be non-minimal (`30 84 00 00 00 7d`, as AD sends); see [`crate::ber`].
//! Nothing here binds, follows referrals, pages results or decodes controls.

use serde_json::{Map, Value};
use thiserror::Error;

use crate::ber::{self, BerError, Reader, Tag};
use crate::dns;
use crate::{Exchange, Identification, Progress};

/// The rootDSE attributes the probe asks for (MS-ADTS 3.1.1.3.2, RFC 4512 5.1).
pub const ROOTDSE_ATTRIBUTES: [&str; 11] = [
    "defaultNamingContext",
    "dnsHostName",
    "rootDomainNamingContext",
    "ldapServiceName",
    "currentTime",
    "supportedLDAPVersion",
    "domainControllerFunctionality",
    "isGlobalCatalogReady",
    "namingContexts",
    "vendorName",
    "vendorVersion",
];

/// NETLOGON_NT_VERSION_5 | NETLOGON_NT_VERSION_5EX (MS-ADTS 6.3.1.1): answer with a
/// NETLOGON_SAM_LOGON_RESPONSE_EX.
pub const NT_VERSION_5EX: u32 = 0x0000_0006;

/// How many attributes of an entry are kept.
pub const MAX_ATTRIBUTES: usize = 64;

/// How many values of one attribute are kept.
pub const MAX_VALUES: usize = 64;

/// How many characters of one string value are reported.
const MAX_TEXT: usize = 512;

/// Why bytes are not the LDAP reply we expect.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LdapError {
    /// The BER structure is malformed.
    #[error("malformed BER: {0}")]
    Ber(#[from] BerError),
    /// The bytes do not start with an LDAPMessage SEQUENCE.
    #[error("not an LDAP message (first byte {0:#04x})")]
    NotLdap(u8),
    /// A datagram ends inside an LDAPMessage.
    #[error("the datagram ends inside an LDAP message")]
    Truncated,
    /// A message id outside 0..=2^31-1 (RFC 4511 4.1.1).
    #[error("LDAP message id {0} is out of range")]
    BadMessageId(i64),
    /// An LDAPMessage whose operation is not a response (an echoed request, for instance).
    #[error("LDAP operation {0} is not a response")]
    NotAResponse(u32),
    /// A datagram holds no LDAP message.
    #[error("empty LDAP reply")]
    Empty,
}

/// One LDAPMessage (controls are skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapMessage {
    /// The messageID.
    pub message_id: i64,
    /// The protocolOp.
    pub op: ProtocolOp,
}

/// The protocolOp of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolOp {
    /// searchResEntry ([APPLICATION 4]).
    SearchResultEntry(SearchEntry),
    /// searchResDone ([APPLICATION 5]).
    SearchResultDone(LdapResult),
    /// searchResRef ([APPLICATION 19]); the URIs are not kept.
    SearchResultReference,
    /// extendedResp ([APPLICATION 24]), such as the Notice of Disconnection (RFC 4511 4.4.1).
    ExtendedResponse {
        /// The result.
        result: LdapResult,
        /// responseName, when present.
        name: Option<String>,
    },
    /// Another response that carries an LDAPResult (bindResponse, modifyResponse ...).
    OtherResponse {
        /// The operation's name in RFC 4511 (`bindResponse` ...).
        operation: &'static str,
        /// The result.
        result: LdapResult,
    },
    /// Any other operation (a request, or an unknown tag): not a reply to our search.
    Other {
        /// The application tag number.
        tag: u32,
    },
}

/// An LDAPResult (RFC 4511 4.1.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapResult {
    /// resultCode.
    pub code: i64,
    /// matchedDN.
    pub matched_dn: String,
    /// diagnosticMessage.
    pub diagnostic: String,
}

/// A SearchResultEntry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchEntry {
    /// objectName (empty for the rootDSE).
    pub object_name: String,
    /// The first [`MAX_ATTRIBUTES`] attributes, each with at most [`MAX_VALUES`] values.
    pub attributes: Vec<Attribute>,
}

impl SearchEntry {
    /// The values of attribute `name` (compared without regard to ASCII case).
    pub fn values(&self, name: &str) -> Option<&[Vec<u8>]> {
        self.attributes
            .iter()
            .find(|attribute| attribute.name.eq_ignore_ascii_case(name))
            .map(|attribute| attribute.values.as_slice())
    }

    /// The first value of attribute `name`, as text.
    pub fn first_text(&self, name: &str) -> Option<String> {
        self.values(name)?.first().map(|value| text(value))
    }
}

/// One attribute of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The attribute description.
    pub name: String,
    /// The values.
    pub values: Vec<Vec<u8>>,
}

/// The first reply to a rootDSE search that decides the probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootDseReply {
    /// A SearchResultEntry, with the SearchResultDone when it came in the same bytes.
    Entry {
        /// The entry's messageID.
        message_id: i64,
        /// The entry.
        entry: SearchEntry,
        /// The SearchResultDone that followed, if already received.
        done: Option<LdapResult>,
    },
    /// An LDAPResult without an entry: an error, an empty SearchResultDone, or a Notice of
    /// Disconnection.
    Result {
        /// The messageID (0 for unsolicited notifications).
        message_id: i64,
        /// The response's name in RFC 4511.
        operation: &'static str,
        /// The result.
        result: LdapResult,
    },
    /// A valid LDAPMessage that is not a response (an echoed request, for instance).
    NotAResponse {
        /// The application tag of the operation.
        tag: u32,
    },
}

/// A decoded CLDAP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CldapReply {
    /// The messageID of the first message.
    pub message_id: i64,
    /// The entry, when the datagram holds one.
    pub entry: Option<SearchEntry>,
    /// The SearchResultDone or other LDAPResult, when present.
    pub result: Option<LdapResult>,
}

/// The RFC 4511 name of an LDAP resultCode.
pub fn result_code_name(code: i64) -> Option<&'static str> {
    Some(match code {
        0 => "success",
        1 => "operationsError",
        2 => "protocolError",
        3 => "timeLimitExceeded",
        4 => "sizeLimitExceeded",
        5 => "compareFalse",
        6 => "compareTrue",
        7 => "authMethodNotSupported",
        8 => "strongerAuthRequired",
        10 => "referral",
        11 => "adminLimitExceeded",
        12 => "unavailableCriticalExtension",
        13 => "confidentialityRequired",
        14 => "saslBindInProgress",
        16 => "noSuchAttribute",
        17 => "undefinedAttributeType",
        18 => "inappropriateMatching",
        19 => "constraintViolation",
        20 => "attributeOrValueExists",
        21 => "invalidAttributeSyntax",
        32 => "noSuchObject",
        33 => "aliasProblem",
        34 => "invalidDNSyntax",
        36 => "aliasDereferencingProblem",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        54 => "loopDetect",
        64 => "namingViolation",
        65 => "objectClassViolation",
        66 => "notAllowedOnNonLeaf",
        67 => "notAllowedOnRDN",
        68 => "entryAlreadyExists",
        69 => "objectClassModsProhibited",
        71 => "affectsMultipleDSAs",
        80 => "other",
        _ => return None,
    })
}

/// Builds the anonymous rootDSE SearchRequest (RFC 4511 4.5.1) for [`ROOTDSE_ATTRIBUTES`].
/// The message id is brought into 1..=2^31-1 by [`message_id`].
pub fn build_rootdse_search(message_id: u32) -> Vec<u8> {
    // present filter: [7] IMPLICIT AttributeDescription.
    let filter = ber::tlv(Tag::context(7), b"objectClass");
    build_search(message_id, &filter, &ROOTDSE_ATTRIBUTES)
}

/// Builds the CLDAP LDAP ping: a rootDSE search for `Netlogon` with the filter
/// `(&(DnsDomain=<dns_domain>)(NtVer=<nt_version, little-endian>))`, the DnsDomain clause
/// only when a domain is given. The message id is brought into 1..=2^31-1 by [`message_id`].
pub fn build_cldap_ping(message_id: u32, dns_domain: Option<&str>, nt_version: u32) -> Vec<u8> {
    let mut clauses = Vec::new();
    if let Some(domain) = dns_domain {
        clauses.push(equality_match("DnsDomain", domain.as_bytes()));
    }
    clauses.push(equality_match("NtVer", &nt_version.to_le_bytes()));
    let parts: Vec<&[u8]> = clauses.iter().map(Vec::as_slice).collect();
    // and: [0] SET OF Filter.
    let filter = ber::constructed(Tag::context_constructed(0), &parts);
    build_search(message_id, &filter, &["Netlogon"])
}

fn equality_match(attribute: &str, value: &[u8]) -> Vec<u8> {
    // equalityMatch: [3] AttributeValueAssertion.
    ber::constructed(
        Tag::context_constructed(3),
        &[
            &ber::octet_string(attribute.as_bytes()),
            &ber::octet_string(value),
        ],
    )
}

fn build_search(message_id: u32, filter: &[u8], attributes: &[&str]) -> Vec<u8> {
    let attribute_list: Vec<Vec<u8>> = attributes
        .iter()
        .map(|name| ber::octet_string(name.as_bytes()))
        .collect();
    let attribute_parts: Vec<&[u8]> = attribute_list.iter().map(Vec::as_slice).collect();
    let search = ber::constructed(
        Tag::application_constructed(3),
        &[
            &ber::octet_string(b""), // baseObject: the rootDSE
            &ber::enumerated(0),     // scope: baseObject
            &ber::enumerated(0),     // derefAliases: neverDerefAliases
            &ber::integer(0),        // sizeLimit: none
            &ber::integer(0),        // timeLimit: none
            &ber::boolean(false),    // typesOnly: FALSE
            filter,
            &ber::sequence(&attribute_parts),
        ],
    );
    ber::sequence(&[
        &ber::integer(i64::from(self::message_id(message_id))),
        &search,
    ])
}

/// A valid request messageID (RFC 4511 4.1.1: 0 to 2^31-1, 0 reserved for unsolicited
/// notifications): the low 31 bits of `id`, or 1 when they are 0.
pub fn message_id(id: u32) -> u32 {
    match id & 0x7fff_ffff {
        0 => 1,
        valid => valid,
    }
}

/// The size of the LDAPMessage at the start of `input`, once its header has arrived.
pub fn message_len(input: &[u8]) -> Result<Option<usize>, LdapError> {
    let Some(&first) = input.first() else {
        return Ok(None);
    };
    if first != 0x30 {
        return Err(LdapError::NotLdap(first));
    }
    match ber::read_header(input) {
        Ok(header) => Ok(Some(header.total_len())),
        Err(BerError::Truncated) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// Parses the LDAPMessage at the start of `input`: `Ok(None)` while it is incomplete,
/// otherwise the message and how many bytes it took.
pub fn parse_message(input: &[u8]) -> Result<Option<(LdapMessage, usize)>, LdapError> {
    let Some(total) = message_len(input)? else {
        return Ok(None);
    };
    let Some(bytes) = input.get(..total) else {
        return Ok(None);
    };
    let mut outer = Reader::new(bytes);
    let mut message = outer.read_constructed(Tag::SEQUENCE)?;
    let message_id = message.read_integer()?;
    if !(0..=i64::from(i32::MAX)).contains(&message_id) {
        return Err(LdapError::BadMessageId(message_id));
    }
    let op_tlv = message.read()?;
    let op = parse_op(&message, op_tlv)?;
    Ok(Some((LdapMessage { message_id, op }, total)))
}

fn parse_op(parent: &Reader<'_>, tlv: ber::Tlv<'_>) -> Result<ProtocolOp, LdapError> {
    if tlv.tag.class != ber::Class::Application {
        return Ok(ProtocolOp::Other {
            tag: tlv.tag.number,
        });
    }
    let operation = match tlv.tag.number {
        1 => "bindResponse",
        4 => {
            let reader = parent.nested(tlv.value)?;
            return Ok(ProtocolOp::SearchResultEntry(parse_entry(reader)?));
        }
        5 => {
            let mut reader = parent.nested(tlv.value)?;
            return Ok(ProtocolOp::SearchResultDone(parse_result(&mut reader)?));
        }
        7 => "modifyResponse",
        9 => "addResponse",
        11 => "delResponse",
        13 => "modDNResponse",
        15 => "compareResponse",
        19 => return Ok(ProtocolOp::SearchResultReference),
        24 => {
            let mut reader = parent.nested(tlv.value)?;
            let result = parse_result(&mut reader)?;
            // referral [3] is skipped by parse_result; responseName is [10].
            let name = reader.read_optional(Tag::context(10))?.map(text);
            return Ok(ProtocolOp::ExtendedResponse { result, name });
        }
        number => return Ok(ProtocolOp::Other { tag: number }),
    };
    if !tlv.tag.constructed {
        return Ok(ProtocolOp::Other {
            tag: tlv.tag.number,
        });
    }
    let mut reader = parent.nested(tlv.value)?;
    Ok(ProtocolOp::OtherResponse {
        operation,
        result: parse_result(&mut reader)?,
    })
}

fn parse_result(reader: &mut Reader<'_>) -> Result<LdapResult, LdapError> {
    let code = reader.read_enumerated()?;
    let matched_dn = text(reader.read_octet_string()?);
    let diagnostic = text(reader.read_octet_string()?);
    // referral [3] Referral OPTIONAL.
    reader.read_optional(Tag::context_constructed(3))?;
    Ok(LdapResult {
        code,
        matched_dn,
        diagnostic,
    })
}

fn parse_entry(mut reader: Reader<'_>) -> Result<SearchEntry, LdapError> {
    let object_name = text(reader.read_octet_string()?);
    let mut list = reader.read_constructed(Tag::SEQUENCE)?;
    let mut attributes = Vec::new();
    while !list.is_empty() {
        let mut attribute = list.read_constructed(Tag::SEQUENCE)?;
        let name = text(attribute.read_octet_string()?);
        let mut set = attribute.read_constructed(Tag::SET)?;
        let mut values = Vec::new();
        while !set.is_empty() {
            let value = set.read_octet_string()?;
            if values.len() < MAX_VALUES {
                values.push(value.to_vec());
            }
        }
        if attributes.len() < MAX_ATTRIBUTES {
            attributes.push(Attribute { name, values });
        }
    }
    Ok(SearchEntry {
        object_name,
        attributes,
    })
}

/// Reads a rootDSE reply from a stream: `Ok(None)` until the first deciding LDAPMessage is
/// complete. SearchResultReferences before it are skipped.
pub fn parse_rootdse_response(input: &[u8]) -> Result<Option<RootDseReply>, LdapError> {
    let mut rest = input;
    loop {
        let Some((message, used)) = parse_message(rest)? else {
            return Ok(None);
        };
        rest = rest.get(used..).unwrap_or(&[]);
        let message_id = message.message_id;
        return Ok(Some(match message.op {
            ProtocolOp::SearchResultEntry(entry) => {
                let done = match parse_message(rest) {
                    Ok(Some((
                        LdapMessage {
                            op: ProtocolOp::SearchResultDone(result),
                            ..
                        },
                        _,
                    ))) => Some(result),
                    _ => None,
                };
                RootDseReply::Entry {
                    message_id,
                    entry,
                    done,
                }
            }
            ProtocolOp::SearchResultDone(result) => RootDseReply::Result {
                message_id,
                operation: "searchResDone",
                result,
            },
            ProtocolOp::ExtendedResponse { result, .. } => RootDseReply::Result {
                message_id,
                operation: "extendedResp",
                result,
            },
            ProtocolOp::OtherResponse { operation, result } => RootDseReply::Result {
                message_id,
                operation,
                result,
            },
            ProtocolOp::SearchResultReference => continue,
            ProtocolOp::Other { tag } => RootDseReply::NotAResponse { tag },
        }));
    }
}

/// Parses one CLDAP datagram: every LDAPMessage in it must be complete.
pub fn parse_cldap_response(datagram: &[u8]) -> Result<CldapReply, LdapError> {
    let mut rest = datagram;
    let mut reply: Option<CldapReply> = None;
    while !rest.is_empty() {
        let Some((message, used)) = parse_message(rest)? else {
            return Err(LdapError::Truncated);
        };
        rest = rest.get(used..).unwrap_or(&[]);
        let current = reply.get_or_insert(CldapReply {
            message_id: message.message_id,
            entry: None,
            result: None,
        });
        match message.op {
            ProtocolOp::SearchResultEntry(entry) => {
                current.entry.get_or_insert(entry);
            }
            ProtocolOp::SearchResultDone(result)
            | ProtocolOp::ExtendedResponse { result, .. }
            | ProtocolOp::OtherResponse { result, .. } => {
                current.result.get_or_insert(result);
            }
            ProtocolOp::SearchResultReference => {}
            ProtocolOp::Other { tag } => return Err(LdapError::NotAResponse(tag)),
        }
    }
    reply.ok_or(LdapError::Empty)
}

/// The NETLOGON_SAM_LOGON_RESPONSE_EX structure (MS-ADTS 6.3.1.9), as far as it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetlogonResponse {
    /// Opcode: 23 (LOGON_SAM_LOGON_RESPONSE_EX), 24 (pause) or 25 (user unknown).
    pub opcode: u16,
    /// DS_FLAG bits (MS-ADTS 6.3.1.2).
    pub flags: u32,
    /// The domain GUID in its usual text form.
    pub domain_guid: String,
    /// DnsForestName.
    pub dns_forest_name: String,
    /// DnsDomainName.
    pub dns_domain_name: String,
    /// DnsHostName of the DC.
    pub dns_host_name: String,
    /// NetbiosDomainName.
    pub netbios_domain_name: String,
    /// NetbiosComputerName of the DC.
    pub netbios_computer_name: String,
    /// UserName echoed from the request (empty here).
    pub user_name: String,
    /// DcSiteName.
    pub dc_site_name: String,
    /// ClientSiteName (empty when the client's address maps to no site).
    pub client_site_name: String,
}

/// Why a Netlogon attribute value could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NetlogonError {
    /// The value ends before a field.
    #[error("NETLOGON structure is truncated")]
    Truncated,
    /// Not one of the _EX opcodes (the DC chose another structure).
    #[error("NETLOGON opcode {0} is not a LOGON_SAM_*_EX response")]
    UnsupportedOpcode(u16),
    /// A name could not be decompressed.
    #[error("NETLOGON name: {0}")]
    Name(#[from] dns::DnsError),
}

/// DS_FLAG bits and their names (MS-ADTS 6.3.1.2).
pub const DS_FLAGS: [(u32, &str); 19] = [
    (0x0000_0001, "DS_PDC_FLAG"),
    (0x0000_0004, "DS_GC_FLAG"),
    (0x0000_0008, "DS_LDAP_FLAG"),
    (0x0000_0010, "DS_DS_FLAG"),
    (0x0000_0020, "DS_KDC_FLAG"),
    (0x0000_0040, "DS_TIMESERV_FLAG"),
    (0x0000_0080, "DS_CLOSEST_FLAG"),
    (0x0000_0100, "DS_WRITABLE_FLAG"),
    (0x0000_0200, "DS_GOOD_TIMESERV_FLAG"),
    (0x0000_0400, "DS_NDNC_FLAG"),
    (0x0000_0800, "DS_SELECT_SECRET_DOMAIN_6_FLAG"),
    (0x0000_1000, "DS_FULL_SECRET_DOMAIN_6_FLAG"),
    (0x0000_2000, "DS_WS_FLAG"),
    (0x0000_4000, "DS_DS_8_FLAG"),
    (0x0000_8000, "DS_DS_9_FLAG"),
    (0x0001_0000, "DS_DS_10_FLAG"),
    (0x2000_0000, "DS_DNS_CONTROLLER_FLAG"),
    (0x4000_0000, "DS_DNS_DOMAIN_FLAG"),
    (0x8000_0000, "DS_DNS_FOREST_FLAG"),
];

/// Decodes a NETLOGON_SAM_LOGON_RESPONSE_EX (the `Netlogon` attribute value). Names are
/// RFC 1035 compressed with pointers relative to the start of `value` (MS-ADTS 6.3.7).
/// The optional trailing fields (DcSockAddr, NextClosestSiteName, versions) are not read.
pub fn parse_netlogon(value: &[u8]) -> Result<NetlogonResponse, NetlogonError> {
    let opcode = u16::from_le_bytes(*value.first_chunk::<2>().ok_or(NetlogonError::Truncated)?);
    if !(23..=25).contains(&opcode) {
        return Err(NetlogonError::UnsupportedOpcode(opcode));
    }
    let flags_bytes = value.get(4..).and_then(<[u8]>::first_chunk::<4>);
    let flags = u32::from_le_bytes(*flags_bytes.ok_or(NetlogonError::Truncated)?);
    let guid = value.get(8..24).ok_or(NetlogonError::Truncated)?;
    let mut offset = 24;
    let mut names: [String; 8] = Default::default();
    for slot in &mut names {
        let (name, after) = dns::read_name(value, offset).map_err(|error| match error {
            dns::DnsError::Truncated => NetlogonError::Truncated,
            other => NetlogonError::Name(other),
        })?;
        *slot = bounded(name.to_utf8());
        offset = after;
    }
    let [
        dns_forest_name,
        dns_domain_name,
        dns_host_name,
        netbios_domain_name,
        netbios_computer_name,
        user_name,
        dc_site_name,
        client_site_name,
    ] = names;
    Ok(NetlogonResponse {
        opcode,
        flags,
        domain_guid: format_guid(guid),
        dns_forest_name,
        dns_domain_name,
        dns_host_name,
        netbios_domain_name,
        netbios_computer_name,
        user_name,
        dc_site_name,
        client_site_name,
    })
}

/// Formats an MS-DTYP GUID (Data1..Data3 little-endian, Data4 as bytes).
fn format_guid(bytes: &[u8]) -> String {
    let byte = |index: usize| bytes.get(index).copied().unwrap_or(0);
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        byte(3),
        byte(2),
        byte(1),
        byte(0),
        byte(5),
        byte(4),
        byte(7),
        byte(6),
        byte(8),
        byte(9),
        byte(10),
        byte(11),
        byte(12),
        byte(13),
        byte(14),
        byte(15)
    )
}

fn text(bytes: &[u8]) -> String {
    bounded(String::from_utf8_lossy(bytes).into_owned())
}

fn bounded(mut text: String) -> String {
    if let Some((index, _)) = text.char_indices().nth(MAX_TEXT) {
        text.truncate(index);
    }
    text
}

/// What a rootDSE reply tells about the server (service `ldap`).
pub fn identify_rootdse(reply: &RootDseReply, expected_id: u32) -> Identification {
    match reply {
        RootDseReply::Entry {
            message_id,
            entry,
            done,
        } => {
            let mut identification = Identification::service("ldap");
            add_rootdse_details(&mut identification.detail, entry);
            if let Some(result) = done {
                identification = identification.with("result_code", result.code);
            }
            if *message_id != i64::from(expected_id) {
                identification.note = Some(format!(
                    "reply has message id {message_id}, expected {expected_id}"
                ));
            }
            identification
        }
        RootDseReply::Result {
            message_id,
            operation,
            result,
        } => {
            let name = result_code_name(result.code).unwrap_or("unknown");
            let mut identification = Identification::service("ldap")
                .with("result_code", result.code)
                .with("result", name)
                .with("operation", *operation);
            if !result.diagnostic.is_empty() {
                identification =
                    identification.with("diagnostic_message", result.diagnostic.clone());
            }
            let unsolicited = if *message_id == 0 {
                " (unsolicited notification)"
            } else {
                ""
            };
            identification.note = Some(format!(
                "the LDAP server answered the rootDSE search with {operation} {name} ({}){unsolicited}",
                result.code
            ));
            identification
        }
        RootDseReply::NotAResponse { tag } => Identification::unrecognised(format!(
            "an LDAP-shaped message with operation tag {tag}, which is not a response"
        )),
    }
}

fn add_rootdse_details(detail: &mut Map<String, Value>, entry: &SearchEntry) {
    let strings = [
        ("defaultNamingContext", "default_naming_context"),
        ("dnsHostName", "dns_host_name"),
        ("rootDomainNamingContext", "root_domain_naming_context"),
        ("ldapServiceName", "ldap_service_name"),
        ("currentTime", "current_time"),
        ("vendorName", "vendor_name"),
        ("vendorVersion", "vendor_version"),
    ];
    for (attribute, key) in strings {
        if let Some(value) = entry.first_text(attribute) {
            detail.insert(key.to_owned(), Value::from(value));
        }
    }
    if let Some(unix) = entry
        .values("currentTime")
        .and_then(<[Vec<u8>]>::first)
        .and_then(|value| ber::parse_generalized_time(value))
    {
        detail.insert("current_time_unix".to_owned(), Value::from(unix));
    }
    if let Some(values) = entry.values("supportedLDAPVersion") {
        let versions: Vec<Value> = values
            .iter()
            .filter_map(|value| text(value).trim().parse::<u32>().ok())
            .map(Value::from)
            .collect();
        detail.insert("supported_ldap_version".to_owned(), Value::from(versions));
    }
    if let Some(level) = entry
        .first_text("domainControllerFunctionality")
        .and_then(|value| value.trim().parse::<u32>().ok())
    {
        detail.insert(
            "domain_controller_functionality".to_owned(),
            Value::from(level),
        );
    }
    if let Some(ready) = entry.first_text("isGlobalCatalogReady") {
        detail.insert(
            "is_global_catalog_ready".to_owned(),
            Value::from(ready.eq_ignore_ascii_case("TRUE")),
        );
    }
    if let Some(values) = entry.values("namingContexts") {
        let contexts: Vec<Value> = values
            .iter()
            .map(|value| Value::from(text(value)))
            .collect();
        detail.insert("naming_contexts".to_owned(), Value::from(contexts));
    }
}

/// What a CLDAP reply tells about the server: service `ldap` (the catalog's name for LDAP
/// over TCP and UDP 389) with detail `transport` = `cldap`.
pub fn identify_cldap(reply: &CldapReply) -> Identification {
    let mut identification = Identification::service("ldap").with("transport", "cldap");
    if let Some(result) = &reply.result {
        identification = identification.with("result_code", result.code);
        if result.code != 0 {
            identification.note = Some(format!(
                "the server answered the LDAP ping with {} ({})",
                result_code_name(result.code).unwrap_or("unknown"),
                result.code
            ));
        }
    }
    let Some(entry) = &reply.entry else {
        return identification;
    };
    let Some(value) = entry.values("Netlogon").and_then(<[Vec<u8>]>::first) else {
        identification.note.get_or_insert_with(|| {
            "the LDAP ping reply has no Netlogon attribute (not an Active Directory DC?)".to_owned()
        });
        return identification;
    };
    match parse_netlogon(value) {
        Ok(netlogon) => {
            let flag_names: Vec<Value> = DS_FLAGS
                .iter()
                .filter(|(bit, _)| netlogon.flags & bit != 0)
                .map(|(_, name)| Value::from(*name))
                .collect();
            let opcode = match netlogon.opcode {
                23 => "LOGON_SAM_LOGON_RESPONSE_EX",
                24 => "LOGON_SAM_PAUSE_RESPONSE_EX",
                _ => "LOGON_SAM_USER_UNKNOWN_EX",
            };
            identification = identification
                .with("netlogon_opcode", opcode)
                .with("ds_flags", netlogon.flags)
                .with("ds_flag_names", flag_names)
                .with("domain_guid", netlogon.domain_guid);
            let names = [
                ("dns_forest_name", netlogon.dns_forest_name),
                ("dns_domain_name", netlogon.dns_domain_name),
                ("dns_host_name", netlogon.dns_host_name),
                ("netbios_domain_name", netlogon.netbios_domain_name),
                ("netbios_computer_name", netlogon.netbios_computer_name),
                ("dc_site_name", netlogon.dc_site_name),
                ("client_site_name", netlogon.client_site_name),
            ];
            for (key, value) in names {
                if !value.is_empty() {
                    identification = identification.with(key, value);
                }
            }
        }
        Err(error) => {
            identification.note = Some(format!("Netlogon attribute not decoded: {error}"));
        }
    }
    identification
}

/// The `ldap` probe over TCP (389, 3268) or inside TLS (636, 3269): an anonymous rootDSE
/// search.
#[derive(Debug, Clone)]
pub struct LdapRootDse {
    message_id: u32,
    max_len: usize,
}

impl LdapRootDse {
    /// A rootDSE search with this messageID (see [`message_id`] for out-of-range values).
    pub fn new(id: u32) -> Self {
        LdapRootDse {
            message_id: message_id(id),
            max_len: 64 * 1024,
        }
    }
}

impl Exchange for LdapRootDse {
    fn start(&mut self) -> Vec<u8> {
        build_rootdse_search(self.message_id)
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        match parse_rootdse_response(received) {
            Ok(Some(reply)) => Progress::Done(identify_rootdse(&reply, self.message_id)),
            Ok(None) => {
                // Incomplete: give up early when the declared size can never fit.
                match message_len(received) {
                    Ok(Some(total)) if total > self.max_len => {
                        Progress::Done(Identification::unrecognised(format!(
                            "a BER message of {total} bytes, more than the {} this probe reads",
                            self.max_len
                        )))
                    }
                    _ => Progress::NeedMore,
                }
            }
            Err(error) => Progress::Done(Identification::unrecognised(format!(
                "not an LDAP reply: {error}"
            ))),
        }
    }

    fn max_len(&self) -> usize {
        self.max_len
    }
}

/// The `cldap` probe: one LDAP ping datagram to UDP 389.
#[derive(Debug, Clone)]
pub struct CldapPing {
    message_id: u32,
    dns_domain: Option<String>,
}

impl CldapPing {
    /// An LDAP ping with this messageID (see [`message_id`]), optionally naming the DNS
    /// domain it asks about.
    pub fn new(id: u32, dns_domain: Option<&str>) -> Self {
        CldapPing {
            message_id: message_id(id),
            dns_domain: dns_domain.map(str::to_owned),
        }
    }
}

impl Exchange for CldapPing {
    fn start(&mut self) -> Vec<u8> {
        build_cldap_ping(self.message_id, self.dns_domain.as_deref(), NT_VERSION_5EX)
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        match parse_cldap_response(received) {
            // A reply to another message id is a stray datagram: keep waiting for ours.
            Ok(reply) if reply.message_id != i64::from(self.message_id) => Progress::NeedMore,
            Ok(reply) => Progress::Done(identify_cldap(&reply)),
            Err(error) => Progress::Done(Identification::unrecognised(format!(
                "not a CLDAP reply: {error}"
            ))),
        }
    }

    fn max_len(&self) -> usize {
        65_535
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    use crate::testutil::hex;

    /// Hex of ASCII text, to spell attribute names inside expected bytes.
    fn octets(text: &str) -> String {
        text.bytes().map(|b| format!("{b:02x} ")).collect()
    }

    /// A TLV with the four-byte long-form length Active Directory uses (`84 xx xx xx xx`).
    fn ad(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
        let content = parts.concat();
        let mut out = vec![tag, 0x84];
        out.extend_from_slice(&(content.len() as u32).to_be_bytes());
        out.extend(content);
        out
    }

    fn ad_attribute(name: &str, values: &[&str]) -> Vec<u8> {
        let values: Vec<Vec<u8>> = values
            .iter()
            .map(|v| ber::octet_string(v.as_bytes()))
            .collect();
        let value_parts: Vec<&[u8]> = values.iter().map(Vec::as_slice).collect();
        ad(
            0x30,
            &[&ber::octet_string(name.as_bytes()), &ad(0x31, &value_parts)],
        )
    }

    #[test]
    fn builds_rootdse_search() {
        let mut attributes = String::new();
        for name in ROOTDSE_ATTRIBUTES {
            attributes.push_str(&format!("04 {:02x} {}", name.len(), octets(name)));
        }
        let expected = hex(&format!(
            concat!(
                "30 81 f7",    // LDAPMessage SEQUENCE, 247 bytes
                "02 01 07",    // messageID 7
                "63 81 f1",    // [APPLICATION 3] SearchRequest, 241 bytes
                "04 00",       // baseObject: the empty DN
                "0a 01 00",    // scope baseObject
                "0a 01 00",    // derefAliases neverDerefAliases
                "02 01 00",    // sizeLimit 0
                "02 01 00",    // timeLimit 0
                "01 01 00",    // typesOnly FALSE
                "87 0b {}",    // filter present [7] objectClass
                "30 81 d0 {}", // attributes SEQUENCE OF, 208 bytes
            ),
            octets("objectClass"),
            attributes
        ));
        assert_eq!(build_rootdse_search(7), expected);
        // 0 is reserved for unsolicited notifications; ids keep to 31 bits.
        assert_eq!((message_id(0), message_id(0x8000_0005)), (1, 5));
        assert_eq!(LdapRootDse::new(7).start(), expected);
    }

    #[test]
    fn builds_cldap_ping() {
        let expected = hex(&format!(
            concat!(
                "30 33 02 01 01",                   // LDAPMessage, messageID 1
                "63 2e",                            // SearchRequest
                "04 00 0a 01 00 0a 01 00",          // rootDSE, base, never deref
                "02 01 00 02 01 00 01 01 00",       // no limits, typesOnly FALSE
                "a0 0f",                            // and [0]
                "a3 0d 04 05 {} 04 04 06 00 00 00", // equalityMatch NtVer = 06 00 00 00
                "30 0a 04 08 {}",                   // attributes: Netlogon
            ),
            octets("NtVer"),
            octets("Netlogon")
        ));
        assert_eq!(build_cldap_ping(1, None, NT_VERSION_5EX), expected);
        let with_domain = build_cldap_ping(1, Some("example.com"), NT_VERSION_5EX);
        let clause = hex(&format!(
            "a3 18 04 09 {} 04 0b {}",
            octets("DnsDomain"),
            octets("example.com")
        ));
        assert!(
            with_domain
                .windows(clause.len())
                .any(|window| window == clause.as_slice())
        );
    }

    /// An AD-style reply (four-byte lengths everywhere): entry with dnsHostName, then done.
    fn small_ad_reply() -> Vec<u8> {
        hex(&format!(
            concat!(
                "30 84 00 00 00 3b 02 01 01",             // LDAPMessage, messageID 1
                "64 84 00 00 00 32 04 00",                // SearchResultEntry, empty objectName
                "30 84 00 00 00 2a",                      // attributes
                "30 84 00 00 00 24 04 0b {}",             // dnsHostName
                "31 84 00 00 00 11 04 0f {}",             // { dc1.example.com }
                "30 84 00 00 00 10 02 01 01",             // LDAPMessage, messageID 1
                "65 84 00 00 00 07 0a 01 00 04 00 04 00", // SearchResultDone success
            ),
            octets("dnsHostName"),
            octets("dc1.example.com")
        ))
    }

    #[test]
    fn parses_ad_reply_with_non_minimal_lengths() {
        let reply = small_ad_reply();
        let parsed = parse_rootdse_response(&reply).unwrap().unwrap();
        let RootDseReply::Entry {
            message_id,
            entry,
            done,
        } = &parsed
        else {
            panic!("{parsed:?}");
        };
        assert_eq!(*message_id, 1);
        assert_eq!(
            entry.first_text("DNSHOSTNAME").as_deref(),
            Some("dc1.example.com")
        );
        assert_eq!(done.as_ref().map(|r| r.code), Some(0));
        let identification = identify_rootdse(&parsed, 1);
        assert_eq!(identification.service, Some("ldap"));
        assert_eq!(identification.detail["dns_host_name"], "dc1.example.com");
        assert_eq!(identification.detail["result_code"], 0);
        assert_eq!(identification.note, None);
    }

    #[test]
    fn parses_full_rootdse_entry() {
        let entry = ad(
            0x64,
            &[
                &ber::octet_string(b""),
                &ad(
                    0x30,
                    &[
                        &ad_attribute("currentTime", &["20240315101112.0Z"]),
                        &ad_attribute("defaultNamingContext", &["DC=example,DC=com"]),
                        &ad_attribute("rootDomainNamingContext", &["DC=example,DC=com"]),
                        &ad_attribute("ldapServiceName", &["example.com:dc1$@EXAMPLE.COM"]),
                        &ad_attribute("supportedLDAPVersion", &["3", "2"]),
                        &ad_attribute("domainControllerFunctionality", &["7"]),
                        &ad_attribute("isGlobalCatalogReady", &["TRUE"]),
                        &ad_attribute(
                            "namingContexts",
                            &["DC=example,DC=com", "CN=Configuration,DC=example,DC=com"],
                        ),
                    ],
                ),
            ],
        );
        let message = ad(0x30, &[&ber::integer(9), &entry]);
        let mut exchange = LdapRootDse::new(9);
        let Progress::Done(identification) = exchange.on_bytes(&message) else {
            panic!("expected Done");
        };
        let detail = &identification.detail;
        assert_eq!(detail["current_time"], "20240315101112.0Z");
        assert_eq!(detail["current_time_unix"], 1_710_497_472);
        assert_eq!(detail["default_naming_context"], "DC=example,DC=com");
        assert_eq!(detail["root_domain_naming_context"], "DC=example,DC=com");
        assert_eq!(detail["ldap_service_name"], "example.com:dc1$@EXAMPLE.COM");
        assert_eq!(detail["supported_ldap_version"], serde_json::json!([3, 2]));
        assert_eq!(detail["domain_controller_functionality"], 7);
        assert_eq!(detail["is_global_catalog_ready"], true);
        assert_eq!(detail["naming_contexts"].as_array().map(Vec::len), Some(2));
        assert!(!detail.contains_key("result_code"));
    }

    #[test]
    fn split_reply_needs_more_until_a_whole_message() {
        let reply = small_ad_reply();
        let mut exchange = LdapRootDse::new(1);
        // The entry is the first 65 bytes; before that every prefix is incomplete.
        for len in 0..65 {
            assert_eq!(
                exchange.on_bytes(&reply[..len]),
                Progress::NeedMore,
                "{len}"
            );
        }
        for len in 65..=reply.len() {
            let Progress::Done(identification) = exchange.on_bytes(&reply[..len]) else {
                panic!("{len}");
            };
            assert_eq!(identification.service, Some("ldap"));
            // The done message is reported once it is whole.
            assert_eq!(
                identification.detail.contains_key("result_code"),
                len == reply.len()
            );
        }
    }

    #[test]
    fn error_result_still_proves_ldap() {
        // SearchResultDone, messageID 2, resultCode 53 unwillingToPerform.
        let reply = hex(&format!(
            "30 1a 02 01 02 65 15 0a 01 35 04 00 04 0e {}",
            octets("rootDSE denied")
        ));
        let mut exchange = LdapRootDse::new(2);
        let Progress::Done(identification) = exchange.on_bytes(&reply) else {
            panic!("expected Done");
        };
        assert_eq!(identification.service, Some("ldap"));
        assert_eq!(identification.detail["result_code"], 53);
        assert_eq!(identification.detail["result"], "unwillingToPerform");
        assert_eq!(
            identification.detail["diagnostic_message"],
            "rootDSE denied"
        );
        assert!(
            identification
                .note
                .unwrap()
                .contains("unwillingToPerform (53)")
        );
    }

    #[test]
    fn notice_of_disconnection_proves_ldap() {
        // ExtendedResponse, messageID 0, protocolError, responseName 1.3.6.1.4.1.1466.20036.
        let oid = "1.3.6.1.4.1.1466.20036";
        let reply = hex(&format!(
            "30 24 02 01 00 78 1f 0a 01 02 04 00 04 00 8a 16 {}",
            octets(oid)
        ));
        let parsed = parse_message(&reply).unwrap().unwrap().0;
        assert_eq!(
            parsed.op,
            ProtocolOp::ExtendedResponse {
                result: LdapResult {
                    code: 2,
                    matched_dn: String::new(),
                    diagnostic: String::new()
                },
                name: Some(oid.to_owned()),
            }
        );
        let identification = LdapRootDse::new(5).on_bytes(&reply);
        let Progress::Done(identification) = identification else {
            panic!()
        };
        assert_eq!(identification.service, Some("ldap"));
        assert!(identification.note.unwrap().contains("unsolicited"));
    }

    #[test]
    fn other_protocols_are_unrecognised() {
        let mut exchange = LdapRootDse::new(1);
        for bytes in [
            &b"HTTP/1.1 400 Bad Request\r\n"[..],
            b"\x16\x03\x01\x00\x05",
        ] {
            let Progress::Done(identification) = exchange.on_bytes(bytes) else {
                panic!()
            };
            assert_eq!(identification.service, None);
        }
        // An echoed request is BER-valid LDAP but not a response.
        let request = build_rootdse_search(1);
        let Progress::Done(identification) = exchange.on_bytes(&request) else {
            panic!()
        };
        assert_eq!(identification.service, None);
        // A SEQUENCE header declaring more than max_len.
        let huge = hex("30 84 00 10 00 00 02 01 01");
        let Progress::Done(identification) = exchange.on_bytes(&huge) else {
            panic!()
        };
        assert_eq!(identification.service, None);
        // Indefinite length is malformed, not NeedMore.
        let Progress::Done(identification) = exchange.on_bytes(&hex("30 80 02 01 01")) else {
            panic!()
        };
        assert_eq!(identification.service, None);
    }

    /// NETLOGON_SAM_LOGON_RESPONSE_EX for dc1.example.com, written out field by field.
    fn netlogon_blob() -> Vec<u8> {
        hex(&format!(
            concat!(
                "17 00",                                           // Opcode 23 LOGON_SAM_LOGON_RESPONSE_EX
                "00 00",                                           // Sbz
                "fd f3 01 e0",                                     // Flags 0xe001f3fd
                "67 45 23 01 ab 89 ef cd 01 02 03 04 05 06 07 08", // DomainGuid
                "07 {} 03 {} 00",                                  // 24: DnsForestName example.com
                "c0 18",                                           // 37: DnsDomainName -> offset 24
                "03 {} c0 18",                                     // 39: DnsHostName dc1.<24>
                "07 {} 00",                                        // 45: NetbiosDomainName EXAMPLE
                "03 {} 00",                                        // 54: NetbiosComputerName DC1
                "00",                                              // 59: UserName (empty)
                "17 {} 00",                // 60: DcSiteName Default-First-Site-Name
                "c0 3c",                   // 85: ClientSiteName -> offset 60
                "05 00 00 00 ff ff ff ff", // NtVersion, LmNtToken, Lm20Token
            ),
            octets("example"),
            octets("com"),
            octets("dc1"),
            octets("EXAMPLE"),
            octets("DC1"),
            octets("Default-First-Site-Name"),
        ))
    }

    fn cldap_reply(message_id: i64, blob: &[u8]) -> Vec<u8> {
        let attribute = ber::sequence(&[
            &ber::octet_string(b"netlogon"),
            &ber::constructed(Tag::SET, &[&ber::octet_string(blob)]),
        ]);
        let entry = ber::constructed(
            Tag::application_constructed(4),
            &[&ber::octet_string(b""), &ber::sequence(&[&attribute])],
        );
        let done = ber::constructed(
            Tag::application_constructed(5),
            &[
                &ber::enumerated(0),
                &ber::octet_string(b""),
                &ber::octet_string(b""),
            ],
        );
        let mut out = ber::sequence(&[&ber::integer(message_id), &entry]);
        out.extend(ber::sequence(&[&ber::integer(message_id), &done]));
        out
    }

    #[test]
    fn parses_netlogon_response_ex() {
        let netlogon = parse_netlogon(&netlogon_blob()).unwrap();
        assert_eq!(netlogon.opcode, 23);
        assert_eq!(netlogon.flags, 0xe001_f3fd);
        assert_eq!(netlogon.domain_guid, "01234567-89ab-cdef-0102-030405060708");
        assert_eq!(netlogon.dns_forest_name, "example.com");
        assert_eq!(netlogon.dns_domain_name, "example.com");
        assert_eq!(netlogon.dns_host_name, "dc1.example.com");
        assert_eq!(netlogon.netbios_domain_name, "EXAMPLE");
        assert_eq!(netlogon.netbios_computer_name, "DC1");
        assert_eq!(netlogon.user_name, "");
        assert_eq!(netlogon.dc_site_name, "Default-First-Site-Name");
        assert_eq!(netlogon.client_site_name, "Default-First-Site-Name");
        assert_eq!(
            parse_netlogon(&hex("13 00")),
            Err(NetlogonError::UnsupportedOpcode(19))
        );
        let blob = netlogon_blob();
        for len in 0..87 {
            assert!(parse_netlogon(&blob[..len]).is_err(), "{len}");
        }
    }

    #[test]
    fn cldap_exchange_decodes_the_ping_reply() {
        let mut ping = CldapPing::new(1, None);
        assert_eq!(ping.start(), build_cldap_ping(1, None, NT_VERSION_5EX));
        // A datagram for another message id is ignored.
        assert_eq!(
            ping.on_bytes(&cldap_reply(2, &netlogon_blob())),
            Progress::NeedMore
        );
        let Progress::Done(identification) = ping.on_bytes(&cldap_reply(1, &netlogon_blob()))
        else {
            panic!("expected Done");
        };
        assert_eq!(identification.service, Some("ldap"));
        let detail = &identification.detail;
        assert_eq!(detail["dns_forest_name"], "example.com");
        assert_eq!(detail["dns_host_name"], "dc1.example.com");
        assert_eq!(detail["netbios_domain_name"], "EXAMPLE");
        assert_eq!(detail["dc_site_name"], "Default-First-Site-Name");
        assert_eq!(detail["netlogon_opcode"], "LOGON_SAM_LOGON_RESPONSE_EX");
        assert_eq!(detail["result_code"], 0);
        let flags: Vec<&str> = detail["ds_flag_names"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(flags.contains(&"DS_PDC_FLAG") && flags.contains(&"DS_KDC_FLAG"));
        assert!(!flags.contains(&"DS_SELECT_SECRET_DOMAIN_6_FLAG"));
        assert_eq!(identification.note, None);
    }

    #[test]
    fn cldap_reply_without_netlogon_still_proves_cldap() {
        // A bare SearchResultDone (what a DC sends for a filter it rejects).
        let done = hex("30 0c 02 01 01 65 07 0a 01 00 04 00 04 00");
        let reply = parse_cldap_response(&done).unwrap();
        assert_eq!(reply.entry, None);
        let identification = identify_cldap(&reply);
        assert_eq!(identification.service, Some("ldap"));
        // Truncated datagrams are unrecognised, never NeedMore.
        let mut ping = CldapPing::new(1, None);
        let full = cldap_reply(1, &netlogon_blob());
        for len in 0..full.len() {
            match ping.on_bytes(&full[..len]) {
                Progress::Done(identification) => {
                    // Cut exactly after the entry, the reply is complete without the done.
                    let whole_entry = identification
                        .detail
                        .get("transport")
                        .and_then(|t| t.as_str())
                        == Some("cldap");
                    assert!(whole_entry || identification.service.is_none(), "{len}");
                }
                other => panic!("{len}: {other:?}"),
            }
        }
    }

    #[test]
    fn truncated_stream_at_every_length_is_clean() {
        let reply = small_ad_reply();
        for len in 0..reply.len() {
            let _ = parse_rootdse_response(&reply[..len]);
            let _ = parse_cldap_response(&reply[..len]);
            assert!(
                matches!(parse_message(&reply[..len]), Ok(None) | Ok(Some(_))),
                "{len}"
            );
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_message(&bytes);
            let _ = parse_rootdse_response(&bytes);
            let _ = parse_cldap_response(&bytes);
            let _ = parse_netlogon(&bytes);
            let _ = LdapRootDse::new(1).on_bytes(&bytes);
            let _ = CldapPing::new(1, None).on_bytes(&bytes);
        }

        #[test]
        fn mutated_replies_never_panic(index in 0_usize..400, value in any::<u8>()) {
            let mut reply = cldap_reply(1, &netlogon_blob());
            let at = index % reply.len();
            reply[at] = value;
            let _ = CldapPing::new(1, None).on_bytes(&reply);
            let _ = LdapRootDse::new(1).on_bytes(&reply);
        }
    }
}
