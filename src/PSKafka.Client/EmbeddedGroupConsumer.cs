using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Groups;
using PSKafka.Engine.Groups.Assignors;

namespace PSKafka.Client;

/// <summary>
/// A Kafka consumer with group management over the in-process brokers: finds the coordinator, joins
/// (with MEMBER_ID_REQUIRED), runs the assignor when it is the leader, syncs, heartbeats on a
/// background thread, and fetches only its assigned partitions from where the group committed.
/// Eager assignors revoke everything before a rebalance; cooperative-sticky revokes only what moves
/// and rejoins at once so the moved partitions reach their new owner.
/// </summary>
public sealed class EmbeddedGroupConsumer : IGroupConsumer
{
    private readonly EmbeddedClient _client;
    private readonly GroupConsumerSettings _settings;
    private readonly EmbeddedConsumer _fetcher;
    private readonly Dictionary<string, IPartitionAssignor> _assignors;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly Task? _heartbeat;
    private readonly Dictionary<TopicPartition, long> _emitted = new();
    private readonly Dictionary<TopicPartition, long> _committed = new();
    private List<TopicPartition> _assignment = [];
    private Broker? _coordinator;
    private string _memberId = "";
    private int _generation = -1;
    private bool _joined;
    private volatile bool _rejoinNeeded = true;
    private volatile bool _joining;
    private long _lastPoll = Environment.TickCount64;
    private CancellationTokenSource? _pollCancel;
    private bool _manualAssigned;

    public EmbeddedGroupConsumer(EmbeddedClient client, GroupConsumerSettings settings)
    {
        settings.Validate();
        _client = client;
        _settings = settings;
        _assignors = settings.Assignors.Select(PartitionAssignors.Create).ToDictionary(a => a.Name, StringComparer.Ordinal);
        _fetcher = new EmbeddedConsumer(client, new ConsumerSettings(settings.MaxWaitMs, settings.PartitionMaxBytes));
        if (settings.Partitions is null) _heartbeat = Task.Run(HeartbeatLoop);
        else _rejoinNeeded = false; // manually assigned: no membership to join
    }

    public string GroupId => _settings.GroupId;
    public string MemberId { get { lock (_gate) return _memberId; } }
    public int GenerationId { get { lock (_gate) return _generation; } }
    public IReadOnlyCollection<TopicPartition> Assignment { get { lock (_gate) return _assignment.ToArray(); } }
    public bool IsClosed => _closing.IsCancellationRequested;
    private bool Cooperative => _assignors.Values.First().Protocol == RebalanceProtocol.Cooperative && _assignors.Values.All(a => a.Protocol == RebalanceProtocol.Cooperative);

    public bool AtEnd => (_manualAssigned || (_joined && !_rejoinNeeded)) && (_assignment.Count == 0 || _fetcher.AtEnd);

    public int Poll(TimeSpan timeout, List<ConsumedRecord> into, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        Volatile.Write(ref _lastPoll, Environment.TickCount64);
        if (_settings.Partitions is { } manual)
        {
            if (!_manualAssigned)
            {
                SetAssignment(manual.ToList(), revoked: []);
                _manualAssigned = true;
            }
        }
        else if (_rejoinNeeded || !_joined)
        {
            JoinAndSync(cancellationToken);
            Volatile.Write(ref _lastPoll, Environment.TickCount64);
        }
        if (cancellationToken.IsCancellationRequested) return 0;
        if (_assignment.Count == 0)
        {
            // Nothing assigned: wait, but wake for a rebalance.
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            lock (_gate) _pollCancel = idle;
            if (!_rejoinNeeded) idle.Token.WaitHandle.WaitOne(timeout);
            lock (_gate) _pollCancel = null;
            return 0;
        }
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        lock (_gate) _pollCancel = cts;
        try
        {
            if (_rejoinNeeded) return 0;
            return _fetcher.Poll(timeout, into, cts.Token);
        }
        finally
        {
            lock (_gate) _pollCancel = null;
        }
    }

    public void MarkEmitted(in ConsumedRecord record) => _emitted[new TopicPartition(record.Topic, record.Partition)] = record.Offset + 1;

    // ---- membership ----

    private Broker Coordinator(CancellationToken ct)
    {
        lock (_gate) if (_coordinator is { IsRunning: true } c) return c;
        var found = _client.Coordinator(_settings.GroupId, ct);
        lock (_gate) _coordinator = found;
        return found;
    }

    private void CoordinatorUnknown()
    {
        lock (_gate) _coordinator = null;
    }

    private void JoinAndSync(CancellationToken ct)
    {
        _joining = true;
        try
        {
            while (!ct.IsCancellationRequested && !IsClosed)
            {
                if (!Cooperative && _assignment.Count > 0)
                {
                    // Eager: commit what was handed on, then give everything up before joining (onPartitionsRevoked).
                    CommitEmitted();
                    SetAssignment([], revoked: _assignment.ToList());
                }
                Broker coordinator;
                try
                {
                    coordinator = Coordinator(ct);
                }
                catch (KafkaException e) when (e.Code is ErrorCode.CoordinatorNotAvailable or ErrorCode.BrokerNotAvailable)
                {
                    EmbeddedClient.Backoff(ct);
                    continue;
                }
                int generation;
                string memberId;
                lock (_gate)
                {
                    generation = _generation;
                    memberId = _memberId;
                }
                var owned = _assignment.ToList();
                var protocols = _assignors.Values.Select(a => new GroupProtocol(a.Name, ConsumerProtocol.SerializeSubscription(
                    new ConsumerSubscription(_settings.Topics, a.SubscriptionUserData(generation), owned, generation)))).ToList();
                JoinGroupResult join;
                try
                {
                    join = coordinator.JoinGroupAsync(new JoinGroupParams
                    {
                        GroupId = _settings.GroupId,
                        SessionTimeoutMs = _settings.SessionTimeoutMs,
                        RebalanceTimeoutMs = _settings.MaxPollIntervalMs,
                        MemberId = memberId,
                        ProtocolType = ConsumerProtocol.ProtocolType,
                        Protocols = protocols,
                        ClientId = _settings.ClientId,
                        RequireKnownMemberId = true,
                    }, ct).AsTask().GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                if (!HandleMembershipError(join.Error, join.MemberId, join.ErrorMessage, ct)) continue;

                lock (_gate)
                {
                    _memberId = join.MemberId;
                    _generation = join.GenerationId;
                }
                var assignments = join.Leader == join.MemberId ? Assign(join) : [];
                SyncGroupResult sync;
                try
                {
                    sync = coordinator.SyncGroupAsync(new SyncGroupParams
                    {
                        GroupId = _settings.GroupId,
                        GenerationId = join.GenerationId,
                        MemberId = join.MemberId,
                        ProtocolType = join.ProtocolType,
                        ProtocolName = join.ProtocolName,
                        Assignments = assignments,
                    }, ct).AsTask().GetAwaiter().GetResult();
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                if (!HandleMembershipError(sync.Error, join.MemberId, sync.ErrorMessage, ct)) continue;

                var assigned = ConsumerProtocol.DeserializeAssignment(sync.Assignment).Partitions
                    .Where(tp => _settings.Topics.Contains(tp.Topic)).Distinct().ToList();
                var revoked = _assignment.Where(tp => !assigned.Contains(tp)).ToList();
                if (revoked.Count > 0) CommitEmitted();
                SetAssignment(assigned, revoked);
                _joined = true;
                // Cooperative: what this member gave up goes to its new owner in a follow-up rebalance.
                _rejoinNeeded = Cooperative && revoked.Count > 0;
                return;
            }
        }
        finally
        {
            _joining = false;
        }
    }

    /// <summary>True when the call succeeded; false to try the join again; throws what a consumer cannot recover from.</summary>
    private bool HandleMembershipError(ErrorCode error, string memberId, string? message, CancellationToken ct)
    {
        switch (error)
        {
            case ErrorCode.None:
                return true;
            case ErrorCode.MemberIdRequired:
                lock (_gate) _memberId = memberId;
                return false;
            case ErrorCode.UnknownMemberId:
                ResetGeneration(resetMemberId: true);
                return false;
            case ErrorCode.IllegalGeneration or ErrorCode.RebalanceInProgress:
                ResetGeneration(resetMemberId: false);
                return false;
            case ErrorCode.NotCoordinator or ErrorCode.CoordinatorNotAvailable or ErrorCode.CoordinatorLoadInProgress:
                CoordinatorUnknown();
                EmbeddedClient.Backoff(ct);
                return false;
            default:
                throw new KafkaException(error, message ?? $"Joining group '{_settings.GroupId}' failed: {error}.");
        }
    }

    private void ResetGeneration(bool resetMemberId)
    {
        lock (_gate)
        {
            _generation = -1;
            if (resetMemberId) _memberId = "";
        }
    }

    /// <summary>The leader's part: run the chosen assignor over every member's subscription.</summary>
    private List<SyncGroupAssignment> Assign(JoinGroupResult join)
    {
        var assignor = _assignors.TryGetValue(join.ProtocolName ?? "", out var a) ? a
            : throw new KafkaException(ErrorCode.InconsistentGroupProtocol, $"The group chose assignor '{join.ProtocolName}', which this consumer does not have.");
        var subscriptions = join.Members.ToDictionary(m => m.MemberId, m => ConsumerProtocol.DeserializeSubscription(m.Metadata), StringComparer.Ordinal);
        var topics = subscriptions.Values.SelectMany(s => s.Topics).Distinct().ToList();
        var meta = _client.GetMetadata(topics);
        var partitionsPerTopic = meta.Topics.Where(t => t.Error == ErrorCode.None).ToDictionary(t => t.Name, t => t.Partitions.Count, StringComparer.Ordinal);
        var result = assignor.Assign(partitionsPerTopic, subscriptions);
        return result.Select(r => new SyncGroupAssignment(r.Key, ConsumerProtocol.SerializeAssignment(new ConsumerAssignment(r.Value)))).ToList();
    }

    /// <summary>Takes up a new assignment: retained partitions keep their positions, new ones start at the group's committed offset.</summary>
    private void SetAssignment(List<TopicPartition> assigned, List<TopicPartition> revoked)
    {
        foreach (var tp in revoked)
        {
            _emitted.Remove(tp);
            _committed.Remove(tp);
        }
        var positions = new Dictionary<TopicPartition, long>();
        foreach (var tp in assigned)
            if (_fetcher.Positions.TryGetValue(tp, out var p) && _assignment.Contains(tp)) positions[tp] = p;
        var fresh = assigned.Where(tp => !positions.ContainsKey(tp)).ToList();
        if (fresh.Count > 0)
        {
            var committed = _client.FetchCommittedOffsets(_settings.GroupId, fresh).ToDictionary(r => new TopicPartition(r.Topic, r.Partition), r => r.Offset);
            foreach (var byTopic in fresh.GroupBy(tp => tp.Topic))
            {
                var bounds = _client.GetOffsets(byTopic.Key, byTopic.Select(tp => tp.Partition).ToList()).ToDictionary(o => o.Partition);
                foreach (var tp in byTopic)
                {
                    var b = bounds[tp.Partition];
                    long c = committed.GetValueOrDefault(tp, -1);
                    if (c >= b.LogStartOffset && c <= b.HighWatermark)
                    {
                        positions[tp] = c;
                        _committed[tp] = c;
                        continue;
                    }
                    positions[tp] = _settings.AutoOffsetReset switch
                    {
                        "earliest" => b.LogStartOffset,
                        "latest" => b.HighWatermark,
                        _ => throw new KafkaException(ErrorCode.OffsetOutOfRange, $"Group '{_settings.GroupId}' has no valid committed offset for {tp} and auto.offset.reset is none."),
                    };
                    // The reset position counts as consumed, so it is committed even if nothing arrives (as Kafka's consumer commits its positions).
                    _emitted[tp] = positions[tp];
                }
            }
        }
        _fetcher.Assign(assigned.Select(tp => (tp, positions[tp])));
        lock (_gate) _assignment = assigned;
    }

    // ---- heartbeats ----

    private async Task HeartbeatLoop()
    {
        var closing = _closing.Token;
        while (!closing.IsCancellationRequested)
        {
            Broker? coordinator;
            string memberId;
            int generation;
            lock (_gate)
            {
                coordinator = _coordinator;
                memberId = _memberId;
                generation = _generation;
            }
            bool member = _joined && !_joining && memberId.Length > 0 && generation >= 0;
            try
            {
                if (!member)
                {
                    // Joining or not yet joined: look again soon, so the wake-up below is armed right after a join.
                    await Task.Delay(Math.Min(50, _settings.HeartbeatIntervalMs), closing).ConfigureAwait(false);
                    continue;
                }
                if (coordinator is null)
                {
                    // The coordinator moved (its broker died): find the new one and go on heartbeating there, as Kafka's
                    // consumer does. It took the group over with its members, so no rejoin is needed.
                    try { coordinator = Coordinator(closing); }
                    catch (KafkaException) { continue; } // none yet: Coordinator waited and backed off; try again
                }
                var wake = !_rejoinNeeded ? coordinator!.WhenGroupRebalancing(_settings.GroupId) : Task.Delay(Timeout.Infinite, closing);
                await Task.WhenAny(Task.Delay(_settings.HeartbeatIntervalMs, closing), wake).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { }
            if (closing.IsCancellationRequested) return;
            if (_joining) continue;

            if (Environment.TickCount64 - Volatile.Read(ref _lastPoll) > _settings.MaxPollIntervalMs)
            {
                // max.poll.interval.ms passed without a poll: leave, so the group can move on (Kafka's consumer does the same).
                LeaveGroup();
                RequestRejoin();
                continue;
            }
            ErrorCode error;
            try
            {
                error = coordinator!.Heartbeat(new HeartbeatParams(_settings.GroupId, generation, memberId));
            }
            catch (Exception)
            {
                error = ErrorCode.CoordinatorNotAvailable; // a broker in the middle of stopping
            }
            // The member rejoined while the beat was on its way (it was read before the wait): the answer is about a
            // generation it has left, and acting on it would start another rebalance. Kafka's consumer ignores it too.
            lock (_gate)
                if (_generation != generation || _memberId != memberId) continue;
            switch (error)
            {
                case ErrorCode.None:
                    break;
                case ErrorCode.RebalanceInProgress:
                    RequestRejoin();
                    break;
                case ErrorCode.IllegalGeneration:
                    ResetGeneration(resetMemberId: false);
                    RequestRejoin();
                    break;
                case ErrorCode.UnknownMemberId:
                    ResetGeneration(resetMemberId: true);
                    RequestRejoin();
                    break;
                case ErrorCode.NotCoordinator or ErrorCode.CoordinatorNotAvailable or ErrorCode.CoordinatorLoadInProgress:
                    // Only the coordinator is lost, not the membership: the next beat goes to the new coordinator, which
                    // answers UNKNOWN_MEMBER_ID (and so a rejoin) only if it did not take the group over.
                    CoordinatorUnknown();
                    break;
                default:
                    CoordinatorUnknown();
                    RequestRejoin();
                    break;
            }
        }
    }

    private void RequestRejoin()
    {
        _rejoinNeeded = true;
        lock (_gate)
        {
            try { _pollCancel?.Cancel(); }
            catch (ObjectDisposedException) { }
        }
    }

    // ---- commits ----

    public ErrorCode CommitEmitted()
    {
        List<(TopicPartition, long)> pending;
        lock (_gate)
            pending = _emitted.Where(e => _assignment.Contains(e.Key) && (!_committed.TryGetValue(e.Key, out var c) || c != e.Value))
                .Select(e => (e.Key, e.Value)).ToList();
        if (pending.Count == 0) return ErrorCode.None;
        var error = TryCommit(pending);
        return error;
    }

    public void Commit(IReadOnlyList<(TopicPartition Partition, long Offset)> offsets)
    {
        var error = TryCommit(offsets);
        if (error != ErrorCode.None) throw _settings.CommitFailed(error);
    }

    private ErrorCode TryCommit(IReadOnlyList<(TopicPartition Partition, long Offset)> offsets)
    {
        string memberId;
        int generation;
        lock (_gate)
        {
            memberId = _memberId;
            generation = _generation;
        }
        bool manual = _settings.Partitions is not null;
        var request = new OffsetCommitParams
        {
            GroupId = _settings.GroupId,
            GenerationId = manual ? -1 : generation,
            MemberId = manual ? "" : memberId,
            Partitions = offsets.Select(o => new OffsetCommitPartitionParams(o.Partition.Topic, o.Partition.Partition, o.Offset)).ToList(),
        };
        IReadOnlyList<OffsetCommitPartitionResult> results;
        try
        {
            results = Coordinator(CancellationToken.None).OffsetCommit(request);
        }
        catch (KafkaException e)
        {
            return e.Code;
        }
        var error = results.Select(r => r.Error).FirstOrDefault(e => e != ErrorCode.None);
        if (error is ErrorCode.NotCoordinator or ErrorCode.CoordinatorNotAvailable) CoordinatorUnknown();
        lock (_gate)
            foreach (var (r, o) in results.Zip(offsets))
                if (r.Error == ErrorCode.None) _committed[o.Partition] = o.Offset;
        return error;
    }

    // ---- closing ----

    public void Close(bool commit)
    {
        if (IsClosed) return;
        if (commit) CommitEmitted();
        _closing.Cancel();
        try { _heartbeat?.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        if (_settings.Partitions is null) LeaveGroup();
        _fetcher.Dispose();
    }

    private void LeaveGroup()
    {
        string memberId;
        lock (_gate)
        {
            memberId = _memberId;
            _memberId = "";
            _generation = -1;
        }
        if (memberId.Length == 0) return;
        try
        {
            Broker? coordinator;
            lock (_gate) coordinator = _coordinator;
            coordinator?.LeaveGroup(new LeaveGroupParams(_settings.GroupId, [new LeaveGroupMember(memberId, Reason: "the consumer is closing")]));
        }
        catch (Exception)
        {
            // Leaving is best effort: the session timeout removes a member that could not say goodbye.
        }
    }

    public void Dispose() => Close(commit: false);
}
