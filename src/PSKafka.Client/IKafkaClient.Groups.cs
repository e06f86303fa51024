using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Groups.Assignors;

namespace PSKafka.Client;

// Consumer groups through the client seam: a group consumer, and what kafka-consumer-groups.sh does.
public partial interface IKafkaClient
{
    /// <summary>A consumer in a group: subscribes to topics (or takes manually assigned partitions) and commits to the group.</summary>
    IGroupConsumer OpenGroupConsumer(GroupConsumerSettings settings);

    /// <summary>Every group of the cluster (ListGroups on every broker).</summary>
    IReadOnlyList<GroupListing> ListGroups();

    /// <summary>The group as its coordinator describes it, with the coordinator's broker id.</summary>
    (DescribeGroupResult Group, int Coordinator) DescribeGroup(string groupId);

    /// <summary>Committed offsets of a group; null partitions: all it has.</summary>
    IReadOnlyList<OffsetFetchPartitionResult> FetchCommittedOffsets(string groupId, IReadOnlyList<TopicPartition>? partitions = null);

    /// <summary>Commits offsets for a group without members (generation -1), as admin tools do; Kafka refuses it while the group has members.</summary>
    IReadOnlyList<OffsetCommitPartitionResult> CommitOffsets(string groupId, IReadOnlyList<OffsetCommitPartitionParams> offsets);

    ErrorCode DeleteGroup(string groupId);

    /// <summary>ListOffsets by time: the first offset with a timestamp at or after it (the high watermark when there is none).</summary>
    long OffsetForTimestamp(string topic, int partition, long timestamp);
}

/// <summary>Kafka consumer settings of a group consumer, with Kafka's names in comments and Kafka's defaults.</summary>
public sealed record GroupConsumerSettings
{
    public required string GroupId { get; init; }                          // group.id
    public IReadOnlyList<string> Topics { get; init; } = [];               // subscribe(topics)
    /// <summary>Manual assignment (assign()) instead of a subscription: no membership, commits with generation -1.</summary>
    public IReadOnlyList<TopicPartition>? Partitions { get; init; }
    public IReadOnlyList<string> Assignors { get; init; } = [PartitionAssignors.Range, PartitionAssignors.CooperativeSticky]; // partition.assignment.strategy
    public int SessionTimeoutMs { get; init; } = JoinGroupParams.DefaultSessionTimeoutMs; // session.timeout.ms
    public int HeartbeatIntervalMs { get; init; } = 3_000;                 // heartbeat.interval.ms
    public int MaxPollIntervalMs { get; init; } = 300_000;                 // max.poll.interval.ms (the rebalance timeout)
    public string AutoOffsetReset { get; init; } = "latest";               // auto.offset.reset: earliest | latest | none
    public string ClientId { get; init; } = "pskafka-consumer";            // client.id
    public int MaxWaitMs { get; init; } = 200;                             // fetch.max.wait.ms (shorter, for a shell)
    public int PartitionMaxBytes { get; init; } = 4_194_304;               // max.partition.fetch.bytes

    /// <summary>Refuses what Kafka's consumer refuses at construction, before anything is sent.</summary>
    public void Validate()
    {
        if (string.IsNullOrEmpty(GroupId)) throw new KafkaException(ErrorCode.InvalidGroupId, "The group id is empty.");
        if (AutoOffsetReset is not ("earliest" or "latest" or "none"))
            throw new KafkaException(ErrorCode.InvalidConfig, $"Invalid value {AutoOffsetReset} for configuration auto.offset.reset: String must be one of: latest, earliest, none.");
        if (HeartbeatIntervalMs >= SessionTimeoutMs)
            throw new KafkaException(ErrorCode.InvalidConfig, $"heartbeat.interval.ms ({HeartbeatIntervalMs}) must be lower than session.timeout.ms ({SessionTimeoutMs}).");
        if (Assignors.Count == 0) throw new KafkaException(ErrorCode.InvalidConfig, "partition.assignment.strategy needs at least one assignor.");
    }

    /// <summary>The exception of a commit the coordinator refused, worded for what the user can do about it.</summary>
    public KafkaException CommitFailed(ErrorCode error) => new(error, error switch
    {
        ErrorCode.IllegalGeneration or ErrorCode.UnknownMemberId =>
            $"Commit failed: the group '{GroupId}' has rebalanced and this consumer's partitions may have moved to another member ({error}).",
        ErrorCode.RebalanceInProgress => $"Commit failed: the group '{GroupId}' is rebalancing; commit again after it has completed.",
        _ => $"Committing offsets of group '{GroupId}' failed: {error}.",
    });
}

/// <summary>
/// A consumer in a group. Poll drives everything a Kafka consumer's poll does: finding the
/// coordinator, joining and syncing when a rebalance is needed, and fetching the assigned partitions.
/// </summary>
public interface IGroupConsumer : IDisposable
{
    string GroupId { get; }
    string MemberId { get; }
    IReadOnlyCollection<TopicPartition> Assignment { get; }

    int Poll(TimeSpan timeout, List<ConsumedRecord> into, CancellationToken cancellationToken);

    /// <summary>True once the member has an assignment and has read each assigned partition up to its high watermark.</summary>
    bool AtEnd { get; }

    /// <summary>The record has been handed on (written to the pipeline): auto-commit may commit past it.</summary>
    void MarkEmitted(in ConsumedRecord record);

    /// <summary>Commits the offsets after the emitted records; returns the first error (ILLEGAL_GENERATION etc.) or None.</summary>
    ErrorCode CommitEmitted();

    /// <summary>Commits the given next offsets as this member; throws when the coordinator refuses.</summary>
    void Commit(IReadOnlyList<(TopicPartition Partition, long Offset)> offsets);

    /// <summary>Leaves the group (committing the emitted offsets first when <paramref name="commit"/>).</summary>
    void Close(bool commit);

    bool IsClosed { get; }
}
