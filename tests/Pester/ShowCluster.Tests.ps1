# Show-Cluster in a real terminal: tmux runs ./pskafka with the console, the test reads the screen with
# capture-pane, acts through the console's keys, and checks the shell gets its terminal back.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-PSKafkaForTest
    $script:repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:pskafka = Join-Path $repo 'pskafka'
    $script:socket = "pskafka-test-$PID"

    function script:Screen { (& tmux -L $socket capture-pane -p -t console) -join "`n" }

    # Waits until the screen satisfies a condition; returns the screen, or throws with the last one seen.
    function script:Wait-Screen([scriptblock] $Condition, [double] $Seconds = 60, [string] $What) {
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        do {
            $screen = Screen
            if (& $Condition $screen) { return $screen }
            Start-Sleep -Milliseconds 100
        } while ([DateTime]::UtcNow -lt $deadline)
        throw "Timed out after $Seconds s waiting for $What. The screen:`n$screen"
    }

    # The partitions table rows: P, Leader, Epoch, Replicas, Isr, Status, LogStart, HW, LEO, Size, Segs, Msg/s.
    function script:Get-PartitionRows([string] $Screen) {
        $lines = $Screen -split "`n"
        $start = [Array]::FindIndex($lines, [Predicate[string]] { param($l) $l -match 'Partitions of ' })
        foreach ($line in $lines[($start + 3)..($lines.Count - 1)]) {
            $cells = @(($line -split '│') | ForEach-Object Trim | Where-Object { $_ })
            if ($cells.Count -lt 9 -or $cells[0] -notmatch '^\d+$') { break }
            [pscustomobject]@{ P = [int]$cells[0]; Leader = $cells[1]; Replicas = $cells[3]; Isr = $cells[4]; Status = $cells[5]; HW = [long]($cells[7] -replace ',') }
        }
    }

    # The brokers table rows: Id, Address, State, Role, ...
    function script:Get-BrokerState([string] $Screen, [int] $Id) {
        foreach ($line in $Screen -split "`n") {
            $cells = @(($line -split '│') | ForEach-Object Trim)
            if ($cells.Count -gt 3 -and $cells[1] -eq "$Id" -and $cells[2] -like 'localhost:*') { return $cells[3] }
        }
    }
}

AfterAll {
    if (Get-Command tmux -ErrorAction SilentlyContinue) { & tmux -L $socket kill-server 2>$null }
}

Describe 'Show-Cluster' {
    It 'fails at once with NoTerminal when its input is redirected' {
        # ./pskafka starts a broker: on a free port ($env:PSKAFKA_PORT=0), never one that must be free.
        $saved = $env:PSKAFKA_DATA, $env:PSKAFKA_PORT
        $env:PSKAFKA_DATA = Join-Path $TestDrive 'redirected'
        $env:PSKAFKA_PORT = '0'
        try {
            $script = 'try { Show-Cluster; "RETURNED" } catch { "ERRORID=$($_.FullyQualifiedErrorId)" }'
            $output = '' | & $pskafka -Command $script 2>&1
        } finally { $env:PSKAFKA_DATA, $env:PSKAFKA_PORT = $saved }
        $line = @($output | Where-Object { "$_" -match 'ERRORID=' })[0]
        # NoTerminal comes from the check before the console starts: it fails at once, before touching the terminal.
        "$line" | Should -Match 'ERRORID=NoTerminal,PSKafka\.Cmdlets\.Commands\.ShowClusterCommand'
    }

    It 'draws brokers and partitions in a terminal, follows messages and a crash from its keys, and gives the terminal back' {
        Assert-TestTool tmux
        $data = Join-Path $TestDrive 'tmux-cluster'
        $trigger = Join-Path $TestDrive 'send-now'
        $script = Join-Path $TestDrive 'console.ps1'
        # Messages come from a thread job of the same session once the test has seen the first screen.
        Set-Content $script @"
`$null = Start-Broker -Count 2
`$null = New-Topic -Name orders -Partitions 3 -ReplicationFactor 3
`$module = (Get-Module PSKafka).Path
`$job = Start-ThreadJob -ArgumentList `$module, '$trigger' {
    param(`$module, `$trigger)
    Import-Module `$module
    while (-not (Test-Path `$trigger)) { Start-Sleep -Milliseconds 100 }
    1..300 | Send-Message -Topic orders | Out-Null
}
Show-Cluster
'BACK-AT-PROMPT'
`$job | Remove-Job -Force
"@
        & tmux -L $socket new-session -d -s console -x 160 -y 45 sh
        & tmux -L $socket send-keys -t console "stty -a | grep -o -- ' -*icanon' ; PSKAFKA_DATA='$data' PSKAFKA_PORT=0 '$pskafka' -File '$script'" Enter

        # The console comes up with three running brokers and the partitions of the only topic, fully replicated.
        $screen = Wait-Screen { param($s) $s -match 'Partitions of orders' -and @(Get-PartitionRows $s).Count -eq 3 } -What 'the partitions of orders'
        foreach ($id in 0..2) { Get-BrokerState $screen $id | Should -Be 'running' }
        $screen | Should -Match 'controller: broker 0'
        $screen | Should -Match 'Partitions of orders \(0 under-replicated, 0 offline\)'
        foreach ($row in Get-PartitionRows $screen) {
            $row.Isr | Should -Be $row.Replicas
            $row.Status | Should -Be 'ok'
            $row.HW | Should -Be 0
        }

        # Messages sent meanwhile show up as high watermarks (300 in all) and in the tail.
        Set-Content $trigger 'go'
        $screen = Wait-Screen { param($s) (Get-PartitionRows $s | Measure-Object HW -Sum).Sum -eq 300 } -What '300 messages in the partitions'
        $screen | Should -Match 'Tail of orders-0, newest \d+ first'

        # Crash broker 0 (the selected one) from the console: it asks, then leaders move and the ISR shrinks.
        $before = Get-PartitionRows $screen
        & tmux -L $socket send-keys -t console k
        $null = Wait-Screen { param($s) $s -match 'Crash broker 0' } -What 'the crash confirmation'
        & tmux -L $socket send-keys -t console Enter
        $screen = Wait-Screen { param($s) $s -match '3 under-replicated' -and (Get-BrokerState $s 0) -eq 'crashed' } -What 'the crash to show'
        $screen | Should -Match 'controller: broker 1'
        foreach ($row in Get-PartitionRows $screen) {
            $row.Leader | Should -Not -Be '0'
            $row.Isr | Should -Match '\(0 out\)$'
            $row.Status | Should -Be 'under-replicated'
        }
        @($before | Where-Object Leader -EQ '0').Count | Should -Be 1 -Because 'broker 0 led one partition, which moved'

        # q quits: the script goes on, pskafka ends, and the shell reads and echoes lines again (cooked mode).
        & tmux -L $socket send-keys -t console q
        $screen = Wait-Screen { param($s) $s -match 'BACK-AT-PROMPT' } -What 'the prompt to come back'
        $screen | Should -Not -Match 'Partitions of orders'
        & tmux -L $socket send-keys -t console "stty -a | grep -o -- ' -*icanon' ; echo TERMINAL-OK-`$((40+2))" Enter
        $screen = Wait-Screen { param($s) $s -match 'TERMINAL-OK-42' } -What 'the shell to answer'
        # Both stty lines (before and after the console) show canonical mode on.
        $modes = @(($screen -split "`n") | Where-Object { $_ -notmatch 'stty' -and $_ -match '\s(-?icanon)\s*$' } | ForEach-Object { $Matches[1] })
        $modes | Should -Be @('icanon', 'icanon') -Because "the screen was:`n$screen"
    }
    It 'shows a PSKafka cluster in another process through -BootstrapServer and Connect-Cluster, refuses the broker keys and sees a broker leave' {
        Assert-TestTool tmux
        $cluster = Start-ClusterProcess -Brokers 3 -DataDirectory (Join-Path $TestDrive 'other-process') -Interactive
        try {
            $on = @{ BootstrapServer = $cluster.BootstrapServers }
            $null = New-Topic -Name orders -Partitions 3 -ReplicationFactor 3 @on
            1..30 | Send-Message -Topic orders -Partition 0 @on
            # A group that read a third of partition 0 and committed: lag 20.
            (Receive-Message -Topic orders -Group billing -FromBeginning -MaxMessages 10 @on).Count | Should -Be 10

            & tmux -L $socket kill-session -t console 2>$null # the previous test's shell
            & tmux -L $socket new-session -d -s console -x 160 -y 45 sh
            & tmux -L $socket send-keys -t console "PSKAFKA_DATA='$(Join-Path $TestDrive 'viewer')' '$pskafka' -NoBroker -Command 'Show-Cluster -BootstrapServer ""$($cluster.BootstrapServers)""; ""BACK-AT-PROMPT""'" Enter

            # Brokers, partitions with leaders and ISR, offsets and the group's lag, all read over the wire.
            $screen = Wait-Screen { param($s) $s -match 'Partitions of orders' -and (Get-PartitionRows $s | Measure-Object HW -Sum).Sum -eq 30 -and $s -match '│billing' } -What 'the remote cluster on the screen'
            $screen | Should -Match "Kafka cluster at $([regex]::Escape($cluster.BootstrapServers))"
            foreach ($id in 0..2) { Get-BrokerState $screen $id | Should -Be 'running' }
            foreach ($row in Get-PartitionRows $screen) {
                $row.Isr | Should -Be $row.Replicas
                $row.Status | Should -Be 'ok'
            }
            $screen | Should -Match 'Consumer group billing: total lag 20'
            $screen | Should -Not -Match 'stop broker'

            # The broker keys are refused on the status line; nothing happens to the other process's brokers.
            & tmux -L $socket send-keys -t console k
            $screen = Wait-Screen { param($s) $s -match 'not possible on a remote cluster' } -What 'the refusal'
            $screen | Should -Not -Match 'Crash broker'
            Invoke-ClusterProcess $cluster '(Get-Broker).State -join ","' | Should -Be 'Running,Running,Running'

            # A broker stopped in the other process leaves the metadata: not reachable, and the ISR shrinks.
            $null = Invoke-ClusterProcess $cluster 'Stop-Broker -Id 2'
            $screen = Wait-Screen { param($s) (Get-BrokerState $s 2) -eq 'not reachable' -and $s -match '3 under-replicated' } -What 'broker 2 to leave'
            foreach ($row in Get-PartitionRows $screen) { $row.Isr | Should -Match '\(2 out\)$' }

            & tmux -L $socket send-keys -t console q
            $null = Wait-Screen { param($s) $s -match 'BACK-AT-PROMPT' } -What 'the prompt to come back'

            # The session's connection (Connect-Cluster) is what a plain Show-Cluster opens.
            & tmux -L $socket send-keys -t console "clear; PSKAFKA_DATA='$(Join-Path $TestDrive 'viewer')' '$pskafka' -NoBroker -Command 'Connect-Cluster -BootstrapServer ""$($cluster.BootstrapServers)"" | Out-Null; Show-Cluster; ""CONNECTED-BACK""'" Enter
            # A new console knows only the brokers the metadata names: broker 2 (stopped above) is not listed at all.
            $screen = Wait-Screen { param($s) $s -match 'Partitions of orders \(3 under-replicated' -and (Get-BrokerState $s 1) -eq 'running' } -What 'the connected cluster on the screen'
            $screen | Should -Match "Kafka cluster at $([regex]::Escape($cluster.BootstrapServers))"
            $screen | Should -Match 'Consumer group billing: total lag 20'
            & tmux -L $socket send-keys -t console q
            $null = Wait-Screen { param($s) $s -match 'CONNECTED-BACK' } -What 'the prompt to come back after the connected console'
        } finally {
            & tmux -L $socket kill-session -t console 2>$null
            Stop-ClusterProcess $cluster
        }
    }
}
