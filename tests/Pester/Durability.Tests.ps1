# An acknowledged message survives kill -9 of the process that hosts the broker.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-PSKafkaForTest
}

Describe 'Durability' {
    # Inside the Describe: its TestDrive (the data directory) is removed when the block ends.
    AfterAll { Stop-TestCluster }

    It 'keeps every message acknowledged with -Acks All across kill -9, in order, once, with valid batches' {
        $data = Join-Path $TestDrive 'killed'
        $manifest = Join-Path (Get-Module PSKafka).ModuleBase 'PSKafka.psd1'
        # The child produces numbered messages in small batches and prints each acknowledged offset.
        $child = @"
Import-Module '$manifest'
`$null = Start-Broker -Port 0 -DataDirectory '$data'
`$null = New-Topic -Name durable -Partitions 1
`$n = 0
while (`$true) {
    `$values = `$n..(`$n + 49)
    `$n += 50
    foreach (`$r in (`$values | Send-Message -Topic durable -Acks All -BatchSize 130 -PassThru)) { [Console]::Out.WriteLine("ACK `$(`$r.Offset)") }
    [Console]::Out.Flush()
}
"@
        $pwsh = Get-PwshCommand
        $psi = [Diagnostics.ProcessStartInfo]::new($pwsh[0])
        foreach ($a in @($pwsh[1], '-NoProfile', '-NonInteractive', '-EncodedCommand', [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($child)))) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.UseShellExecute = $false
        $process = [Diagnostics.Process]::Start($psi)
        $acked = [Collections.Generic.List[long]]::new()
        try {
            $deadline = (Get-Date).AddSeconds(60)
            while ($acked.Count -lt 3000 -and (Get-Date) -lt $deadline) {
                $line = $process.StandardOutput.ReadLine()
                if ($null -eq $line) { break }
                if ($line -match '^ACK (\d+)$') { $acked.Add([long]$Matches[1]) }
            }
        } finally {
            # SIGKILL: no flush, no clean-shutdown marker, no finalizers.
            $process.Kill()
            $process.WaitForExit()
        }
        $acked.Count | Should -BeGreaterOrEqual 3000 -Because ($process.StandardError.ReadToEnd())

        $null = Start-Broker -Port 0 -DataDirectory $data
        $messages = Receive-Message -Topic durable -FromBeginning
        $offsets = [long[]]$messages.Offset
        $values = [long[]]$messages.Value
        # Every acknowledged message is there, in order, once: offset i holds value i.
        $offsets.Count | Should -BeGreaterOrEqual ($acked[-1] + 1)
        for ($i = 0; $i -lt $offsets.Count; $i++) {
            if ($offsets[$i] -ne $i -or $values[$i] -ne $i) { throw "Message $i is offset $($offsets[$i]) with value $($values[$i])." }
        }
        (Get-ChildItem (Join-Path $data 'broker-0/durable-0') -Filter *.log).Count | Should -BeGreaterThan 0
    }
}
