# rdsports: Windows Firewall rules for host "fs01" of deployment "fabrikam".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 200 flows, 1 rules after aggregation.
# Outbound: 22 flows, 2 rules after aggregation.
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

# A09: User Profile Disks on an SMB share
# from sh001, sh002, sh003, sh004, sh005, sh006, sh007, sh008, sh009, sh010, and 190 more (zone farm)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports A09 TCP 445: User Profile Disks on an SMB share' -Description 'A09: User Profile Disks on an SMB share | from sh001, sh002, sh003, sh004, sh005, sh006, sh007, sh008, sh009, sh010, and 190 more (zone farm)' -Protocol TCP -LocalPort @('445') -RemoteAddress @('198.51.100.1', '198.51.100.2/31', '198.51.100.4/30', '198.51.100.8/29', '198.51.100.16/28', '198.51.100.32/27', '198.51.100.64/26', '198.51.100.128/26', '198.51.100.192/29', '198.51.100.200') | Out-Null

# D01 D02 D03 D04a D04b D05: DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL
# to dc01, dc02 (zone servers)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports D01 D02 D03 D04a D04b D05 TCP 53,88,135,389,445,3268,49200: DNS for domain members' -Description 'D01 D02 D03 D04a D04b D05: DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL | to dc01, dc02 (zone servers)' -Protocol TCP -RemotePort @('53', '88', '135', '389', '445', '3268', '49200') -RemoteAddress @('192.0.2.40/31') | Out-Null

# D01 D02 D04a D06: DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); time synchronisation with the domain hierarchy (W32Time)
# to dc01, dc02 (zone servers)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports D01 D02 D04a D06 UDP 53,88,123,389: DNS for domain members' -Description 'D01 D02 D04a D06: DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); time synchronisation with the domain hierarchy (W32Time) | to dc01, dc02 (zone servers)' -Protocol UDP -RemotePort @('53', '88', '123', '389') -RemoteAddress @('192.0.2.40/31') | Out-Null
