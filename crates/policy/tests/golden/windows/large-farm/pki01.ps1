# rdsports: Windows Firewall rules for host "pki01" of deployment "fabrikam".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 6 flows, 2 rules after aggregation.
#Requires -RunAsAdministrator
#Requires -Modules NetSecurity

$ErrorActionPreference = 'Stop'
$Group = 'rdsports fabrikam'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# S19: certificate revocation list retrieval over LDAP
# from gw01, gw02 (zone perimeter)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S19 UDP 389: certificate revocation list retrieval over LDAP' -Description 'S19: certificate revocation list retrieval over LDAP | from gw01, gw02 (zone perimeter)' -Protocol UDP -LocalPort @('389') -RemoteAddress @('203.0.113.10/31') | Out-Null

# S19 S20: certificate revocation list retrieval over LDAP; certificate revocation list retrieval over HTTP
# from gw01, gw02 (zone perimeter)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S19 S20 TCP 80,389: certificate revocation list retrieval over LDAP' -Description 'S19 S20: certificate revocation list retrieval over LDAP; certificate revocation list retrieval over HTTP | from gw01, gw02 (zone perimeter)' -Protocol TCP -LocalPort @('80', '389') -RemoteAddress @('203.0.113.10/31') | Out-Null
