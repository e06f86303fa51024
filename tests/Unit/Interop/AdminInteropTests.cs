using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace PSKafka.Tests.Interop;

/// <summary>
/// Leader election and broker configs with clients no one here wrote: Confluent.Kafka's admin client (librdkafka) and
/// kafka-python's KafkaAdminClient, against a 3-broker PSKafka cluster.
/// </summary>
[Collection("Interop")]
public sealed class AdminInteropTests : IDisposable
{
    private readonly WireCluster _c = new(brokers: 3);

    public void Dispose() => _c.Dispose();

    private IAdminClient Admin() => new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _c.Bootstrap }).Build();

    private (int Leader, int Preferred, int[] Isr) State(string topic, int partition)
    {
        var p = _c.Cluster.Controller.Describe([topic], false).Topics[0].Partitions[partition];
        return (p.Leader, p.Replicas[0], p.Isr.ToArray());
    }

    [Fact]
    public async Task Confluent_ElectLeaders_moves_a_leader_back_to_its_preferred_replica_after_a_broker_restart()
    {
        _c.CreateTopic("elect", partitions: 3, replicationFactor: 3);
        int preferred = State("elect", 0).Preferred;
        _c.Cluster.StopBroker(preferred);
        _c.Cluster.StartBroker(preferred);
        var deadline = DateTime.UtcNow + Patience.Deadline;
        while (!State("elect", 0).Isr.Contains(preferred) && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.NotEqual(preferred, State("elect", 0).Leader);

        using var admin = Admin();
        var result = await admin.ElectLeadersAsync(ElectionType.Preferred, [new TopicPartition("elect", 0)]);
        Assert.Equal(ErrorCode.NoError, Assert.Single(result.TopicPartitions).Error.Code);
        Assert.Equal(preferred, State("elect", 0).Leader);
        var meta = admin.GetMetadata("elect", TimeSpan.FromSeconds(10));
        Assert.Equal(preferred, meta.Topics[0].Partitions.Single(p => p.PartitionId == 0).Leader);

        // Asked again: Kafka's ELECTION_NOT_NEEDED, which librdkafka reports as a failed partition.
        var again = await Assert.ThrowsAsync<ElectLeadersException>(() => admin.ElectLeadersAsync(ElectionType.Preferred, [new TopicPartition("elect", 0)]));
        Assert.Equal(ErrorCode.ElectionNotNeeded, again.Results.TopicPartitions[0].Error.Code);
    }

    [Fact]
    public async Task Confluent_describes_and_alters_a_brokers_configs()
    {
        using var admin = Admin();
        var broker1 = new ConfigResource { Type = ResourceType.Broker, Name = "1" };
        await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [broker1] = [new ConfigEntry { Name = "log.retention.ms", Value = "3600000", IncrementalOperation = AlterConfigOpType.Set }],
        });
        var described = await admin.DescribeConfigsAsync([broker1]);
        var entries = described[0].Entries;
        Assert.Equal("3600000", entries["log.retention.ms"].Value);
        Assert.Equal(ConfigSource.DynamicBrokerConfig, entries["log.retention.ms"].Source);
        Assert.False(entries["log.retention.ms"].IsReadOnly);
        Assert.Equal("1", entries["broker.id"].Value);
        Assert.Equal(ConfigSource.StaticBrokerConfig, entries["broker.id"].Source);
        Assert.True(entries["num.partitions"].IsReadOnly);
        Assert.Equal("3600000", _c.Cluster.BrokerConfigs.Overrides(1)["log.retention.ms"]);

        // What Kafka cannot change at runtime is refused per resource.
        var refused = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() => admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [broker1] = [new ConfigEntry { Name = "num.partitions", Value = "3", IncrementalOperation = AlterConfigOpType.Set }],
        }));
        Assert.Equal(ErrorCode.InvalidRequest, refused.Results[0].Error.Code);
        Assert.Contains("Cannot update these configs dynamically", refused.Results[0].Error.Reason);

        await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>>
        {
            [broker1] = [new ConfigEntry { Name = "log.retention.ms", IncrementalOperation = AlterConfigOpType.Delete }],
        });
        Assert.Empty(_c.Cluster.BrokerConfigs.Overrides(1));
    }

    [Fact]
    public void Kafka_python_alter_configs_replaces_a_topics_and_the_cluster_defaults_configs_and_describe_configs_reads_them()
    {
        Tools.RequireKafkaPython();
        _c.CreateTopic("pycfg", partitions: 1, replicationFactor: 1);
        _c.Cluster.Controller.AlterTopicConfigs("pycfg", new Dictionary<string, string?> { ["segment.bytes"] = "1048576" });
        var r = Tools.Python($$"""
            import json
            from kafka import KafkaAdminClient
            from kafka.admin import ConfigResource, ConfigResourceType
            admin = KafkaAdminClient(bootstrap_servers='{{_c.Bootstrap}}'.split(','))
            out = {}
            res = admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, 'pycfg', configs={'retention.ms': '60000'})])
            out['topic'] = [[e[0], e[1]] for e in res.resources]
            res = admin.alter_configs([ConfigResource(ConfigResourceType.BROKER, '', configs={'log.retention.ms': '7200000'})])
            out['default'] = [[e[0], e[1]] for e in res.resources]
            res = admin.alter_configs([ConfigResource(ConfigResourceType.BROKER, '', configs={'num.partitions': '4'})])
            out['readonly'] = [[e[0], e[1]] for e in res.resources]
            for r in admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, 'pycfg')]):
                out['topic_configs'] = {c[0]: c[1] for c in r.resources[0][4]}
            for r in admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, '2')]):
                out['broker_configs'] = {c[0]: c[1] for c in r.resources[0][4]}
            admin.close()
            print(json.dumps(out))
            """);
        Assert.True(r.ExitCode == 0, r.ToString());
        using var json = System.Text.Json.JsonDocument.Parse(r.Stdout.Trim().Split('\n')[^1]);
        var root = json.RootElement;
        Assert.Equal(0, root.GetProperty("topic")[0][0].GetInt32());
        Assert.Equal(0, root.GetProperty("default")[0][0].GetInt32());
        Assert.Equal((int)Engine.ErrorCode.InvalidRequest, root.GetProperty("readonly")[0][0].GetInt32());
        Assert.Equal("60000", root.GetProperty("topic_configs").GetProperty("retention.ms").GetString());
        Assert.Equal("1073741824", root.GetProperty("topic_configs").GetProperty("segment.bytes").GetString()); // replaced: not in the set given
        Assert.Equal("2", root.GetProperty("broker_configs").GetProperty("broker.id").GetString());
        Assert.Equal("7200000", root.GetProperty("broker_configs").GetProperty("log.retention.ms").GetString());
        Assert.Equal("7200000", _c.Cluster.BrokerConfigs.ClusterWide["log.retention.ms"]);
        Assert.Equal("1", _c.Cluster.BrokerConfigs.Get("num.partitions"));
    }
}
