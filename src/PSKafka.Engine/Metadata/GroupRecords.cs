namespace PSKafka.Engine.Metadata;

/// <summary>
/// A consumer group's durable part (what Kafka keeps as GroupMetadata records in __consumer_offsets): protocol type,
/// generation, chosen protocol and, once the leader's assignment is in (Stable), the leader and the members with their
/// subscriptions and assignments. A coordinator that takes the group over (its broker died, leadership moved) loads
/// it Stable with those members, so they go on heartbeating and committing under the same generation instead of
/// rejoining, and nothing is read twice. A group saved in another state comes back Empty and its members rejoin.
/// </summary>
public sealed class GroupRecord
{
    public string Id { get; set; } = "";
    public string ProtocolType { get; set; } = "";
    public int Generation { get; set; }
    public string? Protocol { get; set; }
    public string? Leader { get; set; }
    public List<GroupMemberRecord> Members { get; set; } = new();
    public DateTime Updated { get; set; }
}

/// <summary>One member of a Stable group, as Kafka's GroupMetadata record keeps it.</summary>
public sealed class GroupMemberRecord
{
    public string MemberId { get; set; } = "";
    public string? GroupInstanceId { get; set; }
    public string ClientId { get; set; } = "";
    public string ClientHost { get; set; } = "";
    public int SessionTimeoutMs { get; set; }
    public int RebalanceTimeoutMs { get; set; }
    public List<string> ProtocolNames { get; set; } = new();
    public List<byte[]> ProtocolMetadata { get; set; } = new();
    public byte[] Assignment { get; set; } = [];
}

/// <summary>One committed offset (Kafka's OffsetCommit record): group, topic, partition → offset.</summary>
public sealed class CommittedOffsetRecord
{
    /// <summary>"topic-partition@group": topic names have no '@', so the key is unambiguous.</summary>
    public string Id { get; set; } = "";
    public string Group { get; set; } = "";
    public string Topic { get; set; } = "";
    public int Partition { get; set; }
    public long Offset { get; set; }
    public int LeaderEpoch { get; set; } = -1;
    public string? Metadata { get; set; }
    public long CommitTimestamp { get; set; }

    public static string KeyOf(string group, string topic, int partition) => $"{topic}-{partition}@{group}";
}
