using PSKafka.Engine.Api;
using PSKafka.Engine.Logging;
using PSKafka.Engine.Metadata;

namespace PSKafka.Engine.Groups;

/// <summary>
/// One broker's group coordinator for the classic protocol (Kafka's GroupCoordinator): the state
/// machine Empty → PreparingRebalance → CompletingRebalance → Stable (and Dead), joins that wait
/// for every known member up to the rebalance timeout, the leader's assignment handed out by
/// SyncGroup, heartbeats and session expiry, and committed offsets kept in the metadata store.
/// It serves the groups whose offsets partition its broker leads; the broker checks that.
/// </summary>
public sealed class GroupCoordinator : IDisposable
{
    private const int TickMs = 20;

    private readonly MetadataStore _store;
    private readonly Func<GroupCoordinatorConfig> _config;
    private readonly Func<string, int, bool> _partitionExists;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ClassicGroup> _groups = new(StringComparer.Ordinal);
    private readonly Dictionary<int, int> _loadedEpochs = new();
    private readonly Dictionary<string, TaskCompletionSource> _rebalanceSignals = new(StringComparer.Ordinal);
    private readonly Timer _timer;
    private readonly KafkaLogger _log;
    private bool _disposed;

    /// <param name="partitionExists">Whether a topic partition exists (commits for unknown partitions are refused).</param>
    /// <param name="log">Where group state changes go (<c>[GroupCoordinator N]: </c> in server.log).</param>
    public GroupCoordinator(MetadataStore store, Func<GroupCoordinatorConfig> config, Func<string, int, bool> partitionExists, KafkaLogger? log = null)
    {
        _store = store;
        _config = config;
        _partitionExists = partitionExists;
        _log = log ?? KafkaLogger.None;
        _lastGroupCleanup = Now;
        // An exception escaping a timer callback would end the process: RunThread logs it and the next tick goes on.
        _timer = new Timer(_ => _log.RunThread(Tick), null, TickMs, TickMs);
    }

    private long _lastGroupCleanup;

    /// <summary>The settings in effect now (read on every use, so a changed broker setting applies at once).</summary>
    internal GroupCoordinatorConfig Config => _config();

    private static string OffsetsPartition(ClassicGroup group) => $"{CoordinatorPlacement.OffsetsTopic}-{group.OffsetsPartition}";

    private static long Now => Environment.TickCount64;

    // ---- loading and unloading (coordinator moves) ----

    /// <summary>
    /// Makes sure the groups of an offsets partition are loaded for the given leader epoch: a new
    /// epoch means leadership moved away and back, so what was in memory is stale and is reloaded.
    /// </summary>
    public void EnsureLoaded(int offsetsPartition, int leaderEpoch, int offsetsPartitions)
    {
        lock (_gate)
        {
            if (_loadedEpochs.TryGetValue(offsetsPartition, out var epoch) && epoch == leaderEpoch) return;
            long started = Environment.TickCount64;
            UnloadLocked(offsetsPartition);
            foreach (var record in _store.LoadGroups())
            {
                if (CoordinatorPlacement.PartitionFor(record.Id, offsetsPartitions) != offsetsPartition) continue;
                var group = new ClassicGroup(record.Id, offsetsPartition)
                {
                    ProtocolType = record.ProtocolType,
                    Generation = record.Generation,
                    ProtocolName = null,
                };
                if (record.Members.Count > 0 && record.Protocol is not null)
                {
                    // Stable when saved: the members go on as they were; each has a session timeout to heartbeat here.
                    group.State = GroupState.Stable;
                    group.ProtocolName = record.Protocol;
                    group.LeaderId = record.Leader;
                    foreach (var m in record.Members) group.Members.Add(GroupMember.FromRecord(m, Now));
                }
                foreach (var o in _store.LoadOffsets(record.Id))
                    group.Offsets[new TopicPartition(o.Topic, o.Partition)] = new CommittedOffset(o.Offset, o.LeaderEpoch, o.Metadata, o.CommitTimestamp);
                _groups[record.Id] = group;
            }
            _loadedEpochs[offsetsPartition] = leaderEpoch;
            _log.Info($"Finished loading offsets and group metadata from {CoordinatorPlacement.OffsetsTopic}-{offsetsPartition} in {Environment.TickCount64 - started} milliseconds");
        }
    }

    /// <summary>This broker no longer leads the partition (or stops): its groups go, waiting members hear NOT_COORDINATOR.</summary>
    public void Unload(int offsetsPartition)
    {
        lock (_gate) UnloadLocked(offsetsPartition);
    }

    private void UnloadLocked(int offsetsPartition)
    {
        _loadedEpochs.Remove(offsetsPartition);
        foreach (var group in _groups.Values.Where(g => g.OffsetsPartition == offsetsPartition).ToList())
        {
            foreach (var m in group.Members) FailWaiters(m, ErrorCode.NotCoordinator);
            group.State = GroupState.Dead;
            _groups.Remove(group.GroupId);
            Signal(group.GroupId);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var p in _loadedEpochs.Keys.ToList()) UnloadLocked(p);
        }
        _timer.Dispose();
    }

    // ---- JoinGroup ----

    public Task<JoinGroupResult> JoinGroupAsync(JoinGroupParams request, int offsetsPartition)
    {
        if (string.IsNullOrEmpty(request.GroupId))
            return Task.FromResult(JoinGroupResult.Failed(ErrorCode.InvalidGroupId, request.MemberId, "The group id is empty."));
        var config = _config();
        if (request.SessionTimeoutMs < config.MinSessionTimeoutMs || request.SessionTimeoutMs > config.MaxSessionTimeoutMs)
            return Task.FromResult(JoinGroupResult.Failed(ErrorCode.InvalidSessionTimeout, request.MemberId,
                $"The session timeout {request.SessionTimeoutMs} ms is outside the broker's range [group.min.session.timeout.ms={config.MinSessionTimeoutMs}, group.max.session.timeout.ms={config.MaxSessionTimeoutMs}]."));
        if (request.GroupInstanceId is not null)
            return Task.FromResult(JoinGroupResult.Failed(ErrorCode.UnsupportedVersion, request.MemberId, "Static membership (group.instance.id) is not supported by this broker yet."));
        int rebalanceTimeout = request.RebalanceTimeoutMs < 0 ? request.SessionTimeoutMs : request.RebalanceTimeoutMs;

        Task<JoinGroupResult> task;
        lock (_gate)
        {
            if (_disposed) return Task.FromResult(JoinGroupResult.Failed(ErrorCode.NotCoordinator, request.MemberId));
            _groups.TryGetValue(request.GroupId, out var group);
            if (request.MemberId.Length == 0)
            {
                if (group is null) _groups[request.GroupId] = group = new ClassicGroup(request.GroupId, offsetsPartition);
                if (group.State == GroupState.Dead) return Task.FromResult(JoinGroupResult.Failed(ErrorCode.CoordinatorNotAvailable));
                if (!group.SupportsProtocols(request.ProtocolType, request.Protocols))
                    return Task.FromResult(JoinGroupResult.Failed(ErrorCode.InconsistentGroupProtocol, "", InconsistentMessage(group, request)));
                string memberId = (request.ClientId.Length == 0 ? "member" : request.ClientId) + "-" + Guid.NewGuid().ToString("D");
                if (request.RequireKnownMemberId)
                {
                    group.PendingMembers[memberId] = Now + request.SessionTimeoutMs;
                    return Task.FromResult(JoinGroupResult.Failed(ErrorCode.MemberIdRequired, memberId));
                }
                task = AddMemberAndRebalance(group, memberId, request, rebalanceTimeout);
            }
            else
            {
                if (group is null) return Task.FromResult(JoinGroupResult.Failed(ErrorCode.UnknownMemberId, request.MemberId, $"The group '{request.GroupId}' has no member {request.MemberId}."));
                if (group.State == GroupState.Dead) return Task.FromResult(JoinGroupResult.Failed(ErrorCode.CoordinatorNotAvailable, request.MemberId));
                if (!group.SupportsProtocols(request.ProtocolType, request.Protocols))
                    return Task.FromResult(JoinGroupResult.Failed(ErrorCode.InconsistentGroupProtocol, request.MemberId, InconsistentMessage(group, request)));
                if (group.PendingMembers.Remove(request.MemberId))
                {
                    task = AddMemberAndRebalance(group, request.MemberId, request, rebalanceTimeout);
                }
                else if (group.Find(request.MemberId) is not { } member)
                {
                    return Task.FromResult(JoinGroupResult.Failed(ErrorCode.UnknownMemberId, request.MemberId, $"The group '{request.GroupId}' has no member {request.MemberId}."));
                }
                else
                {
                    switch (group.State)
                    {
                        case GroupState.PreparingRebalance:
                            task = UpdateMemberAndRebalance(group, member, request, rebalanceTimeout);
                            break;
                        case GroupState.CompletingRebalance when member.SameProtocols(request.Protocols):
                            // A retried join (its response was lost): answer with the current generation again.
                            return Task.FromResult(CurrentGenerationResult(group, member));
                        case GroupState.CompletingRebalance:
                            task = UpdateMemberAndRebalance(group, member, request, rebalanceTimeout);
                            break;
                        case GroupState.Stable when group.IsLeader(member.MemberId) || !member.SameProtocols(request.Protocols):
                            // The leader rejoining (e.g. its subscription changed) or new metadata: a new generation.
                            task = UpdateMemberAndRebalance(group, member, request, rebalanceTimeout);
                            break;
                        case GroupState.Stable:
                            return Task.FromResult(CurrentGenerationResult(group, member));
                        default:
                            return Task.FromResult(JoinGroupResult.Failed(ErrorCode.UnknownMemberId, request.MemberId));
                    }
                }
            }
            TryCompleteJoin(group);
        }
        return task;
    }

    private static string InconsistentMessage(ClassicGroup group, JoinGroupParams request) =>
        $"The group '{group.GroupId}' uses protocol type '{group.ProtocolType}' with [{string.Join(", ", group.CandidateProtocols())}]; the member offered '{request.ProtocolType}' with [{string.Join(", ", request.Protocols.Select(p => p.Name))}].";

    private static JoinGroupResult CurrentGenerationResult(ClassicGroup group, GroupMember member) =>
        new(ErrorCode.None, group.Generation, group.ProtocolType, group.ProtocolName, group.LeaderId ?? "", member.MemberId,
            group.IsLeader(member.MemberId) ? MemberList(group) : []);

    private static List<JoinGroupMember> MemberList(ClassicGroup group) =>
        group.Members.Select(m => new JoinGroupMember(m.MemberId, m.GroupInstanceId, m.MetadataFor(group.ProtocolName!))).ToList();

    private Task<JoinGroupResult> AddMemberAndRebalance(ClassicGroup group, string memberId, JoinGroupParams request, int rebalanceTimeout)
    {
        var member = new GroupMember
        {
            MemberId = memberId,
            GroupInstanceId = request.GroupInstanceId,
            ClientId = request.ClientId,
            ClientHost = request.ClientHost,
            SessionTimeoutMs = request.SessionTimeoutMs,
            RebalanceTimeoutMs = rebalanceTimeout,
            Protocols = request.Protocols.ToArray(),
            AwaitingJoin = NewJoinWaiter(),
            HeartbeatDeadline = Now + request.SessionTimeoutMs,
        };
        if (group.Members.Count == 0) group.ProtocolType = request.ProtocolType;
        // Only the group's first formation keeps extending its initial delay while members arrive.
        if (group.State == GroupState.PreparingRebalance && group.Generation == 0) group.NewMemberAdded = true;
        group.Members.Add(member);
        group.LeaderId ??= memberId;
        MaybePrepareRebalance(group, $"Adding new member {memberId} with group instance id {request.GroupInstanceId ?? "None"}");
        return member.AwaitingJoin.Task;
    }

    private Task<JoinGroupResult> UpdateMemberAndRebalance(ClassicGroup group, GroupMember member, JoinGroupParams request, int rebalanceTimeout)
    {
        member.Protocols = request.Protocols.ToArray();
        member.SessionTimeoutMs = request.SessionTimeoutMs;
        member.RebalanceTimeoutMs = rebalanceTimeout;
        // A second join while the first is still waiting replaces it; the first is told to rejoin.
        member.AwaitingJoin?.TrySetResult(JoinGroupResult.Failed(ErrorCode.RebalanceInProgress, member.MemberId));
        member.AwaitingJoin = NewJoinWaiter();
        MaybePrepareRebalance(group, $"Updating metadata for member {member.MemberId} during {group.State}");
        return member.AwaitingJoin.Task;
    }

    private static TaskCompletionSource<JoinGroupResult> NewJoinWaiter() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void MaybePrepareRebalance(ClassicGroup group, string reason)
    {
        if (group.State is GroupState.Stable or GroupState.CompletingRebalance or GroupState.Empty) PrepareRebalance(group, reason);
    }

    private void PrepareRebalance(ClassicGroup group, string reason)
    {
        if (group.State == GroupState.CompletingRebalance)
            ResetAndPropagateAssignmentError(group, ErrorCode.RebalanceInProgress);
        var config = _config();
        if (group.State == GroupState.Empty)
        {
            // Kafka's InitialDelayedJoin: an empty group waits group.initial.rebalance.delay.ms for more members.
            int rebalanceTimeout = group.MaxRebalanceTimeoutMs;
            int delay = Math.Min(config.InitialRebalanceDelayMs, rebalanceTimeout);
            group.InitialDelay = true;
            group.InitialDelayRemainingMs = Math.Max(rebalanceTimeout - config.InitialRebalanceDelayMs, 0);
            group.JoinDeadline = Now + delay;
        }
        else
        {
            group.InitialDelay = false;
            group.JoinDeadline = Now + group.MaxRebalanceTimeoutMs;
        }
        group.SyncDeadline = long.MaxValue;
        group.State = GroupState.PreparingRebalance;
        _log.Info($"Preparing to rebalance group {group.GroupId} in state {group.State} with old generation {group.Generation} " +
            $"({OffsetsPartition(group)}) (reason: {reason})");
        Signal(group.GroupId);
    }

    private void TryCompleteJoin(ClassicGroup group)
    {
        if (group.State != GroupState.PreparingRebalance) return;
        long now = Now;
        if (group.InitialDelay)
        {
            if (now < group.JoinDeadline) return;
            if (group.NewMemberAdded && group.InitialDelayRemainingMs > 0)
            {
                int delay = Math.Min(_config().InitialRebalanceDelayMs, group.InitialDelayRemainingMs);
                group.InitialDelayRemainingMs -= delay;
                group.NewMemberAdded = false;
                group.JoinDeadline = now + delay;
                if (delay > 0) return;
            }
            CompleteJoin(group);
            return;
        }
        if (group.AllMembersJoined || now >= group.JoinDeadline) CompleteJoin(group);
    }

    private void CompleteJoin(ClassicGroup group)
    {
        // Members that did not rejoin within the rebalance timeout (max.poll.interval.ms) are out.
        foreach (var m in group.Members.Where(m => m.AwaitingJoin is null).ToList()) RemoveMember(group, m, ErrorCode.UnknownMemberId);
        group.PendingMembers.Clear();
        group.Generation++;
        group.InitialDelay = false;
        if (group.Members.Count == 0)
        {
            group.ProtocolName = null;
            group.State = GroupState.Empty;
            _log.Info($"Group {group.GroupId} with generation {group.Generation} is now empty ({OffsetsPartition(group)})");
            Persist(group);
            return;
        }
        group.ProtocolName = group.SelectProtocol();
        group.State = GroupState.CompletingRebalance;
        _log.Info($"Stabilized group {group.GroupId} generation {group.Generation} ({OffsetsPartition(group)}) with {group.Members.Count} members " +
            $"({string.Join(", ", group.Members.Select(m => m.MemberId))}); leader {group.LeaderId}, protocol {group.ProtocolName}");
        long now = Now;
        group.SyncDeadline = now + group.MaxRebalanceTimeoutMs;
        var members = MemberList(group);
        foreach (var m in group.Members)
        {
            m.Assignment = [];
            m.Synced = false;
            m.HeartbeatDeadline = now + m.SessionTimeoutMs;
            var waiter = m.AwaitingJoin!;
            m.AwaitingJoin = null;
            waiter.TrySetResult(new JoinGroupResult(ErrorCode.None, group.Generation, group.ProtocolType, group.ProtocolName,
                group.LeaderId!, m.MemberId, group.IsLeader(m.MemberId) ? members : []));
        }
        Persist(group);
    }

    // ---- SyncGroup ----

    public Task<SyncGroupResult> SyncGroupAsync(SyncGroupParams request)
    {
        lock (_gate)
        {
            if (!_groups.TryGetValue(request.GroupId, out var group))
                return Task.FromResult(SyncGroupResult.Failed(ErrorCode.UnknownMemberId, $"The group '{request.GroupId}' does not exist."));
            if (group.State == GroupState.Dead) return Task.FromResult(SyncGroupResult.Failed(ErrorCode.CoordinatorNotAvailable));
            if (group.Find(request.MemberId) is not { } member)
                return Task.FromResult(SyncGroupResult.Failed(ErrorCode.UnknownMemberId, $"The group '{request.GroupId}' has no member {request.MemberId}."));
            if (request.GenerationId != group.Generation)
                return Task.FromResult(SyncGroupResult.Failed(ErrorCode.IllegalGeneration, $"Generation {request.GenerationId} is not the group's current generation {group.Generation}."));
            if ((request.ProtocolType is not null && request.ProtocolType != group.ProtocolType) || (request.ProtocolName is not null && request.ProtocolName != group.ProtocolName))
                return Task.FromResult(SyncGroupResult.Failed(ErrorCode.InconsistentGroupProtocol));
            switch (group.State)
            {
                case GroupState.Empty:
                    return Task.FromResult(SyncGroupResult.Failed(ErrorCode.UnknownMemberId));
                case GroupState.PreparingRebalance:
                    return Task.FromResult(SyncGroupResult.Failed(ErrorCode.RebalanceInProgress));
                case GroupState.Stable:
                    member.HeartbeatDeadline = Now + member.SessionTimeoutMs;
                    member.Synced = true;
                    return Task.FromResult(new SyncGroupResult(ErrorCode.None, group.ProtocolType, group.ProtocolName, member.Assignment));
            }
            // CompletingRebalance: wait for the leader's assignment.
            member.Synced = true;
            member.HeartbeatDeadline = Now + member.SessionTimeoutMs;
            member.AwaitingSync?.TrySetResult(SyncGroupResult.Failed(ErrorCode.RebalanceInProgress));
            member.AwaitingSync = new TaskCompletionSource<SyncGroupResult>(TaskCreationOptions.RunContinuationsAsynchronously);
            var task = member.AwaitingSync.Task;
            if (group.IsLeader(member.MemberId))
            {
                var byMember = new Dictionary<string, byte[]>(StringComparer.Ordinal);
                foreach (var a in request.Assignments) byMember[a.MemberId] = a.Assignment;
                foreach (var m in group.Members) m.Assignment = byMember.GetValueOrDefault(m.MemberId, []);
                group.State = GroupState.Stable;
                Persist(group);
                _log.Info($"Assignment received from leader {member.MemberId} for group {group.GroupId} for generation {group.Generation}. " +
                    $"The group has {group.Members.Count} members, {group.Members.Count(m => m.GroupInstanceId is not null)} of which are static.");
                group.SyncDeadline = long.MaxValue;
                foreach (var m in group.Members)
                {
                    var waiter = m.AwaitingSync;
                    m.AwaitingSync = null;
                    waiter?.TrySetResult(new SyncGroupResult(ErrorCode.None, group.ProtocolType, group.ProtocolName, m.Assignment));
                }
            }
            return task;
        }
    }

    private static void ResetAndPropagateAssignmentError(ClassicGroup group, ErrorCode error)
    {
        foreach (var m in group.Members)
        {
            m.Assignment = [];
            var waiter = m.AwaitingSync;
            m.AwaitingSync = null;
            waiter?.TrySetResult(SyncGroupResult.Failed(error));
        }
    }

    // ---- Heartbeat and LeaveGroup ----

    public ErrorCode Heartbeat(HeartbeatParams request)
    {
        lock (_gate)
        {
            if (!_groups.TryGetValue(request.GroupId, out var group)) return ErrorCode.UnknownMemberId;
            if (group.State == GroupState.Dead) return ErrorCode.CoordinatorNotAvailable;
            if (group.State == GroupState.Empty) return ErrorCode.UnknownMemberId;
            if (group.Find(request.MemberId) is not { } member) return ErrorCode.UnknownMemberId;
            if (request.GenerationId != group.Generation) return ErrorCode.IllegalGeneration;
            member.HeartbeatDeadline = Now + member.SessionTimeoutMs;
            return group.State == GroupState.PreparingRebalance ? ErrorCode.RebalanceInProgress : ErrorCode.None;
        }
    }

    public LeaveGroupResult LeaveGroup(LeaveGroupParams request)
    {
        lock (_gate)
        {
            var results = new List<LeaveGroupMemberResult>(request.Members.Count);
            _groups.TryGetValue(request.GroupId, out var group);
            foreach (var leaving in request.Members)
            {
                if (group is null || group.State == GroupState.Dead)
                {
                    results.Add(new(leaving.MemberId, leaving.GroupInstanceId, ErrorCode.UnknownMemberId));
                    continue;
                }
                if (group.Find(leaving.MemberId) is { } member)
                {
                    _log.Info($"Member[group.instance.id {member.GroupInstanceId ?? "None"}, member.id {member.MemberId}] in group {group.GroupId} has left, removing it from the group");
                    RemoveMemberAndUpdateGroup(group, member, ErrorCode.UnknownMemberId, $"removing member {member.MemberId} on LeaveGroup");
                    results.Add(new(leaving.MemberId, leaving.GroupInstanceId, ErrorCode.None));
                }
                else if (group.PendingMembers.Remove(leaving.MemberId))
                {
                    TryCompleteJoin(group);
                    results.Add(new(leaving.MemberId, leaving.GroupInstanceId, ErrorCode.None));
                }
                else
                {
                    results.Add(new(leaving.MemberId, leaving.GroupInstanceId, ErrorCode.UnknownMemberId));
                }
            }
            return new LeaveGroupResult(ErrorCode.None, results);
        }
    }

    private static void FailWaiters(GroupMember member, ErrorCode error)
    {
        var join = member.AwaitingJoin;
        var sync = member.AwaitingSync;
        member.AwaitingJoin = null;
        member.AwaitingSync = null;
        join?.TrySetResult(JoinGroupResult.Failed(error, member.MemberId));
        sync?.TrySetResult(SyncGroupResult.Failed(error));
    }

    private static void RemoveMember(ClassicGroup group, GroupMember member, ErrorCode error)
    {
        FailWaiters(member, error);
        group.Members.Remove(member);
        if (group.IsLeader(member.MemberId)) group.LeaderId = group.Members.FirstOrDefault()?.MemberId;
    }

    private void RemoveMemberAndUpdateGroup(ClassicGroup group, GroupMember member, ErrorCode error, string reason)
    {
        RemoveMember(group, member, error);
        switch (group.State)
        {
            case GroupState.Stable or GroupState.CompletingRebalance:
                PrepareRebalance(group, reason);
                TryCompleteJoin(group);
                break;
            case GroupState.PreparingRebalance:
                TryCompleteJoin(group);
                break;
        }
    }

    // ---- timers: session expiry, join and sync deadlines, pending members ----

    private void Tick()
    {
        lock (_gate)
        {
            if (_disposed) return;
            long now = Now;
            foreach (var group in _groups.Values.ToList())
            {
                foreach (var (id, deadline) in group.PendingMembers.ToList())
                    if (now >= deadline) group.PendingMembers.Remove(id);
                foreach (var m in group.Members.ToList())
                    if (!m.KeptAlive && now >= m.HeartbeatDeadline && group.Members.Contains(m))
                    {
                        _log.Info($"Member {m.MemberId} in group {group.GroupId} has failed, removing it from the group");
                        RemoveMemberAndUpdateGroup(group, m, ErrorCode.UnknownMemberId, $"removing member {m.MemberId} on heartbeat expiration");
                    }
                if (group.State == GroupState.CompletingRebalance && now >= group.SyncDeadline)
                {
                    // Members that never sent SyncGroup within the rebalance timeout are removed; the rest rebalance.
                    var late = group.Members.Where(m => !m.Synced).ToList();
                    foreach (var m in late) RemoveMember(group, m, ErrorCode.UnknownMemberId);
                    PrepareRebalance(group, $"removing members {string.Join(", ", late.Select(m => m.MemberId))} on pending sync request expiration");
                }
                TryCompleteJoin(group);
            }
            // The interval is read every tick, so a changed setting takes effect at once.
            if (now - _lastGroupCleanup >= _config().OffsetsRetentionCheckIntervalMs)
            {
                _lastGroupCleanup = now;
                RemoveEmptyGroupsWithoutOffsets();
            }
        }
    }

    /// <summary>
    /// Kafka's group metadata cleanup (every offsets.retention.check.interval.ms): a group that is Empty and has no
    /// committed offsets becomes Dead and goes, from memory and from the store. Without it every group a client ever
    /// used without committing (kcat -G, a test's throwaway consumer) would stay for good and be walked every tick.
    /// Offsets themselves do not expire here (Kafka's offsets.retention.minutes, 7 days): not done.
    /// </summary>
    private void RemoveEmptyGroupsWithoutOffsets()
    {
        foreach (var group in _groups.Values.Where(g => g.State == GroupState.Empty && g.Offsets.Count == 0).ToList())
        {
            _store.DeleteGroup(group.GroupId);
            group.State = GroupState.Dead;
            _groups.Remove(group.GroupId);
            Signal(group.GroupId);
        }
    }

    /// <summary>
    /// Completes when the group starts a rebalance, moves or goes: lets an in-process member send its
    /// next heartbeat at once instead of waiting heartbeat.interval.ms. Wire clients still learn it from heartbeats.
    /// </summary>
    public Task WhenRebalancing(string groupId)
    {
        lock (_gate)
        {
            if (!_groups.TryGetValue(groupId, out var group) || group.State is GroupState.PreparingRebalance or GroupState.Dead) return Task.CompletedTask;
            if (!_rebalanceSignals.TryGetValue(groupId, out var tcs))
                _rebalanceSignals[groupId] = tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return tcs.Task;
        }
    }

    private void Signal(string groupId)
    {
        if (_rebalanceSignals.Remove(groupId, out var tcs)) tcs.TrySetResult();
    }

    // ---- offsets ----

    public IReadOnlyList<OffsetCommitPartitionResult> CommitOffsets(OffsetCommitParams request, int offsetsPartition)
    {
        ErrorCode Validate(ClassicGroup? group)
        {
            if (group is null) return request.GenerationId < 0 ? ErrorCode.None : ErrorCode.UnknownMemberId;
            if (group.State == GroupState.Dead) return ErrorCode.CoordinatorNotAvailable;
            // Kafka: a commit without generation (admin tools, manually assigned consumers) is only taken while the group is empty.
            if (request.GenerationId < 0 && group.State == GroupState.Empty) return ErrorCode.None;
            if (request.GenerationId >= 0 || request.MemberId.Length > 0 || request.GroupInstanceId is not null)
            {
                if (group.Find(request.MemberId) is null) return ErrorCode.UnknownMemberId;
                if (request.GenerationId != group.Generation) return ErrorCode.IllegalGeneration;
            }
            else
            {
                return ErrorCode.UnknownMemberId;
            }
            return group.State == GroupState.CompletingRebalance ? ErrorCode.RebalanceInProgress : ErrorCode.None;
        }

        if (string.IsNullOrEmpty(request.GroupId))
            return request.Partitions.Select(p => new OffsetCommitPartitionResult(p.Topic, p.Partition, ErrorCode.InvalidGroupId)).ToList();
        lock (_gate)
        {
            _groups.TryGetValue(request.GroupId, out var group);
            var error = _disposed ? ErrorCode.NotCoordinator : Validate(group);
            if (error != ErrorCode.None)
                return request.Partitions.Select(p => new OffsetCommitPartitionResult(p.Topic, p.Partition, error)).ToList();
            if (group is null)
            {
                _groups[request.GroupId] = group = new ClassicGroup(request.GroupId, offsetsPartition);
                Persist(group);
            }
            if (group.Find(request.MemberId) is { } member) member.HeartbeatDeadline = Now + member.SessionTimeoutMs;

            int maxMetadata = _config().OffsetMetadataMaxBytes;
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var results = new List<OffsetCommitPartitionResult>(request.Partitions.Count);
            var records = new List<CommittedOffsetRecord>();
            foreach (var p in request.Partitions)
            {
                var code = !_partitionExists(p.Topic, p.Partition) ? ErrorCode.UnknownTopicOrPartition
                    : p.Metadata is not null && p.Metadata.Length > maxMetadata ? ErrorCode.OffsetMetadataTooLarge
                    : p.Offset < 0 ? ErrorCode.InvalidCommitOffsetSize
                    : ErrorCode.None;
                results.Add(new OffsetCommitPartitionResult(p.Topic, p.Partition, code));
                if (code != ErrorCode.None) continue;
                long timestamp = p.CommitTimestamp >= 0 ? p.CommitTimestamp : now;
                records.Add(new CommittedOffsetRecord { Group = group.GroupId, Topic = p.Topic, Partition = p.Partition, Offset = p.Offset, LeaderEpoch = p.LeaderEpoch, Metadata = p.Metadata, CommitTimestamp = timestamp });
            }
            if (records.Count > 0)
            {
                // Durable before it is acknowledged, as an OffsetCommit with acks=all.
                _store.SaveOffsets(records);
                foreach (var r in records)
                    group.Offsets[new TopicPartition(r.Topic, r.Partition)] = new CommittedOffset(r.Offset, r.LeaderEpoch, r.Metadata, r.CommitTimestamp);
            }
            return results;
        }
    }

    public OffsetFetchResult FetchOffsets(OffsetFetchParams request)
    {
        lock (_gate)
        {
            _groups.TryGetValue(request.GroupId, out var group);
            var partitions = request.Partitions ?? (IReadOnlyList<TopicPartition>?)group?.Offsets.Keys.OrderBy(k => k.Topic, StringComparer.Ordinal).ThenBy(k => k.Partition).ToList() ?? [];
            var results = partitions.Select(tp => group is not null && group.Offsets.TryGetValue(tp, out var o)
                ? new OffsetFetchPartitionResult(tp.Topic, tp.Partition, o.Offset, o.LeaderEpoch, o.Metadata, ErrorCode.None)
                : new OffsetFetchPartitionResult(tp.Topic, tp.Partition, -1, -1, "", ErrorCode.None)).ToList();
            return new OffsetFetchResult(ErrorCode.None, results);
        }
    }

    // ---- admin: list, describe, delete ----

    public IReadOnlyList<GroupListing> ListGroups(IReadOnlyCollection<string>? statesFilter)
    {
        lock (_gate)
        {
            return _groups.Values
                .Where(g => g.State != GroupState.Dead)
                .Where(g => statesFilter is null || statesFilter.Count == 0 || statesFilter.Contains(g.State.ToString(), StringComparer.OrdinalIgnoreCase))
                .OrderBy(g => g.GroupId, StringComparer.Ordinal)
                .Select(g => new GroupListing(g.GroupId, g.ProtocolType, g.State.ToString()))
                .ToList();
        }
    }

    public DescribeGroupResult DescribeGroup(string groupId)
    {
        lock (_gate)
        {
            if (!_groups.TryGetValue(groupId, out var group) || group.State == GroupState.Dead)
                return new DescribeGroupResult(ErrorCode.None, groupId, nameof(GroupState.Dead), "", "", []);
            bool stable = group.State == GroupState.Stable;
            var members = group.Members.Select(m => new GroupMemberDescription(m.MemberId, m.GroupInstanceId, m.ClientId, m.ClientHost,
                stable ? m.MetadataFor(group.ProtocolName!) : [], stable ? m.Assignment : [])).ToList();
            return new DescribeGroupResult(ErrorCode.None, groupId, group.State.ToString(), group.ProtocolType,
                group.State is GroupState.Stable or GroupState.CompletingRebalance ? group.ProtocolName ?? "" : "", members);
        }
    }

    /// <summary>
    /// A topic was deleted (its offsets are already gone from the store): its partitions leave every group's offsets,
    /// and a group left Empty without offsets goes, as Kafka's cleanupGroupMetadata makes it Dead and writes its
    /// tombstone. Returns the ids of the groups this coordinator holds (so the caller leaves those alone).
    /// </summary>
    public IReadOnlyCollection<string> OnTopicDeleted(string topic)
    {
        lock (_gate)
        {
            foreach (var group in _groups.Values.ToList())
            {
                var gone = group.Offsets.Keys.Where(tp => tp.Topic == topic).ToList();
                if (gone.Count == 0) continue;
                foreach (var tp in gone) group.Offsets.Remove(tp);
                if (group.State == GroupState.Empty && group.Offsets.Count == 0)
                {
                    _store.DeleteGroup(group.GroupId);
                    group.State = GroupState.Dead;
                    _groups.Remove(group.GroupId);
                    Signal(group.GroupId);
                }
            }
            return _groups.Keys.ToList();
        }
    }

    public ErrorCode DeleteGroup(string groupId)
    {
        lock (_gate)
        {
            if (!_groups.TryGetValue(groupId, out var group) || group.State == GroupState.Dead) return ErrorCode.GroupIdNotFound;
            if (group.State != GroupState.Empty) return ErrorCode.NonEmptyGroup;
            _store.DeleteGroup(groupId);
            group.State = GroupState.Dead;
            _log.Info($"The following groups were deleted: {groupId}.");
            _groups.Remove(groupId);
            Signal(groupId);
            return ErrorCode.None;
        }
    }

    // Members are kept only for a Stable group (its assignment is in): a group taken over in any other state rejoins.
    private void Persist(ClassicGroup group) =>
        _store.SaveGroup(new GroupRecord
        {
            Id = group.GroupId,
            ProtocolType = group.ProtocolType,
            Generation = group.Generation,
            Protocol = group.ProtocolName,
            Leader = group.State == GroupState.Stable ? group.LeaderId : null,
            Members = group.State != GroupState.Stable ? [] : group.Members.Select(m => m.ToRecord()).ToList(),
        });

    /// <summary>For tests: a group's state, generation and member ids.</summary>
    internal (GroupState State, int Generation, string? Leader, string[] Members)? Inspect(string groupId)
    {
        lock (_gate)
            return _groups.TryGetValue(groupId, out var g) ? (g.State, g.Generation, g.LeaderId, g.Members.Select(m => m.MemberId).ToArray()) : null;
    }
}
