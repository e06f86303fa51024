using System.Collections.Concurrent;
using PSKafka.Engine.Api;
using PSKafka.Engine.Logging;

namespace PSKafka.Engine.Cluster;

/// <summary>
/// Kafka's ReplicaFetcherThread: one background task per follower broker and leader broker that
/// copies the leader's batches into the follower's replicas through the leader's own fetch path
/// (<see cref="Broker.FetchAsync"/> with the follower's id as ReplicaId). A partition first truncates
/// by leader epoch (KIP-101/279, <see cref="Broker.OffsetForLeaderEpoch"/>), then fetches from its log
/// end offset; the fetch offset tells the leader how far the follower has got.
/// </summary>
internal sealed class ReplicaFetcher
{
    /// <summary>replica.fetch.max.bytes and replica.fetch.wait.max.ms defaults.</summary>
    internal const int PartitionFetchMaxBytes = 1_048_576;
    internal const int FetchMaxWaitMs = 500;
    private const int ResponseMaxBytes = 10_485_760;
    private const int RetryBackoffMs = 100;

    private readonly Broker _follower;
    private readonly ConcurrentDictionary<TopicPartition, PartitionState> _partitions = new();
    private CancellationTokenSource _interrupt = new();
    private TaskCompletionSource _changed = NewSignal();
    private volatile bool _stopped;
    private readonly Task _loop;
    private readonly KafkaLogger _log;

    private sealed class PartitionState(PartitionReplica replica, int leaderEpoch)
    {
        public readonly PartitionReplica Replica = replica;
        public readonly int LeaderEpoch = leaderEpoch;
        public bool Truncating = true;
        public long RetryAtMs;
    }

    internal ReplicaFetcher(Broker follower, int leaderId)
    {
        _follower = follower;
        LeaderId = leaderId;
        _log = follower.Logging.For(KafkaLoggers.ReplicaFetcher, $"[ReplicaFetcher replicaId={follower.Id}, leaderId={leaderId}, fetcherId=0] ");
        _log.Info("Starting");
        _loop = Task.Run(() => _log.RunTask(RunAsync, $"ReplicaFetcherThread-0-{leaderId}"));
    }

    public int LeaderId { get; }
    public bool IsEmpty => _partitions.IsEmpty;
    /// <summary>The last failure the loop recovered from, for diagnostics.</summary>
    public Exception? LastError { get; private set; }

    /// <summary>Starts (or restarts, after a leader epoch change) fetching a partition; it truncates first.</summary>
    internal void Add(PartitionReplica replica, int leaderEpoch)
    {
        _partitions[replica.TopicPartition] = new PartitionState(replica, leaderEpoch);
        Wake();
    }

    internal void Remove(TopicPartition tp)
    {
        if (_partitions.TryRemove(tp, out _)) Wake();
    }

    /// <summary>Stops the loop and waits for it, so no append lands after the broker closes its logs.</summary>
    internal void Stop(bool wait = true)
    {
        _stopped = true;
        _log.Info("Shutting down");
        Wake();
        if (!wait) return;
        _loop.Wait(TimeSpan.FromSeconds(10)); // RunTask: it ends without throwing
        _log.Info("Shutdown completed");
    }

    // Cancels a long poll in progress so partition changes take effect now. CancelAsync: the callbacks
    // must not run on the caller's thread, which may hold the controller's lock.
    private void Wake()
    {
        Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();
        _ = Interlocked.Exchange(ref _interrupt, new CancellationTokenSource()).CancelAsync();
    }

    private async Task RunAsync()
    {
        while (!_stopped)
        {
            try
            {
                await RunOnceAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is ObjectDisposedException or IOException or KafkaException or InvalidOperationException or UnauthorizedAccessException)
            {
                // A log closed under us (partition moved, broker stopping) or a passing I/O failure: back off, carry on.
                // Logged once per kind of failure, not once per retry.
                if (!_stopped && (LastError?.GetType() != e.GetType() || LastError.Message != e.Message))
                {
                    if (e is ObjectDisposedException or InvalidOperationException) _log.Debug($"Error in fetch from broker {LeaderId}: {e.Message}");
                    else _log.Warn($"Error in response for fetch request to broker {LeaderId}: {e.Message}");
                }
                LastError = e;
                await WaitAsync(Volatile.Read(ref _changed).Task, RetryBackoffMs).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // Kafka's fetcher thread would end here ("Error due to"); this one backs off and carries on.
                if (LastError?.GetType() != e.GetType() || LastError.Message != e.Message) _log.Error("Error due to", e);
                LastError = e;
                await WaitAsync(Volatile.Read(ref _changed).Task, RetryBackoffMs).ConfigureAwait(false);
            }
        }
    }

    private async Task RunOnceAsync()
    {
        var changed = Volatile.Read(ref _changed).Task;
        var interrupt = Volatile.Read(ref _interrupt).Token;
        var states = _partitions.ToArray();
        var leader = _follower.Cluster.GetBroker(LeaderId);
        if (states.Length == 0 || leader is not { IsRunning: true } || _follower.ReplicationSuspended)
        {
            await WaitAsync(changed, states.Length == 0 ? Timeout.Infinite : RetryBackoffMs).ConfigureAwait(false);
            return;
        }

        long now = Environment.TickCount64;
        foreach (var (_, state) in states)
            if (state.Truncating && state.RetryAtMs <= now && !_stopped) TruncateByLeaderEpoch(leader, state);

        var ready = states.Select(kv => kv.Value).Where(s => !s.Truncating && s.RetryAtMs <= now).ToArray();
        if (ready.Length == 0 || _stopped)
        {
            await WaitAsync(changed, RetryBackoffMs).ConfigureAwait(false);
            return;
        }
        var request = new FetchParams
        {
            ReplicaId = _follower.Id,
            MaxWaitMs = FetchMaxWaitMs,
            MinBytes = 1,
            MaxBytes = ResponseMaxBytes,
            Partitions = ready.Select(s => new FetchPartitionParams(s.Replica.TopicPartition.Topic, s.Replica.TopicPartition.Partition,
                s.Replica.LogEndOffset, PartitionFetchMaxBytes, s.LeaderEpoch)).ToArray(),
            RentRecordBuffers = true, // the leader's bytes only pass through on their way into our segments
        };
        var results = await leader.FetchAsync(request, interrupt).ConfigureAwait(false);
        try
        {
            if (_follower.ReplicationSuspended) return; // the drill cut the link while the answer was on its way
            for (int i = 0; i < results.Count && !_stopped; i++)
            {
                // A partition removed or re-added during the fetch has moved on: drop its answer.
                if (_partitions.TryGetValue(ready[i].Replica.TopicPartition, out var current) && ReferenceEquals(current, ready[i]))
                    Apply(ready[i], results[i]);
            }
        }
        finally
        {
            FetchPartitionResult.ReturnLeases(results);
        }
    }

    private static void Apply(PartitionState state, FetchPartitionResult result)
    {
        var replica = state.Replica;
        switch (result.Error)
        {
            case ErrorCode.None:
                // The leader's bytes are a pooled buffer of its own read; the append writes them into our segment.
                var info = replica.AppendAsFollower(result.Records.Span, result.HighWatermark);
                if (info.Error == ErrorCode.OffsetOutOfRange) state.Truncating = true;
                else if (info.Error != ErrorCode.None) state.RetryAtMs = Environment.TickCount64 + RetryBackoffMs;
                break;
            case ErrorCode.OffsetOutOfRange when replica.LogEndOffset < result.LogStartOffset:
                replica.TruncateFullyAndStartAt(result.LogStartOffset);
                break;
            case ErrorCode.OffsetOutOfRange:
                state.Truncating = true;
                break;
            default:
                // Fenced or unknown epoch, not the leader (any more): the controller's next state will tell.
                state.RetryAtMs = Environment.TickCount64 + RetryBackoffMs;
                break;
        }
    }

    /// <summary>
    /// KIP-279: ask the leader where our latest epoch ended in its log; if it answers with an older epoch,
    /// find where that epoch ends in ours and ask again; truncate to the smaller end offset.
    /// </summary>
    private void TruncateByLeaderEpoch(Broker leader, PartitionState state)
    {
        var replica = state.Replica;
        var log = replica.Log;
        var tp = replica.TopicPartition;
        for (int round = 0; round < 16; round++)
        {
            int epoch = log.LeaderEpochCache.LatestEpoch;
            long end = log.LogEndOffset;
            if (epoch < 0)
            {
                // No epoch information (empty log): only the committed part is safe.
                replica.TruncateTo(Math.Min(replica.HighWatermark, end));
                break;
            }
            var answer = leader.OffsetForLeaderEpoch([new OffsetForLeaderEpochPartitionParams(tp.Topic, tp.Partition, epoch, state.LeaderEpoch)])[0];
            if (answer.Error != ErrorCode.None)
            {
                state.RetryAtMs = Environment.TickCount64 + RetryBackoffMs;
                return;
            }
            if (answer.EndOffset < 0)
            {
                replica.TruncateTo(Math.Min(replica.HighWatermark, end));
                break;
            }
            var (ownEpoch, ownEnd) = log.LeaderEpochCache.EndOffsetFor(answer.LeaderEpoch, end);
            if (ownEpoch < 0)
            {
                replica.TruncateTo(Math.Min(answer.EndOffset, end));
                break;
            }
            if (ownEpoch != answer.LeaderEpoch)
            {
                replica.TruncateTo(Math.Min(ownEnd, end)); // the leader never had our epoch: drop it and ask again
                continue;
            }
            replica.TruncateTo(Math.Min(Math.Min(answer.EndOffset, ownEnd), end));
            break;
        }
        state.Truncating = false;
    }

    private async Task WaitAsync(Task changed, int timeoutMs)
    {
        if (_stopped) return;
        if (timeoutMs == Timeout.Infinite) await changed.ConfigureAwait(false);
        else await Task.WhenAny(changed, Task.Delay(timeoutMs)).ConfigureAwait(false);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
