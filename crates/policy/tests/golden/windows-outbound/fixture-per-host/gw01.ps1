# rdsports: Windows Firewall rules for host "gw01" of deployment "contoso".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 3 flows, 3 rules after aggregation.
# Outbound: 27 flows, 8 rules after aggregation.
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

# S01 S12: RD Web Access portal and RemoteApp feed over HTTPS; RD Gateway main channel: HTTP (and RPC over HTTP) over TLS
# from clients (zone internet)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S01 S12 TCP 443: RD Web Access portal and RemoteApp feed over HTTPS' -Description 'S01 S12: RD Web Access portal and RemoteApp feed over HTTPS; RD Gateway main channel: HTTP (and RPC over HTTP) over TLS | from clients (zone internet)' -Protocol TCP -LocalPort @('443') -RemoteAddress @('0.0.0.0-255.255.255.255') | Out-Null

# S13: RD Gateway UDP transport (RDP/UDP); stateful firewalls must allow the reply ("Send Receive")
# from clients (zone internet)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S13 UDP 3391: RD Gateway UDP transport (RDP/UDP); stateful firewalls must allow the reply ("Send Receive")' -Description 'S13: RD Gateway UDP transport (RDP/UDP); stateful firewalls must allow the reply ("Send Receive") | from clients (zone internet)' -Protocol UDP -LocalPort @('3391') -RemoteAddress @('0.0.0.0-255.255.255.255') | Out-Null

# S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration
# from cb01 (zone internal)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S11 TCP 5985: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration' -Description 'S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration | from cb01 (zone internal)' -Protocol TCP -LocalPort @('5985') -RemoteAddress @('192.0.2.10') | Out-Null

# S06 S23 S26: centralized publishing: RD Web Access asks the broker for the RemoteApp and desktop list; RDP to the broker (redirector) on behalf of the client; WMI from RD Web Access in a perimeter network, on a fixed WMI port (DCOM activation through the endpoint mapper)
# to cb01, cb02 (zone internal)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S06 S23 S26 TCP 135,3389,5504,24158: centralized publishing: RD Web Access asks the broker for the RemoteApp and desktop list' -Description 'S06 S23 S26: centralized publishing: RD Web Access asks the broker for the RemoteApp and desktop list; RDP to the broker (redirector) on behalf of the client; WMI from RD Web Access in a perimeter network, on a fixed WMI port (DCOM activation through the endpoint mapper) | to cb01, cb02 (zone internal)' -Protocol TCP -RemotePort @('135', '3389', '5504', '24158') -RemoteAddress @('192.0.2.10/31') | Out-Null

# S14 S15 S16 S17 S18 D01 D02 D03 D04a D04b D05: Kerberos for user authentication; RPC endpoint mapper on the domain controller; AD RPC (LSA, SAM, Netlogon) on the port the endpoint mapper hands out; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL
# to dc01 (zone internal)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S14 S15 S16 S17 S18 D01 D02 D03 D04a D04b D05 TCP 53,88,135,389,445,3268,49152-65535: Kerberos for user authentication' -Description 'S14 S15 S16 S17 S18 D01 D02 D03 D04a D04b D05: Kerberos for user authentication; RPC endpoint mapper on the domain controller; AD RPC (LSA, SAM, Netlogon) on the port the endpoint mapper hands out; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL | to dc01 (zone internal)' -Protocol TCP -RemotePort @('53', '88', '135', '389', '445', '3268', '49152-65535') -RemoteAddress @('192.0.2.40') | Out-Null

# S14 S17 S18 D01 D02 D04a D06: Kerberos for user authentication; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); time synchronisation with the domain hierarchy (W32Time)
# to dc01 (zone internal)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S14 S17 S18 D01 D02 D04a D06 UDP 53,88,123,389: Kerberos for user authentication' -Description 'S14 S17 S18 D01 D02 D04a D06: Kerberos for user authentication; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); time synchronisation with the domain hierarchy (W32Time) | to dc01 (zone internal)' -Protocol UDP -RemotePort @('53', '88', '123', '389') -RemoteAddress @('192.0.2.40') | Out-Null

# S20: certificate revocation list retrieval over HTTP
# to pki01 (zone internal)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S20 TCP 80: certificate revocation list retrieval over HTTP' -Description 'S20: certificate revocation list retrieval over HTTP | to pki01 (zone internal)' -Protocol TCP -RemotePort @('80') -RemoteAddress @('192.0.2.60') | Out-Null

# S22: RADIUS authentication and accounting to a central NPS (central RD CAP store)
# to nps01 (zone internal)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S22 UDP 1812-1813: RADIUS authentication and accounting to a central NPS (central RD CAP store)' -Description 'S22: RADIUS authentication and accounting to a central NPS (central RD CAP store) | to nps01 (zone internal)' -Protocol UDP -RemotePort @('1812-1813') -RemoteAddress @('192.0.2.50') | Out-Null

# S24: RDP from the gateway to the session host or virtual desktop
# to sh01, sh02 (zone internal)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S24 TCP 3389: RDP from the gateway to the session host or virtual desktop' -Description 'S24: RDP from the gateway to the session host or virtual desktop | to sh01, sh02 (zone internal)' -Protocol TCP -RemotePort @('3389') -RemoteAddress @('192.0.2.21', '192.0.2.22') | Out-Null

# S24: RDP from the gateway to the session host or virtual desktop
# to sh03 (zone internal)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S24 TCP 3390: RDP from the gateway to the session host or virtual desktop' -Description 'S24: RDP from the gateway to the session host or virtual desktop | to sh03 (zone internal)' -Protocol TCP -RemotePort @('3390') -RemoteAddress @('192.0.2.23') | Out-Null

# S25: RDP UDP from the gateway to the host; stateful firewalls must allow the reply ("Send Receive")
# to sh01, sh02 (zone internal)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S25 UDP 3389: RDP UDP from the gateway to the host; stateful firewalls must allow the reply ("Send Receive")' -Description 'S25: RDP UDP from the gateway to the host; stateful firewalls must allow the reply ("Send Receive") | to sh01, sh02 (zone internal)' -Protocol UDP -RemotePort @('3389') -RemoteAddress @('192.0.2.21', '192.0.2.22') | Out-Null
