//! Drives one sans-I/O [`Exchange`] over a byte stream (TCP or TLS) with a deadline and a
//! bounded receive buffer.
//!
//! Every read is bounded in size (the exchange's `max_len`, itself capped at
//! [`HARD_MAX_REPLY`]) and in time (the deadline given by the caller). The peer can make a
//! conversation end early (close, reset, garbage) or late (silence, one byte a second), but
//! never make it wait past the deadline or buffer more than the cap. When the peer closes
//! while the exchange still wants more, the exchange gets a last look
//! ([`Exchange::on_close`]): a reply that the close ends (an HTTP body without a length)
//! completes there. This module decides nothing about verdicts: it reports how the
//! conversation ended.

use std::io;

use rdsports_wire::identify::Step;
use rdsports_wire::{CLOSED_EARLY, Exchange, Identification, Progress};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, timeout_at};

/// What the first conversation with a TCP target left for the identification follow-up.
#[derive(Debug, Default)]
pub(crate) struct FirstConversation {
    /// The steps it amounts to (the expected service's, TLS when it spoke TLS first).
    pub(crate) tried: Vec<Step>,
    /// Its first bytes.
    pub(crate) head: Vec<u8>,
    /// Bytes received in all.
    pub(crate) received: usize,
}

/// The most bytes any one reply may take, whatever an exchange asks for.
pub const HARD_MAX_REPLY: usize = 1 << 20;

/// How a conversation ended.
#[derive(Debug)]
pub(crate) enum Ending {
    /// The exchange finished with an identification.
    Done(Identification),
    /// The peer closed the connection before the exchange finished, with the exchange's
    /// own explanation when it gave one beyond "incomplete".
    Closed(Option<String>),
    /// The deadline passed before the exchange finished.
    TimedOut,
    /// The reply reached the size bound without the exchange finishing.
    TooLong(usize),
    /// A read or write failed (reset, broken pipe, TLS record error ...).
    Failed(io::Error),
}

/// The result of a conversation: how it ended and how many bytes came in.
#[derive(Debug)]
pub(crate) struct Conversation {
    /// How it ended.
    pub ending: Ending,
    /// Bytes received in all.
    pub received: usize,
    /// The first bytes received (at most [`HEAD_LEN`]), to tell what answered when the
    /// exchange did not recognise it.
    pub head: Vec<u8>,
}

/// How many of the first received bytes a conversation keeps.
pub(crate) const HEAD_LEN: usize = rdsports_wire::identify::MAX_BANNER_LEN;

impl Conversation {
    /// The identification when the exchange finished; otherwise an unrecognised one whose
    /// note says how the conversation ended, and the byte count as a detail.
    pub(crate) fn into_identification(self, timeout_ms: u128) -> Identification {
        let received = self.received;
        let note = match self.ending {
            Ending::Done(identification) => return identification,
            Ending::Closed(_) if received == 0 => {
                "the peer closed the connection without replying".to_owned()
            }
            Ending::Closed(None) => format!(
                "the peer closed the connection after {received} bytes that were not a \
                 complete reply"
            ),
            Ending::Closed(Some(why)) => format!(
                "the peer closed the connection after {received} bytes that were not a \
                 complete reply ({why})"
            ),
            Ending::TimedOut if received == 0 => format!("no reply within {timeout_ms} ms"),
            Ending::TimedOut => format!(
                "the reply was still incomplete after {received} bytes when {timeout_ms} ms \
                 had passed"
            ),
            Ending::TooLong(max) => {
                format!("the reply exceeded {max} bytes without being recognised")
            }
            Ending::Failed(error) => match error.kind() {
                io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
                    format!("the connection was reset after {received} bytes")
                }
                io::ErrorKind::BrokenPipe => {
                    format!(
                        "the peer closed the connection while we sent ({received} bytes received)"
                    )
                }
                _ => format!("the conversation failed after {received} bytes: {error}"),
            },
        };
        Identification::unrecognised(note).with("reply_bytes", received)
    }
}

/// Runs `exchange` over `stream` until it is done, the peer stops, the reply grows past
/// the bound, or `deadline` passes.
pub(crate) async fn converse<S>(
    stream: &mut S,
    exchange: &mut dyn Exchange,
    deadline: Instant,
) -> Conversation
where
    S: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    let max = exchange.max_len().clamp(1, HARD_MAX_REPLY);
    let mut received = 0usize;
    let mut head: Vec<u8> = Vec::new();
    let first = exchange.start();
    if let Err(ending) = send(stream, &first, deadline).await {
        return Conversation {
            ending,
            received,
            head,
        };
    }
    let mut buffer: Vec<u8> = Vec::with_capacity(max.min(CHUNK));
    // On the heap: a task's future stays small while thousands wait in `connect`.
    let mut chunk = vec![0u8; max.min(CHUNK)];
    loop {
        let room = max.saturating_sub(buffer.len()).min(chunk.len());
        if room == 0 {
            return Conversation {
                ending: Ending::TooLong(max),
                received,
                head,
            };
        }
        // `room` is at most `max.min(CHUNK)`, the length of `chunk`.
        let Some(window) = chunk.get_mut(..room) else {
            return Conversation {
                ending: Ending::TooLong(max),
                received,
                head,
            };
        };
        let read = match timeout_at(deadline, stream.read(window)).await {
            Err(_) => {
                return Conversation {
                    ending: Ending::TimedOut,
                    received,
                    head,
                };
            }
            // A TLS peer that closes without close_notify: a close all the same.
            Ok(Err(error)) if error.kind() == io::ErrorKind::UnexpectedEof => {
                return Conversation {
                    ending: at_close(exchange, &buffer),
                    received,
                    head,
                };
            }
            Ok(Err(error)) => {
                return Conversation {
                    ending: Ending::Failed(error),
                    received,
                    head,
                };
            }
            Ok(Ok(0)) => {
                return Conversation {
                    ending: at_close(exchange, &buffer),
                    received,
                    head,
                };
            }
            Ok(Ok(n)) => n,
        };
        received = received.saturating_add(read);
        let fresh = window.get(..read).unwrap_or_default();
        let keep = HEAD_LEN.saturating_sub(head.len()).min(fresh.len());
        head.extend_from_slice(fresh.get(..keep).unwrap_or_default());
        buffer.extend_from_slice(fresh);
        match exchange.on_bytes(&buffer) {
            Progress::NeedMore => {}
            Progress::Send(bytes) => {
                buffer.clear();
                if let Err(ending) = send(stream, &bytes, deadline).await {
                    return Conversation {
                        ending,
                        received,
                        head,
                    };
                }
            }
            Progress::Done(identification) => {
                return Conversation {
                    ending: Ending::Done(identification),
                    received,
                    head,
                };
            }
        }
    }
}

/// How a conversation ends when the peer closes with `buffer` (the bytes since the last
/// send) unfinished: the exchange's identification if the close completes its reply,
/// otherwise a close, with the exchange's reason when it is more than "incomplete".
fn at_close(exchange: &mut dyn Exchange, buffer: &[u8]) -> Ending {
    if buffer.is_empty() {
        return Ending::Closed(None);
    }
    match exchange.on_close(buffer) {
        Progress::Done(identification) if identification.service.is_some() => {
            Ending::Done(identification)
        }
        Progress::Done(identification) => {
            Ending::Closed(identification.note.filter(|note| note != CLOSED_EARLY))
        }
        // Nothing can be sent or read any more.
        Progress::NeedMore | Progress::Send(_) => Ending::Closed(None),
    }
}

async fn send<S>(stream: &mut S, bytes: &[u8], deadline: Instant) -> Result<(), Ending>
where
    S: AsyncWrite + Unpin + ?Sized,
{
    if bytes.is_empty() {
        return Ok(());
    }
    let write = async {
        stream.write_all(bytes).await?;
        stream.flush().await
    };
    match timeout_at(deadline, write).await {
        Err(_) => Err(Ending::TimedOut),
        Ok(Err(error)) => Err(Ending::Failed(error)),
        Ok(Ok(())) => Ok(()),
    }
}

/// Read granularity.
const CHUNK: usize = 16 * 1024;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::duplex;

    use super::*;

    /// Sends `ping`, wants `pong` (possibly in pieces), then a second round.
    struct PingPong {
        round: u8,
    }

    impl Exchange for PingPong {
        fn start(&mut self) -> Vec<u8> {
            b"ping".to_vec()
        }
        fn on_bytes(&mut self, received: &[u8]) -> Progress {
            if received.len() < 4 {
                return Progress::NeedMore;
            }
            if received != b"pong" {
                return Progress::Done(Identification::unrecognised("not pong"));
            }
            self.round += 1;
            if self.round == 1 {
                Progress::Send(b"again".to_vec())
            } else {
                Progress::Done(Identification::service("pingpong").with("rounds", 2))
            }
        }
        fn max_len(&self) -> usize {
            8
        }
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    #[tokio::test]
    async fn a_two_round_exchange_finishes() {
        let (mut ours, mut theirs) = duplex(64);
        let peer = tokio::spawn(async move {
            let mut buf = [0u8; 16];
            let n = theirs.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"ping");
            theirs.write_all(b"po").await.unwrap();
            tokio::time::sleep(Duration::from_millis(10)).await;
            theirs.write_all(b"ng").await.unwrap();
            let n = theirs.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"again");
            theirs.write_all(b"pong").await.unwrap();
            theirs
        });
        let mut exchange = PingPong { round: 0 };
        let talk = converse(&mut ours, &mut exchange, soon()).await;
        let _keep_open = peer.await.unwrap();
        assert_eq!(talk.received, 8);
        let id = talk.into_identification(1000);
        assert_eq!(id.service, Some("pingpong"));
        assert_eq!(id.detail["rounds"], 2);
    }

    #[tokio::test]
    async fn a_reply_past_max_len_stops_reading() {
        let (mut ours, mut theirs) = duplex(1024);
        tokio::spawn(async move {
            let _ = theirs.write_all(&[b'p'; 3]).await;
            let _ = theirs.write_all(&[0u8; 500]).await;
            tokio::time::sleep(Duration::from_secs(10)).await;
        });
        struct Never;
        impl Exchange for Never {
            fn start(&mut self) -> Vec<u8> {
                Vec::new()
            }
            fn on_bytes(&mut self, _: &[u8]) -> Progress {
                Progress::NeedMore
            }
            fn max_len(&self) -> usize {
                100
            }
        }
        let talk = converse(&mut ours, &mut Never, soon()).await;
        assert!(matches!(talk.ending, Ending::TooLong(100)));
        assert_eq!(talk.received, 100);
        let id = talk.into_identification(1000);
        assert_eq!(id.service, None);
        assert!(id.note.unwrap().contains("exceeded 100 bytes"));
    }

    #[tokio::test]
    async fn silence_ends_at_the_deadline() {
        let (mut ours, _theirs) = duplex(64);
        let deadline = Instant::now() + Duration::from_millis(50);
        let talk = converse(&mut ours, &mut PingPong { round: 0 }, deadline).await;
        assert!(matches!(talk.ending, Ending::TimedOut));
        assert_eq!(
            talk.into_identification(50).note.as_deref(),
            Some("no reply within 50 ms")
        );
    }

    #[tokio::test]
    async fn a_closed_peer_is_reported() {
        let (mut ours, theirs) = duplex(64);
        drop(theirs);
        let talk = converse(&mut ours, &mut PingPong { round: 0 }, soon()).await;
        assert!(matches!(talk.ending, Ending::Failed(_) | Ending::Closed(_)));
        assert_eq!(talk.into_identification(1000).service, None);
    }

    /// Reads a line; a close completes an unterminated one. `BAD` at close is refused.
    struct Line;

    impl Exchange for Line {
        fn start(&mut self) -> Vec<u8> {
            Vec::new()
        }
        fn on_bytes(&mut self, received: &[u8]) -> Progress {
            match received.iter().position(|&b| b == b'\n') {
                Some(end) => Progress::Done(Identification::service("line").with("len", end)),
                None => Progress::NeedMore,
            }
        }
        fn on_close(&mut self, received: &[u8]) -> Progress {
            if received.starts_with(b"BAD") {
                return Progress::Done(Identification::unrecognised("a bad line"));
            }
            Progress::Done(Identification::service("line").with("len", received.len()))
        }
    }

    /// Runs `exchange` against a peer that sends `reply` and closes.
    async fn sent_then_closed(exchange: &mut dyn Exchange, reply: &'static [u8]) -> Conversation {
        let (mut ours, mut theirs) = duplex(64);
        tokio::spawn(async move {
            let mut buf = [0u8; 16];
            let _ = theirs.write_all(reply).await;
            let _ = theirs.shutdown().await;
            // Drain what we send so our writes never block; ends when we drop our side.
            while let Ok(n) = theirs.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        });
        converse(&mut ours, exchange, soon()).await
    }

    #[tokio::test]
    async fn a_close_can_complete_the_reply() {
        let talk = sent_then_closed(&mut Line, b"no newline").await;
        assert_eq!(talk.received, 10);
        let id = talk.into_identification(1000);
        assert_eq!(id.service, Some("line"));
        assert_eq!(id.detail["len"], 10);
    }

    #[tokio::test]
    async fn an_exchange_reason_at_close_is_kept() {
        let talk = sent_then_closed(&mut Line, b"BAD").await;
        assert!(matches!(&talk.ending, Ending::Closed(Some(why)) if why == "a bad line"));
        let id = talk.into_identification(1000);
        assert_eq!(id.service, None);
        assert_eq!(
            id.note.as_deref(),
            Some(
                "the peer closed the connection after 3 bytes that were not a complete reply \
                 (a bad line)"
            )
        );
        assert_eq!(id.detail["reply_bytes"], 3);
    }

    #[tokio::test]
    async fn the_default_close_keeps_the_byte_count() {
        // PingPong keeps the default on_close: "po" is still incomplete.
        let talk = sent_then_closed(&mut PingPong { round: 0 }, b"po").await;
        assert!(matches!(talk.ending, Ending::Closed(None)));
        assert_eq!(
            talk.into_identification(1000).note.as_deref(),
            Some("the peer closed the connection after 2 bytes that were not a complete reply")
        );
        // Nothing at all before the close.
        let talk = sent_then_closed(&mut Line, b"").await;
        assert!(matches!(talk.ending, Ending::Closed(None)));
        assert_eq!(
            talk.into_identification(1000).note.as_deref(),
            Some("the peer closed the connection without replying")
        );
    }
}
