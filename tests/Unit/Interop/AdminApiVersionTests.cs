using System.Net;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Network;
using PSKafka.Engine.Protocol;
using PSKafka.Engine.Protocol.Messages;
using PSKafka.Tests.Protocol;

namespace PSKafka.Tests.Interop;

/// <summary>
/// ElectLeaders, AlterConfigs, IncrementalAlterConfigs and DescribeConfigs of brokers, version by version through
/// BrokerKafkaApi and an encode/decode at the asked version: the answers Kafka gives, per partition and per resource.
/// </summary>
[Collection("Interop")]
public sealed class AdminApiVersionTests : IDisposable
{
    private readonly WireCluster _c = new(brokers: 3);

    public void Dispose() => _c.Dispose();

    private static RequestContext Context(short version) => MessageFixtures.Context(version);

    private static T Call<TRequest, T>(Func<TRequest, RequestContext, CancellationToken, ValueTask<T>> api, TRequest request, short version)
        where TRequest : IProtocolMessage<TRequest> where T : IProtocolMessage<T> => MessageFixtures.Call(api, request, version);

    private BrokerKafkaApi Api(int broker) => new(_c.Cluster.GetBroker(broker)!);


    private (int Leader, int[] Isr) State(string topic, int partition)
    {
        var p = _c.Cluster.Controller.Describe([topic], false).Topics[0].Partitions[partition];
        return (p.Leader, p.Isr.ToArray());
    }

    private int Preferred(string topic, int partition) => _c.Cluster.Controller.Describe([topic], false).Topics[0].Partitions[partition].Replicas[0];

    /// <summary>The preferred replica of partition 0 restarts: another broker leads it, and the preferred one is back in the ISR.</summary>
    private void Failover(string topic)
    {
        int preferred = Preferred(topic, 0);
        _c.Cluster.StopBroker(preferred);
        _c.Cluster.StartBroker(preferred);
        Patience.Wait(() => State(topic, 0).Isr.Contains(preferred), $"broker {preferred} back in the ISR of {topic}-0");
        Assert.NotEqual(preferred, State(topic, 0).Leader);
    }

    private static ElectLeadersRequest Elect(sbyte type, params (string Topic, int[] Partitions)[]? partitions) => new()
    {
        ElectionType = type,
        TopicPartitions = partitions?.Select(p => new ElectLeadersRequest.ElectionTopic { Topic = p.Topic, Partitions = p.Partitions.ToList() }).ToList(),
    };

    private static Dictionary<string, short> Codes(ElectLeadersResponse r) =>
        r.ReplicaElectionResults.SelectMany(t => t.PartitionResult.Select(p => ($"{t.Topic}-{p.PartitionId}", p.ErrorCode))).ToDictionary(x => x.Item1, x => x.ErrorCode);

    [Fact]
    public void ElectLeaders_moves_leadership_back_to_the_preferred_replica_in_every_version()
    {
        _c.CreateTopic("e", partitions: 3, replicationFactor: 3);
        for (short v = 0; v <= 2; v++)
        {
            Failover("e");
            var r = Call<ElectLeadersRequest, ElectLeadersResponse>(Api(v).ElectLeadersAsync, Elect(0, ("e", [0, 1, 9]), ("nosuch", [0])), v);
            Assert.Equal(0, r.ErrorCode);
            var codes = Codes(r);
            Assert.True(codes["e-0"] == 0, $"v{v}: {codes["e-0"]} {r.ReplicaElectionResults[0].PartitionResult[0].ErrorMessage} now {State("e", 0)}");
            Assert.Equal((short)ErrorCode.ElectionNotNeeded, codes["e-1"]);
            Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, codes["e-9"]);
            Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, codes["nosuch-0"]);
            Assert.Null(r.ReplicaElectionResults[0].PartitionResult[0].ErrorMessage);
            Assert.Equal(Preferred("e", 0), State("e", 0).Leader);
        }
    }

    [Fact]
    public void ElectLeaders_for_every_partition_reports_only_the_partitions_whose_leader_changed_or_could_not()
    {
        _c.CreateTopic("all", partitions: 3, replicationFactor: 3);
        Failover("all");
        var r = Call<ElectLeadersRequest, ElectLeadersResponse>(Api(2).ElectLeadersAsync, Elect(0, null), 2);
        var topic = Assert.Single(r.ReplicaElectionResults, t => t.Topic == "all");
        var only = Assert.Single(topic.PartitionResult);
        Assert.Equal((0, (short)0), (only.PartitionId, only.ErrorCode)); // the other two are led by their preferred replicas

        r = Call<ElectLeadersRequest, ElectLeadersResponse>(Api(2).ElectLeadersAsync, Elect(0, null), 2);
        Assert.Empty(Assert.Single(r.ReplicaElectionResults, t => t.Topic == "all").PartitionResult);
    }

    [Fact]
    public void ElectLeaders_says_when_the_preferred_replica_is_down_and_refuses_an_unknown_election_type()
    {
        _c.CreateTopic("down", partitions: 1, replicationFactor: 3);
        int preferred = Preferred("down", 0), other = (preferred + 1) % 3;
        _c.Cluster.StopBroker(preferred);
        var r = Call<ElectLeadersRequest, ElectLeadersResponse>(Api(other).ElectLeadersAsync, Elect(0, ("down", [0])), 1);
        Assert.Equal((short)ErrorCode.PreferredLeaderNotAvailable, Codes(r)["down-0"]);

        r = Call<ElectLeadersRequest, ElectLeadersResponse>(Api(other).ElectLeadersAsync, Elect(7, ("down", [0])), 1);
        Assert.Equal((short)ErrorCode.InvalidRequest, r.ErrorCode);
        Assert.Equal((short)ErrorCode.InvalidRequest, Codes(r)["down-0"]);
    }

    [Fact]
    public void Unclean_election_gives_a_leaderless_partition_a_live_replica_out_of_the_ISR()
    {
        var created = _c.Cluster.Controller.CreateTopics([new CreateTopicParams("u", Assignments: new Dictionary<int, IReadOnlyList<int>> { [0] = [1, 2] })], false);
        Assert.Equal(ErrorCode.None, created[0].Error);
        _c.Cluster.StopBroker(1);
        _c.Cluster.StopBroker(2); // offline, last in-sync replica 2
        _c.Cluster.StartBroker(1); // not in the ISR: stays offline without unclean election
        Assert.Equal(-1, State("u", 0).Leader);

        var preferred = Call<ElectLeadersRequest, ElectLeadersResponse>(Api(0).ElectLeadersAsync, Elect(0, ("u", [0])), 2);
        Assert.Equal((short)ErrorCode.PreferredLeaderNotAvailable, Codes(preferred)["u-0"]);

        var r = Call<ElectLeadersRequest, ElectLeadersResponse>(Api(0).ElectLeadersAsync, Elect(1, ("u", [0])), 2);
        Assert.Equal((short)ErrorCode.None, Codes(r)["u-0"]);
        Assert.Equal(1, State("u", 0).Leader);
        Assert.Equal([1], State("u", 0).Isr);

        r = Call<ElectLeadersRequest, ElectLeadersResponse>(Api(0).ElectLeadersAsync, Elect(1, ("u", [0])), 1);
        Assert.Equal((short)ErrorCode.ElectionNotNeeded, Codes(r)["u-0"]);

        _c.Cluster.StopBroker(1);
        r = Call<ElectLeadersRequest, ElectLeadersResponse>(Api(0).ElectLeadersAsync, Elect(1, ("u", [0])), 1);
        Assert.Equal((short)ErrorCode.EligibleLeadersNotAvailable, Codes(r)["u-0"]);
    }

    private static AlterConfigsRequest Alter(sbyte type, string name, bool validateOnly, params (string Name, string? Value)[] configs) => new()
    {
        ValidateOnly = validateOnly,
        Resources = [new AlterConfigsRequest.AlterConfigsResource
        {
            ResourceType = type, ResourceName = name,
            Configs = configs.Select(c => new AlterConfigsRequest.AlterableConfig { Name = c.Name, Value = c.Value }).ToList(),
        }],
    };

    private static (short Code, string? Message) Only(AlterConfigsResponse r) => (Assert.Single(r.Responses).ErrorCode, r.Responses[0].ErrorMessage);

    [Fact]
    public void AlterConfigs_replaces_a_topics_whole_set_of_overrides_in_every_version()
    {
        _c.CreateTopic("cfg", partitions: 1, replicationFactor: 1);
        var controller = _c.Cluster.Controller;
        for (short v = 0; v <= 2; v++)
        {
            var api = Api(v);
            Assert.Equal(0, Only(Call<AlterConfigsRequest, AlterConfigsResponse>(api.AlterConfigsAsync, Alter(2, "cfg", false, ("retention.ms", "60000"), ("segment.bytes", "1048576")), v)).Code);
            Assert.Equal(("60000", Engine.Config.ConfigSource.TopicConfig), controller.SettingsFor("cfg").Values["retention.ms"]);

            // validate only: checked, not changed
            Assert.Equal(0, Only(Call<AlterConfigsRequest, AlterConfigsResponse>(api.AlterConfigsAsync, Alter(2, "cfg", true, ("cleanup.policy", "compact")), v)).Code);
            Assert.Equal("60000", controller.SettingsFor("cfg")["retention.ms"]);

            // the set given is the whole set: retention.ms and segment.bytes go back to their defaults
            Assert.Equal(0, Only(Call<AlterConfigsRequest, AlterConfigsResponse>(api.AlterConfigsAsync, Alter(2, "cfg", false, ("cleanup.policy", "compact")), v)).Code);
            var settings = controller.SettingsFor("cfg").Values;
            Assert.Equal(Engine.Config.ConfigSource.Default, settings["retention.ms"].Source);
            Assert.Equal(Engine.Config.ConfigSource.Default, settings["segment.bytes"].Source);
            Assert.Equal(("compact", Engine.Config.ConfigSource.TopicConfig), settings["cleanup.policy"]);
            Assert.Equal(0, Only(Call<AlterConfigsRequest, AlterConfigsResponse>(api.AlterConfigsAsync, Alter(2, "cfg", false), v)).Code);
            Assert.Equal(Engine.Config.ConfigSource.Default, controller.SettingsFor("cfg").Values["cleanup.policy"].Source);
        }
    }

    [Fact]
    public void AlterConfigs_answers_each_resource_with_Kafkas_error()
    {
        _c.CreateTopic("bad", partitions: 1, replicationFactor: 1);
        var api = Api(0);
        (short, string?) Send(AlterConfigsRequest r) => Only(Call<AlterConfigsRequest, AlterConfigsResponse>(api.AlterConfigsAsync, r, 1));
        Assert.Equal((short)ErrorCode.UnknownTopicOrPartition, Send(Alter(2, "nosuch", false, ("retention.ms", "1"))).Item1);
        Assert.Equal((short)ErrorCode.InvalidConfig, Send(Alter(2, "bad", false, ("retention.ms", "soon"))).Item1);
        Assert.Equal((short)ErrorCode.InvalidConfig, Send(Alter(2, "bad", false, ("no.such.config", "1"))).Item1);
        Assert.Equal((short)ErrorCode.InvalidRequest, Send(Alter(2, "bad", false, ("retention.ms", null))).Item1);
        Assert.Equal((short)ErrorCode.InvalidRequest, Send(Alter(2, "bad", false, ("retention.ms", "1"), ("retention.ms", "2"))).Item1);
        Assert.Equal((short)ErrorCode.InvalidRequest, Send(Alter(9, "bad", false, ("retention.ms", "1"))).Item1);
        Assert.Equal(Engine.Config.ConfigSource.Default, _c.Cluster.Controller.SettingsFor("bad").Values["retention.ms"].Source);

        var twice = Alter(2, "bad", false, ("retention.ms", "1"));
        twice.Resources.Add(twice.Resources[0]);
        var r = Call<AlterConfigsRequest, AlterConfigsResponse>(api.AlterConfigsAsync, twice, 1);
        Assert.All(r.Responses, x => Assert.Equal((short)ErrorCode.InvalidRequest, x.ErrorCode));
    }

    [Fact]
    public void Broker_resources_are_the_cluster_wide_default_or_the_broker_asked_and_only_dynamic_configs_change()
    {
        var configs = _c.Cluster.BrokerConfigs;
        configs.Set("group.initial.rebalance.delay.ms", "0"); // server.properties-like: stays when "" is replaced
        (short, string?) Send(int broker, AlterConfigsRequest r) => Only(Call<AlterConfigsRequest, AlterConfigsResponse>(Api(broker).AlterConfigsAsync, r, 2));

        Assert.Equal(0, Send(0, Alter(4, "", false, ("log.retention.ms", "3600000"))).Item1);
        Assert.Equal("3600000", configs.ClusterWide["log.retention.ms"]);
        Assert.Equal("0", configs.ClusterWide["group.initial.rebalance.delay.ms"]);

        var readOnly = Send(0, Alter(4, "", false, ("num.partitions", "3")));
        Assert.Equal((short)ErrorCode.InvalidRequest, readOnly.Item1);
        Assert.Contains("Cannot update these configs dynamically", readOnly.Item2);
        Assert.Equal((short)ErrorCode.InvalidRequest, Send(0, Alter(4, "", false, ("log.segment.bytes", "3"))).Item1);
        Assert.Equal((short)ErrorCode.InvalidRequest, Send(0, Alter(4, "", false, ("broker.id", "5"))).Item1);

        // a broker's resource goes to that broker; another broker answers INVALID_REQUEST, as Kafka does
        var wrong = Send(0, Alter(4, "1", false, ("log.segment.bytes", "1048576")));
        Assert.Equal((short)ErrorCode.InvalidRequest, wrong.Item1);
        Assert.Contains("Unexpected broker id", wrong.Item2);
        Assert.Equal(0, Send(1, Alter(4, "1", false, ("log.segment.bytes", "1048576"))).Item1);
        Assert.Equal("1048576", configs.Overrides(1)["log.segment.bytes"]);
        Assert.Empty(configs.Overrides(0));

        // the override reaches broker 1's logs only
        _c.CreateTopic("per-broker", partitions: 1, replicationFactor: 3);
        Assert.Equal(1_048_576, _c.Cluster.GetBroker(1)!.GetReplica(new TopicPartition("per-broker", 0))!.Log.Config.SegmentBytes);
        Assert.Equal(1_073_741_824, _c.Cluster.GetBroker(0)!.GetReplica(new TopicPartition("per-broker", 0))!.Log.Config.SegmentBytes);

        // replacing "" drops the dynamic defaults not named, keeps the rest
        Assert.Equal(0, Send(2, Alter(4, "", false)).Item1);
        Assert.False(configs.ClusterWide.ContainsKey("log.retention.ms"));
        Assert.Equal("0", configs.ClusterWide["group.initial.rebalance.delay.ms"]);
    }

    private static IncrementalAlterConfigsRequest Incremental(sbyte type, string name, params (string Name, sbyte Op, string? Value)[] configs) => new()
    {
        Resources = [new IncrementalAlterConfigsRequest.AlterConfigsResource
        {
            ResourceType = type, ResourceName = name,
            Configs = configs.Select(c => new IncrementalAlterConfigsRequest.AlterableConfig { Name = c.Name, ConfigOperation = c.Op, Value = c.Value }).ToList(),
        }],
    };

    private DescribeConfigsResponse.DescribeConfigsResult Describe(int broker, string name, short version, params string[] keys) =>
        Assert.Single(Call<DescribeConfigsRequest, DescribeConfigsResponse>(Api(broker).DescribeConfigsAsync, new DescribeConfigsRequest
        {
            IncludeSynonyms = version >= 1,
            Resources = [new DescribeConfigsRequest.DescribeConfigsResource { ResourceType = 4, ResourceName = name, ConfigurationKeys = keys.ToList() }],
        }, version).Results);

    [Fact]
    public void IncrementalAlterConfigs_and_DescribeConfigs_of_brokers_show_overrides_with_Kafkas_sources_and_read_only_flags()
    {
        for (short v = 0; v <= 1; v++)
        {
            var set = Call<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse>(Api(2).IncrementalAlterConfigsAsync,
                Incremental(4, "2", ("log.retention.ms", 0, "7200000"), ("min.insync.replicas", 0, "2")), v);
            Assert.Equal(0, Assert.Single(set.Responses).ErrorCode);
            var nullSet = Call<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse>(Api(2).IncrementalAlterConfigsAsync,
                Incremental(4, "2", ("log.retention.ms", 0, null)), v);
            Assert.Equal((short)ErrorCode.InvalidRequest, nullSet.Responses[0].ErrorCode);
            var cluster = Call<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse>(Api(0).IncrementalAlterConfigsAsync,
                Incremental(4, "", ("log.retention.ms", 0, "3600000")), v);
            Assert.Equal(0, cluster.Responses[0].ErrorCode);
        }

        for (short v = 0; v <= 4; v++)
        {
            var mine = Describe(2, "2", v).Configs.ToDictionary(c => c.Name); // empty keys: every config
            Assert.Equal("7200000", mine["log.retention.ms"].Value);
            Assert.Equal("2", mine["broker.id"].Value);
            Assert.True(mine["broker.id"].ReadOnly);
            Assert.True(mine["num.partitions"].ReadOnly); // not dynamic in Kafka
            Assert.False(mine["log.retention.ms"].ReadOnly);
            if (v >= 1)
            {
                Assert.Equal(2, mine["log.retention.ms"].ConfigSource); // DYNAMIC_BROKER_CONFIG
                Assert.Equal(new sbyte[] { 2, 3 }, mine["log.retention.ms"].Synonyms.Select(s => s.Source).ToArray());
                Assert.Equal(4, mine["broker.id"].ConfigSource); // STATIC_BROKER_CONFIG
                Assert.Equal(5, mine["num.partitions"].ConfigSource); // DEFAULT_CONFIG
            }
            else
            {
                Assert.True(mine["num.partitions"].IsDefault);
                Assert.False(mine["log.retention.ms"].IsDefault);
            }

            var other = Describe(0, "0", v, "log.retention.ms").Configs;
            Assert.Equal("3600000", Assert.Single(other).Value);
            if (v >= 1) Assert.Equal(3, other[0].ConfigSource); // DYNAMIC_DEFAULT_BROKER_CONFIG

            var defaults = Describe(1, "", v);
            Assert.Equal(0, defaults.ErrorCode);
            Assert.Equal("log.retention.ms", Assert.Single(defaults.Configs).Name);

            var wrong = Describe(1, "2", v);
            Assert.Equal((short)ErrorCode.InvalidRequest, wrong.ErrorCode);
        }

        var delete = Call<IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse>(Api(2).IncrementalAlterConfigsAsync,
            Incremental(4, "2", ("log.retention.ms", 1, null), ("min.insync.replicas", 1, null)), 1);
        Assert.Equal(0, delete.Responses[0].ErrorCode);
        Assert.Empty(_c.Cluster.BrokerConfigs.Overrides(2));
        Assert.Equal(3, Describe(2, "2", 1, "log.retention.ms").Configs[0].ConfigSource);
    }
}
