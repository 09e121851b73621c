# rdsports: Windows Firewall rules for host "sql01" of deployment "fabrikam".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 3 flows, 1 rules after aggregation.
#Requires -RunAsAdministrator
#Requires -Modules NetSecurity

$ErrorActionPreference = 'Stop'
$Group = 'rdsports fabrikam'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# A03: shared broker database for high availability (active/active)
# from cb01, cb02, cb03 (zone servers)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports A03 TCP 1433: shared broker database for high availability (active/active)' -Description 'A03: shared broker database for high availability (active/active) | from cb01, cb02, cb03 (zone servers)' -Protocol TCP -LocalPort @('1433') -RemoteAddress @('192.0.2.10/31', '192.0.2.12') | Out-Null
