using System.Buffers.Binary;
using System.Diagnostics;
using PSKafka.Engine.Network;
using PSKafka.Engine.Protocol;
using PSKafka.Engine.Protocol.Messages;
using Xunit.Abstractions;

namespace PSKafka.Tests.Protocol;

/// <summary>Throws random and mutated frames at a live server while a well-behaved client keeps talking to it.</summary>
[Collection(SerialCollection.Name)]
public sealed class FuzzTests(ITestOutputHelper output)
{
    const int TargetFrames = 100_000;
    const int Workers = 4;
    const int SentinelCorrelation = int.MinValue;

    static List<byte[]> ValidRequestPayloads()
    {
        var rng = new Random(1234);
        var seeds = new List<byte[]>();
        foreach (var type in MessageFixtures.MessageTypes.Where(t => t.Name.EndsWith("Request")))
            for (short v = MessageFixtures.Lowest(type); v <= MessageFixtures.Highest(type); v++)
                for (int i = 0; i < 3; i++)
                    seeds.Add(MessageFixtures.RequestPayload((IApiMessage)MessageFixtures.Populate(type, v, rng), v, rng.Next(1, int.MaxValue)));
        return seeds;
    }

    /// <summary>One frame (size prefix included) derived from a valid request by a random mutation, or pure noise.</summary>
    static byte[] Mutate(List<byte[]> seeds, Random rng)
    {
        var p = (byte[])seeds[rng.Next(seeds.Count)].Clone();
        switch (rng.Next(6))
        {
            case 0: // bit flips
                for (int i = rng.Next(1, 4); i > 0; i--) p[rng.Next(p.Length)] ^= (byte)(1 << rng.Next(8));
                break;
            case 1: // truncation, with a consistent size prefix
                p = p[..rng.Next(p.Length)];
                break;
            case 2: // a length or count field turned huge, negative or random
                int at = rng.Next(Math.Max(1, p.Length - 3));
                byte[] evil = rng.Next(3) switch { 0 => [0x7F, 0xFF, 0xFF, 0xFF], 1 => [0xFF, 0xFF, 0xFF, 0xFE], _ => [(byte)rng.Next(256), (byte)rng.Next(256)] };
                for (int i = 0; i < evil.Length && at + i < p.Length; i++) p[at + i] = evil[i];
                break;
            case 3: // pure noise
                p = new byte[rng.Next(0, 64)];
                rng.NextBytes(p);
                break;
            case 4: // varint-heavy corruption of a flexible request: runs of continuation bytes
                int start = rng.Next(p.Length);
                for (int i = start; i < Math.Min(p.Length, start + rng.Next(1, 8)); i++) p[i] = 0xFF;
                break;
            default: // intact: keeps connections alive long enough to carry more mutations
                break;
        }
        return MessageFixtures.Framed(p);
    }

    [Fact]
    public async Task Server_survives_100k_hostile_frames_and_keeps_serving()
    {
        var handler = new KafkaProtocolHandler(new FakeKafkaApi());
        // Kafka's idle timeout, as the real broker below has: a bystander slowed by a loaded machine is never closed as idle.
        await using var server = new KafkaServer(handler, new KafkaServerOptions());
        server.Start();
        await FuzzAsync(server, () => handler.RejectedRequests);
    }

    /// <summary>The same storm against a real broker's listener, and afterwards a real client (Confluent.Kafka) still produces and consumes.</summary>
    [Fact]
    public async Task A_real_broker_survives_100k_hostile_frames_and_a_real_client_still_works()
    {
        using var c = new PSKafka.Tests.Interop.WireCluster(brokers: 1);
        // Random valid Metadata requests would otherwise auto-create thousands of topics with random names.
        c.Cluster.BrokerConfigs.Set("auto.create.topics.enable", "false");
        c.CreateTopic("after-the-storm-topic", partitions: 2);
        var server = c.Cluster.GetServer(c.Cluster.Brokers[0].Id)!;
        await FuzzAsync(server.Listener!, () => server.ProtocolHandler!.RejectedRequests);

        using (var producer = new Confluent.Kafka.ProducerBuilder<string, string>(new Confluent.Kafka.ProducerConfig { BootstrapServers = c.Bootstrap, Acks = Confluent.Kafka.Acks.All }).Build())
            for (int i = 0; i < 10; i++)
                await producer.ProduceAsync("after-the-storm-topic", new Confluent.Kafka.Message<string, string> { Key = $"k{i}", Value = $"v{i}" });
        using var consumer = new Confluent.Kafka.ConsumerBuilder<string, string>(new Confluent.Kafka.ConsumerConfig { BootstrapServers = c.Bootstrap, GroupId = "assign-only", EnableAutoCommit = false }).Build();
        consumer.Assign([new Confluent.Kafka.TopicPartitionOffset("after-the-storm-topic", 0, 0), new Confluent.Kafka.TopicPartitionOffset("after-the-storm-topic", 1, 0)]);
        var values = new List<string>();
        var deadline = DateTime.UtcNow + Patience.Deadline;
        while (values.Count < 10 && DateTime.UtcNow < deadline)
            if (consumer.Consume(TimeSpan.FromMilliseconds(500)) is { } r) values.Add(r.Message.Value);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"v{i}").Order(), values.Order());
        output.WriteLine($"failed requests (answered by closing the connection): {server.ProtocolHandler!.FailedRequests}; last: {server.ProtocolHandler.LastFailure?.GetType().Name}: {server.ProtocolHandler.LastFailure?.Message}");
    }

    // Not a time box: the storm runs until the server has read every frame, however loaded the machine (throughput is
    // the benchmarks' business). Only a server that stops reading altogether meets this guard.
    static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(10);

    async Task FuzzAsync(KafkaServer server, Func<long> rejected)
    {
        var seeds = ValidRequestPayloads();
        var sentinel = MessageFixtures.Framed(MessageFixtures.RequestPayload(new ApiVersionsRequest(), 0, SentinelCorrelation));

        using var process = Process.GetCurrentProcess();
        GC.Collect();
        long memoryBefore = GC.GetTotalMemory(forceFullCollection: true);
        long workingSetBefore = process.WorkingSet64;
        long framesBefore = server.FramesReceived;
        long Frames() => server.FramesReceived - framesBefore;
        var started = Stopwatch.StartNew();

        using var done = new CancellationTokenSource(HangGuard);
        long framesSent = 0, connections = 0;
        // The bystander connects first and must be answered throughout.
        using var bystander = await TestClient.ConnectAsync(server.Port);
        int bystanderAnswers = 0;
        var bystanderTask = Task.Run(async () =>
        {
            for (int i = 1; !done.IsCancellationRequested && Frames() < TargetFrames; i++)
            {
                var r = await bystander.ApiVersionsAsync(i);
                Assert.NotNull(r);
                Assert.Equal(0, r!.ErrorCode);
                bystanderAnswers++;
                await Task.Delay(20);
            }
        });

        var workers = Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
        {
            var rng = new Random(w);
            while (!done.IsCancellationRequested && Frames() < TargetFrames)
            {
                using var c = await TestClient.ConnectAsync(server.Port);
                Interlocked.Increment(ref connections);
                bool open = true;
                while (open && !done.IsCancellationRequested && Frames() < TargetFrames)
                {
                    var batch = new List<byte>();
                    int n = rng.Next(1, 4); // the server drops whatever follows a fatal frame, so keep batches short
                    for (int i = 0; i < n; i++) batch.AddRange(Mutate(seeds, rng));
                    Interlocked.Add(ref framesSent, n);
                    if (rng.Next(20) == 0)
                    {
                        // A size prefix that lies: the stream is desynchronised, so just leave.
                        var liar = new byte[4];
                        BinaryPrimitives.WriteInt32BigEndian(liar, rng.Next(3) switch { 0 => -rng.Next(), 1 => int.MaxValue - rng.Next(16), _ => rng.Next(1, 10_000_000) });
                        batch.AddRange(liar);
                        batch.AddRange(new byte[rng.Next(0, 16)]);
                        Interlocked.Increment(ref framesSent);
                        try { await c.SendAsync(batch.ToArray()); } catch (System.Net.Sockets.SocketException) { }
                        break;
                    }
                    batch.AddRange(sentinel);
                    try { await c.SendAsync(batch.ToArray()); }
                    catch (System.Net.Sockets.SocketException) { break; }
                    // Drain answers until our sentinel comes back (connection still good) or the server hangs up.
                    while (true)
                    {
                        byte[]? frame;
                        try { frame = await c.ReadFrameAsync(Patience.Deadline); }
                        catch (OperationCanceledException) { Assert.Fail("server neither answered nor closed"); return; }
                        if (frame is null) { open = false; break; }
                        if (BinaryPrimitives.ReadInt32BigEndian(frame) == SentinelCorrelation) break;
                    }
                }
            }
        })).ToArray();

        await Task.WhenAll(workers);
        await bystanderTask;
        output.WriteLine($"sent {framesSent} frames over {connections} connections in {started.Elapsed.TotalSeconds:F1} s; server read {Frames()} frames, rejected {rejected()}; bystander answered {bystanderAnswers} times");

        Assert.True(Frames() >= TargetFrames, $"server read only {Frames()} frames before it stopped reading ({HangGuard.TotalMinutes} min)");
        Assert.True(bystanderAnswers > 10);
        using (var fresh = await TestClient.ConnectAsync(server.Port))
            Assert.Equal(0, (await fresh.ApiVersionsAsync(1))!.ErrorCode);

        long memoryAfter = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine($"managed heap {memoryBefore / 1024} KiB -> {memoryAfter / 1024} KiB");
        process.Refresh();
        output.WriteLine($"working set {workingSetBefore >> 20} MiB -> {process.WorkingSet64 >> 20} MiB");
        Assert.True(memoryAfter - memoryBefore < 64L * 1024 * 1024, "managed memory grew by more than 64 MiB");
        Assert.True(process.WorkingSet64 - workingSetBefore < 512L * 1024 * 1024, "working set grew by more than 512 MiB");
        await Patience.Until(() => server.ConnectionCount <= 1, $"the storm's connections to close ({server.ConnectionCount} open; the bystander remains)");
    }
}
