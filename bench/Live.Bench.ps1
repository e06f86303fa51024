<#
.SYNOPSIS
    Live latency: a pipeline that yields one line every 250 ms into Send-Message, read by kcat in another process.
    Each line carries the Unix ms at which the pipeline handed it to Send-Message; a reader thread stamps each line
    kcat prints. Reports p50 and max of the difference (goal: p50 <= 20 ms, max <= 200 ms). Prints Markdown table rows.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [int] $Count = 120,
    [int] $IntervalMs = 250
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
if (-not (Get-Command kcat -ErrorAction SilentlyContinue)) { '| live latency | skipped | kcat is not installed |'; return }

# kcat's lines are stamped as they arrive, on a thread of their own, not when this script gets round to them.
Add-Type -TypeDefinition @'
public sealed class StampedLine { public string Line; public long At; }
public static class LineStamper
{
    public static System.Collections.Concurrent.ConcurrentQueue<StampedLine> Start(System.IO.StreamReader reader)
    {
        var lines = new System.Collections.Concurrent.ConcurrentQueue<StampedLine>();
        new System.Threading.Thread(() =>
        {
            string line;
            while ((line = reader.ReadLine()) != null)
                lines.Enqueue(new StampedLine { Line = line, At = System.DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() });
        }) { IsBackground = true }.Start();
        return lines;
    }
}
'@

$data = Join-Path ([IO.Path]::GetTempPath()) "pskafka-bench-$([guid]::NewGuid().ToString('N'))"
$kcat = $null
try {
    $broker = Start-Broker -DataDirectory $data -Port 0
    $null = New-Topic -Name live -Partitions 1
    $psi = [Diagnostics.ProcessStartInfo]::new('kcat')
    foreach ($a in '-C', '-b', $broker.Address, '-t', 'live', '-o', 'end', '-u', '-f', '%s\n', '-q') { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $kcat = [Diagnostics.Process]::Start($psi)
    $lines = [LineStamper]::Start($kcat.StandardOutput)

    # -o end: kcat reads only what comes after it has its partition; send markers until it prints one.
    $deadline = (Get-Date).AddSeconds(60)
    $ready = $false
    while (-not $ready) {
        if ((Get-Date) -gt $deadline) { throw 'kcat printed nothing within 60 s.' }
        Send-Message -Topic live -Value 'warm-up'
        Start-Sleep -Milliseconds 200
        $item = $null
        while ($lines.TryDequeue([ref] $item)) { $ready = $true }
    }

    1..$Count | ForEach-Object {
        Start-Sleep -Milliseconds $IntervalMs
        "$([DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds())"
    } | Send-Message -Topic live
    Start-Sleep -Milliseconds 1000

    $latencies = [Collections.Generic.List[long]]::new()
    $item = $null
    while ($lines.TryDequeue([ref] $item)) {
        if ($item.Line -match '^\d+$') { $latencies.Add($item.At - [long] $item.Line) }
    }
    if ($latencies.Count -ne $Count) { throw "kcat printed $($latencies.Count) of $Count lines." }
    $sorted = $latencies | Sort-Object
    $p50 = $sorted[[int][Math]::Floor(($sorted.Count - 1) * 0.5)]
    $p99 = $sorted[[int][Math]::Floor(($sorted.Count - 1) * 0.99)]
    $max = $sorted[-1]
    "| live: a line every $IntervalMs ms ``| Send-Message``, read by kcat in another process: p50 (goal <= 20 ms) | $p50 ms | p99 $p99 ms, max $max ms (goal <= 200 ms), $Count lines, linger.ms 5 |"
} finally {
    if ($kcat -and -not $kcat.HasExited) { $kcat.Kill() }
    Stop-Broker
    Remove-Item $data -Recurse -Force -ErrorAction SilentlyContinue
}
