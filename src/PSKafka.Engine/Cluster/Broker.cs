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
        StartTime = DateTimeOffset.UtcNow;
        State = BrokerState.Running;
    }

    /// <summary>Stops the broker: flushed and closed with a clean-shutdown marker, or, with <paramref name="kill"/>, abandoned as a crash would leave it.</summary>
    internal void Stop(bool kill)
    {
        if (State is BrokerState.Stopped or BrokerState.Crashed) return;
        State = BrokerState.Stopping;
        StopGroupCoordinator();
        foreach (var replica in _replicas.Values) replica.Signal();
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
            if (_replicas.TryRemove(tp, out var removed)) removed.Signal();
            return;
        }
        var replica = _replicas.GetOrAdd(tp, key => new PartitionReplica(key, _logs.GetOrCreateLog(key.Topic, key.Partition, settings.ToLogConfig()), settings));
        replica.Settings = settings;
        replica.Log.Config = settings.ToLogConfig();
        replica.Replicas = partition.Replicas.ToArray();
        replica.Isr = partition.Isr.ToArray();
        replica.LeaderId = partition.Leader;
        replica.LeaderEpoch = partition.LeaderEpoch;
        replica.IsLeader = partition.Leader == Id;
        replica.Signal();
    }

    internal void DeleteTopicLogs(string topic)
    {
        foreach (var tp in _replicas.Keys.Where(k => k.Topic == topic).ToList())
        {
            if (_replicas.TryRemove(tp, out var replica)) replica.Signal();
            _logs?.DeleteLog(tp.Topic, tp.Partition);
        }
    }

    // ---- Kafka API operations ----

    /// <summary>Produce: appends to each partition this broker leads; acks=0/1/all as in Kafka.</summary>
    public ValueTask<IReadOnlyList<ProducePartitionResult>> ProduceAsync(ProduceRequest request, CancellationToken cancellationToken = default)
    {
        if (request.Acks is not (Acks.None or Acks.Leader or Acks.All))
            return ValueTask.FromResult<IReadOnlyList<ProducePartitionResult>>(
                request.Partitions.Select(p => new ProducePartitionResult(p.Topic, p.Partition, ErrorCode.InvalidRequiredAcks)).ToArray());
        var results = new ProducePartitionResult[request.Partitions.Count];
        for (int i = 0; i < results.Length; i++)
        {
            var data = request.Partitions[i];
            var replica = IsRunning ? GetReplica(new TopicPartition(data.Topic, data.Partition)) : null;
            results[i] = replica is null
                ? new ProducePartitionResult(data.Topic, data.Partition, UnknownOrNotHere(data.Topic, data.Partition))
                : replica.AppendAsLeader(data, request.Acks);
        }
        return ValueTask.FromResult<IReadOnlyList<ProducePartitionResult>>(results);
    }

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
            bool anyError = false;
            for (int i = 0; i < results.Length; i++)
            {
                var p = request.Partitions[i];
                var replica = IsRunning ? GetReplica(new TopicPartition(p.Topic, p.Partition)) : null;
                if (replica is null || (!replica.IsLeader && request.ReplicaId < 0))
                {
                    var code = replica is null ? UnknownOrNotHere(p.Topic, p.Partition) : ErrorCode.NotLeaderOrFollower;
                    results[i] = new FetchPartitionResult(p.Topic, p.Partition, code, -1, -1, ReadOnlyMemory<byte>.Empty);
                    anyError = true;
                    continue;
                }
                waits.Add(replica.DataArrived);
                results[i] = replica.Read(p, request.ReplicaId >= 0);
                bytes += results[i].Records.Length;
                anyError |= results[i].Error != ErrorCode.None;
            }
            var remaining = deadline - DateTime.UtcNow;
            if (anyError || bytes >= Math.Max(1, request.MinBytes) || remaining <= TimeSpan.Zero || waits.Count == 0 || !IsRunning)
                return results;
            try
            {
                await Task.WhenAny(Task.WhenAny(waits), Task.Delay(remaining, cancellationToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { }
            if (cancellationToken.IsCancellationRequested) return results;
        }
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
