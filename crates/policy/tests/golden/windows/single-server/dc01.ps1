# rdsports: Windows Firewall rules for host "dc01" of deployment "smallco".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 12 flows, 2 rules after aggregation.
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
$Group = 'rdsports smallco'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# S14 S15 S16 S17 S18 S32a S32b S35 D01 D02 D03 D04a D04b D05: Kerberos for user authentication; RPC endpoint mapper on the domain controller; AD RPC (LSA, SAM, Netlogon) on the port the endpoint mapper hands out; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; Active Directory communication (including per-user CAL lookups); Active Directory communication over LDAPS; per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL
# from rds01 (zone office)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S14 S15 S16 S17 S18 S32a S32b S35 D01 D02 D03 D04a D04b D05 TCP 53,88,135,389,445,636,3268,49152-65535: Kerberos for user authentication' -Description 'S14 S15 S16 S17 S18 S32a S32b S35 D01 D02 D03 D04a D04b D05: Kerberos for user authentication; RPC endpoint mapper on the domain controller; AD RPC (LSA, SAM, Netlogon) on the port the endpoint mapper hands out; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; Active Directory communication (including per-user CAL lookups); Active Directory communication over LDAPS; per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL | from rds01 (zone office)' -Protocol TCP -LocalPort @('53', '88', '135', '389', '445', '636', '3268', '49152-65535') -RemoteAddress @('203.0.113.10') | Out-Null

# S14 S17 S18 S35 D01 D02 D04a D06: Kerberos for user authentication; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); time synchronisation with the domain hierarchy (W32Time)
# from rds01 (zone office)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S14 S17 S18 S35 D01 D02 D04a D06 UDP 53,88,123,389: Kerberos for user authentication' -Description 'S14 S17 S18 S35 D01 D02 D04a D06: Kerberos for user authentication; LDAP for user authentication and RD CAP group lookups; internal name resolution of RD resources; per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); time synchronisation with the domain hierarchy (W32Time) | from rds01 (zone office)' -Protocol UDP -LocalPort @('53', '88', '123', '389') -RemoteAddress @('203.0.113.10') | Out-Null
