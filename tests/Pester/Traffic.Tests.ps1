#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Web-traffic generation (gen_logs): Start/Stop/Get-LogGenerator and Get-AccessLog against the built module.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module $env:PSKAFKA_MODULE -Force -ErrorAction Stop
    $script:CombinedLine = '^\d{1,3}(\.\d{1,3}){3} - - \[\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} -0800\] "GET /[a-z0-9/%._~-]* HTTP/1\.1" (200|404|503) \d+ "-" "[^"]+"$'

    # Runs "<command> | <record each output>" in a fresh runspace, for commands that block (-Follow).
    # Output goes to a file as it arrives: the downstream command is what Send-Message would be.
    function Start-BackgroundPipeline([string] $Command) {
        $outFile = Join-Path $TestDrive "output-$([guid]::NewGuid()).txt"
        $null = New-Item $outFile
        $ps = [powershell]::Create()
        $null = $ps.AddScript(@"
Import-Module '$env:PSKAFKA_MODULE'
$Command | ForEach-Object {
    `$text = if (`$_ -is [string]) { `$_ } else { `$_.GetType().FullName + '|' + `$_.Line }
    [IO.File]::AppendAllText('$outFile', "`$text``n")
}
"@)
        $handle = $ps.BeginInvoke()
        [pscustomobject]@{ PowerShell = $ps; OutFile = $outFile; Handle = $handle }
    }

    function Get-BackgroundOutput($Job) { @(Get-Content $Job.OutFile) }
}

AfterAll {
    Stop-LogGenerator -ErrorAction SilentlyContinue
    Remove-Module PSKafka -ErrorAction SilentlyContinue
}

Describe 'Start-LogGenerator' {
    AfterEach { Stop-LogGenerator }

    # The generator paces itself by its own clock: however late this test looks (a loaded machine), it has never
    # written more than Rate lines a second since it started, plus the first line at once.
    It 'writes Rate lines a second in combined log format' {
        $path = Join-Path $TestDrive 'rate.log'
        $since = [Diagnostics.Stopwatch]::StartNew()
        $generator = Start-LogGenerator -Path $path -Rate 200
        $generator | Should -BeOfType PSKafka.Cmdlets.LogGenerator
        $generator.State | Should -Be Running
        $generator.Rate | Should -Be 200
        Wait-Until { $generator.LinesWritten -ge 400 } -What '400 lines, 2 s at 200 a second'
        $lines = @(Get-Content $path)
        $lines.Count | Should -BeGreaterOrEqual 400
        $lines.Count | Should -BeLessOrEqual ([math]::Floor(200 * $since.Elapsed.TotalSeconds) + 1) -Because 'it is never ahead of its rate'
        $lines | ForEach-Object { $_ | Should -Match $CombinedLine }
        $generator.LinesWritten | Should -BeGreaterOrEqual $lines.Count
    }

    It 'keeps up with thousands of lines a second' {
        $path = Join-Path $TestDrive 'fast.log'
        $since = [Diagnostics.Stopwatch]::StartNew()
        $running = Start-LogGenerator -Path $path -Rate 20000
        Wait-Until { $running.LinesWritten -gt 10000 } -What '10,000 lines at 20,000 a second'
        $generator = Stop-LogGenerator -Path $path -PassThru
        $generator.LinesWritten | Should -BeGreaterThan 10000
        $generator.LinesWritten | Should -BeLessOrEqual ([math]::Floor(20000 * $since.Elapsed.TotalSeconds) + 1) -Because 'it is never ahead of its rate'
        @(Get-Content $path).Count | Should -Be $generator.LinesWritten
    }

    It 'returns to the prompt at once' {
        # One line every 1,000 s: it returns with its generator running, so it does not wait for it.
        $generator = Start-LogGenerator -Path (Join-Path $TestDrive 'prompt.log') -Rate 0.001
        $generator.State | Should -Be Running
    }

    It 'refuses a second generator on the same file' {
        $path = Join-Path $TestDrive 'twice.log'
        $null = Start-LogGenerator -Path $path
        { Start-LogGenerator -Path $path } | Should -Throw -ErrorId 'LogGeneratorAlreadyRunning,PSKafka.Cmdlets.StartLogGeneratorCommand'
        @(Get-LogGenerator).Count | Should -Be 1
    }

    It 'resolves a relative path against the current location' {
        Push-Location $TestDrive
        try {
            $generator = Start-LogGenerator -Path 'relative.log'
            $generator.Path | Should -Be (Join-Path $TestDrive 'relative.log')
        } finally { Pop-Location }
    }

    It 'writes to logs/access.log in the data directory by default' {
        $saved = $env:PSKAFKA_DATA
        $env:PSKAFKA_DATA = Join-Path $TestDrive 'data'
        try {
            $generator = Start-LogGenerator -Rate 50
            $generator.Path | Should -Be (Join-Path $TestDrive 'data/logs/access.log')
            Wait-Until { Test-Path $generator.Path } -What 'the default access log'
        } finally { $env:PSKAFKA_DATA = $saved }
    }
}

Describe 'Stop-LogGenerator and Get-LogGenerator' {
    It 'stops writing: the line count stops growing' {
        $path = Join-Path $TestDrive 'stop.log'
        $null = Start-LogGenerator -Path $path -Rate 500
        Start-Sleep -Milliseconds 500
        $stopped = Stop-LogGenerator -Path $path -PassThru
        $stopped.State | Should -Be Stopped
        $count = @(Get-Content $path).Count
        $count | Should -Be $stopped.LinesWritten
        Start-Sleep -Milliseconds 500
        @(Get-Content $path).Count | Should -Be $count
        Get-LogGenerator | Should -BeNullOrEmpty
    }

    It 'stops every generator when no path is given, and takes them from the pipeline' {
        $null = Start-LogGenerator -Path (Join-Path $TestDrive 'a.log')
        $null = Start-LogGenerator -Path (Join-Path $TestDrive 'b.log')
        @(Get-LogGenerator).Count | Should -Be 2
        @(Get-LogGenerator -Path (Join-Path $TestDrive 'a.log')).Count | Should -Be 1
        @(Get-LogGenerator -Path (Join-Path $TestDrive '*.log')).Count | Should -Be 2
        $stopped = Get-LogGenerator -Path (Join-Path $TestDrive 'a.log') | Stop-LogGenerator -PassThru
        $stopped.Path | Should -Be (Join-Path $TestDrive 'a.log')
        Stop-LogGenerator | Should -BeNullOrEmpty   # no -PassThru: no output
        Get-LogGenerator | Should -BeNullOrEmpty
    }

    It 'reports a path without a generator' {
        Stop-LogGenerator -Path (Join-Path $TestDrive 'none.log') -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'LogGeneratorNotFound,*'
        $err[0].CategoryInfo.Category | Should -Be ObjectNotFound
    }
}

Describe 'Get-AccessLog' {
    BeforeAll {
        $script:log = Join-Path $TestDrive 'read.log'
        $null = Start-LogGenerator -Path $log -Rate 5000 -Seed 1
        Start-Sleep -Milliseconds 300
        $null = Stop-LogGenerator -Path $log
        $script:all = @(Get-Content $log)
    }

    It 'reads the whole file' {
        $lines = @(Get-AccessLog -Path $log)
        $lines.Count | Should -Be $all.Count
        $lines[0] | Should -BeOfType string
    }

    It 'reads the last lines with -Tail' {
        Get-AccessLog -Path $log -Tail 5 | Should -Be $all[-5..-1]
        Get-AccessLog -Path $log -Tail 0 | Should -BeNullOrEmpty
    }

    It 'parses lines into AccessLogEntry objects with -AsObject' {
        $entries = @(Get-AccessLog -Path $log -AsObject)
        $entries.Count | Should -Be $all.Count
        $entries[0] | Should -BeOfType PSKafka.Cmdlets.AccessLogEntry
        # One pass over all entries: every field parsed and in range (per-entry Should is slow).
        $bad = $entries | Where-Object {
            $_.IPAddress -notmatch '^\d+\.\d+\.\d+\.\d+$' -or $_.Time.Offset -ne [timespan]::FromHours(-8) -or
            $_.Method -ne 'GET' -or $_.Status -notin 200, 404, 503 -or $_.Bytes -lt 192 -or $_.Bytes -gt 2239 -or
            -not $_.UserAgent
        }
        $bad | Should -BeNullOrEmpty
        $entries.Line | Should -Be $all
        ($entries | Where-Object Path -Match '^/(product|add_to_cart)/\d+$' | Select-Object -First 1).Product | Should -Match '^\d+$'
        ($entries | Where-Object Path -Like '/department/*' | Select-Object -First 1).Department | Should -Not -BeNullOrEmpty
    }

    It 'reports a malformed line as InvalidData and carries on' {
        $mixed = Join-Path $TestDrive 'mixed.log'
        Set-Content $mixed -Value $all[0], 'this is not a log line', $all[1]
        $entries = @(Get-AccessLog -Path $mixed -AsObject -ErrorVariable err -ErrorAction SilentlyContinue)
        $entries.Line | Should -Be $all[0], $all[1]
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidAccessLogLine,*'
        $err[0].CategoryInfo.Category | Should -Be InvalidData
        $err[0].TargetObject | Should -Be 'this is not a log line'
    }

    It 'reports a missing file' {
        Get-AccessLog -Path (Join-Path $TestDrive 'missing.log') -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'AccessLogNotFound,*'
    }

    It 'takes the file from Get-LogGenerator output' {
        $path = Join-Path $TestDrive 'piped.log'
        $null = Start-LogGenerator -Path $path -Rate 100
        try {
            Wait-Until { (Test-Path $path) -and (Get-Item $path).Length -gt 0 } -What 'a first line in the log'
            Get-LogGenerator -Path $path | Get-AccessLog -Tail 1 | Should -Match $CombinedLine
        } finally { Stop-LogGenerator -Path $path }
    }

    Context '-Follow' {
        It 'emits lines appended after it started, and stops promptly' {
            $path = Join-Path $TestDrive 'follow.log'
            Set-Content $path -Value 'old 1', 'old 2'
            $job = Start-BackgroundPipeline "Get-AccessLog -Path '$path' -Follow -Tail 1"
            try {
                Wait-Until { @(Get-BackgroundOutput $job).Count -ge 1 } -What 'the last old line'
                Add-Content $path -Value 'new 1'
                Add-Content $path -Value 'new 2', 'new 3'
                Wait-Until { @(Get-BackgroundOutput $job).Count -ge 4 } -What 'the three new lines'
                Get-BackgroundOutput $job | Should -Be 'old 2', 'new 1', 'new 2', 'new 3'
                $job.Handle.IsCompleted | Should -BeFalse
                # PowerShell.Stop() is what Ctrl+C does: StopProcessing must end the tail.
                Assert-StopsCleanly $job.PowerShell
                $job.Handle.IsCompleted | Should -BeTrue
            } finally { $job.PowerShell.Stop(); $job.PowerShell.Dispose() }
        }

        It 'follows a running generator as objects' {
            $path = Join-Path $TestDrive 'follow-generator.log'
            $null = Start-LogGenerator -Path $path -Rate 200
            $job = Start-BackgroundPipeline "Get-AccessLog -Path '$path' -Follow -Tail 0 -AsObject"
            try {
                Wait-Until { @(Get-BackgroundOutput $job).Count -ge 50 } -What '50 entries'
                @(Get-BackgroundOutput $job)[0] | Should -BeLike 'PSKafka.Cmdlets.AccessLogEntry|*'
                $job.PowerShell.Stop()
            } finally {
                $job.PowerShell.Stop()
                $job.PowerShell.Dispose()
                Stop-LogGenerator -Path $path
            }
        }

        It 'waits for a file that does not exist yet' {
            $path = Join-Path $TestDrive 'later.log'
            $job = Start-BackgroundPipeline "Get-AccessLog -Path '$path' -Follow"
            try {
                Start-Sleep -Milliseconds 300
                Set-Content $path -Value 'first'
                Wait-Until { @(Get-BackgroundOutput $job).Count -ge 1 } -What 'the first line of the new file'
                @(Get-BackgroundOutput $job)[0] | Should -Be 'first'
                $job.PowerShell.Stop()
            } finally { $job.PowerShell.Stop(); $job.PowerShell.Dispose() }
        }
    }
}

Describe 'Module removal' {
    It 'stops running generators when the last runspace that imported the module removes it' {
        $path = Join-Path $TestDrive 'removed.log'
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$env:PSKAFKA_MODULE'; `$null = Start-LogGenerator -Path '$path' -Rate 200; Start-Sleep -Milliseconds 300; Remove-Module PSKafka").Invoke()
            $ps.HadErrors | Should -BeFalse
        } finally { $ps.Dispose() }
        # This runspace still has the module (as a session has while its thread job ends): the generator goes on.
        (Get-LogGenerator).Path | Should -Be $path
        Remove-Module PSKafka
        $count = @(Get-Content $path).Count
        $count | Should -BeGreaterThan 0
        Start-Sleep -Milliseconds 400
        @(Get-Content $path).Count | Should -Be $count
        Import-Module $env:PSKAFKA_MODULE -Force -ErrorAction Stop
        Get-LogGenerator | Should -BeNullOrEmpty
    }
}
