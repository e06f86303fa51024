using System.Diagnostics;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Logging;
using PSKafka.Engine.Storage;

namespace PSKafka.Client.ClusterView;

/// <summary>
/// Reads the cluster of this process for the console through an <see cref="EmbeddedClient"/>: a broker's metadata
/// for leaders, replicas and ISR, and each partition's leader replica for offsets, size and segments; the groups
/// from the brokers that coordinate them. Every figure is a field read (no log scans), so a capture costs
/// microseconds per partition whatever the traffic. The brokers are this process's, so the console may also stop
/// and start them and read their server.log.
/// </summary>
public sealed class EmbeddedClusterSource(EmbeddedClient client) : IClusterSource
{
    private const int MaxTailBytes = 256 * 1024;

    public EmbeddedClient Client { get; } = client;
    private KafkaCluster Cluster => Client.Cluster;

    // The topics of the last capture that had a broker to ask: with every broker stopped nothing answers metadata.
    private IReadOnlyList<TopicView> _lastTopics = [];
    private string _lastClusterId = "";

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
        var brokers = Cluster.Brokers;
        ClusterMetadata metadata;
        try
        {
            metadata = Client.GetMetadata();
        }
        catch (KafkaException e) when (e.Code == ErrorCode.BrokerNotAvailable)
        {
            // Every broker is stopped: the topics as last seen, each partition offline (no leader, no replica to read).
            var offline = _lastTopics.Select(t => t with
            {
                Partitions = t.Partitions.Select(p => p with { Leader = -1, LogStartOffset = -1, HighWatermark = -1, LogEndOffset = -1, SizeBytes = -1, Segments = -1 }).ToList(),
            }).ToList();
            return new ClusterSnapshot(DateTimeOffset.UtcNow, _lastClusterId, Client.Description, -1, Brokers(brokers, -1), offline, [],
                Stopwatch.GetElapsedTime(started), "No broker is running: the topics are as last seen. r restarts the selected broker.");
        }
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
        _lastTopics = topics;
        _lastClusterId = metadata.ClusterId;
        return new ClusterSnapshot(DateTimeOffset.UtcNow, metadata.ClusterId, Client.Description,
            metadata.ControllerId, Brokers(brokers, metadata.ControllerId), topics, [], Stopwatch.GetElapsedTime(started));
    }

    // Every broker of the cluster, stopped ones too, with its own counters.
    private static List<BrokerView> Brokers(IReadOnlyList<Broker> brokers, int metadataLeaderId) =>
        brokers.Select(b => new BrokerView(b.Id, b.Address, b.State, BrokerView.RoleOf(b.Id, metadataLeaderId),
            b.LeaderCount, b.FollowerCount, b.BytesInTotal, b.BytesOutTotal)).ToList();

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
        var running = Cluster.Brokers.Where(b => b.IsRunning).ToDictionary(b => b.Id);
        var found = new List<(DescribeGroupResult Group, OffsetFetchResult Committed)>();
        foreach (var coordinator in running.Values)
        {
            foreach (var listing in coordinator.ListGroups().Groups.OrderBy(g => g.GroupId, StringComparer.Ordinal))
            {
                var described = coordinator.DescribeGroups([listing.GroupId])[0];
                if (described.Error == ErrorCode.None) found.Add((described, coordinator.OffsetFetch(new OffsetFetchParams(listing.GroupId))));
            }
        }
        if (found.Count == 0) return [];

        // One metadata request for the partitions of every committed offset: their leaders hold the high watermarks.
        var committedTopics = found.SelectMany(g => g.Committed.Partitions.Select(o => o.Topic)).Distinct(StringComparer.Ordinal).ToList();
        var metadata = committedTopics.Count == 0 ? new Dictionary<string, TopicMetadata>(StringComparer.Ordinal)
            : Client.GetMetadata(committedTopics).Topics.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var groups = new List<GroupView>(found.Count);
        foreach (var (described, committed) in found)
        {
            var members = described.Members.Select(m => GroupMemberView.From(m, described.ProtocolType)).ToList();
            var offsets = new List<GroupOffsetView>();
            foreach (var o in committed.Partitions.Where(o => o.Error == ErrorCode.None && o.Offset >= 0).OrderBy(o => o.Topic, StringComparer.Ordinal).ThenBy(o => o.Partition))
            {
                var topic = metadata[o.Topic];
                long end = topic.Error == ErrorCode.None && o.Partition < topic.Partitions.Count
                    ? LogHolder(o.Topic, topic.Partitions[o.Partition], running)?.HighWatermark ?? -1 : -1;
                offsets.Add(new GroupOffsetView(o.Topic, o.Partition, o.Offset, end));
            }
            groups.Add(new GroupView(described.GroupId, described.GroupState, described.ProtocolType, members, offsets));
        }
        return groups.OrderBy(g => g.GroupId, StringComparer.Ordinal).ToList();
    }

    public IReadOnlyList<TailRecord> Tail(string topic, int partition, int count)
    {
        var tp = new TopicPartition(topic, partition);
        PartitionReplica? replica;
        try
        {
            replica = Client.AtLeader(topic, partition, leader => leader.GetReplica(tp),
                r => r is { IsLeader: true } ? ErrorCode.None : ErrorCode.NotLeaderOrFollower);
        }
        catch (KafkaException)
        {
            return []; // no such topic or partition, or no leader now
        }
        if (replica is not { IsLeader: true }) return [];

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

    public void CreateTopic(string name, int partitions, short replicationFactor) =>
        ClusterActions.CreateTopic(Client, name, partitions, replicationFactor);

    public void DeleteTopic(string name) => ClusterActions.DeleteTopic(Client, name);

    public void ResetGroupOffsetsToEarliest(string groupId) => ClusterActions.ResetGroupOffsetsToEarliest(Client, groupId);
}
