using System.Globalization;
using PSKafka.Engine.Config;
using PSKafka.Engine.Storage;

namespace PSKafka.Engine.Cluster;

/// <summary>
/// A topic's effective configuration: its overrides, else the broker's settings, else Kafka's
/// defaults — with where each value came from, as kafka-configs.sh --describe shows it.
/// </summary>
public sealed class TopicSettings
{
    private readonly Dictionary<string, (string Value, ConfigSource Source)> _values = new(StringComparer.Ordinal);

    /// <param name="brokerOverrides">The overrides of the broker that applies or describes the settings, if any.</param>
    public TopicSettings(IReadOnlyDictionary<string, string> topicOverrides, IReadOnlyDictionary<string, string> brokerConfigs,
        IReadOnlyDictionary<string, string>? brokerOverrides = null)
    {
        foreach (var def in ConfigDefinitions.Topic)
        {
            if (topicOverrides.TryGetValue(def.Name, out var v))
                _values[def.Name] = (v, ConfigSource.TopicConfig);
            else if (def.BrokerSynonym is not null && brokerOverrides is not null && brokerOverrides.TryGetValue(def.BrokerSynonym, out var own))
                _values[def.Name] = (own, ConfigSource.PerBrokerConfig);
            else if (def.BrokerSynonym is not null && BrokerValue(def.BrokerSynonym, brokerConfigs) is { } b)
                _values[def.Name] = b;
            else
                _values[def.Name] = (def.Default ?? "", ConfigSource.Default);
        }
    }

    // log.retention.ms and log.roll.ms fall back to their *.hours settings, and log.flush.interval.ms to
    // log.flush.scheduler.interval.ms, as in Kafka.
    private static (string, ConfigSource)? BrokerValue(string name, IReadOnlyDictionary<string, string> brokerConfigs)
    {
        if (brokerConfigs.TryGetValue(name, out var v)) return (v, ConfigSource.DynamicBrokerConfig);
        if (name == "log.flush.interval.ms" && brokerConfigs.TryGetValue(ConfigDefinitions.LogFlushSchedulerIntervalMs, out var scheduler))
            return (scheduler, ConfigSource.DynamicBrokerConfig);
        string? hours = name switch { "log.retention.ms" => "log.retention.hours", "log.roll.ms" => "log.roll.hours", _ => null };
        if (hours is not null && brokerConfigs.TryGetValue(hours, out var h))
            return ((long.Parse(h, CultureInfo.InvariantCulture) * 3_600_000L).ToString(CultureInfo.InvariantCulture), ConfigSource.DynamicBrokerConfig);
        return null;
    }

    public IReadOnlyDictionary<string, (string Value, ConfigSource Source)> Values => _values;
    public string this[string name] => _values[name].Value;

    public int MinInsyncReplicas => Int(ConfigDefinitions.MinInsyncReplicas);
    public int MaxMessageBytes => Int(ConfigDefinitions.MaxMessageBytes);

    public LogConfig ToLogConfig() => new()
    {
        SegmentBytes = Int(ConfigDefinitions.SegmentBytes),
        SegmentMs = Long(ConfigDefinitions.SegmentMs),
        SegmentIndexBytes = Int(ConfigDefinitions.SegmentIndexBytes),
        IndexIntervalBytes = Int(ConfigDefinitions.IndexIntervalBytes),
        MaxMessageBytes = Int(ConfigDefinitions.MaxMessageBytes),
        RetentionMs = Long(ConfigDefinitions.RetentionMs),
        RetentionBytes = Long(ConfigDefinitions.RetentionBytes),
        CleanupPolicy = this[ConfigDefinitions.CleanupPolicy],
        MessageTimestampType = this[ConfigDefinitions.MessageTimestampType] == "LogAppendTime" ? TimestampType.LogAppendTime : TimestampType.CreateTime,
        FileDeleteDelayMs = Long(ConfigDefinitions.FileDeleteDelayMs),
        FlushMessages = Long(ConfigDefinitions.FlushMessages),
        FlushMs = Long(ConfigDefinitions.FlushMs),
        DeleteRetentionMs = Long(ConfigDefinitions.DeleteRetentionMs),
        MinCleanableDirtyRatio = double.Parse(this[ConfigDefinitions.MinCleanableDirtyRatio], CultureInfo.InvariantCulture),
        MinCompactionLagMs = Long(ConfigDefinitions.MinCompactionLagMs),
    };

    private int Int(string name) => int.Parse(this[name], CultureInfo.InvariantCulture);
    private long Long(string name) => long.Parse(this[name], CultureInfo.InvariantCulture);
}
