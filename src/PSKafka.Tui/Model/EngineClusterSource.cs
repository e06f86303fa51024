using System.Diagnostics;
using System.Text;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Storage;

namespace PSKafka.Tui.Model;

/// <summary>
/// Reads an in-process <see cref="KafkaCluster"/> for the console: the controller's metadata for leaders,
/// replicas and ISR, and each partition's leader replica for offsets, size and segments. Every figure is a
/// field read (no log scans), so a capture costs microseconds per partition whatever the traffic.
/// </summary>
public sealed class EngineClusterSource(KafkaCluster cluster) : IClusterSource
{
    private const int MaxTailBytes = 256 * 1024;
    private const int MaxShownChars = 200;

    public KafkaCluster Cluster { get; } = cluster;

    public ClusterSnapshot Capture()
    {
        long started = Stopwatch.GetTimestamp();
        var metadata = Cluster.Controller.Describe(null, allowAutoTopicCreation: false);
        var brokers = Cluster.Brokers;
        var running = brokers.Where(b => b.IsRunning).ToDictionary(b => b.Id);

        var topics = new List<TopicView>(metadata.Topics.Count);
        foreach (var topic in metadata.Topics)
        {
            var partitions = new List<PartitionView>(topic.Partitions.Count);
            foreach (var p in topic.Partitions)
            {
                var replica = LogHolder(topic.Name, p, running);
                partitions.Add(new PartitionView(p.Partition, p.Leader, p.LeaderEpoch, p.Replicas, p.Isr,
                    replica?.LogStartOffset ?? -1, replica?.HighWatermark ?? -1, replica?.LogEndOffset ?? -1,
                    replica?.Log.Size ?? -1, replica?.Log.Segments.Count ?? 0));
            }
            topics.Add(new TopicView(topic.Name, partitions));
        }

        var brokerViews = brokers.Select(b => new BrokerView(b.Id, b.Address, b.State, b.Id == metadata.ControllerId,
            b.LeaderCount, b.FollowerCount, b.BytesInTotal, b.BytesOutTotal)).ToList();
        return new ClusterSnapshot(DateTimeOffset.UtcNow, metadata.ClusterId, $"local cluster in {Cluster.DataDirectory}",
            metadata.ControllerId, brokerViews, topics, [], Stopwatch.GetElapsedTime(started));
    }

    // The leader's replica has the partition's truth; an offline partition shows what a surviving replica holds.
    private static PartitionReplica? LogHolder(string topic, PartitionMetadata p, Dictionary<int, Broker> running)
    {
        var tp = new TopicPartition(topic, p.Partition);
        if (running.TryGetValue(p.Leader, out var leader) && leader.GetReplica(tp) is { } led) return led;
        foreach (var id in p.Replicas)
            if (running.TryGetValue(id, out var b) && b.GetReplica(tp) is { } r) return r;
        return null;
    }

    // ---- LEAD: consumer groups plug in here after the groups merge. ----
    // Return one GroupView per group (DescribeGroups: state, protocol type, members with their assigned
    // partitions; OffsetFetch: committed offset per partition, with the partition's high watermark as
    // LogEndOffset). The console shows "no groups yet" while this returns nothing.
    public IReadOnlyList<GroupView> GetGroups() => [];

    public IReadOnlyList<TailRecord> Tail(string topic, int partition, int count)
    {
        var tp = new TopicPartition(topic, partition);
        var meta = Cluster.Controller.Describe([topic], allowAutoTopicCreation: false).Topics[0];
        if (meta.Error != ErrorCode.None || partition >= meta.Partitions.Count) return [];
        var leaderId = meta.Partitions[partition].Leader;
        if (Cluster.GetBroker(leaderId) is not { IsRunning: true } leader || leader.GetReplica(tp) is not { } replica) return [];

        // Read the committed tail (below the high watermark) as a consumer would see it, straight from the
        // leader's log so that looking does not count as broker traffic.
        long end = replica.HighWatermark;
        long position = Math.Max(replica.LogStartOffset, end - count);
        var records = new List<TailRecord>(count);
        for (int reads = 0; position < end && reads < 8; reads++)
        {
            var read = replica.Log.Read(position, MaxTailBytes, end);
            if (read.Error != ErrorCode.None || read.Records.IsEmpty) break;
            long next = position;
            foreach (var batch in new RecordBatchReader(read.Records))
            {
                if (batch.IsControl || !batch.IsValid) { next = Math.Max(next, batch.NextOffset); continue; }
                foreach (var record in batch.Records)
                {
                    if (record.Offset < position || record.Offset >= end) continue;
                    records.Add(new TailRecord(record.Offset, DateTimeOffset.FromUnixTimeMilliseconds(record.Timestamp),
                        record.KeyIsNull ? null : Show(record.Key.Span), record.ValueIsNull ? null : Show(record.Value.Span)));
                }
                next = Math.Max(next, batch.NextOffset);
            }
            if (next <= position) break;
            position = next;
        }
        return records.Count > count ? records.GetRange(records.Count - count, count) : records;
    }

    /// <summary>Bytes as one line of text: UTF-8 with control characters made visible, cut to a screen's width.</summary>
    internal static string Show(ReadOnlySpan<byte> bytes)
    {
        var text = Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, MaxShownChars * 4)]);
        var sb = new StringBuilder(Math.Min(text.Length, MaxShownChars + 1));
        foreach (var c in text)
        {
            if (sb.Length >= MaxShownChars) { sb.Append('…'); break; }
            sb.Append(char.IsControl(c) ? '·' : c);
        }
        return sb.ToString();
    }

    public void StopBroker(int id, bool kill) => Cluster.StopBroker(id, kill);

    public void StartBroker(int id) => Cluster.StartBroker(id);

    public void CreateTopic(string name, int partitions, short replicationFactor)
    {
        var result = Cluster.Controller.CreateTopics([new CreateTopicRequest(name, partitions, replicationFactor)], validateOnly: false)[0];
        if (result.Error != ErrorCode.None) throw new KafkaException(result.Error, result.ErrorMessage ?? result.Error.ToString());
    }

    public void DeleteTopic(string name)
    {
        var result = Cluster.Controller.DeleteTopics([name])[0];
        if (result.Error != ErrorCode.None) throw new KafkaException(result.Error, result.ErrorMessage ?? result.Error.ToString());
    }
}
