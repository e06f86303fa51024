using PSKafka.Engine.Api;

namespace PSKafka.Cmdlets.Client;

/// <summary>
/// Consumer-group operations, beside <see cref="IKafkaClient"/> so a client can offer them without the
/// basic seam changing: a group consumer (join, get partitions assigned, commit), committed offsets,
/// resetting them, listing and deleting groups. Cmdlets ask <c>client as IGroupClient</c>.
/// </summary>
public interface IGroupClient
{
    /// <summary>A consumer that joins <see cref="RemoteGroupSettings.GroupId"/> and gets partitions assigned by the group coordinator.</summary>
    IGroupConsumerSession OpenGroupConsumer(RemoteGroupSettings settings);

    /// <summary>The group's committed offsets of these partitions (-1 where it has none).</summary>
    IReadOnlyList<GroupOffset> GetCommittedOffsets(string groupId, IReadOnlyList<TopicPartition> partitions);

    /// <summary>Commits offsets for a group that has no active members (Reset-ConsumerGroupOffset).</summary>
    void CommitOffsets(string groupId, IReadOnlyList<(TopicPartition Partition, long Offset)> offsets);

    IReadOnlyList<RemoteGroupListing> ListGroups();

    void DeleteGroup(string groupId);
}

/// <param name="FromBeginning">Where a partition without a committed offset starts: earliest (true) or latest (Kafka's default).</param>
public sealed record RemoteGroupSettings(string GroupId, bool FromBeginning = false, string? ClientId = null);

public sealed record GroupOffset(TopicPartition Partition, long Offset, string? Metadata = null);

public sealed record RemoteGroupListing(string GroupId, string State, bool IsSimple);

/// <summary>A member of a consumer group: subscribes to topics, reads what the group assigns it, commits what it has read.</summary>
public interface IGroupConsumerSession : IDisposable
{
    void Subscribe(IReadOnlyList<string> topics);

    /// <summary>The partitions the group assigned to this member (changes on rebalances, during Poll).</summary>
    IReadOnlyList<TopicPartition> Assignment { get; }

    /// <summary>Waits up to <paramref name="timeout"/> for records and appends them to <paramref name="into"/>; returns how many.</summary>
    int Poll(TimeSpan timeout, List<ConsumedRecord> into, CancellationToken cancellationToken);

    /// <summary>Commits the position after every record Poll has returned (synchronously).</summary>
    void Commit();

    /// <summary>True when every assigned partition has been read up to its end as of the last poll.</summary>
    bool AtEnd { get; }
}
