using System.Diagnostics;
using System.Net;
using System.Text;
using PSKafka.Client;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Partitioning;
using PSKafka.Engine.Storage;

namespace PSKafka.Tests.Client;

/// <summary>
/// RemoteClient against librdkafka's mock cluster: a Kafka that no one here wrote, reached over
/// localhost sockets by a second librdkafka client (the mock's owner is another handle). The mock
/// answers ListOffsets by time with -1 and OffsetFetch without topics with nothing (FIXMEs in
/// rdkafka_mock_handlers.c), so those are checked against PSKafka in the Pester lab checks.
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
        var deadline = DateTime.UtcNow + Patience.Deadline;
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
    public void BatchSize_and_Linger_are_librdkafkas_batch_size_and_linger_ms()
    {
        var config = _client.ProducerConfig(new ProducerSettings(BatchBytes: 1234, LingerTime: TimeSpan.FromMilliseconds(7)));
        Assert.Equal("1234", config["batch.size"]);
        Assert.Equal("7", config["linger.ms"]);
        Assert.Equal("5", _client.ProducerConfig(new ProducerSettings())["linger.ms"]);
    }

    [Fact]
    public void Deliveries_come_back_on_later_sends_as_they_complete_without_a_flush()
    {
        using var producer = _client.OpenProducer(new ProducerSettings());
        var delivered = new List<Delivery>();
        var deadline = DateTime.UtcNow + Patience.Deadline;
        for (int i = 0; delivered.Count == 0 && DateTime.UtcNow < deadline; i++)
        {
            producer.Send(new OutgoingRecord("trickle", 0, null, Bytes($"t{i}"), null, 0), delivered);
            Thread.Sleep(20);
        }
        Assert.NotEmpty(delivered);
        Assert.Equal(0, delivered[0].Offset);
    }

    [Fact]
    public void A_partition_that_does_not_exist_is_refused_before_sending()
    {
        Produce("small", 1, _ => null);
        using var producer = _client.OpenProducer(new ProducerSettings());
        var e = Assert.Throws<PartitionNotFoundException>(() => producer.Send(new OutgoingRecord("small", 7, null, Bytes("x"), null, 0), null));
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, e.Code);
    }

    // The mock waits session.timeout.ms - 1 s after a member leaves before a new member's join completes
    // (rdkafka_mock_cgrp.c); Kafka's minimum session timeout keeps that short.
    private static GroupConsumerSettings Member(string group, string topic, string reset = "latest") =>
        new() { GroupId = group, Topics = [topic], AutoOffsetReset = reset, SessionTimeoutMs = 6000, HeartbeatIntervalMs = 1000 };

    /// <summary>Polls until <paramref name="done"/> or 30 s, marking records emitted when <paramref name="emit"/> says so.</summary>
    private static List<ConsumedRecord> PollUntil(IGroupConsumer member, Func<List<ConsumedRecord>, bool> done, Func<ConsumedRecord, bool>? emit = null)
    {
        var records = new List<ConsumedRecord>();
        var deadline = DateTime.UtcNow + Patience.Deadline;
        while (!done(records) && DateTime.UtcNow < deadline)
        {
            int from = records.Count;
            member.Poll(TimeSpan.FromMilliseconds(200), records, default);
            for (int i = from; i < records.Count; i++)
                if (emit?.Invoke(records[i]) ?? true) member.MarkEmitted(records[i]);
        }
        return records;
    }

    [Fact]
    public void A_group_member_commits_only_what_was_emitted_and_the_next_member_resumes_there()
    {
        Produce("grouped", 100, i => $"k{i}");
        IKafkaClient client = _client;
        var all = Enumerable.Range(0, 4).Select(p => new TopicPartition("grouped", p)).ToList();
        var ends = _client.GetOffsets("grouped", [0, 1, 2, 3]).ToDictionary(o => o.Partition, o => o.HighWatermark);
        Assert.All(ends.Values, end => Assert.True(end >= 5));

        using (var member = client.OpenGroupConsumer(Member("g1", "grouped", "earliest")))
        {
            var records = PollUntil(member, r => r.Count >= 100, emit: r => r.Offset < 5);
            Assert.Equal(100, records.Count);
            Assert.Equal(4, member.Assignment.Count);
            Assert.NotEmpty(member.MemberId);
            Assert.Equal(ErrorCode.None, member.CommitEmitted());
            member.Close(commit: false);
            Assert.True(member.IsClosed);
        }
        Assert.All(client.FetchCommittedOffsets("g1", all), c => Assert.Equal(5, c.Offset));

        using (var next = client.OpenGroupConsumer(Member("g1", "grouped")))
        {
            var rest = PollUntil(next, r => next.AtEnd);
            Assert.True(next.AtEnd, $"{rest.Count} records, assignment {string.Join(",", next.Assignment)}, member '{next.MemberId}'");
            Assert.Equal(100 - 4 * 5, rest.Count);
            Assert.All(rest, r => Assert.True(r.Offset >= 5));
            next.Close(commit: true);
        }
        foreach (var c in client.FetchCommittedOffsets("g1", all)) Assert.Equal(ends[c.Partition], c.Offset);
    }

    [Fact]
    public void Offsets_committed_for_a_group_without_members_are_where_it_starts()
    {
        Produce("reset", 100, i => $"k{i}");
        IKafkaClient client = _client;
        var all = Enumerable.Range(0, 4).Select(p => new TopicPartition("reset", p)).ToList();
        // The mock refuses commits from outside a group it knows (UNKNOWN_MEMBER_ID even when the group is
        // empty; Kafka allows them then), so the reset is shown on a group that has not consumed yet.
        var results = client.CommitOffsets("g2", all.Select(tp => new OffsetCommitPartitionParams(tp.Topic, tp.Partition, 3)).ToList());
        Assert.All(results, r => Assert.Equal(ErrorCode.None, r.Error));
        Assert.All(client.FetchCommittedOffsets("g2", all), c => Assert.Equal(3, c.Offset));
        Assert.All(client.FetchCommittedOffsets("never-committed", all), c => Assert.Equal(-1, c.Offset));

        using var resumed = client.OpenGroupConsumer(Member("g2", "reset"));
        var rest = PollUntil(resumed, r => r.Count >= 100 - 4 * 3);
        Assert.Equal(100 - 4 * 3, rest.Count);
        Assert.All(rest, r => Assert.True(r.Offset >= 3));
    }

    [Fact]
    public void Two_members_split_the_partitions_and_together_read_each_record_once()
    {
        Produce("split", 200, i => $"k{i}");
        IKafkaClient client = _client;
        using var a = client.OpenGroupConsumer(Member("g3", "split", "earliest"));
        using var b = client.OpenGroupConsumer(Member("g3", "split", "earliest"));
        var got = new List<ConsumedRecord>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        // Both poll (librdkafka rebalances inside poll) until each holds two partitions and all is read.
        while (DateTime.UtcNow < deadline && !(a.Assignment.Count == 2 && b.Assignment.Count == 2 && a.AtEnd && b.AtEnd))
        {
            foreach (var member in new[] { a, b })
            {
                int from = got.Count;
                member.Poll(TimeSpan.FromMilliseconds(100), got, default);
                for (int i = from; i < got.Count; i++) member.MarkEmitted(got[i]);
                member.CommitEmitted();
            }
        }
        Assert.Equal(2, a.Assignment.Count);
        Assert.Equal(2, b.Assignment.Count);
        Assert.Empty(a.Assignment.Intersect(b.Assignment));
        Assert.Equal(200, got.Select(r => (r.Partition, r.Offset)).Distinct().Count());
    }

    [Fact]
    public void A_manually_assigned_member_reads_its_partition_from_the_groups_offset_and_commits_there()
    {
        Produce("manual", 40, _ => null, partition: 2);
        IKafkaClient client = _client;
        var settings = Member("g4", "manual", "earliest") with { Partitions = [new TopicPartition("manual", 2)] };
        using (var member = client.OpenGroupConsumer(settings))
        {
            var records = PollUntil(member, _ => member.AtEnd, emit: r => r.Offset < 10);
            Assert.Equal(40, records.Count);
            Assert.All(records, r => Assert.Equal(2, r.Partition));
            member.Close(commit: true);
        }
        Assert.Equal(10, client.FetchCommittedOffsets("g4", [new TopicPartition("manual", 2)]).Single().Offset);
        using var again = client.OpenGroupConsumer(settings);
        Assert.Equal(30, PollUntil(again, _ => again.AtEnd).Count);
    }

    [Fact]
    public void Bad_group_settings_are_refused_before_anything_is_sent()
    {
        IKafkaClient client = _client;
        Assert.Equal(ErrorCode.InvalidConfig, Assert.Throws<KafkaException>(() => client.OpenGroupConsumer(Member("g", "t", "sometimes"))).Code);
        Assert.Equal(ErrorCode.InvalidGroupId, Assert.Throws<KafkaException>(() => client.OpenGroupConsumer(Member("", "t"))).Code);
        // Kafka's default offers an eager and a cooperative assignor; librdkafka takes one protocol, the first's.
        Assert.Equal(["range"], RemoteGroupConsumer.AssignorsOfOneProtocol(["range", "cooperative-sticky"]));
        Assert.Equal(["cooperative-sticky"], RemoteGroupConsumer.AssignorsOfOneProtocol(["cooperative-sticky", "range"]));
        Assert.Equal(["roundrobin", "range"], RemoteGroupConsumer.AssignorsOfOneProtocol(["roundrobin", "range"]));
    }

    [Fact]
    public void An_unreachable_cluster_fails_clearly_within_the_timeout()
    {
        // The connection's 1 s timeout, not the default (10 s) nor librdkafka's own (30 s and more), decides when it gives up.
        using var client = new RemoteClient(new RemoteConnection("127.0.0.1:1", timeout: TimeSpan.FromSeconds(1)));
        var watch = Stopwatch.StartNew();
        var e = Assert.Throws<ClusterUnreachableException>(() => client.GetMetadata());
        Assert.True(watch.Elapsed < RemoteConnection.DefaultTimeout, $"took {watch.Elapsed}: the default timeout, not the connection's");
        Assert.Contains("127.0.0.1:1", e.Message);
    }

    [Fact]
    public void Controller_bound_calls_are_refused_at_once_on_a_cluster_without_controller()
    {
        using var mock = new LibrdkafkaMockCluster(1);
        using var client = new RemoteClient(new RemoteConnection(mock.BootstrapServers));
        client.DescribeCluster(); // learns that the cluster names no controller
        // From now on nothing answers: a call that asked the cluster again would wait out its timeout and fail as
        // unreachable. Refused at once means refused from what DescribeCluster learnt.
        mock.Dispose();
        Assert.Throws<NotSupportedRemotelyException>(() => client.CreateTopic(new CreateTopicParams("x", 1, 1)));
        Assert.Throws<NotSupportedRemotelyException>(() => client.DescribeTopicConfigs("x"));
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
