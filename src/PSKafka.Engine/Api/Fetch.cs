namespace PSKafka.Engine.Api;

/// <summary>Fetch (API key 1), used by consumers and by follower replicas alike.</summary>
public sealed class FetchRequest
{
    /// <summary>-1 for a consumer; a broker id for a follower replica.</summary>
    public int ReplicaId { get; init; } = -1;
    public int MaxWaitMs { get; init; } = 500;
    public int MinBytes { get; init; } = 1;
    public int MaxBytes { get; init; } = 52_428_800;
    public required IReadOnlyList<FetchPartition> Partitions { get; init; }
}

public sealed record FetchPartition(string Topic, int Partition, long FetchOffset, int PartitionMaxBytes = 1_048_576, int CurrentLeaderEpoch = -1);

public sealed record FetchPartitionResult(
    string Topic,
    int Partition,
    ErrorCode Error,
    long HighWatermark,
    long LogStartOffset,
    ReadOnlyMemory<byte> Records,
    string? ErrorMessage = null)
{
    public long LastStableOffset => HighWatermark;
}
