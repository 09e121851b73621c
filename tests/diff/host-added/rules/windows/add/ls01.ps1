# rdsports: Windows Firewall rules for host "ls01" of deployment "contoso".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 13 flows, 1 rules after aggregation.
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

# S28a S28b S29: licensing RPC: endpoint mapper of the license server (CAL requests); licensing RPC on the dynamic range (49152-65535 since Windows Server 2008; 1024-65535 before); licensing RPC over named pipes (SMB)
# from sh04 (zone internal)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S28a S28b S29 TCP 135,445,49152-65535: licensing RPC: endpoint mapper of the license server (CAL requests)' -Description 'S28a S28b S29: licensing RPC: endpoint mapper of the license server (CAL requests); licensing RPC on the dynamic range (49152-65535 since Windows Server 2008; 1024-65535 before); licensing RPC over named pipes (SMB) | from sh04 (zone internal)' -Protocol TCP -LocalPort @('135', '445', '49152-65535') -RemoteAddress @('192.0.2.24') | Out-Null
