using System.Collections.Concurrent;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Storage;

namespace PSKafka.Client;

/// <summary>
/// The in-process client: talks to the brokers of a <see cref="KafkaCluster"/> in this process
/// the way a Kafka client talks to brokers (metadata, then each partition's leader), without sockets.
/// Like a Kafka client it keeps a metadata cache: each topic's partitions with their leaders, from the
/// last metadata answer that named the topic. Requests go to the cached leader; the topic is asked for
/// again when the cache does not have it or the partition, when the cached leader is not running or has
/// none, and when a broker answers NOT_LEADER_OR_FOLLOWER or UNKNOWN_TOPIC_OR_PARTITION.
/// </summary>
public sealed partial class EmbeddedClient(KafkaCluster cluster) : IKafkaClient
{
    private static readonly TimeSpan RetryBackoff = TimeSpan.FromMilliseconds(100);

    private readonly ConcurrentDictionary<string, TopicMetadata> _metadata = new(StringComparer.Ordinal);

    public KafkaCluster Cluster { get; } = cluster;
    public string Description => $"local cluster in {Cluster.DataDirectory}";

    /// <summary>Any running broker, as a client's bootstrap server.</summary>
    internal Broker AnyBroker() =>
        Cluster.Brokers.FirstOrDefault(b => b.IsRunning)
        ?? throw new KafkaException(ErrorCode.BrokerNotAvailable, $"No broker is running in {Cluster.DataDirectory}. Start one with Start-Broker.");

    /// <summary>The partition's leader as the cache knows it, else as a fresh metadata request names it.</summary>
    internal Broker Leader(string topic, int partition)
    {
        if (_metadata.TryGetValue(topic, out var cached) && RunningLeader(cached, partition) is { } known) return known;
        var t = Metadata([topic], allowAutoTopicCreation: false).Topics[0];
        TopicChecks.Require(t, [partition]);
        return RunningLeader(t, partition)
            ?? throw new KafkaException(ErrorCode.LeaderNotAvailable, $"Partition {topic}-{partition} has no leader (all of its in-sync replicas are down).");
    }

    private Broker? RunningLeader(TopicMetadata topic, int partition) =>
        partition >= 0 && partition < topic.Partitions.Count && topic.Partitions[partition].Leader is >= 0 and var id
        && Cluster.GetBroker(id) is { IsRunning: true } leader ? leader : null;

    /// <summary>
    /// A request to a partition's leader. When the broker answers that it does not lead the partition or does not
    /// know it (the leader moved, the topic was deleted or made again), the topic's metadata is asked for again and
    /// the request goes once more, to the leader it names.
    /// </summary>
    internal T AtLeader<T>(string topic, int partition, Func<Broker, T> request, Func<T, ErrorCode> errorOf)
    {
        var result = request(Leader(topic, partition));
        if (!IsStaleMetadata(errorOf(result))) return result;
        Forget(topic);
        return request(Leader(topic, partition));
    }

    /// <summary>The broker's answer says the cached metadata of the partition is out of date.</summary>
    internal static bool IsStaleMetadata(ErrorCode code) => code is ErrorCode.NotLeaderOrFollower or ErrorCode.UnknownTopicOrPartition;

    /// <summary>Drops a topic from the metadata cache: its next request asks for its metadata first.</summary>
    internal void Forget(string topic) => _metadata.TryRemove(topic, out _);

    public ClusterMetadata GetMetadata(IReadOnlyList<string>? topics = null) => Metadata(topics, allowAutoTopicCreation: false);

    /// <summary>A metadata request to any broker; what it answers replaces what the cache had of those topics.</summary>
    internal ClusterMetadata Metadata(IReadOnlyList<string>? topics, bool allowAutoTopicCreation)
    {
        var metadata = AnyBroker().Metadata(topics, allowAutoTopicCreation);
        // All topics: the ones not named are gone.
        if (topics is null)
        {
            var named = metadata.Topics.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var name in _metadata.Keys)
                if (!named.Contains(name)) Forget(name);
        }
        foreach (var t in metadata.Topics)
        {
            if (t.Error == ErrorCode.None) _metadata[t.Name] = t;
            else Forget(t.Name);
        }
        return metadata;
    }

    public CreateTopicResult CreateTopic(CreateTopicParams request)
    {
        Forget(request.Name); // a topic of that name this client knew is gone
        return AnyBroker().CreateTopics([request])[0];
    }

    public DeleteTopicResult DeleteTopic(string name)
    {
        var result = AnyBroker().DeleteTopics([name])[0];
        Forget(name);
        return result;
    }

    public IReadOnlyList<PartitionOffsets> GetOffsets(string topic, IReadOnlyList<int> partitions)
    {
        var result = new List<PartitionOffsets>(partitions.Count);
        foreach (var partition in partitions)
        {
            var (start, end) = AtLeader(topic, partition, leader => (
                Start: leader.ListOffsets([new ListOffsetsPartitionParams(topic, partition, OffsetSpec.Earliest)])[0],
                End: leader.ListOffsets([new ListOffsetsPartitionParams(topic, partition, OffsetSpec.Latest)])[0]), r => r.Start.Error);
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
