# rdsports: Windows Firewall rules for host "nps01" of deployment "fixture-passive".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 2 flows, 1 rules after aggregation.
#Requires -RunAsAdministrator
#Requires -Modules NetSecurity

$ErrorActionPreference = 'Stop'
$Group = 'rdsports fixture-passive'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# S22: RADIUS authentication and accounting to a central NPS (central RD CAP store)
# from gw01 (zone dmz)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S22 UDP 1812-1813: RADIUS authentication and accounting to a central NPS (central RD CAP store)' -Description 'S22: RADIUS authentication and accounting to a central NPS (central RD CAP store) | from gw01 (zone dmz)' -Protocol UDP -LocalPort @('1812-1813') -RemoteAddress @('198.51.100.10') | Out-Null
