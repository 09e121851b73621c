<#
.SYNOPSIS
    Runs rdsports check on every host of an RDS deployment through PowerShell remoting and
    collects one result file per host.

.DESCRIPTION
    Reads the host list written by `rdsports fleet inventory FILE --format csv`, opens a
    PSSession to each host, copies rdsports.exe and the deployment file into a staging folder
    only when their SHA-256 differs, runs `rdsports.exe check --as HOST --format json --output`
    as a job with a throttle, waits with a timeout, and copies each result back into the
    results folder as HOST.json. Every host gets one result object: ok, blocked, unreachable,
    timeout or error. Merge the files with `rdsports fleet summary RESULTS DEPLOYMENT.toml` or
    `rdsports report DEPLOYMENT.toml --check-dir RESULTS -o report.html`.

    Running check needs no administrator rights on the hosts; creating the staging folder the
    first time may.

.EXAMPLE
    rdsports.exe fleet inventory contoso.toml --format csv > hosts.csv
    .\Invoke-RdsportsFleet.ps1 -Inventory hosts.csv -Deployment contoso.toml -Binary .\rdsports.exe
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [string] $Inventory,

    [Parameter(Mandatory = $true)]
    [string] $Deployment,

    [string] $Binary = (Join-Path $PSScriptRoot 'rdsports.exe'),

    [string] $Results = (Join-Path (Get-Location) 'results'),

    [string] $Stage = 'C:\ProgramData\rdsports',

    [int] $ThrottleLimit = 32,

    [int] $TimeoutSeconds = 600,

    [System.Management.Automation.PSCredential] $Credential,

    [string[]] $CheckArguments = @()
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$hosts = @(Import-Csv -Path $Inventory)
if ($hosts.Count -eq 0) {
    throw "No hosts in $Inventory (write it with: rdsports fleet inventory FILE --format csv)"
}
New-Item -ItemType Directory -Force -Path $Results | Out-Null
$binaryHash = (Get-FileHash -Algorithm SHA256 -Path $Binary).Hash
$deploymentHash = (Get-FileHash -Algorithm SHA256 -Path $Deployment).Hash

$sessionArgs = @{ ErrorAction = 'Stop' }
if ($Credential) { $sessionArgs['Credential'] = $Credential }

$outcomes = New-Object System.Collections.Generic.List[object]
$sessions = @{}
foreach ($h in $hosts) {
    try {
        $sessions[$h.name] = New-PSSession -ComputerName $h.address @sessionArgs
    } catch {
        $outcomes.Add([pscustomobject]@{ Host = $h.name; Status = 'unreachable'; ExitCode = $null; Detail = $_.Exception.Message })
    }
}

# Stage the files: copy only what differs (a large .exe over WinRM is slow; stage it on a
# share and point -Binary there when hosts are many).
foreach ($name in @($sessions.Keys)) {
    $s = $sessions[$name]
    try {
        $remote = Invoke-Command -Session $s -ArgumentList $Stage -ScriptBlock {
            param($stage)
            New-Item -ItemType Directory -Force -Path $stage | Out-Null
            $exe = Join-Path $stage 'rdsports.exe'
            $toml = Join-Path $stage 'deployment.toml'
            [pscustomobject]@{
                Exe  = if (Test-Path $exe) { (Get-FileHash -Algorithm SHA256 -Path $exe).Hash } else { '' }
                Toml = if (Test-Path $toml) { (Get-FileHash -Algorithm SHA256 -Path $toml).Hash } else { '' }
            }
        }
        if ($remote.Exe -ne $binaryHash) {
            Copy-Item -ToSession $s -Path $Binary -Destination (Join-Path $Stage 'rdsports.exe') -Force
        }
        if ($remote.Toml -ne $deploymentHash) {
            Copy-Item -ToSession $s -Path $Deployment -Destination (Join-Path $Stage 'deployment.toml') -Force
        }
    } catch {
        $outcomes.Add([pscustomobject]@{ Host = $name; Status = 'error'; ExitCode = $null; Detail = "staging failed: $($_.Exception.Message)" })
        Remove-PSSession -Session $s
        $sessions.Remove($name)
    }
}

# Run check everywhere at once, at most $ThrottleLimit hosts at a time.
$jobs = @{}
foreach ($name in @($sessions.Keys)) {
    $jobs[$name] = Invoke-Command -Session $sessions[$name] -AsJob -ThrottleLimit $ThrottleLimit `
        -ArgumentList $Stage, $name, $CheckArguments -ScriptBlock {
            param($stage, $hostName, $extra)
            $exe = Join-Path $stage 'rdsports.exe'
            $out = Join-Path $stage 'result.json'
            $argList = @('check', '--as', $hostName, '--format', 'json', '--output', $out) + $extra + @((Join-Path $stage 'deployment.toml'))
            & $exe @argList | Out-Null
            $LASTEXITCODE
        }
}
if ($jobs.Count -gt 0) {
    Wait-Job -Job @($jobs.Values) -Timeout $TimeoutSeconds | Out-Null
}

foreach ($name in @($jobs.Keys)) {
    $job = $jobs[$name]
    if ($job.State -ne 'Completed') {
        Stop-Job -Job $job
        $outcomes.Add([pscustomobject]@{ Host = $name; Status = 'timeout'; ExitCode = $null; Detail = "no answer within $TimeoutSeconds s" })
    } else {
        try {
            $code = [int](Receive-Job -Job $job -ErrorAction Stop | Select-Object -Last 1)
            $destination = Join-Path $Results "$name.json"
            Copy-Item -FromSession $sessions[$name] -Path (Join-Path $Stage 'result.json') -Destination $destination -Force
            $status = 'error'
            if ($code -eq 0) { $status = 'ok' }
            elseif ($code -eq 1) { $status = 'blocked' }
            $outcomes.Add([pscustomobject]@{ Host = $name; Status = $status; ExitCode = $code; Detail = $destination })
        } catch {
            $outcomes.Add([pscustomobject]@{ Host = $name; Status = 'error'; ExitCode = $null; Detail = $_.Exception.Message })
        }
    }
    Remove-Job -Job $job -Force
}
foreach ($s in @($sessions.Values)) { Remove-PSSession -Session $s }

$outcomes | Sort-Object Host
