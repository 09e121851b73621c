//! The RDS flow catalog as data.
//!
//! `rds.toml` (embedded with `include_str!`) holds one entry per flow of the seed document
//! "RDS 2012: Which ports are used during deployment?" (ids S01–S35), the reference's
//! additions (A01–A10) and the domain-member baseline (D01–D07). It is parsed by the same
//! code that parses deployment files ([`Catalog::parse`]).

use std::ops::Range;
use std::str::FromStr;

use serde::Deserialize;
use toml::Spanned;

use crate::diag::Diagnostic;
use crate::model::{
    Activation, CrlMethod, LicensingMode, PortRange, Protocol, Role, SslBridging, activation_name,
    crl_name, parse_role,
};
use crate::suggest;
use crate::tomlfile;

/// The catalog file, embedded.
pub const RDS_TOML: &str = include_str!("rds.toml");

/// The seed document, embedded, so that `rdsports ports` can quote its lines.
pub const SEED: &str = include_str!("seed/rds-2012-ports.md");

/// The flow catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// Entries in file order (seed rows first).
    pub entries: Vec<Entry>,
}

impl Catalog {
    /// The built-in RDS catalog.
    ///
    /// The embedded file is checked by this crate's tests; should it ever fail to parse, the
    /// error is returned here like any other file's.
    pub fn builtin() -> Result<Catalog, Vec<Diagnostic>> {
        Catalog::parse(RDS_TOML)
    }

    /// Parses a catalog file.
    pub fn parse(text: &str) -> Result<Catalog, Vec<Diagnostic>> {
        let raw: RawCatalog = tomlfile::parse(text).map_err(|d| vec![d.locate(text)])?;
        let mut errors = Vec::new();
        let mut entries: Vec<Entry> = Vec::with_capacity(raw.flow.len());
        for r in raw.flow {
            if let Some(first) = entries.iter().find(|e| e.id == *r.id.get_ref()) {
                errors.push(Diagnostic::error(
                    format!("duplicate catalog id \"{}\"", first.id),
                    Some(r.id.span()),
                ));
            }
            match Entry::from_raw(r) {
                Ok(e) => entries.push(e),
                Err(mut d) => errors.append(&mut d),
            }
        }
        if errors.is_empty() {
            Ok(Catalog { entries })
        } else {
            Err(errors.into_iter().map(|d| d.locate(text)).collect())
        }
    }

    /// The entry with `id`.
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }
}

/// One catalog entry: a kind of flow between roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Stable id (`S14`, `A03`, `D05`, with a letter suffix where one reference row splits).
    pub id: String,
    /// Source roles (any of them).
    pub from: Vec<Role>,
    /// Destination roles (any of them).
    pub to: Vec<Role>,
    /// Transports.
    pub protocols: Vec<Protocol>,
    /// Ports: fixed numbers and ranges, or named parameters of the deployment.
    pub ports: Vec<PortRef>,
    /// Service name (`kerberos`, `rdp`, `msrpc` ...), what `check` expects to find.
    pub service: String,
    /// Why the flow exists.
    pub purpose: String,
    /// All of these must hold for the flow to apply (besides both roles being present).
    pub when: Vec<Condition>,
    /// How to change the port, when it can be changed.
    pub configure: Option<String>,
    /// How sure the reference is.
    pub confidence: Confidence,
    /// Where the entry comes from.
    pub source: Source,
}

/// A port of a catalog entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortRef {
    /// A fixed port or range.
    Fixed(PortRange),
    /// A port the deployment's options decide.
    Param(PortParam),
}

/// Ports that deployment options decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortParam {
    /// `ad-rpc`: the fixed NTDS RPC port, or the dynamic RPC range when none is set.
    AdRpc,
    /// `ftp-passive`: the FTP server's passive data range, when set.
    FtpPassive,
    /// `gateway-https`: RD Gateway HTTPS port.
    GatewayHttps,
    /// `gateway-udp`: RD Gateway UDP port.
    GatewayUdp,
    /// `rdp`: the RDP listener port.
    Rdp,
    /// `rpc`: the dynamic RPC range.
    Rpc,
    /// `sql`: SQL Server port of the broker database.
    Sql,
    /// `winrm`: 5985 or 5986.
    Winrm,
    /// `wmi`: the fixed WMI port.
    Wmi,
}

/// One condition over the deployment's options (a catalog entry's `when` list is a
/// conjunction). Written `name`, `name:value` or `!name` in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// Negated with a leading `!`.
    pub negated: bool,
    /// What is tested.
    pub atom: Atom,
}

/// The things a condition can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Atom {
    /// `activation:automatic` and friends.
    Activation(Activation),
    /// `broker_ha`.
    BrokerHa,
    /// `crl:http`, `crl:ldap`, `crl:ftp`.
    Crl(CrlMethod),
    /// `direct`: clients connect to brokers and session hosts directly (no gateway, or
    /// `direct_access = true`).
    Direct,
    /// `domain_baseline`.
    DomainBaseline,
    /// `gateway_farm`.
    GatewayFarm,
    /// `gateway_udp`.
    GatewayUdp,
    /// `has:<role>`: some host has the role.
    Has(Role),
    /// `ldaps`.
    Ldaps,
    /// `licensing:per-user`, `licensing:per-device`.
    Licensing(LicensingMode),
    /// `netbios`.
    Netbios,
    /// `nps:central`.
    NpsCentral,
    /// `rdp_udp`.
    RdpUdp,
    /// `sql_browser`.
    SqlBrowser,
    /// `ssl_bridging:https-http`, `ssl_bridging:https-https`.
    SslBridging(SslBridging),
    /// `vdi_unmanaged`.
    VdiUnmanaged,
    /// `web_access_perimeter`: some RD Web Access host sits in another zone than a broker.
    WebAccessPerimeter,
    /// `web_client`.
    WebClient,
}

/// How sure the reference is about an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Confidence {
    /// Stated by the seed or a Microsoft source.
    High,
    /// An inference the reference marks as a guess; planned by default.
    Medium,
    /// Unresolved; planned only with `low_confidence = true`.
    Low,
}

/// Where a catalog entry comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Section of the seed document (`Remote Desktop Gateway`), for seed rows.
    pub section: Option<String>,
    /// 1-based lines of the seed document this entry covers.
    pub seed_lines: Vec<usize>,
    /// The reference's source for additions and resolutions (`KB 179442 [6]; B1`).
    pub reference: Option<String>,
}

impl Entry {
    /// Whether this entry's port can be changed.
    pub fn is_configurable(&self) -> bool {
        self.configure.is_some()
    }

    fn from_raw(r: RawEntry) -> Result<Entry, Vec<Diagnostic>> {
        let mut errors = Vec::new();
        let roles = |list: &Spanned<Vec<Spanned<String>>>, errors: &mut Vec<Diagnostic>| {
            if list.get_ref().is_empty() {
                errors.push(Diagnostic::error(
                    "a flow needs at least one role",
                    Some(list.span()),
                ));
            }
            list.get_ref()
                .iter()
                .filter_map(|name| parse_role(name).map_err(|d| errors.push(d)).ok())
                .collect::<Vec<Role>>()
        };
        let from = roles(&r.from, &mut errors);
        let to = roles(&r.to, &mut errors);
        let mut protocols = Vec::new();
        for p in &r.protocol {
            match Protocol::from_str(p.get_ref()) {
                Ok(p) => protocols.push(p),
                Err(()) => errors.push(
                    Diagnostic::error(
                        format!("unknown protocol \"{}\"", p.get_ref()),
                        Some(p.span()),
                    )
                    .with_hint("expected \"tcp\" or \"udp\""),
                ),
            }
        }
        let mut ports = Vec::new();
        for p in &r.ports {
            match PortRef::from_str(p.get_ref()) {
                Ok(p) => ports.push(p),
                Err(hint) => errors.push(
                    Diagnostic::error(format!("bad port \"{}\"", p.get_ref()), Some(p.span()))
                        .with_hint(hint),
                ),
            }
        }
        if r.protocol.is_empty() || r.ports.is_empty() {
            errors.push(Diagnostic::error(
                "a flow needs at least one protocol and one port",
                Some(r.id.span()),
            ));
        }
        if !SERVICES.contains(&r.service.get_ref().as_str()) {
            errors.push(
                Diagnostic::error(
                    format!("unknown service \"{}\"", r.service.get_ref()),
                    Some(r.service.span()),
                )
                .with_hint(suggest::hint(r.service.get_ref(), SERVICES)),
            );
        }
        let mut when = Vec::new();
        for c in &r.when {
            match Condition::parse(c.get_ref(), c.span()) {
                Ok(c) => when.push(c),
                Err(d) => errors.push(d),
            }
        }
        let confidence = match r.confidence.get_ref().as_str() {
            "high" => Confidence::High,
            "medium" => Confidence::Medium,
            "low" => Confidence::Low,
            other => {
                errors.push(
                    Diagnostic::error(
                        format!("unknown confidence \"{other}\""),
                        Some(r.confidence.span()),
                    )
                    .with_hint("expected \"high\", \"medium\" or \"low\""),
                );
                Confidence::Low
            }
        };
        let seed_lines = r.seed_lines.unwrap_or_default();
        if seed_lines.is_empty() && r.reference.is_none() {
            errors.push(Diagnostic::error(
                "a flow needs a source: seed_lines or reference",
                Some(r.id.span()),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Entry {
            id: r.id.into_inner(),
            from,
            to,
            protocols,
            ports,
            service: r.service.into_inner(),
            purpose: r.purpose,
            when,
            configure: r.configure,
            confidence,
            source: Source {
                section: r.section,
                seed_lines,
                reference: r.reference,
            },
        })
    }
}

impl FromStr for PortRef {
    type Err = String;

    fn from_str(s: &str) -> Result<PortRef, String> {
        let param = match s {
            "ad-rpc" => PortParam::AdRpc,
            "ftp-passive" => PortParam::FtpPassive,
            "gateway-https" => PortParam::GatewayHttps,
            "gateway-udp" => PortParam::GatewayUdp,
            "rdp" => PortParam::Rdp,
            "rpc" => PortParam::Rpc,
            "sql" => PortParam::Sql,
            "winrm" => PortParam::Winrm,
            "wmi" => PortParam::Wmi,
            _ => {
                return PortRange::from_str(s).map(PortRef::Fixed).map_err(|e| {
                    if s.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
                        suggest::hint(s, PORT_PARAMS)
                    } else {
                        e
                    }
                });
            }
        };
        Ok(PortRef::Param(param))
    }
}

impl PortParam {
    /// The name used in the catalog (`rdp`, `ad-rpc` ...).
    pub fn name(self) -> &'static str {
        match self {
            PortParam::AdRpc => "ad-rpc",
            PortParam::FtpPassive => "ftp-passive",
            PortParam::GatewayHttps => "gateway-https",
            PortParam::GatewayUdp => "gateway-udp",
            PortParam::Rdp => "rdp",
            PortParam::Rpc => "rpc",
            PortParam::Sql => "sql",
            PortParam::Winrm => "winrm",
            PortParam::Wmi => "wmi",
        }
    }

    /// Whether a `[[host]]` may set this port for itself (`rdp_port`, `gateway_https_port`,
    /// `gateway_udp_port`): its value is the destination host's, not the deployment's.
    pub fn is_per_host(self) -> bool {
        matches!(
            self,
            PortParam::Rdp | PortParam::GatewayHttps | PortParam::GatewayUdp
        )
    }

    /// The value this parameter takes with default options, for `rdsports ports`.
    pub fn describe(self) -> &'static str {
        match self {
            PortParam::AdRpc => "AD RPC port (dynamic 49152-65535 unless ad_rpc_port is set)",
            PortParam::FtpPassive => "FTP passive data range (option ftp_passive_range)",
            PortParam::GatewayHttps => "RD Gateway HTTPS port (443)",
            PortParam::GatewayUdp => "RD Gateway UDP port (3391)",
            PortParam::Rdp => "RDP port (3389)",
            PortParam::Rpc => "dynamic RPC range (49152-65535)",
            PortParam::Sql => "SQL Server port (1433)",
            PortParam::Winrm => "WinRM port (5985, or 5986 over HTTPS)",
            PortParam::Wmi => "fixed WMI port (24158)",
        }
    }
}

impl std::fmt::Display for PortRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortRef::Fixed(r) => write!(f, "{r}"),
            PortRef::Param(p) => f.write_str(p.name()),
        }
    }
}

impl Condition {
    fn parse(text: &str, span: Range<usize>) -> Result<Condition, Diagnostic> {
        let (negated, body) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let atom = match body.split_once(':') {
            None => match body {
                "broker_ha" => Atom::BrokerHa,
                "direct" => Atom::Direct,
                "domain_baseline" => Atom::DomainBaseline,
                "gateway_farm" => Atom::GatewayFarm,
                "gateway_udp" => Atom::GatewayUdp,
                "ldaps" => Atom::Ldaps,
                "netbios" => Atom::Netbios,
                "rdp_udp" => Atom::RdpUdp,
                "sql_browser" => Atom::SqlBrowser,
                "vdi_unmanaged" => Atom::VdiUnmanaged,
                "web_access_perimeter" => Atom::WebAccessPerimeter,
                "web_client" => Atom::WebClient,
                _ => None.ok_or_else(|| bad_condition(text, span.clone()))?,
            },
            Some((key, value)) => match (key, value) {
                ("activation", "automatic") => Atom::Activation(Activation::Automatic),
                ("activation", "web") => Atom::Activation(Activation::Web),
                ("activation", "phone") => Atom::Activation(Activation::Phone),
                ("crl", "ftp") => Atom::Crl(CrlMethod::Ftp),
                ("crl", "http") => Atom::Crl(CrlMethod::Http),
                ("crl", "ldap") => Atom::Crl(CrlMethod::Ldap),
                ("licensing", "per-user") => Atom::Licensing(LicensingMode::PerUser),
                ("licensing", "per-device") => Atom::Licensing(LicensingMode::PerDevice),
                ("nps", "central") => Atom::NpsCentral,
                ("ssl_bridging", "https-https") => Atom::SslBridging(SslBridging::HttpsHttps),
                ("ssl_bridging", "https-http") => Atom::SslBridging(SslBridging::HttpsHttp),
                ("has", role) => {
                    Atom::Has(Role::from_str(role).map_err(|()| bad_condition(text, span.clone()))?)
                }
                _ => return Err(bad_condition(text, span)),
            },
        };
        Ok(Condition { negated, atom })
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.negated {
            f.write_str("!")?;
        }
        match self.atom {
            Atom::Activation(a) => {
                write!(f, "activation:{}", activation_name(a))
            }
            Atom::BrokerHa => f.write_str("broker_ha"),
            Atom::Crl(m) => write!(f, "crl:{}", crl_name(m)),
            Atom::Direct => f.write_str("direct"),
            Atom::DomainBaseline => f.write_str("domain_baseline"),
            Atom::GatewayFarm => f.write_str("gateway_farm"),
            Atom::GatewayUdp => f.write_str("gateway_udp"),
            Atom::Has(r) => write!(f, "has:{r}"),
            Atom::Ldaps => f.write_str("ldaps"),
            Atom::Licensing(LicensingMode::PerUser) => f.write_str("licensing:per-user"),
            Atom::Licensing(LicensingMode::PerDevice) => f.write_str("licensing:per-device"),
            Atom::Netbios => f.write_str("netbios"),
            Atom::NpsCentral => f.write_str("nps:central"),
            Atom::RdpUdp => f.write_str("rdp_udp"),
            Atom::SqlBrowser => f.write_str("sql_browser"),
            Atom::SslBridging(SslBridging::HttpsHttps) => f.write_str("ssl_bridging:https-https"),
            Atom::SslBridging(SslBridging::HttpsHttp) => f.write_str("ssl_bridging:https-http"),
            Atom::VdiUnmanaged => f.write_str("vdi_unmanaged"),
            Atom::WebAccessPerimeter => f.write_str("web_access_perimeter"),
            Atom::WebClient => f.write_str("web_client"),
        }
    }
}

impl Confidence {
    /// `high`, `medium` or `low`.
    pub fn name(self) -> &'static str {
        match self {
            Confidence::High => "high",
            Confidence::Medium => "medium",
            Confidence::Low => "low",
        }
    }
}

fn bad_condition(text: &str, span: Range<usize>) -> Diagnostic {
    Diagnostic::error(format!("unknown condition \"{text}\""), Some(span))
        .with_hint("see the list of conditions at the top of rds.toml")
}

/// Service names a catalog entry may use; `check` maps them to protocol probes.
pub const SERVICES: &[&str] = &[
    "dns",
    "ftp",
    "ftp-data",
    "gc",
    "gc-ssl",
    "http",
    "https",
    "kerberos",
    "kpasswd",
    "ldap",
    "ldaps",
    "msrpc",
    "mssql",
    "mssql-browser",
    "netbios-dgm",
    "netbios-ns",
    "netbios-ssn",
    "ntp",
    "radius",
    "rdcb-publishing",
    "rdg-farm",
    "rdg-udp",
    "rdp",
    "rdp-websocket",
    "smb",
    "winrm",
    "wmi",
];

const PORT_PARAMS: &[&str] = &[
    "ad-rpc",
    "ftp-passive",
    "gateway-https",
    "gateway-udp",
    "rdp",
    "rpc",
    "sql",
    "winrm",
    "wmi",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    flow: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: Spanned<String>,
    from: Spanned<Vec<Spanned<String>>>,
    to: Spanned<Vec<Spanned<String>>>,
    protocol: Vec<Spanned<String>>,
    ports: Vec<Spanned<String>>,
    service: Spanned<String>,
    purpose: String,
    when: Vec<Spanned<String>>,
    configure: Option<String>,
    confidence: Spanned<String>,
    section: Option<String>,
    seed_lines: Option<Vec<usize>>,
    reference: Option<String>,
}

#[cfg(test)]
mod tests;
