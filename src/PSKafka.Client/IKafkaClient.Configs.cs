namespace PSKafka.Client;

/// <summary>Broker settings on the seam: Get-BrokerConfig and Set-BrokerConfig, in this process or over the wire.</summary>
public partial interface IKafkaClient
{
    /// <summary>Every setting of broker <paramref name="brokerId"/> with its value and source (DescribeConfigs of that broker).</summary>
    IReadOnlyList<BrokerConfigEntry> DescribeBrokerConfigs(int brokerId);

    /// <summary>
    /// Sets (value) or removes (null) broker settings, all or none: as overrides of broker <paramref name="brokerId"/>,
    /// or cluster-wide when it is null.
    /// </summary>
    void AlterBrokerConfigs(int? brokerId, IReadOnlyDictionary<string, string?> changes);
}

/// <summary>
/// One broker setting. <paramref name="Source"/> is Kafka's name (DEFAULT_CONFIG, STATIC_BROKER_CONFIG,
/// DYNAMIC_DEFAULT_BROKER_CONFIG, DYNAMIC_BROKER_CONFIG); <paramref name="IsReadOnly"/> whether this client can change it;
/// <paramref name="Type"/> Kafka's type name, "" when unknown.
/// </summary>
public sealed record BrokerConfigEntry(string Name, string? Value, string Source, bool IsReadOnly, bool IsSensitive, string Type, string? Default);
