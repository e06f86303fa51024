using System.Diagnostics;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Storage;
using Xunit.Abstractions;

namespace PSKafka.Tests.Cluster;

/// <summary>
/// What grows with a cluster's history rather than its present: topics created, written (small and 100 KB messages,
/// replicated, read, offsets committed by a group of their own) and deleted, round after round, in one process, as a
/// client library's integration suite does to one cluster for an hour. What a deleted topic leaves behind (replicas,
/// logs, open files and mappings, group offsets, metadata, per-partition state) would grow without bound; the checks
/// are on counts, never on durations. <c>PSKAFKA_HISTORY_ROUNDS=400</c> runs the long version and writes its figures.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class HistoryGrowthTests(ITestOutputHelper output)
{
    private sealed record Sample(int Round, long HeapKb, int Fds, int Maps, int DataMaps, int Threads, long RssKb, long MetadataKb, int Groups, int Replicas, int DeletedAlive, double MsPerRound);

    private static readonly byte[] Big = new byte[100 * 1024];

    // The replicas and logs of deleted topics, held weakly: once deleted nothing may keep them reachable.
    private readonly List<WeakReference> _deleted = new();

    private async Task Round(TestCluster c, int round)
    {
        string topic = $"history-{round}", group = $"history-group-{round}";
        // Small segments, so the 100 KB messages roll them and retention deletes some (file.delete.delay.ms keeps them a
        // minute more) before the topic goes.
        c.CreateTopic(topic, partitions: 3, rf: 3, new Dictionary<string, string> { ["segment.bytes"] = "250000", ["retention.bytes"] = "250000" });
        var any = c.Cluster.Brokers.First(b => b.IsRunning);
        for (int p = 0; p < 3; p++)
        {
            for (int i = 0; i < 4; i++)
            {
                using var big = new RecordBatchBuilder();
                big.Append(1_700_000_000_000, null, Big);
                Assert.Equal(ErrorCode.None, (await c.ProduceAsync(topic, p, big.ToArray())).Result.Error);
            }
            Assert.Equal(ErrorCode.None, (await c.ProduceAsync(topic, p, TestCluster.Batch(0, 200, valueSize: 100, producerId: 1000 + round, baseSequence: 0))).Result.Error);
            // A consumer reads it all, as the client tests do after producing.
            var leader = c.Leader(topic, p)!;
            long offset = 0;
            while (offset < 204)
            {
                var r = (await leader.FetchAsync(new FetchParams { MaxWaitMs = 0, Partitions = [new(topic, p, offset)] }))[0];
                Assert.Equal(ErrorCode.None, r.Error);
                foreach (var b in new RecordBatchReader(r.Records)) offset = b.NextOffset;
            }
        }
        foreach (var b in c.Cluster.Brokers) Assert.Contains(b.RunLogRetention(topic), r => r.SegmentsDeleted > 0);
        var coordinator = c.Cluster.GetBroker(any.FindCoordinator(group).NodeId)!;
        var committed = coordinator.OffsetCommit(new OffsetCommitParams { GroupId = group, Partitions = [.. Enumerable.Range(0, 3).Select(p => new OffsetCommitPartitionParams(topic, p, 204))] });
        Assert.All(committed, r => Assert.Equal(ErrorCode.None, r.Error));
        foreach (var replica in c.Cluster.Brokers.SelectMany(b => b.Replicas).Where(r => r.TopicPartition.Topic == topic))
        {
            _deleted.Add(new WeakReference(replica));
            _deleted.Add(new WeakReference(replica.Log));
        }
        Assert.Equal(ErrorCode.None, any.DeleteTopics([topic])[0].Error);
    }

    private Sample Measure(TestCluster c, int round, double msPerRound)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var any = c.Cluster.Brokers.First(b => b.IsRunning);
        long metadata = Directory.EnumerateFiles(c.DataDirectory, "metadata*").Sum(f => new FileInfo(f).Length) / 1024;
        return new Sample(round, GC.GetTotalMemory(true) / 1024, ProcessStats.OpenFileDescriptors ?? 0, ProcessStats.MappedRegions ?? 0,
            ProcessStats.MappedRegionsOf(p => p.StartsWith(c.DataDirectory, StringComparison.Ordinal)) ?? 0, ProcessStats.Threads ?? 0, ProcessStats.VmRssKb ?? 0, metadata,
            c.Cluster.Brokers.Sum(b => b.ListGroups().Groups.Count), c.Cluster.Brokers.Sum(b => b.Replicas.Count), _deleted.Count(w => w.IsAlive), msPerRound);
    }

    private async Task<List<Sample>> Run(int rounds, int every)
    {
        using var c = new TestCluster(brokers: 3);
        // The first rounds create __consumer_offsets and fill the buffer pools and caches: the baseline is taken after them.
        const int warmUp = 8;
        for (int round = -warmUp; round < 0; round++) await Round(c, round);
        var samples = new List<Sample> { Measure(c, 0, 0) };
        var sw = Stopwatch.StartNew();
        for (int round = 1; round <= rounds; round++)
        {
            await Round(c, round);
            if (round % every == 0)
            {
                samples.Add(Measure(c, round, sw.Elapsed.TotalMilliseconds / every));
                sw.Restart();
            }
        }
        foreach (var s in samples) output.WriteLine(s.ToString());
        if (Environment.GetEnvironmentVariable("PSKAFKA_HISTORY_OUT") is { Length: > 0 } file)
            File.WriteAllLines(file, samples.Select(s => s.ToString()));
        return samples;
    }

    [Fact]
    public async Task DeletedTopicsLeaveNothingBehindThatGrowsWithTheirNumber()
    {
        int rounds = int.TryParse(Environment.GetEnvironmentVariable("PSKAFKA_HISTORY_ROUNDS"), out var n) ? n : 30;
        var samples = await Run(rounds, every: Math.Max(1, rounds / 3));
        Sample first = samples[0], last = samples[^1];
        // Open files and mappings: those of the live logs only (__consumer_offsets' 50 partitions x 3 brokers). Before,
        // each round's segments awaiting file.delete.delay.ms when their topic went stayed open and mapped for good
        // (+54 descriptors and +36 mappings a round).
        Assert.True(last.Fds <= first.Fds + 10, $"open file descriptors {first.Fds} -> {last.Fds}");
        Assert.True(last.DataMaps <= first.DataMaps, $"mappings of data directory files {first.DataMaps} -> {last.DataMaps}");
        Assert.True(last.Maps <= first.Maps + 200, $"mapped regions {first.Maps} -> {last.Maps} (thread stacks come and go with the thread pool)");
        // Groups whose only offsets were of deleted topics are gone, as Kafka removes them (before: one more a round).
        Assert.True(last.Groups <= first.Groups, $"groups {first.Groups} -> {last.Groups}");
        Assert.Equal(first.Replicas, last.Replicas);
        // Nothing keeps a deleted topic's replicas or logs (and what hangs off them: segments, producer state, epoch
        // caches, pending acks) reachable: of the 18 a round leaves, a few of the last rounds' may still be held by a
        // fetch in flight when the sample is taken, never more.
        Assert.True(last.DeletedAlive <= 18, $"{last.DeletedAlive} of the {_deleted.Count} replicas and logs of deleted topics are still reachable");
        // The managed heap: no per-round residue of the records (a round writes 1.3 MB a replica). It still grows at
        // first while the I/O buffer pool fills up to its bound (8 arrays a size): 300 rounds went 22 -> 35 -> 36 -> 37 MB.
        Assert.True(last.HeapKb <= first.HeapKb + 16 * 1024, $"managed heap {first.HeapKb} kB -> {last.HeapKb} kB");
    }
}
