//! Shared pieces of the probe tests: a tiny line protocol ("HELLO" / "WORLD <name>"),
//! loopback servers that speak it or misbehave on purpose, and a hang guard.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rdsports_net::{ExchangeFactory, Settings};
use rdsports_wire::{Exchange, Identification, Progress};
use socket2::SockRef;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

/// The client side of the line protocol: sends `HELLO\n`, expects `WORLD <name>\n`.
pub struct Hello {
    /// What to send first.
    pub greeting: &'static [u8],
    /// Ask for TLS after a good reply (as RDP does after X.224).
    pub upgrade: bool,
}

impl Exchange for Hello {
    fn start(&mut self) -> Vec<u8> {
        self.greeting.to_vec()
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        const PREFIX: &[u8] = b"WORLD ";
        let head = &received[..received.len().min(PREFIX.len())];
        if head != &PREFIX[..head.len()] {
            return Progress::Done(Identification::unrecognised(format!(
                "expected WORLD, got {} bytes of something else",
                received.len()
            )));
        }
        let Some(end) = received.iter().position(|&b| b == b'\n') else {
            return Progress::NeedMore;
        };
        if end < PREFIX.len() {
            return Progress::Done(Identification::unrecognised("short line"));
        }
        let name = String::from_utf8_lossy(&received[PREFIX.len()..end]).into_owned();
        let mut id = Identification::service("hello").with("name", name);
        id.upgrade_tls = self.upgrade;
        Progress::Done(id)
    }

    fn max_len(&self) -> usize {
        256 * 1024
    }
}

/// A factory for the plain hello exchange.
pub fn hello() -> ExchangeFactory {
    Arc::new(|| {
        Box::new(Hello {
            greeting: b"HELLO\n",
            upgrade: false,
        }) as Box<dyn Exchange>
    })
}

/// A factory for the exchange that asks for TLS after `STARTTLS\n` / `WORLD starttls\n`.
pub fn starttls() -> ExchangeFactory {
    Arc::new(|| {
        Box::new(Hello {
            greeting: b"STARTTLS\n",
            upgrade: true,
        }) as Box<dyn Exchange>
    })
}

/// Settings with a given timeout in milliseconds and one retry.
pub fn settings(timeout_ms: u64) -> Settings {
    Settings {
        timeout: Duration::from_millis(timeout_ms),
        retries: 1,
        concurrency: 64,
        adaptive: None,
    }
}

/// Fails the test if `future` does not finish within `limit`: a hang is a failure, a
/// slow verdict is not (speed belongs to benchmarks).
pub async fn finishes<F: Future>(limit: Duration, future: F) -> F::Output {
    match tokio::time::timeout(limit, future).await {
        Ok(output) => output,
        Err(_) => panic!("did not finish within {limit:?}"),
    }
}

/// How a test TCP server behaves on each connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// Speaks the line protocol: `WORLD tcp\n` after a line.
    Hello,
    /// Sends bytes that are not the protocol, then keeps the connection open.
    Garbage,
    /// Accepts and never sends anything.
    Silent,
    /// Sends a valid prefix one byte per second, forever.
    Drip,
    /// Sends 100 MB of a valid prefix that never ends.
    Flood,
    /// Sends half a reply, then resets the connection (SO_LINGER 0).
    ResetMidReply,
    /// Answers a TLS ClientHello with a fatal handshake_failure alert.
    TlsAlert,
    /// Completes the handshake, then resets at once (SO_LINGER 0, nothing sent): the reset
    /// can reach the prober before or after its connect returns.
    ResetAfterHandshake,
}

/// Starts a TCP server on 127.0.0.1 with the given behaviour; returns its address.
pub async fn tcp_server(peer: Peer) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(serve(stream, peer));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    });
    address
}

async fn serve(mut stream: TcpStream, peer: Peer) {
    match peer {
        Peer::Hello => {
            if read_line(&mut stream).await.is_some() {
                let _ = stream.write_all(b"WORLD tcp\n").await;
            }
            hold(stream).await;
        }
        Peer::Garbage => {
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).await;
            let _ = stream
                .write_all(b"\x00\xff\x13\x37 this is not the protocol\r\n")
                .await;
            hold(stream).await;
        }
        Peer::Silent => hold(stream).await,
        Peer::Drip => {
            let _ = read_line(&mut stream).await;
            let reply = b"WORLD ".iter().chain(std::iter::repeat(&b'a'));
            for byte in reply {
                if stream.write_all(&[*byte]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        Peer::Flood => {
            let _ = read_line(&mut stream).await;
            let mut chunk = vec![b'a'; 64 * 1024];
            chunk[..6].copy_from_slice(b"WORLD ");
            if stream.write_all(&chunk).await.is_err() {
                return;
            }
            chunk[..6].copy_from_slice(b"aaaaaa");
            let mut sent = chunk.len();
            while sent < 100 * 1024 * 1024 {
                if stream.write_all(&chunk).await.is_err() {
                    return;
                }
                sent += chunk.len();
            }
        }
        Peer::ResetMidReply => {
            let _ = read_line(&mut stream).await;
            let _ = stream.write_all(b"WORLD tc").await;
            let _ = stream.flush().await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = SockRef::from(&stream).set_linger(Some(Duration::ZERO));
            drop(stream);
        }
        Peer::ResetAfterHandshake => {
            let _ = SockRef::from(&stream).set_linger(Some(Duration::ZERO));
            drop(stream);
        }
        Peer::TlsAlert => {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            // TLS record: alert (21), version 3.3, length 2, fatal (2), handshake_failure (40).
            let _ = stream
                .write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])
                .await;
            hold(stream).await;
        }
    }
}

/// Reads up to a newline (at most 4 KiB); `None` if the peer went away first.
pub async fn read_line<S: AsyncReadExt + Unpin>(stream: &mut S) -> Option<Vec<u8>> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.len() < 4096 {
        match stream.read(&mut byte).await {
            Ok(1) => {
                line.push(byte[0]);
                if byte[0] == b'\n' {
                    return Some(line);
                }
            }
            _ => return None,
        }
    }
    Some(line)
}

/// Keeps a connection open (reading and discarding) for a minute or until the peer leaves.
async fn hold(mut stream: TcpStream) {
    let mut buf = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    })
    .await;
}

/// A loopback TCP port where nothing listens (bound, then released).
pub async fn closed_tcp_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// A loopback UDP port where nothing listens (bound, then released).
pub async fn closed_udp_port() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.local_addr().unwrap()
}

/// How a test UDP server answers each datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdpPeer {
    /// Replies `WORLD udp\n` to anything.
    Hello,
    /// Replies bytes that are not the protocol.
    Garbage,
    /// Reads and never replies.
    Silent,
}

/// Starts a UDP server on 127.0.0.1; returns its address.
pub async fn udp_server(peer: UdpPeer) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let address = socket.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while let Ok((_, from)) = socket.recv_from(&mut buf).await {
            let reply: &[u8] = match peer {
                UdpPeer::Hello => b"WORLD udp\n",
                UdpPeer::Garbage => b"\x01\x02 garbage",
                UdpPeer::Silent => continue,
            };
            let _ = socket.send_to(reply, from).await;
        }
    });
    address
}
