# rdsports Windows Firewall export (for `rdsports audit`).
# Run in an elevated PowerShell (5.1 or 7) on the host to audit:
#   powershell -ExecutionPolicy Bypass -File export-firewall.ps1 > firewall.json
# It reads the active policy store (local rules and Group Policy together, as enforced) and
# writes one JSON document. It changes nothing. UTF-16 (what 5.1 writes with `>`) and UTF-8
# are both accepted by rdsports.
$ErrorActionPreference = 'Stop'
$store = 'ActiveStore'
$ports = @{}; Get-NetFirewallPortFilter -PolicyStore $store | ForEach-Object { $ports[$_.InstanceID] = $_ }
$addrs = @{}; Get-NetFirewallAddressFilter -PolicyStore $store | ForEach-Object { $addrs[$_.InstanceID] = $_ }
$apps = @{}; Get-NetFirewallApplicationFilter -PolicyStore $store | ForEach-Object { $apps[$_.InstanceID] = $_ }
$svcs = @{}; Get-NetFirewallServiceFilter -PolicyStore $store | ForEach-Object { $svcs[$_.InstanceID] = $_ }
$ifs = @{}; Get-NetFirewallInterfaceTypeFilter -PolicyStore $store | ForEach-Object { $ifs[$_.InstanceID] = $_ }
$sec = @{}; Get-NetFirewallSecurityFilter -PolicyStore $store | ForEach-Object { $sec[$_.InstanceID] = $_ }
$rules = foreach ($r in Get-NetFirewallRule -PolicyStore $store) {
  $id = $r.InstanceID
  $p = $ports[$id]; $a = $addrs[$id]; $app = $apps[$id]; $s = $svcs[$id]
  [ordered]@{
    Name = $r.Name
    DisplayName = $r.DisplayName
    Enabled = [string]$r.Enabled
    Direction = [string]$r.Direction
    Action = [string]$r.Action
    Profile = [string]$r.Profile
    OverrideBlockRules = [string]$sec[$id].OverrideBlockRules
    Protocol = [string]$p.Protocol
    LocalPort = @($p.LocalPort | ForEach-Object { [string]$_ })
    RemotePort = @($p.RemotePort | ForEach-Object { [string]$_ })
    LocalAddress = @($a.LocalAddress | ForEach-Object { [string]$_ })
    RemoteAddress = @($a.RemoteAddress | ForEach-Object { [string]$_ })
    Program = [string]$app.Program
    Package = [string]$app.Package
    Service = [string]$s.Service
    InterfaceType = [string]$ifs[$id].InterfaceType
    PolicyStoreSourceType = [string]$r.PolicyStoreSourceType
  }
}
$profiles = foreach ($f in Get-NetFirewallProfile -PolicyStore $store) {
  [ordered]@{
    Name = [string]$f.Name
    Enabled = [string]$f.Enabled
    DefaultInboundAction = [string]$f.DefaultInboundAction
    DefaultOutboundAction = [string]$f.DefaultOutboundAction
    AllowLocalFirewallRules = [string]$f.AllowLocalFirewallRules
  }
}
[ordered]@{
  rdsports_windows_export = 1
  ComputerName = $env:COMPUTERNAME
  Profiles = @($profiles)
  Rules = @($rules)
} | ConvertTo-Json -Depth 5
