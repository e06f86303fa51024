using System.Globalization;

namespace PSKafka.Engine.Config;

public enum ConfigType { Boolean, Int, Long, Double, String, List }

/// <summary>
/// Where an effective config value came from, as kafka-configs.sh --describe names it: DynamicBrokerConfig is the
/// cluster-wide setting (DYNAMIC_DEFAULT_BROKER_CONFIG), PerBrokerConfig one broker's own override (DYNAMIC_BROKER_CONFIG).
/// </summary>
public enum ConfigSource { Default, StaticBrokerConfig, DynamicBrokerConfig, TopicConfig, PerBrokerConfig, DynamicBrokerLoggerConfig }

/// <summary>One value a config takes from one source: DescribeConfigs lists them in order of precedence.</summary>
public sealed record ConfigSynonym(string Name, string? Value, ConfigSource Source);

/// <summary>
/// One config key: Kafka's name, type, default and validation, what it does, and for a topic config its broker synonym.
/// For a broker config, <paramref name="ReadOnly"/> means fixed when the broker starts (PSKafka never changes it) and
/// <paramref name="Dynamic"/> that Kafka can change it at runtime over the wire (DynamicBrokerConfig.AllDynamicConfigs);
/// the others are server.properties settings, which only the process hosting the brokers changes (Set-BrokerConfig).
/// <paramref name="Applies"/> false marks a key PSKafka accepts and shows, as Kafka does, but that configures nothing
/// here; <paramref name="Documentation"/> then says why.
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
    bool Dynamic = false,
    bool Applies = true)
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

    /// <summary>
    /// Whether a requester cannot change this broker setting: nobody changes the ones fixed at start, and over the Kafka
    /// API only Kafka's dynamic broker configs change.
    /// </summary>
    public bool IsReadOnlyFor(ConfigAccess access) => ReadOnly || (access == ConfigAccess.KafkaApi && !Dynamic);

    private KafkaException Invalid(string value, string why) =>
        new(ErrorCode.InvalidConfig, $"Invalid value {value} for configuration {Name}: {why}.");
}

/// <summary>
/// Who asks to read or change configs. A client over the Kafka API changes topic configs and Kafka's dynamic broker
/// configs only, and a refusal of a broker config is INVALID_REQUEST as in Kafka; the process hosting the brokers also
/// changes the cluster-wide settings Kafka reads from server.properties, and its refusals are INVALID_CONFIG.
/// </summary>
public enum ConfigAccess { KafkaApi, Host }

/// <summary>
/// Every topic and broker config PSKafka knows, with Kafka's names, types, defaults and validation: the one table that
/// validation, describe output and the typed settings (LogConfig, GroupCoordinatorConfig, KafkaServerOptions, ...)
/// are built from. No default is written anywhere else.
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

    private static readonly string Never = long.MaxValue.ToString(CultureInfo.InvariantCulture);

    public static readonly IReadOnlyList<ConfigDefinition> Topic =
    [
        new(CleanupPolicy, ConfigType.List, "delete", "log.cleanup.policy", ValidValues: ["delete", "compact"],
            Documentation: "What happens to old segments: delete (retention removes them) and/or compact (the cleaner keeps the last record of each key)."),
        new(CompressionType, ConfigType.String, "producer", "compression.type", ValidValues: ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"], Applies: false,
            Documentation: "The compression of the topic's batches. PSKafka stores batches as the producer compressed them (Kafka's 'producer'): other values are accepted and shown but not applied, since the broker does not recompress."),
        new(DeleteRetentionMs, ConfigType.Long, "86400000", "log.cleaner.delete.retention.ms", Min: 0,
            Documentation: "How long a tombstone stays readable in a compacted topic after the cleaner first saw it."),
        new(FileDeleteDelayMs, ConfigType.Long, "60000", "log.segment.delete.delay.ms", Min: 0,
            Documentation: "How long a deleted segment's files wait (renamed .deleted) before they are removed from disk."),
        new(FlushMessages, ConfigType.Long, Never, "log.flush.interval.messages", Min: 1,
            Documentation: "Messages appended between forced flushes of the log to disk; by default the OS decides."),
        new(FlushMs, ConfigType.Long, Never, "log.flush.interval.ms", Min: 0,
            Documentation: "Age of the last flush at which the log flusher forces the log to disk; by default the OS decides."),
        new(IndexIntervalBytes, ConfigType.Int, "4096", "log.index.interval.bytes", Min: 0,
            Documentation: "Bytes of batches between two entries of the offset index."),
        new(MaxMessageBytes, ConfigType.Int, "1048588", "message.max.bytes", Min: 0,
            Documentation: "Largest record batch the topic accepts (after compression)."),
        new(MessageTimestampType, ConfigType.String, "CreateTime", "log.message.timestamp.type", ValidValues: ["CreateTime", "LogAppendTime"],
            Documentation: "Whether records keep the producer's timestamp (CreateTime) or get the broker's append time (LogAppendTime)."),
        new(MinCleanableDirtyRatio, ConfigType.Double, "0.5", "log.cleaner.min.cleanable.ratio", Min: 0, Max: 1,
            Documentation: "Share of not yet compacted bytes at which the cleaner compacts the log."),
        new(MinCompactionLagMs, ConfigType.Long, "0", "log.cleaner.min.compaction.lag.ms", Min: 0,
            Documentation: "Records younger than this are never compacted."),
        new(MinInsyncReplicas, ConfigType.Int, "1", "min.insync.replicas", Min: 1,
            Documentation: "In-sync replicas an acks=all produce needs; with fewer it fails with NOT_ENOUGH_REPLICAS."),
        new(RetentionBytes, ConfigType.Long, "-1", "log.retention.bytes",
            Documentation: "Size a partition's log may reach before retention deletes its oldest segments; -1 for no limit."),
        new(RetentionMs, ConfigType.Long, "604800000", "log.retention.ms", Min: -1,
            Documentation: "How long a segment is kept after its last record before retention deletes it; -1 for ever."),
        new(SegmentBytes, ConfigType.Int, "1073741824", "log.segment.bytes", Min: 14,
            Documentation: "Size at which the log rolls a new segment."),
        new(SegmentIndexBytes, ConfigType.Int, "10485760", "log.index.size.max.bytes", Min: 4,
            Documentation: "Size of a segment's offset and time indexes; a full index rolls a new segment."),
        new(SegmentMs, ConfigType.Long, "604800000", "log.roll.ms", Min: 1,
            Documentation: "Age of the active segment's first record at which the log rolls a new segment."),
        new(UncleanLeaderElectionEnable, ConfigType.Boolean, "false", "unclean.leader.election.enable",
            Documentation: "Whether a replica outside the ISR may become leader when no in-sync replica is left (may lose committed messages)."),
    ];

    // Before Broker, which reads it while the type initialises.
    private static readonly Dictionary<string, ConfigDefinition> TopicByName = Topic.ToDictionary(d => d.Name);

    public const string LogDirs = "log.dirs";
    public const string BrokerId = "broker.id";
    public const string Listeners = "listeners";
    public const string AutoCreateTopicsEnable = "auto.create.topics.enable";
    public const string DefaultReplicationFactor = "default.replication.factor";
    public const string DeleteTopicEnable = "delete.topic.enable";
    public const string NumPartitions = "num.partitions";
    public const string LogRetentionHours = "log.retention.hours";
    public const string LogRetentionCheckIntervalMs = "log.retention.check.interval.ms";
    public const string LogFlushSchedulerIntervalMs = "log.flush.scheduler.interval.ms";
    public const string OffsetsTopicNumPartitions = "offsets.topic.num.partitions";
    public const string OffsetsTopicReplicationFactor = "offsets.topic.replication.factor";
    public const string OffsetsTopicSegmentBytes = "offsets.topic.segment.bytes";
    public const string ReplicaLagTimeMaxMs = "replica.lag.time.max.ms";
    public const string SocketRequestMaxBytes = "socket.request.max.bytes";
    public const string QueuedMaxRequestBytes = "queued.max.request.bytes";
    public const string ConnectionsMaxIdleMs = "connections.max.idle.ms";
    public const string FetchMaxBytes = "fetch.max.bytes";
    public const string GroupInitialRebalanceDelayMs = "group.initial.rebalance.delay.ms";
    public const string LogCleanerEnable = "log.cleaner.enable";
    public const string LogCleanerBackoffMs = "log.cleaner.backoff.ms";
    public const string GroupMinSessionTimeoutMs = "group.min.session.timeout.ms";
    public const string GroupMaxSessionTimeoutMs = "group.max.session.timeout.ms";
    public const string OffsetMetadataMaxBytes = "offset.metadata.max.bytes";
    public const string OffsetsRetentionCheckIntervalMs = "offsets.retention.check.interval.ms";

    public static readonly IReadOnlyList<ConfigDefinition> Broker =
    [
        // Fixed when a broker starts (server.properties in Kafka): shown per broker, never altered.
        new(BrokerId, ConfigType.Int, "-1", ReadOnly: true,
            Documentation: "The broker's id: 0, 1, ... in the order Start-Broker first started them."),
        new(LogDirs, ConfigType.List, null, ReadOnly: true,
            Documentation: "The broker's log directory, broker-<id> in the cluster's data directory."),
        new(Listeners, ConfigType.List, "PLAINTEXT://:9092", ReadOnly: true,
            Documentation: "Where the broker listens for Kafka clients: PLAINTEXT on its host and port."),
        new(AutoCreateTopicsEnable, ConfigType.Boolean, "true",
            Documentation: "Whether a metadata request for a topic that does not exist creates it, when the client allows it."),
        new(DefaultReplicationFactor, ConfigType.Int, "1", Min: 1,
            Documentation: "Replication factor of a topic created without one."),
        new(DeleteTopicEnable, ConfigType.Boolean, "true",
            Documentation: "Whether topics can be deleted; false refuses DeleteTopics with TOPIC_DELETION_DISABLED."),
        new(NumPartitions, ConfigType.Int, "1", Min: 1,
            Documentation: "Partitions of a topic created without a count."),
        new(LogRetentionHours, ConfigType.Int, HoursOf(RetentionMs),
            Documentation: "Hours a segment is kept, for topics without retention.ms while log.retention.ms is not set."),
        new(LogRetentionCheckIntervalMs, ConfigType.Long, "300000", Min: 1,
            Documentation: "How often the broker runs retention on its logs and checkpoints their recovery points."),
        new(LogFlushSchedulerIntervalMs, ConfigType.Long, Never, Min: 0,
            Documentation: "How often the log flusher looks for logs whose last flush is older than their flush.ms (Kafka's default: never); also log.flush.interval.ms when that is not set."),
        new(OffsetsTopicNumPartitions, ConfigType.Int, "50", Min: 1,
            Documentation: "Partitions of __consumer_offsets, fixed when the first group coordinator lookup creates it."),
        new(OffsetsTopicReplicationFactor, ConfigType.Int, "3", Min: 1,
            Documentation: "Replication factor of __consumer_offsets, at most the brokers running when it is created."),
        new(OffsetsTopicSegmentBytes, ConfigType.Int, "104857600", Min: 1,
            Documentation: "segment.bytes of __consumer_offsets when it is created; small segments keep compaction and loading quick."),
        new(ReplicaLagTimeMaxMs, ConfigType.Long, "30000", Min: 0,
            Documentation: "A follower that has not caught up with its leader for this long leaves the ISR."),
        new(SocketRequestMaxBytes, ConfigType.Int, "104857600", Min: 1,
            Documentation: "Largest request frame the listener reads; a larger size prefix closes the connection. Read when the broker starts."),
        new(QueuedMaxRequestBytes, ConfigType.Long, "-1",
            Documentation: "Request bytes a listener holds at once; -1 leaves only the process-wide bound. Read when the broker starts."),
        new(ConnectionsMaxIdleMs, ConfigType.Long, "600000",
            Documentation: "A connection that does not complete a request frame in this time is closed; negative for never. Read when the broker starts."),
        new(FetchMaxBytes, ConfigType.Int, "57671680", Min: 1024,
            Documentation: "Most record bytes in one fetch response to a consumer (the first batch goes whatever its size). Read when the broker starts."),
        new(GroupInitialRebalanceDelayMs, ConfigType.Int, "3000", Min: 0,
            Documentation: "How long the coordinator waits for more members before the first rebalance of an empty group."),
        new(LogCleanerEnable, ConfigType.Boolean, "true",
            Documentation: "Whether the log cleaner compacts cleanup.policy=compact logs in the background."),
        new(LogCleanerBackoffMs, ConfigType.Long, "15000", Min: 0, Dynamic: true,
            Documentation: "How often the log cleaner looks for logs due for compaction."),
        new(GroupMinSessionTimeoutMs, ConfigType.Int, "6000", Min: 0,
            Documentation: "Shortest session timeout a group member may ask for."),
        new(GroupMaxSessionTimeoutMs, ConfigType.Int, "1800000", Min: 0,
            Documentation: "Longest session timeout a group member may ask for."),
        new(OffsetMetadataMaxBytes, ConfigType.Int, "4096", Min: 0,
            Documentation: "Longest metadata string an offset commit may carry."),
        new(OffsetsRetentionCheckIntervalMs, ConfigType.Long, "600000", Min: 1,
            Documentation: "How often the group coordinator removes groups that are Empty and have no offsets."),
        .. Topic.Where(t => t.BrokerSynonym is not null)
            .Select(t => t with { Name = t.BrokerSynonym!, BrokerSynonym = null, Default = BrokerDefault(t), Dynamic = true }), // DynamicLogConfig
    ];

    private static readonly Dictionary<string, ConfigDefinition> BrokerByName = Broker.ToDictionary(d => d.Name);

    // Kafka leaves log.retention.ms and log.roll.ms unset and derives them from the *.hours settings, and
    // log.flush.interval.ms, which falls back to log.flush.scheduler.interval.ms.
    private static string? BrokerDefault(ConfigDefinition topic) => topic.BrokerSynonym switch
    {
        "log.retention.ms" or "log.roll.ms" or "log.flush.interval.ms" => null,
        _ => topic.Default,
    };

    // log.retention.hours's default is retention.ms's, in hours, as Kafka derives it.
    private static string HoursOf(string topicMs) =>
        (long.Parse(TopicByName[topicMs].Default!, CultureInfo.InvariantCulture) / 3_600_000L).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The *.hours broker setting a topic config's broker synonym falls back to when it is not set (Kafka leaves
    /// log.retention.ms and log.roll.ms unset), or null.
    /// </summary>
    public static string? HoursSynonym(string brokerName) => brokerName switch
    {
        "log.retention.ms" => LogRetentionHours,
        "log.roll.ms" => "log.roll.hours",
        _ => null,
    };

    public static bool TryGetTopic(string name, out ConfigDefinition definition) => TopicByName.TryGetValue(name, out definition!);
    public static bool TryGetBroker(string name, out ConfigDefinition definition) => BrokerByName.TryGetValue(name, out definition!);

    /// <summary>A topic or broker key's definition; a name that is neither is a programming error.</summary>
    public static ConfigDefinition Get(string name) =>
        TopicByName.GetValueOrDefault(name) ?? BrokerByName.GetValueOrDefault(name)
        ?? throw new ArgumentException($"'{name}' is not a config PSKafka defines.", nameof(name));

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
