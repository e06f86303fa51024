using PSKafka.Engine.Storage;

namespace PSKafka.Tests.Storage;

/// <summary>Temp directories and batch factories shared by the log tests.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "pskafka-test-" + Guid.NewGuid().ToString("N")));
    public string Path { get; }
    public string Sub(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose()
    {
        try { Directory.Delete(Path, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

internal static class Batches
{
    /// <summary>One batch of <paramref name="count"/> records, values "v{i}" padded to <paramref name="valueSize"/>.</summary>
    public static byte[] Make(int count, long timestamp = 1_000, int valueSize = 20, long baseOffset = 0, int epoch = -1)
    {
        using var b = new RecordBatchBuilder { BaseOffset = baseOffset, PartitionLeaderEpoch = epoch };
        for (int i = 0; i < count; i++)
        {
            var v = new byte[valueSize];
            BitConverter.TryWriteBytes(v, i);
            b.Append(timestamp + i, null, v);
        }
        return b.ToArray();
    }

    public static List<long> Offsets(ReadOnlyMemory<byte> data)
    {
        var list = new List<long>();
        foreach (var batch in new RecordBatchReader(data))
            foreach (var r in batch.Records) list.Add(r.Offset);
        return list;
    }

    public static LogConfig Small(int segmentBytes = 4096, int indexInterval = 256) =>
        LogConfig.Default with { SegmentBytes = segmentBytes, IndexIntervalBytes = indexInterval, SegmentIndexBytes = 4096, FileDeleteDelayMs = 0 };
}
