using System.Diagnostics;
using System.Net;
using System.Text;
using PSKafka.Cmdlets.Client;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Partitioning;
using PSKafka.Engine.Storage;

namespace PSKafka.Tests.Remote;

/// <summary>
/// RemoteClient against librdkafka's mock cluster: a Kafka that no one here wrote, reached over
/// localhost sockets by a second librdkafka client (the mock's owner is another handle).
/// </summary>
public sealed class RemoteClientTests : IDisposable
{
    private readonly LibrdkafkaMockCluster _mock = new(3);
    private readonly RemoteClient _client;

    public RemoteClientTests() => _client = new RemoteClient(new RemoteConnection(_mock.BootstrapServers));

    public void Dispose()
    {
        _client.Dispose();
        _mock.Dispose();
    }

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    private List<Delivery> Produce(string topic, int count, Func<int, string?> key, int? partition = null)
    {
        var delivered = new List<Delivery>();
        using var producer = _client.OpenProducer(new ProducerSettings(Compression: CompressionType.Lz4));
        for (int i = 0; i < count; i++)
        {
            var k = key(i);
            producer.Send(new OutgoingRecord(topic, partition, k is null ? null : Bytes(k), Bytes($"v{i}"),
                [new RecordHeader("n", Bytes(i.ToString()))], 1_700_000_000_000 + i), delivered);
        }
        producer.Flush(delivered);
        return delivered;
    }

    [Fact]
    public void Keyed_records_land_where_the_in_process_partitioner_puts_them_and_come_back_with_headers()
    {
        var delivered = Produce("keyed", 200, i => $"key-{i % 17}");
        Assert.Equal(200, delivered.Count);
        int partitions = _client.GetMetadata(["keyed"]).Topics[0].Partitions.Count;
        Assert.Equal(4, partitions); // the mock's default for auto-created topics
        foreach (var d in delivered)
            Assert.Equal(Partitioner.ForKey(d.Key, partitions), d.Partition);

        var offsets = _client.GetOffsets("keyed", [0, 1, 2, 3]);
        Assert.Equal(200, offsets.Sum(o => o.HighWatermark - o.LogStartOffset));

        using var consumer = _client.OpenConsumer(new ConsumerSettings());
        consumer.Assign(offsets.Select(o => (new TopicPartition("keyed", o.Partition), o.LogStartOffset)));
        var records = new List<ConsumedRecord>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!consumer.AtEnd && DateTime.UtcNow < deadline) consumer.Poll(TimeSpan.FromMilliseconds(200), records, default);
        Assert.True(consumer.AtEnd);
        Assert.Equal(200, records.Count);
        var first = records.Single(r => Encoding.UTF8.GetString(r.Value!) == "v0");
        Assert.Equal("key-0", Encoding.UTF8.GetString(first.Key!));
        Assert.Equal("0", Encoding.UTF8.GetString(first.Headers.Single(h => h.Key == "n").Value.Span));
        Assert.Equal(1_700_000_000_000, first.Timestamp);
        foreach (var o in offsets) Assert.Equal(o.HighWatermark, consumer.Positions[new TopicPartition("keyed", o.Partition)]);
    }

    [Fact]
    public void A_partition_that_does_not_exist_is_refused_before_sending()
    {
        Produce("small", 1, _ => null);
        using var producer = _client.OpenProducer(new ProducerSettings());
        var e = Assert.Throws<KafkaException>(() => producer.Send(new OutgoingRecord("small", 7, null, Bytes("x"), null, 0), null));
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, e.Code);
    }

    [Fact]
    public void A_group_consumer_reads_everything_commits_and_can_be_reset()
    {
        Produce("grouped", 100, i => $"k{i}");
        IGroupClient groups = _client;
        using (var member = groups.OpenGroupConsumer(new RemoteGroupSettings("g1", FromBeginning: true)))
        {
            member.Subscribe(["grouped"]);
            var records = new List<ConsumedRecord>();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (records.Count < 100 && DateTime.UtcNow < deadline) member.Poll(TimeSpan.FromMilliseconds(200), records, default);
            Assert.Equal(100, records.Count);
            Assert.Equal(4, member.Assignment.Count);
            member.Commit();
        }
        var all = Enumerable.Range(0, 4).Select(p => new TopicPartition("grouped", p)).ToList();
        var ends = _client.GetOffsets("grouped", [0, 1, 2, 3]).ToDictionary(o => o.Partition, o => o.HighWatermark);
        var committed = groups.GetCommittedOffsets("g1", all);
        foreach (var c in committed) Assert.Equal(ends[c.Partition.Partition], c.Offset);

        // The mock refuses commits from outside a group it knows (UNKNOWN_MEMBER_ID even when the group is
        // empty; Kafka allows them then), so the reset is shown on a group that has not consumed yet.
        groups.CommitOffsets("g2", all.Select(tp => (tp, 3L)).ToList());
        Assert.All(groups.GetCommittedOffsets("g2", all), c => Assert.Equal(3, c.Offset));
        using var resumed = groups.OpenGroupConsumer(new RemoteGroupSettings("g2"));
        resumed.Subscribe(["grouped"]);
        var rest = new List<ConsumedRecord>();
        var until = DateTime.UtcNow.AddSeconds(30);
        while (rest.Count < 100 - 4 * 3 && DateTime.UtcNow < until) resumed.Poll(TimeSpan.FromMilliseconds(200), rest, default);
        Assert.Equal(100 - 4 * 3, rest.Count);
        Assert.All(rest, r => Assert.True(r.Offset >= 3));
    }

    [Fact]
    public void An_unreachable_cluster_fails_clearly_within_the_timeout()
    {
        using var client = new RemoteClient(new RemoteConnection("127.0.0.1:1", timeout: TimeSpan.FromSeconds(1)));
        var watch = Stopwatch.StartNew();
        var e = Assert.Throws<ClusterUnreachableException>(() => client.GetMetadata());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        Assert.Contains("127.0.0.1:1", e.Message);
    }

    [Fact]
    public void Controller_bound_calls_are_refused_at_once_on_a_cluster_without_controller()
    {
        _client.DescribeCluster();
        var watch = Stopwatch.StartNew();
        Assert.Throws<NotSupportedRemotelyException>(() => _client.CreateTopic(new CreateTopicRequest("x", 1, 1)));
        Assert.Throws<NotSupportedRemotelyException>(() => _client.DescribeTopicConfigs("x"));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
    }

    [Fact]
    public void Secrets_are_masked_and_settings_pass_through()
    {
        var connection = new RemoteConnection("h1:9092, h2:9093",
            new Dictionary<string, string> { ["ssl.key.password"] = "p1", ["client.id"] = "me", ["security.protocol"] = "SASL_PLAINTEXT" },
            new NetworkCredential("alice", "p2"));
        Assert.Equal("h1:9092,h2:9093", connection.BootstrapServers);
        var shown = connection.DisplayConfig();
        Assert.Equal(RemoteConnection.Mask, shown["ssl.key.password"]);
        Assert.Equal(RemoteConnection.Mask, shown["sasl.password"]);
        Assert.Equal("alice", shown["sasl.username"]);
        Assert.DoesNotContain(shown.Values, v => v.Contains("p1") || v.Contains("p2"));
        var config = connection.ClientConfig(new Dictionary<string, string>());
        Assert.Equal("p2", config["sasl.password"]);
        Assert.Equal("SASL_PLAINTEXT", config["security.protocol"]); // the user's choice wins over our SASL_SSL default
        Assert.Equal("me", config["client.id"]);
        Assert.Throws<ArgumentException>(() => new RemoteConnection("no-port"));
    }
}
