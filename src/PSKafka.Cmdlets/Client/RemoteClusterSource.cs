using System.Diagnostics;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Tui.Model;

namespace PSKafka.Cmdlets.Client;

/// <summary>
/// Show-Cluster's view of a cluster it reaches only as a client (a remote Kafka through Confluent.Kafka):
/// metadata for brokers, leaders, replicas and ISR; one batched ListOffsets for every partition's log start
/// and high watermark; the group admin calls for states, members, committed offsets and lag; one consumer,
/// kept for the console's lifetime, for the tail. What a client cannot see (disk size, segments, log end
/// offsets, leader epochs, each broker's traffic) is -1, which the console shows as unknown; brokers cannot
/// be stopped or started from here. Capture, GetGroups and Tail run on the console's refresh thread.
/// </summary>
/// <remarks>
/// This type implements the console's interface, so PSKafka.Tui must be loadable when it is first touched:
/// create it only after <c>DependencyLoadContext.Register()</c>. It is internal because Import-Module
/// looks at every public type of PSKafka.dll before anything is registered.
/// </remarks>
internal sealed class RemoteClusterSource(IKafkaClient client) : IClusterSource, IDisposable
{
    // How long a tail read may take; the refresh shows what came by then.
    private static readonly TimeSpan TailTimeout = TimeSpan.FromSeconds(2);

    private readonly Dictionary<int, string> _seenBrokers = new(); // id → address: brokers that leave the metadata show as not reachable
    private readonly Lock _tailGate = new();
    private IReadOnlyDictionary<TopicPartition, PartitionOffsets> _offsets = new Dictionary<TopicPartition, PartitionOffsets>();
    private ClusterSnapshot? _lastGood;
    private IReadOnlyList<GroupView> _lastGroups = [];
    private bool _reachable = true;
    private IConsumerSession? _tailConsumer;
    private (TopicPartition Partition, long End, IReadOnlyList<TailRecord> Records)? _lastTail;
    private bool _disposed;

    public IKafkaClient Client { get; } = client;

    public bool CanControlBrokers => false;

    public ClusterSnapshot Capture()
    {
        long started = Stopwatch.GetTimestamp();
        ClusterMetadata metadata;
        IReadOnlyDictionary<TopicPartition, PartitionOffsets> offsets;
        try
        {
            metadata = Client.GetClusterMetadata();
            var led = metadata.Topics.Where(t => t.Error == ErrorCode.None)
                .SelectMany(t => t.Partitions.Where(p => p.Leader >= 0).Select(p => new TopicPartition(t.Name, p.Partition))).ToList();
            offsets = Client.GetOffsets(led);
        }
        catch (KafkaException e)
        {
            return Unreachable(e, started);
        }
        _reachable = true;
        _offsets = offsets;

        var topics = metadata.Topics.Where(t => t.Error == ErrorCode.None).Select(t => new TopicView(t.Name, t.Partitions.Select(p =>
        {
            var known = offsets.TryGetValue(new TopicPartition(t.Name, p.Partition), out var o);
            return new PartitionView(p.Partition, p.Leader, p.LeaderEpoch, p.Replicas, p.Isr,
                known ? o!.LogStartOffset : -1, known ? o!.HighWatermark : -1, LogEndOffset: -1, SizeBytes: -1, Segments: -1);
        }).ToList(), IsInternal: t.IsInternal)).ToList();

        var partitions = metadata.Topics.SelectMany(t => t.Partitions).ToList();
        var brokers = new List<BrokerView>();
        foreach (var b in metadata.Brokers)
        {
            var address = $"{b.Host}:{b.Port}";
            _seenBrokers[b.Id] = address;
            brokers.Add(new BrokerView(b.Id, address, BrokerState.Running, b.Id == metadata.ControllerId,
                partitions.Count(p => p.Leader == b.Id), partitions.Count(p => p.Leader != b.Id && p.Replicas.Contains(b.Id)),
                BytesInTotal: -1, BytesOutTotal: -1));
        }
        var live = metadata.Brokers.Select(b => b.Id).ToHashSet();
        brokers.AddRange(_seenBrokers.Where(kv => !live.Contains(kv.Key)).Select(kv => Vanished(kv.Key, kv.Value)));

        _lastGood = new ClusterSnapshot(DateTimeOffset.UtcNow, metadata.ClusterId, Client.Description, metadata.ControllerId,
            brokers.OrderBy(b => b.Id).ToList(), topics, [], Stopwatch.GetElapsedTime(started));
        return _lastGood;
    }

    private static BrokerView Vanished(int id, string address) =>
        new(id, address, BrokerState.Stopped, false, 0, 0, BytesInTotal: -1, BytesOutTotal: -1, Reachable: false);

    // The cluster did not answer: every broker we knew is not reachable, the topics are the last ones seen, the status line says why.
    private ClusterSnapshot Unreachable(KafkaException e, long started)
    {
        _reachable = false;
        return new ClusterSnapshot(DateTimeOffset.UtcNow, _lastGood?.ClusterId ?? "", $"{Client.Description} (NOT REACHABLE)", -1,
            _seenBrokers.OrderBy(kv => kv.Key).Select(kv => Vanished(kv.Key, kv.Value)).ToList(), _lastGood?.Topics ?? [], [],
            Stopwatch.GetElapsedTime(started), e.Message);
    }

    /// <summary>
    /// Every group as kafka-consumer-groups.sh --describe shows it, lag measured against the high watermarks of
    /// the last <see cref="Capture"/> (same refresh). A group that vanishes between the calls is left out.
    /// </summary>
    public IReadOnlyList<GroupView> GetGroups()
    {
        if (!_reachable) return _lastGroups;
        var groups = new List<GroupView>();
        foreach (var listing in Client.ListGroups())
        {
            try
            {
                var (described, _) = Client.DescribeGroup(listing.GroupId);
                if (described.Error != ErrorCode.None) continue;
                var offsets = Client.FetchCommittedOffsets(listing.GroupId)
                    .Where(o => o.Error == ErrorCode.None && o.Offset >= 0)
                    .OrderBy(o => o.Topic, StringComparer.Ordinal).ThenBy(o => o.Partition)
                    .Select(o => new GroupOffsetView(o.Topic, o.Partition, o.Offset,
                        _offsets.TryGetValue(new TopicPartition(o.Topic, o.Partition), out var bounds) ? bounds.HighWatermark : -1))
                    .ToList();
                groups.Add(new GroupView(listing.GroupId, described.GroupState, described.ProtocolType,
                    described.Members.Select(m => GroupMemberView.From(m, described.ProtocolType)).ToList(), offsets));
            }
            catch (KafkaException e) when (e is not ClusterUnreachableException)
            {
                // Deleted or moving coordinator between listing and describing: shown again next time.
            }
        }
        _lastGroups = groups.OrderBy(g => g.GroupId, StringComparer.Ordinal).ToList();
        return _lastGroups;
    }

    /// <summary>
    /// The newest records below the high watermark, read by one consumer assigned at HW - count. While the
    /// high watermark stays where it was, the last answer is given again without a fetch.
    /// </summary>
    public IReadOnlyList<TailRecord> Tail(string topic, int partition, int count)
    {
        var tp = new TopicPartition(topic, partition);
        lock (_tailGate)
        {
            if (_disposed) return [];
            if (_lastTail is { } last && last.Partition == tp && (!_reachable || (_offsets.TryGetValue(tp, out var now) && now.HighWatermark == last.End)))
                return last.Records;
            if (!_reachable || !_offsets.TryGetValue(tp, out var bounds)) return [];
            long end = bounds.HighWatermark;
            long from = Math.Max(bounds.LogStartOffset, end - count);
            IReadOnlyList<TailRecord> tail = from >= end ? [] : Read(tp, from, end, count);
            _lastTail = (tp, end, tail);
            return tail;
        }
    }

    private List<TailRecord> Read(TopicPartition tp, long from, long end, int count)
    {
        _tailConsumer ??= Client.OpenConsumer(new ConsumerSettings(MaxWaitMs: 100));
        _tailConsumer.Assign([(tp, from)]);
        var records = new List<ConsumedRecord>();
        var deadline = DateTime.UtcNow + TailTimeout;
        // Done at the high watermark, or at the partition's end when compaction or deletion left a gap before it.
        while (DateTime.UtcNow < deadline && !(records.Count > 0 && records[^1].Offset >= end - 1) && !_tailConsumer.AtEnd)
            _tailConsumer.Poll(TimeSpan.FromMilliseconds(200), records, CancellationToken.None);
        return records.Where(r => r.Offset >= from).TakeLast(count).Select(r => new TailRecord(r.Offset,
            DateTimeOffset.FromUnixTimeMilliseconds(r.Timestamp),
            r.Key is null ? null : TailRecord.Text(r.Key), r.Value is null ? null : TailRecord.Text(r.Value))).ToList();
    }

    public void StopBroker(int id, bool kill) =>
        throw new NotSupportedRemotelyException($"Stopping broker {id} is not possible on a remote cluster ({Client.Description}).");

    public void StartBroker(int id) =>
        throw new NotSupportedRemotelyException($"Starting broker {id} is not possible on a remote cluster ({Client.Description}).");

    public void CreateTopic(string name, int partitions, short replicationFactor)
    {
        var result = Client.CreateTopic(new CreateTopicParams(name, partitions, replicationFactor));
        if (result.Error != ErrorCode.None) throw new KafkaException(result.Error, result.ErrorMessage ?? result.Error.ToString());
    }

    public void DeleteTopic(string name)
    {
        var result = Client.DeleteTopic(name);
        if (result.Error != ErrorCode.None) throw new KafkaException(result.Error, result.ErrorMessage ?? result.Error.ToString());
    }

    /// <summary>kafka-consumer-groups.sh --reset-offsets --to-earliest --all-topics: each committed partition back to its log start.</summary>
    public void ResetGroupOffsetsToEarliest(string groupId)
    {
        var committed = Client.FetchCommittedOffsets(groupId)
            .Where(o => o.Error == ErrorCode.None && o.Offset >= 0)
            .Select(o => new TopicPartition(o.Topic, o.Partition)).ToList();
        var starts = Client.GetOffsets(committed);
        var offsets = committed.Where(starts.ContainsKey).Select(tp => new OffsetCommitPartitionParams(tp.Topic, tp.Partition, starts[tp].LogStartOffset)).ToList();
        if (offsets.Count == 0) return;
        // An admin commit, which the coordinator refuses while the group has members (as Kafka does).
        var results = Client.CommitOffsets(groupId, offsets);
        if (results.FirstOrDefault(r => r.Error != ErrorCode.None) is { } failed)
            throw new KafkaException(failed.Error, $"Resetting group '{groupId}' failed on {failed.Topic}-{failed.Partition}: {failed.Error}.");
    }

    public void Dispose()
    {
        lock (_tailGate)
        {
            if (_disposed) return;
            _disposed = true;
            _tailConsumer?.Dispose();
        }
    }
}
