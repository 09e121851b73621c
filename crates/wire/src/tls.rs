//! A summary of a server certificate for reports (RFC 5280 fields, parsed with
//! `x509-parser`), the name check an RDP client makes (RFC 6125 style, simplified) and the
//! names of TLS protocol versions.
//!
//! What it does: from one DER certificate and the caller's "now" (Unix seconds) it gives the
//! subject, issuer, DNS and IP subject alternative names, validity (RFC 3339 and Unix),
//! whether it has expired and how many days are left, whether it is self-signed (issuer equal
//! to subject and the signature verifies with its own key, or, for algorithms `ring` cannot
//! verify, the authority key identifier matching the subject key identifier), key usage,
//! extended key usage including Remote Desktop's server authentication OID
//! `1.3.6.1.4.1.311.54.1.2`, the key type and size, and the SHA-1 and SHA-256 thumbprints
//! (Windows shows the SHA-1 one in the certificate store and in RDP settings), and the
//! lookups a client makes to check it: the CRL distribution points' URLs and the authority
//! information access URLs (CA issuers, OCSP).
//!
//! What it does not do: chain building, trust decisions or revocation. The TLS handshake
//! itself is done by rustls in `rdsports-net`; this module only reads the bytes it returns.

use std::net::IpAddr;

use serde::Serialize;
use serde_json::Value;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

/// The extended key usage OID for Remote Desktop server authentication.
pub const OID_RDP_SERVER_AUTH: &str = "1.3.6.1.4.1.311.54.1.2";

/// The largest certificate accepted.
pub const MAX_CERT_LEN: usize = 64 * 1024;

/// Why a certificate could not be summarised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a DER X.509 certificate.
    #[error("not an X.509 certificate: {0}")]
    Parse(String),
    /// The certificate is larger than [`MAX_CERT_LEN`].
    #[error("certificate of {0} bytes is too large")]
    TooLarge(usize),
}

/// What a report shows about a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertSummary {
    /// The subject distinguished name (RFC 4514 style, as `x509-parser` prints it).
    pub subject: String,
    /// The subject's first common name, if any.
    pub common_name: Option<String>,
    /// The issuer distinguished name.
    pub issuer: String,
    /// DNS names from the subject alternative name extension, in order.
    pub dns_names: Vec<String>,
    /// IP addresses from the subject alternative name extension, in order.
    pub ip_addresses: Vec<String>,
    /// The serial number, lowercase hex.
    pub serial: String,
    /// Start of validity, RFC 3339 UTC.
    pub not_before: String,
    /// End of validity, RFC 3339 UTC.
    pub not_after: String,
    /// Start of validity, Unix seconds.
    pub not_before_unix: i64,
    /// End of validity, Unix seconds.
    pub not_after_unix: i64,
    /// `now` is after `not_after`.
    pub expired: bool,
    /// `now` is before `not_before`.
    pub not_yet_valid: bool,
    /// Whole days from `now` to `not_after` (negative once expired).
    pub days_left: i64,
    /// Issuer equals subject and the certificate signs itself.
    pub self_signed: bool,
    /// The signature verified with the certificate's own key.
    pub self_signature_verified: bool,
    /// Basic constraints say CA.
    pub is_ca: bool,
    /// Key usage bits set, by name (`digital_signature`, `key_encipherment` ...).
    pub key_usage: Vec<String>,
    /// Extended key usages, by name (`server_auth`, `rdp_server_auth` ...) or dotted OID.
    pub extended_key_usage: Vec<String>,
    /// Usable for TLS server authentication: no EKU extension, or one listing server
    /// authentication or any purpose.
    pub server_auth: bool,
    /// The EKU lists Remote Desktop server authentication.
    pub rdp_server_auth: bool,
    /// The signature algorithm's short name (or dotted OID).
    pub signature_algorithm: String,
    /// The public key, such as `RSA 2048` or `EC 256`.
    pub public_key: String,
    /// SHA-1 of the DER, uppercase hex (the Windows "thumbprint").
    pub sha1_thumbprint: String,
    /// SHA-256 of the DER, uppercase hex.
    pub sha256_thumbprint: String,
    /// The CRL distribution points' URLs (RFC 5280 4.2.1.13), in order: where a client
    /// that checks revocation fetches the CRL (`http://`, `ldap://`, `ftp://`, `file://`).
    pub crl_urls: Vec<String>,
    /// The authority information access "CA issuers" URLs (RFC 5280 4.2.2.1): where a
    /// client fetches the issuing CA's certificate to build the chain.
    pub ca_issuers_urls: Vec<String>,
    /// The authority information access OCSP responder URLs (RFC 5280 4.2.2.1).
    pub ocsp_urls: Vec<String>,
}

/// The most URLs of each kind kept from one certificate.
const MAX_URLS: usize = 16;
/// The longest URL kept.
const MAX_URL_LEN: usize = 512;

fn push_url(list: &mut Vec<String>, uri: &str) {
    if list.len() < MAX_URLS && uri.len() <= MAX_URL_LEN {
        let clean: String = uri.chars().filter(|c| !c.is_control()).collect();
        if !list.contains(&clean) {
            list.push(clean);
        }
    }
}

/// The revocation and issuer lookups a certificate's extensions point to:
/// (CRL URLs, CA issuers URLs, OCSP URLs).
fn lookup_urls(cert: &X509Certificate<'_>) -> (Vec<String>, Vec<String>, Vec<String>) {
    use x509_parser::extensions::DistributionPointName;
    const OCSP: &str = "1.3.6.1.5.5.7.48.1";
    const CA_ISSUERS: &str = "1.3.6.1.5.5.7.48.2";
    let (mut crl, mut issuers, mut ocsp) = (Vec::new(), Vec::new(), Vec::new());
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::CRLDistributionPoints(points) => {
                for point in points.iter() {
                    if let Some(DistributionPointName::FullName(names)) = &point.distribution_point
                    {
                        for name in names {
                            if let GeneralName::URI(uri) = name {
                                push_url(&mut crl, uri);
                            }
                        }
                    }
                }
            }
            ParsedExtension::AuthorityInfoAccess(aia) => {
                for desc in &aia.accessdescs {
                    let GeneralName::URI(uri) = &desc.access_location else {
                        continue;
                    };
                    match desc.access_method.to_id_string().as_str() {
                        OCSP => push_url(&mut ocsp, uri),
                        CA_ISSUERS => push_url(&mut issuers, uri),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    (crl, issuers, ocsp)
}

impl CertSummary {
    /// The summary as a JSON object, for an [`crate::Identification`]'s details.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Whether the certificate names `host` (a DNS name or an IP address): IP addresses
    /// against IP SANs; names against DNS SANs (or the common name when there are none),
    /// case-insensitively, with a `*` allowed as the whole leftmost label.
    pub fn covers_name(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        if let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return self
                .ip_addresses
                .iter()
                .any(|a| a.parse::<IpAddr>().ok() == Some(ip));
        }
        let names: Vec<&str> = if self.dns_names.is_empty() {
            self.common_name.iter().map(String::as_str).collect()
        } else {
            self.dns_names.iter().map(String::as_str).collect()
        };
        names.iter().any(|pattern| name_matches(pattern, host))
    }
}

fn name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.');
    if let Some(rest) = pattern.strip_prefix("*.") {
        // The wildcard stands for exactly one non-empty label.
        match host.split_once('.') {
            Some((label, domain)) => !label.is_empty() && domain.eq_ignore_ascii_case(rest),
            None => false,
        }
    } else {
        pattern.eq_ignore_ascii_case(host)
    }
}

pub use rdsports_schema::rfc3339;

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn eku_name(oid: &str) -> String {
    match oid {
        OID_RDP_SERVER_AUTH => "rdp_server_auth".to_owned(),
        "1.3.6.1.4.1.311.20.2.2" => "smartcard_logon".to_owned(),
        "1.3.6.1.5.2.3.5" => "kdc_auth".to_owned(),
        "1.3.6.1.4.1.311.10.3.4" => "encrypting_file_system".to_owned(),
        other => other.to_owned(),
    }
}

/// Summarises one DER certificate as of `now_unix`.
pub fn summarize(der: &[u8], now_unix: i64) -> Result<CertSummary, Error> {
    if der.len() > MAX_CERT_LEN {
        return Err(Error::TooLarge(der.len()));
    }
    let (_, cert) = X509Certificate::from_der(der).map_err(|e| Error::Parse(e.to_string()))?;
    let subject = cert.subject().to_string();
    let issuer = cert.issuer().to_string();
    let common_name = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned);

    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(n) => dns_names.push((*n).to_owned()),
                GeneralName::IPAddress(b) => {
                    let ip = match b.len() {
                        4 => <[u8; 4]>::try_from(*b).ok().map(IpAddr::from),
                        16 => <[u8; 16]>::try_from(*b).ok().map(IpAddr::from),
                        _ => None,
                    };
                    if let Some(ip) = ip {
                        ip_addresses.push(ip.to_string());
                    }
                }
                _ => {}
            }
        }
    }

    let validity = cert.validity();
    let not_before_unix = validity.not_before.timestamp();
    let not_after_unix = validity.not_after.timestamp();

    let mut key_usage = Vec::new();
    if let Ok(Some(ku)) = cert.key_usage() {
        let k = ku.value;
        for (set, name) in [
            (k.digital_signature(), "digital_signature"),
            (k.non_repudiation(), "non_repudiation"),
            (k.key_encipherment(), "key_encipherment"),
            (k.data_encipherment(), "data_encipherment"),
            (k.key_agreement(), "key_agreement"),
            (k.key_cert_sign(), "key_cert_sign"),
            (k.crl_sign(), "crl_sign"),
            (k.encipher_only(), "encipher_only"),
            (k.decipher_only(), "decipher_only"),
        ] {
            if set {
                key_usage.push(name.to_owned());
            }
        }
    }

    let mut extended_key_usage = Vec::new();
    let mut server_auth = true;
    if let Ok(Some(eku)) = cert.extended_key_usage() {
        let e = eku.value;
        for (set, name) in [
            (e.any, "any"),
            (e.server_auth, "server_auth"),
            (e.client_auth, "client_auth"),
            (e.code_signing, "code_signing"),
            (e.email_protection, "email_protection"),
            (e.time_stamping, "time_stamping"),
            (e.ocsp_signing, "ocsp_signing"),
        ] {
            if set {
                extended_key_usage.push(name.to_owned());
            }
        }
        for oid in &e.other {
            extended_key_usage.push(eku_name(&oid.to_id_string()));
        }
        server_auth = e.any || e.server_auth;
    }
    let rdp_server_auth = extended_key_usage.iter().any(|n| n == "rdp_server_auth");

    let mut ski: Option<&[u8]> = None;
    let mut aki: Option<&[u8]> = None;
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => ski = Some(k.0),
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                aki = a.key_identifier.as_ref().map(|k| k.0)
            }
            _ => {}
        }
    }
    let same_name = cert.subject().as_raw() == cert.issuer().as_raw();
    let self_signature_verified = same_name && cert.verify_signature(None).is_ok();
    let key_ids_match = match (aki, ski) {
        (Some(a), Some(s)) => a == s,
        _ => false,
    };
    let self_signed = same_name && (self_signature_verified || key_ids_match);

    let sig_oid = &cert.signature_algorithm.algorithm;
    let signature_algorithm =
        x509_parser::objects::oid2sn(sig_oid, x509_parser::objects::oid_registry())
            .map(str::to_owned)
            .unwrap_or_else(|_| sig_oid.to_id_string());
    let public_key = match cert.public_key().parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(k)) => format!("RSA {}", k.key_size()),
        Ok(x509_parser::public_key::PublicKey::EC(k)) => format!("EC {}", k.key_size()),
        Ok(other) => {
            let bits = other.key_size();
            let alg = cert.public_key().algorithm.algorithm.to_id_string();
            let name = match alg.as_str() {
                "1.3.101.112" => "Ed25519".to_owned(),
                "1.3.101.113" => "Ed448".to_owned(),
                _ => alg,
            };
            if bits > 0 {
                format!("{name} {bits}")
            } else {
                name
            }
        }
        Err(_) => cert.public_key().algorithm.algorithm.to_id_string(),
    };

    let (crl_urls, ca_issuers_urls, ocsp_urls) = lookup_urls(&cert);
    Ok(CertSummary {
        subject,
        common_name,
        issuer,
        dns_names,
        ip_addresses,
        serial: cert
            .raw_serial()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        not_before: rfc3339(not_before_unix),
        not_after: rfc3339(not_after_unix),
        not_before_unix,
        not_after_unix,
        expired: now_unix > not_after_unix,
        not_yet_valid: now_unix < not_before_unix,
        days_left: not_after_unix.saturating_sub(now_unix).div_euclid(86_400),
        self_signed,
        self_signature_verified,
        is_ca: cert.is_ca(),
        key_usage,
        extended_key_usage,
        server_auth,
        rdp_server_auth,
        signature_algorithm,
        public_key,
        sha1_thumbprint: hex_upper(
            ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, der).as_ref(),
        ),
        sha256_thumbprint: hex_upper(ring::digest::digest(&ring::digest::SHA256, der).as_ref()),
        crl_urls,
        ca_issuers_urls,
        ocsp_urls,
    })
}

/// The name of a TLS/SSL protocol version number (`0x0303` is `TLS 1.2`).
pub fn version_name(version: u16) -> String {
    match version {
        0x0200 => "SSL 2.0".to_owned(),
        0x0300 => "SSL 3.0".to_owned(),
        0x0301 => "TLS 1.0".to_owned(),
        0x0302 => "TLS 1.1".to_owned(),
        0x0303 => "TLS 1.2".to_owned(),
        0x0304 => "TLS 1.3".to_owned(),
        0xFEFF => "DTLS 1.0".to_owned(),
        0xFEFD => "DTLS 1.2".to_owned(),
        0xFEFC => "DTLS 1.3".to_owned(),
        other => format!("{other:#06x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose, date_time_ymd,
    };

    const JAN_2024: i64 = 1_704_067_200; // 2024-01-01T00:00:00Z
    const JUL_2024: i64 = 1_719_792_000; // 2024-07-01T00:00:00Z

    fn rdp_params() -> CertificateParams {
        let mut p = CertificateParams::new(vec![
            "rdsh01.corp.example.test".to_owned(),
            "192.0.2.7".to_owned(),
        ])
        .unwrap();
        p.distinguished_name
            .push(DnType::CommonName, "rdsh01.corp.example.test");
        p.not_before = date_time_ymd(2024, 1, 1);
        p.not_after = date_time_ymd(2025, 1, 1);
        p.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        p.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 4, 1, 311, 54, 1, 2]),
        ];
        p
    }

    /// An authority information access extension's content, DER by hand (RFC 5280
    /// 4.2.2.1): SEQUENCE OF AccessDescription { accessMethod OID, accessLocation [6] URI }.
    fn aia(entries: &[(&[u8], &str)]) -> Vec<u8> {
        let mut body = Vec::new();
        for (oid_tail, uri) in entries {
            // 1.3.6.1.5.5.7.48.x is 2B 06 01 05 05 07 30 x.
            let mut oid = vec![0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30];
            oid.extend_from_slice(oid_tail);
            let mut location = vec![0x86, u8::try_from(uri.len()).unwrap()];
            location.extend_from_slice(uri.as_bytes());
            let mut desc = vec![0x30, u8::try_from(oid.len() + location.len()).unwrap()];
            desc.extend(oid);
            desc.extend(location);
            body.extend(desc);
        }
        let mut out = vec![0x30, u8::try_from(body.len()).unwrap()];
        out.extend(body);
        out
    }

    #[test]
    fn crl_distribution_points_and_aia_urls_are_read() {
        let mut p = rdp_params();
        p.crl_distribution_points = vec![rcgen::CrlDistributionPoint {
            uris: vec![
                "http://pki.corp.example.test/CertEnroll/corp-CA.crl".into(),
                "ldap:///CN=corp-CA,CN=ca01,CN=CDP,CN=Public%20Key%20Services,DC=corp?certificateRevocationList?base".into(),
            ],
        }];
        p.custom_extensions = vec![rcgen::CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 5, 5, 7, 1, 1],
            aia(&[
                (
                    &[0x02],
                    "http://pki.corp.example.test/CertEnroll/ca01_corp-CA.crt",
                ),
                (&[0x01], "http://ocsp.corp.example.test/ocsp"),
            ]),
        )];
        let key = KeyPair::generate().unwrap();
        let der = p.self_signed(&key).unwrap().der().to_vec();
        let s = summarize(&der, JUL_2024).unwrap();
        assert_eq!(
            s.crl_urls,
            vec![
                "http://pki.corp.example.test/CertEnroll/corp-CA.crl",
                "ldap:///CN=corp-CA,CN=ca01,CN=CDP,CN=Public%20Key%20Services,DC=corp?certificateRevocationList?base",
            ]
        );
        assert_eq!(
            s.ca_issuers_urls,
            vec!["http://pki.corp.example.test/CertEnroll/ca01_corp-CA.crt"]
        );
        assert_eq!(s.ocsp_urls, vec!["http://ocsp.corp.example.test/ocsp"]);
        let json = s.to_json();
        assert_eq!(
            json["crl_urls"][0],
            "http://pki.corp.example.test/CertEnroll/corp-CA.crl"
        );
        // Without the extensions: empty lists.
        let plain = summarize(rdp_params().self_signed(&key).unwrap().der(), JUL_2024).unwrap();
        assert!(plain.crl_urls.is_empty() && plain.ca_issuers_urls.is_empty());
    }

    #[test]
    fn self_signed_rdp_certificate() {
        let key = KeyPair::generate().unwrap();
        let cert = rdp_params().self_signed(&key).unwrap();
        let der = cert.der().to_vec();
        let s = summarize(&der, JUL_2024).unwrap();
        assert_eq!(s.subject, "CN=rdsh01.corp.example.test");
        assert_eq!(s.issuer, s.subject);
        assert_eq!(s.common_name.as_deref(), Some("rdsh01.corp.example.test"));
        assert_eq!(s.dns_names, vec!["rdsh01.corp.example.test"]);
        assert_eq!(s.ip_addresses, vec!["192.0.2.7"]);
        assert_eq!(s.not_before, "2024-01-01T00:00:00Z");
        assert_eq!(s.not_after, "2025-01-01T00:00:00Z");
        assert_eq!(s.not_before_unix, JAN_2024);
        assert!(!s.expired);
        assert!(!s.not_yet_valid);
        // 2024-07-01 to 2025-01-01 is 184 days.
        assert_eq!(s.days_left, 184);
        assert!(s.self_signed);
        assert!(s.self_signature_verified);
        assert!(!s.is_ca);
        assert_eq!(s.key_usage, vec!["digital_signature", "key_encipherment"]);
        assert_eq!(s.extended_key_usage, vec!["server_auth", "rdp_server_auth"]);
        assert!(s.server_auth);
        assert!(s.rdp_server_auth);
        assert_eq!(s.signature_algorithm, "ecdsa-with-SHA256");
        assert_eq!(s.public_key, "EC 256");
        assert_eq!(s.sha1_thumbprint.len(), 40);
        assert_eq!(s.sha256_thumbprint.len(), 64);
        assert_eq!(s.to_json()["rdp_server_auth"], true);
        assert!(s.covers_name("RDSH01.corp.example.test."));
        assert!(s.covers_name("192.0.2.7"));
        assert!(!s.covers_name("192.0.2.8"));
        assert!(!s.covers_name("rdsh02.corp.example.test"));
    }

    #[test]
    fn expiry() {
        let key = KeyPair::generate().unwrap();
        let der = rdp_params().self_signed(&key).unwrap().der().to_vec();
        let after = summarize(&der, JAN_2024 + 400 * 86_400).unwrap();
        assert!(after.expired);
        assert!(after.days_left < 0);
        let before = summarize(&der, JAN_2024 - 10).unwrap();
        assert!(before.not_yet_valid);
        assert!(!before.expired);
    }

    #[test]
    fn ca_signed_leaf_is_not_self_signed() {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.distinguished_name
            .push(DnType::CommonName, "Example Issuing CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_der = ca.self_signed(&ca_key).unwrap().der().to_vec();
        let issuer = Issuer::from_params(&ca, &ca_key);
        let mut leaf = CertificateParams::new(vec!["*.example.test".to_owned()]).unwrap();
        leaf.distinguished_name
            .push(DnType::CommonName, "gateway.example.test");
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let leaf_key = KeyPair::generate().unwrap();
        let der = leaf.signed_by(&leaf_key, &issuer).unwrap().der().to_vec();
        let s = summarize(&der, JUL_2024).unwrap();
        assert_eq!(s.issuer, "CN=Example Issuing CA");
        assert!(!s.self_signed);
        assert!(!s.self_signature_verified);
        assert!(!s.server_auth, "client-auth only EKU");
        assert!(!s.rdp_server_auth);
        assert!(s.covers_name("gw.example.test"));
        assert!(!s.covers_name("a.b.example.test"));
        assert!(!s.covers_name("example.test"));
        let ca_summary = summarize(&ca_der, JUL_2024).unwrap();
        assert!(ca_summary.is_ca);
        assert!(ca_summary.self_signed);
    }

    #[test]
    fn not_a_certificate() {
        assert!(matches!(summarize(b"hello", 0), Err(Error::Parse(_))));
        assert!(matches!(
            summarize(&vec![0x30; MAX_CERT_LEN + 1], 0),
            Err(Error::TooLarge(_))
        ));
        let key = KeyPair::generate().unwrap();
        let der = rdp_params().self_signed(&key).unwrap().der().to_vec();
        for n in 0..der.len() {
            assert!(summarize(&der[..n], 0).is_err(), "prefix {n}");
        }
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(JAN_2024 - 1), "2023-12-31T23:59:59Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn version_names() {
        assert_eq!(version_name(0x0303), "TLS 1.2");
        assert_eq!(version_name(0x0304), "TLS 1.3");
        assert_eq!(version_name(0x0301), "TLS 1.0");
        assert_eq!(version_name(0x7f1c), "0x7f1c");
    }

    fn sample_der() -> &'static [u8] {
        static DER: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        DER.get_or_init(|| {
            let key = KeyPair::generate().unwrap();
            rdp_params().self_signed(&key).unwrap().der().to_vec()
        })
    }

    proptest! {
        #[test]
        fn mutated_certificate_never_panics(pos in any::<usize>(), val in any::<u8>(), now in any::<i64>()) {
            let mut der = sample_der().to_vec();
            let i = pos % der.len();
            der[i] = val;
            if let Ok(s) = summarize(&der, now) {
                let _ = s.covers_name("rdsh01.corp.example.test");
                let _ = s.to_json();
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), now in any::<i32>()) {
            let _ = summarize(&bytes, i64::from(now));
        }

        #[test]
        fn rfc3339_never_panics(t in -62_135_596_800i64..253_402_300_799) {
            let s = rfc3339(t);
            prop_assert_eq!(s.len(), 20);
        }
    }
}
