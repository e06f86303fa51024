namespace PSKafka.Cmdlets.Output;

/// <summary>A broker setting, as kafka-configs.sh --describe --all --entity-type brokers shows it.</summary>
public sealed class BrokerConfigInfo
{
    public int BrokerId { get; init; }
    public string Name { get; init; } = "";
    /// <summary>Null where Kafka has no default (log.retention.ms falls back to log.retention.hours).</summary>
    public string? Value { get; init; }
    /// <summary>DEFAULT_CONFIG, STATIC_BROKER_CONFIG (fixed at start) or DYNAMIC_DEFAULT_BROKER_CONFIG (Set-BrokerConfig).</summary>
    public string Source { get; init; } = "";
    public bool IsReadOnly { get; init; }
    public bool IsSensitive { get; init; }
    public string Type { get; init; } = "";
    public string? Default { get; init; }

    public override string ToString() => $"{Name}={Value ?? "null"}";
}

/// <summary>A topic config, as kafka-configs.sh --describe --all --entity-type topics shows it.</summary>
public sealed class TopicConfigInfo
{
    public string Topic { get; init; } = "";
    public string Name { get; init; } = "";
    public string Value { get; init; } = "";
    /// <summary>DEFAULT_CONFIG, DYNAMIC_DEFAULT_BROKER_CONFIG (from Set-BrokerConfig) or DYNAMIC_TOPIC_CONFIG (an override).</summary>
    public string Source { get; init; } = "";
    public bool IsDefault { get; init; }
    public bool IsReadOnly { get; init; }
    public bool IsSensitive { get; init; }

    public override string ToString() => $"{Name}={Value}";
}
