# The foundation: the tutorial's "VALIDATING KAFKA" section end to end, Kafka's partitioning,
# persistence, bad input with stable ErrorIds, and the module's shape.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-PSKafkaForTest
    $script:data = Start-TestCluster
}

AfterAll {
    Stop-TestCluster
}

Describe 'The module' {
    It 'exports exactly the commands of its manifest' {
        $manifest = Import-PowerShellDataFile (Join-Path (Get-Module PSKafka).ModuleBase 'PSKafka.psd1')
        $exported = (Get-Command -Module PSKafka).Name | Sort-Object
        $exported | Should -Be ($manifest.CmdletsToExport | Sort-Object)
    }

    It 'takes a prefix for those who want New-KafkaTopic' {
        $path = (Get-Module PSKafka).Path
        $ps = [PowerShell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$((Get-Module PSKafka).ModuleBase)/PSKafka.psd1' -Prefix Kafka; (Get-Command -Module PSKafka).Name").AddStatement()
            $names = $ps.Invoke()
            $names | Should -Contain 'New-KafkaTopic'
            $names | Should -Contain 'Send-KafkaMessage'
        } finally { $ps.Dispose() }
    }
}

Describe './pskafka' {
    It 'exits with <Code> for: <Script>' -ForEach @(
        @{ Script = '"fine"'; Code = 0 }
        @{ Script = 'try { Get-Item /no/such/path -ErrorAction Stop } catch { "caught" }'; Code = 0 }
        @{ Script = 'Get-Item /no/such/path; "went on"'; Code = 1 }
        @{ Script = 'throw "boom"'; Code = 1 }
        @{ Script = 'exit 3'; Code = 3 }
    ) {
        $launcher = Join-Path $PSScriptRoot '../../pskafka'
        $null = & $launcher -NoBroker -Command $Script 2>&1
        $LASTEXITCODE | Should -Be $Code
    }
}

Describe 'Tab completion' {
    It 'completes topic names' {
        New-Topic -Name complete-me | Out-Null
        foreach ($line in 'Get-Topic -Name comp', 'Receive-Message -Topic comp', 'Send-Message -Topic comp', 'Remove-Topic comp') {
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain 'complete-me' -Because $line
        }
    }
}

Describe 'Validating Kafka (the tutorial)' {
    It 'creates, lists, describes, produces, consumes and deletes a topic' {
        $topic = New-Topic -Name test -Partitions 1 -ReplicationFactor 1
        $topic.Name | Should -Be 'test'
        $topic.PartitionCount | Should -Be 1

        (Get-Topic).Name | Should -Contain 'test'

        $described = Get-Topic -Name test
        $described.ReplicationFactor | Should -Be 1
        $described.Partitions[0].Leader | Should -Be 0
        $described.Partitions[0].Replicas | Should -Be @(0)
        $described.Partitions[0].Isr | Should -Be @(0)
        ($described | Out-String) | Should -Match 'Topic: test\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0'

        1..1000 | Send-Message -Topic test
        $messages = Receive-Message -Topic test -FromBeginning -MaxMessages 1000
        $messages.Count | Should -Be 1000
        $messages.Value | Should -Be (1..1000 | ForEach-Object { "$_" })
        $messages.Offset | Should -Be (0..999)
        (Get-Topic -Name test).Partitions[0].LogEndOffset | Should -Be 1000

        $partitionDir = Join-Path $data 'broker-0/test-0'
        Join-Path $partitionDir '00000000000000000000.log' | Should -Exist
        Join-Path $partitionDir '00000000000000000000.index' | Should -Exist
        Join-Path $partitionDir '00000000000000000000.timeindex' | Should -Exist

        Remove-Topic -Name test
        (Get-Topic).Name | Should -Not -Contain 'test'
        Wait-Until { @(Get-ChildItem (Join-Path $data 'broker-0') -Directory -Filter 'test-0').Count -eq 0 } -What 'the partition directory to go'
    }

    It 'reads only new messages without -FromBeginning and stops when caught up' {
        New-Topic -Name latest -Partitions 2 | Out-Null
        1..10 | Send-Message -Topic latest
        @(Receive-Message -Topic latest).Count | Should -Be 0
        @(Receive-Message -Topic latest -FromBeginning).Count | Should -Be 10
        @(Receive-Message -Topic latest -Partition 0 -Offset 3).Offset | Should -Be (3..4)
    }

    It 'stops -Follow cleanly on Ctrl+C' {
        New-Topic -Name follow | Out-Null
        $ps = [PowerShell]::Create([System.Management.Automation.RunspaceMode]::NewRunspace)
        try {
            $null = $ps.AddScript("Import-Module '$((Get-Module PSKafka).Path -replace 'PSKafka.dll$','PSKafka.psd1')'; Receive-Message -Topic follow -Follow")
            $async = $ps.BeginInvoke()
            Start-Sleep -Milliseconds 500
            'one', 'two' | Send-Message -Topic follow
            $deadline = (Get-Date).AddSeconds(10)
            while ($ps.Streams.Error.Count -eq 0 -and (Get-Date) -lt $deadline -and $ps.InvocationStateInfo.State -eq 'Running') { Start-Sleep -Milliseconds 100; if ($async.IsCompleted) { break } }
            Assert-StopsCleanly $ps
        } finally { $ps.Dispose() }
    }
}

Describe 'Messages as objects' {
    BeforeAll { New-Topic -Name objects -Partitions 3 | Out-Null }

    It 'sends objects as JSON and turns them back into objects' {
        [pscustomobject]@{ ip = '10.1.2.3'; status = 200; path = '/departments' } | Send-Message -Topic objects -Partition 1
        $m = Receive-Message -Topic objects -Partition 1 -FromBeginning -AsObject | Select-Object -Last 1
        $m.Value.ip | Should -Be '10.1.2.3'
        $m.Value.status | Should -Be 200
    }

    It 'keys messages by a property and sends headers' {
        $reports = 1..20 | ForEach-Object { [pscustomobject]@{ user = "user$($_ % 4)"; n = $_ } } |
            Send-Message -Topic objects -KeyProperty user -Header @{ source = 'pester' } -PassThru
        $reports.Count | Should -Be 20
        foreach ($group in $reports | Group-Object Key) {
            @($group.Group.Partition | Sort-Object -Unique).Count | Should -Be 1
        }
        $m = Receive-Message -Topic objects -FromBeginning | Where-Object Key -EQ 'user1' | Select-Object -First 1
        $m.Headers['source'] | Should -Be 'pester'
    }

    It 'puts keyed messages on the partition Kafka''s murmur2 gives' {
        New-Topic -Name keyed -Partitions 7 | Out-Null
        # toPositive(murmur2(key)) % 7, from Kafka's Utils.murmur2 test vectors:
        # "21" -> -973932308, "foobar" -> -790332482, "a-little-bit-long-string" -> -985981536, "abc" -> 479470107
        $expected = @{ '21' = (-973932308 -band 0x7fffffff) % 7; 'foobar' = (-790332482 -band 0x7fffffff) % 7
                       'a-little-bit-long-string' = (-985981536 -band 0x7fffffff) % 7; 'abc' = (479470107 -band 0x7fffffff) % 7 }
        foreach ($key in $expected.Keys) {
            (Send-Message -Topic keyed -Key $key -Value 'v' -PassThru).Partition | Should -Be $expected[$key] -Because "key '$key'"
        }
    }

    It 'spreads messages without a key round robin' {
        New-Topic -Name spread -Partitions 3 | Out-Null
        $reports = 1..9 | Send-Message -Topic spread -PassThru
        ($reports | Group-Object Partition | ForEach-Object Count) | Should -Be @(3, 3, 3)
    }
}

Describe 'Bad input' {
    It 'refuses a topic name outside Kafka''s rules and creates nothing: <name>' -ForEach @(
        @{ name = 'bad name' }, @{ name = 'bad/name' }, @{ name = '.' }, @{ name = '..' }, @{ name = 'x' * 250 }, @{ name = 'café' }
    ) {
        { New-Topic -Name $name -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidTopicName,*'
        (Get-Topic).Name | Should -Not -Contain $name
        @(Get-ChildItem (Join-Path $data 'broker-0') -Directory | Where-Object Name -Like "$name-*").Count | Should -Be 0
    }

    It 'accepts a name of 249 characters' {
        $name = 'a' * 249
        (New-Topic -Name $name).Name | Should -Be $name
        Remove-Topic -Name $name
    }

    It 'refuses partitions below 1' {
        { New-Topic -Name zero -Partitions 0 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidPartitions,*'
        (Get-Topic).Name | Should -Not -Contain 'zero'
    }

    It 'refuses a replication factor below 1 or above the live brokers' {
        { New-Topic -Name rf0 -ReplicationFactor 0 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidReplicationFactor,*'
        { New-Topic -Name rf2 -ReplicationFactor 2 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidReplicationFactor,*'
        (Get-Topic).Name | Should -Not -Contain 'rf2'
    }

    It 'refuses a topic that exists' {
        New-Topic -Name twice | Out-Null
        { New-Topic -Name twice -ErrorAction Stop } | Should -Throw -ErrorId 'TopicAlreadyExists,*'
    }

    It 'reports an unknown topic' {
        { Get-Topic -Name nosuchtopic -ErrorAction Stop } | Should -Throw -ErrorId 'TopicNotFound,*'
        { Receive-Message -Topic nosuchtopic -ErrorAction Stop } | Should -Throw -ErrorId 'TopicNotFound,*'
        { Remove-Topic -Name nosuchtopic -ErrorAction Stop } | Should -Throw -ErrorId 'TopicNotFound,*'
    }

    It 'reports a partition out of range' {
        New-Topic -Name two -Partitions 2 | Out-Null
        { Receive-Message -Topic two -Partition 2 -ErrorAction Stop } | Should -Throw -ErrorId 'PartitionNotFound,*'
        { Send-Message -Topic two -Partition 5 -Value x -ErrorAction Stop } | Should -Throw -ErrorId 'PartitionNotFound,*'
        (Get-Topic -Name two).Partitions.LogEndOffset | Should -Be @(0, 0)
    }

    It 'refuses a message over max.message.bytes and writes nothing' {
        New-Topic -Name small -Config @{ 'max.message.bytes' = 2000 } | Out-Null
        { Send-Message -Topic small -Value ('x' * 5000) -ErrorAction Stop } | Should -Throw -ErrorId 'MessageTooLarge,*'
        (Get-Topic -Name small).Partitions[0].LogEndOffset | Should -Be 0
        Send-Message -Topic small -Value ('x' * 100)
        (Get-Topic -Name small).Partitions[0].LogEndOffset | Should -Be 1
    }

    It 'fails only the message that is too large and sends the others of its batch' {
        New-Topic -Name mixed -Config @{ 'max.message.bytes' = 2000 } | Out-Null
        $errors = $null
        'a', 'b', ('x' * 5000), 'c', 'd' | Send-Message -Topic mixed -ErrorVariable errors -ErrorAction SilentlyContinue
        @($errors).Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'MessageTooLarge,*'
        (Receive-Message -Topic mixed -FromBeginning).Value | Should -Be @('a', 'b', 'c', 'd')
    }

    It 'refuses an unknown or invalid topic config' {
        { New-Topic -Name badconfig -Config @{ 'no.such.config' = 1 } -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidConfig,*'
        { New-Topic -Name badconfig -Config @{ 'cleanup.policy' = 'shred' } -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidConfig,*'
        (Get-Topic).Name | Should -Not -Contain 'badconfig'
    }

    It 'says clearly that no broker is running' {
        # The brokers are per process, so stop them, check, and bring them back.
        Stop-Broker
        try {
            { Get-Topic -ErrorAction Stop } | Should -Throw -ErrorId 'NoBrokerRunning,*'
            { Send-Message -Topic x -Value y -ErrorAction Stop } | Should -Throw -ErrorId 'NoBrokerRunning,*'
        } finally {
            $null = Start-Broker -Port 0 -DataDirectory $data
        }
    }
}

Describe 'Persistence' {
    It 'brings topics and messages back after the brokers restart' {
        New-Topic -Name persisted -Partitions 2 -Config @{ 'retention.ms' = 3600000 } | Out-Null
        'a', 'b', 'c', 'd' | Send-Message -Topic persisted
        Stop-Broker
        Get-Broker | ForEach-Object State | Should -Not -Contain 'Running'
        $null = Start-Broker -Port 0 -DataDirectory $data
        $t = Get-Topic -Name persisted
        $t.PartitionCount | Should -Be 2
        $t.Configs['retention.ms'] | Should -Be '3600000'
        (Receive-Message -Topic persisted -FromBeginning).Value | Sort-Object | Should -Be @('a', 'b', 'c', 'd')
    }

    It 'refuses a second process on a data directory in use, naming the holder' {
        $pwsh = Get-PwshCommand
        $manifest = Join-Path (Get-Module PSKafka).ModuleBase 'PSKafka.psd1'
        $out = & $pwsh[0] $pwsh[1] -NoProfile -NonInteractive -Command "Import-Module '$manifest'; try { Start-Broker -Port 0 -DataDirectory '$data' -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId; `$_.Exception.Message }" 2>&1
        ($out -join "`n") | Should -Match 'DataDirectoryInUse'
        ($out -join "`n") | Should -Match "process $PID"
    }
}
