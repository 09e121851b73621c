//! Readers of the RemoteDesktop cmdlets' output, one per cmdlet.
//!
//! Types, properties and enum values from Microsoft's reference of the RemoteDesktop module
//! (learn.microsoft.com/powershell/module/remotedesktop/, the 2012 R2 help in
//! MicrosoftDocs/windows-powershell-docs `docset/winserver2012r2-ps/remotedesktop/`), where
//! the enum numbers are those of the module's types as the RemoteDesktop stubs of
//! dsccommunity/xRemoteDesktopSessionHost list them (see /work/shared/reference/rds-import.md).

use rdsports_core::Role;
use rdsports_schema::import::Fact;
use serde_json::Value;

use crate::json::{self, Enum};
use crate::{Inventory, Problem, sql};

/// A cmdlet whose output `import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmdlet {
    /// `Get-RDServer`: servers and their roles.
    Server,
    /// `Get-RDDeploymentGatewayConfiguration`.
    Gateway,
    /// `Get-RDLicenseConfiguration`.
    License,
    /// `Get-RDConnectionBrokerHighAvailability`.
    BrokerHa,
    /// `Get-RDSessionCollection`.
    SessionCollection,
    /// `Get-RDSessionHost`.
    SessionHost,
    /// `Get-RDVirtualDesktopCollection`.
    VirtualDesktopCollection,
    /// `Get-RDVirtualDesktop`.
    VirtualDesktop,
}

/// The RemoteDesktop role names of `Get-RDServer` and ours.
pub const ROLES: [(&str, Role); 6] = [
    ("RDS-CONNECTION-BROKER", Role::ConnectionBroker),
    ("RDS-RD-SERVER", Role::SessionHost),
    ("RDS-WEB-ACCESS", Role::WebAccess),
    ("RDS-GATEWAY", Role::Gateway),
    ("RDS-LICENSING", Role::Licensing),
    ("RDS-VIRTUALIZATION", Role::VirtualizationHost),
];

/// `GatewayUsage` (`GatewayMode`): the 2012 R2 help lists Automatic, DoNotUse, Custom.
pub(crate) const GATEWAY_MODE: Enum = Enum {
    name: "GatewayMode",
    values: &[(0, &["DoNotUse"]), (2, &["Custom"]), (3, &["Automatic"])],
};

/// `GatewayAuthMode` (`LogonMethod`): the 2012 R2 help says `AllowUserToSelectRuntime`, the
/// type's name is `AllowUserToSelectDuringConnection`; both are read.
pub(crate) const LOGON_METHOD: Enum = Enum {
    name: "LogonMethod",
    values: &[
        (0, &["Password"]),
        (1, &["Smartcard"]),
        (
            4,
            &[
                "AllowUserToSelectDuringConnection",
                "AllowUserToSelectRuntime",
            ],
        ),
    ],
};

/// `LicensingMode` (`Mode` of `Get-RDLicenseConfiguration`).
pub(crate) const LICENSING_MODE: Enum = Enum {
    name: "LicensingMode",
    values: &[
        (2, &["PerDevice"]),
        (4, &["PerUser"]),
        (5, &["NotConfigured"]),
    ],
};

/// `CollectionType` of `Get-RDSessionCollection`.
pub(crate) const SESSION_COLLECTION_TYPE: Enum = Enum {
    name: "CollectionType",
    values: &[
        (0, &["Unknown"]),
        (1, &["PooledUnmanaged"]),
        (2, &["PersonalUnmanaged"]),
    ],
};

/// `Type` of `Get-RDVirtualDesktopCollection`.
pub(crate) const VDI_COLLECTION_TYPE: Enum = Enum {
    name: "VirtualDesktopCollectionType",
    values: &[
        (0, &["Unknown"]),
        (1, &["PooledManaged"]),
        (2, &["PooledUnmanaged"]),
        (3, &["PersonalManaged"]),
        (4, &["PersonalUnmanaged"]),
    ],
};

/// `NewConnectionAllowed` of `Get-RDSessionHost`.
pub(crate) const NEW_CONNECTION_ALLOWED: Enum = Enum {
    name: "NewConnectionAllowed",
    values: &[(0, &["Yes"]), (1, &["NotUntilReboot"]), (2, &["No"])],
};

impl Cmdlet {
    /// Every cmdlet read.
    pub const ALL: [Cmdlet; 8] = [
        Cmdlet::Server,
        Cmdlet::Gateway,
        Cmdlet::License,
        Cmdlet::BrokerHa,
        Cmdlet::SessionCollection,
        Cmdlet::SessionHost,
        Cmdlet::VirtualDesktopCollection,
        Cmdlet::VirtualDesktop,
    ];

    /// The cmdlet's name.
    pub fn name(self) -> &'static str {
        match self {
            Cmdlet::Server => "Get-RDServer",
            Cmdlet::Gateway => "Get-RDDeploymentGatewayConfiguration",
            Cmdlet::License => "Get-RDLicenseConfiguration",
            Cmdlet::BrokerHa => "Get-RDConnectionBrokerHighAvailability",
            Cmdlet::SessionCollection => "Get-RDSessionCollection",
            Cmdlet::SessionHost => "Get-RDSessionHost",
            Cmdlet::VirtualDesktopCollection => "Get-RDVirtualDesktopCollection",
            Cmdlet::VirtualDesktop => "Get-RDVirtualDesktop",
        }
    }

    /// The cmdlet called `name` (any case).
    pub fn of(name: &str) -> Option<Cmdlet> {
        Cmdlet::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// Reads this cmdlet's output `v` (at `path`) into `inv`.
    pub(crate) fn read(self, inv: &mut Inventory, v: &Value, path: &str) -> Result<(), Problem> {
        let src = self.name();
        let items = json::items(v, path)?;
        match self {
            Cmdlet::Server => {
                inv.visible.extend(ROLES.map(|(_, r)| r));
                let mut unknown: Vec<(String, String)> = Vec::new();
                for (p, item) in &items {
                    let o = json::object(item, p)?;
                    let server = json::required(o, "Server", p)?;
                    inv.server(&server)?;
                    for (rp, name) in json::strings(o, "Roles", p)? {
                        if name.trim() == "System.String[]" {
                            return Err(Problem::at(
                                &rp,
                                "the roles were written as \"System.String[]\"",
                                CSV_HINT,
                            ));
                        }
                        match role_of(&name) {
                            Some(r) => inv.role(&server, r, src)?,
                            None => unknown.push((rp, name)),
                        }
                    }
                }
                if let Some((first, _)) = unknown.first() {
                    let names: Vec<String> =
                        unknown.iter().map(|(_, n)| format!("{n:?}")).collect();
                    return Err(Problem::at(
                        first,
                        format!("unknown role names: {}", names.join(", ")),
                        format!("Get-RDServer's roles are {}", known_roles()),
                    ));
                }
            }
            Cmdlet::Gateway => {
                for (p, item) in items.iter().take(1) {
                    let o = json::object(item, p)?;
                    let mode = GATEWAY_MODE.read(o, "GatewayMode", p)?;
                    inv.facts.gateway_mode = mode.map(|m| fact(m, src, "GatewayMode"));
                    if let Some(fqdn) = json::string(o, "GatewayExternalFqdn", p)?
                        && !fqdn.trim().is_empty()
                    {
                        inv.facts.gateway_external_fqdn =
                            Some(fact(fqdn.trim().to_owned(), src, "GatewayExternalFqdn"));
                    }
                    if let Some(b) = json::boolean(o, "BypassLocal", p)? {
                        inv.facts.bypass_local = Some(fact(b, src, "BypassLocal"));
                    }
                    if let Some(m) = LOGON_METHOD.read(o, "LogonMethod", p)? {
                        inv.facts.logon_method = Some(fact(m, src, "LogonMethod"));
                    }
                }
            }
            Cmdlet::License => {
                for (p, item) in &items {
                    let o = json::object(item, p)?;
                    if let Some(m) = LICENSING_MODE.read(o, "Mode", p)? {
                        inv.facts.licensing_mode = Some(fact(m, src, "Mode"));
                    }
                    for (_, ls) in json::strings(o, "LicenseServer", p)? {
                        if !ls.trim().is_empty() {
                            inv.role(&ls, Role::Licensing, &format!("{src} LicenseServer"))?;
                        }
                    }
                }
            }
            Cmdlet::BrokerHa => {
                inv.visible.insert(Role::Sql);
                let mut ha = false;
                for (p, item) in items.iter().take(1) {
                    let o = json::object(item, p)?;
                    for (_, cb) in json::strings(o, "ConnectionBroker", p)? {
                        ha = true;
                        inv.role(
                            &cb,
                            Role::ConnectionBroker,
                            &format!("{src} ConnectionBroker"),
                        )?;
                    }
                    for key in [
                        "DatabaseConnectionString",
                        "DatabaseSecondaryConnectionString",
                    ] {
                        let Some(cs) = json::string(o, key, p)? else {
                            continue;
                        };
                        ha = true;
                        match sql::server(&cs) {
                            Some(s) => {
                                let source = format!("{src} {key} SERVER=");
                                inv.role(&s.host, Role::Sql, &source)?;
                                if inv.facts.database.is_none() {
                                    inv.facts.database = Some(Fact { value: s, source });
                                }
                            }
                            None => inv.warnings.push(format!(
                                "{src} {key}: no SERVER= in the connection string: the SQL \
                                 server of broker high availability is unknown"
                            )),
                        }
                    }
                }
                inv.facts.broker_ha = Some(fact(ha, src, "ConnectionBroker"));
            }
            Cmdlet::SessionCollection => {
                for (p, item) in &items {
                    let o = json::object(item, p)?;
                    let name = json::required(o, "CollectionName", p)?;
                    SESSION_COLLECTION_TYPE.read(o, "CollectionType", p)?;
                    inv.facts.collections.push(name);
                }
            }
            Cmdlet::SessionHost => {
                for (p, item) in &items {
                    let o = json::object(item, p)?;
                    let host = json::required(o, "SessionHost", p)?;
                    NEW_CONNECTION_ALLOWED.read(o, "NewConnectionAllowed", p)?;
                    inv.role(&host, Role::SessionHost, src)?;
                }
            }
            Cmdlet::VirtualDesktopCollection => {
                let mut unmanaged = false;
                for (p, item) in &items {
                    let o = json::object(item, p)?;
                    json::required(o, "CollectionName", p)?;
                    let t = VDI_COLLECTION_TYPE.read(o, "Type", p)?;
                    unmanaged |= matches!(t, Some("PooledUnmanaged" | "PersonalUnmanaged"));
                }
                inv.facts.vdi_unmanaged = Some(fact(unmanaged, src, "Type"));
            }
            Cmdlet::VirtualDesktop => {
                for (p, item) in &items {
                    let o = json::object(item, p)?;
                    let vm = json::required(o, "VirtualDesktopName", p)?;
                    if let Some(h) = json::string(o, "HostName", p)?
                        && !h.trim().is_empty()
                    {
                        inv.role(&h, Role::VirtualizationHost, &format!("{src} HostName"))?;
                    }
                    if inv.facts.virtual_desktops.len() < crate::MAX_SERVERS {
                        inv.facts.virtual_desktops.push(vm);
                    }
                }
            }
        }
        Ok(())
    }
}

/// What to do instead of `Export-Csv` of the roles array.
pub(crate) const CSV_HINT: &str = "Export-Csv writes an array as its type name; join the roles: \
    `Get-RDServer | Select-Object Server, @{Name='Roles'; Expression={$_.Roles -join ';'}} | \
    Export-Csv -NoTypeInformation -Path Get-RDServer.csv` (or `Get-RDServer | ConvertTo-Json \
    -Depth 4 > Get-RDServer.json`)";

/// Our role for a RemoteDesktop role name (any case).
pub(crate) fn role_of(name: &str) -> Option<Role> {
    ROLES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
        .map(|(_, r)| *r)
}

/// The RemoteDesktop role names, for hints.
pub(crate) fn known_roles() -> String {
    ROLES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

fn fact<T>(value: T, cmdlet: &str, property: &str) -> Fact<T> {
    Fact {
        value,
        source: format!("{cmdlet} {property}"),
    }
}
