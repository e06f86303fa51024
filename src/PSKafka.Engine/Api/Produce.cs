namespace PSKafka.Engine.Api;

/// <summary>Produce (API key 0): record batches for partitions this broker leads.</summary>
public sealed class ProduceParams
{
    /// <summary>Kafka's producer default for request.timeout.ms, the produce request's timeout; the client's producer uses it.</summary>
    public const int DefaultTimeoutMs = 30_000;

    public short Acks { get; init; } = Api.Acks.All;
    public int TimeoutMs { get; init; } = DefaultTimeoutMs;
    public string? TransactionalId { get; init; }
    public required IReadOnlyList<ProducePartitionParams> Partitions { get; init; }
}

/// <summary>
/// Record batches (magic v2) for one partition. The broker assigns offsets by rewriting the
/// batches' base offsets in place, as Kafka does, so the buffer must be writable.
/// </summary>
public sealed record ProducePartitionParams(string Topic, int Partition, Memory<byte> Records);

public sealed record ProducePartitionResult(
    string Topic,
    int Partition,
    ErrorCode Error,
    long BaseOffset = -1,
    long LogAppendTime = -1,
    long LogStartOffset = -1,
    string? ErrorMessage = null);
