using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Groups;

namespace PSKafka.Tests.Interop;

/// <summary>
/// Consumer groups over the wire: kcat, Confluent.Kafka and kafka-python join PSKafka's group coordinator,
/// split partitions, commit, and survive a leader crash. 3 brokers on ephemeral ports.
/// </summary>
[Collection("Interop")]
public sealed class GroupInteropTests : IDisposable
{
    private readonly WireCluster _c = new(brokers: 3);

    public GroupInteropTests()
    {
        // Kafka waits 3 s for more members before a new group's first rebalance; tests need not.
        _c.Cluster.BrokerConfigs.Set("group.initial.rebalance.delay.ms", "0");
    }

    public void Dispose() => _c.Dispose();

    private Broker Coordinator(string group)
    {
        var found = _c.Cluster.Brokers.First(b => b.IsRunning).FindCoordinator(group);
        Assert.Equal(PSKafka.Engine.ErrorCode.None, found.Error);
        return _c.Cluster.GetBroker(found.NodeId)!;
    }

    private Dictionary<int, long> Committed(string group, string topic) =>
        Coordinator(group).OffsetFetch(new PSKafka.Engine.Api.OffsetFetchParams(group))
            .Partitions.Where(p => p.Topic == topic).ToDictionary(p => p.Partition, p => p.Offset);

    private Dictionary<int, long> HighWatermarks(string topic) =>
        _c.Cluster.Brokers.Where(b => b.IsRunning).SelectMany(b => b.Replicas)
            .Where(r => r.IsLeader && r.TopicPartition.Topic == topic).ToDictionary(r => r.TopicPartition.Partition, r => r.HighWatermark);

    private void KcatProduce(string topic, IEnumerable<string> lines)
    {
        var p = Tools.Kcat(_c.Bootstrap, ["-P", "-t", topic], string.Concat(lines.Select(l => l + "\n")));
        Assert.True(p.ExitCode == 0, p.ToString());
    }

    private DescribeGroupResult Describe(string group) => Coordinator(group).DescribeGroups([group])[0];

    [Fact]
    public void Kcat_consumes_as_a_group_commits_and_resumes_where_it_left_off()
    {
        Tools.RequireKcat();
        _c.CreateTopic("grouped", partitions: 3, replicationFactor: 2);
        var lines = Enumerable.Range(0, 300).Select(i => $"line-{i:D3}").ToList();
        // Keyed, so every partition gets lines (keyless lines stick to one partition per batch).
        var p = Tools.Kcat(_c.Bootstrap, ["-P", "-t", "grouped", "-K:"], string.Concat(lines.Select(l => $"{l}:{l}\n")));
        Assert.True(p.ExitCode == 0, p.ToString());
        Assert.All(HighWatermarks("grouped").Values, hw => Assert.True(hw > 0));

        string[] consume = ["-G", "kg", "-X", "auto.offset.reset=earliest", "-e", "-f", "%p %o %s\n", "grouped"];
        var first = Tools.Kcat(_c.Bootstrap, consume);
        Assert.True(first.ExitCode == 0, first.ToString());
        var got = first.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToList();
        Assert.Equal(lines, got.Select(g => g[2]).Order(StringComparer.Ordinal));
        // In order per partition, offsets dense from 0.
        foreach (var partition in got.GroupBy(g => g[0]))
            Assert.Equal(Enumerable.Range(0, partition.Count()).Select(i => (long)i), partition.Select(g => long.Parse(g[1])));

        // kcat committed what it read (auto commit, and a final commit on close).
        Assert.Equal(HighWatermarks("grouped"), Committed("kg", "grouped"));
        Assert.Equal("Empty", Describe("kg").GroupState);

        // The same group again starts at the committed offsets: only the new lines arrive.
        KcatProduce("grouped", ["after-1", "after-2"]);
        var second = Tools.Kcat(_c.Bootstrap, consume);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(["after-1", "after-2"], second.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[2]).Order(StringComparer.Ordinal));
        Assert.All(_c.Cluster.Brokers, b => Assert.Equal(0, _c.Cluster.GetServer(b.Id)!.ProtocolHandler!.FailedRequests));
    }

    [Fact]
    public void Two_kcat_members_split_the_partitions()
    {
        Tools.RequireKcat();
        _c.CreateTopic("split", partitions: 4, replicationFactor: 1);
        using var a = Tools.KcatProcess(_c.Bootstrap, ["-u", "-G", "pair", "-X", "auto.offset.reset=earliest", "-f", "%p %s\n", "split"]);
        using var b = Tools.KcatProcess(_c.Bootstrap, ["-u", "-G", "pair", "-X", "auto.offset.reset=earliest", "-f", "%p %s\n", "split"]);
        Patience.Wait(() => Describe("pair") is { GroupState: "Stable", Members.Count: 2 }, "both kcat members in a stable group");

        // 100 lines into each partition (kcat's sticky partitioner would put keyless lines in one batch, one partition).
        var lines = Enumerable.Range(0, 400).Select(i => $"m{i}").ToList();
        foreach (var chunk in lines.Chunk(100).Select((c, p) => (c, p)))
        {
            var p = Tools.Kcat(_c.Bootstrap, ["-P", "-t", "split", "-p", chunk.p.ToString()], string.Concat(chunk.c.Select(l => l + "\n")));
            Assert.True(p.ExitCode == 0, p.ToString());
        }
        Patience.Wait(() => a.Lines.Count + b.Lines.Count >= lines.Count, $"400 messages (a has {a.Lines.Count}, b {b.Lines.Count})");

        var fromA = a.Lines.Select(l => l.Split(' ')).ToList();
        var fromB = b.Lines.Select(l => l.Split(' ')).ToList();
        var partitionsA = fromA.Select(l => l[0]).ToHashSet();
        var partitionsB = fromB.Select(l => l[0]).ToHashSet();
        Assert.Equal(2, partitionsA.Count); // range assignor: 4 partitions, 2 members, 2 each
        Assert.Equal(2, partitionsB.Count);
        Assert.Empty(partitionsA.Intersect(partitionsB));
        Assert.Equal(lines.Order(StringComparer.Ordinal), fromA.Concat(fromB).Select(l => l[1]).Order(StringComparer.Ordinal));
        Assert.All(fromA.Concat(fromB), l => Assert.Equal(int.Parse(l[1][1..]) / 100, int.Parse(l[0])));
    }

    [Fact]
    public async Task Confluent_group_of_two_commits_and_loses_no_acknowledged_message_when_a_leader_crashes()
    {
        _c.CreateTopic("orders", partitions: 4, replicationFactor: 3);
        const int total = 1200;
        var consumed = new ConcurrentDictionary<string, int>();
        var assignments = new ConcurrentDictionary<string, HashSet<int>>();
        using var stop = new CancellationTokenSource();

        Thread Member(string name) => new(() =>
        {
            using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
            {
                BootstrapServers = _c.Bootstrap,
                GroupId = "billing",
                ClientId = name,
                EnableAutoCommit = false,
                AutoOffsetReset = AutoOffsetReset.Earliest,
                SessionTimeoutMs = 10_000,
                HeartbeatIntervalMs = 500,
            }).SetPartitionsAssignedHandler((_, ps) => assignments[name] = ps.Select(p => p.Partition.Value).ToHashSet()).Build();
            consumer.Subscribe("orders");
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { } r) continue;
                    consumed.AddOrUpdate(r.Message.Value, 1, (_, n) => n + 1);
                    consumer.Commit(r); // at-least-once: commit after processing
                }
                catch (KafkaException) { } // a commit or fetch caught in the failover: the next poll retries
            }
            consumer.Close(); // commits nothing more, leaves the group
        })
        { IsBackground = true, Name = name };

        var members = new[] { Member("c1"), Member("c2") };
        foreach (var m in members) m.Start();
        Patience.Wait(() => Describe("billing") is { GroupState: "Stable", Members.Count: 2 } && assignments.Count == 2, "a stable group of two");
        Assert.Empty(assignments["c1"].Intersect(assignments["c2"]));
        Assert.Equal(4, assignments["c1"].Count + assignments["c2"].Count);

        var acknowledged = new ConcurrentBag<string>();
        // The broker to crash coordinates the group and leads partitions of the topic: both have to move.
        int victim = Coordinator("billing").Id;
        Assert.Contains(_c.Cluster.Controller.Describe(["orders"], false).Topics[0].Partitions, p => p.Leader == victim);
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = _c.Bootstrap,
            Acks = Confluent.Kafka.Acks.All,
            EnableIdempotence = true,
            LingerMs = 2,
            MessageTimeoutMs = 60_000,
        }).Build())
        {
            var pending = new List<Task>();
            for (int i = 0; i < total; i++)
            {
                if (i == total / 2)
                {
                    await Task.WhenAll(pending);
                    // The crash, mid-stream: no clean shutdown.
                    _c.Cluster.StopBroker(victim, kill: true);
                }
                string value = $"order-{i}";
                pending.Add(producer.ProduceAsync("orders", new Message<string, string> { Key = $"k{i % 13}", Value = value })
                    .ContinueWith(t => { if (t.IsCompletedSuccessfully && t.Result.Status == PersistenceStatus.Persisted) acknowledged.Add(value); }));
            }
            await Task.WhenAll(pending);
        }
        // acks=all with idempotence retries through the failover: every message is acknowledged, none twice.
        Assert.Equal(total, acknowledged.Count);
        Assert.Equal(total, HighWatermarks("orders").Values.Sum());
        Assert.NotEqual(victim, Coordinator("billing").Id);

        Patience.Wait(() => acknowledged.All(consumed.ContainsKey),
            $"every acknowledged message to be consumed ({acknowledged.Count(consumed.ContainsKey)} of {acknowledged.Count})", TimeSpan.FromSeconds(90));
        // The group committed everything: once the commits settle, nothing is left to read.
        Patience.Wait(() => Committed("billing", "orders").OrderBy(kv => kv.Key).SequenceEqual(HighWatermarks("orders").OrderBy(kv => kv.Key)),
            "the committed offsets to reach the high watermarks");
        stop.Cancel();
        foreach (var m in members) Assert.True(m.Join(Patience.Deadline), $"{m.Name} did not close");
        Assert.DoesNotContain(_c.Cluster.Brokers, b => b.IsRunning && _c.Cluster.GetServer(b.Id)!.ProtocolHandler!.FailedRequests > 0);
    }

    [Fact]
    public void Kafka_python_consumes_with_a_group_id_and_commits()
    {
        Tools.RequireKafkaPython();
        _c.CreateTopic("pyg", partitions: 3, replicationFactor: 2);
        var lines = Enumerable.Range(0, 90).Select(i => $"py-{i:D2}").ToList();
        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = _c.Bootstrap }).Build())
        {
            foreach (var l in lines) producer.Produce("pyg", new Message<Null, string> { Value = l });
            producer.Flush(TimeSpan.FromSeconds(30));
        }
        const string script = """
            import sys
            from kafka import KafkaConsumer
            c = KafkaConsumer('pyg', bootstrap_servers=sys.argv[1].split(','), group_id='pygroup', auto_offset_reset='earliest',
                              enable_auto_commit=False, consumer_timeout_ms=8000)
            n = 0
            for m in c:
                print('%d %d %s' % (m.partition, m.offset, m.value.decode()))
                n += 1
                if n == 90: break
            c.commit()
            print('assigned', sorted(tp.partition for tp in c.assignment()))
            c.close()
            """;
        var r = Tools.Python(script, [_c.Bootstrap]);
        Assert.True(r.ExitCode == 0, r.ToString());
        var outLines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("assigned [0, 1, 2]", outLines[^1]);
        Assert.Equal(lines, outLines[..^1].Select(l => l.Split(' ')[2]).Order(StringComparer.Ordinal));
        Assert.Equal(HighWatermarks("pyg"), Committed("pygroup", "pyg"));
    }

    [Fact]
    public async Task Find_coordinator_names_the_leader_of_the_groups_offsets_partition_and_other_brokers_answer_NOT_COORDINATOR()
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _c.Bootstrap }).Build();
        _c.CreateTopic("t", partitions: 1);
        // A group that exists, so describe and list have something to show.
        using (var consumer = new ConsumerBuilder<Null, string>(new ConsumerConfig { BootstrapServers = _c.Bootstrap, GroupId = "placed", AutoOffsetReset = AutoOffsetReset.Earliest }).Build())
        {
            consumer.Commit([new TopicPartitionOffset("t", 0, 0)]);
        }
        var offsets = _c.Cluster.Controller.Describe([CoordinatorPlacement.OffsetsTopic], false).Topics[0];
        int leader = offsets.Partitions[CoordinatorPlacement.PartitionFor("placed", offsets.Partitions.Count)].Leader;
        var described = (await admin.DescribeConsumerGroupsAsync(["placed"])).ConsumerGroupDescriptions[0];
        Assert.Equal(leader, described.Coordinator.Id);
        Assert.Equal(ConsumerGroupState.Empty, described.State);
        Assert.Contains((await admin.ListConsumerGroupsAsync()).Valid, g => g.GroupId == "placed");

        foreach (var broker in _c.Cluster.Brokers.Where(b => b.Id != leader))
            Assert.Equal(PSKafka.Engine.ErrorCode.NotCoordinator, broker.Heartbeat(new PSKafka.Engine.Api.HeartbeatParams("placed", 0, "m")));

        await admin.DeleteGroupsAsync(["placed"]);
        Assert.Empty(Committed("placed", "t"));
    }
}

/// <summary>A long-running client process whose output lines are collected as they come; killed on dispose.</summary>
internal sealed class LineProcess : IDisposable
{
    private readonly Process _p;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly StringBuilder _stderr = new();

    public LineProcess(string file, IEnumerable<string> arguments)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        _p = Process.Start(psi)!;
        _p.OutputDataReceived += (_, e) => { if (e.Data is { Length: > 0 } l) _lines.Enqueue(l); };
        _p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        _p.BeginOutputReadLine();
        _p.BeginErrorReadLine();
    }

    public IReadOnlyList<string> Lines => _lines.ToArray();

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    public void Dispose()
    {
        try { if (!_p.HasExited) _p.Kill(entireProcessTree: true); _p.WaitForExit(5000); } catch (InvalidOperationException) { }
        _p.Dispose();
    }
}
