using System.Globalization;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Groups;
using PSKafka.Engine.Storage;
using CK = Confluent.Kafka;
using CKA = Confluent.Kafka.Admin;

namespace PSKafka.Client;

/// <summary>
/// A Kafka cluster reached over the network through Confluent.Kafka (librdkafka): the admin client
/// for metadata, topics, configs, offsets and groups, a producer per <see cref="OpenProducer"/>, a consumer per
/// <see cref="OpenConsumer"/> or <see cref="OpenGroupConsumer"/>. Works with any Kafka: Apache Kafka, Redpanda, a cloud Kafka, PSKafka's
/// own listener, librdkafka's mock cluster.
/// </summary>
public sealed partial class RemoteClient : IKafkaClient, IDisposable
{
    private readonly Lazy<CK.IAdminClient> _admin;
    private volatile string? _lastError;
    private bool _disposed;

    public RemoteClient(RemoteConnection connection)
    {
        RemoteNative.EnsureLoaded();
        Connection = connection;
        _admin = new Lazy<CK.IAdminClient>(() => Build(() =>
            new CK.AdminClientBuilder(Connection.ClientConfig(new Dictionary<string, string>
            {
                // Looking a topic up must never create it (librdkafka's producer-type handles would).
                ["allow.auto.create.topics"] = "false",
            }))
            .SetErrorHandler((_, e) => _lastError = e.Reason)
            .SetLogHandler((_, _) => { })
            .Build()));
    }

    public RemoteConnection Connection { get; }

    public string Description => $"Kafka cluster at {Connection.BootstrapServers}";

    private TimeSpan Timeout => Connection.Timeout;

    internal CK.IAdminClient Admin
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _admin.Value;
        }
    }

    /// <summary>The last connection-level error librdkafka reported (e.g. "Connect to ... failed"), for messages.</summary>
    internal string? LastError => _lastError;

    /// <summary>Builds a Confluent client, turning a bad setting into a clear InvalidConfig error.</summary>
    internal static T Build<T>(Func<T> build)
    {
        try
        {
            return build();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new KafkaException(ErrorCode.InvalidConfig, $"The client config was refused by librdkafka: {e.Message}");
        }
        catch (CK.KafkaException e) when (e.Error.Code == CK.ErrorCode.Local_InvalidArg)
        {
            throw new KafkaException(ErrorCode.InvalidConfig, $"The client config was refused by librdkafka: {e.Error.Reason}");
        }
    }

    internal KafkaException Fail(CK.Error error, string what, Exception? inner = null)
    {
        if (RemoteErrors.IsUnreachable(error.Code) && _lastError is { } last)
            error = new CK.Error(error.Code, $"{error.Reason}; last connection error: {last}");
        return RemoteErrors.From(error, Connection, what, inner);
    }

    /// <summary>Runs an admin call, mapping librdkafka's failures (unreachable, unsupported) to ours.</summary>
    private T Call<T>(string what, Func<T> call)
    {
        try
        {
            return call();
        }
        catch (CK.KafkaException e) when (!HasPerItemResults(e))
        {
            throw Fail(e.Error, what, e);
        }
        catch (AggregateException e) when (e.InnerException is CK.KafkaException k)
        {
            throw Fail(k.Error, what, k);
        }
    }

    /// <summary>Admin exceptions that carry a result per topic, partition or group: their callers look at those.</summary>
    private static bool HasPerItemResults(CK.KafkaException e) => e is CKA.CreateTopicsException or CKA.DeleteTopicsException
        or CKA.ListOffsetsException or CKA.DescribeConfigsException or CKA.ListConsumerGroupOffsetsException
        or CKA.AlterConsumerGroupOffsetsException or CKA.DeleteGroupsException or CKA.IncrementalAlterConfigsException
        or CKA.ElectLeadersException;

    // ---- cluster and topics ----

    /// <summary>
    /// Brokers from metadata (which also proves the cluster answers), then cluster id and controller
    /// from DescribeCluster. librdkafka sends DescribeCluster, CreateTopics, DeleteTopics and
    /// DescribeConfigs of topics to the controller and waits for one, which some clusters never name
    /// (librdkafka's mock): the probe gets a short timeout, and without a controller those calls are
    /// refused at once instead of each waiting out the timeout.
    /// </summary>
    public RemoteClusterDescription DescribeCluster()
    {
        var brokers = GetMetadata().Brokers;
        try
        {
            var cluster = CK.IAdminClientExtensions.DescribeClusterAsync(Admin,
                new CKA.DescribeClusterOptions { RequestTimeout = ControllerProbeTimeout }).GetAwaiter().GetResult();
            _controllerKnown = cluster.Controller is not null;
            return new RemoteClusterDescription(cluster.ClusterId ?? "", cluster.Controller?.Id ?? -1,
                cluster.Nodes.Select(n => new BrokerMetadata(n.Id, n.Host, n.Port, n.Rack)).OrderBy(b => b.Id).ToList());
        }
        catch (CK.KafkaException e) when (e.Error.Reason.Contains("controller", StringComparison.OrdinalIgnoreCase) || e.Error.Code == CK.ErrorCode.Local_TimedOut)
        {
            _controllerKnown = false;
            return new RemoteClusterDescription("", -1, brokers);
        }
    }

    // Metadata has connected us already, so a controller that exists answers well within this.
    private TimeSpan ControllerProbeTimeout => TimeSpan.FromSeconds(Math.Min(2, Timeout.TotalSeconds));
    private bool? _controllerKnown;

    /// <summary>Refuses a controller-bound call at once on a cluster that names no controller.</summary>
    private void RequireController(string what)
    {
        if (_controllerKnown is null) DescribeCluster();
        if (_controllerKnown == false)
            throw new NotSupportedRemotelyException($"The cluster at {Connection.BootstrapServers} names no controller, so {what} is not possible there (librdkafka's mock cluster has none; its topics are created on first use).");
    }

    public ClusterMetadata GetMetadata(IReadOnlyList<string>? topics = null)
    {
        var brokers = new List<BrokerMetadata>();
        var result = new List<TopicMetadata>();
        if (topics is null)
        {
            var all = Call("reading metadata", () => Admin.GetMetadata(Timeout));
            brokers.AddRange(all.Brokers.Select(b => new BrokerMetadata(b.BrokerId, b.Host, b.Port)));
            var live = all.Brokers.Select(b => b.BrokerId).ToHashSet();
            // Kafka lists internal topics too (__consumer_offsets); kafka-topics.sh --list shows them, so do we.
            result.AddRange(all.Topics.Where(t => t.Error.Code == CK.ErrorCode.NoError).OrderBy(t => t.Topic, StringComparer.Ordinal).Select(t => ToTopic(t, live)));
        }
        else
        {
            foreach (var name in topics)
            {
                var one = Call($"reading metadata of topic '{name}'", () => Admin.GetMetadata(name, Timeout));
                if (brokers.Count == 0) brokers.AddRange(one.Brokers.Select(b => new BrokerMetadata(b.BrokerId, b.Host, b.Port)));
                var live = one.Brokers.Select(b => b.BrokerId).ToHashSet();
                var t = one.Topics.FirstOrDefault(t => t.Topic == name);
                result.Add(t is null ? new TopicMetadata(name, Guid.Empty, ErrorCode.UnknownTopicOrPartition, []) : ToTopic(t, live));
            }
        }
        // Metadata responses carry neither cluster id nor controller in librdkafka's API; Get-Cluster asks DescribeCluster.
        return new ClusterMetadata("", -1, brokers.OrderBy(b => b.Id).ToList(), result);
    }

    private static TopicMetadata ToTopic(CK.TopicMetadata t, HashSet<int> liveBrokers)
    {
        var error = RemoteErrors.ToErrorCode(t.Error.Code);
        var partitions = error != ErrorCode.None ? [] : t.Partitions.OrderBy(p => p.PartitionId).Select(p => new PartitionMetadata(
            p.PartitionId, RemoteErrors.ToErrorCode(p.Error.Code), p.Leader, -1, p.Replicas, p.InSyncReplicas,
            p.Replicas.Where(r => !liveBrokers.Contains(r)).ToArray())).ToList();
        return new TopicMetadata(t.Topic, Guid.Empty, error, partitions, t.Topic.StartsWith("__", StringComparison.Ordinal));
    }

    public CreateTopicResult CreateTopic(CreateTopicParams request)
    {
        var spec = new CKA.TopicSpecification
        {
            Name = request.Name,
            NumPartitions = request.Partitions,
            ReplicationFactor = request.ReplicationFactor,
            Configs = request.Configs?.ToDictionary(kv => kv.Key, kv => kv.Value),
            ReplicasAssignments = request.Assignments?.ToDictionary(kv => kv.Key, kv => kv.Value.ToList()),
        };
        if (request.Assignments is not null) { spec.NumPartitions = -1; spec.ReplicationFactor = -1; }
        RequireController("creating topics");
        try
        {
            Call("creating topics", () =>
            {
                Admin.CreateTopicsAsync([spec], new CKA.CreateTopicsOptions { RequestTimeout = Timeout, OperationTimeout = Timeout }).GetAwaiter().GetResult();
                return 0;
            });
        }
        catch (CKA.CreateTopicsException e)
        {
            var report = e.Results[0];
            if (report.Error.Code == CK.ErrorCode.Local_UnsupportedFeature || RemoteErrors.IsUnreachable(report.Error.Code))
                throw Fail(report.Error, "creating topics", e);
            return new CreateTopicResult(request.Name, RemoteErrors.ToErrorCode(report.Error.Code), report.Error.Reason);
        }
        // CreateTopics answers when the controller has the topic; wait until a broker's metadata has it with leaders, as kafka-topics.sh's users expect.
        var topic = WaitForMetadata(request.Name, t => t.Error == ErrorCode.None && t.Partitions.Count > 0 && t.Partitions.All(p => p.Leader >= 0));
        return new CreateTopicResult(request.Name, ErrorCode.None, null, Guid.Empty, topic?.Partitions.Count ?? request.Partitions,
            (short)(topic?.Partitions.FirstOrDefault()?.Replicas.Count ?? request.ReplicationFactor));
    }

    public DeleteTopicResult DeleteTopic(string name)
    {
        RequireController("deleting topics");
        try
        {
            Call("deleting topics", () =>
            {
                Admin.DeleteTopicsAsync([name], new CKA.DeleteTopicsOptions { RequestTimeout = Timeout, OperationTimeout = Timeout }).GetAwaiter().GetResult();
                return 0;
            });
        }
        catch (CKA.DeleteTopicsException e)
        {
            var report = e.Results[0];
            if (report.Error.Code == CK.ErrorCode.Local_UnsupportedFeature || RemoteErrors.IsUnreachable(report.Error.Code))
                throw Fail(report.Error, "deleting topics", e);
            return new DeleteTopicResult(name, RemoteErrors.ToErrorCode(report.Error.Code), report.Error.Reason);
        }
        WaitForMetadata(name, t => t.Error == ErrorCode.UnknownTopicOrPartition);
        return new DeleteTopicResult(name, ErrorCode.None);
    }

    private TopicMetadata? WaitForMetadata(string topic, Func<TopicMetadata, bool> done)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var t = GetMetadata([topic]).Topics[0];
            if (done(t) || DateTime.UtcNow > deadline) return t;
            Thread.Sleep(50);
        }
    }

    public IReadOnlyList<PartitionOffsets> GetOffsets(string topic, IReadOnlyList<int> partitions)
    {
        if (partitions.Count == 0) return [];
        var earliest = ListOffsets(topic, partitions, CKA.OffsetSpec.Earliest());
        var latest = ListOffsets(topic, partitions, CKA.OffsetSpec.Latest());
        return partitions.Select(p => new PartitionOffsets(p, earliest[p], latest[p])).ToList();
    }

    private Dictionary<int, long> ListOffsets(string topic, IReadOnlyList<int> partitions, CKA.OffsetSpec spec)
    {
        var (infos, partial) = ListOffsets(partitions.Select(p => new CK.TopicPartition(topic, p)), spec, $"listing offsets of '{topic}'");
        if (partial is not null)
        {
            var failed = infos.First(i => i.TopicPartitionOffsetError.Error.IsError).TopicPartitionOffsetError;
            throw Fail(failed.Error, $"listing offsets of {topic}-{failed.Partition.Value}", partial);
        }
        return infos.ToDictionary(i => i.TopicPartitionOffsetError.Partition.Value, i => i.TopicPartitionOffsetError.Offset.Value);
    }

    /// <summary>
    /// One ListOffsets of the admin client. When some partitions failed, their answers come back too, with the
    /// exception (<paramref name="what"/> names the work in the error of a cluster that does not answer at all).
    /// </summary>
    private (IEnumerable<CKA.ListOffsetsResultInfo> Infos, CKA.ListOffsetsException? Partial) ListOffsets(IEnumerable<CK.TopicPartition> partitions, CKA.OffsetSpec spec, string what)
    {
        var request = partitions.Select(tp => new CKA.TopicPartitionOffsetSpec { TopicPartition = tp, OffsetSpec = spec }).ToList();
        try
        {
            return (Call(what, () =>
                CK.IAdminClientExtensions.ListOffsetsAsync(Admin, request, new CKA.ListOffsetsOptions { RequestTimeout = Timeout }).GetAwaiter().GetResult().ResultInfos), null);
        }
        catch (CKA.ListOffsetsException e)
        {
            return (e.Result.ResultInfos, e);
        }
    }

    public IReadOnlyList<ConfigEntry> DescribeTopicConfigs(string topic)
    {
        var resource = new CKA.ConfigResource { Type = CKA.ResourceType.Topic, Name = topic };
        RequireController("describing topic configs");
        List<CKA.DescribeConfigsResult> results;
        try
        {
            results = Call($"describing the configs of '{topic}'", () =>
                Admin.DescribeConfigsAsync([resource], new CKA.DescribeConfigsOptions { RequestTimeout = Timeout }).GetAwaiter().GetResult());
        }
        catch (CKA.DescribeConfigsException e)
        {
            var error = e.Results[0].Error;
            throw Fail(error, $"describing the configs of '{topic}'", e);
        }
        return results[0].Entries.Values
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .Select(e => new ConfigEntry(e.Name, e.IsSensitive ? RemoteConnection.Mask : e.Value ?? "", SourceName(e.Source), e.IsDefault))
            .ToList();
    }

    public void AlterTopicConfigs(string topic, IReadOnlyDictionary<string, string?> changes)
    {
        var resource = new CKA.ConfigResource { Type = CKA.ResourceType.Topic, Name = topic };
        var entries = changes.Select(c => new CKA.ConfigEntry
        {
            Name = c.Key,
            Value = c.Value,
            IncrementalOperation = c.Value is null ? CKA.AlterConfigOpType.Delete : CKA.AlterConfigOpType.Set,
        }).ToList();
        RequireController("changing topic configs");
        try
        {
            Call($"changing the configs of '{topic}'", () =>
                Admin.IncrementalAlterConfigsAsync(new Dictionary<CKA.ConfigResource, List<CKA.ConfigEntry>> { [resource] = entries },
                    new CKA.IncrementalAlterConfigsOptions { RequestTimeout = Timeout }).GetAwaiter().GetResult());
        }
        catch (CKA.IncrementalAlterConfigsException e)
        {
            throw Fail(e.Results[0].Error, $"changing the configs of '{topic}'", e);
        }
    }

    public IReadOnlyList<LeaderElectionResult> ElectPreferredLeaders(IReadOnlyList<TopicPartition>? partitions)
    {
        RequireController("electing preferred leaders");
        var wanted = partitions?.Select(p => new CK.TopicPartition(p.Topic, p.Partition)).ToList();
        try
        {
            var result = Call("electing preferred leaders", () =>
                CK.IAdminClientExtensions.ElectLeadersAsync(Admin, CK.ElectionType.Preferred, wanted, new CKA.ElectLeadersOptions { RequestTimeout = Timeout }).GetAwaiter().GetResult());
            return result.TopicPartitions.Select(ToElection).ToList();
        }
        catch (CKA.ElectLeadersException e)
        {
            return e.Results.TopicPartitions.Select(ToElection).ToList();
        }
    }

    // The leader a remote election chose is not in its answer: -1, as with kafka-leader-election.sh.
    private static LeaderElectionResult ToElection(CK.TopicPartitionError r) =>
        new(new TopicPartition(r.Topic, r.Partition.Value), (ErrorCode)(short)r.Error.Code, -1, r.Error.IsError ? r.Error.Reason : null);

    /// <summary>Kafka's names of config sources (DescribeConfigs' ConfigSource), as the in-process client reports them.</summary>
    internal static string SourceName(CKA.ConfigSource source) => source switch
    {
        CKA.ConfigSource.DynamicTopicConfig => "DYNAMIC_TOPIC_CONFIG",
        CKA.ConfigSource.DynamicBrokerConfig => "DYNAMIC_BROKER_CONFIG",
        CKA.ConfigSource.DynamicDefaultBrokerConfig => "DYNAMIC_DEFAULT_BROKER_CONFIG",
        CKA.ConfigSource.StaticBrokerConfig => "STATIC_BROKER_CONFIG",
        CKA.ConfigSource.GroupConfig => "GROUP_CONFIG",
        CKA.ConfigSource.DefaultConfig => "DEFAULT_CONFIG",
        _ => "UNKNOWN",
    };

    // ---- producing and consuming ----

    public IProducerSession OpenProducer(ProducerSettings settings) => new RemoteProducer(this, settings);

    public IConsumerSession OpenConsumer(ConsumerSettings settings) => new RemoteConsumer(this, settings);

    internal Dictionary<string, string> ProducerConfig(ProducerSettings settings) => Connection.ClientConfig(new Dictionary<string, string>
    {
        // Kafka's Java producer puts keyed records on murmur2(key) % partitions; librdkafka's default
        // (consistent_random, CRC32) does not, so keys would land elsewhere than with Java clients and PSKafka.
        ["partitioner"] = "murmur2_random",
        ["acks"] = settings.Acks switch { Acks.None => "0", Acks.Leader => "1", _ => "all" },
        ["compression.type"] = settings.Compression switch
        {
            CompressionType.Gzip => "gzip",
            CompressionType.Snappy => "snappy",
            CompressionType.Lz4 => "lz4",
            CompressionType.Zstd => "zstd",
            _ => "none",
        },
        ["batch.size"] = settings.BatchBytes.ToString(CultureInfo.InvariantCulture),
        ["linger.ms"] = settings.Linger.TotalMilliseconds.ToString(CultureInfo.InvariantCulture),
        ["allow.auto.create.topics"] = settings.AutoCreateTopics ? "true" : "false",
        // Only what a delivery report needs: where the record landed.
        ["dotnet.producer.delivery.report.fields"] = "key,timestamp",
    });

    // ---- groups: what kafka-consumer-groups.sh does, through the admin client ----

    public IGroupConsumer OpenGroupConsumer(GroupConsumerSettings settings) => RemoteGroupConsumer.Open(this, settings);

    public IReadOnlyList<GroupListing> ListGroups()
    {
        List<CKA.ConsumerGroupListing> groups;
        try
        {
            groups = Call("listing consumer groups", () =>
                Admin.ListConsumerGroupsAsync(new CKA.ListConsumerGroupsOptions { RequestTimeout = Timeout }).GetAwaiter().GetResult().Valid);
        }
        catch (CKA.ListConsumerGroupsException e)
        {
            // A broker that did not answer: the groups of the others are still worth listing, as kafka-consumer-groups.sh does.
            if (e.Results.Valid.Count == 0 && e.Results.Errors.FirstOrDefault() is { } error) throw Fail(error, "listing consumer groups", e);
            groups = e.Results.Valid;
        }
        return groups
            .OrderBy(g => g.GroupId, StringComparer.Ordinal)
            .Select(g => new GroupListing(g.GroupId, g.IsSimpleConsumerGroup ? "" : ConsumerProtocol.ProtocolType, StateName(g.State)))
            .ToList();
    }

    public (DescribeGroupResult Group, int Coordinator) DescribeGroup(string groupId)
    {
        CKA.ConsumerGroupDescription description;
        try
        {
            description = Call($"describing group '{groupId}'", () =>
                Admin.DescribeConsumerGroupsAsync([groupId], new CKA.DescribeConsumerGroupsOptions { RequestTimeout = Timeout })
                    .GetAwaiter().GetResult().ConsumerGroupDescriptions[0]);
        }
        catch (CKA.DescribeConsumerGroupsException e)
        {
            description = e.Results.ConsumerGroupDescriptions[0];
            // Kafka describes a group it does not know as Dead; newer clients turn that into GROUP_ID_NOT_FOUND.
            if (description.Error.Code == CK.ErrorCode.GroupIdNotFound)
                return (new DescribeGroupResult(ErrorCode.None, groupId, nameof(GroupState.Dead), "", "", []), description.Coordinator?.Id ?? -1);
            if (RemoteErrors.IsUnreachable(description.Error.Code)) throw Fail(description.Error, $"describing group '{groupId}'", e);
            return (new DescribeGroupResult(RemoteErrors.ToErrorCode(description.Error.Code), groupId, nameof(GroupState.Dead), "", "", [], description.Error.Reason), -1);
        }
        var members = description.Members.Select(m => new GroupMemberDescription(m.ConsumerId, m.GroupInstanceId, m.ClientId ?? "", m.Host ?? "", [],
            // The cmdlets read assignments as Kafka's ConsumerProtocol bytes, which is how DescribeGroups carries them.
            ConsumerProtocol.SerializeAssignment(new ConsumerAssignment(
                m.Assignment?.TopicPartitions.Select(tp => new TopicPartition(tp.Topic, tp.Partition.Value)).ToList() ?? [])))).ToList();
        var group = new DescribeGroupResult(ErrorCode.None, description.GroupId, StateName(description.State),
            description.IsSimpleConsumerGroup ? "" : ConsumerProtocol.ProtocolType, description.PartitionAssignor ?? "", members);
        return (group, description.Coordinator?.Id ?? -1);
    }

    /// <summary>Kafka's names of group states, as DescribeGroups and ListGroups spell them.</summary>
    private static string StateName(CK.ConsumerGroupState state) => state switch
    {
        CK.ConsumerGroupState.PreparingRebalance => nameof(GroupState.PreparingRebalance),
        CK.ConsumerGroupState.CompletingRebalance => nameof(GroupState.CompletingRebalance),
        CK.ConsumerGroupState.Stable => nameof(GroupState.Stable),
        CK.ConsumerGroupState.Dead => nameof(GroupState.Dead),
        CK.ConsumerGroupState.Empty => nameof(GroupState.Empty),
        _ => "Unknown",
    };

    public IReadOnlyList<OffsetFetchPartitionResult> FetchCommittedOffsets(string groupId, IReadOnlyList<TopicPartition>? partitions = null)
    {
        // Null partitions: every committed offset of the group (OffsetFetch without topics).
        var request = new CK.ConsumerGroupTopicPartitions(groupId, partitions?.Select(tp => new CK.TopicPartition(tp.Topic, tp.Partition)).ToList());
        List<CK.TopicPartitionOffsetError> results;
        try
        {
            results = Call($"reading the committed offsets of group '{groupId}'", () =>
                Admin.ListConsumerGroupOffsetsAsync([request], new CKA.ListConsumerGroupOffsetsOptions { RequestTimeout = Timeout })
                    .GetAwaiter().GetResult()[0].Partitions);
        }
        catch (CKA.ListConsumerGroupOffsetsException e)
        {
            var report = e.Results[0];
            if (report.Error.IsError) throw Fail(report.Error, $"reading the committed offsets of group '{groupId}'", e);
            results = report.Partitions;
        }
        // librdkafka reports "no committed offset" as its own -1001; Kafka's OffsetFetch says -1.
        return results.Select(p => new OffsetFetchPartitionResult(p.Topic, p.Partition.Value, p.Offset.Value < 0 ? -1 : p.Offset.Value,
            p.LeaderEpoch ?? -1, null, RemoteErrors.ToErrorCode(p.Error.Code))).ToList();
    }

    public IReadOnlyList<OffsetCommitPartitionResult> CommitOffsets(string groupId, IReadOnlyList<OffsetCommitPartitionParams> offsets)
    {
        var request = new CK.ConsumerGroupTopicPartitionOffsets(groupId,
            offsets.Select(o => new CK.TopicPartitionOffset(o.Topic, o.Partition, o.Offset)).ToList());
        try
        {
            var result = Call($"committing offsets of group '{groupId}'", () =>
                Admin.AlterConsumerGroupOffsetsAsync([request], new CKA.AlterConsumerGroupOffsetsOptions { RequestTimeout = Timeout }).GetAwaiter().GetResult());
            return result[0].Partitions.Select(p => new OffsetCommitPartitionResult(p.Topic, p.Partition.Value, ErrorCode.None)).ToList();
        }
        catch (CKA.AlterConsumerGroupOffsetsException e)
        {
            var report = e.Results[0];
            if (RemoteErrors.IsUnreachable(report.Error.Code)) throw Fail(report.Error, $"committing offsets of group '{groupId}'", e);
            // A refusal of the whole request (the group has members) is each partition's answer, as in OffsetCommit.
            var byPartition = report.Partitions.ToDictionary(p => (p.Topic, p.Partition.Value), p => p.Error);
            return offsets.Select(o =>
            {
                var error = byPartition.TryGetValue((o.Topic, o.Partition), out var pe) && pe.IsError ? pe : report.Error;
                return new OffsetCommitPartitionResult(o.Topic, o.Partition, RemoteErrors.ToErrorCode(error.Code));
            }).ToList();
        }
    }

    public ErrorCode DeleteGroup(string groupId)
    {
        try
        {
            Call($"deleting group '{groupId}'", () =>
            {
                Admin.DeleteGroupsAsync([groupId], new CKA.DeleteGroupsOptions { RequestTimeout = Timeout }).GetAwaiter().GetResult();
                return 0;
            });
            return ErrorCode.None;
        }
        catch (CKA.DeleteGroupsException e)
        {
            var error = e.Results[0].Error;
            if (RemoteErrors.IsUnreachable(error.Code)) throw Fail(error, $"deleting group '{groupId}'", e);
            return RemoteErrors.ToErrorCode(error.Code);
        }
    }

    public long OffsetForTimestamp(string topic, int partition, long timestamp)
    {
        long offset = ListOffsets(topic, [partition], CKA.OffsetSpec.ForTimestamp(timestamp))[partition];
        // Kafka answers -1 when no record is that late: such a reset goes to the end of the log.
        return offset >= 0 ? offset : ListOffsets(topic, [partition], CKA.OffsetSpec.Latest())[partition];
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_admin.IsValueCreated) _admin.Value.Dispose();
    }
}

/// <summary>What DescribeCluster says about a remote cluster.</summary>
public sealed record RemoteClusterDescription(string ClusterId, int ControllerId, IReadOnlyList<BrokerMetadata> Brokers);
