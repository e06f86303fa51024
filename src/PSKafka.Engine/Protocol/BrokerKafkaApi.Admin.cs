using System.Globalization;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Config;
using PSKafka.Engine.Logging;
using PSKafka.Engine.Protocol.Messages;

namespace PSKafka.Engine.Protocol;

// Topic administration, configs and elections: CreateTopics, DeleteTopics, CreatePartitions, ElectLeaders,
// AlterConfigs, IncrementalAlterConfigs, DescribeConfigs.
public sealed partial class BrokerKafkaApi
{
    // Kafka's resource types (org.apache.kafka.common.config.ConfigResource.Type).
    private const sbyte TopicResource = 2, BrokerResource = 4, BrokerLoggerResource = 8;

    // ---------------- CreateTopics (19) ----------------

    public ValueTask<CreateTopicsResponse> CreateTopicsAsync(CreateTopicsRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() =>
        {
            var response = new CreateTopicsResponse();
            var asked = new List<CreateTopicParams>();
            foreach (var t in request.Topics)
            {
                // A topic named twice in one request is refused for both, as Kafka does.
                if (request.Topics.Count(x => x.Name == t.Name) > 1)
                {
                    response.Topics.Add(new CreateTopicsResponse.CreatableTopicResult
                    {
                        Name = t.Name, ErrorCode = (short)ErrorCode.InvalidRequest, ErrorMessage = $"Create topics request from client contains a duplicate topic name: {t.Name}",
                    });
                    continue;
                }
                var configs = new Dictionary<string, string>(StringComparer.Ordinal);
                string? nullConfig = null;
                foreach (var c in t.Configs)
                {
                    if (c.Value is null) nullConfig ??= c.Name;
                    else configs[c.Name] = c.Value;
                }
                if (nullConfig is not null)
                {
                    response.Topics.Add(new CreateTopicsResponse.CreatableTopicResult
                    {
                        Name = t.Name, ErrorCode = (short)ErrorCode.InvalidConfig, ErrorMessage = $"Null value not supported for topic configs: {nullConfig}",
                    });
                    continue;
                }
                var assignments = t.Assignments.Count == 0 ? null
                    : t.Assignments.ToDictionary(a => a.PartitionIndex, a => (IReadOnlyList<int>)a.BrokerIds);
                asked.Add(new CreateTopicParams(t.Name, t.NumPartitions, t.ReplicationFactor, configs, assignments));
            }
            foreach (var r in _broker.CreateTopics(asked, request.validateOnly))
            {
                var result = new CreateTopicsResponse.CreatableTopicResult
                {
                    Name = r.Name,
                    ErrorCode = (short)r.Error,
                    ErrorMessage = r.ErrorMessage,
                    TopicId = Uuid.FromGuid(r.TopicId),
                    NumPartitions = r.Error == ErrorCode.None ? r.Partitions : -1,
                    ReplicationFactor = r.Error == ErrorCode.None ? r.ReplicationFactor : (short)-1,
                    Configs = null,
                };
                if (r.Error == ErrorCode.None && context.ApiVersion >= 5)
                {
                    // v5+: the new topic's effective configs, so a client need not ask with DescribeConfigs.
                    var settings = request.validateOnly
                        ? new TopicSettings(asked.First(a => a.Name == r.Name).Configs!, _broker.Cluster.Controller.BrokerConfigs)
                        : _broker.Cluster.Controller.SettingsFor(r.Name);
                    result.Configs = settings.Values.Select(kv => new CreateTopicsResponse.CreatableTopicConfigs
                    {
                        Name = kv.Key, Value = kv.Value.Value, ReadOnly = false, ConfigSource = WireSource(kv.Value.Source), IsSensitive = false,
                    }).ToList();
                }
                response.Topics.Add(result);
            }
            return response;
        }, (code, message) => new CreateTopicsResponse
        {
            Topics = request.Topics.Select(t => new CreateTopicsResponse.CreatableTopicResult { Name = t.Name, ErrorCode = (short)code, ErrorMessage = message, Configs = null }).ToList(),
        });

    // ---------------- DeleteTopics (20) ----------------

    public ValueTask<DeleteTopicsResponse> DeleteTopicsAsync(DeleteTopicsRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() => new DeleteTopicsResponse
        {
            Responses = _broker.DeleteTopics(request.TopicNames.Distinct(StringComparer.Ordinal).ToList())
                .Select(r => new DeleteTopicsResponse.DeletableTopicResult { Name = r.Name, ErrorCode = (short)r.Error, ErrorMessage = r.ErrorMessage })
                .ToList(),
        }, (code, message) => new DeleteTopicsResponse
        {
            Responses = request.TopicNames.Select(n => new DeleteTopicsResponse.DeletableTopicResult { Name = n, ErrorCode = (short)code, ErrorMessage = message }).ToList(),
        });

    // ---------------- CreatePartitions (37) ----------------

    public ValueTask<CreatePartitionsResponse> CreatePartitionsAsync(CreatePartitionsRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() =>
        {
            var response = new CreatePartitionsResponse();
            var asked = new List<(string, int)>();
            foreach (var t in request.Topics)
            {
                if (t.Assignments is { Count: > 0 })
                {
                    // Placement of new partitions is always the controller's (like Kafka's default assignment).
                    response.Results.Add(new CreatePartitionsResponse.CreatePartitionsTopicResult
                    {
                        Name = t.Name, ErrorCode = (short)ErrorCode.InvalidReplicaAssignment, ErrorMessage = "Manual replica assignment of new partitions is not supported by PSKafka; leave assignments out.",
                    });
                    continue;
                }
                asked.Add((t.Name, t.Count));
            }
            foreach (var r in _broker.CreatePartitions(asked, request.ValidateOnly))
                response.Results.Add(new CreatePartitionsResponse.CreatePartitionsTopicResult { Name = r.Name, ErrorCode = (short)r.Error, ErrorMessage = r.ErrorMessage });
            return response;
        }, (code, message) => new CreatePartitionsResponse
        {
            Results = request.Topics.Select(t => new CreatePartitionsResponse.CreatePartitionsTopicResult { Name = t.Name, ErrorCode = (short)code, ErrorMessage = message }).ToList(),
        });

    // ---------------- ElectLeaders (43) ----------------

    /// <summary>
    /// kafka-leader-election.sh: the controller's election per partition (Controller.ElectLeaders). As in Kafka, a
    /// request for every partition (null) leaves out the partitions that already have the leader asked for.
    /// </summary>
    public ValueTask<ElectLeadersResponse> ElectLeadersAsync(ElectLeadersRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() =>
        {
            if (!Enum.IsDefined((ElectionType)request.ElectionType))
                throw new KafkaException(ErrorCode.InvalidRequest, $"Unknown election type {request.ElectionType}");
            var wanted = request.TopicPartitions?.SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Topic, p))).ToList();
            var results = _broker.Cluster.Controller.ElectLeaders((ElectionType)request.ElectionType, wanted);
            var response = new ElectLeadersResponse();
            foreach (var topic in results.GroupBy(r => r.Partition.Topic, StringComparer.Ordinal))
                response.ReplicaElectionResults.Add(new ElectLeadersResponse.ReplicaElectionResult
                {
                    Topic = topic.Key,
                    PartitionResult = topic
                        .Where(r => wanted is not null || r.Error != ErrorCode.ElectionNotNeeded)
                        .Select(r => new ElectLeadersResponse.PartitionResult
                        {
                            PartitionId = r.Partition.Partition, ErrorCode = (short)r.Error, ErrorMessage = r.Error == ErrorCode.None ? null : r.ErrorMessage,
                        }).ToList(),
                });
            return response;
        }, (code, message) => new ElectLeadersResponse
        {
            ErrorCode = context.ApiVersion >= 1 ? (short)code : (short)0, // v0 has no top-level error
            ReplicaElectionResults = (request.TopicPartitions ?? []).Select(t => new ElectLeadersResponse.ReplicaElectionResult
            {
                Topic = t.Topic,
                PartitionResult = t.Partitions.Select(p => new ElectLeadersResponse.PartitionResult { PartitionId = p, ErrorCode = (short)code, ErrorMessage = message }).ToList(),
            }).ToList(),
        });

    // ---------------- AlterConfigs (33) and IncrementalAlterConfigs (44) ----------------

    private const sbyte SetConfig = 0, DeleteConfig = 1;

    /// <summary>
    /// The legacy whole-set AlterConfigs (kafka-python's alter_configs): the configs given replace every dynamic
    /// config of the resource; the ones not named go back to their defaults.
    /// </summary>
    public ValueTask<AlterConfigsResponse> AlterConfigsAsync(AlterConfigsRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() =>
        {
            var response = new AlterConfigsResponse();
            foreach (var resource in request.Resources)
            {
                var (code, message) = AlterResource(request.Resources.Count(r => r.ResourceType == resource.ResourceType && r.ResourceName == resource.ResourceName),
                    resource.ResourceType, resource.ResourceName, resource.Configs.Select(c => (c.Name, c.Value)).ToList(), replace: true, request.ValidateOnly);
                response.Responses.Add(new AlterConfigsResponse.AlterConfigsResourceResponse
                {
                    ResourceType = resource.ResourceType, ResourceName = resource.ResourceName, ErrorCode = (short)code, ErrorMessage = message,
                });
            }
            return response;
        }, (code, message) => new AlterConfigsResponse
        {
            Responses = request.Resources.Select(r => new AlterConfigsResponse.AlterConfigsResourceResponse
            {
                ResourceType = r.ResourceType, ResourceName = r.ResourceName, ErrorCode = (short)code, ErrorMessage = message,
            }).ToList(),
        });

    /// <summary>
    /// kafka-configs.sh --alter: SET and DELETE of topic configs and of broker configs, cluster-wide (an empty broker
    /// name) or for the broker that answers. APPEND/SUBTRACT are refused per resource with INVALID_REQUEST.
    /// </summary>
    public ValueTask<IncrementalAlterConfigsResponse> IncrementalAlterConfigsAsync(IncrementalAlterConfigsRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() =>
        {
            var response = new IncrementalAlterConfigsResponse();
            foreach (var resource in request.Resources)
            {
                ErrorCode code;
                string? message;
                if (resource.Configs.FirstOrDefault(c => c.ConfigOperation is not (SetConfig or DeleteConfig)) is { } op)
                    (code, message) = (ErrorCode.InvalidRequest, $"Config operation {op.ConfigOperation} (APPEND/SUBTRACT) on '{op.Name}' is not supported; use SET with the whole list.");
                else
                    (code, message) = AlterResource(request.Resources.Count(r => r.ResourceType == resource.ResourceType && r.ResourceName == resource.ResourceName),
                        resource.ResourceType, resource.ResourceName,
                        resource.Configs.Select(c => (c.Name, c.ConfigOperation == DeleteConfig ? null : c.Value ?? NullSet)).ToList(), replace: false, request.ValidateOnly);
                response.Responses.Add(new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse
                {
                    ResourceType = resource.ResourceType, ResourceName = resource.ResourceName, ErrorCode = (short)code, ErrorMessage = message,
                });
            }
            return response;
        }, (code, message) => new IncrementalAlterConfigsResponse
        {
            Responses = request.Resources.Select(r => new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse
            {
                ResourceType = r.ResourceType, ResourceName = r.ResourceName, ErrorCode = (short)code, ErrorMessage = message,
            }).ToList(),
        });

    // Marks a SET with a null value, which Kafka refuses like a null in AlterConfigs (a DELETE is a real null).
    private static readonly string NullSet = new('\0', 1);

    /// <summary>
    /// One resource of AlterConfigs or IncrementalAlterConfigs, with Kafka's checks in Kafka's order: the resource
    /// named once, each config once, no null values, then the resource's own rules; null values in
    /// <paramref name="configs"/> remove. Returns the resource's error code and message.
    /// </summary>
    private (ErrorCode, string?) AlterResource(int timesNamed, sbyte type, string name, List<(string Name, string? Value)> configs, bool replace, bool validateOnly)
    {
        try
        {
            if (timesNamed > 1) throw new KafkaException(ErrorCode.InvalidRequest, "Each resource must appear at most once.");
            if (configs.Select(c => c.Name).Distinct(StringComparer.Ordinal).Count() != configs.Count)
                throw new KafkaException(ErrorCode.InvalidRequest, "Error due to duplicate config keys");
            var nulls = configs.Where(c => replace ? c.Value is null : ReferenceEquals(c.Value, NullSet)).Select(c => c.Name).ToList();
            if (nulls.Count > 0) throw new KafkaException(ErrorCode.InvalidRequest, $"Null value not supported for : {string.Join(", ", nulls)}");
            var changes = configs.ToDictionary(c => c.Name, c => c.Value, StringComparer.Ordinal);
            var controller = _broker.Cluster.Controller;
            switch (type)
            {
                case TopicResource:
                    controller.SettingsFor(name); // UNKNOWN_TOPIC_OR_PARTITION first
                    ConfigDefinitions.ValidateTopicConfigs(changes.Where(c => c.Value is not null).ToDictionary(c => c.Key, c => c.Value!));
                    foreach (var removed in changes.Where(c => c.Value is null && !ConfigDefinitions.TryGetTopic(c.Key, out _)))
                        throw new KafkaException(ErrorCode.InvalidConfig, $"Unknown topic config name: {removed.Key}.");
                    if (!validateOnly) controller.AlterTopicConfigs(name, changes, replace);
                    break;
                case BrokerResource:
                    int? broker = BrokerResourceId(name);
                    foreach (var (key, value) in changes) ConfigDefinitions.ValidateDynamicBrokerConfig(key, value);
                    if (!validateOnly) controller.AlterBrokerConfigs(broker, changes, replaceDynamic: replace);
                    break;
                case BrokerLoggerResource:
                    // kafka-configs.sh --entity-type broker-loggers: SET a level, DELETE back to the default. The brokers
                    // of a cluster share one set of loggers, so a change applies to all of them, as Set-BrokerLogLevel does.
                    if (replace) throw new KafkaException(ErrorCode.InvalidRequest, "AlterConfigs does not support the BROKER_LOGGER resource type; use IncrementalAlterConfigs.");
                    if (BrokerResourceId(name) is null) throw new KafkaException(ErrorCode.InvalidRequest, "A BROKER_LOGGER resource names a broker id.");
                    var levels = _broker.Logging.Levels;
                    var parsed = changes.Select(c => (c.Key, Level: c.Value is null ? (BrokerLogLevel?)null : BrokerLogEntry.ParseLevel(c.Value))).ToList();
                    foreach (var (logger, _) in parsed) levels.Get(logger); // an unknown logger fails before any level changes
                    if (!validateOnly) foreach (var (logger, level) in parsed) levels.Set(logger, level);
                    break;
                default:
                    throw new KafkaException(ErrorCode.InvalidRequest, $"Unknown resource type {type}");
            }
            return (ErrorCode.None, null);
        }
        catch (KafkaException e)
        {
            return (e.Code, e.Message);
        }
    }

    /// <summary>
    /// A broker resource names the cluster-wide default ("", null here) or the broker that received the request, as in
    /// Kafka, which answers any other id with INVALID_REQUEST (clients send a broker's resource to that broker).
    /// </summary>
    private int? BrokerResourceId(string name)
    {
        if (name.Length == 0) return null;
        if (!int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            throw new KafkaException(ErrorCode.InvalidRequest, $"Node id must be an integer, but it is: {name}");
        if (id != _broker.Id)
            throw new KafkaException(ErrorCode.InvalidRequest, $"Unexpected broker id, expected {_broker.Id} or empty string, but received {name}");
        return id;
    }

    // ---------------- DescribeConfigs (32) ----------------

    public ValueTask<DescribeConfigsResponse> DescribeConfigsAsync(DescribeConfigsRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() =>
        {
            var response = new DescribeConfigsResponse();
            foreach (var resource in request.Resources)
            {
                var result = new DescribeConfigsResponse.DescribeConfigsResult
                {
                    ResourceType = resource.ResourceType, ResourceName = resource.ResourceName, ErrorMessage = null,
                };
                response.Results.Add(result);
                try
                {
                    var entries = resource.ResourceType switch
                    {
                        TopicResource => TopicConfigEntries(resource.ResourceName),
                        BrokerResource => BrokerConfigEntries(resource.ResourceName),
                        BrokerLoggerResource => BrokerLoggerEntries(resource.ResourceName),
                        _ => throw new KafkaException(ErrorCode.InvalidRequest, $"Unsupported resource type: {resource.ResourceType}"),
                    };
                    // Null or empty: every config.
                    var keys = resource.ConfigurationKeys is { Count: > 0 } asked ? asked.ToHashSet(StringComparer.Ordinal) : null;
                    foreach (var e in entries.Where(e => keys is null || keys.Contains(e.Name)))
                        result.Configs.Add(new DescribeConfigsResponse.DescribeConfigsResourceResult
                        {
                            Name = e.Name,
                            Value = e.Value,
                            ReadOnly = e.ReadOnly,
                            IsDefault = context.ApiVersion == 0 && e.Source == ConfigSource.Default, // v1+ says it with ConfigSource
                            ConfigSource = WireSource(e.Source),
                            IsSensitive = false,
                            Synonyms = request.IncludeSynonyms ? e.Synonyms.Select(s => new DescribeConfigsResponse.DescribeConfigsSynonym { Name = s.Name, Value = s.Value, Source = WireSource(s.Source) }).ToList() : [],
                            ConfigType = WireType(e.Definition.Type),
                            Documentation = request.IncludeDocumentation && e.Definition.Documentation.Length > 0 ? e.Definition.Documentation : null,
                        });
                }
                catch (KafkaException e)
                {
                    result.ErrorCode = (short)e.Code;
                    result.ErrorMessage = e.Message;
                }
            }
            return response;
        }, (code, message) => new DescribeConfigsResponse
        {
            Results = request.Resources.Select(r => new DescribeConfigsResponse.DescribeConfigsResult
            {
                ResourceType = r.ResourceType, ResourceName = r.ResourceName, ErrorCode = (short)code, ErrorMessage = message,
            }).ToList(),
        });

    private sealed record ConfigEntry(ConfigDefinition Definition, string Name, string? Value, ConfigSource Source, IReadOnlyList<(string Name, string? Value, ConfigSource Source)> Synonyms, bool ReadOnly = false);

    /// <summary>
    /// A topic's configs as Kafka describes them: the effective value and its source, and the synonyms in order of
    /// precedence: the topic override, the cluster-wide broker setting, then the broker default.
    /// </summary>
    private IEnumerable<ConfigEntry> TopicConfigEntries(string topic)
    {
        var controller = _broker.Cluster.Controller;
        var settings = controller.SettingsFor(topic, _broker.Id); // UNKNOWN_TOPIC_OR_PARTITION for a topic that does not exist
        var brokerConfigs = controller.BrokerConfigs;
        var own = controller.BrokerOverrides(_broker.Id);
        foreach (var def in ConfigDefinitions.Topic)
        {
            var (value, source) = settings.Values[def.Name];
            var synonyms = new List<(string, string?, ConfigSource)>();
            if (source == ConfigSource.TopicConfig) synonyms.Add((def.Name, value, ConfigSource.TopicConfig));
            if (def.BrokerSynonym is { } brokerName)
            {
                if (own.TryGetValue(brokerName, out var mine)) synonyms.Add((brokerName, mine, ConfigSource.PerBrokerConfig));
                // log.retention.ms and log.roll.ms are unset by default and fall back to their *.hours settings.
                string? hours = brokerName switch { "log.retention.ms" => "log.retention.hours", "log.roll.ms" => "log.roll.hours", _ => null };
                if (brokerConfigs.TryGetValue(brokerName, out var b)) synonyms.Add((brokerName, b, ConfigSource.DynamicBrokerConfig));
                if (hours is not null && brokerConfigs.TryGetValue(hours, out var h)) synonyms.Add((hours, h, ConfigSource.DynamicBrokerConfig));
                if (hours is null) synonyms.Add((brokerName, def.Default, ConfigSource.Default));
                else if (ConfigDefinitions.TryGetBroker(hours, out var hoursDef)) synonyms.Add((hours, hoursDef.Default, ConfigSource.Default));
            }
            yield return new ConfigEntry(def, def.Name, value, source, synonyms);
        }
    }

    /// <summary>
    /// Broker configs as Kafka describes them: for "" the cluster-wide settings that are set (DYNAMIC_DEFAULT_BROKER_CONFIG);
    /// for this broker's id every setting with its synonyms in order of precedence (this broker's override, the
    /// cluster-wide setting, the default). Read-only is Kafka's: what AlterConfigs cannot change.
    /// </summary>
    private IEnumerable<ConfigEntry> BrokerConfigEntries(string name)
    {
        var controller = _broker.Cluster.Controller;
        var clusterWide = controller.BrokerConfigs;
        if (BrokerResourceId(name) is null)
        {
            foreach (var def in ConfigDefinitions.Broker.Where(d => clusterWide.ContainsKey(d.Name)))
            {
                var value = clusterWide[def.Name];
                yield return new ConfigEntry(def, def.Name, value, ConfigSource.DynamicBrokerConfig, [(def.Name, value, ConfigSource.DynamicBrokerConfig)], !def.Dynamic);
            }
            yield break;
        }
        var own = controller.BrokerOverrides(_broker.Id);
        foreach (var v in _broker.DescribeConfigs())
        {
            ConfigDefinitions.TryGetBroker(v.Name, out var def);
            var synonyms = new List<(string, string?, ConfigSource)>();
            if (v.Source == ConfigSource.StaticBrokerConfig) synonyms.Add((v.Name, v.Value, ConfigSource.StaticBrokerConfig));
            if (own.TryGetValue(v.Name, out var mine)) synonyms.Add((v.Name, mine, ConfigSource.PerBrokerConfig));
            if (clusterWide.TryGetValue(v.Name, out var all)) synonyms.Add((v.Name, all, ConfigSource.DynamicBrokerConfig));
            if (def.Default is not null) synonyms.Add((v.Name, def.Default, ConfigSource.Default));
            yield return new ConfigEntry(def, v.Name, v.Value, v.Source, synonyms, def.ReadOnly || !def.Dynamic);
        }
    }

    /// <summary>Every logger with its level, as Kafka describes a BROKER_LOGGER resource.</summary>
    private IEnumerable<ConfigEntry> BrokerLoggerEntries(string name)
    {
        if (BrokerResourceId(name) is null) throw new KafkaException(ErrorCode.InvalidRequest, "A BROKER_LOGGER resource names a broker id.");
        var levels = _broker.Logging.Levels;
        foreach (var logger in KafkaLoggers.All)
        {
            var level = BrokerLogEntry.LevelName(levels.Get(logger));
            yield return new ConfigEntry(new ConfigDefinition(logger, ConfigType.String, null), logger, level, ConfigSource.DynamicBrokerLoggerConfig, []);
        }
    }

    /// <summary>
    /// Kafka's DescribeConfigsResponse.ConfigSource numbers. PSKafka's broker settings apply to the whole cluster,
    /// which is Kafka's cluster-wide dynamic default (DYNAMIC_DEFAULT_BROKER_CONFIG).
    /// </summary>
    private static sbyte WireSource(ConfigSource source) => source switch
    {
        ConfigSource.TopicConfig => 1,
        ConfigSource.PerBrokerConfig => 2,
        ConfigSource.DynamicBrokerConfig => 3,
        ConfigSource.StaticBrokerConfig => 4,
        ConfigSource.DynamicBrokerLoggerConfig => 6,
        _ => 5,
    };

    // Kafka's DescribeConfigsResponse.ConfigType numbers.
    private static sbyte WireType(ConfigType type) => type switch
    {
        ConfigType.Boolean => 1,
        ConfigType.String => 2,
        ConfigType.Int => 3,
        ConfigType.Long => 5,
        ConfigType.Double => 6,
        ConfigType.List => 7,
        _ => 0,
    };
}
