using PSKafka.Engine.Storage;

namespace PSKafka.Tests.Storage;

public class LogManagerTests
{
    [Fact]
    public void CleanShutdownMarkerAndCheckpointsFollowKafkasFormat()
    {
        using var dir = new TempDir();
        using (var mgr = LogManager.Open(dir.Path, Batches.Small()))
        {
            Assert.False(mgr.HadCleanShutdown);
            var a = mgr.GetOrCreateLog("orders.v1-eu", 2);
            var b = mgr.GetOrCreateLog("x", 0);
            a.AppendAsLeader(Batches.Make(4), 0, 0);
            b.AppendAsLeader(Batches.Make(2), 0, 0);
            Assert.True(Directory.Exists(dir.Sub("orders.v1-eu-2")));
            Assert.False(File.Exists(dir.Sub(LogFileNames.CleanShutdown)));
        }
        Assert.True(File.Exists(dir.Sub(LogFileNames.CleanShutdown)));
        var lines = File.ReadAllLines(dir.Sub(LogFileNames.RecoveryPointCheckpoint));
        Assert.Equal("0", lines[0]);
        Assert.Equal("2", lines[1]);
        Assert.Contains("orders.v1-eu 2 4", lines);
        Assert.Contains("x 0 2", lines);
        Assert.Equal(new[] { "0", "2" }, File.ReadAllLines(dir.Sub(LogFileNames.LogStartOffsetCheckpoint))[..2]);

        using (var mgr = LogManager.Open(dir.Path, Batches.Small()))
        {
            Assert.True(mgr.HadCleanShutdown);
            Assert.False(File.Exists(dir.Sub(LogFileNames.CleanShutdown)));
            Assert.Equal(4, mgr.GetLog("orders.v1-eu", 2)!.LogEndOffset);
            Assert.Equal(2, mgr.Logs.Count());
            Assert.True(mgr.DeleteLog("x", 0));
            Assert.False(Directory.Exists(dir.Sub("x-0")));
            Assert.Empty(Directory.EnumerateDirectories(dir.Path, "*-delete"));
        }
    }

    [Fact]
    public void UncleanShutdownRecoversFromTheCheckpointedRecoveryPoint()
    {
        using var dir = new TempDir();
        var mgr = LogManager.Open(dir.Path, Batches.Small(segmentBytes: 1 << 20));
        var log = mgr.GetOrCreateLog("t", 0);
        log.AppendAsLeader(Batches.Make(4), 0, 0);
        log.Flush();
        mgr.Checkpoint();
        log.AppendAsLeader(Batches.Make(4), 0, 0);
        // Simulated crash: no Close, so no marker; then tear the last batch.
        log.Close();
        var path = LogFileNames.LogFile(log.Directory, 0);
        using (var fs = new FileStream(path, FileMode.Open)) fs.SetLength(fs.Length - 3);
        using var again = LogManager.Open(dir.Path, Batches.Small(segmentBytes: 1 << 20));
        Assert.False(again.HadCleanShutdown);
        Assert.Equal(4, again.GetLog("t", 0)!.LogEndOffset);
    }

    [Fact]
    public void RecoveryAfterACrashMakesResidentOnlyTheIndexPagesItRebuilds()
    {
        // 50 logs with Kafka's preallocated 10 MB indexes, crashed (indexes left at full length, untrimmed) and reopened:
        // recovery rebuilds both indexes of every active segment. Resetting an index by clearing its mapping would make
        // 50 x 2 x 10 MB resident and dirty (written back to disk too); truncating the file touches none of it.
        ProcessStats.Require();
        using var dir = new TempDir();
        var config = LogConfig.Default with { IndexIntervalBytes = 256, FileDeleteDelayMs = 0 };
        var mgr = LogManager.Open(dir.Path, config);
        for (int p = 0; p < 50; p++)
        {
            var log = mgr.GetOrCreateLog("t", p);
            for (int i = 0; i < 20; i++) log.AppendAsLeader(Batches.Make(10, valueSize: 40), 0, 0);
        }
        mgr.Abandon();
        Assert.Equal(LogConfig.Default.SegmentIndexBytes, new FileInfo(LogFileNames.IndexFile(Path.Combine(dir.Path, "t-0"), 0)).Length);

        using var again = LogManager.Open(dir.Path, config);
        Assert.False(again.HadCleanShutdown);
        bool Indexes(string path) => path.StartsWith(dir.Path, StringComparison.Ordinal) && (path.Contains(".index", StringComparison.Ordinal) || path.Contains(".timeindex", StringComparison.Ordinal));
        var (rssKb, dirtyKb, mappings) = ProcessStats.Smaps(Indexes)!.Value;
        Assert.Equal(100, mappings);
        // 19 entries per index fit in one 4 kB page: 100 pages, 400 kB. Before: 1,024,000 kB.
        Assert.True(rssKb <= 100 * 8, $"index mappings resident: {rssKb} kB");
        Assert.True(dirtyKb <= 100 * 8, $"index mappings dirty: {dirtyKb} kB");

        // What was rebuilt is right: every log has its 200 offsets, and a read from the middle starts at its batch.
        for (int p = 0; p < 50; p++)
        {
            var log = again.GetLog("t", p)!;
            Assert.Equal(200, log.LogEndOffset);
            Assert.Equal(19, log.ActiveSegment.OffsetIndex.Entries);
            Assert.Equal(150L, Batches.Offsets(log.Read(155, 1).Records)[0]);
        }
    }
}
