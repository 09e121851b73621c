//! SQL Server: the TDS PRELOGIN exchange (MS-TDS 2.2.4 packet header, 2.2.6.5 PRELOGIN) on
//! TCP 1433, and the SQL Server Browser (MC-SQLR 2.2.2 `CLNT_UCAST_EX`, 2.2.3
//! `CLNT_UCAST_INST`, 2.2.5 `SVR_RESP`) on UDP 1434.
//!
//! What it does: sends a PRELOGIN with VERSION, ENCRYPTION, INSTOPT, THREADID and MARS and
//! reads the server's PRELOGIN answer: its version (`major.minor.build`, with the product
//! year), its encryption setting (off, on, not supported, required), MARS and whether
//! federated authentication is required. Asks the Browser for its instance list and parses
//! each instance's server name, instance name, clustering, version, TCP port and pipe.
//!
//! What it does not do: TLS (which a PRELOGIN with encryption would start next), LOGIN7 or
//! any query. A server in TDS 8 "strict" mode expects TLS before PRELOGIN; its TLS alert is
//! reported as such.
//!
//! PRELOGIN request (47 bytes, multi-byte fields big-endian):
//!
//! | offset | bytes | meaning |
//! |---|---|---|
//! | 0 | `12 01 00 2f 00 00 01 00` | header: type PRELOGIN, status EOM, length 47, SPID 0, packet 1, window 0 |
//! | 8 | `00 00 1a 00 06` | VERSION at payload offset 26, 6 bytes |
//! | 13 | `01 00 20 00 01` | ENCRYPTION at 32, 1 byte |
//! | 18 | `02 00 21 00 01` | INSTOPT at 33, 1 byte |
//! | 23 | `03 00 22 00 04` | THREADID at 34, 4 bytes |
//! | 28 | `04 00 26 00 01` | MARS at 38, 1 byte |
//! | 33 | `ff` | TERMINATOR |
//! | 34 | `00 00 00 00 00 00` | client version 0.0.0.0 |
//! | 40 | `00` | ENCRYPT_OFF: "I can encrypt the login", the server's answer says what it needs |
//! | 41 | `00` | instance name: empty (NUL) |
//! | 42 | 4 bytes | thread id (a parameter) |
//! | 46 | `00` | MARS off |

use std::collections::BTreeSet;

use crate::{Exchange, Identification, Progress};
use serde_json::{Map, Value};

/// TDS packet type PRELOGIN.
pub const TYPE_PRELOGIN: u8 = 0x12;
/// TDS packet type of a server response (tabular result).
pub const TYPE_RESPONSE: u8 = 0x04;
/// `ENCRYPT_OFF`.
pub const ENCRYPT_OFF: u8 = 0x00;
/// `ENCRYPT_ON`.
pub const ENCRYPT_ON: u8 = 0x01;
/// `ENCRYPT_NOT_SUP`.
pub const ENCRYPT_NOT_SUP: u8 = 0x02;
/// `ENCRYPT_REQ`.
pub const ENCRYPT_REQ: u8 = 0x03;

/// The largest PRELOGIN response accepted (all packets).
pub const MAX_PRELOGIN_LEN: usize = 8 * 1024;
/// The largest Browser response (MC-SQLR allows 65,535 data bytes).
pub const MAX_BROWSER_LEN: usize = 3 + 65_535;

const HEADER_LEN: usize = 8;
const STATUS_EOM: u8 = 0x01;
const MAX_OPTIONS: usize = 32;
const MAX_INSTANCES: usize = 256;
const SVR_RESP: u8 = 0x05;

/// Why a reply could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes so far are a valid prefix; more are needed.
    #[error("incomplete reply")]
    Incomplete,
    /// The bytes are not the expected reply.
    #[error("{0}")]
    Invalid(String),
}

fn invalid(why: impl Into<String>) -> Error {
    Error::Invalid(why.into())
}

/// The fields of a PRELOGIN response this probe reports.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Prelogin {
    /// VERSION: (major, minor, build, sub-build).
    pub version: Option<(u8, u8, u16, u16)>,
    /// ENCRYPTION.
    pub encryption: Option<u8>,
    /// INSTOPT (0 when the instance name matched).
    pub instance_ok: Option<u8>,
    /// MARS.
    pub mars: Option<u8>,
    /// FEDAUTHREQUIRED.
    pub fed_auth_required: Option<u8>,
    /// The option tokens present, in order.
    pub tokens: Vec<u8>,
}

/// Builds the PRELOGIN request described in the module docs.
pub fn build_prelogin(encryption: u8, thread_id: u32) -> Vec<u8> {
    let mut p = vec![
        TYPE_PRELOGIN,
        STATUS_EOM,
        0x00,
        0x2f,
        0x00,
        0x00,
        0x01,
        0x00,
    ];
    for (token, offset, len) in [
        (0u8, 26u16, 6u16),
        (1, 32, 1),
        (2, 33, 1),
        (3, 34, 4),
        (4, 38, 1),
    ] {
        p.push(token);
        p.extend_from_slice(&offset.to_be_bytes());
        p.extend_from_slice(&len.to_be_bytes());
    }
    p.push(0xFF);
    p.extend_from_slice(&[0; 6]); // VERSION
    p.push(encryption);
    p.push(0); // INSTOPT: empty name
    p.extend_from_slice(&thread_id.to_be_bytes());
    p.push(0); // MARS off
    p
}

/// Joins the payloads of the TDS packets of one message (up to the EOM packet).
fn tds_message(buf: &[u8]) -> Result<Vec<u8>, Error> {
    let mut payload = Vec::new();
    let mut at = 0;
    loop {
        let rest = buf.get(at..).unwrap_or(&[]);
        if let Some(&t) = rest.first()
            && t != TYPE_RESPONSE
        {
            if at == 0 && t == 0x15 {
                return Err(invalid(
                    "a TLS alert: the server may require TDS 8 strict encryption (TLS first)",
                ));
            }
            return Err(invalid(format!("TDS packet type {t:#04x}, expected 0x04")));
        }
        let Some(h) = rest.get(..HEADER_LEN) else {
            return Err(Error::Incomplete);
        };
        // `h` is exactly HEADER_LEN bytes long.
        let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
        if len < HEADER_LEN {
            return Err(invalid(format!("TDS packet length {len}")));
        }
        if at + len > MAX_PRELOGIN_LEN {
            return Err(invalid("PRELOGIN response too large"));
        }
        let Some(packet) = rest.get(..len) else {
            return Err(Error::Incomplete);
        };
        payload.extend_from_slice(packet.get(HEADER_LEN..).unwrap_or(&[]));
        at += len;
        if h[1] & STATUS_EOM != 0 {
            return Ok(payload);
        }
    }
}

/// Parses a PRELOGIN option list (the payload of the TDS message).
pub fn parse_prelogin_payload(payload: &[u8]) -> Result<Prelogin, Error> {
    let mut out = Prelogin::default();
    let mut at = 0;
    for _ in 0..MAX_OPTIONS {
        let &token = payload
            .get(at)
            .ok_or_else(|| invalid("option list without TERMINATOR"))?;
        if token == 0xFF {
            return Ok(out);
        }
        let entry = payload
            .get(at + 1..at + 5)
            .ok_or_else(|| invalid("option entry is truncated"))?;
        // `entry` is exactly 4 bytes long.
        let offset = usize::from(u16::from_be_bytes([entry[0], entry[1]]));
        let len = usize::from(u16::from_be_bytes([entry[2], entry[3]]));
        let data = payload
            .get(offset..offset + len)
            .ok_or_else(|| invalid(format!("option {token:#04x} data lies outside the payload")))?;
        out.tokens.push(token);
        match token {
            0x00 => {
                if let Some(v) = data.get(..6) {
                    // `v` is 6 bytes: major, minor, build (BE), sub-build (BE).
                    out.version = Some((
                        v[0],
                        v[1],
                        u16::from_be_bytes([v[2], v[3]]),
                        u16::from_be_bytes([v[4], v[5]]),
                    ));
                }
            }
            0x01 => out.encryption = data.first().copied(),
            0x02 => out.instance_ok = data.first().copied(),
            0x04 => out.mars = data.first().copied(),
            0x06 => out.fed_auth_required = data.first().copied(),
            _ => {}
        }
        at += 5;
    }
    Err(invalid("too many PRELOGIN options"))
}

/// Parses a complete PRELOGIN response (TDS packets included).
pub fn parse_prelogin_response(buf: &[u8]) -> Result<Prelogin, Error> {
    let payload = tds_message(buf)?;
    let p = parse_prelogin_payload(&payload)?;
    if p.version.is_none() {
        return Err(invalid("PRELOGIN response without VERSION"));
    }
    Ok(p)
}

/// The name of an ENCRYPTION value.
pub fn encryption_name(e: u8) -> String {
    let base = match e & 0x7F {
        ENCRYPT_OFF => "off",
        ENCRYPT_ON => "on",
        ENCRYPT_NOT_SUP => "not_supported",
        ENCRYPT_REQ => "required",
        _ => return format!("{e:#04x}"),
    };
    if e & 0x80 != 0 {
        format!("{base}+client_cert")
    } else {
        base.to_owned()
    }
}

/// The SQL Server product for a major (and minor) version.
pub fn product_name(major: u8, minor: u8) -> Option<&'static str> {
    Some(match (major, minor) {
        (17, _) => "SQL Server 2025",
        (16, _) => "SQL Server 2022",
        (15, _) => "SQL Server 2019",
        (14, _) => "SQL Server 2017",
        (13, _) => "SQL Server 2016",
        (12, _) => "SQL Server 2014",
        (11, _) => "SQL Server 2012",
        (10, 50) => "SQL Server 2008 R2",
        (10, _) => "SQL Server 2008",
        (9, _) => "SQL Server 2005",
        (8, _) => "SQL Server 2000",
        _ => return None,
    })
}

/// What the probe reports for a PRELOGIN response.
pub fn identify_prelogin(p: &Prelogin) -> Identification {
    let mut id = Identification::service("mssql");
    if let Some((major, minor, build, sub)) = p.version {
        id = id
            .with("version", format!("{major}.{minor}.{build}"))
            .with("sub_build", sub)
            .with("product", product_name(major, minor));
    }
    if let Some(e) = p.encryption {
        id = id.with("encryption", encryption_name(e));
    }
    if let Some(m) = p.mars {
        id = id.with("mars", m == 1);
    }
    if let Some(f) = p.fed_auth_required {
        id = id.with("fed_auth_required", f == 1);
    }
    id
}

/// The TDS PRELOGIN probe (TCP 1433 or an instance's port).
#[derive(Debug, Clone)]
pub struct MssqlPrelogin {
    thread_id: u32,
}

impl MssqlPrelogin {
    /// A PRELOGIN with `ENCRYPT_OFF` and the caller's thread id (any number; 0 is fine).
    pub fn new(thread_id: u32) -> Self {
        MssqlPrelogin { thread_id }
    }
}

impl Exchange for MssqlPrelogin {
    fn start(&mut self) -> Vec<u8> {
        build_prelogin(ENCRYPT_OFF, self.thread_id)
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        match parse_prelogin_response(received) {
            Ok(p) => Progress::Done(identify_prelogin(&p)),
            Err(Error::Incomplete) if received.len() < MAX_PRELOGIN_LEN => Progress::NeedMore,
            Err(Error::Incomplete) => {
                Progress::Done(Identification::unrecognised("PRELOGIN reply too long"))
            }
            Err(Error::Invalid(why)) => Progress::Done(Identification::unrecognised(format!(
                "not a TDS PRELOGIN response: {why}"
            ))),
        }
    }

    fn max_len(&self) -> usize {
        MAX_PRELOGIN_LEN
    }
}

/// One instance from the SQL Server Browser.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BrowserInstance {
    /// `ServerName`.
    pub server_name: String,
    /// `InstanceName` (`MSSQLSERVER` for the default instance).
    pub instance_name: String,
    /// `IsClustered` is `Yes`.
    pub is_clustered: bool,
    /// `Version`.
    pub version: String,
    /// The `tcp` port, when the instance listens on TCP.
    pub tcp_port: Option<u16>,
    /// The `np` pipe name, when named pipes are enabled.
    pub named_pipe: Option<String>,
}

/// The `CLNT_UCAST_EX` request: one byte, `0x03` (all instances).
pub fn build_browser_request() -> Vec<u8> {
    vec![0x03]
}

/// The `CLNT_UCAST_INST` request for one instance name (at most 32 bytes, NUL-terminated).
pub fn build_instance_request(instance: &str) -> Vec<u8> {
    let mut out = vec![0x04];
    out.extend(instance.bytes().filter(|&b| b != 0).take(32));
    out.push(0);
    out
}

/// Parses an `SVR_RESP` datagram into its instances.
pub fn parse_browser_response(datagram: &[u8]) -> Result<Vec<BrowserInstance>, Error> {
    let (Some(&kind), Some(size)) = (datagram.first(), datagram.get(1..3)) else {
        return Err(invalid("datagram shorter than an SVR_RESP header"));
    };
    if kind != SVR_RESP {
        return Err(invalid(format!(
            "first byte {kind:#04x}, expected SVR_RESP 0x05"
        )));
    }
    // `size` is exactly 2 bytes (little-endian).
    let size = usize::from(u16::from_le_bytes([size[0], size[1]]));
    let data = datagram
        .get(3..3 + size)
        .ok_or_else(|| invalid("RESP_DATA shorter than RESP_SIZE"))?;
    let text = String::from_utf8_lossy(data);
    let mut instances = Vec::new();
    for record in text
        .split(";;")
        .filter(|r| !r.trim().is_empty())
        .take(MAX_INSTANCES)
    {
        let tokens: Vec<&str> = record.split(';').collect();
        let mut inst = BrowserInstance::default();
        let mut known = false;
        for pair in tokens.chunks(2) {
            let (key, value) = match pair {
                [k, v] => (*k, *v),
                _ => continue,
            };
            match key.to_ascii_lowercase().as_str() {
                "servername" => {
                    inst.server_name = value.to_owned();
                    known = true;
                }
                "instancename" => {
                    inst.instance_name = value.to_owned();
                    known = true;
                }
                "isclustered" => inst.is_clustered = value.eq_ignore_ascii_case("yes"),
                "version" => inst.version = value.to_owned(),
                "tcp" => inst.tcp_port = value.trim().parse().ok(),
                "np" => inst.named_pipe = Some(value.to_owned()),
                _ => {}
            }
        }
        if known {
            instances.push(inst);
        }
    }
    if instances.is_empty() {
        return Err(invalid("SVR_RESP without any instance"));
    }
    Ok(instances)
}

/// What the probe reports for a Browser answer.
pub fn identify_browser(instances: &[BrowserInstance]) -> Identification {
    let ports: BTreeSet<u16> = instances.iter().filter_map(|i| i.tcp_port).collect();
    let list: Vec<Value> = instances
        .iter()
        .map(|i| {
            let mut m = Map::new();
            m.insert("server_name".into(), Value::from(i.server_name.clone()));
            m.insert("instance_name".into(), Value::from(i.instance_name.clone()));
            m.insert("is_clustered".into(), Value::from(i.is_clustered));
            m.insert("version".into(), Value::from(i.version.clone()));
            m.insert(
                "tcp_port".into(),
                i.tcp_port.map_or(Value::Null, Value::from),
            );
            m.insert(
                "named_pipe".into(),
                i.named_pipe.clone().map_or(Value::Null, Value::from),
            );
            Value::Object(m)
        })
        .collect();
    Identification::service("mssql")
        .with("transport", "udp")
        .with("browser", true)
        .with("instances", list)
        .with("tcp_ports", ports.into_iter().collect::<Vec<_>>())
}

/// The SQL Server Browser probe (UDP 1434).
#[derive(Debug, Clone, Default)]
pub struct SqlBrowser;

impl SqlBrowser {
    /// A `CLNT_UCAST_EX` probe.
    pub fn new() -> Self {
        SqlBrowser
    }
}

impl Exchange for SqlBrowser {
    fn start(&mut self) -> Vec<u8> {
        build_browser_request()
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        // One datagram per call.
        match parse_browser_response(received) {
            Ok(instances) => Progress::Done(identify_browser(&instances)),
            Err(e) => Progress::Done(Identification::unrecognised(format!(
                "not an SQL Browser reply: {e}"
            ))),
        }
    }

    fn max_len(&self) -> usize {
        MAX_BROWSER_LEN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::testutil::hex;

    #[test]
    fn prelogin_request_bytes() {
        let expected = hex("12 01 00 2f 00 00 01 00 \
             00 00 1a 00 06  01 00 20 00 01  02 00 21 00 01  03 00 22 00 04  04 00 26 00 01  ff \
             00 00 00 00 00 00  00  00  00 00 12 34  00");
        assert_eq!(MssqlPrelogin::new(0x1234).start(), expected);
        assert_eq!(expected.len(), 0x2f);
    }

    /// A SQL Server 2019 (15.0.2000) PRELOGIN response: encryption OFF, instance OK,
    /// thread id empty, MARS off.
    fn prelogin_response(encryption: u8) -> Vec<u8> {
        let mut r = hex("04 01 00 2b 00 00 01 00 \
             00 00 1a 00 06  01 00 20 00 01  02 00 21 00 01  03 00 22 00 00  04 00 22 00 01  ff \
             0f 00 07 d0 00 00");
        r.push(encryption);
        r.extend_from_slice(&hex("00 00"));
        assert_eq!(r.len(), 0x2b);
        r
    }

    #[test]
    fn parse_prelogin() {
        let p = parse_prelogin_response(&prelogin_response(ENCRYPT_OFF)).unwrap();
        assert_eq!(p.version, Some((15, 0, 2000, 0)));
        let Progress::Done(id) = MssqlPrelogin::new(0).on_bytes(&prelogin_response(ENCRYPT_REQ))
        else {
            panic!()
        };
        assert_eq!(id.service, Some("mssql"));
        assert_eq!(id.detail["version"], "15.0.2000");
        assert_eq!(id.detail["product"], "SQL Server 2019");
        assert_eq!(id.detail["encryption"], "required");
        assert_eq!(id.detail["mars"], false);
        assert_eq!(encryption_name(0x81), "on+client_cert");
    }

    #[test]
    fn prelogin_split_over_two_packets() {
        let one = prelogin_response(ENCRYPT_ON);
        let payload = &one[8..];
        let (a, b) = payload.split_at(10);
        let mut two = vec![0x04, 0x00, 0x00, (8 + a.len()) as u8, 0, 0, 1, 0];
        two.extend_from_slice(a);
        two.extend_from_slice(&[0x04, 0x01, 0x00, (8 + b.len()) as u8, 0, 0, 2, 0]);
        two.extend_from_slice(b);
        assert_eq!(parse_prelogin_response(&two), parse_prelogin_response(&one));
    }

    #[test]
    fn not_tds() {
        let Progress::Done(id) = MssqlPrelogin::new(0).on_bytes(&hex("15 03 03 00 02 02 28"))
        else {
            panic!()
        };
        assert_eq!(id.service, None);
        assert!(id.note.unwrap().contains("strict"));
        let Progress::Done(id) = MssqlPrelogin::new(0).on_bytes(b"HTTP/1.1 400 Bad Request\r\n")
        else {
            panic!()
        };
        assert_eq!(id.service, None);
        // Option data outside the payload.
        let mut bad = prelogin_response(0);
        bad[10] = 0xff;
        assert!(matches!(
            parse_prelogin_response(&bad),
            Err(Error::Invalid(_))
        ));
    }

    #[test]
    fn every_truncation_needs_more() {
        let r = prelogin_response(ENCRYPT_OFF);
        for n in 0..r.len() {
            assert_eq!(
                MssqlPrelogin::new(0).on_bytes(&r[..n]),
                Progress::NeedMore,
                "prefix {n}"
            );
        }
    }

    #[test]
    fn browser_request_bytes() {
        assert_eq!(SqlBrowser::new().start(), vec![0x03]);
        assert_eq!(
            build_instance_request("SQLEXPRESS"),
            b"\x04SQLEXPRESS\0".to_vec()
        );
    }

    fn browser_reply() -> Vec<u8> {
        let data = "ServerName;SQL01;InstanceName;MSSQLSERVER;IsClustered;No;Version;15.0.2000.5;tcp;1433;;\
                    ServerName;SQL01;InstanceName;RDCB;IsClustered;No;Version;16.0.1000.6;tcp;49712;np;\\\\SQL01\\pipe\\MSSQL$RDCB\\sql\\query;;";
        let mut d = vec![0x05];
        d.extend_from_slice(&(data.len() as u16).to_le_bytes());
        d.extend_from_slice(data.as_bytes());
        d
    }

    #[test]
    fn parse_browser() {
        let instances = parse_browser_response(&browser_reply()).unwrap();
        assert_eq!(instances.len(), 2);
        assert_eq!(
            instances[1],
            BrowserInstance {
                server_name: "SQL01".into(),
                instance_name: "RDCB".into(),
                is_clustered: false,
                version: "16.0.1000.6".into(),
                tcp_port: Some(49712),
                named_pipe: Some("\\\\SQL01\\pipe\\MSSQL$RDCB\\sql\\query".into()),
            }
        );
        let Progress::Done(id) = SqlBrowser::new().on_bytes(&browser_reply()) else {
            panic!()
        };
        assert_eq!(id.service, Some("mssql"));
        assert_eq!(id.detail["tcp_ports"], serde_json::json!([1433, 49712]));
        assert_eq!(id.detail["instances"][0]["instance_name"], "MSSQLSERVER");
        assert_eq!(id.detail["instances"][0]["named_pipe"], Value::Null);
    }

    #[test]
    fn browser_truncations_are_clean() {
        let d = browser_reply();
        for n in 0..d.len() {
            let Progress::Done(id) = SqlBrowser::new().on_bytes(&d[..n]) else {
                panic!()
            };
            assert_eq!(id.service, None, "prefix {n}");
        }
        assert!(parse_browser_response(&hex("05 04 00 3b 3b 3b 3b")).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_prelogin_response(&bytes);
            let _ = parse_prelogin_payload(&bytes);
            let _ = parse_browser_response(&bytes);
            let _ = MssqlPrelogin::new(0).on_bytes(&bytes);
            let _ = SqlBrowser::new().on_bytes(&bytes);
        }

        #[test]
        fn arbitrary_browser_text_never_panics(s in "[A-Za-z0-9;.\\\\$ ]{0,200}") {
            let mut d = vec![0x05];
            d.extend_from_slice(&(s.len() as u16).to_le_bytes());
            d.extend_from_slice(s.as_bytes());
            let _ = parse_browser_response(&d);
        }
    }
}
