# rdsports: Windows Firewall rules for host "sh03" of deployment "contoso".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 9 flows, 3 rules after aggregation.
# Outbound: 19 flows, 4 rules after aggregation.
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
$Group = 'rdsports contoso'
$Common = @{ Group = $Group; Action = 'Allow'; Profile = 'Any'; Enabled = 'True' }

Get-NetFirewallRule -Group $Group -ErrorAction SilentlyContinue | Remove-NetFirewallRule

# S24: RDP from the gateway to the session host or virtual desktop
# from gw01, gw02 (zone perimeter)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S24 TCP 3390: RDP from the gateway to the session host or virtual desktop' -Description 'S24: RDP from the gateway to the session host or virtual desktop | from gw01, gw02 (zone perimeter)' -Protocol TCP -LocalPort @('3390') -RemoteAddress @('198.51.100.10/31') | Out-Null

# S10a S10b: management of session hosts and collections (SMB); management of session hosts and collections (RPC: endpoint mapper and dynamic range)
# from cb02 (zone internal)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S10a S10b TCP 135,445,49152-65535: management of session hosts and collections (SMB)' -Description 'S10a S10b: management of session hosts and collections (SMB); management of session hosts and collections (RPC: endpoint mapper and dynamic range) | from cb02 (zone internal)' -Protocol TCP -LocalPort @('135', '445', '49152-65535') -RemoteAddress @('192.0.2.11') | Out-Null

# S10a S10b S11: management of session hosts and collections (SMB); management of session hosts and collections (RPC: endpoint mapper and dynamic range); WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration
# from cb01 (zone internal)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S10a S10b S11 TCP 135,445,5985,49152-65535: management of session hosts and collections (SMB)' -Description 'S10a S10b S11: management of session hosts and collections (SMB); management of session hosts and collections (RPC: endpoint mapper and dynamic range); WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration | from cb01 (zone internal)' -Protocol TCP -LocalPort @('135', '445', '5985', '49152-65535') -RemoteAddress @('192.0.2.10') | Out-Null

# S28a S28b S29: licensing RPC: endpoint mapper of the license server (CAL requests); licensing RPC on the dynamic range (49152-65535 since Windows Server 2008; 1024-65535 before); licensing RPC over named pipes (SMB)
# to ls01 (zone internal)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S28a S28b S29 TCP 135,445,49152-65535: licensing RPC: endpoint mapper of the license server (CAL requests)' -Description 'S28a S28b S29: licensing RPC: endpoint mapper of the license server (CAL requests); licensing RPC on the dynamic range (49152-65535 since Windows Server 2008; 1024-65535 before); licensing RPC over named pipes (SMB) | to ls01 (zone internal)' -Protocol TCP -RemotePort @('135', '445', '49152-65535') -RemoteAddress @('192.0.2.30') | Out-Null

# S32a S32b D01 D02 D03 D04a D04b D05: Active Directory communication (including per-user CAL lookups); Active Directory communication over LDAPS; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL
# to dc01 (zone internal)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S32a S32b D01 D02 D03 D04a D04b D05 TCP 53,88,135,389,445,636,3268,49152-65535: Active Directory communication (including per-user CAL lookups)' -Description 'S32a S32b D01 D02 D03 D04a D04b D05: Active Directory communication (including per-user CAL lookups); Active Directory communication over LDAPS; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL | to dc01 (zone internal)' -Protocol TCP -RemotePort @('53', '88', '135', '389', '445', '636', '3268', '49152-65535') -RemoteAddress @('192.0.2.40') | Out-Null

# A01: session host to broker service (Tssdis): session directory and redirection decisions
# to cb01, cb02 (zone internal)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports A01 TCP 135,49152-65535: session host to broker service (Tssdis): session directory and redirection decisions' -Description 'A01: session host to broker service (Tssdis): session directory and redirection decisions | to cb01, cb02 (zone internal)' -Protocol TCP -RemotePort @('135', '49152-65535') -RemoteAddress @('192.0.2.10/31') | Out-Null

# D01 D02 D04a D06: DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); time synchronisation with the domain hierarchy (W32Time)
# to dc01 (zone internal)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports D01 D02 D04a D06 UDP 53,88,123,389: DNS for domain members' -Description 'D01 D02 D04a D06: DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); time synchronisation with the domain hierarchy (W32Time) | to dc01 (zone internal)' -Protocol UDP -RemotePort @('53', '88', '123', '389') -RemoteAddress @('192.0.2.40') | Out-Null
