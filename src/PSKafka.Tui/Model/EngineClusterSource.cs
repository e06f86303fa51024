using System.Diagnostics;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Logging;
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

    public KafkaCluster Cluster { get; } = cluster;

    private BrokerLogReader.Follower? _log;
    private readonly Queue<BrokerLogEntry> _logTail = new();

    public bool HasBrokerLogs => Cluster.Logging.Directory is not null;

    // Follows server.log from the start of its newest file, so each refresh reads only what was written since.
    public IReadOnlyList<BrokerLogEntry> BrokerLog(int count)
    {
        if (Cluster.Logging.Directory is not { } directory) return [];
        lock (_logTail)
        {
            _log ??= new BrokerLogReader.Follower(directory, BrokerLogFile.Server, fromStart: true);
            foreach (var entry in _log.Poll())
            {
                _logTail.Enqueue(entry);
                while (_logTail.Count > count) _logTail.Dequeue();
            }
            return _logTail.ToArray();
        }
    }

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
                    replica?.Log.Size ?? -1, replica?.Log.Segments.Count ?? -1));
            }
            topics.Add(new TopicView(topic.Name, partitions, IsInternal: topic.IsInternal));
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

    /// <summary>
    /// Every group as kafka-consumer-groups.sh --describe shows it: each broker lists the groups it
    /// coordinates, which it describes (state, members and their assigned partitions) and whose committed
    /// offsets it returns; lag is measured against each partition's high watermark.
    /// </summary>
    public IReadOnlyList<GroupView> GetGroups()
    {
        var groups = new List<GroupView>();
        var running = Cluster.Brokers.Where(b => b.IsRunning).ToDictionary(b => b.Id);
        var metadata = new Dictionary<string, TopicMetadata>(StringComparer.Ordinal);
        foreach (var coordinator in running.Values)
        {
            foreach (var listing in coordinator.ListGroups().Groups.OrderBy(g => g.GroupId, StringComparer.Ordinal))
            {
                var described = coordinator.DescribeGroups([listing.GroupId])[0];
                if (described.Error != ErrorCode.None) continue;
                var members = described.Members.Select(m => GroupMemberView.From(m, described.ProtocolType)).ToList();
                var committed = coordinator.OffsetFetch(new OffsetFetchParams(listing.GroupId));
                var offsets = new List<GroupOffsetView>();
                foreach (var o in committed.Partitions.Where(o => o.Error == ErrorCode.None && o.Offset >= 0).OrderBy(o => o.Topic, StringComparer.Ordinal).ThenBy(o => o.Partition))
                {
                    if (!metadata.TryGetValue(o.Topic, out var topic))
                        metadata[o.Topic] = topic = Cluster.Controller.Describe([o.Topic], allowAutoTopicCreation: false).Topics[0];
                    long end = topic.Error == ErrorCode.None && o.Partition < topic.Partitions.Count
                        ? LogHolder(o.Topic, topic.Partitions[o.Partition], running)?.HighWatermark ?? -1 : -1;
                    offsets.Add(new GroupOffsetView(o.Topic, o.Partition, o.Offset, end));
                }
                groups.Add(new GroupView(listing.GroupId, described.GroupState, described.ProtocolType, members, offsets));
            }
        }
        return groups.OrderBy(g => g.GroupId, StringComparer.Ordinal).ToList();
    }

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
                        record.KeyIsNull ? null : TailRecord.Text(record.Key.Span), record.ValueIsNull ? null : TailRecord.Text(record.Value.Span)));
                }
                next = Math.Max(next, batch.NextOffset);
            }
            if (next <= position) break;
            position = next;
        }
        return records.Count > count ? records.GetRange(records.Count - count, count) : records;
    }

    public bool CanControlBrokers => true;

    public void StopBroker(int id, bool kill) => Cluster.StopBroker(id, kill);

    public void StartBroker(int id) => Cluster.StartBroker(id);

    public void CreateTopic(string name, int partitions, short replicationFactor)
    {
        var result = Cluster.Controller.CreateTopics([new CreateTopicParams(name, partitions, replicationFactor)], validateOnly: false)[0];
        if (result.Error != ErrorCode.None) throw new KafkaException(result.Error, result.ErrorMessage ?? result.Error.ToString());
    }

    public void DeleteTopic(string name)
    {
        var result = Cluster.Controller.DeleteTopics([name])[0];
        if (result.Error != ErrorCode.None) throw new KafkaException(result.Error, result.ErrorMessage ?? result.Error.ToString());
    }

    public void ResetGroupOffsetsToEarliest(string groupId)
    {
        var any = Cluster.Brokers.FirstOrDefault(b => b.IsRunning) ?? throw new KafkaException(ErrorCode.BrokerNotAvailable, "No broker is running.");
        var found = any.FindCoordinator(groupId);
        if (found.Error != ErrorCode.None || Cluster.GetBroker(found.NodeId) is not { IsRunning: true } coordinator)
            throw new KafkaException(found.Error == ErrorCode.None ? ErrorCode.CoordinatorNotAvailable : found.Error, $"No coordinator for group '{groupId}'.");
        var committed = coordinator.OffsetFetch(new OffsetFetchParams(groupId));
        var offsets = new List<OffsetCommitPartitionParams>();
        foreach (var o in committed.Partitions.Where(o => o.Error == ErrorCode.None && o.Offset >= 0))
        {
            var meta = Cluster.Controller.Describe([o.Topic], allowAutoTopicCreation: false).Topics[0];
            if (meta.Error != ErrorCode.None || o.Partition >= meta.Partitions.Count) continue;
            var leader = Cluster.GetBroker(meta.Partitions[o.Partition].Leader);
            var start = leader?.ListOffsets([new ListOffsetsPartitionParams(o.Topic, o.Partition, OffsetSpec.Earliest)])[0];
            if (start is { Error: ErrorCode.None }) offsets.Add(new OffsetCommitPartitionParams(o.Topic, o.Partition, start.Offset));
        }
        // Generation -1, no member: an admin commit, which the coordinator refuses while the group has members (as Kafka does).
        var results = coordinator.OffsetCommit(new OffsetCommitParams { GroupId = groupId, Partitions = offsets });
        if (results.FirstOrDefault(r => r.Error != ErrorCode.None) is { } failed)
            throw new KafkaException(failed.Error, $"Resetting group '{groupId}' failed on {failed.Topic}-{failed.Partition}: {failed.Error}.");
    }
}
