using System.Globalization;
using PSKafka.Engine.Api;
using PSKafka.Engine.Config;
using PSKafka.Engine.Groups;
using PSKafka.Engine.Logging;
using PSKafka.Engine.Storage;

namespace PSKafka.Engine.Cluster;

// The group APIs (classic protocol): FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
// OffsetCommit, OffsetFetch, ListGroups, DescribeGroups, DeleteGroups. A broker coordinates the
// groups whose __consumer_offsets partition it leads, so a coordinator moves with that leadership.
public sealed partial class Broker
{
    private readonly Lock _groupsGate = new();
    private GroupCoordinator? _groupCoordinator;
    private int _offsetsPartitions;

    internal GroupCoordinator GroupCoordinator
    {
        get
        {
            lock (_groupsGate)
                return _groupCoordinator ??= new GroupCoordinator(_cluster.Store, GroupConfig, _cluster.Controller.PartitionExists,
                    Logging.For(KafkaLoggers.GroupCoordinator, $"[GroupCoordinator {Id}]: "));
        }
    }

    private GroupCoordinatorConfig GroupConfig() => GroupCoordinatorConfig.From(_cluster.BrokerConfigs.For(Id));

    /// <summary>The groups this broker's coordinator holds after dropping a deleted topic's offsets from them (see GroupCoordinator.OnTopicDeleted).</summary>
    internal IReadOnlyCollection<string> OnTopicDeleted(string topic)
    {
        GroupCoordinator? coordinator;
        lock (_groupsGate) coordinator = _groupCoordinator;
        return coordinator?.OnTopicDeleted(topic) ?? [];
    }

    /// <summary>Called when the broker stops: its groups are unloaded; members waiting on it hear NOT_COORDINATOR.</summary>
    private void StopGroupCoordinator()
    {
        lock (_groupsGate)
        {
            _groupCoordinator?.Dispose();
            _groupCoordinator = null;
        }
    }

    /// <summary>
    /// FindCoordinator: the leader of partition abs(hash(key)) % offsets.topic.num.partitions of
    /// __consumer_offsets, which is created on first use (compacted, replication factor
    /// min(offsets.topic.replication.factor, running brokers)).
    /// </summary>
    public FindCoordinatorResult FindCoordinator(string key, CoordinatorType type = CoordinatorType.Group)
    {
        if (type != CoordinatorType.Group)
            return new FindCoordinatorResult(key, ErrorCode.CoordinatorNotAvailable, -1, "", -1, "Transactions are not supported by this broker yet.");
        if (string.IsNullOrEmpty(key))
            return new FindCoordinatorResult(key, ErrorCode.InvalidRequest, -1, "", -1, "The group id is empty.");
        if (!IsRunning) return new FindCoordinatorResult(key, ErrorCode.CoordinatorNotAvailable, -1, "", -1, $"Broker {Id} is not running.");
        EnsureOffsetsTopic();
        var meta = _cluster.Controller.Describe([CoordinatorPlacement.OffsetsTopic], allowAutoTopicCreation: false).Topics[0];
        if (meta.Error != ErrorCode.None || meta.Partitions.Count == 0)
            return new FindCoordinatorResult(key, ErrorCode.CoordinatorNotAvailable, -1, "", -1, "The offsets topic is not available.");
        var partition = meta.Partitions[CoordinatorPlacement.PartitionFor(key, meta.Partitions.Count)];
        if (partition.Leader < 0 || _cluster.GetBroker(partition.Leader) is not { IsRunning: true } coordinator)
            return new FindCoordinatorResult(key, ErrorCode.CoordinatorNotAvailable, -1, "", -1,
                $"Partition {partition.Partition} of {CoordinatorPlacement.OffsetsTopic}, which holds group '{key}', has no leader.");
        return new FindCoordinatorResult(key, ErrorCode.None, coordinator.Id, coordinator.Host, coordinator.Port);
    }

    private void EnsureOffsetsTopic()
    {
        if (_cluster.Controller.TopicExists(CoordinatorPlacement.OffsetsTopic)) return;
        var config = GroupConfig();
        int rf = Math.Min(config.OffsetsTopicReplicationFactor, _cluster.RunningBrokerIds().Count);
        // A concurrent creation answers TopicAlreadyExists, which is as good.
        _cluster.Controller.CreateTopics([new CreateTopicParams(CoordinatorPlacement.OffsetsTopic, config.OffsetsTopicPartitions, (short)Math.Max(rf, 1),
            new Dictionary<string, string>
            {
                [ConfigDefinitions.CleanupPolicy] = LogConfig.CleanupPolicyCompact,
                [ConfigDefinitions.SegmentBytes] = config.OffsetsTopicSegmentBytes.ToString(CultureInfo.InvariantCulture),
                [ConfigDefinitions.CompressionType] = "producer",
            })], validateOnly: false);
    }

    /// <summary>The coordinator when this broker coordinates the group, else the error to answer (NOT_COORDINATOR).</summary>
    private ErrorCode CoordinatorFor(string groupId, out GroupCoordinator coordinator, out int offsetsPartition)
    {
        coordinator = null!;
        offsetsPartition = -1;
        if (!IsRunning) return ErrorCode.NotCoordinator;
        int n = Volatile.Read(ref _offsetsPartitions);
        if (n == 0)
        {
            if (!_cluster.Controller.TopicExists(CoordinatorPlacement.OffsetsTopic)) return ErrorCode.NotCoordinator;
            n = _cluster.Controller.Describe([CoordinatorPlacement.OffsetsTopic], false).Topics[0].Partitions.Count;
            Volatile.Write(ref _offsetsPartitions, n);
        }
        offsetsPartition = CoordinatorPlacement.PartitionFor(groupId, n);
        var replica = GetReplica(new TopicPartition(CoordinatorPlacement.OffsetsTopic, offsetsPartition));
        coordinator = GroupCoordinator;
        if (replica is not { IsLeader: true })
        {
            coordinator.Unload(offsetsPartition);
            return ErrorCode.NotCoordinator;
        }
        coordinator.EnsureLoaded(offsetsPartition, replica.LeaderEpoch, n);
        return ErrorCode.None;
    }

    public async ValueTask<JoinGroupResult> JoinGroupAsync(JoinGroupParams request, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(request.GroupId)) return JoinGroupResult.Failed(ErrorCode.InvalidGroupId, request.MemberId, "The group id is empty.");
        var error = CoordinatorFor(request.GroupId, out var coordinator, out int partition);
        if (error != ErrorCode.None) return JoinGroupResult.Failed(error, request.MemberId);
        return await coordinator.JoinGroupAsync(request, partition).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<SyncGroupResult> SyncGroupAsync(SyncGroupParams request, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(request.GroupId)) return SyncGroupResult.Failed(ErrorCode.InvalidGroupId);
        var error = CoordinatorFor(request.GroupId, out var coordinator, out _);
        if (error != ErrorCode.None) return SyncGroupResult.Failed(error);
        return await coordinator.SyncGroupAsync(request).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public ErrorCode Heartbeat(HeartbeatParams request)
    {
        if (string.IsNullOrEmpty(request.GroupId)) return ErrorCode.InvalidGroupId;
        var error = CoordinatorFor(request.GroupId, out var coordinator, out _);
        return error != ErrorCode.None ? error : coordinator.Heartbeat(request);
    }

    public LeaveGroupResult LeaveGroup(LeaveGroupParams request)
    {
        if (string.IsNullOrEmpty(request.GroupId)) return new LeaveGroupResult(ErrorCode.InvalidGroupId, []);
        var error = CoordinatorFor(request.GroupId, out var coordinator, out _);
        return error != ErrorCode.None ? new LeaveGroupResult(error, []) : coordinator.LeaveGroup(request);
    }

    public IReadOnlyList<OffsetCommitPartitionResult> OffsetCommit(OffsetCommitParams request)
    {
        GroupCoordinator coordinator = null!;
        int partition = -1;
        var error = string.IsNullOrEmpty(request.GroupId) ? ErrorCode.InvalidGroupId : CoordinatorFor(request.GroupId, out coordinator, out partition);
        if (error != ErrorCode.None)
            return request.Partitions.Select(p => new OffsetCommitPartitionResult(p.Topic, p.Partition, error)).ToList();
        return coordinator.CommitOffsets(request, partition);
    }

    public OffsetFetchResult OffsetFetch(OffsetFetchParams request)
    {
        if (string.IsNullOrEmpty(request.GroupId)) return new OffsetFetchResult(ErrorCode.InvalidGroupId, []);
        var error = CoordinatorFor(request.GroupId, out var coordinator, out _);
        return error != ErrorCode.None ? new OffsetFetchResult(error, []) : coordinator.FetchOffsets(request);
    }

    /// <summary>ListGroups: the groups this broker coordinates (a client asks every broker and merges).</summary>
    public ListGroupsResult ListGroups(IReadOnlyCollection<string>? statesFilter = null)
    {
        if (!IsRunning) return new ListGroupsResult(ErrorCode.CoordinatorNotAvailable, []);
        if (!_cluster.Controller.TopicExists(CoordinatorPlacement.OffsetsTopic)) return new ListGroupsResult(ErrorCode.None, []);
        int n = _cluster.Controller.Describe([CoordinatorPlacement.OffsetsTopic], false).Topics[0].Partitions.Count;
        var coordinator = GroupCoordinator;
        for (int p = 0; p < n; p++)
        {
            var replica = GetReplica(new TopicPartition(CoordinatorPlacement.OffsetsTopic, p));
            if (replica is { IsLeader: true }) coordinator.EnsureLoaded(p, replica.LeaderEpoch, n);
            else coordinator.Unload(p);
        }
        return new ListGroupsResult(ErrorCode.None, coordinator.ListGroups(statesFilter));
    }

    public IReadOnlyList<DescribeGroupResult> DescribeGroups(IReadOnlyList<string> groupIds) =>
        groupIds.Select(id =>
        {
            GroupCoordinator coordinator = null!;
            var error = string.IsNullOrEmpty(id) ? ErrorCode.InvalidGroupId : CoordinatorFor(id, out coordinator, out _);
            return error != ErrorCode.None ? new DescribeGroupResult(error, id, "", "", "", []) : coordinator.DescribeGroup(id);
        }).ToList();

    public IReadOnlyList<DeleteGroupResult> DeleteGroups(IReadOnlyList<string> groupIds) =>
        groupIds.Select(id =>
        {
            GroupCoordinator coordinator = null!;
            var error = string.IsNullOrEmpty(id) ? ErrorCode.InvalidGroupId : CoordinatorFor(id, out coordinator, out _);
            return new DeleteGroupResult(id, error != ErrorCode.None ? error : coordinator.DeleteGroup(id));
        }).ToList();

    /// <summary>
    /// In-process clients only: completes when the group starts rebalancing, moves or goes, so a
    /// member can heartbeat at once (a wire client learns the same from its next heartbeat).
    /// </summary>
    public Task WhenGroupRebalancing(string groupId) =>
        CoordinatorFor(groupId, out var coordinator, out _) == ErrorCode.None ? coordinator.WhenRebalancing(groupId) : Task.CompletedTask;
}
