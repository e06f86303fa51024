# Consumer groups: every consumer scenario of the tutorial ("PRODUCER AND CONSUMER - DIFFERENT
# SCENARIOS", "Consumers and Consumer groups") with its outcome asserted, plus lag, resets,
# deletion, restarts and bad input.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-PSKafkaForTest
    $script:data = Start-TestCluster
    # Tests do not wait Kafka's 3 s for more members of a new group.
    [PSKafka.Cmdlets.Infrastructure.Session]::LocalCluster.BrokerConfigs.Set('group.initial.rebalance.delay.ms', '0')

    function Wait-Stable([string] $Group, [int] $Members) {
        Wait-Until { $g = Get-ConsumerGroup -Name $Group -ErrorAction SilentlyContinue; $g.State -eq 'Stable' -and $g.Members.Count -eq $Members } -What "group $Group stable with $Members members"
    }

    function Get-Assigned([string] $Group) {
        (Get-ConsumerGroup -Name $Group).Members | ForEach-Object { , @($_.Partitions) }
    }
}

AfterAll {
    Get-Job | Where-Object PSJobTypeName -eq 'PSKafkaConsumerJob' | Remove-Job -Force
    Stop-TestCluster
}

Describe 'Single partition topic' {
    BeforeAll {
        New-Topic -Name retail_single -Partitions 1 | Out-Null
        1..20 | Send-Message -Topic retail_single
    }

    It 'one consumer receives every message in order' {
        $got = Receive-Message -Topic retail_single -Group one -FromBeginning
        $got.Value | Should -Be (1..20 | ForEach-Object { "$_" })
        (Get-ConsumerGroupOffset -Group one).CurrentOffset | Should -Be 20
    }

    It 'two consumers in one group: only one receives, and when it stops the other takes over' {
        $a = Receive-Message -Topic retail_single -Group two -Follow -AsJob
        $b = Receive-Message -Topic retail_single -Group two -Follow -AsJob
        try {
            Wait-Stable -Group two -Members 2
            @(Get-Assigned two | Where-Object { $_.Count -gt 0 }).Count | Should -Be 1
            21..40 | Send-Message -Topic retail_single
            Wait-Until { $a.Output.Count + $b.Output.Count -ge 20 } -What 'messages 21..40'
            Start-Sleep -Milliseconds 300
            $counts = @($a.Output.Count, $b.Output.Count) | Sort-Object
            $counts | Should -Be @(0, 20)

            $receiver, $other = if ($a.Output.Count) { $a, $b } else { $b, $a }
            $receiver | Stop-Job
            Wait-Stable -Group two -Members 1
            41..50 | Send-Message -Topic retail_single
            Wait-Until { $other.Output.Count -ge 10 } -What 'the other consumer to take over'
            $other.Output.Value | Should -Be (41..50 | ForEach-Object { "$_" })
        } finally {
            $a, $b | Stop-Job
            $a, $b | Remove-Job
        }
    }

    It 'two groups each receive everything' {
        $g1 = Receive-Message -Topic retail_single -Group 'group 1' -FromBeginning
        $g2 = Receive-Message -Topic retail_single -Group 'group 2' -FromBeginning
        $g1.Count | Should -Be 50
        $g2.Count | Should -Be 50
        $g2.Value | Should -Be $g1.Value
    }
}

Describe 'Four partition topic' {
    BeforeAll {
        New-Topic -Name retail_multi -Partitions 4 | Out-Null
        1..100 | Send-Message -Topic retail_multi
    }

    It 'one consumer gets all four partitions' {
        $got = Receive-Message -Topic retail_multi -Group cg -FromBeginning
        $got.Count | Should -Be 100
        ($got.Partition | Sort-Object -Unique) | Should -Be @(0, 1, 2, 3)
        (Get-ConsumerGroupOffset -Group cg | Measure-Object -Property Lag -Sum).Sum | Should -Be 0
    }

    It 'consumers in one group split the partitions, the split follows joins and leaves, and no message comes twice' {
        $jobs = [System.Collections.Generic.List[object]]::new()
        try {
            $jobs.Add((Receive-Message -Topic retail_multi -Group cga -FromBeginning -Follow -AsJob))
            $jobs.Add((Receive-Message -Topic retail_multi -Group cga -FromBeginning -Follow -AsJob))
            Wait-Stable -Group cga -Members 2
            $split = Get-Assigned cga
            $split[0].Count | Should -Be 2
            $split[1].Count | Should -Be 2
            ($split[0] + $split[1] | Sort-Object) | Should -Be @('retail_multi-0', 'retail_multi-1', 'retail_multi-2', 'retail_multi-3')
            Wait-Until { ($jobs | ForEach-Object { $_.Output.Count } | Measure-Object -Sum).Sum -ge 100 } -What 'the first 100'

            # A third member joins: the split changes.
            $jobs.Add((Receive-Message -Topic retail_multi -Group cga -FromBeginning -Follow -AsJob))
            Wait-Stable -Group cga -Members 3
            $split = Get-Assigned cga
            ($split | ForEach-Object { $_.Count } | Sort-Object) | Should -Be @(1, 1, 2)
            101..200 | Send-Message -Topic retail_multi

            # One leaves: its partitions go to the others.
            $jobs[0] | Stop-Job
            Wait-Stable -Group cga -Members 2
            @(Get-Assigned cga | ForEach-Object { $_ }).Count | Should -Be 4
            201..300 | Send-Message -Topic retail_multi
            Wait-Until { ($jobs | ForEach-Object { $_.Output.Count } | Measure-Object -Sum).Sum -ge 300 } -What 'all 300'
            Start-Sleep -Milliseconds 300

            $all = $jobs | ForEach-Object { $_.Output }
            $all.Count | Should -Be 300
            ($all.Value | Sort-Object -Unique).Count | Should -Be 300
            # Within the group each partition was read by one member at a time: per job, partitions are disjoint at any moment,
            # which shows as no offset delivered twice.
            ($all | ForEach-Object { "$($_.Partition)@$($_.Offset)" } | Sort-Object -Unique).Count | Should -Be 300
        } finally {
            $jobs | Stop-Job
            $jobs | Remove-Job
        }
    }

    It 'one consumer per partition with -Partition, committing to the group' {
        $p1 = Receive-Message -Topic retail_multi -Group cgb -Partition 1 -FromBeginning
        $p1.Count | Should -BeGreaterThan 0
        ($p1.Partition | Sort-Object -Unique) | Should -Be 1
        $p2 = Receive-Message -Topic retail_multi -Group cgb -Partition 2 -FromBeginning
        ($p2.Partition | Sort-Object -Unique) | Should -Be 2
        $offsets = Get-ConsumerGroupOffset -Group cgb
        ($offsets.Partition | Sort-Object) | Should -Be @(1, 2)
        ($offsets | Where-Object Partition -eq 1).CurrentOffset | Should -Be $p1.Count
        ($offsets | Measure-Object -Property Lag -Sum).Sum | Should -Be 0
        { Receive-Message -Topic retail_multi -Group cgb -Partition 4 } | Should -Throw -ErrorId 'PartitionNotFound,*'
    }
}

Describe 'At-least-once delivery' {
    BeforeAll {
        New-Topic -Name orders -Partitions 1 | Out-Null
        1..50 | Send-Message -Topic orders
    }

    It 'a consumer that dies mid-batch has its uncommitted messages redelivered to the member that takes over' {
        $processed = [System.Collections.Generic.List[object]]::new()
        {
            Receive-Message -Topic orders -Group billing -FromBeginning -NoAutoCommit |
                ForEach-Object { if ($_.Value -eq '20') { throw 'crash while processing 20' }; $processed.Add($_); $_ } |
                Submit-ConsumerOffset
        } | Should -Throw '*crash while processing 20*'
        $processed.Count | Should -Be 19
        (Get-ConsumerGroupOffset -Group billing).CurrentOffset | Should -Be 19

        $next = Receive-Message -Topic orders -Group billing
        $next[0].Value | Should -Be '20'
        $next.Value | Should -Be (20..50 | ForEach-Object { "$_" })
        (Get-ConsumerGroupOffset -Group billing).CurrentOffset | Should -Be 50
    }

    It 'a commit from a member that is gone never moves the committed offset back while the group has members' {
        $old = Receive-Message -Topic orders -Group audit -FromBeginning -NoAutoCommit -MaxMessages 5
        $old | Submit-ConsumerOffset
        (Get-ConsumerGroupOffset -Group audit).CurrentOffset | Should -Be 5
        $live = Receive-Message -Topic orders -Group audit -Follow -AsJob
        try {
            Wait-Stable -Group audit -Members 1
            Wait-Until { (Get-ConsumerGroupOffset -Group audit).CurrentOffset -eq 50 } -What 'the live member to commit'
            { $old[0] | Submit-ConsumerOffset -ErrorAction Stop } | Should -Throw -ErrorId 'CommitFailed,*'
            (Get-ConsumerGroupOffset -Group audit).CurrentOffset | Should -Be 50
        } finally {
            $live | Stop-Job
            $live | Remove-Job
        }
    }

    It 'tells a message that did not come from a group consumer' {
        $m = Receive-Message -Topic orders -FromBeginning -MaxMessages 1
        { $m | Submit-ConsumerOffset -ErrorAction Stop } | Should -Throw -ErrorId 'NotFromGroupConsumer,*'
    }
}

Describe 'Offsets, lag, reset and removal' {
    BeforeAll {
        New-Topic -Name lagging -Partitions 2 | Out-Null
        1..10 | Send-Message -Topic lagging
    }

    It 'shows lag 0 after consumption and the right lag after more messages' {
        (Receive-Message -Topic lagging -Group lg -FromBeginning).Count | Should -Be 10
        $o = Get-ConsumerGroupOffset -Group lg
        $o.Count | Should -Be 2
        ($o | Measure-Object -Property Lag -Sum).Sum | Should -Be 0
        $o | ForEach-Object { $_.LogEndOffset | Should -Be $_.CurrentOffset }
        1..7 | Send-Message -Topic lagging
        $o = Get-ConsumerGroupOffset -Group lg
        ($o | Measure-Object -Property Lag -Sum).Sum | Should -Be 7
        $o | ForEach-Object { $_.Lag | Should -Be ($_.LogEndOffset - $_.CurrentOffset) }
        (Get-ConsumerGroupOffset -Group lg | Out-String) | Should -Match 'CurrentOffset\s+LogEndOffset\s+Lag'
    }

    It 'latest is where a new group starts without -FromBeginning' {
        @(Receive-Message -Topic lagging -Group newcomer).Count | Should -Be 0
        1..3 | Send-Message -Topic lagging
        @(Receive-Message -Topic lagging -Group newcomer).Count | Should -Be 3
    }

    It '-WhatIf shows the planned offsets and changes nothing; -ToEarliest makes the group read everything again' {
        $before = (Get-ConsumerGroupOffset -Group lg).CurrentOffset
        $plan = Reset-ConsumerGroupOffset -Group lg -Topic lagging -ToEarliest -WhatIf
        $plan.NewOffset | Should -Be @(0, 0)
        $plan.Applied | Should -Be @($false, $false)
        (Get-ConsumerGroupOffset -Group lg).CurrentOffset | Should -Be $before

        $done = Reset-ConsumerGroupOffset -Group lg -Topic lagging -ToEarliest
        $done.Applied | Should -Be @($true, $true)
        (Receive-Message -Topic lagging -Group lg).Count | Should -Be 20
    }

    It 'resets to an offset, by a shift, to latest and to a time, clamped to the log' {
        (Reset-ConsumerGroupOffset -Group lg -Topic lagging -Partition 0 -ToOffset 2).NewOffset | Should -Be 2
        (Reset-ConsumerGroupOffset -Group lg -Topic lagging -Partition 0 -ShiftBy 3).NewOffset | Should -Be 5
        (Reset-ConsumerGroupOffset -Group lg -Topic lagging -Partition 0 -ShiftBy -100).NewOffset | Should -Be 0
        (Reset-ConsumerGroupOffset -Group lg -Topic lagging -Partition 0 -ToOffset 100000).NewOffset | Should -Be ((Get-Topic lagging).Partitions[0].LogEndOffset)
        (Reset-ConsumerGroupOffset -Group lg -Topic lagging -ToLatest).NewOffset | Should -Be ((Get-Topic lagging).Partitions.LogEndOffset)
        (Reset-ConsumerGroupOffset -Group lg -Topic lagging -ToDateTime ([DateTimeOffset]::UtcNow.AddDays(-1))).NewOffset | Should -Be @(0, 0)
        { Reset-ConsumerGroupOffset -Group nobody-yet -Topic lagging -ShiftBy 1 } | Should -Throw -ErrorId 'NoCommittedOffset,*'
    }

    It 'refuses to reset or remove a group with active members' {
        $job = Receive-Message -Topic lagging -Group busy -Follow -AsJob
        try {
            Wait-Stable -Group busy -Members 1
            $g = Get-ConsumerGroup -Name busy
            $g.Assignor | Should -Be 'range'
            $g.Members[0].Partitions | Should -Be @('lagging-0', 'lagging-1')
            $g.Members[0].ClientId | Should -Be 'pskafka-consumer'
            { Reset-ConsumerGroupOffset -Group busy -Topic lagging -ToEarliest } | Should -Throw -ErrorId 'ConsumerGroupNotEmpty,*'
            { Remove-ConsumerGroup -Name busy -ErrorAction Stop } | Should -Throw -ErrorId 'ConsumerGroupNotEmpty,*'
        } finally {
            $job | Stop-Job
            $job | Remove-Job
        }
        (Get-ConsumerGroup -Name busy).State | Should -Be 'Empty'
        Remove-ConsumerGroup -Name busy
        { Get-ConsumerGroup -Name busy -ErrorAction Stop } | Should -Throw -ErrorId 'ConsumerGroupNotFound,*'
        { Remove-ConsumerGroup -Name busy -ErrorAction Stop } | Should -Throw -ErrorId 'ConsumerGroupNotFound,*'
    }

    It 'uses the assignor asked for' {
        $job = Receive-Message -Topic lagging -Group rr -Assignor roundrobin -Follow -AsJob
        try {
            Wait-Stable -Group rr -Members 1
            (Get-ConsumerGroup -Name rr).Assignor | Should -Be 'roundrobin'
        } finally { $job | Stop-Job; $job | Remove-Job }
        { Receive-Message -Topic lagging -Group rr -Assignor sticky } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
    }

    It 'completes group names' {
        $names = (TabExpansion2 -inputScript 'Get-ConsumerGroup -Name l' -cursorColumn 'Get-ConsumerGroup -Name l'.Length).CompletionMatches.CompletionText
        $names | Should -Contain 'lg'
        $quoted = (TabExpansion2 -inputScript 'Get-ConsumerGroup -Name gro' -cursorColumn 'Get-ConsumerGroup -Name gro'.Length).CompletionMatches.CompletionText
        $quoted | Should -Contain "'group 1'"
    }

    It 'rejects bad input with clear ErrorIds' {
        { Receive-Message -Topic lagging -Group lg -Offset 3 } | Should -Throw -ErrorId 'InvalidArgument,*'
        { Receive-Message -Topic lagging -Group lg -ConsumerConfig @{ 'bogus.setting' = 1 } } | Should -Throw -ErrorId 'InvalidConfig,*'
        { Receive-Message -Topic lagging -Group lg -ConsumerConfig @{ 'auto.offset.reset' = 'sometimes' } } | Should -Throw -ErrorId 'InvalidConfig,*'
        { Receive-Message -Topic lagging -Group lg -ConsumerConfig @{ 'session.timeout.ms' = 1000; 'heartbeat.interval.ms' = 300 } } | Should -Throw -ErrorId 'InvalidSessionTimeout,*'
        { Receive-Message -Topic lagging -Group lg -ConsumerConfig @{ 'session.timeout.ms' = 6000; 'heartbeat.interval.ms' = 6000 } } | Should -Throw -ErrorId 'InvalidConfig,*'
        { Receive-Message -Topic no_such_topic -Group lg } | Should -Throw -ErrorId 'TopicNotFound,*'
    }
}

Describe 'Durability' {
    It 'committed offsets and groups survive a restart of the cluster' {
        $before = Get-ConsumerGroupOffset -Group lg
        Stop-Broker
        $null = Start-Broker -DataDirectory $data
        $after = Get-ConsumerGroupOffset -Group lg
        $after.CurrentOffset | Should -Be $before.CurrentOffset
        (Get-ConsumerGroup).Name | Should -Contain 'lg'
        (Get-Topic __consumer_offsets).PartitionCount | Should -Be 50
    }
}
