<#
.SYNOPSIS
    Remote path benchmark: Send-Message and Receive-Message of 1,000,000 lines of 100 bytes through
    -BootstrapServer (Confluent.Kafka/librdkafka), against kcat doing the same, same run, same cluster.
    Prints Markdown table rows.
.DESCRIPTION
    The cluster is librdkafka's mock cluster (3 brokers, topics auto-created with 4 partitions), owned by
    this process and reached over localhost sockets by both our client and kcat (another process).
    When PSKafka brokers get a Kafka listener, -BootstrapServer points this at a PSKafka cluster in
    another process instead.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [int] $Count = 1000000,
    [int] $Rounds = 2,
    # An existing cluster to use instead of librdkafka's mock (topics are then auto-created by the producers).
    [string] $BootstrapServer
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
Import-Module (Join-Path $PSScriptRoot 'PipelineBench/bin/Release/net10.0/PSKafka.PipelineBench.dll')
$fmt = [Globalization.CultureInfo]::InvariantCulture
$kcat = Get-Command kcat, kafkacat -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1

$mock = $null
if (-not $BootstrapServer) {
    $mock = [PSKafka.Cmdlets.Client.LibrdkafkaMockCluster]::new(3)
    $BootstrapServer = $mock.BootstrapServers
    $where = 'librdkafka mock cluster, 3 brokers, 4 partitions, in the bench process'
} else {
    $where = "cluster at $BootstrapServer"
}
$file = Join-Path ([IO.Path]::GetTempPath()) "pskafka-remote-bench-$([guid]::NewGuid().ToString('N')).txt"
try {
    $line = 'x' * 100
    $lines = [string[]]::new($Count)
    for ($i = 0; $i -lt $Count; $i++) { $lines[$i] = $line }
    [IO.File]::WriteAllLines($file, $lines)
    $on = @{ BootstrapServer = $BootstrapServer }

    # Warm up (JIT, connections, topic creation).
    $lines[0..9999] | Send-Message -Topic bench-warm @on
    $null = Receive-Message -Topic bench-warm -FromBeginning @on | Measure-PipelineInput

    function Get-Retained([string] $topic) {
        [long]((Get-Topic -Name $topic @on).Partitions | ForEach-Object { $_.LogEndOffset - $_.LogStartOffset } | Measure-Object -Sum).Sum
    }
    $send = [double]::MaxValue; $recv = [double]::MaxValue; $kSend = [double]::MaxValue; $kRecv = [double]::MaxValue
    for ($r = 0; $r -lt $Rounds; $r++) {
        # A fresh topic per round and tool, so each consumer reads exactly $Count messages.
        $topic = "bench-ps-$r"
        $send = [Math]::Min($send, (Measure-Command { $lines | Send-Message -Topic $topic @on }).TotalSeconds)
        # librdkafka's mock keeps only its last few segments per partition: the consumers read what it retained.
        $script:retained = Get-Retained $topic
        $received = 0
        $recv = [Math]::Min($recv, (Measure-Command { $script:received = Receive-Message -Topic $topic -FromBeginning @on | Measure-PipelineInput }).TotalSeconds / $retained)
        if ($received -ne $retained) { throw "Receive-Message read $received messages from $topic, expected $retained." }

        if ($kcat) {
            $ktopic = "bench-kcat-$r"
            $kSend = [Math]::Min($kSend, (Measure-Command { & $kcat.Source -b $BootstrapServer -P -t $ktopic -l $file; if ($LASTEXITCODE) { throw 'kcat -P failed' } }).TotalSeconds)
            $kcount = 0
            $kretained = Get-Retained $ktopic
            # kcat's output goes to wc in a shell: a PowerShell pipeline would measure PowerShell, not kcat.
            $kRecv = [Math]::Min($kRecv, (Measure-Command { $script:kcount = [long](& bash -c "'$($kcat.Source)' -b '$BootstrapServer' -C -t '$ktopic' -o beginning -e -q | wc -l") }).TotalSeconds / $kretained)
            if ($kcount -ne $kretained) { throw "kcat read $kcount messages from $ktopic, expected $kretained." }
        }
    }

    $size = "$($Count.ToString('N0', $fmt)) x 100 B"
    function Row([string] $name, [double] $seconds, [string] $detail) {
        "| $name | $(([long]($Count / $seconds)).ToString('N0', $fmt)) messages/s | $($seconds.ToString('F3', $fmt)) s, $detail |"
    }
    $detail = "best of $Rounds, $where"
    Row "remote ``Send-Message`` ($size)" $send $detail
    function PerMessageRow([string] $name, [double] $secondsPerMessage, [string] $detail) {
        "| $name | $(([long](1 / $secondsPerMessage)).ToString('N0', $fmt)) messages/s | $detail |"
    }
    PerMessageRow "remote ``Receive-Message -FromBeginning`` (100 B)" $recv "$detail; reads the $($retained.ToString('N0', $fmt)) messages the mock retained"
    if ($kcat) {
        $version = (& $kcat.Source -V 2>&1 | Select-String 'librdkafka' | Select-Object -First 1).ToString().Trim()
        Row "kcat -P ($size)" $kSend "$detail; $version"
        PerMessageRow "kcat -C -e (100 B)" $kRecv "$detail; reads the $($kretained.ToString('N0', $fmt)) messages the mock retained"
        "| remote Send-Message / kcat -P (goal <= 1.5) | $(($send / $kSend).ToString('F2', $fmt))x | same run, same cluster |"
        "| remote Receive-Message / kcat -C (goal <= 1.5) | $(($recv / $kRecv).ToString('F2', $fmt))x | same run, same cluster |"
    } else {
        "| kcat comparison | not run | kcat is not installed (apt-get install kcat) |"
    }
} finally {
    Remove-Item $file -ErrorAction SilentlyContinue
    if ($mock) { $mock.Dispose() }
}
