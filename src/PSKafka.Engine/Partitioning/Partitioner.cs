namespace PSKafka.Engine.Partitioning;

/// <summary>
/// Chooses a partition the way Kafka's producer does: a keyed record goes to
/// toPositive(murmur2(key)) % partitions; a record without a key goes round robin.
/// </summary>
public sealed class Partitioner
{
    private int _next = -1;

    public static int ForKey(ReadOnlySpan<byte> key, int partitionCount) =>
        Murmur2.ToPositive(Murmur2.Hash(key)) % partitionCount;

    public int NextRoundRobin(int partitionCount) =>
        Murmur2.ToPositive(Interlocked.Increment(ref _next)) % partitionCount;

    public int Choose(ReadOnlySpan<byte> key, bool hasKey, int partitionCount) =>
        hasKey ? ForKey(key, partitionCount) : NextRoundRobin(partitionCount);
}
