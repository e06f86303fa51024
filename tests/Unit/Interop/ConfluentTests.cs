using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace PSKafka.Tests.Interop;

/// <summary>Confluent.Kafka (the .NET client over librdkafka) against a 3-broker PSKafka cluster.</summary>
[Collection("Interop")]
public sealed class ConfluentTests : IDisposable
{
    private readonly WireCluster _c = new(brokers: 3);

    public void Dispose() => _c.Dispose();

    private IAdminClient Admin() => new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _c.Bootstrap }).Build();

    [Fact]
    public async Task Admin_creates_describes_and_deletes_topics()
    {
        using var admin = Admin();
        await admin.CreateTopicsAsync([new TopicSpecification
        {
            Name = "admin-made", NumPartitions = 3, ReplicationFactor = 2, Configs = new() { ["retention.ms"] = "3600000" },
        }]);
        var meta = admin.GetMetadata("admin-made", TimeSpan.FromSeconds(10));
        var topic = Assert.Single(meta.Topics);
        Assert.Equal(ErrorCode.NoError, topic.Error.Code);
        Assert.Equal(3, topic.Partitions.Count);
        Assert.All(topic.Partitions, p => Assert.Equal(2, p.Replicas.Length));
        Assert.Equal(3, meta.Brokers.Count);

        var again = await Assert.ThrowsAsync<CreateTopicsException>(() => admin.CreateTopicsAsync([new TopicSpecification { Name = "admin-made", NumPartitions = 1, ReplicationFactor = 1 }]));
        Assert.Equal(ErrorCode.TopicAlreadyExists, again.Results[0].Error.Code);
        var tooMany = await Assert.ThrowsAsync<CreateTopicsException>(() => admin.CreateTopicsAsync([new TopicSpecification { Name = "rf-too-big", NumPartitions = 1, ReplicationFactor = 4 }]));
        Assert.Equal(ErrorCode.InvalidReplicationFactor, tooMany.Results[0].Error.Code);
        Assert.Contains("larger than available brokers", tooMany.Results[0].Error.Reason);

        var configs = await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = "admin-made" }]);
        var entries = configs[0].Entries;
        Assert.Equal("3600000", entries["retention.ms"].Value);
        Assert.Equal(ConfigSource.DynamicTopicConfig, entries["retention.ms"].Source);
        Assert.Equal(ConfigSource.DynamicTopicConfig, entries["retention.ms"].Synonyms[0].Source);
        Assert.Equal("log.retention.hours", entries["retention.ms"].Synonyms[^1].Name);
        Assert.Equal("delete", entries["cleanup.policy"].Value);
        Assert.Equal(ConfigSource.DefaultConfig, entries["cleanup.policy"].Source);

        var broker = await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Broker, Name = "0" }]);
        Assert.Equal("true", broker[0].Entries["auto.create.topics.enable"].Value);

        await admin.CreatePartitionsAsync([new PartitionsSpecification { Topic = "admin-made", IncreaseTo = 5 }]);
        Assert.Equal(5, admin.GetMetadata("admin-made", TimeSpan.FromSeconds(10)).Topics[0].Partitions.Count);

        await admin.DeleteTopicsAsync(["admin-made"]);
        Assert.False(_c.Cluster.Controller.TopicExists("admin-made"));
        var gone = await Assert.ThrowsAsync<DeleteTopicsException>(() => admin.DeleteTopicsAsync(["admin-made"]));
        Assert.Equal(ErrorCode.UnknownTopicOrPart, gone.Results[0].Error.Code);
    }

    [Fact]
    public async Task Idempotent_acks_all_producer_and_assign_consumer_agree_byte_for_byte()
    {
        _c.CreateTopic("events", partitions: 3, replicationFactor: 3);
        var sent = new List<Message<byte[], byte[]>>();
        var offsets = new List<TopicPartitionOffset>();
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = _c.Bootstrap,
            Acks = Acks.All,
            EnableIdempotence = true,
            LingerMs = 5,
        }).Build())
        {
            for (int i = 0; i < 300; i++)
            {
                var m = new Message<byte[], byte[]>
                {
                    Key = Encoding.UTF8.GetBytes($"key-{i % 17}"),
                    Value = Enumerable.Range(0, i % 40).Select(b => (byte)(b * i)).ToArray(),
                    Timestamp = new Timestamp(1_700_000_000_000 + i, TimestampType.CreateTime),
                    Headers = new Headers { { "n", BitConverter.GetBytes(i) }, { "empty", [] } },
                };
                sent.Add(m);
                var report = await producer.ProduceAsync("events", m);
                Assert.Equal(PersistenceStatus.Persisted, report.Status);
                offsets.Add(report.TopicPartitionOffset);
            }
        }

        var got = ConsumeAll("events", 3, sent.Count);
        Assert.Equal(sent.Count, got.Count);
        foreach (var (m, at) in sent.Zip(offsets))
        {
            var r = got.Single(g => g.TopicPartitionOffset == at).Message;
            Assert.Equal(m.Key, r.Key);
            Assert.Equal(m.Value, r.Value);
            Assert.Equal(m.Timestamp.UnixTimestampMs, r.Timestamp.UnixTimestampMs);
            Assert.Equal(m.Headers.Select(h => (h.Key, h.GetValueBytes())), r.Headers.Select(h => (h.Key, h.GetValueBytes())));
        }

        // The batches carry the producer id PSKafka handed out and consecutive sequences.
        var leader = _c.Cluster.Brokers.SelectMany(b => b.Replicas).First(r => r.IsLeader && r.TopicPartition.Topic == "events" && r.HighWatermark > 0);
        var batches = PSKafka.Engine.Storage.RecordBatchReader.ReadAll(leader.Log.Read(0, int.MaxValue).Records);
        Assert.All(batches, b => Assert.True(b.ProducerId >= 0));
        Assert.Equal(0, batches[0].BaseSequence);
        for (int i = 1; i < batches.Count; i++) Assert.Equal(batches[i - 1].BaseSequence + batches[i - 1].RecordCount, batches[i].BaseSequence);
    }

    [Fact]
    public async Task A_waiting_fetch_is_answered_as_soon_as_data_arrives()
    {
        _c.CreateTopic("poll", partitions: 1);
        using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
        {
            // A minute's fetch.wait.max.ms (librdkafka wants socket.timeout.ms above it): only a fetch answered when the
            // data arrives, not one that waits its time out, gets the record within the half minute given below.
            BootstrapServers = _c.Bootstrap,
            GroupId = "unused",
            EnableAutoCommit = false,
            FetchWaitMaxMs = 60_000,
            SocketTimeoutMs = 120_000,
            FetchMinBytes = 1,
        }).Build();
        consumer.Assign(new TopicPartitionOffset("poll", 0, 0));
        Assert.Null(consumer.Consume(TimeSpan.FromSeconds(1))); // the fetch is now parked on the broker

        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = _c.Bootstrap, LingerMs = 0 }).Build();
        await producer.ProduceAsync("poll", new Message<Null, string> { Value = "now" });
        var r = consumer.Consume(TimeSpan.FromSeconds(30));
        Assert.True(r is not null, "the parked fetch was not answered when the record arrived (fetch.wait.max.ms is 60 s)");
        Assert.Equal("now", r.Message.Value);
    }

    internal List<ConsumeResult<byte[], byte[]>> ConsumeAll(string topic, int partitions, int expected)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = _c.Bootstrap,
            GroupId = "assign-only",
            EnableAutoCommit = false,
        }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var got = new List<ConsumeResult<byte[], byte[]>>();
        var deadline = DateTime.UtcNow + Patience.Deadline;
        while (got.Count < expected && DateTime.UtcNow < deadline)
            if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is { } r) got.Add(r);
        return got;
    }
}
