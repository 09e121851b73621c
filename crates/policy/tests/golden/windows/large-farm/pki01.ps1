# rdsports: Windows Firewall rules for host "pki01" of deployment "fabrikam".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 6 flows, 2 rules after aggregation.
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
$Group = 'rdsports fabrikam'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# S19: certificate revocation list retrieval over LDAP
# from gw01, gw02 (zone perimeter)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S19 UDP 389: certificate revocation list retrieval over LDAP' -Description 'S19: certificate revocation list retrieval over LDAP | from gw01, gw02 (zone perimeter)' -Protocol UDP -LocalPort @('389') -RemoteAddress @('203.0.113.10/31') | Out-Null

# S19 S20: certificate revocation list retrieval over LDAP; certificate revocation list retrieval over HTTP
# from gw01, gw02 (zone perimeter)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S19 S20 TCP 80,389: certificate revocation list retrieval over LDAP' -Description 'S19 S20: certificate revocation list retrieval over LDAP; certificate revocation list retrieval over HTTP | from gw01, gw02 (zone perimeter)' -Protocol TCP -LocalPort @('80', '389') -RemoteAddress @('203.0.113.10/31') | Out-Null
