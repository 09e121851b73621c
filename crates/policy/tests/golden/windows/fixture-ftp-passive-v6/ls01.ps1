# rdsports: Windows Firewall rules for host "ls01" of deployment "fixture-passive".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 4 flows, 2 rules after aggregation.
#Requires -RunAsAdministrator
#Requires -Modules NetSecurity

$ErrorActionPreference = 'Stop'
$Group = 'rdsports fixture-passive'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration
# from cb01 (zone lan)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S11 TCP 5985: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration' -Description 'S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration | from cb01 (zone lan)' -Protocol TCP -LocalPort @('5985') -RemoteAddress @('192.0.2.10') | Out-Null

# S28a S28b S29: licensing RPC: endpoint mapper of the license server (CAL requests); licensing RPC on the dynamic range (49152-65535 since Windows Server 2008; 1024-65535 before); licensing RPC over named pipes (SMB)
# from sh01 (zone lan)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S28a S28b S29 TCP 135,445,49152-65535: licensing RPC: endpoint mapper of the license server (CAL requests)' -Description 'S28a S28b S29: licensing RPC: endpoint mapper of the license server (CAL requests); licensing RPC on the dynamic range (49152-65535 since Windows Server 2008; 1024-65535 before); licensing RPC over named pipes (SMB) | from sh01 (zone lan)' -Protocol TCP -LocalPort @('135', '445', '49152-65535') -RemoteAddress @('192.0.2.21') | Out-Null
