# rdsports: Windows Firewall rules for host "fs01" of deployment "fabrikam".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 200 flows, 1 rules after aggregation.
#Requires -RunAsAdministrator
#Requires -Modules NetSecurity

$ErrorActionPreference = 'Stop'
$Group = 'rdsports fabrikam'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# A09: User Profile Disks on an SMB share
# from sh001, sh002, sh003, sh004, sh005, sh006, sh007, sh008, sh009, sh010, and 190 more (zone farm)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports A09 TCP 445: User Profile Disks on an SMB share' -Description 'A09: User Profile Disks on an SMB share | from sh001, sh002, sh003, sh004, sh005, sh006, sh007, sh008, sh009, sh010, and 190 more (zone farm)' -Protocol TCP -LocalPort @('445') -RemoteAddress @('198.51.100.1', '198.51.100.2/31', '198.51.100.4/30', '198.51.100.8/29', '198.51.100.16/28', '198.51.100.32/27', '198.51.100.64/26', '198.51.100.128/26', '198.51.100.192/29', '198.51.100.200') | Out-Null
