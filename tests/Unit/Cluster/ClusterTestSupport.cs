using System.Buffers.Binary;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Storage;
using PSKafka.Tests.Storage;

namespace PSKafka.Tests.Cluster;

/// <summary>A real in-process cluster in a temp directory, with the client moves a Kafka client makes (metadata, leader, retry).</summary>
internal sealed class TestCluster : IDisposable
{
    private readonly TempDir _dir = new();

    public TestCluster(int brokers)
    {
        Cluster = KafkaCluster.Open(_dir.Path);
        for (int i = 0; i < brokers; i++) Cluster.StartBroker(port: 0);
    }

    public KafkaCluster Cluster { get; }
    public string DataDirectory => _dir.Path;

    public void CreateTopic(string name, int partitions, short rf, Dictionary<string, string>? configs = null)
    {
        var r = Cluster.Brokers.First(b => b.IsRunning).CreateTopics([new CreateTopicParams(name, partitions, rf, configs)])[0];
        Assert.Equal(ErrorCode.None, r.Error);
    }

    public PartitionMetadata Partition(string topic, int partition) =>
        Cluster.Controller.Describe([topic], false).Topics[0].Partitions[partition];

    public Broker? Leader(string topic, int partition)
    {
        var p = Partition(topic, partition);
        return p.Leader >= 0 && Cluster.GetBroker(p.Leader) is { IsRunning: true } b ? b : null;
    }

    public IEnumerable<PartitionReplica> Replicas(string topic, int partition) =>
        Cluster.Brokers.Where(b => b.IsRunning).Select(b => b.GetReplica(new TopicPartition(topic, partition))).OfType<PartitionReplica>();

    /// <summary>Numbered messages: each value holds its 8-byte sequence number, padded to <paramref name="valueSize"/>.</summary>
    public static byte[] Batch(long firstSeq, int count, int valueSize = 16, long producerId = -1, int baseSequence = -1)
    {
        // With a producer id the batch is idempotent (epoch 0): a retry of it is not written twice.
        using var b = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = (short)(producerId < 0 ? -1 : 0), BaseSequence = baseSequence };
        var value = new byte[Math.Max(8, valueSize)];
        for (int i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteInt64BigEndian(value, firstSeq + i);
            b.Append(1_700_000_000_000 + firstSeq + i, null, value);
        }
        return b.ToArray();
    }

    public async Task<ProducePartitionResult> ProduceOnceAsync(string topic, int partition, byte[] batch, short acks, int timeoutMs = 5000)
    {
        var leader = Leader(topic, partition);
        if (leader is null) return new ProducePartitionResult(topic, partition, ErrorCode.LeaderNotAvailable);
        var request = new ProduceParams { Acks = acks, TimeoutMs = timeoutMs, Partitions = [new ProducePartitionParams(topic, partition, batch)] };
        return (await leader.ProduceAsync(request))[0];
    }

    /// <summary>Retries what a Kafka producer retries until the deadline; counts the attempts that failed.</summary>
    public async Task<(ProducePartitionResult Result, int FailedAttempts)> ProduceAsync(string topic, int partition, byte[] batch, short acks = Acks.All, int deadlineMs = 20_000)
    {
        var deadline = Environment.TickCount64 + deadlineMs;
        int failed = 0;
        while (true)
        {
            var r = await ProduceOnceAsync(topic, partition, batch, acks);
            if (r.Error == ErrorCode.None || Environment.TickCount64 > deadline
                || r.Error is not (ErrorCode.NotLeaderOrFollower or ErrorCode.LeaderNotAvailable or ErrorCode.NotEnoughReplicas
                    or ErrorCode.NotEnoughReplicasAfterAppend or ErrorCode.RequestTimedOut or ErrorCode.UnknownTopicOrPartition))
                return (r, failed);
            failed++;
            await Task.Delay(10);
        }
    }

    /// <summary>Every record (offset, sequence number) of a replica's log from its start to its log end.</summary>
    public static List<(long Offset, long Seq)> Records(PartitionReplica replica) => Records(AllBytes(replica));

    public static List<(long Offset, long Seq)> Records(ReadOnlyMemory<byte> data)
    {
        var list = new List<(long, long)>();
        foreach (var batch in new RecordBatchReader(data))
        {
            Assert.True(batch.IsValid);
            foreach (var r in batch.Records) list.Add((r.Offset, BinaryPrimitives.ReadInt64BigEndian(r.Value.Span)));
        }
        return list;
    }

    /// <summary>The log's batches, byte for byte, from the log start to the log end (what .log segments hold).</summary>
    public static byte[] AllBytes(PartitionReplica replica, long? upTo = null)
    {
        var log = replica.Log;
        long end = upTo ?? log.LogEndOffset, offset = log.LogStartOffset;
        using var ms = new MemoryStream();
        while (offset < end)
        {
            var r = log.Read(offset, 1 << 20, end);
            Assert.Equal(ErrorCode.None, r.Error);
            if (r.Records.IsEmpty) break;
            long next = offset;
            foreach (var b in new RecordBatchReader(r.Records)) next = b.NextOffset;
            ms.Write(r.Records.Span);
            offset = next;
        }
        return ms.ToArray();
    }

    public static Task WaitUntil(Func<bool> condition, int? timeoutMs = null, string? what = null) =>
        Patience.Until(condition, what ?? "the condition", timeoutMs is int ms ? TimeSpan.FromMilliseconds(ms) : null);

    /// <summary>Every replica of the partition runs, is in the ISR and has the leader's log end offset as its high watermark.</summary>
    public bool FullyReplicated(string topic, int partition)
    {
        var p = Partition(topic, partition);
        if (p.Leader < 0 || p.Isr.Count != p.Replicas.Count) return false;
        var replicas = Replicas(topic, partition).ToList();
        if (replicas.Count != p.Replicas.Count) return false;
        long leo = replicas.First(r => r.IsLeader).LogEndOffset;
        return replicas.All(r => r.LogEndOffset == leo && r.HighWatermark == leo);
    }

    public void Dispose()
    {
        Cluster.Dispose();
        _dir.Dispose();
    }
}
