using System.Buffers.Binary;
using PSKafka.Engine;
using PSKafka.Engine.Storage;

namespace PSKafka.Tests.Storage;

public class PartitionLogTests
{
    private static PartitionLog OpenNew(TempDir dir, LogConfig? config = null) =>
        PartitionLog.Open(dir.Sub("topic-0"), config ?? Batches.Small(), recoverAll: false, recoveryPoint: 0);

    [Fact]
    public void LeaderAppendAssignsOffsetsAndRollsSegments()
    {
        using var dir = new TempDir();
        using var log = OpenNew(dir);
        for (int i = 0; i < 50; i++)
        {
            var info = log.AppendAsLeader(Batches.Make(5, 1000 + i), leaderEpoch: 3, now: 0);
            Assert.Equal(ErrorCode.None, info.Error);
            Assert.Equal(i * 5, info.FirstOffset);
            Assert.Equal(i * 5 + 4, info.LastOffset);
            Assert.Equal(5, info.RecordCount);
        }
        Assert.Equal(250, log.LogEndOffset);
        Assert.True(log.Segments.Count >= 3, $"expected rolls, got {log.Segments.Count} segments");
        Assert.All(log.Segments.Take(log.Segments.Count - 1), s => Assert.True(s.Size <= 4096));
        Assert.True(File.Exists(Path.Combine(log.Directory, "00000000000000000000.log")));
        // Every offset reads back from the batch containing it.
        for (long o = 0; o < 250; o++)
        {
            var r = log.Read(o, 1, long.MaxValue);
            Assert.Equal(ErrorCode.None, r.Error);
            var batch = new RecordBatchReader(r.Records).GetEnumerator();
            Assert.True(batch.MoveNext());
            Assert.True(batch.Current.BaseOffset <= o && o <= batch.Current.LastOffset, $"offset {o} in {batch.Current}");
            Assert.Equal(3, batch.Current.PartitionLeaderEpoch);
            Assert.True(batch.Current.IsValid);
        }
        Assert.Equal(ErrorCode.OffsetOutOfRange, log.Read(251, 100).Error);
        Assert.True(log.Read(250, 100).Records.IsEmpty);
        // High watermark limits what is returned.
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), Batches.Offsets(log.Read(0, 1 << 20, maxOffsetExclusive: 10).Records));
    }

    [Fact]
    public void ReadReturnsWholeBatchesWithinMaxBytesButAtLeastOne()
    {
        using var dir = new TempDir();
        using var log = OpenNew(dir, Batches.Small(segmentBytes: 1 << 20));
        int size = Batches.Make(10).Length;
        for (int i = 0; i < 10; i++) log.AppendAsLeader(Batches.Make(10), 0, 0);
        Assert.Equal(size, log.Read(0, 1).Records.Length);           // one batch even if larger than maxBytes
        Assert.Equal(2 * size, log.Read(0, 2 * size + 5).Records.Length);
        var fromMiddle = log.Read(15, 3 * size);
        Assert.Equal(10, new RecordBatchReader(fromMiddle.Records).GetEnumerator() is var e && e.MoveNext() ? e.Current.BaseOffset : -1);
    }

    [Fact]
    public void ARentedReadHoldsTheSameBatchesInAPooledArray()
    {
        using var dir = new TempDir();
        using var log = OpenNew(dir, Batches.Small(segmentBytes: 1 << 20));
        for (int i = 0; i < 10; i++) log.AppendAsLeader(Batches.Make(10), 0, 0);
        int size = Batches.Make(10).Length;
        var plain = log.Read(15, 3 * size);
        var rented = log.Read(15, 3 * size, rent: true);
        Assert.Null(plain.Lease);
        Assert.NotNull(rented.Lease);
        Assert.True(plain.Records.Span.SequenceEqual(rented.Records.Span));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(rented.Records, out var segment));
        Assert.Same(rented.Lease, segment.Array); // what goes back to the pool is what the records live in
        IoBuffers.Pool.Return(rented.Lease!);
        // Nothing to read: nothing rented.
        Assert.Null(log.Read(100, 1 << 20, rent: true).Lease);
    }

    [Fact]
    public void LeaderAppendRejectsOversizedAndCorruptBatches()
    {
        using var dir = new TempDir();
        using var log = OpenNew(dir, Batches.Small() with { MaxMessageBytes = 500 });
        Assert.Equal(ErrorCode.MessageTooLarge, log.AppendAsLeader(Batches.Make(40), 0, 0).Error);
        var corrupt = Batches.Make(3);
        corrupt[^2] ^= 1;
        Assert.Equal(ErrorCode.CorruptMessage, log.AppendAsLeader(corrupt, 0, 0).Error);
        var truncatedTail = Batches.Make(3).Concat(Batches.Make(2)[..30]).ToArray();
        Assert.Equal(ErrorCode.CorruptMessage, log.AppendAsLeader(truncatedTail, 0, 0).Error);
        Assert.Equal(0, log.LogEndOffset);
        Assert.Equal(ErrorCode.None, log.AppendAsLeader(Batches.Make(3), 0, 0).Error);
        Assert.Equal(3, log.LogEndOffset);
    }

    [Fact]
    public void LogAppendTimeIsStampedByTheLeader()
    {
        using var dir = new TempDir();
        using var log = OpenNew(dir, Batches.Small() with { MessageTimestampType = TimestampType.LogAppendTime });
        var info = log.AppendAsLeader(Batches.Make(3, timestamp: 5), 0, now: 777);
        Assert.Equal(777, info.LogAppendTime);
        foreach (var b in new RecordBatchReader(log.Read(0, 1000).Records))
        {
            Assert.True(b.IsValid);
            foreach (var r in b.Records) Assert.Equal(777, r.Timestamp);
        }
    }

    [Fact]
    public void FollowerAppendKeepsOffsetsAndRequiresContiguity()
    {
        using var dir = new TempDir();
        using var log = OpenNew(dir);
        Assert.Equal(ErrorCode.None, log.AppendAsFollower(Batches.Make(5, baseOffset: 0, epoch: 1)).Error);
        Assert.Equal(ErrorCode.OffsetOutOfRange, log.AppendAsFollower(Batches.Make(5, baseOffset: 3, epoch: 1)).Error);
        var twoWithGap = Batches.Make(2, baseOffset: 5, epoch: 2).Concat(Batches.Make(2, baseOffset: 8, epoch: 2)).ToArray();
        Assert.Equal(ErrorCode.OffsetOutOfRange, log.AppendAsFollower(twoWithGap).Error);
        Assert.Equal(ErrorCode.None, log.AppendAsFollower(Batches.Make(2, baseOffset: 5, epoch: 2)).Error);
        Assert.Equal(7, log.LogEndOffset);
        Assert.Equal(new[] { (1, 0L), (2, 5L) }, log.LeaderEpochCache.Entries);
    }

    /// <summary>
    /// Property: cutting the .log at any byte and reopening after an unclean shutdown keeps exactly the batches that
    /// end at or before the cut, and appends continue at the offset after them.
    /// </summary>
    [Fact]
    public void RecoveryAfterTornWriteKeepsExactlyTheCompleteBatches()
    {
        using var dir = new TempDir();
        var config = Batches.Small(segmentBytes: 1 << 20, indexInterval: 128);
        string src = dir.Sub("src-0");
        var ends = new List<(int EndPosition, long NextOffset)>();
        var rnd = new Random(20240601);
        using (var log = PartitionLog.Open(src, config, false, 0))
        {
            int pos = 0;
            for (int i = 0; i < 40; i++)
            {
                var batch = Batches.Make(rnd.Next(1, 8), valueSize: rnd.Next(1, 60));
                var info = log.AppendAsLeader(batch, 0, 0);
                pos += batch.Length;
                ends.Add((pos, info.LastOffset + 1));
            }
        }
        var logBytes = File.ReadAllBytes(LogFileNames.LogFile(src, 0));
        var indexBytes = File.ReadAllBytes(LogFileNames.IndexFile(src, 0));
        var timeBytes = File.ReadAllBytes(LogFileNames.TimeIndexFile(src, 0));
        Assert.Equal(ends[^1].EndPosition, logBytes.Length);

        for (int iter = 0; iter < 300; iter++)
        {
            int cut = iter < 5 ? new[] { 0, 1, logBytes.Length, ends[0].EndPosition, ends[10].EndPosition }[iter] : rnd.Next(0, logBytes.Length + 1);
            string d = dir.Sub($"cut{iter}-0");
            Directory.CreateDirectory(d);
            File.WriteAllBytes(LogFileNames.LogFile(d, 0), logBytes[..cut]);
            if (iter % 2 == 0)
            {
                // Stale indexes from before the cut, as after a crash.
                File.WriteAllBytes(LogFileNames.IndexFile(d, 0), indexBytes);
                File.WriteAllBytes(LogFileNames.TimeIndexFile(d, 0), timeBytes);
            }
            long expectedNext = ends.Where(e => e.EndPosition <= cut).Select(e => e.NextOffset).DefaultIfEmpty(0).Max();
            int expectedSize = ends.Where(e => e.EndPosition <= cut).Select(e => e.EndPosition).DefaultIfEmpty(0).Max();
            using var log = PartitionLog.Open(d, config, recoverAll: true, recoveryPoint: 0);
            Assert.Equal(expectedNext, log.LogEndOffset);
            Assert.Equal(expectedSize, new FileInfo(LogFileNames.LogFile(d, 0)).Length);
            var all = expectedNext == 0 ? [] : Batches.Offsets(log.Read(0, 1 << 20).Records);
            Assert.Equal(Enumerable.Range(0, (int)expectedNext).Select(i => (long)i), all);
            var info = log.AppendAsLeader(Batches.Make(2), 0, 0);
            Assert.Equal(expectedNext, info.FirstOffset);
            Assert.Equal(new[] { expectedNext, expectedNext + 1 }, Batches.Offsets(log.Read(expectedNext, 1000).Records));
            if (expectedNext > 0)
            {
                long probe = rnd.NextInt64(0, expectedNext);
                Assert.Contains(probe, Batches.Offsets(log.Read(probe, 1).Records));
            }
        }
    }

    [Fact]
    public void CorruptByteInTheMiddleTruncatesFromThatBatch()
    {
        using var dir = new TempDir();
        var config = Batches.Small(segmentBytes: 1 << 20);
        string d = dir.Sub("t-0");
        int[] starts = new int[10];
        using (var log = PartitionLog.Open(d, config, false, 0))
        {
            int pos = 0;
            for (int i = 0; i < 10; i++)
            {
                starts[i] = pos;
                var b = Batches.Make(4);
                log.AppendAsLeader(b, 0, 0);
                pos += b.Length;
            }
        }
        var path = LogFileNames.LogFile(d, 0);
        var bytes = File.ReadAllBytes(path);
        bytes[starts[6] + 70] ^= 0x10; // inside the records of the 7th batch
        File.WriteAllBytes(path, bytes);
        using var reopened = PartitionLog.Open(d, config, recoverAll: true, recoveryPoint: 0);
        Assert.Equal(24, reopened.LogEndOffset);
        Assert.Equal(starts[6], new FileInfo(path).Length);
    }

    [Theory]
    [InlineData("delete")]
    [InlineData("garble")]
    public void MissingOrCorruptIndexesAreRebuiltEvenAfterCleanShutdown(string damage)
    {
        using var dir = new TempDir();
        var config = Batches.Small(segmentBytes: 1 << 20, indexInterval: 100);
        string d = dir.Sub("t-0");
        using (var log = PartitionLog.Open(d, config, false, 0))
            for (int i = 0; i < 30; i++) log.AppendAsLeader(Batches.Make(3, timestamp: 1000 * i), 0, 0);
        string oi = LogFileNames.IndexFile(d, 0), ti = LogFileNames.TimeIndexFile(d, 0);
        long oiLen = new FileInfo(oi).Length, tiLen = new FileInfo(ti).Length;
        Assert.True(oiLen > 0 && tiLen > 0);
        if (damage == "delete")
        {
            File.Delete(oi);
            File.Delete(ti);
        }
        else
        {
            File.WriteAllBytes(oi, Enumerable.Repeat((byte)0x7F, (int)oiLen).ToArray());
            File.WriteAllBytes(ti, new byte[tiLen + 5]);
        }
        using (var log = PartitionLog.Open(d, config, recoverAll: false, recoveryPoint: 90))
        {
            Assert.Equal(90, log.LogEndOffset);
            for (long o = 0; o < 90; o += 7) Assert.Contains(o, Batches.Offsets(log.Read(o, 1).Records));
            Assert.Equal(42L, log.OffsetForTimestamp(14_000)?.Offset);
        }
        Assert.Equal(oiLen, new FileInfo(oi).Length);
        Assert.Equal(tiLen, new FileInfo(ti).Length);
    }

    [Fact]
    public void OffsetForTimestampUsesTheTimeIndex()
    {
        using var dir = new TempDir();
        using var log = OpenNew(dir);
        for (int i = 0; i < 40; i++) log.AppendAsLeader(Batches.Make(5, timestamp: 10_000 + i * 100), 0, 0);
        Assert.Equal((10_000L, 0L), log.OffsetForTimestamp(0));
        Assert.Equal((10_502L, 27L), log.OffsetForTimestamp(10_502));
        Assert.Equal((10_600L, 30L), log.OffsetForTimestamp(10_505)); // first record at or after
        Assert.Null(log.OffsetForTimestamp(99_999));
        Assert.Equal(200L, log.OffsetForTimestamp(PartitionLog.LatestTimestamp)?.Offset);
        Assert.Equal(0L, log.OffsetForTimestamp(PartitionLog.EarliestTimestamp)?.Offset);
    }

    [Fact]
    public void RetentionDeletesOnlyWholeClosedSegments()
    {
        using var dir = new TempDir();
        using var log = OpenNew(dir);
        for (int i = 0; i < 60; i++) log.AppendAsLeader(Batches.Make(5, timestamp: i < 30 ? 1_000 : 900_000), 0, 0);
        int before = log.Segments.Count;
        var oldSegments = log.Segments.Where(s => s.LargestTimestamp < 100_000).ToList();
        Assert.NotEmpty(oldSegments);
        int deleted = log.ApplyRetention(retentionMs: 500_000, retentionBytes: -1, now: 1_000_000);
        Assert.Equal(oldSegments.Count, deleted);
        Assert.Equal(before - deleted, log.Segments.Count);
        Assert.Equal(log.Segments[0].BaseOffset, log.LogStartOffset);
        Assert.True(log.LogStartOffset > 0 && log.LogStartOffset <= 150);
        Assert.Equal(ErrorCode.OffsetOutOfRange, log.Read(0, 100).Error);
        Assert.Equal(log.LogStartOffset, Batches.Offsets(log.Read(log.LogStartOffset, 1).Records)[0]);
        Assert.False(File.Exists(LogFileNames.LogFile(log.Directory, 0)));

        long size = log.Size;
        deleted = log.ApplyRetention(retentionMs: -1, retentionBytes: size / 2, now: 0);
        Assert.True(deleted > 0);
        Assert.True(log.Size <= size - size / 2 + log.Segments[0].Size);
        Assert.True(log.Segments.Count >= 1);
        Assert.Equal(300, log.LogEndOffset);
    }

    [Fact]
    public void TruncationRemovesTailAndEpochs()
    {
        using var dir = new TempDir();
        using var log = OpenNew(dir);
        for (int i = 0; i < 40; i++) log.AppendAsLeader(Batches.Make(5), leaderEpoch: i < 20 ? 1 : 2, now: 0);
        Assert.Equal(new[] { (1, 0L), (2, 100L) }, log.LeaderEpochCache.Entries);
        Assert.Equal((1, 100L), log.LeaderEpochCache.EndOffsetFor(1, log.LogEndOffset));
        log.TruncateTo(95);
        Assert.Equal(95, log.LogEndOffset);
        Assert.Equal(Enumerable.Range(90, 5).Select(i => (long)i), Batches.Offsets(log.Read(90, 1 << 20).Records));
        Assert.Equal(new[] { (1, 0L) }, log.LeaderEpochCache.Entries);
        Assert.Equal(95, log.AppendAsLeader(Batches.Make(1), 3, 0).FirstOffset);
        log.TruncateFullyAndStartAt(1000);
        Assert.Equal(1000, log.LogStartOffset);
        Assert.Equal(1000, log.LogEndOffset);
        Assert.Single(log.Segments);
        Assert.Equal(1000, log.AppendAsLeader(Batches.Make(1), 4, 0).FirstOffset);
    }

    [Fact]
    public void LeaderEpochCheckpointRoundTripsInKafkaFormat()
    {
        using var dir = new TempDir();
        var path = dir.Sub(LogFileNames.LeaderEpochCheckpoint);
        var cache = new LeaderEpochCache(path);
        cache.Assign(0, 0);
        cache.Assign(0, 10);  // same epoch: no new entry
        cache.Assign(3, 150);
        cache.Assign(5, 400);
        Assert.Equal("0\n3\n0 0\n3 150\n5 400\n", File.ReadAllText(path));
        var reloaded = new LeaderEpochCache(path);
        Assert.Equal(cache.Entries, reloaded.Entries);
        Assert.Equal((5, 999L), reloaded.EndOffsetFor(5, 999));
        Assert.Equal((3, 400L), reloaded.EndOffsetFor(4, 999));
        Assert.Equal((0, 150L), reloaded.EndOffsetFor(2, 999));
        Assert.Equal((-1, -1L), reloaded.EndOffsetFor(9, 999));
        reloaded.TruncateFromEnd(150);
        Assert.Equal(new[] { (0, 0L) }, reloaded.Entries);
        reloaded.Assign(6, 200);
        reloaded.TruncateFromStart(250);
        Assert.Equal(new[] { (6, 250L) }, reloaded.Entries);
    }

    [Fact]
    public async Task ConcurrentReadersNeverSeeHalfWrittenBatches()
    {
        using var dir = new TempDir();
        using var log = OpenNew(dir, Batches.Small(segmentBytes: 64 * 1024));
        var stop = false;
        var errors = new List<string>();
        var reader = Task.Run(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                long leo = log.LogEndOffset;
                if (leo == 0) continue;
                var r = log.Read(Math.Max(0, leo - 7), 4096);
                if (r.Error != ErrorCode.None) continue; // retention is off; only OutOfRange would be a bug
                var reader = new RecordBatchReader(r.Records);
                while (reader.MoveNext()) if (!reader.Current.IsValid) lock (errors) errors.Add("bad crc");
                if (reader.BytesConsumed != r.Records.Length) lock (errors) errors.Add("partial batch");
            }
        });
        for (int i = 0; i < 2000; i++) log.AppendAsLeader(Batches.Make(3), 0, 0);
        Volatile.Write(ref stop, true);
        await reader;
        Assert.Empty(errors);
        Assert.Equal(6000, log.LogEndOffset);
    }
}
