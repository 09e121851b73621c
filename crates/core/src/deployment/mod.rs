//! The deployment file: hosts, their roles and zones, and the options that change which flows
//! an RDS deployment needs.
//!
//! Parsing happens in two stages (as ripgrep's low and high arguments): `raw` is the serde
//! form of the TOML, with spans; [`Deployment::parse`] resolves it into a valid
//! [`Deployment`] or returns every problem as a [`Diagnostic`] with its place in the file.
//! Nothing checks validity again after that. The file is parsed once: the sections one
//! command reads (`[firewall]`, `[lint]`) and the places lint points at come from the same
//! parse, in [`Deployment::firewall`], [`Deployment::lint`] and [`Deployment::places`].

mod raw;
mod sections;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::ops::Range;
use std::str::FromStr;

use ipnet::IpNet;
use toml::Spanned;

use crate::diag::{Capped, Diagnostic};
// The options' vocabulary lives in the model (the catalog names it too); its old paths stay.
pub use crate::model::{
    Activation, CrlMethod, LicensingMode, SslBridging, activation_name, crl_name,
};
use crate::model::{Host, HostOptions, HostSettings, PortRange, Role, Zone, parse_role};
use crate::suggest;
use crate::tomlfile;
use raw::{RawDeployment, RawHost, RawOptions};
pub use sections::{Accept, FirewallSection, LintSection, Places};

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
    /// `[firewall]`, read by `rdsports rules`; its errors (located) do not make the
    /// deployment invalid for the other commands, which ignore the section.
    pub firewall: Result<FirewallSection, Vec<Diagnostic>>,
    /// `[lint]`, read by `rdsports lint`; its error (located) does not make the deployment
    /// invalid for the other commands, which ignore the section.
    pub lint: Result<LintSection, Vec<Diagnostic>>,
    /// Where hosts and options are written in the file (empty for a deployment built in
    /// code).
    pub places: Places,
}

impl Deployment {
    /// Parses and checks a deployment file.
    ///
    /// On success the deployment carries its warnings; on failure every error (and warning)
    /// found is returned, each located at its line and column in `text`.
    pub fn parse(text: &str) -> Result<Deployment, Vec<Diagnostic>> {
        let document = tomlfile::document(text).map_err(|d| vec![d.locate(text)])?;
        // The sections one command reads, read on their own below (they are small).
        let lint = document.get_ref().get("lint").cloned();
        let firewall = document.get_ref().get("firewall").cloned();
        let options = sections::option_places(document.get_ref());
        let raw: RawDeployment =
            tomlfile::deserialize(text, document).map_err(|d| vec![d.locate(text)])?;
        let sections = Sections {
            firewall: sections::firewall(firewall).map_err(|e| locate(e, text)),
            lint: sections::lint(lint).map_err(|e| vec![e.locate(text)]),
            places: Places {
                hosts: raw.host.iter().map(|h| h.name.span()).collect(),
                options,
                host_settings: raw
                    .host
                    .iter()
                    .map(|h| {
                        h.setting_places()
                            .into_iter()
                            .map(|(k, span)| (k.to_owned(), span))
                            .collect()
                    })
                    .collect(),
            },
        };
        let mut cx = Checker {
            diagnostics: Capped::default(),
            text,
        };
        let deployment = cx.resolve(raw, sections);
        let errors = cx.diagnostics.has_errors();
        let diagnostics: Vec<Diagnostic> = cx
            .diagnostics
            .finish()
            .into_iter()
            .map(|d| d.locate(text))
            .collect();
        match deployment {
            Some(mut d) if !errors => {
                d.warnings = diagnostics;
                Ok(d)
            }
            _ => Err(diagnostics),
        }
    }

    /// Index of the host called `name`.
    pub fn host_index(&self, name: &str) -> Option<usize> {
        self.hosts.iter().position(|h| h.name == name)
    }

    /// Whether some host has `role`.
    pub fn has(&self, role: Role) -> bool {
        self.hosts.iter().any(|h| h.has(role))
    }

    /// Hosts that have `role`, in file order.
    pub fn hosts_with(&self, role: Role) -> impl Iterator<Item = (usize, &Host)> {
        self.hosts
            .iter()
            .enumerate()
            .filter(move |(_, h)| h.has(role))
    }

    /// The zone of host `index`.
    pub fn zone_of(&self, host: usize) -> &Zone {
        &self.zones[self.hosts[host].zone]
    }

    /// The effective per-host options of host `index`: its own settings where the
    /// `[[host]]` has them, `[options]` otherwise.
    pub fn options_for(&self, host: usize) -> HostOptions {
        self.options.for_host(&self.hosts[host].settings)
    }

    /// Whether some host sets one of the per-host options to a value of its own.
    pub fn has_host_settings(&self) -> bool {
        self.hosts.iter().any(|h| !h.settings.is_empty())
    }
}

/// What [`Deployment::parse`] reads besides the raw deployment.
struct Sections {
    firewall: Result<FirewallSection, Vec<Diagnostic>>,
    lint: Result<LintSection, Vec<Diagnostic>>,
    places: Places,
}

/// Locates each of `diagnostics` in `text`.
fn locate(diagnostics: Vec<Diagnostic>, text: &str) -> Vec<Diagnostic> {
    diagnostics.into_iter().map(|d| d.locate(text)).collect()
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
    /// The Active Directory DNS domain (`corp.example`), used by `check` as the Kerberos
    /// realm and for DNS and CLDAP queries (none).
    pub domain: Option<String>,
}

impl Options {
    /// The effective per-host options of a host with `settings`.
    pub fn for_host(&self, settings: &HostSettings) -> HostOptions {
        HostOptions {
            rdp_port: settings.rdp_port.unwrap_or(self.rdp_port),
            rdp_udp: settings.rdp_udp.unwrap_or(self.rdp_udp),
            gateway_https_port: settings
                .gateway_https_port
                .unwrap_or(self.gateway_https_port),
            gateway_udp: settings.gateway_udp.unwrap_or(self.gateway_udp),
            gateway_udp_port: settings.gateway_udp_port.unwrap_or(self.gateway_udp_port),
        }
    }
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
            domain: None,
        }
    }
}

/// Collects diagnostics while resolving the raw file.
struct Checker<'t> {
    /// The first few of each kind in full, the rest counted: linear however bad the file.
    diagnostics: Capped,
    text: &'t str,
}

/// The name of the zone every host falls in when the file declares no zones.
pub const DEFAULT_ZONE: &str = "default";

impl Checker<'_> {
    fn error(&mut self, message: impl Into<String>, span: Range<usize>, hint: Option<String>) {
        let d = Diagnostic::error(message, Some(span));
        self.diagnostics.push(match hint {
            Some(h) => d.with_hint(h),
            None => d,
        });
    }

    fn warn(
        &mut self,
        message: impl Into<String>,
        span: Option<Range<usize>>,
        hint: Option<String>,
    ) {
        let d = Diagnostic::warning(message, span);
        self.diagnostics.push(match hint {
            Some(h) => d.with_hint(h),
            None => d,
        });
    }

    fn resolve(&mut self, raw: RawDeployment, sections: Sections) -> Option<Deployment> {
        let name = match raw.name {
            Some(n) if n.get_ref().trim().is_empty() => {
                self.error(
                    "the deployment name is empty",
                    n.span(),
                    Some("name = \"contoso\"".into()),
                );
                String::new()
            }
            Some(n) => n.into_inner(),
            None => {
                self.diagnostics.push(
                    Diagnostic::error("the deployment has no name", Some(0..0))
                        .with_hint("add `name = \"contoso\"` at the top of the file"),
                );
                String::new()
            }
        };
        let zones = self.zones(&raw.zone);
        let hosts = self.hosts(&raw.host, &zones);
        let options = self.options(
            raw.options.map(Spanned::into_inner).unwrap_or_default(),
            &hosts,
        );
        let hosts = hosts?;
        let mut d = Deployment {
            name,
            options: options?,
            zones,
            hosts,
            warnings: Vec::new(),
            firewall: sections.firewall,
            lint: sections.lint,
            places: sections.places,
        };
        imply_roles(&mut d);
        Some(d)
    }

    fn zones(&mut self, raw: &[raw::RawZone]) -> Vec<Zone> {
        let mut zones: Vec<Zone> = Vec::new();
        let mut seen: BTreeMap<&str, ()> = BTreeMap::new();
        for z in raw {
            let name = z.name.get_ref();
            if let Some(problem) = name_problem(name) {
                self.error(format!("zone name {name:?} {problem}"), z.name.span(), None);
            }
            if seen.insert(name, ()).is_some() {
                self.error(
                    format!("duplicate zone \"{name}\""),
                    z.name.span(),
                    Some("zone names must be unique".into()),
                );
            }
            let mut networks = Vec::new();
            for n in &z.networks {
                if let Some(net) = self.network(n) {
                    networks.push(net);
                }
            }
            zones.push(Zone {
                name: name.clone(),
                networks,
            });
        }
        if zones.is_empty() {
            zones.push(Zone {
                name: DEFAULT_ZONE.to_owned(),
                networks: Vec::new(),
            });
        }
        zones
    }

    fn network(&mut self, n: &Spanned<String>) -> Option<IpNet> {
        let text = n.get_ref().trim();
        if let Ok(ip) = IpAddr::from_str(text) {
            return Some(IpNet::from(ip));
        }
        if text.starts_with('<') && text.ends_with('>') {
            // What `rdsports import` writes for a host whose address no source gave.
            self.error(
                format!("the address is not filled in: \"{text}\""),
                n.span(),
                Some("`rdsports import` could not learn this host's address: write it here, or run the import again with --resolve".into()),
            );
            return None;
        }
        match IpNet::from_str(text) {
            Ok(net) if net.trunc() != net => {
                self.error(
                    format!("\"{text}\" has host bits set"),
                    n.span(),
                    Some(format!("the network is \"{}\"", net.trunc())),
                );
                None
            }
            Ok(net) => Some(net),
            Err(_) => {
                self.error(
                    format!("\"{text}\" is not an IP address or CIDR"),
                    n.span(),
                    Some("write an address such as \"198.51.100.10\" or a network such as \"198.51.100.0/24\"".into()),
                );
                None
            }
        }
    }

    fn hosts(&mut self, raw: &[RawHost], zones: &[Zone]) -> Option<Vec<Host>> {
        let mut hosts = Vec::with_capacity(raw.len());
        let mut by_name: BTreeMap<&str, Range<usize>> = BTreeMap::new();
        let mut ok = true;
        if raw.is_empty() {
            self.diagnostics.push(
                Diagnostic::warning("the deployment has no hosts: nothing to plan", None)
                    .with_hint("add [[host]] tables with name, address and roles"),
            );
        }
        for h in raw {
            let name = h.name.get_ref();
            if let Some(problem) = name_problem(name) {
                self.error(format!("host name {name:?} {problem}"), h.name.span(), None);
                ok = false;
            }
            if let Some(first) = by_name.get(name.as_str()) {
                let first = first.clone();
                let message = format!("duplicate host \"{name}\"");
                // Finding the first one's line reads the file up to it: only for the
                // diagnostics that are shown.
                let hint = self.diagnostics.keeps(&message).then(|| {
                    format!(
                        "the first \"{name}\" is on line {}; host names must be unique",
                        crate::diag::line_column(self.text, first.start).0
                    )
                });
                self.error(message, h.name.span(), hint);
                ok = false;
            } else {
                by_name.insert(name, h.name.span());
            }
            let Some(address) = self.network(&h.address) else {
                ok = false;
                continue;
            };
            let mut roles = Vec::new();
            for r in h.roles.get_ref() {
                match parse_role(r) {
                    Ok(role) if roles.contains(&role) => {
                        self.warn(
                            format!("role \"{role}\" is listed twice"),
                            Some(r.span()),
                            None,
                        );
                    }
                    Ok(role) => roles.push(role),
                    Err(d) => {
                        self.diagnostics.push(d);
                        ok = false;
                    }
                }
            }
            if h.roles.get_ref().is_empty() {
                self.error(
                    format!("host \"{name}\" has no roles"),
                    h.roles.span(),
                    Some("for example roles = [\"session-host\"]".into()),
                );
                ok = false;
            }
            roles.sort();
            if address.prefix_len() == 0
                && let Some(server) = roles
                    .iter()
                    .find(|r| !matches!(r, Role::Client | Role::Clearinghouse))
            {
                self.warn(
                    format!(
                        "host \"{name}\" is the whole address space ({address}) but has role {server}: \
                         its rules accept (or reach) every address"
                    ),
                    Some(h.address.span()),
                    Some(
                        "give the server's own address; only populations of clients (and the \
                         Clearinghouse) are whole address spaces"
                            .into(),
                    ),
                );
            }
            let Some(settings) = self.host_settings(h, &roles) else {
                ok = false;
                continue;
            };
            let Some(zone) = self.zone_of(h, address, zones) else {
                ok = false;
                continue;
            };
            hosts.push(Host {
                name: name.clone(),
                address,
                zone,
                roles,
                implied_roles: Vec::new(),
                settings,
            });
        }
        ok.then_some(hosts)
    }

    /// The per-host settings of `h`: each port in range, each key on a host whose `roles`
    /// it applies to (`None` after an error).
    fn host_settings(&mut self, h: &RawHost, roles: &[Role]) -> Option<HostSettings> {
        let name = h.name.get_ref();
        let mut ok = true;
        for (key, span) in h.setting_places() {
            let (allowed, needs) = HostSettings::applies_to(key);
            let applies = allowed.iter().any(|r| roles.contains(r));
            // A host whose roles failed to parse has no roles yet: its role errors say enough.
            if !applies && !roles.is_empty() {
                let listed: Vec<String> = roles.iter().map(ToString::to_string).collect();
                self.error(
                    format!(
                        "{key} is set on host \"{name}\" ({}), which it does not apply to",
                        listed.join(", ")
                    ),
                    span,
                    Some(format!(
                        "{key} on a [[host]] overrides [options] {key} for {needs}; remove it \
                         here, or set it in [options] for every host"
                    )),
                );
                ok = false;
            }
        }
        let mut port = |v: &Option<Spanned<i64>>| match v {
            None => Some(None),
            Some(_) => self.port(v, 0).map(Some),
        };
        let rdp_port = port(&h.rdp_port);
        let gateway_https_port = port(&h.gateway_https_port);
        let gateway_udp_port = port(&h.gateway_udp_port);
        let flag = |v: &Option<Spanned<bool>>| v.as_ref().map(|v| *v.get_ref());
        let settings = HostSettings {
            rdp_port: rdp_port?,
            rdp_udp: flag(&h.rdp_udp),
            gateway_https_port: gateway_https_port?,
            gateway_udp: flag(&h.gateway_udp),
            gateway_udp_port: gateway_udp_port?,
        };
        ok.then_some(settings)
    }

    fn zone_of(&mut self, h: &RawHost, address: IpNet, zones: &[Zone]) -> Option<usize> {
        let holds = |z: &Zone| {
            z.networks
                .iter()
                .filter(|n| n.contains(&address))
                .map(|n| n.prefix_len())
                .max()
        };
        if let Some(zone) = &h.zone {
            let Some(index) = zones.iter().position(|z| z.name == *zone.get_ref()) else {
                let names: Vec<&str> = zones.iter().map(|z| z.name.as_str()).collect();
                self.error(
                    format!("unknown zone \"{}\"", zone.get_ref()),
                    zone.span(),
                    Some(suggest::hint(zone.get_ref(), &names)),
                );
                return None;
            };
            let z = &zones[index];
            if !z.networks.is_empty() && holds(z).is_none() {
                self.warn(
                    format!(
                        "{} is not inside any network of zone \"{}\"",
                        address, z.name
                    ),
                    Some(h.address.span()),
                    Some("check the address, or add its network to the zone".into()),
                );
            }
            return Some(index);
        }
        if zones.len() == 1 && zones[0].networks.is_empty() {
            return Some(0);
        }
        let mut best: Option<(u8, usize)> = None;
        let mut tie = None;
        for (i, z) in zones.iter().enumerate() {
            if let Some(len) = holds(z) {
                match best {
                    Some((b, _)) if len < b => {}
                    Some((b, j)) if len == b => tie = Some((j, i)),
                    _ => {
                        best = Some((len, i));
                        tie = None;
                    }
                }
            }
        }
        match (best, tie) {
            (Some(_), Some((a, b))) => {
                self.error(
                    format!(
                        "{} falls in zones \"{}\" and \"{}\" equally",
                        address, zones[a].name, zones[b].name
                    ),
                    h.address.span(),
                    Some("add `zone = \"...\"` to the host".into()),
                );
                None
            }
            (Some((_, i)), None) => Some(i),
            (None, _) => {
                self.error(
                    format!("host \"{}\" ({}) is in no zone", h.name.get_ref(), address),
                    h.address.span(),
                    Some("add `zone = \"...\"` to the host, or add a network that holds it to a [[zone]]".into()),
                );
                None
            }
        }
    }

    fn port(&mut self, value: &Option<Spanned<i64>>, default: u16) -> Option<u16> {
        match value {
            None => Some(default),
            Some(v) => match u16::try_from(*v.get_ref()) {
                Ok(0) | Err(_) => {
                    self.error(
                        format!("port {} is out of range", v.get_ref()),
                        v.span(),
                        Some("ports go from 1 to 65535".into()),
                    );
                    None
                }
                Ok(p) => Some(p),
            },
        }
    }

    fn choice<T: Copy>(
        &mut self,
        value: &Option<Spanned<String>>,
        default: T,
        table: &[(&str, T)],
    ) -> Option<T> {
        let Some(v) = value else { return Some(default) };
        match table.iter().find(|(name, _)| name == v.get_ref()) {
            Some((_, t)) => Some(*t),
            None => {
                let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
                self.error(
                    format!("unknown value \"{}\"", v.get_ref()),
                    v.span(),
                    Some(suggest::hint(v.get_ref(), &names)),
                );
                None
            }
        }
    }

    fn range(&mut self, value: &Spanned<String>) -> Option<PortRange> {
        let text = value.get_ref();
        if !text.contains('-') {
            self.error(
                format!("\"{text}\" is not a port range"),
                value.span(),
                Some("write the first and last port, such as \"49152-65535\"".into()),
            );
            return None;
        }
        match PortRange::from_str(text) {
            Ok(r) => Some(r),
            Err(e) => {
                self.error(
                    format!("bad port range \"{text}\": {e}"),
                    value.span(),
                    Some("write \"first-last\" with first <= last, such as \"50000-50199\"".into()),
                );
                None
            }
        }
    }

    fn options(&mut self, o: RawOptions, hosts: &Option<Vec<Host>>) -> Option<Options> {
        let d = Options::default();
        let has = |role: Role| {
            hosts
                .as_ref()
                .is_some_and(|hs| hs.iter().any(|h| h.has(role)))
        };
        let count = |role: Role| {
            hosts
                .as_ref()
                .map_or(0, |hs| hs.iter().filter(|h| h.has(role)).count())
        };
        let flag =
            |v: &Option<Spanned<bool>>, default: bool| v.as_ref().map_or(default, |v| *v.get_ref());

        let rdp_port = self.port(&o.rdp_port, d.rdp_port);
        let gateway_https_port = self.port(&o.gateway_https_port, d.gateway_https_port);
        let gateway_udp_port = self.port(&o.gateway_udp_port, d.gateway_udp_port);
        let wmi_port = self.port(&o.wmi_port, d.wmi_port);
        let sql_port = self.port(&o.sql_port, d.sql_port);
        let ad_rpc_port = match &o.ad_rpc_port {
            Some(v) if *v.get_ref() == 0 => Some(None),
            other => self.port(other, 1).map(|p| other.as_ref().map(|_| p)),
        };
        let rpc_range = match &o.rpc_range {
            None => Some(d.rpc_range),
            Some(v) => self.range(v).inspect(|r| {
                if r.len() < 100 {
                    self.warn(
                        format!("the dynamic RPC range {r} holds only {} ports", r.len()),
                        Some(v.span()),
                        Some("KB 154596 advises at least 100 ports; with fewer, RPC servers can fail to register endpoints".into()),
                    );
                }
                if r.start() < 1024 {
                    self.warn(
                        format!("the dynamic RPC range {r} starts below 1024"),
                        Some(v.span()),
                        Some("dynamic RPC ports are normally 1024 or above (49152-65535 by default)".into()),
                    );
                }
            }),
        };
        let ftp_passive_range = match &o.ftp_passive_range {
            None => Some(None),
            Some(v) => self.range(v).map(Some),
        };
        let mut crl = Some(Vec::new());
        match &o.crl {
            None => crl = Some(d.crl.clone()),
            Some(list) => {
                for m in list.get_ref() {
                    let method = self.choice(
                        &Some(m.clone()),
                        CrlMethod::Http,
                        &[
                            ("ftp", CrlMethod::Ftp),
                            ("http", CrlMethod::Http),
                            ("ldap", CrlMethod::Ldap),
                        ],
                    );
                    match (method, crl.as_mut()) {
                        (Some(m), Some(v)) if !v.contains(&m) => v.push(m),
                        (Some(_), _) => {}
                        (None, _) => crl = None,
                    }
                }
                if let Some(v) = crl.as_mut() {
                    v.sort();
                }
            }
        }
        let nps_default = if has(Role::Nps) {
            NpsMode::Central
        } else {
            NpsMode::None
        };
        let nps = self.choice(
            &o.nps,
            nps_default,
            &[("none", NpsMode::None), ("central", NpsMode::Central)],
        );
        let winrm = self.choice(
            &o.winrm,
            d.winrm,
            &[("http", WinRm::Http), ("https", WinRm::Https)],
        );
        let licensing_mode = self.choice(
            &o.licensing_mode,
            d.licensing_mode,
            &[
                ("per-user", LicensingMode::PerUser),
                ("per-device", LicensingMode::PerDevice),
            ],
        );
        let activation = self.choice(
            &o.activation,
            d.activation,
            &[
                ("automatic", Activation::Automatic),
                ("web", Activation::Web),
                ("phone", Activation::Phone),
            ],
        );
        let ssl_bridging = self.choice(
            &o.ssl_bridging,
            d.ssl_bridging,
            &[
                ("https-https", SslBridging::HttpsHttps),
                ("https-http", SslBridging::HttpsHttp),
            ],
        );

        let domain = match &o.domain {
            None => Some(None),
            Some(v) => {
                let text = v.get_ref().trim().trim_end_matches('.');
                let valid = !text.is_empty()
                    && text.len() <= 253
                    && text.split('.').all(|l| {
                        !l.is_empty()
                            && l.len() <= 63
                            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    });
                if valid {
                    Some(Some(text.to_ascii_lowercase()))
                } else {
                    self.error(
                        format!("\"{}\" is not a DNS domain name", v.get_ref()),
                        v.span(),
                        Some("write the AD domain, such as \"corp.example\"".into()),
                    );
                    None
                }
            }
        };

        // Options that contradict the hosts: usable, but probably not what was meant.
        if hosts.is_some() {
            let mut contradiction =
                |set: bool, span: Option<Range<usize>>, message: &str, hint: &str| {
                    if set {
                        self.warn(message.to_owned(), span, Some(hint.to_owned()));
                    }
                };
            let explicit_true =
                |v: &Option<Spanned<bool>>| v.as_ref().filter(|v| *v.get_ref()).map(|v| v.span());
            let gw = has(Role::Gateway);
            contradiction(
                !gw && explicit_true(&o.gateway_udp).is_some(),
                explicit_true(&o.gateway_udp),
                "gateway_udp is on but no host has role gateway",
                "add a host with role \"gateway\", or remove the option",
            );
            contradiction(
                !gw && explicit_true(&o.direct_access).is_some(),
                explicit_true(&o.direct_access),
                "direct_access is on but there is no gateway: clients connect directly anyway",
                "remove the option",
            );
            contradiction(
                !gw && explicit_true(&o.gateway_farm).is_some(),
                explicit_true(&o.gateway_farm),
                "gateway_farm is on but no host has role gateway",
                "add hosts with role \"gateway\"",
            );
            let ha = explicit_true(&o.broker_ha);
            contradiction(
                ha.is_some() && count(Role::ConnectionBroker) < 2,
                ha.clone(),
                "broker_ha is on but fewer than two hosts have role connection-broker",
                "high availability needs two or more brokers",
            );
            contradiction(
                ha.is_some() && !has(Role::Sql),
                ha,
                "broker_ha is on but no host has role sql",
                "add the SQL Server that holds the broker database (role \"sql\")",
            );
            let nb = explicit_true(&o.netbios);
            contradiction(
                nb.is_some() && !has(Role::Licensing),
                nb,
                "netbios is on but no host has role licensing",
                "NetBIOS flows go to the license server",
            );
            let central = o.nps.as_ref().filter(|v| v.get_ref() == "central");
            contradiction(
                central.is_some() && !has(Role::Nps),
                central.map(|v| v.span()),
                "nps = \"central\" but no host has role nps",
                "add the NPS server (role \"nps\")",
            );
            contradiction(
                central.is_some() && !gw,
                o.nps.as_ref().map(|v| v.span()),
                "nps = \"central\" but no host has role gateway",
                "RADIUS flows go from the gateway to the NPS",
            );
            contradiction(
                o.wmi_port.is_some() && !has(Role::WebAccess),
                o.wmi_port.as_ref().map(|v| v.span()),
                "wmi_port is set but no host has role web-access",
                "the fixed WMI port serves RD Web Access in a perimeter network",
            );
            let ftp = crl.as_ref().is_some_and(|c| c.contains(&CrlMethod::Ftp));
            contradiction(
                o.ftp_passive_range.is_some() && !ftp,
                o.ftp_passive_range.as_ref().map(|v| v.span()),
                "ftp_passive_range is set but crl does not include \"ftp\"",
                "add \"ftp\" to crl, or remove the option",
            );
            let browser = explicit_true(&o.sql_browser);
            contradiction(
                browser.is_some() && o.broker_ha.as_ref().is_none_or(|v| !*v.get_ref()),
                browser,
                "sql_browser is on but broker_ha is off",
                "the SQL Browser serves the broker database",
            );
        }

        Some(Options {
            rdp_port: rdp_port?,
            rdp_udp: flag(&o.rdp_udp, d.rdp_udp),
            gateway_udp: flag(&o.gateway_udp, d.gateway_udp),
            gateway_https_port: gateway_https_port?,
            gateway_udp_port: gateway_udp_port?,
            crl: crl?,
            nps: nps?,
            rpc_range: rpc_range?,
            ad_rpc_port: ad_rpc_port?,
            wmi_port: wmi_port?,
            winrm: winrm?,
            licensing_mode: licensing_mode?,
            activation: activation?,
            netbios: flag(&o.netbios, d.netbios),
            broker_ha: flag(&o.broker_ha, d.broker_ha),
            sql_port: sql_port?,
            sql_browser: flag(&o.sql_browser, d.sql_browser),
            direct_access: flag(&o.direct_access, d.direct_access),
            vdi_unmanaged: flag(&o.vdi_unmanaged, d.vdi_unmanaged),
            web_client: flag(&o.web_client, d.web_client),
            gateway_farm: flag(&o.gateway_farm, d.gateway_farm),
            ssl_bridging: ssl_bridging?,
            ftp_passive_range: ftp_passive_range?,
            domain_baseline: flag(&o.domain_baseline, d.domain_baseline),
            ldaps: flag(&o.ldaps, d.ldaps),
            low_confidence: flag(&o.low_confidence, d.low_confidence),
            domain: domain?,
        })
    }
}

/// Roles the deployment implies when no host states them:
/// * `management`: the first connection broker (Server Manager and RDMS run there);
/// * `dns`: every domain controller (AD-integrated DNS).
fn imply_roles(d: &mut Deployment) {
    let imply = |d: &mut Deployment, role: Role, on: Role, first_only: bool| {
        if d.has(role) {
            return;
        }
        for h in d.hosts.iter_mut().filter(|h| h.has(on)) {
            h.roles.push(role);
            h.roles.sort();
            h.implied_roles.push(role);
            if first_only {
                break;
            }
        }
    };
    imply(d, Role::Management, Role::ConnectionBroker, true);
    imply(d, Role::Dns, Role::DomainController, false);
}

/// Why a name cannot be used, if it cannot: names end up in rule groups, file names and
/// firewall identifiers, so they must be printable and of sane length.
fn name_problem(name: &str) -> Option<&'static str> {
    if name.trim().is_empty() {
        Some("is empty")
    } else if name.chars().count() > 64 {
        Some("is longer than 64 characters")
    } else if name.chars().any(char::is_control) {
        Some("holds control characters")
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
