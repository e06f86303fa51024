using System.Globalization;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Groups.Assignors;
using CK = Confluent.Kafka;

namespace PSKafka.Client;

/// <summary>
/// A member of a consumer group on a remote cluster through librdkafka's consumer: librdkafka finds the
/// coordinator, joins, syncs and heartbeats on its own threads; rebalances surface in Poll through the
/// assigned/revoked callbacks. Like the in-process member it commits only what was handed on
/// (<see cref="MarkEmitted"/>), commits it before giving partitions up in a rebalance, and leaves the
/// group on Close. With <see cref="GroupConsumerSettings.Partitions"/> it is manually assigned:
/// no membership, commits with generation -1 as Kafka's assign() consumers do.
/// </summary>
internal sealed class RemoteGroupConsumer : RemoteConsumerBase, IGroupConsumer
{
    private readonly GroupConsumerSettings _settings;
    private readonly Lock _gate = new();
    private readonly HashSet<TopicPartition> _assignment = new();
    private readonly Dictionary<TopicPartition, long> _emitted = new();
    private readonly Dictionary<TopicPartition, long> _committed = new();
    private bool _assigned;
    private volatile bool _rebalancing;
    private volatile bool _closing;
    private volatile bool _closed;

    private RemoteGroupConsumer(RemoteClient client, GroupConsumerSettings settings) : base(client)
    {
        _settings = settings;
        if (settings.Partitions is { } manual)
        {
            Build(Config(client.Connection, settings));
            // Each partition starts at the group's committed offset, else at auto.offset.reset: librdkafka's "stored" offset.
            Consumer.Assign(manual.Distinct().Select(tp => new CK.TopicPartitionOffset(tp.Topic, tp.Partition, CK.Offset.Stored)));
            lock (_gate) foreach (var tp in manual) _assignment.Add(tp);
            _assigned = true;
        }
        else
        {
            Build(Config(client.Connection, settings), builder => builder
                .SetPartitionsAssignedHandler((_, partitions) => OnAssigned(partitions))
                .SetPartitionsRevokedHandler((_, partitions) => OnRevoked(partitions))
                .SetPartitionsLostHandler((_, partitions) => OnLost(partitions)));
            Consumer.Subscribe(settings.Topics);
        }
    }

    public static RemoteGroupConsumer Open(RemoteClient client, GroupConsumerSettings settings)
    {
        settings.Validate();
        return new RemoteGroupConsumer(client, settings);
    }

    internal static Dictionary<string, string> Config(RemoteConnection connection, GroupConsumerSettings s)
    {
        var config = CommonConfig(s.MaxWaitMs, s.PartitionMaxBytes);
        config["client.id"] = s.ClientId;
        config["session.timeout.ms"] = s.SessionTimeoutMs.ToString(CultureInfo.InvariantCulture);
        config["heartbeat.interval.ms"] = s.HeartbeatIntervalMs.ToString(CultureInfo.InvariantCulture);
        config["max.poll.interval.ms"] = s.MaxPollIntervalMs.ToString(CultureInfo.InvariantCulture);
        // librdkafka calls Kafka's "none" "error": no committed offset is then an error, not a guess.
        config["auto.offset.reset"] = s.AutoOffsetReset == "none" ? "error" : s.AutoOffsetReset;
        config["partition.assignment.strategy"] = string.Join(",", AssignorsOfOneProtocol(s.Assignors));
        var merged = connection.ClientConfig(config);
        // The group and the commits are ours to drive, whatever -ClientConfig says.
        merged["group.id"] = s.GroupId;
        merged["enable.auto.commit"] = "false";
        merged["enable.auto.offset.store"] = "false";
        return merged;
    }

    /// <summary>
    /// Kafka's default "range, cooperative-sticky" offers both protocols so a group can be upgraded
    /// member by member; librdkafka refuses to mix eager and cooperative assignors, so a member offers
    /// the first assignor and those after it of the same protocol (range is what such a group uses anyway).
    /// </summary>
    internal static IEnumerable<string> AssignorsOfOneProtocol(IReadOnlyList<string> assignors)
    {
        var protocol = PartitionAssignors.Create(assignors[0]).Protocol;
        return assignors.Where(a => PartitionAssignors.Create(a).Protocol == protocol).Distinct();
    }

    public string GroupId => _settings.GroupId;
    public string MemberId => Consumer.MemberId ?? "";
    public IReadOnlyCollection<TopicPartition> Assignment { get { lock (_gate) return _assignment.ToArray(); } }
    public bool IsClosed => _closed;

    public bool AtEnd
    {
        get
        {
            lock (_gate)
                return _assigned && !_rebalancing && _assignment.All(AtEndPartitions.Contains);
        }
    }

    public new int Poll(TimeSpan timeout, List<ConsumedRecord> into, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        return base.Poll(timeout, into, cancellationToken);
    }

    // ---- rebalances (called by librdkafka inside Consume, on the polling thread) ----

    private void OnAssigned(List<CK.TopicPartition> partitions)
    {
        lock (_gate)
        {
            // Eager assignors hand over the whole assignment, cooperative ones only what is added.
            foreach (var tp in partitions) _assignment.Add(new TopicPartition(tp.Topic, tp.Partition.Value));
            _assigned = true;
            _rebalancing = false;
        }
    }

    private void OnRevoked(List<CK.TopicPartitionOffset> partitions)
    {
        // Commit what was handed on before the partitions go to another member (Kafka's consumer does so in onPartitionsRevoked);
        // not when closing without a commit, which must leave the uncommitted to be read again.
        if (!_closing) CommitEmitted();
        Forget(partitions.Select(p => new TopicPartition(p.Topic, p.Partition.Value)));
        if (!_closing) _rebalancing = true;
    }

    private void OnLost(List<CK.TopicPartitionOffset> partitions)
    {
        // Lost (session expired, fenced): another member may own them already, so nothing is committed.
        Forget(partitions.Select(p => new TopicPartition(p.Topic, p.Partition.Value)));
        if (!_closing) _rebalancing = true;
    }

    private void Forget(IEnumerable<TopicPartition> partitions)
    {
        lock (_gate)
            foreach (var tp in partitions)
            {
                _assignment.Remove(tp);
                _emitted.Remove(tp);
                _committed.Remove(tp);
                PositionsByPartition.Remove(tp);
                AtEndPartitions.Remove(tp);
            }
    }

    // ---- commits ----

    /// <summary>
    /// At the end of a partition from which nothing has been handed out, the position is where the member
    /// started: its committed offset or the auto.offset.reset one. That counts as consumed, so it is committed
    /// even if nothing arrives (Kafka's consumer commits its positions): a member after it starts there too,
    /// not at a "latest" that has moved on.
    /// </summary>
    protected override void OnEndOfPartition(TopicPartition partition, long end)
    {
        lock (_gate)
            if (_assignment.Contains(partition) && !PositionsByPartition.ContainsKey(partition) && !_emitted.ContainsKey(partition))
                _emitted[partition] = end;
    }

    public void MarkEmitted(in ConsumedRecord record)
    {
        lock (_gate) _emitted[new TopicPartition(record.Topic, record.Partition)] = record.Offset + 1;
    }

    public ErrorCode CommitEmitted()
    {
        List<(TopicPartition, long)> pending;
        lock (_gate)
            pending = _emitted.Where(e => _assignment.Contains(e.Key) && (!_committed.TryGetValue(e.Key, out var c) || c != e.Value))
                .Select(e => (e.Key, e.Value)).ToList();
        return pending.Count == 0 ? ErrorCode.None : TryCommit(pending);
    }

    public void Commit(IReadOnlyList<(TopicPartition Partition, long Offset)> offsets)
    {
        var error = TryCommit(offsets);
        if (error != ErrorCode.None) throw _settings.CommitFailed(error);
    }

    private ErrorCode TryCommit(IReadOnlyList<(TopicPartition Partition, long Offset)> offsets)
    {
        if (_closed) return ErrorCode.UnknownMemberId;
        var wanted = offsets.Select(o => new CK.TopicPartitionOffset(o.Partition.Topic, o.Partition.Partition, o.Offset)).ToList();
        try
        {
            Consumer.Commit(wanted);
        }
        catch (CK.TopicPartitionOffsetException e)
        {
            Record(e.Results.Where(r => !r.Error.IsError).Select(r => r.TopicPartitionOffset));
            return CommitError(e.Results.First(r => r.Error.IsError).Error);
        }
        catch (CK.KafkaException e)
        {
            return CommitError(e.Error);
        }
        Record(wanted);
        return ErrorCode.None;
    }

    private void Record(IEnumerable<CK.TopicPartitionOffset> committed)
    {
        lock (_gate)
            foreach (var r in committed)
                _committed[new TopicPartition(r.Topic, r.Partition.Value)] = r.Offset.Value;
    }

    /// <summary>Kafka's commit errors pass through; librdkafka's "no longer in the group" becomes Kafka's word for it.</summary>
    private ErrorCode CommitError(CK.Error error)
    {
        if (RemoteErrors.IsUnreachable(error.Code)) throw Client.Fail(error, $"committing offsets of group '{GroupId}'");
        return error.Code switch
        {
            // librdkafka refuses a commit itself while it is not a member with an assignment (rebalancing, fenced).
            CK.ErrorCode.Local_State or CK.ErrorCode.Local_AssignmentLost => ErrorCode.RebalanceInProgress,
            CK.ErrorCode.Local_NoOffset => ErrorCode.None,
            _ => RemoteErrors.ToErrorCode(error.Code),
        };
    }

    // ---- closing ----

    public void Close(bool commit)
    {
        if (_closed) return;
        if (commit) CommitEmitted();
        _closing = true;
        CloseHandle(); // leaves the group: the others rebalance at once
        _closed = true;
    }

    public override void Dispose() => Close(commit: false);
}
