using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Storage;

namespace PSKafka.Client;

/// <summary>
/// The one seam between the cmdlets (and the console) and a cluster: the brokers of this process
/// (<see cref="EmbeddedClient"/>) or a remote Kafka through Confluent.Kafka (<see cref="RemoteClient"/>).
/// No cmdlet knows which one it talks to.
/// </summary>
public partial interface IKafkaClient
{
    /// <summary>What the session is talking to, for messages and Get-Cluster.</summary>
    string Description { get; }

    ClusterMetadata GetMetadata(IReadOnlyList<string>? topics = null);
    CreateTopicResult CreateTopic(CreateTopicParams request);
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
/// Kafka's producer settings: <paramref name="BatchBytes"/> is batch.size (16384), <paramref name="Linger"/> linger.ms (5 ms):
/// a partition's batch goes out when it holds that many bytes or that long after its first record, whichever comes first.
/// <paramref name="DeliveryTimeout"/> is delivery.timeout.ms (default 120 s): how long a batch is retried (leader moving,
/// not enough replicas) before the send fails.
/// </summary>
public sealed record ProducerSettings(short Acks = Acks.All, CompressionType Compression = CompressionType.None,
    int BatchBytes = ProducerSettings.DefaultBatchBytes, TimeSpan? LingerTime = null, bool AutoCreateTopics = true, TimeSpan? DeliveryTimeout = null)
{
    public const int DefaultBatchBytes = 16_384;
    public const int DefaultLingerMs = 5;

    public TimeSpan Linger => LingerTime ?? TimeSpan.FromMilliseconds(DefaultLingerMs);
}

public sealed record ConsumerSettings(int MaxWaitMs = 200, int PartitionMaxBytes = 4_194_304);

/// <summary>An outgoing record before it is batched.</summary>
public readonly record struct OutgoingRecord(string Topic, int? Partition, byte[]? Key, byte[]? Value, IReadOnlyList<RecordHeader>? Headers, long Timestamp);

/// <summary>Where a record landed.</summary>
public readonly record struct Delivery(string Topic, int Partition, long Offset, long Timestamp, byte[]? Key);

/// <summary>Records of a batch that could not be produced.</summary>
public sealed record ProduceFailure(string Topic, int Partition, int RecordCount, ErrorCode Error, string Message);

/// <summary>
/// A batching producer, as Kafka's: records are grouped per partition into record batches, which the producer's
/// own thread sends when full (batch.size) or lingered (linger.ms). Deliveries and failures complete on that thread
/// and are handed over on the caller's next Send or Flush: <paramref name="delivered"/> gets the deliveries (only of
/// records sent with a list), and a <see cref="ProduceFailedException"/> carries the records that failed; the
/// session stays usable after one.
/// </summary>
public interface IProducerSession : IDisposable
{
    /// <summary>Appends a record to its partition's batch; hands over what completed since the last call.</summary>
    void Send(in OutgoingRecord record, List<Delivery>? delivered);

    /// <summary>
    /// Sends every batch now and waits up to <paramref name="wait"/> for the records to complete, returning early
    /// when something completed so the caller can report it; true when no record is left under way.
    /// </summary>
    bool Flush(List<Delivery>? delivered, TimeSpan wait);

    /// <summary>Sends every batch and waits until all records have completed; throws for those that failed.</summary>
    void Flush(List<Delivery>? delivered)
    {
        List<ProduceFailure>? failed = null;
        while (true)
        {
            try
            {
                if (Flush(delivered, Timeout.InfiniteTimeSpan)) break;
            }
            catch (ProduceFailedException e)
            {
                (failed ??= new()).AddRange(e.Failures);
            }
        }
        if (failed is not null) throw new ProduceFailedException(failed);
    }

    /// <summary>
    /// Sends what was handed over, waits up to <paramref name="wait"/> and stops the producer (Ctrl+C; callable from
    /// another thread while Send or Flush runs). Returns how many records were not sent or failed unreported.
    /// </summary>
    int Close(TimeSpan wait);
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
