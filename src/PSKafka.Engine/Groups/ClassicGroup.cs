using PSKafka.Engine.Api;
using PSKafka.Engine.Metadata;

namespace PSKafka.Engine.Groups;

/// <summary>One member of a classic group, as the coordinator sees it.</summary>
internal sealed class GroupMember
{
    public required string MemberId { get; init; }
    public string? GroupInstanceId { get; init; }
    public required string ClientId { get; init; }
    public required string ClientHost { get; init; }
    public int SessionTimeoutMs { get; set; }
    public int RebalanceTimeoutMs { get; set; }
    public IReadOnlyList<GroupProtocol> Protocols { get; set; } = [];
    public byte[] Assignment { get; set; } = [];
    public TaskCompletionSource<JoinGroupResult>? AwaitingJoin { get; set; }
    public TaskCompletionSource<SyncGroupResult>? AwaitingSync { get; set; }
    /// <summary>Environment.TickCount64 after which the member is expired unless it heartbeats.</summary>
    public long HeartbeatDeadline { get; set; }
    /// <summary>Sent SyncGroup in the current generation.</summary>
    public bool Synced { get; set; }

    public byte[] MetadataFor(string protocol) => Protocols.First(p => p.Name == protocol).Metadata;

    public bool SameProtocols(IReadOnlyList<GroupProtocol> other) =>
        other.Count == Protocols.Count && other.Zip(Protocols).All(p => p.First.Name == p.Second.Name && p.First.Metadata.AsSpan().SequenceEqual(p.Second.Metadata));

    /// <summary>A member waiting in a join or a sync is alive (Kafka's hasSatisfiedHeartbeat).</summary>
    public bool KeptAlive => AwaitingJoin is not null || AwaitingSync is not null;

    // The durable part (GroupMemberRecord) and back: the one place that names what a coordinator taking the group over keeps.
    public GroupMemberRecord ToRecord() => new()
    {
        MemberId = MemberId,
        GroupInstanceId = GroupInstanceId,
        ClientId = ClientId,
        ClientHost = ClientHost,
        SessionTimeoutMs = SessionTimeoutMs,
        RebalanceTimeoutMs = RebalanceTimeoutMs,
        ProtocolNames = Protocols.Select(p => p.Name).ToList(),
        ProtocolMetadata = Protocols.Select(p => p.Metadata).ToList(),
        Assignment = Assignment,
    };

    /// <summary>A member of a group that was Stable when saved: synced, with a session timeout from <paramref name="now"/> to heartbeat.</summary>
    public static GroupMember FromRecord(GroupMemberRecord m, long now) => new()
    {
        MemberId = m.MemberId,
        GroupInstanceId = m.GroupInstanceId,
        ClientId = m.ClientId,
        ClientHost = m.ClientHost,
        SessionTimeoutMs = m.SessionTimeoutMs,
        RebalanceTimeoutMs = m.RebalanceTimeoutMs,
        Protocols = m.ProtocolNames.Zip(m.ProtocolMetadata, (n, d) => new GroupProtocol(n, d)).ToList(),
        Assignment = m.Assignment,
        Synced = true,
        HeartbeatDeadline = now + m.SessionTimeoutMs,
    };
}

public sealed record CommittedOffset(long Offset, int LeaderEpoch, string? Metadata, long CommitTimestamp);

/// <summary>A classic group's state (Kafka's ClassicGroup/GroupMetadata). Guarded by its coordinator's lock.</summary>
internal sealed class ClassicGroup(string groupId, int offsetsPartition)
{
    public string GroupId { get; } = groupId;
    public int OffsetsPartition { get; } = offsetsPartition;
    public GroupState State { get; set; } = GroupState.Empty;
    public int Generation { get; set; }
    public string ProtocolType { get; set; } = "";
    public string? ProtocolName { get; set; }
    public string? LeaderId { get; set; }

    // Insertion order matters: a leader that leaves is replaced by the oldest member.
    public readonly List<GroupMember> Members = new();
    /// <summary>Member ids handed out with MEMBER_ID_REQUIRED, with the deadline for their second join.</summary>
    public readonly Dictionary<string, long> PendingMembers = new(StringComparer.Ordinal);
    public readonly Dictionary<TopicPartition, CommittedOffset> Offsets = new();

    // The pending join: a deadline, and for an empty group Kafka's InitialDelayedJoin (extended while new members arrive).
    public long JoinDeadline;
    public bool InitialDelay;
    public int InitialDelayRemainingMs;
    public bool NewMemberAdded;
    /// <summary>After a join completes, members must sync within the rebalance timeout.</summary>
    public long SyncDeadline = long.MaxValue;

    public GroupMember? Find(string memberId) => Members.Find(m => m.MemberId == memberId);
    public bool IsLeader(string memberId) => LeaderId == memberId;
    public int MaxRebalanceTimeoutMs => Members.Count == 0 ? 0 : Members.Max(m => m.RebalanceTimeoutMs);
    public bool AllMembersJoined => Members.All(m => m.AwaitingJoin is not null) && PendingMembers.Count == 0;

    /// <summary>Protocols every member supports (the candidates for the vote).</summary>
    public HashSet<string> CandidateProtocols()
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        if (Members.Count == 0) return set;
        set.UnionWith(Members[0].Protocols.Select(p => p.Name));
        foreach (var m in Members.Skip(1)) set.IntersectWith(m.Protocols.Select(p => p.Name));
        return set;
    }

    /// <summary>Kafka's supportsProtocols: an empty group takes any; otherwise same type and one protocol in common.</summary>
    public bool SupportsProtocols(string protocolType, IReadOnlyList<GroupProtocol> protocols)
    {
        if (Members.Count == 0) return protocolType.Length > 0 && protocols.Count > 0;
        if (protocolType != ProtocolType) return false;
        var candidates = CandidateProtocols();
        return protocols.Any(p => candidates.Contains(p.Name));
    }

    /// <summary>Kafka's selectProtocol: each member votes for the first of its protocols that all support; most votes wins.</summary>
    public string SelectProtocol()
    {
        var candidates = CandidateProtocols();
        var votes = Members.Select(m => m.Protocols.First(p => candidates.Contains(p.Name)).Name);
        return votes.GroupBy(v => v).OrderByDescending(g => g.Count()).First().Key;
    }
}
