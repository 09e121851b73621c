//! The deployment file: hosts, their roles and zones, and the options that change which flows
//! an RDS deployment needs.
//!
//! Parsing happens in two stages (as ripgrep's low and high arguments): `raw` is the serde
//! form of the TOML, with spans; [`Deployment::parse`] resolves it into a valid
//! [`Deployment`] or returns every problem as a [`Diagnostic`] with its place in the file.
//! Nothing checks validity again after that.

use crate::diag::Diagnostic;
use crate::model::{Host, PortRange, Role, Zone};

/// A parsed, valid deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// Deployment name (used for rule groups and table names).
    pub name: String,
    /// Options that switch flows on and off or change their ports.
    pub options: Options,
    /// Zones, in file order.
    pub zones: Vec<Zone>,
    /// Hosts, in file order.
    pub hosts: Vec<Host>,
    /// Warnings found while parsing (the deployment is usable).
    pub warnings: Vec<Diagnostic>,
}

impl Deployment {
    /// Hosts that have `role`, in file order.
    pub fn hosts_with(&self, role: Role) -> impl Iterator<Item = (usize, &Host)> {
        self.hosts.iter().enumerate().filter(move |(_, h)| h.has(role))
    }

    /// The zone of host `index`.
    pub fn zone_of(&self, host: usize) -> &Zone {
        &self.zones[self.hosts[host].zone]
    }
}

/// Certificate revocation list retrieval methods of the RD Gateway (seed: "If using LDAP /
/// HTTP / FTP for Certificate Revocation List").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CrlMethod {
    /// CRL over FTP (TCP 21 plus a data channel).
    Ftp,
    /// CRL over HTTP (TCP 80).
    Http,
    /// CRL over LDAP (TCP and UDP 389).
    Ldap,
}

/// Where the RD Gateway's RD CAP policies are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NpsMode {
    /// The gateway's local NPS: no RADIUS traffic.
    None,
    /// A central NPS over RADIUS (UDP 1812, 1813).
    Central,
}

/// WinRM transport used by Server Manager / RDMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WinRm {
    /// WS-Man over HTTP, TCP 5985.
    Http,
    /// WS-Man over HTTPS, TCP 5986.
    Https,
}

/// RDS client access licence mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LicensingMode {
    /// Per-user CALs: the license server records issuance in AD (LDAP 389).
    PerUser,
    /// Per-device CALs.
    PerDevice,
}

/// How the license server is activated with the Microsoft Clearinghouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// The license server connects to the Clearinghouse over TCP 443.
    Automatic,
    /// Through a web browser on any machine: no flow from the license server.
    Web,
    /// By telephone: no flow.
    Phone,
}

/// An SSL-bridging reverse proxy (the seed's ISA remark) in front of RD Web Access / Gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslBridging {
    /// HTTPS from the proxy to the servers (TCP 443).
    HttpsHttps,
    /// HTTP from the proxy to the servers (TCP 80).
    HttpsHttp,
}

/// Deployment options. Defaults follow Windows Server 2012 R2 and later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// RDP listener port on session hosts, brokers and virtual desktops (3389).
    pub rdp_port: u16,
    /// RDP over UDP besides TCP (true).
    pub rdp_udp: bool,
    /// RD Gateway UDP transport (true).
    pub gateway_udp: bool,
    /// RD Gateway HTTPS port (443).
    pub gateway_https_port: u16,
    /// RD Gateway UDP port (3391).
    pub gateway_udp_port: u16,
    /// CRL retrieval methods (["http"]).
    pub crl: Vec<CrlMethod>,
    /// Central NPS or not (central when some host has role `nps`, else none).
    pub nps: NpsMode,
    /// Dynamic RPC range (49152-65535).
    pub rpc_range: PortRange,
    /// Fixed NTDS RPC port on the DCs; `None`: the dynamic range.
    pub ad_rpc_port: Option<u16>,
    /// Fixed WMI port for RD Web Access in a perimeter network (24158).
    pub wmi_port: u16,
    /// WinRM transport (http).
    pub winrm: WinRm,
    /// Licensing mode (per-user).
    pub licensing_mode: LicensingMode,
    /// License server activation (automatic).
    pub activation: Activation,
    /// Legacy NetBIOS 137/138/139 to the license server (false).
    pub netbios: bool,
    /// Brokers share a SQL Server database (false).
    pub broker_ha: bool,
    /// SQL Server port for the broker database (1433).
    pub sql_port: u16,
    /// The broker database is a named instance found through SQL Browser, UDP 1434 (false).
    pub sql_browser: bool,
    /// Clients also connect directly to brokers and session hosts although a gateway exists
    /// (false).
    pub direct_access: bool,
    /// Virtual desktops of unmanaged pools, reached by the broker over RDP (false).
    pub vdi_unmanaged: bool,
    /// HTML5 web client (false).
    pub web_client: bool,
    /// Load-balanced RD Gateway farm, 2008 R2 style TCP 3388 between gateways (false).
    pub gateway_farm: bool,
    /// SSL bridging mode of a reverse proxy (`None`: https-https when a reverse proxy exists).
    pub ssl_bridging: SslBridging,
    /// Fixed passive data port range of the FTP CRL server; `None`: the firewall needs an
    /// FTP conntrack helper.
    pub ftp_passive_range: Option<PortRange>,
    /// Domain-member baseline flows D01–D07 from every domain-joined server to the DCs (true).
    pub domain_baseline: bool,
    /// LDAPS and global catalog over TLS (636, 3269) in the baseline (false).
    pub ldaps: bool,
    /// Low-confidence catalog rows (S07, S31, D07 ...) (false).
    pub low_confidence: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            rdp_port: 3389,
            rdp_udp: true,
            gateway_udp: true,
            gateway_https_port: 443,
            gateway_udp_port: 3391,
            crl: vec![CrlMethod::Http],
            nps: NpsMode::None,
            rpc_range: PortRange::fixed(49152, 65535),
            ad_rpc_port: None,
            wmi_port: 24158,
            winrm: WinRm::Http,
            licensing_mode: LicensingMode::PerUser,
            activation: Activation::Automatic,
            netbios: false,
            broker_ha: false,
            sql_port: 1433,
            sql_browser: false,
            direct_access: false,
            vdi_unmanaged: false,
            web_client: false,
            gateway_farm: false,
            ssl_bridging: SslBridging::HttpsHttps,
            ftp_passive_range: None,
            domain_baseline: true,
            ldaps: false,
            low_confidence: false,
        }
    }
}
