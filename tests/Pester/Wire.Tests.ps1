# The brokers speak the Kafka wire protocol: listeners on their ports, and real clients (kcat, kafka-python)
# exchanging messages with Send-Message and Receive-Message byte for byte.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-PSKafkaForTest
}

Describe 'Broker listeners' {
    BeforeAll { $script:data = Start-TestCluster -Brokers 3 }
    AfterAll { Stop-TestCluster }

    It 'listens on each broker''s own port and shows it as the address' {
        $brokers = Get-Broker
        $brokers.Count | Should -Be 3
        foreach ($b in $brokers) {
            $b.Address | Should -Match '^localhost:\d+$'
            $port = [int]($b.Address -split ':')[1]
            $port | Should -BeGreaterThan 0
            $tcp = [Net.Sockets.TcpClient]::new()
            try { $tcp.Connect('127.0.0.1', $port); $tcp.Connected | Should -BeTrue } finally { $tcp.Dispose() }
        }
        ($brokers | ForEach-Object Address | Sort-Object -Unique).Count | Should -Be 3
    }

    It 'refuses a port in use with PortInUse, naming the port, and starts nothing' {
        $blocker = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $blocker.Start()
        try {
            $port = $blocker.LocalEndpoint.Port
            $before = (Get-Broker).Count
            { Start-Broker -Count 1 -Port $port -ErrorAction Stop } | Should -Throw -ErrorId 'PortInUse,*' -ExpectedMessage "*$port*"
            (Get-Broker).Count | Should -Be $before
        } finally { $blocker.Stop() }
    }

    It 'keeps a broker''s port across a stop and start' {
        $b = Get-Broker -Id 2
        Stop-Broker -Id 2
        $again = Start-Broker -Id 2
        $again.Address | Should -Be $b.Address
    }
}

Describe 'Port numbering with $env:PSKAFKA_PORT' {
    BeforeAll {
        # A range of consecutive ports free now, probed by binding each: never a fixed port assumed free.
        function Get-FreePortRange([int] $Count) {
            for ($attempt = 0; $attempt -lt 200; $attempt++) {
                $probe = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
                $probe.Start(); $first = $probe.LocalEndpoint.Port; $probe.Stop()
                $held = @()
                try {
                    foreach ($p in $first..($first + $Count - 1)) {
                        $l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, $p); $l.Start(); $held += $l
                    }
                    return $first
                } catch { } finally { $held | ForEach-Object { $_.Stop() } }
            }
            throw "No $Count consecutive free ports"
        }
        $script:savedPort = $env:PSKAFKA_PORT
    }
    AfterEach { Stop-Broker -ErrorAction SilentlyContinue }
    AfterAll { $env:PSKAFKA_PORT = $script:savedPort }

    It 'gives further brokers the ports after it, as 9093 and 9094 follow 9092' {
        $first = Get-FreePortRange 3
        $env:PSKAFKA_PORT = "$first"
        (Start-Broker -DataDirectory (Join-Path $TestDrive 'env-ports')).Address | Should -Be "localhost:$first"
        (Start-Broker -Count 2 | ForEach-Object Address) | Should -Be @("localhost:$($first + 1)", "localhost:$($first + 2)")
    }

    It 'gives every broker a free port with 0' {
        $env:PSKAFKA_PORT = '0'
        $null = Start-Broker -DataDirectory (Join-Path $TestDrive 'env-free')
        $null = Start-Broker -Count 2
        $ports = Get-Broker | ForEach-Object { [int]($_.Address -split ':')[1] }
        $ports | Should -Not -Contain 0
        ($ports | Sort-Object -Unique).Count | Should -Be 3
    }

    It 'brings a crashed or stopped broker back on the port it had, not $env:PSKAFKA_PORT + id' {
        $first = Get-FreePortRange 4
        $env:PSKAFKA_PORT = "$first"
        $null = Start-Broker -DataDirectory (Join-Path $TestDrive 'env-restart')
        $null = Start-Broker -Count 2 -Port ($first + 2)
        Stop-Broker -Id 1 -Kill
        (Start-Broker -Id 1 -ErrorAction Stop).Address | Should -Be "localhost:$($first + 2)"
        Stop-Broker -Id 2
        (Start-Broker -Id 2 -ErrorAction Stop).Address | Should -Be "localhost:$($first + 3)"
        (Get-Broker | ForEach-Object Address) | Should -Be @("localhost:$first", "localhost:$($first + 2)", "localhost:$($first + 3)")
    }
}

Describe 'Real clients and the cmdlets' {
    BeforeAll {
        $script:data = Start-TestCluster -Brokers 3
        # (Get-Broker).Address would call the array's own Address() method, hence ForEach-Object.
        $script:bootstrap = (Get-Broker | ForEach-Object Address) -join ','
    }
    AfterAll { Stop-TestCluster }

    It 'Receive-Message reads what kcat produced, with keys, headers and timestamps' {
        Assert-TestTool kcat
        New-Topic -Name from-kcat -Partitions 1 | Out-Null
        "k1:hello`nk2:wörld`n" | kcat -b $bootstrap -P -t from-kcat -K: -H 'src=kcat' -H 'n=1' 2>&1 | Out-Null
        $LASTEXITCODE | Should -Be 0
        $m = Receive-Message -Topic from-kcat -FromBeginning
        $m.Count | Should -Be 2
        $m[0].Key | Should -Be 'k1'
        $m[1].Value | Should -Be 'wörld'
        $m[1].ValueBytes | Should -Be ([Text.Encoding]::UTF8.GetBytes('wörld'))
        $m[0].Headers['src'] | Should -Be 'kcat'
        $m[0].Headers['n'] | Should -Be '1'
        $ts = kcat -b $bootstrap -C -t from-kcat -o beginning -e -f '%T\n' 2>$null
        [long[]]$ts | Should -Be ([long[]]($m.Timestamp | ForEach-Object ToUnixTimeMilliseconds))
    }

    It 'kcat reads what Send-Message sent, byte for byte' {
        Assert-TestTool kcat
        New-Topic -Name to-kcat -Partitions 1 | Out-Null
        $t = [DateTimeOffset]::FromUnixTimeMilliseconds(1700000000999)
        Send-Message -Topic to-kcat -Key 'k€y' -Value 'välue' -Header @{ trace = 'xyz' } -Timestamp $t
        $line = kcat -b $bootstrap -C -t to-kcat -o beginning -e -f '%k|%s|%T|%h\n' 2>$null
        $line | Should -Be 'k€y|välue|1700000000999|trace=xyz'
    }

    It 'keyed kcat messages (murmur2, Java''s partitioner) land where Send-Message -Key puts the same keys' {
        Assert-TestTool kcat
        New-Topic -Name keyed -Partitions 5 | Out-Null
        $keys = 1..40 | ForEach-Object { "key-$_" }
        # kcat's default partitioner is consistent_random (CRC32); murmur2_random is the Java client's.
        ($keys | ForEach-Object { "${_}:kcat" }) -join "`n" | kcat -b $bootstrap -P -t keyed -K: -X partitioner=murmur2_random 2>&1 | Out-Null
        $sent = $keys | ForEach-Object { Send-Message -Topic keyed -Key $_ -Value 'cmdlet' -PassThru }
        $byKcat = @{}
        Receive-Message -Topic keyed -FromBeginning | Where-Object Value -eq 'kcat' | ForEach-Object { $byKcat[$_.Key] = $_.Partition }
        $byKcat.Count | Should -Be 40
        foreach ($s in $sent) { $byKcat[$s.Key] | Should -Be $s.Partition -Because "key $($s.Key)" }
    }

    It 'Receive-Message reads what kafka-python produced, and kafka-python reads Send-Message' {
        Assert-TestTool kafka-python
        New-Topic -Name py -Partitions 1 | Out-Null
        $script = @'
import sys
from kafka import KafkaProducer, KafkaConsumer, TopicPartition
boot = sys.argv[1].split(',')
p = KafkaProducer(bootstrap_servers=boot, acks='all')
p.send('py', key=b'pk', value=b'from python', headers=[('h', b'v')], timestamp_ms=1700000000321)
p.flush()
c = KafkaConsumer(bootstrap_servers=boot, enable_auto_commit=False, consumer_timeout_ms=10000)
tp = TopicPartition('py', 0)
c.assign([tp])
c.seek(tp, 0)
for m in c:
    print('%d|%s|%s|%d' % (m.offset, m.key.decode(), m.value.decode(), m.timestamp))
    if m.offset == 1: break
'@
        $job = Start-ThreadJob { param($s, $b) /usr/bin/python3 -c $s $b 2>&1 } -ArgumentList $script, $bootstrap
        Wait-Until { Receive-Message -Topic py -FromBeginning -Timeout 1 } -What 'the message kafka-python sent'
        $m = Receive-Message -Topic py -FromBeginning
        $m.Key | Should -Be 'pk'
        $m.Value | Should -Be 'from python'
        $m.Headers['h'] | Should -Be 'v'
        $m.Timestamp.ToUnixTimeMilliseconds() | Should -Be 1700000000321
        Send-Message -Topic py -Key 'ck' -Value 'from cmdlet' -Timestamp ([DateTimeOffset]::FromUnixTimeMilliseconds(1700000000654))
        $out = $job | Wait-Job -Timeout 60 | Receive-Job
        $job | Remove-Job -Force
        $out | Should -Be @('0|pk|from python|1700000000321', '1|ck|from cmdlet|1700000000654')
    }
}

Describe 'Consumer groups over the wire' {
    BeforeAll {
        $script:data = Start-TestCluster -Brokers 3
        # Kafka waits 3 s for more members before a new group's first rebalance; the tests need not.
        [PSKafka.Cmdlets.Infrastructure.Session]::LocalCluster.BrokerConfigs.Set('group.initial.rebalance.delay.ms', '0')
        $script:bootstrap = (Get-Broker | ForEach-Object Address) -join ','
    }
    AfterAll { Stop-TestCluster }

    It 'a kcat group member and Receive-Message -Group in the same group split the partitions' {
        Assert-TestTool kcat
        New-Topic -Name shared -Partitions 4 | Out-Null
        $out = Join-Path $TestDrive 'kcat-member.txt'
        $kcat = Start-Process kcat -ArgumentList @('-b', $bootstrap, '-u', '-G', 'mixed', '-X', 'auto.offset.reset=earliest', '-f', '%p:%s\n', 'shared') `
            -RedirectStandardOutput $out -RedirectStandardError (Join-Path $TestDrive 'kcat-member.err') -PassThru
        try {
            Wait-Until { (Get-ConsumerGroup -Name mixed -ErrorAction SilentlyContinue).State -eq 'Stable' } -What 'kcat alone in the group'
            $job = Receive-Message -Topic shared -Group mixed -Follow -AsJob
            Wait-Until { $g = Get-ConsumerGroup -Name mixed; $g.State -eq 'Stable' -and $g.Members.Count -eq 2 } -What 'a stable group of two'

            0..3 | ForEach-Object { $p = $_; 1..50 | ForEach-Object { "p$p-$_" } | Send-Message -Topic shared -Partition $p }
            $fromCmdlet = [Collections.Generic.List[object]]::new()
            Wait-Until {
                $job | Receive-Job | ForEach-Object { $fromCmdlet.Add($_) }
                $fromCmdlet.Count + @(Get-Content $out).Count -ge 200
            } -What '200 messages between the two members'
            $fromKcat = @(Get-Content $out | ForEach-Object { $p, $v = $_ -split ':', 2; [pscustomobject]@{ Partition = [int]$p; Value = $v } })

            $kcatPartitions = @($fromKcat.Partition | Sort-Object -Unique)
            $cmdletPartitions = @($fromCmdlet.Partition | Sort-Object -Unique)
            $kcatPartitions.Count | Should -Be 2 -Because 'range: 4 partitions over 2 members'
            $cmdletPartitions.Count | Should -Be 2
            $kcatPartitions | Where-Object { $_ -in $cmdletPartitions } | Should -BeNullOrEmpty
            ($fromKcat.Value + $fromCmdlet.Value | Sort-Object) | Should -Be (0..3 | ForEach-Object { $p = $_; 1..50 | ForEach-Object { "p$p-$_" } } | Sort-Object)
        } finally {
            if ($job) { $job | Stop-Job; $job | Remove-Job -Force }
            if (-not $kcat.HasExited) { $kcat.Kill() }
        }
    }

    It 'Get-ConsumerGroupOffset shows the offsets a Confluent.Kafka consumer committed, with lag 0' {
        New-Topic -Name committed -Partitions 3 | Out-Null
        1..90 | ForEach-Object { "m$_" } | Send-Message -Topic committed
        # Confluent.Kafka ships with the module (its RemoteClient) in the module's own load context, so its types are
        # reached by reflection; a -BootstrapServer call first makes the module load it and its native librdkafka.
        Get-Topic -Name committed -BootstrapServer $bootstrap | Out-Null
        $confluent = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Confluent.Kafka' } | Select-Object -First 1
        $config = [Activator]::CreateInstance($confluent.GetType('Confluent.Kafka.ConsumerConfig'))
        $config.BootstrapServers = $bootstrap
        $config.GroupId = 'dotnet'
        $config.EnableAutoCommit = $false
        $config.AutoOffsetReset = 'Earliest'
        $builder = [Activator]::CreateInstance($confluent.GetType('Confluent.Kafka.ConsumerBuilder`2').MakeGenericType([string], [string]), @(, $config))
        $consumer = $builder.Build()
        try {
            $consumer.Subscribe('committed')
            $got = 0
            $deadline = (Get-Date).AddSeconds(60)
            while ($got -lt 90 -and (Get-Date) -lt $deadline) {
                if ($consumer.Consume([TimeSpan]::FromMilliseconds(500))) { $got++ }
            }
            $got | Should -Be 90
            $consumer.Commit()
            $offsets = Get-ConsumerGroupOffset -Group dotnet
            $offsets.Count | Should -Be 3
            ($offsets | Measure-Object -Property CurrentOffset -Sum).Sum | Should -Be 90
            foreach ($o in $offsets) {
                $o.Topic | Should -Be 'committed'
                $o.CurrentOffset | Should -Be $o.LogEndOffset
                $o.Lag | Should -Be 0
                $o.ClientId | Should -Not -BeNullOrEmpty -Because 'the Confluent consumer is still a member'
            }
        } finally {
            $consumer.Close()
            $consumer.Dispose()
        }
        (Get-ConsumerGroup -Name dotnet).State | Should -Be 'Empty'
    }
}
