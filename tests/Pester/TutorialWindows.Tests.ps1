# The tutorial across windows: the Kafka tutorial (docs/tutorial.md follows it) runs kafka-console-producer.sh in one terminal and
# kafka-console-consumer.sh "from other window". Here the first window is a PSKafka session in its own
# process hosting 3 brokers (Start-ClusterProcess -Interactive: the test types commands into it), and the
# second window is kcat, the console producer and consumer of the librdkafka world, reaching it only
# through the brokers' Kafka listeners.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-PSKafkaForTest

    # A kafka-console-consumer.sh --group left running in the second window: kcat -G, lines into a file.
    function script:Start-GroupConsumer([string] $Group, [string] $Topic) {
        $out = Join-Path $TestDrive "$Group-$([guid]::NewGuid().ToString('N')).txt"
        $p = Start-Process kcat -ArgumentList @('-b', $bootstrap, '-u', '-G', $Group, '-X', 'auto.offset.reset=earliest', '-f', '%p:%s\n', $Topic) `
            -RedirectStandardOutput $out -RedirectStandardError "$out.err" -PassThru
        [pscustomobject]@{ Process = $p; Output = $out }
    }

    function script:Get-Consumed($Consumer) { @(Get-Content $Consumer.Output -ErrorAction SilentlyContinue) }
}

Describe 'The tutorial with PSKafka in one window and kcat in another' {
    BeforeAll {
        Assert-TestTool kcat
        $script:window1 = Start-ClusterProcess -Brokers 3 -DataDirectory (Join-Path $TestDrive 'window1') -Interactive
        $script:bootstrap = $window1.BootstrapServers
        $script:consumers = [Collections.Generic.List[object]]::new()
    }
    AfterAll {
        foreach ($c in $consumers) { if (-not $c.Process.HasExited) { $c.Process.Kill() } }
        if ($window1) { Stop-ClusterProcess $window1 }
    }

    It 'kafka-console-producer.sh from the other window: kcat -P lines, read by kcat -C and by Receive-Message in the first' {
        Invoke-ClusterProcess $window1 'New-Topic -Name test -Partitions 1 -ReplicationFactor 2 | Out-Null'
        "hello`nfrom the other window`n" | kcat -b $bootstrap -P -t test 2>&1 | Out-Null
        $LASTEXITCODE | Should -Be 0
        kcat -b $bootstrap -C -t test -o beginning -e -q 2>$null | Should -Be @('hello', 'from the other window')
        Invoke-ClusterProcess $window1 'Receive-Message -Topic test -FromBeginning | ForEach-Object Value' | Should -Be @('hello', 'from the other window')
    }

    It 'tail_logs.sh | producer in the first window, kafka-console-consumer.sh --group in the other' {
        Invoke-ClusterProcess $window1 @'
New-Topic -Name retail -Partitions 3 | Out-Null
1..120 | ForEach-Object { "GET /department/$($_ % 7)/products HTTP/1.1 $_" } | Send-Message -Topic retail
'@
        $lines = kcat -b $bootstrap -G retail-readers -X auto.offset.reset=earliest -e -q retail 2>$null
        $lines.Count | Should -Be 120
        ($lines | Sort-Object -Unique).Count | Should -Be 120
        # kafka-consumer-groups.sh --describe in the first window: the kcat group committed everything.
        $offsets = Invoke-ClusterProcess $window1 'Get-ConsumerGroupOffset -Group retail-readers | ForEach-Object { "$($_.Partition) $($_.CurrentOffset) $($_.Lag)" }'
        $offsets.Count | Should -Be 3
        foreach ($o in $offsets) { ($o -split ' ')[2] | Should -Be '0' }
        ($offsets | ForEach-Object { [int](($_ -split ' ')[1]) } | Measure-Object -Sum).Sum | Should -Be 120
    }

    It 'single-partition topic: two consumers in group 1 - only one receives; a consumer in group 2 gets everything' {
        Invoke-ClusterProcess $window1 'New-Topic -Name retail_single -Partitions 1 -ReplicationFactor 2 | Out-Null'
        $a = Start-GroupConsumer -Group 1 -Topic retail_single; $consumers.Add($a)
        $b = Start-GroupConsumer -Group 1 -Topic retail_single; $consumers.Add($b)
        Wait-Until { (Invoke-ClusterProcess $window1 '$g = Get-ConsumerGroup -Name 1 -ErrorAction SilentlyContinue; "$($g.State) $($g.Members.Count)"') -eq 'Stable 2' } -What 'group 1 with both consumers'

        Invoke-ClusterProcess $window1 '1..40 | ForEach-Object { "order $_" } | Send-Message -Topic retail_single'
        Wait-Until { (Get-Consumed $a).Count + (Get-Consumed $b).Count -ge 40 } -What '40 lines in group 1'
        $counts = @((Get-Consumed $a).Count, (Get-Consumed $b).Count) | Sort-Object
        $counts | Should -Be @(0, 40) -Because 'at any given point in time only one consumer of a group reads a partition'

        $group2 = kcat -b $bootstrap -G 2 -X auto.offset.reset=earliest -e -q retail_single 2>$null
        $group2 | Should -Be (1..40 | ForEach-Object { "order $_" })
    }

    It 'multi-partition topic: consumers in group cga split the partitions, and Receive-Message -Group joins them' {
        Invoke-ClusterProcess $window1 'New-Topic -Name retail_multi -Partitions 4 -ReplicationFactor 2 | Out-Null'
        $a = Start-GroupConsumer -Group cga -Topic retail_multi; $consumers.Add($a)
        $b = Start-GroupConsumer -Group cga -Topic retail_multi; $consumers.Add($b)
        Wait-Until { (Invoke-ClusterProcess $window1 '$g = Get-ConsumerGroup -Name cga -ErrorAction SilentlyContinue; "$($g.State) $($g.Members.Count)"') -eq 'Stable 2' } -What 'group cga with both consumers'

        Invoke-ClusterProcess $window1 '0..3 | ForEach-Object { $p = $_; 1..25 | ForEach-Object { "p$p line $_" } | Send-Message -Topic retail_multi -Partition $p }'
        Wait-Until { (Get-Consumed $a).Count + (Get-Consumed $b).Count -ge 100 } -What '100 lines in group cga'
        $pa = @(Get-Consumed $a | ForEach-Object { ($_ -split ':')[0] } | Sort-Object -Unique)
        $pb = @(Get-Consumed $b | ForEach-Object { ($_ -split ':')[0] } | Sort-Object -Unique)
        $pa.Count | Should -Be 2
        $pb.Count | Should -Be 2
        $pa | Where-Object { $_ -in $pb } | Should -BeNullOrEmpty

        # A third member, in the first window: the group rebalances and the cmdlet gets a share of new lines.
        Invoke-ClusterProcess $window1 '$global:tutorialJob = Receive-Message -Topic retail_multi -Group cga -Follow -AsJob'
        Wait-Until { (Invoke-ClusterProcess $window1 '$g = Get-ConsumerGroup -Name cga; "$($g.State) $($g.Members.Count)"') -eq 'Stable 3' } -What 'group cga with three members'
        $before = (Get-Consumed $a).Count + (Get-Consumed $b).Count
        Invoke-ClusterProcess $window1 '0..3 | ForEach-Object { $p = $_; 1..25 | ForEach-Object { "p$p more $_" } | Send-Message -Topic retail_multi -Partition $p }'
        $script:fromCmdlet = @()
        Wait-Until {
            $script:fromCmdlet += @(Invoke-ClusterProcess $window1 '$global:tutorialJob | Receive-Job | ForEach-Object Value')
            $fromCmdlet.Count + (Get-Consumed $a).Count + (Get-Consumed $b).Count - $before -ge 100
        } -What '100 more lines over three members'
        $fromCmdlet.Count | Should -BeGreaterThan 0 -Because 'the cmdlet member owns at least one of the 4 partitions'
        $fromCmdlet | Should -BeLike 'p? more *'
        (Get-Consumed $a) + (Get-Consumed $b) | Where-Object { $_ -like '*more*' } | ForEach-Object { ($_ -split ':', 2)[1] } | Where-Object { $_ -in $fromCmdlet } |
            Should -BeNullOrEmpty -Because 'no line goes to two members of one group'
        Invoke-ClusterProcess $window1 '$global:tutorialJob | Stop-Job; $global:tutorialJob | Remove-Job -Force'
    }
}
