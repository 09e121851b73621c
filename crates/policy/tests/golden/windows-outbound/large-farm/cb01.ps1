# rdsports: Windows Firewall rules for host "cb01" of deployment "fabrikam".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 409 flows, 4 rules after aggregation.
# Outbound: 623 flows, 4 rules after aggregation.
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
$Group = 'rdsports fabrikam'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# S06 S26 A05: centralized publishing: RD Web Access asks the broker for the RemoteApp and desktop list; WMI from RD Web Access in a perimeter network, on a fixed WMI port (DCOM activation through the endpoint mapper); centralized publishing to every broker of a high-availability deployment
# from web01, web02 (zone perimeter)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S06 S26 A05 TCP 135,5504,24158: centralized publishing: RD Web Access asks the broker for the RemoteApp and desktop list' -Description 'S06 S26 A05: centralized publishing: RD Web Access asks the broker for the RemoteApp and desktop list; WMI from RD Web Access in a perimeter network, on a fixed WMI port (DCOM activation through the endpoint mapper); centralized publishing to every broker of a high-availability deployment | from web01, web02 (zone perimeter)' -Protocol TCP -LocalPort @('135', '5504', '24158') -RemoteAddress @('203.0.113.20/31') | Out-Null

# S23: RDP to the broker (redirector) on behalf of the client
# from gw01, gw02 (zone perimeter)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S23 TCP 3389: RDP to the broker (redirector) on behalf of the client' -Description 'S23: RDP to the broker (redirector) on behalf of the client | from gw01, gw02 (zone perimeter)' -Protocol TCP -LocalPort @('3389') -RemoteAddress @('203.0.113.10/31') | Out-Null

# S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration
# from admin01 (zone servers)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S11 TCP 5986: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration' -Description 'S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration | from admin01 (zone servers)' -Protocol TCP -LocalPort @('5986') -RemoteAddress @('192.0.2.80') | Out-Null

# A01: session host to broker service (Tssdis): session directory and redirection decisions
# from sh001, sh002, sh003, sh004, sh005, sh006, sh007, sh008, sh009, sh010, and 190 more (zone farm)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports A01 TCP 135,50000-50999: session host to broker service (Tssdis): session directory and redirection decisions' -Description 'A01: session host to broker service (Tssdis): session directory and redirection decisions | from sh001, sh002, sh003, sh004, sh005, sh006, sh007, sh008, sh009, sh010, and 190 more (zone farm)' -Protocol TCP -LocalPort @('135', '50000-50999') -RemoteAddress @('198.51.100.1', '198.51.100.2/31', '198.51.100.4/30', '198.51.100.8/29', '198.51.100.16/28', '198.51.100.32/27', '198.51.100.64/26', '198.51.100.128/26', '198.51.100.192/29', '198.51.100.200') | Out-Null

# A03: shared broker database for high availability (active/active)
# to sql01 (zone servers)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports A03 TCP 1433: shared broker database for high availability (active/active)' -Description 'A03: shared broker database for high availability (active/active) | to sql01 (zone servers)' -Protocol TCP -RemotePort @('1433') -RemoteAddress @('192.0.2.20') | Out-Null

# D01 D02 D03 D04a D04b D05: DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL
# to dc01, dc02 (zone servers)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports D01 D02 D03 D04a D04b D05 TCP 53,88,135,389,445,3268,49200: DNS for domain members' -Description 'D01 D02 D03 D04a D04b D05: DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL | to dc01, dc02 (zone servers)' -Protocol TCP -RemotePort @('53', '88', '135', '389', '445', '3268', '49200') -RemoteAddress @('192.0.2.40/31') | Out-Null

# D01 D02 D04a D06: DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); time synchronisation with the domain hierarchy (W32Time)
# to dc01, dc02 (zone servers)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports D01 D02 D04a D06 UDP 53,88,123,389: DNS for domain members' -Description 'D01 D02 D04a D06: DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); time synchronisation with the domain hierarchy (W32Time) | to dc01, dc02 (zone servers)' -Protocol UDP -RemotePort @('53', '88', '123', '389') -RemoteAddress @('192.0.2.40/31') | Out-Null

# S10a S10b: management of session hosts and collections (SMB); management of session hosts and collections (RPC: endpoint mapper and dynamic range)
# to sh001, sh002, sh003, sh004, sh005, sh006, sh007, sh008, sh009, sh010, and 190 more (zone farm)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S10a S10b TCP 135,445,50000-50999: management of session hosts and collections (SMB)' -Description 'S10a S10b: management of session hosts and collections (SMB); management of session hosts and collections (RPC: endpoint mapper and dynamic range) | to sh001, sh002, sh003, sh004, sh005, sh006, sh007, sh008, sh009, sh010, and 190 more (zone farm)' -Protocol TCP -RemotePort @('135', '445', '50000-50999') -RemoteAddress @('198.51.100.1', '198.51.100.2/31', '198.51.100.4/30', '198.51.100.8/29', '198.51.100.16/28', '198.51.100.32/27', '198.51.100.64/26', '198.51.100.128/26', '198.51.100.192/29', '198.51.100.200') | Out-Null
