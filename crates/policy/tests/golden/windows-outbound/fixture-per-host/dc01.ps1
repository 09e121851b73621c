# rdsports: Windows Firewall rules for host "dc01" of deployment "contoso".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 102 flows, 5 rules after aggregation.
# Outbound: 0 flows, 0 rules after aggregation.
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

# S14 S15 S16 S17 S18 D01 D02 D03 D04a D04b D05: Kerberos for user authentication; RPC endpoint mapper on the domain controller; AD RPC (LSA, SAM, Netlogon) on the port the endpoint mapper hands out; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL
# from gw01, gw02 (zone perimeter)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S14 S15 S16 S17 S18 D01 D02 D03 D04a D04b D05 TCP 53,88,135,389,445,3268,49152-65535: Kerberos for user authentication' -Description 'S14 S15 S16 S17 S18 D01 D02 D03 D04a D04b D05: Kerberos for user authentication; RPC endpoint mapper on the domain controller; AD RPC (LSA, SAM, Netlogon) on the port the endpoint mapper hands out; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL | from gw01, gw02 (zone perimeter)' -Protocol TCP -LocalPort @('53', '88', '135', '389', '445', '3268', '49152-65535') -RemoteAddress @('198.51.100.10/31') | Out-Null

# S14 S17 S18 D01 D02 D04a D06: Kerberos for user authentication; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); time synchronisation with the domain hierarchy (W32Time)
# from gw01, gw02 (zone perimeter)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S14 S17 S18 D01 D02 D04a D06 UDP 53,88,123,389: Kerberos for user authentication' -Description 'S14 S17 S18 D01 D02 D04a D06: Kerberos for user authentication; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); time synchronisation with the domain hierarchy (W32Time) | from gw01, gw02 (zone perimeter)' -Protocol UDP -LocalPort @('53', '88', '123', '389') -RemoteAddress @('198.51.100.10/31') | Out-Null

# S32a S32b D01 D02 D03 D04a D04b D05: Active Directory communication (including per-user CAL lookups); Active Directory communication over LDAPS; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL
# from sh01, sh02, sh03 (zone internal)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S32a S32b D01 D02 D03 D04a D04b D05 TCP 53,88,135,389,445,636,3268,49152-65535: Active Directory communication (including per-user CAL lookups)' -Description 'S32a S32b D01 D02 D03 D04a D04b D05: Active Directory communication (including per-user CAL lookups); Active Directory communication over LDAPS; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL | from sh01, sh02, sh03 (zone internal)' -Protocol TCP -LocalPort @('53', '88', '135', '389', '445', '636', '3268', '49152-65535') -RemoteAddress @('192.0.2.21', '192.0.2.22/31') | Out-Null

# S35 D01 D02 D03 D04a D04b D05: per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL
# from cb01, cb02, ls01, nps01 (zone internal)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S35 D01 D02 D03 D04a D04b D05 TCP 53,88,135,389,445,3268,49152-65535: per-user CAL issuance recorded in Active Directory' -Description 'S35 D01 D02 D03 D04a D04b D05: per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL | from cb01, cb02, ls01, nps01 (zone internal)' -Protocol TCP -LocalPort @('53', '88', '135', '389', '445', '3268', '49152-65535') -RemoteAddress @('192.0.2.10/31', '192.0.2.30', '192.0.2.50') | Out-Null

# S35 D01 D02 D04a D06: per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); time synchronisation with the domain hierarchy (W32Time)
# from cb01, cb02, sh01, sh02, sh03, ls01, nps01 (zone internal)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S35 D01 D02 D04a D06 UDP 53,88,123,389: per-user CAL issuance recorded in Active Directory' -Description 'S35 D01 D02 D04a D06: per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); time synchronisation with the domain hierarchy (W32Time) | from cb01, cb02, sh01, sh02, sh03, ls01, nps01 (zone internal)' -Protocol UDP -LocalPort @('53', '88', '123', '389') -RemoteAddress @('192.0.2.10/31', '192.0.2.21', '192.0.2.22/31', '192.0.2.30', '192.0.2.50') | Out-Null
