//! Minimal HTTP/1.1 (RFC 9112) for the probes: a request builder, a bounded response-head
//! parser (with `httparse`), a bounded body reader (Content-Length or chunked), and two
//! exchanges: [`HttpGet`] (RD Web, RD Gateway and any web front end) and [`WinRmIdentify`]
//! (the WS-Management Identify request of DMTF DSP0226 section 11, as Windows answers it per
//! MS-WSMV 3.1.4.1.23).
//!
//! What it does: one request, one response head, and for WinRM the body of a 200 answer,
//! scanned by hand for the `IdentifyResponse` fields (`ProtocolVersion`, `ProductVendor`,
//! `ProductVersion`). A 401 carrying `WWW-Authenticate: Negotiate`, `Kerberos` or `Basic`
//! still proves a WinRM listener: it only means unauthenticated Identify is refused.
//!
//! When the peer closes the connection first ([`Exchange::on_close`]), a body without a
//! length ends there (RFC 9112 section 6.3) and completes the exchange, and a head the close
//! cut short after its status line is still read as HTTP, with a note.
//!
//! What it does not do: redirects, keep-alive, compression, authentication, cookies, TLS
//! (the transport wraps the stream in rustls for 443 and 5986), or general XML parsing. The
//! head is limited to [`MAX_HEAD_LEN`] bytes and 64 headers, the body to [`MAX_BODY_LEN`].
//! Control characters in the method, host, path and header values are dropped, so a caller's
//! input cannot inject headers.

use crate::{Exchange, Identification, Progress};
use serde_json::Value;

/// The largest response head accepted (status line and headers).
pub const MAX_HEAD_LEN: usize = 16 * 1024;
/// The most body bytes read; a longer body is cut there.
pub const MAX_BODY_LEN: usize = 64 * 1024;
/// The most headers parsed.
pub const MAX_HEADERS: usize = 64;
/// The longest header value kept in a report.
const MAX_VALUE_LEN: usize = 1024;

/// The WS-Management identity namespace.
pub const WSMID_NS: &str = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd";
/// The SOAP 1.2 envelope namespace.
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";

/// Why a response could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes so far are a valid prefix; more are needed.
    #[error("incomplete HTTP response")]
    Incomplete,
    /// The bytes are not an HTTP/1.x response, or exceed the bounds.
    #[error("{0}")]
    Invalid(String),
}

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The minor HTTP version (1 for HTTP/1.1).
    pub minor_version: u8,
    /// The status code.
    pub status: u16,
    /// The reason phrase.
    pub reason: String,
    /// The headers in order: (name as sent, value with invalid UTF-8 replaced).
    pub headers: Vec<(String, String)>,
    /// The length of the head, including the empty line: the body starts there.
    pub head_len: usize,
}

impl ResponseHead {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `Content-Length`, when present and a valid number.
    pub fn content_length(&self) -> Option<usize> {
        self.header("content-length")
            .and_then(|v| v.trim().parse().ok())
    }

    /// Whether the body uses chunked transfer coding.
    pub fn is_chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }

    /// The authentication schemes offered in `WWW-Authenticate` (the first token of each
    /// challenge, as sent: `Negotiate`, `Kerberos`, `Basic` ...), without duplicates.
    pub fn auth_schemes(&self) -> Vec<String> {
        let mut schemes: Vec<String> = Vec::new();
        for value in self.all("www-authenticate") {
            // A header may hold several challenges separated by commas; a scheme is a token
            // not containing '=' (auth-params contain it).
            for part in value.split(',') {
                let Some(token) = part.split_whitespace().next() else {
                    continue;
                };
                if token.contains('=') || token.contains('"') {
                    continue;
                }
                if !schemes.iter().any(|s| s.eq_ignore_ascii_case(token)) {
                    schemes.push(token.to_owned());
                }
            }
        }
        schemes
    }
}

fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

/// Builds an HTTP/1.1 request. `host` is the `Host` header value (add `:port` for a
/// non-default port). `User-Agent`, `Accept`, `Connection: close` and, with a body or for
/// POST, `Content-Length` are added; `headers` come after them.
pub fn build_request(
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    request_bytes(method, host, path, headers, body, false)
}

/// Like [`build_request`], with `Connection: keep-alive` instead of `close`: another
/// request follows on the same connection once this response's body has been read.
pub fn build_keep_alive_request(
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Vec<u8> {
    request_bytes(method, host, path, headers, &[], true)
}

fn request_bytes(
    method: &str,
    host: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    keep_alive: bool,
) -> Vec<u8> {
    let method = clean(method);
    let method = if method.is_empty() || method.contains(' ') {
        "GET".to_owned()
    } else {
        method
    };
    let mut path = clean(path).replace(' ', "%20");
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    let mut out = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: rdsports/{}\r\nAccept: */*\r\nConnection: {}\r\n",
        clean(host),
        env!("CARGO_PKG_VERSION"),
        if keep_alive { "keep-alive" } else { "close" }
    );
    if !body.is_empty() || method == "POST" || method == "PUT" {
        out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (name, value) in headers {
        let name: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if !name.is_empty() {
            out.push_str(&format!("{name}: {}\r\n", clean(value)));
        }
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Parses a response head. Bytes after the head are left for [`read_body`].
pub fn parse_response_head(buf: &[u8]) -> Result<ResponseHead, Error> {
    let window = buf.get(..buf.len().min(MAX_HEAD_LEN)).unwrap_or(buf);
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(window) {
        Ok(httparse::Status::Complete(head_len)) => {
            let headers = resp
                .headers
                .iter()
                .map(|h| {
                    let mut v = String::from_utf8_lossy(h.value).into_owned();
                    if v.len() > MAX_VALUE_LEN {
                        let mut cut = MAX_VALUE_LEN;
                        while !v.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        v.truncate(cut);
                    }
                    (h.name.to_owned(), v)
                })
                .collect();
            Ok(ResponseHead {
                minor_version: resp.version.unwrap_or(1),
                status: resp.code.unwrap_or(0),
                reason: resp.reason.unwrap_or("").to_owned(),
                headers,
                head_len,
            })
        }
        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD_LEN => Err(Error::Incomplete),
        Ok(httparse::Status::Partial) => Err(Error::Invalid("response head is too long".into())),
        Err(e) => Err(Error::Invalid(format!("not an HTTP/1.x response ({e})"))),
    }
}

/// What [`read_body`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// The whole body (or its first [`MAX_BODY_LEN`] bytes, then `truncated` is true).
    Complete {
        /// The (de-chunked) body bytes.
        bytes: Vec<u8>,
        /// Whether the body was cut at [`MAX_BODY_LEN`].
        truncated: bool,
    },
    /// More bytes are needed (or the body runs until the connection closes).
    Incomplete(Vec<u8>),
}

/// Reads the body after `head` from `buf` (the whole response so far).
pub fn read_body(head: &ResponseHead, buf: &[u8]) -> Result<Body, Error> {
    let rest = buf.get(head.head_len..).unwrap_or(&[]);
    if matches!(head.status, 100..=199 | 204 | 304) {
        return Ok(Body::Complete {
            bytes: Vec::new(),
            truncated: false,
        });
    }
    if head.is_chunked() {
        return dechunk(rest);
    }
    if let Some(len) = head.content_length() {
        let want = len.min(MAX_BODY_LEN);
        return Ok(match rest.get(..want) {
            Some(b) => Body::Complete {
                bytes: b.to_vec(),
                truncated: want < len,
            },
            None => Body::Incomplete(rest.to_vec()),
        });
    }
    // Delimited by the end of the connection.
    if rest.len() >= MAX_BODY_LEN {
        let cut = rest.get(..MAX_BODY_LEN).unwrap_or(rest);
        return Ok(Body::Complete {
            bytes: cut.to_vec(),
            truncated: true,
        });
    }
    Ok(Body::Incomplete(rest.to_vec()))
}

fn dechunk(mut rest: &[u8]) -> Result<Body, Error> {
    let mut out = Vec::new();
    loop {
        let line_end = match rest.windows(2).position(|w| w == b"\r\n") {
            Some(p) => p,
            None if rest.len() > 1024 => {
                return Err(Error::Invalid("chunk size line is too long".into()));
            }
            None => return Ok(Body::Incomplete(out)),
        };
        let line = String::from_utf8_lossy(rest.get(..line_end).unwrap_or(&[])).into_owned();
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| Error::Invalid(format!("bad chunk size {size_text:?}")))?;
        let data_start = line_end + 2;
        if size == 0 {
            return Ok(Body::Complete {
                bytes: out,
                truncated: false,
            });
        }
        let room = MAX_BODY_LEN.saturating_sub(out.len());
        let Some(data) = rest.get(data_start..data_start.saturating_add(size)) else {
            // Take what has arrived; stop once the bound is reached.
            let partial = rest.get(data_start..).unwrap_or(&[]);
            if out.len() + partial.len() >= MAX_BODY_LEN {
                out.extend_from_slice(partial.get(..room).unwrap_or(partial));
                return Ok(Body::Complete {
                    bytes: out,
                    truncated: true,
                });
            }
            out.extend_from_slice(partial);
            return Ok(Body::Incomplete(out));
        };
        if data.len() >= room {
            out.extend_from_slice(data.get(..room).unwrap_or(data));
            return Ok(Body::Complete {
                bytes: out,
                truncated: true,
            });
        }
        out.extend_from_slice(data);
        let after = data_start + size;
        match rest.get(after..after + 2) {
            Some(b"\r\n") => rest = rest.get(after + 2..).unwrap_or(&[]),
            Some(_) => return Err(Error::Invalid("chunk not followed by CRLF".into())),
            None => return Ok(Body::Incomplete(out)),
        }
    }
}

fn decode_entities(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The text of the first element whose local name (ignoring any namespace prefix) is
/// `local`, with the five predefined entities decoded and whitespace trimmed. `Some("")` for
/// an empty or self-closing element. A bounded, forgiving scan, not an XML parser.
pub fn element_text(xml: &str, local: &str) -> Option<String> {
    let mut from = 0;
    while let Some(pos) = xml.get(from..)?.find('<') {
        let tag_start = from + pos + 1;
        let rest = xml.get(tag_start..)?;
        let name_len = rest
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(rest.len());
        let name = rest.get(..name_len)?;
        let bare = name.rsplit(':').next().unwrap_or(name);
        from = tag_start;
        if bare != local || name.starts_with(['/', '?', '!']) {
            continue;
        }
        let close = rest.find('>')?;
        if rest.get(..close)?.ends_with('/') {
            return Some(String::new());
        }
        let text_start = tag_start + close + 1;
        let text_rest = xml.get(text_start..)?;
        let text_end = text_rest.find('<').unwrap_or(text_rest.len());
        return Some(decode_entities(text_rest.get(..text_end)?.trim()));
    }
    None
}

/// The fields of a WS-Management `IdentifyResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdentifyResponse {
    /// `wsmid:ProtocolVersion`.
    pub protocol_version: Option<String>,
    /// `wsmid:ProductVendor`.
    pub product_vendor: Option<String>,
    /// `wsmid:ProductVersion` (Windows: `OS: 10.0.20348 SP: 0.0 Stack: 3.0`).
    pub product_version: Option<String>,
}

/// Finds the `IdentifyResponse` in a SOAP body; `None` when there is none.
pub fn parse_identify_response(body: &[u8]) -> Option<IdentifyResponse> {
    let xml = String::from_utf8_lossy(body);
    element_text(&xml, "IdentifyResponse")?;
    Some(IdentifyResponse {
        protocol_version: element_text(&xml, "ProtocolVersion"),
        product_vendor: element_text(&xml, "ProductVendor"),
        product_version: element_text(&xml, "ProductVersion"),
    })
}

/// Splits Windows' `OS: 10.0.20348 SP: 0.0 Stack: 3.0` into (os, stack) versions.
pub fn split_product_version(v: &str) -> (Option<String>, Option<String>) {
    let mut os = None;
    let mut stack = None;
    let words: Vec<&str> = v.split_whitespace().collect();
    for pair in words.windows(2) {
        match pair {
            ["OS:", value] => os = Some((*value).to_owned()),
            ["Stack:", value] => stack = Some((*value).to_owned()),
            _ => {}
        }
    }
    (os, stack)
}

fn base_http(head: &ResponseHead) -> Identification {
    let www: Vec<Value> = head
        .all("www-authenticate")
        .into_iter()
        .map(Value::from)
        .collect();
    Identification::service("http")
        .with("status", head.status)
        .with("server", head.header("server").map(str::to_owned))
        .with("location", head.header("location").map(str::to_owned))
        .with("www_authenticate", www)
}

pub(crate) fn head_progress(received: &[u8]) -> Result<ResponseHead, Progress> {
    match parse_response_head(received) {
        Ok(head) => Ok(head),
        Err(Error::Incomplete) => Err(Progress::NeedMore),
        Err(Error::Invalid(why)) => Err(Progress::Done(Identification::unrecognised(why))),
    }
}

/// The response head when the peer has closed the connection: a complete head as usual,
/// or, when the close cut the head short after at least the status line, the complete
/// lines so far (the flag is then true). A close inside the status line proves nothing.
pub(crate) fn head_at_close(received: &[u8]) -> Result<(ResponseHead, bool), Progress> {
    match parse_response_head(received) {
        Ok(head) => return Ok((head, false)),
        Err(Error::Invalid(why)) => return Err(Progress::Done(Identification::unrecognised(why))),
        Err(Error::Incomplete) => {}
    }
    // Incomplete means fewer than MAX_HEAD_LEN bytes: the copy below is bounded.
    let cut = received
        .iter()
        .rposition(|&b| b == b'\n')
        .and_then(|last| received.get(..=last));
    let Some(lines) = cut else {
        return Err(Progress::Done(Identification::unrecognised(
            crate::CLOSED_EARLY,
        )));
    };
    let mut closed = lines.to_vec();
    closed.extend_from_slice(b"\r\n");
    match parse_response_head(&closed) {
        Ok(head) => Ok((head, true)),
        Err(Error::Invalid(why)) => Err(Progress::Done(Identification::unrecognised(why))),
        Err(Error::Incomplete) => Err(Progress::Done(Identification::unrecognised(
            crate::CLOSED_EARLY,
        ))),
    }
}

/// Adds `sentence` to an identification's note.
pub(crate) fn add_note(id: &mut Identification, sentence: &str) {
    id.note = Some(match id.note.take() {
        Some(note) => format!("{note}; {sentence}"),
        None => sentence.to_owned(),
    });
}

pub(crate) const HEAD_CUT: &str = "the peer closed the connection inside the response head";

/// A plain GET: reports status, `Server`, `Location` and `WWW-Authenticate`.
#[derive(Debug, Clone)]
pub struct HttpGet {
    request: Vec<u8>,
}

impl HttpGet {
    /// A GET of `path` with `Host: host`.
    pub fn new(host: &str, path: &str) -> Self {
        HttpGet {
            request: build_request("GET", host, path, &[], &[]),
        }
    }
}

impl Exchange for HttpGet {
    fn start(&mut self) -> Vec<u8> {
        self.request.clone()
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        match head_progress(received) {
            Ok(head) => Progress::Done(base_http(&head)),
            Err(p) => p,
        }
    }

    fn max_len(&self) -> usize {
        MAX_HEAD_LEN
    }

    fn on_close(&mut self, received: &[u8]) -> Progress {
        match head_at_close(received) {
            Ok((head, cut)) => {
                let mut id = base_http(&head);
                if cut {
                    add_note(&mut id, HEAD_CUT);
                }
                Progress::Done(id)
            }
            Err(p) => p,
        }
    }
}

/// The SOAP 1.2 envelope of an Identify request.
pub fn identify_envelope() -> String {
    format!(
        "<s:Envelope xmlns:s=\"{SOAP12_NS}\" xmlns:wsmid=\"{WSMID_NS}\">\
         <s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>"
    )
}

/// Builds the WinRM Identify POST to `/wsman`, marked unauthenticated (MS-WSMV 3.1.4.1.23).
pub fn build_identify(host: &str) -> Vec<u8> {
    build_request(
        "POST",
        host,
        "/wsman",
        &[
            ("Content-Type", "application/soap+xml;charset=UTF-8"),
            ("WSMANIDENTIFY", "unauthenticated"),
        ],
        identify_envelope().as_bytes(),
    )
}

/// What the probe reports for a WinRM answer: head and (for a 200) body.
pub fn identify_winrm(head: &ResponseHead, body: Option<&[u8]>) -> Identification {
    let schemes = head.auth_schemes();
    let server = head.header("server").map(str::to_owned);
    if head.status == 200
        && let Some(resp) = body.and_then(parse_identify_response)
    {
        let (os, stack) = resp
            .product_version
            .as_deref()
            .map(split_product_version)
            .unwrap_or_default();
        let mut id = Identification::service("winrm")
            .with("status", 200)
            .with("server", server)
            .with("product_vendor", resp.product_vendor)
            .with("product_version", resp.product_version)
            .with("protocol_version", resp.protocol_version);
        if let Some(os) = os {
            id = id.with("os_version", os);
        }
        if let Some(stack) = stack {
            id = id.with("stack_version", stack);
        }
        return id;
    }
    let known = ["negotiate", "kerberos", "basic", "ntlm", "credssp"];
    if head.status == 401
        && schemes
            .iter()
            .any(|s| known.contains(&s.to_ascii_lowercase().as_str()))
    {
        let mut id = Identification::service("winrm")
            .with("status", 401)
            .with("server", server)
            .with("auth_schemes", schemes);
        id.note =
            Some("WinRM refuses unauthenticated Identify; authentication is required".to_owned());
        return id;
    }
    let mut id = base_http(head);
    id.note = Some(format!(
        "HTTP {} {} is not a WinRM Identify answer",
        head.status, head.reason
    ));
    id
}

/// The WinRM probe (TCP 5985, or 5986 inside TLS).
#[derive(Debug, Clone)]
pub struct WinRmIdentify {
    request: Vec<u8>,
}

impl WinRmIdentify {
    /// An Identify request with `Host: host` (add `:5985` or `:5986`).
    pub fn new(host: &str) -> Self {
        WinRmIdentify {
            request: build_identify(host),
        }
    }
}

impl Exchange for WinRmIdentify {
    fn start(&mut self) -> Vec<u8> {
        self.request.clone()
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        let head = match head_progress(received) {
            Ok(head) => head,
            Err(p) => return p,
        };
        if head.status != 200 {
            return Progress::Done(identify_winrm(&head, None));
        }
        match read_body(&head, received) {
            Ok(Body::Complete { bytes, .. }) => Progress::Done(identify_winrm(&head, Some(&bytes))),
            Ok(Body::Incomplete(partial)) => {
                // A body without a length ends with the connection; the envelope's end tag
                // is enough to decide, and so is the bound.
                let text = String::from_utf8_lossy(&partial);
                if text.contains("Envelope>") || received.len() >= self.max_len() {
                    Progress::Done(identify_winrm(&head, Some(&partial)))
                } else {
                    Progress::NeedMore
                }
            }
            Err(Error::Invalid(why)) => {
                let mut id = identify_winrm(&head, None);
                id.note = Some(format!("unreadable body: {why}"));
                Progress::Done(id)
            }
            Err(Error::Incomplete) => Progress::NeedMore,
        }
    }

    fn max_len(&self) -> usize {
        MAX_HEAD_LEN + MAX_BODY_LEN
    }

    /// A body without a length ends with the connection: what arrived is the whole body.
    /// A body cut short of its `Content-Length` or last chunk is read as far as it goes,
    /// with a note.
    fn on_close(&mut self, received: &[u8]) -> Progress {
        let (head, cut) = match head_at_close(received) {
            Ok(found) => found,
            Err(p) => return p,
        };
        if cut || head.status != 200 {
            let mut id = identify_winrm(&head, None);
            if cut {
                add_note(&mut id, HEAD_CUT);
            }
            return Progress::Done(id);
        }
        match read_body(&head, received) {
            Ok(Body::Complete { bytes, .. }) => Progress::Done(identify_winrm(&head, Some(&bytes))),
            Ok(Body::Incomplete(partial)) => {
                let mut id = identify_winrm(&head, Some(&partial));
                if head.is_chunked() {
                    add_note(
                        &mut id,
                        "the peer closed the connection inside the chunked body",
                    );
                } else if let Some(len) = head.content_length() {
                    add_note(
                        &mut id,
                        &format!(
                            "the peer closed the connection after {} of {len} body bytes",
                            partial.len()
                        ),
                    );
                }
                Progress::Done(id)
            }
            Err(Error::Invalid(why)) => {
                let mut id = identify_winrm(&head, None);
                id.note = Some(format!("unreadable body: {why}"));
                Progress::Done(id)
            }
            // read_body reports a short body as Body::Incomplete, never as this.
            Err(Error::Incomplete) => Progress::Done(identify_winrm(&head, None)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VERSION: &str = env!("CARGO_PKG_VERSION");

    #[test]
    fn get_request_bytes() {
        let got = HttpGet::new("rdweb.example.test", "/RDWeb/").start();
        let expected = format!(
            "GET /RDWeb/ HTTP/1.1\r\n\
             Host: rdweb.example.test\r\n\
             User-Agent: rdsports/{VERSION}\r\n\
             Accept: */*\r\n\
             Connection: close\r\n\
             \r\n"
        );
        assert_eq!(String::from_utf8(got).unwrap(), expected);
    }

    #[test]
    fn request_inputs_cannot_inject_headers() {
        let got = build_request(
            "GET",
            "a\r\nX-Evil: 1",
            "x y\r\n",
            &[("Bad\r\nName", "v\r\n")],
            &[],
        );
        let text = String::from_utf8(got).unwrap();
        assert!(text.starts_with("GET /x%20y HTTP/1.1\r\nHost: aX-Evil: 1\r\n"));
        assert!(text.contains("\r\nBadName: v\r\n"));
        assert_eq!(text.matches("\r\n").count(), 7);
    }

    #[test]
    fn identify_request_bytes() {
        let body = "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" \
                    xmlns:wsmid=\"http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd\">\
                    <s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>";
        let expected = format!(
            "POST /wsman HTTP/1.1\r\n\
             Host: 192.0.2.5:5985\r\n\
             User-Agent: rdsports/{VERSION}\r\n\
             Accept: */*\r\n\
             Connection: close\r\n\
             Content-Length: {}\r\n\
             Content-Type: application/soap+xml;charset=UTF-8\r\n\
             WSMANIDENTIFY: unauthenticated\r\n\
             \r\n{body}",
            body.len()
        );
        assert_eq!(
            String::from_utf8(WinRmIdentify::new("192.0.2.5:5985").start()).unwrap(),
            expected
        );
    }

    const IDENTIFY_BODY: &str = "<s:Envelope xml:lang=\"en-US\" xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\">\
        <s:Header/><s:Body><wsmid:IdentifyResponse xmlns:wsmid=\"http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd\">\
        <wsmid:ProtocolVersion>http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd</wsmid:ProtocolVersion>\
        <wsmid:ProductVendor>Microsoft Corporation</wsmid:ProductVendor>\
        <wsmid:ProductVersion>OS: 10.0.20348 SP: 0.0 Stack: 3.0</wsmid:ProductVersion>\
        </wsmid:IdentifyResponse></s:Body></s:Envelope>";

    fn identify_200() -> Vec<u8> {
        format!(
            "HTTP/1.1 200 \r\nContent-Type: application/soap+xml;charset=UTF-8\r\n\
             Server: Microsoft-HTTPAPI/2.0\r\nContent-Length: {}\r\n\r\n{IDENTIFY_BODY}",
            IDENTIFY_BODY.len()
        )
        .into_bytes()
    }

    #[test]
    fn winrm_identify_response() {
        let Progress::Done(id) = WinRmIdentify::new("h").on_bytes(&identify_200()) else {
            panic!()
        };
        assert_eq!(id.service, Some("winrm"));
        assert_eq!(id.detail["product_vendor"], "Microsoft Corporation");
        assert_eq!(
            id.detail["product_version"],
            "OS: 10.0.20348 SP: 0.0 Stack: 3.0"
        );
        assert_eq!(
            id.detail["protocol_version"],
            "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
        );
        assert_eq!(id.detail["os_version"], "10.0.20348");
        assert_eq!(id.detail["stack_version"], "3.0");
        assert_eq!(id.detail["server"], "Microsoft-HTTPAPI/2.0");
    }

    #[test]
    fn winrm_identify_chunked_and_unframed() {
        let (a, b) = IDENTIFY_BODY.split_at(100);
        let chunked = format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x};ext=1\r\n{b}\r\n0\r\n\r\n",
            a.len(),
            b.len()
        );
        let Progress::Done(id) = WinRmIdentify::new("h").on_bytes(chunked.as_bytes()) else {
            panic!()
        };
        assert_eq!(id.service, Some("winrm"));
        assert_eq!(id.detail["product_vendor"], "Microsoft Corporation");
        // No length at all: the envelope's end decides.
        let unframed = format!("HTTP/1.1 200 OK\r\n\r\n{IDENTIFY_BODY}");
        let Progress::Done(id) = WinRmIdentify::new("h").on_bytes(unframed.as_bytes()) else {
            panic!()
        };
        assert_eq!(id.service, Some("winrm"));
    }

    #[test]
    fn winrm_401_is_still_winrm() {
        let reply = b"HTTP/1.1 401 \r\nServer: Microsoft-HTTPAPI/2.0\r\n\
            WWW-Authenticate: Negotiate\r\nWWW-Authenticate: Kerberos\r\n\
            WWW-Authenticate: Basic realm=\"WSMAN\"\r\nContent-Length: 0\r\n\r\n";
        let Progress::Done(id) = WinRmIdentify::new("h").on_bytes(reply) else {
            panic!()
        };
        assert_eq!(id.service, Some("winrm"));
        assert_eq!(
            id.detail["auth_schemes"],
            serde_json::json!(["Negotiate", "Kerberos", "Basic"])
        );
        assert_eq!(id.detail["server"], "Microsoft-HTTPAPI/2.0");
        assert!(id.note.is_some());
    }

    #[test]
    fn other_http_is_not_winrm() {
        let reply =
            b"HTTP/1.1 404 Not Found\r\nServer: Microsoft-IIS/10.0\r\nContent-Length: 0\r\n\r\n";
        let Progress::Done(id) = WinRmIdentify::new("h").on_bytes(reply) else {
            panic!()
        };
        assert_eq!(id.service, Some("http"));
        assert!(id.note.unwrap().contains("not a WinRM"));
        // A 200 without an IdentifyResponse is not WinRM either.
        let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        let Progress::Done(id) = WinRmIdentify::new("h").on_bytes(reply) else {
            panic!()
        };
        assert_eq!(id.service, Some("http"));
    }

    #[test]
    fn http_get_head() {
        let reply =
            b"HTTP/1.1 302 Found\r\nLocation: /RDWeb/Pages/\r\nServer: Microsoft-IIS/10.0\r\n\
            WWW-Authenticate: Negotiate\r\nWWW-Authenticate: NTLM\r\n\r\n";
        let Progress::Done(id) = HttpGet::new("h", "/RDWeb").on_bytes(reply) else {
            panic!()
        };
        assert_eq!(id.service, Some("http"));
        assert_eq!(id.detail["status"], 302);
        assert_eq!(id.detail["location"], "/RDWeb/Pages/");
        assert_eq!(id.detail["server"], "Microsoft-IIS/10.0");
        assert_eq!(
            id.detail["www_authenticate"],
            serde_json::json!(["Negotiate", "NTLM"])
        );
    }

    #[test]
    fn not_http() {
        let Progress::Done(id) = HttpGet::new("h", "/").on_bytes(b"SSH-2.0-OpenSSH\r\n") else {
            panic!()
        };
        assert_eq!(id.service, None);
        let Progress::Done(id) = WinRmIdentify::new("h").on_bytes(&[0x15, 0x03, 0x03, 0x00, 0x02])
        else {
            panic!()
        };
        assert_eq!(id.service, None);
    }

    #[test]
    fn every_truncation_needs_more() {
        let full = identify_200();
        for n in 0..full.len() {
            assert_eq!(
                WinRmIdentify::new("h").on_bytes(&full[..n]),
                Progress::NeedMore,
                "prefix {n}"
            );
        }
    }

    #[test]
    fn element_text_scanning() {
        assert_eq!(
            element_text("<a:B x='1'>t &amp; u</a:B>", "B").as_deref(),
            Some("t & u")
        );
        assert_eq!(element_text("<B/>", "B").as_deref(), Some(""));
        assert_eq!(element_text("</B><B>x</B>", "B").as_deref(), Some("x"));
        assert_eq!(element_text("<BC>x</BC>", "B"), None);
        assert_eq!(element_text("<B", "B"), None);
        assert_eq!(element_text("<é:B>ü</é:B>", "B").as_deref(), Some("ü"));
    }

    #[test]
    fn body_bounds() {
        let head =
            parse_response_head(b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n").unwrap();
        let mut buf = b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n".to_vec();
        buf.resize(head.head_len + MAX_BODY_LEN, b'x');
        let Ok(Body::Complete { bytes, truncated }) = read_body(&head, &buf) else {
            panic!()
        };
        assert_eq!(bytes.len(), MAX_BODY_LEN);
        assert!(truncated);
        // A head that never ends is refused at the bound.
        let mut endless = b"HTTP/1.1 200 OK\r\n".to_vec();
        while endless.len() < MAX_HEAD_LEN + 10 {
            endless.extend_from_slice(b"X-A: b\r\n");
        }
        assert!(matches!(
            parse_response_head(&endless),
            Err(Error::Invalid(_))
        ));
    }

    fn closed(exchange: &mut dyn Exchange, received: &[u8]) -> Identification {
        match exchange.on_close(received) {
            Progress::Done(id) => id,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_close_ends_a_body_without_length() {
        // HTTP/1.0, no Content-Length: the body runs to the close.
        let reply = b"HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6\r\n\r\n<html>hello</html>";
        let mut winrm = WinRmIdentify::new("h");
        assert_eq!(winrm.on_bytes(reply), Progress::NeedMore);
        let id = closed(&mut winrm, reply);
        assert_eq!(id.service, Some("http"));
        assert_eq!(id.detail["status"], 200);
        assert_eq!(id.detail["server"], "SimpleHTTP/0.6");
        assert!(id.note.unwrap().contains("not a WinRM"));
        // An Identify answer whose envelope the close cut is still read.
        let cut = IDENTIFY_BODY.trim_end_matches("</s:Body></s:Envelope>");
        let reply = format!("HTTP/1.1 200 OK\r\n\r\n{cut}");
        let mut winrm = WinRmIdentify::new("h");
        assert_eq!(winrm.on_bytes(reply.as_bytes()), Progress::NeedMore);
        let id = closed(&mut winrm, reply.as_bytes());
        assert_eq!(id.service, Some("winrm"));
        assert_eq!(id.detail["os_version"], "10.0.20348");
        // The same through HttpGet, which never needed the body.
        let id = closed(&mut HttpGet::new("h", "/"), reply.as_bytes());
        assert_eq!(id.service, Some("http"));
        assert_eq!(id.note, None);
    }

    #[test]
    fn a_close_inside_a_framed_body_is_noted() {
        let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n<s:Envelope";
        let id = closed(&mut WinRmIdentify::new("h"), reply);
        assert_eq!(id.service, Some("http"));
        assert!(id.note.unwrap().contains("after 11 of 500 body bytes"));
        let reply = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n<s:Env";
        let id = closed(&mut WinRmIdentify::new("h"), reply);
        assert_eq!(id.service, Some("http"));
        assert!(id.note.unwrap().contains("inside the chunked body"));
    }

    #[test]
    fn a_close_inside_the_head_after_the_status_line_is_http() {
        for reply in [
            &b"HTTP/1.0 302 Found\r\nLocation: /RDWeb/\r\nServ"[..],
            b"HTTP/1.0 302 Found\r\nLocation: /RDWeb/\r\n",
            b"HTTP/1.0 302 Found\nLocation: /RDWeb/\n",
        ] {
            let mut get = HttpGet::new("h", "/");
            assert_eq!(get.on_bytes(reply), Progress::NeedMore);
            let id = closed(&mut get, reply);
            assert_eq!(id.service, Some("http"), "{reply:?}");
            assert_eq!(id.detail["status"], 302);
            assert_eq!(id.detail["location"], "/RDWeb/");
            assert!(id.note.unwrap().contains("inside the response head"));
            let id = closed(&mut WinRmIdentify::new("h"), reply);
            assert_eq!(id.service, Some("http"), "{reply:?}");
            assert!(id.note.unwrap().contains("inside the response head"));
        }
        // A close inside the status line proves nothing.
        for reply in [&b""[..], b"HTTP/1.1 20", b"HTTP/1.1 200 OK"] {
            let id = closed(&mut HttpGet::new("h", "/"), reply);
            assert_eq!(id.service, None, "{reply:?}");
            assert_eq!(id.note.as_deref(), Some(crate::CLOSED_EARLY));
        }
        // Not HTTP at all: the parser's reason.
        let id = closed(&mut HttpGet::new("h", "/"), b"SSH-2.0-x\r\n");
        assert_eq!(id.service, None);
        assert!(id.note.unwrap().contains("not an HTTP/1.x response"));
    }

    #[test]
    fn a_close_after_a_whole_reply_changes_nothing() {
        let full = identify_200();
        let Progress::Done(at_end) = WinRmIdentify::new("h").on_bytes(&full) else {
            panic!()
        };
        assert_eq!(closed(&mut WinRmIdentify::new("h"), &full), at_end);
        // Every prefix ends in a decision, never a panic or a NeedMore.
        for n in 0..full.len() {
            let _ = closed(&mut WinRmIdentify::new("h"), &full[..n]);
            let _ = closed(&mut HttpGet::new("h", "/"), &full[..n]);
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_at_close(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = HttpGet::new("h", "/").on_close(&bytes);
            let _ = WinRmIdentify::new("h").on_close(&bytes);
            let mut reply = b"HTTP/1.1 200 OK\r\n".to_vec();
            reply.extend_from_slice(&bytes);
            let _ = HttpGet::new("h", "/").on_close(&reply);
            let _ = WinRmIdentify::new("h").on_close(&reply);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_response_head(&bytes);
            let _ = HttpGet::new("h", "/").on_bytes(&bytes);
            let _ = WinRmIdentify::new("h").on_bytes(&bytes);
            let _ = parse_identify_response(&bytes);
            let _ = dechunk(&bytes);
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,300}", local in "[a-zA-Z]{1,8}") {
            let _ = element_text(&s, &local);
            let mut reply = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            reply.extend_from_slice(s.as_bytes());
            let _ = WinRmIdentify::new("h").on_bytes(&reply);
        }
    }
}
