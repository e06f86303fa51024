using System.Net;
using PSKafka.Engine;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Groups;
using PSKafka.Engine.Network;
using PSKafka.Engine.Protocol;
using PSKafka.Engine.Protocol.Messages;
using PSKafka.Tests.Protocol;

namespace PSKafka.Tests.Interop;

/// <summary>
/// The group APIs version by version, through BrokerKafkaApi and an encode/decode at the asked version (what a
/// client of that version reads): the versions real clients do not all exercise.
/// </summary>
[Collection("Interop")]
public sealed class GroupApiVersionTests : IDisposable
{
    private readonly WireCluster _c = new(brokers: 3);

    public GroupApiVersionTests() => _c.Cluster.BrokerConfigs.Set("group.initial.rebalance.delay.ms", "0");

    public void Dispose() => _c.Dispose();

    private static RequestContext Context(short version) => MessageFixtures.Context(version);

    private static T Call<TRequest, T>(Func<TRequest, RequestContext, CancellationToken, ValueTask<T>> api, TRequest request, short version)
        where TRequest : IProtocolMessage<TRequest> where T : IProtocolMessage<T> => MessageFixtures.Call(api, request, version);

    private (BrokerKafkaApi Api, Broker Broker) CoordinatorOf(string group)
    {
        var any = new BrokerKafkaApi(_c.Cluster.Brokers[0]);
        var found = Call<FindCoordinatorRequest, FindCoordinatorResponse>(any.FindCoordinatorAsync, new FindCoordinatorRequest { Key = group }, 0);
        Assert.Equal(0, found.ErrorCode);
        var broker = _c.Cluster.GetBroker(found.NodeId)!;
        Assert.Equal((broker.Host, broker.Port), (found.Host, found.Port));
        return (new BrokerKafkaApi(broker), broker);
    }

    private static JoinGroupRequest Join(string group, string memberId = "") => new()
    {
        GroupId = group,
        SessionTimeoutMs = 10_000,
        RebalanceTimeoutMs = 10_000,
        MemberId = memberId,
        ProtocolType = "consumer",
        Protocols = [new JoinGroupRequest.JoinGroupRequestProtocol { Name = "range", Metadata = ConsumerSubscription("g-topic") }],
    };

    /// <summary>A ConsumerProtocol subscription v0: version, topics, user data (null).</summary>
    private static byte[] ConsumerSubscription(string topic)
    {
        var w = new ProtocolWriter();
        w.WriteInt16(0);
        w.WriteInt32(1);
        w.WriteString(topic, false);
        w.WriteInt32(-1);
        return w.WrittenSpan.ToArray();
    }

    [Fact]
    public void FindCoordinator_answers_the_leader_of_the_offsets_partition_in_every_version()
    {
        var api = new BrokerKafkaApi(_c.Cluster.Brokers[1]);
        for (short v = 0; v <= 3; v++)
        {
            var r = Call<FindCoordinatorRequest, FindCoordinatorResponse>(api.FindCoordinatorAsync, new FindCoordinatorRequest { Key = "where-" + v }, v);
            var offsets = _c.Cluster.Controller.Describe([CoordinatorPlacement.OffsetsTopic], false).Topics[0];
            int leader = offsets.Partitions[CoordinatorPlacement.PartitionFor("where-" + v, offsets.Partitions.Count)].Leader;
            Assert.Equal((0, leader), (r.ErrorCode, r.NodeId));
            Assert.Equal(_c.Cluster.GetBroker(leader)!.Port, r.Port);
            Assert.Equal("localhost", r.Host);
        }
        var bad = Call<FindCoordinatorRequest, FindCoordinatorResponse>(api.FindCoordinatorAsync, new FindCoordinatorRequest { Key = "x", KeyType = 7 }, 1);
        Assert.Equal((short)ErrorCode.InvalidRequest, bad.ErrorCode);
        Assert.Equal(-1, bad.NodeId);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public void A_member_joins_syncs_heartbeats_commits_fetches_and_leaves(short joinVersion)
    {
        string group = "g-v" + joinVersion;
        _c.CreateTopic("g-topic", partitions: 2);
        var (api, broker) = CoordinatorOf(group);

        var join = Call<JoinGroupRequest, JoinGroupResponse>(api.JoinGroupAsync, Join(group), joinVersion);
        if (joinVersion >= 4)
        {
            // KIP-394: the coordinator hands out the member id, the member joins again with it.
            Assert.Equal((short)ErrorCode.MemberIdRequired, join.ErrorCode);
            Assert.StartsWith("test-client-", join.MemberId);
            join = Call<JoinGroupRequest, JoinGroupResponse>(api.JoinGroupAsync, Join(group, join.MemberId), joinVersion);
        }
        Assert.Equal(0, join.ErrorCode);
        Assert.Equal(1, join.GenerationId);
        Assert.Equal("range", join.ProtocolName);
        Assert.Equal(joinVersion >= 7 ? "consumer" : null, join.ProtocolType);
        Assert.Equal(join.MemberId, join.Leader);
        Assert.Equal(ConsumerSubscription("g-topic"), Assert.Single(join.Members).Metadata);
        string member = join.MemberId;

        short syncVersion = Math.Min(joinVersion, (short)5);
        var sync = Call<SyncGroupRequest, SyncGroupResponse>(api.SyncGroupAsync, new SyncGroupRequest
        {
            GroupId = group,
            GenerationId = 1,
            MemberId = member,
            ProtocolType = syncVersion >= 5 ? "consumer" : null,
            ProtocolName = syncVersion >= 5 ? "range" : null,
            Assignments = [new SyncGroupRequest.SyncGroupRequestAssignment { MemberId = member, Assignment = [1, 2, 3] }],
        }, syncVersion);
        Assert.Equal(0, sync.ErrorCode);
        Assert.Equal(new byte[] { 1, 2, 3 }, sync.Assignment);

        short heartbeatVersion = Math.Min(joinVersion, (short)4);
        var beat = Call<HeartbeatRequest, HeartbeatResponse>(api.HeartbeatAsync, new HeartbeatRequest { GroupId = group, GenerationId = 1, MemberId = member }, heartbeatVersion);
        Assert.Equal(0, beat.ErrorCode);
        var stale = Call<HeartbeatRequest, HeartbeatResponse>(api.HeartbeatAsync, new HeartbeatRequest { GroupId = group, GenerationId = 0, MemberId = member }, heartbeatVersion);
        Assert.Equal((short)ErrorCode.IllegalGeneration, stale.ErrorCode);

        // As a member (v1+; v0 has no generation and is only taken for a group without members, after the leave).
        var commit = Call<OffsetCommitRequest, OffsetCommitResponse>(api.OffsetCommitAsync, CommitRequest(group, 1, member, 42), (short)(joinVersion + 1));
        Assert.Equal([(0, (short)0), (7, (short)ErrorCode.UnknownTopicOrPartition)],
            commit.Topics.Single().Partitions.Select(p => (p.PartitionIndex, p.ErrorCode)));

        var fetched = Call<OffsetFetchRequest, OffsetFetchResponse>(api.OffsetFetchAsync, new OffsetFetchRequest
        {
            GroupId = group,
            Topics = [new OffsetFetchRequest.OffsetFetchRequestTopic { Name = "g-topic", PartitionIndexes = [0, 1] }],
        }, joinVersion);
        Assert.Equal([(0, 42L), (1, -1L)], fetched.Topics.Single().Partitions.Select(p => (p.PartitionIndex, p.CommittedOffset)));
        if (joinVersion >= 5) Assert.Equal(-1, fetched.Topics[0].Partitions[1].CommittedLeaderEpoch);

        short leaveVersion = Math.Min(joinVersion, (short)5);
        var leave = Call<LeaveGroupRequest, LeaveGroupResponse>(api.LeaveGroupAsync, new LeaveGroupRequest
        {
            GroupId = group,
            MemberId = leaveVersion < 3 ? member : "",
            Members = leaveVersion >= 3 ? [new LeaveGroupRequest.MemberIdentity { MemberId = member }, new LeaveGroupRequest.MemberIdentity { MemberId = "nobody" }] : [],
        }, leaveVersion);
        Assert.Equal(0, leave.ErrorCode);
        if (leaveVersion >= 3)
            Assert.Equal([(member, (short)0), ("nobody", (short)ErrorCode.UnknownMemberId)], leave.Members.Select(m => (m.MemberId, m.ErrorCode)));

        // The group is empty now: a commit without generation (v0, or -1 in later versions) is taken.
        var late = Call<OffsetCommitRequest, OffsetCommitResponse>(api.OffsetCommitAsync, CommitRequest(group, -1, "", 43), Math.Min(joinVersion, (short)8));
        Assert.Equal(0, late.Topics[0].Partitions[0].ErrorCode);

        // v2+ may ask for every committed partition with a null topic list.
        if (joinVersion >= 2)
        {
            var all = Call<OffsetFetchRequest, OffsetFetchResponse>(api.OffsetFetchAsync, new OffsetFetchRequest { GroupId = group, Topics = null }, joinVersion);
            Assert.Equal(("g-topic", 0, 43L), (all.Topics.Single().Name, all.Topics[0].Partitions.Single().PartitionIndex, all.Topics[0].Partitions[0].CommittedOffset));
        }
        Assert.Equal(0, _c.Cluster.GetServer(broker.Id)!.ProtocolHandler!.FailedRequests);
    }

    private static OffsetCommitRequest CommitRequest(string group, int generation, string member, long offset) => new()
    {
        GroupId = group,
        GenerationIdOrMemberEpoch = generation,
        MemberId = member,
        Topics = [new OffsetCommitRequest.OffsetCommitRequestTopic
        {
            Name = "g-topic",
            Partitions =
            [
                new OffsetCommitRequest.OffsetCommitRequestPartition { PartitionIndex = 0, CommittedOffset = offset, CommittedMetadata = "m" },
                new OffsetCommitRequest.OffsetCommitRequestPartition { PartitionIndex = 7, CommittedOffset = 1, CommittedMetadata = null },
            ],
        }],
    };

    [Fact]
    public void A_broker_that_does_not_coordinate_the_group_answers_NOT_COORDINATOR_in_each_versions_shape()
    {
        _c.CreateTopic("g-topic", partitions: 1);
        var (_, coordinator) = CoordinatorOf("elsewhere");
        var other = new BrokerKafkaApi(_c.Cluster.Brokers.First(b => b.Id != coordinator.Id));
        const short notCoordinator = (short)ErrorCode.NotCoordinator;

        Assert.Equal(notCoordinator, Call<JoinGroupRequest, JoinGroupResponse>(other.JoinGroupAsync, Join("elsewhere"), 4).ErrorCode);
        Assert.Equal(notCoordinator, Call<HeartbeatRequest, HeartbeatResponse>(other.HeartbeatAsync, new HeartbeatRequest { GroupId = "elsewhere", MemberId = "m" }, 4).ErrorCode);
        Assert.Equal(notCoordinator, Call<LeaveGroupRequest, LeaveGroupResponse>(other.LeaveGroupAsync, new LeaveGroupRequest { GroupId = "elsewhere", MemberId = "m" }, 0).ErrorCode);
        var commit = Call<OffsetCommitRequest, OffsetCommitResponse>(other.OffsetCommitAsync, CommitRequest("elsewhere", -1, "", 1), 2);
        Assert.All(commit.Topics[0].Partitions, p => Assert.Equal(notCoordinator, p.ErrorCode));

        var ask = new OffsetFetchRequest { GroupId = "elsewhere", Topics = [new OffsetFetchRequest.OffsetFetchRequestTopic { Name = "g-topic", PartitionIndexes = [0] }] };
        // v0-1 have no group-level error: each partition carries it.
        var v1 = Call<OffsetFetchRequest, OffsetFetchResponse>(other.OffsetFetchAsync, ask, 1);
        Assert.Equal((notCoordinator, -1L), (v1.Topics[0].Partitions[0].ErrorCode, v1.Topics[0].Partitions[0].CommittedOffset));
        var v2 = Call<OffsetFetchRequest, OffsetFetchResponse>(other.OffsetFetchAsync, ask, 2);
        Assert.Equal(notCoordinator, v2.ErrorCode);
        Assert.Empty(v2.Topics);

        var described = Call<DescribeGroupsRequest, DescribeGroupsResponse>(other.DescribeGroupsAsync, new DescribeGroupsRequest { Groups = ["elsewhere"] }, 5);
        Assert.Equal(notCoordinator, described.Groups.Single().ErrorCode);
        var deleted = Call<DeleteGroupsRequest, DeleteGroupsResponse>(other.DeleteGroupsAsync, new DeleteGroupsRequest { GroupsNames = ["elsewhere"] }, 2);
        Assert.Equal(notCoordinator, deleted.Results.Single().ErrorCode);
    }

    [Fact]
    public void List_describe_and_delete_groups()
    {
        _c.CreateTopic("g-topic", partitions: 1);
        var (api, _) = CoordinatorOf("listed");
        var join = Call<JoinGroupRequest, JoinGroupResponse>(api.JoinGroupAsync, Join("listed"), 3);
        Call<SyncGroupRequest, SyncGroupResponse>(api.SyncGroupAsync, new SyncGroupRequest
        {
            GroupId = "listed",
            GenerationId = join.GenerationId,
            MemberId = join.MemberId,
            Assignments = [new SyncGroupRequest.SyncGroupRequestAssignment { MemberId = join.MemberId, Assignment = [9] }],
        }, 3);

        var listed = Call<ListGroupsRequest, ListGroupsResponse>(api.ListGroupsAsync, new ListGroupsRequest(), 4);
        Assert.Contains(listed.Groups, g => (g.GroupId, g.ProtocolType, g.GroupState) == ("listed", "consumer", "Stable"));
        var filtered = Call<ListGroupsRequest, ListGroupsResponse>(api.ListGroupsAsync, new ListGroupsRequest { StatesFilter = ["Empty"] }, 4);
        Assert.DoesNotContain(filtered.Groups, g => g.GroupId == "listed");

        var described = Call<DescribeGroupsRequest, DescribeGroupsResponse>(api.DescribeGroupsAsync,
            new DescribeGroupsRequest { Groups = ["listed"], IncludeAuthorizedOperations = true }, 5).Groups;
        Assert.Equal(("Stable", "range"), (described[0].GroupState, described[0].ProtocolData));
        var m = Assert.Single(described[0].Members);
        Assert.Equal((join.MemberId, "test-client", "/127.0.0.1"), (m.MemberId, m.ClientId, m.ClientHost));
        Assert.Equal(new byte[] { 9 }, m.MemberAssignment);
        Assert.Equal((1 << 3) | (1 << 6) | (1 << 8), described[0].AuthorizedOperations); // READ, DELETE, DESCRIBE
        // A group its coordinator does not know is described as Dead, without an error.
        var unknown = Call<DescribeGroupsRequest, DescribeGroupsResponse>(CoordinatorOf("never-was").Api.DescribeGroupsAsync,
            new DescribeGroupsRequest { Groups = ["never-was"] }, 0).Groups.Single();
        Assert.Equal((0, "Dead"), (unknown.ErrorCode, unknown.GroupState));

        var busy = Call<DeleteGroupsRequest, DeleteGroupsResponse>(api.DeleteGroupsAsync, new DeleteGroupsRequest { GroupsNames = ["listed"] }, 0);
        Assert.Equal((short)ErrorCode.NonEmptyGroup, busy.Results.Single().ErrorCode);
        Call<LeaveGroupRequest, LeaveGroupResponse>(api.LeaveGroupAsync, new LeaveGroupRequest { GroupId = "listed", MemberId = join.MemberId }, 2);
        var gone = Call<DeleteGroupsRequest, DeleteGroupsResponse>(api.DeleteGroupsAsync, new DeleteGroupsRequest { GroupsNames = ["listed"] }, 2);
        Assert.Equal(0, gone.Results.Single().ErrorCode);
        var again = Call<DeleteGroupsRequest, DeleteGroupsResponse>(api.DeleteGroupsAsync, new DeleteGroupsRequest { GroupsNames = ["listed"] }, 1);
        Assert.Equal((short)ErrorCode.GroupIdNotFound, again.Results.Single().ErrorCode);
    }
}
