# rdsports: Windows Firewall rules for host "pki01" of deployment "contoso".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 1 flows, 1 rules after aggregation.
# Outbound: 0 flows, 0 rules after aggregation.
#Requires -RunAsAdministrator
#Requires -Modules NetSecurity

$ErrorActionPreference = 'Stop'
$Group = 'rdsports contoso'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# S20: certificate revocation list retrieval over HTTP
# from gw01 (zone perimeter)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S20 TCP 80: certificate revocation list retrieval over HTTP' -Description 'S20: certificate revocation list retrieval over HTTP | from gw01 (zone perimeter)' -Protocol TCP -LocalPort @('80') -RemoteAddress @('198.51.100.10') | Out-Null
