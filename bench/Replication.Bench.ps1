<#
.SYNOPSIS
    Replication through the cmdlets, as a user's producer gets it: `$lines | Send-Message -Acks All` of 1,000,000 lines of
    100 bytes into a topic with replication factor 3 on 3 brokers, against `-Acks 1` into replication factor 1 on
    the same brokers, same process, alternating rounds. Prints Markdown table rows.
.DESCRIPTION
    Each round writes into fresh topics so both sides start from an empty log. The engine-level figure (Broker
    produce calls without PowerShell) is the `replication` suite of bench/PSKafka.Bench.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [int] $Count = 1000000,
    [int] $Rounds = 3
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$data = Join-Path ([IO.Path]::GetTempPath()) "pskafka-bench-$([guid]::NewGuid().ToString('N'))"
try {
    $null = Start-Broker -DataDirectory $data -Port 0 -Count 3
    $line = 'x' * 100
    $lines = [string[]]::new($Count)
    for ($i = 0; $i -lt $Count; $i++) { $lines[$i] = $line }

    # Warm up both paths (JIT, first segments, follower fetchers).
    $null = New-Topic -Name warm-1 -Partitions 1 -ReplicationFactor 1
    $null = New-Topic -Name warm-3 -Partitions 1 -ReplicationFactor 3
    $lines[0..99999] | Send-Message -Topic warm-1 -Acks 1
    $lines[0..99999] | Send-Message -Topic warm-3 -Acks All

    $single = [double]::MaxValue; $replicated = [double]::MaxValue
    for ($r = 0; $r -lt $Rounds; $r++) {
        $null = New-Topic -Name "rf1-$r" -Partitions 1 -ReplicationFactor 1
        $null = New-Topic -Name "rf3-$r" -Partitions 1 -ReplicationFactor 3
        # Alternate the two, keep the best of each: the machine is noisy, the ratio is what counts.
        $single = [Math]::Min($single, (Measure-Command { $lines | Send-Message -Topic "rf1-$r" -Acks 1 }).TotalSeconds)
        $replicated = [Math]::Min($replicated, (Measure-Command { $lines | Send-Message -Topic "rf3-$r" -Acks All }).TotalSeconds)
        $p = (Get-Topic -Name "rf3-$r").Partitions[0]
        if ($p.LogEndOffset -ne $Count -or $p.Isr.Count -ne 3) { throw "rf3-$r holds $($p.LogEndOffset) of $Count messages with ISR $($p.Isr -join ',')." }
    }
    $fmt = [Globalization.CultureInfo]::InvariantCulture
    function Row([string] $name, [double] $seconds) {
        "| $name | $(([long]($Count / $seconds)).ToString('N0', $fmt)) messages/s | $($seconds.ToString('F3', $fmt)) s, best of $Rounds |"
    }
    Row '`$lines \| Send-Message -Acks 1`, replication factor 1 (1M x 100 B, 1 partition, 3 brokers)' $single
    Row '`$lines \| Send-Message -Acks All`, replication factor 3 (same)' $replicated
    "| replication ratio through Send-Message, RF 3 -Acks All / RF 1 -Acks 1 (goal >= 0.6) | $(($single / $replicated).ToString('F2', $fmt)) | same process, same run; ISR 3 of 3 after every round |"
} finally {
    Stop-Broker
    Remove-Item $data -Recurse -Force -ErrorAction SilentlyContinue
}
