//! The rdsports listener handshake: our own tiny protocol between `rdsports check` (the
//! prober) and `rdsports listen` (a stand-in listener on a port whose real service is not
//! installed yet), over TCP or UDP. It proves that a packet from the prober reached that
//! host and port and that the answer came back, and shows the source address the listener
//! saw (NAT and proxies change it).
//!
//! What it does: builds and parses both messages, for both sides. The request is padded to
//! a fixed [`REQUEST_LEN`] and a reply is never longer than the request it answers, so a
//! listener cannot be used to amplify spoofed UDP traffic.
//!
//! What it does not do: authenticate either side (the nonce only ties a reply to its
//! request) or carry anything secret.
//!
//! Request, [`REQUEST_LEN`] = 192 bytes:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `RDSP` |
//! | 4 | 1 | version, 1 |
//! | 5 | 1 | type, 1 = request |
//! | 6 | 16 | nonce, chosen by the prober |
//! | 22 | 170 | zero padding (ignored by the listener) |
//!
//! Reply, 29 to 106 bytes:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | magic `RDSP` |
//! | 4 | 1 | version, 1 |
//! | 5 | 1 | type, 2 = reply |
//! | 6 | 16 | the request's nonce |
//! | 22 | 2 | the port the listener is bound to, big-endian |
//! | 24 | 1 | address family of the source it saw: 4 or 6 |
//! | 25 | 4 or 16 | that source address |
//! | 29 or 41 | 1 | host name length n, at most 64 |
//! | 30 or 42 | n | the listener's host name, UTF-8, cut on a character boundary |

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::{Exchange, Identification, Progress};

/// The protocol magic.
pub const MAGIC: [u8; 4] = *b"RDSP";
/// The protocol version.
pub const VERSION: u8 = 1;
/// The size of every request.
pub const REQUEST_LEN: usize = 192;
/// The longest host name carried in a reply, in bytes.
pub const MAX_HOST_LEN: usize = 64;
/// The longest possible reply.
pub const MAX_REPLY_LEN: usize = 22 + 2 + 1 + 16 + 1 + MAX_HOST_LEN;

const TYPE_REQUEST: u8 = 1;
const TYPE_REPLY: u8 = 2;
const HEADER_LEN: usize = 22;

/// The outcome of examining bytes a listener received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestCheck {
    /// A valid prefix of a request: read more (streams only).
    NeedMore,
    /// A complete request carrying this nonce.
    Request([u8; 16]),
    /// Not an rdsports request.
    NotRdsports,
}

/// A parsed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The nonce the listener echoed.
    pub nonce: [u8; 16],
    /// The port the listener is bound to.
    pub port: u16,
    /// The source address the listener saw.
    pub seen: IpAddr,
    /// The listener's host name.
    pub host: String,
}

/// Why a reply could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes so far are a valid prefix; more are needed.
    #[error("incomplete listener reply")]
    Incomplete,
    /// The bytes are not an rdsports listener reply.
    #[error("{0}")]
    Invalid(String),
}

/// Builds the 192-byte request.
pub fn build_request(nonce: [u8; 16]) -> Vec<u8> {
    let mut out = Vec::with_capacity(REQUEST_LEN);
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.push(TYPE_REQUEST);
    out.extend_from_slice(&nonce);
    out.resize(REQUEST_LEN, 0);
    out
}

/// Examines bytes a listener received (a datagram, or the stream so far).
pub fn check_request(buf: &[u8]) -> RequestCheck {
    let expected_head = [
        MAGIC[0],
        MAGIC[1],
        MAGIC[2],
        MAGIC[3],
        VERSION,
        TYPE_REQUEST,
    ];
    let n = buf.len().min(expected_head.len());
    if buf.get(..n) != expected_head.get(..n) {
        return RequestCheck::NotRdsports;
    }
    if buf.len() < REQUEST_LEN {
        return RequestCheck::NeedMore;
    }
    match buf
        .get(6..HEADER_LEN)
        .and_then(|s| <[u8; 16]>::try_from(s).ok())
    {
        Some(nonce) => RequestCheck::Request(nonce),
        None => RequestCheck::NotRdsports,
    }
}

/// The nonce of a complete, valid request; `None` otherwise.
pub fn parse_request(buf: &[u8]) -> Option<[u8; 16]> {
    match check_request(buf) {
        RequestCheck::Request(nonce) => Some(nonce),
        RequestCheck::NeedMore | RequestCheck::NotRdsports => None,
    }
}

/// Builds the reply to a request of `request_len` bytes. The result is never longer than
/// `request_len`: the host name is shortened to fit (on a character boundary, control
/// characters dropped), and when even an empty host name does not fit the result is empty
/// (send nothing).
pub fn build_reply(
    nonce: [u8; 16],
    host: &str,
    port: u16,
    seen: IpAddr,
    request_len: usize,
) -> Vec<u8> {
    let addr: Vec<u8> = match seen {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    };
    let fixed = HEADER_LEN + 2 + 1 + addr.len() + 1;
    let Some(room) = request_len.checked_sub(fixed) else {
        return Vec::new();
    };
    let budget = room.min(MAX_HOST_LEN);
    let mut name = String::new();
    for c in host.chars().filter(|c| !c.is_control()) {
        if name.len() + c.len_utf8() > budget {
            break;
        }
        name.push(c);
    }
    let mut out = Vec::with_capacity(fixed + name.len());
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.push(TYPE_REPLY);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&port.to_be_bytes());
    out.push(if seen.is_ipv4() { 4 } else { 6 });
    out.extend_from_slice(&addr);
    // `name.len() <= budget <= MAX_HOST_LEN = 64` fits in a byte.
    out.push(name.len() as u8);
    out.extend_from_slice(name.as_bytes());
    out
}

/// Parses a reply (trailing bytes are ignored).
pub fn parse_reply(buf: &[u8]) -> Result<Reply, Error> {
    let n = buf.len().min(6);
    if buf.get(..4.min(n)) != MAGIC.get(..4.min(n)) {
        return Err(Error::Invalid("no RDSP magic".into()));
    }
    if let Some(&v) = buf.get(4)
        && v != VERSION
    {
        return Err(Error::Invalid(format!(
            "rdsports handshake version {v}, expected {VERSION}"
        )));
    }
    if let Some(&t) = buf.get(5)
        && t != TYPE_REPLY
    {
        return Err(Error::Invalid(if t == TYPE_REQUEST {
            "our own request came back (an echo service?)".to_owned()
        } else {
            format!("message type {t}, expected a reply")
        }));
    }
    let Some(nonce) = buf
        .get(6..HEADER_LEN)
        .and_then(|s| <[u8; 16]>::try_from(s).ok())
    else {
        return Err(Error::Incomplete);
    };
    let (Some(port), Some(&family)) = (buf.get(22..24), buf.get(24)) else {
        return Err(Error::Incomplete);
    };
    // `port` is exactly 2 bytes long.
    let port = u16::from_be_bytes([port[0], port[1]]);
    let (seen, after) = match family {
        4 => {
            let Some(a) = buf.get(25..29).and_then(|s| <[u8; 4]>::try_from(s).ok()) else {
                return Err(Error::Incomplete);
            };
            (IpAddr::V4(Ipv4Addr::from(a)), 29)
        }
        6 => {
            let Some(a) = buf.get(25..41).and_then(|s| <[u8; 16]>::try_from(s).ok()) else {
                return Err(Error::Incomplete);
            };
            (IpAddr::V6(Ipv6Addr::from(a)), 41)
        }
        other => return Err(Error::Invalid(format!("address family {other}"))),
    };
    let Some(&len) = buf.get(after) else {
        return Err(Error::Incomplete);
    };
    let len = usize::from(len);
    if len > MAX_HOST_LEN {
        return Err(Error::Invalid(format!("host name of {len} bytes")));
    }
    let Some(name) = buf.get(after + 1..after + 1 + len) else {
        return Err(Error::Incomplete);
    };
    let host: String = String::from_utf8_lossy(name)
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    Ok(Reply {
        nonce,
        port,
        seen,
        host,
    })
}

/// The prober's side of the handshake.
#[derive(Debug, Clone)]
pub struct ListenerHandshake {
    nonce: [u8; 16],
}

impl ListenerHandshake {
    /// A handshake with the caller's random nonce.
    pub fn new(nonce: [u8; 16]) -> Self {
        ListenerHandshake { nonce }
    }
}

impl Exchange for ListenerHandshake {
    fn start(&mut self) -> Vec<u8> {
        build_request(self.nonce)
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        match parse_reply(received) {
            Ok(reply) => {
                let nonce_ok = reply.nonce == self.nonce;
                let mut id = Identification::service("rdsports-listener")
                    .with("host", reply.host)
                    .with("port", reply.port)
                    .with("seen_source", reply.seen.to_string())
                    .with(rdsports_schema::check::facts::NONCE_OK, nonce_ok);
                if !nonce_ok {
                    id.note = Some("nonce mismatch".to_owned());
                }
                Progress::Done(id)
            }
            Err(Error::Incomplete) if received.len() < MAX_REPLY_LEN => Progress::NeedMore,
            Err(Error::Incomplete) => {
                Progress::Done(Identification::unrecognised("listener reply too long"))
            }
            Err(Error::Invalid(why)) => Progress::Done(Identification::unrecognised(format!(
                "not an rdsports listener: {why}"
            ))),
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

    const NONCE: [u8; 16] = [0xA5; 16];

    #[test]
    fn request_bytes() {
        let r = ListenerHandshake::new(NONCE).start();
        assert_eq!(r.len(), 192);
        assert_eq!(&r[..6], b"RDSP\x01\x01");
        assert_eq!(&r[6..22], &NONCE);
        assert!(r[22..].iter().all(|&b| b == 0));
    }

    #[test]
    fn listener_side() {
        let req = build_request(NONCE);
        assert_eq!(parse_request(&req), Some(NONCE));
        assert_eq!(check_request(&req[..100]), RequestCheck::NeedMore);
        assert_eq!(check_request(&req[..3]), RequestCheck::NeedMore);
        assert_eq!(
            check_request(b"GET / HTTP/1.1\r\n"),
            RequestCheck::NotRdsports
        );
        assert_eq!(parse_request(&req[..191]), None);
        let mut reply_type = req.clone();
        reply_type[5] = 2;
        assert_eq!(parse_request(&reply_type), None);
    }

    #[test]
    fn reply_bytes_ipv4() {
        let reply = build_reply(
            NONCE,
            "rdsh01",
            3389,
            "198.51.100.7".parse().unwrap(),
            REQUEST_LEN,
        );
        let mut expected = b"RDSP\x01\x02".to_vec();
        expected.extend_from_slice(&NONCE);
        expected.extend_from_slice(&[0x0d, 0x3d]); // port 3389
        expected.extend_from_slice(&[4, 198, 51, 100, 7]);
        expected.push(6);
        expected.extend_from_slice(b"rdsh01");
        assert_eq!(reply, expected);
    }

    #[test]
    fn round_trip_ipv6() {
        let seen: IpAddr = "2001:db8::5".parse().unwrap();
        let reply = build_reply(NONCE, "gateway.corp.example.test", 443, seen, REQUEST_LEN);
        let Progress::Done(id) = ListenerHandshake::new(NONCE).on_bytes(&reply) else {
            panic!()
        };
        assert_eq!(id.service, Some("rdsports-listener"));
        assert_eq!(id.detail["host"], "gateway.corp.example.test");
        assert_eq!(id.detail["port"], 443);
        assert_eq!(id.detail["seen_source"], "2001:db8::5");
        assert_eq!(id.detail["nonce_ok"], true);
        assert_eq!(id.note, None);
    }

    #[test]
    fn nonce_mismatch() {
        let reply = build_reply(
            [1; 16],
            "h",
            3389,
            "127.0.0.1".parse().unwrap(),
            REQUEST_LEN,
        );
        let Progress::Done(id) = ListenerHandshake::new(NONCE).on_bytes(&reply) else {
            panic!()
        };
        assert_eq!(id.service, Some("rdsports-listener"));
        assert_eq!(id.detail["nonce_ok"], false);
        assert_eq!(id.note.as_deref(), Some("nonce mismatch"));
    }

    #[test]
    fn not_a_listener() {
        for bytes in [&b"SSH-2.0-x\r\n"[..], b"RDSX", b"RDSP\x02\x02"] {
            let Progress::Done(id) = ListenerHandshake::new(NONCE).on_bytes(bytes) else {
                panic!()
            };
            assert_eq!(id.service, None);
        }
        // An echo service reflects our request.
        let Progress::Done(id) = ListenerHandshake::new(NONCE).on_bytes(&build_request(NONCE))
        else {
            panic!()
        };
        assert!(id.note.unwrap().contains("echo"));
    }

    #[test]
    fn host_is_cut_on_a_character_boundary() {
        let host = "é".repeat(40); // 80 bytes
        let reply = build_reply(NONCE, &host, 1, "127.0.0.1".parse().unwrap(), REQUEST_LEN);
        let parsed = parse_reply(&reply).unwrap();
        assert_eq!(parsed.host, "é".repeat(32));
        // A short request leaves less room: 30 fixed bytes + 3 for the name.
        let reply = build_reply(NONCE, "abcdef", 1, "127.0.0.1".parse().unwrap(), 33);
        assert_eq!(reply.len(), 33);
        assert_eq!(parse_reply(&reply).unwrap().host, "abc");
        assert!(build_reply(NONCE, "abc", 1, "::1".parse().unwrap(), 41).is_empty());
    }

    #[test]
    fn every_truncation_needs_more() {
        let reply = build_reply(NONCE, "rdsh01", 3389, "::1".parse().unwrap(), REQUEST_LEN);
        for n in 0..reply.len() {
            assert_eq!(
                ListenerHandshake::new(NONCE).on_bytes(&reply[..n]),
                Progress::NeedMore,
                "prefix {n}"
            );
        }
    }

    fn any_ip() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(IpAddr::from),
            any::<[u8; 16]>().prop_map(IpAddr::from),
        ]
    }

    proptest! {
        #[test]
        fn reply_never_exceeds_request(
            nonce in any::<[u8; 16]>(),
            host in "\\PC{0,100}",
            port in any::<u16>(),
            seen in any_ip(),
            request_len in 0usize..400,
        ) {
            let reply = build_reply(nonce, &host, port, seen, request_len);
            prop_assert!(reply.len() <= request_len);
            if !reply.is_empty() {
                let parsed = parse_reply(&reply).unwrap();
                prop_assert_eq!(parsed.nonce, nonce);
                prop_assert_eq!(parsed.port, port);
                prop_assert_eq!(parsed.seen, seen);
                let clean: String = host.chars().filter(|c| !c.is_control()).collect();
                prop_assert!(clean.starts_with(&parsed.host));
            }
            prop_assert!(reply.len() <= MAX_REPLY_LEN);
        }

        #[test]
        fn full_request_always_gets_a_reply(nonce in any::<[u8; 16]>(), host in "\\PC{0,100}", seen in any_ip()) {
            let req = build_request(nonce);
            let got = parse_request(&req).unwrap();
            let reply = build_reply(got, &host, 3389, seen, req.len());
            prop_assert!(!reply.is_empty());
            prop_assert!(reply.len() < req.len());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse_reply(&bytes);
            let _ = check_request(&bytes);
            let _ = ListenerHandshake::new(NONCE).on_bytes(&bytes);
        }
    }
}
