namespace PSKafka.Engine.Api;

public readonly record struct TopicPartition(string Topic, int Partition)
{
    public override string ToString() => $"{Topic}-{Partition}";
}

/// <summary>Kafka's special ListOffsets timestamps.</summary>
public static class OffsetSpec
{
    public const long Latest = -1;
    public const long Earliest = -2;
    public const long MaxTimestamp = -3;
}

/// <summary>Values of Kafka's acks setting.</summary>
public static class Acks
{
    public const short None = 0;
    public const short Leader = 1;
    public const short All = -1;
}
