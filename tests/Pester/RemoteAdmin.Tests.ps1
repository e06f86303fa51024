# Broker configs and leader election through -BootstrapServer only: against a 3-broker PSKafka cluster in another
# process (its own session types the broker restarts, as a user at the first window would), and against librdkafka's
# mock cluster, which has no config APIs.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-PSKafkaForTest
}

Describe 'Broker configs and leader election on a PSKafka cluster in another process' {
    BeforeAll {
        $script:child = Start-ClusterProcess -Brokers 3 -DataDirectory (Join-Path $TestDrive 'admin-process') -Interactive
        $script:on = @{ BootstrapServer = $child.BootstrapServers }
    }
    AfterAll { Stop-ClusterProcess $child }

    It 'reads a broker''s settings with their sources and Kafka''s read-only flags' {
        $c = Get-BrokerConfig -BrokerId 2 -Name broker.id, num.partitions, log.retention.ms @on
        ($c | Where-Object Name -eq broker.id).Value | Should -Be '2'
        ($c | Where-Object Name -eq broker.id).Source | Should -Be 'STATIC_BROKER_CONFIG'
        ($c | Where-Object Name -eq num.partitions).IsReadOnly | Should -BeTrue
        ($c | Where-Object Name -eq log.retention.ms).IsReadOnly | Should -BeFalse
        $c.BrokerId | Sort-Object -Unique | Should -Be 2
        { Get-BrokerConfig -BrokerId 7 -ErrorAction Stop @on } | Should -Throw -ErrorId 'BrokerNotFound,*'
        { Get-BrokerConfig -Name no.such.setting -ErrorAction Stop @on } | Should -Throw -ErrorId 'InvalidConfig,*'
    }

    It 'sets a dynamic setting on every broker, and on one broker with -BrokerId, then resets it' {
        Set-BrokerConfig log.retention.ms 3600000 @on
        foreach ($id in 0..2) {
            $c = Get-BrokerConfig -BrokerId $id -Name log.retention.ms @on
            $c.Value | Should -Be '3600000'
            $c.Source | Should -Be 'DYNAMIC_BROKER_CONFIG'
        }
        $one = Set-BrokerConfig log.segment.bytes 1048576 -BrokerId 1 -PassThru @on
        $one.BrokerId | Should -Be 1
        $one.Value | Should -Be '1048576'
        (Get-BrokerConfig -BrokerId 0 -Name log.segment.bytes @on).Source | Should -Be 'DEFAULT_CONFIG'
        # The other window sees the override where it lives.
        Invoke-ClusterProcess $child '(Get-BrokerConfig -BrokerId 1 -Name log.segment.bytes).Source' | Should -Be 'DYNAMIC_BROKER_CONFIG'

        Set-BrokerConfig log.retention.ms -Reset @on
        Set-BrokerConfig log.segment.bytes -Reset -BrokerId 1 @on
        (Get-BrokerConfig -BrokerId 1 -Name log.retention.ms, log.segment.bytes @on).Source | Sort-Object -Unique | Should -Be 'DEFAULT_CONFIG'
    }

    It 'refuses what Kafka cannot change at runtime, and bad values, with ErrorId InvalidConfig as in-process' {
        { Set-BrokerConfig num.partitions 3 -ErrorAction Stop @on } | Should -Throw -ErrorId 'InvalidConfig,*' -ExpectedMessage '*Cannot update these configs dynamically*'
        { Set-BrokerConfig log.segment.bytes 3 -BrokerId 0 -ErrorAction Stop @on } | Should -Throw -ErrorId 'InvalidConfig,*'
        (Get-BrokerConfig -BrokerId 0 -Name log.segment.bytes @on).Source | Should -Be 'DEFAULT_CONFIG'
        # -WhatIf changes nothing.
        Set-BrokerConfig log.retention.ms 1000 -WhatIf @on
        (Get-BrokerConfig -Name log.retention.ms @on).Source | Should -Be 'DEFAULT_CONFIG'
    }

    It 'moves leadership back to the preferred replicas after a broker restart' {
        $null = New-Topic -Name elect -Partitions 3 -ReplicationFactor 3 @on
        Invoke-ClusterProcess $child 'Stop-Broker -Id 0 -Confirm:$false | Out-Null; Start-Broker -Id 0 | Out-Null'
        Wait-Until {
            $p = (Get-Topic -Name elect @on).Partitions | Where-Object { $_.Replicas[0] -eq 0 }
            $p.Leader -ne 0 -and $p.Isr -contains 0
        } -What 'broker 0 back in the ISR of the partition it prefers, led by another broker'
        $moved = (Get-Topic -Name elect @on).Partitions | Where-Object { $_.Replicas[0] -eq 0 }
        $elected = Invoke-LeaderElection -Topic elect @on
        $elected.Count | Should -Be 3
        $mine = $elected | Where-Object Partition -eq $moved.Partition
        $mine.Result | Should -Be 'Elected'
        $mine.Leader | Should -Be 0
        ($elected | Where-Object Partition -ne $moved.Partition).Result | Sort-Object -Unique | Should -Be 'AlreadyPreferred'
        (Get-Topic -Name elect @on).Partitions | ForEach-Object { $_.Leader | Should -Be $_.Replicas[0] }
    }
}

Describe 'Broker configs on librdkafka''s mock cluster' {
    BeforeAll { $script:mock = [PSKafka.Client.LibrdkafkaMockCluster]::new(3) }
    AfterAll { $mock.Dispose() }

    It 'says at once that the cluster has no config APIs: <_>' -ForEach @(
        { Get-BrokerConfig -BootstrapServer $mock.BootstrapServers -ErrorAction Stop }
        { Set-BrokerConfig -Name log.retention.ms -Value 1000 -BootstrapServer $mock.BootstrapServers -ErrorAction Stop }
    ) {
        # Refused from what the cluster said it supports, not after a request waited out the timeout (10 s).
        $elapsed = Measure-Command { $_ | Should -Throw -ErrorId 'NotSupportedRemotely,*' -ExpectedMessage '*does not support*' }
        $elapsed.TotalSeconds | Should -BeLessThan ([PSKafka.Client.RemoteConnection]::DefaultTimeout.TotalSeconds)
    }
}
