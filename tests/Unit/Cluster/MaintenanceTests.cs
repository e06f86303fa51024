using System.Text;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Config;
using PSKafka.Engine.Storage;

namespace PSKafka.Tests.Cluster;

public sealed class MaintenanceTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pskafka-maint-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        KafkaCluster.Find(_dir)?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static Memory<byte> Batch(long timestamp, params (string? Key, string? Value)[] records)
    {
        using var b = new RecordBatchBuilder();
        foreach (var (k, v) in records) b.Append(timestamp, k is null ? null : Encoding.UTF8.GetBytes(k), v is null ? null : Encoding.UTF8.GetBytes(v));
        return b.Build().ToArray();
    }

    private static async Task Produce(Broker broker, string topic, long timestamp, params (string? Key, string? Value)[] records)
    {
        var r = await broker.ProduceAsync(new ProduceParams { Partitions = [new(topic, 0, Batch(timestamp, records))] });
        Assert.Equal(ErrorCode.None, r[0].Error);
    }

    [Fact]
    public async Task TheSchedulerAppliesRetentionEveryCheckIntervalAndConsumersStartAtTheNewLogStart()
    {
        var cluster = KafkaCluster.Open(_dir);
        var broker = cluster.StartBroker(port: 0);
        broker.AlterBrokerConfig(ConfigDefinitions.LogRetentionCheckIntervalMs, "100");
        broker.CreateTopics([new CreateTopicParams("old", 1, Configs: new Dictionary<string, string> { ["retention.ms"] = "60000", ["segment.bytes"] = "200", ["file.delete.delay.ms"] = "0" })]);
        long hourAgo = DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds();
        for (int i = 0; i < 6; i++) await Produce(broker, "old", hourAgo, (null, $"old-{i}"), (null, $"old-{i}b"));
        await Produce(broker, "old", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), (null, "fresh"));
        var replica = broker.GetReplica(new TopicPartition("old", 0))!;
        Assert.True(replica.Log.Segments.Count > 2);

        // Wait for the pass that removes every old segment to finish: the log start moves first, the checkpoint and
        // LastRetentionCheck follow. A pass may also have run between the appends above (every 100 ms, and a loaded
        // machine appends slowly) and removed only the old segments there were then: that is not the state to check.
        string checkpointPath = Path.Combine(broker.LogDirectory, LogFileNames.LogStartOffsetCheckpoint);
        var deadline = DateTime.UtcNow + Patience.Deadline;
        while (!(replica.Log.LogStartOffset == 12 && broker.LastRetentionCheck is not null && CheckpointMentions(checkpointPath, "old 0 12")) && DateTime.UtcNow < deadline)
            await Task.Delay(50);

        Assert.Equal(12, replica.Log.LogStartOffset); // every old segment gone, the fresh record's segment kept
        Assert.Equal(13, replica.Log.LogEndOffset);
        Assert.NotNull(broker.LastRetentionCheck);
        var earliest = broker.ListOffsets([new ListOffsetsPartitionParams("old", 0, OffsetSpec.Earliest)]);
        Assert.Equal(12, earliest[0].Offset);
        var fetch = await broker.FetchAsync(new FetchParams { MaxWaitMs = 0, Partitions = [new("old", 0, 0)] });
        Assert.Equal(ErrorCode.OffsetOutOfRange, fetch[0].Error);
        // The log start offset is checkpointed, so it survives a restart.
        Assert.Contains("old 0 12", File.ReadAllText(checkpointPath));
    }

    [Fact]
    public async Task FlushMessagesOfOneAdvancesTheRecoveryPointWithEveryAppend()
    {
        var cluster = KafkaCluster.Open(_dir);
        var broker = cluster.StartBroker(port: 0);
        broker.CreateTopics([
            new CreateTopicParams("durable", 1, Configs: new Dictionary<string, string> { [ConfigDefinitions.FlushMessages] = "1" }),
            new CreateTopicParams("lazy", 1),
        ]);
        var durable = broker.GetReplica(new TopicPartition("durable", 0))!.Log;
        var lazy = broker.GetReplica(new TopicPartition("lazy", 0))!.Log;
        Assert.Equal(1, durable.Config.FlushMessages);
        Assert.Equal(long.MaxValue, lazy.Config.FlushMessages);
        for (int i = 1; i <= 3; i++)
        {
            await Produce(broker, "durable", 1_700_000_000_000, (null, $"v{i}"));
            await Produce(broker, "lazy", 1_700_000_000_000, (null, $"v{i}"));
            Assert.Equal(i, durable.RecoveryPoint);
            Assert.Equal(0, lazy.RecoveryPoint); // Kafka's default: the OS flushes, the recovery point stays
        }

        // The broker's log.flush.interval.messages is the default of a topic without its own flush.messages.
        broker.AlterBrokerConfig("log.flush.interval.messages", "2");
        Assert.Equal(2, lazy.Config.FlushMessages);
        await Produce(broker, "lazy", 1_700_000_000_000, (null, "v4"));
        Assert.Equal(4, lazy.RecoveryPoint);
    }

    [Fact]
    public async Task TheLogFlusherFlushesLogsWhoseLastFlushIsOlderThanFlushMs()
    {
        var cluster = KafkaCluster.Open(_dir);
        var broker = cluster.StartBroker(port: 0);
        broker.CreateTopics([
            new CreateTopicParams("timed", 1, Configs: new Dictionary<string, string> { [ConfigDefinitions.FlushMs] = "50" }),
            new CreateTopicParams("untimed", 1),
        ]);
        var timed = broker.GetReplica(new TopicPartition("timed", 0))!.Log;
        var untimed = broker.GetReplica(new TopicPartition("untimed", 0))!.Log;
        Assert.Equal(50, timed.Config.FlushMs);
        await Produce(broker, "timed", 1_700_000_000_000, (null, "a"), (null, "b"));
        await Produce(broker, "untimed", 1_700_000_000_000, (null, "a"));
        // An append does not flush on time (Kafka's flusher does): nothing has run the flusher yet.
        Assert.Equal(0, timed.RecoveryPoint);

        // On demand, with the clock moved past flush.ms: only the log whose flush.ms has passed is flushed.
        Assert.Equal(1, broker.RunLogFlusher(timed.LastFlushMs + 50));
        Assert.Equal(2, timed.RecoveryPoint);
        Assert.Equal(0, untimed.RecoveryPoint);

        // In the background, every log.flush.scheduler.interval.ms.
        await Produce(broker, "timed", 1_700_000_000_000, (null, "c"));
        Assert.Equal(2, timed.RecoveryPoint);
        broker.AlterBrokerConfig(ConfigDefinitions.LogFlushSchedulerIntervalMs, "20");
        var deadline = DateTime.UtcNow + Patience.Deadline;
        while ((timed.RecoveryPoint < 3 || untimed.RecoveryPoint < 1) && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(3, timed.RecoveryPoint);
        // As in Kafka, log.flush.interval.ms (unset) falls back to the scheduler interval: flush.ms of the other topic is 20 now.
        Assert.Equal(20, untimed.Config.FlushMs);
        Assert.Equal(1, untimed.RecoveryPoint);
    }

    [Fact]
    public void LogFlushIntervalMsFallsBackToTheSchedulerInterval()
    {
        var cluster = KafkaCluster.Open(_dir);
        var broker = cluster.StartBroker(port: 0);
        broker.CreateTopics([new CreateTopicParams("t", 1)]);
        Assert.Equal(long.MaxValue, cluster.Controller.SettingsFor("t").ToLogConfig().FlushMs);
        broker.AlterBrokerConfig(ConfigDefinitions.LogFlushSchedulerIntervalMs, "1000");
        Assert.Equal(1000, cluster.Controller.SettingsFor("t").ToLogConfig().FlushMs);
        broker.AlterBrokerConfig("log.flush.interval.ms", "500");
        Assert.Equal(500, cluster.Controller.SettingsFor("t").ToLogConfig().FlushMs);
        Assert.Equal(500, broker.GetReplica(new TopicPartition("t", 0))!.Log.Config.FlushMs);
    }

    private static bool CheckpointMentions(string path, string line)
    {
        try { return File.ReadAllText(path).Contains(line); }
        catch (IOException) { return false; } // not written yet
    }

    [Fact]
    public async Task TheCleanerRunsOnDemandOnCompactedTopicsOnly()
    {
        var cluster = KafkaCluster.Open(_dir);
        var broker = cluster.StartBroker(port: 0);
        broker.AlterBrokerConfig(ConfigDefinitions.LogCleanerEnable, "false"); // only on demand here
        broker.CreateTopics([
            new CreateTopicParams("table", 1, Configs: new Dictionary<string, string> { ["cleanup.policy"] = "compact", ["segment.bytes"] = "300" }),
            new CreateTopicParams("plain", 1, Configs: new Dictionary<string, string> { ["segment.bytes"] = "300" }),
        ]);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (int i = 0; i < 8; i++)
        {
            await Produce(broker, "table", now, ("user-1", $"v{i}"), ("user-2", $"v{i}"));
            await Produce(broker, "plain", now, ("user-1", $"v{i}"));
        }
        var results = broker.RunLogCleaner();
        var table = Assert.Single(results);
        Assert.Equal("table", table.Topic);
        Assert.True(table.Result.Cleaned);
        Assert.True(table.Result.RecordsRemoved > 0);

        var fetch = await broker.FetchAsync(new FetchParams { MaxWaitMs = 0, Partitions = [new("table", 0, 0, 1 << 20)] });
        var seen = new List<(long, string)>();
        foreach (var b in new RecordBatchReader(fetch[0].Records))
            foreach (var r in b.Records) seen.Add((r.Offset, Encoding.UTF8.GetString(r.Key.Span) + "=" + Encoding.UTF8.GetString(r.Value.Span)));
        long active = broker.GetReplica(new TopicPartition("table", 0))!.Log.ActiveSegment.BaseOffset;
        var cleanPart = seen.Where(s => s.Item1 < active).Select(s => s.Item2.Split('=')[0]).ToList();
        Assert.Equal(cleanPart.Distinct().Count(), cleanPart.Count); // one record per key below the active segment
        Assert.Equal(16, broker.GetReplica(new TopicPartition("table", 0))!.Log.LogEndOffset);
    }

    [Fact]
    public void TopicConfigsAreValidatedWithKafkasRulesAndReachTheLiveLog()
    {
        var cluster = KafkaCluster.Open(_dir);
        var broker = cluster.StartBroker(port: 0);
        broker.CreateTopics([new CreateTopicParams("t", 1)]);
        var log = broker.GetReplica(new TopicPartition("t", 0))!.Log;

        broker.AlterTopicConfigs("t", new Dictionary<string, string?> { ["segment.bytes"] = "5000", ["cleanup.policy"] = "compact,delete", ["min.cleanable.dirty.ratio"] = "0.1" });
        Assert.Equal(5000, log.Config.SegmentBytes);
        Assert.True(log.Config.Compact && log.Config.Delete);
        Assert.Equal(0.1, log.Config.MinCleanableDirtyRatio);

        foreach (var (name, value) in new[] { ("retention.ms", "abc"), ("min.cleanable.dirty.ratio", "1.5"), ("cleanup.policy", "shred"), ("segment.bytes", "10"), ("no.such.config", "1") })
        {
            var e = Assert.Throws<KafkaException>(() => broker.AlterTopicConfigs("t", new Dictionary<string, string?> { [name] = value }));
            Assert.Equal(ErrorCode.InvalidConfig, e.Code);
        }
        Assert.Equal(5000, log.Config.SegmentBytes);

        // Sources, as kafka-configs.sh --describe shows them.
        broker.AlterBrokerConfig("log.retention.hours", "1");
        var settings = cluster.Controller.SettingsFor("t").Values;
        Assert.Equal(("3600000", ConfigSource.DynamicBrokerConfig), settings["retention.ms"]);
        Assert.Equal(("5000", ConfigSource.TopicConfig), settings["segment.bytes"]);
        Assert.Equal(("1048588", ConfigSource.Default), settings["max.message.bytes"]);
        Assert.Equal(3_600_000, log.Config.RetentionMs);

        broker.AlterTopicConfigs("t", new Dictionary<string, string?> { ["segment.bytes"] = null });
        Assert.Equal(ConfigSource.Default, cluster.Controller.SettingsFor("t").Values["segment.bytes"].Source);
        Assert.Equal(LogConfig.Default.SegmentBytes, log.Config.SegmentBytes);
    }

    [Fact]
    public void BrokerConfigsShowTheirSourcesRefuseReadOnlyNamesAndPersist()
    {
        var cluster = KafkaCluster.Open(_dir);
        var broker = cluster.StartBroker(port: 0);
        var configs = broker.DescribeConfigs().ToDictionary(c => c.Name);
        Assert.Equal((broker.LogDirectory, ConfigSource.StaticBrokerConfig, true), (configs["log.dirs"].Value, configs["log.dirs"].Source, configs["log.dirs"].IsReadOnly));
        Assert.Equal(("1", ConfigSource.Default), (configs["num.partitions"].Value, configs["num.partitions"].Source));
        Assert.Equal("300000", configs["log.retention.check.interval.ms"].Value);

        Assert.Equal(ErrorCode.InvalidConfig, Assert.Throws<KafkaException>(() => broker.AlterBrokerConfig("log.dirs", "/elsewhere")).Code);
        Assert.Equal(ErrorCode.InvalidConfig, Assert.Throws<KafkaException>(() => broker.AlterBrokerConfig("num.partitions", "0")).Code);
        Assert.Equal(ErrorCode.InvalidConfig, Assert.Throws<KafkaException>(() => broker.AlterBrokerConfig("no.such", null)).Code);

        broker.AlterBrokerConfig("num.partitions", "3");
        Assert.Equal(("3", ConfigSource.DynamicBrokerConfig), broker.DescribeConfigs().Where(c => c.Name == "num.partitions").Select(c => (c.Value, c.Source)).Single());
        Assert.Equal(3, broker.CreateTopics([new CreateTopicParams("three")])[0].Partitions);

        cluster.Dispose();
        var again = KafkaCluster.Open(_dir);
        var restarted = again.StartBroker(0);
        Assert.Equal("3", restarted.DescribeConfigs().Single(c => c.Name == "num.partitions").Value);
        restarted.AlterBrokerConfig("num.partitions", null);
        Assert.Equal(ConfigSource.Default, restarted.DescribeConfigs().Single(c => c.Name == "num.partitions").Source);
    }
}
