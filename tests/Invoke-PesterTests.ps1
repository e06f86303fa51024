<#
.SYNOPSIS
    Runs the Pester tests against the built module (build.ps1 starts it in a child pwsh so the
    binary module loads fresh).
#>
param(
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $ModulePath,
    [string] $Filter = $(if ($env:PSKAFKA_PESTER_FILTER) { $env:PSKAFKA_PESTER_FILTER } else { '*' })
)
$env:PSKAFKA_MODULE = $ModulePath
# No test needs a given port free: every broker started without -Port (here, in a ./pskafka or a child process)
# takes a free one. Tests that set $env:PSKAFKA_PORT put it back as they found it.
$env:PSKAFKA_PORT = '0'
Import-Module $PesterPath -MinimumVersion 5.0 -ErrorAction Stop
$config = New-PesterConfiguration
$config.Run.Path = @(Get-ChildItem (Join-Path $PSScriptRoot 'Pester') -Filter "$Filter.Tests.ps1" -Recurse | ForEach-Object FullName)
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$config.TestResult.Enabled = $false
$result = Invoke-Pester -Configuration $config
# build.ps1 adds these counts to its closing 'N passed, N failed, N skipped' line, and names each skipped test.
if ($env:PSKAFKA_PESTER_SUMMARY) {
    @{
        Passed = $result.PassedCount; Failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
        Skipped = $result.SkippedCount; SkippedTests = @($result.Skipped | ForEach-Object ExpandedPath)
    } | ConvertTo-Json | Set-Content $env:PSKAFKA_PESTER_SUMMARY
}
exit $(if ($result.Result -eq 'Passed') { 0 } else { 1 })
