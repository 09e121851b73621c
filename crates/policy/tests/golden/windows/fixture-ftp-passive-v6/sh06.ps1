# rdsports: Windows Firewall rules for host "sh06" of deployment "fixture-passive".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 2 flows, 2 rules after aggregation.
#Requires -RunAsAdministrator
#Requires -Modules NetSecurity

$ErrorActionPreference = 'Stop'
$Group = 'rdsports fixture-passive'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# S24: RDP from the gateway to the session host or virtual desktop
# from gw06 (zone dmz)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S24 TCP 3389: RDP from the gateway to the session host or virtual desktop' -Description 'S24: RDP from the gateway to the session host or virtual desktop | from gw06 (zone dmz)' -Protocol TCP -LocalPort @('3389') -RemoteAddress @('2001:db8:1::10') | Out-Null

# S25: RDP UDP from the gateway to the host; stateful firewalls must allow the reply ("Send Receive")
# from gw06 (zone dmz)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S25 UDP 3389: RDP UDP from the gateway to the host; stateful firewalls must allow the reply ("Send Receive")' -Description 'S25: RDP UDP from the gateway to the host; stateful firewalls must allow the reply ("Send Receive") | from gw06 (zone dmz)' -Protocol UDP -LocalPort @('3389') -RemoteAddress @('2001:db8:1::10') | Out-Null
