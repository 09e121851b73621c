//! The vocabulary shared by every crate: roles, protocols, port ranges, hosts, zones and the
//! planned flows between them.
//!
//! These are plain values, with the deployment options' vocabulary that the catalog's
//! conditions name too, and the one helper both file readers use for a role name. Nothing
//! here reads files or talks to a network.

use std::fmt;
use std::str::FromStr;

use ipnet::IpNet;
use serde::{Serialize, Serializer};

use crate::diag::Diagnostic;
use crate::suggest;

/// A role a host plays in an RDS deployment (and the infrastructure around it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// A user device (an internet population such as `0.0.0.0/0`, or internal clients).
    Client,
    /// RD Gateway.
    Gateway,
    /// RD Web Access.
    WebAccess,
    /// RD Connection Broker.
    ConnectionBroker,
    /// RD Session Host.
    SessionHost,
    /// RD Virtualization Host (Hyper-V host of virtual desktops).
    VirtualizationHost,
    /// A virtual desktop (a VM of a VDI collection).
    VirtualDesktop,
    /// RD Licensing server.
    Licensing,
    /// Active Directory domain controller (and KDC).
    DomainController,
    /// DNS server.
    Dns,
    /// Network Policy Server (RADIUS).
    Nps,
    /// Certificate revocation list publication point (CDP).
    Crl,
    /// SQL Server holding the broker database (broker high availability).
    Sql,
    /// File server (User Profile Disks).
    FileServer,
    /// The host that runs Server Manager / RDMS and manages the deployment.
    Management,
    /// Microsoft Clearinghouse (license activation over the internet).
    Clearinghouse,
    /// An SSL-bridging reverse proxy in front of RD Web Access / RD Gateway.
    ReverseProxy,
}

impl Role {
    /// Every role, in declaration order.
    pub const ALL: [Role; 17] = [
        Role::Client,
        Role::Gateway,
        Role::WebAccess,
        Role::ConnectionBroker,
        Role::SessionHost,
        Role::VirtualizationHost,
        Role::VirtualDesktop,
        Role::Licensing,
        Role::DomainController,
        Role::Dns,
        Role::Nps,
        Role::Crl,
        Role::Sql,
        Role::FileServer,
        Role::Management,
        Role::Clearinghouse,
        Role::ReverseProxy,
    ];

    /// The name used in files and on the command line (`session-host`).
    pub fn name(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Gateway => "gateway",
            Role::WebAccess => "web-access",
            Role::ConnectionBroker => "connection-broker",
            Role::SessionHost => "session-host",
            Role::VirtualizationHost => "virtualization-host",
            Role::VirtualDesktop => "virtual-desktop",
            Role::Licensing => "licensing",
            Role::DomainController => "domain-controller",
            Role::Dns => "dns",
            Role::Nps => "nps",
            Role::Crl => "crl",
            Role::Sql => "sql",
            Role::FileServer => "file-server",
            Role::Management => "management",
            Role::Clearinghouse => "clearinghouse",
            Role::ReverseProxy => "reverse-proxy",
        }
    }

    /// A short label for tables and diagrams (`RDSH`, `DC` ...).
    pub fn label(self) -> &'static str {
        match self {
            Role::Client => "Client",
            Role::Gateway => "RDG",
            Role::WebAccess => "RDWA",
            Role::ConnectionBroker => "RDCB",
            Role::SessionHost => "RDSH",
            Role::VirtualizationHost => "RDVH",
            Role::VirtualDesktop => "VM",
            Role::Licensing => "RDLS",
            Role::DomainController => "DC",
            Role::Dns => "DNS",
            Role::Nps => "NPS",
            Role::Crl => "CDP",
            Role::Sql => "SQL",
            Role::FileServer => "FS",
            Role::Management => "MGMT",
            Role::Clearinghouse => "Clearinghouse",
            Role::ReverseProxy => "RP",
        }
    }

    /// Whether a host of this role is normally a domain-joined Windows server (the source of
    /// the domain-member baseline flows D01–D07).
    pub fn is_domain_member(self) -> bool {
        matches!(
            self,
            Role::Gateway
                | Role::WebAccess
                | Role::ConnectionBroker
                | Role::SessionHost
                | Role::VirtualizationHost
                | Role::VirtualDesktop
                | Role::Licensing
                | Role::Nps
                | Role::Sql
                | Role::FileServer
                | Role::Management
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Role {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        Role::ALL.into_iter().find(|r| r.name() == s).ok_or(())
    }
}

impl Serialize for Role {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Transport protocol of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// `tcp` or `udp`.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Protocol {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            _ => Err(()),
        }
    }
}

impl Serialize for Protocol {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// An inclusive range of ports, `start <= end`, neither of them 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    start: u16,
    end: u16,
}

impl PortRange {
    /// A range; `None` when `start` is 0 or `start > end`.
    pub const fn new(start: u16, end: u16) -> Option<PortRange> {
        if start != 0 && start <= end {
            Some(PortRange { start, end })
        } else {
            None
        }
    }

    /// A range known valid at compile time (a compile error otherwise).
    pub const fn fixed(start: u16, end: u16) -> PortRange {
        match PortRange::new(start, end) {
            Some(r) => r,
            None => panic!("invalid constant port range"),
        }
    }

    /// A single port; `None` for port 0.
    pub const fn single(port: u16) -> Option<PortRange> {
        PortRange::new(port, port)
    }

    /// First port.
    pub fn start(self) -> u16 {
        self.start
    }

    /// Last port (inclusive).
    pub fn end(self) -> u16 {
        self.end
    }

    /// How many ports the range holds.
    pub fn len(self) -> u32 {
        u32::from(self.end) - u32::from(self.start) + 1
    }

    /// Always false: a range holds at least one port.
    pub fn is_empty(self) -> bool {
        false
    }

    /// Whether `port` falls in the range.
    pub fn contains(self, port: u16) -> bool {
        self.start <= port && port <= self.end
    }
}

impl fmt::Display for PortRange {
    /// `N` for a single port, `N-M` for a range (the plan's JSON contract).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

impl FromStr for PortRange {
    type Err = String;

    /// Parses `N` or `N-M` (spaces around the dash allowed).
    fn from_str(s: &str) -> Result<Self, String> {
        let port = |t: &str| -> Result<u16, String> {
            let t = t.trim();
            let n: u32 = t
                .parse()
                .map_err(|_| format!("`{t}` is not a port number"))?;
            match u16::try_from(n) {
                Ok(0) => Err("port 0 is not a port a flow can use".to_owned()),
                Ok(p) => Ok(p),
                Err(_) => Err(format!("port {n} is above 65535")),
            }
        };
        match s.split_once('-') {
            None => Ok(PortRange {
                start: port(s)?,
                end: port(s)?,
            }),
            Some((a, b)) => {
                let (a, b) = (port(a)?, port(b)?);
                PortRange::new(a, b).ok_or_else(|| format!("range {a}-{b} is reversed"))
            }
        }
    }
}

impl Serialize for PortRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Parses a role name of a file with a "did you mean" hint (catalog and deployment files).
pub(crate) fn parse_role(name: &toml::Spanned<String>) -> Result<Role, Diagnostic> {
    Role::from_str(name.get_ref()).map_err(|()| {
        let names: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
        Diagnostic::error(
            format!("unknown role \"{}\"", name.get_ref()),
            Some(name.span()),
        )
        .with_hint(suggest::hint(name.get_ref(), &names))
    })
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

/// `automatic`, `web` or `phone`.
pub fn activation_name(a: Activation) -> &'static str {
    match a {
        Activation::Automatic => "automatic",
        Activation::Web => "web",
        Activation::Phone => "phone",
    }
}

/// `ftp`, `http` or `ldap`.
pub fn crl_name(m: CrlMethod) -> &'static str {
    match m {
        CrlMethod::Ftp => "ftp",
        CrlMethod::Http => "http",
        CrlMethod::Ldap => "ldap",
    }
}

/// A network zone: a firewall boundary is crossed when a flow leaves one zone for another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// Zone name (`internet`, `perimeter`, `internal` ...).
    pub name: String,
    /// The networks the zone holds.
    pub networks: Vec<IpNet>,
}

/// A host of the deployment (or a population of hosts given as a CIDR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Unique name.
    pub name: String,
    /// An address (`/32` or `/128`) or a population (`0.0.0.0/0`).
    pub address: IpNet,
    /// Index into [`Deployment`](crate::deployment::Deployment) zones.
    pub zone: usize,
    /// Roles, sorted, without duplicates. Includes roles the deployment implies (see
    /// `implied_roles`), so that the planner sees one list.
    pub roles: Vec<Role>,
    /// Roles the deployment gave this host by default (for example `management` on the first
    /// connection broker when no host has it); a subset of `roles`.
    pub implied_roles: Vec<Role>,
    /// This host's own values of the options that Windows sets per host (its RDP listener,
    /// its gateway transports); `None` takes the deployment's `[options]` value.
    pub settings: HostSettings,
}

/// The options a `[[host]]` may set for itself, overriding `[options]` for that host only:
/// the host that listens, the destination of the flows that use the port or the condition.
/// Each is `None` when the host takes the deployment's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HostSettings {
    /// The port of the host's RDP-Tcp listener (`PortNumber`); hosts that accept RDP only.
    pub rdp_port: Option<u16>,
    /// RDP over UDP on this host; hosts that accept RDP only.
    pub rdp_udp: Option<bool>,
    /// The gateway's HTTPS port; gateways only.
    pub gateway_https_port: Option<u16>,
    /// The gateway's UDP transport; gateways only.
    pub gateway_udp: Option<bool>,
    /// The gateway's UDP port; gateways only.
    pub gateway_udp_port: Option<u16>,
}

impl HostSettings {
    /// The roles that accept RDP, on which `rdp_port` and `rdp_udp` may be set: the catalog
    /// sends every flow on the RDP port to one of them.
    pub const RDP_ROLES: [Role; 3] = [
        Role::ConnectionBroker,
        Role::SessionHost,
        Role::VirtualDesktop,
    ];

    /// The roles a per-host key applies to (a host with none of them may not set it), and
    /// how a hint names such a host.
    pub fn applies_to(key: &str) -> (&'static [Role], &'static str) {
        match key {
            "rdp_port" | "rdp_udp" => (
                &Self::RDP_ROLES,
                "a host that accepts RDP (role session-host, connection-broker or virtual-desktop)",
            ),
            _ => (&[Role::Gateway], "a host with role gateway"),
        }
    }

    /// Whether no key is set (the host takes every value from `[options]`).
    pub fn is_empty(&self) -> bool {
        *self == HostSettings::default()
    }
}

/// The effective values of the per-host options for one host: its own setting where it has
/// one, the deployment's `[options]` value otherwise
/// ([`Deployment::options_for`](crate::deployment::Deployment::options_for)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostOptions {
    /// RDP listener port.
    pub rdp_port: u16,
    /// RDP over UDP.
    pub rdp_udp: bool,
    /// RD Gateway HTTPS port.
    pub gateway_https_port: u16,
    /// RD Gateway UDP transport.
    pub gateway_udp: bool,
    /// RD Gateway UDP port.
    pub gateway_udp_port: u16,
}

impl Host {
    /// Whether the host has `role` (given or implied).
    pub fn has(&self, role: Role) -> bool {
        self.roles.binary_search(&role).is_ok()
    }

    /// Whether the address is a single machine rather than a population.
    pub fn is_single(&self) -> bool {
        self.address.prefix_len() == self.address.max_prefix_len()
    }
}

/// One planned flow: `from` opens a connection to `to` on `protocol`/`ports`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flow {
    /// Index of the source host in the deployment.
    pub from: usize,
    /// Index of the destination host in the deployment.
    pub to: usize,
    /// Transport.
    pub protocol: Protocol,
    /// Destination port or range.
    pub ports: PortRange,
    /// Index of the catalog entry that justifies the flow (the first, in catalog order).
    pub entry: usize,
    /// Indices of further catalog entries that need the same flow, in catalog order.
    pub also: Also,
}

/// The further catalog entries of a [`Flow`] (indices, in catalog order): a slice that takes
/// one word in the flow, and no allocation when empty, as it is for nearly every flow (a
/// 10,000-host farm plans about 3 million flows; one in seventy has another entry).
#[derive(Clone, Default, PartialEq, Eq)]
#[expect(
    clippy::box_collection,
    reason = "one word in every flow; the rare list pays a second allocation"
)]
pub struct Also(Option<Box<Vec<usize>>>);

impl Also {
    /// Adds an entry at the end.
    pub fn push(&mut self, entry: usize) {
        self.0.get_or_insert_default().push(entry);
    }
}

impl std::ops::Deref for Also {
    type Target = [usize];

    fn deref(&self) -> &[usize] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl From<Vec<usize>> for Also {
    fn from(entries: Vec<usize>) -> Self {
        Also((!entries.is_empty()).then(|| Box::new(entries)))
    }
}

impl<'a> IntoIterator for &'a Also {
    type Item = &'a usize;
    type IntoIter = std::slice::Iter<'a, usize>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl fmt::Debug for Also {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}
