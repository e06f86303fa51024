namespace PSKafka.Engine.Api;

/// <summary>CreateTopics (API key 19). -1 partitions or replication factor means the broker default.</summary>
public sealed record CreateTopicRequest(
    string Name,
    int Partitions = -1,
    short ReplicationFactor = -1,
    IReadOnlyDictionary<string, string>? Configs = null,
    IReadOnlyDictionary<int, IReadOnlyList<int>>? Assignments = null);

public sealed record CreateTopicResult(string Name, ErrorCode Error, string? ErrorMessage, Guid TopicId = default, int Partitions = -1, short ReplicationFactor = -1);

/// <summary>DeleteTopics (API key 20).</summary>
public sealed record DeleteTopicResult(string Name, ErrorCode Error, string? ErrorMessage = null);

/// <summary>CreatePartitions (API key 37).</summary>
public sealed record CreatePartitionsResult(string Name, ErrorCode Error, string? ErrorMessage = null);

/// <summary>ElectLeaders (API key 43) for one partition: the leader after the election, or why there was none.</summary>
public sealed record LeaderElectionResult(TopicPartition Partition, ErrorCode Error, int Leader, string? ErrorMessage = null);
