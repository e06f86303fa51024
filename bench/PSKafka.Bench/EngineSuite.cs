using System.Diagnostics;
using PSKafka.Engine.Storage;

namespace PSKafka.Bench;

/// <summary>
/// Storage engine: 1,000,000 records of 100-byte values built with RecordBatchBuilder in batches of 1000,
/// appended as leader to one PartitionLog in a temp dir, then read back by decoding every record.
/// </summary>
public sealed class EngineSuite : IBenchSuite
{
    private const int Records = 1_000_000;
    private const int BatchSize = 1000;
    private const int ValueSize = 100;

    public string Name => "engine";

    public void Run(TextWriter output)
    {
        Measure(warmup: true, output);   // JIT and page cache warm-up, not reported
        Measure(warmup: false, output);
        MeasureBuilderAndCrc(output);
    }

    /// <summary>The pieces on their own: batch building (no I/O) and CRC-32C throughput.</summary>
    private static void MeasureBuilderAndCrc(TextWriter output)
    {
        var value = new byte[ValueSize];
        var key = "key-0000"u8.ToArray();
        using var builder = new RecordBatchBuilder();
        long bytes = 0;
        var sw = Stopwatch.StartNew();
        for (int done = 0; done < Records; done += BatchSize)
        {
            builder.Reset();
            for (int i = 0; i < BatchSize; i++) builder.Append(1, key, value);
            bytes += builder.Build().Length;
        }
        output.WriteLine(BenchRow.Format("record batch build only (1M x 100 B, batches of 1000)", Records, (long)Records * ValueSize, sw.Elapsed));

        var data = new byte[64 << 20];
        new Random(2).NextBytes(data);
        uint crc = Crc32C.Compute(data);
        sw.Restart();
        for (int i = 0; i < 8; i++) crc ^= Crc32C.Compute(data);
        var t = sw.Elapsed;
        output.WriteLine($"| crc32c (8 x 64 MiB) | {8.0 * data.Length / t.TotalSeconds / 1e9:N2} GB/s | crc {crc:x8} |");
    }

    private static void Measure(bool warmup, TextWriter output)
    {
        string dir = Path.Combine(Path.GetTempPath(), "pskafka-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            int records = warmup ? Records / 10 : Records;
            var value = new byte[ValueSize];
            new Random(1).NextBytes(value);
            var key = "key-0000"u8.ToArray();
            long payloadBytes = (long)records * ValueSize;

            using var log = PartitionLog.Open(Path.Combine(dir, "bench-0"), LogConfig.Default, recoverAll: false, recoveryPoint: 0);
            using var builder = new RecordBatchBuilder();
            long ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

            var sw = Stopwatch.StartNew();
            for (int done = 0; done < records; done += BatchSize)
            {
                builder.Reset();
                for (int i = 0; i < BatchSize; i++) builder.Append(ts, key, value);
                var info = log.AppendAsLeader(builder.Build().Span, leaderEpoch: 0, now: ts);
                if (info.Error != PSKafka.Engine.ErrorCode.None) throw new InvalidOperationException(info.ErrorMessage);
            }
            var appendTime = sw.Elapsed;
            long logBytes = log.Size;

            sw.Restart();
            long offset = 0, seen = 0, checksum = 0;
            while (offset < log.LogEndOffset)
            {
                var r = log.Read(offset, 1 << 20);
                foreach (var batch in new RecordBatchReader(r.Records))
                {
                    foreach (var rec in batch.Records)
                    {
                        if (rec.Offset < offset) continue;
                        seen++;
                        checksum += rec.Value.Length + rec.Key.Length;
                        offset = rec.Offset + 1;
                    }
                }
            }
            var readTime = sw.Elapsed;
            if (seen != records) throw new InvalidOperationException($"Read {seen} records, expected {records}.");
            if (checksum == 0) throw new InvalidOperationException("No payload read.");

            if (!warmup)
            {
                output.WriteLine(BenchRow.Format("engine append (1M x 100 B, 1 partition)", records, payloadBytes, appendTime));
                output.WriteLine(BenchRow.Format("engine read + decode (1M x 100 B, 1 partition)", records, payloadBytes, readTime));
                output.WriteLine($"<!-- log size {logBytes:N0} bytes, {log.Segments.Count} segment(s) -->");
            }
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }
}
