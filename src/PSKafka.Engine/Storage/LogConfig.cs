namespace PSKafka.Engine.Storage;

/// <summary>
/// Per-topic log settings with Kafka's defaults. Immutable; build variants with <c>with</c>. The config names, their
/// validation and their broker fallbacks live in Config/ConfigDefinitions; TopicSettings.ToLogConfig builds this.
/// </summary>
public sealed record LogConfig
{

    public const int DefaultSegmentBytes = 1073741824;        // 1 GiB
    public const long DefaultSegmentMs = 604800000;           // 7 days
    public const int DefaultSegmentIndexBytes = 10485760;     // 10 MiB
    public const int DefaultIndexIntervalBytes = 4096;
    public const int DefaultMaxMessageBytes = 1048588;        // 1 MiB + record batch overhead
    public const long DefaultRetentionMs = 604800000;         // 7 days
    public const long DefaultRetentionBytes = -1;             // unlimited
    public const string CleanupPolicyDelete = "delete";
    public const string CleanupPolicyCompact = "compact";
    public const string DefaultCleanupPolicy = CleanupPolicyDelete;
    public const string DefaultMessageTimestampType = "CreateTime";
    public const long DefaultFileDeleteDelayMs = 60000;
    public const long DefaultFlushMessages = long.MaxValue;   // Kafka leaves flushing to the OS by default
    public const long DefaultFlushMs = long.MaxValue;
    public const long DefaultDeleteRetentionMs = 86400000;    // 1 day
    public const double DefaultMinCleanableDirtyRatio = 0.5;

    public int SegmentBytes { get; init; } = DefaultSegmentBytes;
    public long SegmentMs { get; init; } = DefaultSegmentMs;
    public int SegmentIndexBytes { get; init; } = DefaultSegmentIndexBytes;
    public int IndexIntervalBytes { get; init; } = DefaultIndexIntervalBytes;
    public int MaxMessageBytes { get; init; } = DefaultMaxMessageBytes;
    public long RetentionMs { get; init; } = DefaultRetentionMs;
    public long RetentionBytes { get; init; } = DefaultRetentionBytes;
    public string CleanupPolicy { get; init; } = DefaultCleanupPolicy;
    public TimestampType MessageTimestampType { get; init; } = TimestampType.CreateTime;
    public long FileDeleteDelayMs { get; init; } = DefaultFileDeleteDelayMs;
    public long FlushMessages { get; init; } = DefaultFlushMessages;
    public long FlushMs { get; init; } = DefaultFlushMs;
    /// <summary>How long a tombstone stays readable after the cleaner first saw it (compacted topics).</summary>
    public long DeleteRetentionMs { get; init; } = DefaultDeleteRetentionMs;
    /// <summary>Dirty bytes / all cleanable bytes at which the cleaner compacts the log.</summary>
    public double MinCleanableDirtyRatio { get; init; } = DefaultMinCleanableDirtyRatio;
    /// <summary>Records younger than this are never compacted.</summary>
    public long MinCompactionLagMs { get; init; }

    public bool Compact => HasPolicy(CleanupPolicyCompact);
    public bool Delete => HasPolicy(CleanupPolicyDelete);

    private bool HasPolicy(string policy) =>
        CleanupPolicy.Split(',', StringSplitOptions.TrimEntries).Contains(policy, StringComparer.OrdinalIgnoreCase);

    public static LogConfig Default { get; } = new();
}
