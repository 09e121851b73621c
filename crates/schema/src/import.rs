//! The two documents of `rdsports import`: what the collector (`rdsports import --collector`,
//! a Windows PowerShell 5.1 script run on the active connection broker) writes, and the drift
//! `rdsports import --compare FILE --format json` prints.
//!
//! The collector's document (`schema_version` 1), read strictly (an unknown key is an error
//! with its JSON path, so a misspelt fact is never silently missing):
//!
//! ```json
//! {"schema_version": 1, "collector": "rdsports", "collected_at": "2026-01-12T08:00:00.0000000Z",
//!  "broker": "cb01.contoso.example",
//!  "cmdlets": {"Get-RDServer": [{"Server": "cb01.contoso.example", "Roles": ["RDS-CONNECTION-BROKER"]}]},
//!  "cmdlet_errors": [{"cmdlet": "Get-RDVirtualDesktopCollection", "error": "..."}],
//!  "servers": [{"name": "sh01.contoso.example", "error": null,
//!               "addresses": {"value": [{"ip": "192.0.2.21", "prefix_length": 24}], "source": "Get-NetIPAddress"},
//!               "rdp_port": {"value": 3389, "source": "HKLM:\\...\\RDP-Tcp PortNumber"}}],
//!  "domain": {"name": {"value": "contoso.example", "source": "Win32_ComputerSystem.Domain"},
//!             "controllers": [{"name": "dc01.contoso.example", "addresses": ["192.0.2.40"],
//!                              "source": "Get-ADDomainController"}]},
//!  "broker_database": {"server": "sql01.contoso.example", "port": 1433, "instance": null,
//!                      "addresses": ["192.0.2.20"], "source": "..."},
//!  "names": [{"name": "nps01.contoso.example", "addresses": ["192.0.2.50"], "source": "Resolve-DnsName"}]}
//! ```
//!
//! `cmdlets` holds each cmdlet's output as `ConvertTo-Json` wrote it (the same forms the
//! exports read from files take). Every fact is a [`Fact`]: its value and where it was read.
//! A server that could not be reached has `error` set and no facts.
//!
//! The drift document (`schema_version` 1): see [`Drift`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The version of the collector's document written and read.
pub const IMPORT_SCHEMA_VERSION: u32 = 1;
/// The version of the drift document written.
pub const DRIFT_SCHEMA_VERSION: u32 = 1;
/// The value of `collector` in the collector's document.
pub const COLLECTOR_NAME: &str = "rdsports";

/// A value and where it was read (a cmdlet, a registry value, a CIM class and property).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fact<T> {
    /// The value.
    pub value: T,
    /// Where it was read, as the admin would look it up (`HKLM:\...\RDP-Tcp PortNumber`).
    pub source: String,
}

/// The collector's document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Collected {
    /// [`IMPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// [`COLLECTOR_NAME`].
    pub collector: String,
    /// When the collector ran, as the broker's clock said (ISO 8601, or 5.1's `/Date(ms)/`).
    #[serde(default)]
    pub collected_at: Option<String>,
    /// The broker the collector ran on.
    pub broker: String,
    /// Each RemoteDesktop cmdlet's output, by cmdlet name, as `ConvertTo-Json` wrote it.
    #[serde(default)]
    pub cmdlets: BTreeMap<String, serde_json::Value>,
    /// Cmdlets that failed, with their error.
    #[serde(default)]
    pub cmdlet_errors: Vec<CmdletError>,
    /// Facts per server of the deployment.
    #[serde(default)]
    pub servers: Vec<ServerFacts>,
    /// The Active Directory domain and its controllers.
    #[serde(default)]
    pub domain: Option<DomainFacts>,
    /// The broker database (high availability), parsed from the connection string, without
    /// credentials.
    #[serde(default)]
    pub broker_database: Option<BrokerDatabase>,
    /// The User Profile Disk locations of the session collections (UNC paths).
    #[serde(default)]
    pub user_profile_disks: Option<Fact<Vec<String>>>,
    /// Other names the facts mention (NPS servers, CRL servers, file servers), resolved on
    /// the broker.
    #[serde(default)]
    pub names: Vec<NameAddresses>,
}

/// A cmdlet that failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CmdletError {
    /// The cmdlet.
    pub cmdlet: String,
    /// Its error message.
    pub error: String,
}

/// One address of a server with its prefix length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// The address (IPv4 or IPv6).
    pub ip: String,
    /// Its prefix length on the interface.
    pub prefix_length: u8,
}

/// What one server says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ServerFacts {
    /// The server's name in the deployment (FQDN).
    pub name: String,
    /// Why it could not be reached (then it has no facts).
    #[serde(default)]
    pub error: Option<String>,
    /// Its unicast addresses with prefix lengths.
    #[serde(default)]
    pub addresses: Option<Fact<Vec<Address>>>,
    /// RDP-Tcp `PortNumber`.
    #[serde(default)]
    pub rdp_port: Option<Fact<u16>>,
    /// Whether RDP over UDP is on (`Win32_TSClientSetting.SelectTransport` not 1, no policy
    /// turning UDP off).
    #[serde(default)]
    pub rdp_udp: Option<Fact<bool>>,
    /// The RD Gateway's settings (gateways only).
    #[serde(default)]
    pub gateway: Option<GatewayFacts>,
    /// The restricted dynamic RPC range (KB 154596 `Ports`), when one is set.
    #[serde(default)]
    pub rpc_range: Option<Fact<String>>,
    /// The WinRM listeners' transports (`HTTP`, `HTTPS`).
    #[serde(default)]
    pub winrm: Option<Fact<Vec<String>>>,
    /// The DNS servers the server uses.
    #[serde(default)]
    pub dns_servers: Option<Fact<Vec<String>>>,
    /// The server's domain.
    #[serde(default)]
    pub domain: Option<Fact<String>>,
}

/// An RD Gateway's transports and policy store (`Win32_TSGatewayServerSettings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct GatewayFacts {
    /// The HTTP transport's port.
    #[serde(default)]
    pub https_port: Option<Fact<u16>>,
    /// Whether the UDP transport is enabled.
    #[serde(default)]
    pub udp_enabled: Option<Fact<bool>>,
    /// The UDP transport's port.
    #[serde(default)]
    pub udp_port: Option<Fact<u16>>,
    /// Whether the policy store is central (NPS).
    #[serde(default)]
    pub central_cap: Option<Fact<bool>>,
    /// The NPS servers' names (`Win32_TSGatewayRADIUSServer.Name`; never the secret).
    #[serde(default)]
    pub nps_servers: Option<Fact<Vec<String>>>,
    /// The CRL distribution points of the gateway's certificate (URLs).
    #[serde(default)]
    pub crl_urls: Option<Fact<Vec<String>>>,
}

/// The domain and its controllers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainFacts {
    /// The DNS name of the domain.
    pub name: Fact<String>,
    /// Its domain controllers.
    #[serde(default)]
    pub controllers: Vec<NameAddresses>,
    /// The fixed port of the DCs' directory RPC (NTDS `TCP/IP Port`), when one is set.
    #[serde(default)]
    pub ad_rpc_port: Option<Fact<u16>>,
}

/// A name and its addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameAddresses {
    /// The name.
    pub name: String,
    /// Its addresses.
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Where name and addresses were read.
    pub source: String,
}

/// The broker database's server, from `DatabaseConnectionString` (credentials never copied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerDatabase {
    /// The SQL server's name.
    pub server: String,
    /// Its port, when the string gives one (`SERVER=host,port`).
    #[serde(default)]
    pub port: Option<u16>,
    /// Its instance, when the string gives one (`SERVER=host\instance`).
    #[serde(default)]
    pub instance: Option<String>,
    /// The server's addresses, resolved on the broker.
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Where it was read.
    pub source: String,
}

/// The drift between a deployment file and the running deployment
/// (`rdsports import SOURCE... --compare FILE --format json`).
///
/// ```json
/// {"schema_version": 1, "file": "deployment.toml", "deployment": "contoso", "differs": true,
///  "differences": [{"kind": "host-missing", "host": "sh04", "item": "host",
///                   "file": null, "running": "192.0.2.24", "source": "Get-RDServer"}]}
/// ```
///
/// `kind` is `host-missing` (running, not in the file), `host-extra` (in the file, not
/// running), `role`, `address` or `option`; `item` names the role, the option or the
/// per-host key; `file` and `running` are the values on each side (`null`: absent). Keys are
/// written in the order of the fields here. Readers must ignore fields they do not know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    /// [`DRIFT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The deployment file compared.
    pub file: String,
    /// Its deployment's name.
    pub deployment: String,
    /// Whether anything differs (exit status 1).
    pub differs: bool,
    /// Every difference, hosts in name order, then options.
    pub differences: Vec<Difference>,
}

/// What kind of difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DifferenceKind {
    /// The deployment runs a host the file does not have.
    HostMissing,
    /// The file has a host the deployment does not run.
    HostExtra,
    /// A role is on one side only.
    Role,
    /// The host's address differs.
    Address,
    /// An option (or a per-host setting) differs.
    Option,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// What kind.
    pub kind: DifferenceKind,
    /// The host (`null` for a deployment-wide option).
    pub host: Option<String>,
    /// The role, option or per-host key (`host` for a whole host).
    pub item: String,
    /// The value in the file (`null`: absent).
    pub file: Option<String>,
    /// The value running (`null`: absent).
    pub running: Option<String>,
    /// Where the running value was read.
    pub source: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collected_refuses_unknown_keys_and_keeps_facts() {
        let text = r#"{"schema_version":1,"collector":"rdsports","broker":"cb01",
            "servers":[{"name":"sh01","rdp_port":{"value":3390,"source":"reg"}}]}"#;
        let d: Collected = serde_json::from_str(text).unwrap();
        assert_eq!(d.servers[0].rdp_port.as_ref().unwrap().value, 3390);
        let bad = r#"{"schema_version":1,"collector":"rdsports","broker":"cb01",
            "servers":[{"name":"sh01","rdp_prot":{"value":3390,"source":"reg"}}]}"#;
        let e = serde_json::from_str::<Collected>(bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `rdp_prot`"), "{e}");
    }

    #[test]
    fn drift_kinds_are_kebab_case() {
        let d = Difference {
            kind: DifferenceKind::HostMissing,
            host: Some("sh04".into()),
            item: "host".into(),
            file: None,
            running: Some("192.0.2.24".into()),
            source: "Get-RDServer".into(),
        };
        let j = serde_json::to_string(&d).unwrap();
        assert!(
            j.starts_with(r#"{"kind":"host-missing","host":"sh04""#),
            "{j}"
        );
    }
}
