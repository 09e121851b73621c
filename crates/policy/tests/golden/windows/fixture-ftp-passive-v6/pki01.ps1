# rdsports: Windows Firewall rules for host "pki01" of deployment "fixture-passive".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 3 flows, 1 rules after aggregation.
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
$Group = 'rdsports fixture-passive'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# S20 S21a S21b: certificate revocation list retrieval over HTTP; certificate revocation list retrieval over FTP (control channel); certificate revocation list retrieval over FTP (passive data channel)
# from gw01 (zone dmz)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S20 S21a S21b TCP 21,80,50000-50100: certificate revocation list retrieval over HTTP' -Description 'S20 S21a S21b: certificate revocation list retrieval over HTTP; certificate revocation list retrieval over FTP (control channel); certificate revocation list retrieval over FTP (passive data channel) | from gw01 (zone dmz)' -Protocol TCP -LocalPort @('21', '80', '50000-50100') -RemoteAddress @('198.51.100.10') | Out-Null
