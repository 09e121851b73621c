# rdsports: Windows Firewall rules for host "cb01" of deployment "contoso".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 11 flows, 3 rules after aggregation.
# Outbound: 27 flows, 5 rules after aggregation.
# These rules only allow. What they do not allow is blocked by each profile's default
# inbound action, Block (Windows' default): the script relies on it and warns below when
# a profile allows inbound traffic by default or has the firewall turned off.
# The outbound rules restrict only where DefaultOutboundAction is Block (Windows'
# default is Allow); the script says so for each profile that allows.
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
    if ([string]$p.DefaultOutboundAction -ne 'Block') {
        Write-Warning ('rdsports: the {0} profile allows outbound traffic by default: the outbound rules restrict nothing there' -f $p.Name)
    }
}
$Group = 'rdsports contoso'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# S06 S23 S26: centralized publishing: RD Web Access asks the broker for the RemoteApp and desktop list; RDP to the broker (redirector) on behalf of the client; WMI from RD Web Access in a perimeter network, on a fixed WMI port (DCOM activation through the endpoint mapper)
# from gw01 (zone perimeter)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S06 S23 S26 TCP 135,3389,5504,24158: centralized publishing: RD Web Access asks the broker for the RemoteApp and desktop list' -Description 'S06 S23 S26: centralized publishing: RD Web Access asks the broker for the RemoteApp and desktop list; RDP to the broker (redirector) on behalf of the client; WMI from RD Web Access in a perimeter network, on a fixed WMI port (DCOM activation through the endpoint mapper) | from gw01 (zone perimeter)' -Protocol TCP -LocalPort @('135', '3389', '5504', '24158') -RemoteAddress @('198.51.100.10') | Out-Null

# S23: RDP to the broker (redirector) on behalf of the client
# from gw02 (zone perimeter)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S23 TCP 3389: RDP to the broker (redirector) on behalf of the client' -Description 'S23: RDP to the broker (redirector) on behalf of the client | from gw02 (zone perimeter)' -Protocol TCP -LocalPort @('3389') -RemoteAddress @('198.51.100.11') | Out-Null

# A01: session host to broker service (Tssdis): session directory and redirection decisions
# from sh01, sh02, sh03 (zone internal)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports A01 TCP 135,49152-65535: session host to broker service (Tssdis): session directory and redirection decisions' -Description 'A01: session host to broker service (Tssdis): session directory and redirection decisions | from sh01, sh02, sh03 (zone internal)' -Protocol TCP -LocalPort @('135', '49152-65535') -RemoteAddress @('192.0.2.21', '192.0.2.22/31') | Out-Null

# S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration
# to gw01, gw02 (zone perimeter)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S11 TCP 5985: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration' -Description 'S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration | to gw01, gw02 (zone perimeter)' -Protocol TCP -RemotePort @('5985') -RemoteAddress @('198.51.100.10/31') | Out-Null

# S10a S10b S11: management of session hosts and collections (SMB); management of session hosts and collections (RPC: endpoint mapper and dynamic range); WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration
# to sh01, sh02, sh03 (zone internal)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S10a S10b S11 TCP 135,445,5985,49152-65535: management of session hosts and collections (SMB)' -Description 'S10a S10b S11: management of session hosts and collections (SMB); management of session hosts and collections (RPC: endpoint mapper and dynamic range); WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration | to sh01, sh02, sh03 (zone internal)' -Protocol TCP -RemotePort @('135', '445', '5985', '49152-65535') -RemoteAddress @('192.0.2.21', '192.0.2.22/31') | Out-Null

# S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration
# to cb02, ls01 (zone internal)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S11 TCP 5985: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration' -Description 'S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration | to cb02, ls01 (zone internal)' -Protocol TCP -RemotePort @('5985') -RemoteAddress @('192.0.2.11', '192.0.2.30') | Out-Null

# D01 D02 D03 D04a D04b D05: DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL
# to dc01 (zone internal)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports D01 D02 D03 D04a D04b D05 TCP 53,88,135,389,445,3268,49152-65535: DNS for domain members' -Description 'D01 D02 D03 D04a D04b D05: DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL | to dc01 (zone internal)' -Protocol TCP -RemotePort @('53', '88', '135', '389', '445', '3268', '49152-65535') -RemoteAddress @('192.0.2.40') | Out-Null

# D01 D02 D04a D06: DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); time synchronisation with the domain hierarchy (W32Time)
# to dc01 (zone internal)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports D01 D02 D04a D06 UDP 53,88,123,389: DNS for domain members' -Description 'D01 D02 D04a D06: DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); time synchronisation with the domain hierarchy (W32Time) | to dc01 (zone internal)' -Protocol UDP -RemotePort @('53', '88', '123', '389') -RemoteAddress @('192.0.2.40') | Out-Null
