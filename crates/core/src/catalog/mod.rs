//! The RDS flow catalog as data.
//!
//! `rds.toml` (embedded with `include_str!`) holds one entry per flow of the seed document
//! "RDS 2012: Which ports are used during deployment?" (ids S01–S35), the reference's
//! additions (A01–A10) and the domain-member baseline (D01–D07). It is parsed by the same
//! code that parses deployment files ([`Catalog::parse`]).

use crate::model::{PortRange, Protocol, Role};

/// The flow catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// Entries in file order (seed rows first).
    pub entries: Vec<Entry>,
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
    Activation(crate::deployment::Activation),
    /// `broker_ha`.
    BrokerHa,
    /// `crl:http`, `crl:ldap`, `crl:ftp`.
    Crl(crate::deployment::CrlMethod),
    /// `direct`: clients connect to brokers and session hosts directly (no gateway, or
    /// `direct_access = true`).
    Direct,
    /// `domain_baseline`.
    DomainBaseline,
    /// `gateway_farm`.
    GatewayFarm,
    /// `gateway_udp`.
    GatewayUdp,
    /// `ldaps`.
    Ldaps,
    /// `licensing:per-user`, `licensing:per-device`.
    Licensing(crate::deployment::LicensingMode),
    /// `netbios`.
    Netbios,
    /// `nps:central`.
    NpsCentral,
    /// `rdp_udp`.
    RdpUdp,
    /// `sql_browser`.
    SqlBrowser,
    /// `ssl_bridging:https-http`, `ssl_bridging:https-https`.
    SslBridging(crate::deployment::SslBridging),
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
