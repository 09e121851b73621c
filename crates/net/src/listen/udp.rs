//! The UDP side of the listener: the datagram loop and [`udp_reply`], which answers only a
//! well-formed request and never with more bytes than it had.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rdsports_wire::listener::{self, RequestCheck};
use socket2::{Domain, Socket, Type};
use tokio::net::UdpSocket;
use tokio::time::Instant;

use super::limit::{Admission, Refusal};
use super::{Outcome, Shared, hex, hex_head};
use crate::model::Transport;

/// Largest datagram read (longer ones are cut by the system; a request is 192 bytes).
const DATAGRAM_BUFFER: usize = 2048;

/// The reply to one datagram: `Some` only for a well-formed request, and never longer than
/// the datagram.
pub fn udp_reply(datagram: &[u8], host: &str, port: u16, peer: IpAddr) -> Option<Vec<u8>> {
    let nonce = listener::parse_request(datagram)?;
    let reply = listener::build_reply(nonce, host, port, peer.to_canonical(), datagram.len());
    (!reply.is_empty() && reply.len() <= datagram.len()).then_some(reply)
}

/// Answers datagrams on one port until aborted, within the port's and each source's rate.
pub(super) async fn udp_loop(socket: UdpSocket, shared: Shared, rate: u32) {
    let mut admission = Admission::new(rate);
    let mut buffer = vec![0u8; DATAGRAM_BUFFER];
    loop {
        let (n, peer) = match socket.recv_from(&mut buffer).await {
            Ok(received) => received,
            Err(_) => {
                // Windows reports an earlier reply's ICMP error here; nothing to do.
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        let datagram = buffer.get(..n).unwrap_or_default();
        let outcome = match listener::check_request(datagram) {
            RequestCheck::NotRdsports => Outcome::Other {
                bytes: n,
                head: hex_head(datagram),
            },
            // A datagram is the whole request: a short one is never answered.
            RequestCheck::NeedMore if n == 0 => Outcome::Other {
                bytes: 0,
                head: String::new(),
            },
            RequestCheck::NeedMore => Outcome::Incomplete {
                bytes: n,
                timed_out: false,
            },
            RequestCheck::Request(nonce) => {
                match udp_reply(datagram, &shared.host, shared.port, peer.ip()) {
                    None => Outcome::Unanswered {
                        reason: "no reply fits in the request's size".into(),
                    },
                    Some(reply) => {
                        match admission.admit(peer.ip().to_canonical(), Instant::now()) {
                            Err(Refusal::SourceShare(n)) => Outcome::Unanswered {
                                reason: format!(
                                    "more than {n} requests a second from this source: rate-limited"
                                ),
                            },
                            Err(Refusal::PortRate(n)) => Outcome::Unanswered {
                                reason: format!("more than {n} requests a second: rate-limited"),
                            },
                            Ok(()) => match socket.send_to(&reply, peer).await {
                                Ok(_) => Outcome::Handshake {
                                    nonce: hex(&nonce),
                                    reply_bytes: reply.len(),
                                },
                                Err(error) => Outcome::Unanswered {
                                    reason: format!("the reply could not be sent: {error}"),
                                },
                            },
                        }
                    }
                }
            }
        };
        shared.report(peer, Transport::Udp, outcome);
    }
}

/// A UDP socket bound to `address` (non-blocking, for tokio).
pub(super) fn bind(address: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(address), Type::DGRAM, None)?;
    if address.is_ipv6() && address.ip().is_unspecified() {
        let _ = socket.set_only_v6(false);
    }
    socket.bind(&address.into())?;
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket.into())
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use proptest::prelude::*;

    use super::*;

    const NONCE: [u8; 16] = [0x5a; 16];

    #[test]
    fn a_request_gets_a_reply_no_longer_than_itself() {
        let request = listener::build_request(NONCE);
        let peer = IpAddr::from([127, 0, 0, 9]);
        let reply = udp_reply(&request, "dc01", 88, peer).unwrap();
        assert!(reply.len() <= request.len());
        let parsed = listener::parse_reply(&reply).unwrap();
        assert_eq!(parsed.nonce, NONCE);
        assert_eq!(parsed.port, 88);
        assert_eq!(parsed.seen, peer);
        assert_eq!(parsed.host, "dc01");
    }

    #[test]
    fn an_ipv4_mapped_peer_is_reported_as_ipv4() {
        let request = listener::build_request(NONCE);
        let mapped: IpAddr = "::ffff:127.0.0.9".parse().unwrap();
        let reply = udp_reply(&request, "h", 1, mapped).unwrap();
        assert_eq!(
            listener::parse_reply(&reply).unwrap().seen,
            IpAddr::from([127, 0, 0, 9])
        );
    }

    #[test]
    fn garbage_and_short_requests_get_nothing() {
        let peer = IpAddr::from(Ipv4Addr::LOCALHOST);
        let request = listener::build_request(NONCE);
        assert_eq!(udp_reply(&request[..191], "h", 1, peer), None);
        assert_eq!(udp_reply(b"", "h", 1, peer), None);
        assert_eq!(udp_reply(b"\x00\x01\x00\x00", "h", 1, peer), None);
        let mut reply_type = request.clone();
        reply_type[5] = 2;
        assert_eq!(udp_reply(&reply_type, "h", 1, peer), None);
    }

    fn any_ip() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(IpAddr::from),
            any::<[u8; 16]>().prop_map(IpAddr::from),
        ]
    }

    proptest! {
        /// The responder never amplifies: whatever arrives, a reply is no longer than it.
        #[test]
        fn udp_replies_never_amplify(
            datagram in proptest::collection::vec(any::<u8>(), 0..600),
            host in "\\PC{0,100}",
            port in any::<u16>(),
            peer in any_ip(),
        ) {
            if let Some(reply) = udp_reply(&datagram, &host, port, peer) {
                prop_assert!(reply.len() <= datagram.len());
                prop_assert!(listener::parse_request(&datagram).is_some());
            }
        }

        /// Requests of every size at or above 192 bytes are answered, within their size;
        /// anything shorter is not.
        #[test]
        fn requests_of_any_size_are_answered_within_it(
            nonce in any::<[u8; 16]>(),
            extra in proptest::collection::vec(any::<u8>(), 0..400),
            cut in 0usize..192,
            host in "\\PC{0,100}",
            peer in any_ip(),
        ) {
            let mut request = listener::build_request(nonce);
            request.extend_from_slice(&extra);
            let reply = udp_reply(&request, &host, 3391, peer).unwrap();
            prop_assert!(reply.len() <= request.len());
            prop_assert_eq!(listener::parse_reply(&reply).unwrap().nonce, nonce);
            prop_assert_eq!(udp_reply(&request[..cut], &host, 3391, peer), None);
        }
    }
}
