# rdsports: Windows Firewall rules for host "gw01" of deployment "fabrikam".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 3 flows, 3 rules after aggregation.
# Outbound: 430 flows, 8 rules after aggregation.
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

# S12: RD Gateway main channel: HTTP (and RPC over HTTP) over TLS
# from clients (zone internet)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S12 TCP 443: RD Gateway main channel: HTTP (and RPC over HTTP) over TLS' -Description 'S12: RD Gateway main channel: HTTP (and RPC over HTTP) over TLS | from clients (zone internet)' -Protocol TCP -LocalPort @('443') -RemoteAddress @('0.0.0.0-255.255.255.255') | Out-Null

# S13: RD Gateway UDP transport (RDP/UDP); stateful firewalls must allow the reply ("Send Receive")
# from clients (zone internet)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S13 UDP 3391: RD Gateway UDP transport (RDP/UDP); stateful firewalls must allow the reply ("Send Receive")' -Description 'S13: RD Gateway UDP transport (RDP/UDP); stateful firewalls must allow the reply ("Send Receive") | from clients (zone internet)' -Protocol UDP -LocalPort @('3391') -RemoteAddress @('0.0.0.0-255.255.255.255') | Out-Null

# S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration
# from admin01 (zone servers)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S11 TCP 5986: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration' -Description 'S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration | from admin01 (zone servers)' -Protocol TCP -LocalPort @('5986') -RemoteAddress @('192.0.2.80') | Out-Null

# S14 S15 S16 S17 S18 D01 D02 D03 D04a D04b D05: Kerberos for user authentication; RPC endpoint mapper on the domain controller; AD RPC (LSA, SAM, Netlogon) on the port the endpoint mapper hands out; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL
# to dc01, dc02 (zone servers)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S14 S15 S16 S17 S18 D01 D02 D03 D04a D04b D05 TCP 53,88,135,389,445,3268,49200: Kerberos for user authentication' -Description 'S14 S15 S16 S17 S18 D01 D02 D03 D04a D04b D05: Kerberos for user authentication; RPC endpoint mapper on the domain controller; AD RPC (LSA, SAM, Netlogon) on the port the endpoint mapper hands out; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL | to dc01, dc02 (zone servers)' -Protocol TCP -RemotePort @('53', '88', '135', '389', '445', '3268', '49200') -RemoteAddress @('192.0.2.40/31') | Out-Null

# S14 S17 S18 D01 D02 D04a D06: Kerberos for user authentication; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); time synchronisation with the domain hierarchy (W32Time)
# to dc01, dc02 (zone servers)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S14 S17 S18 D01 D02 D04a D06 UDP 53,88,123,389: Kerberos for user authentication' -Description 'S14 S17 S18 D01 D02 D04a D06: Kerberos for user authentication; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); time synchronisation with the domain hierarchy (W32Time) | to dc01, dc02 (zone servers)' -Protocol UDP -RemotePort @('53', '88', '123', '389') -RemoteAddress @('192.0.2.40/31') | Out-Null

# S19: certificate revocation list retrieval over LDAP
# to pki01 (zone servers)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S19 UDP 389: certificate revocation list retrieval over LDAP' -Description 'S19: certificate revocation list retrieval over LDAP | to pki01 (zone servers)' -Protocol UDP -RemotePort @('389') -RemoteAddress @('192.0.2.60') | Out-Null

# S19 S20: certificate revocation list retrieval over LDAP; certificate revocation list retrieval over HTTP
# to pki01 (zone servers)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S19 S20 TCP 80,389: certificate revocation list retrieval over LDAP' -Description 'S19 S20: certificate revocation list retrieval over LDAP; certificate revocation list retrieval over HTTP | to pki01 (zone servers)' -Protocol TCP -RemotePort @('80', '389') -RemoteAddress @('192.0.2.60') | Out-Null

# S22: RADIUS authentication and accounting to a central NPS (central RD CAP store)
# to nps01 (zone servers)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S22 UDP 1812-1813: RADIUS authentication and accounting to a central NPS (central RD CAP store)' -Description 'S22: RADIUS authentication and accounting to a central NPS (central RD CAP store) | to nps01 (zone servers)' -Protocol UDP -RemotePort @('1812-1813') -RemoteAddress @('192.0.2.50') | Out-Null

# S23: RDP to the broker (redirector) on behalf of the client
# to cb01, cb02, cb03 (zone servers)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S23 TCP 3389: RDP to the broker (redirector) on behalf of the client' -Description 'S23: RDP to the broker (redirector) on behalf of the client | to cb01, cb02, cb03 (zone servers)' -Protocol TCP -RemotePort @('3389') -RemoteAddress @('192.0.2.10/31', '192.0.2.12') | Out-Null

# S24: RDP from the gateway to the session host or virtual desktop
# to sh001, sh002, sh003, sh004, sh005, sh006, sh007, sh008, sh009, sh010, and 190 more (zone farm)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S24 TCP 3389: RDP from the gateway to the session host or virtual desktop' -Description 'S24: RDP from the gateway to the session host or virtual desktop | to sh001, sh002, sh003, sh004, sh005, sh006, sh007, sh008, sh009, sh010, and 190 more (zone farm)' -Protocol TCP -RemotePort @('3389') -RemoteAddress @('198.51.100.1', '198.51.100.2/31', '198.51.100.4/30', '198.51.100.8/29', '198.51.100.16/28', '198.51.100.32/27', '198.51.100.64/26', '198.51.100.128/26', '198.51.100.192/29', '198.51.100.200') | Out-Null

# S25: RDP UDP from the gateway to the host; stateful firewalls must allow the reply ("Send Receive")
# to sh001, sh002, sh003, sh004, sh005, sh006, sh007, sh008, sh009, sh010, and 190 more (zone farm)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S25 UDP 3389: RDP UDP from the gateway to the host; stateful firewalls must allow the reply ("Send Receive")' -Description 'S25: RDP UDP from the gateway to the host; stateful firewalls must allow the reply ("Send Receive") | to sh001, sh002, sh003, sh004, sh005, sh006, sh007, sh008, sh009, sh010, and 190 more (zone farm)' -Protocol UDP -RemotePort @('3389') -RemoteAddress @('198.51.100.1', '198.51.100.2/31', '198.51.100.4/30', '198.51.100.8/29', '198.51.100.16/28', '198.51.100.32/27', '198.51.100.64/26', '198.51.100.128/26', '198.51.100.192/29', '198.51.100.200') | Out-Null
