# rdsports: Windows Firewall rules for host "dc01" of deployment "fabrikam".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 2543 flows, 6 rules after aggregation.
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
$Group = 'rdsports fabrikam'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# S14 S15 S16 S17 S18 D01 D02 D03 D04a D04b D05: Kerberos for user authentication; RPC endpoint mapper on the domain controller; AD RPC (LSA, SAM, Netlogon) on the port the endpoint mapper hands out; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL
# from gw01, gw02, web01, web02 (zone perimeter)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S14 S15 S16 S17 S18 D01 D02 D03 D04a D04b D05 TCP 53,88,135,389,445,3268,49200: Kerberos for user authentication' -Description 'S14 S15 S16 S17 S18 D01 D02 D03 D04a D04b D05: Kerberos for user authentication; RPC endpoint mapper on the domain controller; AD RPC (LSA, SAM, Netlogon) on the port the endpoint mapper hands out; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL | from gw01, gw02, web01, web02 (zone perimeter)' -Protocol TCP -LocalPort @('53', '88', '135', '389', '445', '3268', '49200') -RemoteAddress @('203.0.113.10/31', '203.0.113.20/31') | Out-Null

# S14 S17 S18 D01 D02 D04a D06: Kerberos for user authentication; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); time synchronisation with the domain hierarchy (W32Time)
# from gw01, gw02, web01, web02 (zone perimeter)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S14 S17 S18 D01 D02 D04a D06 UDP 53,88,123,389: Kerberos for user authentication' -Description 'S14 S17 S18 D01 D02 D04a D06: Kerberos for user authentication; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); time synchronisation with the domain hierarchy (W32Time) | from gw01, gw02, web01, web02 (zone perimeter)' -Protocol UDP -LocalPort @('53', '88', '123', '389') -RemoteAddress @('203.0.113.10/31', '203.0.113.20/31') | Out-Null

# S35 D01 D02 D03 D04a D04b D05: per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL
# from cb01, cb02, cb03, sql01, ls01, ls02, nps01, fs01, admin01 (zone servers)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S35 D01 D02 D03 D04a D04b D05 TCP 53,88,135,389,445,3268,49200: per-user CAL issuance recorded in Active Directory' -Description 'S35 D01 D02 D03 D04a D04b D05: per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL | from cb01, cb02, cb03, sql01, ls01, ls02, nps01, fs01, admin01 (zone servers)' -Protocol TCP -LocalPort @('53', '88', '135', '389', '445', '3268', '49200') -RemoteAddress @('192.0.2.10/31', '192.0.2.12', '192.0.2.20', '192.0.2.30/31', '192.0.2.50', '192.0.2.70', '192.0.2.80') | Out-Null

# S35 D01 D02 D04a D06: per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); time synchronisation with the domain hierarchy (W32Time)
# from cb01, cb02, cb03, sql01, ls01, ls02, nps01, fs01, admin01 (zone servers)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S35 D01 D02 D04a D06 UDP 53,88,123,389: per-user CAL issuance recorded in Active Directory' -Description 'S35 D01 D02 D04a D06: per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); time synchronisation with the domain hierarchy (W32Time) | from cb01, cb02, cb03, sql01, ls01, ls02, nps01, fs01, admin01 (zone servers)' -Protocol UDP -LocalPort @('53', '88', '123', '389') -RemoteAddress @('192.0.2.10/31', '192.0.2.12', '192.0.2.20', '192.0.2.30/31', '192.0.2.50', '192.0.2.70', '192.0.2.80') | Out-Null

# S32a S32b D01 D02 D03 D04a D04b D05: Active Directory communication (including per-user CAL lookups); Active Directory communication over LDAPS; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL
# from sh001, sh002, sh003, sh004, sh005, sh006, sh007, sh008, sh009, sh010, and 190 more (zone farm)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S32a S32b D01 D02 D03 D04a D04b D05 TCP 53,88,135,389,445,636,3268,49200: Active Directory communication (including per-user CAL lookups)' -Description 'S32a S32b D01 D02 D03 D04a D04b D05: Active Directory communication (including per-user CAL lookups); Active Directory communication over LDAPS; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL | from sh001, sh002, sh003, sh004, sh005, sh006, sh007, sh008, sh009, sh010, and 190 more (zone farm)' -Protocol TCP -LocalPort @('53', '88', '135', '389', '445', '636', '3268', '49200') -RemoteAddress @('198.51.100.1', '198.51.100.2/31', '198.51.100.4/30', '198.51.100.8/29', '198.51.100.16/28', '198.51.100.32/27', '198.51.100.64/26', '198.51.100.128/26', '198.51.100.192/29', '198.51.100.200') | Out-Null

# D01 D02 D04a D06: DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); time synchronisation with the domain hierarchy (W32Time)
# from sh001, sh002, sh003, sh004, sh005, sh006, sh007, sh008, sh009, sh010, and 190 more (zone farm)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports D01 D02 D04a D06 UDP 53,88,123,389: DNS for domain members' -Description 'D01 D02 D04a D06: DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); time synchronisation with the domain hierarchy (W32Time) | from sh001, sh002, sh003, sh004, sh005, sh006, sh007, sh008, sh009, sh010, and 190 more (zone farm)' -Protocol UDP -LocalPort @('53', '88', '123', '389') -RemoteAddress @('198.51.100.1', '198.51.100.2/31', '198.51.100.4/30', '198.51.100.8/29', '198.51.100.16/28', '198.51.100.32/27', '198.51.100.64/26', '198.51.100.128/26', '198.51.100.192/29', '198.51.100.200') | Out-Null
