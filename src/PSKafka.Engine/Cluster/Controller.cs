using PSKafka.Engine.Api;
using PSKafka.Engine.Config;
using PSKafka.Engine.Logging;
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
    private readonly BrokerConfigStore _configs;

    internal Controller(KafkaCluster cluster, MetadataStore store, string clusterId, BrokerConfigStore configs)
    {
        _cluster = cluster;
        _store = store;
        ClusterId = clusterId;
        _configs = configs;
        _topics = store.LoadTopics().ToDictionary(t => t.Name, StringComparer.Ordinal);
        // Topics take their defaults from the broker settings: a change there is a change of every topic's settings.
        configs.Changed += () =>
        {
            lock (_gate) foreach (var topic in _topics.Values) PublishTopic(topic);
        };
    }

    public string ClusterId { get; }

    // controller.log and state-change.log, named for the broker that is the controller when the line is written.
    private KafkaLogger Log => _cluster.Logging.For(KafkaLoggers.Controller, $"[Controller id={_cluster.ControllerId}] ");
    private KafkaLogger StateChangeLog => _cluster.Logging.For(KafkaLoggers.StateChange, $"[Controller id={_cluster.ControllerId}] ");

    private readonly record struct LeaderAndIsr(int Leader, int LeaderEpoch, int[] Isr);

    private static LeaderAndIsr Snapshot(PartitionRecord p) => new(p.Leader, p.LeaderEpoch, p.Isr.ToArray());

    /// <summary>A partition's leader or ISR changed: Kafka's controller-side line in state-change.log.</summary>
    private void LogPartitionChange(string topic, LeaderAndIsr? before, PartitionRecord p, string reason)
    {
        static string State(int leader) => leader >= 0 ? "OnlinePartition" : "OfflinePartition";
        StateChangeLog.Info($"Changed partition {topic}-{p.Partition} from {(before is { } b ? State(b.Leader) : "NewPartition")} to {State(p.Leader)} " +
            $"with state LeaderAndIsr(leader={p.Leader}, leaderEpoch={p.LeaderEpoch}, isr=[{string.Join(",", p.Isr)}], partitionEpoch={p.PartitionEpoch}) (reason: {reason})");
    }

    /// <summary>A topic's effective settings; as broker <paramref name="brokerId"/> applies them when given (its own overrides first).</summary>
    public TopicSettings SettingsFor(string topic, int? brokerId = null)
    {
        lock (_gate)
        {
            if (!_topics.TryGetValue(topic, out var record))
                throw TopicChecks.UnknownTopic(topic);
            return new TopicSettings(record.Configs, _configs.ClusterWide, brokerId is { } id ? _configs.Overrides(id) : null);
        }
    }

    public bool PartitionExists(string topic, int partition)
    {
        lock (_gate) return Missing(new TopicPartition(topic, partition)) is null;
    }

    public bool TopicExists(string topic)
    {
        lock (_gate) return _topics.ContainsKey(topic);
    }

    /// <summary>Throws UNKNOWN_TOPIC_OR_PARTITION, worded for what is missing, unless the partition exists.</summary>
    public void RequirePartition(string topic, int partition)
    {
        lock (_gate)
            if (Missing(new TopicPartition(topic, partition)) is { } missing) throw missing;
    }

    // Why a partition does not exist, worded for what is missing (the topic or the partition); null when it does.
    // The caller holds _gate.
    private KafkaException? Missing(TopicPartition tp) =>
        !_topics.TryGetValue(tp.Topic, out var topic) ? TopicChecks.UnknownTopic(tp.Topic)
        : TopicChecks.MissingPartition(tp.Topic, tp.Partition, topic.Partitions.Count);

    public IReadOnlyList<CreateTopicResult> CreateTopics(IReadOnlyList<CreateTopicParams> requests, bool validateOnly)
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

    private CreateTopicResult CreateTopic(CreateTopicParams request, bool validateOnly)
    {
        TopicNames.Validate(request.Name);
        if (_topics.ContainsKey(request.Name))
            throw new KafkaException(ErrorCode.TopicAlreadyExists, $"Topic '{request.Name}' already exists.");
        var collision = _topics.Keys.FirstOrDefault(n => n != request.Name && n.Replace('.', '_') == request.Name.Replace('.', '_'));
        if (collision is not null)
            throw new KafkaException(ErrorCode.InvalidTopicException, $"Topic '{request.Name}' collides with existing topic: {collision} ('.' and '_' are interchangeable in metric names).");

        var live = _cluster.RunningBrokerIds();
        if (live.Count == 0) throw new KafkaException(ErrorCode.BrokerNotAvailable, "No broker is running.");
        var manual = request.Assignments is { Count: > 0 } ? ManualAssignment(request) : null;
        int partitions = manual?.Count ?? (request.Partitions == -1 ? _configs.Cluster.Int(ConfigDefinitions.NumPartitions) : request.Partitions);
        int rf = manual?[0].Count ?? (request.ReplicationFactor == -1 ? _configs.Cluster.Int(ConfigDefinitions.DefaultReplicationFactor) : request.ReplicationFactor);
        if (partitions > MaxPartitionsPerTopic)
            throw new KafkaException(ErrorCode.InvalidPartitions, $"Number of partitions {partitions} is more than PSKafka allows per topic ({MaxPartitionsPerTopic}).");
        if (partitions < 1) throw new KafkaException(ErrorCode.InvalidPartitions, $"Number of partitions must be larger than 0 (was {partitions}).");
        if (rf < 1) throw new KafkaException(ErrorCode.InvalidReplicationFactor, $"Replication factor must be larger than 0 (was {rf}).");
        if (manual is null && rf > live.Count)
            throw new KafkaException(ErrorCode.InvalidReplicationFactor, $"Replication factor: {rf} larger than available brokers: {live.Count}.");
        var configs = ConfigDefinitions.ValidateTopicConfigs(request.Configs);
        int minInsync = new TopicSettings(configs, _configs.ClusterWide).Int(ConfigDefinitions.MinInsyncReplicas);
        if (minInsync > rf && configs.ContainsKey(ConfigDefinitions.MinInsyncReplicas))
            throw new KafkaException(ErrorCode.InvalidConfig, $"min.insync.replicas ({minInsync}) is larger than the replication factor ({rf}).");

        var assignment = manual ?? ReplicaAssignment.Assign(live, partitions, rf);
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
                // A manual assignment may name stopped brokers: the ISR is the live ones, led by the first of them.
                Isr = replicas.Where(live.Contains).DefaultIfEmpty(replicas[0]).ToList(),
                Leader = replicas.FirstOrDefault(live.Contains, -1),
                LeaderEpoch = 0,
            }).ToList(),
        };
        _store.SaveTopic(record);
        _topics[record.Name] = record;
        Log.Info($"Created topic {record.Name} with topic ID {record.TopicId} ({partitions} partitions, replication factor {rf}).");
        foreach (var p in record.Partitions) LogPartitionChange(record.Name, null, p, "topic created");
        PublishTopic(record, reason: "topic created");
        return new CreateTopicResult(record.Name, ErrorCode.None, null, record.TopicId, partitions, (short)rf);
    }

    /// <summary>
    /// Not a Kafka limit (Kafka has none per topic) but a guard: every partition is a directory and files on a leader,
    /// so one request must not be able to create millions of them.
    /// </summary>
    public const int MaxPartitionsPerTopic = 10_000;

    /// <summary>A client's own replica placement (CreateTopics assignments), checked with Kafka's rules.</summary>
    private List<List<int>> ManualAssignment(CreateTopicParams request)
    {
        var a = request.Assignments!;
        if (request.Partitions != -1 || request.ReplicationFactor != -1)
            throw new KafkaException(ErrorCode.InvalidRequest, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.");
        if (a.Count > MaxPartitionsPerTopic)
            throw new KafkaException(ErrorCode.InvalidPartitions, $"Number of partitions {a.Count} is more than PSKafka allows per topic ({MaxPartitionsPerTopic}).");
        if (!a.Keys.Order().SequenceEqual(Enumerable.Range(0, a.Count)))
            throw new KafkaException(ErrorCode.InvalidReplicaAssignment, "Unexpected existing partitions: partitions should be a consecutive 0-based integer sequence.");
        var known = _cluster.RegisteredBrokerIds().ToHashSet();
        var result = new List<List<int>>(a.Count);
        for (int i = 0; i < a.Count; i++)
        {
            var replicas = a[i];
            if (replicas.Count == 0) throw new KafkaException(ErrorCode.InvalidReplicaAssignment, $"Partition {i} has no replicas.");
            if (replicas.Distinct().Count() != replicas.Count)
                throw new KafkaException(ErrorCode.InvalidReplicaAssignment, $"Duplicate brokers not allowed in replica assignment: {string.Join(", ", replicas)} for partition id {i}.");
            if (replicas.Count != a[0].Count)
                throw new KafkaException(ErrorCode.InvalidReplicaAssignment, "All partitions should have the same number of replicas.");
            var unknown = replicas.Where(r => !known.Contains(r)).ToList();
            if (unknown.Count > 0)
                throw new KafkaException(ErrorCode.InvalidReplicaAssignment, $"Unknown broker(s) in replica assignment: {string.Join(", ", unknown)}.");
            result.Add(replicas.ToList());
        }
        return result;
    }

    public IReadOnlyList<DeleteTopicResult> DeleteTopics(IReadOnlyList<string> names)
    {
        var results = new List<DeleteTopicResult>(names.Count);
        try
        {
            DeleteTopicsLocked(names, results);
        }
        finally
        {
            // Outside the controller's lock: a group coordinator calls the controller (PartitionExists) under its own.
            foreach (var deleted in results.Where(r => r.Error == ErrorCode.None)) RemoveGroupOffsets(deleted.Name);
        }
        return results;
    }

    /// <summary>
    /// The offsets groups committed for a deleted topic go (Kafka's GroupMetadataManager.cleanupGroupMetadata on
    /// partition deletion), and so does a group left without offsets and without members: otherwise every topic a
    /// test suite creates and deletes would leave its group and offsets in the store and in memory for good.
    /// </summary>
    private void RemoveGroupOffsets(string topic)
    {
        try
        {
            var affected = _store.DeleteOffsetsOfTopic(topic);
            var held = new HashSet<string>(StringComparer.Ordinal);
            foreach (var broker in _cluster.Brokers.Where(b => b.IsRunning)) held.UnionWith(broker.OnTopicDeleted(topic));
            // Groups no coordinator has loaded have no members: they go when no offsets are left.
            foreach (var group in affected.Where(g => !held.Contains(g)))
                if (!_store.HasOffsets(group)) _store.DeleteGroup(group);
        }
        catch (ObjectDisposedException) { } // the cluster is closing
    }

    private void DeleteTopicsLocked(IReadOnlyList<string> names, List<DeleteTopicResult> results)
    {
        lock (_gate)
        {
            bool enabled = _configs.Cluster.Bool(ConfigDefinitions.DeleteTopicEnable);
            foreach (var name in names)
            {
                if (!enabled && _topics.ContainsKey(name))
                {
                    results.Add(new DeleteTopicResult(name, ErrorCode.TopicDeletionDisabled, "Topic deletion is disabled (delete.topic.enable=false)."));
                    continue;
                }
                if (!_topics.Remove(name))
                {
                    results.Add(new DeleteTopicResult(name, ErrorCode.UnknownTopicOrPartition, TopicChecks.TopicMissing(name)));
                    continue;
                }
                _store.DeleteTopic(name);
                Log.Info($"Deleted topic {name}.");
                foreach (var broker in _cluster.Brokers) broker.DeleteTopicLogs(name);
                results.Add(new DeleteTopicResult(name, ErrorCode.None));
            }
        }
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
                    results.Add(new(name, ErrorCode.UnknownTopicOrPartition, TopicChecks.TopicMissing(name)));
                    continue;
                }
                int current = topic.Partitions.Count;
                if (count > MaxPartitionsPerTopic)
                {
                    results.Add(new(name, ErrorCode.InvalidPartitions, $"Number of partitions {count} is more than PSKafka allows per topic ({MaxPartitionsPerTopic})."));
                    continue;
                }
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
                Log.Info($"Created partitions {current}..{count - 1} of topic {name}.");
                foreach (var p in topic.Partitions.Skip(current)) LogPartitionChange(name, null, p, "partitions added");
                PublishTopic(topic, reason: "partitions added");
                results.Add(new(name, ErrorCode.None));
            }
        }
        return results;
    }

    /// <summary>
    /// Changes a topic's config overrides (null value removes an override); with <paramref name="replace"/> (legacy
    /// AlterConfigs) the overrides not named are removed too.
    /// </summary>
    public void AlterTopicConfigs(string name, IReadOnlyDictionary<string, string?> changes, bool replace = false)
    {
        lock (_gate)
        {
            if (!_topics.TryGetValue(name, out var topic))
                throw TopicChecks.UnknownTopic(name);
            var set = ConfigDefinitions.ValidateTopicConfigs(changes.Where(c => c.Value is not null).ToDictionary(c => c.Key, c => c.Value!));
            var unknown = changes.Keys.FirstOrDefault(k => !ConfigDefinitions.TryGetTopic(k, out _));
            if (unknown is not null) throw new KafkaException(ErrorCode.InvalidConfig, $"Unknown topic config name: {unknown}.");
            foreach (var key in changes.Where(c => c.Value is null).Select(c => c.Key).Concat(replace ? topic.Configs.Keys.Where(k => !changes.ContainsKey(k)).ToList() : []))
                topic.Configs.Remove(key);
            foreach (var (k, v) in set) topic.Configs[k] = v;
            _store.SaveTopic(topic);
            PublishTopic(topic);
        }
    }

    /// <summary>
    /// A broker started: it takes up its replicas (as followers they truncate and catch up, then the
    /// leader adds them back to the ISR) and leads the partitions that were offline with it as their last
    /// in-sync replica — or, with unclean.leader.election.enable=true, any offline partition it hosts.
    /// </summary>
    internal void OnBrokerStarted(Broker broker)
    {
        lock (_gate)
        {
            Log.Info($"Newly added brokers: {broker.Id}, deleted brokers: , bounced brokers: , all live brokers: {string.Join(",", _cluster.RunningBrokerIds())}");
            string reason = $"broker {broker.Id} started";
            var clusterWide = _configs.ClusterWide;
            var changed = new List<TopicRecord>();
            foreach (var topic in _topics.Values)
            {
                bool touched = false;
                bool unclean = new TopicSettings(topic.Configs, clusterWide).ToLogConfig().UncleanLeaderElectionEnable;
                foreach (var p in topic.Partitions.Where(p => p.Leader == -1 && p.Replicas.Contains(broker.Id)))
                {
                    var before = Snapshot(p);
                    if (p.Isr.Contains(broker.Id)) p.Isr = [broker.Id];
                    else if (unclean) p.Isr = [broker.Id]; // may lose committed messages: the user asked for availability
                    else continue;
                    p.Leader = broker.Id;
                    p.LeaderEpoch++;
                    p.PartitionEpoch++;
                    touched = true;
                    LogPartitionChange(topic.Name, before, p, reason);
                }
                if (touched) changed.Add(topic);
            }
            if (changed.Count > 0) _store.SaveTopics(changed);
            foreach (var topic in _topics.Values) PublishTopic(topic, onlyTo: broker, reason);
            foreach (var topic in changed) PublishTopic(topic, reason: reason);
        }
    }

    /// <summary>
    /// A broker stopped or crashed: it leaves the ISR of its partitions at once and each partition it led
    /// gets a new leader from the live ISR (leader epoch + 1). With no live in-sync replica the partition
    /// goes offline (leader -1) and keeps its last ISR member, as in Kafka — unless
    /// unclean.leader.election.enable=true, when any live replica takes over with an ISR of itself.
    /// </summary>
    internal void OnBrokerStopped(int brokerId, bool killed)
    {
        lock (_gate)
        {
            // Kafka's words for a broker that went away, and for one that asked to shut down.
            Log.Info(killed ? $"Broker failure callback for {brokerId}" : $"Shutting down broker {brokerId}");
            string reason = killed ? $"broker {brokerId} failed" : $"broker {brokerId} controlled shutdown";
            var live = _cluster.RunningBrokerIds().Where(id => id != brokerId).ToHashSet();
            var clusterWide = _configs.ClusterWide;
            var changed = new List<TopicRecord>();
            foreach (var topic in _topics.Values)
            {
                bool touched = false;
                bool unclean = new TopicSettings(topic.Configs, clusterWide).ToLogConfig().UncleanLeaderElectionEnable;
                foreach (var p in topic.Partitions.Where(p => p.Replicas.Contains(brokerId)))
                {
                    bool partitionChanged = false;
                    var before = Snapshot(p);
                    if (p.Isr.Contains(brokerId) && p.Isr.Count > 1)
                    {
                        p.Isr.Remove(brokerId);
                        partitionChanged = true;
                    }
                    if (p.Leader == brokerId || p.Leader == -1)
                    {
                        int next = p.Isr.FirstOrDefault(live.Contains, -1);
                        if (next == -1 && unclean)
                        {
                            next = p.Replicas.FirstOrDefault(live.Contains, -1);
                            if (next != -1) p.Isr = [next]; // may lose committed messages: the user chose availability
                        }
                        if (next != p.Leader)
                        {
                            p.Leader = next;
                            p.LeaderEpoch++;
                            partitionChanged = true;
                        }
                    }
                    if (partitionChanged)
                    {
                        p.PartitionEpoch++;
                        LogPartitionChange(topic.Name, before, p, reason);
                    }
                    touched |= partitionChanged;
                }
                if (touched) changed.Add(topic);
            }
            if (changed.Count > 0) _store.SaveTopics(changed);
            foreach (var topic in changed) PublishTopic(topic, reason: reason);
        }
    }

    /// <summary>
    /// Kafka's AlterPartition: the leader of <paramref name="tp"/> asks to set its ISR (a follower caught up,
    /// or fell behind). Refused when the leader or partition epoch is stale, or when a new member is not a
    /// running replica. The leader epoch stays; the partition epoch goes up.
    /// </summary>
    internal void AlterPartition(TopicPartition tp, int leaderId, int leaderEpoch, int partitionEpoch, IReadOnlyList<int> isr, string reason)
    {
        lock (_gate)
        {
            if (Missing(tp) is { } missing) throw missing;
            var topic = _topics[tp.Topic];
            var p = topic.Partitions[tp.Partition];
            if (p.Leader != leaderId || p.LeaderEpoch != leaderEpoch)
                throw new KafkaException(ErrorCode.FencedLeaderEpoch, $"Broker {leaderId} at epoch {leaderEpoch} no longer leads {tp}.");
            if (p.PartitionEpoch != partitionEpoch)
                throw new KafkaException(ErrorCode.InvalidUpdateVersion, $"The ISR of {tp} changed since partition epoch {partitionEpoch}.");
            var live = _cluster.RunningBrokerIds();
            var ineligible = isr.Where(id => !p.Replicas.Contains(id) || (!p.Isr.Contains(id) && !live.Contains(id))).ToList();
            if (ineligible.Count > 0 || !isr.Contains(leaderId))
                throw new KafkaException(ErrorCode.IneligibleReplica, $"Replicas [{string.Join(",", ineligible)}] cannot join the ISR of {tp}.");
            var before = Snapshot(p);
            p.Isr = p.Replicas.Where(isr.Contains).ToList(); // kept in replica order, like kafka-topics.sh shows it
            p.PartitionEpoch++;
            LogPartitionChange(tp.Topic, before, p, reason);
            IsrChanged?.Invoke(tp, p.Isr.ToArray(), reason);
            _store.SaveTopic(topic);
            PublishTopic(topic, reason: reason);
        }
    }

    /// <summary>Raised (under the controller's lock) on every ISR change a leader asked for; for diagnostics and tests.</summary>
    public event Action<TopicPartition, int[], string>? IsrChanged;

    /// <summary>
    /// Preferred leader election (kafka-leader-election.sh --election-type PREFERRED): each partition whose
    /// first replica is alive, in the ISR and not the leader gets it back as leader (leader epoch + 1).
    /// All partitions when <paramref name="partitions"/> is null.
    /// </summary>
    public IReadOnlyList<LeaderElectionResult> ElectPreferredLeaders(IReadOnlyList<TopicPartition>? partitions = null) =>
        ElectLeaders(ElectionType.Preferred, partitions);

    /// <summary>
    /// Kafka's ElectLeaders, per partition: PREFERRED moves leadership to the first replica when it is running and in
    /// the ISR (ELECTION_NOT_NEEDED when it leads already, PREFERRED_LEADER_NOT_AVAILABLE otherwise); UNCLEAN gives a
    /// partition without a leader a live in-sync replica, else any live replica with an ISR of itself, whatever the
    /// topic's unclean.leader.election.enable says (ELECTION_NOT_NEEDED when it has a leader,
    /// ELIGIBLE_LEADERS_NOT_AVAILABLE when no replica runs). All partitions when <paramref name="partitions"/> is null.
    /// </summary>
    public IReadOnlyList<LeaderElectionResult> ElectLeaders(ElectionType type, IReadOnlyList<TopicPartition>? partitions)
    {
        var results = new List<LeaderElectionResult>();
        lock (_gate)
        {
            var live = _cluster.RunningBrokerIds().ToHashSet();
            var wanted = partitions ?? _topics.Values.OrderBy(t => t.Name, StringComparer.Ordinal)
                .SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Name, p.Partition))).ToList();
            var changed = new HashSet<TopicRecord>();
            foreach (var tp in wanted)
            {
                if (Missing(tp) is { } missing)
                {
                    results.Add(new(tp, missing.Code, -1, missing.Message));
                    continue;
                }
                var topic = _topics[tp.Topic];
                var p = topic.Partitions[tp.Partition];
                var before = Snapshot(p);
                var result = type == ElectionType.Unclean ? ElectUnclean(tp, p, live) : ElectPreferred(tp, p, live);
                if (result.Error == ErrorCode.None)
                {
                    p.LeaderEpoch++;
                    p.PartitionEpoch++;
                    changed.Add(topic);
                    LogPartitionChange(tp.Topic, before, p, $"{type.ToString().ToLowerInvariant()} leader election");
                }
                results.Add(result);
            }
            if (changed.Count > 0) _store.SaveTopics(changed.ToList());
            foreach (var topic in changed) PublishTopic(topic, reason: "leader election");
        }
        return results;
    }

    // Both change the partition's leader (and ISR) in place on success; the caller bumps the epochs.
    private static LeaderElectionResult ElectPreferred(TopicPartition tp, PartitionRecord p, HashSet<int> live)
    {
        int preferred = p.Replicas[0];
        if (p.Leader == preferred)
            return new(tp, ErrorCode.ElectionNotNeeded, p.Leader, $"Broker {preferred} already leads {tp}.");
        if (!live.Contains(preferred) || !p.Isr.Contains(preferred))
            return new(tp, ErrorCode.PreferredLeaderNotAvailable, p.Leader,
                $"Preferred replica {preferred} of {tp} is {(live.Contains(preferred) ? "not in the ISR" : "not running")}.");
        p.Leader = preferred;
        return new(tp, ErrorCode.None, preferred);
    }

    private static LeaderElectionResult ElectUnclean(TopicPartition tp, PartitionRecord p, HashSet<int> live)
    {
        if (p.Leader != -1)
            return new(tp, ErrorCode.ElectionNotNeeded, p.Leader, $"{tp} has a leader (broker {p.Leader}).");
        int next = p.Isr.FirstOrDefault(live.Contains, -1);
        if (next == -1)
        {
            next = p.Replicas.FirstOrDefault(live.Contains, -1);
            if (next == -1)
                return new(tp, ErrorCode.EligibleLeadersNotAvailable, -1, $"No replica of {tp} is running (replicas {string.Join(",", p.Replicas)}).");
            p.Isr = [next]; // may lose committed messages: the caller asked for availability
        }
        p.Leader = next;
        return new(tp, ErrorCode.None, next);
    }

    private void PublishTopic(TopicRecord topic, Broker? onlyTo = null, string? reason = null)
    {
        var clusterWide = _configs.ClusterWide;
        foreach (var broker in onlyTo is null ? _cluster.Brokers : [onlyTo])
        {
            var settings = new TopicSettings(topic.Configs, clusterWide, _configs.Overrides(broker.Id));
            foreach (var p in topic.Partitions)
                broker.ApplyPartitionState(topic.Name, p, settings, reason);
        }
    }

    /// <summary>The metadata a client sees: brokers, controller, and topics with leaders, replicas and ISR.</summary>
    public ClusterMetadata Describe(IReadOnlyList<string>? names, bool allowAutoTopicCreation)
    {
        if (allowAutoTopicCreation && names is not null && _configs.Cluster.Bool(ConfigDefinitions.AutoCreateTopicsEnable))
        {
            var missing = names.Where(n => !TopicExists(n) && TopicNames.Problem(n) is null).ToList();
            if (missing.Count > 0) CreateTopics(missing.Select(n => new CreateTopicParams(n)).ToList(), validateOnly: false);
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
