using System.Collections.Concurrent;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using Xunit.Abstractions;

namespace PSKafka.Tests.Cluster;

/// <summary>
/// The drill: RF 3, min.insync.replicas=2, acks=all; 100,000 numbered messages while the leader of
/// every partition is crashed and restarted 5 times in turn. No acknowledged message may be lost,
/// reordered or differ between replicas, and no replica's high watermark may go down.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class FailoverDrillTests(ITestOutputHelper output)
{
    private const int Messages = 100_000;
    private const int Partitions = 3;
    private const int Rounds = 5;
    private const int BatchSize = 100;

    [Fact]
    public async Task LeadersCrashedAndRestartedFiveTimesEach_NoAcknowledgedMessageLost()
    {
        using var t = new TestCluster(3);
        t.CreateTopic("drill", Partitions, 3, new() { ["min.insync.replicas"] = "2" });

        // Messages are released in chunks between kills, so every crash happens while batches are in flight.
        const int kills = Rounds * Partitions;
        long released = 0, taken = 0, attempted = 0;
        var acked = new ConcurrentBag<(int Partition, long BaseOffset, long FirstSeq, int Count)>();
        var retried = new ConcurrentDictionary<long, int>(); // first seq of batches that needed a retry
        var hwRegressions = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();

        // An idempotent producer per partition, as Kafka's producer is by default with acks=all: retries of a
        // batch that reached the ISR although its answer was an error are recognised by sequence number.
        async Task ProduceLoop(int partition)
        {
            var (producerId, _) = t.Cluster.Brokers.First(b => b.IsRunning).InitProducerId();
            int sequence = 0;
            while (true)
            {
                long first = Interlocked.Add(ref taken, BatchSize) - BatchSize;
                if (first >= Messages) return;
                while (Volatile.Read(ref released) < first + BatchSize) await Task.Delay(1);
                int count = (int)Math.Min(BatchSize, Messages - first);
                Interlocked.Add(ref attempted, count);
                var (result, failed) = await t.ProduceAsync("drill", partition, TestCluster.Batch(first, count, producerId: producerId, baseSequence: sequence), Acks.All, deadlineMs: 30_000);
                Assert.Equal(ErrorCode.None, result.Error);
                sequence += count;
                if (failed > 0) retried[first] = failed;
                acked.Add((partition, result.BaseOffset, first, count));
            }
        }

        // Every replica object's high watermark must only go up while it lives.
        async Task SampleHighWatermarks()
        {
            var last = new Dictionary<PartitionReplica, long>(ReferenceEqualityComparer.Instance);
            while (!stop.IsCancellationRequested)
            {
                foreach (var b in t.Cluster.Brokers.Where(b => b.IsRunning))
                    foreach (var r in b.Replicas)
                    {
                        long hw = r.HighWatermark;
                        if (last.TryGetValue(r, out var before) && hw < before) hwRegressions.Add($"{r.TopicPartition} on broker {r.BrokerId}: {before} -> {hw}");
                        last[r] = hw;
                    }
                await Task.Delay(1);
            }
        }

        var sw = System.Diagnostics.Stopwatch.StartNew();
        var sampler = Task.Run(SampleHighWatermarks);
        var producers = Enumerable.Range(0, Partitions).Select(p => Task.Run(() => ProduceLoop(p))).ToArray();
        var failovers = new List<string>();
        for (int k = 0; k < kills; k++)
        {
            int partition = k % Partitions;
            long chunkStart = (long)Messages * k / kills, chunkEnd = (long)Messages * (k + 1) / kills;
            Volatile.Write(ref released, chunkEnd);
            await TestCluster.WaitUntil(() => Volatile.Read(ref attempted) >= (chunkStart + chunkEnd) / 2, what: "messages to flow");
            var before = t.Partition("drill", partition);
            var kill = System.Diagnostics.Stopwatch.StartNew();
            t.Cluster.StopBroker(before.Leader, kill: true);
            var after = t.Partition("drill", partition);
            Assert.NotEqual(-1, after.Leader);
            Assert.Contains(after.Leader, before.Isr);
            Assert.True(after.LeaderEpoch > before.LeaderEpoch);
            // Elected by the time the kill returns (read above); how fast is the replication bench's failover row.
            failovers.Add($"p{partition}: leader {before.Leader} (epoch {before.LeaderEpoch}) -> {after.Leader} (epoch {after.LeaderEpoch}) in {kill.Elapsed.TotalMilliseconds:F1} ms");
            await Task.Delay(20);
            t.Cluster.StartBroker(before.Leader);
            // Wait for the restarted broker to truncate, catch up and rejoin every ISR before the next crash.
            await TestCluster.WaitUntil(() => Enumerable.Range(0, Partitions).All(p => t.Partition("drill", p).Isr.Count == 3), what: "the ISR to be full again");
        }
        Volatile.Write(ref released, Messages);
        await Task.WhenAll(producers);
        await TestCluster.WaitUntil(() => Enumerable.Range(0, Partitions).All(p => t.FullyReplicated("drill", p)), what: "full replication");
        stop.Cancel();
        await sampler;
        output.WriteLine(string.Join("\n", failovers));
        output.WriteLine($"{Messages:N0} messages, {kills} leader crashes in {sw.Elapsed.TotalSeconds:F1} s; {retried.Count} batches retried");

        Assert.Empty(hwRegressions);
        Assert.Equal(Messages, acked.Sum(a => a.Count));
        int duplicates = 0;
        for (int p = 0; p < Partitions; p++)
        {
            var replicas = t.Replicas("drill", p).ToList();
            Assert.Equal(3, replicas.Count);
            var bytes = TestCluster.AllBytes(replicas[0]);
            Assert.All(replicas, r => Assert.Equal(bytes, TestCluster.AllBytes(r)));
            var log = TestCluster.Records(bytes);
            var byOffset = log.ToDictionary(x => x.Offset, x => x.Seq);
            // Every acknowledged message is at the offset it was acknowledged with.
            foreach (var a in acked.Where(a => a.Partition == p))
                for (int i = 0; i < a.Count; i++)
                    Assert.Equal(a.FirstSeq + i, byOffset[a.BaseOffset + i]);
            // In order and exactly once: retried batches were recognised by their producer sequence.
            long highest = -1;
            var seen = new HashSet<long>();
            foreach (var (_, seq) in log)
            {
                if (!seen.Add(seq)) duplicates++;
                Assert.True(seq > highest, $"message {seq} after {highest} in partition {p}");
                highest = seq;
            }
            Assert.Equal(acked.Where(a => a.Partition == p).Sum(a => a.Count), seen.Count);
        }
        output.WriteLine($"{duplicates} duplicated messages");
        Assert.Equal(0, duplicates);
    }
}
