using PSKafka.Engine.Config;

namespace PSKafka.Engine.Groups;

/// <summary>
/// The group coordinator's settings (Kafka's GroupCoordinatorConfig): the group.* and offsets.* broker settings, typed,
/// built from config values with <see cref="From"/>. Immutable; build variants with <c>with</c>.
/// </summary>
public sealed record GroupCoordinatorConfig
{
    // Only From builds one: a config always holds a value for every setting.
    private GroupCoordinatorConfig() { }

    public int InitialRebalanceDelayMs { get; init; }
    public int MinSessionTimeoutMs { get; init; }
    public int MaxSessionTimeoutMs { get; init; }
    public int OffsetMetadataMaxBytes { get; init; }
    public long OffsetsRetentionCheckIntervalMs { get; init; }
    /// <summary>__consumer_offsets' partitions, replication factor and segment.bytes, when it is created.</summary>
    public int OffsetsTopicPartitions { get; init; }
    public int OffsetsTopicReplicationFactor { get; init; }
    public int OffsetsTopicSegmentBytes { get; init; }

    /// <summary>Kafka's defaults.</summary>
    public static GroupCoordinatorConfig Default { get; } = From(ConfigValues.Defaults);

    public static GroupCoordinatorConfig From(IConfigValues values) => new()
    {
        InitialRebalanceDelayMs = values.Int(ConfigDefinitions.GroupInitialRebalanceDelayMs),
        MinSessionTimeoutMs = values.Int(ConfigDefinitions.GroupMinSessionTimeoutMs),
        MaxSessionTimeoutMs = values.Int(ConfigDefinitions.GroupMaxSessionTimeoutMs),
        OffsetMetadataMaxBytes = values.Int(ConfigDefinitions.OffsetMetadataMaxBytes),
        OffsetsRetentionCheckIntervalMs = values.Long(ConfigDefinitions.OffsetsRetentionCheckIntervalMs),
        OffsetsTopicPartitions = values.Int(ConfigDefinitions.OffsetsTopicNumPartitions),
        OffsetsTopicReplicationFactor = values.Int(ConfigDefinitions.OffsetsTopicReplicationFactor),
        OffsetsTopicSegmentBytes = values.Int(ConfigDefinitions.OffsetsTopicSegmentBytes),
    };
}
