# Looking inside the log (segments, kafka-dump-log), configs like kafka-configs.sh, retention and compaction.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-PSKafkaForTest
}

Describe 'Segments and dumps' {
    BeforeAll {
        $script:data = Start-TestCluster
        $null = New-Topic retail -Partitions 1 -Config @{ 'segment.bytes' = 1500; 'index.interval.bytes' = 200 }
        # Each Send-Message one batch of 5: a linger longer than the pipeline, so its end sends them (a loaded machine
        # could otherwise split them at the default 5 ms).
        1..20 | ForEach-Object { 1..5 | ForEach-Object { [pscustomobject]@{ Key = "ip-$_"; Value = "GET /department/$_" } } | Send-Message -Topic retail -KeyProperty Key -Linger 600000 }
    }
    AfterAll { Stop-TestCluster }

    It 'lists the segments of a partition with their files and counts' {
        $segments = Get-LogSegment retail
        $segments.Count | Should -BeGreaterThan 1
        ($segments | Measure-Object RecordCount -Sum).Sum | Should -Be 100
        $segments[0].BaseOffset | Should -Be 0
        $segments[0].FirstOffset | Should -Be 0
        $segments[-1].LastOffset | Should -Be 99
        @($segments | Where-Object IsActive).Count | Should -Be 1
        $segments[-1].IsActive | Should -BeTrue
        $segments[0].Path | Should -BeLike '*retail-0*00000000000000000000.log'
        $segments[0].Size | Should -Be (Get-Item $segments[0].Path).Length
        Test-Path $segments[0].IndexPath | Should -BeTrue
    }

    It 'dumps every batch with a valid CRC, as kafka-dump-log does' {
        $batches = Get-LogSegment retail | Read-LogSegment
        ($batches | Measure-Object Count -Sum).Sum | Should -Be 100
        $batches | ForEach-Object { $_.IsValid | Should -BeTrue; $_.Magic | Should -Be 2; $_.CompressCodec | Should -Be 'none' }
        $batches[0].BaseOffset | Should -Be 0
        $batches[0].Position | Should -Be 0
        $batches[0].ToString() | Should -Match '^baseOffset: 0 lastOffset: 4 count: 5 .* isvalid: true$'
    }

    It 'dumps records with keys and payloads' {
        $records = Read-LogSegment -Topic retail -Partition 0 -BaseOffset 0 -Records
        $records[0].Offset | Should -Be 0
        $records[0].Key | Should -Be 'ip-1'
        $records[0].Value | Should -Match 'GET /department/1'
        $records[0].ValueSize | Should -Be ([Text.Encoding]::UTF8.GetByteCount($records[0].Value))
        $records[0].ToString() | Should -Match '^\| offset: 0 CreateTime: \d+ keySize: 4 valueSize: \d+ sequence: 0 headerKeys: \[\] key: ip-1 payload: \{.*GET /department/1.*\}$'
        ($records | Format-Table | Out-String) | Should -Match 'baseOffset: 0 lastOffset: 4'
    }

    It 'dumps the offset and time indexes' {
        $first = Get-LogSegment retail | Select-Object -First 1
        $entries = $first | Read-LogSegment -Index
        $entries.Count | Should -BeGreaterThan 0
        $positions = (Read-LogSegment -Path $first.Path).Position
        $entries | ForEach-Object { $positions | Should -Contain $_.Position }
        $time = Read-LogSegment -Path $first.TimeIndexPath
        $time.Count | Should -BeGreaterThan 0
        $time[0].Offset | Should -BeGreaterOrEqual 0
    }

    It 'reads a copied file, and shows a corrupted batch as not valid instead of failing' {
        $first = Get-LogSegment retail | Select-Object -First 1
        $copy = Join-Path $TestDrive '00000000000000000000.log'
        Copy-Item $first.Path $copy
        $bytes = [IO.File]::ReadAllBytes($copy)
        $bytes[70] = $bytes[70] -bxor 0xFF
        [IO.File]::WriteAllBytes($copy, $bytes)
        $batches = Read-LogSegment -Path $copy
        $batches[0].IsValid | Should -BeFalse
        @($batches | Where-Object IsValid).Count | Should -Be ($batches.Count - 1)
    }

    It 'gives stable ErrorIds for what is not there' {
        { Read-LogSegment -Path (Join-Path $TestDrive 'nothing.log') -ErrorAction Stop } | Should -Throw -ErrorId 'LogFileNotFound,*'
        $other = Join-Path $TestDrive 'notes.txt'
        Set-Content $other 'x'
        { Read-LogSegment -Path $other -ErrorAction Stop } | Should -Throw -ErrorId 'UnsupportedLogFile,*'
        { Get-LogSegment no-such-topic -ErrorAction Stop } | Should -Throw -ErrorId 'TopicNotFound,*'
        { Get-LogSegment retail -BrokerId 7 -ErrorAction Stop } | Should -Throw -ErrorId 'BrokerNotFound,*'
    }
}

Describe 'Configs like kafka-configs.sh' {
    BeforeAll { $script:data = Start-TestCluster -Name configs }
    AfterAll {
        Set-BrokerConfig log.retention.hours -Reset -ErrorAction SilentlyContinue
        Stop-TestCluster
    }

    It 'shows every topic config with its value and source' {
        $null = New-Topic cfg -Config @{ 'retention.ms' = 60000 }
        $configs = Get-TopicConfig cfg
        ($configs | Where-Object Name -EQ 'retention.ms').Source | Should -Be 'DYNAMIC_TOPIC_CONFIG'
        ($configs | Where-Object Name -EQ 'retention.ms').Value | Should -Be '60000'
        ($configs | Where-Object Name -EQ 'segment.bytes').Source | Should -Be 'DEFAULT_CONFIG'
        ($configs | Where-Object Name -EQ 'segment.bytes').Value | Should -Be '1073741824'
        $configs.Name | Should -Contain 'min.cleanable.dirty.ratio'
        (Get-TopicConfig cfg -Name 'delete.*').Name | Should -Be 'delete.retention.ms'
        (Get-Topic cfg | Get-TopicConfig -Name retention.ms).Value | Should -Be '60000'
    }

    It 'sets and removes topic configs, validated with Kafka''s rules' {
        Set-TopicConfig cfg -Config @{ 'cleanup.policy' = 'compact', 'delete'; 'segment.bytes' = 4096 }
        (Get-TopicConfig cfg cleanup.policy).Value | Should -Be 'compact,delete'
        (Get-TopicConfig cfg segment.bytes).Value | Should -Be '4096'
        Set-TopicConfig cfg -Remove segment.bytes
        (Get-TopicConfig cfg segment.bytes).Source | Should -Be 'DEFAULT_CONFIG'
        Set-TopicConfig cfg -Config @{ 'retention.ms' = 1 } -WhatIf
        (Get-TopicConfig cfg retention.ms).Value | Should -Be '60000'
        { Set-TopicConfig cfg -Config @{ 'retention.ms' = 'soon' } -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidConfig,*'
        { Set-TopicConfig cfg -Config @{ 'min.cleanable.dirty.ratio' = 2 } -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidConfig,*'
        { Set-TopicConfig cfg -Config @{ 'no.such.config' = 1 } -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidConfig,*'
        { Set-TopicConfig cfg -Remove 'no.such.config' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidConfig,*'
        { Set-TopicConfig nope -Config @{ 'retention.ms' = 1 } -ErrorAction Stop } | Should -Throw -ErrorId 'TopicNotFound,*'
    }

    It 'shows broker settings with Kafka''s names, defaults and sources, and changes them cluster-wide' {
        $all = Get-BrokerConfig
        ($all | Where-Object Name -EQ 'log.dirs').Value | Should -Be (Get-Broker -Id 0).LogDirectory
        ($all | Where-Object Name -EQ 'log.dirs').Source | Should -Be 'STATIC_BROKER_CONFIG'
        (Get-BrokerConfig num.partitions).Value | Should -Be '1'
        (Get-BrokerConfig log.retention.hours).Source | Should -Be 'DEFAULT_CONFIG'
        (Get-BrokerConfig log.retention.check.interval.ms).Value | Should -Be '300000'

        Set-BrokerConfig log.retention.hours 2 -WhatIf
        (Get-BrokerConfig log.retention.hours).Value | Should -Be '168'
        Set-BrokerConfig log.retention.hours 2
        (Get-BrokerConfig log.retention.hours).Source | Should -Be 'DYNAMIC_DEFAULT_BROKER_CONFIG'
        $null = New-Topic inherits
        $retention = Get-TopicConfig inherits retention.ms
        $retention.Value | Should -Be '7200000'
        $retention.Source | Should -Be 'DYNAMIC_DEFAULT_BROKER_CONFIG'
        Set-BrokerConfig log.retention.hours -Reset
        (Get-TopicConfig inherits retention.ms).Source | Should -Be 'DEFAULT_CONFIG'

        { Set-BrokerConfig log.dirs /elsewhere -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidConfig,*'
        { Set-BrokerConfig num.partitions zero -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidConfig,*'
        { Get-BrokerConfig no.such.setting -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidConfig,*'
    }

    It 'creates a topic on first send while auto.create.topics.enable is true, and refuses when it is false' {
        'hello' | Send-Message -Topic made-on-send
        (Get-Topic made-on-send).PartitionCount | Should -Be 1
        Set-BrokerConfig auto.create.topics.enable false
        try {
            { 'hello' | Send-Message -Topic not-made -ErrorAction Stop } | Should -Throw -ErrorId 'TopicNotFound,*'
            Get-Topic not-made -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        } finally { Set-BrokerConfig auto.create.topics.enable -Reset }
    }
}

Describe 'Retention and compaction' {
    BeforeAll { $script:data = Start-TestCluster -Name retention }
    AfterAll { Stop-TestCluster }

    It 'deletes only whole old segments and moves the log start offset' {
        $null = New-Topic shrinking -Partitions 1 -Config @{ 'segment.bytes' = 400; 'file.delete.delay.ms' = 0 }
        $old = [DateTimeOffset]::UtcNow.AddDays(-2)
        1..40 | ForEach-Object { "old event $_" } | Send-Message -Topic shrinking -Timestamp $old -BatchSize 150
        1..5 | ForEach-Object { "new event $_" } | Send-Message -Topic shrinking -BatchSize 150
        $before = Get-LogSegment shrinking
        $oldSegments = @($before | Where-Object { $_.MaxTimestamp -lt [DateTimeOffset]::UtcNow.AddDays(-1).ToUnixTimeMilliseconds() })
        $oldSegments.Count | Should -BeGreaterThan 1

        Invoke-LogRetention shrinking | Where-Object SegmentsDeleted | Should -BeNullOrEmpty   # 7 days: nothing is old enough
        Set-TopicConfig shrinking -Config @{ 'retention.ms' = 86400000 }
        $result = Invoke-LogRetention shrinking
        $result.SegmentsDeleted | Should -Be $oldSegments.Count
        $result.LogStartOffset | Should -Be ($before[$oldSegments.Count].BaseOffset)
        (Get-Topic shrinking).Partitions[0].LogStartOffset | Should -Be $result.LogStartOffset
        (Get-LogSegment shrinking)[0].BaseOffset | Should -Be $result.LogStartOffset
        Test-Path $before[0].Path | Should -BeFalse

        $read = Receive-Message -Topic shrinking -FromBeginning -Timeout 2 -AsObject
        $read[0].Offset | Should -Be $result.LogStartOffset
        $read[-1].Value | Should -Be 'new event 5'
    }

    It 'keeps only the newest value per key after the cleaner runs, with offsets unchanged' {
        $null = New-Topic prices -Partitions 1 -Config @{ 'cleanup.policy' = 'compact'; 'segment.bytes' = 600 }
        foreach ($round in 1..6) {
            'apple', 'pear', 'plum' | ForEach-Object { [pscustomobject]@{ Key = $_; Price = $round } } | Send-Message -Topic prices -KeyProperty Key
        }
        Send-Message -Topic prices -Key pear -Value $null   # a tombstone
        $before = Receive-Message -Topic prices -FromBeginning -Timeout 2 -AsObject
        $active = (Get-LogSegment prices | Where-Object IsActive).BaseOffset
        $activeBytes = [IO.File]::ReadAllBytes((Get-LogSegment prices | Where-Object IsActive).Path)

        $cleaned = Invoke-LogCleaner prices
        $cleaned.Cleaned | Should -BeTrue
        $cleaned.RecordsRemoved | Should -BeGreaterThan 0

        $after = Receive-Message -Topic prices -FromBeginning -Timeout 2 -AsObject
        $expected = $before | Where-Object Offset -LT $active | Group-Object Key | ForEach-Object { $_.Group | Sort-Object Offset | Select-Object -Last 1 } | Sort-Object Offset
        @($after | Where-Object Offset -LT $active | ForEach-Object { "$($_.Offset) $($_.Key)" }) | Should -Be @($expected | ForEach-Object { "$($_.Offset) $($_.Key)" })
        @($after | Where-Object Offset -GE $active).Count | Should -Be @($before | Where-Object Offset -GE $active).Count
        [IO.File]::ReadAllBytes((Get-LogSegment prices | Where-Object IsActive).Path) | Should -Be $activeBytes
        Get-LogSegment prices | Read-LogSegment | ForEach-Object { $_.IsValid | Should -BeTrue }
    }
}
