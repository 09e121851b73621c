//! The document of `rdsports check --format json`: its types, the verdict rules that decide
//! each result's status and the exit status, and the one reader every command uses
//! ([`CheckDocument::parse`]). The renderings (table, JUnit) are in `rdsports_report::check`.
//!
//! JSON contract (`schema_version` 3; versions 1, without the service findings, and 2,
//! without the certificate finding, are still read):
//!
//! ```json
//! {"schema_version": 3, "from": "gw01", "paths_only": false,
//!  "results": [{"to": "dc01", "address": "198.51.100.20", "protocol": "tcp", "port": 88,
//!               "verdict": "open", "service": "kerberos", "expected_service": "kerberos",
//!               "catalog_id": "S14", "rtt_ms": 1.2, "detail": {}, "service_matches": true,
//!               "status": "pass"}],
//!  "summary": {"open": 0, "refused": 0, "filtered": 0, "closed": 0, "open|filtered": 0},
//!  "findings": {"blocked": 0, "wrong_service": 0, "service_unidentified": 0,
//!               "certificate_refused": 0}}
//! ```
//!
//! `status` says what a result means: `pass`, `wrong-service` (the port is open but another
//! service answers: `service_matches` is false and `identified` names what answered, or
//! `unknown`), `certificate-refused` (the expected RDS web service answers, but clients
//! will refuse its certificate: it does not cover the deployment's `public_name`, or it
//! has expired or is not yet valid), `unidentified` (open, but the port answered no probe:
//! a warning),
//! `silent-udp` (`open|filtered`: a warning, or `blocked` with `--strict-udp`) and
//! `blocked`. Results may carry more fields (`note`, `reason`, `purpose`, `role`,
//! `identified`, `identification` with the follow-up's steps and budget, `wait` with the
//! timeout that decided the verdict); readers must ignore fields they do not know. Flows
//! that were not probed (a dynamic RPC range whose endpoint mapper did not answer, a
//! population such as `0.0.0.0/0`) are listed under `not_probed` with the reason.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The version of the check JSON contract written (2: `status`, `identified`,
/// `identification`, `wait`, `paths_only` and `findings`; 3: the RDS web services
/// `rd-gateway` and `rd-web-access` as expected services, the `public_name` facts, the
/// certificate's lookup URLs and the `certificate-refused` status).
pub const CHECK_SCHEMA_VERSION: u32 = 3;

/// The versions read: 1 lacks the service findings (its results are judged by verdict);
/// 2 lacks the certificate finding (judged the same way from its facts, which it never has).
pub const CHECK_SCHEMA_VERSIONS_READ: [u32; 3] = [1, 2, 3];

/// The verdicts' names, in summary order.
pub const VERDICTS: [&str; 5] = ["open", "refused", "filtered", "closed", "open|filtered"];

/// What a probe concluded about a port.
///
/// TCP gives `open`, `refused` or `filtered`. UDP gives `open` (a reply arrived), `closed`
/// (ICMP port unreachable), `open|filtered` (silence, which is never reported as open) and,
/// like nmap, `filtered` when an ICMP "prohibited" or "unreachable" error came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Verdict {
    /// UDP: an ICMP port-unreachable came back: the host is there, nothing listens.
    #[serde(rename = "closed")]
    Closed,
    /// No answer within the timeout after the retries, or an ICMP "prohibited" or
    /// "unreachable" error (a firewall or a routing hole on the way).
    #[serde(rename = "filtered")]
    Filtered,
    /// TCP: the connection was established. UDP: a datagram came back.
    #[serde(rename = "open")]
    Open,
    /// UDP: no reply and no error after the retries. The port may be open (many UDP
    /// services ignore what they do not understand) or a firewall may drop the datagrams.
    #[serde(rename = "open|filtered")]
    OpenFiltered,
    /// TCP: the connection was reset: the host is there, nothing listens on the port.
    #[serde(rename = "refused")]
    Refused,
}

impl Verdict {
    /// Every verdict, in the summary's order.
    pub const ALL: [Verdict; 5] = [
        Verdict::Open,
        Verdict::Refused,
        Verdict::Filtered,
        Verdict::Closed,
        Verdict::OpenFiltered,
    ];

    /// The contract name (`open`, `refused`, `filtered`, `closed`, `open|filtered`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Closed => "closed",
            Verdict::Filtered => "filtered",
            Verdict::Open => "open",
            Verdict::OpenFiltered => "open|filtered",
            Verdict::Refused => "refused",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A whole `check --format json` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckDocument {
    /// [`CHECK_SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The deployment host the checks ran from (or `ad hoc`).
    pub from: String,
    /// `--paths-only`: any connection counts as open, whatever answers.
    #[serde(default)]
    pub paths_only: bool,
    /// One result per probed port.
    pub results: Vec<CheckRecord>,
    /// Flows (or parts of flows) that were not probed, and why.
    #[serde(default)]
    pub not_probed: Vec<NotProbedRecord>,
    /// Count per verdict (every verdict present, zero or not).
    pub summary: BTreeMap<String, usize>,
    /// Count of the results that fail or warn, by kind.
    #[serde(default)]
    pub findings: Findings,
    /// Where and when the check ran, so that a fleet's results can be merged safely.
    #[serde(flatten)]
    pub run: RunInfo,
}

/// The results that fail or warn, counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Findings {
    /// Not open (refused, filtered, closed; UDP silence with `--strict-udp`).
    pub blocked: usize,
    /// Open, but another service answers.
    pub wrong_service: usize,
    /// Open, but the port answered no probe (a warning).
    pub service_unidentified: usize,
    /// The expected RDS web service answers, but clients will refuse its certificate.
    #[serde(default)]
    pub certificate_refused: usize,
}

/// Where and when a check ran (fields of the document itself; all optional for documents
/// written by earlier versions or by hand).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The rdsports version that ran the check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rdsports_version: Option<String>,
    /// The deployment's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<String>,
    /// `sha256:<hex>` of the deployment file's text: results of different files are never
    /// merged (`fleet summary`, `report --check-dir`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_digest: Option<String>,
    /// When the check started, by the host's clock (RFC 3339 UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_utc: Option<String>,
    /// When it ended, by the host's clock: compare with the KDC's time (Kerberos allows 5
    /// minutes of skew) and with the other hosts'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_utc: Option<String>,
}

/// One probed port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckRecord {
    /// Destination host name.
    pub to: String,
    /// Destination address.
    pub address: String,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// Destination port.
    pub port: u16,
    /// `open`, `refused`, `filtered`, `closed` or `open|filtered`.
    pub verdict: Verdict,
    /// The service the probe identified, or `null`: always written, and required when read
    /// (a renamed or missing key would silently drop the findings it decides).
    #[serde(deserialize_with = "Option::deserialize")]
    pub service: Option<String>,
    /// The service the flow expects (catalog service name).
    pub expected_service: Option<String>,
    /// The catalog entry behind the flow.
    pub catalog_id: Option<String>,
    /// Round-trip time of the deciding attempt, in milliseconds.
    pub rtt_ms: Option<f64>,
    /// Protocol details (dialect, realm, certificate ...): always written, required when read.
    pub detail: Map<String, Value>,
    /// Why the verdict is what it is, when that needs saying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Anything unusual the probe noticed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The flow's purpose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Roles of the destination host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Whether the identified service is the one the flow expects (`None`: unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_matches: Option<bool>,
    /// What the identification follow-up found answering instead (`http`, `tls`, `ssh`
    /// ... or `unknown`), when the expected protocol did not answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identified: Option<String>,
    /// The follow-up's account: `by`, `budget_ms`, `spent_ms`, `steps`, `first_bytes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identification: Option<Value>,
    /// The wait that decided the verdict (TCP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<WaitRecord>,
    /// What the result means (see [`Status`]); written, recomputed when read.
    #[serde(default, skip_deserializing)]
    pub status: Option<Status>,
}

/// Which wait decided a TCP verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitRecord {
    /// `adaptive` (waits from the destination's round trips) or `pinned` (`--timeout`).
    pub mode: String,
    /// `adaptive` (a shortened wait) or `full` (the whole timeout; for `filtered`: a wait at
    /// the full timeout took part in the silence).
    pub decided_by: String,
    /// That wait, in milliseconds.
    pub wait_ms: f64,
    /// Round-trip samples the destination's estimate had.
    pub samples: u32,
}

/// What one result means for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The path is open and the expected service (or a stand-in listener) answers.
    Pass,
    /// The path is open but another service answers: a finding.
    WrongService,
    /// The expected RDS web service (`rd-gateway`, `rd-web-access`) answers, but clients
    /// will refuse its certificate: it does not cover the name they use (`public_name`), or
    /// it has expired or is not yet valid. A finding.
    CertificateRefused,
    /// The path is open but the port answered no probe: a warning.
    Unidentified,
    /// UDP silence (`open|filtered`): a warning.
    SilentUdp,
    /// The path is not open: a finding.
    Blocked,
}

impl Status {
    /// Whether the result passes (warnings pass).
    pub fn passes(self) -> bool {
        matches!(
            self,
            Status::Pass | Status::Unidentified | Status::SilentUdp
        )
    }
}

/// A flow, or part of one, that was not probed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotProbedRecord {
    /// Destination host name.
    pub to: String,
    /// `tcp` or `udp`.
    pub protocol: String,
    /// "N" or "N-M".
    pub ports: String,
    /// The catalog entry behind the flow.
    pub catalog_id: Option<String>,
    /// Why it was not probed.
    pub reason: String,
}

/// How strict the exit status is about UDP silence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UdpSilence {
    /// `open|filtered` passes with a warning (the default).
    #[default]
    Warn,
    /// `open|filtered` fails (`--strict-udp`).
    Fail,
}

/// What a result means. With `paths_only`, any open port passes, whatever answers.
pub fn status_of(record: &CheckRecord, udp: UdpSilence, paths_only: bool) -> Status {
    match record.verdict {
        Verdict::Open if paths_only => Status::Pass,
        Verdict::Open if record.service_matches == Some(false) => Status::WrongService,
        Verdict::Open if certificate_refused(record) => Status::CertificateRefused,
        // The follow-up ran and the port never said a word.
        Verdict::Open if record.identification.is_some() && record.identified.is_none() => {
            Status::Unidentified
        }
        Verdict::Open => Status::Pass,
        Verdict::OpenFiltered if udp == UdpSilence::Warn => Status::SilentUdp,
        _ => Status::Blocked,
    }
}

/// The RDS web services whose certificate clients check before anything else (a gateway
/// client or a browser refuses an expired or misnamed certificate outright).
pub const RDS_WEB_SERVICES: [&str; 2] = ["rd-gateway", "rd-web-access"];

/// Whether clients will refuse the certificate of an RDS web service result: it does not
/// cover the `public_name`, or (for those services) it has expired or is not yet valid.
pub fn certificate_refused(record: &CheckRecord) -> bool {
    let Ok(facts) = record.facts() else {
        return false;
    };
    if facts.public_name_covered == Some(false) {
        return true;
    }
    let web = record
        .expected_service
        .as_deref()
        .is_some_and(|s| RDS_WEB_SERVICES.contains(&s));
    let cert = facts.tls.and_then(|t| t.certificate);
    web && cert.is_some_and(|c| c.expired == Some(true) || c.not_yet_valid == Some(true))
}

/// Why clients will refuse a result's certificate, in one sentence, when they will (see
/// [`certificate_refused`]).
pub fn certificate_problem(record: &CheckRecord) -> Option<String> {
    if !certificate_refused(record) {
        return None;
    }
    let facts = record.facts().ok()?;
    let cert = facts.tls.and_then(|t| t.certificate).unwrap_or_default();
    let mut why = Vec::new();
    if facts.public_name_covered == Some(false) {
        why.push(format!(
            "the certificate ({}) does not cover {}, the name clients use: they refuse the \
             connection with a name mismatch",
            cert.subject.as_deref().unwrap_or("no subject"),
            facts.public_name.as_deref().unwrap_or("the public name")
        ));
    }
    if cert.expired == Some(true) {
        why.push(format!(
            "the certificate expired on {}",
            cert.not_after.as_deref().unwrap_or("?")
        ));
    }
    if cert.not_yet_valid == Some(true) {
        why.push(format!(
            "the certificate is not valid before {}",
            cert.not_before.as_deref().unwrap_or("?")
        ));
    }
    Some(why.join("; "))
}

/// Whether a result passes (the path is open and nothing else answers than expected).
pub fn passes(record: &CheckRecord, udp: UdpSilence) -> bool {
    status_of(record, udp, false).passes()
}

impl CheckDocument {
    /// A document for `from` with the summary computed from `results`, judged with the
    /// default rules (UDP silence warns); see [`CheckDocument::judged`].
    pub fn new(from: &str, results: Vec<CheckRecord>, not_probed: Vec<NotProbedRecord>) -> Self {
        let mut summary: BTreeMap<String, usize> =
            VERDICTS.iter().map(|v| ((*v).to_owned(), 0)).collect();
        for r in &results {
            *summary.entry(r.verdict.as_str().to_owned()).or_insert(0) += 1;
        }
        CheckDocument {
            schema_version: CHECK_SCHEMA_VERSION,
            from: from.to_owned(),
            paths_only: false,
            results,
            not_probed,
            summary,
            findings: Findings::default(),
            run: RunInfo::default(),
        }
        .judged(UdpSilence::Warn, false)
    }

    /// Sets every result's `status` and the `findings` counts for these rules.
    pub fn judged(mut self, udp: UdpSilence, paths_only: bool) -> Self {
        self.paths_only = paths_only;
        let mut findings = Findings::default();
        for r in &mut self.results {
            let status = status_of(r, udp, paths_only);
            match status {
                Status::Blocked => findings.blocked += 1,
                Status::WrongService => findings.wrong_service += 1,
                Status::CertificateRefused => findings.certificate_refused += 1,
                Status::Unidentified => findings.service_unidentified += 1,
                Status::Pass | Status::SilentUdp => {}
            }
            r.status = Some(status);
        }
        self.findings = findings;
        self
    }

    /// What a result means under this document's rules and `udp`.
    pub fn status(&self, record: &CheckRecord, udp: UdpSilence) -> Status {
        status_of(record, udp, self.paths_only)
    }

    /// Whether every result passes.
    pub fn all_pass(&self, udp: UdpSilence) -> bool {
        self.results.iter().all(|r| self.status(r, udp).passes())
    }

    /// Parses a `rdsports check --format json` document (the contract of
    /// this module), ignoring fields this version does not know, and judges it with the
    /// default rules (UDP silence warns). Every command that reads check results reads them
    /// here.
    ///
    /// Errors say what is wrong: not JSON (with line and column), not an object, another
    /// `schema_version`, or a missing or mistyped field (naming the result by its position).
    pub fn parse(text: &str) -> Result<CheckDocument, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            format!(
                "not a JSON document (line {}, column {}): {e}",
                e.line(),
                e.column()
            )
        })?;
        let Value::Object(mut doc) = value else {
            return Err(
                "expected a JSON object as printed by `rdsports check --format json`".to_owned(),
            );
        };
        match doc.get("schema_version") {
            None => {
                return Err(
                    "no schema_version: is this the output of `rdsports check --format json`?"
                        .to_owned(),
                );
            }
            Some(v)
                if v.as_u64().is_some_and(|v| {
                    CHECK_SCHEMA_VERSIONS_READ
                        .iter()
                        .any(|&r| u64::from(r) == v)
                }) => {}
            Some(v) => {
                return Err(format!(
                    "schema_version {v} is not supported (this rdsports reads versions 1 to \
                     {CHECK_SCHEMA_VERSION})"
                ));
            }
        }
        let results = match doc.remove("results") {
            Some(Value::Array(items)) => items,
            Some(_) => return Err("`results` is not a list".to_owned()),
            None => return Err("no `results` list".to_owned()),
        };
        let mut parsed = Vec::with_capacity(results.len());
        for (i, r) in results.into_iter().enumerate() {
            let r: CheckRecord = serde_json::from_value(r)
                .map_err(|e| format!("result {}: {e}{}", i + 1, locate(text)))?;
            // The facts findings are made of are read strictly here, for every reader.
            r.facts().map_err(|e| format!("result {}: {e}", i + 1))?;
            if r.protocol != "tcp" && r.protocol != "udp" {
                return Err(format!(
                    "result {}: protocol \"{}\" is neither tcp nor udp",
                    i + 1,
                    r.protocol
                ));
            }
            parsed.push(r);
        }
        doc.insert("results".to_owned(), Value::Array(Vec::new()));
        let mut head: CheckDocument = serde_json::from_value(Value::Object(doc))
            .map_err(|e| format!("{e}{}", locate(text)))?;
        head.results = parsed;
        let paths_only = head.paths_only;
        Ok(head.judged(UdpSilence::Warn, paths_only))
    }

    /// Writes [`CheckDocument::to_json`] to `out` without building it in memory first.
    pub fn write_json<W: std::io::Write>(&self, mut out: W) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut out, self)?;
        out.write_all(b"\n")
    }

    /// The JSON document, pretty-printed, with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Where in `text` a typed parse fails, as ` (line L, column C)`: errors found on the
/// `Value` tree carry no position, so the text is parsed again, typed, to find it.
fn locate(text: &str) -> String {
    match serde_json::from_str::<CheckDocument>(text) {
        Err(e) if e.line() > 0 => format!(" (line {}, column {})", e.line(), e.column()),
        _ => String::new(),
    }
}

impl CheckRecord {
    /// The protocol facts of [`CheckRecord::detail`] that findings are made of, typed. A
    /// fact of the wrong type (`"nla_required": "false"`) is an error naming the key: it is
    /// never read as absent, which would silently drop the finding it decides.
    pub fn facts(&self) -> Result<Facts, String> {
        Facts::read(&self.detail)
    }
}

/// The protocol facts a result's `detail` carries that `lint --check` turns into findings.
/// Every key is optional (a probe reports what its protocol told it); a key that is present
/// must have the type given here. The producers write these keys with the names of
/// [`facts`], and a test in each producing crate reads a real identification back through
/// this type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// RDP: the security protocol the server selected (`rdp`, `ssl`, `hybrid`,
    /// `hybrid_ex`), or `null` when it refused the client's offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_protocol: Option<String>,
    /// RDP: whether the server requires Network Level Authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nla_required: Option<bool>,
    /// SMB: the dialect the server chose (`3.1.1`, `SMB1` ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialect: Option<String>,
    /// SMB: whether the server requires signing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_required: Option<bool>,
    /// Kerberos: the KDC's clock minus ours, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_skew_s: Option<f64>,
    /// The TLS handshake, when one was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsFacts>,
    /// An rdsports listener: whether its reply carried the nonce this probe sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce_ok: Option<bool>,
    /// An RDS web service: the name clients use (the deployment's `public_name`), sent as
    /// TLS SNI and HTTP `Host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_name: Option<String>,
    /// Whether the certificate presented covers [`Facts::public_name`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_name_covered: Option<bool>,
    /// An rdsports listener: whether the source address it saw differs from ours (a NAT
    /// on the path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translated: Option<bool>,
}

/// What a TLS handshake showed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TlsFacts {
    /// The TLS alert the server sent (`protocol_version` ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    /// Why the handshake failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The server's leaf certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateFacts>,
}

/// The leaf certificate's facts that findings read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CertificateFacts {
    /// The subject's distinguished name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Start of validity (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    /// End of validity (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// Past its end of validity when probed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired: Option<bool>,
    /// Before its start of validity when probed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_yet_valid: Option<bool>,
    /// Issued by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_signed: Option<bool>,
    /// The CRL distribution points' URLs: revocation lookups a checking client makes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crl_urls: Option<Vec<String>>,
    /// The authority information access CA issuers URLs (fetching the issuer's certificate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_issuers_urls: Option<Vec<String>>,
    /// The authority information access OCSP responder URLs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocsp_urls: Option<Vec<String>>,
}

/// The keys of [`Facts`] in a result's `detail`, for the code that writes them.
pub mod facts {
    /// [`super::Facts::selected_protocol`].
    pub const SELECTED_PROTOCOL: &str = "selected_protocol";
    /// [`super::Facts::nla_required`].
    pub const NLA_REQUIRED: &str = "nla_required";
    /// [`super::Facts::dialect`].
    pub const DIALECT: &str = "dialect";
    /// [`super::Facts::signing_required`].
    pub const SIGNING_REQUIRED: &str = "signing_required";
    /// [`super::Facts::clock_skew_s`].
    pub const CLOCK_SKEW_S: &str = "clock_skew_s";
    /// [`super::Facts::tls`].
    pub const TLS: &str = "tls";
    /// [`super::Facts::nonce_ok`].
    pub const NONCE_OK: &str = "nonce_ok";
    /// [`super::Facts::translated`].
    pub const TRANSLATED: &str = "translated";
    /// [`super::Facts::public_name`].
    pub const PUBLIC_NAME: &str = "public_name";
    /// [`super::Facts::public_name_covered`].
    pub const PUBLIC_NAME_COVERED: &str = "public_name_covered";
}

impl Facts {
    /// Reads the facts out of a `detail` object; other keys are ignored.
    pub fn read(detail: &Map<String, Value>) -> Result<Facts, String> {
        Facts::deserialize(Value::Object(detail.clone())).map_err(|e| format!("detail: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn facts_are_read_typed_and_other_keys_ignored() {
        let f = Facts::read(&detail(
            r#"{"selected_protocol": "hybrid", "nla_required": true, "x224": "cc",
                "tls": {"version": "TLSv1_3", "certificate": {"subject": "CN=gw",
                "self_signed": true, "sha256": "ab"}}}"#,
        ))
        .unwrap();
        assert_eq!(f.selected_protocol.as_deref(), Some("hybrid"));
        assert_eq!(f.nla_required, Some(true));
        let cert = f.tls.unwrap().certificate.unwrap();
        assert_eq!(cert.subject.as_deref(), Some("CN=gw"));
        assert_eq!(cert.self_signed, Some(true));
        assert_eq!(cert.expired, None);
    }

    #[test]
    fn a_fact_of_the_wrong_type_is_an_error_not_an_absence() {
        for (json, key) in [
            (r#"{"nla_required": "false"}"#, "nla_required"),
            (r#"{"signing_required": 0}"#, "signing_required"),
            (r#"{"clock_skew_s": "400"}"#, "clock_skew_s"),
            (r#"{"tls": {"certificate": {"expired": "yes"}}}"#, "expired"),
            (r#"{"tls": "handshake"}"#, "tls"),
        ] {
            let e = Facts::read(&detail(json)).unwrap_err();
            assert!(e.starts_with("detail: "), "{json}: {e}");
            assert!(e.contains("invalid type"), "{json}: {key}: {e}");
        }
    }

    #[test]
    fn the_fact_keys_are_the_field_names() {
        let all = Facts {
            selected_protocol: Some("rdp".into()),
            nla_required: Some(false),
            dialect: Some("3.1.1".into()),
            signing_required: Some(false),
            clock_skew_s: Some(1.0),
            tls: Some(TlsFacts::default()),
            nonce_ok: Some(true),
            translated: Some(false),
            public_name: Some("rds.contoso.example".into()),
            public_name_covered: Some(true),
        };
        let Value::Object(map) = serde_json::to_value(&all).unwrap() else {
            panic!("an object");
        };
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        let mut expected = vec![
            facts::SELECTED_PROTOCOL,
            facts::NLA_REQUIRED,
            facts::DIALECT,
            facts::SIGNING_REQUIRED,
            facts::CLOCK_SKEW_S,
            facts::TLS,
            facts::NONCE_OK,
            facts::TRANSLATED,
            facts::PUBLIC_NAME,
            facts::PUBLIC_NAME_COVERED,
        ];
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }

    #[test]
    fn a_certificate_clients_refuse_is_a_finding_of_the_rds_web_services() {
        let doc = |expected: &str, detail: &str| {
            format!(
                r#"{{"schema_version": 3, "from": "clients", "summary": {{}}, "results": [
                {{"to": "gw01", "address": "192.0.2.10", "protocol": "tcp", "port": 443,
                 "verdict": "open", "service": "{expected}", "expected_service": "{expected}",
                 "service_matches": true, "detail": {detail}}}]}}"#
            )
        };
        let mismatch = r#"{"public_name": "rds.contoso.example", "public_name_covered": false,
            "tls": {"certificate": {"subject": "CN=gw01.corp.example", "expired": false}}}"#;
        let parsed = CheckDocument::parse(&doc("rd-gateway", mismatch)).unwrap();
        let r = &parsed.results[0];
        assert_eq!(r.status, Some(Status::CertificateRefused));
        assert_eq!(parsed.findings.certificate_refused, 1);
        assert!(!parsed.all_pass(UdpSilence::Warn));
        let why = certificate_problem(r).unwrap();
        assert!(
            why.contains("(CN=gw01.corp.example) does not cover rds.contoso.example"),
            "{why}"
        );
        // Expired: a finding of the RDS web services, not of RDP (lint --check's business).
        let expired = r#"{"tls": {"certificate": {"subject": "CN=gw", "expired": true,
            "not_after": "2024-01-01T00:00:00Z"}}}"#;
        let parsed = CheckDocument::parse(&doc("rd-web-access", expired)).unwrap();
        assert_eq!(parsed.results[0].status, Some(Status::CertificateRefused));
        assert!(
            certificate_problem(&parsed.results[0])
                .unwrap()
                .contains("expired on 2024-01-01T00:00:00Z")
        );
        let parsed = CheckDocument::parse(&doc("rdp", expired)).unwrap();
        assert_eq!(parsed.results[0].status, Some(Status::Pass));
        // Covered and valid: a pass.
        let fine = r#"{"public_name": "rds.contoso.example", "public_name_covered": true,
            "tls": {"certificate": {"expired": false, "crl_urls": ["http://pki.example/a.crl"]}}}"#;
        let parsed = CheckDocument::parse(&doc("rd-gateway", fine)).unwrap();
        assert_eq!(parsed.results[0].status, Some(Status::Pass));
        assert_eq!(certificate_problem(&parsed.results[0]), None);
        let facts = parsed.results[0].facts().unwrap();
        assert_eq!(
            facts.tls.unwrap().certificate.unwrap().crl_urls,
            Some(vec!["http://pki.example/a.crl".to_owned()])
        );
        // A mistyped fact is refused.
        let bad = r#"{"public_name_covered": "no"}"#;
        assert!(CheckDocument::parse(&doc("rd-gateway", bad)).is_err());
    }

    #[test]
    fn a_verdict_is_read_by_its_exact_name_only() {
        for v in Verdict::ALL {
            let text = serde_json::to_string(&v).unwrap();
            assert_eq!(text, format!("\"{}\"", v.as_str()));
            assert_eq!(serde_json::from_str::<Verdict>(&text).unwrap(), v);
        }
        assert!(serde_json::from_str::<Verdict>("\"Open\"").is_err());
    }

    #[test]
    fn a_document_with_a_mistyped_fact_is_refused_naming_the_result() {
        let text = r#"{"schema_version": 2, "from": "gw01", "summary": {}, "results": [
            {"to": "sh01", "address": "192.0.2.1", "protocol": "tcp", "port": 445,
             "verdict": "open", "service": "smb", "detail": {"signing_required": "no"}}]}"#;
        let e = CheckDocument::parse(text).unwrap_err();
        assert!(
            e.starts_with("result 1: detail: invalid type: string"),
            "{e}"
        );
    }

    #[test]
    fn a_result_without_its_service_or_detail_or_with_an_odd_protocol_is_refused() {
        let good = r#"{"schema_version": 2, "from": "gw01", "summary": {}, "results": [
            {"to": "sh01", "address": "192.0.2.1", "protocol": "tcp", "port": 3389,
             "verdict": "open", "service": "rdp", "detail": {"nla_required": false}}]}"#;
        assert!(CheckDocument::parse(good).is_ok());
        for (from, to, what) in [
            ("\"service\": \"rdp\", ", "", "missing field `service`"),
            ("\"service\"", "\"servce\"", "missing field `service`"),
            (
                ", \"detail\": {\"nla_required\": false}",
                "",
                "missing field `detail`",
            ),
            (
                "\"protocol\": \"tcp\"",
                "\"protocol\": \"TCP\"",
                "neither tcp nor udp",
            ),
            (
                "\"verdict\": \"open\"",
                "\"verdict\": \"Open\"",
                "unknown variant `Open`",
            ),
        ] {
            let bad = good.replace(from, to);
            assert_ne!(bad, good, "{from}");
            let e = CheckDocument::parse(&bad).unwrap_err();
            assert!(
                e.starts_with("result 1: ") && e.contains(what),
                "{from}: {e}"
            );
        }
    }
}
