using System.Text;
using PSKafka.Engine.Storage;

namespace PSKafka.Tests.Storage;

public class LogDumpTests
{
    private static byte[] KeyedBatch(CompressionType compression, long timestamp, params (string Key, string? Value)[] records)
    {
        using var b = new RecordBatchBuilder(compression);
        foreach (var (k, v) in records)
            b.Append(timestamp, Encoding.UTF8.GetBytes(k), v is null ? null : Encoding.UTF8.GetBytes(v), [new RecordHeader("h", Encoding.UTF8.GetBytes("x"))]);
        return b.ToArray();
    }

    /// <summary>A live log of three batches: 3 records, 2 gzip records, 4 records, leader epoch 5.</summary>
    private static PartitionLog KnownLog(TempDir dir)
    {
        var log = PartitionLog.Open(dir.Sub("t-0"), Batches.Small(segmentBytes: 1 << 20, indexInterval: 1), recoverAll: false, recoveryPoint: 0);
        log.AppendAsLeader(KeyedBatch(CompressionType.None, 1_000, ("a", "1"), ("b", "2"), ("c", "3")), 5, 0);
        log.AppendAsLeader(KeyedBatch(CompressionType.Gzip, 2_000, ("d", "4"), ("e", null)), 5, 0);
        log.AppendAsLeader(KeyedBatch(CompressionType.None, 3_000, ("f", "6"), ("g", "7"), ("h", "8"), ("i", "9")), 5, 0);
        return log;
    }

    [Fact]
    public void DumpsTheBatchesOfALiveSegmentAsKafkaDumpLogDoes()
    {
        using var dir = new TempDir();
        using var log = KnownLog(dir);
        var path = log.ActiveSegment.LogPath;
        var batches = LogDump.ReadBatches(path, includeRecords: false).ToList();

        Assert.Equal([0L, 3L, 5L], batches.Select(b => b.BaseOffset));
        Assert.Equal([2L, 4L, 8L], batches.Select(b => b.LastOffset));
        Assert.Equal([3, 2, 4], batches.Select(b => b.Count));
        Assert.Equal([0L, batches[0].Size, batches[0].Size + batches[1].Size], batches.Select(b => b.Position));
        Assert.Equal(new FileInfo(path).Length, batches.Sum(b => (long)b.Size));
        Assert.All(batches, b => Assert.True(b.IsValid));
        Assert.All(batches, b => Assert.Equal(5, b.PartitionLeaderEpoch));
        Assert.All(batches, b => Assert.Equal((byte)2, b.Magic));
        Assert.All(batches, b => Assert.Equal(-1L, b.ProducerId));
        Assert.Equal([CompressionType.None, CompressionType.Gzip, CompressionType.None], batches.Select(b => b.Compression));
        Assert.Equal([1_000L, 2_000L, 3_000L], batches.Select(b => b.MaxTimestamp));
        // The CRC printed is the one stored, and it is the CRC-32C of attributes..end.
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new RecordBatch(bytes.AsMemory(0, batches[0].Size)).ComputeCrc(), batches[0].Crc);
        Assert.Null(batches[0].Records);
    }

    [Fact]
    public void DumpsRecordsWithKeysValuesHeadersAndTombstones()
    {
        using var dir = new TempDir();
        using var log = KnownLog(dir);
        var records = LogDump.ReadBatches(log.ActiveSegment.LogPath, includeRecords: true).SelectMany(b => b.Records!).ToList();
        Assert.Equal(Enumerable.Range(0, 9).Select(i => (long)i), records.Select(r => r.Offset));
        Assert.Equal("abcdefghi", string.Concat(records.Select(r => Encoding.UTF8.GetString(r.Key!))));
        Assert.Null(records[4].Value); // the tombstone in the gzip batch
        Assert.Equal("4", Encoding.UTF8.GetString(records[3].Value!));
        Assert.Equal(2_000, records[3].Timestamp);
        Assert.All(records, r => Assert.Equal("h=x", Assert.Single(r.Headers).ToString()));
        Assert.All(records, r => Assert.Equal(-1, r.Sequence));
    }

    [Fact]
    public void ACopiedFileDumpsTheSameAndACorruptByteShowsInvalidWithoutThrowing()
    {
        using var dir = new TempDir();
        using var log = KnownLog(dir);
        var copy = dir.Sub("copy.log");
        File.Copy(log.ActiveSegment.LogPath, copy);
        var original = LogDump.ReadBatches(log.ActiveSegment.LogPath, includeRecords: true).ToList();
        var copied = LogDump.ReadBatches(copy, includeRecords: true).ToList();
        Assert.Equal(original.Select(b => (b.BaseOffset, b.Crc, b.IsValid)), copied.Select(b => (b.BaseOffset, b.Crc, b.IsValid)));

        // Flip a byte inside the first batch's records: its CRC no longer matches, the others still do.
        var bytes = File.ReadAllBytes(copy);
        bytes[RecordBatchFormat.RecordsOffset + 3] ^= 0xFF;
        File.WriteAllBytes(copy, bytes);
        var damaged = LogDump.ReadBatches(copy, includeRecords: true).ToList();
        Assert.Equal(3, damaged.Count);
        Assert.False(damaged[0].IsValid);
        Assert.NotNull(damaged[0].Problem);
        Assert.True(damaged[1].IsValid);
        Assert.True(damaged[2].IsValid);

        // A batch length that runs past the end: reported, and the walk stops there.
        bytes = File.ReadAllBytes(log.ActiveSegment.LogPath);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan((int)original[2].Position + RecordBatchFormat.BatchLengthOffset), 1 << 30);
        File.WriteAllBytes(copy, bytes);
        var torn = LogDump.ReadBatches(copy, includeRecords: false).ToList();
        Assert.Equal(3, torn.Count);
        Assert.True(torn[1].IsValid);
        Assert.False(torn[2].IsValid);
        Assert.Contains("does not fit", torn[2].Problem);
    }

    [Fact]
    public void DumpsIndexEntriesThatPointAtTheBatches()
    {
        using var dir = new TempDir();
        using var log = KnownLog(dir);
        var segment = log.ActiveSegment;
        var batches = LogDump.ReadBatches(segment.LogPath, includeRecords: false).ToList();
        var index = LogDump.ReadOffsetIndex(LogFileNames.IndexFile(log.Directory, 0)).ToList();
        // index.interval.bytes=1: every batch after the first is indexed by its last offset at its position.
        Assert.Equal([(4L, (int)batches[1].Position), (8L, (int)batches[2].Position)], index.Select(e => (e.Offset, e.Position)));
        var time = LogDump.ReadTimeIndex(LogFileNames.TimeIndexFile(log.Directory, 0)).ToList();
        Assert.Equal([(2_000L, 4L), (3_000L, 8L)], time.Select(e => (e.Timestamp, e.Offset)));
    }

    [Fact]
    public void SummarizesSegmentsWithoutDisturbingTheLiveLog()
    {
        using var dir = new TempDir();
        using var log = PartitionLog.Open(dir.Sub("t-0"), Batches.Small(segmentBytes: 600), recoverAll: false, recoveryPoint: 0);
        for (int i = 0; i < 10; i++) log.AppendAsLeader(Batches.Make(4, timestamp: 10_000 + i * 100), 0, 0);
        var summaries = log.DescribeSegments();
        Assert.Equal(log.Segments.Count, summaries.Count);
        Assert.True(summaries.Count > 1);
        Assert.Equal(40, summaries.Sum(s => s.RecordCount));
        Assert.Equal(10, summaries.Sum(s => s.BatchCount));
        Assert.Equal([.. Enumerable.Repeat(false, summaries.Count - 1), true], summaries.Select(s => s.IsActive));
        Assert.Equal(0, summaries[0].FirstOffset);
        Assert.Equal(10_000, summaries[0].FirstTimestamp);
        Assert.Equal(39, summaries[^1].LastOffset);
        Assert.Equal(10_903, summaries[^1].MaxTimestamp);
        for (int i = 1; i < summaries.Count; i++) Assert.Equal(summaries[i - 1].LastOffset + 1, summaries[i].FirstOffset);
        Assert.All(summaries.SkipLast(1), s => Assert.True(s.IndexBytes % 8 == 0 && s.TimeIndexBytes % 12 == 0));
        // Appends go on after the look.
        Assert.Equal(40, log.AppendAsLeader(Batches.Make(1), 0, 0).FirstOffset);
    }
}
