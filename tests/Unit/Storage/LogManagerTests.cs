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
}
