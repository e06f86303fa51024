namespace PSKafka.Engine.Cluster;

/// <summary>
/// Cumulative byte counters of a broker, the totals behind Kafka's BrokerTopicMetrics BytesInPerSec and
/// BytesOutPerSec: record bytes produced to the partitions it leads, and record bytes fetched by consumers.
/// Replication traffic is left out, as Kafka counts it separately (ReplicationBytesIn/OutPerSec).
/// Readers turn successive totals into rates; the counters never reset while the process lives.
/// </summary>
public sealed partial class Broker
{
    private long _bytesIn;
    private long _bytesOut;

    public long BytesInTotal => Interlocked.Read(ref _bytesIn);
    public long BytesOutTotal => Interlocked.Read(ref _bytesOut);

    private void CountBytesIn(long bytes) => Interlocked.Add(ref _bytesIn, bytes);
    private void CountBytesOut(long bytes) => Interlocked.Add(ref _bytesOut, bytes);
}
