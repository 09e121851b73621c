//! The TLS client used by probes: it records what the server presents and accepts it.
//!
//! A probe observes; it does not trust. The certificate verifier here keeps the chain the
//! server sent and accepts it whatever it is (self-signed, expired, wrong name), while
//! handshake signatures are still checked against the presented key so a broken server
//! shows up as an error. Every outcome (version and cipher suite, an alert, a handshake
//! failure) becomes a `tls` detail object; none of them is an error of the probe. This
//! module does not judge whether a certificate should be trusted: that is the report's
//! business, from the summary.

use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, ProtocolVersion, SignatureScheme};
use serde_json::{Map, Value};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout_at};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// The outcome of a handshake attempt.
pub(crate) struct Handshake {
    /// The established session, when the handshake succeeded.
    pub stream: Option<TlsStream<TcpStream>>,
    /// The `tls` detail object.
    pub detail: Map<String, Value>,
    /// Whether the peer spoke TLS at all (a session, an alert, or a certificate).
    pub spoke_tls: bool,
    /// A sentence for the observation's note when the handshake did not complete.
    pub note: Option<String>,
}

/// Handshakes over `tcp` before `deadline`, sending `server_name` as SNI when given.
pub(crate) async fn handshake(
    tcp: TcpStream,
    server_name: Option<&str>,
    peer: IpAddr,
    deadline: Instant,
) -> Handshake {
    let recorder = Arc::new(Recorder {
        provider: provider(),
        chain: Mutex::new(Vec::new()),
    });
    let config = match client_config(recorder.clone()) {
        Ok(config) => config,
        Err(error) => {
            let mut detail = Map::new();
            detail.insert(
                "error".into(),
                format!("TLS client setup failed: {error}").into(),
            );
            return Handshake {
                stream: None,
                detail,
                spoke_tls: false,
                note: None,
            };
        }
    };
    let name = server_name
        .and_then(|n| ServerName::try_from(n.to_owned()).ok())
        .unwrap_or(ServerName::IpAddress(peer.into()));
    let connector = TlsConnector::from(Arc::new(config));
    let result = timeout_at(deadline, connector.connect(name, tcp)).await;

    let mut detail = Map::new();
    let chain = recorder.take();
    let mut spoke_tls = !chain.is_empty();
    let mut note = None;
    let stream = match result {
        Ok(Ok(stream)) => {
            spoke_tls = true;
            let (_, session) = stream.get_ref();
            if let Some(version) = session.protocol_version() {
                detail.insert("version".into(), version_name(version).into());
            }
            if let Some(suite) = session.negotiated_cipher_suite() {
                detail.insert("cipher_suite".into(), format!("{:?}", suite.suite()).into());
            }
            Some(stream)
        }
        Ok(Err(error)) => {
            let (alert, text) = describe(&error);
            if let Some(alert) = alert {
                spoke_tls = true;
                note = Some(format!("the server sent the TLS alert {alert}"));
                detail.insert("alert".into(), alert.into());
            } else {
                note = Some(format!("TLS handshake failed: {text}"));
            }
            detail.insert("error".into(), text.into());
            None
        }
        Err(_) => {
            note = Some("the TLS handshake did not finish in time".into());
            detail.insert("error".into(), "handshake timed out".into());
            None
        }
    };
    if !chain.is_empty() {
        detail.insert("chain_length".into(), chain.len().into());
    }
    if let Some(leaf) = chain.first() {
        detail.insert(
            "certificate".into(),
            certificate_summary(leaf.as_ref(), server_name),
        );
    }
    Handshake {
        stream,
        detail,
        spoke_tls,
        note,
    }
}

/// The leaf certificate as a JSON summary (see [`rdsports_wire::tls::summarize`]), with
/// whether it names the server name we asked for.
fn certificate_summary(der: &[u8], server_name: Option<&str>) -> Value {
    match rdsports_wire::tls::summarize(der, now_unix()) {
        Ok(summary) => {
            let mut json = summary.to_json();
            if let (Some(name), Value::Object(map)) = (server_name, &mut json) {
                map.insert(
                    "covers_server_name".into(),
                    summary.covers_name(name).into(),
                );
            }
            json
        }
        Err(error) => {
            let mut map = Map::new();
            map.insert(
                "error".into(),
                format!("unreadable certificate: {error}").into(),
            );
            map.insert("der_bytes".into(), der.len().into());
            Value::Object(map)
        }
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// "TLS 1.2", "TLS 1.3" (the names of [`rdsports_wire::tls::version_name`]).
fn version_name(version: ProtocolVersion) -> String {
    rdsports_wire::tls::version_name(u16::from(version))
}

/// The alert name (snake_case) when the peer sent one, and a description of the error.
fn describe(error: &io::Error) -> (Option<String>, String) {
    let inner = error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::AlertReceived(alert)) => {
            let name = snake_case(&format!("{alert:?}"));
            (Some(name.clone()), format!("alert received: {name}"))
        }
        Some(other) => (None, other.to_string()),
        None if error.kind() == io::ErrorKind::UnexpectedEof => (
            None,
            "the peer closed the connection during the handshake".into(),
        ),
        None => (None, error.to_string()),
    }
}

/// `HandshakeFailure` -> `handshake_failure`.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

fn client_config(recorder: Arc<Recorder>) -> Result<ClientConfig, rustls::Error> {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(rustls::ALL_VERSIONS)?
        .dangerous()
        .with_custom_certificate_verifier(recorder)
        .with_no_client_auth();
    config.resumption = rustls::client::Resumption::disabled();
    Ok(config)
}

/// Records the presented chain and accepts it.
#[derive(Debug)]
struct Recorder {
    provider: Arc<CryptoProvider>,
    chain: Mutex<Vec<CertificateDer<'static>>>,
}

impl Recorder {
    fn take(&self) -> Vec<CertificateDer<'static>> {
        std::mem::take(&mut *self.chain.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = self.chain.lock().unwrap_or_else(PoisonError::into_inner);
        chain.clear();
        chain.push(end_entity.clone().into_owned());
        chain.extend(
            intermediates
                .iter()
                .take(MAX_CHAIN)
                .map(|c| c.clone().into_owned()),
        );
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Intermediates kept beyond the leaf.
const MAX_CHAIN: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_names_are_snake_case() {
        assert_eq!(snake_case("HandshakeFailure"), "handshake_failure");
        assert_eq!(snake_case("ProtocolVersion"), "protocol_version");
        assert_eq!(snake_case("x"), "x");
    }

    #[test]
    fn versions_are_short() {
        assert_eq!(version_name(ProtocolVersion::TLSv1_2), "TLS 1.2");
        assert_eq!(version_name(ProtocolVersion::TLSv1_3), "TLS 1.3");
        assert_eq!(version_name(ProtocolVersion::TLSv1_0), "TLS 1.0");
    }

    #[test]
    fn alerts_are_recognised_inside_io_errors() {
        let error = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure),
        );
        let (alert, text) = describe(&error);
        assert_eq!(alert.as_deref(), Some("handshake_failure"));
        assert!(text.contains("handshake_failure"));
        let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
        assert_eq!(describe(&eof).0, None);
    }

    #[test]
    fn the_client_config_builds() {
        let recorder = Arc::new(Recorder {
            provider: provider(),
            chain: Mutex::new(Vec::new()),
        });
        assert!(client_config(recorder).is_ok());
    }
}
