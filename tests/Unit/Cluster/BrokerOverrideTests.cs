using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Config;

namespace PSKafka.Tests.Cluster;

/// <summary>Per-broker overrides (DYNAMIC_BROKER_CONFIG): what they may hold, where they apply, and that they persist.</summary>
public sealed class BrokerOverrideTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pskafka-override-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        KafkaCluster.Find(_dir)?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void An_override_wins_on_its_broker_only_takes_dynamic_settings_only_and_survives_a_restart()
    {
        var cluster = KafkaCluster.Open(_dir);
        cluster.StartBroker(port: 0);
        cluster.StartBroker(port: 0);
        var controller = cluster.Controller;
        var configs = cluster.BrokerConfigs;
        configs.Set("log.retention.ms", "7200000");
        configs.Alter(1, new Dictionary<string, string?> { ["log.retention.ms"] = "60000" });
        Assert.Equal(ErrorCode.InvalidConfig, Assert.Throws<KafkaException>(() =>
            configs.Alter(1, new Dictionary<string, string?> { ["num.partitions"] = "3" })).Code);
        // all or nothing: a bad value leaves the good one unset
        Assert.Throws<KafkaException>(() => configs.Alter(1, new Dictionary<string, string?> { ["log.segment.bytes"] = "1048576", ["min.insync.replicas"] = "0" }));
        Assert.False(configs.Overrides(1).ContainsKey("log.segment.bytes"));

        Assert.Equal(ErrorCode.None, controller.CreateTopics([new CreateTopicParams("t", 1, 2)], false)[0].Error);
        Assert.Equal(("60000", ConfigSource.PerBrokerConfig), controller.SettingsFor("t", 1).Values["retention.ms"]);
        Assert.Equal(("7200000", ConfigSource.DynamicBrokerConfig), controller.SettingsFor("t", 0).Values["retention.ms"]);
        Assert.Equal(60_000, cluster.GetBroker(1)!.GetReplica(new TopicPartition("t", 0))!.Log.Config.RetentionMs);
        Assert.Equal(7_200_000, cluster.GetBroker(0)!.GetReplica(new TopicPartition("t", 0))!.Log.Config.RetentionMs);
        Assert.Equal("60000", configs.Get("log.retention.ms", 1));
        Assert.Equal(ConfigSource.PerBrokerConfig, cluster.GetBroker(1)!.DescribeConfigs().Single(c => c.Name == "log.retention.ms").Source);

        cluster.Dispose();
        var again = KafkaCluster.Open(_dir);
        again.StartBroker(0);
        again.StartBroker(1);
        Assert.Equal("60000", again.BrokerConfigs.Overrides(1)["log.retention.ms"]);
        Assert.Equal(60_000, again.GetBroker(1)!.GetReplica(new TopicPartition("t", 0))!.Log.Config.RetentionMs);
        again.BrokerConfigs.Alter(1, new Dictionary<string, string?> { ["log.retention.ms"] = null });
        Assert.Empty(again.BrokerConfigs.Overrides(1));
        Assert.Equal(7_200_000, again.GetBroker(1)!.GetReplica(new TopicPartition("t", 0))!.Log.Config.RetentionMs);
    }
}
