//! FTP greeting (RFC 959 sections 4.2 and 5.4): the server speaks first with a `220` reply,
//! possibly multi-line (`220-` first line, ..., `220 ` last line). A `421` greeting ("service
//! not available, closing") still proves an FTP server that refuses this client.
//!
//! What it does: reads the greeting (sending nothing), reports the banner text, and offers a
//! pure parser for `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)`.
//!
//! What it does not do: log in, send commands or open data connections. The greeting is
//! limited to [`MAX_GREETING_LEN`] bytes and [`MAX_LINES`] lines.

use std::net::Ipv4Addr;

use crate::{Exchange, Identification, Progress};

/// The longest greeting read.
pub const MAX_GREETING_LEN: usize = 8 * 1024;
/// The most lines in one reply.
pub const MAX_LINES: usize = 100;
const MAX_BANNER_CHARS: usize = 1024;

/// Why a reply could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes so far are a valid prefix; more are needed.
    #[error("incomplete FTP reply")]
    Incomplete,
    /// The bytes are not an FTP reply.
    #[error("{0}")]
    Invalid(String),
}

/// One FTP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit reply code.
    pub code: u16,
    /// The text of each line, without the code and separator of the first and last lines.
    pub lines: Vec<String>,
}

fn code_of(line: &[u8]) -> Option<(u16, u8)> {
    let digits = line.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) || !(b'1'..=b'5').contains(digits.first()?) {
        return None;
    }
    let code = digits
        .iter()
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    // "220\r\n" (a code and no text) ends a reply like "220 ".
    let sep = match *line.get(3)? {
        b'\r' | b'\n' => b' ',
        other => other,
    };
    Some((code, sep))
}

fn text(line: &[u8]) -> String {
    String::from_utf8_lossy(line)
        .trim_end_matches(['\r', '\n'])
        .to_owned()
}

/// Parses one complete reply at the start of `buf`; returns it and the bytes it used.
pub fn parse_reply(buf: &[u8]) -> Result<(Reply, usize), Error> {
    // Reject non-FTP bytes as soon as the first four have arrived (or fewer, if wrong).
    for (i, &b) in buf.iter().take(4).enumerate() {
        let ok = match i {
            0 => (b'1'..=b'5').contains(&b),
            1 | 2 => b.is_ascii_digit(),
            _ => b == b' ' || b == b'-' || b == b'\r' || b == b'\n',
        };
        if !ok {
            return Err(Error::Invalid(format!(
                "{:?} does not start an FTP reply",
                String::from_utf8_lossy(buf.get(..buf.len().min(16)).unwrap_or(&[]))
            )));
        }
    }
    let mut lines = Vec::new();
    let mut at = 0;
    let mut first_code = None;
    while let Some(nl) = buf
        .get(at..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
    {
        let line = buf.get(at..at + nl + 1).unwrap_or(&[]);
        at += nl + 1;
        if lines.len() >= MAX_LINES {
            return Err(Error::Invalid(format!(
                "reply longer than {MAX_LINES} lines"
            )));
        }
        match first_code {
            None => {
                let Some((code, sep @ (b' ' | b'-'))) = code_of(line) else {
                    return Err(Error::Invalid("bad FTP reply line".into()));
                };
                lines.push(text(line.get(4..).unwrap_or(&[])));
                match sep {
                    b'-' => first_code = Some(code),
                    _ => return Ok((Reply { code, lines }, at)),
                }
            }
            Some(code) => {
                // The last line repeats the code followed by a space.
                if let Some((c, b' ')) = code_of(line)
                    && c == code
                {
                    lines.push(text(line.get(4..).unwrap_or(&[])));
                    return Ok((Reply { code, lines }, at));
                }
                lines.push(text(line));
            }
        }
    }
    if buf.len() >= MAX_GREETING_LEN {
        return Err(Error::Invalid("FTP reply too long".into()));
    }
    Err(Error::Incomplete)
}

/// Parses a `227` reply's `(h1,h2,h3,h4,p1,p2)` into the address and port it names.
pub fn parse_pasv(reply: &str) -> Option<(Ipv4Addr, u16)> {
    let rest = reply.trim_start();
    if !rest.starts_with("227") {
        return None;
    }
    // The six numbers are the first run of digits and commas holding five commas.
    for run in rest
        .get(3..)?
        .split(|c: char| !(c.is_ascii_digit() || c == ','))
    {
        let parts: Vec<&str> = run.split(',').collect();
        if parts.len() == 6 && parts.iter().all(|p| !p.is_empty()) {
            let mut n = [0u8; 6];
            for (slot, p) in n.iter_mut().zip(&parts) {
                *slot = p.parse().ok()?;
            }
            let ip = Ipv4Addr::new(n[0], n[1], n[2], n[3]);
            return Some((ip, u16::from_be_bytes([n[4], n[5]])));
        }
    }
    None
}

fn banner_of(reply: &Reply) -> String {
    let mut banner = reply.lines.join("\n").trim().to_owned();
    if banner.chars().count() > MAX_BANNER_CHARS {
        banner = banner.chars().take(MAX_BANNER_CHARS).collect();
    }
    banner
}

/// What the probe reports for a greeting.
pub fn identify(reply: &Reply) -> Identification {
    let banner = banner_of(reply);
    let upper = banner.to_ascii_uppercase();
    if upper.contains("ESMTP") || upper.contains(" SMTP") || upper.starts_with("SMTP") {
        return Identification::unrecognised(format!("an SMTP greeting, not FTP: {banner}"));
    }
    let mut id = Identification::service("ftp")
        .with("code", reply.code)
        .with("banner", banner);
    match reply.code {
        220 => id = id.with("refusing", false),
        421 => {
            id = id.with("refusing", true);
            id.note = Some("the FTP server refuses service to this client (421)".to_owned());
        }
        other => {
            id = id.with("refusing", other >= 400);
            id.note = Some(format!("unexpected FTP greeting code {other}"));
        }
    }
    id
}

/// The FTP greeting probe (TCP 21): sends nothing, reads the banner.
#[derive(Debug, Clone, Default)]
pub struct FtpBanner;

impl FtpBanner {
    /// A greeting probe.
    pub fn new() -> Self {
        FtpBanner
    }
}

impl Exchange for FtpBanner {
    fn start(&mut self) -> Vec<u8> {
        Vec::new()
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        match parse_reply(received) {
            // 120: "service ready in nnn minutes", the 220 follows.
            Ok((first, used)) if first.code == 120 => {
                match parse_reply(received.get(used..).unwrap_or(&[])) {
                    Ok((second, _)) => Progress::Done(identify(&second)),
                    Err(Error::Incomplete) if received.len() < MAX_GREETING_LEN => {
                        Progress::NeedMore
                    }
                    Err(_) => Progress::Done(identify(&first)),
                }
            }
            Ok((reply, _)) => Progress::Done(identify(&reply)),
            Err(Error::Incomplete) => Progress::NeedMore,
            Err(Error::Invalid(why)) => Progress::Done(Identification::unrecognised(why)),
        }
    }

    fn max_len(&self) -> usize {
        MAX_GREETING_LEN
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sends_nothing() {
        assert!(FtpBanner::new().start().is_empty());
    }

    #[test]
    fn single_line_greeting() {
        let Progress::Done(id) = FtpBanner::new().on_bytes(b"220 Microsoft FTP Service\r\n") else {
            panic!()
        };
        assert_eq!(id.service, Some("ftp"));
        assert_eq!(id.detail["banner"], "Microsoft FTP Service");
        assert_eq!(id.detail["code"], 220);
        assert_eq!(id.detail["refusing"], false);
        assert_eq!(id.note, None);
    }

    #[test]
    fn multi_line_greeting() {
        let greeting = b"220-Welcome to the example archive\r\n220-Unauthorised use prohibited\r\n   indented line\r\n220 Ready\r\n";
        let (reply, used) = parse_reply(greeting).unwrap();
        assert_eq!(used, greeting.len());
        assert_eq!(reply.code, 220);
        assert_eq!(
            reply.lines,
            vec![
                "Welcome to the example archive",
                "220-Unauthorised use prohibited",
                "   indented line",
                "Ready"
            ]
        );
        let Progress::Done(id) = FtpBanner::new().on_bytes(greeting) else {
            panic!()
        };
        assert_eq!(id.service, Some("ftp"));
        assert!(id.detail["banner"].as_str().unwrap().ends_with("Ready"));
    }

    #[test]
    fn refusing_421() {
        let Progress::Done(id) = FtpBanner::new().on_bytes(b"421 Too many connections\r\n") else {
            panic!()
        };
        assert_eq!(id.service, Some("ftp"));
        assert_eq!(id.detail["refusing"], true);
        assert!(id.note.unwrap().contains("421"));
    }

    #[test]
    fn delayed_120_then_220() {
        let both = b"120 Service ready in 1 minutes\r\n220 Ready now\r\n";
        let Progress::Done(id) = FtpBanner::new().on_bytes(both) else {
            panic!()
        };
        assert_eq!(id.detail["code"], 220);
        assert_eq!(FtpBanner::new().on_bytes(&both[..40]), Progress::NeedMore);
    }

    #[test]
    fn not_ftp() {
        for bytes in [
            &b"SSH-2.0-OpenSSH_9.6\r\n"[..],
            b"HTTP/1.1 400 Bad\r\n",
            b"+OK POP3\r\n",
            b"\x16\x03\x01",
        ] {
            let Progress::Done(id) = FtpBanner::new().on_bytes(bytes) else {
                panic!()
            };
            assert_eq!(id.service, None);
        }
        let Progress::Done(id) =
            FtpBanner::new().on_bytes(b"220 mail.example.test ESMTP Postfix\r\n")
        else {
            panic!()
        };
        assert_eq!(id.service, None);
        assert!(id.note.unwrap().contains("SMTP"));
    }

    #[test]
    fn every_truncation_needs_more() {
        let greeting = b"220-Line one\r\n220-Line two\r\n220 Done\r\n";
        for n in 0..greeting.len() {
            assert_eq!(
                FtpBanner::new().on_bytes(&greeting[..n]),
                Progress::NeedMore,
                "prefix {n}"
            );
        }
    }

    #[test]
    fn bounded() {
        let mut endless = b"220-start\r\n".to_vec();
        while endless.len() < MAX_GREETING_LEN {
            endless.extend_from_slice(b"more\r\n");
        }
        assert!(matches!(parse_reply(&endless), Err(Error::Invalid(_))));
    }

    #[test]
    fn pasv() {
        assert_eq!(
            parse_pasv("227 Entering Passive Mode (192,0,2,10,195,80)."),
            Some((Ipv4Addr::new(192, 0, 2, 10), 50000))
        );
        assert_eq!(
            parse_pasv("227 =198,51,100,1,4,1"),
            Some((Ipv4Addr::new(198, 51, 100, 1), 1025))
        );
        assert_eq!(parse_pasv("227 Entering Passive Mode (1,2,3,4,5)"), None);
        assert_eq!(parse_pasv("227 (256,0,0,1,0,21)"), None);
        assert_eq!(
            parse_pasv("229 Entering Extended Passive Mode (|||50000|)"),
            None
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse_reply(&bytes);
            let _ = FtpBanner::new().on_bytes(&bytes);
        }

        #[test]
        fn arbitrary_pasv_never_panics(s in "227[ -~é]{0,80}") {
            let _ = parse_pasv(&s);
        }

        #[test]
        fn ftp_shaped_never_panics(lines in proptest::collection::vec("(220[- ])?[ -~]{0,20}\r\n", 0..12)) {
            let bytes = lines.concat();
            let _ = FtpBanner::new().on_bytes(bytes.as_bytes());
        }
    }
}
