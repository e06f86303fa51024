# The brokers' log files (server.log, controller.log, state-change.log) as `view server.log` and `tail -f` show them.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-PSKafkaForTest
    $script:data = Start-TestCluster -Brokers 3
    $script:logs = Join-Path $data 'logs'
    $null = New-Topic retail -Partitions 2 -ReplicationFactor 3
    1..20 | Send-Message -Topic retail
}

AfterAll { Stop-TestCluster }

Describe 'Get-BrokerLog' {
    It 'reads the files Kafka writes, in its log4j layout' {
        'server.log', 'controller.log', 'state-change.log' | ForEach-Object { Join-Path $logs $_ | Should -Exist }
        $first = Get-Content (Join-Path $logs 'server.log') -TotalCount 1
        $first | Should -Match '^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] INFO \[KafkaServer id=0\] starting \(kafka\.server\.KafkaServer\)$'
        $entry = Get-BrokerLog | Select-Object -First 1
        $entry.Level | Should -Be 'Info'
        $entry.Logger | Should -Be 'kafka.server.KafkaServer'
        $entry.BrokerId | Should -Be 0
        $entry.ToString() | Should -Be $first
    }

    It 'shows the last entries with -Tail, the newest last' {
        $all = @(Get-BrokerLog)
        $tail = @(Get-BrokerLog -Tail 5)
        $tail.Count | Should -Be 5
        $tail[-1].ToString() | Should -Be $all[-1].ToString()
        $tail[0].Time | Should -BeLessOrEqual $tail[-1].Time
        (Get-BrokerLog -Tail 1 | Out-String -Width 80).Trim() | Should -Match '^\[\d\d:\d\d:\d\d,\d{3}\] (INFO|WARN|ERROR|DEBUG) '
    }

    It 'shows what a killed follower does to the ISR, in server.log, state-change.log and controller.log' {
        $partition = (Get-Topic retail).Partitions[0]
        $victim = $partition.Replicas | Where-Object { $_ -ne $partition.Leader } | Select-Object -Last 1
        Stop-Broker -Id $victim -Kill
        Start-Broker -Id $victim | Out-Null
        Wait-Until { Get-BrokerLog | Where-Object Message -Match "^\[Partition retail-0 broker=$($partition.Leader)\] Expanding ISR" } -What 'the ISR to expand again'
        $shrink = Get-BrokerLog | Where-Object Message -Match 'Shrinking ISR' | Where-Object Message -Match 'retail-0'
        $shrink.Logger | Should -Be 'kafka.cluster.Partition'
        $shrink.BrokerId | Should -Be $partition.Leader
        $shrink.Message | Should -Match "Shrinking ISR from .* Out of sync replicas: \(brokerId: $victim, endOffset: \d+, lastCaughtUpTimeMs: \d+\)\. \(reason: broker $victim failed\)$"
        Get-BrokerLog state-change | Where-Object Message -Match "Changed partition retail-0 .*broker $victim failed" | Should -Not -BeNullOrEmpty
        Get-BrokerLog -Name state-change -BrokerId $victim | Where-Object Message -Match "^\[Broker id=$victim\] Follower retail-0 starts at leader epoch" | Should -Not -BeNullOrEmpty
        Get-BrokerLog controller | Where-Object Message -Match "Broker failure callback for $victim$" | Should -Not -BeNullOrEmpty
    }

    It 'keeps the entries of the given brokers with -BrokerId' {
        $one = @(Get-BrokerLog -BrokerId 1)
        $one.Count | Should -BeGreaterThan 0
        $one | ForEach-Object { $_.BrokerId | Should -Be 1 }
    }

    It 'keeps the entries at or above a level with -Level: a hostile frame is a WARN naming the peer' {
        $client = [Net.Sockets.TcpClient]::new('127.0.0.1', [int]((Get-Broker -Id 0).Address -split ':')[-1])
        try {
            $bytes = [Text.Encoding]::ASCII.GetBytes("GET / HTTP/1.1`r`n`r`n")
            $client.GetStream().Write($bytes, 0, $bytes.Length)
            Wait-Until { Get-BrokerLog -Level Warn | Where-Object Message -Match 'Invalid receive' } -What 'the WARN line'
        } finally { $client.Dispose() }
        $warn = @(Get-BrokerLog -Level Warn)
        $warn | ForEach-Object { $_.Level | Should -BeIn 'Warn', 'Error', 'Fatal' }
        $warn[-1].Message | Should -Match 'Closing connection from 127\.0\.0\.1:\d+: Invalid receive \(size = 1195725856 larger than 104857600'
        $warn[-1].BrokerId | Should -Be 0
    }

    It 'follows new entries until stopped' {
        $seen = [System.Collections.Concurrent.ConcurrentQueue[object]]::new()
        $ps = [PowerShell]::Create([System.Management.Automation.RunspaceMode]::NewRunspace)
        try {
            $module = (Get-Module PSKafka).Path -replace 'PSKafka.dll$', 'PSKafka.psd1'
            $null = $ps.AddScript('param($module, $seen) Import-Module $module; Get-BrokerLog -Follow -Tail 3 | ForEach-Object { $seen.Enqueue($_) }').AddArgument($module).AddArgument($seen)
            $null = $ps.BeginInvoke()
            Wait-Until { $seen.Count -ge 3 } -What 'the last 3 entries, before following'
            $null = New-Topic followed
            Wait-Until { $seen | Where-Object Message -Match 'Created log for partition followed-0' } -What 'the new line'
            Assert-StopsCleanly $ps
        } finally { $ps.Dispose() }
    }

    It 'reads the logs of a cluster another process runs, with -DataDirectory' {
        $entries = @(Get-BrokerLog -DataDirectory $data -Tail 3)
        $entries.Count | Should -Be 3
        $entries[-1].ToString() | Should -Be (Get-BrokerLog -Tail 1).ToString()
    }

    It 'says BrokerLogNotFound when the file is not there' {
        { Get-BrokerLog -Name controller -ErrorAction Stop } | Should -Not -Throw
        Remove-Item (Join-Path $logs 'controller*.log')
        { Get-BrokerLog -Name controller -ErrorAction Stop } | Should -Throw -ErrorId 'BrokerLogNotFound,PSKafka.Cmdlets.Commands.GetBrokerLogCommand'
    }
}

Describe 'Set-BrokerLogLevel' {
    AfterAll { Set-BrokerLogLevel kafka.cluster, root -Default }

    It 'changes a package level while the brokers run, and the loggers under it follow' {
        Get-BrokerLogLevel kafka.cluster.Partition | ForEach-Object { $_.Level | Should -Be 'Info'; $_.IsSet | Should -BeFalse }
        $set = Set-BrokerLogLevel kafka.cluster -Level Debug -PassThru
        $set.Level | Should -Be 'Debug'
        (Get-BrokerLogLevel kafka.cluster.Partition).Level | Should -Be 'Debug'
        (Get-BrokerLogLevel kafka.server.KafkaServer).Level | Should -Be 'Info'
        Set-BrokerLogLevel kafka.cluster -Default
        (Get-BrokerLogLevel kafka.cluster.Partition).Level | Should -Be 'Info'
    }

    It 'quietens every logger from the root' {
        Set-BrokerLogLevel -Level Warn
        $before = @(Get-BrokerLog).Count
        $null = New-Topic quiet
        @(Get-BrokerLog).Count | Should -Be $before
        Set-BrokerLogLevel root -Default
    }

    It 'refuses a logger Kafka does not have' {
        { Set-BrokerLogLevel no.such.logger -Level Debug -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidConfig,PSKafka.Cmdlets.Commands.SetBrokerLogLevelCommand'
    }
}
