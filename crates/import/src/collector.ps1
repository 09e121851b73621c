#requires -Version 5.1
<#
.SYNOPSIS
    rdsports collector: what a running RDS deployment says about itself, as one JSON document
    for `rdsports import`.

.DESCRIPTION
    Run in Windows PowerShell 5.1 (powershell.exe, not pwsh: the RemoteDesktop module does not
    fully work under PowerShell 7) on the active RD Connection Broker, as a deployment
    administrator:

        powershell.exe -NoProfile -ExecutionPolicy Bypass -File collect.ps1 > rdsports-collected.json
        rdsports import rdsports-collected.json -o deployment.toml

    It reads the RemoteDesktop cmdlets, then asks every server of the deployment (over WinRM,
    each bounded by -TimeoutSeconds) for the facts that change ports: addresses with prefix
    lengths, the RDP listener port and RDP over UDP, the RD Gateway's transports, policy store,
    NPS server names and certificate CRL distribution points, the restricted RPC range
    (KB 154596), the WinRM listeners, the domain and the DNS servers. A server that cannot be
    reached is listed with its error. Every fact carries its source. Secrets are never read:
    NPS shared secrets are not requested, and the Password/Pwd parts of the broker database's
    connection string are removed before anything is written.

    The script changes nothing and writes only to standard output.
#>
param(
    # The connection broker to ask (default: this computer).
    [string] $ConnectionBroker = ([System.Net.Dns]::GetHostEntry('localhost').HostName),
    # The longest wait for one server, in seconds (connect and run).
    [int] $TimeoutSeconds = 60
)

$ErrorActionPreference = 'Stop'
Import-Module -Name RemoteDesktop

$doc = [ordered]@{
    schema_version = 1
    collector      = 'rdsports'
    collected_at   = (Get-Date).ToUniversalTime().ToString('o')
    broker         = $ConnectionBroker
    cmdlets        = [ordered]@{}
    cmdlet_errors  = @()
    servers        = @()
    names          = @()
}

# The Password/Pwd parts of a connection string, removed (a value in braces may hold ';').
function Remove-Credential([string] $Text) {
    if (-not $Text) { return $Text }
    return ($Text -replace '(?i)(^|;)\s*(pwd|password)\s*=\s*(\{[^}]*\}|[^;]*)', '')
}

# One cmdlet, its output made of plain values (enums as names, arrays as arrays).
function Add-Cmdlet([string] $Name, [scriptblock] $Read) {
    try {
        $doc.cmdlets[$Name] = @(& $Read)
    } catch {
        $doc.cmdlet_errors += [ordered]@{ cmdlet = $Name; error = $_.Exception.Message }
    }
}

Add-Cmdlet 'Get-RDServer' {
    Get-RDServer -ConnectionBroker $ConnectionBroker | ForEach-Object {
        [ordered]@{ Server = $_.Server; Roles = @($_.Roles | ForEach-Object { $_.ToString() }) }
    }
}
Add-Cmdlet 'Get-RDDeploymentGatewayConfiguration' {
    $g = Get-RDDeploymentGatewayConfiguration -ConnectionBroker $ConnectionBroker
    $o = [ordered]@{ GatewayMode = $g.GatewayMode.ToString() }
    if ($g.GatewayMode.ToString() -eq 'Custom') {
        $o.GatewayExternalFqdn = $g.GatewayExternalFqdn
        $o.LogonMethod = $g.LogonMethod.ToString()
        $o.UseCachedCredentials = [bool] $g.UseCachedCredentials
        $o.BypassLocal = [bool] $g.BypassLocal
    }
    $o
}
Add-Cmdlet 'Get-RDLicenseConfiguration' {
    Get-RDLicenseConfiguration -ConnectionBroker $ConnectionBroker | ForEach-Object {
        [ordered]@{ Mode = $_.Mode.ToString(); LicenseServer = @($_.LicenseServer) }
    }
}
Add-Cmdlet 'Get-RDConnectionBrokerHighAvailability' {
    Get-RDConnectionBrokerHighAvailability -ConnectionBroker $ConnectionBroker | ForEach-Object {
        [ordered]@{
            ActiveManagementServer            = $_.ActiveManagementServer
            ConnectionBroker                  = @($_.ConnectionBroker)
            ClientAccessName                  = $_.ClientAccessName
            DatabaseConnectionString          = (Remove-Credential $_.DatabaseConnectionString)
            DatabaseSecondaryConnectionString = (Remove-Credential $_.DatabaseSecondaryConnectionString)
        }
    }
}
$collections = @()
Add-Cmdlet 'Get-RDSessionCollection' {
    Get-RDSessionCollection -ConnectionBroker $ConnectionBroker | ForEach-Object {
        $script:collections += $_.CollectionName
        [ordered]@{
            CollectionName = $_.CollectionName
            CollectionAlias = $_.CollectionAlias
            Size = $_.Size
            ResourceType = $_.ResourceType
            CollectionType = $_.CollectionType.ToString()
        }
    }
}
Add-Cmdlet 'Get-RDSessionHost' {
    foreach ($c in $collections) {
        Get-RDSessionHost -CollectionName $c -ConnectionBroker $ConnectionBroker | ForEach-Object {
            [ordered]@{
                CollectionName = $_.CollectionName
                SessionHost = $_.SessionHost
                NewConnectionAllowed = $_.NewConnectionAllowed.ToString()
            }
        }
    }
}
Add-Cmdlet 'Get-RDVirtualDesktopCollection' {
    Get-RDVirtualDesktopCollection -ConnectionBroker $ConnectionBroker | ForEach-Object {
        [ordered]@{ CollectionName = $_.CollectionName; Type = $_.Type.ToString() }
    }
}
Add-Cmdlet 'Get-RDVirtualDesktop' {
    Get-RDVirtualDesktop -ConnectionBroker $ConnectionBroker | ForEach-Object {
        [ordered]@{ VirtualDesktopName = $_.VirtualDesktopName; HostName = $_.HostName }
    }
}

# User Profile Disks: the file servers of the session collections.
$upd = @()
foreach ($c in $collections) {
    try {
        $u = Get-RDSessionCollectionConfiguration -CollectionName $c -UserProfileDisk -ConnectionBroker $ConnectionBroker
        if ($u.EnableUserProfileDisk -and $u.DiskPath) { $upd += $u.DiskPath }
    } catch {
        $doc.cmdlet_errors += [ordered]@{ cmdlet = 'Get-RDSessionCollectionConfiguration'; error = $_.Exception.Message }
    }
}
if ($upd.Count -gt 0) {
    $doc.user_profile_disks = [ordered]@{ value = @($upd); source = 'Get-RDSessionCollectionConfiguration -UserProfileDisk DiskPath' }
}

# The broker database's server, port and instance, from the connection string (credentials
# never copied: only SERVER= is read).
$ha = $doc.cmdlets['Get-RDConnectionBrokerHighAvailability']
if ($ha -and $ha[0].DatabaseConnectionString -match '(?i)(?:^|;)\s*(?:server|data source|address)\s*=\s*(?:tcp:)?([^;,\\]+)(?:\\([^;,]+))?(?:,(\d+))?') {
    $db = [ordered]@{
        server    = $Matches[1].Trim()
        port      = $null
        instance  = $null
        addresses = @()
        source    = 'Get-RDConnectionBrokerHighAvailability DatabaseConnectionString SERVER='
    }
    if ($Matches[2]) { $db.instance = $Matches[2] }
    if ($Matches[3]) { $db.port = [int] $Matches[3] }
    try { $db.addresses = @([System.Net.Dns]::GetHostAddresses($db.server) | ForEach-Object { $_.IPAddressToString }) } catch { }
    $doc.broker_database = $db
}

# What each server says about itself; runs on the server.
$facts = {
    $f = [ordered]@{}
    $f.addresses = [ordered]@{
        value  = @(Get-NetIPAddress -AddressState Preferred | ForEach-Object { [ordered]@{ ip = $_.IPAddress; prefix_length = [int] $_.PrefixLength } })
        source = 'Get-NetIPAddress'
    }
    $rdp = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp'
    if (Test-Path -Path $rdp) {
        $f.rdp_port = [ordered]@{ value = [int] (Get-ItemProperty -Path $rdp -Name PortNumber).PortNumber; source = "$rdp PortNumber" }
        $policy = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services' -Name SelectTransport -ErrorAction SilentlyContinue
        if ($policy) {
            $f.rdp_udp = [ordered]@{ value = ($policy.SelectTransport -ne 1); source = 'Group Policy Select RDP transport protocols (SelectTransport)' }
        } else {
            $ts = Get-CimInstance -Namespace root\cimv2\TerminalServices -ClassName Win32_TSClientSetting -Filter "TerminalName='RDP-Tcp'" -ErrorAction SilentlyContinue
            if ($ts) { $f.rdp_udp = [ordered]@{ value = ($ts.SelectTransport -ne 1); source = 'Win32_TSClientSetting SelectTransport' } }
        }
    }
    $gw = Get-CimInstance -Namespace root\cimv2\TerminalServices -ClassName Win32_TSGatewayServerSettings -ErrorAction SilentlyContinue
    if ($gw) {
        $g = [ordered]@{}
        $http = Invoke-CimMethod -InputObject $gw -MethodName GetIPAndPort -Arguments @{ TransportType = [uint32] 1 }
        $g.https_port = [ordered]@{ value = [int] $http.Port; source = 'Win32_TSGatewayServerSettings GetIPAndPort(1)' }
        $udp = Invoke-CimMethod -InputObject $gw -MethodName GetIPAndPort -Arguments @{ TransportType = [uint32] 2 }
        $g.udp_port = [ordered]@{ value = [int] $udp.Port; source = 'Win32_TSGatewayServerSettings GetIPAndPort(2)' }
        $on = Invoke-CimMethod -InputObject $gw -MethodName IsTransportEnabled -Arguments @{ TransportType = [uint32] 2 }
        $g.udp_enabled = [ordered]@{ value = [bool] $on.Enabled; source = 'Win32_TSGatewayServerSettings IsTransportEnabled(2)' }
        $g.central_cap = [ordered]@{ value = [bool] $gw.CentralCAPEnabled; source = 'Win32_TSGatewayServerSettings CentralCAPEnabled' }
        # Names only: the shared secret is never requested.
        $nps = @(Get-CimInstance -Namespace root\cimv2\TerminalServices -ClassName Win32_TSGatewayRADIUSServer -Property Name -ErrorAction SilentlyContinue | ForEach-Object { $_.Name })
        $g.nps_servers = [ordered]@{ value = $nps; source = 'Win32_TSGatewayRADIUSServer Name' }
        if ($gw.CertHash) {
            $thumb = ($gw.CertHash | ForEach-Object { $_.ToString('X2') }) -join ''
            $cert = Get-Item -Path "Cert:\LocalMachine\My\$thumb" -ErrorAction SilentlyContinue
            if ($cert) {
                $cdp = $cert.Extensions | Where-Object { $_.Oid.Value -eq '2.5.29.31' }
                $urls = @()
                if ($cdp) { $urls = @([regex]::Matches($cdp.Format($false), '(?i)(https?|ldap|ftp)://[^\s,]*') | ForEach-Object { $_.Value }) }
                $g.crl_urls = [ordered]@{ value = $urls; source = 'the gateway certificate''s CRL distribution points' }
            }
        }
        $f.gateway = $g
    }
    $rpc = Get-ItemProperty -Path 'HKLM:\Software\Microsoft\Rpc\Internet' -Name Ports -ErrorAction SilentlyContinue
    if ($rpc -and $rpc.Ports) {
        $f.rpc_range = [ordered]@{ value = (@($rpc.Ports) -join ','); source = 'HKLM:\Software\Microsoft\Rpc\Internet Ports' }
    }
    $f.winrm = [ordered]@{
        value  = @(Get-WSManInstance -ResourceURI winrm/config/Listener -Enumerate | ForEach-Object { $_.Transport })
        source = 'Get-WSManInstance winrm/config/Listener'
    }
    $f.dns_servers = [ordered]@{
        value  = @(Get-DnsClientServerAddress -AddressFamily IPv4 | ForEach-Object { $_.ServerAddresses } | Sort-Object -Unique)
        source = 'Get-DnsClientServerAddress'
    }
    $f.domain = [ordered]@{ value = (Get-CimInstance -ClassName Win32_ComputerSystem).Domain; source = 'Win32_ComputerSystem Domain' }
    $f
}

$options = New-PSSessionOption -OpenTimeout ($TimeoutSeconds * 1000) -OperationTimeout ($TimeoutSeconds * 1000) -CancelTimeout 5000
$servers = @($doc.cmdlets['Get-RDServer'] | ForEach-Object { $_.Server })
foreach ($s in ($servers | Sort-Object -Unique)) {
    $entry = [ordered]@{ name = $s; error = $null }
    try {
        $f = Invoke-Command -ComputerName $s -ScriptBlock $facts -SessionOption $options -ErrorAction Stop
        foreach ($k in @('addresses', 'rdp_port', 'rdp_udp', 'gateway', 'rpc_range', 'winrm', 'dns_servers', 'domain')) {
            if ($null -ne $f.$k) { $entry[$k] = $f.$k }
        }
    } catch {
        $entry.error = $_.Exception.Message
    }
    $doc.servers += $entry
}

# The domain, its controllers and the NTDS fixed port, from this broker.
try {
    $domain = [System.DirectoryServices.ActiveDirectory.Domain]::GetComputerDomain()
    $dcs = @()
    foreach ($dc in $domain.DomainControllers) {
        $dcs += [ordered]@{ name = $dc.Name; addresses = @($dc.IPAddress); source = 'System.DirectoryServices.ActiveDirectory.Domain DomainControllers' }
    }
    $doc.domain = [ordered]@{
        name        = [ordered]@{ value = $domain.Name; source = 'System.DirectoryServices.ActiveDirectory.Domain GetComputerDomain' }
        controllers = $dcs
    }
    if ($dcs.Count -gt 0) {
        $ntds = {
            (Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Services\NTDS\Parameters' -Name 'TCP/IP Port' -ErrorAction SilentlyContinue).'TCP/IP Port'
        }
        try {
            $port = Invoke-Command -ComputerName $dcs[0].name -ScriptBlock $ntds -SessionOption $options -ErrorAction Stop
            if ($port) {
                $doc.domain.ad_rpc_port = [ordered]@{ value = [int] $port; source = "$($dcs[0].name): HKLM:\SYSTEM\CurrentControlSet\Services\NTDS\Parameters TCP/IP Port" }
            }
        } catch {
            $doc.cmdlet_errors += [ordered]@{ cmdlet = 'Invoke-Command (NTDS TCP/IP Port)'; error = $_.Exception.Message }
        }
    }
} catch {
    $doc.cmdlet_errors += [ordered]@{ cmdlet = 'System.DirectoryServices.ActiveDirectory.Domain'; error = $_.Exception.Message }
}

# Addresses of the other names the facts mention (NPS servers, CRL hosts, file servers).
$other = @()
foreach ($e in $doc.servers) {
    if ($e.gateway) {
        $other += @($e.gateway.nps_servers.value)
        if ($e.gateway.crl_urls) {
            $other += @($e.gateway.crl_urls.value | ForEach-Object { ([uri] $_).Host } | Where-Object { $_ })
        }
    }
}
foreach ($p in $upd) { $other += ($p.TrimStart('\') -split '\\')[0] }
foreach ($n in ($other | Where-Object { $_ } | Sort-Object -Unique)) {
    try {
        $a = @([System.Net.Dns]::GetHostAddresses($n) | ForEach-Object { $_.IPAddressToString })
        $doc.names += [ordered]@{ name = $n; addresses = $a; source = 'System.Net.Dns GetHostAddresses' }
    } catch { }
}

$doc | ConvertTo-Json -Depth 8
