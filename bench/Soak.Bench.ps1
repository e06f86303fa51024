<#
.SYNOPSIS
    The soak: live traffic through the cmdlets for minutes, with brokers crashing, sampled every 10 s.
.DESCRIPTION
    Three brokers in this process. The log generator writes 2,000 lines/s; a thread job pipes them live through
    Get-AccessLog -Follow | Send-Message -Acks All into a 3-partition topic with replication factor 3. Two thread jobs
    run Receive-Message -Group soak-ps -Follow (a group of two in-process members) and kcat in another process is the
    group soak-kcat. Every 2 minutes one broker is killed (Stop-Broker -Kill) and restarted 10 s later.
    -Churn (default 60 minutes) also creates a topic every few seconds, sends it 100 KB messages, reads them back and
    deletes it, to find what grows with the cluster's history.

    Each record's timestamp is the moment Send-Message took it (its CreateTime), so a receipt's latency is end to end.
    Writes <name>.csv (one row per 10 s sample) and <name>.png (the chart, drawn by bench/PSKafka.Bench with
    ScottPlot) into -ReportDirectory, prints Markdown rows for docs/PERFORMANCE.md, and exits 1 when a goal is missed:
    - no acknowledged message lost, none received twice within a group;
    - RSS after the first 2 minutes grows less than 10%;
    - each group's lag is back to 0 within 10 s after each kill and each restart (0: less than the generator writes in
      100 ms, what is in flight);
    - p99 latency under 100 ms in the samples that do not overlap a broker's kill-to-restart-plus-10 s (nor the first
      20 s: the JIT and the groups' first join);
    - with -Churn, churn throughput in the last tenth within 20% of the first tenth.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [double] $Minutes,
    [switch] $Churn,
    [string] $ReportDirectory = (Join-Path $PSScriptRoot '../docs/soak'),
    [string] $ChartTool
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
if (-not $Minutes) { $Minutes = if ($Churn) { 60 } else { 10 } }
$name = if ($Churn) { 'soak-churn' } else { 'soak' }
# As ./pskafka does: the module's folder on PSModulePath, so the thread jobs load it as a user's would.
$ModulePath = (Resolve-Path $ModulePath).ProviderPath
$env:PSModulePath = (Split-Path (Split-Path $ModulePath)) + [IO.Path]::PathSeparator + $env:PSModulePath
Import-Module $ModulePath
Add-Type -Path (Join-Path $PSScriptRoot 'Soak/SoakLedger.cs')

$rate = 2000
$sampleSeconds = 10
$killEverySeconds = 120
$downSeconds = 10
$warmUpSeconds = 20 # the first samples hold the JIT's work and the groups' first join: not counted for p99
$groups = 'soak-ps', 'soak-kcat'
$work = Join-Path ([IO.Path]::GetTempPath()) "pskafka-soak-$PID"
$null = New-Item -ItemType Directory -Force $work, $ReportDirectory
$accessLog = Join-Path $work 'access.log'

$brokers = @(Start-Broker -DataDirectory (Join-Path $work 'data') -Port 0) + @(Start-Broker -Count 2 -Port 0)
$bootstrap = ($brokers | ForEach-Object Address) -join ','
Set-BrokerConfig -Name group.initial.rebalance.delay.ms -Value 0
$null = New-Topic -Name soak -Partitions 3 -ReplicationFactor 3
$ledger = [PSKafka.Soak.SoakLedger]::new(3, [string[]]$groups, [long]($rate * 60 * $Minutes))
$client = [PSKafka.Cmdlets.Infrastructure.Session]::Client

$null = Start-LogGenerator -Path $accessLog -Rate $rate -Seed 42
$producer = Start-ThreadJob -Name soak-producer -ArgumentList $accessLog, $ledger {
    param($path, $ledger)
    Get-AccessLog -Path $path -Follow | Send-Message -Topic soak -Acks All -PassThru | ForEach-Object { $ledger.Ack($_.Partition, $_.Offset) }
}
$members = 1..2 | ForEach-Object {
    Start-ThreadJob -Name "soak-member-$_" -ArgumentList $ledger {
        param($ledger)
        Receive-Message -Topic soak -Group soak-ps -Follow -ConsumerConfig @{ 'auto.offset.reset' = 'earliest' } |
            ForEach-Object { $ledger.Receive('soak-ps', $_.Partition, $_.Offset, $_.Timestamp.ToUnixTimeMilliseconds()) }
    }
}
$psi = [Diagnostics.ProcessStartInfo]::new('kcat')
foreach ($a in '-b', $bootstrap, '-G', 'soak-kcat', '-X', 'auto.offset.reset=earliest', '-u', '-q', '-f', '%p %o %T\n', 'soak') { $psi.ArgumentList.Add($a) }
$psi.RedirectStandardOutput = $true
$psi.RedirectStandardError = $true
$kcat = [Diagnostics.Process]::Start($psi)
$null = $kcat.StandardError.ReadToEndAsync()
$null = $ledger.FollowKcat($kcat, 'soak-kcat')

# The churn: a topic made, filled with 100 KB messages and small ones, read back and deleted, over and over.
$churnJob = $null
$churnBook = [Collections.Concurrent.ConcurrentQueue[object]]::new()
if ($Churn) {
    $churnJob = Start-ThreadJob -Name soak-churn -ArgumentList $churnBook {
        param($book)
        $big = 'x' * 100KB
        for ($i = 0; ; $i++) {
            $topic = "churn-$i"
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $null = New-Topic -Name $topic -Partitions 2 -ReplicationFactor 2
            @(1..5 | ForEach-Object { $big }) + @(1..200 | ForEach-Object { "small-$_" }) | Send-Message -Topic $topic -Acks All
            $read = @(Receive-Message -Topic $topic -FromBeginning -MaxMessages 205 -Timeout 30).Count
            Remove-Topic -Name $topic -Confirm:$false
            $book.Enqueue([pscustomobject]@{ Time = [DateTimeOffset]::UtcNow; Seconds = $watch.Elapsed.TotalSeconds; Read = $read })
            Start-Sleep -Milliseconds 500
        }
    }
}

function Get-HighWatermarks { [long[]]@($client.GetOffsets('soak', [int[]](0, 1, 2)) | Sort-Object Partition | ForEach-Object HighWatermark) }

$start = [DateTimeOffset]::UtcNow
$end = $start.AddMinutes($Minutes)
$events = [Collections.Generic.List[object]]::new()   # kills and restarts: Time, Kind, Broker
$lagSeries = [Collections.Generic.List[object]]::new() # every second: Time, lag per group
$samples = [Collections.Generic.List[object]]::new()
$nextSample = $start.AddSeconds($sampleSeconds)
$lastSample = $start
$nextKill = $start.AddSeconds($killEverySeconds)
$restartAt = $null; $down = -1; $victim = 0
$caughtUp = [math]::Max(1, $rate / 10)

Write-Host "soak: $Minutes min, $rate lines/s, brokers $bootstrap, report in $ReportDirectory"
while ([DateTimeOffset]::UtcNow -lt $end) {
    Start-Sleep -Milliseconds 1000
    $now = [DateTimeOffset]::UtcNow
    $hw = Get-HighWatermarks
    $lag = @{}
    foreach ($g in $groups) { $lag[$g] = $ledger.Lag($g, $hw) }
    $lagSeries.Add([pscustomobject]@{ Time = $now; Lag = $lag })

    # No kill in the last 30 s: what follows it could not be judged.
    if ($null -eq $restartAt -and $now -ge $nextKill -and $now -lt $end.AddSeconds(-30)) {
        $down = $victim % 3; $victim++
        Stop-Broker -Id $down -Kill
        $events.Add([pscustomobject]@{ Time = [DateTimeOffset]::UtcNow; Kind = 'kill'; Broker = $down })
        $restartAt = $now.AddSeconds($downSeconds)
        $nextKill = $nextKill.AddSeconds($killEverySeconds)
    } elseif ($null -ne $restartAt -and $now -ge $restartAt) {
        $null = Start-Broker -Id $down
        $events.Add([pscustomobject]@{ Time = [DateTimeOffset]::UtcNow; Kind = 'restart'; Broker = $down })
        $restartAt = $null
    }

    if ($now -ge $nextSample) {
        $r = [PSKafka.Soak.SoakLedger]::ProcessResources()
        $l = $ledger.TakeLatencyWindow()
        $row = [ordered]@{
            Seconds      = [math]::Round(($now - $start).TotalSeconds)
            RssMB        = [math]::Round($r[0] / 1MB, 1)
            Threads      = $r[1]
            Handles      = $r[2]
            HeapMB       = [math]::Round($r[3] / 1MB, 1)
            GcCommitMB   = [math]::Round($r[4] / 1MB, 1)
            P50Ms        = $l[0]
            P99Ms        = $l[1]
            MaxMs        = $l[2]
            Receipts     = $l[3]
            Acked        = $ledger.AckedCount
            LagPs        = $lag['soak-ps']
            LagKcat      = $lag['soak-kcat']
            ChurnCycles  = $churnBook.Count
            Event        = (@($events | Where-Object { $_.Time -gt $lastSample } | ForEach-Object { "$($_.Kind) $($_.Broker)" }) -join ' ')
        }
        $samples.Add([pscustomobject]$row)
        $lastSample = [DateTimeOffset]::UtcNow
        Write-Host ("{0,5}s rss {1,7} MB thr {2,4} fd {3,5} heap {4,6} MB gc {12,6} MB p50 {5,5} p99 {6,6} max {7,6} ms acked {8,9} lag {9}/{10} {11}" -f `
                $row.Seconds, $row.RssMB, $row.Threads, $row.Handles, $row.HeapMB, $row.P50Ms, $row.P99Ms, $row.MaxMs, $row.Acked, $row.LagPs, $row.LagKcat, $row.Event, $row.GcCommitMB)
        $nextSample = $nextSample.AddSeconds($sampleSeconds)
    }
}

# Stop producing, then let every group drain what was acknowledged.
Stop-LogGenerator -ErrorAction SilentlyContinue
if ($churnJob) { Stop-Job $churnJob }
if ($null -ne $restartAt) { $null = Start-Broker -Id $down }
# The pipeline is live: wait until its last deliveries are in (the count stands still) before stopping it.
do { $before = $ledger.AckedCount; Start-Sleep -Seconds 2 } while ($ledger.AckedCount -ne $before)
Stop-Job $producer
$drainUntil = [DateTimeOffset]::UtcNow.AddSeconds(60)
do {
    Start-Sleep -Milliseconds 500
    $missing = $groups | ForEach-Object { $ledger.Missing($_) } | Measure-Object -Sum | ForEach-Object Sum
} while ($missing -gt 0 -and [DateTimeOffset]::UtcNow -lt $drainUntil)
$members | Stop-Job
$kcat.Kill()
$producerErrors = @($producer.Error)

# ---- verdicts ----
$failures = [Collections.Generic.List[string]]::new()
foreach ($g in $groups) {
    if (($m = $ledger.Missing($g)) -gt 0) { $failures.Add("group $g never received $m acknowledged messages") }
    if (($d = $ledger.Duplicates($g)) -gt 0) { $failures.Add("group $g received $d messages twice") }
}
$baseline = $samples | Where-Object Seconds -GE 120 | Select-Object -First 1
$rssGrowth = if ($baseline) { (($samples | Where-Object Seconds -GE 120 | Measure-Object RssMB -Maximum).Maximum / $baseline.RssMB) - 1 } else { [double]::NaN }
if ($rssGrowth -ge 0.10) { $failures.Add(("RSS grew {0:P1} after the first 2 minutes ({1} MB at 2 min)" -f $rssGrowth, $baseline.RssMB)) }

$recoveries = foreach ($e in $events) {
    $after = $lagSeries | Where-Object { $_.Time -gt $e.Time }
    $back = $after | Where-Object { $l = $_.Lag; -not ($groups | Where-Object { $l[$_] -gt $caughtUp }) } | Select-Object -First 1
    $seconds = if ($back) { ($back.Time - $e.Time).TotalSeconds } else { [double]::PositiveInfinity }
    [pscustomobject]@{ Event = "$($e.Kind) $($e.Broker)"; Seconds = [math]::Round($seconds, 1) }
}
$slowRecoveries = @($recoveries | Where-Object Seconds -GT 10)
if ($slowRecoveries) { $failures.Add("lag was not back to 0 within 10 s after: $(($slowRecoveries | ForEach-Object { "$($_.Event) ($($_.Seconds) s)" }) -join ', ')") }

$disturbed = foreach ($e in $events | Where-Object Kind -EQ 'kill') { [pscustomobject]@{ From = $e.Time; To = $e.Time.AddSeconds($downSeconds + 10) } }
$quiet = @($samples | Where-Object {
        $to = $start.AddSeconds($_.Seconds); $from = $to.AddSeconds(-$sampleSeconds)
        $_.Seconds -gt $warmUpSeconds -and $_.Receipts -gt 0 -and -not ($disturbed | Where-Object { $_.From -lt $to -and $_.To -gt $from })
    })
$quietP99 = ($quiet | Measure-Object P99Ms -Maximum).Maximum
if ($quietP99 -ge 100) { $failures.Add("p99 reached $quietP99 ms outside restarts") }

$churnNote = ''
if ($Churn) {
    $cycles = @($churnBook.ToArray())
    if ($cycles.Count -ge 20) {
        $tenth = [math]::Max(2, [int]($cycles.Count / 10))
        $first = ($cycles[0..($tenth - 1)] | Measure-Object Seconds -Average).Average
        $last = ($cycles[($cycles.Count - $tenth)..($cycles.Count - 1)] | Measure-Object Seconds -Average).Average
        $slowdown = $last / $first - 1
        $churnNote = "; churn: $($cycles.Count) topics, a cycle {0:N2} s at the start, {1:N2} s at the end" -f $first, $last
        if ($slowdown -gt 0.20) { $failures.Add(("churn cycles got {0:P0} slower" -f $slowdown)) }
    } else { $failures.Add("only $($cycles.Count) churn cycles ran") }
    if ($cycles | Where-Object Read -NE 205) { $failures.Add("a churn topic read back fewer messages than it was sent") }
}
if ($producerErrors) { $failures.Add("Send-Message wrote $($producerErrors.Count) errors, the first: $($producerErrors[0])") }

$csv = Join-Path $ReportDirectory "$name.csv"
$samples | Export-Csv -NoTypeInformation -Path $csv
if ($ChartTool) {
    & dotnet $ChartTool chart $csv (Join-Path $ReportDirectory "$name.png") "PSKafka soak: $Minutes min, $rate lines/s, a broker killed every 2 min"
    if ($LASTEXITCODE -ne 0) { $failures.Add('the chart was not drawn') }
}

Stop-Broker
Remove-Item $work -Recurse -Force -ErrorAction SilentlyContinue

$acked = $ledger.AckedCount
$verdict = if ($failures.Count) { 'FAILED: ' + ($failures -join '; ') } else { 'passed' }
$recoveryText = ($recoveries | ForEach-Object { "$($_.Event) $($_.Seconds) s" }) -join ', '
"| soak$(if ($Churn) { ' -Churn' }) ($Minutes min) | $verdict | $acked acknowledged, 0 lost/duplicated unless stated; RSS +{0:P1} after 2 min ({3} MB at 2 min, {4} MB at most after); p99 outside restarts {1} ms; lag back to 0: {2}$churnNote; samples in docs/soak/$name.csv, chart docs/soak/$name.png |" -f $rssGrowth, $quietP99, $recoveryText, $baseline.RssMB, ($samples | Where-Object Seconds -GE 120 | Measure-Object RssMB -Maximum).Maximum
if ($failures.Count) { exit 1 }
