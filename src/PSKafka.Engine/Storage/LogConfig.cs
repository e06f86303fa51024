namespace PSKafka.Engine.Storage;

/// <summary>
/// Per-topic log settings, with Kafka's topic config names and defaults. Immutable; build variants with <c>with</c>.
/// </summary>
public sealed record LogConfig
{
    public const string SegmentBytesConfig = "segment.bytes";
    public const string SegmentMsConfig = "segment.ms";
    public const string SegmentIndexBytesConfig = "segment.index.bytes";
    public const string IndexIntervalBytesConfig = "index.interval.bytes";
    public const string MaxMessageBytesConfig = "max.message.bytes";
    public const string RetentionMsConfig = "retention.ms";
    public const string RetentionBytesConfig = "retention.bytes";
    public const string CleanupPolicyConfig = "cleanup.policy";
    public const string MessageTimestampTypeConfig = "message.timestamp.type";
    public const string FileDeleteDelayMsConfig = "file.delete.delay.ms";
    public const string FlushMessagesConfig = "flush.messages";
    public const string FlushMsConfig = "flush.ms";
    public const string DeleteRetentionMsConfig = "delete.retention.ms";
    public const string MinCleanableDirtyRatioConfig = "min.cleanable.dirty.ratio";
    public const string MinCompactionLagMsConfig = "min.compaction.lag.ms";

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

    /// <summary>Builds a config from Kafka property names; unknown names are ignored, bad values throw.</summary>
    public static LogConfig FromProperties(IReadOnlyDictionary<string, string> props)
    {
        var c = new LogConfig();
        string? v;
        if (props.TryGetValue(SegmentBytesConfig, out v)) c = c with { SegmentBytes = int.Parse(v) };
        if (props.TryGetValue(SegmentMsConfig, out v)) c = c with { SegmentMs = long.Parse(v) };
        if (props.TryGetValue(SegmentIndexBytesConfig, out v)) c = c with { SegmentIndexBytes = int.Parse(v) };
        if (props.TryGetValue(IndexIntervalBytesConfig, out v)) c = c with { IndexIntervalBytes = int.Parse(v) };
        if (props.TryGetValue(MaxMessageBytesConfig, out v)) c = c with { MaxMessageBytes = int.Parse(v) };
        if (props.TryGetValue(RetentionMsConfig, out v)) c = c with { RetentionMs = long.Parse(v) };
        if (props.TryGetValue(RetentionBytesConfig, out v)) c = c with { RetentionBytes = long.Parse(v) };
        if (props.TryGetValue(CleanupPolicyConfig, out v)) c = c with { CleanupPolicy = v };
        if (props.TryGetValue(MessageTimestampTypeConfig, out v))
            c = c with { MessageTimestampType = v == "LogAppendTime" ? TimestampType.LogAppendTime : v == "CreateTime" ? TimestampType.CreateTime : throw new FormatException($"{MessageTimestampTypeConfig}={v}") };
        if (props.TryGetValue(FileDeleteDelayMsConfig, out v)) c = c with { FileDeleteDelayMs = long.Parse(v) };
        if (props.TryGetValue(FlushMessagesConfig, out v)) c = c with { FlushMessages = long.Parse(v) };
        if (props.TryGetValue(FlushMsConfig, out v)) c = c with { FlushMs = long.Parse(v) };
        if (props.TryGetValue(DeleteRetentionMsConfig, out v)) c = c with { DeleteRetentionMs = long.Parse(v) };
        if (props.TryGetValue(MinCleanableDirtyRatioConfig, out v)) c = c with { MinCleanableDirtyRatio = double.Parse(v, System.Globalization.CultureInfo.InvariantCulture) };
        if (props.TryGetValue(MinCompactionLagMsConfig, out v)) c = c with { MinCompactionLagMs = long.Parse(v) };
        return c;
    }
}
