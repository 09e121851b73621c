# rdsports: Windows Firewall rules for host "ls01" of deployment "contoso".
# Run as Administrator (Windows Server 2012 or later). Running it again first removes
# the rule group below and then creates it anew.
# Inbound: 10 flows, 2 rules after aggregation.
# Outbound: 12 flows, 3 rules after aggregation.
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

# S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration
# from cb01 (zone internal)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S11 TCP 5985: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration' -Description 'S11: WinRM (WS-Management, PowerShell remoting) used by Server Manager and RDMS for administration | from cb01 (zone internal)' -Protocol TCP -LocalPort @('5985') -RemoteAddress @('192.0.2.10') | Out-Null

# S28a S28b S29: licensing RPC: endpoint mapper of the license server (CAL requests); licensing RPC on the dynamic range (49152-65535 since Windows Server 2008; 1024-65535 before); licensing RPC over named pipes (SMB)
# from sh01, sh02, sh03 (zone internal)
New-NetFirewallRule @Common -Direction Inbound -DisplayName 'rdsports S28a S28b S29 TCP 135,445,49152-65535: licensing RPC: endpoint mapper of the license server (CAL requests)' -Description 'S28a S28b S29: licensing RPC: endpoint mapper of the license server (CAL requests); licensing RPC on the dynamic range (49152-65535 since Windows Server 2008; 1024-65535 before); licensing RPC over named pipes (SMB) | from sh01, sh02, sh03 (zone internal)' -Protocol TCP -LocalPort @('135', '445', '49152-65535') -RemoteAddress @('192.0.2.21', '192.0.2.22/31') | Out-Null

# S34: license server activation and CAL installation with the Microsoft Clearinghouse (automatic method)
# to clearinghouse (zone internet)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S34 TCP 443: license server activation and CAL installation with the Microsoft Clearinghouse (automatic method)' -Description 'S34: license server activation and CAL installation with the Microsoft Clearinghouse (automatic method) | to clearinghouse (zone internet)' -Protocol TCP -RemotePort @('443') -RemoteAddress @('0.0.0.0-255.255.255.255') | Out-Null

# S35 D01 D02 D03 D04a D04b D05: per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL
# to dc01 (zone internal)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S35 D01 D02 D03 D04a D04b D05 TCP 53,88,135,389,445,3268,49152-65535: per-user CAL issuance recorded in Active Directory' -Description 'S35 D01 D02 D03 D04a D04b D05: per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LSA, SAM and Netlogon RPC for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); global catalog for domain members; SMB for Group Policy and SYSVOL | to dc01 (zone internal)' -Protocol TCP -RemotePort @('53', '88', '135', '389', '445', '3268', '49152-65535') -RemoteAddress @('192.0.2.40') | Out-Null

# S35 D01 D02 D04a D06: per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator's LDAP ping); time synchronisation with the domain hierarchy (W32Time)
# to dc01 (zone internal)
New-NetFirewallRule @Common -Direction Outbound -DisplayName 'rdsports S35 D01 D02 D04a D06 UDP 53,88,123,389: per-user CAL issuance recorded in Active Directory' -Description 'S35 D01 D02 D04a D06: per-user CAL issuance recorded in Active Directory; DNS for domain members; Kerberos for domain members; LDAP for domain members (UDP: the DC locator''s LDAP ping); time synchronisation with the domain hierarchy (W32Time) | to dc01 (zone internal)' -Protocol UDP -RemotePort @('53', '88', '123', '389') -RemoteAddress @('192.0.2.40') | Out-Null
