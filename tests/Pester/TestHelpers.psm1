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

Export-ModuleMember -Function Import-PSKafkaForTest, Start-TestCluster, Stop-TestCluster, Get-PwshCommand
