using System.Globalization;

namespace PSKafka.Engine.Config;

public enum ConfigType { Boolean, Int, Long, Double, String, List }

/// <summary>
/// Where an effective config value came from, as kafka-configs.sh --describe names it: DynamicBrokerConfig is the
/// cluster-wide setting (DYNAMIC_DEFAULT_BROKER_CONFIG), PerBrokerConfig one broker's own override (DYNAMIC_BROKER_CONFIG).
/// </summary>
public enum ConfigSource { Default, StaticBrokerConfig, DynamicBrokerConfig, TopicConfig, PerBrokerConfig, DynamicBrokerLoggerConfig }

/// <summary>
/// One config key: Kafka's name, type, default, and for a topic config its broker synonym. For a broker config,
/// <paramref name="ReadOnly"/> means fixed when the broker starts (PSKafka never changes it) and
/// <paramref name="Dynamic"/> that Kafka can change it at runtime over the wire (DynamicBrokerConfig.AllDynamicConfigs);
/// the others are server.properties settings, which only the process hosting the brokers changes (Set-BrokerConfig).
/// </summary>
public sealed record ConfigDefinition(
    string Name,
    ConfigType Type,
    string? Default,
    string? BrokerSynonym = null,
    long Min = long.MinValue,
    long Max = long.MaxValue,
    string[]? ValidValues = null,
    string Documentation = "",
    bool ReadOnly = false,
    bool Dynamic = false)
{
    /// <summary>Validates with Kafka's rules and returns the normalised value, or throws InvalidConfig.</summary>
    public string Validate(string? value)
    {
        if (value is null)
            throw new KafkaException(ErrorCode.InvalidConfig, $"Invalid value null for configuration {Name}.");
        value = value.Trim();
        switch (Type)
        {
            case ConfigType.Boolean:
                if (!bool.TryParse(value, out var b))
                    throw Invalid(value, "Expected value to be either true or false");
                return b ? "true" : "false";
            case ConfigType.Int:
            case ConfigType.Long:
                if (!long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l)
                    || (Type == ConfigType.Int && (l < int.MinValue || l > int.MaxValue)))
                    throw Invalid(value, $"Not a number of type {Type.ToString().ToUpperInvariant()}");
                if (l < Min) throw Invalid(value, $"Value must be at least {Min}");
                if (l > Max) throw Invalid(value, $"Value must be no more than {Max}");
                return l.ToString(CultureInfo.InvariantCulture);
            case ConfigType.Double:
                if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
                    throw Invalid(value, "Not a number of type DOUBLE");
                if (d < Min) throw Invalid(value, $"Value must be at least {Min}");
                if (d > Max) throw Invalid(value, $"Value must be no more than {Max}");
                return d.ToString(CultureInfo.InvariantCulture);
            case ConfigType.List:
                var items = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                    .Select(s => s.ToLowerInvariant()).ToArray();
                if (ValidValues is not null)
                    foreach (var item in items)
                        if (!ValidValues.Contains(item))
                            throw Invalid(value, $"String must be one of: {string.Join(", ", ValidValues)}");
                return string.Join(",", items);
            default:
                if (ValidValues is not null && !ValidValues.Contains(value, StringComparer.OrdinalIgnoreCase))
                    throw Invalid(value, $"String must be one of: {string.Join(", ", ValidValues)}");
                return ValidValues is null ? value : ValidValues.First(v => v.Equals(value, StringComparison.OrdinalIgnoreCase));
        }
    }

    private KafkaException Invalid(string value, string why) =>
        new(ErrorCode.InvalidConfig, $"Invalid value {value} for configuration {Name}: {why}.");
}

/// <summary>
/// The topic and broker configs PSKafka knows, with Kafka's names and defaults: one table that
/// validation, describe output and the log settings all read.
/// </summary>
public static class ConfigDefinitions
{
    public const string CleanupPolicy = "cleanup.policy";
    public const string CompressionType = "compression.type";
    public const string DeleteRetentionMs = "delete.retention.ms";
    public const string FileDeleteDelayMs = "file.delete.delay.ms";
    public const string FlushMessages = "flush.messages";
    public const string FlushMs = "flush.ms";
    public const string IndexIntervalBytes = "index.interval.bytes";
    public const string MaxMessageBytes = "max.message.bytes";
    public const string MessageTimestampType = "message.timestamp.type";
    public const string MinCleanableDirtyRatio = "min.cleanable.dirty.ratio";
    public const string MinCompactionLagMs = "min.compaction.lag.ms";
    public const string MinInsyncReplicas = "min.insync.replicas";
    public const string RetentionBytes = "retention.bytes";
    public const string RetentionMs = "retention.ms";
    public const string SegmentBytes = "segment.bytes";
    public const string SegmentIndexBytes = "segment.index.bytes";
    public const string SegmentMs = "segment.ms";
    public const string UncleanLeaderElectionEnable = "unclean.leader.election.enable";

    public static readonly IReadOnlyList<ConfigDefinition> Topic =
    [
        new(CleanupPolicy, ConfigType.List, "delete", "log.cleanup.policy", ValidValues: ["delete", "compact"]),
        new(CompressionType, ConfigType.String, "producer", "compression.type", ValidValues: ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"]),
        new(DeleteRetentionMs, ConfigType.Long, "86400000", "log.cleaner.delete.retention.ms", Min: 0),
        new(FileDeleteDelayMs, ConfigType.Long, "60000", "log.segment.delete.delay.ms", Min: 0),
        new(FlushMessages, ConfigType.Long, long.MaxValue.ToString(CultureInfo.InvariantCulture), "log.flush.interval.messages", Min: 1),
        new(FlushMs, ConfigType.Long, long.MaxValue.ToString(CultureInfo.InvariantCulture), "log.flush.interval.ms", Min: 0),
        new(IndexIntervalBytes, ConfigType.Int, "4096", "log.index.interval.bytes", Min: 0),
        new(MaxMessageBytes, ConfigType.Int, "1048588", "message.max.bytes", Min: 0),
        new(MessageTimestampType, ConfigType.String, "CreateTime", "log.message.timestamp.type", ValidValues: ["CreateTime", "LogAppendTime"]),
        new(MinCleanableDirtyRatio, ConfigType.Double, "0.5", "log.cleaner.min.cleanable.ratio", Min: 0, Max: 1),
        new(MinCompactionLagMs, ConfigType.Long, "0", "log.cleaner.min.compaction.lag.ms", Min: 0),
        new(MinInsyncReplicas, ConfigType.Int, "1", "min.insync.replicas", Min: 1),
        new(RetentionBytes, ConfigType.Long, "-1", "log.retention.bytes"),
        new(RetentionMs, ConfigType.Long, "604800000", "log.retention.ms", Min: -1),
        new(SegmentBytes, ConfigType.Int, "1073741824", "log.segment.bytes", Min: 14),
        new(SegmentIndexBytes, ConfigType.Int, "10485760", "log.index.size.max.bytes", Min: 4),
        new(SegmentMs, ConfigType.Long, "604800000", "log.roll.ms", Min: 1),
        new(UncleanLeaderElectionEnable, ConfigType.Boolean, "false", "unclean.leader.election.enable"),
    ];

    public const string LogDirs = "log.dirs";
    public const string BrokerId = "broker.id";
    public const string Listeners = "listeners";
    public const string LogRetentionCheckIntervalMs = "log.retention.check.interval.ms";
    public const string LogCleanerEnable = "log.cleaner.enable";
    public const string LogCleanerBackoffMs = "log.cleaner.backoff.ms";
    public const string LogFlushSchedulerIntervalMs = "log.flush.scheduler.interval.ms";
    public const string OffsetsRetentionCheckIntervalMs = "offsets.retention.check.interval.ms";

    public static readonly IReadOnlyList<ConfigDefinition> Broker =
    [
        // Fixed when a broker starts (server.properties in Kafka): shown per broker, never altered.
        new(BrokerId, ConfigType.Int, "-1", ReadOnly: true),
        new(LogDirs, ConfigType.List, null, ReadOnly: true),
        new(Listeners, ConfigType.List, "PLAINTEXT://:9092", ReadOnly: true),
        new("auto.create.topics.enable", ConfigType.Boolean, "true"),
        new("default.replication.factor", ConfigType.Int, "1", Min: 1),
        new("delete.topic.enable", ConfigType.Boolean, "true"),
        new("num.partitions", ConfigType.Int, "1", Min: 1),
        new("log.retention.hours", ConfigType.Int, "168"),
        new(LogRetentionCheckIntervalMs, ConfigType.Long, "300000", Min: 1),
        // How often the log flusher looks for logs whose last flush is older than their flush.ms (Kafka's default: never).
        new(LogFlushSchedulerIntervalMs, ConfigType.Long, long.MaxValue.ToString(CultureInfo.InvariantCulture), Min: 0),
        new("offsets.topic.num.partitions", ConfigType.Int, "50", Min: 1),
        new("offsets.topic.replication.factor", ConfigType.Int, "3", Min: 1),
        new("replica.lag.time.max.ms", ConfigType.Long, "30000", Min: 0),
        new("socket.request.max.bytes", ConfigType.Int, "104857600", Min: 1),
        new("queued.max.request.bytes", ConfigType.Long, "-1"),
        new("fetch.max.bytes", ConfigType.Int, "57671680", Min: 1024),
        new("group.initial.rebalance.delay.ms", ConfigType.Int, "3000", Min: 0),
        new(LogCleanerEnable, ConfigType.Boolean, "true"),
        new(LogCleanerBackoffMs, ConfigType.Long, "15000", Min: 0, Dynamic: true),
        new("group.min.session.timeout.ms", ConfigType.Int, "6000", Min: 0),
        new("group.max.session.timeout.ms", ConfigType.Int, "1800000", Min: 0),
        new("offset.metadata.max.bytes", ConfigType.Int, "4096", Min: 0),
        // How often the group coordinator removes groups that are Empty without offsets.
        new(OffsetsRetentionCheckIntervalMs, ConfigType.Long, "600000", Min: 1),
        .. Topic.Where(t => t.BrokerSynonym is not null)
            .Select(t => t with { Name = t.BrokerSynonym!, BrokerSynonym = null, Default = BrokerDefault(t), Dynamic = true }), // DynamicLogConfig
    ];

    private static readonly Dictionary<string, ConfigDefinition> TopicByName = Topic.ToDictionary(d => d.Name);
    private static readonly Dictionary<string, ConfigDefinition> BrokerByName = Broker.ToDictionary(d => d.Name);

    // Kafka leaves log.retention.ms and log.roll.ms unset and derives them from the *.hours settings, and
    // log.flush.interval.ms, which falls back to log.flush.scheduler.interval.ms.
    private static string? BrokerDefault(ConfigDefinition topic) => topic.BrokerSynonym switch
    {
        "log.retention.ms" or "log.roll.ms" or "log.flush.interval.ms" => null,
        _ => topic.Default,
    };

    public static bool TryGetTopic(string name, out ConfigDefinition definition) => TopicByName.TryGetValue(name, out definition!);
    public static bool TryGetBroker(string name, out ConfigDefinition definition) => BrokerByName.TryGetValue(name, out definition!);

    /// <summary>Validates a set of topic overrides; unknown names are InvalidConfig, as in Kafka.</summary>
    public static Dictionary<string, string> ValidateTopicConfigs(IReadOnlyDictionary<string, string>? configs)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (configs is null) return result;
        foreach (var (name, value) in configs)
        {
            if (!TopicByName.TryGetValue(name, out var def))
                throw new KafkaException(ErrorCode.InvalidConfig, $"Unknown topic config name: {name}.");
            result[name] = def.Validate(value);
        }
        return result;
    }

    /// <summary>
    /// Validates a change Kafka allows over the wire (AlterConfigs, IncrementalAlterConfigs): only dynamic broker configs,
    /// and as in Kafka every refusal is INVALID_REQUEST (KAFKA-13609), not INVALID_CONFIG. Null (delete) is checked by name only.
    /// </summary>
    public static string? ValidateDynamicBrokerConfig(string name, string? value)
    {
        if (!BrokerByName.TryGetValue(name, out var def))
            throw new KafkaException(ErrorCode.InvalidRequest, $"Unknown broker config name: {name}.");
        if (!def.Dynamic)
            throw new KafkaException(ErrorCode.InvalidRequest, $"Cannot update these configs dynamically: Set({name})");
        try
        {
            return value is null ? null : def.Validate(value);
        }
        catch (KafkaException e)
        {
            throw new KafkaException(ErrorCode.InvalidRequest, e.Message);
        }
    }

    /// <summary>Validates a broker setting; unknown names are InvalidConfig.</summary>
    public static string ValidateBrokerConfig(string name, string value)
    {
        if (!BrokerByName.TryGetValue(name, out var def))
            throw new KafkaException(ErrorCode.InvalidConfig, $"Unknown broker config name: {name}.");
        if (def.ReadOnly)
            throw new KafkaException(ErrorCode.InvalidConfig, $"Cannot update these configs dynamically: {name} (read-only; it is fixed when the broker starts).");
        return def.Validate(value);
    }
}
