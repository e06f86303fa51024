<#
.SYNOPSIS
    Session start-up behind ./pskafka: imports the built module, starts the local broker on the
    default data dir, then runs the given script or leaves an interactive prompt.
#>
[CmdletBinding()]
param(
    [Alias('c')][string] $Command,
    [Alias('f')][string] $File,
    [switch] $NoBroker,
    [switch] $Interactive,
    [Parameter(ValueFromRemainingArguments)] [object[]] $ScriptArgs
)

# The module's folder goes on PSModulePath (the process environment), so thread jobs, ForEach-Object -Parallel and a
# nested pwsh or Start-Job child find and autoload PSKafka as they find PowerShell's own modules.
$modules = [IO.Path]::GetFullPath((Join-Path $PSScriptRoot '../out'))
if (($env:PSModulePath -split [IO.Path]::PathSeparator) -notcontains $modules) {
    $env:PSModulePath = $modules + [IO.Path]::PathSeparator + $env:PSModulePath
}
Import-Module PSKafka -ErrorAction Stop

if (-not $NoBroker) {
    try {
        $null = Start-Broker -ErrorAction Stop
    } catch {
        Write-Error -ErrorRecord $_ -ErrorAction Continue
        if (-not $Interactive) { exit 1 }
    }
}

if ($Interactive) {
    $brokers = @(Get-Broker -ErrorAction SilentlyContinue)
    Write-Host "PSKafka $((Get-Module PSKafka).Version) — a Kafka cluster in your shell." -ForegroundColor Cyan
    if ($brokers) {
        Write-Host "Broker(s) running: $(($brokers | ForEach-Object { "$($_.Id)@$($_.Address)" }) -join ', ')   data: $($brokers[0].DataDirectory)"
    }
    Write-Host @'
Try:
  New-Topic -Name test -Partitions 1            # kafka-topics.sh --create
  Get-Topic -Name test                          # kafka-topics.sh --describe
  1..10 | Send-Message -Topic test              # kafka-console-producer.sh
  Receive-Message -Topic test -FromBeginning    # kafka-console-consumer.sh --from-beginning
  Get-Help about_PSKafka                        # everything else
'@
    return
}

$exitCode = 0
# A script fails when it throws, or when an error reaches its error stream (caught errors do not count).
$failWhenError = { process { if ($_ -is [System.Management.Automation.ErrorRecord]) { $script:exitCode = 1 }; $_ } }
try {
    if ($Command) {
        . ([scriptblock]::Create($Command)) 2>&1 | ForEach-Object -Process $failWhenError | Out-Default
    } elseif ($File) {
        . (Resolve-Path -LiteralPath $File).ProviderPath @ScriptArgs 2>&1 | ForEach-Object -Process $failWhenError | Out-Default
    }
} catch {
    Write-Error -ErrorRecord $_ -ErrorAction Continue
    $exitCode = 1
}
exit $exitCode
