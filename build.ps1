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

    # Benchmark suites to run (default: all).
    [string[]] $Suite,

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
    $manifest = Join-Path $moduleOut 'PSKafka.psd1'
    $version = Get-ProductVersion
    (Get-Content -Raw $manifest) -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion = '$version'" |
        Set-Content -NoNewline $manifest
    Set-Content (Join-Path $out 'pwsh-path.txt') (Join-Path $PSHOME 'pwsh.dll')
    Set-Content (Join-Path $moduleOut '.build-stamp') (Get-Date -Format o)
    if (-not $Quiet) { Write-Host "Module $version at $moduleOut" -ForegroundColor Green }
}

function Invoke-Test {
    Invoke-Build
    $failed = @()
    if (-not $SkipUnit) {
        $results = Join-Path $out 'TestResults'
        & dotnet test (Join-Path $root 'tests/Unit/PSKafka.Tests.csproj') -c $Configuration --no-build --nologo `
            --logger 'console;verbosity=minimal' --results-directory $results
        if ($LASTEXITCODE -ne 0) { $failed += 'xunit' }
    }
    if (-not $SkipPester) {
        $pester = Get-PesterModulePath
        # Pester runs in a child pwsh so the binary module loads fresh and nothing leaks into this process.
        # The filter travels in the environment: pwsh expands wildcards in native arguments on Unix.
        $env:PSKAFKA_PESTER_FILTER = $PesterFilter
        & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoLogo -NoProfile -NonInteractive -File (Join-Path $root 'tests/Invoke-PesterTests.ps1') `
            -PesterPath $pester -ModulePath (Join-Path $moduleOut 'PSKafka.psd1')
        if ($LASTEXITCODE -ne 0) { $failed += 'Pester' }
    }
    if ($failed) { throw "Tests failed: $($failed -join ', ')." }
    Write-Host 'All tests passed.' -ForegroundColor Green
}

function Invoke-Bench {
    Invoke-Build
    $report = Join-Path $root 'docs/PERFORMANCE.md'
    $suites = if ($Suite) { $Suite } else { @() }
    $lines = & dotnet run -c Release --project (Join-Path $root 'bench/PSKafka.Bench') --no-build -- @suites
    if ($LASTEXITCODE -ne 0) { throw "Benchmarks failed (exit code $LASTEXITCODE)." }
    $pipelineBench = Join-Path $root 'bench/Send-Message.Bench.ps1'
    if ((-not $Suite -or $Suite -contains 'cmdlets') -and (Test-Path $pipelineBench)) {
        $lines += & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoLogo -NoProfile -NonInteractive -File $pipelineBench -ModulePath (Join-Path $moduleOut 'PSKafka.psd1')
        if ($LASTEXITCODE -ne 0) { throw "Cmdlet benchmarks failed (exit code $LASTEXITCODE)." }
    }
    # Consumer groups measured through the cmdlets as well (Receive-Message -Group vs without a group).
    if (-not $Suite -or $Suite -contains 'groups') {
        $lines += & dotnet (Join-Path $PSHOME 'pwsh.dll') -NoLogo -NoProfile -NonInteractive -File (Join-Path $root 'bench/Receive-Group.Bench.ps1') -ModulePath (Join-Path $moduleOut 'PSKafka.psd1')
        if ($LASTEXITCODE -ne 0) { throw "Group cmdlet benchmarks failed (exit code $LASTEXITCODE)." }
    }
    $lines | ForEach-Object { Write-Host $_ }
    $machine = "$([Environment]::ProcessorCount) cores, $([Runtime.InteropServices.RuntimeInformation]::OSDescription), .NET $([Environment]::Version)"
    $header = @(
        '# Performance', '',
        'Figures from the last `./build.sh bench` run (written by build.ps1; do not edit by hand).', '',
        "Command: ``./build.sh bench$(if ($Suite) { ' -Suite ' + ($Suite -join ',') })``  ", "Date: $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC  ", "Machine: $machine", '',
        '| Benchmark | Result | Detail |', '| --- | --- | --- |')
    ($header + ($lines | Where-Object { $_ -like '|*' })) | Set-Content $report
    Write-Host "Figures written to $report" -ForegroundColor Green
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
