# The same lab checks against every kind of cluster the cmdlets can talk to: the in-process cluster,
# librdkafka's own mock cluster (a Kafka no one here wrote) through -BootstrapServer, and - once the
# wire protocol lands - a PSKafka cluster in another process. The bodies splat @on, so nothing in them
# knows which cluster it talks to.

BeforeDiscovery {
    $targets = @(
        @{ Name = 'the in-process cluster'; Kind = 'local' }
        @{ Name = 'librdkafka''s mock cluster'; Kind = 'mock' }
        # A 3-broker PSKafka cluster in a child pwsh, reached only through its Kafka listeners.
        @{ Name = 'a PSKafka cluster in another process'; Kind = 'process' }
    )
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-PSKafkaForTest

    # toPositive(murmur2(key)) % partitions, from Kafka's Utils.murmur2 test vectors.
    function Get-KafkaPartition([string] $Key, [int] $Partitions) {
        $hash = @{ '21' = -973932308; 'foobar' = -790332482; 'a-little-bit-long-string' = -985981536; 'abc' = 479470107 }[$Key]
        ($hash -band 0x7fffffff) % $Partitions
    }
}

Describe 'Lab checks on <Name>' -ForEach $targets {
    BeforeAll {
        $script:on = @{}
        $script:mock = $null
        switch ($Kind) {
            'local' { $null = Start-TestCluster -Brokers 3 }
            'mock' {
                $script:mock = [PSKafka.Client.LibrdkafkaMockCluster]::new(3)
                $script:on = @{ BootstrapServer = $mock.BootstrapServers }
            }
            'process' {
                $script:child = Start-ClusterProcess -Brokers 3 -DataDirectory (Join-Path $TestDrive 'other-process')
                $script:on = @{ BootstrapServer = $child.BootstrapServers }
            }
        }
        # The mock has no CreateTopics: its topics are created on first use with 4 partitions; elsewhere we create them alike.
        function script:New-LabTopic([string] $Name) {
            if ($Kind -ne 'mock') { $null = New-Topic -Name $Name -Partitions 4 -ReplicationFactor 3 @on }
        }
    }

    AfterAll {
        if ($mock) { $mock.Dispose() }
        if ($Kind -eq 'process') { Stop-ClusterProcess $child }
        if ($Kind -eq 'local') { Stop-TestCluster }
    }

    It 'lists and describes a topic with leaders, replicas and in-sync replicas' {
        New-LabTopic lab-topic
        1..20 | Send-Message -Topic lab-topic @on
        (Get-Topic @on).Name | Should -Contain 'lab-topic'
        $t = Get-Topic -Name lab-topic @on
        $t.PartitionCount | Should -Be 4
        $t.ReplicationFactor | Should -Be 3
        foreach ($p in $t.Partitions) {
            $p.Leader | Should -BeIn $p.Replicas
            $p.Replicas.Count | Should -Be 3
            $p.Isr.Count | Should -Be 3
        }
        ($t.Partitions | Measure-Object LogEndOffset -Sum).Sum | Should -Be 20
    }

    It 'produces and consumes from the beginning' {
        New-LabTopic lab-all
        1..500 | Send-Message -Topic lab-all @on
        $messages = Receive-Message -Topic lab-all -FromBeginning @on
        $messages.Count | Should -Be 500
        $messages.Value | Sort-Object { [int] $_ } | Should -Be (1..500 | ForEach-Object { "$_" })
        # Within a partition, offsets are consecutive from 0.
        foreach ($group in $messages | Group-Object Partition) { $group.Group.Offset | Should -Be (0..($group.Count - 1)) }
    }

    It 'reads a partition from an offset' {
        New-LabTopic lab-offset
        'a', 'b', 'c', 'd', 'e' | Send-Message -Topic lab-offset -Partition 1 @on
        $m = Receive-Message -Topic lab-offset -Partition 1 -Offset 2 @on
        $m.Value | Should -Be @('c', 'd', 'e')
        $m.Offset | Should -Be @(2, 3, 4)
        @(Receive-Message -Topic lab-offset -Partition 0 -FromBeginning @on).Count | Should -Be 0
    }

    It 'stops at -MaxMessages and after -Timeout without messages' {
        New-LabTopic lab-max
        1..50 | Send-Message -Topic lab-max @on
        @(Receive-Message -Topic lab-max -FromBeginning -MaxMessages 7 @on).Count | Should -Be 7
        # It waits the -Timeout for messages (never less), then returns rather than following.
        $elapsed = Measure-Command { $script:none = @(Receive-Message -Topic lab-max -Timeout 1 @on) }
        $none.Count | Should -Be 0
        $elapsed.TotalSeconds | Should -BeGreaterOrEqual 0.9
    }

    It 'puts keyed messages on the partition Kafka''s murmur2 gives, and keeps each key on one partition' {
        New-LabTopic lab-keys
        foreach ($key in '21', 'foobar', 'a-little-bit-long-string', 'abc') {
            (Send-Message -Topic lab-keys -Key $key -Value v -PassThru @on).Partition | Should -Be (Get-KafkaPartition $key 4) -Because "key '$key'"
        }
        $reports = 1..40 | ForEach-Object { [pscustomobject]@{ user = "user$($_ % 5)"; n = $_ } } |
            Send-Message -Topic lab-keys -KeyProperty user -PassThru @on
        $reports.Count | Should -Be 40
        foreach ($group in $reports | Group-Object Key) { @($group.Group.Partition | Sort-Object -Unique).Count | Should -Be 1 }
    }

    It 'carries headers and keys to the consumer and reports deliveries in order' {
        New-LabTopic lab-headers
        $reports = 1..5 | Send-Message -Topic lab-headers -Partition 3 -Key k -Header @{ source = 'pester'; trace = 'abc' } -PassThru @on
        $reports.Offset | Should -Be (0..4)
        $reports.Partition | Sort-Object -Unique | Should -Be 3
        $m = Receive-Message -Topic lab-headers -Partition 3 -FromBeginning @on
        $m.Count | Should -Be 5
        $m[0].Key | Should -Be 'k'
        $m[0].Headers['source'] | Should -Be 'pester'
        $m[0].Headers['trace'] | Should -Be 'abc'
    }

    It 'sends with every compression and acks setting: <_>' -ForEach 'None', 'Gzip', 'Snappy', 'Lz4', 'Zstd' {
        $topic = "lab-codec-$($_.ToLower())"
        New-LabTopic $topic
        1..100 | Send-Message -Topic $topic -Compression $_ -Acks Leader @on
        1..100 | Send-Message -Topic $topic -Compression $_ -Acks All @on
        (Receive-Message -Topic $topic -FromBeginning @on).Count | Should -Be 200
    }

    It 'reports a partition out of range and an unknown topic' {
        New-LabTopic lab-bad
        Send-Message -Topic lab-bad -Value x @on
        { Send-Message -Topic lab-bad -Partition 9 -Value x -ErrorAction Stop @on } | Should -Throw -ErrorId 'PartitionNotFound,*'
        { Receive-Message -Topic lab-bad -Partition 9 -ErrorAction Stop @on } | Should -Throw -ErrorId 'PartitionNotFound,*'
        { Receive-Message -Topic lab-no-such-topic -ErrorAction Stop @on } | Should -Throw -ErrorId 'TopicNotFound,*'
        { Get-Topic -Name lab-no-such-topic -ErrorAction Stop @on } | Should -Throw -ErrorId 'TopicNotFound,*'
    }
}

Describe 'Connecting to a remote cluster' {
    BeforeAll {
        $script:mock = [PSKafka.Client.LibrdkafkaMockCluster]::new(3)
        $null = Start-TestCluster
        New-Topic -Name local-only | Out-Null
    }

    AfterAll {
        Disconnect-Cluster
        $mock.Dispose()
        Stop-TestCluster
    }

    AfterEach { Disconnect-Cluster }

    It 'makes the remote cluster the session''s default until Disconnect-Cluster' {
        $info = Connect-Cluster -BootstrapServer $mock.BootstrapServers
        $info.Kind | Should -Be 'Remote'
        $info.Brokers.Count | Should -Be 3
        'x' | Send-Message -Topic remote-only
        (Get-Topic).Name | Should -Contain 'remote-only'
        (Get-Topic).Name | Should -Not -Contain 'local-only'
        (Get-Cluster).BootstrapServers | Should -Be $mock.BootstrapServers
        @(Get-Broker).Count | Should -Be 3

        Disconnect-Cluster
        (Get-Cluster).Kind | Should -Be 'Local'
        (Get-Topic).Name | Should -Contain 'local-only'
        (Get-Topic).Name | Should -Not -Contain 'remote-only'
    }

    It 'targets a cluster for one call with -BootstrapServer, leaving the session''s default alone' {
        'y' | Send-Message -Topic one-call -BootstrapServer $mock.BootstrapServers
        (Get-Topic -BootstrapServer $mock.BootstrapServers).Name | Should -Contain 'one-call'
        (Get-Topic).Name | Should -Not -Contain 'one-call'
        (Get-Cluster -BootstrapServer $mock.BootstrapServers).Kind | Should -Be 'Remote'
        (Get-Cluster).Kind | Should -Be 'Local'
    }

    It 'never shows a secret' {
        $config = @{ 'ssl.key.password' = 'hunter2'; 'sasl.oauthbearer.client.secret' = 'hunter3'; 'client.id' = 'lab' }
        $info = Connect-Cluster -BootstrapServer $mock.BootstrapServers -Config $config
        $info.Config['client.id'] | Should -Be 'lab'
        $info.Config['ssl.key.password'] | Should -Be '********'
        ($info, (Get-Cluster) | Format-List * | Out-String) | Should -Not -Match 'hunter'

        $password = ConvertTo-SecureString 'hunter4' -AsPlainText -Force
        $connection = [PSKafka.Client.RemoteConnection]::new('h:9092', $null, [pscredential]::new('alice', $password).GetNetworkCredential(), $null)
        $connection.DisplayConfig()['sasl.username'] | Should -Be 'alice'
        $connection.DisplayConfig()['sasl.password'] | Should -Be '********'
    }

    It 'says clearly, within the timeout, that a cluster cannot be reached' {
        $elapsed = Measure-Command {
            { Connect-Cluster -BootstrapServer 127.0.0.1:1 -TimeoutSec 2 -ErrorAction Stop } | Should -Throw -ErrorId 'ClusterUnreachable,*'
        }
        # -TimeoutSec decides when it gives up, not the default 10 s (nor librdkafka's own 30 s and more).
        $elapsed.TotalSeconds | Should -BeLessThan ([PSKafka.Client.RemoteConnection]::DefaultTimeout.TotalSeconds)
        (Get-Cluster).Kind | Should -Be 'Local'
        { Get-Topic -BootstrapServer 127.0.0.1:1 -ErrorAction Stop } | Should -Throw -ErrorId 'ClusterUnreachable,*'
    }

    It 'refuses what only the local cluster can do while connected remotely' {
        $null = Connect-Cluster -BootstrapServer $mock.BootstrapServers
        { Start-Broker -ErrorAction Stop } | Should -Throw -ErrorId 'NotSupportedRemotely,*'
        { Stop-Broker -Id 0 -Kill -Confirm:$false -ErrorAction Stop } | Should -Throw -ErrorId 'NotSupportedRemotely,*'
        Disconnect-Cluster
        (Get-Broker).State | Should -Contain 'Running'
    }

    It 'refuses connection settings without a cluster to connect to, and a malformed address' {
        { Get-Topic -ClientConfig @{ 'client.id' = 'x' } -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidArgument,*'
        { Connect-Cluster -BootstrapServer 'no-port' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidArgument,*'
        { Connect-Cluster -BootstrapServer $mock.BootstrapServers -Config @{ 'no.such.setting' = 1 } -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidConfig,*'
    }

    It 'produces idempotently on request' {
        $reports = 1..100 | Send-Message -Topic idempotent -BootstrapServer $mock.BootstrapServers -ClientConfig @{ 'enable.idempotence' = $true } -PassThru
        $reports.Count | Should -Be 100
        (Receive-Message -Topic idempotent -FromBeginning -BootstrapServer $mock.BootstrapServers).Count | Should -Be 100
    }
}
