using PSKafka.Client.ClusterView;
using PSKafka.Engine;
using PSKafka.Engine.Cluster;
using PSKafka.Tui.Model;
using PSKafka.Tui.Views;

namespace PSKafka.Tests.Tui;

public sealed class SnapshotTests
{
    private static ClusterSnapshot At(double seconds, long bytesIn, long bytesOut, long hw) => new(
        DateTimeOffset.UnixEpoch.AddSeconds(seconds), "c", "d", 0,
        [new BrokerView(0, "localhost:9092", BrokerState.Running, "controller", 1, 0, bytesIn, bytesOut)],
        [new TopicView("t", [new PartitionView(0, 0, 0, [0], [0], 0, hw, hw, 10, 1)])],
        [], TimeSpan.Zero);

    [Fact]
    public void RatesAreTheCounterDifferencesOverTheTimeBetweenSnapshots()
    {
        var next = SnapshotBuilder.WithRates(At(10, 1000, 500, 100), At(12, 5000, 2500, 2100));
        Assert.Equal(2000, next.Brokers[0].BytesInPerSec);
        Assert.Equal(1000, next.Brokers[0].BytesOutPerSec);
        Assert.Equal(1000, next.Topics[0].Partitions[0].MessagesPerSec);
        Assert.Equal(1000, next.Topics[0].MessagesPerSec);
    }

    [Fact]
    public void CountersThatWentBackGiveNoRate()
    {
        // A truncated log (a new leader behind the old one) or a fresh counter.
        var next = SnapshotBuilder.WithRates(At(10, 5000, 500, 2100), At(11, 10, 600, 100));
        Assert.Equal(0, next.Brokers[0].BytesInPerSec);
        Assert.Equal(100, next.Brokers[0].BytesOutPerSec);
        Assert.Equal(0, next.Topics[0].MessagesPerSec);
    }

    [Fact]
    public void TheFirstSnapshotHasNoRates() => Assert.Equal(0, SnapshotBuilder.WithRates(null, At(1, 5, 5, 5)).Brokers[0].BytesInPerSec);

    [Fact]
    public void PartitionHealthFollowsKafkasDefinitions()
    {
        var healthy = new PartitionView(0, 1, 0, [1, 2, 3], [1, 2, 3], 0, 0, 0, 0, 1);
        var under = healthy with { Isr = [1, 3] };
        var offline = healthy with { Leader = -1, Isr = [3] };
        Assert.False(healthy.IsUnderReplicated);
        Assert.True(under.IsUnderReplicated);
        Assert.Equal([2], under.OutOfSyncReplicas);
        Assert.True(offline.IsOffline);
        Assert.Equal("1,3 (2 out)", Display.Isr(under.Isr, under.OutOfSyncReplicas));
    }

    [Fact]
    public void LagIsEndMinusCommittedAndNoneWithoutACommit()
    {
        Assert.Equal(10, new GroupOffsetView("t", 0, 90, 100).Lag);
        Assert.Null(new GroupOffsetView("t", 0, -1, 100).Lag);
    }

    [Theory]
    [InlineData(new double[] { 0, 0, 0 }, "▁▁▁")]
    [InlineData(new double[] { 0, 50, 100 }, "▁▅█")]
    [InlineData(new double[] { 1, 2, 3, 4 }, "▅▆█")]
    public void SparklinesScaleToTheLargestShownValue(double[] values, string expected)
    {
        Assert.Equal(expected, Display.Sparkline(values, 3));
    }

    [Fact]
    public void TailTextShowsControlCharactersAndCutsLongValues()
    {
        Assert.Equal("a·b", TailRecord.Text("a\nb"u8));
        var shown = TailRecord.Text(new byte[1000].Select(_ => (byte)'x').ToArray());
        Assert.Equal(201, shown.Length);
        Assert.EndsWith("…", shown);
    }

    private sealed class GroupsRefused : IClusterSource
    {
        public ClusterSnapshot Capture() => At(1, 0, 0, 7);
        public IReadOnlyList<GroupView> GetGroups() => throw new KafkaException(ErrorCode.GroupAuthorizationFailed, "Not authorized to access group: billing");
        public IReadOnlyList<TailRecord> Tail(string topic, int partition, int count) => [];
        public bool CanControlBrokers => false;
        public void StopBroker(int id, bool kill) { }
        public void StartBroker(int id) { }
        public void CreateTopic(string name, int partitions, short replicationFactor) { }
        public void DeleteTopic(string name) { }
        public void ResetGroupOffsetsToEarliest(string groupId) { }
    }

    [Fact]
    public void GroupsThatCannotBeReadLeaveTheRestOfTheSnapshotAndSayWhy()
    {
        var snapshot = new SnapshotBuilder(new GroupsRefused()).Next();
        Assert.Equal(7, snapshot.Topics[0].Partitions[0].HighWatermark);
        Assert.Empty(snapshot.Groups);
        Assert.Equal("Consumer groups could not be read: Not authorized to access group: billing", snapshot.Problem);
    }
}
