using PSKafka.Engine.Cluster;

namespace PSKafka.Tui.Model;

/// <summary>
/// The console's picture of the cluster at one moment: immutable, built off the UI thread, and
/// replaced whole once a second. Counters are cumulative; rates come from the previous snapshot
/// (see <see cref="SnapshotBuilder"/>).
/// </summary>
public sealed record ClusterSnapshot(
    DateTimeOffset Taken,
    string ClusterId,
    string Description,
    int ControllerId,
    IReadOnlyList<BrokerView> Brokers,
    IReadOnlyList<TopicView> Topics,
    IReadOnlyList<GroupView> Groups,
    TimeSpan BuildTime)
{
    public static ClusterSnapshot Empty { get; } = new(DateTimeOffset.MinValue, "", "", -1, [], [], [], TimeSpan.Zero);

    public TopicView? FindTopic(string? name) => name is null ? null : Topics.FirstOrDefault(t => t.Name == name);
}

public sealed record BrokerView(
    int Id,
    string Address,
    BrokerState State,
    bool IsController,
    int PartitionsLed,
    int PartitionsFollowed,
    long BytesInTotal,
    long BytesOutTotal,
    double BytesInPerSec = 0,
    double BytesOutPerSec = 0)
{
    /// <summary>running, stopped, crashed (and the passing starting/stopping), as the tutorial names them.</summary>
    public string StateName => State.ToString().ToLowerInvariant();
}

public sealed record TopicView(
    string Name,
    IReadOnlyList<PartitionView> Partitions,
    double MessagesPerSec = 0,
    IReadOnlyList<double>? RateHistory = null)
{
    public int PartitionCount => Partitions.Count;
    public int ReplicationFactor => Partitions.Count == 0 ? 0 : Partitions[0].Replicas.Count;
    public int UnderReplicated => Partitions.Count(p => p.IsUnderReplicated);
    public int Offline => Partitions.Count(p => p.IsOffline);
    public long Messages => Partitions.Sum(p => Math.Max(0, p.HighWatermark - p.LogStartOffset));
}

/// <summary>
/// One partition as the metadata describes it (leader, replicas, ISR) with its leader's log figures;
/// the log figures are -1 when no running replica holds the partition.
/// </summary>
public sealed record PartitionView(
    int Partition,
    int Leader,
    int LeaderEpoch,
    IReadOnlyList<int> Replicas,
    IReadOnlyList<int> Isr,
    long LogStartOffset,
    long HighWatermark,
    long LogEndOffset,
    long SizeBytes,
    int Segments,
    double MessagesPerSec = 0)
{
    /// <summary>Kafka's UnderReplicatedPartitions: fewer in-sync replicas than assigned ones.</summary>
    public bool IsUnderReplicated => Isr.Count < Replicas.Count;

    /// <summary>Kafka's OfflinePartitionsCount: no leader.</summary>
    public bool IsOffline => Leader < 0;

    public IEnumerable<int> OutOfSyncReplicas => Replicas.Where(r => !Isr.Contains(r));
}

/// <summary>A consumer group as Kafka's DescribeGroups and OffsetFetch show it.</summary>
public sealed record GroupView(
    string GroupId,
    string State,
    string ProtocolType,
    IReadOnlyList<GroupMemberView> Members,
    IReadOnlyList<GroupOffsetView> Offsets,
    IReadOnlyList<long>? LagHistory = null)
{
    public long TotalLag => Offsets.Sum(o => o.Lag ?? 0);
}

public sealed record GroupMemberView(string MemberId, string ClientId, string Host, IReadOnlyList<(string Topic, int Partition)> Assignment);

/// <summary>
/// Committed offset and lag of one partition as kafka-consumer-groups.sh --describe shows them: lag is the
/// log end offset (the high watermark a consumer can reach) minus the committed offset, none without a commit.
/// </summary>
public sealed record GroupOffsetView(string Topic, int Partition, long CommittedOffset, long LogEndOffset)
{
    public long? Lag => CommittedOffset < 0 ? null : Math.Max(0, LogEndOffset - CommittedOffset);
}

/// <summary>One record of the tail view.</summary>
public sealed record TailRecord(long Offset, DateTimeOffset Timestamp, string? Key, string? Value);
