# rdsports: Windows Firewall rules for host "gw02" of deployment "contoso".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 2 flows, 2 rules after aggregation.
# These rules only allow. What they do not allow is blocked by each profile's default
# inbound action, Block (Windows' default): the script relies on it and warns below when
# a profile allows inbound traffic by default or has the firewall turned off.
#Requires -RunAsAdministrator
#Requires -Modules NetSecurity

$ErrorActionPreference = 'Stop'
foreach ($p in Get-NetFirewallProfile -PolicyStore ActiveStore) {
    if ([string]$p.Enabled -eq 'False') {
        Write-Warning ('rdsports: the {0} firewall profile is off: these rules have no effect there (Set-NetFirewallProfile -Profile {0} -Enabled True)' -f $p.Name)
    }
    if ([string]$p.DefaultInboundAction -eq 'Allow') {
        Write-Warning ('rdsports: the {0} profile allows inbound traffic by default: unplanned ports stay open (Set-NetFirewallProfile -Profile {0} -DefaultInboundAction Block)' -f $p.Name)
    }
}
$Group = 'rdsports contoso'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# S12: RD Gateway main channel: HTTP (and RPC over HTTP) over TLS
# from clients (zone internet)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S12 TCP 8443: RD Gateway main channel: HTTP (and RPC over HTTP) over TLS' -Description 'S12: RD Gateway main channel: HTTP (and RPC over HTTP) over TLS | from clients (zone internet)' -Protocol TCP -LocalPort @('8443') -RemoteAddress @('0.0.0.0-255.255.255.255') | Out-Null

# S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration
# from cb01 (zone internal)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S11 TCP 5985: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration' -Description 'S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration | from cb01 (zone internal)' -Protocol TCP -LocalPort @('5985') -RemoteAddress @('192.0.2.10') | Out-Null
