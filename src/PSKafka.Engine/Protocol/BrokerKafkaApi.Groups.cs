using PSKafka.Engine.Protocol.Messages;

namespace PSKafka.Engine.Protocol;

// ==== GROUP APIs: NOT WIRED YET ====
// The group coordinator is built on the `groups` branch (src/PSKafka.Engine/Groups/, Cluster/Broker.Groups.cs).
// Until it is merged, every group API answers COORDINATOR_NOT_AVAILABLE (a retriable error: clients keep asking),
// so consumers that use assign() without commits work and group consumers wait instead of failing.
// To wire them: replace the bodies in this file, and only this file, with calls to the broker's group operations.
public sealed partial class BrokerKafkaApi
{
    private const short NoCoordinator = (short)ErrorCode.CoordinatorNotAvailable;

    public ValueTask<FindCoordinatorResponse> FindCoordinatorAsync(FindCoordinatorRequest request, RequestContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new FindCoordinatorResponse { ErrorCode = NoCoordinator, ErrorMessage = "The group coordinator is not available yet.", NodeId = -1, Host = "", Port = -1 });

    public ValueTask<JoinGroupResponse> JoinGroupAsync(JoinGroupRequest request, RequestContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new JoinGroupResponse { ErrorCode = NoCoordinator, GenerationId = -1, MemberId = request.MemberId });

    public ValueTask<SyncGroupResponse> SyncGroupAsync(SyncGroupRequest request, RequestContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new SyncGroupResponse { ErrorCode = NoCoordinator });

    public ValueTask<HeartbeatResponse> HeartbeatAsync(HeartbeatRequest request, RequestContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new HeartbeatResponse { ErrorCode = NoCoordinator });

    public ValueTask<LeaveGroupResponse> LeaveGroupAsync(LeaveGroupRequest request, RequestContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new LeaveGroupResponse { ErrorCode = NoCoordinator });

    public ValueTask<OffsetCommitResponse> OffsetCommitAsync(OffsetCommitRequest request, RequestContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new OffsetCommitResponse
        {
            Topics = request.Topics.Select(t => new OffsetCommitResponse.OffsetCommitResponseTopic
            {
                Name = t.Name,
                Partitions = t.Partitions.Select(p => new OffsetCommitResponse.OffsetCommitResponsePartition { PartitionIndex = p.PartitionIndex, ErrorCode = NoCoordinator }).ToList(),
            }).ToList(),
        });

    public ValueTask<OffsetFetchResponse> OffsetFetchAsync(OffsetFetchRequest request, RequestContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new OffsetFetchResponse
        {
            ErrorCode = NoCoordinator,
            Topics = (request.Topics ?? []).Select(t => new OffsetFetchResponse.OffsetFetchResponseTopic
            {
                Name = t.Name,
                Partitions = t.PartitionIndexes.Select(p => new OffsetFetchResponse.OffsetFetchResponsePartition { PartitionIndex = p, CommittedOffset = -1, ErrorCode = NoCoordinator }).ToList(),
            }).ToList(),
        });

    public ValueTask<ListGroupsResponse> ListGroupsAsync(ListGroupsRequest request, RequestContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new ListGroupsResponse { ErrorCode = NoCoordinator });

    public ValueTask<DescribeGroupsResponse> DescribeGroupsAsync(DescribeGroupsRequest request, RequestContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new DescribeGroupsResponse
        {
            Groups = request.Groups.Select(g => new DescribeGroupsResponse.DescribedGroup { GroupId = g, ErrorCode = NoCoordinator, GroupState = "", ProtocolType = "", ProtocolData = "" }).ToList(),
        });
}
