using System.Text;
using PSKafka.Engine;
using PSKafka.Engine.Storage;

namespace PSKafka.Tests.Storage;

public class LogCleanerTests
{
    private const long Now = 1_800_000_000_000;

    private static LogConfig Compacted(long deleteRetentionMs = 60_000) =>
        Batches.Small(segmentBytes: 250, indexInterval: 64) with { CleanupPolicy = "compact", DeleteRetentionMs = deleteRetentionMs };

    private static byte[] Batch(CompressionType compression, params (string Key, string? Value)[] records)
    {
        using var b = new RecordBatchBuilder(compression);
        foreach (var (k, v) in records) b.Append(Now - 1000, Encoding.UTF8.GetBytes(k), v is null ? null : Encoding.UTF8.GetBytes(v));
        return b.ToArray();
    }

    /// <summary>Everything a consumer reading from the log start sees: offset → (key, value).</summary>
    private static List<(long Offset, string Key, string? Value)> ReadAll(PartitionLog log)
    {
        var all = new List<(long, string, string?)>();
        long next = log.LogStartOffset;
        while (next < log.LogEndOffset)
        {
            var r = log.Read(next, 1 << 20);
            Assert.Equal(ErrorCode.None, r.Error);
            if (r.Records.IsEmpty) break;
            foreach (var batch in new RecordBatchReader(r.Records))
            {
                Assert.True(batch.IsValid, $"batch at {batch.BaseOffset} has a bad CRC");
                foreach (var rec in batch.Records)
                    if (rec.Offset >= next) all.Add((rec.Offset, Encoding.UTF8.GetString(rec.Key.Span), rec.ValueIsNull ? null : Encoding.UTF8.GetString(rec.Value.Span)));
                next = batch.NextOffset;
            }
        }
        return all;
    }

    [Fact]
    public void KeepsTheNewestValuePerKeyWithOffsetsUnchangedAndLeavesTheActiveSegmentAlone()
    {
        using var dir = new TempDir();
        using var log = PartitionLog.Open(dir.Sub("t-0"), Compacted(), recoverAll: false, recoveryPoint: 0);
        // 8 rounds over keys k0..k4; every other batch gzip, so rebuilt batches are recompressed.
        for (int round = 0; round < 8; round++)
            log.AppendAsLeader(Batch(round % 2 == 0 ? CompressionType.None : CompressionType.Gzip,
                Enumerable.Range(0, 5).Select(k => ($"k{k}", (string?)$"v{k}-{round}")).ToArray()), 0, 0);
        Assert.True(log.Segments.Count >= 3);
        var before = ReadAll(log);
        Assert.Equal(40, before.Count);
        var active = log.ActiveSegment;
        var activeBytes = File.ReadAllBytes(active.LogPath);
        long firstUncleanable = active.BaseOffset;

        var cleaner = new LogCleaner(dir.Path);
        var result = cleaner.Clean("t", 0, log, Now);

        Assert.True(result.Cleaned, result.Reason);
        Assert.Equal(1.0, result.DirtyRatio);
        Assert.Equal(firstUncleanable, result.FirstUncleanableOffset);
        Assert.True(result.BytesAfter < result.BytesBefore);
        Assert.Same(active, log.ActiveSegment);
        Assert.Equal(activeBytes, File.ReadAllBytes(active.LogPath));
        Assert.Equal(0, log.LogStartOffset);
        Assert.Equal(40, log.LogEndOffset);

        var after = ReadAll(log);
        // Below the active segment: only the latest record of each key there, at its original offset.
        var expectedClean = before.Where(r => r.Offset < firstUncleanable).GroupBy(r => r.Key).Select(g => g.MaxBy(r => r.Offset)).OrderBy(r => r.Offset).ToList();
        Assert.Equal(expectedClean, after.Where(r => r.Offset < firstUncleanable).ToList());
        // The active segment reads as before.
        Assert.Equal(before.Where(r => r.Offset >= firstUncleanable), after.Where(r => r.Offset >= firstUncleanable));
        // Every batch on disk is valid, and gaps are in the offsets, not in the batch offsets' order.
        var dumped = log.Segments.SelectMany(s => LogDump.ReadBatches(s.LogPath, includeRecords: true)).ToList();
        Assert.All(dumped, b => Assert.True(b.IsValid));
        Assert.True(dumped.Zip(dumped.Skip(1)).All(p => p.First.LastOffset < p.Second.BaseOffset));
        Assert.Equal(firstUncleanable, cleaner.FirstDirtyOffset("t", 0));
        Assert.True(File.Exists(Path.Combine(dir.Path, LogFileNames.CleanerOffsetCheckpoint)));

        // Nothing new is dirty: the next run is not due.
        Assert.False(cleaner.Clean("t", 0, log, Now).Cleaned);

        // Reopened from disk (indexes rebuilt by the swap), it reads the same and takes appends.
        log.Close();
        using var reopened = PartitionLog.Open(dir.Sub("t-0"), Compacted(), recoverAll: false, recoveryPoint: 40);
        Assert.Equal(after, ReadAll(reopened));
        Assert.Equal(40, reopened.AppendAsLeader(Batch(CompressionType.None, ("k0", "late")), 0, 0).FirstOffset);
        Assert.Empty(Directory.EnumerateFiles(reopened.Directory, "*" + LogFileNames.CleanedSuffix));
        Assert.Empty(Directory.EnumerateFiles(reopened.Directory, "*" + LogFileNames.SwapSuffix));
    }

    [Fact]
    public void TombstonesStayForDeleteRetentionMsAfterTheFirstCleaningThenGo()
    {
        using var dir = new TempDir();
        const long deleteRetention = 60_000;
        using var log = PartitionLog.Open(dir.Sub("t-0"), Compacted(deleteRetention), recoverAll: false, recoveryPoint: 0);
        log.AppendAsLeader(Batch(CompressionType.None, ("gone", "1"), ("kept", "1")), 0, 0);
        log.AppendAsLeader(Batch(CompressionType.Lz4, ("gone", null), ("kept", "2")), 0, 0);
        log.Roll();
        log.AppendAsLeader(Batch(CompressionType.None, ("other", "x")), 0, 0);
        var cleaner = new LogCleaner(dir.Path);

        Assert.True(cleaner.Clean("t", 0, log, Now).Cleaned);
        // The old value of "gone" is gone; its tombstone stays, stamped with a delete horizon (KIP-534).
        Assert.Equal([(2L, "gone", (string?)null), (3L, "kept", "2"), (4L, "other", "x")], ReadAll(log));
        var stamped = LogDump.ReadBatches(log.Segments[0].LogPath, includeRecords: true).Single(b => b.Records!.Any(r => r.Value is null));
        Assert.Equal(Now + deleteRetention, stamped.DeleteHorizonMs);
        Assert.Equal(Now - 1000, stamped.Records!.Single(r => r.Value is null).Timestamp); // record time survives the re-basing

        // Before the horizon: not due, and even forced the tombstone stays.
        Assert.False(cleaner.Clean("t", 0, log, Now + deleteRetention - 1).Cleaned);
        Assert.True(cleaner.Clean("t", 0, log, Now + deleteRetention - 1, force: true).Cleaned);
        Assert.Contains(ReadAll(log), r => r.Key == "gone");

        // After it: due without force (the horizon passed), and the tombstone is removed.
        var last = cleaner.Clean("t", 0, log, Now + deleteRetention + 1);
        Assert.True(last.Cleaned);
        Assert.Equal(1, last.TombstonesRemoved);
        Assert.Equal([(3L, "kept", "2"), (4L, "other", "x")], ReadAll(log));
        Assert.Equal(5, log.LogEndOffset);
    }

    [Fact]
    public void CleansOnlyAboveTheDirtyRatioAndBelowTheHighWatermark()
    {
        using var dir = new TempDir();
        using var log = PartitionLog.Open(dir.Sub("t-0"), Compacted() with { MinCleanableDirtyRatio = 0.99, SegmentBytes = 1 << 20 }, recoverAll: false, recoveryPoint: 0);
        for (int i = 0; i < 6; i++) log.AppendAsLeader(Batch(CompressionType.None, ("same", $"v{i}")), 0, 0);
        log.Roll();
        var cleaner = new LogCleaner(dir.Path);
        // Ratio 1.0 > 0.99, but the high watermark at 3 keeps the cleaner off the segment holding offsets 3..5.
        var result = cleaner.Clean("t", 0, log, Now, highWatermark: 3);
        Assert.False(result.Cleaned);
        Assert.Equal(6, ReadAll(log).Count);
        result = cleaner.Clean("t", 0, log, Now, highWatermark: 6);
        Assert.True(result.Cleaned);
        Assert.Equal([(5L, "same", (string?)"v5")], ReadAll(log));

        var deleteOnly = PartitionLog.Open(dir.Sub("d-0"), Batches.Small(), recoverAll: false, recoveryPoint: 0);
        using (deleteOnly)
        {
            deleteOnly.AppendAsLeader(Batch(CompressionType.None, ("a", "1")), 0, 0);
            deleteOnly.Roll();
            Assert.Contains("compact", cleaner.Clean("d", 0, deleteOnly, Now, force: true).Reason);
        }
    }
}
