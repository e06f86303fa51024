using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;

namespace PSKafka.Client;

public sealed partial class EmbeddedClient
{
    private static readonly TimeSpan CoordinatorWait = TimeSpan.FromSeconds(10);

    /// <summary>FindCoordinator through any broker, then that broker, as a client does; waits out a coordinator that is moving.</summary>
    internal Broker Coordinator(string groupId, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + CoordinatorWait;
        while (true)
        {
            var found = AnyBroker().FindCoordinator(groupId);
            if (found.Error == ErrorCode.None && Cluster.GetBroker(found.NodeId) is { IsRunning: true } broker) return broker;
            if (found.Error is not (ErrorCode.None or ErrorCode.CoordinatorNotAvailable or ErrorCode.NotCoordinator or ErrorCode.CoordinatorLoadInProgress)
                || DateTime.UtcNow > deadline || cancellationToken.IsCancellationRequested)
                throw new KafkaException(found.Error == ErrorCode.None ? ErrorCode.CoordinatorNotAvailable : found.Error,
                    found.ErrorMessage ?? $"No coordinator is available for group '{groupId}'.");
            Backoff(cancellationToken);
        }
    }

    /// <summary>Runs a coordinator call again when the coordinator moved under it (NOT_COORDINATOR), as clients do.</summary>
    private T WithCoordinator<T>(string groupId, Func<Broker, T> call, Func<T, ErrorCode> errorOf)
    {
        var deadline = DateTime.UtcNow + CoordinatorWait;
        while (true)
        {
            var result = call(Coordinator(groupId));
            var error = errorOf(result);
            if (error is not (ErrorCode.NotCoordinator or ErrorCode.CoordinatorNotAvailable or ErrorCode.CoordinatorLoadInProgress) || DateTime.UtcNow > deadline)
                return result;
            Backoff(CancellationToken.None);
        }
    }

    IGroupConsumer IKafkaClient.OpenGroupConsumer(GroupConsumerSettings settings) => OpenGroupConsumer(settings);

    /// <summary>The in-process member, which also tells its generation (benchmarks wait on it; librdkafka does not expose it).</summary>
    public EmbeddedGroupConsumer OpenGroupConsumer(GroupConsumerSettings settings) => new(this, settings);

    public IReadOnlyList<GroupListing> ListGroups() =>
        Cluster.Brokers.Where(b => b.IsRunning)
            .SelectMany(b => b.ListGroups().Groups)
            .GroupBy(g => g.GroupId).Select(g => g.First())
            .OrderBy(g => g.GroupId, StringComparer.Ordinal)
            .ToList();

    public (DescribeGroupResult Group, int Coordinator) DescribeGroup(string groupId)
    {
        int coordinator = -1;
        var group = WithCoordinator(groupId, b => { coordinator = b.Id; return b.DescribeGroups([groupId])[0]; }, g => g.Error);
        return (group, coordinator);
    }

    public IReadOnlyList<OffsetFetchPartitionResult> FetchCommittedOffsets(string groupId, IReadOnlyList<TopicPartition>? partitions = null)
    {
        var result = WithCoordinator(groupId, b => b.OffsetFetch(new OffsetFetchParams(groupId, partitions)), r => r.Error);
        if (result.Error != ErrorCode.None) throw new KafkaException(result.Error, $"Fetching the committed offsets of group '{groupId}' failed: {result.Error}.");
        return result.Partitions;
    }

    public IReadOnlyList<OffsetCommitPartitionResult> CommitOffsets(string groupId, IReadOnlyList<OffsetCommitPartitionParams> offsets) =>
        WithCoordinator(groupId, b => b.OffsetCommit(new OffsetCommitParams { GroupId = groupId, Partitions = offsets }),
            r => r.Count == 0 ? ErrorCode.None : r[0].Error);

    public ErrorCode DeleteGroup(string groupId) =>
        WithCoordinator(groupId, b => b.DeleteGroups([groupId])[0].Error, e => e);

    public long OffsetForTimestamp(string topic, int partition, long timestamp)
    {
        var r = AtLeader(topic, partition, leader => leader.ListOffsets([new ListOffsetsPartitionParams(topic, partition, timestamp)])[0], answer => answer.Error);
        if (r.Error != ErrorCode.None) throw new KafkaException(r.Error, $"ListOffsets for {topic}-{partition} failed: {r.Error}.");
        return r.Offset;
    }
}
