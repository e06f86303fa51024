namespace PSKafka.Engine.Api;

/// <summary>Fetch (API key 1), used by consumers and by follower replicas alike.</summary>
public sealed class FetchParams
{
    /// <summary>-1 for a consumer; a broker id for a follower replica.</summary>
    public int ReplicaId { get; init; } = -1;
    public int MaxWaitMs { get; init; } = 500;
    public int MinBytes { get; init; } = 1;
    public int MaxBytes { get; init; } = 52_428_800;
    public required IReadOnlyList<FetchPartitionParams> Partitions { get; init; }

    /// <summary>
    /// Read the records into arrays rented from <see cref="IoBuffers.Pool"/>: the caller copies or
    /// writes them out, then calls <see cref="FetchPartitionResult.ReturnLeases"/> once on the results it got.
    /// </summary>
    public bool RentRecordBuffers { get; init; }
}

public sealed record FetchPartitionParams(string Topic, int Partition, long FetchOffset, int PartitionMaxBytes = 1_048_576, int CurrentLeaderEpoch = -1);

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

    /// <summary>The pooled array behind <see cref="Records"/> of a fetch with <see cref="FetchParams.RentRecordBuffers"/>.</summary>
    public byte[]? Lease { get; init; }

    /// <summary>Hands the pooled arrays of a fetch's results back; their records must not be used afterwards.</summary>
    public static void ReturnLeases(IReadOnlyList<FetchPartitionResult> results)
    {
        foreach (var r in results)
            if (r?.Lease is { } lease) IoBuffers.Pool.Return(lease);
    }
}
