#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests, benchmarks and packages PSKafka. Run it through ./build.sh on a machine without pwsh.
.EXAMPLE
    ./build.sh test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('build', 'test', 'package', 'bench', 'clean')]
    [string] $Task = 'build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Pester: only run test files whose name matches (e.g. 'Topic*').
    [string] $PesterFilter = '*',

    # Skip the xunit or the Pester part of 'test'.
    [switch] $SkipUnit,
    [switch] $SkipPester,

    # Benchmark suites to run (default: all but soak).
    [string[]] $Suite,

    # The soak (-Suite soak): how long it runs (default 10 minutes, 60 with -Churn), and the churn variant.
    [double] $Minutes,
    [switch] $Churn,

    [switch] $Quiet
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$root = $PSScriptRoot
$out = Join-Path $root 'out'
$moduleOut = Join-Path $out 'PSKafka'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'

function Invoke-Native {
    param([string] $What, [scriptblock] $Command)
    if (-not $Quiet) { Write-Host "==> $What" -ForegroundColor Cyan }
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed (exit code $LASTEXITCODE)." }
}

function Get-ProductVersion {
    $props = [xml](Get-Content -Raw (Join-Path $root 'Directory.Build.props'))
    $props.Project.PropertyGroup.Version | Where-Object { $_ } | Select-Object -First 1
}

function Get-PesterModulePath {
    $null = Invoke-Native 'Restore test-time modules (Pester)' { dotnet restore (Join-Path $root 'tools/deps/deps.csproj') --verbosity quiet }
    $deps = [xml](Get-Content -Raw (Join-Path $root 'tools/deps/deps.csproj'))
    $version = ($deps.Project.ItemGroup.PackageDownload | Where-Object Include -EQ 'Pester').Version.Trim('[', ']')
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    Join-Path $packages "pester/$version/tools/Pester.psd1"
}

function Invoke-Build {
    $verbosity = if ($Quiet) { 'quiet' } else { 'minimal' }
    Invoke-Native "dotnet build ($Configuration)" { dotnet build (Join-Path $root 'PSKafka.sln') -c $Configuration --verbosity $verbosity -nologo }

    # Assemble the module: binaries, manifest (stamped with the one version), format/type files, help.
    if (Test-Path $moduleOut) { Remove-Item $moduleOut -Recurse -Force }
    $null = New-Item -ItemType Directory $moduleOut
    $bin = Join-Path $root "src/PSKafka.Cmdlets/bin/$Configuration/net10.0"
    Copy-Item (Join-Path $bin '*') $moduleOut -Recurse -Exclude '*.pdb', '*.deps.json'
    Copy-Item (Join-Path $root 'module/*') $moduleOut -Recurse
    # Show-Cluster's console and Terminal.Gui go to dependencies/, loaded in the module's own AssemblyLoadContext.
    # What the module root already has (the engine, the client, Confluent.Kafka with its librdkafka, their packages)
    # stays out, so both sides share those types and each native library loads once.
    $dependencies = New-Item -ItemType Directory (Join-Path $moduleOut 'dependencies')
    $tuiBin = Join-Path $root "src/PSKafka.Tui/bin/$Configuration/net10.0"
    Get-ChildItem $tuiBin -Filter '*.dll' | Where-Object { -not (Test-Path (Join-Path $moduleOut $_.Name)) } | Copy-Item -Destination $dependencies
    Get-ChildItem (Join-Path $tuiBin 'runtimes') -File -Recurse | ForEach-Object {
        $relative = [IO.Path]::GetRelativePath($tuiBin, $_.FullName)
        if (-not (Test-Path (Join-Path $moduleOut $relative))) {
            $target = Join-Path $dependencies $relative
            $null = New-Item -ItemType Directory -Force (Split-Path $target)
            Copy-Item $_.FullName $target
        }
    }
    $manifest = Join-Path $moduleOut 'PSKafka.psd1'
    $version = Get-ProductVersion
    (Get-Content -Raw $manifest) -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion = '$version'" |
        Set-Content -NoNewline $manifest
    # MAML help from docs/help plus the cmdlets' own parameter metadata (in a child pwsh: it loads the module).
    & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoLogo -NoProfile -NonInteractive -File (Join-Path $root 'tools/Build-Help.ps1') `
        -ModulePath $manifest -SourceDirectory (Join-Path $root 'docs/help') -OutputPath (Join-Path $moduleOut 'en-US/PSKafka.dll-Help.xml')
    if ($LASTEXITCODE -ne 0) { throw "Building help failed (exit code $LASTEXITCODE)." }
    Set-Content (Join-Path $out 'pwsh-path.txt') (Join-Path $PSHOME 'pwsh.dll')
    Set-Content (Join-Path $moduleOut '.build-stamp') (Get-Date -Format o)
    if (-not $Quiet) { Write-Host "Module $version at $moduleOut" -ForegroundColor Green }
}

# Tests allowed to skip, by full name (xunit's test name, Pester's path of blocks and test), with the reason the
# closing lines show. A skip not listed here fails the run.
$allowedSkips = @{}

# A test never skips for a missing tool (kcat, tmux, kafka-python: tests/Pester/TestTools.psm1): 'test' checks them
# before it builds anything, installs the missing ones when it runs as root with apt-get, and otherwise stops, naming them.
function Assert-TestTools {
    Import-Module (Join-Path $root 'tests/Pester/TestTools.psm1') -Force
    $missing = @(Get-TestTool | Where-Object { -not $_.Installed })
    if (-not $missing) { return }
    $packages = @($missing | ForEach-Object Package)
    $aptGet = Get-Command apt-get -CommandType Application -ErrorAction Ignore
    if ($aptGet -and $IsLinux -and (& id -u) -eq '0') {
        $env:DEBIAN_FRONTEND = 'noninteractive'
        Invoke-Native "apt-get install $($packages -join ' ') (the tests need them)" {
            apt-get update -qq
            if ($LASTEXITCODE -eq 0) { apt-get install -y -qq @packages | Out-Null }
        }
        $missing = @(Get-TestTool | Where-Object { -not $_.Installed })
        if (-not $missing) { return }
    }
    $names = ($missing | ForEach-Object Name) -join ', '
    Write-Host "The tests need what this machine lacks: $names." -ForegroundColor Red
    Write-Host "  Install (Debian, Ubuntu): sudo apt-get install -y $(($missing | ForEach-Object Package) -join ' ')"
    Write-Host '  Run as root where apt-get is, ./build.sh test installs them itself.'
    throw "Missing for the tests: $names."
}

# Skipped tests by name: xunit's from its trx, Pester's from the summary tests/Invoke-PesterTests.ps1 writes.
function Get-SkippedUnitTests([string] $Trx) {
    $run = ([xml](Get-Content -Raw $Trx)).TestRun
    if (-not $run.PSObject.Properties['Results']) { return }
    @($run.Results.UnitTestResult | Where-Object outcome -EQ 'NotExecuted' | ForEach-Object testName)
}

function Invoke-Test {
    Assert-TestTools
    Invoke-Build
    # The conventions of .editorconfig (layout, usings, namespaces): `dotnet format PSKafka.sln` fixes what this finds.
    Invoke-Native 'dotnet format --verify-no-changes' { dotnet format (Join-Path $root 'PSKafka.sln') --verify-no-changes --no-restore --verbosity quiet }
    $failed = @()
    $counts = [ordered]@{}
    $skipped = @()
    $results = Join-Path $out 'TestResults'
    if (Test-Path $results) { Remove-Item $results -Recurse -Force }
    if (-not $SkipUnit) {
        & dotnet test (Join-Path $root 'tests/Unit/PSKafka.Tests.csproj') -c $Configuration --no-build --nologo `
            --logger 'console;verbosity=minimal' --logger 'trx;LogFileName=unit.trx' --results-directory $results
        if ($LASTEXITCODE -ne 0) { $failed += 'xunit' }
        $trx = Join-Path $results 'unit.trx'
        if (Test-Path $trx) {
            $summary = ([xml](Get-Content -Raw $trx)).TestRun.ResultSummary.Counters
            $counts.xunit = [pscustomobject]@{ Passed = [int]$summary.passed; Failed = [int]$summary.failed + [int]$summary.error + [int]$summary.timeout; Skipped = [int]$summary.notExecuted }
            $skipped += @(Get-SkippedUnitTests $trx)
        } else { $counts.xunit = [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } }
    }
    if (-not $SkipPester) {
        $pester = Get-PesterModulePath
        # Pester runs in a child pwsh so the binary module loads fresh and nothing leaks into this process.
        # The filter travels in the environment: pwsh expands wildcards in native arguments on Unix.
        $env:PSKAFKA_PESTER_FILTER = $PesterFilter
        $env:PSKAFKA_PESTER_SUMMARY = Join-Path $results 'pester.json'
        $null = New-Item -ItemType Directory -Force $results
        & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoLogo -NoProfile -NonInteractive -File (Join-Path $root 'tests/Invoke-PesterTests.ps1') `
            -PesterPath $pester -ModulePath (Join-Path $moduleOut 'PSKafka.psd1')
        if ($LASTEXITCODE -ne 0) { $failed += 'Pester' }
        if (Test-Path $env:PSKAFKA_PESTER_SUMMARY) {
            $p = Get-Content -Raw $env:PSKAFKA_PESTER_SUMMARY | ConvertFrom-Json
            $counts.Pester = [pscustomobject]@{ Passed = $p.Passed; Failed = $p.Failed; Skipped = $p.Skipped }
            $skipped += @($p.SkippedTests)
        } else { $counts.Pester = [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } }
    }
    # Every skip is named, with its reason when it is listed; one that is not listed fails the run.
    $unlisted = @()
    foreach ($name in $skipped) {
        if ($allowedSkips.ContainsKey($name)) { Write-Host "skipped: $name ($($allowedSkips[$name]))" -ForegroundColor Yellow }
        else { Write-Host "skipped, with no reason listed in build.ps1: $name" -ForegroundColor Red; $unlisted += $name }
    }
    $skipCount = ($counts.Values | Measure-Object -Property Skipped -Sum).Sum
    if ($unlisted -or $skipCount -gt $skipped.Count) { $failed += 'skips without a listed reason' }
    # The closing line CI reads: xunit and Pester together, then each.
    $total = foreach ($what in 'Passed', 'Failed', 'Skipped') { [int]($counts.Values | Measure-Object -Property $what -Sum).Sum }
    $each = foreach ($part in $counts.Keys) { "$($part): $($counts[$part].Passed) passed, $($counts[$part].Failed) failed, $($counts[$part].Skipped) skipped" }
    Write-Host "$($total[0]) passed, $($total[1]) failed, $($total[2]) skipped ($($each -join '; '))"
    if ($failed) { throw "Tests failed: $($failed -join ', ')." }
}

# Replaces what stands between two markers of docs/PERFORMANCE.md; the prose around them is written by hand.
function Set-ReportSection([string] $Name, [string[]] $Lines) {
    $report = Join-Path $root 'docs/PERFORMANCE.md'
    $begin = "<!-- $($Name):begin -->"; $end = "<!-- $($Name):end -->"
    $text = if (Test-Path $report) { Get-Content -Raw $report } else { "# Performance`n" }
    if ($text -notmatch [regex]::Escape($begin)) { $text += "`n$begin`n$end`n" }
    $pattern = "(?s)$([regex]::Escape($begin)).*?$([regex]::Escape($end))"
    $replacement = "$begin`n$($Lines -join "`n")`n$end"
    [regex]::Replace($text, $pattern, { param($m) $replacement }) | Set-Content -NoNewline $report
    Write-Host "Figures written to $report ($Name)" -ForegroundColor Green
}

function Get-BenchHeader([string] $Command) {
    $machine = "$([Environment]::ProcessorCount) cores, $([Runtime.InteropServices.RuntimeInformation]::OSDescription), .NET $([Environment]::Version)"
    "Command: ``$Command``  ", "Date: $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC  ", "Machine: $machine", '',
    '| Benchmark | Result | Detail |', '| --- | --- | --- |'
}

# The soak: live traffic through the cmdlets for minutes with brokers crashing (bench/Soak.Bench.ps1). Its samples and
# chart go to docs/soak/, its verdict between the soak markers of docs/PERFORMANCE.md; a missed goal fails the run.
function Invoke-Soak {
    $bench = Join-Path $root 'bench/PSKafka.Bench/bin/Release/net10.0/PSKafka.Bench.dll' # built with the solution
    $soakArgs = @('-ModulePath', (Join-Path $moduleOut 'PSKafka.psd1'), '-ChartTool', $bench)
    if ($Minutes) { $soakArgs += '-Minutes', $Minutes }
    if ($Churn) { $soakArgs += '-Churn' }
    $lines = & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoLogo -NoProfile -NonInteractive -File (Join-Path $root 'bench/Soak.Bench.ps1') @soakArgs |
        ForEach-Object { Write-Host $_; $_ }
    $code = $LASTEXITCODE
    $command = "./build.sh bench -Suite soak$(if ($Minutes) { " -Minutes $Minutes" })$(if ($Churn) { ' -Churn' })"
    Set-ReportSection ($Churn ? 'soak-churn' : 'soak') ((Get-BenchHeader $command) + @($lines | Where-Object { $_ -like '|*' }))
    if ($code -ne 0) { throw "The soak missed a goal (exit code $code)." }
}

function Invoke-Bench {
    Invoke-Build
    if ($Suite -contains 'soak') {
        Invoke-Soak
        $script:Suite = @($Suite | Where-Object { $_ -ne 'soak' })
        if (-not $Suite) { return }
    }
    # Every suite but 'cmdlets', 'remote' and 'live' lives in bench/PSKafka.Bench ('replication' and 'groups' in both).
    $engineSuites = @($Suite | Where-Object { $_ -and $_ -notin 'cmdlets', 'remote', 'live' })
    $lines = @()
    if (-not $Suite -or $engineSuites) {
        $lines += & dotnet run -c Release --project (Join-Path $root 'bench/PSKafka.Bench') --no-build -- @engineSuites
        if ($LASTEXITCODE -ne 0) { throw "Benchmarks failed (exit code $LASTEXITCODE)." }
    }
    # Benchmarks through the cmdlets, each in a pwsh of its own, by suite name: replication through Send-Message -Acks All
    # (what a user's producer gets; the engine-level figure is above), the pipeline, the remote path (-BootstrapServer)
    # against kcat, Receive-Message -Group against no group, and a pausing pipeline read live by kcat (linger.ms).
    $cmdletBenches = [ordered]@{
        replication = 'Replication.Bench.ps1'
        cmdlets     = 'Send-Message.Bench.ps1'
        remote      = 'Remote.Bench.ps1'
        groups      = 'Receive-Group.Bench.ps1'
        live        = 'Live.Bench.ps1'
    }
    foreach ($name in $cmdletBenches.Keys) {
        if ($Suite -and $Suite -notcontains $name) { continue }
        $script = Join-Path $root "bench/$($cmdletBenches[$name])"
        $lines += & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoLogo -NoProfile -NonInteractive -File $script -ModulePath (Join-Path $moduleOut 'PSKafka.psd1')
        if ($LASTEXITCODE -ne 0) { throw "$script failed (exit code $LASTEXITCODE)." }
    }
    $lines | ForEach-Object { Write-Host $_ }
    Set-ReportSection 'bench' ((Get-BenchHeader "./build.sh bench$(if ($Suite) { ' -Suite ' + ($Suite -join ',') })") + @($lines | Where-Object { $_ -like '|*' }))
}

switch ($Task) {
    'build' { Invoke-Build }
    'test' { Invoke-Test }
    'bench' { Invoke-Bench }
    'package' {
        Invoke-Build
        $zip = Join-Path $out "PSKafka-$(Get-ProductVersion).zip"
        Compress-Archive -Path $moduleOut -DestinationPath $zip -Force
        Write-Host "Package at $zip" -ForegroundColor Green
    }
    'clean' {
        Invoke-Native 'dotnet clean' { dotnet clean (Join-Path $root 'PSKafka.sln') -c $Configuration --verbosity quiet -nologo }
        if (Test-Path $out) { Remove-Item $out -Recurse -Force }
    }
}
