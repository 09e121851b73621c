//! The values the engine works on: what to probe ([`Target`]), how ([`Settings`]) and what
//! was seen ([`Observation`] with its [`Verdict`]).
//!
//! This module holds plain data and does no I/O. The verdict names are a contract with the
//! reports and with users: they serialise exactly as `open`, `refused`, `filtered`,
//! `closed` and `open|filtered`.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use rdsports_wire::Exchange;
use rdsports_wire::identify::Step;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::rtt::Adaptive;

pub use rdsports_schema::Transport;

pub use rdsports_schema::check::Verdict;

/// When TLS is spoken on a TCP target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    /// After the exchange, when its identification asks for it (`upgrade_tls`, as RDP does
    /// after the X.224 negotiation).
    AfterExchange,
    /// Right after the connection is established; the exchange, if any, runs inside TLS.
    Direct,
    /// Never.
    #[default]
    None,
}

/// Builds a fresh protocol exchange for one probe of a target.
pub type ExchangeFactory = Arc<dyn Fn() -> Box<dyn Exchange> + Send + Sync>;

/// Builds the exchange of one identification step (`None`: the step has no exchange of its
/// own, as [`Step::Tls`], which is a handshake).
pub type StepFactory = Arc<dyn Fn(Step) -> Option<Box<dyn Exchange>> + Send + Sync>;

/// What to do when a TCP target's exchange does not identify the service it expects: find
/// out what answers instead ([`rdsports_wire::identify`]), within one more timeout.
#[derive(Clone)]
pub struct Identify {
    /// The service a correct answer names (`rdp`, `ldap`, `http` ...).
    pub expects: &'static str,
    /// Try the rdsports listener handshake first (a stand-in `rdsports listen`).
    pub listener: bool,
    /// The exchanges of the steps.
    pub steps: StepFactory,
}

impl fmt::Debug for Identify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identify")
            .field("expects", &self.expects)
            .field("listener", &self.listener)
            .finish()
    }
}

/// What the identification follow-up did and found (the engine's own accounting: each
/// step's share of the budget and the time it took).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentificationReport {
    /// The service found (`http`, `tls`, `ssh` ...), `unknown` when bytes came that no
    /// probe recognised, or `None` when the port never sent anything (silent).
    pub identified: Option<String>,
    /// How it was found: `first reply` (the failed exchange's own bytes) or the step's name.
    pub by: Option<String>,
    /// The budget of the whole follow-up, in milliseconds (one probe timeout).
    pub budget_ms: f64,
    /// The time the follow-up took, in milliseconds.
    pub spent_ms: f64,
    /// The steps run, in order.
    pub steps: Vec<StepReport>,
    /// The first bytes seen (hex, at most 32), when the service is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_bytes: Option<String>,
    /// The same bytes as text (`.` for anything not printable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_bytes_text: Option<String>,
}

/// One identification step and its accounting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepReport {
    /// The step (`http`, `tls`, `rdsports-listener` ...).
    pub step: String,
    /// When it started, in milliseconds after the follow-up began.
    pub start_ms: f64,
    /// The share of the budget it was given, in milliseconds (it ends by
    /// `start_ms + allotted_ms`, never after the budget).
    pub allotted_ms: f64,
    /// The time it took, in milliseconds.
    pub spent_ms: f64,
    /// How it ended (`identified http`, `no reply`, `refused` ...).
    pub outcome: String,
}

/// One thing to probe: an address, a transport and the protocol to speak there.
#[derive(Clone)]
pub struct Target {
    /// Where to connect or send.
    pub address: SocketAddr,
    /// TCP or UDP.
    pub transport: Transport,
    /// When to speak TLS (TCP only; ignored for UDP).
    pub tls: TlsMode,
    /// The protocol exchange, or `None` for a plain connect (TCP) or an empty datagram (UDP).
    pub probe: Option<ExchangeFactory>,
    /// The name sent as TLS SNI; `None` sends none (the address is used for the session).
    pub server_name: Option<String>,
    /// Why silence is expected (UDP): replaces the generic reason of an `open|filtered`
    /// verdict (RADIUS servers drop requests from clients they do not know).
    pub silence_reason: Option<String>,
    /// The local address to send from (bound before connecting or sending); `None` lets
    /// the system choose. A source that is not an address of this machine makes the
    /// target "not probed".
    pub source: Option<IpAddr>,
    /// TCP: identify what answers when the exchange does not find the service it expects.
    pub identify: Option<Identify>,
}

impl Target {
    /// A plain TCP connect target (no protocol exchange).
    pub fn tcp(address: SocketAddr) -> Self {
        Target {
            address,
            transport: Transport::Tcp,
            tls: TlsMode::None,
            probe: None,
            server_name: None,
            silence_reason: None,
            source: None,
            identify: None,
        }
    }

    /// A plain UDP target: an empty datagram is sent.
    pub fn udp(address: SocketAddr) -> Self {
        Target {
            transport: Transport::Udp,
            ..Target::tcp(address)
        }
    }

    /// Sets the protocol exchange, builder style.
    pub fn with_probe(mut self, factory: ExchangeFactory) -> Self {
        self.probe = Some(factory);
        self
    }

    /// Sets the TLS mode, builder style.
    pub fn with_tls(mut self, tls: TlsMode) -> Self {
        self.tls = tls;
        self
    }

    /// Sets the TLS server name (SNI), builder style.
    pub fn with_server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// Sets the local address to send from, builder style.
    pub fn with_source(mut self, source: IpAddr) -> Self {
        self.source = Some(source);
        self
    }

    /// Sets the identification follow-up, builder style.
    pub fn with_identify(mut self, identify: Identify) -> Self {
        self.identify = Some(identify);
        self
    }

    /// Removes the identification follow-up (a plain path check), builder style.
    pub fn without_identify(mut self) -> Self {
        self.identify = None;
        self
    }

    /// Sets the explanation used when a UDP target stays silent, builder style.
    pub fn with_silence_reason(mut self, reason: impl Into<String>) -> Self {
        self.silence_reason = Some(reason.into());
        self
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("address", &self.address)
            .field("transport", &self.transport)
            .field("tls", &self.tls)
            .field("probe", &self.probe.as_ref().map(|_| "exchange"))
            .field("server_name", &self.server_name)
            .field("silence_reason", &self.silence_reason)
            .field("source", &self.source)
            .field("identify", &self.identify)
            .finish()
    }
}

/// What one probe saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// The verdict on the port.
    pub verdict: Verdict,
    /// The service the protocol exchange recognised (`rdp`, `tls`, `ldap` ...), or `None`
    /// when nothing we know answered (or nothing was asked).
    pub service: Option<String>,
    /// Protocol facts (dialect, realm, TLS version and certificate under `tls` ...).
    pub detail: Map<String, Value>,
    /// Why the verdict is what it is (`connection refused`, `no reply to 2 datagrams` ...).
    pub reason: Option<String>,
    /// What was unusual about the conversation (a reply that is not the expected protocol,
    /// a TLS alert, a reply cut short).
    pub note: Option<String>,
    /// Milliseconds from the last attempt's start to its answer (connect, ICMP error or
    /// first datagram); the time waited when nothing answered.
    pub rtt_ms: f64,
    /// Connection attempts (TCP) or datagrams sent (UDP).
    pub attempts: u32,
    /// What the identification follow-up found, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identification: Option<Box<IdentificationReport>>,
    /// Which wait decided the verdict (adaptive or full timeout), TCP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<WaitReport>,
}

/// Which wait decided a TCP verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitReport {
    /// `adaptive` (timeouts from the destination's measured round trips) or `pinned`.
    pub mode: String,
    /// The wait that decided the verdict: `adaptive` (shortened from an RTT estimate) or
    /// `full` (the whole timeout). For an answer, the answered attempt's wait; for
    /// `filtered`, `full` when a wait at the full timeout took part in the silence.
    pub decided_by: String,
    /// That wait, in milliseconds.
    pub wait_ms: f64,
    /// How many round-trip samples the destination's own estimate had then.
    pub samples: u32,
}

impl Observation {
    /// An observation with a verdict and nothing else yet.
    pub fn new(verdict: Verdict) -> Self {
        Observation {
            verdict,
            service: None,
            detail: Map::new(),
            reason: None,
            note: None,
            rtt_ms: 0.0,
            attempts: 0,
            identification: None,
            wait: None,
        }
    }

    /// For an answer from an rdsports listener: compares the source address the listener
    /// saw (`seen_source`) with the address the probe left from, records `sent_from` and
    /// `translated` in the detail, and notes an address translation (NAT, a proxy) when
    /// they differ. Does nothing for any other service.
    pub(crate) fn compare_seen_source(&mut self, sent_from: IpAddr) {
        if self.service.as_deref() != Some("rdsports-listener") {
            return;
        }
        let Some(seen) = self
            .detail
            .get("seen_source")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<IpAddr>().ok())
        else {
            return;
        };
        let (seen, sent) = (seen.to_canonical(), sent_from.to_canonical());
        let translated = seen != sent;
        self.detail
            .insert("sent_from".into(), sent.to_string().into());
        self.detail.insert(
            rdsports_schema::check::facts::TRANSLATED.into(),
            translated.into(),
        );
        if translated {
            self.add_note(format!(
                "address translation: the listener saw {seen}, we sent from {sent}"
            ));
        }
    }

    /// Appends a sentence to the note (joined with `; `).
    pub fn add_note(&mut self, note: impl AsRef<str>) {
        let note = note.as_ref();
        if note.is_empty() {
            return;
        }
        match &mut self.note {
            Some(existing) => {
                existing.push_str("; ");
                existing.push_str(note);
            }
            None => self.note = Some(note.to_owned()),
        }
    }
}

/// How probes run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// The per-probe timeout: for each connection attempt (TCP), each datagram (UDP), and
    /// for the whole conversation after a TCP connection is up (TLS and exchange).
    ///
    /// On Windows a connect to a closed port takes about 2 s (the stack retries the SYN
    /// after the reset), so a timeout under about 2.5 s reports closed ports there as
    /// `filtered`.
    pub timeout: Duration,
    /// Extra attempts when a TCP connect or a UDP datagram gets no answer.
    pub retries: u32,
    /// The most probes in flight; the engine lowers it to the open-file budget.
    pub concurrency: usize,
    /// Adaptive TCP connect waits from each destination's measured round trips, with
    /// `timeout` as the ceiling (see [`Adaptive`]); `None` pins every wait to `timeout`.
    pub adaptive: Option<Adaptive>,
}

impl Settings {
    /// The settings the engine actually uses: the timeout within
    /// [`Settings::MIN_TIMEOUT`]..=[`Settings::MAX_TIMEOUT`], at most
    /// [`Settings::MAX_RETRIES`] retries and a concurrency of at least 1, so no setting
    /// can make a probe hang.
    pub fn bounded(&self) -> Settings {
        Settings {
            timeout: self.timeout.clamp(Self::MIN_TIMEOUT, Self::MAX_TIMEOUT),
            retries: self.retries.min(Self::MAX_RETRIES),
            concurrency: self.concurrency.max(1),
            adaptive: self.adaptive,
        }
    }

    /// The shortest timeout used.
    pub const MIN_TIMEOUT: Duration = Duration::from_millis(1);
    /// The longest timeout used.
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);
    /// The most retries used.
    pub const MAX_RETRIES: u32 = 10;
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            timeout: Duration::from_millis(1500),
            retries: 1,
            concurrency: 512,
            adaptive: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_serialise_to_the_contract_names() {
        let all = [
            (Verdict::Open, "\"open\""),
            (Verdict::Refused, "\"refused\""),
            (Verdict::Filtered, "\"filtered\""),
            (Verdict::Closed, "\"closed\""),
            (Verdict::OpenFiltered, "\"open|filtered\""),
        ];
        for (verdict, json) in all {
            assert_eq!(serde_json::to_string(&verdict).ok().as_deref(), Some(json));
            assert_eq!(format!("\"{verdict}\""), json);
            let back: Verdict = serde_json::from_str(json).unwrap();
            assert_eq!(back, verdict);
        }
    }

    #[test]
    fn transport_serialises_lowercase() {
        assert_eq!(serde_json::to_string(&Transport::Udp).unwrap(), "\"udp\"");
        assert_eq!(Transport::Tcp.to_string(), "tcp");
    }

    #[test]
    fn notes_are_joined() {
        let mut o = Observation::new(Verdict::Open);
        o.add_note("first");
        o.add_note("");
        o.add_note("second");
        assert_eq!(o.note.as_deref(), Some("first; second"));
    }

    fn listener_answer(seen: &str) -> Observation {
        let mut o = Observation::new(Verdict::Open);
        o.service = Some("rdsports-listener".into());
        o.detail.insert("seen_source".into(), seen.into());
        o
    }

    #[test]
    fn the_source_a_listener_saw_is_compared_with_ours() {
        let mut same = listener_answer("127.0.0.5");
        same.compare_seen_source("127.0.0.5".parse().unwrap());
        assert_eq!(same.detail["translated"], false);
        assert_eq!(same.detail["sent_from"], "127.0.0.5");
        assert_eq!(same.note, None);

        let mut mapped = listener_answer("127.0.0.5");
        mapped.compare_seen_source("::ffff:127.0.0.5".parse().unwrap());
        assert_eq!(mapped.detail["translated"], false);

        let mut nat = listener_answer("203.0.113.9");
        nat.compare_seen_source("192.0.2.7".parse().unwrap());
        assert_eq!(nat.detail["translated"], true);
        assert_eq!(
            nat.note.as_deref(),
            Some("address translation: the listener saw 203.0.113.9, we sent from 192.0.2.7")
        );

        let mut other = Observation::new(Verdict::Open);
        other.service = Some("ldap".into());
        other
            .detail
            .insert("seen_source".into(), "203.0.113.9".into());
        other.compare_seen_source("192.0.2.7".parse().unwrap());
        assert!(!other.detail.contains_key("translated"));
    }

    #[test]
    fn default_settings_are_under_two_seconds_with_one_retry() {
        let s = Settings::default();
        assert!(s.timeout < Duration::from_secs(2));
        assert_eq!(s.retries, 1);
        assert!(s.concurrency > 0);
    }

    #[test]
    fn bounded_settings_cannot_hang() {
        let wild = Settings {
            timeout: Duration::ZERO,
            retries: u32::MAX,
            concurrency: 0,
            adaptive: None,
        };
        let b = wild.bounded();
        assert_eq!(b.timeout, Settings::MIN_TIMEOUT);
        assert_eq!(b.retries, Settings::MAX_RETRIES);
        assert_eq!(b.concurrency, 1);
        let long = Settings {
            timeout: Duration::from_secs(86_400),
            ..Settings::default()
        };
        assert_eq!(long.bounded().timeout, Settings::MAX_TIMEOUT);
        assert_eq!(Settings::default().bounded(), Settings::default());
    }

    #[test]
    fn observation_serialises_all_fields() {
        let mut o = Observation::new(Verdict::OpenFiltered);
        o.reason = Some("no reply".into());
        o.attempts = 2;
        let v = serde_json::to_value(&o).unwrap();
        assert_eq!(v["verdict"], "open|filtered");
        assert_eq!(v["service"], Value::Null);
        assert_eq!(v["attempts"], 2);
    }
}
