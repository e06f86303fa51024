<#
.SYNOPSIS
    PowerShell-level group benchmark: 1,000,000 records of 100 bytes read with Receive-Message into
    an empty cmdlet (Out-Null), without a group and with -Group (auto-commit), same run and data.
    Prints Markdown rows | name | result | detail |.
#>
param([Parameter(Mandatory)] [string] $ModulePath, [int] $Records = 1000000)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$data = Join-Path ([IO.Path]::GetTempPath()) ("pskafka-bench-ps-groups-" + [guid]::NewGuid().ToString('N'))
try {
    $null = Start-Broker -DataDirectory $data
    # A new group's first join waits group.initial.rebalance.delay.ms (3 s); the rows compare reading, not that wait.
    [PSKafka.Cmdlets.Infrastructure.Session]::LocalCluster.BrokerConfigs.Set('group.initial.rebalance.delay.ms', '0')
    $null = New-Topic -Name bench -Partitions 1
    $value = 'x' * 100
    $client = [PSKafka.Cmdlets.Infrastructure.Session]::Client
    $producer = $client.OpenProducer([PSKafka.Client.ProducerSettings]::new())
    $bytes = [Text.Encoding]::UTF8.GetBytes($value)
    for ($i = 0; $i -lt $Records; $i++) {
        $record = [PSKafka.Client.OutgoingRecord]::new("bench", 0, $null, $bytes, $null, 0)
        $producer.Send([ref] $record, $null)
    }
    $null = $producer.Flush($null, [timespan]::FromMinutes(5)); $producer.Dispose()

    # Alternating runs; the first pair warms up (JIT, page cache) and is not reported.
    foreach ($run in 1..2) {
        $plain = Measure-Command { Receive-Message -Topic bench -FromBeginning | Out-Null }
        Remove-ConsumerGroup -Name bench-ps -ErrorAction SilentlyContinue
        $group = Measure-Command { Receive-Message -Topic bench -Group bench-ps -FromBeginning | Out-Null }
    }
    $n = (Get-ConsumerGroupOffset -Group bench-ps).CurrentOffset
    if ($n -ne $Records) { throw "The group committed $n, expected $Records." }
    "| Receive-Message (no group) into Out-Null, 1M x 100 B | {0:N0} records/s | {1:N0} ms |" -f ($Records / $plain.TotalSeconds), $plain.TotalMilliseconds
    "| Receive-Message -Group into Out-Null, 1M x 100 B | {0:N0} records/s | {1:N0} ms, {2:N2}x no group (goal <= 1.2x) |" -f ($Records / $group.TotalSeconds), $group.TotalMilliseconds, ($group.TotalMilliseconds / $plain.TotalMilliseconds)
} finally {
    Stop-Broker -ErrorAction SilentlyContinue
    Remove-Item $data -Recurse -Force -ErrorAction SilentlyContinue
}
