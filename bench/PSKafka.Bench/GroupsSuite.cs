using System.Diagnostics;
using PSKafka.Client;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;

namespace PSKafka.Bench;

/// <summary>
/// Consumer groups: 1,000,000 records of 100 bytes read through the group consumer (join, fetch,
/// commit after every poll as Receive-Message -Group does) against the plain consumer, same run and
/// data; and the time for a group of 3 to rebalance when a 4th member joins (median of 7, defaults).
/// </summary>
public sealed class GroupsSuite : IBenchSuite
{
    private const int Records = 1_000_000;
    private const int ValueSize = 100;

    public string Name => "groups";

    public void Run(TextWriter output)
    {
        string dir = Path.Combine(Path.GetTempPath(), "pskafka-bench-groups-" + Guid.NewGuid().ToString("N"));
        var cluster = KafkaCluster.Open(dir);
        try
        {
            cluster.StartBroker(port: 0);
            var client = new EmbeddedClient(cluster);
            // The join of a new group first waits group.initial.rebalance.delay.ms (3 s, Kafka's default): measured on its own below,
            // it is set to 0 here so the throughput rows compare reading, not waiting.
            cluster.BrokerConfigs.Set("group.initial.rebalance.delay.ms", "0");
            Produce(client, "bench", Records);

            // Warm-up of both paths (JIT, page cache), then alternating measured runs.
            ReadPlain(client, Records / 10);
            ReadGroup(client, "warmup", Records / 10);
            var plain = new List<TimeSpan>();
            var group = new List<TimeSpan>();
            for (int i = 0; i < 3; i++)
            {
                plain.Add(ReadPlain(client, Records));
                group.Add(ReadGroup(client, $"g{i}", Records));
            }
            var p = Median(plain);
            var g = Median(group);
            output.WriteLine($"| plain consumer (1M x 100 B, 1 partition, median of 3) | {Records / p.TotalSeconds:N0} records/s | {p.TotalMilliseconds:N0} ms |");
            output.WriteLine($"| group consumer, auto-commit per poll (same data, median of 3) | {Records / g.TotalSeconds:N0} records/s | {g.TotalMilliseconds:N0} ms, {g / p:N2}x plain (goal <= 1.2x) |");

            cluster.BrokerConfigs.Set("group.initial.rebalance.delay.ms", null);
            var sw = Stopwatch.StartNew();
            using (var first = client.OpenGroupConsumer(new GroupConsumerSettings { GroupId = "first-join", Topics = ["bench"] }))
                while (first.GenerationId <= 0) first.Poll(TimeSpan.FromMilliseconds(10), [], CancellationToken.None);
            output.WriteLine($"| first join of a new group (default group.initial.rebalance.delay.ms=3000) | {sw.ElapsedMilliseconds:N0} ms | Kafka's wait for more members |");

            var rebalances = MeasureRebalances(client, runs: 7);
            output.WriteLine($"| rebalance when a 4th member joins a group of 3 (defaults, median of 7) | {Median(rebalances).TotalMilliseconds:N0} ms | min {rebalances.Min().TotalMilliseconds:N0} ms, max {rebalances.Max().TotalMilliseconds:N0} ms (goal < 1000 ms) |");
        }
        finally
        {
            cluster.Dispose();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    private static TimeSpan Median(List<TimeSpan> values) => values.Order().ElementAt(values.Count / 2);

    private static void Produce(EmbeddedClient client, string topic, int records)
    {
        client.CreateTopic(new CreateTopicParams(topic, 1, 1));
        var value = new byte[ValueSize];
        new Random(1).NextBytes(value);
        using var producer = client.OpenProducer(new ProducerSettings());
        long ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (int i = 0; i < records; i++) producer.Send(new OutgoingRecord(topic, 0, null, value, null, ts), null);
        producer.Flush(null);
    }

    private static TimeSpan ReadPlain(EmbeddedClient client, int records)
    {
        var sw = Stopwatch.StartNew();
        using var consumer = client.OpenConsumer(new ConsumerSettings());
        consumer.Assign([(new TopicPartition("bench", 0), 0L)]);
        var buffer = new List<ConsumedRecord>(64 * 1024);
        long seen = 0, bytes = 0;
        while (seen < records)
        {
            buffer.Clear();
            consumer.Poll(TimeSpan.FromMilliseconds(500), buffer, CancellationToken.None);
            foreach (var r in buffer)
            {
                bytes += r.Value!.Length;
                if (++seen == records) break;
            }
        }
        if (bytes == 0) throw new InvalidOperationException("No payload read.");
        return sw.Elapsed;
    }

    private static TimeSpan ReadGroup(EmbeddedClient client, string groupId, int records)
    {
        var sw = Stopwatch.StartNew();
        using var consumer = client.OpenGroupConsumer(new GroupConsumerSettings { GroupId = groupId, Topics = ["bench"], AutoOffsetReset = "earliest" });
        var buffer = new List<ConsumedRecord>(64 * 1024);
        long seen = 0, bytes = 0;
        while (seen < records)
        {
            buffer.Clear();
            consumer.Poll(TimeSpan.FromMilliseconds(500), buffer, CancellationToken.None);
            foreach (var r in buffer)
            {
                bytes += r.Value!.Length;
                consumer.MarkEmitted(r);
                if (++seen == records) break;
            }
            if (consumer.CommitEmitted() != PSKafka.Engine.ErrorCode.None) throw new InvalidOperationException("Commit refused.");
        }
        consumer.Close(commit: true);
        if (bytes == 0) throw new InvalidOperationException("No payload read.");
        return sw.Elapsed;
    }

    /// <summary>Members poll on their own threads; the clock runs from the newcomer's first poll until every member holds its part of the new generation.</summary>
    private static List<TimeSpan> MeasureRebalances(EmbeddedClient client, int runs)
    {
        client.CreateTopic(new CreateTopicParams("rebalance", 12, 1));
        var members = new List<(EmbeddedGroupConsumer Consumer, Thread Thread, CancellationTokenSource Stop)>();
        (EmbeddedGroupConsumer, Thread, CancellationTokenSource) StartMember()
        {
            var consumer = client.OpenGroupConsumer(new GroupConsumerSettings { GroupId = "rebalance-bench", Topics = ["rebalance"] });
            var stop = new CancellationTokenSource();
            var thread = new Thread(() =>
            {
                var buffer = new List<ConsumedRecord>();
                while (!stop.IsCancellationRequested)
                {
                    buffer.Clear();
                    try { consumer.Poll(TimeSpan.FromMilliseconds(100), buffer, stop.Token); }
                    catch (ObjectDisposedException) { return; }
                }
            })
            { IsBackground = true };
            thread.Start();
            return (consumer, thread, stop);
        }
        bool Settled(int count) =>
            members.Count == count
            && members.All(m => m.Consumer.GenerationId > 0 && m.Consumer.GenerationId == members[0].Consumer.GenerationId)
            && members.Sum(m => m.Consumer.Assignment.Count) == 12
            && members.All(m => m.Consumer.Assignment.Count == 3);
        void WaitUntil(Func<bool> condition)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!condition())
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException("The group did not settle within 60 s.");
                Thread.Sleep(1);
            }
        }

        for (int i = 0; i < 3; i++) members.Add(StartMember());
        WaitUntil(() => members.All(m => m.Consumer.GenerationId > 0) && members.Sum(m => m.Consumer.Assignment.Count) == 12
            && members.Select(m => m.Consumer.GenerationId).Distinct().Count() == 1);
        var times = new List<TimeSpan>();
        for (int run = 0; run < runs; run++)
        {
            var sw = Stopwatch.StartNew();
            members.Add(StartMember());
            WaitUntil(() => Settled(4));
            times.Add(sw.Elapsed);
            // Back to 3 for the next run.
            var (consumer, thread, stop) = members[^1];
            members.RemoveAt(members.Count - 1);
            stop.Cancel();
            thread.Join();
            consumer.Close(commit: false);
            WaitUntil(() => members.All(m => m.Consumer.Assignment.Count == 4) && members.Select(m => m.Consumer.GenerationId).Distinct().Count() == 1);
        }
        foreach (var (consumer, thread, stop) in members)
        {
            stop.Cancel();
            thread.Join();
            consumer.Close(commit: false);
        }
        return times;
    }
}
