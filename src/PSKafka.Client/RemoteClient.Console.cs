using PSKafka.Engine;
using PSKafka.Engine.Api;
using CK = Confluent.Kafka;
using CKA = Confluent.Kafka.Admin;

namespace PSKafka.Client;

// What Show-Cluster's console reads once a second, in as few requests as Kafka's admin API allows.
public sealed partial class RemoteClient
{
    /// <summary>
    /// Metadata of every topic plus DescribeCluster's cluster id and controller (librdkafka's metadata call
    /// reports neither). A cluster that names no controller is not asked again; the controller is then -1.
    /// </summary>
    public ClusterMetadata GetClusterMetadata()
    {
        var metadata = GetMetadata();
        if (_controllerKnown == false) return metadata;
        try
        {
            var cluster = CK.IAdminClientExtensions.DescribeClusterAsync(Admin,
                new CKA.DescribeClusterOptions { RequestTimeout = ControllerProbeTimeout }).GetAwaiter().GetResult();
            _controllerKnown = cluster.Controller is not null;
            return metadata with { ClusterId = cluster.ClusterId ?? "", ControllerId = cluster.Controller?.Id ?? -1 };
        }
        catch (CK.KafkaException)
        {
            // The metadata just came back, so the cluster answers: without the controller the picture is still right.
            return metadata;
        }
    }

    /// <summary>
    /// ListOffsets of every partition at once (librdkafka sends one request per leader), earliest and latest.
    /// Partitions whose leader did not answer are left out; a cluster that does not answer at all fails.
    /// </summary>
    public IReadOnlyDictionary<TopicPartition, PartitionOffsets> GetOffsets(IReadOnlyCollection<TopicPartition> partitions)
    {
        var result = new Dictionary<TopicPartition, PartitionOffsets>(partitions.Count);
        if (partitions.Count == 0) return result;
        var earliest = ListOffsets(partitions, CKA.OffsetSpec.Earliest());
        var latest = ListOffsets(partitions, CKA.OffsetSpec.Latest());
        foreach (var (tp, start) in earliest)
            if (latest.TryGetValue(tp, out long end)) result[tp] = new PartitionOffsets(tp.Partition, start, end);
        return result;
    }

    private Dictionary<TopicPartition, long> ListOffsets(IReadOnlyCollection<TopicPartition> partitions, CKA.OffsetSpec spec)
    {
        var (infos, partial) = ListOffsets(partitions.Select(tp => new CK.TopicPartition(tp.Topic, tp.Partition)), spec, "listing offsets");
        if (partial is not null && !infos.Any(i => !i.TopicPartitionOffsetError.Error.IsError) && infos.FirstOrDefault() is { } first
            && RemoteErrors.IsUnreachable(first.TopicPartitionOffsetError.Error.Code))
            throw Fail(first.TopicPartitionOffsetError.Error, "listing offsets", partial);
        return infos.Select(i => i.TopicPartitionOffsetError)
            .Where(o => !o.Error.IsError)
            .ToDictionary(o => new TopicPartition(o.Topic, o.Partition.Value), o => o.Offset.Value);
    }
}
