using PSKafka.Engine;
using PSKafka.Engine.Api;

namespace PSKafka.Client.ClusterView;

/// <summary>What the console does to a cluster through its client: the same for the local cluster and a remote one.</summary>
internal static class ClusterActions
{
    public static void CreateTopic(IKafkaClient client, string name, int partitions, short replicationFactor)
    {
        var result = client.CreateTopic(new CreateTopicParams(name, partitions, replicationFactor));
        if (result.Error != ErrorCode.None) throw new KafkaException(result.Error, result.ErrorMessage ?? result.Error.ToString());
    }

    public static void DeleteTopic(IKafkaClient client, string name)
    {
        var result = client.DeleteTopic(name);
        if (result.Error != ErrorCode.None) throw new KafkaException(result.Error, result.ErrorMessage ?? result.Error.ToString());
    }

    /// <summary>kafka-consumer-groups.sh --reset-offsets --to-earliest --all-topics: each committed partition back to its log start.</summary>
    public static void ResetGroupOffsetsToEarliest(IKafkaClient client, string groupId)
    {
        var committed = client.FetchCommittedOffsets(groupId)
            .Where(o => o.Error == ErrorCode.None && o.Offset >= 0)
            .Select(o => new TopicPartition(o.Topic, o.Partition)).ToList();
        var starts = client.GetOffsets(committed);
        var offsets = committed.Where(starts.ContainsKey).Select(tp => new OffsetCommitPartitionParams(tp.Topic, tp.Partition, starts[tp].LogStartOffset)).ToList();
        if (offsets.Count == 0) return;
        // An admin commit (generation -1, no member), which the coordinator refuses while the group has members (as Kafka does).
        var results = client.CommitOffsets(groupId, offsets);
        if (results.FirstOrDefault(r => r.Error != ErrorCode.None) is { } failed)
            throw new KafkaException(failed.Error, $"Resetting group '{groupId}' failed on {failed.Topic}-{failed.Partition}: {failed.Error}.");
    }
}
