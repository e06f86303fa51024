using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Text;
using Confluent.Kafka;
using PSKafka.Client;
using PSKafka.Engine.Cluster;

namespace PSKafka.Bench;

/// <summary>
/// The wire protocol with real clients. kcat produces 1,000,000 lines of 100 bytes into PSKafka (3 brokers in this
/// process, a topic of 4 partitions, replication factor 1) and, in the same run, into librdkafka's own mock cluster
/// (3 brokers, also hosted in this process, topics of 4 partitions), as a ratio. The mock keeps only about 5 MB per
/// partition, so kcat consumes a data set that fits in it whole: 40,000 lines into each partition, produced by the
/// same kcat into both clusters and read back with kcat -c on both (six reads each per round). Both sides then hold
/// and serve the same records, so kcat's prefetching has no more to read from one than from the other. Rounds
/// alternate and the best of each counts, after warm-up rounds that last until the JIT is quiet; each round writes
/// new topics, laid out in PSKafka as the mock placed them, and PSKafka's previous ones are deleted. Then end-to-end
/// latency (produce to receive) with Confluent.Kafka at default settings at a modest rate.
/// </summary>
public sealed class WireSuite : IBenchSuite
{
    private const int Lines = 1_000_000;
    private const int ConsumeLinesPerPartition = 40_000; // 4.4 MB as batches: within the 5 MB the mock keeps of a partition
    private const int ConsumeLines = ConsumeLinesPerPartition * Partitions;
    private const int LineBytes = 100; // including the newline kcat splits on: 99-byte values
    private const int Partitions = 4;  // what the mock cluster gives a topic it creates on first use
    private const int Rounds = 5;
    private const int ConsumeReadsPerRound = 6;
    private const int QuietJitMethods = 50;  // a warm-up round that compiles no more than this ends the warm-up
    private const int MaxWarmupRounds = 8;

    public string Name => "wire";

    public void Run(TextWriter output)
    {
        var dir = Path.Combine(Path.GetTempPath(), "pskafka-bench-wire-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var file = Path.Combine(dir, "lines.txt");
            WriteLines(file, Lines);
            var consumeFile = Path.Combine(dir, "consume.txt");
            WriteLines(consumeFile, ConsumeLinesPerPartition);
            using var cluster = KafkaCluster.Open(Path.Combine(dir, "data"));
            for (int i = 0; i < 3; i++) cluster.StartBroker(port: 0);
            string bootstrap = string.Join(",", cluster.Brokers.Select(b => b.Address));
            using var mock = new LibrdkafkaMockCluster(3);
            using var mockAdmin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = mock.BootstrapServers }).Build();

            var produce = (PSKafka: TimeSpan.MaxValue, Mock: TimeSpan.MaxValue);
            var consume = (PSKafka: TimeSpan.MaxValue, Mock: TimeSpan.MaxValue);
            string count = ConsumeLines.ToString(CultureInfo.InvariantCulture);
            string[] previous = [];

            // One round: kcat -P of the big file into each cluster, then the consume data set into each, then reads.
            void Round(string name, bool timed)
            {
                // Both clusters hold about one round of data: the mock keeps only its newest segments, and PSKafka's
                // previous topics are deleted. Otherwise every round would grow the page cache onto RAM never used
                // before, which on this VM costs a hypervisor fault per page (dd of 200 MB into a new file: 0.48 s
                // on such pages, 0.03 s on pages freed by a deleted file), and the ratio would measure the VM.
                foreach (var old in previous) Delete(cluster, old);
                string topic = $"bench-{name}", readTopic = $"read-{name}";
                previous = [topic, readTopic];
                CreateLikeMock(cluster, mockAdmin, topic);
                Quiesce();
                var intoPSKafka = Kcat(["-b", bootstrap, "-P", "-t", topic, "-l", file]).Elapsed;
                long stored = Stored(cluster, topic);
                if (stored != Lines) throw new InvalidOperationException($"PSKafka holds {stored} of {Lines} records after kcat -P.");
                Quiesce();
                var intoMock = Kcat(["-b", mock.BootstrapServers, "-P", "-t", topic, "-l", file]).Elapsed;
                if (timed) produce = (Min(produce.PSKafka, intoPSKafka), Min(produce.Mock, intoMock));

                // The data set to consume, the same on both sides (not timed); kcat's defaults on both when reading
                // (prefetch up to queued.min.messages, Nagle on).
                CreateLikeMock(cluster, mockAdmin, readTopic);
                // Partition by partition: kcat's sticky partitioner could otherwise put more in one than the mock keeps.
                for (int p = 0; p < Partitions; p++)
                {
                    string partition = p.ToString(CultureInfo.InvariantCulture);
                    Kcat(["-b", bootstrap, "-P", "-t", readTopic, "-p", partition, "-l", consumeFile]);
                    Kcat(["-b", mock.BootstrapServers, "-P", "-t", readTopic, "-p", partition, "-l", consumeFile]);
                }
                long retained = Kcat(["-b", mock.BootstrapServers, "-C", "-t", readTopic, "-o", "beginning", "-e", "-q", "-f", "%o\\n"]).Lines;
                if (retained != ConsumeLines || Stored(cluster, readTopic) != ConsumeLines)
                    throw new InvalidOperationException($"The mock cluster kept {retained} and PSKafka {Stored(cluster, readTopic)} of {ConsumeLines} records.");
                // A read of this size takes well under a tenth of a second: several alternating reads per round.
                Quiesce();
                for (int i = 0; i < ConsumeReadsPerRound; i++)
                {
                    var fromMock = Kcat(["-b", mock.BootstrapServers, "-C", "-t", readTopic, "-o", "beginning", "-c", count, "-q", "-f", "%o\\n"]);
                    var fromPSKafka = Kcat(["-b", bootstrap, "-C", "-t", readTopic, "-o", "beginning", "-c", count, "-q", "-f", "%o\\n"]);
                    if (fromMock.Lines != ConsumeLines || fromPSKafka.Lines != ConsumeLines)
                        throw new InvalidOperationException($"kcat read {fromMock.Lines} (mock) and {fromPSKafka.Lines} (PSKafka) of {ConsumeLines} records.");
                    if (timed) consume = (Min(consume.PSKafka, fromPSKafka.Elapsed), Min(consume.Mock, fromMock.Elapsed));
                }
            }

            // Warm-up rounds, not reported, until one compiles few methods: with tiered compilation the JIT goes on
            // promoting hot methods for several rounds, on the same 2 cores kcat needs (0.05-0.1 s of JIT a round).
            int warmups = 0;
            long compiled;
            do
            {
                compiled = JitInfo.GetCompiledMethodCount();
                Round($"warmup-{warmups++}", timed: false);
            }
            while (JitInfo.GetCompiledMethodCount() - compiled > QuietJitMethods && warmups < MaxWarmupRounds);
            for (int round = 0; round < Rounds; round++) Round(round.ToString(CultureInfo.InvariantCulture), timed: true);
            string detail = $"best of {Rounds}, alternating, after {warmups} warm-up rounds";
            output.WriteLine(Row($"kcat -P 1M x 100 B into PSKafka (3 brokers, {Partitions} partitions, RF 1)", Lines / produce.PSKafka.TotalSeconds, detail));
            output.WriteLine(Row($"kcat -P 1M x 100 B into librdkafka's mock cluster (3 brokers, {Partitions} partitions)", Lines / produce.Mock.TotalSeconds, detail));
            output.WriteLine($"| produce ratio PSKafka / mock (goal >= 1.0) | {produce.Mock.TotalSeconds / produce.PSKafka.TotalSeconds:F2} | same file, same kcat, both clusters in this process, same run |");
            string reads = $"best of {Rounds * ConsumeReadsPerRound}, alternating, after {warmups} warm-up rounds";
            output.WriteLine(Row($"kcat -C -o beginning -c {ConsumeLines:N0} from PSKafka (kcat defaults)", ConsumeLines / consume.PSKafka.TotalSeconds, reads));
            output.WriteLine(Row($"kcat -C -o beginning -c {ConsumeLines:N0} from the mock cluster (same records)", ConsumeLines / consume.Mock.TotalSeconds, reads));
            output.WriteLine($"| consume ratio PSKafka / mock (goal >= 1.0) | {consume.Mock.TotalSeconds / consume.PSKafka.TotalSeconds:F2} | same kcat, same records on both, same run |");

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
        var r = cluster.Controller.CreateTopics([new PSKafka.Engine.Api.CreateTopicParams(topic, Partitions, 1)], false)[0];
        if (r.Error != PSKafka.Engine.ErrorCode.None) throw new InvalidOperationException(r.ErrorMessage);
    }

    /// <summary>
    /// Creates the topic in the mock (which places each partition's leader at random) and in PSKafka with the same
    /// layout, broker for broker: how many partitions each broker leads decides how many connections kcat drives and
    /// how much one fetch answer carries, so both clusters serve the same partitions from the same number of brokers.
    /// </summary>
    private static void CreateLikeMock(KafkaCluster cluster, IAdminClient mockAdmin, string topic)
    {
        // A metadata request for a topic the mock does not know creates it (4 partitions).
        var partitions = mockAdmin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions;
        var mockBrokers = mockAdmin.GetMetadata(TimeSpan.FromSeconds(10)).Brokers.Select(b => b.BrokerId).Order().ToList();
        var brokers = cluster.Brokers.Select(b => b.Id).Order().ToList();
        if (partitions.Count != Partitions || mockBrokers.Count != brokers.Count)
            throw new InvalidOperationException($"The mock gave {topic} {partitions.Count} partitions on {mockBrokers.Count} brokers.");
        var assignments = partitions.ToDictionary(p => p.PartitionId, p => (IReadOnlyList<int>)[brokers[mockBrokers.IndexOf(p.Leader)]]);
        var r = cluster.Controller.CreateTopics([new PSKafka.Engine.Api.CreateTopicParams(topic, Assignments: assignments)], false)[0];
        if (r.Error != PSKafka.Engine.ErrorCode.None) throw new InvalidOperationException(r.ErrorMessage);
    }

    private static void Delete(KafkaCluster cluster, string topic)
    {
        var r = cluster.Controller.DeleteTopics([topic])[0];
        if (r.Error != PSKafka.Engine.ErrorCode.None) throw new InvalidOperationException(r.ErrorMessage);
    }

    /// <summary>
    /// Before a timed run: writes dirty pages out, so the kernel's writeback of what an earlier run produced (100 MB,
    /// flushed seconds later) does not land on whichever run happens to be timed then; and waits until the JIT has
    /// stopped compiling what the untimed steps just used (creating and deleting topics), up to 2 s.
    /// </summary>
    private static void Quiesce()
    {
        using (var p = Process.Start(new ProcessStartInfo("sync") { UseShellExecute = false }))
            p?.WaitForExit();
        for (int i = 0; i < 20; i++)
        {
            long compiled = JitInfo.GetCompiledMethodCount();
            Thread.Sleep(100);
            if (JitInfo.GetCompiledMethodCount() == compiled) break;
        }
    }

    private static long Stored(KafkaCluster cluster, string topic) =>
        cluster.Brokers.SelectMany(b => b.Replicas).Where(r => r.TopicPartition.Topic == topic).Sum(r => r.HighWatermark);

    private static void WriteLines(string file, int lines)
    {
        using var w = new StreamWriter(file, false, new UTF8Encoding(false), 1 << 20);
        for (int i = 0; i < lines; i++)
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
