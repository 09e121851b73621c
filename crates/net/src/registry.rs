//! The probe registry: which protocol exchange identifies which catalog service, and the
//! follow-up probes an endpoint mapper's answer calls for.
//!
//! [`probe_for`] maps a catalog service name (`rdp`, `ldap`, `kerberos`, `msrpc` ...), a
//! port and a transport to a [`Probe`]: the exchange factory from [`rdsports_wire`], the
//! TLS mode, the service a correct answer names, and, for services that stay silent by
//! design (RADIUS to an unknown client, the NetBIOS datagram service), the reason that
//! silence is normal. Unknown services get a plain connect (TCP) or an empty datagram
//! (UDP). Randomness for nonces, ids and GUIDs comes from a [`NonceSource`]; times a reply
//! reports (Kerberos `stime`, LDAP `currentTime`, SMB `SystemTime`, the NTP transmit
//! timestamp) are turned into a clock skew against "now".
//!
//! [`rpc_follow_ups`] turns an `msrpc` observation's advertised TCP ports into targets, so
//! a flow "135 plus the dynamic RPC range" probes the ports the mapper names instead of
//! 16,384 ports. This module decides nothing about verdicts and opens no socket.

use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rdsports_schema::check::facts;
use rdsports_wire::identify::Step;
use rdsports_wire::{Exchange, Identification, Progress};
use rdsports_wire::{dns, ftp, http, kerberos, ldap, msrpc, mssql, netbios, ntp, radius};
use rdsports_wire::{listener, rdg, rdp, rdpeudp, smb2};
use serde_json::Value;

use crate::model::{ExchangeFactory, Identify, Observation, Target, TlsMode, Transport, Verdict};

/// How to probe one service on one port.
#[derive(Clone, Default)]
pub struct Probe {
    /// The exchange to run, or `None` for a plain connect / an empty datagram.
    pub exchange: Option<ExchangeFactory>,
    /// When to speak TLS.
    pub tls: TlsMode,
    /// The service a correct answer identifies (`ldap` for `gc`, `http` for `https` ...),
    /// or `None` when the probe cannot identify one.
    pub expects: Option<&'static str>,
    /// Why silence is normal for this service (UDP), if it is.
    pub silence_reason: Option<String>,
}

impl std::fmt::Debug for Probe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Probe")
            .field("exchange", &self.exchange.as_ref().map(|_| "exchange"))
            .field("tls", &self.tls)
            .field("expects", &self.expects)
            .field("silence_reason", &self.silence_reason)
            .finish()
    }
}

/// What probes may know about the deployment.
#[derive(Debug, Clone, Default)]
pub struct ProbeContext {
    /// The Active Directory DNS domain (`corp.example`): the Kerberos realm (upper-cased
    /// for Kerberos), the domain of CLDAP pings and of the DNS probe's SRV query.
    pub realm: Option<String>,
    /// The RADIUS shared secret for this host, when the deployment gives one: replies can
    /// then be authenticated.
    pub radius_secret: Option<Vec<u8>>,
    /// "Now" in Unix seconds for clock skews; `None` reads the system clock when a reply
    /// arrives.
    pub now_unix: Option<i64>,
    /// Where nonces, ids and GUIDs come from.
    pub nonces: NonceSource,
}

/// Random bytes for probe nonces: the operating system's generator, or a seeded
/// reproducible stream for tests.
#[derive(Debug, Clone)]
pub struct NonceSource {
    seed: Option<u64>,
    counter: Arc<AtomicU64>,
}

impl NonceSource {
    /// Bytes from the operating system (`getrandom`).
    pub fn random() -> Self {
        NonceSource {
            seed: None,
            counter: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A reproducible stream from `seed` (tests only: nonces must not be guessable).
    pub fn seeded(seed: u64) -> Self {
        NonceSource {
            seed: Some(seed),
            counter: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Fills `out`. Never fails: if the system generator fails, a stream mixed from the
    /// clock and a counter is used instead.
    pub fn fill(&self, out: &mut [u8]) {
        if self.seed.is_none() && getrandom::fill(out).is_ok() {
            return;
        }
        let base = self.seed.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0x5eed, |d| d.as_nanos() as u64)
        });
        for chunk in out.chunks_mut(8) {
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            let word = splitmix64(base ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15)).to_le_bytes();
            let len = chunk.len();
            chunk.copy_from_slice(word.get(..len).unwrap_or(&[]));
        }
    }

    /// A random `u32`.
    pub fn u32(&self) -> u32 {
        let mut b = [0u8; 4];
        self.fill(&mut b);
        u32::from_le_bytes(b)
    }

    /// A random `u16`.
    pub fn u16(&self) -> u16 {
        let mut b = [0u8; 2];
        self.fill(&mut b);
        u16::from_le_bytes(b)
    }

    /// `N` random bytes.
    pub fn bytes<const N: usize>(&self) -> [u8; N] {
        let mut b = [0u8; N];
        self.fill(&mut b);
        b
    }
}

impl Default for NonceSource {
    fn default() -> Self {
        NonceSource::random()
    }
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// How to probe catalog service `service` on `port` over `transport`. `host` is the
/// target's DNS name, or its address as text, for HTTP `Host` headers.
pub fn probe_for(
    service: &str,
    port: u16,
    transport: Transport,
    host: &str,
    ctx: &ProbeContext,
) -> Probe {
    let nonces = ctx.nonces.clone();
    let realm = ctx.realm.clone();
    let now = ctx.now_unix;
    let host_header = match port {
        80 | 443 => host.to_owned(),
        _ => format!("{host}:{port}"),
    };
    let tcp = transport == Transport::Tcp;
    match (service, tcp) {
        ("rdp", true) => with(TlsMode::AfterExchange, "rdp", rdp::RdpNegotiate::new),
        ("rdp" | "rdg-udp", false) => with(TlsMode::None, "rdp", move || {
            rdpeudp::RdpUdpSyn::new(nonces.u32())
        }),
        ("https" | "rdp-websocket", true) => {
            let path = if service == "rdp-websocket" {
                "/rdp/"
            } else {
                "/"
            };
            let path = path.to_owned();
            with(TlsMode::Direct, "http", move || {
                http::HttpGet::new(&host_header, &path)
            })
        }
        ("http", true) => with(TlsMode::None, "http", move || {
            http::HttpGet::new(&host_header, "/")
        }),
        // The RDS web services behind TLS: the gateway's transport opening and RD Web
        // Access (see `rdsports_wire::rdg`); `check` picks them for the flows that reach
        // those roles (the catalog names the port's protocol, `https`).
        (rdg::RD_GATEWAY, true) => with(TlsMode::Direct, rdg::RD_GATEWAY, move || {
            rdg::GatewayOutData::new(&host_header, nonces.bytes())
        }),
        (rdg::RD_WEB_ACCESS, true) => with(TlsMode::Direct, rdg::RD_WEB_ACCESS, move || {
            rdg::RdWebAccess::new(&host_header)
        }),
        ("winrm", true) => {
            let tls = if port == 5986 {
                TlsMode::Direct
            } else {
                TlsMode::None
            };
            with(tls, "winrm", move || http::WinRmIdentify::new(&host_header))
        }
        ("ldap" | "gc", true) => clocked(TlsMode::None, "ldap", now, move || {
            ldap::LdapRootDse::new(message_id(&nonces))
        }),
        ("ldaps" | "gc-ssl", true) => clocked(TlsMode::Direct, "ldap", now, move || {
            ldap::LdapRootDse::new(message_id(&nonces))
        }),
        ("ldap", false) => with(TlsMode::None, "ldap", move || {
            ldap::CldapPing::new(message_id(&nonces), realm.as_deref())
        }),
        ("kerberos" | "kpasswd", _) => {
            let realm = realm.unwrap_or_default().to_uppercase();
            clocked(TlsMode::None, "kerberos", now, move || {
                let nonce = nonces.u32() & 0x7fff_ffff;
                if tcp {
                    kerberos::KerberosAsReq::tcp(&realm, nonce)
                } else {
                    kerberos::KerberosAsReq::udp(&realm, nonce)
                }
            })
        }
        ("dns", _) => dns_probe(tcp, realm.as_deref(), nonces),
        ("smb", true) => clocked(TlsMode::None, "smb", now, move || {
            smb2::SmbNegotiate::new(nonces.bytes(), nonces.bytes())
        }),
        // On 135 the endpoint mapper answers the lookup; on a dynamic RPC port the server
        // rejects the mapper's interface with a bind_nak or a rejected bind_ack, which still
        // proves an RPC server there.
        ("msrpc", true) | ("wmi", true) if service == "msrpc" || port == 135 => {
            with(TlsMode::None, "msrpc", msrpc::EpmLookup::new)
        }
        ("netbios-ns", false) => with(TlsMode::None, "netbios", move || {
            netbios::NodeStatusQuery::new(nonces.u16())
        }),
        ("netbios-ssn", true) => with(TlsMode::None, "netbios", netbios::SessionRequest::new),
        ("netbios-dgm", false) => Probe {
            silence_reason: Some(
                "the NetBIOS datagram service never answers: silence is normal here".into(),
            ),
            ..Probe::default()
        },
        ("radius", false) => radius_probe(port, ctx),
        ("ntp", false) => clocked(TlsMode::None, "ntp", now, move || {
            // The server echoes the whole transmit timestamp, so a random fraction makes it
            // the nonce a forged reply must guess; the second is ours.
            let sent_at = now.unwrap_or_else(crate::tls::now_unix);
            ntp::NtpQuery::at_unix(sent_at, nonces.u32())
        }),
        ("ftp", true) => with(TlsMode::None, "ftp", ftp::FtpBanner::new),
        ("mssql", true) => with(TlsMode::None, "mssql", move || {
            mssql::MssqlPrelogin::new(nonces.u32())
        }),
        ("mssql-browser", false) => with(TlsMode::None, "mssql", mssql::SqlBrowser::new),
        ("rdsports-listener", _) => with(TlsMode::None, "rdsports-listener", move || {
            listener::ListenerHandshake::new(nonces.bytes())
        }),
        _ => Probe::default(),
    }
}

/// The exchange for one probe of `service` (see [`probe_for`]), or `None` for a plain
/// connect or an empty datagram.
pub fn exchange_for(
    service: &str,
    port: u16,
    transport: Transport,
    host: &str,
    ctx: &ProbeContext,
) -> Option<Box<dyn Exchange>> {
    probe_for(service, port, transport, host, ctx)
        .exchange
        .map(|factory| factory())
}

/// A ready target for `service` at `address`. `host_name` (the target's DNS name) is sent
/// as TLS SNI and HTTP `Host`; without it the address is used.
pub fn target_for(
    address: SocketAddr,
    host_name: Option<&str>,
    service: &str,
    transport: Transport,
    ctx: &ProbeContext,
) -> Target {
    let host = host_name.map_or_else(|| host_text(address.ip()), str::to_owned);
    let probe = probe_for(service, address.port(), transport, &host, ctx);
    let identify = match probe.expects {
        Some(expects) if transport == Transport::Tcp && expects != "rdsports-listener" => {
            Some(identify_for(expects, address.port(), &host, ctx))
        }
        _ => None,
    };
    Target {
        address,
        transport,
        tls: probe.tls,
        probe: probe.exchange,
        server_name: host_name.map(str::to_owned),
        silence_reason: probe.silence_reason,
        source: None,
        identify,
    }
}

/// The identification follow-up for a TCP target that expects `expects` on `port`: the
/// exchanges of the steps of [`rdsports_wire::identify::sequence`], the rdsports listener
/// handshake first (so a stand-in `rdsports listen` stays a pass).
pub fn identify_for(expects: &'static str, port: u16, host: &str, ctx: &ProbeContext) -> Identify {
    let host = host.to_owned();
    let ctx = ctx.clone();
    let steps = move |step: Step| -> Option<Box<dyn Exchange>> {
        let service = match step {
            Step::Tls => return None,
            Step::Listener => "rdsports-listener",
            other => other.name(),
        };
        exchange_for(service, port, Transport::Tcp, &host, &ctx)
    };
    Identify {
        expects,
        listener: true,
        steps: Arc::new(steps),
    }
}

/// Whether what answered is what `probe` expects: `None` when that cannot be said (no
/// service expected, a stand-in rdsports listener, or a port that answered no probe).
/// After an identification follow-up, what it found never matches a probe that speaks TLS
/// first (its handshake failed, so plain LDAP on the LDAPS port is still wrong).
pub fn service_matches(observation: &Observation, probe: &Probe) -> Option<bool> {
    let expects = probe.expects?;
    let found = match &observation.identification {
        Some(report) => report.identified.as_deref()?,
        None => observation.service.as_deref()?,
    };
    if found == "rdsports-listener" {
        return None;
    }
    let followed_up = observation.identification.is_some();
    Some(found == expects && !(followed_up && probe.tls == TlsMode::Direct))
}

/// The follow-up probes an endpoint mapper's answer calls for.
#[derive(Debug, Clone)]
pub struct RpcFollowUps {
    /// Plain TCP connect targets for each advertised port inside the range, sorted.
    pub targets: Vec<Target>,
    /// Advertised ports outside the range (a fixed service port, or a range that differs
    /// from the deployment's), sorted.
    pub outside_range: Vec<u16>,
}

/// For a flow "135 plus the dynamic RPC range": the ports the endpoint mapper on `host`
/// advertised (an `msrpc` observation's `tcp_ports`), as targets inside `range`. `Err`
/// says why the range could not be probed (the mapper did not answer, or answered
/// without endpoints): the caller reports the range as not probed with that reason.
pub fn rpc_follow_ups(
    mapper: &Observation,
    host: IpAddr,
    range: RangeInclusive<u16>,
) -> Result<RpcFollowUps, String> {
    if mapper.verdict != Verdict::Open {
        return Err(format!(
            "the endpoint mapper (135) is {}: the dynamic RPC range was not probed",
            mapper.verdict
        ));
    }
    if mapper.service.as_deref() != Some("msrpc") {
        return Err(
            "port 135 is open but did not answer as the RPC endpoint mapper: the dynamic RPC \
             range was not probed"
                .into(),
        );
    }
    let Some(Value::Array(ports)) = mapper.detail.get("tcp_ports") else {
        return Err(
            "the endpoint mapper listed no TCP endpoints: the dynamic RPC range was not probed"
                .into(),
        );
    };
    let mut inside = std::collections::BTreeSet::new();
    let mut outside = std::collections::BTreeSet::new();
    for port in ports
        .iter()
        .filter_map(Value::as_u64)
        .filter_map(|p| u16::try_from(p).ok())
    {
        if port == 0 || port == 135 {
            continue;
        }
        if range.contains(&port) {
            inside.insert(port);
        } else {
            outside.insert(port);
        }
    }
    Ok(RpcFollowUps {
        targets: inside
            .into_iter()
            .map(|p| Target::tcp(SocketAddr::new(host, p)))
            .collect(),
        outside_range: outside.into_iter().collect(),
    })
}

/// Kerberos' default tolerance for clock differences (5 minutes).
pub const MAX_CLOCK_SKEW_SECS: i64 = kerberos::MAX_CLOCK_SKEW_SECS;

fn with<E, F>(tls: TlsMode, expects: &'static str, make: F) -> Probe
where
    E: Exchange + 'static,
    F: Fn() -> E + Send + Sync + 'static,
{
    Probe {
        exchange: Some(Arc::new(move || Box::new(make()) as Box<dyn Exchange>)),
        tls,
        expects: Some(expects),
        silence_reason: None,
    }
}

/// Like [`with`], with the clock skew added to the identification.
fn clocked<E, F>(tls: TlsMode, expects: &'static str, now: Option<i64>, make: F) -> Probe
where
    E: Exchange + 'static,
    F: Fn() -> E + Send + Sync + 'static,
{
    with(tls, expects, move || Clocked { inner: make(), now })
}

fn dns_probe(tcp: bool, realm: Option<&str>, nonces: NonceSource) -> Probe {
    // A domain controller's DNS answers for its own domain's DC locator record; without a
    // domain, any answer about the root zone proves a DNS server.
    let (name, qtype) = match realm {
        Some(domain) if !domain.is_empty() => {
            (format!("_ldap._tcp.dc._msdcs.{domain}"), dns::QType::Srv)
        }
        _ => (".".to_owned(), dns::QType::Ns),
    };
    let fallback = name.clone();
    let make = move || -> Box<dyn Exchange> {
        let id = nonces.u16();
        let query = if tcp {
            dns::DnsQuery::tcp(id, &name, qtype, dns::Recursion::Desired)
        } else {
            dns::DnsQuery::udp(id, &name, qtype, dns::Recursion::Desired)
        };
        match query {
            Ok(query) => Box::new(query),
            Err(error) => Box::new(Refuse(format!("cannot ask about {fallback}: {error}"))),
        }
    };
    Probe {
        exchange: Some(Arc::new(make)),
        tls: TlsMode::None,
        expects: Some("dns"),
        silence_reason: None,
    }
}

fn radius_probe(port: u16, ctx: &ProbeContext) -> Probe {
    let nonces = ctx.nonces.clone();
    let secret = ctx.radius_secret.clone();
    let accounting = matches!(port, 1813 | 1646);
    let make = move || -> Box<dyn Exchange> {
        let identifier = nonces.bytes::<1>()[0];
        let built = if accounting {
            let session = format!("rdsports-probe-{:08x}", nonces.u32());
            radius::RadiusAccounting::new(&radius::AccountingRequest {
                identifier,
                // Interim-Update: records nothing new about a NAS (Accounting-On/Off could
                // make a server close the NAS's sessions).
                status_type: radius::AcctStatusType::InterimUpdate,
                session_id: &session,
                secret: secret.as_deref(),
            })
            .map(|e| Box::new(e) as Box<dyn Exchange>)
        } else {
            let password: [u8; 16] = nonces.bytes();
            radius::RadiusAccess::new(&radius::AccessRequest {
                identifier,
                authenticator: nonces.bytes(),
                user_name: kerberos::PROBE_PRINCIPAL,
                password: &password,
                secret: secret.as_deref(),
            })
            .map(|e| Box::new(e) as Box<dyn Exchange>)
        };
        built.unwrap_or_else(|error| Box::new(Refuse(format!("cannot build the request: {error}"))))
    };
    let who = if ctx.radius_secret.is_some() {
        "no reply: this host may not be a registered RADIUS client, or the shared secret differs"
    } else {
        "no reply, which is normal: a RADIUS server silently drops requests from clients it \
         does not know (no shared secret was given for this host)"
    };
    Probe {
        exchange: Some(Arc::new(make)),
        tls: TlsMode::None,
        expects: Some("radius"),
        silence_reason: Some(who.into()),
    }
}

/// `Host` text for an address (IPv6 in brackets).
fn host_text(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

fn message_id(nonces: &NonceSource) -> u32 {
    (nonces.u32() & 0x7fff_fffe) + 1
}

/// An exchange that could not be built: sends nothing and says why.
struct Refuse(String);

impl Exchange for Refuse {
    fn start(&mut self) -> Vec<u8> {
        Vec::new()
    }

    fn on_bytes(&mut self, _: &[u8]) -> Progress {
        Progress::Done(Identification::unrecognised(self.0.clone()))
    }

    fn max_len(&self) -> usize {
        1
    }
}

/// Adds `clock_skew_s` (server time minus ours) to an identification that reports the
/// server's time, and a note when it exceeds Kerberos' tolerance.
struct Clocked<E> {
    inner: E,
    now: Option<i64>,
}

impl<E: Exchange> Exchange for Clocked<E> {
    fn start(&mut self) -> Vec<u8> {
        self.inner.start()
    }

    fn on_bytes(&mut self, received: &[u8]) -> Progress {
        match self.inner.on_bytes(received) {
            Progress::Done(identification) => {
                let now = self.now.unwrap_or_else(crate::tls::now_unix);
                Progress::Done(add_clock_skew(identification, now))
            }
            other => other,
        }
    }

    fn max_len(&self) -> usize {
        self.inner.max_len()
    }

    /// The inner exchange's own close handling (a reply that a close completes), with the
    /// skew added as in [`Exchange::on_bytes`].
    fn on_close(&mut self, received: &[u8]) -> Progress {
        match self.inner.on_close(received) {
            Progress::Done(identification) => {
                let now = self.now.unwrap_or_else(crate::tls::now_unix);
                Progress::Done(add_clock_skew(identification, now))
            }
            other => other,
        }
    }
}

fn add_clock_skew(mut identification: Identification, now: i64) -> Identification {
    let server = ["server_time_unix", "current_time_unix", "system_time_unix"]
        .iter()
        .find_map(|key| identification.detail.get(*key).and_then(Value::as_i64))
        .filter(|&t| t > 0);
    if let Some(server) = server {
        let skew = kerberos::clock_skew(server, now);
        identification
            .detail
            .insert(facts::CLOCK_SKEW_S.into(), skew.into());
        if skew.abs() > MAX_CLOCK_SKEW_SECS {
            let sentence = format!(
                "the server's clock is {} s {} ours, beyond Kerberos' {} s tolerance",
                skew.abs(),
                if skew > 0 { "ahead of" } else { "behind" },
                MAX_CLOCK_SKEW_SECS
            );
            identification.note = Some(match identification.note.take() {
                Some(note) => format!("{note}; {sentence}"),
                None => sentence,
            });
        }
    }
    identification
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use serde_json::json;

    use super::*;

    fn ctx() -> ProbeContext {
        ProbeContext {
            realm: Some("corp.example".into()),
            radius_secret: None,
            now_unix: Some(1_700_000_000),
            nonces: NonceSource::seeded(7),
        }
    }

    fn probe(service: &str, port: u16, transport: Transport) -> Probe {
        probe_for(service, port, transport, "host.corp.example", &ctx())
    }

    fn first_bytes(service: &str, port: u16, transport: Transport) -> Vec<u8> {
        exchange_for(service, port, transport, "host.corp.example", &ctx())
            .unwrap()
            .start()
    }

    #[test]
    fn catalog_services_map_to_exchanges() {
        use Transport::{Tcp, Udp};
        let table: [(&str, u16, Transport, TlsMode, Option<&str>); 33] = [
            (
                "rdsports-listener",
                3389,
                Tcp,
                TlsMode::None,
                Some("rdsports-listener"),
            ),
            (
                "rdsports-listener",
                3391,
                Udp,
                TlsMode::None,
                Some("rdsports-listener"),
            ),
            ("rdp", 3389, Tcp, TlsMode::AfterExchange, Some("rdp")),
            ("rdp", 3389, Udp, TlsMode::None, Some("rdp")),
            ("rdg-udp", 3391, Udp, TlsMode::None, Some("rdp")),
            ("https", 443, Tcp, TlsMode::Direct, Some("http")),
            ("rdp-websocket", 3392, Tcp, TlsMode::Direct, Some("http")),
            ("rd-gateway", 443, Tcp, TlsMode::Direct, Some("rd-gateway")),
            (
                "rd-web-access",
                443,
                Tcp,
                TlsMode::Direct,
                Some("rd-web-access"),
            ),
            ("http", 80, Tcp, TlsMode::None, Some("http")),
            ("winrm", 5985, Tcp, TlsMode::None, Some("winrm")),
            ("winrm", 5986, Tcp, TlsMode::Direct, Some("winrm")),
            ("ldap", 389, Tcp, TlsMode::None, Some("ldap")),
            ("ldap", 389, Udp, TlsMode::None, Some("ldap")),
            ("gc", 3268, Tcp, TlsMode::None, Some("ldap")),
            ("ldaps", 636, Tcp, TlsMode::Direct, Some("ldap")),
            ("gc-ssl", 3269, Tcp, TlsMode::Direct, Some("ldap")),
            ("kerberos", 88, Tcp, TlsMode::None, Some("kerberos")),
            ("kerberos", 88, Udp, TlsMode::None, Some("kerberos")),
            ("kpasswd", 464, Udp, TlsMode::None, Some("kerberos")),
            ("dns", 53, Udp, TlsMode::None, Some("dns")),
            ("dns", 53, Tcp, TlsMode::None, Some("dns")),
            ("smb", 445, Tcp, TlsMode::None, Some("smb")),
            ("msrpc", 135, Tcp, TlsMode::None, Some("msrpc")),
            ("msrpc", 49_668, Tcp, TlsMode::None, Some("msrpc")),
            ("netbios-ns", 137, Udp, TlsMode::None, Some("netbios")),
            ("netbios-ssn", 139, Tcp, TlsMode::None, Some("netbios")),
            ("radius", 1812, Udp, TlsMode::None, Some("radius")),
            ("radius", 1813, Udp, TlsMode::None, Some("radius")),
            ("ftp", 21, Tcp, TlsMode::None, Some("ftp")),
            ("mssql", 1433, Tcp, TlsMode::None, Some("mssql")),
            ("mssql-browser", 1434, Udp, TlsMode::None, Some("mssql")),
            ("ntp", 123, Udp, TlsMode::None, Some("ntp")),
        ];
        for (service, port, transport, tls, expects) in table {
            let p = probe(service, port, transport);
            assert!(p.exchange.is_some(), "{service}/{transport}");
            assert_eq!(p.tls, tls, "{service}/{transport}");
            assert_eq!(p.expects, expects, "{service}/{transport}");
            let first = p.exchange.as_ref().map(|f| f().start()).unwrap_or_default();
            // Every probe but FTP's (which waits for the banner) speaks first.
            assert_eq!(first.is_empty(), service == "ftp", "{service}/{transport}");
        }
    }

    #[test]
    fn unknown_services_and_dynamic_ports_are_plain() {
        for (service, port, transport) in [
            ("rdcb-publishing", 5504, Transport::Tcp),
            ("rdg-farm", 3388, Transport::Tcp),
            ("wmi", 24_158, Transport::Tcp),
            ("ntp", 123, Transport::Tcp),
            ("no-such-service", 1, Transport::Tcp),
        ] {
            let p = probe(service, port, transport);
            assert!(p.exchange.is_none(), "{service}");
            assert_eq!(p.tls, TlsMode::None);
            assert_eq!(p.expects, None);
        }
    }

    #[test]
    fn silent_services_say_why() {
        let dgm = probe("netbios-dgm", 138, Transport::Udp);
        assert!(dgm.exchange.is_none());
        assert!(dgm.silence_reason.unwrap().contains("never answers"));
        let radius = probe("radius", 1812, Transport::Udp);
        assert!(
            radius
                .silence_reason
                .unwrap()
                .contains("clients it does not know")
        );
    }

    #[test]
    fn radius_ports_choose_access_or_accounting() {
        assert_eq!(
            first_bytes("radius", 1812, Transport::Udp)[0],
            radius::ACCESS_REQUEST
        );
        assert_eq!(
            first_bytes("radius", 1813, Transport::Udp)[0],
            radius::ACCOUNTING_REQUEST
        );
    }

    #[test]
    fn requests_carry_the_context() {
        // TPKT version 3 for RDP over TCP.
        assert_eq!(
            &first_bytes("rdp", 3389, Transport::Tcp)[..2],
            &[0x03, 0x00]
        );
        // The Kerberos realm is upper-cased.
        let as_req = first_bytes("kerberos", 88, Transport::Udp);
        assert!(as_req.windows(12).any(|w| w == b"CORP.EXAMPLE"));
        // The HTTP Host header names the host (and a non-default port).
        let get = String::from_utf8(first_bytes("https", 443, Transport::Tcp)).unwrap();
        assert!(get.contains("Host: host.corp.example\r\n"), "{get}");
        let identify = String::from_utf8(first_bytes("winrm", 5985, Transport::Tcp)).unwrap();
        assert!(
            identify.contains("Host: host.corp.example:5985\r\n"),
            "{identify}"
        );
        // The gateway's transport request names the host, and the gateway's port when it is
        // not 443; its connection id is a fresh GUID each time.
        let out = String::from_utf8(first_bytes("rd-gateway", 8443, Transport::Tcp)).unwrap();
        assert!(
            out.starts_with(
                "RDG_OUT_DATA /remoteDesktopGateway/ HTTP/1.1\r\nHost: host.corp.example:8443\r\n"
            ),
            "{out}"
        );
        let factory = probe("rd-gateway", 443, Transport::Tcp).exchange.unwrap();
        assert_ne!(factory().start(), factory().start());
        let web = String::from_utf8(first_bytes("rd-web-access", 443, Transport::Tcp)).unwrap();
        assert!(
            web.starts_with("GET /RDWeb/ HTTP/1.1\r\nHost: host.corp.example\r\n"),
            "{web}"
        );
        // DNS asks for the domain's DC locator record.
        let query = first_bytes("dns", 53, Transport::Udp);
        assert!(query.windows(6).any(|w| w == b"_msdcs"));
    }

    #[test]
    fn fresh_exchanges_get_fresh_nonces() {
        let p = probe("kerberos", 88, Transport::Udp);
        let factory = p.exchange.unwrap();
        assert_ne!(factory().start(), factory().start());
    }

    #[test]
    fn seeded_nonces_repeat_and_random_ones_vary() {
        let a = NonceSource::seeded(1);
        let b = NonceSource::seeded(1);
        assert_eq!(a.bytes::<20>(), b.bytes::<20>());
        assert_ne!(a.u32(), a.u32());
        let r = NonceSource::random();
        assert_ne!(r.bytes::<16>(), r.bytes::<16>());
    }

    #[test]
    fn target_for_fills_tls_sni_and_silence() {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, 636));
        let t = target_for(
            address,
            Some("dc1.corp.example"),
            "ldaps",
            Transport::Tcp,
            &ctx(),
        );
        assert_eq!(t.tls, TlsMode::Direct);
        assert_eq!(t.server_name.as_deref(), Some("dc1.corp.example"));
        assert!(t.probe.is_some());
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, 1812));
        let t = target_for(address, None, "radius", Transport::Udp, &ctx());
        assert_eq!(t.server_name, None);
        assert!(t.silence_reason.is_some());
        assert_eq!(host_text("::1".parse().unwrap()), "[::1]");
    }

    struct ReportsTime(i64);

    impl Exchange for ReportsTime {
        fn start(&mut self) -> Vec<u8> {
            Vec::new()
        }
        fn on_bytes(&mut self, _: &[u8]) -> Progress {
            Progress::Done(Identification::service("kerberos").with("server_time_unix", self.0))
        }
    }

    #[test]
    fn clock_skew_is_added_and_noted_beyond_five_minutes() {
        let mut near = Clocked {
            inner: ReportsTime(1_700_000_100),
            now: Some(1_700_000_000),
        };
        let Progress::Done(id) = near.on_bytes(b"x") else {
            panic!("done")
        };
        assert_eq!(id.detail["clock_skew_s"], 100);
        assert_eq!(id.note, None);
        let mut far = Clocked {
            inner: ReportsTime(1_699_999_000),
            now: Some(1_700_000_000),
        };
        let Progress::Done(id) = far.on_bytes(b"x") else {
            panic!("done")
        };
        assert_eq!(id.detail["clock_skew_s"], -1000);
        assert!(id.note.unwrap().contains("1000 s behind ours"));
    }

    /// Wants a newline; a close completes the reply (as an HTTP body without a length).
    struct TimeAtClose(i64);

    impl Exchange for TimeAtClose {
        fn start(&mut self) -> Vec<u8> {
            Vec::new()
        }
        fn on_bytes(&mut self, _: &[u8]) -> Progress {
            Progress::NeedMore
        }
        fn on_close(&mut self, _: &[u8]) -> Progress {
            Progress::Done(Identification::service("http").with("server_time_unix", self.0))
        }
    }

    #[test]
    fn a_reply_completed_by_the_close_keeps_the_inner_exchange_and_gets_the_skew() {
        // Regression: `Clocked` used the default `on_close`, which asks `on_bytes` again
        // and so discarded the inner exchange's own close handling.
        let mut clocked = Clocked {
            inner: TimeAtClose(1_700_000_060),
            now: Some(1_700_000_000),
        };
        let Progress::Done(id) = clocked.on_close(b"partial") else {
            panic!("done")
        };
        assert_eq!(id.service, Some("http"));
        assert_eq!(id.detail["clock_skew_s"], 60);
    }

    /// A server reply to `request` (a client request) sent `ahead` seconds after ours.
    fn ntp_reply(request: &[u8], ahead: i64) -> Vec<u8> {
        let sent = ntp::parse_packet(request).unwrap().transmit;
        let at = ntp::NtpTime::from_unix(sent.to_unix() + ahead, 0).to_bits();
        let mut reply = vec![0x24, 2, 6, 0xe9]; // LI 0, VN 4, mode 4; stratum 2
        reply.extend_from_slice(&[0; 8]); // root delay, root dispersion
        reply.extend_from_slice(&[192, 0, 2, 1]); // reference id
        reply.extend_from_slice(&at.to_be_bytes()); // reference
        reply.extend_from_slice(&sent.to_bits().to_be_bytes()); // origin: our transmit
        reply.extend_from_slice(&at.to_be_bytes()); // receive
        reply.extend_from_slice(&at.to_be_bytes()); // transmit
        reply
    }

    #[test]
    fn ntp_sends_now_and_reports_the_skew() {
        let factory = probe("ntp", 123, Transport::Udp).exchange.unwrap();
        let mut exchange = factory();
        let request = exchange.start();
        assert_eq!(request.len(), ntp::HEADER_LEN);
        assert_eq!(request[0], 0x23); // LI 0, version 4, mode 3
        let sent = ntp::parse_packet(&request).unwrap().transmit;
        assert_eq!(sent.to_unix(), 1_700_000_000);
        // A reply 400 s ahead: beyond Kerberos' 5 minutes.
        let Progress::Done(id) = exchange.on_bytes(&ntp_reply(&request, 400)) else {
            panic!("done")
        };
        assert_eq!(id.service, Some("ntp"));
        assert_eq!(id.detail["stratum"], 2);
        assert_eq!(id.detail["reference_id"], "192.0.2.1");
        assert_eq!(id.detail["server_time_unix"], 1_700_000_400);
        assert_eq!(id.detail["clock_skew_s"], 400);
        assert!(id.note.unwrap().contains("400 s ahead of ours"));
        // Each exchange draws its own fraction: a reply to one does not answer another.
        let mut other = factory();
        assert_ne!(other.start(), request);
        assert_eq!(other.on_bytes(&ntp_reply(&request, 0)), Progress::NeedMore);
    }

    fn mapper(verdict: Verdict, service: Option<&str>, ports: Value) -> Observation {
        let mut o = Observation::new(verdict);
        o.service = service.map(str::to_owned);
        o.detail.insert("tcp_ports".into(), ports);
        o
    }

    #[test]
    fn mapper_ports_become_targets_inside_the_range() {
        let host: IpAddr = Ipv4Addr::LOCALHOST.into();
        let seen = mapper(
            Verdict::Open,
            Some("msrpc"),
            json!([49670, 49668, 135, 5722, 49668, 70000]),
        );
        let ups = rpc_follow_ups(&seen, host, 49_152..=65_535).unwrap();
        let ports: Vec<u16> = ups.targets.iter().map(|t| t.address.port()).collect();
        assert_eq!(ports, vec![49_668, 49_670]);
        assert!(
            ups.targets
                .iter()
                .all(|t| t.transport == Transport::Tcp && t.probe.is_none())
        );
        assert_eq!(ups.outside_range, vec![5722]);
    }

    #[test]
    fn a_silent_mapper_leaves_the_range_unprobed() {
        let host: IpAddr = Ipv4Addr::LOCALHOST.into();
        let filtered = mapper(Verdict::Filtered, None, json!([]));
        assert!(
            rpc_follow_ups(&filtered, host, 1..=2)
                .unwrap_err()
                .contains("not probed")
        );
        let other = mapper(Verdict::Open, None, json!([49668]));
        assert!(
            rpc_follow_ups(&other, host, 1..=65_535)
                .unwrap_err()
                .contains("not probed")
        );
        let mut empty = Observation::new(Verdict::Open);
        empty.service = Some("msrpc".into());
        assert!(
            rpc_follow_ups(&empty, host, 1..=65_535)
                .unwrap_err()
                .contains("no TCP")
        );
    }
}
