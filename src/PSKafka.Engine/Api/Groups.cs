namespace PSKafka.Engine.Api;

// Engine-level shapes of Kafka's group APIs (classic protocol). Field names follow Kafka's message
// definitions so the wire protocol maps JoinGroup/SyncGroup/... onto these one to one.

/// <summary>FindCoordinator (API key 10) key types.</summary>
public enum CoordinatorType : byte
{
    Group = 0,
    Transaction = 1,
}

public sealed record FindCoordinatorResult(string Key, ErrorCode Error, int NodeId, string Host, int Port, string? ErrorMessage = null);

/// <summary>One protocol a member supports (an assignor for protocol type "consumer") with its metadata (a ConsumerProtocol subscription).</summary>
public sealed record GroupProtocol(string Name, byte[] Metadata);

/// <summary>JoinGroup (API key 11).</summary>
public sealed class JoinGroupParams
{
    /// <summary>Kafka's consumer default for session.timeout.ms; the client's settings start from it.</summary>
    public const int DefaultSessionTimeoutMs = 45_000;

    public required string GroupId { get; init; }
    public int SessionTimeoutMs { get; init; } = DefaultSessionTimeoutMs;
    /// <summary>How long the coordinator waits for members to rejoin (the consumer's max.poll.interval.ms); -1 means the session timeout (v0).</summary>
    public int RebalanceTimeoutMs { get; init; } = -1;
    /// <summary>Empty for a member that joins for the first time.</summary>
    public string MemberId { get; init; } = "";
    public string? GroupInstanceId { get; init; }
    public string ProtocolType { get; init; } = "consumer";
    public required IReadOnlyList<GroupProtocol> Protocols { get; init; }
    /// <summary>From the request header; the prefix of a new member id.</summary>
    public string ClientId { get; init; } = "";
    public string ClientHost { get; init; } = "/127.0.0.1";
    /// <summary>JoinGroup v4+: a new member first gets MEMBER_ID_REQUIRED with its id and must join again with it.</summary>
    public bool RequireKnownMemberId { get; init; } = true;
    public string? Reason { get; init; }
}

public sealed record JoinGroupMember(string MemberId, string? GroupInstanceId, byte[] Metadata);

public sealed record JoinGroupResult(
    ErrorCode Error,
    int GenerationId,
    string? ProtocolType,
    string? ProtocolName,
    string Leader,
    string MemberId,
    IReadOnlyList<JoinGroupMember> Members,
    bool SkipAssignment = false,
    string? ErrorMessage = null)
{
    public static JoinGroupResult Failed(ErrorCode error, string memberId = "", string? message = null) =>
        new(error, -1, null, null, "", memberId, [], ErrorMessage: message);
}

public sealed record SyncGroupAssignment(string MemberId, byte[] Assignment);

/// <summary>SyncGroup (API key 14): the leader sends every member's assignment, the others send none.</summary>
public sealed class SyncGroupParams
{
    public required string GroupId { get; init; }
    public required int GenerationId { get; init; }
    public required string MemberId { get; init; }
    public string? GroupInstanceId { get; init; }
    /// <summary>v5+: checked against the group's when given.</summary>
    public string? ProtocolType { get; init; }
    public string? ProtocolName { get; init; }
    public IReadOnlyList<SyncGroupAssignment> Assignments { get; init; } = [];
}

public sealed record SyncGroupResult(ErrorCode Error, string? ProtocolType, string? ProtocolName, byte[] Assignment, string? ErrorMessage = null)
{
    public static SyncGroupResult Failed(ErrorCode error, string? message = null) => new(error, null, null, [], message);
}

/// <summary>Heartbeat (API key 12).</summary>
public sealed record HeartbeatParams(string GroupId, int GenerationId, string MemberId, string? GroupInstanceId = null);

/// <summary>LeaveGroup (API key 13); v3+ can remove several members at once.</summary>
public sealed record LeaveGroupParams(string GroupId, IReadOnlyList<LeaveGroupMember> Members);

public sealed record LeaveGroupMember(string MemberId, string? GroupInstanceId = null, string? Reason = null);

public sealed record LeaveGroupResult(ErrorCode Error, IReadOnlyList<LeaveGroupMemberResult> Members);

public sealed record LeaveGroupMemberResult(string MemberId, string? GroupInstanceId, ErrorCode Error);

/// <summary>OffsetCommit (API key 8). Generation -1 and an empty member id commit for a group without members (admin tools, manual assignment).</summary>
public sealed class OffsetCommitParams
{
    public required string GroupId { get; init; }
    public int GenerationId { get; init; } = -1;
    public string MemberId { get; init; } = "";
    public string? GroupInstanceId { get; init; }
    public long RetentionTimeMs { get; init; } = -1;
    public required IReadOnlyList<OffsetCommitPartitionParams> Partitions { get; init; }
}

public sealed record OffsetCommitPartitionParams(string Topic, int Partition, long Offset, int LeaderEpoch = -1, string? Metadata = "", long CommitTimestamp = -1);

public sealed record OffsetCommitPartitionResult(string Topic, int Partition, ErrorCode Error);

/// <summary>OffsetFetch (API key 9). Null partitions: every partition the group has an offset for.</summary>
public sealed record OffsetFetchParams(string GroupId, IReadOnlyList<TopicPartition>? Partitions = null, bool RequireStable = false);

public sealed record OffsetFetchResult(ErrorCode Error, IReadOnlyList<OffsetFetchPartitionResult> Partitions);

/// <summary>Offset -1 means no committed offset.</summary>
public sealed record OffsetFetchPartitionResult(string Topic, int Partition, long Offset, int LeaderEpoch, string? Metadata, ErrorCode Error);

/// <summary>ListGroups (API key 16).</summary>
public sealed record ListGroupsResult(ErrorCode Error, IReadOnlyList<GroupListing> Groups);

public sealed record GroupListing(string GroupId, string ProtocolType, string GroupState);

/// <summary>DescribeGroups (API key 15). A group that does not exist is described as Dead with no error, as Kafka does.</summary>
public sealed record DescribeGroupResult(
    ErrorCode Error,
    string GroupId,
    string GroupState,
    string ProtocolType,
    string ProtocolData,
    IReadOnlyList<GroupMemberDescription> Members,
    string? ErrorMessage = null);

/// <summary>Metadata and assignment are only filled in for a Stable group, as in Kafka.</summary>
public sealed record GroupMemberDescription(string MemberId, string? GroupInstanceId, string ClientId, string ClientHost, byte[] MemberMetadata, byte[] MemberAssignment);

/// <summary>DeleteGroups (API key 42).</summary>
public sealed record DeleteGroupResult(string GroupId, ErrorCode Error);
