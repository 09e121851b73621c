//! What answers on a port when the expected protocol did not: a classifier for the first
//! bytes a peer sends, a banner reader, and the order of the follow-up probes.
//!
//! `rdsports check` speaks the protocol a flow needs (an RDP X.224 request on 3389, an LDAP
//! rootDSE search on 389 ...). When the reply is not that protocol, or there is none, a
//! short sequence of further probes finds out what does answer, as `nmap -sV` does, but
//! only for the protocols of a Windows deployment:
//!
//! 1. [`classify`] looks at the first bytes the failed exchange received. Most wrong
//!    services give themselves away at once: an HTTP status line, an SSH or SMTP banner,
//!    a TLS alert, a TPKT header, an SMB2 header, an LDAP message, a Kerberos error.
//! 2. Otherwise (or to learn more, such as a TLS certificate) the caller runs the
//!    [`Step`]s of [`sequence`] in order, each on a fresh connection, each with an equal
//!    share of what is left of one probe timeout ([`step_budget_ms`]); the first step whose
//!    exchange recognises its protocol names the service.
//! 3. Nothing recognised: the service is unknown, reported with the first bytes seen
//!    ([`first_bytes`], hex, at most [`FIRST_BYTES`] bytes) or, when the port never sent
//!    anything, as a silent port.
//!
//! This module does no I/O and reads no clock: the caller owns the connections and the
//! deadlines. Every parser here takes any bytes without panicking and bounds what it keeps.

use serde_json::{Map, Value};

use crate::{Exchange, Identification, Progress};

/// The most bytes kept (and shown, in hex) of what an unknown service sent.
pub const FIRST_BYTES: usize = 32;

/// The longest banner line read (RFC 4253 allows 255 bytes for an SSH identification).
pub const MAX_BANNER_LEN: usize = 512;

/// One follow-up probe of the identification sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// The rdsports listener handshake (a stand-in `rdsports listen` answers it).
    Listener,
    /// An HTTP GET of `/` (IIS, a reverse proxy, a load balancer, WinRM).
    Http,
    /// A TLS ClientHello (rustls in `rdsports-net`): the certificate names the server.
    Tls,
    /// An RDP X.224 Connection Request.
    Rdp,
    /// An SMB2 NEGOTIATE.
    Smb,
    /// An LDAP rootDSE search.
    Ldap,
    /// A Kerberos AS-REQ over TCP.
    Kerberos,
    /// A DNS query over TCP.
    Dns,
}

impl Step {
    /// The step's name in reports (`http`, `tls` ...).
    pub fn name(self) -> &'static str {
        match self {
            Step::Listener => "rdsports-listener",
            Step::Http => "http",
            Step::Tls => "tls",
            Step::Rdp => "rdp",
            Step::Smb => "smb",
            Step::Ldap => "ldap",
            Step::Kerberos => "kerberos",
            Step::Dns => "dns",
        }
    }

    /// The step that probes for `service` (a service name as probes report it), if any.
    pub fn for_service(service: &str) -> Option<Step> {
        Some(match service {
            "rdsports-listener" => Step::Listener,
            "http" | "winrm" => Step::Http,
            "tls" => Step::Tls,
            "rdp" => Step::Rdp,
            "smb" => Step::Smb,
            "ldap" => Step::Ldap,
            "kerberos" => Step::Kerberos,
            "dns" => Step::Dns,
            _ => return None,
        })
    }
}

/// The follow-up steps after a probe that did not identify what it expected, most likely
/// first. `tried` are the steps the failed probe amounts to (the expected service's own
/// step, and [`Step::Tls`] when it spoke TLS first): they are left out.
///
/// `hint` is what [`classify`] made of the failed exchange's first bytes: when it names a
/// service that a step can confirm and describe (a TLS alert: the handshake shows the
/// certificate), that step comes first. `listener` puts the rdsports listener handshake
/// before everything else, so a stand-in `rdsports listen` is recognised at once.
pub fn sequence(tried: &[Step], hint: Option<&str>, listener: bool) -> Vec<Step> {
    let mut steps = Vec::with_capacity(8);
    let mut push = |step: Step| {
        if !tried.contains(&step) && !steps.contains(&step) {
            steps.push(step);
        }
    };
    if let Some(step) = hint.and_then(Step::for_service) {
        push(step);
    }
    if listener {
        push(Step::Listener);
    }
    // The wrong services met most often on a Windows server's ports: a web server (IIS,
    // a proxy or a load balancer), then anything behind TLS, then the other Windows
    // services that answer their own first message.
    for step in [
        Step::Http,
        Step::Tls,
        Step::Rdp,
        Step::Ldap,
        Step::Smb,
        Step::Kerberos,
        Step::Dns,
    ] {
        push(step);
    }
    steps
}

/// The time a step may take: an equal share of `remaining_ms` among `steps_left` steps
/// (all of it for the last), so the whole sequence stays inside one budget and a step that
/// ends early leaves its time to the ones after it.
pub fn step_budget_ms(remaining_ms: u64, steps_left: usize) -> u64 {
    let steps = u64::try_from(steps_left.max(1)).unwrap_or(u64::MAX);
    remaining_ms / steps
}

/// What the first bytes of a reply say about the service that sent them.
///
/// Recognises an HTTP status line, SSH, FTP, SMTP, POP3 and IMAP greetings, a TLS record,
/// an RDP X.224 Connection Confirm (TPKT), an SMB header behind a NetBIOS session header,
/// a DCE/RPC connection-oriented PDU, an LDAP message, a Kerberos message over TCP and a
/// VNC greeting. `None` when the bytes are none of these. The identification carries the
/// facts the bytes show (the banner, the status line, the TLS record type).
pub fn classify(bytes: &[u8]) -> Option<Identification> {
    let line = first_line(bytes);
    if http_status_line(bytes) {
        return Some(Identification::service("http").with("status_line", line));
    }
    if bytes.starts_with(b"SSH-") {
        let mut id = Identification::service("ssh").with("banner", line.clone());
        if let Some(software) = line.splitn(3, '-').nth(2) {
            id = id.with("software", software.to_owned());
        }
        return Some(id);
    }
    if bytes.starts_with(b"220") && matches!(bytes.get(3), Some(b' ' | b'-')) {
        let upper = line.to_ascii_uppercase();
        if upper.contains("SMTP") || upper.contains("MAIL") {
            return Some(Identification::service("smtp").with("banner", line));
        }
        if upper.contains("FTP") {
            return Some(Identification::service("ftp").with("banner", line));
        }
        // A 220 greeting names neither: both protocols use it.
        return Some(Identification::service("ftp-or-smtp").with("banner", line));
    }
    if bytes.starts_with(b"+OK") {
        return Some(Identification::service("pop3").with("banner", line));
    }
    if bytes.starts_with(b"* OK") || bytes.starts_with(b"* PREAUTH") {
        return Some(Identification::service("imap").with("banner", line));
    }
    if bytes.starts_with(b"RFB ") {
        return Some(Identification::service("vnc").with("banner", line));
    }
    if let Some(id) = tls_record(bytes) {
        return Some(id);
    }
    match bytes {
        // TPKT version 3, then an X.224 Connection Confirm (code 0xD0).
        [0x03, 0x00, _, _, _, cc, ..] if cc & 0xf0 == 0xd0 => {
            Some(Identification::service("rdp").with("x224", "connection confirm"))
        }
        // A NetBIOS session message carrying SMB2 (0xFE) or SMB1 (0xFF).
        [0x00, _, _, _, 0xfe | 0xff, b'S', b'M', b'B', ..] => {
            let version = if bytes.get(4) == Some(&0xfe) { 2 } else { 1 };
            Some(Identification::service("smb").with("smb_version", version))
        }
        // DCE/RPC v5.0: bind_ack (12), bind_nak (13) or fault (3).
        [5, 0, 12 | 13 | 3, ..] => Some(Identification::service("msrpc")),
        // Kerberos over TCP: a 4-byte length, then KRB-ERROR ([APPLICATION 30]) or
        // AS-REP ([APPLICATION 11]).
        [0, _, _, _, 0x7e | 0x6b, ..] => Some(Identification::service("kerberos")),
        [0x30, ..] if ldap_message(bytes) => Some(Identification::service("ldap")),
        _ => None,
    }
}

/// `HTTP/d.d ddd` (or `HTTP/2 ddd`): the start of a status line.
fn http_status_line(bytes: &[u8]) -> bool {
    let Some(rest) = bytes.strip_prefix(b"HTTP/") else {
        return false;
    };
    let code = match rest {
        [major, b'.', minor, b' ', code @ ..]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            code
        }
        [major, b' ', code @ ..] if major.is_ascii_digit() => code,
        _ => return false,
    };
    code.len() >= 3 && code.iter().take(3).all(u8::is_ascii_digit)
}

/// A TLS record header: handshake (22) or alert (21), version 3.x.
fn tls_record(bytes: &[u8]) -> Option<Identification> {
    let [kind @ (0x15 | 0x16), 0x03, minor @ 0..=4, ..] = bytes else {
        return None;
    };
    let record = if *kind == 0x15 { "alert" } else { "handshake" };
    Some(
        Identification::service("tls")
            .with("record", record)
            .with("record_version", format!("3.{minor}")),
    )
}

/// An LDAPMessage: SEQUENCE, a length, messageID INTEGER, then a protocolOp with an
/// application tag of a response (bind 1, search entry/done 4/5, extended 24 ...).
fn ldap_message(bytes: &[u8]) -> bool {
    let Some(&first_len) = bytes.get(1) else {
        return false;
    };
    let header = if first_len < 0x80 {
        2
    } else {
        2 + usize::from(first_len & 0x7f)
    };
    let (Some(0x02), Some(&id_len)) = (bytes.get(header), bytes.get(header + 1)) else {
        return false;
    };
    let op = header.saturating_add(2).saturating_add(usize::from(id_len));
    matches!(bytes.get(op), Some(tag) if tag & 0xe0 == 0x60 && matches!(tag & 0x1f, 1 | 4 | 5 | 7 | 9 | 11 | 13 | 15 | 19 | 24 | 25))
}

/// The first line of `bytes` as text: up to the first CR or LF, at most
/// [`MAX_BANNER_LEN`] bytes, control characters replaced by spaces.
pub fn first_line(bytes: &[u8]) -> String {
    let end = bytes
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(bytes.len())
        .min(MAX_BANNER_LEN);
    String::from_utf8_lossy(bytes.get(..end).unwrap_or_default())
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim_end()
        .to_owned()
}

/// The first [`FIRST_BYTES`] bytes as lowercase hex, pairs separated by spaces.
pub fn first_bytes(bytes: &[u8]) -> String {
    let shown = bytes.get(..FIRST_BYTES).unwrap_or(bytes);
    let mut out = String::with_capacity(shown.len() * 3);
    for (i, b) in shown.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// The first [`FIRST_BYTES`] bytes as text, anything not printable ASCII shown as `.`.
pub fn first_bytes_text(bytes: &[u8]) -> String {
    let shown = bytes.get(..FIRST_BYTES).unwrap_or(bytes);
    shown
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '.'
            }
        })
        .collect()
}

/// The detail of an unknown service: the first bytes (hex and text) and how many came.
pub fn unknown_detail(bytes: &[u8], total: usize) -> Map<String, Value> {
    let mut detail = Map::new();
    detail.insert("first_bytes".into(), first_bytes(bytes).into());
    detail.insert("first_bytes_text".into(), first_bytes_text(bytes).into());
    detail.insert("reply_bytes".into(), total.into());
    detail
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Waits for whatever the peer says first and classifies it: sends nothing, reads one
/// line (or [`MAX_BANNER_LEN`] bytes).
#[derive(Debug, Clone, Default)]
pub struct BannerWait;

impl BannerWait {
    /// A banner reader.
    pub fn new() -> Self {
        BannerWait
    }

    fn conclude(received: &[u8]) -> Identification {
        classify(received).unwrap_or_else(|| {
            let mut id = Identification::unrecognised(format!(
                "{} bytes that no probe recognises",
                received.len()
            ));
            id.detail = unknown_detail(received, received.len());
            id
        })
    }
}

impl Exchange for BannerWait {
    fn start(&mut self) -> Vec<u8> {
        Vec::new()
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        // Binary protocols are recognised from their header; text ones at the line end.
        let binary = received.first().is_some_and(|b| !b.is_ascii_graphic());
        if binary && received.len() >= 8 && classify(received).is_some() {
            return Progress::Done(Self::conclude(received));
        }
        if received.contains(&b'\n') || received.len() >= MAX_BANNER_LEN {
            return Progress::Done(Self::conclude(received));
        }
        Progress::NeedMore
    }

    fn max_len(&self) -> usize {
        MAX_BANNER_LEN
    }

    fn on_close(&mut self, received: &[u8]) -> Progress {
        Progress::Done(Self::conclude(received))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::hex;
    use proptest::prelude::*;

    fn service(bytes: &[u8]) -> Option<&'static str> {
        classify(bytes).and_then(|id| id.service)
    }

    #[test]
    fn text_greetings_and_status_lines() {
        let id = classify(b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n").unwrap();
        assert_eq!(id.service, Some("http"));
        assert_eq!(id.detail["status_line"], "HTTP/1.1 400 Bad Request");
        let id = classify(b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3\r\n").unwrap();
        assert_eq!(id.service, Some("ssh"));
        assert_eq!(id.detail["banner"], "SSH-2.0-OpenSSH_9.6p1 Ubuntu-3");
        assert_eq!(id.detail["software"], "OpenSSH_9.6p1 Ubuntu-3");
        assert_eq!(service(b"220 mx.example ESMTP Postfix\r\n"), Some("smtp"));
        assert_eq!(service(b"220-Microsoft FTP Service\r\n"), Some("ftp"));
        assert_eq!(service(b"220 ready\r\n"), Some("ftp-or-smtp"));
        assert_eq!(service(b"+OK POP3 ready\r\n"), Some("pop3"));
        assert_eq!(service(b"* OK IMAP4rev1\r\n"), Some("imap"));
        assert_eq!(service(b"RFB 003.008\n"), Some("vnc"));
        assert_eq!(service(b"HTTP/2 200\r\n"), Some("http"));
        // A status line cut short, or something else after the name, is not enough.
        assert_eq!(service(b"HTTP/1.0 30"), None);
        assert_eq!(service(b"HTTP/x"), None);
        // Not a greeting: a code without the separator, or plain text.
        assert_eq!(service(b"2200 x"), None);
        assert_eq!(service(b"hello\r\n"), None);
        assert_eq!(service(b""), None);
    }

    #[test]
    fn binary_headers() {
        // TLS alert, TLS 1.2 record version: handshake_failure.
        let id = classify(&hex("15 03 03 00 02 02 28")).unwrap();
        assert_eq!(id.service, Some("tls"));
        assert_eq!(id.detail["record"], "alert");
        assert_eq!(id.detail["record_version"], "3.3");
        assert_eq!(
            classify(&hex("16 03 01 00 5a 02")).unwrap().detail["record"],
            "handshake"
        );
        // TPKT + X.224 Connection Confirm.
        assert_eq!(
            service(&hex("03 00 00 13 0e d0 00 00 12 34 00")),
            Some("rdp")
        );
        // NetBIOS session header + SMB2 / SMB1.
        assert_eq!(service(&hex("00 00 00 40 fe 53 4d 42 40 00")), Some("smb"));
        let id = classify(&hex("00 00 00 40 ff 53 4d 42 72")).unwrap();
        assert_eq!(id.detail["smb_version"], 1);
        // DCE/RPC bind_nak.
        assert_eq!(service(&hex("05 00 0d 03 10 00 00 00")), Some("msrpc"));
        // Kerberos over TCP: length, then KRB-ERROR.
        assert_eq!(service(&hex("00 00 00 6a 7e 68 30 66")), Some("kerberos"));
        // LDAP: SEQUENCE, messageID 1, SearchResultDone ([APPLICATION 5]).
        assert_eq!(
            service(&hex("30 0c 02 01 01 65 07 0a 01 00 04 00 04 00")),
            Some("ldap")
        );
        // The long length form AD uses.
        assert_eq!(
            service(&hex(
                "30 84 00 00 00 0c 02 01 01 65 07 0a 01 00 04 00 04 00"
            )),
            Some("ldap")
        );
        // A SEQUENCE with a request tag (searchRequest, 3) is not a reply.
        assert_eq!(service(&hex("30 0c 02 01 01 63 07")), None);
        // TLS-like bytes with a wrong version are nothing.
        assert_eq!(service(&hex("16 04 01 00")), None);
        assert_eq!(service(&hex("03 00 00 13 0e e0")), None);
    }

    #[test]
    fn bytes_are_shown_bounded() {
        assert_eq!(first_bytes(b"\x00\xffA"), "00 ff 41");
        assert_eq!(first_bytes_text(b"\x00\xffA b"), "..A b");
        let long = [0xabu8; 100];
        assert_eq!(first_bytes(&long).len(), FIRST_BYTES * 3 - 1);
        assert_eq!(first_bytes_text(&long).len(), FIRST_BYTES);
        let detail = unknown_detail(&long, 100);
        assert_eq!(detail["reply_bytes"], 100);
        assert_eq!(first_line(b"one\ttwo\r\nthree"), "one two");
        assert_eq!(first_line(&[b'a'; 2000]).len(), MAX_BANNER_LEN);
    }

    #[test]
    fn the_sequence_skips_what_was_tried_and_puts_the_hint_first() {
        assert_eq!(
            sequence(&[Step::Rdp], None, true),
            vec![
                Step::Listener,
                Step::Http,
                Step::Tls,
                Step::Ldap,
                Step::Smb,
                Step::Kerberos,
                Step::Dns
            ]
        );
        let after_ldap = sequence(&[Step::Ldap], Some("tls"), false);
        assert_eq!(after_ldap[0], Step::Tls);
        assert!(!after_ldap.contains(&Step::Ldap));
        assert!(!after_ldap.contains(&Step::Listener));
        assert_eq!(after_ldap.iter().filter(|s| **s == Step::Tls).count(), 1);
        // WinRM is spoken over HTTP: the HTTP step is not repeated.
        let winrm = Step::for_service("winrm").unwrap();
        assert!(!sequence(&[winrm], None, false).contains(&Step::Http));
        // A service no step speaks leaves the default order.
        assert_eq!(sequence(&[], Some("ssh"), false)[0], Step::Http);
        // LDAPS that failed its handshake: TLS was tried, plain LDAP was not.
        let ldaps = sequence(&[Step::Tls], None, false);
        assert!(ldaps.contains(&Step::Ldap) && !ldaps.contains(&Step::Tls));
        for step in sequence(&[], None, true) {
            assert_eq!(Step::for_service(step.name()), Some(step));
        }
    }

    #[test]
    fn budgets_share_what_is_left() {
        assert_eq!(step_budget_ms(1500, 5), 300);
        assert_eq!(step_budget_ms(1500, 1), 1500);
        assert_eq!(step_budget_ms(10, 0), 10);
        assert_eq!(step_budget_ms(0, 3), 0);
    }

    #[test]
    fn the_banner_reader_waits_for_a_line() {
        let mut b = BannerWait::new();
        assert!(b.start().is_empty());
        assert_eq!(b.on_bytes(b"SSH-2.0-"), Progress::NeedMore);
        let Progress::Done(id) = b.on_bytes(b"SSH-2.0-dropbear\r\n") else {
            panic!("done")
        };
        assert_eq!(id.service, Some("ssh"));
        // A binary header needs no line end.
        let Progress::Done(id) = b.on_bytes(&hex("15 03 03 00 02 02 28 00")) else {
            panic!("done")
        };
        assert_eq!(id.service, Some("tls"));
        // Garbage ends at the line end or the bound, with its bytes.
        let Progress::Done(id) = b.on_bytes(b"\x01\x02garbage\n") else {
            panic!("done")
        };
        assert_eq!(id.service, None);
        assert_eq!(id.detail["first_bytes"], "01 02 67 61 72 62 61 67 65 0a");
        let Progress::Done(id) = b.on_close(b"zz") else {
            panic!("done")
        };
        assert_eq!(id.detail["first_bytes_text"], "zz");
        assert!(matches!(
            b.on_bytes(&[0u8; MAX_BANNER_LEN]),
            Progress::Done(_)
        ));
    }

    proptest! {
        #[test]
        fn classify_never_panics_and_bounds_its_text(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            if let Some(id) = classify(&bytes) {
                prop_assert!(id.service.is_some());
                for value in id.detail.values() {
                    if let Some(text) = value.as_str() {
                        prop_assert!(text.len() <= MAX_BANNER_LEN * 3);
                    }
                }
            }
            prop_assert!(first_bytes(&bytes).len() <= FIRST_BYTES * 3);
            let mut banner = BannerWait::new();
            let _ = banner.on_bytes(&bytes);
            prop_assert!(matches!(banner.on_close(&bytes), Progress::Done(_)));
        }

        #[test]
        fn budgets_never_exceed_what_is_left(remaining in 0u64..1_000_000, steps in 0usize..20) {
            prop_assert!(step_budget_ms(remaining, steps) <= remaining);
        }
    }
}
