using System.Globalization;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Config;
using PSKafka.Engine.Storage;
using PSKafka.Tests.Cluster;

namespace PSKafka.Tests.Config;

/// <summary>
/// Every topic and broker config PSKafka accepts reaches the component it configures: each key is set to a value other
/// than its default and the component is seen to hold it (and its default before). A key that is accepted but reaches
/// nothing fails here, unless its definition says so (Applies = false, with the reason in its documentation).
/// </summary>
public sealed class ConfigReachTests : IDisposable
{
    private const string Topic = "reach";
    private readonly TestCluster _t = new(2);
    private int _topics;

    public ConfigReachTests()
    {
        // On broker 0 only, so its log shows what broker 0 applies.
        var created = Broker0.CreateTopics([new CreateTopicParams(Topic, Assignments: new Dictionary<int, IReadOnlyList<int>> { [0] = [0] })])[0];
        Assert.Equal(ErrorCode.None, created.Error);
    }

    public void Dispose() => _t.Dispose();

    private Broker Broker0 => _t.Cluster.GetBroker(0)!;
    private Engine.Network.KafkaServer Listener0 => _t.Cluster.GetServer(0)!.Listener!;
    private LogConfig TopicLog => Broker0.GetReplica(new TopicPartition(Topic, 0))!.Log.Config;
    private string NewTopic() => $"probe-{_topics++}";

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Per topic config: a value other than the default, and where the partition's LogConfig holds it.</summary>
    private static readonly Dictionary<string, (string Value, Func<LogConfig, string> Read)> TopicProbes = new()
    {
        [ConfigDefinitions.CleanupPolicy] = ("compact", c => c.CleanupPolicy),
        [ConfigDefinitions.DeleteRetentionMs] = ("1000", c => Text(c.DeleteRetentionMs)),
        [ConfigDefinitions.FileDeleteDelayMs] = ("1001", c => Text(c.FileDeleteDelayMs)),
        [ConfigDefinitions.FlushMessages] = ("1002", c => Text(c.FlushMessages)),
        [ConfigDefinitions.FlushMs] = ("1003", c => Text(c.FlushMs)),
        [ConfigDefinitions.IndexIntervalBytes] = ("1004", c => Text(c.IndexIntervalBytes)),
        [ConfigDefinitions.MaxMessageBytes] = ("1005", c => Text(c.MaxMessageBytes)),
        [ConfigDefinitions.MessageTimestampType] = ("LogAppendTime", c => c.MessageTimestampType.ToString()),
        [ConfigDefinitions.MinCleanableDirtyRatio] = ("0.25", c => c.MinCleanableDirtyRatio.ToString(CultureInfo.InvariantCulture)),
        [ConfigDefinitions.MinCompactionLagMs] = ("1006", c => Text(c.MinCompactionLagMs)),
        [ConfigDefinitions.MinInsyncReplicas] = ("2", c => Text(c.MinInsyncReplicas)),
        [ConfigDefinitions.RetentionBytes] = ("1007", c => Text(c.RetentionBytes)),
        [ConfigDefinitions.RetentionMs] = ("1008", c => Text(c.RetentionMs)),
        [ConfigDefinitions.SegmentBytes] = ("1009", c => Text(c.SegmentBytes)),
        [ConfigDefinitions.SegmentIndexBytes] = ("1010", c => Text(c.SegmentIndexBytes)),
        [ConfigDefinitions.SegmentMs] = ("1011", c => Text(c.SegmentMs)),
        [ConfigDefinitions.UncleanLeaderElectionEnable] = ("true", c => c.UncleanLeaderElectionEnable ? "true" : "false"),
    };

    /// <summary>A broker setting's probe: a value other than the default, and what the component holds or does.</summary>
    private sealed record Probe(string Value, Func<string> Observe, bool ReadAtStart = false);

    private Dictionary<string, Probe> BrokerProbes() => new()
    {
        // The controller: topic creation and deletion, seen in what it does.
        [ConfigDefinitions.AutoCreateTopicsEnable] = new("false", () =>
            Broker0.Metadata([NewTopic()], allowAutoTopicCreation: true).Topics[0].Error == ErrorCode.None ? "true" : "false"),
        [ConfigDefinitions.DefaultReplicationFactor] = new("2", () => Text(Broker0.CreateTopics([new CreateTopicParams(NewTopic())])[0].ReplicationFactor)),
        [ConfigDefinitions.NumPartitions] = new("3", () => Text(Broker0.CreateTopics([new CreateTopicParams(NewTopic())])[0].Partitions)),
        [ConfigDefinitions.DeleteTopicEnable] = new("false", () =>
        {
            string name = NewTopic();
            Assert.Equal(ErrorCode.None, Broker0.CreateTopics([new CreateTopicParams(name)])[0].Error);
            return Broker0.DeleteTopics([name])[0].Error == ErrorCode.TopicDeletionDisabled ? "false" : "true";
        }),
        // Topic settings' broker fallback.
        [ConfigDefinitions.LogRetentionHours] = new("1", () => Text(TopicLog.RetentionMs / 3_600_000)),
        // The log scheduler (retention, flusher, cleaner).
        [ConfigDefinitions.LogRetentionCheckIntervalMs] = new("1234", () => Text(Broker0.SchedulerConfig.RetentionCheckIntervalMs)),
        [ConfigDefinitions.LogFlushSchedulerIntervalMs] = new("1235", () => Text(Broker0.SchedulerConfig.FlushSchedulerIntervalMs)),
        [ConfigDefinitions.LogCleanerEnable] = new("false", () => Broker0.SchedulerConfig.CleanerEnable ? "true" : "false"),
        [ConfigDefinitions.LogCleanerBackoffMs] = new("1236", () => Text(Broker0.SchedulerConfig.CleanerBackoffMs)),
        // The group coordinator.
        [ConfigDefinitions.GroupInitialRebalanceDelayMs] = new("1237", () => Text(Broker0.GroupCoordinator.Config.InitialRebalanceDelayMs)),
        [ConfigDefinitions.GroupMinSessionTimeoutMs] = new("1238", () => Text(Broker0.GroupCoordinator.Config.MinSessionTimeoutMs)),
        [ConfigDefinitions.GroupMaxSessionTimeoutMs] = new("1239", () => Text(Broker0.GroupCoordinator.Config.MaxSessionTimeoutMs)),
        [ConfigDefinitions.OffsetMetadataMaxBytes] = new("1240", () => Text(Broker0.GroupCoordinator.Config.OffsetMetadataMaxBytes)),
        [ConfigDefinitions.OffsetsRetentionCheckIntervalMs] = new("1241", () => Text(Broker0.GroupCoordinator.Config.OffsetsRetentionCheckIntervalMs)),
        [ConfigDefinitions.OffsetsTopicNumPartitions] = new("7", () => Text(Broker0.GroupCoordinator.Config.OffsetsTopicPartitions)),
        [ConfigDefinitions.OffsetsTopicReplicationFactor] = new("2", () => Text(Broker0.GroupCoordinator.Config.OffsetsTopicReplicationFactor)),
        [ConfigDefinitions.OffsetsTopicSegmentBytes] = new("1242", () => Text(Broker0.GroupCoordinator.Config.OffsetsTopicSegmentBytes)),
        // Replication.
        [ConfigDefinitions.ReplicaLagTimeMaxMs] = new("1243", () => Text(Broker0.ReplicaLagTimeMaxMs())),
        // Read when the broker starts: the listener and the fetch path.
        [ConfigDefinitions.SocketRequestMaxBytes] = new("1244", () => Text(Listener0.Options.MaxRequestSize), ReadAtStart: true),
        [ConfigDefinitions.QueuedMaxRequestBytes] = new("1245", () => Text(Listener0.Options.QueuedMaxRequestBytes), ReadAtStart: true),
        [ConfigDefinitions.ConnectionsMaxIdleMs] = new("1246", () => Text((long)Listener0.Options.IdleTimeout.TotalMilliseconds), ReadAtStart: true),
        [ConfigDefinitions.FetchMaxBytes] = new("1247", () => Text(Broker0.FetchMaxBytes), ReadAtStart: true),
    };

    [Fact]
    public void Every_topic_config_reaches_the_partitions_LogConfig()
    {
        Assert.All(TopicProbes.Keys, name => Assert.True(ConfigDefinitions.TryGetTopic(name, out _), $"{name} is probed but not defined."));
        AssertOthersAtDefault(changed: null);
        foreach (var def in ConfigDefinitions.Topic)
        {
            if (!AppliesOrSaysWhyNot(def, TopicProbes.ContainsKey(def.Name)))
            {
                Broker0.AlterTopicConfigs(Topic, new Dictionary<string, string?> { [def.Name] = AnotherValue(def) }); // accepted all the same
                Broker0.AlterTopicConfigs(Topic, new Dictionary<string, string?> { [def.Name] = null });
                continue;
            }
            var (value, read) = TopicProbes[def.Name];
            Assert.NotEqual(def.Default, value);

            Broker0.AlterTopicConfigs(Topic, new Dictionary<string, string?> { [def.Name] = value });
            AssertReaches(def.Name, value, read(TopicLog));
            AssertOthersAtDefault(def.Name);

            Broker0.AlterTopicConfigs(Topic, new Dictionary<string, string?> { [def.Name] = null });
            AssertReaches(def.Name, def.Default, read(TopicLog));
        }
    }

    [Fact]
    public void Every_broker_config_reaches_the_component_it_configures()
    {
        var probes = BrokerProbes();
        Assert.All(probes.Keys, name => Assert.True(ConfigDefinitions.TryGetBroker(name, out var d) && !d.ReadOnly, $"{name} is probed but not a broker config one can set."));
        var configs = _t.Cluster.BrokerConfigs;
        foreach (var def in ConfigDefinitions.Broker)
        {
            if (def.ReadOnly)
            {
                AssertFixedAtStart(def);
                continue;
            }
            // A topic config's broker synonym reaches the topic's LogConfig, as the topic config does.
            var topicDef = ConfigDefinitions.Topic.FirstOrDefault(t => t.BrokerSynonym == def.Name);
            var probe = topicDef is not null && TopicProbes.TryGetValue(topicDef.Name, out var topicProbe)
                ? new Probe(topicProbe.Value, () => topicProbe.Read(TopicLog))
                : probes.GetValueOrDefault(def.Name);
            if (!AppliesOrSaysWhyNot(def, probe is not null))
            {
                configs.Set(def.Name, AnotherValue(def)); // accepted all the same
                configs.Set(def.Name, null);
                continue;
            }
            string expectedDefault = def.Default ?? topicDef!.Default!;
            Assert.NotEqual(expectedDefault, probe!.Value);
            AssertReaches(def.Name, expectedDefault, Observe(probe));

            configs.Set(def.Name, probe.Value);
            AssertReaches(def.Name, probe.Value, Observe(probe));
            configs.Set(def.Name, null);
            AssertReaches(def.Name, expectedDefault, Observe(probe));

            if (def.Dynamic) // and as broker 0's own override
            {
                configs.Alter(0, new Dictionary<string, string?> { [def.Name] = probe.Value });
                AssertReaches(def.Name, probe.Value, Observe(probe));
                configs.Alter(0, new Dictionary<string, string?> { [def.Name] = null });
                AssertReaches(def.Name, expectedDefault, Observe(probe));
            }
        }
    }

    [Fact]
    public void Every_config_says_what_it_does()
    {
        foreach (var def in ConfigDefinitions.Topic.Concat(ConfigDefinitions.Broker))
            Assert.False(string.IsNullOrWhiteSpace(def.Documentation), $"{def.Name} has no documentation.");
    }

    // A key configures something (and has a probe), or its definition says it does not, and why; never silently neither.
    private static bool AppliesOrSaysWhyNot(ConfigDefinition def, bool probed)
    {
        if (def.Applies)
        {
            Assert.True(probed, $"{def.Name} is accepted but nothing shows it reaching a component: probe it here, or set Applies = false on its definition with the reason in its documentation.");
            return true;
        }
        Assert.False(probed, $"{def.Name} says it configures nothing (Applies = false), yet it is probed.");
        Assert.False(string.IsNullOrWhiteSpace(def.Documentation), $"{def.Name} configures nothing and its documentation does not say why.");
        return false;
    }

    private static string? AnotherValue(ConfigDefinition def) => def.ValidValues?.First(v => v != def.Default) ?? def.Default;

    private string Observe(Probe probe)
    {
        if (probe.ReadAtStart)
        {
            _t.Cluster.StopBroker(0);
            _t.Cluster.StartBroker(0, port: 0);
        }
        return probe.Observe();
    }

    private static void AssertReaches(string name, string? expected, string actual) =>
        Assert.True(expected == actual, $"{name}: the component holds {actual}, not {expected}.");

    // Every topic config is at its default (changed: null), or all but the one just set: a key whose value does not
    // reach the LogConfig, or reaches another key's property, shows here.
    private void AssertOthersAtDefault(string? changed)
    {
        var config = TopicLog;
        foreach (var (name, (_, read)) in TopicProbes.Where(p => p.Key != changed))
        {
            ConfigDefinitions.TryGetTopic(name, out var other);
            Assert.True(read(config) == other.Default, changed is null
                ? $"{name}: the partition's LogConfig holds {read(config)}, not the default {other.Default}."
                : $"Setting {changed} changed {name}.");
        }
    }

    // broker.id, log.dirs and listeners are the broker's own, fixed when it starts, and cannot be set.
    private void AssertFixedAtStart(ConfigDefinition def)
    {
        string expected = def.Name switch
        {
            ConfigDefinitions.BrokerId => "0",
            ConfigDefinitions.LogDirs => Broker0.LogDirectory,
            ConfigDefinitions.Listeners => $"PLAINTEXT://{Broker0.Host}:{Text(Broker0.Port)}",
            _ => throw new Xunit.Sdk.XunitException($"{def.Name} is read-only but not one of the settings a broker fixes when it starts."),
        };
        var described = Broker0.DescribeConfigs().Single(c => c.Name == def.Name);
        Assert.Equal((expected, ConfigSource.StaticBrokerConfig), (described.Value, described.Source));
        Assert.Equal(ErrorCode.InvalidConfig, Assert.Throws<KafkaException>(() => Broker0.AlterBrokerConfig(def.Name, "x")).Code);
    }
}
