using PSKafka.Engine.Api;
using PSKafka.Engine.Config;
using PSKafka.Engine.Logging;
using PSKafka.Engine.Storage;

namespace PSKafka.Engine.Cluster;

// Replication (Kafka's ReplicaManager): follower fetchers, the leader's view of its followers,
// ISR shrinking after replica.lag.time.max.ms, the high watermark checkpoint, and OffsetForLeaderEpoch.
public sealed partial class Broker
{
    /// <summary>replica.high.watermark.checkpoint.interval.ms default.</summary>
    private const int HighWatermarkCheckpointIntervalMs = 5000;

    private readonly Dictionary<int, ReplicaFetcher> _fetchers = new();
    private readonly Lock _fetcherGate = new();
    private CancellationTokenSource? _replicaManagement;
    private Task? _maintenance;
    private Dictionary<(string Topic, int Partition), long> _checkpointedHighWatermarks = new();

    /// <summary>
    /// Fault drill: the follower fetchers pause (as if the network to the leaders were cut) while the
    /// broker keeps running; it falls out of the ISR after replica.lag.time.max.ms.
    /// </summary>
    internal volatile bool ReplicationSuspended;

    /// <summary>The follower fetchers, one per leader broker this broker follows.</summary>
    internal IReadOnlyList<ReplicaFetcher> Fetchers
    {
        get { lock (_fetcherGate) return _fetchers.Values.ToArray(); }
    }

    /// <summary>
    /// OffsetForLeaderEpoch: for each partition this broker leads, the largest epoch at or below the
    /// requested one and the offset where it ended in this log (the log end offset for the current epoch).
    /// </summary>
    public IReadOnlyList<OffsetForLeaderEpochResult> OffsetForLeaderEpoch(IReadOnlyList<OffsetForLeaderEpochPartitionParams> partitions)
    {
        var results = new List<OffsetForLeaderEpochResult>(partitions.Count);
        foreach (var p in partitions)
        {
            var replica = IsRunning ? GetReplica(new TopicPartition(p.Topic, p.Partition)) : null;
            ErrorCode error = replica is null ? UnknownOrNotHere(p.Topic, p.Partition)
                : !replica.IsLeader ? ErrorCode.NotLeaderOrFollower
                : p.CurrentLeaderEpoch >= 0 && p.CurrentLeaderEpoch < replica.LeaderEpoch ? ErrorCode.FencedLeaderEpoch
                : p.CurrentLeaderEpoch > replica.LeaderEpoch ? ErrorCode.UnknownLeaderEpoch
                : ErrorCode.None;
            if (error != ErrorCode.None)
            {
                results.Add(new OffsetForLeaderEpochResult(p.Topic, p.Partition, error, LeaderEpochCache.UndefinedEpoch, LeaderEpochCache.UndefinedEpochOffset));
                continue;
            }
            var (epoch, end) = replica!.Log.LeaderEpochCache.EndOffsetFor(p.LeaderEpoch, replica.LogEndOffset);
            results.Add(new OffsetForLeaderEpochResult(p.Topic, p.Partition, ErrorCode.None, epoch, end));
        }
        return results;
    }

    /// <summary>Leader side of a follower's fetch: its fetch offset is its log end offset. False (with the answer) when refused.</summary>
    private bool TrackFollowerFetch(PartitionReplica replica, int followerId, FetchPartitionParams p, out FetchPartitionResult refused)
    {
        refused = null!;
        if (p.CurrentLeaderEpoch >= 0 && p.CurrentLeaderEpoch != replica.LeaderEpoch)
        {
            refused = replica.Read(p, fromFollower: true); // answers with the epoch error
            return false;
        }
        var (error, expandedIsr, partitionEpoch) = replica.UpdateFollowerFetchState(followerId, p.FetchOffset);
        if (error != ErrorCode.None)
        {
            refused = new FetchPartitionResult(p.Topic, p.Partition, error, -1, -1, ReadOnlyMemory<byte>.Empty,
                $"Broker {followerId} is not a follower of {replica.TopicPartition} under leader epoch {replica.LeaderEpoch}.");
            return false;
        }
        if (expandedIsr is not null) ProposeIsr(replica, expandedIsr, partitionEpoch, "caught up");
        return true;
    }

    // ISR changes go to the controller off the fetch path, as Kafka's AlterPartition requests do.
    private void ProposeIsr(PartitionReplica replica, int[] isr, int partitionEpoch, string reason)
    {
        int leaderEpoch = replica.LeaderEpoch;
        _ = Task.Run(() =>
        {
            try
            {
                _cluster.Controller.AlterPartition(replica.TopicPartition, Id, leaderEpoch, partitionEpoch, isr, reason);
            }
            catch (Exception e) when (e is KafkaException or ObjectDisposedException or IOException)
            {
                // Refused (stale epoch, ineligible replica) or the cluster is closing: the next fetch or check proposes again.
                replica.Logger.Info($"Failed to alter partition to ISR [{string.Join(",", isr)}] ({reason}): {e.Message} Retrying.");
            }
            catch (Exception e)
            {
                replica.Logger.Error($"Unexpected error proposing ISR [{string.Join(",", isr)}] ({reason})", e);
            }
            finally
            {
                replica.IsrChangeDone();
            }
        });
    }

    private void StartFetching(PartitionReplica replica, int leaderId, int leaderEpoch)
    {
        lock (_fetcherGate)
        {
            if (_replicaManagement is null) return; // stopping
            foreach (var other in _fetchers.Values.Where(f => f.LeaderId != leaderId)) other.Remove(replica.TopicPartition);
            if (!_fetchers.TryGetValue(leaderId, out var fetcher)) _fetchers[leaderId] = fetcher = new ReplicaFetcher(this, leaderId);
            fetcher.Add(replica, leaderEpoch);
        }
    }

    private void StopFetching(TopicPartition tp)
    {
        lock (_fetcherGate)
            foreach (var fetcher in _fetchers.Values) fetcher.Remove(tp);
    }

    private void StartReplicaManagement()
    {
        lock (_fetcherGate)
        {
            _replicaManagement = new CancellationTokenSource();
            var token = _replicaManagement.Token;
            _maintenance = Task.Run(() => Log.RunTask(() => MaintainAsync(token), $"isr-expiration-{Id}"));
        }
    }

    private void StopReplicaManagement(bool wait = true)
    {
        ReplicaFetcher[] fetchers;
        Task? maintenance;
        lock (_fetcherGate)
        {
            _replicaManagement?.Cancel();
            _replicaManagement = null;
            maintenance = _maintenance;
            _maintenance = null;
            fetchers = _fetchers.Values.ToArray();
            _fetchers.Clear();
        }
        foreach (var f in fetchers) f.Stop(wait);
        if (!wait) return;
        maintenance?.Wait(TimeSpan.FromSeconds(10)); // RunTask: it ends without throwing
    }

    // Kafka's isr-expiration task (every replica.lag.time.max.ms / 2) and high watermark checkpoint.
    private async Task MaintainAsync(CancellationToken token)
    {
        long lastCheckpoint = Environment.TickCount64;
        while (!token.IsCancellationRequested)
        {
            long maxLagMs = ReplicaLagTimeMaxMs();
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Clamp(maxLagMs / 2, 10, 1000)), token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { return; }
            try
            {
                long now = Environment.TickCount64;
                foreach (var replica in _replicas.Values)
                    if (replica.OutOfSyncReplicas(now, maxLagMs) is { } shrink)
                        ProposeIsr(replica, shrink.ShrunkIsr, shrink.PartitionEpoch, $"not caught up within replica.lag.time.max.ms={maxLagMs}");
                if (now - lastCheckpoint >= HighWatermarkCheckpointIntervalMs)
                {
                    CheckpointHighWatermarks();
                    lastCheckpoint = now;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException or KafkaException)
            {
                // A checkpoint write failed or the broker is stopping: try again on the next round.
                if (!token.IsCancellationRequested) Log.Warn($"Error in the isr-expiration / high watermark checkpoint task; retrying: {e.Message}", e);
            }
            catch (Exception e)
            {
                Log.Error("Uncaught exception in scheduled task 'isr-expiration'", e); // and the task goes on
            }
        }
    }

    /// <summary>replica.lag.time.max.ms, read every round so a change applies without a restart.</summary>
    internal long ReplicaLagTimeMaxMs() => _cluster.BrokerConfigs.For(Id).Long(ConfigDefinitions.ReplicaLagTimeMaxMs);

    // ---- replication-offset-checkpoint: each replica's high watermark survives a restart ----

    private string HighWatermarkCheckpointPath => Path.Combine(LogDirectory, LogFileNames.ReplicationOffsetCheckpoint);

    private void LoadHighWatermarks()
    {
        try { _checkpointedHighWatermarks = CheckpointFile.ReadOffsets(HighWatermarkCheckpointPath); }
        catch (Exception e) when (e is IOException or FormatException or OverflowException)
        {
            Log.Warn($"Error reading high watermark checkpoint file {HighWatermarkCheckpointPath}; high watermarks start from 0 and are re-learnt from the leaders: {e.Message}");
            _checkpointedHighWatermarks = new(); // start from 0: followers re-learn it from their leader
        }
    }

    private long CheckpointedHighWatermark(TopicPartition tp) =>
        _checkpointedHighWatermarks.TryGetValue((tp.Topic, tp.Partition), out var hw) ? hw : 0;

    // A deleted topic's high watermarks from the last start must not reach a topic created later with its name (nor stay).
    // Copy on write: replicas being created read the dictionary without a lock.
    private void ForgetCheckpointedHighWatermarks(string topic)
    {
        var current = _checkpointedHighWatermarks;
        if (current.Keys.Any(k => k.Topic == topic))
            _checkpointedHighWatermarks = current.Where(kv => kv.Key.Topic != topic).ToDictionary(kv => kv.Key, kv => kv.Value);
    }

    internal void CheckpointHighWatermarks()
    {
        if (_logs is null) return;
        var entries = _replicas.Values.Select(r => KeyValuePair.Create((r.TopicPartition.Topic, r.TopicPartition.Partition), r.HighWatermark)).ToList();
        CheckpointFile.WriteOffsets(HighWatermarkCheckpointPath, entries);
    }
}
