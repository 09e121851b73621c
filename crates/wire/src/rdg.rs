//! The RDS web services behind TLS: the opening of the RD Gateway's HTTP transport
//! ([MS-TSGU]) and RD Web Access (the `RDWeb` application IIS serves), unauthenticated.
//!
//! **RD Gateway** ([`GatewayOutData`]). [MS-TSGU] section 4.2.1 ("Normal Scenario" of the
//! HTTP transport) and 3.3.5.1: the client opens the OUT channel with an HTTP/1.1 request
//! whose method is the custom command `RDG_OUT_DATA` (2.2.3.1.2) on the resource
//! `/remoteDesktopGateway/`, with the custom header `RDG-Connection-Id` (2.2.3.2.1) set to a
//! GUID the client generates, caching disallowed and `Accept: */*`. The gateway "returns an
//! HTTP 401 status code (authentication required) with the supported authentication schemes
//! in the WWW-Authenticate header". That answer is what identifies `rd-gateway` here;
//! nothing is authenticated, so the exchange ends at the challenge.
//!
//! Anything else is not a gateway endpoint, and says what is there instead: a page (`200`,
//! a redirect) is a web site bound where the gateway should be, `404` a server without the
//! `/remoteDesktopGateway/` endpoint (the role not installed, or another site's binding),
//! `405`/`501` a server or proxy that refuses the custom method, `403` a filtering rule, a
//! `5xx` a proxy that could not reach its back end, and a connection closed or reset after
//! the request a proxy or web application firewall dropping the method.
//!
//! **RD Web Access** ([`RdWebAccess`]). Two requests on one connection: `GET /RDWeb/`, whose
//! answer on a server with the role is a redirect into the application's pages
//! (`/RDWeb/Pages/...`), then `GET /RDWeb/Feed/webfeed.aspx`, the RemoteApp and desktop
//! feed, which requires Windows authentication (a `401` with `Negotiate`/`NTLM`). Either
//! sign identifies `rd-web-access`, except a `401` feed behind a `401` for `/RDWeb/` too
//! (a front end that asks for authentication everywhere proves nothing about the feed).
//!
//! What this module does not do: authenticate, follow redirects, read pages, or reuse a
//! connection beyond the two requests above. Response heads are bounded by
//! [`http::MAX_HEAD_LEN`], bodies by [`http::MAX_BODY_LEN`].
//!
//! [MS-TSGU]: https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-tsgu/

use serde_json::Value;

use crate::http::{self, Body, ResponseHead};
use crate::{Exchange, Identification, Progress};

/// The service name of an RD Gateway HTTP transport endpoint.
pub const RD_GATEWAY: &str = "rd-gateway";
/// The service name of RD Web Access.
pub const RD_WEB_ACCESS: &str = "rd-web-access";
/// The gateway's custom method that opens the OUT channel ([MS-TSGU] 2.2.3.1.2).
pub const RDG_OUT_DATA: &str = "RDG_OUT_DATA";
/// The resource of the gateway's HTTP transport ([MS-TSGU] 3.3.5.1, 4.2.1).
pub const GATEWAY_PATH: &str = "/remoteDesktopGateway/";
/// The RD Web Access application.
pub const RDWEB_PATH: &str = "/RDWeb/";
/// The RD Web Access feed (RemoteApp and desktop connections), which asks for authentication.
pub const FEED_PATH: &str = "/RDWeb/Feed/webfeed.aspx";

/// A GUID in registry form (`{8-4-4-4-12}`, upper case) from 16 random bytes, as a version 4
/// GUID: `Data1`, `Data2` and `Data3` are the little-endian integers of the first 8 bytes.
pub fn guid_text(random: [u8; 16]) -> String {
    let mut b = random;
    // Version 4 (random) in Data3's top nibble, RFC 4122 variant in byte 8.
    b[7] = (b[7] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let data1 = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    let data2 = u16::from_le_bytes([b[4], b[5]]);
    let data3 = u16::from_le_bytes([b[6], b[7]]);
    format!(
        "{{{data1:08X}-{data2:04X}-{data3:04X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}}}",
        b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
    )
}

/// The OUT channel request of [MS-TSGU] 4.2.1 step 1, unauthenticated: `RDG_OUT_DATA` on
/// [`GATEWAY_PATH`], `RDG-Connection-Id` set to `connection_id`, no caching.
pub fn build_out_data(host: &str, connection_id: &str) -> Vec<u8> {
    http::build_request(
        RDG_OUT_DATA,
        host,
        GATEWAY_PATH,
        &[
            ("Cache-Control", "no-cache"),
            ("Pragma", "no-cache"),
            ("RDG-Connection-Id", connection_id),
        ],
        &[],
    )
}

/// The status line as sent (`HTTP/1.1 401 Unauthorized`).
pub fn status_line(head: &ResponseHead) -> String {
    format!(
        "HTTP/1.{} {} {}",
        head.minor_version, head.status, head.reason
    )
    .trim_end()
    .to_owned()
}

/// The evidence every answer carries: status, status line, `Server`, `Location` and the
/// authentication schemes offered.
fn evidence(id: Identification, head: &ResponseHead) -> Identification {
    let schemes: Vec<Value> = head.auth_schemes().into_iter().map(Value::from).collect();
    id.with("status", head.status)
        .with("status_line", status_line(head))
        .with("server", head.header("server").map(str::to_owned))
        .with("location", head.header("location").map(str::to_owned))
        .with("www_authenticate", schemes)
}

/// What a gateway answer means: `rd-gateway` for the 401 challenge the specification
/// describes, otherwise `http` (a web server answered, not the gateway) with a note saying
/// what that usually means.
pub fn judge_gateway(head: &ResponseHead) -> Identification {
    let request = format!("{RDG_OUT_DATA} {GATEWAY_PATH}");
    let challenged = head.status == 401 && !head.auth_schemes().is_empty();
    if challenged {
        return evidence(Identification::service(RD_GATEWAY), head).with("request", request);
    }
    let meaning = match head.status {
        401 => "a 401 without any authentication scheme is not the gateway's challenge",
        200..=299 => {
            "a web page answers the gateway's transport request: the RD Gateway role is not \
             installed, or the name and port lead to another site (a default site or a wrong \
             binding)"
        }
        300..=399 => {
            "a redirect answers the gateway's transport request: a web site (or a proxy's \
             login page) is bound where the gateway should be"
        }
        404 => {
            "no /remoteDesktopGateway/ endpoint here: the RD Gateway role is not installed, \
             or the name and port lead to another site"
        }
        405 | 501 => {
            "the server refuses the RDG_OUT_DATA method: a reverse proxy or web application \
             firewall in the path that does not pass the gateway's methods, or a plain web \
             server"
        }
        403 => {
            "forbidden: a proxy or web application firewall rule blocks the gateway's \
             request, or the site refuses it"
        }
        500..=599 => {
            "a server error: often a reverse proxy that cannot reach the gateway behind it, \
             or drops the gateway's method"
        }
        _ => "not the gateway's answer to its transport request",
    };
    let mut id = evidence(Identification::service("http"), head).with("request", request);
    id.note = Some(format!(
        "{}{} to {RDG_OUT_DATA} {GATEWAY_PATH}: {meaning}",
        status_line(head),
        server_text(head.header("server"))
    ));
    id
}

/// ` (Server: x)` when the answer names its server, for notes.
fn server_text(server: Option<&str>) -> String {
    server
        .map(|s| format!(" (Server: {})", s.chars().take(120).collect::<String>()))
        .unwrap_or_default()
}

/// The sentence for a connection that a peer closes or resets after the gateway request,
/// without an HTTP answer.
pub const DROPPED_METHOD: &str = "the connection ended without an answer to RDG_OUT_DATA \
     /remoteDesktopGateway/: a reverse proxy or web application firewall in the path that \
     drops the gateway's method, or a server that is not a gateway";

/// The RD Gateway probe: [`build_out_data`], then [`judge_gateway`] on the answer's head.
#[derive(Debug, Clone)]
pub struct GatewayOutData {
    request: Vec<u8>,
}

impl GatewayOutData {
    /// The request for `Host: host` with the connection id from `random` (see [`guid_text`]).
    pub fn new(host: &str, random: [u8; 16]) -> Self {
        GatewayOutData {
            request: build_out_data(host, &guid_text(random)),
        }
    }
}

impl Exchange for GatewayOutData {
    fn start(&mut self) -> Vec<u8> {
        self.request.clone()
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        match http::head_progress(received) {
            Ok(head) => Progress::Done(judge_gateway(&head)),
            Err(p) => p,
        }
    }

    fn max_len(&self) -> usize {
        http::MAX_HEAD_LEN
    }

    fn on_close(&mut self, received: &[u8]) -> Progress {
        if received.is_empty() {
            return Progress::Done(Identification::unrecognised(DROPPED_METHOD));
        }
        match http::head_at_close(received) {
            Ok((head, cut)) => {
                let mut id = judge_gateway(&head);
                if cut {
                    http::add_note(&mut id, http::HEAD_CUT);
                }
                Progress::Done(id)
            }
            Err(p) => p,
        }
    }
}

/// What `GET /RDWeb/` showed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct First {
    status: u16,
    status_line: String,
    server: Option<String>,
    location: Option<String>,
    schemes: Vec<String>,
}

impl First {
    fn of(head: &ResponseHead) -> First {
        First {
            status: head.status,
            status_line: status_line(head),
            server: head.header("server").map(str::to_owned),
            location: head.header("location").map(str::to_owned),
            schemes: head.auth_schemes(),
        }
    }

    /// A redirect into the application's pages, as the RDWeb application answers.
    fn redirects_to_pages(&self) -> bool {
        (300..=399).contains(&self.status)
            && self
                .location
                .as_deref()
                .is_some_and(|l| l.to_ascii_lowercase().contains("/rdweb/pages"))
    }
}

/// What RD Web Access's two answers mean: `rd-web-access` when `/RDWeb/` redirects into
/// `/RDWeb/Pages/`, or the feed asks for authentication while `/RDWeb/` does not; otherwise
/// `http` with a note. `feed` is `None` when the feed was not asked for (the server closed
/// the connection, or the first body could not be skipped).
fn judge_web_access(first: &First, feed: Option<&ResponseHead>) -> Identification {
    let feed_challenge = feed.is_some_and(|f| f.status == 401 && !f.auth_schemes().is_empty());
    let found = first.redirects_to_pages() || (feed_challenge && first.status != 401);
    let mut id = if found {
        Identification::service(RD_WEB_ACCESS)
    } else {
        Identification::service("http")
    };
    let schemes: Vec<Value> = first.schemes.iter().cloned().map(Value::from).collect();
    id = id
        .with("status", first.status)
        .with("status_line", first.status_line.clone())
        .with("server", first.server.clone())
        .with("location", first.location.clone())
        .with("www_authenticate", schemes)
        .with("request", format!("GET {RDWEB_PATH}"));
    if let Some(f) = feed {
        let schemes: Vec<Value> = f.auth_schemes().into_iter().map(Value::from).collect();
        id = id
            .with("feed_status", f.status)
            .with("feed_status_line", status_line(f))
            .with("feed_www_authenticate", schemes);
    }
    if !found {
        let meaning = match first.status {
            404 => {
                "no /RDWeb/ application here: the RD Web Access role is not installed on this \
                 site, or the name and port lead to another site"
            }
            401 => {
                "everything asks for authentication (a front end or another application): \
                 nothing here shows RD Web Access"
            }
            200..=299 => {
                "a page answers /RDWeb/, but not RD Web Access's redirect to its pages, and the \
                 feed does not ask for authentication"
            }
            300..=399 => "/RDWeb/ redirects elsewhere than RD Web Access's pages",
            _ => "not RD Web Access's answer",
        };
        id.note = Some(format!(
            "{}{} to GET {RDWEB_PATH}: {meaning}",
            first.status_line,
            server_text(first.server.as_deref())
        ));
    } else if feed.is_none() {
        id.note = Some("the feed was not requested: the server ended the connection".into());
    }
    id
}

/// The RD Web Access probe: `GET /RDWeb/` (keep-alive), its body skipped, then
/// `GET /RDWeb/Feed/webfeed.aspx`.
#[derive(Debug, Clone)]
pub struct RdWebAccess {
    host: String,
    first: Option<First>,
}

impl RdWebAccess {
    /// The probe for `Host: host`.
    pub fn new(host: &str) -> Self {
        RdWebAccess {
            host: host.to_owned(),
            first: None,
        }
    }

    fn on_first(&mut self, received: &[u8]) -> Progress {
        let head = match http::head_progress(received) {
            Ok(head) => head,
            Err(p) => return p,
        };
        let first = First::of(&head);
        let closes = head
            .header("connection")
            .is_some_and(|v| v.to_ascii_lowercase().contains("close"));
        let framed = head.is_chunked()
            || head.content_length().is_some()
            || matches!(head.status, 100..=199 | 204 | 304);
        if closes || !framed {
            // The body runs to the close, or the server will close: no second request.
            return Progress::Done(judge_web_access(&first, None));
        }
        match http::read_body(&head, received) {
            Ok(Body::Complete {
                truncated: false, ..
            }) => {
                self.first = Some(first);
                Progress::Send(http::build_request("GET", &self.host, FEED_PATH, &[], &[]))
            }
            Ok(Body::Complete {
                truncated: true, ..
            })
            | Err(http::Error::Invalid(_)) => Progress::Done(judge_web_access(&first, None)),
            Ok(Body::Incomplete(_)) | Err(http::Error::Incomplete) => Progress::NeedMore,
        }
    }
}

impl Exchange for RdWebAccess {
    fn start(&mut self) -> Vec<u8> {
        http::build_keep_alive_request("GET", &self.host, RDWEB_PATH, &[])
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        match &self.first {
            None => self.on_first(received),
            Some(first) => match http::head_progress(received) {
                Ok(feed) => Progress::Done(judge_web_access(first, Some(&feed))),
                Err(p) => p,
            },
        }
    }

    fn max_len(&self) -> usize {
        http::MAX_HEAD_LEN + http::MAX_BODY_LEN
    }

    fn on_close(&mut self, received: &[u8]) -> Progress {
        match &self.first {
            Some(first) => match http::head_at_close(received) {
                Ok((feed, _)) => Progress::Done(judge_web_access(first, Some(&feed))),
                Err(_) => Progress::Done(judge_web_access(first, None)),
            },
            None => match http::head_at_close(received) {
                Ok((head, _)) => Progress::Done(judge_web_access(&First::of(&head), None)),
                Err(p) => p,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_answers_never_panic(
            first in proptest::collection::vec(any::<u8>(), 0..512),
            second in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let mut gateway = GatewayOutData::new("gw", [1; 16]);
            let _ = gateway.on_bytes(&first);
            let _ = gateway.on_close(&first);
            let mut web = RdWebAccess::new("web");
            if let Progress::Send(_) = web.on_bytes(&first) {
                let _ = web.on_bytes(&second);
                let _ = web.on_close(&second);
            } else {
                let _ = web.on_close(&first);
            }
        }

        #[test]
        fn http_shaped_answers_never_panic(
            status in 100u16..600,
            headers in proptest::collection::vec("[A-Za-z-]{1,20}: [ -~]{0,40}", 0..8),
            body in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut reply = format!("HTTP/1.1 {status} X\r\n{}\r\n\r\n", headers.join("\r\n")).into_bytes();
            reply.extend_from_slice(&body);
            let _ = GatewayOutData::new("gw", [1; 16]).on_bytes(&reply);
            let mut web = RdWebAccess::new("web");
            if let Progress::Send(_) = web.on_bytes(&reply) {
                let _ = web.on_bytes(&reply);
            }
        }
    }

    const ID: [u8; 16] = [
        0xd8, 0x92, 0x8f, 0x95, 0x20, 0xda, 0x7a, 0x46, 0xbb, 0xe3, 0x65, 0xe7, 0xe9, 0xb4, 0xed,
        0xcf,
    ];

    fn done(p: Progress) -> Identification {
        match p {
            Progress::Done(id) => id,
            other => panic!("not done: {other:?}"),
        }
    }

    #[test]
    fn the_connection_id_is_the_guid_of_the_specifications_example_form() {
        // [MS-TSGU] 4.2.1 shows {0x958F92D8,0xDA20,0x467a,{0xBB,0xE3,...}}: Data1..Data3 are
        // little-endian on the wire; these bytes already carry version 4 and the variant.
        assert_eq!(guid_text(ID), "{958F92D8-DA20-467A-BBE3-65E7E9B4EDCF}");
        // Any random bytes come out as a version 4, RFC 4122 variant GUID.
        let g = guid_text([0xff; 16]);
        assert_eq!(g, "{FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF}");
        assert_eq!(guid_text([0; 16]), "{00000000-0000-4000-8000-000000000000}");
    }

    #[test]
    fn the_out_channel_request_is_the_specifications_first_step() {
        let bytes = build_out_data("rds.contoso.example", &guid_text(ID));
        let text = String::from_utf8(bytes).unwrap();
        let expected = format!(
            "RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\n\
             Host: rds.contoso.example\r\n\
             User-Agent: rdsports/{}\r\n\
             Accept: */*\r\n\
             Connection: close\r\n\
             Cache-Control: no-cache\r\n\
             Pragma: no-cache\r\n\
             RDG-Connection-Id: {{958F92D8-DA20-467A-BBE3-65E7E9B4EDCF}}\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(text, expected);
        // No body, so no Content-Length.
        assert!(!text.contains("Content-Length"));
    }

    #[test]
    fn the_gateways_challenge_identifies_rd_gateway() {
        let reply = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nServer: Microsoft-HTTPAPI/2.0\r\n\
WWW-Authenticate: Negotiate\r\nWWW-Authenticate: NTLM\r\nWWW-Authenticate: Basic realm=\"rds.contoso.example\"\r\n\r\n";
        let id = done(GatewayOutData::new("gw", ID).on_bytes(reply));
        assert_eq!(id.service, Some(RD_GATEWAY));
        assert_eq!(id.note, None);
        assert_eq!(id.detail["status"], 401);
        assert_eq!(id.detail["status_line"], "HTTP/1.1 401 Unauthorized");
        assert_eq!(id.detail["server"], "Microsoft-HTTPAPI/2.0");
        assert_eq!(
            id.detail["www_authenticate"],
            serde_json::json!(["Negotiate", "NTLM", "Basic"])
        );
        assert_eq!(id.detail["request"], "RDG_OUT_DATA /remoteDesktopGateway/");
    }

    #[test]
    fn a_web_server_in_the_gateways_place_is_http_with_the_usual_meaning() {
        for (reply, status, says) in [
            (
                &b"HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nContent-Length: 615\r\n\r\n<html>"[..],
                200,
                "role is not installed",
            ),
            (
                b"HTTP/1.1 404 Not Found\r\nServer: Microsoft-IIS/10.0\r\nContent-Length: 0\r\n\r\n",
                404,
                "no /remoteDesktopGateway/ endpoint",
            ),
            (
                b"HTTP/1.1 405 Not Allowed\r\nServer: nginx\r\n\r\n",
                405,
                "web application firewall",
            ),
            (
                b"HTTP/1.1 501 Not Implemented\r\n\r\n",
                501,
                "refuses the RDG_OUT_DATA method",
            ),
            (
                b"HTTP/1.1 302 Found\r\nLocation: https://login.example/\r\n\r\n",
                302,
                "redirect",
            ),
            (b"HTTP/1.1 403 Forbidden\r\n\r\n", 403, "forbidden"),
            (b"HTTP/1.1 502 Bad Gateway\r\n\r\n", 502, "reverse proxy"),
            (
                b"HTTP/1.1 401 Unauthorized\r\n\r\n",
                401,
                "without any authentication scheme",
            ),
        ] {
            let id = done(GatewayOutData::new("gw", ID).on_bytes(reply));
            assert_eq!(id.service, Some("http"), "{status}");
            assert_eq!(id.detail["status"], status);
            let note = id.note.unwrap();
            assert!(note.contains(says), "{status}: {note}");
            assert!(note.contains("to RDG_OUT_DATA /remoteDesktopGateway/"), "{note}");
        }
        let id =
            done(GatewayOutData::new("gw", ID).on_bytes(
                b"HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nContent-Length: 615\r\n\r\n",
            ));
        assert_eq!(id.detail["server"], "nginx/1.24.0");
        assert_eq!(id.detail["status_line"], "HTTP/1.1 200 OK");
        assert!(
            id.note
                .unwrap()
                .starts_with("HTTP/1.1 200 OK (Server: nginx/1.24.0) to RDG_OUT_DATA")
        );
    }

    #[test]
    fn a_dropped_method_and_partial_answers() {
        let mut probe = GatewayOutData::new("gw", ID);
        assert_eq!(probe.on_bytes(b"HTTP/1.1 401 Unauth"), Progress::NeedMore);
        let id = done(probe.on_close(b""));
        assert_eq!(id.service, None);
        assert_eq!(id.note.as_deref(), Some(DROPPED_METHOD));
        // A close inside the head after the status line is still read.
        let id = done(probe.on_close(b"HTTP/1.1 405 Method Not Allowed\r\nServer: x\r\n"));
        assert_eq!(id.service, Some("http"));
        assert!(id.note.unwrap().contains(http::HEAD_CUT));
        // Not HTTP at all.
        let id = done(probe.on_bytes(b"\x15\x03\x03\x00\x02\x02\x28garbage\r\n\r\n"));
        assert_eq!(id.service, None);
        assert_eq!(probe.max_len(), http::MAX_HEAD_LEN);
    }

    const RDWEB_REDIRECT: &[u8] = b"HTTP/1.1 302 Found\r\nContent-Type: text/html; charset=UTF-8\r\n\
Location: https://rds.contoso.example/RDWeb/Pages/\r\nServer: Microsoft-IIS/10.0\r\nContent-Length: 5\r\n\r\nmoved";
    const FEED_401: &[u8] = b"HTTP/1.1 401 Unauthorized\r\nServer: Microsoft-IIS/10.0\r\n\
WWW-Authenticate: Negotiate\r\nWWW-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn rd_web_access_asks_for_its_pages_then_the_feed() {
        let mut probe = RdWebAccess::new("rds.contoso.example");
        let first = String::from_utf8(probe.start()).unwrap();
        assert!(first.starts_with("GET /RDWeb/ HTTP/1.1\r\nHost: rds.contoso.example\r\n"));
        assert!(first.contains("Connection: keep-alive\r\n"));
        // The body is skipped before the feed is asked for.
        assert_eq!(
            probe.on_bytes(&RDWEB_REDIRECT[..RDWEB_REDIRECT.len() - 2]),
            Progress::NeedMore
        );
        let Progress::Send(feed) = probe.on_bytes(RDWEB_REDIRECT) else {
            panic!("the feed request");
        };
        let feed = String::from_utf8(feed).unwrap();
        assert!(
            feed.starts_with("GET /RDWeb/Feed/webfeed.aspx HTTP/1.1\r\n"),
            "{feed}"
        );
        assert!(feed.contains("Connection: close\r\n"));
        let id = done(probe.on_bytes(FEED_401));
        assert_eq!(id.service, Some(RD_WEB_ACCESS));
        assert_eq!(id.detail["status"], 302);
        assert_eq!(
            id.detail["location"],
            "https://rds.contoso.example/RDWeb/Pages/"
        );
        assert_eq!(id.detail["feed_status"], 401);
        assert_eq!(
            id.detail["feed_www_authenticate"],
            serde_json::json!(["Negotiate", "NTLM"])
        );
        assert_eq!(id.note, None);
    }

    #[test]
    fn a_web_server_without_rd_web_access_is_http() {
        // A 404 for /RDWeb/ and for the feed.
        let mut probe = RdWebAccess::new("web");
        probe.start();
        let not_found = b"HTTP/1.1 404 Not Found\r\nServer: nginx\r\nContent-Length: 3\r\n\r\nno!";
        assert!(matches!(probe.on_bytes(not_found), Progress::Send(_)));
        let id = done(probe.on_bytes(not_found));
        assert_eq!(id.service, Some("http"));
        assert!(id.note.unwrap().contains("no /RDWeb/ application here"));
        // Authentication everywhere proves nothing.
        let mut probe = RdWebAccess::new("web");
        assert!(matches!(probe.on_bytes(FEED_401), Progress::Send(_)));
        let id = done(probe.on_bytes(FEED_401));
        assert_eq!(id.service, Some("http"));
        // A body to the close: no second request, judged on the first answer.
        let mut probe = RdWebAccess::new("web");
        let id = done(probe.on_bytes(b"HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\n<html>"));
        assert_eq!(id.service, Some("http"));
        assert!(id.detail.get("feed_status").is_none());
        // A redirect into the pages with `Connection: close` is enough.
        let mut probe = RdWebAccess::new("web");
        let id = done(probe.on_bytes(
            b"HTTP/1.1 302 Found\r\nLocation: /RDWeb/Pages/en-US/login.aspx\r\nConnection: close\r\n\r\n",
        ));
        assert_eq!(id.service, Some(RD_WEB_ACCESS));
        assert!(id.note.unwrap().contains("feed was not requested"));
    }

    #[test]
    fn rd_web_access_closes_and_chunks() {
        // A chunked first body, then the peer closes instead of answering the feed.
        let mut probe = RdWebAccess::new("web");
        let chunked = b"HTTP/1.1 302 Found\r\nLocation: /RDWeb/Pages/\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
        assert!(matches!(probe.on_bytes(chunked), Progress::Send(_)));
        let id = done(probe.on_close(b""));
        assert_eq!(id.service, Some(RD_WEB_ACCESS));
        // A close before any answer proves nothing.
        let mut probe = RdWebAccess::new("web");
        assert_eq!(done(probe.on_close(b"")).service, None);
        // A body longer than the bound ends the exchange on the first answer.
        let mut probe = RdWebAccess::new("web");
        let mut big = b"HTTP/1.1 200 OK\r\nContent-Length: 999999\r\n\r\n".to_vec();
        big.resize(big.len() + http::MAX_BODY_LEN, b'x');
        let id = done(probe.on_bytes(&big));
        assert_eq!(id.service, Some("http"));
    }
}
