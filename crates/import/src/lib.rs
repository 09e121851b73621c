//! What a running RDS deployment says about itself, read into a deployment file or compared
//! with one (`rdsports import`).
//!
//! Two sources, both first-class:
//!
//! * the RemoteDesktop cmdlets' output piped into `ConvertTo-Json`, one file per cmdlet named
//!   after it (`Get-RDServer.json`, ...), in either serialiser's forms ([`json`] says which),
//!   and `Get-RDServer | Export-Csv` with the roles `-join`ed;
//! * the document of the collector rdsports ships (`rdsports import --collector`),
//!   [`schema::import::Collected`], which holds the cmdlets' output and each server's facts
//!   (addresses with prefix lengths, RDP port, gateway transports, ...), each with its source.
//!
//! [`read`] merges every source into an [`Inventory`] (the same server named in several
//! exports is one server); [`model::Model::of`] decides the deployment file's values from it,
//! each with its source, and says what it could not tell; [`model::Model::render`] writes the
//! TOML and [`compare::compare`] the drift against a deployment file.
//!
//! Secrets never pass: a `SharedSecret` (any `Password`/`Pwd`) field anywhere and the
//! `Password=`/`Pwd=` parts of a connection string are dropped while reading, and a warning
//! says where.
//!
//! This crate is pure: it does no I/O and knows no clock (names are resolved by the caller,
//! which hands the addresses to [`model::Model::of`]).
#![warn(missing_docs, clippy::print_stdout, clippy::print_stderr)]
#![forbid(unsafe_code)]

mod cmdlets;
mod collected;
pub mod compare;
mod csv;
mod json;
pub mod model;
mod secrets;
mod sql;

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use rdsports_core::Role;
pub use rdsports_schema::import as schema;
use rdsports_schema::import::Fact;
use serde_json::Value;

pub use cmdlets::Cmdlet;

/// The collector `rdsports import --collector` prints: a Windows PowerShell 5.1 script to run
/// on the active connection broker, whose output is a [`schema::Collected`] document.
pub const COLLECTOR: &str = include_str!("collector.ps1");

/// The most servers (and other hosts) one import reads: far above any RDS deployment, low
/// enough that a hostile file cannot make the output grow without bound.
pub const MAX_SERVERS: usize = 100_000;
/// The largest input text read (the caller reads files with the same cap).
pub const MAX_INPUT_BYTES: usize = 64 << 20;

/// One input: a file's name (for messages and to tell which cmdlet wrote it) and its text.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The file's name as the user gave it.
    pub name: &'a str,
    /// Its text (decoded).
    pub text: &'a str,
}

/// A problem in one input, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// The file.
    pub file: String,
    /// Where in it: a JSON path (`$[2].Roles[1]`) or `line:column`.
    pub place: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.place {
            Some(p) => write!(f, "{}: {p}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ImportError {}

/// A problem before its file is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub place: Option<String>,
    pub message: String,
    pub hint: String,
}

impl Problem {
    pub(crate) fn at(place: &str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Problem {
            place: Some(place.to_owned()),
            message: message.into(),
            hint: hint.into(),
        }
    }

    fn in_file(self, file: &str) -> ImportError {
        ImportError {
            file: file.to_owned(),
            place: self.place,
            message: self.message,
            hint: self.hint,
        }
    }
}

/// An address and, when the source gave it, its prefix length.
pub type Addressed = (IpAddr, Option<u8>);

/// One server (or other host the facts name) of the running deployment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Server {
    /// Its name as first written (an FQDN, as the cmdlets give it).
    pub name: String,
    /// Its roles, each with where it was read.
    pub roles: BTreeMap<Role, String>,
    /// Its addresses, with prefix lengths when the source gave them.
    pub addresses: Option<Fact<Vec<Addressed>>>,
    /// RDP-Tcp `PortNumber`.
    pub rdp_port: Option<Fact<u16>>,
    /// RDP over UDP.
    pub rdp_udp: Option<Fact<bool>>,
    /// The gateway's HTTP transport port.
    pub gateway_https_port: Option<Fact<u16>>,
    /// The gateway's UDP transport.
    pub gateway_udp: Option<Fact<bool>>,
    /// The gateway's UDP transport port.
    pub gateway_udp_port: Option<Fact<u16>>,
    /// The restricted RPC range (KB 154596).
    pub rpc_range: Option<Fact<String>>,
    /// WinRM listener transports.
    pub winrm: Option<Fact<Vec<String>>>,
    /// Why the collector could not reach it.
    pub unreachable: Option<String>,
}

/// Deployment-wide facts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Facts {
    /// `GatewayMode` (`DoNotUse`, `Custom`, `Automatic`).
    pub gateway_mode: Option<Fact<&'static str>>,
    /// `GatewayExternalFqdn` (Custom mode only).
    pub gateway_external_fqdn: Option<Fact<String>>,
    /// `BypassLocal`: local clients go straight to the hosts.
    pub bypass_local: Option<Fact<bool>>,
    /// `LogonMethod`.
    pub logon_method: Option<Fact<&'static str>>,
    /// Licensing `Mode` (`PerDevice`, `PerUser`, `NotConfigured`).
    pub licensing_mode: Option<Fact<&'static str>>,
    /// Broker high availability configured.
    pub broker_ha: Option<Fact<bool>>,
    /// The broker database's SQL server.
    pub database: Option<Fact<sql::SqlServer>>,
    /// A virtual desktop collection is unmanaged.
    pub vdi_unmanaged: Option<Fact<bool>>,
    /// Session collections by name.
    pub collections: Vec<String>,
    /// Virtual desktops (names), when any.
    pub virtual_desktops: Vec<String>,
    /// The AD domain.
    pub domain: Option<Fact<String>>,
    /// Whether the gateways' policy store is central, per gateway.
    pub central_cap: Vec<(String, Fact<bool>)>,
    /// CRL retrieval methods from the gateway certificates' distribution points.
    pub crl: Option<Fact<Vec<rdsports_core::deployment::CrlMethod>>>,
    /// The fixed NTDS RPC port of the DCs.
    pub ad_rpc_port: Option<Fact<u16>>,
    /// The collector's broker and time.
    pub collected: Option<(String, Option<String>)>,
}

/// Everything the inputs said, merged.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inventory {
    /// Servers by lower-case name.
    pub servers: BTreeMap<String, Server>,
    /// Deployment-wide facts.
    pub facts: Facts,
    /// The inputs read, in order.
    pub sources: Vec<String>,
    /// Things the admin must know (secrets dropped, unreachable servers, failed cmdlets).
    pub warnings: Vec<String>,
    /// Roles the sources could see (a role the sources cannot see is never reported as
    /// drift).
    pub visible: std::collections::BTreeSet<Role>,
}

impl Inventory {
    /// The server called `name` (any case), created with `name` when new.
    pub(crate) fn server(&mut self, name: &str) -> Result<&mut Server, Problem> {
        let key = name.trim().to_ascii_lowercase();
        if !self.servers.contains_key(&key) && self.servers.len() >= MAX_SERVERS {
            return Err(Problem {
                place: None,
                message: format!("more than {MAX_SERVERS} servers"),
                hint: "import one deployment at a time".into(),
            });
        }
        Ok(self.servers.entry(key).or_insert_with(|| Server {
            name: name.trim().to_owned(),
            ..Server::default()
        }))
    }

    /// Gives `name` role `role`, read from `source`.
    pub(crate) fn role(&mut self, name: &str, role: Role, source: &str) -> Result<(), Problem> {
        self.visible.insert(role);
        self.server(name)?
            .roles
            .entry(role)
            .or_insert_with(|| source.to_owned());
        Ok(())
    }

    /// Merges servers known by a short name (`sh01`) into the one FQDN that begins with it
    /// (`sh01.contoso.example`), as exports and facts name the same server both ways.
    fn merge_short_names(&mut self) {
        let short: Vec<String> = self
            .servers
            .keys()
            .filter(|k| !k.contains('.'))
            .cloned()
            .collect();
        for s in short {
            let prefix = format!("{s}.");
            let long: Vec<String> = self
                .servers
                .keys()
                .filter(|k| k.starts_with(&prefix))
                .cloned()
                .collect();
            if let [long] = long.as_slice()
                && let Some(from) = self.servers.remove(&s)
                && let Some(into) = self.servers.get_mut(long)
            {
                merge(into, from);
            }
        }
    }
}

/// `from`'s facts added to `into` where `into` has none.
fn merge(into: &mut Server, from: Server) {
    for (r, s) in from.roles {
        into.roles.entry(r).or_insert(s);
    }
    macro_rules! keep {
        ($($f:ident),*) => { $( if into.$f.is_none() { into.$f = from.$f; } )* };
    }
    keep!(
        addresses,
        rdp_port,
        rdp_udp,
        gateway_https_port,
        gateway_udp,
        gateway_udp_port,
        rpc_range,
        winrm,
        unreachable
    );
}

/// What kind of input a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Cmdlet(Cmdlet),
    Collected,
    Csv,
}

/// Reads and merges every source. The first bad input ends the import with its located
/// error.
pub fn read(sources: &[Source<'_>]) -> Result<Inventory, ImportError> {
    let mut inv = Inventory::default();
    // Get-RDServer first, so that roles name it as their source (the others add to it).
    let mut ordered: Vec<&Source<'_>> = sources.iter().collect();
    ordered.sort_by_key(|s| !matches!(kind_of(s), Ok(Kind::Cmdlet(Cmdlet::Server) | Kind::Csv)));
    for s in ordered {
        read_one(&mut inv, s)?;
    }
    inv.merge_short_names();
    Ok(inv)
}

fn read_one(inv: &mut Inventory, s: &Source<'_>) -> Result<(), ImportError> {
    let err = |p: Problem| p.in_file(s.name);
    if s.text.len() > MAX_INPUT_BYTES {
        return Err(err(Problem {
            place: None,
            message: format!("larger than {} MiB", MAX_INPUT_BYTES >> 20),
            hint: "is this the right file? Export one cmdlet per file".into(),
        }));
    }
    inv.sources.push(s.name.to_owned());
    let kind = kind_of(s).map_err(err)?;
    if kind == Kind::Csv {
        return csv::read_servers(inv, s.text).map_err(err);
    }
    let mut value: Value = serde_json::from_str(s.text).map_err(|e| {
        err(Problem {
            place: Some(format!("{}:{}", e.line(), e.column())),
            message: format!("not JSON: {e}"),
            hint: if e.to_string().contains("recursion limit") {
                "nested deeper than 128 levels: no cmdlet's output is; is this the right file?"
                    .into()
            } else {
                "export with `ConvertTo-Json -Depth 4 | Out-File -Encoding utf8 NAME.json`".into()
            },
        })
    })?;
    for place in secrets::scrub(&mut value, "$") {
        inv.warnings.push(format!(
            "{}: {place}: a secret was dropped (it never reaches the output)",
            s.name
        ));
    }
    match kind {
        Kind::Cmdlet(c) => c.read(inv, &value, "$").map_err(err),
        Kind::Collected => collected::read(inv, value).map_err(err),
        Kind::Csv => Ok(()),
    }
}

/// Which cmdlet wrote a file: its name (`Get-RDServer.json`, any case), else its content
/// (the collector's document says so).
fn kind_of(s: &Source<'_>) -> Result<Kind, Problem> {
    let base = s.name.rsplit(['/', '\\']).next().unwrap_or(s.name);
    let (stem, ext) = base.rsplit_once('.').unwrap_or((base, ""));
    if ext.eq_ignore_ascii_case("csv") {
        return if stem.eq_ignore_ascii_case("Get-RDServer") || s.text.contains("\"Roles\"") {
            Ok(Kind::Csv)
        } else {
            Err(Problem {
                place: None,
                message: "only Get-RDServer is read from CSV".into(),
                hint: "export the other cmdlets as JSON: `Get-RDLicenseConfiguration | ConvertTo-Json -Depth 4 > Get-RDLicenseConfiguration.json`".into(),
            })
        };
    }
    if let Some(c) = Cmdlet::ALL
        .iter()
        .find(|c| c.name().eq_ignore_ascii_case(stem))
    {
        return Ok(Kind::Cmdlet(*c));
    }
    let head: String = s.text.chars().take(4096).collect();
    if head.contains("\"schema_version\"") && head.contains("\"collector\"") {
        return Ok(Kind::Collected);
    }
    if head.trim_start().starts_with("#TYPE") || head.contains("\"Server\",\"Roles\"") {
        return Ok(Kind::Csv);
    }
    let names: Vec<String> = Cmdlet::ALL
        .iter()
        .map(|c| format!("{}.json", c.name()))
        .collect();
    Err(Problem {
        place: None,
        message: "cannot tell which cmdlet wrote this file".into(),
        hint: format!(
            "name each export after its cmdlet ({}), or give the collector's document",
            names.join(", ")
        ),
    })
}

#[cfg(test)]
mod tests;
