using System.Net;
using PSKafka.Engine.Api;
using PSKafka.Engine.Protocol.Messages;

namespace PSKafka.Engine.Protocol;

// The group APIs (classic protocol): FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
// OffsetFetch, ListGroups, DescribeGroups, DeleteGroups. Each maps the wire message onto the broker's group
// operation (Cluster/Broker.Groups.cs) and back, version by version; the coordinator logic lives there.
// Joins and syncs that wait for a rebalance are awaited, never blocking a thread per waiting member.
public sealed partial class BrokerKafkaApi
{
    // Kafka's AclOperation codes READ (3), DELETE (6) and DESCRIBE (8): what a group allows with no authorizer.
    private const int GroupAuthorizedOperations = (1 << 3) | (1 << 6) | (1 << 8);

    // ---------------- FindCoordinator (10) ----------------

    public ValueTask<FindCoordinatorResponse> FindCoordinatorAsync(FindCoordinatorRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() =>
        {
            // v0 has no key type: it always asks for a group coordinator.
            if (request.KeyType is not ((sbyte)CoordinatorType.Group or (sbyte)CoordinatorType.Transaction))
                return CoordinatorError(ErrorCode.InvalidRequest, $"Unknown coordinator key type {request.KeyType}.");
            var r = _broker.FindCoordinator(request.Key, (CoordinatorType)request.KeyType);
            if (r.Error != ErrorCode.None) return CoordinatorError(r.Error, r.ErrorMessage);
            return new FindCoordinatorResponse { ErrorCode = 0, ErrorMessage = null, NodeId = r.NodeId, Host = r.Host, Port = r.Port };
        }, CoordinatorError);

    private static FindCoordinatorResponse CoordinatorError(ErrorCode code, string? message) =>
        new() { ErrorCode = (short)code, ErrorMessage = message, NodeId = -1, Host = "", Port = -1 };

    // ---------------- JoinGroup (11) ----------------

    public async ValueTask<JoinGroupResponse> JoinGroupAsync(JoinGroupRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        short v = context.ApiVersion;
        JoinGroupResult result;
        try
        {
            result = await _broker.JoinGroupAsync(new JoinGroupParams
            {
                GroupId = request.GroupId,
                SessionTimeoutMs = request.SessionTimeoutMs,
                // v0 has no rebalance timeout: the coordinator uses the session timeout (-1).
                RebalanceTimeoutMs = v >= 1 ? request.RebalanceTimeoutMs : -1,
                MemberId = request.MemberId,
                GroupInstanceId = request.GroupInstanceId,
                ProtocolType = request.ProtocolType,
                Protocols = request.Protocols.Select(p => new GroupProtocol(p.Name, p.Metadata)).ToList(),
                ClientId = context.ClientId ?? "",
                ClientHost = ClientHost(context),
                // KIP-394: from v4 a new member first gets MEMBER_ID_REQUIRED with its id, and joins again with it.
                RequireKnownMemberId = v >= 4,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogUnexpected("JoinGroup", e);
            result = JoinGroupResult.Failed(e is KafkaException k ? k.Code : ErrorCode.UnknownServerError, request.MemberId, e.Message);
        }
        return new JoinGroupResponse
        {
            ErrorCode = (short)result.Error,
            GenerationId = result.GenerationId,
            ProtocolType = result.ProtocolType,
            // The protocol name is nullable only from v7; older versions carry an empty string instead.
            ProtocolName = result.ProtocolName ?? (v >= 7 ? null : ""),
            Leader = result.Leader,
            MemberId = result.MemberId,
            Members = result.Members.Select(m => new JoinGroupResponse.JoinGroupResponseMember
            {
                MemberId = m.MemberId,
                GroupInstanceId = m.GroupInstanceId,
                Metadata = m.Metadata,
            }).ToList(),
        };
    }

    /// <summary>Kafka reports a member's host as Java's InetAddress.toString() of its address: "/127.0.0.1".</summary>
    private static string ClientHost(RequestContext context) =>
        context.RemoteEndPoint is IPEndPoint ip ? "/" + (ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address) : "/127.0.0.1";

    // ---------------- SyncGroup (14) ----------------

    public async ValueTask<SyncGroupResponse> SyncGroupAsync(SyncGroupRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        SyncGroupResult result;
        try
        {
            result = await _broker.SyncGroupAsync(new SyncGroupParams
            {
                GroupId = request.GroupId,
                GenerationId = request.GenerationId,
                MemberId = request.MemberId,
                GroupInstanceId = request.GroupInstanceId,
                ProtocolType = request.ProtocolType,
                ProtocolName = request.ProtocolName,
                Assignments = request.Assignments.Select(a => new SyncGroupAssignment(a.MemberId, a.Assignment)).ToList(),
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogUnexpected("SyncGroup", e);
            result = SyncGroupResult.Failed(e is KafkaException k ? k.Code : ErrorCode.UnknownServerError, e.Message);
        }
        return new SyncGroupResponse
        {
            ErrorCode = (short)result.Error,
            ProtocolType = result.ProtocolType,
            ProtocolName = result.ProtocolName,
            Assignment = result.Assignment,
        };
    }

    // ---------------- Heartbeat (12) ----------------

    public ValueTask<HeartbeatResponse> HeartbeatAsync(HeartbeatRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() => new HeartbeatResponse
        {
            ErrorCode = (short)_broker.Heartbeat(new HeartbeatParams(request.GroupId, request.GenerationId, request.MemberId, request.GroupInstanceId)),
        }, (code, _) => new HeartbeatResponse { ErrorCode = (short)code });

    // ---------------- LeaveGroup (13) ----------------

    public ValueTask<LeaveGroupResponse> LeaveGroupAsync(LeaveGroupRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() =>
        {
            bool batch = context.ApiVersion >= 3;
            // v0-2 name one member; v3+ (KIP-345) a batch of members, each with its own answer.
            List<LeaveGroupMember> members = batch
                ? request.Members.Select(m => new LeaveGroupMember(m.MemberId, m.GroupInstanceId, m.Reason)).ToList()
                : [new LeaveGroupMember(request.MemberId)];
            var result = _broker.LeaveGroup(new LeaveGroupParams(request.GroupId, members));
            if (!batch)
            {
                // As Kafka's LeaveGroupResponse for v0-2: the member's error becomes the top-level one.
                var error = result.Error != ErrorCode.None ? result.Error
                    : result.Members.Select(m => m.Error).FirstOrDefault(e => e != ErrorCode.None);
                return new LeaveGroupResponse { ErrorCode = (short)error };
            }
            return new LeaveGroupResponse
            {
                ErrorCode = (short)result.Error,
                Members = result.Members.Select(m => new LeaveGroupResponse.MemberResponse
                {
                    MemberId = m.MemberId,
                    GroupInstanceId = m.GroupInstanceId,
                    ErrorCode = (short)m.Error,
                }).ToList(),
            };
        }, (code, _) => new LeaveGroupResponse { ErrorCode = (short)code });

    // ---------------- OffsetCommit (8) ----------------

    public ValueTask<OffsetCommitResponse> OffsetCommitAsync(OffsetCommitRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() =>
        {
            short v = context.ApiVersion;
            var partitions = new List<OffsetCommitPartitionParams>();
            foreach (var t in request.Topics)
                foreach (var p in t.Partitions)
                    partitions.Add(new OffsetCommitPartitionParams(t.Name, p.PartitionIndex, p.CommittedOffset,
                        v >= 6 ? p.CommittedLeaderEpoch : -1, p.CommittedMetadata, v == 1 ? p.CommitTimestamp : -1));
            var results = _broker.OffsetCommit(new OffsetCommitParams
            {
                GroupId = request.GroupId,
                // v0 commits without a generation, as an admin tool or a manually assigned consumer does.
                GenerationId = v >= 1 ? request.GenerationIdOrMemberEpoch : -1,
                MemberId = v >= 1 ? request.MemberId : "",
                GroupInstanceId = request.GroupInstanceId,
                RetentionTimeMs = v is >= 2 and <= 4 ? request.RetentionTimeMs : -1,
                Partitions = partitions,
            });
            var response = new OffsetCommitResponse();
            OffsetCommitResponse.OffsetCommitResponseTopic? current = null;
            foreach (var r in results)
            {
                if (current?.Name != r.Topic)
                    current = response.Topics.FirstOrDefault(t => t.Name == r.Topic)
                        ?? Add(response.Topics, new OffsetCommitResponse.OffsetCommitResponseTopic { Name = r.Topic });
                current.Partitions.Add(new OffsetCommitResponse.OffsetCommitResponsePartition { PartitionIndex = r.Partition, ErrorCode = (short)r.Error });
            }
            return response;
        }, (code, _) => new OffsetCommitResponse
        {
            Topics = request.Topics.Select(t => new OffsetCommitResponse.OffsetCommitResponseTopic
            {
                Name = t.Name,
                Partitions = t.Partitions.Select(p => new OffsetCommitResponse.OffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = (short)code }).ToList(),
            }).ToList(),
        });

    private static T Add<T>(List<T> list, T item)
    {
        list.Add(item);
        return item;
    }

    // ---------------- OffsetFetch (9) ----------------

    public ValueTask<OffsetFetchResponse> OffsetFetchAsync(OffsetFetchRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() =>
        {
            // v2+: null topics means every partition the group has committed.
            var asked = request.Topics?.SelectMany(t => t.PartitionIndexes.Select(p => new TopicPartition(t.Name, p))).ToList();
            var result = _broker.OffsetFetch(new OffsetFetchParams(request.GroupId, asked, context.ApiVersion >= 7 && request.RequireStable));
            if (result.Error != ErrorCode.None) return OffsetFetchError(request, context.ApiVersion, result.Error);
            var response = new OffsetFetchResponse { ErrorCode = 0 };
            OffsetFetchResponse.OffsetFetchResponseTopic? current = null;
            foreach (var p in result.Partitions)
            {
                if (current?.Name != p.Topic)
                    current = response.Topics.FirstOrDefault(t => t.Name == p.Topic)
                        ?? Add(response.Topics, new OffsetFetchResponse.OffsetFetchResponseTopic { Name = p.Topic });
                current.Partitions.Add(new OffsetFetchResponse.OffsetFetchResponsePartition
                {
                    PartitionIndex = p.Partition,
                    CommittedOffset = p.Offset,
                    CommittedLeaderEpoch = p.LeaderEpoch,
                    Metadata = p.Metadata ?? "",
                    ErrorCode = (short)p.Error,
                });
            }
            return response;
        }, (code, _) => OffsetFetchError(request, context.ApiVersion, code));

    /// <summary>
    /// As Kafka: v2+ carry a group-level error and no partitions; v0-1 have no group-level error, so each asked
    /// partition carries it (with no offset).
    /// </summary>
    private static OffsetFetchResponse OffsetFetchError(OffsetFetchRequest request, short version, ErrorCode error)
    {
        if (version >= 2) return new OffsetFetchResponse { ErrorCode = (short)error };
        return new OffsetFetchResponse
        {
            Topics = (request.Topics ?? []).Select(t => new OffsetFetchResponse.OffsetFetchResponseTopic
            {
                Name = t.Name,
                Partitions = t.PartitionIndexes.Select(p => new OffsetFetchResponse.OffsetFetchResponsePartition
                {
                    PartitionIndex = p,
                    CommittedOffset = -1,
                    Metadata = "",
                    ErrorCode = (short)error,
                }).ToList(),
            }).ToList(),
        };
    }

    // ---------------- ListGroups (16) ----------------

    public ValueTask<ListGroupsResponse> ListGroupsAsync(ListGroupsRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() =>
        {
            var result = _broker.ListGroups(context.ApiVersion >= 4 ? request.StatesFilter : null);
            return new ListGroupsResponse
            {
                ErrorCode = (short)result.Error,
                Groups = result.Groups.Select(g => new ListGroupsResponse.ListedGroup { GroupId = g.GroupId, ProtocolType = g.ProtocolType, GroupState = g.GroupState }).ToList(),
            };
        }, (code, _) => new ListGroupsResponse { ErrorCode = (short)code });

    // ---------------- DescribeGroups (15) ----------------

    public ValueTask<DescribeGroupsResponse> DescribeGroupsAsync(DescribeGroupsRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() =>
        {
            bool withOperations = context.ApiVersion >= 3 && request.IncludeAuthorizedOperations;
            return new DescribeGroupsResponse
            {
                Groups = _broker.DescribeGroups(request.Groups).Select(g => new DescribeGroupsResponse.DescribedGroup
                {
                    ErrorCode = (short)g.Error,
                    GroupId = g.GroupId,
                    GroupState = g.GroupState,
                    ProtocolType = g.ProtocolType,
                    ProtocolData = g.ProtocolData,
                    Members = g.Members.Select(m => new DescribeGroupsResponse.DescribedGroupMember
                    {
                        MemberId = m.MemberId,
                        GroupInstanceId = m.GroupInstanceId,
                        ClientId = m.ClientId,
                        ClientHost = m.ClientHost,
                        MemberMetadata = m.MemberMetadata,
                        MemberAssignment = m.MemberAssignment,
                    }).ToList(),
                    // Kafka's "not requested" marker is int.MinValue.
                    AuthorizedOperations = withOperations && g.Error == ErrorCode.None ? GroupAuthorizedOperations : int.MinValue,
                }).ToList(),
            };
        }, (code, _) => new DescribeGroupsResponse
        {
            Groups = request.Groups.Select(g => new DescribeGroupsResponse.DescribedGroup { GroupId = g, ErrorCode = (short)code }).ToList(),
        });

    // ---------------- DeleteGroups (42) ----------------

    public ValueTask<DeleteGroupsResponse> DeleteGroupsAsync(DeleteGroupsRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() => new DeleteGroupsResponse
        {
            Results = _broker.DeleteGroups(request.GroupsNames).Select(r => new DeleteGroupsResponse.DeletableGroupResult
            {
                GroupId = r.GroupId,
                ErrorCode = (short)r.Error,
            }).ToList(),
        }, (code, _) => new DeleteGroupsResponse
        {
            Results = request.GroupsNames.Select(g => new DeleteGroupsResponse.DeletableGroupResult { GroupId = g, ErrorCode = (short)code }).ToList(),
        });
}
