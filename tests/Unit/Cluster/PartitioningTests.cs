using System.Text;
using PSKafka.Engine.Partitioning;

namespace PSKafka.Tests.Cluster;

public class PartitioningTests
{
    // Kafka's UtilsTest.testMurmur2 vectors (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java).
    [Theory]
    [InlineData("21", -973932308)]
    [InlineData("foobar", -790332482)]
    [InlineData("a-little-bit-long-string", -985981536)]
    [InlineData("a-little-bit-longer-string", -1486304829)]
    [InlineData("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971)]
    [InlineData("abc", 479470107)]
    public void Murmur2MatchesKafka(string key, int expected) =>
        Assert.Equal(expected, Murmur2.Hash(Encoding.ASCII.GetBytes(key)));

    [Fact]
    public void ToPositiveMasksTheSignBitLikeKafka()
    {
        Assert.Equal(0, Murmur2.ToPositive(int.MinValue));
        Assert.Equal(int.MaxValue, Murmur2.ToPositive(-1));
        Assert.Equal(5, Murmur2.ToPositive(5));
    }

    [Fact]
    public void KeyedRecordsGoToMurmur2ModPartitions()
    {
        var key = Encoding.ASCII.GetBytes("foobar");
        Assert.Equal((-790332482 & 0x7fffffff) % 7, Partitioner.ForKey(key, 7));
        var p = new Partitioner();
        for (int i = 0; i < 10; i++) Assert.Equal(Partitioner.ForKey(key, 7), p.Choose(key, hasKey: true, 7));
    }

    [Fact]
    public void RecordsWithoutKeyGoRoundRobin()
    {
        var p = new Partitioner();
        var chosen = Enumerable.Range(0, 9).Select(_ => p.Choose(default, hasKey: false, 3)).ToArray();
        Assert.Equal([0, 1, 2, 0, 1, 2, 0, 1, 2], chosen);
    }
}
