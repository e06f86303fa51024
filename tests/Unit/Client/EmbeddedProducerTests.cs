using System.Text;
using PSKafka.Client;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Storage;
using PSKafka.Tests.Cluster;

namespace PSKafka.Tests.Client;

/// <summary>
/// The in-process producer as Kafka's: a batch goes out from the producer's own thread when it holds batch.size bytes
/// or linger.ms after its first record, with no flush; what Kafka's producer retries is retried (the leader moved, too
/// few replicas), with the batch's producer id and sequence so a retry is not written twice; a batch too large for the
/// topic is split. Waits are on conditions with generous bounds; no test asserts how long something took.
/// </summary>
public sealed class EmbeddedProducerTests
{
    private const int Generous = 20_000;
    private static readonly TimeSpan Forever = TimeSpan.FromMinutes(10); // a linger that never ends within a test

    private static OutgoingRecord Record(string topic, string value, int? partition = 0) =>
        new(topic, partition, null, Encoding.UTF8.GetBytes(value), null, 1_700_000_000_000);

    private static long LogEnd(TestCluster t, string topic, int partition = 0) =>
        t.Leader(topic, partition)!.GetReplica(new TopicPartition(topic, partition))!.LogEndOffset;

    private static List<string> Values(TestCluster t, string topic, int partition = 0)
    {
        var values = new List<string>();
        foreach (var b in new RecordBatchReader(TestCluster.AllBytes(t.Leader(topic, partition)!.GetReplica(new TopicPartition(topic, partition))!)))
            foreach (var r in b.Records) values.Add(Encoding.UTF8.GetString(r.Value.Span));
        return values;
    }

    private static List<(long ProducerId, int BaseSequence, int RecordCount)> Batches(TestCluster t, string topic, int partition = 0)
    {
        var batches = new List<(long, int, int)>();
        foreach (var b in new RecordBatchReader(TestCluster.AllBytes(t.Leader(topic, partition)!.GetReplica(new TopicPartition(topic, partition))!)))
            batches.Add((b.ProducerId, b.BaseSequence, b.RecordCount));
        return batches;
    }

    [Theory]
    [InlineData(Acks.All)]
    [InlineData(Acks.Leader)]
    public async Task RecordSentAlone_ReachesTheLogWithinLinger_WithoutFlush(short acks)
    {
        using var t = new TestCluster(1);
        t.CreateTopic("live", 1, 1);
        using var producer = new EmbeddedClient(t.Cluster).OpenProducer(new ProducerSettings(acks));
        producer.Send(Record("live", "first"), null);
        await TestCluster.WaitUntil(() => LogEnd(t, "live") == 1, Generous, "the lone record in the log");

        // And the caller learns of its delivery on its next call, without having flushed.
        var delivered = new List<Delivery>();
        producer.Send(Record("live", "second"), delivered);
        await TestCluster.WaitUntil(() => LogEnd(t, "live") == 2, Generous, "the second record in the log");
        await TestCluster.WaitUntil(() => { producer.Flush(delivered, TimeSpan.FromMilliseconds(50)); return delivered.Count == 1; }, Generous, "its delivery report");
        Assert.Equal(1, delivered[0].Offset);
    }

    [Fact]
    public async Task BatchSizeInBytes_SendsAFullBatch_WhileTheRestLingers()
    {
        using var t = new TestCluster(1);
        t.CreateTopic("full", 1, 1);
        using var producer = new EmbeddedClient(t.Cluster).OpenProducer(new ProducerSettings(BatchBytes: 2000, LingerTime: Forever));
        var value = new string('x', 100);
        for (int i = 0; i < 30; i++) producer.Send(Record("full", value), null);

        // ~110 bytes a record: the batch fills at its 18th or so record and goes out; the rest waits for its linger.
        await TestCluster.WaitUntil(() => LogEnd(t, "full") > 0, Generous, "the full batch in the log");
        long first = LogEnd(t, "full");
        Assert.InRange(first, 10, 29);
        Assert.True(producer.Flush(null, TimeSpan.FromMilliseconds(Generous)));
        Assert.Equal(30, LogEnd(t, "full"));
    }

    [Fact]
    public async Task AcksAll_NotEnoughReplicas_IsRetried_AndWrittenOnce()
    {
        using var t = new TestCluster(2);
        t.CreateTopic("strict", 1, 2, new() { ["min.insync.replicas"] = "2" });
        var follower = t.Partition("strict", 0).Replicas.First(id => id != t.Leader("strict", 0)!.Id);
        t.Cluster.StopBroker(follower);
        using var producer = new EmbeddedClient(t.Cluster).OpenProducer(new ProducerSettings(Acks.All));
        var delivered = new List<Delivery>();
        for (int i = 0; i < 20; i++) producer.Send(Record("strict", $"m{i}"), delivered);

        t.Cluster.StartBroker(follower, port: 0);
        await TestCluster.WaitUntil(() => { producer.Flush(delivered, TimeSpan.FromMilliseconds(50)); return delivered.Count == 20; }, Generous, "20 deliveries");
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"m{i}"), Values(t, "strict"));
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), delivered.Select(d => d.Offset));
    }

    [Fact]
    public async Task AcksAll_BatchWrittenButNotAcknowledged_IsRetriedWithItsSequence_AndWrittenOnce()
    {
        using var t = new TestCluster(2);
        var client = new EmbeddedClient(t.Cluster);
        client.AlterBrokerConfigs(null, new Dictionary<string, string?> { ["replica.lag.time.max.ms"] = "200" });
        t.CreateTopic("once", 1, 2, new() { ["min.insync.replicas"] = "2" });
        var leader = t.Leader("once", 0)!;
        var follower = t.Cluster.GetBroker(t.Partition("once", 0).Replicas.Single(id => id != leader.Id))!;
        using var producer = client.OpenProducer(new ProducerSettings(Acks.All));
        var delivered = new List<Delivery>();

        // The leader writes the batch, the follower never fetches it and leaves the ISR: the leader's high watermark
        // passes the batch with one in-sync replica, so the write is answered NOT_ENOUGH_REPLICAS_AFTER_APPEND.
        follower.ReplicationSuspended = true;
        for (int i = 0; i < 10; i++) producer.Send(Record("once", $"m{i}"), delivered);
        var written = leader.GetReplica(new TopicPartition("once", 0))!;
        await TestCluster.WaitUntil(() => written.LogEndOffset == 10 && written.HighWatermark == 10, Generous, "the batch written, and the ISR shrunk under it");

        // The producer resends the same batch (producer id and sequence) until the ISR is back; the leader knows it already.
        follower.ReplicationSuspended = false;
        await TestCluster.WaitUntil(() => { producer.Flush(delivered, TimeSpan.FromMilliseconds(50)); return delivered.Count == 10; }, Generous, "10 deliveries");
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"m{i}"), Values(t, "once"));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), delivered.Select(d => d.Offset));
        var batch = Assert.Single(Batches(t, "once"));
        Assert.True(batch.ProducerId >= 0);
        Assert.Equal(0, batch.BaseSequence);
    }

    [Fact]
    public async Task LeaderMoves_TheCachedLeaderAnswersNotLeader_AndTheBatchGoesToTheNewLeader()
    {
        using var t = new TestCluster(2);
        t.CreateTopic("moving", 1, 2);
        var client = new EmbeddedClient(t.Cluster);
        using var producer = client.OpenProducer(new ProducerSettings(Acks.All));
        var delivered = new List<Delivery>();
        int first = t.Leader("moving", 0)!.Id;
        int second = t.Partition("moving", 0).Replicas.Single(id => id != first);
        for (int i = 0; i < 10; i++) producer.Send(Record("moving", $"m{i}"), delivered);
        producer.Flush(delivered);

        // The cached leader stops: the producer asks for metadata again and finds the other replica.
        t.Cluster.StopBroker(first);
        for (int i = 10; i < 20; i++) producer.Send(Record("moving", $"m{i}"), delivered);
        producer.Flush(delivered);
        Assert.Equal(second, client.Leader("moving", 0).Id);

        // Leadership goes back while the cached leader keeps running: it answers NOT_LEADER_OR_FOLLOWER, and the producer
        // resends to the leader fresh metadata names.
        t.Cluster.StartBroker(first, port: 0);
        await TestCluster.WaitUntil(() => t.FullyReplicated("moving", 0), Generous, "the restarted broker back in the ISR");
        new EmbeddedClient(t.Cluster).ElectPreferredLeaders(null);
        await TestCluster.WaitUntil(() => t.Leader("moving", 0)?.Id == first, Generous, "the preferred leader elected");
        Assert.Equal(second, client.Leader("moving", 0).Id); // the cache has not noticed yet
        for (int i = 20; i < 30; i++) producer.Send(Record("moving", $"m{i}"), delivered);
        producer.Flush(delivered);

        Assert.Equal(first, client.Leader("moving", 0).Id);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"m{i}"), Values(t, "moving"));
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i), delivered.Select(d => d.Offset));
    }

    [Fact]
    public async Task RecordLargerThanBatchSize_GoesOutInABatchOfItsOwn_WithoutLingering()
    {
        using var t = new TestCluster(1);
        t.CreateTopic("large", 1, 1);
        using var producer = new EmbeddedClient(t.Cluster).OpenProducer(new ProducerSettings(BatchBytes: 200, LingerTime: Forever));
        var big = "big:" + new string('b', 1000);
        producer.Send(Record("large", big), null);

        // The linger never ends: only batch.size sends it.
        await TestCluster.WaitUntil(() => LogEnd(t, "large") == 1, Generous, "the large record in the log");
        producer.Send(Record("large", "small"), null);
        Assert.True(producer.Flush(null, TimeSpan.FromMilliseconds(Generous)));
        Assert.Equal([big, "small"], Values(t, "large"));
        Assert.Equal([1, 1], Batches(t, "large").Select(b => b.RecordCount));
    }

    [Theory]
    [InlineData(Acks.All)]
    [InlineData(Acks.Leader)]
    public void BatchOverMaxMessageBytes_IsSplit_OnlyARecordTooLargeAloneFails(short acks)
    {
        using var t = new TestCluster(1);
        t.CreateTopic("small", 1, 1, new() { ["max.message.bytes"] = "1000" });
        using var producer = new EmbeddedClient(t.Cluster).OpenProducer(new ProducerSettings(acks, BatchBytes: 1 << 20, LingerTime: Forever));
        var delivered = new List<Delivery>();
        for (int i = 0; i < 10; i++) producer.Send(Record("small", $"{i}:" + new string('a', 300)), delivered);
        producer.Send(Record("small", "big:" + new string('b', 3000)), delivered);
        for (int i = 10; i < 15; i++) producer.Send(Record("small", $"{i}:" + new string('a', 300)), delivered);

        var failed = Assert.Throws<ProduceFailedException>(() => producer.Flush(delivered));
        Assert.Equal(ErrorCode.MessageTooLarge, Assert.Single(failed.Failures).Error);
        Assert.Equal(1, failed.Failures[0].RecordCount);
        Assert.Equal(15, delivered.Count);
        Assert.Equal(Enumerable.Range(0, 15).Select(i => $"{i}:"), Values(t, "small").Select(v => v[..(v.IndexOf(':') + 1)]));

        // The producer goes on after a failed record.
        producer.Send(Record("small", "after"), delivered);
        producer.Flush(delivered);
        Assert.Equal("after", Values(t, "small")[^1]);
    }

    [Fact]
    public void Close_SendsWhatWasAccepted()
    {
        using var t = new TestCluster(1);
        t.CreateTopic("closing", 1, 1);
        var producer = new EmbeddedClient(t.Cluster).OpenProducer(new ProducerSettings(LingerTime: Forever));
        for (int i = 0; i < 10; i++) producer.Send(Record("closing", $"m{i}"), null);
        Assert.Equal(0, producer.Close(TimeSpan.FromMilliseconds(Generous)));
        producer.Dispose();
        Assert.Equal(10, LogEnd(t, "closing"));
        Assert.Throws<InvalidOperationException>(() => producer.Send(Record("closing", "late"), null));
    }

    [Fact]
    public void Close_WhenRecordsCannotGoOut_CountsThemAsNotSent()
    {
        using var t = new TestCluster(2);
        t.CreateTopic("stuck", 1, 2, new() { ["min.insync.replicas"] = "2" });
        var follower = t.Partition("stuck", 0).Replicas.First(id => id != t.Leader("stuck", 0)!.Id);
        t.Cluster.StopBroker(follower);
        using var producer = new EmbeddedClient(t.Cluster).OpenProducer(new ProducerSettings(Acks.All));
        for (int i = 0; i < 7; i++) producer.Send(Record("stuck", $"m{i}"), null);
        // NotEnoughReplicas is retried for delivery.timeout.ms (120 s): a short close gives up on all seven.
        Assert.Equal(7, producer.Close(TimeSpan.FromMilliseconds(300)));
        Assert.Equal(0, LogEnd(t, "stuck"));
    }
}
