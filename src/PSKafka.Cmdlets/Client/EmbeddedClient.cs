using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Storage;

namespace PSKafka.Cmdlets.Client;

/// <summary>
/// The in-process client: talks to the brokers of a <see cref="KafkaCluster"/> in this process
/// the way a Kafka client talks to brokers (metadata, then each partition's leader), without sockets.
/// </summary>
public sealed partial class EmbeddedClient(KafkaCluster cluster) : IKafkaClient
{
    private static readonly TimeSpan RetryBackoff = TimeSpan.FromMilliseconds(100);

    public KafkaCluster Cluster { get; } = cluster;
    public string Description => $"local cluster in {Cluster.DataDirectory}";

    /// <summary>Any running broker, as a client's bootstrap server.</summary>
    internal Broker AnyBroker() =>
        Cluster.Brokers.FirstOrDefault(b => b.IsRunning)
        ?? throw new KafkaException(ErrorCode.BrokerNotAvailable, $"No broker is running in {Cluster.DataDirectory}. Start one with Start-Broker.");

    internal Broker Leader(string topic, int partition, bool refresh = false)
    {
        var meta = AnyBroker().Metadata([topic]);
        var t = meta.Topics[0];
        if (t.Error != ErrorCode.None) throw new KafkaException(t.Error, $"Topic '{topic}' does not exist.");
        if (partition < 0 || partition >= t.Partitions.Count)
            throw new KafkaException(ErrorCode.UnknownTopicOrPartition, $"Partition {partition} of topic '{topic}' does not exist (the topic has {t.Partitions.Count}).");
        var p = t.Partitions[partition];
        if (p.Leader < 0 || Cluster.GetBroker(p.Leader) is not { IsRunning: true } leader)
            throw new KafkaException(ErrorCode.LeaderNotAvailable, $"Partition {topic}-{partition} has no leader (all of its in-sync replicas are down).");
        return leader;
    }

    public ClusterMetadata GetMetadata(IReadOnlyList<string>? topics = null) => AnyBroker().Metadata(topics);

    public CreateTopicResult CreateTopic(CreateTopicRequest request) => AnyBroker().CreateTopics([request])[0];

    public DeleteTopicResult DeleteTopic(string name) => AnyBroker().DeleteTopics([name])[0];

    public IReadOnlyList<PartitionOffsets> GetOffsets(string topic, IReadOnlyList<int> partitions)
    {
        var result = new List<PartitionOffsets>(partitions.Count);
        foreach (var partition in partitions)
        {
            var leader = Leader(topic, partition);
            var start = leader.ListOffsets([new ListOffsetsPartition(topic, partition, OffsetSpec.Earliest)])[0];
            var end = leader.ListOffsets([new ListOffsetsPartition(topic, partition, OffsetSpec.Latest)])[0];
            if (start.Error != ErrorCode.None) throw new KafkaException(start.Error, $"ListOffsets for {topic}-{partition} failed: {start.Error}.");
            result.Add(new PartitionOffsets(partition, start.Offset, end.Offset));
        }
        return result;
    }

    public IReadOnlyList<ConfigEntry> DescribeTopicConfigs(string topic) =>
        AnyBroker().DescribeConfigs(ConfigResource.ForTopic(topic), Engine.Config.ConfigAccess.Host)
            .OrderBy(c => c.Name, StringComparer.Ordinal)
            .Select(c => new ConfigEntry(c.Name, c.Value ?? "", SourceName(c.Source), c.Source == Engine.Config.ConfigSource.Default))
            .ToList();

    public void AlterTopicConfigs(string topic, IReadOnlyDictionary<string, string?> changes) =>
        AnyBroker().AlterConfigs(ConfigResource.ForTopic(topic), changes, Engine.Config.ConfigAccess.Host);

    internal static string SourceName(Engine.Config.ConfigSource source) => source switch
    {
        Engine.Config.ConfigSource.TopicConfig => "DYNAMIC_TOPIC_CONFIG",
        Engine.Config.ConfigSource.DynamicBrokerConfig => "DYNAMIC_DEFAULT_BROKER_CONFIG",
        Engine.Config.ConfigSource.PerBrokerConfig => "DYNAMIC_BROKER_CONFIG",
        Engine.Config.ConfigSource.StaticBrokerConfig => "STATIC_BROKER_CONFIG",
        _ => "DEFAULT_CONFIG",
    };

    public IReadOnlyList<LeaderElectionResult> ElectPreferredLeaders(IReadOnlyList<TopicPartition>? partitions) =>
        AnyBroker().ElectLeaders(ElectionType.Preferred, partitions);

    public IProducerSession OpenProducer(ProducerSettings settings) => new EmbeddedProducer(this, settings);

    public IConsumerSession OpenConsumer(ConsumerSettings settings) => new EmbeddedConsumer(this, settings);

    /// <summary>Retries what a Kafka client retries (leader moved, not available yet) until the deadline.</summary>
    internal static bool IsRetriable(ErrorCode code) => code is ErrorCode.NotLeaderOrFollower or ErrorCode.LeaderNotAvailable
        or ErrorCode.NotEnoughReplicas or ErrorCode.NotEnoughReplicasAfterAppend or ErrorCode.RequestTimedOut or ErrorCode.BrokerNotAvailable;

    internal static void Backoff(CancellationToken ct) => ct.WaitHandle.WaitOne(RetryBackoff);
}
