using System.Collections.Specialized;

namespace PSKafka.Cmdlets.Output;

/// <summary>A message read from a partition.</summary>
public sealed class KafkaMessage
{
    public string Topic { get; init; } = "";
    public int Partition { get; init; }
    public long Offset { get; init; }
    public DateTimeOffset Timestamp { get; init; }
    public string TimestampType { get; init; } = "CreateTime";
    /// <summary>The key as UTF-8 text (null for a record without a key).</summary>
    public string? Key { get; init; }
    /// <summary>The value as UTF-8 text, or the object parsed from JSON with -AsObject.</summary>
    public object? Value { get; init; }
    public OrderedDictionary Headers { get; init; } = new();
    public byte[]? KeyBytes { get; init; }
    public byte[]? ValueBytes { get; init; }

    public override string? ToString() => Value?.ToString();
}

/// <summary>Where a sent message landed (a producer's delivery report).</summary>
public sealed class DeliveryReport
{
    public string Topic { get; init; } = "";
    public int Partition { get; init; }
    public long Offset { get; init; }
    public DateTimeOffset Timestamp { get; init; }
    public string? Key { get; init; }
}
