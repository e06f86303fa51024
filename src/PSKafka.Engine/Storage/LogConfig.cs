using PSKafka.Engine.Config;

namespace PSKafka.Engine.Storage;

/// <summary>
/// A topic's settings, typed (Kafka's LogConfig): built from config values with <see cref="From"/>, so names, defaults
/// and validation stay in Config/ConfigDefinitions. Immutable; build variants with <c>with</c>.
/// </summary>
public sealed record LogConfig
{
    public const string CleanupPolicyDelete = "delete";
    public const string CleanupPolicyCompact = "compact";

    // Only From builds one: a LogConfig always holds a value for every setting.
    private LogConfig() { }

    public int SegmentBytes { get; init; }
    public long SegmentMs { get; init; }
    public int SegmentIndexBytes { get; init; }
    public int IndexIntervalBytes { get; init; }
    public int MaxMessageBytes { get; init; }
    public long RetentionMs { get; init; }
    public long RetentionBytes { get; init; }
    public string CleanupPolicy { get; init; } = "";
    public TimestampType MessageTimestampType { get; init; }
    public long FileDeleteDelayMs { get; init; }
    public long FlushMessages { get; init; }
    public long FlushMs { get; init; }
    /// <summary>How long a tombstone stays readable after the cleaner first saw it (compacted topics).</summary>
    public long DeleteRetentionMs { get; init; }
    /// <summary>Dirty bytes / all cleanable bytes at which the cleaner compacts the log.</summary>
    public double MinCleanableDirtyRatio { get; init; }
    /// <summary>Records younger than this are never compacted.</summary>
    public long MinCompactionLagMs { get; init; }
    /// <summary>In-sync replicas an acks=all produce to this log's partition needs.</summary>
    public int MinInsyncReplicas { get; init; }
    /// <summary>Whether the controller may elect a replica outside the ISR when no in-sync one is left.</summary>
    public bool UncleanLeaderElectionEnable { get; init; }

    public bool Compact => HasPolicy(CleanupPolicyCompact);
    public bool Delete => HasPolicy(CleanupPolicyDelete);

    private bool HasPolicy(string policy) =>
        CleanupPolicy.Split(',', StringSplitOptions.TrimEntries).Contains(policy, StringComparer.OrdinalIgnoreCase);

    /// <summary>Kafka's defaults.</summary>
    public static LogConfig Default { get; } = From(ConfigValues.Defaults);

    /// <summary>The typed settings of a topic's effective config values.</summary>
    public static LogConfig From(IConfigValues values) => new()
    {
        SegmentBytes = values.Int(ConfigDefinitions.SegmentBytes),
        SegmentMs = values.Long(ConfigDefinitions.SegmentMs),
        SegmentIndexBytes = values.Int(ConfigDefinitions.SegmentIndexBytes),
        IndexIntervalBytes = values.Int(ConfigDefinitions.IndexIntervalBytes),
        MaxMessageBytes = values.Int(ConfigDefinitions.MaxMessageBytes),
        RetentionMs = values.Long(ConfigDefinitions.RetentionMs),
        RetentionBytes = values.Long(ConfigDefinitions.RetentionBytes),
        CleanupPolicy = values.String(ConfigDefinitions.CleanupPolicy),
        MessageTimestampType = values.String(ConfigDefinitions.MessageTimestampType) == "LogAppendTime" ? TimestampType.LogAppendTime : TimestampType.CreateTime,
        FileDeleteDelayMs = values.Long(ConfigDefinitions.FileDeleteDelayMs),
        FlushMessages = values.Long(ConfigDefinitions.FlushMessages),
        FlushMs = values.Long(ConfigDefinitions.FlushMs),
        DeleteRetentionMs = values.Long(ConfigDefinitions.DeleteRetentionMs),
        MinCleanableDirtyRatio = values.Double(ConfigDefinitions.MinCleanableDirtyRatio),
        MinCompactionLagMs = values.Long(ConfigDefinitions.MinCompactionLagMs),
        MinInsyncReplicas = values.Int(ConfigDefinitions.MinInsyncReplicas),
        UncleanLeaderElectionEnable = values.Bool(ConfigDefinitions.UncleanLeaderElectionEnable),
    };
}
