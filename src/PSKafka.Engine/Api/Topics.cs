namespace PSKafka.Engine.Api;

/// <summary>CreateTopics (API key 19). -1 partitions or replication factor means the broker default.</summary>
public sealed record CreateTopicParams(
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

/// <summary>ElectLeaders' election types (KIP-460), with Kafka's numbers.</summary>
public enum ElectionType : sbyte
{
    /// <summary>The first replica in the assignment takes over when it is running and in the ISR.</summary>
    Preferred = 0,
    /// <summary>A partition without a leader gets one: a live in-sync replica, else any live replica (may lose committed messages).</summary>
    Unclean = 1,
}

/// <summary>ElectLeaders (API key 43) for one partition: the leader after the election, or why there was none.</summary>
public sealed record LeaderElectionResult(TopicPartition Partition, ErrorCode Error, int Leader, string? ErrorMessage = null);
