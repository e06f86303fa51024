using PSKafka.Engine;
using PSKafka.Engine.Storage;

namespace PSKafka.Tests.Storage;

public class IndexAndNamesTests
{
    [Fact]
    public void FileNamesFormatAndParse()
    {
        Assert.Equal("00000000000000000042", LogFileNames.FormatOffset(42));
        Assert.Equal(Path.Combine("d", "00000000000000001000.timeindex"), LogFileNames.TimeIndexFile("d", 1000));
        Assert.True(LogFileNames.TryParseOffset("/x/00000000000000001000.log.deleted", out long o));
        Assert.Equal(1000, o);
        Assert.False(LogFileNames.TryParseOffset("leader-epoch-checkpoint", out _));
        Assert.True(LogFileNames.TryParsePartitionDir("/logs/my-topic.v2-17", out var t, out int p));
        Assert.Equal(("my-topic.v2", 17), (t, p));
        Assert.False(LogFileNames.TryParsePartitionDir("my-topic-3.0123456789abcdef0123456789abcdef-delete", out _, out _));
        Assert.False(LogFileNames.TryParsePartitionDir("no_partition", out _, out _));
        Assert.Matches(@"^t-1\.[0-9a-f]{32}-delete$", LogFileNames.DeleteDirName("t", 1));
    }

    [Fact]
    public void OffsetIndexLookupIsLargestEntryAtOrBelow()
    {
        using var dir = new TempDir();
        var path = dir.Sub("00000000000000000100.index");
        using (var idx = new OffsetIndex(path, 100, 4096))
        {
            Assert.Equal(512, idx.MaxEntries);
            Assert.Equal((100L, 0), idx.Lookup(150));
            for (int i = 1; i <= 10; i++) idx.Append(100 + i * 10, i * 1000);
            Assert.Equal((100L, 0), idx.Lookup(109));
            Assert.Equal((110L, 1000), idx.Lookup(110));
            Assert.Equal((150L, 5000), idx.Lookup(159));
            Assert.Equal((200L, 10000), idx.Lookup(long.MaxValue));
            Assert.Throws<InvalidOperationException>(() => idx.Append(200, 11000));
            idx.TruncateTo(150);
            Assert.Equal(4, idx.Entries);
            Assert.Equal(140, idx.LastOffset);
            Assert.Equal(4096, new FileInfo(path).Length); // preallocated while active
        }
        Assert.Equal(4 * 8, new FileInfo(path).Length);    // trimmed on close
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0, 0, 0, 10, 0, 0, 0x03, 0xE8 }, bytes[..8]); // big-endian (rel 10, pos 1000)
        using var reopened = new OffsetIndex(path, 100, 4096, preallocate: false);
        reopened.SanityCheck(100_000);
        Assert.Equal((130L, 3000), reopened.Lookup(135));
    }

    [Fact]
    public void TimeIndexKeepsIncreasingTimestampsAndFindsFloor()
    {
        using var dir = new TempDir();
        using var idx = new TimeIndex(dir.Sub("00000000000000000000.timeindex"), 0, 120);
        Assert.Equal(10, idx.MaxEntries);
        idx.MaybeAppend(1000, 5);
        idx.MaybeAppend(900, 7);   // not larger: ignored
        idx.MaybeAppend(2000, 9);
        Assert.Equal(2, idx.Entries);
        Assert.Equal((-1L, 0L), idx.Lookup(999));
        Assert.Equal((1000L, 5L), idx.Lookup(1999));
        Assert.Equal((2000L, 9L), idx.Lookup(5000));
        idx.TruncateTo(9);
        Assert.Equal((1000L, 5L), idx.LastEntry);
        for (int i = 0; i < 8; i++) idx.MaybeAppend(3000 + i, 10 + i);
        Assert.True(idx.IsFull); // one slot kept for the roll entry
    }

    [Fact]
    public void CorruptIndexFailsSanityCheck()
    {
        using var dir = new TempDir();
        var path = dir.Sub("00000000000000000000.index");
        using (var idx = new OffsetIndex(path, 0, 4096))
        {
            idx.Append(5, 100);
            idx.Append(9, 200);
        }
        var bytes = File.ReadAllBytes(path);
        bytes[11] = 1; // second entry's relative offset 9 -> 1: out of order
        File.WriteAllBytes(path, bytes);
        using var bad = new OffsetIndex(path, 0, 4096, preallocate: false);
        Assert.Throws<CorruptIndexException>(() => bad.SanityCheck(1000));
    }
}
