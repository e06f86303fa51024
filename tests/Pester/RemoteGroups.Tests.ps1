# The group lab checks against a 3-broker PSKafka cluster in another process, reached only through
# -BootstrapServer (Confluent.Kafka's group consumer and admin client on our side, PSKafka's group
# coordinator over the wire on the other), plus what librdkafka's own mock cluster can do with groups.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-PSKafkaForTest
}

Describe 'Consumer groups on a PSKafka cluster in another process' {
    BeforeAll {
        # Tests do not wait Kafka's 3 s for more members of a new group.
        $script:child = Start-ClusterProcess -Brokers 3 -DataDirectory (Join-Path $TestDrive 'other-process') -BrokerConfig @{ 'group.initial.rebalance.delay.ms' = 0 }
        $script:on = @{ BootstrapServer = $child.BootstrapServers }

        function script:Wait-Stable([string] $Group, [int] $Members) {
            Wait-Until { $g = Get-ConsumerGroup -Name $Group -ErrorAction SilentlyContinue @on; $g.State -eq 'Stable' -and $g.Members.Count -eq $Members } -What "group $Group stable with $Members members"
        }

        $null = New-Topic -Name retail_multi -Partitions 4 -ReplicationFactor 3 @on
        1..100 | Send-Message -Topic retail_multi @on
    }

    AfterAll {
        Get-Job | Where-Object PSJobTypeName -eq 'PSKafkaConsumerJob' | Remove-Job -Force
        Stop-ClusterProcess $child
    }

    It 'two consumers in one group split the four partitions and together receive every message once' {
        $jobs = @(
            Receive-Message -Topic retail_multi -Group split -FromBeginning -Follow -AsJob @on
            Receive-Message -Topic retail_multi -Group split -FromBeginning -Follow -AsJob @on
        )
        try {
            Wait-Stable -Group split -Members 2
            $members = (Get-ConsumerGroup -Name split @on).Members
            $members | ForEach-Object { @($_.Partitions).Count | Should -Be 2 }
            ($members.Partitions | Sort-Object) | Should -Be @('retail_multi-0', 'retail_multi-1', 'retail_multi-2', 'retail_multi-3')
            101..200 | Send-Message -Topic retail_multi @on
            Wait-Until { ($jobs | ForEach-Object { $_.Output.Count } | Measure-Object -Sum).Sum -ge 200 } -What 'all 200 messages'
            Start-Sleep -Milliseconds 500
            $all = $jobs | ForEach-Object { $_.Output }
            $all.Count | Should -Be 200
            ($all.Value | Sort-Object { [int] $_ }) | Should -Be (1..200 | ForEach-Object { "$_" })
            # Once the group is stable each member reads only its own partitions (before that, the first member
            # to join may have read every partition: the messages sent after Wait-Stable tell).
            $byJob = $jobs | ForEach-Object { , @($_.Output | Where-Object { [int]$_.Value -gt 100 } | ForEach-Object Partition | Sort-Object -Unique) }
            @($byJob[0] | Where-Object { $_ -in $byJob[1] }).Count | Should -Be 0
        } finally {
            $jobs | Stop-Job
            $jobs | Remove-Job
        }
        (Get-ConsumerGroup -Name split @on).State | Should -Be 'Empty'
        (Get-ConsumerGroupOffset -Group split @on | Measure-Object Lag -Sum).Sum | Should -Be 0
    }

    It 'a second group receives everything too' {
        $first = Receive-Message -Topic retail_multi -Group first -FromBeginning @on
        $second = Receive-Message -Topic retail_multi -Group second -FromBeginning @on
        $first.Count | Should -Be 200
        $second.Count | Should -Be 200
        ($second.Value | Sort-Object { [int] $_ }) | Should -Be ($first.Value | Sort-Object { [int] $_ })
        (Get-ConsumerGroup @on).Name | Should -Contain 'first'
        (Get-ConsumerGroup @on).Name | Should -Contain 'second'
    }

    It 'shows lag 0 after consumption and the right lag after more messages' {
        $null = New-Topic -Name lagging -Partitions 2 -ReplicationFactor 3 @on
        1..10 | Send-Message -Topic lagging @on
        (Receive-Message -Topic lagging -Group lg -FromBeginning @on).Count | Should -Be 10
        $o = Get-ConsumerGroupOffset -Group lg @on
        $o.Count | Should -Be 2
        ($o | Measure-Object -Property Lag -Sum).Sum | Should -Be 0
        $o | ForEach-Object { $_.LogEndOffset | Should -Be $_.CurrentOffset }
        1..7 | Send-Message -Topic lagging @on
        $o = Get-ConsumerGroupOffset -Group lg @on
        ($o | Measure-Object -Property Lag -Sum).Sum | Should -Be 7
        $o | ForEach-Object { $_.Lag | Should -Be ($_.LogEndOffset - $_.CurrentOffset) }
    }

    It 'Reset-ConsumerGroupOffset -ToEarliest makes the group read everything again; -WhatIf changes nothing' {
        $plan = Reset-ConsumerGroupOffset -Group lg -Topic lagging -ToEarliest -WhatIf @on
        $plan.NewOffset | Should -Be @(0, 0)
        ((Get-ConsumerGroupOffset -Group lg @on).CurrentOffset | Measure-Object -Sum).Sum | Should -Be 10
        (Reset-ConsumerGroupOffset -Group lg -Topic lagging -ToEarliest @on).Applied | Should -Be @($true, $true)
        (Receive-Message -Topic lagging -Group lg @on).Count | Should -Be 17
        (Get-ConsumerGroupOffset -Group lg @on | Measure-Object -Property Lag -Sum).Sum | Should -Be 0
    }

    It 'resets to an offset, by a shift and to a time' {
        (Reset-ConsumerGroupOffset -Group lg -Topic lagging -Partition 0 -ToOffset 2 @on).NewOffset | Should -Be 2
        (Reset-ConsumerGroupOffset -Group lg -Topic lagging -Partition 0 -ShiftBy 1 @on).NewOffset | Should -Be 3
        (Reset-ConsumerGroupOffset -Group lg -Topic lagging -ToDateTime ([DateTimeOffset]::UtcNow.AddDays(-1)) @on).NewOffset | Should -Be @(0, 0)
        $ends = (Get-Topic lagging @on).Partitions.LogEndOffset
        (Reset-ConsumerGroupOffset -Group lg -Topic lagging -ToDateTime ([DateTimeOffset]::UtcNow.AddDays(1)) @on).NewOffset | Should -Be $ends
    }

    It 'commits only what the pipeline processed (Submit-ConsumerOffset), and redelivers the rest' {
        $null = New-Topic -Name orders -Partitions 1 -ReplicationFactor 3 @on
        1..50 | Send-Message -Topic orders @on
        $processed = [System.Collections.Generic.List[object]]::new()
        {
            Receive-Message -Topic orders -Group billing -FromBeginning -NoAutoCommit @on |
                ForEach-Object { if ($_.Value -eq '20') { throw 'crash while processing 20' }; $processed.Add($_); $_ } |
                Submit-ConsumerOffset
        } | Should -Throw '*crash while processing 20*'
        $processed.Count | Should -Be 19
        (Get-ConsumerGroupOffset -Group billing @on).CurrentOffset | Should -Be 19
        $next = Receive-Message -Topic orders -Group billing @on
        $next.Value | Should -Be (20..50 | ForEach-Object { "$_" })
    }

    It 'refuses to reset or remove a group with active members, then removes it' {
        $job = Receive-Message -Topic lagging -Group busy -Follow -AsJob @on
        try {
            Wait-Stable -Group busy -Members 1
            $g = Get-ConsumerGroup -Name busy @on
            $g.Assignor | Should -Be 'range'
            $g.Members[0].Partitions | Should -Be @('lagging-0', 'lagging-1')
            $g.Members[0].ClientId | Should -Be 'pskafka-consumer'
            { Reset-ConsumerGroupOffset -Group busy -Topic lagging -ToEarliest @on } | Should -Throw -ErrorId 'ConsumerGroupNotEmpty,*'
            { Remove-ConsumerGroup -Name busy -ErrorAction Stop @on } | Should -Throw -ErrorId 'ConsumerGroupNotEmpty,*'
        } finally {
            $job | Stop-Job
            $job | Remove-Job
        }
        (Get-ConsumerGroup -Name busy @on).State | Should -Be 'Empty'
        Remove-ConsumerGroup -Name busy @on
        { Get-ConsumerGroup -Name busy -ErrorAction Stop @on } | Should -Throw -ErrorId 'ConsumerGroupNotFound,*'
        { Remove-ConsumerGroup -Name busy -ErrorAction Stop @on } | Should -Throw -ErrorId 'ConsumerGroupNotFound,*'
    }

    It 'reads one partition for a group with -Partition' {
        # librdkafka's sticky partitioner puts a quick burst of keyless messages on few partitions: take one that has some.
        $one = (Get-Topic -Name retail_multi @on).Partitions | Where-Object { $_.LogEndOffset -gt 0 } | Select-Object -First 1
        $p1 = Receive-Message -Topic retail_multi -Group manual -Partition $one.Partition -FromBeginning @on
        $p1.Count | Should -Be $one.LogEndOffset
        ($p1.Partition | Sort-Object -Unique) | Should -Be $one.Partition
        $o = Get-ConsumerGroupOffset -Group manual @on
        $o.Partition | Should -Be $one.Partition
        $o.CurrentOffset | Should -Be $p1.Count
    }

    It 'completes topic and group names from the cluster -BootstrapServer names, not the session''s' {
        $line = "Get-Topic -BootstrapServer '$($child.BootstrapServers)' -Name retail_m"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be 'retail_multi'
        $line = "Get-ConsumerGroup -BootstrapServer '$($child.BootstrapServers)' -Name spl"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain 'split'
        # This process has no such topic: without -BootstrapServer nothing completes.
        $line = 'Get-Topic -Name retail_m'
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Not -Contain 'retail_multi'
    }

    It 'rejects bad group input with the same ErrorIds as in-process' {
        { Receive-Message -Topic lagging -Group lg -ConsumerConfig @{ 'auto.offset.reset' = 'sometimes' } @on } | Should -Throw -ErrorId 'InvalidConfig,*'
        { Receive-Message -Topic no_such_topic -Group lg @on } | Should -Throw -ErrorId 'TopicNotFound,*'
        { Reset-ConsumerGroupOffset -Group nobody-yet -Topic lagging -ShiftBy 1 @on } | Should -Throw -ErrorId 'NoCommittedOffset,*'
    }

    It 'reads topic configs and elects preferred leaders remotely' {
        $c = Get-TopicConfig -Topic lagging -Name retention.ms @on
        $c.Value | Should -Be '604800000'
        $c.Source | Should -Be 'DEFAULT_CONFIG'
        $elected = Invoke-LeaderElection -Topic lagging @on
        $elected.Count | Should -Be 2
        $elected.Result | Sort-Object -Unique | Should -Be 'AlreadyPreferred'
    }

    It 'changes topic configs remotely' {
        Set-TopicConfig -Topic lagging -Config @{ 'retention.ms' = 60000 } -ErrorAction Stop @on
        $c = Get-TopicConfig -Topic lagging -Name retention.ms @on
        $c.Value | Should -Be '60000'
        $c.Source | Should -Be 'DYNAMIC_TOPIC_CONFIG'
        Set-TopicConfig -Topic lagging -Remove retention.ms @on
        (Get-TopicConfig -Topic lagging -Name retention.ms @on).Source | Should -Be 'DEFAULT_CONFIG'
    }
}

Describe 'Consumer groups on librdkafka''s mock cluster' {
    BeforeAll {
        $script:mock = [PSKafka.Client.LibrdkafkaMockCluster]::new(3)
        $script:on = @{ BootstrapServer = $mock.BootstrapServers }
    }
    AfterAll { $mock.Dispose() }

    It 'a group reads everything once, and a restarted member resumes after its commits' {
        # The mock lets a new member in only session.timeout.ms - 1 s after the last one left: keep it short.
        $short = @{ 'session.timeout.ms' = 6000; 'heartbeat.interval.ms' = 1000 }
        1..300 | Send-Message -Topic mock-grouped @on
        (Receive-Message -Topic mock-grouped -Group mg -FromBeginning -ConsumerConfig $short @on).Count | Should -Be 300
        301..320 | Send-Message -Topic mock-grouped @on
        $rest = Receive-Message -Topic mock-grouped -Group mg -ConsumerConfig $short @on
        ($rest.Value | Sort-Object { [int] $_ }) | Should -Be (301..320 | ForEach-Object { "$_" })
    }
}

Describe 'Cmdlets that need the local brokers, while connected remotely' {
    BeforeAll {
        $script:mock = [PSKafka.Client.LibrdkafkaMockCluster]::new(1)
        $null = Connect-Cluster -BootstrapServer $mock.BootstrapServers
    }
    AfterAll {
        Disconnect-Cluster
        $mock.Dispose()
    }

    It 'refuse with NotSupportedRemotely: <_>' -ForEach @(
        { Get-LogSegment -Topic t -Partition 0 -ErrorAction Stop }
        { Invoke-LogRetention -ErrorAction Stop }
    ) {
        $_ | Should -Throw -ErrorId 'NotSupportedRemotely,*'
    }
}

Describe 'The remote check (tools/Test-RemoteCluster.ps1)' {
    It 'a process with no broker of its own drives a PSKafka cluster in a second process, and librdkafka''s mock, with the same cmdlets' {
        # Three processes: this one (Pester), the check (no broker of its own), the PSKafka cluster it starts.
        $manifest = (Get-Module PSKafka).Path -replace 'PSKafka\.dll$', 'PSKafka.psd1'
        $script = Join-Path $PSScriptRoot '../../tools/Test-RemoteCluster.ps1'
        $pwsh = Get-PwshCommand
        $json = & $pwsh[0] $pwsh[1] -NoProfile -NonInteractive -Command "& '$script' -ModulePath '$manifest' -PassThru | ConvertTo-Json -Compress"
        $LASTEXITCODE | Should -Be 0
        $steps = $json | ConvertFrom-Json
        $steps.Count | Should -Be 16
        foreach ($s in $steps) { $s.Passed | Should -BeTrue -Because "$($s.Target): $($s.Step) expected $($s.Expected), got $($s.Actual)" }
        ($steps | Where-Object Step -like 'Receive-Message -Group*').Actual | Should -Be @(10000, 10000, 10000, 0)
    }
}
