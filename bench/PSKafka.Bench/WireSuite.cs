using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using PSKafka.Engine.Cluster;

namespace PSKafka.Bench;

/// <summary>
/// The wire protocol with real clients. kcat produces 1,000,000 lines of 100 bytes into PSKafka (3 brokers in this
/// process, one topic of 3 partitions, replication factor 1) and, in the same run, into librdkafka's own mock cluster
/// (<c>-X test.mock.num.brokers=3</c>), as a ratio; kcat consumes them back from PSKafka. The mock cluster lives inside
/// the producing kcat process, so no second kcat can consume from it: the consume side has no mock figure to compare
/// with. Then end-to-end latency (produce to receive) with Confluent.Kafka at default settings at a modest rate.
/// </summary>
public sealed class WireSuite : IBenchSuite
{
    private const int Lines = 1_000_000;
    private const int LineBytes = 100; // including the newline kcat splits on: 99-byte values

    public string Name => "wire";

    public void Run(TextWriter output)
    {
        var dir = Path.Combine(Path.GetTempPath(), "pskafka-bench-wire-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var file = Path.Combine(dir, "lines.txt");
            WriteLines(file);
            using var cluster = KafkaCluster.Open(Path.Combine(dir, "data"));
            for (int i = 0; i < 3; i++) cluster.StartBroker(port: 0);
            string bootstrap = string.Join(",", cluster.Brokers.Select(b => b.Address));
            Create(cluster, "warmup");
            Create(cluster, "bench");

            // Warm-up (JIT, page cache), not reported.
            Kcat(["-b", bootstrap, "-P", "-t", "warmup", "-l", file], expectLines: 0);

            var pskafkaProduce = Kcat(["-b", bootstrap, "-P", "-t", "bench", "-l", file], expectLines: 0);
            var mockProduce = Kcat(["-b", "mock:9092", "-X", "test.mock.num.brokers=3", "-P", "-t", "bench", "-l", file], expectLines: 0);
            long stored = cluster.Brokers.SelectMany(b => b.Replicas).Where(r => r.TopicPartition.Topic == "bench").Sum(r => r.HighWatermark);
            if (stored != Lines) throw new InvalidOperationException($"PSKafka holds {stored} of {Lines} records after kcat -P.");
            output.WriteLine(Row("kcat -P 1M x 100 B into PSKafka (3 brokers, RF 1)", pskafkaProduce));
            output.WriteLine(Row("kcat -P 1M x 100 B into librdkafka mock cluster (3 brokers)", mockProduce));
            output.WriteLine($"| produce ratio PSKafka / mock (goal >= 1.0) | {mockProduce.TotalSeconds / pskafkaProduce.TotalSeconds:F2} | same file, same kcat, same run |");

            var consume = Kcat(["-b", bootstrap, "-C", "-t", "bench", "-o", "beginning", "-e", "-q", "-f", "%o\\n"], expectLines: Lines);
            output.WriteLine(Row("kcat -C -o beginning -e 1M x 100 B from PSKafka", consume));
            output.WriteLine("| kcat -C from the mock cluster | n/a | the mock cluster exists only inside the producing kcat process |");
            // librdkafka's defaults (Nagle on, prefetch paused at queued.min.messages=100000) dominate the row above;
            // with them lifted the broker's own fetch path shows.
            var tuned = Kcat(["-b", bootstrap, "-C", "-t", "bench", "-o", "beginning", "-e", "-q", "-f", "%o\\n",
                "-X", "socket.nagle.disable=true", "-X", "queued.min.messages=1000000", "-X", "fetch.wait.max.ms=5"], expectLines: Lines);
            output.WriteLine(Row("kcat -C as above, client tuned (nagle off, queued.min.messages=1M, fetch.wait.max.ms=5)", tuned));

            Latency(bootstrap, cluster, output);
        }
        finally
        {
            KafkaCluster.Find(Path.Combine(dir, "data"))?.Dispose();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    private static void Create(KafkaCluster cluster, string topic)
    {
        var r = cluster.Controller.CreateTopics([new PSKafka.Engine.Api.CreateTopicRequest(topic, 3, 1)], false)[0];
        if (r.Error != PSKafka.Engine.ErrorCode.None) throw new InvalidOperationException(r.ErrorMessage);
    }

    private static void WriteLines(string file)
    {
        using var w = new StreamWriter(file, false, new UTF8Encoding(false), 1 << 20);
        for (int i = 0; i < Lines; i++)
        {
            w.Write(i.ToString("D10"));
            w.Write(new string('x', LineBytes - 11));
            w.Write('\n');
        }
    }

    private static string Row(string what, TimeSpan elapsed) =>
        $"| {what} | {Lines / elapsed.TotalSeconds:N0} msg/s | {(double)Lines * (LineBytes - 1) / elapsed.TotalSeconds / 1e6:N1} MB/s payload, {elapsed.TotalSeconds:F2} s |";

    /// <summary>Runs kcat to completion; counts its output lines when consuming.</summary>
    private static TimeSpan Kcat(string[] args, int expectLines)
    {
        var psi = new ProcessStartInfo("kcat") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("kcat did not start");
        var stderr = p.StandardError.ReadToEndAsync();
        long lines = 0;
        var buffer = new char[1 << 16];
        int n;
        while ((n = p.StandardOutput.Read(buffer, 0, buffer.Length)) > 0)
            lines += buffer.AsSpan(0, n).Count('\n');
        p.WaitForExit();
        sw.Stop();
        if (p.ExitCode != 0) throw new InvalidOperationException($"kcat {string.Join(' ', args)} failed ({p.ExitCode}): {stderr.Result}");
        if (expectLines > 0 && lines != expectLines) throw new InvalidOperationException($"kcat printed {lines} of {expectLines} messages.");
        return sw.Elapsed;
    }

    /// <summary>Produce-to-receive latency at 500 msg/s for 10 s, Confluent.Kafka producer and consumer with default settings.</summary>
    private static void Latency(string bootstrap, KafkaCluster cluster, TextWriter output)
    {
        const int Rate = 500, Seconds = 10, Count = Rate * Seconds;
        Create(cluster, "latency");
        using var consumer = new ConsumerBuilder<Ignore, long>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "bench-assign-only" }).Build();
        consumer.Assign(Enumerable.Range(0, 3).Select(p => new TopicPartitionOffset("latency", p, Offset.End)));
        using var producer = new ProducerBuilder<Null, long>(new ProducerConfig { BootstrapServers = bootstrap }).Build();
        var clock = Stopwatch.StartNew();
        var latencies = new List<double>(Count);
        using var stop = new CancellationTokenSource();
        var receiver = Task.Run(() =>
        {
            while (latencies.Count < Count && !stop.IsCancellationRequested)
                if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { } r)
                    latencies.Add((clock.ElapsedTicks - r.Message.Value) * 1000.0 / Stopwatch.Frequency);
        });
        // Let the consumer's first fetches park on the brokers before measuring.
        Thread.Sleep(2000);
        var start = clock.Elapsed;
        for (int i = 0; i < Count; i++)
        {
            var due = start + TimeSpan.FromSeconds((double)i / Rate);
            while (clock.Elapsed < due) Thread.Sleep(1);
            producer.Produce("latency", new Message<Null, long> { Value = clock.ElapsedTicks });
        }
        producer.Flush(TimeSpan.FromSeconds(30));
        if (!receiver.Wait(TimeSpan.FromSeconds(30))) stop.Cancel();
        receiver.Wait();
        latencies.Sort();
        double P(double q) => latencies[(int)Math.Min(latencies.Count - 1, Math.Ceiling(q * latencies.Count) - 1)];
        output.WriteLine($"| end-to-end latency p50 (goal < 5 ms) | {P(0.50):F2} ms | Confluent.Kafka defaults, {Rate} msg/s for {Seconds} s, {latencies.Count}/{Count} received |");
        output.WriteLine($"| end-to-end latency p99 | {P(0.99):F2} ms | max {latencies[^1]:F2} ms |");
    }
}
