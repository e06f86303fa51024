using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using PSKafka.Cmdlets.Client;
using PSKafka.Engine.Cluster;

namespace PSKafka.Bench;

/// <summary>
/// The wire protocol with real clients. kcat produces 1,000,000 lines of 100 bytes into PSKafka (3 brokers in this
/// process, a topic of 4 partitions, replication factor 1) and, in the same run, into librdkafka's own mock cluster
/// (3 brokers, also hosted in this process, topics of 4 partitions), as a ratio; then kcat consumes them back from
/// each. The mock keeps only the newest segments of each partition, so both consumers read the number of records
/// the mock retained (kcat -c on both), three reads each per round. Rounds alternate, the best of each counts. Then
/// end-to-end latency (produce to receive) with Confluent.Kafka at default settings at a modest rate.
/// </summary>
public sealed class WireSuite : IBenchSuite
{
    private const int Lines = 1_000_000;
    private const int LineBytes = 100; // including the newline kcat splits on: 99-byte values
    private const int Partitions = 4;  // what the mock cluster gives a topic it creates on first use
    private const int Rounds = 5;
    private const int ConsumeReadsPerRound = 3;

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
            using var mock = new LibrdkafkaMockCluster(3);

            // Warm-up (JIT, page cache, connections), not reported.
            Create(cluster, "warmup");
            Kcat(["-b", bootstrap, "-P", "-t", "warmup", "-l", file]);
            Kcat(["-b", bootstrap, "-C", "-t", "warmup", "-o", "beginning", "-e", "-q"]);
            Kcat(["-b", mock.BootstrapServers, "-P", "-t", "warmup", "-l", file]);

            var produce = (PSKafka: TimeSpan.MaxValue, Mock: TimeSpan.MaxValue);
            var consume = (PSKafka: double.MaxValue, Mock: double.MaxValue); // seconds per record
            long read = 0;
            for (int round = 0; round < Rounds; round++)
            {
                string topic = $"bench-{round}";
                Create(cluster, topic);
                produce.PSKafka = Min(produce.PSKafka, Kcat(["-b", bootstrap, "-P", "-t", topic, "-l", file]).Elapsed);
                long stored = cluster.Brokers.SelectMany(b => b.Replicas).Where(r => r.TopicPartition.Topic == topic).Sum(r => r.HighWatermark);
                if (stored != Lines) throw new InvalidOperationException($"PSKafka holds {stored} of {Lines} records after kcat -P.");
                produce.Mock = Min(produce.Mock, Kcat(["-b", mock.BootstrapServers, "-P", "-t", topic, "-l", file]).Elapsed);

                // How many records the mock retained (not timed); then both consumers read that many, kcat's
                // defaults on both sides (prefetch up to queued.min.messages, Nagle on).
                read = Kcat(["-b", mock.BootstrapServers, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%o\\n"]).Lines;
                if (read < 10_000) throw new InvalidOperationException($"The mock cluster returned only {read} records.");
                string count = read.ToString(CultureInfo.InvariantCulture);
                // A read of this size takes about a tenth of a second: several alternating reads per round.
                for (int i = 0; i < ConsumeReadsPerRound; i++)
                {
                    var fromMock = Kcat(["-b", mock.BootstrapServers, "-C", "-t", topic, "-o", "beginning", "-c", count, "-q", "-f", "%o\\n"]);
                    var fromPSKafka = Kcat(["-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-c", count, "-q", "-f", "%o\\n"]);
                    if (fromMock.Lines != read || fromPSKafka.Lines != read)
                        throw new InvalidOperationException($"kcat read {fromMock.Lines} (mock) and {fromPSKafka.Lines} (PSKafka) of {read} records.");
                    consume.Mock = Math.Min(consume.Mock, fromMock.Elapsed.TotalSeconds / read);
                    consume.PSKafka = Math.Min(consume.PSKafka, fromPSKafka.Elapsed.TotalSeconds / read);
                }
            }
            string detail = $"best of {Rounds}, alternating";
            output.WriteLine(Row($"kcat -P 1M x 100 B into PSKafka (3 brokers, {Partitions} partitions, RF 1)", Lines / produce.PSKafka.TotalSeconds, detail));
            output.WriteLine(Row($"kcat -P 1M x 100 B into librdkafka's mock cluster (3 brokers, {Partitions} partitions)", Lines / produce.Mock.TotalSeconds, detail));
            output.WriteLine($"| produce ratio PSKafka / mock (goal >= 1.0) | {produce.Mock.TotalSeconds / produce.PSKafka.TotalSeconds:F2} | same file, same kcat, both clusters in this process, same run |");
            string reads = $"best of {Rounds * ConsumeReadsPerRound}, alternating";
            output.WriteLine(Row($"kcat -C -o beginning from PSKafka ({read:N0} records, kcat defaults)", 1 / consume.PSKafka, reads));
            output.WriteLine(Row($"kcat -C -o beginning from the mock cluster (the {read:N0} records it retained)", 1 / consume.Mock, reads));
            output.WriteLine($"| consume ratio PSKafka / mock (goal >= 1.0) | {consume.Mock / consume.PSKafka:F2} | same kcat, same record count, same run |");

            Latency(bootstrap, cluster, output);
        }
        finally
        {
            KafkaCluster.Find(Path.Combine(dir, "data"))?.Dispose();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static void Create(KafkaCluster cluster, string topic)
    {
        var r = cluster.Controller.CreateTopics([new PSKafka.Engine.Api.CreateTopicRequest(topic, Partitions, 1)], false)[0];
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

    private static string Row(string what, double recordsPerSecond, string detail) =>
        $"| {what} | {recordsPerSecond:N0} msg/s | {recordsPerSecond * (LineBytes - 1) / 1e6:N1} MB/s payload, {detail} |";

    /// <summary>Runs kcat to completion; counts its output lines (one per record when consuming).</summary>
    private static (TimeSpan Elapsed, long Lines) Kcat(string[] args)
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
        return (sw.Elapsed, lines);
    }

    /// <summary>Produce-to-receive latency at 500 msg/s for 10 s, Confluent.Kafka producer and consumer with default settings.</summary>
    private static void Latency(string bootstrap, KafkaCluster cluster, TextWriter output)
    {
        const int Rate = 500, Seconds = 10, Count = Rate * Seconds;
        Create(cluster, "latency");
        using var consumer = new ConsumerBuilder<Ignore, long>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "bench-assign-only" }).Build();
        consumer.Assign(Enumerable.Range(0, Partitions).Select(p => new TopicPartitionOffset("latency", p, Offset.End)));
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
