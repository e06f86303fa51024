# docs/tutorial.md can never go stale: every ```powershell block in it runs here, in order, in one
# session (as a reader would type them into ./pskafka), and none may write an error.

BeforeDiscovery {
    $doc = Join-Path $PSScriptRoot '../../docs/tutorial.md'
    $script:blocks = @()
    $lines = Get-Content $doc
    $section = ''
    for ($i = 0; $i -lt $lines.Count; $i++) {
        if ($lines[$i] -match '^#+\s+(.+)$') { $section = $Matches[1] }
        if ($lines[$i] -match '^```powershell\s*$') {
            $start = $i + 1
            $code = [Collections.Generic.List[string]]::new()
            for ($i++; $i -lt $lines.Count -and $lines[$i] -notmatch '^```\s*$'; $i++) { $code.Add($lines[$i]) }
            $script:blocks += @{ Line = $start; Section = $section; Code = $code -join "`n" }
        }
    }
}

Describe 'docs/tutorial.md' {
    BeforeAll {
        Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
        $manifest = if ($env:PSKAFKA_MODULE) { $env:PSKAFKA_MODULE } else { Join-Path $PSScriptRoot '../../out/PSKafka/PSKafka.psd1' }
        # The reader's session: what ./pskafka gives, on a data directory of its own.
        $data = Join-Path $TestDrive 'tutorial'
        # Environment variables are per process: the reader's session sets its own, and they are put back after.
        $script:savedEnv = $env:PSKAFKA_DATA, $env:PSKAFKA_PORT
        $runspace = [runspacefactory]::CreateRunspace()
        $runspace.Open()
        $session = [PowerShell]::Create()
        $session.Runspace = $runspace
        $null = $session.AddScript(@"
`$env:PSKAFKA_DATA = '$data'
`$env:PSKAFKA_PORT = '0'   # free ports: never clash with a ./pskafka on 9092
New-Item -ItemType Directory -Force '$data' | Out-Null
Set-Location '$data'
Import-Module '$manifest'
Stop-Broker   # brokers are per process: none left by an earlier test file
Start-Broker | Out-Null
"@).Invoke()
        $session.Commands.Clear()
    }

    # Inside the Describe: TestDrive (the data directory) is removed when the block ends.
    AfterAll {
        $null = $session.AddScript('Stop-LogGenerator -ErrorAction SilentlyContinue; Stop-Broker -ErrorAction SilentlyContinue').Invoke()
        $session.Dispose()
        $runspace.Dispose()
        $env:PSKAFKA_DATA, $env:PSKAFKA_PORT = $savedEnv
    }

    It 'has blocks to run' {
        $blocks.Count | Should -BeGreaterThan 20
    }

    It 'runs the block at line <Line> (<Section>)' -ForEach $blocks {
        $session.Commands.Clear()
        $session.Streams.ClearStreams()
        $output = $session.AddScript($Code).AddCommand('Out-String').AddParameter('Width', 200).Invoke()
        $errors = @($session.Streams.Error) | ForEach-Object { "$_ [$($_.FullyQualifiedErrorId)]" }
        $errors | Should -BeNullOrEmpty -Because "the block at line $Line printed:`n$output"
    }
}
