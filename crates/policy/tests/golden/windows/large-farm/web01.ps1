# rdsports: Windows Firewall rules for host "web01" of deployment "fabrikam".
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
$Group = 'rdsports fabrikam'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# S01: RD Web Access portal and RemoteApp feed over HTTPS
# from clients (zone internet)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S01 TCP 443: RD Web Access portal and RemoteApp feed over HTTPS' -Description 'S01: RD Web Access portal and RemoteApp feed over HTTPS | from clients (zone internet)' -Protocol TCP -LocalPort @('443') -RemoteAddress @('0.0.0.0-255.255.255.255') | Out-Null

# S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration
# from admin01 (zone servers)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S11 TCP 5986: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration' -Description 'S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration | from admin01 (zone servers)' -Protocol TCP -LocalPort @('5986') -RemoteAddress @('192.0.2.80') | Out-Null
