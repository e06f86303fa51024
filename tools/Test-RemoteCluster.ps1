<#
.SYNOPSIS
    The remote check: the same cmdlets drive a Kafka cluster in another process through -BootstrapServer.
.DESCRIPTION
    A PSKafka cluster runs in a child process (or give -BootstrapServer for one already running, e.g. a
    second terminal's ./pskafka, or any Kafka). This process has no broker of its own: it Connect-Clusters
    to it, creates a topic, sends -Messages objects keyed by a property, receives them as a group, sees
    the lag at zero, resets the group to earliest and reads them all again. Then the same produce and
    consume (plain and as a group) against librdkafka's own mock cluster. Every step is reported (as an
    object with Passed under -PassThru); the script fails (exit code 1 under -File) when one did not pass.
.EXAMPLE
    ./pskafka -NoBroker -File tools/Test-RemoteCluster.ps1
.EXAMPLE
    ./pskafka -NoBroker -File tools/Test-RemoteCluster.ps1 -BootstrapServer localhost:9092
#>
param(
    [string] $BootstrapServer,
    [ValidateRange(1, 10000000)] [int] $Messages = 10000,
    [string] $ModulePath = (Join-Path $PSScriptRoot '../out/PSKafka/PSKafka.psd1'),
    # Write the steps as objects (for tests) instead of a table.
    [switch] $PassThru
)

$ErrorActionPreference = 'Stop'
if (-not (Get-Module PSKafka)) { Import-Module $ModulePath }
Import-Module (Join-Path $PSScriptRoot '../tests/Pester/TestHelpers.psm1') -Force

$results = [System.Collections.Generic.List[object]]::new()
function Step([string] $Target, [string] $Name, $Expected, [scriptblock] $Actual) {
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $value = try { & $Actual } catch { "error: $($_.Exception.Message)" }
    $step = [pscustomobject]@{
        Target = $Target; Step = $Name; Expected = $Expected; Actual = $value
        Passed = "$value" -eq "$Expected"; Seconds = [math]::Round($watch.Elapsed.TotalSeconds, 2)
    }
    $results.Add($step)
    if ($PassThru) { $step } else { Write-Host ("{0,-6} {1,-48} {2,8} s  {3}" -f $(if ($step.Passed) { 'ok' } else { 'FAILED' }), $Name, $step.Seconds, $Target) }
}

# Objects keyed by a property: each user's messages must stay on one partition and in order.
$objects = 1..$Messages | ForEach-Object { [pscustomobject]@{ user = "user$($_ % 97)"; n = $_ } }
$topic = "check-$([guid]::NewGuid().ToString('N').Substring(0, 8))"

function Test-Orders($received) {
    # Per user, n increases: a key's messages came from one partition in the order they were sent.
    $bad = $received | Group-Object { $_.Value.user } | Where-Object { $n = @($_.Group.Value.n); ($n | Sort-Object) -join ',' -ne ($n -join ',') }
    @($bad).Count
}

$child = $null
$data = $null
if (-not $BootstrapServer) {
    $data = Join-Path ([IO.Path]::GetTempPath()) "pskafka-remote-check-$PID"
    $child = Start-ClusterProcess -Brokers 3 -DataDirectory $data
    $BootstrapServer = $child.BootstrapServers
}
try {
    $target = "PSKafka at $BootstrapServer"
    Step $target 'Connect-Cluster' 'Remote' { (Connect-Cluster -BootstrapServer $BootstrapServer).Kind }
    Step $target 'New-Topic (4 partitions)' 4 { (New-Topic -Name $topic -Partitions 4 -ReplicationFactor ([math]::Min(3, @(Get-Broker).Count))).PartitionCount }
    Step $target "Send-Message -KeyProperty user ($Messages objects)" $Messages { @($objects | Send-Message -Topic $topic -KeyProperty user -PassThru).Count }
    $group = "$topic-group"
    $first = $null
    Step $target 'Receive-Message -Group (every message)' $Messages { $script:first = Receive-Message -Topic $topic -Group $group -FromBeginning -AsObject; @($first.Value.n | Sort-Object -Unique).Count }
    Step $target 'keys kept their order' 0 { Test-Orders $first }
    Step $target 'Get-ConsumerGroupOffset lag' 0 { (Get-ConsumerGroupOffset -Group $group | Measure-Object Lag -Sum).Sum }
    Step $target 'Reset-ConsumerGroupOffset -ToEarliest' 0 { (Reset-ConsumerGroupOffset -Group $group -Topic $topic -ToEarliest -Confirm:$false | Measure-Object NewOffset -Sum).Sum }
    Step $target 'lag after the reset' $Messages { (Get-ConsumerGroupOffset -Group $group | Measure-Object Lag -Sum).Sum }
    Step $target 'Receive-Message -Group again (every message)' $Messages { @((Receive-Message -Topic $topic -Group $group -AsObject).Value.n | Sort-Object -Unique).Count }
    Step $target 'lag at the end' 0 { (Get-ConsumerGroupOffset -Group $group | Measure-Object Lag -Sum).Sum }
} finally {
    Disconnect-Cluster | Out-Null
    if ($child) { Stop-ClusterProcess $child; Remove-Item -Recurse -Force $data -ErrorAction SilentlyContinue }
}

# librdkafka's mock cluster: a Kafka no one here wrote. It creates topics on first use (4 partitions) and
# lets a new member into a group only session.timeout.ms - 1 s after the last one left, so that is kept short.
$mock = [PSKafka.Client.LibrdkafkaMockCluster]::new(3)
try {
    $target = "librdkafka's mock cluster at $($mock.BootstrapServers)"
    $short = @{ 'session.timeout.ms' = 6000; 'heartbeat.interval.ms' = 1000 }
    Step $target 'Connect-Cluster' 'Remote' { (Connect-Cluster -BootstrapServer $mock.BootstrapServers).Kind }
    Step $target "Send-Message -KeyProperty user ($Messages objects)" $Messages { @($objects | Send-Message -Topic $topic -KeyProperty user -PassThru).Count }
    Step $target 'Receive-Message -FromBeginning (every message)' $Messages { $script:plain = Receive-Message -Topic $topic -FromBeginning -AsObject; @($plain.Value.n | Sort-Object -Unique).Count }
    Step $target 'keys kept their order' 0 { Test-Orders $plain }
    Step $target 'Receive-Message -Group (every message)' $Messages { @((Receive-Message -Topic $topic -Group "$topic-group" -FromBeginning -AsObject -ConsumerConfig $short).Value.n | Sort-Object -Unique).Count }
    Step $target 'Receive-Message -Group again (nothing new)' 0 { @(Receive-Message -Topic $topic -Group "$topic-group" -ConsumerConfig $short).Count }
} finally {
    Disconnect-Cluster | Out-Null
    $mock.Dispose()
}

$failed = @($results | Where-Object { -not $_.Passed })
if ($failed) { throw "The remote check failed: $(($failed | ForEach-Object { "$($_.Target): $($_.Step) expected $($_.Expected), got $($_.Actual)" }) -join '; ')" }
