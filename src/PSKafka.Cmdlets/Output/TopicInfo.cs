namespace PSKafka.Cmdlets.Output;

/// <summary>A topic, as kafka-topics.sh --describe shows it.</summary>
public sealed class TopicInfo
{
    public string Name { get; init; } = "";
    public Guid TopicId { get; init; }
    public int PartitionCount { get; init; }
    public int ReplicationFactor { get; init; }
    /// <summary>Config overrides of the topic (kafka-topics.sh shows only these as Configs).</summary>
    public IDictionary<string, string> Configs { get; init; } = new SortedDictionary<string, string>(StringComparer.Ordinal);
    public IReadOnlyList<TopicPartitionInfo> Partitions { get; init; } = [];

    public override string ToString() => Name;
}

/// <summary>One partition of a topic: leader, replicas, in-sync replicas and offsets.</summary>
public sealed class TopicPartitionInfo
{
    public string Topic { get; init; } = "";
    public int Partition { get; init; }
    /// <summary>-1 (none) when the partition is offline.</summary>
    public int Leader { get; init; }
    public int LeaderEpoch { get; init; }
    public int[] Replicas { get; init; } = [];
    public int[] Isr { get; init; } = [];
    public int[] OfflineReplicas { get; init; } = [];
    public long LogStartOffset { get; init; } = -1;
    public long LogEndOffset { get; init; } = -1;

    public bool IsUnderReplicated => Isr.Length < Replicas.Length;
    public bool IsOffline => Leader < 0;
}
