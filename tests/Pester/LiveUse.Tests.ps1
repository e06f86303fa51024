# Live use as a person has it: a ./pskafka session (the launcher, not an Import-Module by path) whose thread jobs,
# ForEach-Object -Parallel blocks and child processes use PSKafka with no Import-Module of their own.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $script:launcher = Join-Path $PSScriptRoot '../../pskafka'

    # Runs a script in a ./pskafka session on its own data directory and free ports; its output lines come back.
    function script:Invoke-PSKafkaSession([string] $Name, [string] $Script) {
        $saved = $env:PSKAFKA_DATA, $env:PSKAFKA_PORT
        $env:PSKAFKA_DATA = Join-Path $TestDrive $Name
        $env:PSKAFKA_PORT = '0'
        try {
            $output = & $launcher -Command $Script 2>&1
            if ($LASTEXITCODE -ne 0) { throw "./pskafka exited with $LASTEXITCODE`n$($output -join "`n")" }
            $output | ForEach-Object { "$_" }
        } finally {
            $env:PSKAFKA_DATA, $env:PSKAFKA_PORT = $saved
        }
    }
}

Describe 'PSKafka loads wherever PowerShell loads modules' {
    It 'thread jobs and ForEach-Object -Parallel find the module and share the session''s cluster' {
        $out = Invoke-PSKafkaSession 'threads' @'
New-Topic -Name shared -Partitions 1 | Out-Null
Start-ThreadJob { 1..3 | ForEach-Object { "job-$_" } | Send-Message -Topic shared } | Receive-Job -Wait -AutoRemoveJob -ErrorAction Stop
1..2 | ForEach-Object -Parallel { "parallel-$_" | Send-Message -Topic shared -ErrorAction Stop }
'READ ' + (((Receive-Message -Topic shared -FromBeginning).Value | Sort-Object) -join ',')
'@
        $out | Should -Contain 'READ job-1,job-2,job-3,parallel-1,parallel-2'
    }

    It 'a thread job that removes or force-imports the module leaves the session''s brokers running' {
        $out = Invoke-PSKafkaSession 'remove' @'
Start-Broker -Count 1 | Out-Null
Start-ThreadJob { Import-Module PSKafka -Force; Remove-Module PSKafka } | Receive-Job -Wait -AutoRemoveJob -ErrorAction Stop
'RUNNING ' + @(Get-Broker | Where-Object State -EQ Running).Count
'@
        $out | Should -Contain 'RUNNING 2'
    }

    It 'the session''s own Remove-Module closes the cluster' {
        $out = Invoke-PSKafkaSession 'close' @'
Start-ThreadJob { Get-Broker | Out-Null } | Receive-Job -Wait -AutoRemoveJob -ErrorAction Stop
Remove-Module PSKafka
Import-Module PSKafka
'RUNNING ' + @(Get-Broker -ErrorAction SilentlyContinue | Where-Object State -EQ Running).Count
'@
        $out | Should -Contain 'RUNNING 0'
    }

    It 'a Start-Job child (another process) autoloads the module and reaches the cluster with Connect-Cluster' {
        $out = Invoke-PSKafkaSession 'job' @'
New-Topic -Name fromjob -Partitions 1 | Out-Null
$bootstrap = (Get-Broker).Address -join ','
Start-Job -ArgumentList $bootstrap {
    param($bootstrap)
    Connect-Cluster -BootstrapServer $bootstrap | Out-Null
    'child' | Send-Message -Topic fromjob
    (Get-Module PSKafka).Name
} | Receive-Job -Wait -AutoRemoveJob -ErrorAction Stop
'READ ' + (Receive-Message -Topic fromjob -FromBeginning).Value
'@
        $out | Should -Contain 'PSKafka'
        $out | Should -Contain 'READ child'
    }

    It 'a Start-Job child with no connection is told how to reach the cluster' {
        $out = Invoke-PSKafkaSession 'nojob' @'
Start-Job { try { Get-Topic -ErrorAction Stop } catch { 'ERROR ' + $_.FullyQualifiedErrorId + ' ' + $_ } } | Receive-Job -Wait -AutoRemoveJob
'@
        $out | Where-Object { $_ -like 'ERROR *' } | Should -Match 'NoBrokerRunning.*Connect-Cluster -BootstrapServer'
    }

    It 'a thread job''s Get-AccessLog -Follow | Send-Message fills the topic while it runs (the tutorial''s tail_logs.sh | producer)' {
        $out = Invoke-PSKafkaSession 'weblive' @'
New-Topic -Name weblive -Partitions 1 | Out-Null
Start-LogGenerator -Rate 5 | Out-Null
$job = Start-ThreadJob { Get-AccessLog -Follow | Send-Message -Topic weblive }
$deadline = (Get-Date).AddSeconds(120)
while ((Get-Topic -Name weblive).Partitions[0].LogEndOffset -lt 40 -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 200 }
'IN TOPIC ' + [int]((Get-Topic -Name weblive).Partitions[0].LogEndOffset -ge 40) + ' JOB ' + $job.State
Stop-Job $job
Stop-LogGenerator
'@
        $out | Should -Contain 'IN TOPIC 1 JOB Running'
    }
}
