//! Network I/O for rdsports: protocol-aware TCP, UDP and TLS probes, run many at a time.
//!
//! This is the only crate of the workspace that opens sockets. It drives the sans-I/O
//! exchanges of [`rdsports_wire`] over real connections and turns what happens into an
//! [`Observation`] with a [`Verdict`] from a fixed vocabulary: TCP `open`, `refused`,
//! `filtered`; UDP `open`, `closed`, `open|filtered` (and `filtered` on an ICMP
//! "prohibited").
//!
//! * [`probe_all`] runs a list of [`Target`]s on tokio with bounded concurrency (lowered
//!   to the open-file budget, see [`fdlimit`]), reports each result through a callback as it
//!   arrives, and returns what it has when a [`Cancel`] fires (Ctrl-C).
//! * Every probe is bounded: a connect attempt and a datagram wait last at most
//!   [`Settings::timeout`] each, the conversation after a TCP connect at most one more
//!   timeout, and every reply at most the exchange's `max_len` (capped at
//!   [`HARD_MAX_REPLY`]). A hostile peer cannot make a probe hang, panic or buffer
//!   without bound; what it sends becomes a note on an `open` verdict.
//! * TLS is spoken with rustls; certificates are recorded and accepted, never trusted.
//! * [`registry`] maps catalog service names to the exchanges that identify them.
//! * [`listen`] is the other side: stand-in listeners that answer the rdsports handshake,
//!   and [`namespace`] gives `rdsports demo` a private network of its own on Linux.
//!
//! ```
//! use std::net::{Ipv4Addr, SocketAddr, TcpListener};
//!
//! use rdsports_net::{Cancel, Settings, Target, Verdict, probe_all};
//!
//! // A loopback port where nothing listens.
//! let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?.port();
//! let targets = vec![Target::tcp(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))];
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! let run = runtime.block_on(probe_all(targets, &Settings::default(), &Cancel::new(), |i, o| {
//!     eprintln!("target {i}: {}", o.verdict);
//! }));
//! assert_eq!(run.observations[0].as_ref().map(|o| o.verdict), Some(Verdict::Refused));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! It does not decide which flows to check, does not print, and does not judge results
//! (an expired certificate is a fact here, a finding in the report).
//!
//! Windows: there is no descriptor rlimit, and a connect to a closed port takes about 2 s
//! because the stack retries the SYN after the reset; timeouts must exceed that or closed
//! ports read as `filtered`.
#![warn(missing_docs, clippy::print_stdout, clippy::print_stderr)]

mod cancel;
pub mod check;
mod conversation;
pub mod demo;
mod engine;
pub mod fdlimit;
mod identify;
pub mod listen;
mod model;
pub mod namespace;
pub mod registry;
mod rtt;
mod socket;
mod tcp;
mod tls;
mod udp;

pub use cancel::Cancel;
pub use conversation::HARD_MAX_REPLY;
pub use engine::{NotProbed, ProbeRun, probe, probe_all};
pub use model::{
    ExchangeFactory, IdentificationReport, Identify, Observation, Settings, StepFactory,
    StepReport, Target, TlsMode, Transport, Verdict, WaitReport,
};
pub use rtt::{Adaptive, Estimate};
pub use socket::RESOURCE_WAIT_LIMIT;
