# rdsports: Windows Firewall rules for host "rds01" of deployment "smallco".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 2 flows, 2 rules after aggregation.
# Outbound: 13 flows, 3 rules after aggregation.
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
$Group = 'rdsports smallco'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# S01 S12: RD Web Access portal and RemoteApp feed over HTTPS; RD Gateway main channel: HTTP (and RPC over HTTP) over TLS
# from clients (zone internet)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S01 S12 TCP 443: RD Web Access portal and RemoteApp feed over HTTPS' -Description 'S01 S12: RD Web Access portal and RemoteApp feed over HTTPS; RD Gateway main channel: HTTP (and RPC over HTTP) over TLS | from clients (zone internet)' -Protocol TCP -LocalPort @('443') -RemoteAddress @('0.0.0.0-255.255.255.255') | Out-Null

# S13: RD Gateway UDP transport (RDP/UDP); stateful firewalls must allow the reply ("Send Receive")
# from clients (zone internet)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S13 UDP 3391: RD Gateway UDP transport (RDP/UDP); stateful firewalls must allow the reply ("Send Receive")' -Description 'S13: RD Gateway UDP transport (RDP/UDP); stateful firewalls must allow the reply ("Send Receive") | from clients (zone internet)' -Protocol UDP -LocalPort @('3391') -RemoteAddress @('0.0.0.0-255.255.255.255') | Out-Null

# S34: license server activation and CAL installation with the Microsoft Clearinghouse (automatic method)
# to clearinghouse (zone internet)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S34 TCP 443: license server activation and CAL installation with the Microsoft Clearinghouse (automatic method)' -Description 'S34: license server activation and CAL installation with the Microsoft Clearinghouse (automatic method) | to clearinghouse (zone internet)' -Protocol TCP -RemotePort @('443') -RemoteAddress @('0.0.0.0-255.255.255.255') | Out-Null

# S14 S15 S16 S17 S18 S32a S32b S35 D01 D02 D03 D04a D04b D05: Kerberos for user authentication; RPC endpoint mapper on the domain controller; AD RPC (LSA, SAM, Netlogon) on the port the endpoint mapper hands out; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; Active Directory communication (including per-user CAL lookups); Active Directory communication over LDAPS; per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL
# to dc01 (zone office)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S14 S15 S16 S17 S18 S32a S32b S35 D01 D02 D03 D04a D04b D05 TCP 53,88,135,389,445,636,3268,49152-65535: Kerberos for user authentication' -Description 'S14 S15 S16 S17 S18 S32a S32b S35 D01 D02 D03 D04a D04b D05: Kerberos for user authentication; RPC endpoint mapper on the domain controller; AD RPC (LSA, SAM, Netlogon) on the port the endpoint mapper hands out; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; Active Directory communication (including per-user CAL lookups); Active Directory communication over LDAPS; per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL | to dc01 (zone office)' -Protocol TCP -RemotePort @('53', '88', '135', '389', '445', '636', '3268', '49152-65535') -RemoteAddress @('203.0.113.5') | Out-Null

# S14 S17 S18 S35 D01 D02 D04a D06: Kerberos for user authentication; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); time synchronisation with the domain hierarchy (W32Time)
# to dc01 (zone office)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S14 S17 S18 S35 D01 D02 D04a D06 UDP 53,88,123,389: Kerberos for user authentication' -Description 'S14 S17 S18 S35 D01 D02 D04a D06: Kerberos for user authentication; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); time synchronisation with the domain hierarchy (W32Time) | to dc01 (zone office)' -Protocol UDP -RemotePort @('53', '88', '123', '389') -RemoteAddress @('203.0.113.5') | Out-Null
