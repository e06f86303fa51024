using System.Diagnostics;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Storage;

namespace PSKafka.Load;

/// <summary>
/// Load for the console while it is watched: the console bench measures its key latency under it, and the console
/// test checks it keeps refreshing under it. One source, compiled into both (tests/Unit links this file).
/// </summary>
internal static class PacedLoad
{
    public const int TargetRate = 100_000, BatchRecords = 500, ValueBytes = 100;

    /// <summary>
    /// Appends batches of <see cref="BatchRecords"/> x <see cref="ValueBytes"/>-byte records round the leaders of
    /// <paramref name="topic"/>'s partitions, paced to <see cref="TargetRate"/> a second, until stopped; returns the
    /// records sent.
    /// </summary>
    public static long Produce(KafkaCluster cluster, string topic, CancellationToken stop)
    {
        var partitions = cluster.Controller.Describe([topic], false).Topics[0].Partitions;
        var value = new byte[ValueBytes];
        var batches = partitions.Select(_ =>
        {
            using var b = new RecordBatchBuilder();
            for (int i = 0; i < BatchRecords; i++) b.Append(1_700_000_000_000, null, value);
            return b.Build().ToArray();
        }).ToArray();
        long sent = 0;
        var clock = Stopwatch.StartNew();
        for (int n = 0; !stop.IsCancellationRequested; n++)
        {
            var p = partitions[n % partitions.Count];
            var request = new ProduceParams { Acks = Acks.Leader, Partitions = [new(topic, p.Partition, batches[p.Partition])] };
            var result = cluster.GetBroker(p.Leader)!.ProduceAsync(request).AsTask().GetAwaiter().GetResult();
            if (result[0].Error != ErrorCode.None) throw new KafkaException(result[0].Error, "produce failed");
            sent += BatchRecords;
            double ahead = sent / (double)TargetRate - clock.Elapsed.TotalSeconds;
            if (ahead > 0.002) Thread.Sleep(TimeSpan.FromSeconds(ahead));
        }
        return sent;
    }
}
