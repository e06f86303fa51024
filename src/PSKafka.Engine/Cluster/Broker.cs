using System.Collections.Concurrent;
using PSKafka.Engine.Api;
using PSKafka.Engine.Config;
using PSKafka.Engine.Logging;
using PSKafka.Engine.Metadata;
using PSKafka.Engine.Storage;

namespace PSKafka.Engine.Cluster;

public enum BrokerState { Starting, Running, Stopping, Stopped, Crashed }

/// <summary>
/// One broker of the local cluster: its own log directory <c>broker-&lt;id&gt;/</c>, the replicas it
/// hosts, and the Kafka API operations (produce, fetch, list offsets, metadata, topic admin) that
/// the wire protocol and the in-process client both call. It knows no sockets and no wire format: its listener is
/// an <see cref="IBrokerListener"/> the cluster gives it, which it starts first and stops first.
/// </summary>
public sealed partial class Broker
{
    private readonly KafkaCluster _cluster;
    private readonly ConcurrentDictionary<TopicPartition, PartitionReplica> _replicas = new();
    private readonly IBrokerListener _listener;
    private LogManager? _logs;

    internal Broker(KafkaCluster cluster, BrokerRecord record, IBrokerListener listener)
    {
        _cluster = cluster;
        _listener = listener;
        Id = record.Id;
        Host = record.Host;
        Port = record.Port;
        ListenAddress = record.ListenAddress;
        LogDirectory = Path.Combine(cluster.DataDirectory, $"broker-{record.Id}");
        Log = cluster.Logging.For(KafkaLoggers.KafkaServer, $"[KafkaServer id={record.Id}] ");
    }

    /// <summary>This broker's lines in server.log (<c>[KafkaServer id=N]</c>).</summary>
    internal KafkaLogger Log { get; }
    internal BrokerLogging Logging => _cluster.Logging;

    public int Id { get; }
    public string Host { get; }
    public int Port { get; private set; }
    /// <summary>The address advertised to clients in Metadata.</summary>
    public string Address => $"{Host}:{Port}";
    /// <summary>The local address the listener binds (127.0.0.1 unless the user chose another).</summary>
    public string ListenAddress { get; private set; }
    public string LogDirectory { get; }
    public BrokerState State { get; private set; } = BrokerState.Stopped;
    public bool IsRunning => State == BrokerState.Running;
    public bool IsController => _cluster.ControllerId == Id;
    public DateTimeOffset? StartTime { get; private set; }
    public KafkaCluster Cluster => _cluster;
    /// <summary>fetch.max.bytes, read when the broker starts (a static setting in Kafka).</summary>
    internal int FetchMaxBytes { get; private set; } = ConfigValues.Defaults.Int(ConfigDefinitions.FetchMaxBytes);

    public IReadOnlyCollection<PartitionReplica> Replicas => (IReadOnlyCollection<PartitionReplica>)_replicas.Values;
    public int LeaderCount => _replicas.Values.Count(r => r.IsLeader);
    public int FollowerCount => _replicas.Values.Count(r => !r.IsLeader);

    public PartitionReplica? GetReplica(TopicPartition tp) => _replicas.GetValueOrDefault(tp);

    /// <summary>
    /// Starts the broker listening on <paramref name="listenAddress"/>:<paramref name="port"/> (default: the ones it
    /// has). Port and address become the broker's only once the listener is bound: a start that fails leaves the broker
    /// with the address it had, so what clients and Get-Broker see never moves to a port it could not take.
    /// </summary>
    internal void Start(int? port = null, string? listenAddress = null)
    {
        State = BrokerState.Starting;
        Log.Info("starting");
        // The listener binds first: a taken port must fail before anything else has started.
        int boundPort;
        try
        {
            boundPort = _listener.Start(listenAddress ?? ListenAddress, port ?? Port);
        }
        catch (Exception e)
        {
            Log.Error("Fatal error during KafkaServer startup. Prepare to shutdown", e);
            State = BrokerState.Stopped;
            throw;
        }
        Port = boundPort;
        if (listenAddress is not null) ListenAddress = listenAddress;
        FetchMaxBytes = _cluster.BrokerConfigs.For(Id).Int(ConfigDefinitions.FetchMaxBytes); // static in Kafka: read at start
        Logging.For(KafkaLoggers.KafkaConfig, Log.Ident).Info("KafkaConfig values: \n" +
            string.Concat(DescribeConfigs().Select(c => $"\t{c.Name} = {c.Value ?? "null"}\n")));
        try
        {
            _logs = LogManager.Open(LogDirectory, topicConfig: topic =>
                _cluster.Controller.TopicExists(topic) ? _cluster.Controller.SettingsFor(topic).ToLogConfig() : LogConfig.Default, logging: Logging, brokerId: Id);
            LoadHighWatermarks();
        }
        catch (Exception e)
        {
            Log.Error("Fatal error during KafkaServer startup. Prepare to shutdown", e);
            _listener.Stop();
            State = BrokerState.Stopped;
            throw;
        }
        StartTime = DateTimeOffset.UtcNow;
        State = BrokerState.Running;
        StartReplicaManagement();
        StartMaintenance();
        Log.Info("started");
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
        // A killed Kafka writes nothing more; this line says what PSKafka did instead of kill -9.
        Log.Info(kill ? "killed (Stop-Broker -Kill): no controlled shutdown, logs left unflushed" : "shutting down");
        State = BrokerState.Stopping;
        // Clients are cut off first, so no request runs against logs being closed.
        _listener.Stop();
        StopMaintenance(wait: !kill);
        StopGroupCoordinator();
        // A crash does not wait for the fetchers: whatever they try after the logs are abandoned fails and is dropped.
        StopReplicaManagement(wait: !kill);
        if (!kill) CheckpointHighWatermarks();
        foreach (var replica in _replicas.Values) replica.Close();
        _replicas.Clear();
        if (kill) _logs?.Abandon();
        else _logs?.Close();
        _logs = null;
        State = kill ? BrokerState.Crashed : BrokerState.Stopped;
        if (!kill) Log.Info("shut down completed");
    }

    /// <summary>Applies the controller's decision for one partition (Kafka's LeaderAndIsr).</summary>
    internal void ApplyPartitionState(string topic, PartitionRecord partition, TopicSettings settings, string? reason = null)
    {
        if (!IsRunning || _logs is null) return;
        var tp = new TopicPartition(topic, partition.Partition);
        if (!partition.Replicas.Contains(Id))
        {
            StopFetching(tp);
            if (_replicas.TryRemove(tp, out var removed)) removed.Close();
            return;
        }
        var config = settings.ToLogConfig();
        var replica = _replicas.GetOrAdd(tp, key => new PartitionReplica(Id, key,
            _logs.GetOrCreateLog(key.Topic, key.Partition, config), CheckpointedHighWatermark(key), Logging));
        replica.Log.Config = config;
        switch (replica.ApplyState(partition, reason))
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
        ForgetCheckpointedHighWatermarks(topic);
        foreach (var tp in _replicas.Keys.Where(k => k.Topic == topic).ToList())
        {
            StopFetching(tp);
            if (_replicas.TryRemove(tp, out var replica)) replica.Close();
            _logs?.DeleteLog(tp.Topic, tp.Partition);
            _cleaner?.Remove(tp.Topic, tp.Partition);
        }
    }

    // ---- Kafka API operations ----

    /// <summary>
    /// Produce: appends to each partition this broker leads. acks=0/1 answer after the leader's append;
    /// acks=all answers when the high watermark has passed the appended batches (every in-sync replica
    /// has them), or with REQUEST_TIMED_OUT after <see cref="ProduceParams.TimeoutMs"/>. No thread waits meanwhile.
    /// </summary>
    public ValueTask<IReadOnlyList<ProducePartitionResult>> ProduceAsync(ProduceParams request, CancellationToken cancellationToken = default)
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
            if (results[i].Error == ErrorCode.None) CountBytesIn(data.Records.Length);
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
    public async ValueTask<IReadOnlyList<FetchPartitionResult>> FetchAsync(FetchParams request, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(Math.Max(0, request.MaxWaitMs));
        while (true)
        {
            var waits = new List<Task>();
            var results = new FetchPartitionResult[request.Partitions.Count];
            long bytes = 0;
            // The response's max bytes, for a consumer no more than the broker's fetch.max.bytes (a follower's is bounded by
            // its own replica.fetch.response.max.bytes); the first batch found is sent whatever its size.
            int budget = Math.Max(0, request.ReplicaId >= 0 ? request.MaxBytes : Math.Min(request.MaxBytes, FetchMaxBytes));
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
                results[i] = replica.Read(p with { PartitionMaxBytes = Math.Min(p.PartitionMaxBytes, budget) }, request.ReplicaId >= 0, request.RentRecordBuffers);
                if (bytes > 0 && results[i].Records.Length > budget)
                    results[i] = results[i] with { Records = WholeBatchesWithin(results[i].Records, budget) };
                bytes += results[i].Records.Length;
                budget = (int)Math.Max(0, budget - results[i].Records.Length);
                anyError |= results[i].Error != ErrorCode.None;
                highWatermarkNews |= request.ReplicaId >= 0 && replica.FollowerMissesHighWatermark(request.ReplicaId);
            }
            var remaining = deadline - DateTime.UtcNow;
            if (anyError || highWatermarkNews || bytes >= Math.Max(1, request.MinBytes) || remaining <= TimeSpan.Zero || waits.Count == 0 || !IsRunning)
            {
                if (request.ReplicaId >= 0) RecordHighWatermarksSent(request.ReplicaId, results);
                if (request.ReplicaId < 0) CountBytesOut(bytes);
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
            FetchPartitionResult.ReturnLeases(results); // too little to answer with: these reads are replaced by the next
        }
    }

    private void RecordHighWatermarksSent(int followerId, FetchPartitionResult[] results)
    {
        foreach (var r in results)
            if (r.Error == ErrorCode.None && GetReplica(new TopicPartition(r.Topic, r.Partition)) is { } replica)
                replica.HighWatermarkSent(followerId, r.HighWatermark);
    }

    // Reads return at least one batch; past the first partition with data the response's max bytes is a hard limit.
    private static ReadOnlyMemory<byte> WholeBatchesWithin(ReadOnlyMemory<byte> records, int limit)
    {
        int end = 0;
        var span = records.Span;
        while (end + RecordBatchFormat.LogOverhead <= span.Length)
        {
            int size = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(span.Slice(end + RecordBatchFormat.BatchLengthOffset)) + RecordBatchFormat.LogOverhead;
            if (end + size > limit) break;
            end += size;
        }
        return records[..end];
    }

    /// <summary>ListOffsets: earliest, latest, or the first offset at or after a timestamp.</summary>
    public IReadOnlyList<ListOffsetsResult> ListOffsets(IReadOnlyList<ListOffsetsPartitionParams> partitions)
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
            long hw = replica.HighWatermark;
            var (timestamp, offset) = p.Timestamp switch
            {
                OffsetSpec.Earliest => (-1L, replica.LogStartOffset),
                OffsetSpec.Latest => (-1L, hw),
                OffsetSpec.MaxTimestamp => MaxTimestampOffset(replica.Log),
                _ => replica.Log.OffsetForTimestamp(p.Timestamp) is { } found ? found : (-1L, -1L),
            };
            // Like Kafka: nothing at or after the timestamp below the high watermark is "no offset" (-1, -1).
            if (p.Timestamp is not (OffsetSpec.Latest or OffsetSpec.Earliest) && offset >= hw) (timestamp, offset) = (-1, -1);
            results.Add(new ListOffsetsResult(p.Topic, p.Partition, ErrorCode.None, offset, timestamp, replica.LeaderEpoch));
        }
        return results;
    }

    // The first record carrying the log's largest timestamp (ListOffsets v7's MAX_TIMESTAMP).
    private static (long Timestamp, long Offset) MaxTimestampOffset(PartitionLog log)
    {
        var segment = log.Segments.Where(s => !s.IsEmpty).MaxBy(s => s.LargestTimestamp);
        if (segment is null || segment.LargestTimestamp < 0) return (-1, -1);
        return segment.FindOffsetByTimestamp(segment.LargestTimestamp, log.LogStartOffset) ?? (-1, -1);
    }

    /// <summary>Metadata: brokers, controller and topics (all of them when <paramref name="topics"/> is null).</summary>
    public ClusterMetadata Metadata(IReadOnlyList<string>? topics = null, bool allowAutoTopicCreation = false) =>
        _cluster.Controller.Describe(topics, allowAutoTopicCreation);

    public IReadOnlyList<CreateTopicResult> CreateTopics(IReadOnlyList<CreateTopicParams> topics, bool validateOnly = false) =>
        _cluster.Controller.CreateTopics(topics, validateOnly);

    public IReadOnlyList<DeleteTopicResult> DeleteTopics(IReadOnlyList<string> topics) =>
        _cluster.Controller.DeleteTopics(topics);

    public IReadOnlyList<CreatePartitionsResult> CreatePartitions(IReadOnlyList<(string Topic, int Count)> topics, bool validateOnly = false) =>
        _cluster.Controller.CreatePartitions(topics, validateOnly);

    /// <summary>The error for a partition this broker has no replica of: not here, or not anywhere.</summary>
    internal ErrorCode UnknownOrNotHere(string topic, int partition) =>
        _cluster.Controller.PartitionExists(topic, partition) ? ErrorCode.NotLeaderOrFollower : ErrorCode.UnknownTopicOrPartition;

    public override string ToString() => $"Broker {Id} ({Address}, {State})";
}
