namespace PSKafka.Engine.Metadata;

/// <summary>
/// A consumer group's durable part (what Kafka keeps as GroupMetadata records in __consumer_offsets):
/// protocol type, generation and chosen protocol. Members are not kept; after a restart or a
/// coordinator move the group comes back Empty and its members rejoin.
/// </summary>
public sealed class GroupRecord
{
    public string Id { get; set; } = "";
    public string ProtocolType { get; set; } = "";
    public int Generation { get; set; }
    public string? Protocol { get; set; }
    public DateTime Updated { get; set; }
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
