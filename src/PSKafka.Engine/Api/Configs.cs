using System.Globalization;
using PSKafka.Engine.Config;

namespace PSKafka.Engine.Api;

/// <summary>Kafka's config resource types (ConfigResource.Type), with Kafka's numbers.</summary>
public enum ConfigResourceType : sbyte { Topic = 2, Broker = 4, BrokerLogger = 8 }

/// <summary>
/// What DescribeConfigs (API key 32) and AlterConfigs/IncrementalAlterConfigs (33, 44) name: a topic; a broker by id,
/// or "" for the cluster-wide default; a broker's loggers, by broker id.
/// </summary>
public sealed record ConfigResource(ConfigResourceType Type, string Name)
{
    public static ConfigResource ForTopic(string topic) => new(ConfigResourceType.Topic, topic);

    /// <summary>Broker <paramref name="brokerId"/>'s settings, or the cluster-wide ones when it is null.</summary>
    public static ConfigResource ForBroker(int? brokerId) =>
        new(ConfigResourceType.Broker, brokerId?.ToString(CultureInfo.InvariantCulture) ?? "");
}

/// <summary>
/// One config of a described resource: its definition, the value in effect and where it came from, whether the
/// requester may change it, and its synonyms in order of precedence.
/// </summary>
public sealed record DescribedConfig(ConfigDefinition Definition, string? Value, ConfigSource Source, bool IsReadOnly, IReadOnlyList<ConfigSynonym> Synonyms)
{
    public string Name => Definition.Name;
}
