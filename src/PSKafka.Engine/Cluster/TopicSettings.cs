using System.Globalization;
using PSKafka.Engine.Config;
using PSKafka.Engine.Storage;

namespace PSKafka.Engine.Cluster;

/// <summary>
/// A topic's effective configuration: its overrides, else the broker's settings, else Kafka's
/// defaults — with where each value came from, as kafka-configs.sh --describe shows it.
/// </summary>
public sealed class TopicSettings : IConfigValues
{
    private readonly Dictionary<string, (string Value, ConfigSource Source)> _values = new(StringComparer.Ordinal);
    private readonly IReadOnlyDictionary<string, string> _brokerConfigs;
    private readonly IReadOnlyDictionary<string, string> _brokerOverrides;

    /// <param name="brokerOverrides">The overrides of the broker that applies or describes the settings, if any.</param>
    public TopicSettings(IReadOnlyDictionary<string, string> topicOverrides, IReadOnlyDictionary<string, string> brokerConfigs,
        IReadOnlyDictionary<string, string>? brokerOverrides = null)
    {
        _brokerConfigs = brokerConfigs;
        _brokerOverrides = brokerOverrides ?? new Dictionary<string, string>();
        foreach (var def in ConfigDefinitions.Topic)
        {
            if (topicOverrides.TryGetValue(def.Name, out var v))
                _values[def.Name] = (v, ConfigSource.TopicConfig);
            else if (def.BrokerSynonym is not null && _brokerOverrides.TryGetValue(def.BrokerSynonym, out var own))
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
        if (ConfigDefinitions.HoursSynonym(name) is { } hours && brokerConfigs.TryGetValue(hours, out var h))
            return ((long.Parse(h, CultureInfo.InvariantCulture) * 3_600_000L).ToString(CultureInfo.InvariantCulture), ConfigSource.DynamicBrokerConfig);
        return null;
    }

    public IReadOnlyDictionary<string, (string Value, ConfigSource Source)> Values => _values;
    public string this[string name] => _values[name].Value;

    string? IConfigValues.Get(string name) => _values.TryGetValue(name, out var v) ? v.Value : null;

    /// <summary>
    /// A topic config's synonyms in order of precedence, as DescribeConfigs lists them: the topic override, the broker's
    /// own override, the cluster-wide broker setting (and its *.hours form), then the broker default.
    /// </summary>
    public IReadOnlyList<ConfigSynonym> SynonymsOf(string name)
    {
        ConfigDefinitions.TryGetTopic(name, out var def);
        var (value, source) = _values[name];
        var synonyms = new List<ConfigSynonym>();
        if (source == ConfigSource.TopicConfig) synonyms.Add(new(name, value, ConfigSource.TopicConfig));
        if (def.BrokerSynonym is not { } brokerName) return synonyms;
        if (_brokerOverrides.TryGetValue(brokerName, out var mine)) synonyms.Add(new(brokerName, mine, ConfigSource.PerBrokerConfig));
        if (_brokerConfigs.TryGetValue(brokerName, out var b)) synonyms.Add(new(brokerName, b, ConfigSource.DynamicBrokerConfig));
        var hours = ConfigDefinitions.HoursSynonym(brokerName);
        if (hours is not null && _brokerConfigs.TryGetValue(hours, out var h)) synonyms.Add(new(hours, h, ConfigSource.DynamicBrokerConfig));
        if (hours is null) synonyms.Add(new(brokerName, def.Default, ConfigSource.Default));
        else if (ConfigDefinitions.TryGetBroker(hours, out var hoursDef)) synonyms.Add(new(hours, hoursDef.Default, ConfigSource.Default));
        return synonyms;
    }

    public LogConfig ToLogConfig() => LogConfig.From(this);
}
