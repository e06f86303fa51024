// The coordinator completes its tasks on its own timer thread and xunit runs these without a
// synchronisation context, so waiting on them cannot deadlock; it keeps the steps readable.
#pragma warning disable xUnit1031
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Groups;
using PSKafka.Engine.Metadata;
using PSKafka.Tests.Storage;

namespace PSKafka.Tests.Groups;

public sealed class GroupCoordinatorTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly MetadataStore _store;
    private GroupCoordinatorConfig _config = GroupCoordinatorConfig.Default with { InitialRebalanceDelayMs = 0, MinSessionTimeoutMs = 10 };
    private readonly GroupCoordinator _coordinator;

    public GroupCoordinatorTests()
    {
        _store = new MetadataStore(_dir.Path);
        _coordinator = new GroupCoordinator(_store, () => _config, (_, _) => true);
    }

    public void Dispose()
    {
        _coordinator.Dispose();
        _store.Dispose();
        _dir.Dispose();
    }

    private static readonly TimeSpan Wait = Patience.Deadline;

    private JoinGroupParams Join(string memberId = "", int session = 10_000, int rebalance = 10_000, string protocol = "range", byte[]? metadata = null) => new()
    {
        GroupId = "g",
        MemberId = memberId,
        SessionTimeoutMs = session,
        RebalanceTimeoutMs = rebalance,
        ClientId = "c",
        Protocols = [new GroupProtocol(protocol, metadata ?? [1])],
    };

    /// <summary>The v4+ dance: MEMBER_ID_REQUIRED, then the join proper (not awaited).</summary>
    private Task<JoinGroupResult> StartJoin(int session = 10_000, int rebalance = 10_000)
    {
        var first = _coordinator.JoinGroupAsync(Join(session: session, rebalance: rebalance), 0).Result;
        Assert.Equal(ErrorCode.MemberIdRequired, first.Error);
        Assert.StartsWith("c-", first.MemberId);
        return _coordinator.JoinGroupAsync(Join(first.MemberId, session, rebalance), 0);
    }

    private (GroupState State, int Generation, string? Leader, string[] Members) State => _coordinator.Inspect("g")!.Value;

    [Fact]
    public void One_member_joins_syncs_and_is_stable()
    {
        var join = StartJoin().WaitAsync(Wait).Result;
        Assert.Equal(ErrorCode.None, join.Error);
        Assert.Equal(1, join.GenerationId);
        Assert.Equal(join.MemberId, join.Leader);
        Assert.Equal("range", join.ProtocolName);
        Assert.Single(join.Members);
        Assert.Equal(GroupState.CompletingRebalance, State.State);

        var sync = _coordinator.SyncGroupAsync(new SyncGroupParams { GroupId = "g", GenerationId = 1, MemberId = join.MemberId, Assignments = [new(join.MemberId, [9, 9])] }).WaitAsync(Wait).Result;
        Assert.Equal(ErrorCode.None, sync.Error);
        Assert.Equal(new byte[] { 9, 9 }, sync.Assignment);
        Assert.Equal(GroupState.Stable, State.State);
        Assert.Equal(ErrorCode.None, _coordinator.Heartbeat(new HeartbeatParams("g", 1, join.MemberId)));
    }

    [Fact]
    public void Empty_groups_without_offsets_are_removed_at_the_retention_check()
    {
        // Kafka's cleanupGroupMetadata, every offsets.retention.check.interval.ms: Empty and no offsets -> Dead, gone.
        _config = _config with { OffsetsRetentionCheckIntervalMs = 50 };
        using var coordinator = new GroupCoordinator(_store, () => _config, (_, _) => true);
        var first = coordinator.JoinGroupAsync(Join(), 0).Result;
        var join = coordinator.JoinGroupAsync(Join(first.MemberId), 0).WaitAsync(Wait).Result;
        Assert.Equal(ErrorCode.None, join.Error);
        Thread.Sleep(200); // checks pass while "g" has a member: it stays
        Assert.NotNull(coordinator.Inspect("g"));
        coordinator.LeaveGroup(new LeaveGroupParams("g", [new(join.MemberId)]));
        Assert.Equal(ErrorCode.None, coordinator.CommitOffsets(new OffsetCommitParams { GroupId = "kept", Partitions = [new("t", 0, 1)] }, 0)[0].Error);
        var deadline = DateTime.UtcNow + Wait;
        while (coordinator.Inspect("g") is not null && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.Null(coordinator.Inspect("g"));
        Assert.Equal(["kept"], coordinator.ListGroups(null).Select(g => g.GroupId));
        Assert.DoesNotContain(_store.LoadGroups(), r => r.Id == "g");
    }

    [Fact]
    public void Initial_delay_gathers_members_into_one_generation_and_only_the_leader_gets_the_members()
    {
        _config = _config with { InitialRebalanceDelayMs = 300 };
        var a = StartJoin();
        var b = StartJoin();
        var ra = a.WaitAsync(Wait).Result;
        var rb = b.WaitAsync(Wait).Result;
        Assert.Equal(1, ra.GenerationId);
        Assert.Equal(1, rb.GenerationId);
        Assert.Equal(ra.MemberId, ra.Leader);
        Assert.Equal(2, ra.Members.Count);
        Assert.Empty(rb.Members);
    }

    [Fact]
    public void Followers_wait_for_the_leaders_assignment()
    {
        _config = _config with { InitialRebalanceDelayMs = 200 };
        var a = StartJoin();
        var b = StartJoin();
        var ra = a.WaitAsync(Wait).Result;
        var rb = b.WaitAsync(Wait).Result;
        var followerSync = _coordinator.SyncGroupAsync(new SyncGroupParams { GroupId = "g", GenerationId = rb.GenerationId, MemberId = rb.MemberId });
        Thread.Sleep(50);
        Assert.False(followerSync.IsCompleted);
        var leaderSync = _coordinator.SyncGroupAsync(new SyncGroupParams
        {
            GroupId = "g",
            GenerationId = ra.GenerationId,
            MemberId = ra.MemberId,
            Assignments = [new(ra.MemberId, [1]), new(rb.MemberId, [2])],
        }).WaitAsync(Wait).Result;
        Assert.Equal(new byte[] { 1 }, leaderSync.Assignment);
        Assert.Equal(new byte[] { 2 }, followerSync.WaitAsync(Wait).Result.Assignment);
    }

    [Fact]
    public void Heartbeat_errors_and_a_new_member_triggers_REBALANCE_IN_PROGRESS()
    {
        var a = StartJoin().WaitAsync(Wait).Result;
        _coordinator.SyncGroupAsync(new SyncGroupParams { GroupId = "g", GenerationId = a.GenerationId, MemberId = a.MemberId, Assignments = [new(a.MemberId, [])] }).Wait(Wait);
        Assert.Equal(ErrorCode.IllegalGeneration, _coordinator.Heartbeat(new HeartbeatParams("g", 99, a.MemberId)));
        Assert.Equal(ErrorCode.UnknownMemberId, _coordinator.Heartbeat(new HeartbeatParams("g", 1, "nobody")));
        Assert.Equal(ErrorCode.UnknownMemberId, _coordinator.Heartbeat(new HeartbeatParams("other", 1, a.MemberId)));

        var b = StartJoin();
        Assert.Equal(GroupState.PreparingRebalance, State.State);
        Assert.Equal(ErrorCode.RebalanceInProgress, _coordinator.Heartbeat(new HeartbeatParams("g", 1, a.MemberId)));
        Assert.False(b.IsCompleted); // waits for a to rejoin
        var a2 = _coordinator.JoinGroupAsync(Join(a.MemberId), 0).WaitAsync(Wait).Result;
        var b2 = b.WaitAsync(Wait).Result;
        Assert.Equal(2, a2.GenerationId);
        Assert.Equal(2, b2.GenerationId);
        Assert.Equal(a.MemberId, a2.Leader); // the leader stays the leader
    }

    [Fact]
    public void Sync_with_a_stale_generation_or_during_a_rebalance_is_refused()
    {
        var a = StartJoin().WaitAsync(Wait).Result;
        var stale = _coordinator.SyncGroupAsync(new SyncGroupParams { GroupId = "g", GenerationId = 0, MemberId = a.MemberId }).Result;
        Assert.Equal(ErrorCode.IllegalGeneration, stale.Error);
        var unknown = _coordinator.SyncGroupAsync(new SyncGroupParams { GroupId = "g", GenerationId = 1, MemberId = "x" }).Result;
        Assert.Equal(ErrorCode.UnknownMemberId, unknown.Error);
        _ = StartJoin(); // a newcomer: back to PreparingRebalance, a's pending sync is void
        var during = _coordinator.SyncGroupAsync(new SyncGroupParams { GroupId = "g", GenerationId = 1, MemberId = a.MemberId }).Result;
        Assert.Equal(ErrorCode.RebalanceInProgress, during.Error);
    }

    [Fact]
    public void A_silent_member_is_expired_after_the_session_timeout()
    {
        var a = StartJoin(session: 300).WaitAsync(Wait).Result;
        _coordinator.SyncGroupAsync(new SyncGroupParams { GroupId = "g", GenerationId = 1, MemberId = a.MemberId, Assignments = [new(a.MemberId, [])] }).Wait(Wait);
        Assert.Equal(GroupState.Stable, State.State);
        var deadline = DateTime.UtcNow + Wait;
        while (State.State != GroupState.Empty && DateTime.UtcNow < deadline) Thread.Sleep(20);
        Assert.Equal(GroupState.Empty, State.State);
        Assert.Equal(2, State.Generation); // the member's departure made a new (empty) generation
        Assert.Equal(ErrorCode.UnknownMemberId, _coordinator.Heartbeat(new HeartbeatParams("g", 1, a.MemberId)));
    }

    [Fact]
    public void A_member_that_does_not_rejoin_within_the_rebalance_timeout_is_removed()
    {
        _config = _config with { InitialRebalanceDelayMs = 100 };
        var a = StartJoin(rebalance: 400);
        var b = StartJoin(rebalance: 400);
        var ra = a.WaitAsync(Wait).Result;
        var rb = b.WaitAsync(Wait).Result;
        _coordinator.SyncGroupAsync(new SyncGroupParams { GroupId = "g", GenerationId = ra.GenerationId, MemberId = ra.MemberId, Assignments = [] }).Wait(Wait);
        _coordinator.SyncGroupAsync(new SyncGroupParams { GroupId = "g", GenerationId = rb.GenerationId, MemberId = rb.MemberId }).Wait(Wait);
        Assert.Equal(GroupState.Stable, State.State);

        // a rejoins (say its subscription changed); b keeps heartbeating but never polls, so never rejoins.
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var a2 = _coordinator.JoinGroupAsync(Join(ra.MemberId, rebalance: 400, metadata: [2]), 0);
        while (!a2.IsCompleted && sw.Elapsed < Wait)
        {
            _coordinator.Heartbeat(new HeartbeatParams("g", rb.GenerationId, rb.MemberId));
            Thread.Sleep(20);
        }
        // Not before b's rebalance timeout (400 ms): a wait that ends early removed b too soon. A loaded machine only
        // makes it later; b's session (10 s) never expires while it heartbeats, so nothing but the rebalance timeout ends it.
        Assert.True(a2.IsCompleted, $"a's rejoin did not complete within {Wait.TotalSeconds} s: b was never removed");
        var result = a2.Result;
        Assert.True(sw.ElapsedMilliseconds >= 350, $"b was removed after {sw.ElapsedMilliseconds} ms, before its rebalance timeout");
        Assert.Equal(new[] { ra.MemberId }, State.Members);
        Assert.Single(result.Members);
        Assert.Equal(ErrorCode.UnknownMemberId, _coordinator.Heartbeat(new HeartbeatParams("g", rb.GenerationId, rb.MemberId)));
    }

    [Fact]
    public void Leaving_empties_the_group_and_unknown_members_are_reported()
    {
        var a = StartJoin().WaitAsync(Wait).Result;
        var left = _coordinator.LeaveGroup(new LeaveGroupParams("g", [new(a.MemberId), new("ghost")]));
        Assert.Equal(ErrorCode.None, left.Members[0].Error);
        Assert.Equal(ErrorCode.UnknownMemberId, left.Members[1].Error);
        Assert.Equal(GroupState.Empty, State.State);
    }

    [Fact]
    public void Different_protocol_type_or_no_common_protocol_is_INCONSISTENT_GROUP_PROTOCOL()
    {
        _ = StartJoin().WaitAsync(Wait).Result;
        var other = _coordinator.JoinGroupAsync(Join(protocol: "roundrobin"), 0).Result;
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, other.Error);
    }

    [Fact]
    public void Session_timeouts_outside_the_broker_range_are_refused()
    {
        _config = _config with { MinSessionTimeoutMs = 6000, MaxSessionTimeoutMs = 1_800_000 };
        Assert.Equal(ErrorCode.InvalidSessionTimeout, _coordinator.JoinGroupAsync(Join(session: 5999), 0).Result.Error);
        Assert.Equal(ErrorCode.InvalidSessionTimeout, _coordinator.JoinGroupAsync(Join(session: 1_800_001), 0).Result.Error);
    }

    private IReadOnlyList<OffsetCommitPartitionResult> Commit(int generation, string member, long offset) =>
        _coordinator.CommitOffsets(new OffsetCommitParams { GroupId = "g", GenerationId = generation, MemberId = member, Partitions = [new("t", 0, offset)] }, 0);

    [Fact]
    public void Commits_are_fenced_by_member_and_generation()
    {
        var a = StartJoin().WaitAsync(Wait).Result;
        Assert.Equal(ErrorCode.RebalanceInProgress, Commit(1, a.MemberId, 5)[0].Error); // CompletingRebalance
        _coordinator.SyncGroupAsync(new SyncGroupParams { GroupId = "g", GenerationId = 1, MemberId = a.MemberId, Assignments = [] }).Wait(Wait);
        Assert.Equal(ErrorCode.None, Commit(1, a.MemberId, 5)[0].Error);
        Assert.Equal(ErrorCode.IllegalGeneration, Commit(0, a.MemberId, 3)[0].Error);   // a zombie of an older generation
        Assert.Equal(ErrorCode.UnknownMemberId, Commit(1, "ghost", 3)[0].Error);
        Assert.Equal(ErrorCode.UnknownMemberId, Commit(-1, "", 3)[0].Error);             // admin commits only when Empty
        Assert.Equal(5, _coordinator.FetchOffsets(new OffsetFetchParams("g")).Partitions.Single().Offset);

        _coordinator.LeaveGroup(new LeaveGroupParams("g", [new(a.MemberId)]));
        Assert.Equal(ErrorCode.None, Commit(-1, "", 2)[0].Error);
        Assert.Equal(2, _coordinator.FetchOffsets(new OffsetFetchParams("g", [new("t", 0), new("t", 1)])).Partitions[0].Offset);
        Assert.Equal(-1, _coordinator.FetchOffsets(new OffsetFetchParams("g", [new("t", 0), new("t", 1)])).Partitions[1].Offset);
    }

    [Fact]
    public void Offsets_and_generation_survive_reopening_the_store()
    {
        Assert.Equal(ErrorCode.None, Commit(-1, "", 42)[0].Error);
        var a = StartJoin().WaitAsync(Wait).Result;
        _coordinator.LeaveGroup(new LeaveGroupParams("g", [new(a.MemberId)]));
        _coordinator.Dispose();
        _store.Dispose();

        using var store = new MetadataStore(_dir.Path);
        using var coordinator = new GroupCoordinator(store, () => _config, (_, _) => true);
        coordinator.EnsureLoaded(0, 0, 1);
        Assert.Equal(42, coordinator.FetchOffsets(new OffsetFetchParams("g")).Partitions.Single().Offset);
        Assert.Equal(2, coordinator.Inspect("g")!.Value.Generation);
        Assert.Equal("Empty", coordinator.ListGroups(null).Single().GroupState);
    }

    [Fact]
    public void A_coordinator_that_takes_over_a_stable_group_keeps_its_members_generation_and_assignment()
    {
        var join = StartJoin().WaitAsync(Wait).Result;
        var sync = _coordinator.SyncGroupAsync(new SyncGroupParams { GroupId = "g", GenerationId = 1, MemberId = join.MemberId, Assignments = [new(join.MemberId, [9, 9])] }).WaitAsync(Wait).Result;
        Assert.Equal(ErrorCode.None, sync.Error);
        _coordinator.Dispose();
        _store.Dispose();

        // Another broker's coordinator loads the offsets partition (as after the leader's broker died).
        using var store = new MetadataStore(_dir.Path);
        using var coordinator = new GroupCoordinator(store, () => _config, (_, _) => true);
        coordinator.EnsureLoaded(0, 1, 1);
        var state = coordinator.Inspect("g")!.Value;
        Assert.Equal((GroupState.Stable, 1, join.MemberId), (state.State, state.Generation, state.Leader));
        Assert.Equal([join.MemberId], state.Members);
        Assert.Equal(ErrorCode.None, coordinator.Heartbeat(new HeartbeatParams("g", 1, join.MemberId)));
        // The member's commit under its generation goes through: nothing is read again.
        var commit = coordinator.CommitOffsets(new OffsetCommitParams { GroupId = "g", GenerationId = 1, MemberId = join.MemberId, Partitions = [new OffsetCommitPartitionParams("t", 0, 7)] }, 0);
        Assert.Equal(ErrorCode.None, commit.Single().Error);
        // A sync again (a member that missed its answer) gets the same assignment.
        var again = coordinator.SyncGroupAsync(new SyncGroupParams { GroupId = "g", GenerationId = 1, MemberId = join.MemberId }).WaitAsync(Wait).Result;
        Assert.Equal(new byte[] { 9, 9 }, again.Assignment);
    }

    [Fact]
    public void A_group_taken_over_in_the_middle_of_a_rebalance_comes_back_empty_and_its_members_rejoin()
    {
        var join = StartJoin().WaitAsync(Wait).Result; // CompletingRebalance: no assignment yet
        _coordinator.Dispose();
        _store.Dispose();

        using var store = new MetadataStore(_dir.Path);
        using var coordinator = new GroupCoordinator(store, () => _config, (_, _) => true);
        coordinator.EnsureLoaded(0, 1, 1);
        Assert.Equal(GroupState.Empty, coordinator.Inspect("g")!.Value.State);
        Assert.Equal(ErrorCode.UnknownMemberId, coordinator.Heartbeat(new HeartbeatParams("g", 1, join.MemberId)));
    }

    [Fact]
    public void Delete_only_empty_groups()
    {
        Assert.Equal(ErrorCode.GroupIdNotFound, _coordinator.DeleteGroup("g"));
        var a = StartJoin().WaitAsync(Wait).Result;
        Assert.Equal(ErrorCode.NonEmptyGroup, _coordinator.DeleteGroup("g"));
        _coordinator.LeaveGroup(new LeaveGroupParams("g", [new(a.MemberId)]));
        Assert.Equal(ErrorCode.None, _coordinator.DeleteGroup("g"));
        Assert.Equal("Dead", _coordinator.DescribeGroup("g").GroupState);
        Assert.Empty(_coordinator.FetchOffsets(new OffsetFetchParams("g")).Partitions);
    }
}

public sealed class GroupFailoverTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose()
    {
        KafkaCluster.Find(_dir.Sub("data"))?.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public void The_coordinator_is_the_offsets_partition_leader_and_moves_with_it_keeping_offsets()
    {
        var cluster = KafkaCluster.Open(_dir.Sub("data"));
        for (int i = 0; i < 3; i++) cluster.StartBroker(port: 0);
        cluster.Controller.CreateTopics([new CreateTopicParams("t", 1, 1)], false);
        var any = cluster.Brokers[0];
        var found = any.FindCoordinator("my-group");
        Assert.Equal(ErrorCode.None, found.Error);

        var offsets = cluster.Controller.Describe([CoordinatorPlacement.OffsetsTopic], false).Topics[0];
        Assert.True(offsets.IsInternal);
        Assert.Equal(50, offsets.Partitions.Count);
        Assert.Equal(3, offsets.Partitions[0].Replicas.Count);
        var partition = offsets.Partitions[CoordinatorPlacement.PartitionFor("my-group", 50)];
        Assert.Equal(partition.Leader, found.NodeId);

        var coordinator = cluster.GetBroker(found.NodeId)!;
        var other = cluster.Brokers.First(b => b.Id != found.NodeId);
        Assert.Equal(ErrorCode.NotCoordinator, other.Heartbeat(new HeartbeatParams("my-group", 1, "m")));
        var commit = coordinator.OffsetCommit(new OffsetCommitParams { GroupId = "my-group", Partitions = [new("t", 0, 17)] });
        Assert.Equal(ErrorCode.None, commit[0].Error);
        Assert.Equal(ErrorCode.UnknownTopicOrPartition, coordinator.OffsetCommit(new OffsetCommitParams { GroupId = "my-group", Partitions = [new("nope", 0, 1)] })[0].Error);

        cluster.StopBroker(found.NodeId);
        var moved = any.Id == found.NodeId ? other.FindCoordinator("my-group") : any.FindCoordinator("my-group");
        Assert.Equal(ErrorCode.None, moved.Error);
        Assert.NotEqual(found.NodeId, moved.NodeId);
        var fetched = cluster.GetBroker(moved.NodeId)!.OffsetFetch(new OffsetFetchParams("my-group", [new("t", 0)]));
        Assert.Equal(17, fetched.Partitions[0].Offset);
    }

    [Fact]
    public void Deleting_a_topic_removes_its_committed_offsets_and_the_groups_left_empty_without_offsets()
    {
        var cluster = KafkaCluster.Open(_dir.Sub("data"));
        cluster.StartBroker(port: 0);
        var broker = cluster.Brokers[0];
        cluster.Controller.CreateTopics([new CreateTopicParams("gone", 2, 1), new CreateTopicParams("kept", 1, 1)], false);
        Assert.Equal(ErrorCode.None, broker.FindCoordinator("both").Error);
        Assert.All(broker.OffsetCommit(new OffsetCommitParams { GroupId = "both", Partitions = [new("gone", 0, 5), new("gone", 1, 6), new("kept", 0, 7)] }), r => Assert.Equal(ErrorCode.None, r.Error));
        Assert.All(broker.OffsetCommit(new OffsetCommitParams { GroupId = "only-gone", Partitions = [new("gone", 0, 9)] }), r => Assert.Equal(ErrorCode.None, r.Error));
        Assert.Equal(["both", "only-gone"], broker.ListGroups().Groups.Select(g => g.GroupId).Order());

        Assert.Equal(ErrorCode.None, broker.DeleteTopics(["gone"])[0].Error);

        // The group with offsets left keeps those; the one whose offsets were all of the topic is gone (Kafka: Dead).
        Assert.Equal([("kept", 0, 7L)], broker.OffsetFetch(new OffsetFetchParams("both")).Partitions.Select(p => (p.Topic, p.Partition, p.Offset)));
        Assert.Equal(["both"], broker.ListGroups().Groups.Select(g => g.GroupId));
        // A topic created again with the name starts without the old offsets, in memory and after a restart.
        cluster.Controller.CreateTopics([new CreateTopicParams("gone", 2, 1)], false);
        Assert.Equal(-1, broker.OffsetFetch(new OffsetFetchParams("both", [new("gone", 0)])).Partitions[0].Offset);
        cluster.Dispose();
        cluster = KafkaCluster.Open(_dir.Sub("data"));
        broker = cluster.StartBroker(0);
        Assert.Equal(ErrorCode.None, broker.FindCoordinator("both").Error);
        Assert.Equal([("kept", 0, 7L)], broker.OffsetFetch(new OffsetFetchParams("both")).Partitions.Select(p => (p.Topic, p.Partition, p.Offset)));
        Assert.Equal(["both"], broker.ListGroups().Groups.Select(g => g.GroupId));
    }

}
