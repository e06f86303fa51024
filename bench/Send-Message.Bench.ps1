<#
.SYNOPSIS
    Pipeline benchmark: $lines | Send-Message against the same pipeline into an empty binary cmdlet
    that only counts its input, in the same process, as a ratio. Prints Markdown table rows.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [int] $Count = 1000000,
    [int] $Rounds = 3
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
Import-Module (Join-Path $PSScriptRoot 'PipelineBench/bin/Release/net10.0/PSKafka.PipelineBench.dll')

$data = Join-Path ([IO.Path]::GetTempPath()) "pskafka-bench-$([guid]::NewGuid().ToString('N'))"
try {
    $null = Start-Broker -DataDirectory $data -Port 0
    $null = New-Topic -Name bench -Partitions 1
    $line = 'x' * 100
    $lines = [string[]]::new($Count)
    for ($i = 0; $i -lt $Count; $i++) { $lines[$i] = $line }

    # Warm up both paths (JIT, first segment).
    $null = $lines[0..9999] | Measure-PipelineInput
    $lines[0..9999] | Send-Message -Topic bench

    $empty = [double]::MaxValue; $send = [double]::MaxValue
    for ($r = 0; $r -lt $Rounds; $r++) {
        # Alternate the two, keep the best of each: the machine is noisy, the ratio is what counts.
        $empty = [Math]::Min($empty, (Measure-Command { $lines | Measure-PipelineInput }).TotalSeconds)
        $send = [Math]::Min($send, (Measure-Command { $lines | Send-Message -Topic bench }).TotalSeconds)
    }
    $sent = ((Get-Topic -Name bench).Partitions | Measure-Object LogEndOffset -Sum).Sum
    if ($sent -ne 10000 + $Rounds * $Count) { throw "Expected $(10000 + $Rounds * $Count) messages in the topic, found $sent." }
    $fmt = [Globalization.CultureInfo]::InvariantCulture
    "| pipeline into an empty cmdlet (1M strings) | $(([long]($Count / $empty)).ToString('N0', $fmt)) objects/s | $($empty.ToString('F3', $fmt)) s |"
    "| ```$lines \| Send-Message`` (1M x 100 B, 1 partition) | $(([long]($Count / $send)).ToString('N0', $fmt)) messages/s | $($send.ToString('F3', $fmt)) s |"
    "| Send-Message cost / empty cmdlet (goal <= 2.0) | $(($send / $empty).ToString('F2', $fmt))x | same process, best of $Rounds |"
} finally {
    Stop-Broker
    Remove-Item $data -Recurse -Force -ErrorAction SilentlyContinue
}
