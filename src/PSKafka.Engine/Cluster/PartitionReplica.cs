using PSKafka.Engine.Api;
using PSKafka.Engine.Logging;
using PSKafka.Engine.Metadata;
using PSKafka.Engine.Storage;

namespace PSKafka.Engine.Cluster;

/// <summary>
/// One broker's replica of a partition (Kafka's Partition): its log, its role (leader or follower),
/// the leader epoch and the high watermark. As leader it tracks each follower's log end offset and
/// last caught-up time from their fetches, moves the high watermark to the smallest log end offset of
/// the ISR and completes acks=all produces waiting for it. Fetchers waiting for data are woken on
/// every append and every high watermark move.
/// </summary>
public sealed class PartitionReplica
{
    // Guards the role, the follower states, the high watermark and the waiting produces.
    private readonly Lock _lock = new();
    private readonly Lock _appendLock = new();
    private TaskCompletionSource _dataArrived = NewSignal();
    private long _highWatermark;
    private readonly Dictionary<int, FollowerState> _followers = new();
    private readonly List<PendingAck> _pendingAcks = new(); // ascending RequiredOffset: appends are ordered
    private bool _isrChangeInFlight;
    // Idempotent producers' last batches, for duplicate detection; kept on followers too, so a new leader has it.
    private ProducerStateTable _producers;

    private sealed class FollowerState
    {
        public long LogEndOffset = -1; // unknown until its first fetch under this leader
        public long LastCaughtUpMs;
        public long LastFetchMs;
        public long LeaderEndOffsetAtLastFetch;
        public long HighWatermarkSent = -1;
    }

    private sealed class PendingAck(long requiredOffset)
    {
        public readonly long RequiredOffset = requiredOffset;
        public readonly TaskCompletionSource<ErrorCode> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly KafkaLogger _log;
    private readonly KafkaLogger _stateChange;

    internal PartitionReplica(int brokerId, TopicPartition topicPartition, PartitionLog log, long checkpointedHighWatermark,
        BrokerLogging? logging = null)
    {
        logging ??= BrokerLogging.None;
        _log = logging.For(KafkaLoggers.Partition, $"[Partition {topicPartition} broker={brokerId}] ");
        _stateChange = logging.For(KafkaLoggers.StateChange, $"[Broker id={brokerId}] ");
        BrokerId = brokerId;
        TopicPartition = topicPartition;
        Log = log;
        _highWatermark = Math.Clamp(checkpointedHighWatermark, log.LogStartOffset, log.LogEndOffset);
        // Retries that matter come within seconds, so the active segment's batches are enough to rebuild from.
        _producers = ProducerStateTable.Rebuild(log, log.ActiveSegment.BaseOffset);
    }

    public int BrokerId { get; }
    /// <summary>This replica's lines in server.log (<c>[Partition retail-0 broker=1]</c>).</summary>
    internal KafkaLogger Logger => _log;
    public TopicPartition TopicPartition { get; }
    public PartitionLog Log { get; }
    public bool IsLeader { get; private set; }
    public int LeaderEpoch { get; private set; } = -1;
    public int PartitionEpoch { get; private set; } = -1;
    public int LeaderId { get; private set; } = -1;
    public IReadOnlyList<int> Replicas { get; private set; } = [];
    public IReadOnlyList<int> Isr { get; private set; } = [];

    /// <summary>Offsets below it are committed (on every in-sync replica) and visible to consumers. Never goes down.</summary>
    public long HighWatermark => Volatile.Read(ref _highWatermark);
    public long LogEndOffset => Log.LogEndOffset;
    public long LogStartOffset => Log.LogStartOffset;

    /// <summary>What <see cref="ApplyState"/> changed, so the broker can start or stop fetching.</summary>
    internal enum RoleChange { None, BecameLeader, BecameFollower, WentOffline }

    /// <summary>
    /// Applies the controller's LeaderAndIsr for this partition; <paramref name="reason"/> says why it changed, for the log.
    /// </summary>
    internal RoleChange ApplyState(PartitionRecord state, string? reason = null)
    {
        List<PendingAck>? failed = null;
        RoleChange change;
        string? stateChange = null, isrChange = null;
        lock (_appendLock) // no leader append may straddle a role change
            lock (_lock)
            {
                bool newEpoch = state.LeaderEpoch != LeaderEpoch || state.Leader != LeaderId;
                bool leads = state.Leader == BrokerId;
                int previousLeader = LeaderId, previousEpoch = LeaderEpoch;
                var previousIsr = Isr;
                Replicas = state.Replicas.ToArray();
                Isr = state.Isr.ToArray();
                PartitionEpoch = state.PartitionEpoch;
                if (!newEpoch)
                {
                    change = RoleChange.None;
                    if (IsLeader)
                    {
                        isrChange = IsrChangeLocked(previousIsr, reason);
                        foreach (var id in Replicas.Where(r => r != BrokerId && !_followers.ContainsKey(r)))
                            _followers[id] = new FollowerState();
                        MaybeIncrementHighWatermarkLocked(); // a shrunk ISR can let the high watermark move
                    }
                }
                else if (leads)
                {
                    change = RoleChange.BecameLeader;
                    IsLeader = true;
                    LeaderId = state.Leader;
                    LeaderEpoch = state.LeaderEpoch;
                    // The new epoch starts at this leader's log end offset (KIP-101).
                    Log.LeaderEpochCache.Assign(LeaderEpoch, Log.LogEndOffset);
                    long now = NowMs();
                    _followers.Clear();
                    foreach (var id in Replicas.Where(r => r != BrokerId))
                        _followers[id] = new FollowerState { LastCaughtUpMs = Isr.Contains(id) ? now : 0, LastFetchMs = now };
                    _isrChangeInFlight = false;
                    MaybeIncrementHighWatermarkLocked();
                    stateChange = $"Leader {TopicPartition} starts at leader epoch {LeaderEpoch} from offset {Log.LogEndOffset} with partition epoch {PartitionEpoch}, " +
                        $"high watermark {HighWatermark}, ISR [{string.Join(",", Isr)}], adding replicas [] and removing replicas []. Previous leader epoch was {previousEpoch}.";
                }
                else
                {
                    change = state.Leader >= 0 ? RoleChange.BecameFollower : RoleChange.WentOffline;
                    IsLeader = false;
                    LeaderId = state.Leader;
                    LeaderEpoch = state.LeaderEpoch;
                    _followers.Clear();
                    failed = TakePendingAcksLocked();
                    stateChange = $"Follower {TopicPartition} starts at leader epoch {LeaderEpoch} from offset {Log.LogEndOffset} with partition epoch {PartitionEpoch} " +
                        $"and high watermark {HighWatermark}. Current leader is {LeaderId}. Previous leader {previousLeader} and previous leader epoch was {previousEpoch}.";
                }
            }
        if (stateChange is not null) _stateChange.Info(reason is null ? stateChange : $"{stateChange} (reason: {reason})");
        if (isrChange is not null) _log.Info(isrChange);
        Fail(failed, ErrorCode.NotLeaderOrFollower);
        Signal();
        return change;
    }

    /// <summary>The leader's line for an ISR change the controller made, in Kafka's words (Partition.maybeShrinkIsr / maybeExpandIsr).</summary>
    private string? IsrChangeLocked(IReadOnlyList<int> previous, string? reason)
    {
        if (previous.SequenceEqual(Isr)) return null;
        string why = reason is null ? "" : $" (reason: {reason})";
        var removed = previous.Except(Isr).ToArray();
        if (removed.Length == 0)
            return $"Expanding ISR from {string.Join(",", previous)} to {string.Join(",", Isr)}{why}";
        long nowTicks = NowMs(), nowWall = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var outOfSync = removed.Select(id => _followers.TryGetValue(id, out var f)
            ? $"(brokerId: {id}, endOffset: {f.LogEndOffset}, lastCaughtUpTimeMs: {nowWall - (nowTicks - f.LastCaughtUpMs)})"
            : $"(brokerId: {id}, endOffset: unknown, lastCaughtUpTimeMs: unknown)");
        return $"Shrinking ISR from {string.Join(",", previous)} to {string.Join(",", Isr)}. Leader: (highWatermark: {HighWatermark}, " +
            $"endOffset: {Log.LogEndOffset}). Out of sync replicas: {string.Join(" ", outOfSync)}.{why}";
    }

    /// <summary>This broker no longer hosts the replica (stopped, or the partition moved or was deleted).</summary>
    internal void Close()
    {
        List<PendingAck> failed;
        lock (_lock)
        {
            IsLeader = false;
            _followers.Clear();
            failed = TakePendingAcksLocked();
        }
        Fail(failed, ErrorCode.NotLeaderOrFollower);
        Signal();
    }

    // ---- leader side ----

    /// <summary>
    /// Leader append. min.insync.replicas is checked before the append for acks=all (NOT_ENOUGH_REPLICAS);
    /// the caller then waits with <see cref="WaitForCommitAsync"/>.
    /// </summary>
    internal (ProducePartitionResult Result, long NextOffset) AppendAsLeader(ProducePartitionParams data, short acks)
    {
        LogAppendInfo info;
        // Role changes take the append lock too, so the leader epoch cannot change under this append.
        lock (_appendLock)
        {
            lock (_lock)
            {
                if (!IsLeader)
                    return (new(data.Topic, data.Partition, ErrorCode.NotLeaderOrFollower, ErrorMessage: $"Broker {BrokerId} is not the leader of {TopicPartition}."), -1);
                if (acks == Acks.All && Isr.Count < Log.Config.MinInsyncReplicas)
                    return (new(data.Topic, data.Partition, ErrorCode.NotEnoughReplicas,
                        ErrorMessage: $"The in-sync replicas of {TopicPartition} ({Isr.Count}: [{string.Join(",", Isr)}]) are fewer than min.insync.replicas ({Log.Config.MinInsyncReplicas})."), -1);
            }
            var verdict = _producers.Check(data.Records.Span, TopicPartition.ToString());
            if (verdict.IsDuplicate) // a retried batch: already written, answered with its first offset once it is committed
                return (new(data.Topic, data.Partition, ErrorCode.None, verdict.DuplicateFirstOffset, -1, Log.LogStartOffset), verdict.DuplicateLastOffset + 1);
            if (verdict.Error != ErrorCode.None)
                return (new(data.Topic, data.Partition, verdict.Error, LogStartOffset: Log.LogStartOffset, ErrorMessage: verdict.Message), -1);
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            info = Log.AppendAsLeader(data.Records.Span, LeaderEpoch, now);
            if (info.Error == ErrorCode.None)
            {
                _producers.Update(data.Records.Span, now);
                lock (_lock) MaybeIncrementHighWatermarkLocked();
            }
        }
        if (info.Error != ErrorCode.None)
            return (new(data.Topic, data.Partition, info.Error, LogStartOffset: Log.LogStartOffset, ErrorMessage: info.ErrorMessage), -1);
        Signal(); // followers wait for new data, not only for the high watermark
        return (new(data.Topic, data.Partition, ErrorCode.None, info.FirstOffset, info.LogAppendTime, Log.LogStartOffset), info.LastOffset + 1);
    }

    /// <summary>
    /// acks=all: completes when the high watermark reaches <paramref name="requiredOffset"/>, with
    /// NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR had shrunk below min.insync.replicas by then (as Kafka's
    /// checkEnoughReplicasReachOffset), or NOT_LEADER_OR_FOLLOWER if leadership moved first.
    /// </summary>
    internal Task<ErrorCode> WaitForCommitAsync(long requiredOffset)
    {
        lock (_lock)
        {
            if (!IsLeader) return Task.FromResult(ErrorCode.NotLeaderOrFollower);
            if (HighWatermark >= requiredOffset) return Task.FromResult(EnoughReplicasLocked());
            var pending = new PendingAck(requiredOffset);
            _pendingAcks.Add(pending);
            return pending.Done.Task;
        }
    }

    /// <summary>A produce that gave up waiting (timeout): forget its waiter.</summary>
    internal void AbandonWait(Task<ErrorCode> wait)
    {
        lock (_lock) _pendingAcks.RemoveAll(p => p.Done.Task == wait);
    }

    private ErrorCode EnoughReplicasLocked() =>
        Isr.Count >= Log.Config.MinInsyncReplicas ? ErrorCode.None : ErrorCode.NotEnoughReplicasAfterAppend;

    /// <summary>
    /// A follower fetched from <paramref name="fetchOffset"/>: that is its log end offset. Updates its
    /// caught-up time as Kafka's Replica.updateFetchState does and moves the high watermark. Returns the
    /// new ISR to propose when the follower has caught up and is not in the ISR.
    /// </summary>
    internal (ErrorCode Error, int[]? ExpandedIsr, int PartitionEpoch) UpdateFollowerFetchState(int followerId, long fetchOffset)
    {
        lock (_lock)
        {
            if (!IsLeader) return (ErrorCode.NotLeaderOrFollower, null, -1);
            if (!_followers.TryGetValue(followerId, out var f)) return (ErrorCode.NotLeaderOrFollower, null, -1);
            long now = NowMs(), leaderEnd = Log.LogEndOffset;
            if (fetchOffset >= leaderEnd) f.LastCaughtUpMs = now;
            else if (fetchOffset >= f.LeaderEndOffsetAtLastFetch) f.LastCaughtUpMs = Math.Max(f.LastCaughtUpMs, f.LastFetchMs);
            f.LogEndOffset = Math.Min(fetchOffset, leaderEnd);
            f.LastFetchMs = now;
            f.LeaderEndOffsetAtLastFetch = leaderEnd;
            MaybeIncrementHighWatermarkLocked();

            // Rejoin: caught up to the high watermark and into this leader's epoch.
            int[]? expanded = null;
            if (!Isr.Contains(followerId) && !_isrChangeInFlight && f.LogEndOffset >= HighWatermark
                && f.LogEndOffset >= EpochStartOffsetLocked())
            {
                expanded = [.. Isr, followerId];
                _isrChangeInFlight = true;
            }
            return (ErrorCode.None, expanded, PartitionEpoch);
        }
    }

    /// <summary>
    /// Whether the follower has not yet been told the current high watermark. A waiting follower fetch
    /// answers at once then, so followers know the committed offset soon after the leader does and a
    /// new leader starts from a current high watermark.
    /// </summary>
    internal bool FollowerMissesHighWatermark(int followerId)
    {
        lock (_lock) return _followers.TryGetValue(followerId, out var f) && f.HighWatermarkSent < HighWatermark;
    }

    internal void HighWatermarkSent(int followerId, long highWatermark)
    {
        lock (_lock)
            if (_followers.TryGetValue(followerId, out var f)) f.HighWatermarkSent = Math.Max(f.HighWatermarkSent, highWatermark);
    }

    /// <summary>In-sync followers that have not caught up within <paramref name="maxLagMs"/> (replica.lag.time.max.ms).</summary>
    internal (int[] ShrunkIsr, int PartitionEpoch)? OutOfSyncReplicas(long now, long maxLagMs)
    {
        lock (_lock)
        {
            if (!IsLeader || _isrChangeInFlight) return null;
            var lagging = Isr.Where(id => id != BrokerId && _followers.TryGetValue(id, out var f) && now - f.LastCaughtUpMs > maxLagMs).ToArray();
            if (lagging.Length == 0) return null;
            _isrChangeInFlight = true;
            return (Isr.Except(lagging).ToArray(), PartitionEpoch);
        }
    }

    /// <summary>The controller answered an ISR change this leader proposed.</summary>
    internal void IsrChangeDone()
    {
        lock (_lock) _isrChangeInFlight = false;
    }

    private long EpochStartOffsetLocked()
    {
        foreach (var (epoch, start) in Log.LeaderEpochCache.Entries)
            if (epoch == LeaderEpoch) return start;
        return 0;
    }

    // High watermark = smallest log end offset of the ISR (this leader's included); it only moves up.
    private void MaybeIncrementHighWatermarkLocked()
    {
        if (!IsLeader) return;
        long candidate = Log.LogEndOffset;
        foreach (var id in Isr)
        {
            if (id == BrokerId) continue;
            if (!_followers.TryGetValue(id, out var f) || f.LogEndOffset < 0) return;
            candidate = Math.Min(candidate, f.LogEndOffset);
        }
        if (candidate <= HighWatermark) return;
        Volatile.Write(ref _highWatermark, candidate);
        if (_pendingAcks.Count > 0)
        {
            int done = 0;
            var result = EnoughReplicasLocked();
            while (done < _pendingAcks.Count && _pendingAcks[done].RequiredOffset <= candidate)
                _pendingAcks[done++].Done.TrySetResult(result);
            _pendingAcks.RemoveRange(0, done);
        }
        Signal();
    }

    private List<PendingAck> TakePendingAcksLocked()
    {
        var taken = _pendingAcks.ToList();
        _pendingAcks.Clear();
        return taken;
    }

    private static void Fail(List<PendingAck>? acks, ErrorCode code)
    {
        if (acks is null) return;
        foreach (var a in acks) a.Done.TrySetResult(code);
    }

    // ---- follower side ----

    /// <summary>Follower append of the leader's batches, then the high watermark the leader sent (capped at our end).</summary>
    internal LogAppendInfo AppendAsFollower(ReadOnlySpan<byte> batches, long leaderHighWatermark)
    {
        LogAppendInfo info = default;
        if (!batches.IsEmpty)
        {
            lock (_appendLock)
            {
                info = Log.AppendAsFollower(batches);
                if (info.Error == ErrorCode.None) _producers.Update(batches, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            }
            if (info.Error != ErrorCode.None) return info;
        }
        UpdateFollowerHighWatermark(leaderHighWatermark);
        return info;
    }

    internal void UpdateFollowerHighWatermark(long leaderHighWatermark)
    {
        long hw = Math.Min(leaderHighWatermark, Log.LogEndOffset);
        lock (_lock)
        {
            if (IsLeader || hw <= HighWatermark) return;
            Volatile.Write(ref _highWatermark, hw);
        }
        Signal();
    }

    /// <summary>Truncation by leader epoch (KIP-101/279): drops the tail after <paramref name="offset"/>.</summary>
    internal void TruncateTo(long offset)
    {
        lock (_appendLock)
        {
            Log.TruncateTo(offset);
            // Truncated batches must not count as duplicates of future retries.
            _producers = ProducerStateTable.Rebuild(Log, Log.ActiveSegment.BaseOffset);
        }
        lock (_lock)
        {
            if (HighWatermark > Log.LogEndOffset) Volatile.Write(ref _highWatermark, Log.LogEndOffset);
        }
    }

    /// <summary>The leader's log starts after our end: start empty at its log start offset.</summary>
    internal void TruncateFullyAndStartAt(long offset)
    {
        lock (_appendLock) Log.TruncateFullyAndStartAt(offset);
        lock (_lock) Volatile.Write(ref _highWatermark, offset);
    }

    // ---- reads ----

    /// <summary>
    /// Fetch read: a consumer sees batches below the high watermark, a follower everything. A position
    /// between the high watermark and the log end is valid (empty answer), as in Kafka.
    /// </summary>
    internal FetchPartitionResult Read(FetchPartitionParams request, bool fromFollower, bool rent = false)
    {
        if (request.CurrentLeaderEpoch >= 0 && request.CurrentLeaderEpoch != LeaderEpoch)
        {
            var code = request.CurrentLeaderEpoch < LeaderEpoch ? ErrorCode.FencedLeaderEpoch : ErrorCode.UnknownLeaderEpoch;
            return new(request.Topic, request.Partition, code, HighWatermark, Log.LogStartOffset, ReadOnlyMemory<byte>.Empty,
                $"Leader epoch {request.CurrentLeaderEpoch} of the request does not match {LeaderEpoch} of {TopicPartition}.");
        }
        long hw = HighWatermark;
        long leo = Log.LogEndOffset;
        if (request.FetchOffset < Log.LogStartOffset || request.FetchOffset > leo)
            return new(request.Topic, request.Partition, ErrorCode.OffsetOutOfRange, hw, Log.LogStartOffset, ReadOnlyMemory<byte>.Empty,
                $"Offset {request.FetchOffset} is out of range for {TopicPartition} [{Log.LogStartOffset}, {leo}].");
        long maxOffset = fromFollower ? leo : hw;
        if (request.FetchOffset >= maxOffset)
            return new(request.Topic, request.Partition, ErrorCode.None, hw, Log.LogStartOffset, ReadOnlyMemory<byte>.Empty);
        var read = Log.Read(request.FetchOffset, request.PartitionMaxBytes, maxOffset, rent);
        return new(request.Topic, request.Partition, read.Error, hw, Log.LogStartOffset, read.Records) { Lease = read.Lease };
    }

    /// <summary>A task that completes on the next append or high watermark move.</summary>
    internal Task DataArrived => Volatile.Read(ref _dataArrived).Task;

    internal void Signal() => Interlocked.Exchange(ref _dataArrived, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static long NowMs() => Environment.TickCount64;
}
