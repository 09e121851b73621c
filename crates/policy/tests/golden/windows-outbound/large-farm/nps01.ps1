# rdsports: Windows Firewall rules for host "nps01" of deployment "fabrikam".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 4 flows, 1 rules after aggregation.
# Outbound: 22 flows, 2 rules after aggregation.
#Requires -RunAsAdministrator
#Requires -Modules NetSecurity

$ErrorActionPreference = 'Stop'
$Group = 'rdsports fabrikam'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# S22: RADIUS authentication and accounting to a central NPS (central RD CAP store)
# from gw01, gw02 (zone perimeter)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S22 UDP 1812-1813: RADIUS authentication and accounting to a central NPS (central RD CAP store)' -Description 'S22: RADIUS authentication and accounting to a central NPS (central RD CAP store) | from gw01, gw02 (zone perimeter)' -Protocol UDP -LocalPort @('1812-1813') -RemoteAddress @('203.0.113.10/31') | Out-Null

# D01 D02 D03 D04a D04b D05: DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL
# to dc01, dc02 (zone servers)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports D01 D02 D03 D04a D04b D05 TCP 53,88,135,389,445,3268,49200: DNS for domain members' -Description 'D01 D02 D03 D04a D04b D05: DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL | to dc01, dc02 (zone servers)' -Protocol TCP -RemotePort @('53', '88', '135', '389', '445', '3268', '49200') -RemoteAddress @('192.0.2.40/31') | Out-Null

# D01 D02 D04a D06: DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); time synchronisation with the domain hierarchy (W32Time)
# to dc01, dc02 (zone servers)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports D01 D02 D04a D06 UDP 53,88,123,389: DNS for domain members' -Description 'D01 D02 D04a D06: DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); time synchronisation with the domain hierarchy (W32Time) | to dc01, dc02 (zone servers)' -Protocol UDP -RemotePort @('53', '88', '123', '389') -RemoteAddress @('192.0.2.40/31') | Out-Null
