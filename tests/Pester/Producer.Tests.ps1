# Send-Message times batches as Kafka's producer does (batch.size, linger.ms): a message goes out while the
# pipeline that feeds it is still running, not when the pipeline ends.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-PSKafkaForTest
}

Describe 'Send-Message from a live pipeline' {
    BeforeAll {
        $script:data = Start-TestCluster -Name live
        $script:bootstrap = (Get-Broker | ForEach-Object Address) -join ','
    }
    AfterAll { Stop-TestCluster }

    It 'a consumer in another process (kcat) sees each message while the pipeline still runs' {
        Assert-TestTool kcat
        $null = New-Topic -Name live -Partitions 1
        $out = Join-Path $TestDrive 'kcat-live.txt'
        $kcat = Start-Process kcat -ArgumentList @('-b', $bootstrap, '-C', '-t', 'live', '-o', 'beginning', '-u', '-f', '%s\n') `
            -RedirectStandardOutput $out -RedirectStandardError (Join-Path $TestDrive 'kcat-live.err') -PassThru
        try {
            # Before yielding a value, the upstream waits until kcat has printed the one before it: that only
            # happens if Send-Message sent it without the pipeline having ended.
            1..4 | ForEach-Object {
                Start-Sleep -Milliseconds 500
                $previous = "live-$($_ - 1)"
                if ($_ -gt 1) {
                    Wait-Until { @(Get-Content $out -ErrorAction SilentlyContinue) -contains $previous }.GetNewClosure() `
                        -What "kcat to print $previous while the pipeline runs"
                }
                "live-$_"
            } | Send-Message -Topic live
            Wait-Until { @(Get-Content $out) -contains 'live-4' } -What 'kcat to print live-4'
            Get-Content $out | Should -Be @('live-1', 'live-2', 'live-3', 'live-4')
        } finally {
            Stop-Process -Id $kcat.Id -ErrorAction SilentlyContinue
        }
    }

    It 'Receive-Message in the same session sees a message sent by a pipeline that has not ended' {
        $null = New-Topic -Name live2 -Partitions 3
        1..3 | ForEach-Object {
            $before = $_ - 1
            if ($before -gt 0) {
                Wait-Until { ((Get-Topic -Name live2).Partitions | Measure-Object LogEndOffset -Sum).Sum -eq $before }.GetNewClosure() `
                    -What "message $before in the log while the pipeline runs"
            }
            "m$_"
        } | Send-Message -Topic live2 -PassThru | Should -HaveCount 3
        (Receive-Message -Topic live2 -FromBeginning).Value | Sort-Object | Should -Be @('m1', 'm2', 'm3')
    }

    It '-BatchSize is in bytes and -Linger in milliseconds' {
        (Get-Command Send-Message).Parameters['BatchSize'].ParameterType | Should -Be ([int])
        (Get-Command Send-Message).Parameters['Linger'].ParameterType | Should -Be ([int])
        1..100 | ForEach-Object { 'x' * 100 } | Send-Message -Topic sized -BatchSize 0 -Linger 0
        # batch.size 0: every message in a batch of its own.
        @(Read-LogSegment -Topic sized -Partition 0).Count | Should -Be 100
    }
}
