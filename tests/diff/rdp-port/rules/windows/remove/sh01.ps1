# rdsports: Windows Firewall rules for host "sh01" of deployment "contoso".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 9 flows, 2 rules after aggregation.
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

# S24: RDP from the gateway to the session host or virtual desktop
# from gw01 (zone perimeter)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S24 TCP 3389: RDP from the gateway to the session host or virtual desktop' -Description 'S24: RDP from the gateway to the session host or virtual desktop | from gw01 (zone perimeter)' -Protocol TCP -LocalPort @('3389') -RemoteAddress @('198.51.100.10') | Out-Null

# S25: RDP UDP from the gateway to the host; stateful firewalls must allow the reply ("Send Receive")
# from gw01 (zone perimeter)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S25 UDP 3389: RDP UDP from the gateway to the host; stateful firewalls must allow the reply ("Send Receive")' -Description 'S25: RDP UDP from the gateway to the host; stateful firewalls must allow the reply ("Send Receive") | from gw01 (zone perimeter)' -Protocol UDP -LocalPort @('3389') -RemoteAddress @('198.51.100.10') | Out-Null
