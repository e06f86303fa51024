using PSKafka.Engine;
using PSKafka.Engine.Api;

namespace PSKafka.Client;

// What Show-Cluster's console reads once a second: the whole cluster in as few requests as the client allows.
public partial interface IKafkaClient
{
    /// <summary>
    /// Brokers, every topic and the cluster id and controller. The in-process metadata carries all of
    /// them; a remote client adds what its metadata call leaves out.
    /// </summary>
    ClusterMetadata GetClusterMetadata() => GetMetadata();

    /// <summary>
    /// Log start offset and high watermark of partitions of any topics. Partitions that cannot be read
    /// (no leader, deleted meanwhile) are left out rather than failing the others.
    /// </summary>
    IReadOnlyDictionary<TopicPartition, PartitionOffsets> GetOffsets(IReadOnlyCollection<TopicPartition> partitions)
    {
        var result = new Dictionary<TopicPartition, PartitionOffsets>(partitions.Count);
        foreach (var tp in partitions)
        {
            try
            {
                result[tp] = GetOffsets(tp.Topic, [tp.Partition])[0];
            }
            catch (KafkaException)
            {
                // Left out: the caller shows the partition's offsets as unknown.
            }
        }
        return result;
    }
}
