using PSKafka.Engine.Api;
using PSKafka.Engine.Config;
using PSKafka.Engine.Metadata;

namespace PSKafka.Engine.Cluster;

/// <summary>
/// The cluster's controller: the one place that changes metadata (topic creation and deletion,
/// replica assignment, leader election, ISR, leader epochs), persists it in LiteDB and tells the
/// brokers. The controller role belongs to the lowest-numbered running broker.
/// </summary>
public sealed class Controller
{
    private readonly KafkaCluster _cluster;
    private readonly MetadataStore _store;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, TopicRecord> _topics;
    private readonly ClusterRecord _clusterRecord;

    internal Controller(KafkaCluster cluster, MetadataStore store)
    {
        _cluster = cluster;
        _store = store;
        _clusterRecord = store.LoadOrCreateCluster();
        _topics = store.LoadTopics().ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public string ClusterId => _clusterRecord.ClusterId;

    public IReadOnlyDictionary<string, string> BrokerConfigs
    {
        get { lock (_gate) return new Dictionary<string, string>(_clusterRecord.BrokerConfigs); }
    }

    public string GetBrokerConfig(string name)
    {
        lock (_gate)
        {
            if (_clusterRecord.BrokerConfigs.TryGetValue(name, out var v)) return v;
            return ConfigDefinitions.TryGetBroker(name, out var def) ? def.Default ?? "" : throw new KafkaException(ErrorCode.InvalidConfig, $"Unknown broker config name: {name}.");
        }
    }

    /// <summary>Sets (or with null, resets) a cluster-wide broker setting and re-applies topic settings.</summary>
    public void SetBrokerConfig(string name, string? value)
    {
        lock (_gate)
        {
            if (value is null) _clusterRecord.BrokerConfigs.Remove(name);
            else _clusterRecord.BrokerConfigs[name] = ConfigDefinitions.ValidateBrokerConfig(name, value);
            _store.SaveCluster(_clusterRecord);
            foreach (var topic in _topics.Values) PublishTopic(topic);
        }
    }

    public TopicSettings SettingsFor(string topic)
    {
        lock (_gate)
        {
            if (!_topics.TryGetValue(topic, out var record))
                throw new KafkaException(ErrorCode.UnknownTopicOrPartition, $"Topic '{topic}' does not exist.");
            return new TopicSettings(record.Configs, _clusterRecord.BrokerConfigs);
        }
    }

    public bool PartitionExists(string topic, int partition)
    {
        lock (_gate) return _topics.TryGetValue(topic, out var t) && partition >= 0 && partition < t.Partitions.Count;
    }

    public bool TopicExists(string topic)
    {
        lock (_gate) return _topics.ContainsKey(topic);
    }

    private int IntConfig(string name) => int.Parse(GetBrokerConfig(name), System.Globalization.CultureInfo.InvariantCulture);

    public IReadOnlyList<CreateTopicResult> CreateTopics(IReadOnlyList<CreateTopicRequest> requests, bool validateOnly)
    {
        var results = new List<CreateTopicResult>(requests.Count);
        lock (_gate)
        {
            foreach (var request in requests)
            {
                try
                {
                    results.Add(CreateTopic(request, validateOnly));
                }
                catch (KafkaException e)
                {
                    results.Add(new CreateTopicResult(request.Name, e.Code, e.Message));
                }
            }
        }
        return results;
    }

    private CreateTopicResult CreateTopic(CreateTopicRequest request, bool validateOnly)
    {
        TopicNames.Validate(request.Name);
        if (_topics.ContainsKey(request.Name))
            throw new KafkaException(ErrorCode.TopicAlreadyExists, $"Topic '{request.Name}' already exists.");
        var collision = _topics.Keys.FirstOrDefault(n => n != request.Name && n.Replace('.', '_') == request.Name.Replace('.', '_'));
        if (collision is not null)
            throw new KafkaException(ErrorCode.InvalidTopicException, $"Topic '{request.Name}' collides with existing topic: {collision} ('.' and '_' are interchangeable in metric names).");

        var live = _cluster.RunningBrokerIds();
        if (live.Count == 0) throw new KafkaException(ErrorCode.BrokerNotAvailable, "No broker is running.");
        int partitions = request.Partitions == -1 ? IntConfig("num.partitions") : request.Partitions;
        int rf = request.ReplicationFactor == -1 ? IntConfig("default.replication.factor") : request.ReplicationFactor;
        if (partitions < 1) throw new KafkaException(ErrorCode.InvalidPartitions, $"Number of partitions must be larger than 0 (was {partitions}).");
        if (rf < 1) throw new KafkaException(ErrorCode.InvalidReplicationFactor, $"Replication factor must be larger than 0 (was {rf}).");
        if (rf > live.Count)
            throw new KafkaException(ErrorCode.InvalidReplicationFactor, $"Replication factor: {rf} larger than available brokers: {live.Count}.");
        var configs = ConfigDefinitions.ValidateTopicConfigs(request.Configs);
        var settings = new TopicSettings(configs, _clusterRecord.BrokerConfigs);
        if (settings.MinInsyncReplicas > rf && configs.ContainsKey(ConfigDefinitions.MinInsyncReplicas))
            throw new KafkaException(ErrorCode.InvalidConfig, $"min.insync.replicas ({settings.MinInsyncReplicas}) is larger than the replication factor ({rf}).");

        var assignment = ReplicaAssignment.Assign(live, partitions, rf);
        if (validateOnly) return new CreateTopicResult(request.Name, ErrorCode.None, null, Guid.Empty, partitions, (short)rf);

        var record = new TopicRecord
        {
            Name = request.Name,
            TopicId = Guid.NewGuid(),
            Configs = configs,
            Created = DateTime.UtcNow,
            Partitions = assignment.Select((replicas, i) => new PartitionRecord
            {
                Partition = i,
                Replicas = replicas,
                Isr = replicas.ToList(),
                Leader = replicas[0],
                LeaderEpoch = 0,
            }).ToList(),
        };
        _store.SaveTopic(record);
        _topics[record.Name] = record;
        PublishTopic(record);
        return new CreateTopicResult(record.Name, ErrorCode.None, null, record.TopicId, partitions, (short)rf);
    }

    public IReadOnlyList<DeleteTopicResult> DeleteTopics(IReadOnlyList<string> names)
    {
        var results = new List<DeleteTopicResult>(names.Count);
        lock (_gate)
        {
            foreach (var name in names)
            {
                if (!_topics.Remove(name))
                {
                    results.Add(new DeleteTopicResult(name, ErrorCode.UnknownTopicOrPartition, $"Topic '{name}' does not exist."));
                    continue;
                }
                _store.DeleteTopic(name);
                foreach (var broker in _cluster.Brokers) broker.DeleteTopicLogs(name);
                results.Add(new DeleteTopicResult(name, ErrorCode.None));
            }
        }
        return results;
    }

    public IReadOnlyList<CreatePartitionsResult> CreatePartitions(IReadOnlyList<(string Topic, int Count)> requests, bool validateOnly)
    {
        var results = new List<CreatePartitionsResult>();
        lock (_gate)
        {
            foreach (var (name, count) in requests)
            {
                if (!_topics.TryGetValue(name, out var topic))
                {
                    results.Add(new(name, ErrorCode.UnknownTopicOrPartition, $"Topic '{name}' does not exist."));
                    continue;
                }
                int current = topic.Partitions.Count;
                if (count <= current)
                {
                    results.Add(new(name, ErrorCode.InvalidPartitions, $"Topic currently has {current} partitions, which is higher than or equal to the requested {count}."));
                    continue;
                }
                var live = _cluster.RunningBrokerIds();
                int rf = topic.Partitions[0].Replicas.Count;
                if (rf > live.Count)
                {
                    results.Add(new(name, ErrorCode.InvalidReplicationFactor, $"Replication factor: {rf} larger than available brokers: {live.Count}."));
                    continue;
                }
                if (validateOnly)
                {
                    results.Add(new(name, ErrorCode.None));
                    continue;
                }
                var added = ReplicaAssignment.Assign(live, count - current, rf, startPartition: current);
                topic.Partitions.AddRange(added.Select((replicas, i) => new PartitionRecord
                {
                    Partition = current + i,
                    Replicas = replicas,
                    Isr = replicas.ToList(),
                    Leader = replicas[0],
                }));
                _store.SaveTopic(topic);
                PublishTopic(topic);
                results.Add(new(name, ErrorCode.None));
            }
        }
        return results;
    }

    /// <summary>Changes a topic's config overrides (null value removes an override).</summary>
    public void AlterTopicConfigs(string name, IReadOnlyDictionary<string, string?> changes)
    {
        lock (_gate)
        {
            if (!_topics.TryGetValue(name, out var topic))
                throw new KafkaException(ErrorCode.UnknownTopicOrPartition, $"Topic '{name}' does not exist.");
            var set = ConfigDefinitions.ValidateTopicConfigs(changes.Where(c => c.Value is not null).ToDictionary(c => c.Key, c => c.Value!));
            foreach (var key in changes.Where(c => c.Value is null).Select(c => c.Key))
            {
                if (!ConfigDefinitions.TryGetTopic(key, out _)) throw new KafkaException(ErrorCode.InvalidConfig, $"Unknown topic config name: {key}.");
                topic.Configs.Remove(key);
            }
            foreach (var (k, v) in set) topic.Configs[k] = v;
            _store.SaveTopic(topic);
            PublishTopic(topic);
        }
    }

    /// <summary>A broker started: it takes up its replicas and leads the partitions that had lost their leader.</summary>
    internal void OnBrokerStarted(Broker broker)
    {
        lock (_gate)
        {
            var changed = new List<TopicRecord>();
            foreach (var topic in _topics.Values)
            {
                bool touched = false;
                foreach (var p in topic.Partitions.Where(p => p.Leader == -1 && p.Isr.Contains(broker.Id)))
                {
                    p.Leader = broker.Id;
                    p.LeaderEpoch++;
                    touched = true;
                }
                if (touched) changed.Add(topic);
            }
            if (changed.Count > 0) _store.SaveTopics(changed);
            foreach (var topic in _topics.Values) PublishTopic(topic, onlyTo: broker);
            foreach (var topic in changed) PublishTopic(topic);
        }
    }

    /// <summary>
    /// A broker stopped or crashed: it leaves the ISR of its partitions and each partition it led
    /// gets a new leader from the ISR; with no in-sync replica left the partition goes offline
    /// (unclean.leader.election.enable=false) and keeps its last ISR member, as in Kafka.
    /// </summary>
    internal void OnBrokerStopped(int brokerId)
    {
        lock (_gate)
        {
            var live = _cluster.RunningBrokerIds().ToHashSet();
            var changed = new List<TopicRecord>();
            foreach (var topic in _topics.Values)
            {
                bool touched = false;
                foreach (var p in topic.Partitions.Where(p => p.Replicas.Contains(brokerId)))
                {
                    if (p.Isr.Contains(brokerId) && p.Isr.Count > 1)
                    {
                        p.Isr.Remove(brokerId);
                        touched = true;
                    }
                    if (p.Leader == brokerId)
                    {
                        var next = p.Isr.FirstOrDefault(id => id != brokerId && live.Contains(id), -1);
                        p.Leader = next;
                        p.LeaderEpoch++;
                        touched = true;
                    }
                }
                if (touched) changed.Add(topic);
            }
            if (changed.Count > 0) _store.SaveTopics(changed);
            foreach (var topic in changed) PublishTopic(topic);
        }
    }

    private void PublishTopic(TopicRecord topic, Broker? onlyTo = null)
    {
        var settings = new TopicSettings(topic.Configs, _clusterRecord.BrokerConfigs);
        foreach (var broker in onlyTo is null ? _cluster.Brokers : [onlyTo])
            foreach (var p in topic.Partitions)
                broker.ApplyPartitionState(topic.Name, p, settings);
    }

    /// <summary>The metadata a client sees: brokers, controller, and topics with leaders, replicas and ISR.</summary>
    public ClusterMetadata Describe(IReadOnlyList<string>? names, bool allowAutoTopicCreation)
    {
        if (allowAutoTopicCreation && names is not null && GetBrokerConfig("auto.create.topics.enable") == "true")
        {
            var missing = names.Where(n => !TopicExists(n) && TopicNames.Problem(n) is null).ToList();
            if (missing.Count > 0) CreateTopics(missing.Select(n => new CreateTopicRequest(n)).ToList(), validateOnly: false);
        }
        lock (_gate)
        {
            var live = _cluster.RunningBrokerIds().ToHashSet();
            var brokers = _cluster.Brokers.Where(b => b.IsRunning).Select(b => new BrokerMetadata(b.Id, b.Host, b.Port)).ToList();
            var topics = new List<TopicMetadata>();
            foreach (var name in names ?? _topics.Keys.Order(StringComparer.Ordinal).ToList())
            {
                if (!_topics.TryGetValue(name, out var t))
                {
                    var error = TopicNames.Problem(name) is null ? ErrorCode.UnknownTopicOrPartition : ErrorCode.InvalidTopicException;
                    topics.Add(new TopicMetadata(name, Guid.Empty, error, []));
                    continue;
                }
                topics.Add(new TopicMetadata(t.Name, t.TopicId, ErrorCode.None, t.Partitions.Select(p => new PartitionMetadata(
                    p.Partition,
                    p.Leader == -1 ? ErrorCode.LeaderNotAvailable : ErrorCode.None,
                    p.Leader,
                    p.LeaderEpoch,
                    p.Replicas.ToArray(),
                    p.Isr.ToArray(),
                    p.Replicas.Where(r => !live.Contains(r)).ToArray())).ToList(), IsInternal: t.Name == Groups.CoordinatorPlacement.OffsetsTopic));
            }
            return new ClusterMetadata(ClusterId, _cluster.ControllerId, brokers, topics);
        }
    }
}
