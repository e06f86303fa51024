using System.Text;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Groups;

namespace PSKafka.Client.ClusterView;

/// <summary>
/// The console's picture of the cluster at one moment: immutable, built off the UI thread, and
/// replaced whole once a second. Counters are cumulative; rates come from the previous snapshot
/// (the console's SnapshotBuilder). <paramref name="Problem"/> says why the picture may be stale
/// (a cluster that stopped answering); the console shows it on its status line.
/// <paramref name="MetadataLeaderId"/> is the broker that is the cluster's controller (Kafka's active
/// controller, which leads the cluster's metadata), -1 when none is known.
/// </summary>
public sealed record ClusterSnapshot(
    DateTimeOffset Taken,
    string ClusterId,
    string Description,
    int MetadataLeaderId,
    IReadOnlyList<BrokerView> Brokers,
    IReadOnlyList<TopicView> Topics,
    IReadOnlyList<GroupView> Groups,
    TimeSpan BuildTime,
    string? Problem = null)
{
    public static ClusterSnapshot Empty { get; } = new(DateTimeOffset.MinValue, "", "", -1, [], [], [], TimeSpan.Zero);

    public TopicView? FindTopic(string? name) => name is null ? null : Topics.FirstOrDefault(t => t.Name == name);
}

/// <summary>
/// One broker. <paramref name="Role"/> is "controller" for the cluster's controller and empty for the others (<see cref="RoleOf"/>).
/// A remote cluster cannot tell its brokers' traffic: the byte counters are then -1 (unknown).
/// A broker that was in the metadata and no longer is shows as not <paramref name="Reachable"/>.
/// </summary>
public sealed record BrokerView(
    int Id,
    string Address,
    BrokerState State,
    string Role,
    int PartitionsLed,
    int PartitionsFollowed,
    long BytesInTotal,
    long BytesOutTotal,
    double BytesInPerSec = 0,
    double BytesOutPerSec = 0,
    bool Reachable = true)
{
    /// <summary>running, stopped, crashed (and the passing starting/stopping), as the tutorial names them.</summary>
    public string StateName => Reachable ? State.ToString().ToLowerInvariant() : "not reachable";

    public bool TrafficKnown => BytesInTotal >= 0 && BytesOutTotal >= 0;

    /// <summary>The role of broker <paramref name="brokerId"/> in a cluster whose controller is <paramref name="metadataLeaderId"/>.</summary>
    public static string RoleOf(int brokerId, int metadataLeaderId) => brokerId == metadataLeaderId ? "controller" : "";
}

/// <summary>A topic; <paramref name="IsInternal"/> for Kafka's own (__consumer_offsets), which the console lists last.</summary>
public sealed record TopicView(
    string Name,
    IReadOnlyList<PartitionView> Partitions,
    double MessagesPerSec = 0,
    IReadOnlyList<double>? RateHistory = null,
    bool IsInternal = false)
{
    public int PartitionCount => Partitions.Count;
    public int ReplicationFactor => Partitions.Count == 0 ? 0 : Partitions[0].Replicas.Count;
    public int UnderReplicated => Partitions.Count(p => p.IsUnderReplicated);
    public int Offline => Partitions.Count(p => p.IsOffline);
    public long Messages => Partitions.Sum(p => Math.Max(0, p.HighWatermark - p.LogStartOffset));
}

/// <summary>
/// One partition as the metadata describes it (leader, replicas, ISR) with its leader's log figures;
/// the log figures are -1 when no running replica holds the partition or when the cluster cannot tell
/// them (a remote cluster's metadata has no leader epoch, and its clients see no LEO, size or segments).
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

public sealed record GroupMemberView(string MemberId, string ClientId, string Host, IReadOnlyList<(string Topic, int Partition)> Assignment)
{
    /// <summary>A member as DescribeGroups describes it: a consumer's assignment is Kafka's ConsumerProtocol bytes.</summary>
    public static GroupMemberView From(GroupMemberDescription member, string protocolType) =>
        new(member.MemberId, member.ClientId, member.ClientHost, AssignmentOf(protocolType, member.MemberAssignment));

    private static IReadOnlyList<(string Topic, int Partition)> AssignmentOf(string protocolType, byte[] assignment)
    {
        if (protocolType != ConsumerProtocol.ProtocolType || assignment.Length == 0) return [];
        try
        {
            return ConsumerProtocol.DeserializeAssignment(assignment).Partitions.Select(p => (p.Topic, p.Partition)).ToList();
        }
        catch (KafkaException)
        {
            return []; // a member's assignment in a format of its own: shown without partitions
        }
    }
}

/// <summary>
/// Committed offset and lag of one partition as kafka-consumer-groups.sh --describe shows them: lag is the
/// log end offset (the high watermark a consumer can reach) minus the committed offset, none without a commit.
/// </summary>
public sealed record GroupOffsetView(string Topic, int Partition, long CommittedOffset, long LogEndOffset)
{
    public long? Lag => CommittedOffset < 0 ? null : Math.Max(0, LogEndOffset - CommittedOffset);
}

/// <summary>One record of the tail view.</summary>
public sealed record TailRecord(long Offset, DateTimeOffset Timestamp, string? Key, string? Value)
{
    private const int MaxShownChars = 200;

    /// <summary>Bytes as one line of text: UTF-8 with control characters made visible, cut to a screen's width.</summary>
    public static string Text(ReadOnlySpan<byte> bytes)
    {
        var text = Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, MaxShownChars * 4)]);
        var sb = new StringBuilder(Math.Min(text.Length, MaxShownChars + 1));
        foreach (var c in text)
        {
            if (sb.Length >= MaxShownChars) { sb.Append('…'); break; }
            sb.Append(char.IsControl(c) ? '·' : c);
        }
        return sb.ToString();
    }
}
