//! PowerShell as PowerShell reads it: every script the project writes is parsed with a real
//! grammar (tree-sitter-powershell) and every command in it is checked against the cmdlets
//! and parameters Microsoft documents.
//!
//! A parse with any ERROR or MISSING node is a failure, with the line and column. Commands are
//! the grammar's `command` nodes; their parameters are the `-Name` tokens and the keys of
//! every hashtable splatted into them (`New-NetFirewallRule @Common` takes the keys of
//! `$Common = @{ ... }`). Parameter names must be written out in full (PowerShell would accept
//! an unambiguous prefix; a generated script never relies on that).

use std::collections::{BTreeMap, BTreeSet};

use tree_sitter::{Node, Parser, Tree};

/// The parameters every cmdlet accepts (about_CommonParameters).
const COMMON_PARAMETERS: &[&str] = &[
    "Debug",
    "ErrorAction",
    "ErrorVariable",
    "InformationAction",
    "InformationVariable",
    "OutBuffer",
    "OutVariable",
    "PipelineVariable",
    "ProgressAction",
    "Verbose",
    "WarningAction",
    "WarningVariable",
];

/// The NetSecurity rule-selection parameters Get- and Remove-NetFirewallRule share (their
/// "Syntax" sections in Microsoft's NetSecurity reference, Windows Server 2012 R2 to 2025).
const RULE_QUERY: &[&str] = &[
    "All",
    "Name",
    "DisplayName",
    "Description",
    "DisplayGroup",
    "Group",
    "Enabled",
    "Direction",
    "Action",
    "EdgeTraversalPolicy",
    "LooseSourceMapping",
    "LocalOnlyMapping",
    "Owner",
    "PrimaryStatus",
    "Status",
    "PolicyStoreSource",
    "PolicyStoreSourceType",
    "PolicyStore",
    "GPOSession",
    "TracePolicyStore",
    "AssociatedNetFirewallAddressFilter",
    "AssociatedNetFirewallApplicationFilter",
    "AssociatedNetFirewallInterfaceFilter",
    "AssociatedNetFirewallInterfaceTypeFilter",
    "AssociatedNetFirewallPortFilter",
    "AssociatedNetFirewallProfile",
    "AssociatedNetFirewallSecurityFilter",
    "AssociatedNetFirewallServiceFilter",
    "AssociatedIPsecRule",
    "CimSession",
    "ThrottleLimit",
    "AsJob",
];

/// The cmdlets a script of ours may call, with the module that documents each, and its
/// parameters (besides [`COMMON_PARAMETERS`]). Taken from the "Syntax" sections of
/// learn.microsoft.com/powershell/module/<module>/<cmdlet>.
pub fn allowed() -> BTreeMap<&'static str, (&'static str, BTreeSet<&'static str>)> {
    let mut t = BTreeMap::new();
    let set = |lists: &[&[&'static str]]| -> BTreeSet<&'static str> {
        lists.iter().flat_map(|l| l.iter().copied()).collect()
    };
    t.insert(
        "New-NetFirewallRule",
        (
            "NetSecurity",
            set(&[&[
                "PolicyStore",
                "GPOSession",
                "Name",
                "DisplayName",
                "Description",
                "Group",
                "Enabled",
                "Profile",
                "Platform",
                "Direction",
                "Action",
                "EdgeTraversalPolicy",
                "LooseSourceMapping",
                "LocalOnlyMapping",
                "Owner",
                "LocalAddress",
                "RemoteAddress",
                "Protocol",
                "LocalPort",
                "RemotePort",
                "IcmpType",
                "DynamicTarget",
                "Program",
                "Package",
                "Service",
                "InterfaceAlias",
                "InterfaceType",
                "LocalUser",
                "RemoteUser",
                "RemoteMachine",
                "Authentication",
                "Encryption",
                "OverrideBlockRules",
                "RemoteDynamicKeywordAddresses",
                "CimSession",
                "ThrottleLimit",
                "AsJob",
                "WhatIf",
                "Confirm",
            ]]),
        ),
    );
    t.insert("Get-NetFirewallRule", ("NetSecurity", set(&[RULE_QUERY])));
    t.insert(
        "Remove-NetFirewallRule",
        (
            "NetSecurity",
            set(&[
                RULE_QUERY,
                &["InputObject", "PassThru", "WhatIf", "Confirm"],
            ]),
        ),
    );
    t.insert(
        "Get-NetFirewallProfile",
        (
            "NetSecurity",
            set(&[&[
                "All",
                "Name",
                "AssociatedNetFirewallRule",
                "PolicyStore",
                "GPOSession",
                "CimSession",
                "ThrottleLimit",
                "AsJob",
            ]]),
        ),
    );
    t.insert(
        "Get-NetConnectionProfile",
        (
            "NetConnection",
            set(&[&[
                "Name",
                "InterfaceAlias",
                "InterfaceIndex",
                "NetworkCategory",
                "IPv4Connectivity",
                "IPv6Connectivity",
                "CimSession",
                "ThrottleLimit",
                "AsJob",
            ]]),
        ),
    );
    // Microsoft.PowerShell.Core, .Utility and .Security: what the scripts and the README use
    // around the NetSecurity cmdlets.
    t.insert(
        "Out-Null",
        ("Microsoft.PowerShell.Core", set(&[&["InputObject"]])),
    );
    t.insert(
        "Write-Warning",
        ("Microsoft.PowerShell.Utility", set(&[&["Message"]])),
    );
    t.insert(
        "Write-Host",
        (
            "Microsoft.PowerShell.Utility",
            set(&[&[
                "Object",
                "NoNewline",
                "Separator",
                "ForegroundColor",
                "BackgroundColor",
            ]]),
        ),
    );
    t.insert(
        "Format-Table",
        (
            "Microsoft.PowerShell.Utility",
            set(&[&[
                "Property",
                "AutoSize",
                "RepeatHeader",
                "HideTableHeaders",
                "Wrap",
                "GroupBy",
                "View",
                "ShowError",
                "DisplayError",
                "Force",
                "Expand",
                "InputObject",
            ]]),
        ),
    );
    t.insert(
        "Get-FileHash",
        (
            "Microsoft.PowerShell.Utility",
            set(&[&["Path", "LiteralPath", "InputStream", "Algorithm"]]),
        ),
    );
    t.insert(
        "Unblock-File",
        (
            "Microsoft.PowerShell.Utility",
            set(&[&["Path", "LiteralPath", "WhatIf", "Confirm"]]),
        ),
    );
    // The import collector (crates/import/src/collector.ps1). RemoteDesktop: the "Syntax"
    // sections of learn.microsoft.com/powershell/module/remotedesktop/<cmdlet>
    // (windowsserver2025-ps, the same parameters since 2012 R2).
    for (cmdlet, params) in [
        ("Get-RDServer", &["Role", "ConnectionBroker"][..]),
        (
            "Get-RDDeploymentGatewayConfiguration",
            &["ConnectionBroker"][..],
        ),
        ("Get-RDLicenseConfiguration", &["ConnectionBroker"][..]),
        (
            "Get-RDConnectionBrokerHighAvailability",
            &["ConnectionBroker"][..],
        ),
        (
            "Get-RDSessionCollection",
            &["CollectionName", "ConnectionBroker"][..],
        ),
        (
            "Get-RDSessionHost",
            &["CollectionName", "ConnectionBroker"][..],
        ),
        (
            "Get-RDVirtualDesktopCollection",
            &["CollectionName", "ConnectionBroker"][..],
        ),
        (
            "Get-RDVirtualDesktop",
            &["CollectionName", "ConnectionBroker"][..],
        ),
        (
            "Get-RDSessionCollectionConfiguration",
            &[
                "CollectionName",
                "Client",
                "Connection",
                "UserGroup",
                "UserProfileDisk",
                "Security",
                "LoadBalancing",
                "ConnectionBroker",
            ][..],
        ),
    ] {
        t.insert(cmdlet, ("RemoteDesktop", set(&[params])));
    }
    // CimCmdlets: learn.microsoft.com/powershell/module/cimcmdlets/get-ciminstance and
    // .../invoke-cimmethod (?view=powershell-5.1).
    t.insert(
        "Get-CimInstance",
        (
            "CimCmdlets",
            set(&[&[
                "ClassName",
                "Namespace",
                "Filter",
                "Property",
                "KeyOnly",
                "Shallow",
                "ComputerName",
                "CimSession",
                "OperationTimeoutSec",
                "Query",
                "QueryDialect",
                "InputObject",
                "ResourceUri",
            ]]),
        ),
    );
    t.insert(
        "Invoke-CimMethod",
        (
            "CimCmdlets",
            set(&[&[
                "InputObject",
                "MethodName",
                "Arguments",
                "ClassName",
                "CimClass",
                "Namespace",
                "ComputerName",
                "CimSession",
                "OperationTimeoutSec",
                "Query",
                "QueryDialect",
                "ResourceUri",
                "WhatIf",
                "Confirm",
            ]]),
        ),
    );
    // Microsoft.PowerShell.Core (?view=powershell-5.1): import-module, invoke-command,
    // new-pssessionoption, foreach-object, where-object.
    t.insert(
        "Import-Module",
        (
            "Microsoft.PowerShell.Core",
            set(&[&[
                "Name",
                "FullyQualifiedName",
                "Assembly",
                "ModuleInfo",
                "Global",
                "Prefix",
                "Function",
                "Cmdlet",
                "Variable",
                "Alias",
                "Force",
                "PassThru",
                "AsCustomObject",
                "MinimumVersion",
                "MaximumVersion",
                "RequiredVersion",
                "ArgumentList",
                "DisableNameChecking",
                "NoClobber",
                "Scope",
                "PSSession",
                "CimSession",
                "CimResourceUri",
                "CimNamespace",
            ]]),
        ),
    );
    t.insert(
        "Invoke-Command",
        (
            "Microsoft.PowerShell.Core",
            set(&[&[
                "ComputerName",
                "ScriptBlock",
                "FilePath",
                "ArgumentList",
                "InputObject",
                "Session",
                "SessionOption",
                "Credential",
                "Authentication",
                "CertificateThumbprint",
                "Port",
                "UseSSL",
                "ConfigurationName",
                "ApplicationName",
                "ConnectionUri",
                "AllowRedirection",
                "ThrottleLimit",
                "AsJob",
                "JobName",
                "HideComputerName",
                "InDisconnectedSession",
                "SessionName",
                "EnableNetworkAccess",
                "NoNewScope",
                "VMId",
                "VMName",
                "ContainerId",
                "RunAsAdministrator",
            ]]),
        ),
    );
    t.insert(
        "New-PSSessionOption",
        (
            "Microsoft.PowerShell.Core",
            set(&[&[
                "MaximumRedirection",
                "NoCompression",
                "NoMachineProfile",
                "Culture",
                "UICulture",
                "MaximumReceivedDataSizePerCommand",
                "MaximumReceivedObjectSize",
                "OutputBufferingMode",
                "MaxConnectionRetryCount",
                "ApplicationArguments",
                "OpenTimeout",
                "CancelTimeout",
                "IdleTimeout",
                "ProxyAccessType",
                "ProxyAuthentication",
                "ProxyCredential",
                "SkipCACheck",
                "SkipCNCheck",
                "SkipRevocationCheck",
                "OperationTimeout",
                "NoEncryption",
                "UseUTF16",
                "IncludePortInSPN",
            ]]),
        ),
    );
    t.insert(
        "ForEach-Object",
        (
            "Microsoft.PowerShell.Core",
            set(&[&[
                "InputObject",
                "Begin",
                "Process",
                "End",
                "RemainingScripts",
                "MemberName",
                "ArgumentList",
                "WhatIf",
                "Confirm",
            ]]),
        ),
    );
    t.insert(
        "Where-Object",
        (
            "Microsoft.PowerShell.Core",
            set(&[&["InputObject", "FilterScript", "Property", "Value"]]),
        ),
    );
    // Microsoft.PowerShell.Utility (?view=powershell-5.1): convertto-json, get-date,
    // sort-object.
    t.insert(
        "ConvertTo-Json",
        (
            "Microsoft.PowerShell.Utility",
            set(&[&["InputObject", "Depth", "Compress"]]),
        ),
    );
    t.insert(
        "Get-Date",
        (
            "Microsoft.PowerShell.Utility",
            set(&[&[
                "Date",
                "Year",
                "Month",
                "Day",
                "Hour",
                "Minute",
                "Second",
                "Millisecond",
                "DisplayHint",
                "Format",
                "UFormat",
                "UnixTimeSeconds",
            ]]),
        ),
    );
    t.insert(
        "Sort-Object",
        (
            "Microsoft.PowerShell.Utility",
            set(&[&[
                "Property",
                "Descending",
                "Unique",
                "InputObject",
                "Culture",
                "CaseSensitive",
            ]]),
        ),
    );
    // Microsoft.PowerShell.Management (?view=powershell-5.1): get-item, get-itemproperty,
    // test-path.
    t.insert(
        "Get-Item",
        (
            "Microsoft.PowerShell.Management",
            set(&[&[
                "Path",
                "LiteralPath",
                "Filter",
                "Include",
                "Exclude",
                "Force",
                "Credential",
                "Stream",
            ]]),
        ),
    );
    t.insert(
        "Get-ItemProperty",
        (
            "Microsoft.PowerShell.Management",
            set(&[&[
                "Path",
                "LiteralPath",
                "Name",
                "Filter",
                "Include",
                "Exclude",
                "Credential",
            ]]),
        ),
    );
    t.insert(
        "Test-Path",
        (
            "Microsoft.PowerShell.Management",
            set(&[&[
                "Path",
                "LiteralPath",
                "Filter",
                "Include",
                "Exclude",
                "PathType",
                "IsValid",
                "Credential",
                "OlderThan",
                "NewerThan",
            ]]),
        ),
    );
    // The README's exports of the cmdlets (?view=powershell-5.1): new-item, out-file,
    // select-object, export-csv.
    t.insert(
        "New-Item",
        (
            "Microsoft.PowerShell.Management",
            set(&[&[
                "Path",
                "Name",
                "ItemType",
                "Value",
                "Force",
                "Credential",
                "WhatIf",
                "Confirm",
            ]]),
        ),
    );
    // Windows PowerShell's own executable, as the docs run the collector with it:
    // https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_powershell_exe
    t.insert(
        "powershell.exe",
        (
            "about_PowerShell_exe",
            set(&[&[
                "NoProfile",
                "NonInteractive",
                "NoLogo",
                "ExecutionPolicy",
                "File",
                "Command",
                "Version",
                "WindowStyle",
                "OutputFormat",
                "InputFormat",
            ]]),
        ),
    );
    t.insert(
        "Out-File",
        (
            "Microsoft.PowerShell.Utility",
            set(&[&[
                "FilePath",
                "LiteralPath",
                "Encoding",
                "Append",
                "Force",
                "NoClobber",
                "Width",
                "NoNewline",
                "InputObject",
                "WhatIf",
                "Confirm",
            ]]),
        ),
    );
    t.insert(
        "Select-Object",
        (
            "Microsoft.PowerShell.Utility",
            set(&[&[
                "InputObject",
                "Property",
                "ExcludeProperty",
                "ExpandProperty",
                "Unique",
                "Last",
                "First",
                "Skip",
                "SkipLast",
                "Wait",
                "Index",
            ]]),
        ),
    );
    t.insert(
        "Export-Csv",
        (
            "Microsoft.PowerShell.Utility",
            set(&[&[
                "InputObject",
                "Path",
                "LiteralPath",
                "Force",
                "NoClobber",
                "Encoding",
                "Append",
                "Delimiter",
                "UseCulture",
                "NoTypeInformation",
                "WhatIf",
                "Confirm",
            ]]),
        ),
    );
    // NetTCPIP, DnsClient and Microsoft.WSMan.Management: learn.microsoft.com/powershell/
    // module/nettcpip/get-netipaddress, .../dnsclient/get-dnsclientserveraddress,
    // .../microsoft.wsman.management/get-wsmaninstance.
    t.insert(
        "Get-NetIPAddress",
        (
            "NetTCPIP",
            set(&[&[
                "IPAddress",
                "InterfaceIndex",
                "InterfaceAlias",
                "AddressFamily",
                "Type",
                "PrefixLength",
                "PrefixOrigin",
                "SuffixOrigin",
                "AddressState",
                "ValidLifetime",
                "PreferredLifetime",
                "SkipAsSource",
                "PolicyStore",
                "IncludeAllCompartments",
                "AssociatedIPInterface",
                "CimSession",
                "ThrottleLimit",
                "AsJob",
            ]]),
        ),
    );
    t.insert(
        "Get-DnsClientServerAddress",
        (
            "DnsClient",
            set(&[&[
                "InterfaceIndex",
                "InterfaceAlias",
                "AddressFamily",
                "CimSession",
                "ThrottleLimit",
                "AsJob",
            ]]),
        ),
    );
    t.insert(
        "Get-WSManInstance",
        (
            "Microsoft.WSMan.Management",
            set(&[&[
                "ResourceURI",
                "SelectorSet",
                "Enumerate",
                "Filter",
                "Dialect",
                "ReturnType",
                "Shallow",
                "BasePropertiesOnly",
                "Associations",
                "ApplicationName",
                "ComputerName",
                "ConnectionURI",
                "Fragment",
                "OptionSet",
                "Port",
                "SessionOption",
                "UseSSL",
                "Credential",
                "Authentication",
                "CertificateThumbprint",
            ]]),
        ),
    );
    t.insert(
        "Set-ExecutionPolicy",
        (
            "Microsoft.PowerShell.Security",
            set(&[&["ExecutionPolicy", "Scope", "Force", "WhatIf", "Confirm"]]),
        ),
    );
    t
}

/// Parses `text`; `Err` names the first ERROR or MISSING node with its line and column.
pub fn parse(text: &str) -> Result<Tree, String> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .map_err(|e| format!("the PowerShell grammar does not load: {e}"))?;
    let tree = parser
        .parse(text, None)
        .ok_or_else(|| "the parser gave up".to_string())?;
    let mut bad = Vec::new();
    visit(tree.root_node(), &mut |n| {
        if n.is_error() || n.is_missing() {
            bad.push(n);
        }
    });
    if let Some(n) = bad.first() {
        let at = n.start_position();
        let line = text.lines().nth(at.row).unwrap_or("");
        return Err(format!(
            "{} node at line {}, column {} ({} in all): {line:?}",
            if n.is_missing() { "MISSING" } else { "ERROR" },
            at.row + 1,
            at.column + 1,
            bad.len()
        ));
    }
    Ok(tree)
}

/// One command of a script: its name and the parameters it is given (splats resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub line: usize,
    pub name: String,
    pub parameters: Vec<String>,
}

/// Every command in `text`, in order.
pub fn commands(text: &str) -> Result<Vec<Command>, String> {
    let tree = parse(text)?;
    let src = text.as_bytes();
    let node_text = |n: Node<'_>| n.utf8_text(src).unwrap_or("").to_string();

    // `$Name = @{ Key = ...; ... }`: the keys, for splatting.
    let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    visit(tree.root_node(), &mut |n| {
        if n.kind() != "assignment_expression" {
            return;
        }
        let Some(left) = n.child(0) else { return };
        let name = node_text(left)
            .trim()
            .trim_start_matches('$')
            .to_lowercase();
        let Some(value) = n.child_by_field_name("value") else {
            return;
        };
        let mut keys = Vec::new();
        let mut seen = false;
        visit(value, &mut |v| {
            // The outermost hashtable only: nested ones are values, not parameters.
            if v.kind() == "hash_literal_body" && !seen {
                seen = true;
                let mut cursor = v.walk();
                for entry in v.children(&mut cursor) {
                    if entry.kind() == "hash_entry"
                        && let Some(key) = entry.child(0)
                    {
                        keys.push(node_text(key).trim().to_string());
                    }
                }
            }
        });
        if !keys.is_empty() {
            tables.insert(name, keys);
        }
    });

    let mut out = Vec::new();
    let mut failure = None;
    visit(tree.root_node(), &mut |n| {
        if n.kind() != "command" || failure.is_some() {
            return;
        }
        let Some(name) = n.child_by_field_name("command_name") else {
            return;
        };
        let mut parameters = Vec::new();
        if let Some(elements) = n.child_by_field_name("command_elements") {
            let mut cursor = elements.walk();
            for e in elements.children(&mut cursor) {
                let t = node_text(e);
                if e.kind() == "command_parameter" {
                    let p = t.trim_start_matches('-');
                    let p = p.split(':').next().unwrap_or(p);
                    parameters.push(p.to_string());
                } else if let Some(splat) = t.strip_prefix('@')
                    && splat.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    match tables.get(&splat.to_lowercase()) {
                        Some(keys) => parameters.extend(keys.iter().cloned()),
                        None => {
                            failure = Some(format!(
                                "line {}: @{splat} is splatted but never assigned a hashtable",
                                n.start_position().row + 1
                            ));
                        }
                    }
                }
            }
        }
        out.push(Command {
            line: n.start_position().row + 1,
            name: node_text(name),
            parameters,
        });
    });
    match failure {
        Some(f) => Err(f),
        None => Ok(out),
    }
}

/// Parses `text` and checks every command and parameter against [`allowed`]. A command that
/// runs one of our own files by path (`.\gw01.ps1`, `.\rdsports.exe`, in the docs) is
/// allowed; rdsports' own options are clap's, not PowerShell parameters.
pub fn check(text: &str) -> Result<Vec<Command>, String> {
    let table = allowed();
    let commands = commands(text)?;
    // Functions the script defines itself (`function Add-Cmdlet(...)`) are its own commands.
    let own: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("function "))
        .filter_map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            (!name.is_empty()).then_some(name)
        })
        .collect();
    for c in &commands {
        if own.iter().any(|f| f.eq_ignore_ascii_case(&c.name)) {
            continue;
        }
        // `& $Read`: a script block of the script's own, called without parameters.
        if c.name.starts_with('$') && c.parameters.is_empty() {
            continue;
        }
        if c.name.eq_ignore_ascii_case(".\\rdsports.exe") {
            continue;
        }
        if c.name.ends_with("\\Invoke-RdsportsFleet.ps1") && c.name.starts_with(".\\") {
            // Our fleet script: only the parameters its param() block declares.
            let declared = fleet_script_parameters();
            if let Some(p) = c
                .parameters
                .iter()
                .find(|p| !declared.iter().any(|d| d.eq_ignore_ascii_case(p)))
            {
                return Err(format!(
                    "line {}: Invoke-RdsportsFleet.ps1 declares no parameter -{p}",
                    c.line
                ));
            }
            continue;
        }
        if c.name.ends_with(".ps1") && c.name.starts_with(".\\") {
            if !c.parameters.is_empty() {
                return Err(format!("line {}: {} given parameters", c.line, c.name));
            }
            continue;
        }
        let Some((cmdlet, (_module, params))) = table
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&c.name))
        else {
            return Err(format!(
                "line {}: {} is not in the table of allowed cmdlets",
                c.line, c.name
            ));
        };
        for p in &c.parameters {
            let known = params
                .iter()
                .chain(COMMON_PARAMETERS)
                .any(|q| q.eq_ignore_ascii_case(p));
            if !known {
                return Err(format!(
                    "line {}: {cmdlet} has no documented parameter -{p}",
                    c.line
                ));
            }
        }
    }
    Ok(commands)
}

/// The import collector (`rdsports import --collector`).
pub const IMPORT_COLLECTOR: &str = include_str!("../../../import/src/collector.ps1");

/// The fleet script shipped under contrib/ (parsed by the tests as well).
pub const FLEET_SCRIPT: &str =
    include_str!("../../../../contrib/powershell/Invoke-RdsportsFleet.ps1");

/// The parameter names `Invoke-RdsportsFleet.ps1` declares in its `param(...)` block
/// (`[type] $Name` entries).
pub fn fleet_script_parameters() -> Vec<String> {
    let Some(start) = FLEET_SCRIPT.find("param(") else {
        return Vec::new();
    };
    let block = &FLEET_SCRIPT[start..];
    let end = block.find("\n)").unwrap_or(block.len());
    block[..end]
        .split('$')
        .skip(1)
        .filter_map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty()).then_some(name)
        })
        .collect()
}

/// Calls `f` on `node` and every node below it (depth first, in source order).
fn visit<'t>(node: Node<'t>, f: &mut impl FnMut(Node<'t>)) {
    let mut cursor = node.walk();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        f(n);
        let children: Vec<Node<'t>> = n.children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
}
