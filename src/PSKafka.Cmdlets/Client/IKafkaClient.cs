using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Storage;

namespace PSKafka.Cmdlets.Client;

/// <summary>
/// The one seam between the cmdlets and a cluster: the in-process engine today, a remote cluster
/// through a Kafka client later. No cmdlet knows which one it talks to.
/// </summary>
public partial interface IKafkaClient
{
    /// <summary>What the session is talking to, for messages and Get-Cluster.</summary>
    string Description { get; }

    ClusterMetadata GetMetadata(IReadOnlyList<string>? topics = null);
    CreateTopicResult CreateTopic(CreateTopicRequest request);
    DeleteTopicResult DeleteTopic(string name);

    /// <summary>Log start offset and high watermark of each partition.</summary>
    IReadOnlyList<PartitionOffsets> GetOffsets(string topic, IReadOnlyList<int> partitions);

    /// <summary>The effective configs of a topic with their sources.</summary>
    IReadOnlyList<ConfigEntry> DescribeTopicConfigs(string topic);

    /// <summary>Preferred leader election for the given partitions (every partition when null).</summary>
    IReadOnlyList<LeaderElectionResult> ElectPreferredLeaders(IReadOnlyList<TopicPartition>? partitions);

    /// <summary>IncrementalAlterConfigs of a topic: non-null values set an override, null ones remove it.</summary>
    void AlterTopicConfigs(string topic, IReadOnlyDictionary<string, string?> changes);

    IProducerSession OpenProducer(ProducerSettings settings);
    IConsumerSession OpenConsumer(ConsumerSettings settings);
}

public sealed record PartitionOffsets(int Partition, long LogStartOffset, long HighWatermark);

public sealed record ConfigEntry(string Name, string Value, string Source, bool IsDefault);

/// <summary>
/// <paramref name="DeliveryTimeout"/> is Kafka's delivery.timeout.ms (default 120 s): how long a batch is
/// retried (leader moving, not enough replicas) before the send fails.
/// </summary>
public sealed record ProducerSettings(short Acks = Acks.All, CompressionType Compression = CompressionType.None,
    int BatchRecords = 1000, int BatchBytes = 1_048_576, bool AutoCreateTopics = true, TimeSpan? DeliveryTimeout = null);

public sealed record ConsumerSettings(int MaxWaitMs = 200, int PartitionMaxBytes = 4_194_304);

/// <summary>An outgoing record before it is batched.</summary>
public readonly record struct OutgoingRecord(string Topic, int? Partition, byte[]? Key, byte[]? Value, IReadOnlyList<RecordHeader>? Headers, long Timestamp);

/// <summary>Where a record landed.</summary>
public readonly record struct Delivery(string Topic, int Partition, long Offset, long Timestamp, byte[]? Key);

/// <summary>Records of a batch that could not be produced.</summary>
public sealed record ProduceFailure(string Topic, int Partition, int RecordCount, ErrorCode Error, string Message);

/// <summary>
/// Some records were not produced; the others of the same send were (their deliveries were added).
/// The producer stays usable.
/// </summary>
public sealed class ProduceFailedException(IReadOnlyList<ProduceFailure> failures)
    : KafkaException(failures[0].Error, failures[0].Message)
{
    public IReadOnlyList<ProduceFailure> Failures { get; } = failures;
}

/// <summary>A batching producer: records are grouped per partition into record batches.</summary>
public interface IProducerSession : IDisposable
{
    /// <summary>Adds a record; sends a batch when one is full and adds the deliveries it completed to <paramref name="delivered"/>.</summary>
    void Send(in OutgoingRecord record, List<Delivery>? delivered);

    /// <summary>Sends every pending batch.</summary>
    void Flush(List<Delivery>? delivered);
}

/// <summary>A record read from a partition.</summary>
public readonly record struct ConsumedRecord(string Topic, int Partition, long Offset, long Timestamp, TimestampType TimestampType,
    byte[]? Key, byte[]? Value, RecordHeader[] Headers);

/// <summary>A consumer of assigned partitions at explicit positions.</summary>
public interface IConsumerSession : IDisposable
{
    void Assign(IEnumerable<(TopicPartition Partition, long Offset)> positions);
    IReadOnlyDictionary<TopicPartition, long> Positions { get; }

    /// <summary>Waits up to <paramref name="timeout"/> for records and appends them to <paramref name="into"/>; returns how many.</summary>
    int Poll(TimeSpan timeout, List<ConsumedRecord> into, CancellationToken cancellationToken);

    /// <summary>True when every assigned partition has been read up to its high watermark as of the last poll.</summary>
    bool AtEnd { get; }
}
