<#
.SYNOPSIS
    Remote path benchmark: Send-Message and Receive-Message of 1,000,000 lines of 100 bytes through
    -BootstrapServer (Confluent.Kafka/librdkafka), against kcat doing the same, same run, same cluster.
    Prints Markdown table rows.
.DESCRIPTION
    The cluster is a PSKafka broker in another process (started here, as `./pskafka` would, on a free port),
    reached over localhost sockets by both our client and kcat; each round writes fresh topics of 4 partitions.
    -Mock uses librdkafka's own mock cluster in this process instead (it keeps only the newest segments of each
    partition, so the consumers then read what it retained); -BootstrapServer uses an existing cluster.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [int] $Count = 1000000,
    [int] $Rounds = 2,
    [switch] $Mock,
    # An existing cluster to use instead (topics are created with New-Topic -BootstrapServer).
    [string] $BootstrapServer
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
Import-Module (Join-Path $PSScriptRoot 'PipelineBench/bin/Release/net10.0/PSKafka.PipelineBench.dll')
$fmt = [Globalization.CultureInfo]::InvariantCulture
$kcat = Get-Command kcat, kafkacat -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1

$mockCluster = $null; $child = $null; $childData = $null
if ($Mock) {
    $mockCluster = [PSKafka.Client.LibrdkafkaMockCluster]::new(3)
    $BootstrapServer = $mockCluster.BootstrapServers
    $where = 'librdkafka mock cluster, 3 brokers, 4 partitions, in the bench process'
} elseif (-not $BootstrapServer) {
    # A PSKafka broker in another process: what `./pskafka` starts, on a free port.
    $childData = Join-Path ([IO.Path]::GetTempPath()) "pskafka-remote-bench-data-$([guid]::NewGuid().ToString('N'))"
    $script = "Import-Module '$ModulePath'; `$b = Start-Broker -DataDirectory '$childData' -Port 0; [Console]::Out.WriteLine('READY ' + `$b.Address); [Console]::Out.Flush(); `$null = [Console]::In.ReadLine(); Stop-Broker"
    $psi = [Diagnostics.ProcessStartInfo]::new((Get-Process -Id $PID).Path)
    $self = [Environment]::GetCommandLineArgs()[0]
    if ($self -like '*.dll') { $psi.ArgumentList.Add($self) } # pwsh run as `dotnet pwsh.dll`
    foreach ($a in '-NoProfile', '-NonInteractive', '-EncodedCommand', [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script))) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true; $psi.RedirectStandardInput = $true; $psi.UseShellExecute = $false
    $child = [Diagnostics.Process]::Start($psi)
    $ready = $child.StandardOutput.ReadLine()
    if ($ready -notmatch '^READY (.+)$') { throw "The PSKafka broker process did not start: $ready" }
    $BootstrapServer = $Matches[1]
    $where = 'a PSKafka broker in another process, topics of 4 partitions'
} else {
    $where = "cluster at $BootstrapServer, topics of 4 partitions"
}
$file = Join-Path ([IO.Path]::GetTempPath()) "pskafka-remote-bench-$([guid]::NewGuid().ToString('N')).txt"
try {
    $line = 'x' * 100
    $lines = [string[]]::new($Count)
    for ($i = 0; $i -lt $Count; $i++) { $lines[$i] = $line }
    [IO.File]::WriteAllLines($file, $lines)
    $on = @{ BootstrapServer = $BootstrapServer }

    # Topics of 4 partitions (the mock creates its own on first use).
    function New-BenchTopic([string] $name) { if (-not $mockCluster) { $null = New-Topic -Name $name -Partitions 4 @on } }

    # Warm up (JIT, connections).
    New-BenchTopic bench-warm
    $lines[0..9999] | Send-Message -Topic bench-warm @on
    $null = Receive-Message -Topic bench-warm -FromBeginning @on | Measure-PipelineInput

    function Get-Retained([string] $topic) {
        [long]((Get-Topic -Name $topic @on).Partitions | ForEach-Object { $_.LogEndOffset - $_.LogStartOffset } | Measure-Object -Sum).Sum
    }
    $send = [double]::MaxValue; $recv = [double]::MaxValue; $floor = [double]::MaxValue; $kSend = [double]::MaxValue; $kRecv = [double]::MaxValue
    for ($r = 0; $r -lt $Rounds; $r++) {
        # A fresh topic per round and tool, so each consumer reads exactly $Count messages.
        $topic = "bench-ps-$r"
        New-BenchTopic $topic
        $send = [Math]::Min($send, (Measure-Command { $lines | Send-Message -Topic $topic @on }).TotalSeconds)
        # librdkafka's mock keeps only its last few segments per partition: the consumers read what it retained.
        # (A PSKafka broker keeps all, so there both read $Count.)
        $script:retained = Get-Retained $topic
        $received = 0
        $recv = [Math]::Min($recv, (Measure-Command { $script:received = Receive-Message -Topic $topic -FromBeginning @on | Measure-PipelineInput }).TotalSeconds / $retained)
        if ($received -ne $retained) { throw "Receive-Message read $received messages from $topic, expected $retained." }

        if ($kcat) {
            $ktopic = "bench-kcat-$r"
            New-BenchTopic $ktopic
            $kSend = [Math]::Min($kSend, (Measure-Command { & $kcat.Source -b $BootstrapServer -P -t $ktopic -l $file; if ($LASTEXITCODE) { throw 'kcat -P failed' } }).TotalSeconds)
            $kcount = 0
            $kretained = Get-Retained $ktopic
            # kcat's output goes to wc in a shell: a PowerShell pipeline would measure PowerShell, not kcat.
            $kRecv = [Math]::Min($kRecv, (Measure-Command { $script:kcount = [long](& bash -c "'$($kcat.Source)' -b '$BootstrapServer' -C -t '$ktopic' -o beginning -e -q | wc -l") }).TotalSeconds / $kretained)
            if ($kcount -ne $kretained) { throw "kcat read $kcount messages from $ktopic, expected $kretained." }
        }
        # The client's own floor: Confluent.Kafka's Produce loop in C#, no PowerShell.
        $ftopic = "bench-floor-$r"
        New-BenchTopic $ftopic
        $floor = [Math]::Min($floor, [PSKafka.PipelineBench.ConfluentFloor]::Produce($BootstrapServer, $ftopic, $Count, 100))
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
    PerMessageRow "remote ``Receive-Message -FromBeginning`` (100 B)" $recv "$detail; reads $($retained.ToString('N0', $fmt)) messages"
    if ($kcat) {
        $version = (& $kcat.Source -V 2>&1 | Select-String 'librdkafka' | Select-Object -First 1).ToString().Trim()
        Row "kcat -P ($size)" $kSend "$detail; $version"
        PerMessageRow "kcat -C -e (100 B)" $kRecv "$detail; reads $($kretained.ToString('N0', $fmt)) messages"
        Row "Confluent.Kafka Produce loop in C#, no PowerShell ($size)" $floor "$detail; the client's floor: same settings as Send-Message, a delivery handler per record"
        "| Confluent.Kafka alone / kcat -P | $(($floor / $kSend).ToString('F2', $fmt))x | what the client costs before any PowerShell: the bound under the Send-Message ratio |"
        "| remote Send-Message / kcat -P (goal <= 1.5) | $(($send / $kSend).ToString('F2', $fmt))x | same run, same cluster |"
        "| remote Receive-Message / kcat -C (goal <= 1.5) | $(($recv / $kRecv).ToString('F2', $fmt))x | same run, same cluster |"
    } else {
        "| kcat comparison | not run | kcat is not installed (apt-get install kcat) |"
    }
} finally {
    Remove-Item $file -ErrorAction SilentlyContinue
    if ($mockCluster) { $mockCluster.Dispose() }
    if ($child) {
        $child.StandardInput.Close() # the child stops its broker and exits
        if (-not $child.WaitForExit(30000)) { $child.Kill() }
    }
    if ($childData) { Remove-Item $childData -Recurse -Force -ErrorAction SilentlyContinue }
}
