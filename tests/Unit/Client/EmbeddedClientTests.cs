using System.Text;
using PSKafka.Client;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Tests.Cluster;

namespace PSKafka.Tests.Client;

/// <summary>
/// The in-process client's metadata cache, as a Kafka client's: requests go to the leader it knows, and what shows
/// the cache out of date (a topic made again under the same name, partitions added, a leader that moved, all by
/// another client) sends it back for metadata instead of failing.
/// </summary>
public sealed class EmbeddedClientTests
{
    private const int Generous = 20_000;

    private static OutgoingRecord Record(string topic, string value, int partition) =>
        new(topic, partition, null, Encoding.UTF8.GetBytes(value), null, 1_700_000_000_000);

    private static void Produce(EmbeddedClient client, string topic, params (int Partition, string Value)[] records)
    {
        using var producer = client.OpenProducer(new ProducerSettings());
        foreach (var (partition, value) in records) producer.Send(Record(topic, value, partition), null);
        producer.Flush(null);
    }

    [Fact]
    public async Task TopicMadeAgainUnderTheSameName_ByAnotherClient_IsLookedUpAfresh()
    {
        using var t = new TestCluster(2);
        t.CreateTopic("again", 3, 2);
        var client = new EmbeddedClient(t.Cluster);
        Produce(client, "again", (0, "old"), (1, "old"), (2, "old"));
        Assert.Equal(1, client.GetOffsets("again", [2])[0].HighWatermark);

        var other = new EmbeddedClient(t.Cluster);
        Assert.Equal(ErrorCode.None, other.DeleteTopic("again").Error);
        await TestCluster.WaitUntil(() => other.CreateTopic(new CreateTopicParams("again", 1, 2)).Error == ErrorCode.None, Generous, "the topic made again");

        // The new topic's log, not the old one's; its partition 2 does not exist, as the cache had it.
        Assert.Equal(0, client.GetOffsets("again", [0])[0].HighWatermark);
        var missing = Assert.Throws<PartitionNotFoundException>(() => client.GetOffsets("again", [2]));
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, missing.Code);
        Assert.Equal("Partition 2 of topic 'again' does not exist (the topic has 1: 0..0).", missing.Message);

        Produce(client, "again", (0, "new"));
        Assert.Equal(1, client.GetOffsets("again", [0])[0].HighWatermark);
    }

    [Fact]
    public async Task TopicDeletedAndMadeAgain_ThroughTheSameClient_IsLookedUpAfresh()
    {
        using var t = new TestCluster(1);
        var client = new EmbeddedClient(t.Cluster);
        Assert.Equal(ErrorCode.None, client.CreateTopic(new CreateTopicParams("same", 2, 1)).Error);
        Produce(client, "same", (1, "old"));
        Assert.Equal(ErrorCode.None, client.DeleteTopic("same").Error);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, Assert.Throws<KafkaException>(() => client.GetOffsets("same", [0])).Code);

        await TestCluster.WaitUntil(() => client.CreateTopic(new CreateTopicParams("same", 3, 1)).Error == ErrorCode.None, Generous, "the topic made again");
        Produce(client, "same", (2, "new"));
        Assert.Equal([0, 0, 1], client.GetOffsets("same", [0, 1, 2]).Select(o => o.HighWatermark));
    }

    [Fact]
    public void PartitionsAdded_ByAnotherClient_AreFound()
    {
        using var t = new TestCluster(1);
        t.CreateTopic("growing", 1, 1);
        var client = new EmbeddedClient(t.Cluster);
        Assert.Equal(0, client.GetOffsets("growing", [0])[0].HighWatermark);

        Assert.Equal(ErrorCode.None, t.Cluster.Brokers.First(b => b.IsRunning).CreatePartitions([("growing", 3)])[0].Error);
        Produce(client, "growing", (2, "in the new partition"));
        Assert.Equal(1, client.GetOffsets("growing", [2])[0].HighWatermark);
    }

    [Fact]
    public async Task LeaderMovedByAnotherClient_TheConsumerAndListOffsetsReachTheNewLeader()
    {
        using var t = new TestCluster(2);
        t.CreateTopic("moved", 1, 2);
        var reader = new EmbeddedClient(t.Cluster);
        var lister = new EmbeddedClient(t.Cluster);
        Produce(reader, "moved", (0, "a"));
        Assert.Equal(1, lister.GetOffsets("moved", [0])[0].HighWatermark);
        int first = t.Leader("moved", 0)!.Id;

        // The other replica leads now, and the broker both caches name still runs (a follower).
        t.Cluster.StopBroker(first);
        t.Cluster.StartBroker(first, port: 0);
        await TestCluster.WaitUntil(() => t.FullyReplicated("moved", 0), Generous, "the restarted broker back in the ISR");
        int second = t.Leader("moved", 0)!.Id;
        Assert.NotEqual(first, second);
        Assert.Equal(first, reader.Leader("moved", 0).Id);
        Assert.Equal(first, lister.Leader("moved", 0).Id);

        Assert.Equal(1, lister.GetOffsets("moved", [0])[0].HighWatermark);
        Assert.Equal(second, lister.Leader("moved", 0).Id);

        Produce(new EmbeddedClient(t.Cluster), "moved", (0, "b"));
        using var consumer = reader.OpenConsumer(new ConsumerSettings());
        consumer.Assign([(new TopicPartition("moved", 0), 0)]);
        var records = new List<ConsumedRecord>();
        await TestCluster.WaitUntil(() => { consumer.Poll(TimeSpan.FromMilliseconds(100), records, CancellationToken.None); return records.Count == 2; }, Generous, "both records");
        Assert.Equal(["a", "b"], records.Select(r => Encoding.UTF8.GetString(r.Value!)));
        Assert.Equal(second, reader.Leader("moved", 0).Id);
    }
}
