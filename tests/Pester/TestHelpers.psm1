# Shared set-up for the Pester files: each file imports the built module and runs its own cluster
# in a data directory under TestDrive.

# Assert-TestTool: a test that drives kcat, kafka-python or tmux fails, naming it, when it is missing.
Import-Module (Join-Path $PSScriptRoot 'TestTools.psm1') -Force

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
# -Interactive: the child is a session the test types into (Invoke-ClusterProcess), like a user at ./pskafka.
function Start-ClusterProcess {
    # -BrokerConfig: cluster-wide broker settings (Set-BrokerConfig) the child applies once its brokers run,
    # e.g. @{ 'group.initial.rebalance.delay.ms' = 0 } so tests do not wait Kafka's 3 s for more group members.
    param([int] $Brokers = 3, [Parameter(Mandatory)] [string] $DataDirectory, [hashtable] $BrokerConfig = @{}, [switch] $Interactive)
    $manifest = (Get-Module PSKafka).Path -replace 'PSKafka\.dll$', 'PSKafka.psd1'
    $stopFile = Join-Path $DataDirectory '.stop-test-cluster'
    $null = New-Item -ItemType Directory -Force $DataDirectory
    $wait = "while (-not (Test-Path '$stopFile')) { Start-Sleep -Milliseconds 100 }"
    if ($Interactive) {
        # One command per line (base64), one RESULT line back (base64 JSON: the output as strings, the errors).
        $wait = @'
while ($null -ne ($line = [Console]::In.ReadLine())) {
    $errors = [Collections.Generic.List[string]]::new()
    $output = [Collections.Generic.List[string]]::new()
    try {
        & ([scriptblock]::Create([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($line)))) 2>&1 | ForEach-Object {
            if ($_ -is [Management.Automation.ErrorRecord]) { $errors.Add("$_ [$($_.FullyQualifiedErrorId)]") } else { $output.Add("$_") }
        }
    } catch { $errors.Add("$_ [$($_.FullyQualifiedErrorId)]") }
    $json = @{ Output = $output; Errors = $errors } | ConvertTo-Json -Compress
    [Console]::Out.WriteLine('RESULT ' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($json)))
    [Console]::Out.Flush()
}
'@
    }
    $script = @"
Import-Module '$manifest'
`$brokers = @(Start-Broker -DataDirectory '$DataDirectory' -Port 0) + @(if ($Brokers -gt 1) { Start-Broker -Count ($Brokers - 1) -Port 0 })
$(($BrokerConfig.GetEnumerator() | ForEach-Object { "Set-BrokerConfig -Name '$($_.Key)' -Value '$($_.Value)'" }) -join "`n")
[Console]::Out.WriteLine('READY ' + ((`$brokers | ForEach-Object Address) -join ','))
[Console]::Out.Flush()
$wait
Stop-Broker
"@
    $pwsh = Get-PwshCommand
    $psi = [Diagnostics.ProcessStartInfo]::new($pwsh[0])
    foreach ($a in @($pwsh[1], '-NoProfile', '-NonInteractive', '-EncodedCommand', [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script)))) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardInput = [bool]$Interactive
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
    if ($Cluster.Process.StartInfo.RedirectStandardInput) { $Cluster.Process.StandardInput.Close() } # ends an interactive child's loop
    if (-not $Cluster.Process.WaitForExit(30000)) { $Cluster.Process.Kill() }
}

# Runs a script in an interactive cluster process (as typed at its prompt); returns its output as strings.
# Errors it writes fail the call, naming them.
function Invoke-ClusterProcess {
    param([Parameter(Mandatory)] $Cluster, [Parameter(Mandatory)] [string] $Script, [int] $TimeoutSeconds = 120)
    $Cluster.Process.StandardInput.WriteLine([Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($Script)))
    $Cluster.Process.StandardInput.Flush()
    $deadline = (Get-Date).AddSeconds($TimeoutSeconds)
    while ($true) {
        $read = $Cluster.Process.StandardOutput.ReadLineAsync()
        if (-not $read.Wait([Math]::Max(1, ($deadline - (Get-Date)).TotalMilliseconds)) -or $null -eq $read.Result) {
            throw "The cluster process did not answer '$Script' within $TimeoutSeconds s."
        }
        if ($read.Result -match '^RESULT (.+)$') { break }
    }
    $result = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($Matches[1])) | ConvertFrom-Json
    if ($result.Errors) { throw "'$Script' wrote errors: $($result.Errors -join '; ')" }
    @($result.Output)
}

# How long a test waits for something before it fails: generous, so a loaded machine makes a test slower, never red.
# Tests poll for a condition up to it and never assert how fast something happened (that is ./build.sh bench's).
$script:PatienceSeconds = 60

# Polls a condition until it holds; throws naming what it waited for when it does not within the time.
function Wait-Until {
    param([Parameter(Mandatory)] [scriptblock] $Condition, [int] $Seconds = $script:PatienceSeconds, [string] $What = 'condition')
    $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
    while (-not (& $Condition)) {
        if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $Seconds s waiting for $What" }
        Start-Sleep -Milliseconds 200
    }
}

# Stops a PowerShell that runs a -Follow command, as Ctrl+C does, and checks that it ends, stopped and without errors.
function Assert-StopsCleanly {
    param([Parameter(Mandatory)] [powershell] $PowerShell)
    $stopping = $PowerShell.BeginStop($null, $null)
    $stopping.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds($script:PatienceSeconds)) | Should -BeTrue -Because 'Ctrl+C ends the command'
    $PowerShell.EndStop($stopping)
    $PowerShell.InvocationStateInfo.State | Should -Be 'Stopped'
    $PowerShell.Streams.Error.Count | Should -Be 0
}

Export-ModuleMember -Function Assert-TestTool, Assert-StopsCleanly, Wait-Until, Start-ClusterProcess, Stop-ClusterProcess, Invoke-ClusterProcess, Import-PSKafkaForTest, Start-TestCluster, Stop-TestCluster, Get-PwshCommand
