//! RADIUS (RFC 2865, RFC 2866, RFC 3579) probes for NPS and other RADIUS servers on UDP
//! 1812/1813 (legacy 1645/1646).
//!
//! [`build_access_request`] writes an Access-Request with the caller's identifier and
//! 16-byte Request Authenticator: a Message-Authenticator (RFC 3579 section 3.2, HMAC-MD5,
//! always included and placed first, as current servers require against forged replies),
//! User-Name, User-Password hidden with the shared secret (RFC 2865 section 5.2) and
//! NAS-Identifier `rdsports`. [`build_accounting_request`] writes an Accounting-Request with
//! Acct-Status-Type, Acct-Session-Id and NAS-Identifier, its Request Authenticator computed
//! from the secret (RFC 2866 section 3).
//!
//! [`parse_response`] reads an Access-Accept, Access-Reject, Access-Challenge or
//! Accounting-Response with the request's identifier and, when the shared secret is known,
//! verifies its Response Authenticator and any Message-Authenticator: the result is
//! reported as `authenticated` true or false. Any such reply proves a RADIUS server.
//!
//! A RADIUS server silently discards requests from clients it does not know and requests
//! whose authenticator does not verify with the secret (RFC 2865 section 3), so silence is
//! the normal outcome of this probe from an unregistered host: the caller reports the port
//! `open|filtered` with that reason, never `closed`. When the secret is unknown the
//! requests are built with an empty secret; a reply still proves RADIUS but cannot be
//! authenticated. This module does not speak EAP, CHAP, RadSec or dynamic authorization.

use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use thiserror::Error;

use crate::{Exchange, Identification, Progress};

/// The NAS-Identifier the probes send.
pub const NAS_IDENTIFIER: &str = "rdsports";

/// The largest RADIUS packet (RFC 2865 section 3).
pub const MAX_PACKET_LEN: usize = 4096;

/// Access-Request.
pub const ACCESS_REQUEST: u8 = 1;
/// Access-Accept.
pub const ACCESS_ACCEPT: u8 = 2;
/// Access-Reject.
pub const ACCESS_REJECT: u8 = 3;
/// Accounting-Request.
pub const ACCOUNTING_REQUEST: u8 = 4;
/// Accounting-Response.
pub const ACCOUNTING_RESPONSE: u8 = 5;
/// Access-Challenge.
pub const ACCESS_CHALLENGE: u8 = 11;

const USER_NAME: u8 = 1;
const USER_PASSWORD: u8 = 2;
const REPLY_MESSAGE: u8 = 18;
const NAS_IDENTIFIER_TYPE: u8 = 32;
const ACCT_STATUS_TYPE: u8 = 40;
const ACCT_SESSION_ID: u8 = 44;
const MESSAGE_AUTHENTICATOR: u8 = 80;

/// How many characters of a Reply-Message are reported.
const MAX_TEXT: usize = 253;

/// Why a RADIUS packet could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RadiusError {
    /// An attribute value longer than 253 bytes, or a password longer than 128.
    #[error("RADIUS attribute {attribute} is too long ({len} bytes)")]
    AttributeTooLong {
        /// The attribute type.
        attribute: u8,
        /// Its length.
        len: usize,
    },
    /// The datagram is shorter than 20 bytes or than its Length field.
    #[error("RADIUS packet is truncated")]
    Truncated,
    /// A Length field outside 20..=4096.
    #[error("RADIUS Length {0} is out of range")]
    BadLength(usize),
    /// An attribute whose length runs past the packet or is below 2.
    #[error("malformed RADIUS attribute")]
    BadAttribute,
    /// The identifier is not the request's: a late or stray datagram.
    #[error("RADIUS identifier {found} does not match {expected}")]
    IdentifierMismatch {
        /// The request's identifier.
        expected: u8,
        /// The reply's.
        found: u8,
    },
    /// A code that is not a reply to our request kind.
    #[error("RADIUS code {0} is not a reply to this request")]
    UnexpectedCode(u8),
}

/// An Access-Request to build.
#[derive(Debug, Clone, Copy)]
pub struct AccessRequest<'a> {
    /// Identifier: matches the reply to the request.
    pub identifier: u8,
    /// The Request Authenticator: 16 unpredictable bytes chosen by the caller.
    pub authenticator: [u8; 16],
    /// User-Name.
    pub user_name: &'a str,
    /// The password, hidden in User-Password (at most 128 bytes).
    pub password: &'a [u8],
    /// The shared secret, when known (an empty secret is used otherwise).
    pub secret: Option<&'a [u8]>,
}

/// Acct-Status-Type values (RFC 2866 section 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcctStatusType {
    /// Start (1).
    Start,
    /// Stop (2).
    Stop,
    /// Interim-Update (3, RFC 2869).
    InterimUpdate,
    /// Accounting-On (7).
    AccountingOn,
    /// Accounting-Off (8).
    AccountingOff,
}

impl AcctStatusType {
    /// The attribute value.
    pub fn value(self) -> u32 {
        match self {
            AcctStatusType::Start => 1,
            AcctStatusType::Stop => 2,
            AcctStatusType::InterimUpdate => 3,
            AcctStatusType::AccountingOn => 7,
            AcctStatusType::AccountingOff => 8,
        }
    }
}

/// An Accounting-Request to build.
#[derive(Debug, Clone, Copy)]
pub struct AccountingRequest<'a> {
    /// Identifier: matches the reply to the request.
    pub identifier: u8,
    /// Acct-Status-Type.
    pub status_type: AcctStatusType,
    /// Acct-Session-Id.
    pub session_id: &'a str,
    /// The shared secret, when known (an empty secret is used otherwise).
    pub secret: Option<&'a [u8]>,
}

/// Whether a Message-Authenticator in a reply verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageAuthenticator {
    /// The reply has none.
    Absent,
    /// It is present and does not verify with the secret.
    Invalid,
    /// It is present and the secret is unknown.
    Unchecked,
    /// It is present and verifies.
    Valid,
}

/// A parsed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The code.
    pub code: u8,
    /// The identifier.
    pub identifier: u8,
    /// Whether the Response Authenticator (and any Message-Authenticator) verified; `None`
    /// when the secret is unknown.
    pub authenticated: Option<bool>,
    /// The Message-Authenticator check.
    pub message_authenticator: MessageAuthenticator,
    /// The first Reply-Message, if any.
    pub reply_message: Option<String>,
    /// The attribute types present, in order.
    pub attribute_types: Vec<u8>,
}

/// The RFC name of a RADIUS code.
pub fn code_name(code: u8) -> Option<&'static str> {
    Some(match code {
        ACCESS_REQUEST => "Access-Request",
        ACCESS_ACCEPT => "Access-Accept",
        ACCESS_REJECT => "Access-Reject",
        ACCOUNTING_REQUEST => "Accounting-Request",
        ACCOUNTING_RESPONSE => "Accounting-Response",
        ACCESS_CHALLENGE => "Access-Challenge",
        _ => return None,
    })
}

/// Builds an Access-Request (RFC 2865 section 4.1) with a Message-Authenticator.
pub fn build_access_request(request: &AccessRequest<'_>) -> Result<Vec<u8>, RadiusError> {
    let secret = request.secret.unwrap_or(&[]);
    let hidden = hide_password(request.password, secret, &request.authenticator)?;
    let mut packet = Vec::with_capacity(128);
    packet.extend_from_slice(&[ACCESS_REQUEST, request.identifier, 0, 0]);
    packet.extend_from_slice(&request.authenticator);
    // Message-Authenticator first, zeroed while the HMAC is computed.
    let message_authenticator_at = packet.len() + 2;
    push_attribute(&mut packet, MESSAGE_AUTHENTICATOR, &[0; 16])?;
    push_attribute(&mut packet, USER_NAME, request.user_name.as_bytes())?;
    push_attribute(&mut packet, USER_PASSWORD, &hidden)?;
    push_attribute(&mut packet, NAS_IDENTIFIER_TYPE, NAS_IDENTIFIER.as_bytes())?;
    set_length(&mut packet)?;
    let mac = hmac_md5(secret, &packet);
    if let Some(slot) = packet.get_mut(message_authenticator_at..message_authenticator_at + 16) {
        slot.copy_from_slice(&mac);
    }
    Ok(packet)
}

/// Builds an Accounting-Request (RFC 2866 section 4.1); its Request Authenticator, bytes 4
/// to 20 of the result, is MD5(Code + Identifier + Length + 16 zero octets + attributes +
/// secret).
pub fn build_accounting_request(request: &AccountingRequest<'_>) -> Result<Vec<u8>, RadiusError> {
    let secret = request.secret.unwrap_or(&[]);
    let mut packet = Vec::with_capacity(64);
    packet.extend_from_slice(&[ACCOUNTING_REQUEST, request.identifier, 0, 0]);
    packet.extend_from_slice(&[0; 16]);
    push_attribute(
        &mut packet,
        ACCT_STATUS_TYPE,
        &request.status_type.value().to_be_bytes(),
    )?;
    push_attribute(&mut packet, ACCT_SESSION_ID, request.session_id.as_bytes())?;
    push_attribute(&mut packet, NAS_IDENTIFIER_TYPE, NAS_IDENTIFIER.as_bytes())?;
    set_length(&mut packet)?;
    let authenticator = md5_of(&[&packet, secret]);
    if let Some(slot) = packet.get_mut(4..20) {
        slot.copy_from_slice(&authenticator);
    }
    Ok(packet)
}

/// Hides a password (RFC 2865 section 5.2): padded with NULs to a multiple of 16 (16 for
/// an empty one), each block XORed with MD5(secret + previous ciphertext block), the first
/// with MD5(secret + Request Authenticator).
pub fn hide_password(
    password: &[u8],
    secret: &[u8],
    authenticator: &[u8; 16],
) -> Result<Vec<u8>, RadiusError> {
    if password.len() > 128 {
        return Err(RadiusError::AttributeTooLong {
            attribute: USER_PASSWORD,
            len: password.len(),
        });
    }
    let blocks = password.len().div_ceil(16).max(1);
    let mut padded = password.to_vec();
    padded.resize(blocks * 16, 0);
    let mut previous: [u8; 16] = *authenticator;
    let mut out = Vec::with_capacity(padded.len());
    for block in padded.chunks_exact(16) {
        let key = md5_of(&[secret, &previous]);
        let mut cipher = [0_u8; 16];
        for ((slot, plain), mask) in cipher.iter_mut().zip(block).zip(key) {
            *slot = plain ^ mask;
        }
        out.extend_from_slice(&cipher);
        previous = cipher;
    }
    Ok(out)
}

fn push_attribute(packet: &mut Vec<u8>, attribute: u8, value: &[u8]) -> Result<(), RadiusError> {
    let len = u8::try_from(value.len() + 2).map_err(|_| RadiusError::AttributeTooLong {
        attribute,
        len: value.len(),
    })?;
    packet.push(attribute);
    packet.push(len);
    packet.extend_from_slice(value);
    Ok(())
}

fn set_length(packet: &mut [u8]) -> Result<(), RadiusError> {
    if packet.len() > MAX_PACKET_LEN {
        return Err(RadiusError::BadLength(packet.len()));
    }
    // At most 4096: fits in u16.
    let len = (packet.len() as u16).to_be_bytes();
    if let Some(slot) = packet.get_mut(2..4) {
        slot.copy_from_slice(&len);
    }
    Ok(())
}

fn md5_of(parts: &[&[u8]]) -> [u8; 16] {
    let mut hasher = Md5::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

fn hmac_md5(key: &[u8], data: &[u8]) -> [u8; 16] {
    // HMAC accepts keys of any length, so new_from_slice cannot fail; the fallback keeps
    // this total anyway.
    match <Hmac<Md5> as KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().into()
        }
        Err(_) => [0; 16],
    }
}

/// Parses a reply to the request with `identifier` and `request_authenticator`, checking
/// its authenticators with `secret` when it is known. Octets after the Length field are
/// padding and ignored (RFC 2865 section 3).
pub fn parse_response(
    datagram: &[u8],
    identifier: u8,
    request_authenticator: &[u8; 16],
    secret: Option<&[u8]>,
) -> Result<Response, RadiusError> {
    let header = datagram.first_chunk::<4>().ok_or(RadiusError::Truncated)?;
    let [code, found, high, low] = *header;
    let len = usize::from(u16::from_be_bytes([high, low]));
    if !(20..=MAX_PACKET_LEN).contains(&len) {
        return Err(RadiusError::BadLength(len));
    }
    let packet = datagram.get(..len).ok_or(RadiusError::Truncated)?;
    if !matches!(
        code,
        ACCESS_ACCEPT | ACCESS_REJECT | ACCOUNTING_RESPONSE | ACCESS_CHALLENGE
    ) {
        return Err(RadiusError::UnexpectedCode(code));
    }
    if found != identifier {
        return Err(RadiusError::IdentifierMismatch {
            expected: identifier,
            found,
        });
    }
    let response_authenticator = packet.get(4..20).ok_or(RadiusError::Truncated)?;
    let attributes = packet.get(20..).ok_or(RadiusError::Truncated)?;
    let mut attribute_types = Vec::new();
    let mut reply_message = None;
    let mut message_authenticator_at = None;
    let mut offset = 0;
    while offset < attributes.len() {
        let (Some(&attribute), Some(&attribute_len)) =
            (attributes.get(offset), attributes.get(offset + 1))
        else {
            return Err(RadiusError::BadAttribute);
        };
        let attribute_len = usize::from(attribute_len);
        if attribute_len < 2 {
            return Err(RadiusError::BadAttribute);
        }
        let value = attributes
            .get(offset + 2..offset + attribute_len)
            .ok_or(RadiusError::BadAttribute)?;
        // At most (4096 - 20) / 2 attributes.
        attribute_types.push(attribute);
        match attribute {
            REPLY_MESSAGE if reply_message.is_none() => {
                let mut text = String::from_utf8_lossy(value).into_owned();
                if let Some((index, _)) = text.char_indices().nth(MAX_TEXT) {
                    text.truncate(index);
                }
                reply_message = Some(text);
            }
            MESSAGE_AUTHENTICATOR if value.len() == 16 && message_authenticator_at.is_none() => {
                message_authenticator_at = Some(20 + offset + 2);
            }
            _ => {}
        }
        offset += attribute_len;
    }
    let (authenticated, message_authenticator) = match secret {
        None => (
            None,
            if message_authenticator_at.is_some() {
                MessageAuthenticator::Unchecked
            } else {
                MessageAuthenticator::Absent
            },
        ),
        Some(secret) => {
            let header = packet.get(..4).ok_or(RadiusError::Truncated)?;
            // Response Authenticator = MD5(Code + ID + Length + Request Authenticator +
            // Attributes + Secret) (RFC 2865 section 3, RFC 2866 section 3).
            let expected = md5_of(&[header, request_authenticator, attributes, secret]);
            let response_ok = expected.as_slice() == response_authenticator;
            let message_authenticator = match message_authenticator_at {
                None => MessageAuthenticator::Absent,
                Some(at) => {
                    // HMAC-MD5 over the reply with the Request Authenticator in place of the
                    // Response Authenticator and the Message-Authenticator zeroed.
                    let mut copy = packet.to_vec();
                    if let Some(slot) = copy.get_mut(4..20) {
                        slot.copy_from_slice(request_authenticator);
                    }
                    let received = packet.get(at..at + 16).ok_or(RadiusError::Truncated)?;
                    if let Some(slot) = copy.get_mut(at..at + 16) {
                        slot.fill(0);
                    }
                    if hmac_md5(secret, &copy).as_slice() == received {
                        MessageAuthenticator::Valid
                    } else {
                        MessageAuthenticator::Invalid
                    }
                }
            };
            let authenticated =
                response_ok && message_authenticator != MessageAuthenticator::Invalid;
            (Some(authenticated), message_authenticator)
        }
    };
    Ok(Response {
        code,
        identifier: found,
        authenticated,
        message_authenticator,
        reply_message,
        attribute_types,
    })
}

/// What a reply tells about the server: service `radius`.
pub fn identify(response: &Response) -> Identification {
    let mut identification = Identification::service("radius")
        .with("code", response.code)
        .with("code_name", code_name(response.code).unwrap_or("unknown"));
    if let Some(authenticated) = response.authenticated {
        identification = identification.with("authenticated", authenticated);
    }
    let message_authenticator = match response.message_authenticator {
        MessageAuthenticator::Absent => "absent",
        MessageAuthenticator::Invalid => "invalid",
        MessageAuthenticator::Unchecked => "unchecked",
        MessageAuthenticator::Valid => "valid",
    };
    identification = identification.with("message_authenticator", message_authenticator);
    if let Some(message) = &response.reply_message {
        identification = identification.with("reply_message", message.clone());
    }
    identification.note = match response.authenticated {
        Some(false) => {
            Some("the reply's authenticator does not verify: the shared secret differs".to_owned())
        }
        Some(true) => None,
        None => Some("shared secret unknown: the reply is not authenticated".to_owned()),
    };
    identification
}

/// A RADIUS probe: one request datagram, then the reply with its identifier.
#[derive(Debug, Clone)]
struct Probe {
    packet: Vec<u8>,
    identifier: u8,
    authenticator: [u8; 16],
    secret: Option<Vec<u8>>,
    accepted_codes: &'static [u8],
}

impl Probe {
    fn on_bytes(&self, received: &[u8]) -> Progress {
        let parsed = parse_response(
            received,
            self.identifier,
            &self.authenticator,
            self.secret.as_deref(),
        );
        match parsed {
            Ok(response) if self.accepted_codes.contains(&response.code) => {
                Progress::Done(identify(&response))
            }
            Ok(response) => {
                let mut identification = identify(&response);
                identification.note = Some(format!(
                    "{} is not a reply to this request",
                    code_name(response.code).unwrap_or("unknown code")
                ));
                Progress::Done(identification)
            }
            // A reply to another request: keep waiting for ours.
            Err(RadiusError::IdentifierMismatch { .. }) => Progress::NeedMore,
            Err(error) => Progress::Done(Identification::unrecognised(format!(
                "not a RADIUS reply: {error}"
            ))),
        }
    }
}

/// The `radius` authentication probe: an Access-Request to UDP 1812 (or 1645).
///
/// Silence is the normal outcome from a host that is not a registered RADIUS client.
#[derive(Debug, Clone)]
pub struct RadiusAccess {
    probe: Probe,
}

impl RadiusAccess {
    /// A probe sending `request`.
    pub fn new(request: &AccessRequest<'_>) -> Result<Self, RadiusError> {
        Ok(RadiusAccess {
            probe: Probe {
                packet: build_access_request(request)?,
                identifier: request.identifier,
                authenticator: request.authenticator,
                secret: request.secret.map(<[u8]>::to_vec),
                accepted_codes: &[ACCESS_ACCEPT, ACCESS_REJECT, ACCESS_CHALLENGE],
            },
        })
    }
}

impl Exchange for RadiusAccess {
    fn start(&mut self) -> Vec<u8> {
        self.probe.packet.clone()
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        self.probe.on_bytes(received)
    }

    fn max_len(&self) -> usize {
        MAX_PACKET_LEN
    }
}

/// The `radius` accounting probe: an Accounting-Request to UDP 1813 (or 1646).
///
/// Silence is the normal outcome from a host that is not a registered RADIUS client.
#[derive(Debug, Clone)]
pub struct RadiusAccounting {
    probe: Probe,
}

impl RadiusAccounting {
    /// A probe sending `request`.
    pub fn new(request: &AccountingRequest<'_>) -> Result<Self, RadiusError> {
        let packet = build_accounting_request(request)?;
        let mut authenticator = [0_u8; 16];
        if let Some(bytes) = packet.get(4..20) {
            authenticator.copy_from_slice(bytes);
        }
        Ok(RadiusAccounting {
            probe: Probe {
                packet,
                identifier: request.identifier,
                authenticator,
                secret: request.secret.map(<[u8]>::to_vec),
                accepted_codes: &[ACCOUNTING_RESPONSE],
            },
        })
    }
}

impl Exchange for RadiusAccounting {
    fn start(&mut self) -> Vec<u8> {
        self.probe.packet.clone()
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        self.probe.on_bytes(received)
    }

    fn max_len(&self) -> usize {
        MAX_PACKET_LEN
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    use crate::testutil::hex;

    /// The shared secret, Request Authenticator, user and password of the example in
    /// RFC 2865 section 7.1.
    const SECRET: &[u8] = b"xyzzy5461";
    const REQUEST_AUTHENTICATOR: [u8; 16] = [
        0x0f, 0x40, 0x3f, 0x94, 0x73, 0x97, 0x80, 0x57, 0xbd, 0x83, 0xd5, 0xcb, 0x98, 0xf4, 0x22,
        0x7a,
    ];

    fn rfc_request() -> AccessRequest<'static> {
        AccessRequest {
            identifier: 0,
            authenticator: REQUEST_AUTHENTICATOR,
            user_name: "nemo",
            password: b"arctangent",
            secret: Some(SECRET),
        }
    }

    #[test]
    fn hides_password_as_rfc_2865_example() {
        // RFC 2865 section 7.1: User-Password 02 12 0d be 70 8d 93 d4 13 ce 31 96 e4 3f 78 2a 0a ee
        let hidden = hide_password(b"arctangent", SECRET, &REQUEST_AUTHENTICATOR).unwrap();
        assert_eq!(
            hidden,
            hex("0d be 70 8d 93 d4 13 ce 31 96 e4 3f 78 2a 0a ee")
        );
        // Two blocks chain the first ciphertext block into the second key.
        let long = hide_password(&[b'a'; 17], SECRET, &REQUEST_AUTHENTICATOR).unwrap();
        assert_eq!(long.len(), 32);
        assert_eq!(
            hide_password(b"", SECRET, &REQUEST_AUTHENTICATOR)
                .unwrap()
                .len(),
            16
        );
        assert!(hide_password(&[0; 129], SECRET, &REQUEST_AUTHENTICATOR).is_err());
    }

    /// The Message-Authenticator (and, below, the accounting authenticators) were computed
    /// outside this crate with Python's hashlib and hmac.
    #[test]
    fn builds_access_request() {
        let expected = hex(concat!(
            "01 00 00 48",                                     // Access-Request, id 0, length 72
            "0f 40 3f 94 73 97 80 57 bd 83 d5 cb 98 f4 22 7a", // Request Authenticator
            "50 12 55 b6 fb 8a 87 63 75 13 59 b0 eb bb c6 01 d2 d2", // Message-Authenticator
            "01 06 6e 65 6d 6f",                               // User-Name "nemo"
            "02 12 0d be 70 8d 93 d4 13 ce 31 96 e4 3f 78 2a 0a ee", // User-Password
            "20 0a 72 64 73 70 6f 72 74 73",                   // NAS-Identifier "rdsports"
        ));
        assert_eq!(build_access_request(&rfc_request()).unwrap(), expected);
        assert_eq!(RadiusAccess::new(&rfc_request()).unwrap().start(), expected);
    }

    #[test]
    fn verifies_rfc_2865_access_accept() {
        // RFC 2865 section 7.1: the Access-Accept to the request above.
        let accept = hex(concat!(
            "02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf 9b 55 e0 b2",
            "06 06 00 00 00 01 0f 06 00 00 00 00 0e 06 c0 a8 01 03",
        ));
        let response = parse_response(&accept, 0, &REQUEST_AUTHENTICATOR, Some(SECRET)).unwrap();
        assert_eq!(response.code, ACCESS_ACCEPT);
        assert_eq!(response.authenticated, Some(true));
        assert_eq!(response.message_authenticator, MessageAuthenticator::Absent);
        assert_eq!(response.attribute_types, [6, 15, 14]);
        let wrong = parse_response(&accept, 0, &REQUEST_AUTHENTICATOR, Some(b"other")).unwrap();
        assert_eq!(wrong.authenticated, Some(false));
    }

    /// An Access-Reject to the request above with a Message-Authenticator and a
    /// Reply-Message. Both authenticators were computed outside this crate (Python's
    /// hashlib and hmac) with the RFC 2865 example secret, following RFC 2865 section 3 and
    /// RFC 3579 section 3.2.
    fn access_reject() -> Vec<u8> {
        hex(concat!(
            "03 00 00 35",                                     // Access-Reject, id 0, length 53
            "b9 25 36 f4 7e f3 df 16 63 96 7a e3 34 86 44 07", // Response Authenticator
            "50 12 ea 8b 43 14 7a 3d 0a e1 52 d1 4e 2a 43 cb 4d 16", // Message-Authenticator
            "12 0f 41 63 63 65 73 73 20 64 65 6e 69 65 64",    // Reply-Message "Access denied"
        ))
    }

    #[test]
    fn verifies_access_reject_with_message_authenticator() {
        let mut probe = RadiusAccess::new(&rfc_request()).unwrap();
        let Progress::Done(identification) = probe.on_bytes(&access_reject()) else {
            panic!()
        };
        assert_eq!(identification.service, Some("radius"));
        assert_eq!(identification.detail["code_name"], "Access-Reject");
        assert_eq!(identification.detail["authenticated"], true);
        assert_eq!(identification.detail["message_authenticator"], "valid");
        assert_eq!(identification.detail["reply_message"], "Access denied");
        assert_eq!(identification.note, None);
        // A flipped bit in the Message-Authenticator fails the check (the Response
        // Authenticator covers it too).
        let mut forged = access_reject();
        forged[22] ^= 0x01;
        let response = parse_response(&forged, 0, &REQUEST_AUTHENTICATOR, Some(SECRET)).unwrap();
        assert_eq!(
            response.message_authenticator,
            MessageAuthenticator::Invalid
        );
        assert_eq!(response.authenticated, Some(false));
        // Without the secret: still RADIUS, not authenticated.
        let unknown = parse_response(&access_reject(), 0, &REQUEST_AUTHENTICATOR, None).unwrap();
        assert_eq!(unknown.authenticated, None);
        assert_eq!(
            unknown.message_authenticator,
            MessageAuthenticator::Unchecked
        );
        assert!(identify(&unknown).note.unwrap().contains("unknown"));
    }

    #[test]
    fn builds_accounting_request_and_verifies_response() {
        let request = AccountingRequest {
            identifier: 7,
            status_type: AcctStatusType::Start,
            session_id: "rdsports-0001",
            secret: Some(SECRET),
        };
        let expected = hex(concat!(
            "04 07 00 33", // Accounting-Request, id 7, length 51
            "bb c4 4e 1d fb 3f c8 e4 84 ce 7b 69 6c 4f d5 0f", // MD5(packet with zeros + secret)
            "28 06 00 00 00 01", // Acct-Status-Type Start
            "2c 0f 72 64 73 70 6f 72 74 73 2d 30 30 30 31", // Acct-Session-Id
            "20 0a 72 64 73 70 6f 72 74 73", // NAS-Identifier
        ));
        assert_eq!(build_accounting_request(&request).unwrap(), expected);
        let mut probe = RadiusAccounting::new(&request).unwrap();
        assert_eq!(probe.start(), expected);
        // Accounting-Response: MD5(05 07 00 14 + Request Authenticator + secret).
        let reply = hex("05 07 00 14 2e e7 fa 98 e3 ce e7 c6 c1 2b be 13 cc bb b2 df");
        let Progress::Done(identification) = probe.on_bytes(&reply) else {
            panic!()
        };
        assert_eq!(identification.detail["code_name"], "Accounting-Response");
        assert_eq!(identification.detail["authenticated"], true);
        assert_eq!(AcctStatusType::AccountingOff.value(), 8);
    }

    #[test]
    fn exchange_filters_and_rejects() {
        let mut probe = RadiusAccess::new(&rfc_request()).unwrap();
        // Another identifier: a stray datagram.
        let mut stray = access_reject();
        stray[1] = 9;
        assert_eq!(probe.on_bytes(&stray), Progress::NeedMore);
        // An echoed request is not a RADIUS server's reply.
        let request = build_access_request(&rfc_request()).unwrap();
        let Progress::Done(identification) = probe.on_bytes(&request) else {
            panic!()
        };
        assert_eq!(identification.service, None);
        // Padding after Length is ignored; a Length beyond the datagram is truncation.
        let mut padded = access_reject();
        padded.extend_from_slice(&[0; 7]);
        assert!(parse_response(&padded, 0, &REQUEST_AUTHENTICATOR, Some(SECRET)).is_ok());
        assert_eq!(
            parse_response(&access_reject()[..52], 0, &REQUEST_AUTHENTICATOR, None),
            Err(RadiusError::Truncated)
        );
        assert_eq!(
            parse_response(&hex("02 00 00 13"), 0, &REQUEST_AUTHENTICATOR, None),
            Err(RadiusError::BadLength(19))
        );
        // An attribute with length 1.
        let bad = hex("02 00 00 16 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 01");
        assert_eq!(
            parse_response(&bad, 0, &REQUEST_AUTHENTICATOR, None),
            Err(RadiusError::BadAttribute)
        );
        // An Accounting-Response to an Access-Request is RADIUS, with a note.
        let reply = hex("05 00 00 14 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
        let Progress::Done(identification) = probe.on_bytes(&reply) else {
            panic!()
        };
        assert_eq!(identification.service, Some("radius"));
        assert!(identification.note.unwrap().contains("not a reply"));
    }

    #[test]
    fn truncated_replies_are_clean() {
        let reply = access_reject();
        let mut probe = RadiusAccess::new(&rfc_request()).unwrap();
        for len in 0..reply.len() {
            let Progress::Done(identification) = probe.on_bytes(&reply[..len]) else {
                panic!("{len}")
            };
            assert_eq!(identification.service, None, "{len}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_response(&bytes, 0, &REQUEST_AUTHENTICATOR, Some(SECRET));
            let _ = parse_response(&bytes, 0, &REQUEST_AUTHENTICATOR, None);
            if bytes.len() >= 2 {
                let _ = parse_response(&bytes, bytes[1], &REQUEST_AUTHENTICATOR, Some(SECRET));
            }
            let _ = RadiusAccess::new(&rfc_request()).unwrap().on_bytes(&bytes);
        }

        #[test]
        fn any_password_builds(password in proptest::collection::vec(any::<u8>(), 0..=128)) {
            let mut request = rfc_request();
            request.password = &password;
            let packet = build_access_request(&request).unwrap();
            prop_assert_eq!(usize::from(u16::from_be_bytes([packet[2], packet[3]])), packet.len());
        }
    }
}
