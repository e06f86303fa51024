using PSKafka.Engine.Api;

namespace PSKafka.Engine.Cluster;

/// <summary>
/// A topic or partition that does not exist, said one way everywhere: the controller, the brokers, the clients and the
/// cmdlets report it with these. Kafka's error is UNKNOWN_TOPIC_OR_PARTITION, "This server does not host this
/// topic-partition."; these name the topic, and for a partition the ones the topic has.
/// </summary>
public static class TopicChecks
{
    public static string TopicMissing(string topic) => $"Topic '{topic}' does not exist.";

    public static KafkaException UnknownTopic(string topic) => new(ErrorCode.UnknownTopicOrPartition, TopicMissing(topic));

    /// <summary>
    /// The error for <paramref name="partition"/> of a topic that has <paramref name="partitionCount"/> partitions, or
    /// null when it is one of them.
    /// </summary>
    public static PartitionNotFoundException? MissingPartition(string topic, int partition, int partitionCount) =>
        partition >= 0 && partition < partitionCount ? null
        : new($"Partition {partition} of topic '{topic}' does not exist (the topic has {partitionCount}: 0..{partitionCount - 1}).");

    /// <summary>
    /// Why Metadata's answer for a topic lacks the topic (or <paramref name="partition"/> of it), as the exception to
    /// report; null when both are there.
    /// </summary>
    public static KafkaException? Missing(TopicMetadata topic, int? partition = null)
    {
        if (topic.Error == ErrorCode.InvalidTopicException)
            return new KafkaException(topic.Error, TopicNames.Problem(topic.Name) ?? $"Topic name '{topic.Name}' is not valid.");
        if (topic.Error != ErrorCode.None) return new KafkaException(topic.Error, TopicMissing(topic.Name));
        return partition is { } p ? MissingPartition(topic.Name, p, topic.Partitions.Count) : null;
    }

    /// <summary>Throws unless Metadata found the topic and it has each of <paramref name="partitions"/>.</summary>
    public static void Require(TopicMetadata topic, IEnumerable<int>? partitions = null)
    {
        if (Missing(topic) is { } missingTopic) throw missingTopic;
        foreach (int p in partitions ?? [])
            if (Missing(topic, p) is { } missingPartition) throw missingPartition;
    }
}
