# rdsports: Windows Firewall rules for host "pki01" of deployment "fixture-passive".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 3 flows, 1 rules after aggregation.
#Requires -RunAsAdministrator
#Requires -Modules NetSecurity

$ErrorActionPreference = 'Stop'
$Group = 'rdsports fixture-passive'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# S20 S21a S21b: certificate revocation list retrieval over HTTP; certificate revocation list retrieval over FTP (control channel); certificate revocation list retrieval over FTP (passive data channel)
# from gw01 (zone dmz)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S20 S21a S21b TCP 21,80,50000-50100: certificate revocation list retrieval over HTTP' -Description 'S20 S21a S21b: certificate revocation list retrieval over HTTP; certificate revocation list retrieval over FTP (control channel); certificate revocation list retrieval over FTP (passive data channel) | from gw01 (zone dmz)' -Protocol TCP -LocalPort @('21', '80', '50000-50100') -RemoteAddress @('198.51.100.10') | Out-Null
