using PSKafka.Engine;
using PSKafka.Engine.Storage;

namespace PSKafka.Tests.Storage;

public class RetentionTests
{
    [Fact]
    public void AnActiveSegmentPastRetentionIsRolledAndDeletedAndReadersStartAtTheNewStart()
    {
        using var dir = new TempDir();
        using var log = PartitionLog.Open(dir.Sub("t-0"), Batches.Small(segmentBytes: 1 << 20), recoverAll: false, recoveryPoint: 0);
        for (int i = 0; i < 5; i++) log.AppendAsLeader(Batches.Make(3, timestamp: 1_000), 0, 0);
        Assert.Single(log.Segments);

        Assert.Equal(0, log.ApplyRetention(retentionMs: 10_000, retentionBytes: -1, now: 5_000)); // not old enough
        Assert.Equal(1, log.ApplyRetention(retentionMs: 10_000, retentionBytes: -1, now: 20_000));

        Assert.Equal(15, log.LogStartOffset);
        Assert.Equal(15, log.LogEndOffset);
        var only = Assert.Single(log.Segments);
        Assert.Equal(15, only.BaseOffset);
        Assert.Equal(ErrorCode.OffsetOutOfRange, log.Read(0, 100).Error);
        Assert.Equal(15, log.AppendAsLeader(Batches.Make(1, timestamp: 20_000), 0, 0).FirstOffset);
        Assert.Equal([15L], Batches.Offsets(log.Read(log.LogStartOffset, 1 << 20).Records));
        // An empty active segment is never deleted, however old the log.
        log.Roll();
        Assert.Equal(1, log.ApplyRetention(retentionMs: 0, retentionBytes: -1, now: long.MaxValue / 2));
        Assert.Single(log.Segments);
    }

    [Fact]
    public void RetentionNeverPassesTheHighWatermark()
    {
        using var dir = new TempDir();
        using var log = PartitionLog.Open(dir.Sub("t-0"), Batches.Small(segmentBytes: 300), recoverAll: false, recoveryPoint: 0);
        for (int i = 0; i < 10; i++) log.AppendAsLeader(Batches.Make(2, timestamp: 1_000), 0, 0);
        var bases = log.Segments.Select(s => s.BaseOffset).ToList();
        Assert.True(bases.Count >= 3);
        long hw = bases[2]; // only the first two segments lie wholly below it
        Assert.Equal(2, log.ApplyRetention(retentionMs: 0, retentionBytes: -1, now: 1_000_000, highWatermark: hw));
        Assert.Equal(hw, log.LogStartOffset);
    }

    [Fact]
    public void SizeRetentionDeletesOnlyWholeOldestSegments()
    {
        using var dir = new TempDir();
        using var log = PartitionLog.Open(dir.Sub("t-0"), Batches.Small(segmentBytes: 500), recoverAll: false, recoveryPoint: 0);
        for (int i = 0; i < 20; i++) log.AppendAsLeader(Batches.Make(2, timestamp: 1_000), 0, 0);
        var sizes = log.Segments.Select(s => (long)s.Size).ToList();
        long total = sizes.Sum();
        // Keep at most total - first - half of the second: only the first segment may go.
        long limit = total - sizes[0] - sizes[1] / 2;
        Assert.Equal(1, log.ApplyRetention(retentionMs: -1, retentionBytes: limit, now: 0));
        Assert.Equal(total - sizes[0], log.Size);
        Assert.True(log.Size > limit);
    }
}
