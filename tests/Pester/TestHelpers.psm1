# Shared set-up for the Pester files: each file imports the built module and runs its own cluster
# in a data directory under TestDrive.

function Import-PSKafkaForTest {
    $module = if ($env:PSKAFKA_MODULE) { $env:PSKAFKA_MODULE } else { Join-Path $PSScriptRoot '../../out/PSKafka/PSKafka.psd1' }
    Import-Module $module -Force -Global -ErrorAction Stop
}

function Start-TestCluster {
    param([int] $Brokers = 1, [string] $Name = 'cluster')
    $data = Join-Path $TestDrive $Name
    $null = Start-Broker -Port 0 -DataDirectory $data -ErrorAction Stop
    if ($Brokers -gt 1) { $null = Start-Broker -Port 0 -Count ($Brokers - 1) -ErrorAction Stop }
    $data
}

function Stop-TestCluster {
    Stop-Broker -ErrorAction SilentlyContinue
}

# The pwsh that runs the tests, to start child processes with.
function Get-PwshCommand {
    @('dotnet', (Join-Path $PSHOME 'pwsh.dll'))
}

# A PSKafka cluster in a child process (what a second terminal's ./pskafka is), reached only through
# its Kafka listeners on free ports. Stop-ClusterProcess shuts it down cleanly.
function Start-ClusterProcess {
    # -BrokerConfig: cluster-wide broker settings (Set-BrokerConfig) the child applies once its brokers run,
    # e.g. @{ 'group.initial.rebalance.delay.ms' = 0 } so tests do not wait Kafka's 3 s for more group members.
    param([int] $Brokers = 3, [Parameter(Mandatory)] [string] $DataDirectory, [hashtable] $BrokerConfig = @{})
    $manifest = (Get-Module PSKafka).Path -replace 'PSKafka\.dll$', 'PSKafka.psd1'
    $stopFile = Join-Path $DataDirectory '.stop-test-cluster'
    $null = New-Item -ItemType Directory -Force $DataDirectory
    $script = @"
Import-Module '$manifest'
`$brokers = @(Start-Broker -DataDirectory '$DataDirectory' -Port 0) + @(if ($Brokers -gt 1) { Start-Broker -Count ($Brokers - 1) -Port 0 })
$(($BrokerConfig.GetEnumerator() | ForEach-Object { "Set-BrokerConfig -Name '$($_.Key)' -Value '$($_.Value)'" }) -join "`n")
[Console]::Out.WriteLine('READY ' + ((`$brokers | ForEach-Object Address) -join ','))
[Console]::Out.Flush()
while (-not (Test-Path '$stopFile')) { Start-Sleep -Milliseconds 100 }
Stop-Broker
"@
    $pwsh = Get-PwshCommand
    $psi = [Diagnostics.ProcessStartInfo]::new($pwsh[0])
    foreach ($a in @($pwsh[1], '-NoProfile', '-NonInteractive', '-EncodedCommand', [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script)))) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.UseShellExecute = $false
    $process = [Diagnostics.Process]::Start($psi)
    $read = $process.StandardOutput.ReadLineAsync()
    if (-not $read.Wait(60000) -or $read.Result -notmatch '^READY (.+)$') {
        $process.Kill()
        throw "The child cluster did not start: $($read.Result)"
    }
    [pscustomobject]@{ Process = $process; BootstrapServers = $Matches[1]; StopFile = $stopFile }
}

function Stop-ClusterProcess {
    param([Parameter(Mandatory)] $Cluster)
    Set-Content $Cluster.StopFile 'stop'
    if (-not $Cluster.Process.WaitForExit(30000)) { $Cluster.Process.Kill() }
}

Export-ModuleMember -Function Start-ClusterProcess, Stop-ClusterProcess, Import-PSKafkaForTest, Start-TestCluster, Stop-TestCluster, Get-PwshCommand
