using System.Globalization;
using PSKafka.Engine.Api;
using PSKafka.Engine.Config;
using PSKafka.Engine.Logging;

namespace PSKafka.Engine.Cluster;

// Configs and leader elections as Kafka's DescribeConfigs, AlterConfigs/IncrementalAlterConfigs and ElectLeaders define
// them: the one path the wire handler and the in-process client both take.
public sealed partial class Broker
{
    /// <summary>
    /// DescribeConfigs of one resource: a topic's configs as this broker applies them, in ConfigDefinitions' order; for
    /// "" the cluster-wide broker settings that are set; for this broker's id every setting, by name; for this broker's
    /// loggers every logger's level. <paramref name="access"/> decides which settings are read-only to the requester.
    /// </summary>
    public IReadOnlyList<DescribedConfig> DescribeConfigs(ConfigResource resource, ConfigAccess access = ConfigAccess.KafkaApi) => resource.Type switch
    {
        ConfigResourceType.Topic => DescribeTopicConfigs(resource.Name),
        ConfigResourceType.Broker => DescribeBrokerConfigs(resource.Name, access),
        ConfigResourceType.BrokerLogger => DescribeBrokerLoggers(resource.Name),
        _ => throw new KafkaException(ErrorCode.InvalidRequest, $"Unsupported resource type: {(sbyte)resource.Type}"),
    };

    /// <summary>Every setting of this broker, by name, as the process hosting it sees them (Get-BrokerConfig, the startup log).</summary>
    public IReadOnlyList<DescribedConfig> DescribeConfigs() => DescribeConfigs(ConfigResource.ForBroker(Id), ConfigAccess.Host);

    /// <summary>
    /// Changes a resource's configs all at once or not at all; null values remove (back to the broker's or Kafka's
    /// default). With <paramref name="replace"/> (legacy AlterConfigs) the configs not named go back to their defaults
    /// too: a topic's overrides, or the dynamic broker settings. Over the Kafka API only Kafka's dynamic broker settings
    /// change; the process hosting the brokers also changes the cluster-wide server.properties-like ones.
    /// </summary>
    public void AlterConfigs(ConfigResource resource, IReadOnlyDictionary<string, string?> changes, ConfigAccess access = ConfigAccess.KafkaApi,
        bool replace = false, bool validateOnly = false)
    {
        switch (resource.Type)
        {
            case ConfigResourceType.Topic:
                _cluster.Controller.SettingsFor(resource.Name); // UNKNOWN_TOPIC_OR_PARTITION first
                ConfigDefinitions.ValidateTopicConfigs(changes.Where(c => c.Value is not null).ToDictionary(c => c.Key, c => c.Value!));
                foreach (var removed in changes.Where(c => c.Value is null && !ConfigDefinitions.TryGetTopic(c.Key, out _)))
                    throw new KafkaException(ErrorCode.InvalidConfig, $"Unknown topic config name: {removed.Key}.");
                if (!validateOnly) _cluster.Controller.AlterTopicConfigs(resource.Name, changes, replace);
                break;
            case ConfigResourceType.Broker:
                int? broker = BrokerResourceId(resource.Name);
                if (access == ConfigAccess.KafkaApi)
                    foreach (var (key, value) in changes) ConfigDefinitions.ValidateDynamicBrokerConfig(key, value);
                _cluster.BrokerConfigs.Alter(broker, changes, replaceDynamic: replace, validateOnly);
                break;
            case ConfigResourceType.BrokerLogger:
                // kafka-configs.sh --entity-type broker-loggers: SET a level, DELETE back to the default. The brokers
                // of a cluster share one set of loggers, so a change applies to all of them, as Set-BrokerLogLevel does.
                if (replace) throw new KafkaException(ErrorCode.InvalidRequest, "AlterConfigs does not support the BROKER_LOGGER resource type; use IncrementalAlterConfigs.");
                if (BrokerResourceId(resource.Name) is null) throw new KafkaException(ErrorCode.InvalidRequest, "A BROKER_LOGGER resource names a broker id.");
                var levels = Logging.Levels;
                var parsed = changes.Select(c => (c.Key, Level: c.Value is null ? (BrokerLogLevel?)null : BrokerLogEntry.ParseLevel(c.Value))).ToList();
                foreach (var (logger, _) in parsed) levels.Get(logger); // an unknown logger fails before any level changes
                if (!validateOnly) foreach (var (logger, level) in parsed) levels.Set(logger, level);
                break;
            default:
                throw new KafkaException(ErrorCode.InvalidRequest, $"Unknown resource type {(sbyte)resource.Type}");
        }
    }

    /// <summary>Sets (value) or removes (null) a cluster-wide broker setting, as the process hosting the brokers.</summary>
    public void AlterBrokerConfig(string name, string? value) =>
        AlterConfigs(ConfigResource.ForBroker(null), new Dictionary<string, string?> { [name] = value }, ConfigAccess.Host);

    /// <summary>IncrementalAlterConfigs for a topic: sets non-null values, removes null ones (back to the broker's or Kafka's default).</summary>
    public void AlterTopicConfigs(string topic, IReadOnlyDictionary<string, string?> changes) =>
        AlterConfigs(ConfigResource.ForTopic(topic), changes, ConfigAccess.Host);

    /// <summary>
    /// ElectLeaders: the controller's election per partition (Controller.ElectLeaders); every partition when
    /// <paramref name="partitions"/> is null.
    /// </summary>
    public IReadOnlyList<LeaderElectionResult> ElectLeaders(ElectionType type, IReadOnlyList<TopicPartition>? partitions)
    {
        if (!Enum.IsDefined(type)) throw new KafkaException(ErrorCode.InvalidRequest, $"Unknown election type {(sbyte)type}");
        return _cluster.Controller.ElectLeaders(type, partitions);
    }

    /// <summary>
    /// A broker resource names the cluster-wide default ("", null here) or the broker that received the request, as in
    /// Kafka, which answers any other id with INVALID_REQUEST (clients send a broker's resource to that broker).
    /// </summary>
    private int? BrokerResourceId(string name)
    {
        if (name.Length == 0) return null;
        if (!int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            throw new KafkaException(ErrorCode.InvalidRequest, $"Node id must be an integer, but it is: {name}");
        if (id != Id)
            throw new KafkaException(ErrorCode.InvalidRequest, $"Unexpected broker id, expected {Id} or empty string, but received {name}");
        return id;
    }

    // Each topic config with its synonyms: the topic override, this broker's override, the cluster-wide setting, the default.
    private List<DescribedConfig> DescribeTopicConfigs(string topic)
    {
        var settings = _cluster.Controller.SettingsFor(topic, Id); // UNKNOWN_TOPIC_OR_PARTITION for a topic that does not exist
        return ConfigDefinitions.Topic.Select(def =>
        {
            var (value, source) = settings.Values[def.Name];
            return new DescribedConfig(def, value, source, false, settings.SynonymsOf(def.Name));
        }).ToList();
    }

    /// <summary>
    /// Broker configs as Kafka describes them: for "" the cluster-wide settings that are set (DYNAMIC_DEFAULT_BROKER_CONFIG);
    /// for this broker's id every setting with its synonyms in order of precedence: fixed at start (this broker's own),
    /// this broker's dynamic override, the cluster-wide setting, Kafka's default.
    /// </summary>
    private List<DescribedConfig> DescribeBrokerConfigs(string name, ConfigAccess access)
    {
        var clusterWide = _cluster.BrokerConfigs.ClusterWide;
        if (BrokerResourceId(name) is null)
            return ConfigDefinitions.Broker.Where(d => clusterWide.ContainsKey(d.Name)).Select(def =>
            {
                var value = clusterWide[def.Name];
                return new DescribedConfig(def, value, ConfigSource.DynamicBrokerConfig, def.IsReadOnlyFor(access), [new(def.Name, value, ConfigSource.DynamicBrokerConfig)]);
            }).ToList();
        var own = _cluster.BrokerConfigs.Overrides(Id);
        var result = new List<DescribedConfig>();
        foreach (var def in ConfigDefinitions.Broker.OrderBy(d => d.Name, StringComparer.Ordinal))
        {
            var synonyms = new List<ConfigSynonym>();
            if (FixedConfig(def.Name) is { } fixedValue) synonyms.Add(new(def.Name, fixedValue, ConfigSource.StaticBrokerConfig));
            if (own.TryGetValue(def.Name, out var mine)) synonyms.Add(new(def.Name, mine, ConfigSource.PerBrokerConfig));
            if (clusterWide.TryGetValue(def.Name, out var all)) synonyms.Add(new(def.Name, all, ConfigSource.DynamicBrokerConfig));
            var (value, source) = synonyms.Count > 0 ? (synonyms[0].Value, synonyms[0].Source) : (def.Default, ConfigSource.Default);
            if (def.Default is not null) synonyms.Add(new(def.Name, def.Default, ConfigSource.Default));
            result.Add(new DescribedConfig(def, value, source, def.IsReadOnlyFor(access), synonyms));
        }
        return result;
    }

    // The settings fixed when this broker starts: its own, whatever the cluster-wide settings say.
    private string? FixedConfig(string name) => name switch
    {
        ConfigDefinitions.BrokerId => Id.ToString(CultureInfo.InvariantCulture),
        ConfigDefinitions.LogDirs => LogDirectory,
        ConfigDefinitions.Listeners => $"PLAINTEXT://{Host}:{Port.ToString(CultureInfo.InvariantCulture)}",
        _ => null,
    };

    /// <summary>Every logger with its level, as Kafka describes a BROKER_LOGGER resource.</summary>
    private List<DescribedConfig> DescribeBrokerLoggers(string name)
    {
        if (BrokerResourceId(name) is null) throw new KafkaException(ErrorCode.InvalidRequest, "A BROKER_LOGGER resource names a broker id.");
        var levels = Logging.Levels;
        return KafkaLoggers.All.Select(logger => new DescribedConfig(new ConfigDefinition(logger, ConfigType.String, null),
            BrokerLogEntry.LevelName(levels.Get(logger)), ConfigSource.DynamicBrokerLoggerConfig, false, [])).ToList();
    }
}
