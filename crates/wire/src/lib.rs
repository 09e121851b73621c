//! Sans-I/O protocol codecs for the probes of `rdsports check` and the `rdsports listen`
//! handshake.
//!
//! Every module here builds requests and parses responses from byte slices. This crate does
//! not open sockets, read the clock or touch the terminal: the caller (`rdsports-net`) owns
//! the transport, the deadlines and the retries, and passes in anything time-dependent
//! (such as "now" for a certificate's expiry) as a parameter.
//!
//! Each probe is an [`Exchange`]: `start` gives the bytes to send first, then every chunk of
//! bytes that arrives is appended to a buffer and handed to `on_bytes` until the exchange
//! says it is done. Parsers bound every length by [`Exchange::max_len`] and never panic on
//! what a peer sends; a reply that is not the expected protocol is a value
//! ([`Progress::Done`] with `service: None` and a `note`), not an error.
#![warn(missing_docs, clippy::print_stdout, clippy::print_stderr)]

use serde_json::{Map, Value};

/// What an exchange wants next.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// The reply so far is a valid prefix: read more bytes (within `max_len` and the deadline).
    NeedMore,
    /// Send these bytes, clear the receive buffer, and keep reading.
    Send(Vec<u8>),
    /// The exchange is over.
    Done(Identification),
}

/// What a probe learned about the peer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Identification {
    /// The service that answered (`"rdp"`, `"ldap"`, `"kerberos"` ...), or `None` when the
    /// bytes were not the protocol this probe speaks.
    pub service: Option<&'static str>,
    /// Protocol facts, as JSON (dialect, realm, certificate subject ...). Keys are snake_case.
    pub detail: Map<String, Value>,
    /// A one-line human explanation when something is unusual (error codes, mismatches).
    pub note: Option<String>,
    /// The peer expects a TLS handshake next on the same connection (RDP after X.224).
    pub upgrade_tls: bool,
}

impl Identification {
    /// An identification of `service` with no details yet.
    pub fn service(service: &'static str) -> Self {
        Identification {
            service: Some(service),
            ..Default::default()
        }
    }

    /// Bytes that are not this protocol: no service, with a note that says what arrived.
    pub fn unrecognised(note: impl Into<String>) -> Self {
        Identification {
            note: Some(note.into()),
            ..Default::default()
        }
    }

    /// Adds one detail, builder style.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.detail.insert(key.to_owned(), value.into());
        self
    }
}

/// A sans-I/O request/response exchange over a stream (TCP) or datagrams (UDP).
///
/// For datagram transports `on_bytes` receives one datagram at a time (the buffer is cleared
/// between datagrams); for streams it receives everything read since the last `Send`.
pub trait Exchange: Send {
    /// Bytes to send as soon as the transport is up (empty: wait for the peer to speak, as
    /// FTP's banner).
    fn start(&mut self) -> Vec<u8>;
    /// Examines the bytes received so far.
    fn on_bytes(&mut self, received: &[u8]) -> Progress;
    /// The most bytes this exchange will ever need for one reply; the transport stops
    /// reading there and calls `on_bytes` one last time.
    fn max_len(&self) -> usize {
        64 * 1024
    }
    /// The peer closed a stream while the exchange still wanted more; `received` is what
    /// arrived since the last `Send` (a stream transport may skip the call when that is
    /// nothing). A reply that a close ends (an HTTP body without a length) completes here.
    ///
    /// The default gives `on_bytes` a last look: its identification if it is done,
    /// otherwise [`Identification::unrecognised`] with [`CLOSED_EARLY`] as the note.
    fn on_close(&mut self, received: &[u8]) -> Progress {
        match self.on_bytes(received) {
            Progress::Done(identification) => Progress::Done(identification),
            Progress::NeedMore | Progress::Send(_) => {
                Progress::Done(Identification::unrecognised(CLOSED_EARLY))
            }
        }
    }
}

/// The note of [`Exchange::on_close`]'s default when the reply was still incomplete.
pub const CLOSED_EARLY: &str = "the peer closed the connection before a complete reply";

pub mod ber;
mod bytes;
pub mod dns;
pub mod ftp;
pub mod http;
pub mod identify;
pub mod kerberos;
pub mod ldap;
pub mod listener;
pub mod msrpc;
pub mod mssql;
pub mod netbios;
pub mod ntp;
pub mod radius;
pub mod rdg;
pub mod rdp;
pub mod rdpeudp;
pub mod smb2;
pub mod tls;

#[cfg(test)]
mod tests {
    use super::*;

    /// Wants `n` bytes; done with a service once it has them.
    struct Wants(usize);

    impl Exchange for Wants {
        fn start(&mut self) -> Vec<u8> {
            Vec::new()
        }
        fn on_bytes(&mut self, received: &[u8]) -> Progress {
            if received.len() < self.0 {
                Progress::NeedMore
            } else {
                Progress::Done(Identification::service("wants").with("len", received.len()))
            }
        }
    }

    #[test]
    fn default_on_close_gives_on_bytes_a_last_look() {
        assert_eq!(
            Wants(3).on_close(b"abc"),
            Progress::Done(Identification::service("wants").with("len", 3))
        );
        assert_eq!(
            Wants(3).on_close(b"ab"),
            Progress::Done(Identification::unrecognised(CLOSED_EARLY))
        );
    }
}

/// Helpers shared by the codec tests.
#[cfg(test)]
mod testutil {
    /// Bytes from readable hex: every hex digit counts, anything else (spaces, newlines,
    /// `|` separators) is ignored, so test vectors can be laid out field by field.
    pub(crate) fn hex(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
        digits
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
            .collect()
    }
}
