using System.Collections.Concurrent;
using PSKafka.Engine.Api;
using PSKafka.Engine.Metadata;
using PSKafka.Engine.Storage;

namespace PSKafka.Engine.Cluster;

public enum BrokerState { Starting, Running, Stopping, Stopped, Crashed }

/// <summary>
/// One broker of the local cluster: its own log directory <c>broker-&lt;id&gt;/</c>, the replicas it
/// hosts, and the Kafka API operations (produce, fetch, list offsets, metadata, topic admin) that
/// the wire protocol and the in-process client both call.
/// </summary>
public sealed partial class Broker
{
    private readonly KafkaCluster _cluster;
    private readonly ConcurrentDictionary<TopicPartition, PartitionReplica> _replicas = new();
    private LogManager? _logs;

    internal Broker(KafkaCluster cluster, BrokerRecord record)
    {
        _cluster = cluster;
        Id = record.Id;
        Host = record.Host;
        Port = record.Port;
        LogDirectory = Path.Combine(cluster.DataDirectory, $"broker-{record.Id}");
    }

    public int Id { get; }
    public string Host { get; }
    public int Port { get; internal set; }
    public string Address => $"{Host}:{Port}";
    public string LogDirectory { get; }
    public BrokerState State { get; private set; } = BrokerState.Stopped;
    public bool IsRunning => State == BrokerState.Running;
    public bool IsController => _cluster.ControllerId == Id;
    public DateTimeOffset? StartTime { get; private set; }
    public KafkaCluster Cluster => _cluster;

    public IReadOnlyCollection<PartitionReplica> Replicas => (IReadOnlyCollection<PartitionReplica>)_replicas.Values;
    public int LeaderCount => _replicas.Values.Count(r => r.IsLeader);
    public int FollowerCount => _replicas.Values.Count(r => !r.IsLeader);

    public PartitionReplica? GetReplica(TopicPartition tp) => _replicas.GetValueOrDefault(tp);

    internal void Start()
    {
        State = BrokerState.Starting;
        _logs = LogManager.Open(LogDirectory, topicConfig: topic =>
            _cluster.Controller.TopicExists(topic) ? _cluster.Controller.SettingsFor(topic).ToLogConfig() : LogConfig.Default);
        LoadHighWatermarks();
        StartTime = DateTimeOffset.UtcNow;
        State = BrokerState.Running;
        StartReplicaManagement();
    }

    /// <summary>Leaving the cluster: no more fetching and no more ISR changes from this broker (controlled shutdown's first step).</summary>
    internal void BeginShutdown()
    {
        if (State != BrokerState.Running) return;
        State = BrokerState.Stopping;
        StopReplicaManagement();
    }

    /// <summary>Stops the broker: flushed and closed with a clean-shutdown marker, or, with <paramref name="kill"/>, abandoned as a crash would leave it.</summary>
    internal void Stop(bool kill)
    {
        if (State is BrokerState.Stopped or BrokerState.Crashed) return;
        State = BrokerState.Stopping;
        // A crash does not wait for the fetchers: whatever they try after the logs are abandoned fails and is dropped.
        StopReplicaManagement(wait: !kill);
        if (!kill) CheckpointHighWatermarks();
        foreach (var replica in _replicas.Values) replica.Close();
        _replicas.Clear();
        if (kill) _logs?.Abandon();
        else _logs?.Close();
        _logs = null;
        State = kill ? BrokerState.Crashed : BrokerState.Stopped;
    }

    /// <summary>Applies the controller's decision for one partition (Kafka's LeaderAndIsr).</summary>
    internal void ApplyPartitionState(string topic, PartitionRecord partition, TopicSettings settings)
    {
        if (!IsRunning || _logs is null) return;
        var tp = new TopicPartition(topic, partition.Partition);
        if (!partition.Replicas.Contains(Id))
        {
            StopFetching(tp);
            if (_replicas.TryRemove(tp, out var removed)) removed.Close();
            return;
        }
        var replica = _replicas.GetOrAdd(tp, key => new PartitionReplica(Id, key,
            _logs.GetOrCreateLog(key.Topic, key.Partition, settings.ToLogConfig()), settings, CheckpointedHighWatermark(key)));
        replica.Settings = settings;
        replica.Log.Config = settings.ToLogConfig();
        switch (replica.ApplyState(partition))
        {
            case PartitionReplica.RoleChange.BecameLeader or PartitionReplica.RoleChange.WentOffline:
                StopFetching(tp);
                break;
            case PartitionReplica.RoleChange.BecameFollower:
                StartFetching(replica, partition.Leader, partition.LeaderEpoch);
                break;
        }
    }

    internal void DeleteTopicLogs(string topic)
    {
        foreach (var tp in _replicas.Keys.Where(k => k.Topic == topic).ToList())
        {
            StopFetching(tp);
            if (_replicas.TryRemove(tp, out var replica)) replica.Close();
            _logs?.DeleteLog(tp.Topic, tp.Partition);
        }
    }

    // ---- Kafka API operations ----

    /// <summary>
    /// Produce: appends to each partition this broker leads. acks=0/1 answer after the leader's append;
    /// acks=all answers when the high watermark has passed the appended batches (every in-sync replica
    /// has them), or with REQUEST_TIMED_OUT after <see cref="ProduceRequest.TimeoutMs"/>. No thread waits meanwhile.
    /// </summary>
    public ValueTask<IReadOnlyList<ProducePartitionResult>> ProduceAsync(ProduceRequest request, CancellationToken cancellationToken = default)
    {
        if (request.Acks is not (Acks.None or Acks.Leader or Acks.All))
            return ValueTask.FromResult<IReadOnlyList<ProducePartitionResult>>(
                request.Partitions.Select(p => new ProducePartitionResult(p.Topic, p.Partition, ErrorCode.InvalidRequiredAcks)).ToArray());
        var results = new ProducePartitionResult[request.Partitions.Count];
        List<(int Index, PartitionReplica Replica, Task<ErrorCode> Wait)>? waits = null;
        for (int i = 0; i < results.Length; i++)
        {
            var data = request.Partitions[i];
            var replica = IsRunning ? GetReplica(new TopicPartition(data.Topic, data.Partition)) : null;
            if (replica is null)
            {
                results[i] = new ProducePartitionResult(data.Topic, data.Partition, UnknownOrNotHere(data.Topic, data.Partition));
                continue;
            }
            (results[i], long nextOffset) = replica.AppendAsLeader(data, request.Acks);
            if (request.Acks == Acks.All && results[i].Error == ErrorCode.None)
            {
                var wait = replica.WaitForCommitAsync(nextOffset);
                if (wait.IsCompleted) results[i] = WithError(results[i], wait.Result);
                else (waits ??= new()).Add((i, replica, wait));
            }
        }
        if (waits is null) return ValueTask.FromResult<IReadOnlyList<ProducePartitionResult>>(results);
        return new ValueTask<IReadOnlyList<ProducePartitionResult>>(AwaitCommitsAsync(results, waits, request.TimeoutMs, cancellationToken));
    }

    private static async Task<IReadOnlyList<ProducePartitionResult>> AwaitCommitsAsync(ProducePartitionResult[] results,
        List<(int Index, PartitionReplica Replica, Task<ErrorCode> Wait)> waits, int timeoutMs, CancellationToken cancellationToken)
    {
        var all = Task.WhenAll(waits.Select(w => w.Wait));
        try
        {
            await all.WaitAsync(TimeSpan.FromMilliseconds(Math.Max(0, timeoutMs)), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException) { }
        foreach (var (index, replica, wait) in waits)
        {
            if (wait.IsCompleted)
            {
                results[index] = WithError(results[index], wait.Result);
                continue;
            }
            replica.AbandonWait(wait);
            results[index] = results[index] with
            {
                Error = ErrorCode.RequestTimedOut,
                ErrorMessage = $"Not every in-sync replica of {replica.TopicPartition} confirmed offset {results[index].BaseOffset} within {timeoutMs} ms (acks=all).",
            };
        }
        return results;
    }

    private static ProducePartitionResult WithError(ProducePartitionResult result, ErrorCode error) => error switch
    {
        ErrorCode.None => result,
        ErrorCode.NotEnoughReplicasAfterAppend => result with
        {
            Error = error,
            ErrorMessage = $"The batch was written to {result.Topic}-{result.Partition} at offset {result.BaseOffset} but the in-sync replicas fell below min.insync.replicas.",
        },
        _ => result with { Error = error, ErrorMessage = $"Leadership of {result.Topic}-{result.Partition} moved before the batch at offset {result.BaseOffset} was committed." },
    };

    /// <summary>
    /// Fetch: whole record batches from each partition; waits up to MaxWaitMs for MinBytes,
    /// answering as soon as enough data has been appended (long poll).
    /// </summary>
    public async ValueTask<IReadOnlyList<FetchPartitionResult>> FetchAsync(FetchRequest request, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(Math.Max(0, request.MaxWaitMs));
        while (true)
        {
            var waits = new List<Task>();
            var results = new FetchPartitionResult[request.Partitions.Count];
            long bytes = 0;
            bool anyError = false, highWatermarkNews = false;
            for (int i = 0; i < results.Length; i++)
            {
                var p = request.Partitions[i];
                var replica = IsRunning ? GetReplica(new TopicPartition(p.Topic, p.Partition)) : null;
                if (replica is null || !replica.IsLeader)
                {
                    var code = replica is null ? UnknownOrNotHere(p.Topic, p.Partition) : ErrorCode.NotLeaderOrFollower;
                    results[i] = new FetchPartitionResult(p.Topic, p.Partition, code, -1, -1, ReadOnlyMemory<byte>.Empty);
                    anyError = true;
                    continue;
                }
                waits.Add(replica.DataArrived);
                if (request.ReplicaId >= 0 && !TrackFollowerFetch(replica, request.ReplicaId, p, out var refused))
                {
                    results[i] = refused;
                    anyError = true;
                    continue;
                }
                results[i] = replica.Read(p, request.ReplicaId >= 0);
                bytes += results[i].Records.Length;
                anyError |= results[i].Error != ErrorCode.None;
                highWatermarkNews |= request.ReplicaId >= 0 && replica.FollowerMissesHighWatermark(request.ReplicaId);
            }
            var remaining = deadline - DateTime.UtcNow;
            if (anyError || highWatermarkNews || bytes >= Math.Max(1, request.MinBytes) || remaining <= TimeSpan.Zero || waits.Count == 0 || !IsRunning)
            {
                if (request.ReplicaId >= 0) RecordHighWatermarksSent(request.ReplicaId, results);
                return results;
            }
            try
            {
                await Task.WhenAny(Task.WhenAny(waits), Task.Delay(remaining, cancellationToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { }
            if (cancellationToken.IsCancellationRequested)
            {
                if (request.ReplicaId >= 0) RecordHighWatermarksSent(request.ReplicaId, results);
                return results;
            }
        }
    }

    private void RecordHighWatermarksSent(int followerId, FetchPartitionResult[] results)
    {
        foreach (var r in results)
            if (r.Error == ErrorCode.None && GetReplica(new TopicPartition(r.Topic, r.Partition)) is { } replica)
                replica.HighWatermarkSent(followerId, r.HighWatermark);
    }

    /// <summary>ListOffsets: earliest, latest, or the first offset at or after a timestamp.</summary>
    public IReadOnlyList<ListOffsetsResult> ListOffsets(IReadOnlyList<ListOffsetsPartition> partitions)
    {
        var results = new List<ListOffsetsResult>(partitions.Count);
        foreach (var p in partitions)
        {
            var replica = IsRunning ? GetReplica(new TopicPartition(p.Topic, p.Partition)) : null;
            if (replica is null || !replica.IsLeader)
            {
                var code = replica is null ? UnknownOrNotHere(p.Topic, p.Partition) : ErrorCode.NotLeaderOrFollower;
                results.Add(new ListOffsetsResult(p.Topic, p.Partition, code, -1, -1));
                continue;
            }
            long offset = p.Timestamp switch
            {
                OffsetSpec.Earliest => replica.LogStartOffset,
                OffsetSpec.Latest => replica.HighWatermark,
                _ => replica.Log.OffsetForTimestamp(p.Timestamp) is { } found && found.Offset < replica.HighWatermark ? found.Offset : replica.HighWatermark,
            };
            results.Add(new ListOffsetsResult(p.Topic, p.Partition, ErrorCode.None, offset, -1, replica.LeaderEpoch));
        }
        return results;
    }

    /// <summary>Metadata: brokers, controller and topics (all of them when <paramref name="topics"/> is null).</summary>
    public ClusterMetadata Metadata(IReadOnlyList<string>? topics = null, bool allowAutoTopicCreation = false) =>
        _cluster.Controller.Describe(topics, allowAutoTopicCreation);

    public IReadOnlyList<CreateTopicResult> CreateTopics(IReadOnlyList<CreateTopicRequest> topics, bool validateOnly = false) =>
        _cluster.Controller.CreateTopics(topics, validateOnly);

    public IReadOnlyList<DeleteTopicResult> DeleteTopics(IReadOnlyList<string> topics) =>
        _cluster.Controller.DeleteTopics(topics);

    public IReadOnlyList<CreatePartitionsResult> CreatePartitions(IReadOnlyList<(string Topic, int Count)> topics, bool validateOnly = false) =>
        _cluster.Controller.CreatePartitions(topics, validateOnly);

    private ErrorCode UnknownOrNotHere(string topic, int partition) =>
        _cluster.Controller.PartitionExists(topic, partition) ? ErrorCode.NotLeaderOrFollower : ErrorCode.UnknownTopicOrPartition;

    public override string ToString() => $"Broker {Id} ({Address}, {State})";
}
