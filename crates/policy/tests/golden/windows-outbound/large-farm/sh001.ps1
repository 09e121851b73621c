# rdsports: Windows Firewall rules for host "sh001" of deployment "fabrikam".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 14 flows, 4 rules after aggregation.
# Outbound: 37 flows, 5 rules after aggregation.
# These rules only allow. What they do not allow is blocked by each profile's default
# inbound action, Block (Windows' default): the script relies on it and warns below when
# a profile allows inbound traffic by default or has the firewall turned off.
# The outbound rules restrict only where DefaultOutboundAction is Block (Windows'
# default is Allow); the script says so for each profile that allows.
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
    if ([string]$p.DefaultOutboundAction -ne 'Block') {
        Write-Warning ('rdsports: the {0} profile allows outbound traffic by default: the outbound rules restrict nothing there' -f $p.Name)
    }
}
$Group = 'rdsports fabrikam'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# S24: RDP from the gateway to the session host or virtual desktop
# from gw01, gw02 (zone perimeter)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S24 TCP 3389: RDP from the gateway to the session host or virtual desktop' -Description 'S24: RDP from the gateway to the session host or virtual desktop | from gw01, gw02 (zone perimeter)' -Protocol TCP -LocalPort @('3389') -RemoteAddress @('203.0.113.10/31') | Out-Null

# S25: RDP UDP from the gateway to the host; stateful firewalls must allow the reply ("Send Receive")
# from gw01, gw02 (zone perimeter)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S25 UDP 3389: RDP UDP from the gateway to the host; stateful firewalls must allow the reply ("Send Receive")' -Description 'S25: RDP UDP from the gateway to the host; stateful firewalls must allow the reply ("Send Receive") | from gw01, gw02 (zone perimeter)' -Protocol UDP -LocalPort @('3389') -RemoteAddress @('203.0.113.10/31') | Out-Null

# S10a S10b: management of session hosts and collections (SMB); management of session hosts and collections (RPC: endpoint mapper and dynamic range)
# from cb01, cb02, cb03 (zone servers)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S10a S10b TCP 135,445,50000-50999: management of session hosts and collections (SMB)' -Description 'S10a S10b: management of session hosts and collections (SMB); management of session hosts and collections (RPC: endpoint mapper and dynamic range) | from cb01, cb02, cb03 (zone servers)' -Protocol TCP -LocalPort @('135', '445', '50000-50999') -RemoteAddress @('192.0.2.10/31', '192.0.2.12') | Out-Null

# S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration
# from admin01 (zone servers)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S11 TCP 5986: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration' -Description 'S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration | from admin01 (zone servers)' -Protocol TCP -LocalPort @('5986') -RemoteAddress @('192.0.2.80') | Out-Null

# S28a S28b S29: licensing RPC: endpoint mapper of the license server (CAL requests); licensing RPC on the dynamic range (49152-65535 since Windows Server 2008; 1024-65535 before); licensing RPC over named pipes (SMB)
# to ls01, ls02 (zone servers)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S28a S28b S29 TCP 135,445,50000-50999: licensing RPC: endpoint mapper of the license server (CAL requests)' -Description 'S28a S28b S29: licensing RPC: endpoint mapper of the license server (CAL requests); licensing RPC on the dynamic range (49152-65535 since Windows Server 2008; 1024-65535 before); licensing RPC over named pipes (SMB) | to ls01, ls02 (zone servers)' -Protocol TCP -RemotePort @('135', '445', '50000-50999') -RemoteAddress @('192.0.2.30/31') | Out-Null

# S32a S32b D01 D02 D03 D04a D04b D05: Active Directory communication (including per-user CAL lookups); Active Directory communication over LDAPS; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL
# to dc01, dc02 (zone servers)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S32a S32b D01 D02 D03 D04a D04b D05 TCP 53,88,135,389,445,636,3268,49200: Active Directory communication (including per-user CAL lookups)' -Description 'S32a S32b D01 D02 D03 D04a D04b D05: Active Directory communication (including per-user CAL lookups); Active Directory communication over LDAPS; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL | to dc01, dc02 (zone servers)' -Protocol TCP -RemotePort @('53', '88', '135', '389', '445', '636', '3268', '49200') -RemoteAddress @('192.0.2.40/31') | Out-Null

# A01: session host to broker service (Tssdis): session directory and redirection decisions
# to cb01, cb02, cb03 (zone servers)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports A01 TCP 135,50000-50999: session host to broker service (Tssdis): session directory and redirection decisions' -Description 'A01: session host to broker service (Tssdis): session directory and redirection decisions | to cb01, cb02, cb03 (zone servers)' -Protocol TCP -RemotePort @('135', '50000-50999') -RemoteAddress @('192.0.2.10/31', '192.0.2.12') | Out-Null

# A09: User Profile Disks on an SMB share
# to fs01 (zone servers)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports A09 TCP 445: User Profile Disks on an SMB share' -Description 'A09: User Profile Disks on an SMB share | to fs01 (zone servers)' -Protocol TCP -RemotePort @('445') -RemoteAddress @('192.0.2.70') | Out-Null

# D01 D02 D04a D06: DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); time synchronisation with the domain hierarchy (W32Time)
# to dc01, dc02 (zone servers)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports D01 D02 D04a D06 UDP 53,88,123,389: DNS for domain members' -Description 'D01 D02 D04a D06: DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); time synchronisation with the domain hierarchy (W32Time) | to dc01, dc02 (zone servers)' -Protocol UDP -RemotePort @('53', '88', '123', '389') -RemoteAddress @('192.0.2.40/31') | Out-Null
