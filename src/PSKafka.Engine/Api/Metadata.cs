namespace PSKafka.Engine.Api;

/// <summary>Metadata (API key 3): the cluster as a client sees it.</summary>
public sealed record ClusterMetadata(
    string ClusterId,
    int ControllerId,
    IReadOnlyList<BrokerMetadata> Brokers,
    IReadOnlyList<TopicMetadata> Topics);

public sealed record BrokerMetadata(int Id, string Host, int Port, string? Rack = null);

public sealed record TopicMetadata(
    string Name,
    Guid TopicId,
    ErrorCode Error,
    IReadOnlyList<PartitionMetadata> Partitions,
    bool IsInternal = false);

public sealed record PartitionMetadata(
    int Partition,
    ErrorCode Error,
    int Leader,
    int LeaderEpoch,
    IReadOnlyList<int> Replicas,
    IReadOnlyList<int> Isr,
    IReadOnlyList<int> OfflineReplicas);
