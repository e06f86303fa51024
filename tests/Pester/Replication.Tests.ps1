# The tutorial's "KAFKA ON MULTI-NODE CLUSTER": several brokers, leaders and followers, an ISR that
# shrinks and grows, failover that loses no acknowledged message, preferred leader election.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-PSKafkaForTest

    # Messages numbered 1..Count (a one-letter prefix, then the number) were each stored exactly once (the idempotent
    # producer's retries wrote nothing twice), and each partition holds its share in the order they were sent.
    function Assert-ExactlyOnceInOrder([object[]] $Received, [int] $Count) {
        $Received.Count | Should -Be $Count
        ($Received.Value | Sort-Object -Unique).Count | Should -Be $Count
        foreach ($group in $Received | Group-Object Partition) {
            $numbers = $group.Group | ForEach-Object { [int]$_.Value.Substring(1) }
            $numbers | Should -Be ($numbers | Sort-Object)
        }
    }
}

Describe 'A multi-broker cluster' {
    BeforeAll {
        $script:data = Start-TestCluster -Brokers 5 -Name replication
    }
    AfterAll { Stop-TestCluster }

    It 'spreads the tutorial''s retail topic over the brokers' {
        $null = New-Topic retail -Partitions 3 -ReplicationFactor 2
        $t = Get-Topic retail
        ($t.Partitions.Leader | Sort-Object -Unique).Count | Should -Be 3
        foreach ($p in $t.Partitions) {
            $p.Replicas.Count | Should -Be 2
            $p.Isr | Should -Be $p.Replicas
            $p.Leader | Should -Be $p.Replicas[0]
        }
        ($t.Partitions.Replicas | Sort-Object -Unique).Count | Should -BeGreaterOrEqual 4
        ($t | Out-String) | Should -Match "Topic: retail\tPartition: 0\tLeader: \d\tReplicas: \d,\d\tIsr: \d,\d"
        (Get-Broker | Measure-Object Leaders -Sum).Sum | Should -Be 3
        (Get-Broker | Measure-Object Followers -Sum).Sum | Should -Be 3
    }

    It 'keeps every acknowledged message when a leader is killed while messages flow' {
        $null = New-Topic flow -Partitions 3 -ReplicationFactor 3 -Config @{ 'min.insync.replicas' = 2 }
        $leader = (Get-Topic flow).Partitions[0].Leader
        $acked = 1..6000 | ForEach-Object { if ($_ -eq 2000) { Stop-Broker -Id $leader -Kill }; "m$_" } |
            Send-Message flow -Acks All -BatchSize 2400 -PassThru
        $acked.Count | Should -Be 6000
        $after = Get-Topic flow
        $after.Partitions[0].Leader | Should -Not -Be $leader
        $after.Partitions[0].Leader | Should -BeGreaterOrEqual 0
        $after.Partitions[0].Isr | Should -Not -Contain $leader
        $after.Partitions[0].LeaderEpoch | Should -BeGreaterThan 0
        Assert-ExactlyOnceInOrder (Receive-Message flow -FromBeginning) 6000

        $null = Start-Broker -Id $leader
        Wait-Until { -not ((Get-Topic flow).Partitions | Where-Object { $_.Isr.Count -lt 3 }) } -What 'every ISR back to 3'
        (Get-Topic flow).Partitions | ForEach-Object { $_.Isr.Count | Should -Be 3 }
    }

    It 'moves leadership back to the preferred replicas' {
        $leader = (Get-Topic flow).Partitions[0].Replicas[0]
        (Get-Topic flow).Partitions[0].Leader | Should -Not -Be $leader
        Invoke-LeaderElection flow -Partition 0 -WhatIf | Should -BeNullOrEmpty
        (Get-Topic flow).Partitions[0].Leader | Should -Not -Be $leader
        $result = Invoke-LeaderElection flow -Partition 0
        $result.Result | Should -Be 'Elected'
        $result.Leader | Should -Be $leader
        (Get-Topic flow).Partitions[0].Leader | Should -Be $leader
        (Invoke-LeaderElection flow).Result | Sort-Object -Unique | Should -Be 'AlreadyPreferred'
        { Invoke-LeaderElection no-such-topic -ErrorAction Stop } | Should -Throw -ErrorId 'TopicNotFound,*'
    }

    It 'refuses acks=All with NotEnoughReplicas when two of three replicas are down, and takes acks=1' {
        $null = New-Topic strict -Partitions 1 -ReplicationFactor 3 -Config @{ 'min.insync.replicas' = 2 }
        $p = (Get-Topic strict).Partitions[0]
        $followers = $p.Replicas | Where-Object { $_ -ne $p.Leader }
        Stop-Broker -Id $followers[0]
        Stop-Broker -Id $followers[1] -Kill
        (Get-Topic strict).Partitions[0].Isr | Should -Be @($p.Leader)
        { 'x' | Send-Message strict -Acks All -DeliveryTimeout 1 -ErrorAction Stop } | Should -Throw -ErrorId 'NotEnoughReplicas,*'
        $report = 'y' | Send-Message strict -Acks Leader -PassThru
        $report.Offset | Should -Be 0
        $null = Start-Broker -Id $followers
    }

    It 'takes an offline partition (all in-sync replicas down) out of service instead of serving a stale replica' {
        $null = New-Topic dark -Partitions 1 -ReplicationFactor 2
        $p = (Get-Topic dark).Partitions[0]
        $stale = $p.Replicas[1]
        Stop-Broker -Id $stale -Kill
        'a', 'b' | Send-Message dark -Acks All
        Stop-Broker -Id $p.Leader -Kill
        $null = Start-Broker -Id $stale
        $offline = (Get-Topic dark).Partitions[0]
        $offline.Leader | Should -Be -1
        $offline.IsOffline | Should -BeTrue
        { 'c' | Send-Message dark -Acks Leader -DeliveryTimeout 0.5 -ErrorAction Stop } | Should -Throw -ErrorId 'LeaderNotAvailable,*'
        $null = Start-Broker -Id $p.Leader
        (Get-Topic dark).Partitions[0].Leader | Should -Be $p.Leader
        (Receive-Message dark -FromBeginning).Value | Should -Be @('a', 'b')
    }

    It 'keeps batches in flight exactly once and in order through two leader crashes and a restart' {
        # Up to five acks=All batches wait for their replicas at once; a crash settles them in order.
        $null = New-Topic inflight -Partitions 2 -ReplicationFactor 3 -Config @{ 'min.insync.replicas' = 2 }
        $first = (Get-Topic inflight).Partitions[0].Leader
        $script:second = $null
        $acked = 1..20000 | ForEach-Object {
            if ($_ -eq 4000) { Stop-Broker -Id $first -Kill }
            if ($_ -eq 9000) { $null = Start-Broker -Id $first }
            if ($_ -eq 14000) { $script:second = (Get-Topic inflight).Partitions[1].Leader; Stop-Broker -Id $script:second -Kill }
            "n$_"
        } | Send-Message inflight -Acks All -BatchSize 1300 -PassThru
        $acked.Count | Should -Be 20000
        ($acked | Group-Object Partition | ForEach-Object { ($_.Group.Offset | Sort-Object -Unique).Count } | Measure-Object -Sum).Sum | Should -Be 20000
        Assert-ExactlyOnceInOrder (Receive-Message inflight -FromBeginning) 20000
        $null = Start-Broker -Id $script:second
    }
}
