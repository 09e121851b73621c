# rdsports: Windows Firewall rules for host "dc01" of deployment "contoso".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 103 flows, 2 rules after aggregation.
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
$Group = 'rdsports contoso'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# S32a S32b D01 D02 D03 D04a D04b D05: Active Directory communication (including per-user CAL lookups); Active Directory communication over LDAPS; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL
# from sh04 (zone internal)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S32a S32b D01 D02 D03 D04a D04b D05 TCP 53,88,135,389,445,636,3268,49152-65535: Active Directory communication (including per-user CAL lookups)' -Description 'S32a S32b D01 D02 D03 D04a D04b D05: Active Directory communication (including per-user CAL lookups); Active Directory communication over LDAPS; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL | from sh04 (zone internal)' -Protocol TCP -LocalPort @('53', '88', '135', '389', '445', '636', '3268', '49152-65535') -RemoteAddress @('192.0.2.24') | Out-Null

# S35 D01 D02 D04a D06: per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); time synchronisation with the domain hierarchy (W32Time)
# from sh04 (zone internal)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S35 D01 D02 D04a D06 UDP 53,88,123,389: per-user CAL issuance recorded in Active Directory' -Description 'S35 D01 D02 D04a D06: per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); time synchronisation with the domain hierarchy (W32Time) | from sh04 (zone internal)' -Protocol UDP -LocalPort @('53', '88', '123', '389') -RemoteAddress @('192.0.2.24') | Out-Null
