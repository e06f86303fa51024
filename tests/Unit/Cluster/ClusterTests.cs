using System.Text;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Metadata;
using PSKafka.Engine.Storage;

namespace PSKafka.Tests.Cluster;

public sealed class ClusterTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pskafka-cluster-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        KafkaCluster.Find(_dir)?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static Memory<byte> Batch(params string[] values)
    {
        using var b = new RecordBatchBuilder();
        foreach (var v in values) b.Append(1_700_000_000_000, null, Encoding.UTF8.GetBytes(v));
        return b.Build().ToArray();
    }

    [Fact]
    public async Task ProducesAndFetchesThroughTheLeader()
    {
        var cluster = KafkaCluster.Open(_dir);
        var broker = cluster.StartBroker(port: 0);
        Assert.Equal(ErrorCode.None, broker.CreateTopics([new CreateTopicParams("t", 2)])[0].Error);

        var produced = await broker.ProduceAsync(new ProduceParams { Partitions = [new("t", 1, Batch("a", "b", "c"))] });
        Assert.Equal(ErrorCode.None, produced[0].Error);
        Assert.Equal(0, produced[0].BaseOffset);

        var fetched = await broker.FetchAsync(new FetchParams { MaxWaitMs = 0, Partitions = [new("t", 1, 1)] });
        Assert.Equal(3, fetched[0].HighWatermark);
        var values = new List<string>();
        foreach (var batch in new RecordBatchReader(fetched[0].Records))
            foreach (var record in batch.Records)
                if (record.Offset >= 1) values.Add(Encoding.UTF8.GetString(record.Value.Span));
        Assert.Equal(["b", "c"], values);

        var offsets = broker.ListOffsets([new("t", 1, OffsetSpec.Earliest), new("t", 1, OffsetSpec.Latest)]);
        Assert.Equal([0L, 3L], offsets.Select(o => o.Offset));
    }

    [Fact]
    public async Task AConsumerFetchIsBoundedByTheBrokersFetchMaxBytes()
    {
        var cluster = KafkaCluster.Open(_dir);
        var broker = cluster.StartBroker(port: 0);
        broker.CreateTopics([new CreateTopicParams("t", 1)]);
        var value = new string('v', 1000);
        for (int i = 0; i < 20; i++)
            Assert.Equal(ErrorCode.None, (await broker.ProduceAsync(new ProduceParams { Partitions = [new("t", 0, Batch(value))] }))[0].Error);
        var fetch = new FetchParams { MaxWaitMs = 0, MaxBytes = 50_000_000, Partitions = [new("t", 0, 0, 1_048_576)] };
        Assert.True((await broker.FetchAsync(fetch))[0].Records.Length > 4096);

        cluster.BrokerConfigs.Set("fetch.max.bytes", "4096");
        cluster.StopBroker(0);
        broker = cluster.StartBroker(0); // read when a broker starts, as in Kafka
        Assert.InRange((await broker.FetchAsync(fetch))[0].Records.Length, 1, 4096);
    }

    [Fact]
    public async Task ALongPollFetchIsAnsweredAsSoonAsDataArrives()
    {
        var cluster = KafkaCluster.Open(_dir);
        var broker = cluster.StartBroker(port: 0);
        broker.CreateTopics([new CreateTopicParams("t", 1)]);
        // A fetch that may wait 10 minutes: answered within the test's deadline only if it is answered when data arrives.
        var fetch = broker.FetchAsync(new FetchParams { MaxWaitMs = 600_000, Partitions = [new("t", 0, 0)] }).AsTask();
        await Task.Delay(100);
        Assert.False(fetch.IsCompleted);
        await broker.ProduceAsync(new ProduceParams { Partitions = [new("t", 0, Batch("x"))] });
        var result = await fetch.WaitAsync(Patience.Deadline);
        Assert.True(result[0].Records.Length > 0);
    }

    [Fact]
    public async Task TopicsAndMessagesSurviveAReopen()
    {
        var cluster = KafkaCluster.Open(_dir);
        var broker = cluster.StartBroker(port: 0);
        broker.CreateTopics([new CreateTopicParams("kept", 3, Configs: new Dictionary<string, string> { ["retention.ms"] = "1000000" })]);
        await broker.ProduceAsync(new ProduceParams { Partitions = [new("kept", 2, Batch("1", "2"))] });
        cluster.Dispose();

        cluster = KafkaCluster.Open(_dir);
        Assert.Equal([0], cluster.RegisteredBrokerIds());
        broker = cluster.StartBroker(0);
        var meta = broker.Metadata(["kept"]);
        Assert.Equal(3, meta.Topics[0].Partitions.Count);
        Assert.Equal("1000000", cluster.Controller.SettingsFor("kept")["retention.ms"]);
        Assert.Equal(2, broker.ListOffsets([new("kept", 2, OffsetSpec.Latest)])[0].Offset);
    }

    [Fact]
    public void ASecondOpenInTheSameProcessSharesTheCluster() =>
        Assert.Same(KafkaCluster.Open(_dir), KafkaCluster.Open(_dir));

    [Fact]
    public void CreateTopicValidatesLikeKafka()
    {
        var broker = KafkaCluster.Open(_dir).StartBroker(port: 0);
        var results = broker.CreateTopics([
            new CreateTopicParams("bad name"),
            new CreateTopicParams("zero", 0),
            new CreateTopicParams("rf", 1, 2),
            new CreateTopicParams("cfg", 1, 1, new Dictionary<string, string> { ["segment.bytes"] = "abc" }),
            new CreateTopicParams("ok", 1, 1),
            new CreateTopicParams("ok", 1, 1),
        ]);
        Assert.Equal([ErrorCode.InvalidTopicException, ErrorCode.InvalidPartitions, ErrorCode.InvalidReplicationFactor,
            ErrorCode.InvalidConfig, ErrorCode.None, ErrorCode.TopicAlreadyExists], results.Select(r => r.Error));
    }

    [Fact]
    public async Task AMessageOverMaxMessageBytesIsRefusedAndNothingIsWritten()
    {
        var broker = KafkaCluster.Open(_dir).StartBroker(port: 0);
        broker.CreateTopics([new CreateTopicParams("small", 1, 1, new Dictionary<string, string> { ["max.message.bytes"] = "100" })]);
        var result = await broker.ProduceAsync(new ProduceParams { Partitions = [new("small", 0, Batch(new string('x', 500)))] });
        Assert.Equal(ErrorCode.MessageTooLarge, result[0].Error);
        Assert.Equal(0, broker.ListOffsets([new("small", 0, OffsetSpec.Latest)])[0].Offset);
    }

    [Fact]
    public async Task AKilledBrokerRecoversItsLogOnRestart()
    {
        var cluster = KafkaCluster.Open(_dir);
        var broker = cluster.StartBroker(port: 0);
        broker.CreateTopics([new CreateTopicParams("t", 1)]);
        for (int i = 0; i < 10; i++) await broker.ProduceAsync(new ProduceParams { Partitions = [new("t", 0, Batch($"m{i}"))] });
        cluster.StopBroker(0, kill: true);
        Assert.Equal(BrokerState.Crashed, broker.State);
        Assert.False(File.Exists(Path.Combine(broker.LogDirectory, LogFileNames.CleanShutdown)));
        broker = cluster.StartBroker(0);
        Assert.Equal(10, broker.ListOffsets([new("t", 0, OffsetSpec.Latest)])[0].Offset);
    }

    [Fact]
    public async Task AKilledBrokerWith50PartitionsComesBackWithoutTheirPreallocatedIndexesResident()
    {
        // The soak's finding: every restart after a crash made each recovered partition's 10 MB .index and .timeindex
        // resident and dirty (50 partitions: 1 GB). Now the index mappings hold what recovery wrote: a page or so each.
        ProcessStats.Require();
        var cluster = KafkaCluster.Open(_dir);
        var broker = cluster.StartBroker(port: 0);
        broker.CreateTopics([new CreateTopicParams("many", 50)]);
        for (int round = 0; round < 3; round++)
            for (int p = 0; p < 50; p++)
                Assert.Equal(ErrorCode.None, (await broker.ProduceAsync(new ProduceParams { Partitions = [new("many", p, Batch(Enumerable.Range(0, 50).Select(i => $"message {i} of round {round}").ToArray()))] }))[0].Error);
        cluster.StopBroker(0, kill: true);
        broker = cluster.StartBroker(0);
        Assert.Equal(150, broker.ListOffsets([new("many", 49, OffsetSpec.Latest)])[0].Offset);

        var (rssKb, dirtyKb, mappings) = ProcessStats.Smaps(path => path.StartsWith(broker.LogDirectory, StringComparison.Ordinal) &&
            (path.Contains(".index", StringComparison.Ordinal) || path.Contains(".timeindex", StringComparison.Ordinal)))!.Value;
        Assert.Equal(100, mappings);
        Assert.True(rssKb < 2048, $"index mappings resident after the restart: {rssKb} kB (before the fix: 1,024,000 kB)");
        Assert.True(dirtyKb < 2048, $"index mappings dirty after the restart: {dirtyKb} kB");
    }

    [Fact]
    public void ADataDirectoryHeldByThisProcessNamesItsOwner()
    {
        using var held = DataDirectoryLock.Acquire(Path.Combine(_dir, "other"));
        var e = Assert.Throws<DataDirectoryInUseException>(() => DataDirectoryLock.Acquire(Path.Combine(_dir, "other")));
        Assert.Contains($"process {Environment.ProcessId}", e.Message);
    }
}
