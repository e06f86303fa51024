using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Config;
using PSKafka.Engine.Protocol.Messages;

namespace PSKafka.Engine.Protocol;

// Topic administration, configs and elections: CreateTopics, DeleteTopics, CreatePartitions, ElectLeaders,
// AlterConfigs, IncrementalAlterConfigs, DescribeConfigs.
public sealed partial class BrokerKafkaApi
{
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
                        Name = t.Name,
                        ErrorCode = (short)ErrorCode.InvalidRequest,
                        ErrorMessage = $"Create topics request from client contains a duplicate topic name: {t.Name}",
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
                        Name = t.Name,
                        ErrorCode = (short)ErrorCode.InvalidConfig,
                        ErrorMessage = $"Null value not supported for topic configs: {nullConfig}",
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
                        ? new TopicSettings(asked.First(a => a.Name == r.Name).Configs!, _broker.Cluster.BrokerConfigs.ClusterWide)
                        : _broker.Cluster.Controller.SettingsFor(r.Name);
                    result.Configs = settings.Values.Select(kv => new CreateTopicsResponse.CreatableTopicConfigs
                    {
                        Name = kv.Key,
                        Value = kv.Value.Value,
                        ReadOnly = false,
                        ConfigSource = WireSource(kv.Value.Source),
                        IsSensitive = false,
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
                        Name = t.Name,
                        ErrorCode = (short)ErrorCode.InvalidReplicaAssignment,
                        ErrorMessage = "Manual replica assignment of new partitions is not supported by PSKafka; leave assignments out.",
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
    /// kafka-leader-election.sh: the broker's ElectLeaders. As in Kafka, a request for every partition (null) leaves out
    /// the partitions that already have the leader asked for.
    /// </summary>
    public ValueTask<ElectLeadersResponse> ElectLeadersAsync(ElectLeadersRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() =>
        {
            var wanted = request.TopicPartitions?.SelectMany(t => t.Partitions.Select(p => new TopicPartition(t.Topic, p))).ToList();
            var results = _broker.ElectLeaders((ElectionType)request.ElectionType, wanted);
            var response = new ElectLeadersResponse();
            foreach (var topic in results.GroupBy(r => r.Partition.Topic, StringComparer.Ordinal))
                response.ReplicaElectionResults.Add(new ElectLeadersResponse.ReplicaElectionResult
                {
                    Topic = topic.Key,
                    PartitionResult = topic
                        .Where(r => wanted is not null || r.Error != ErrorCode.ElectionNotNeeded)
                        .Select(r => new ElectLeadersResponse.PartitionResult
                        {
                            PartitionId = r.Partition.Partition,
                            ErrorCode = (short)r.Error,
                            ErrorMessage = r.Error == ErrorCode.None ? null : r.ErrorMessage,
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
                    ResourceType = resource.ResourceType,
                    ResourceName = resource.ResourceName,
                    ErrorCode = (short)code,
                    ErrorMessage = message,
                });
            }
            return response;
        }, (code, message) => new AlterConfigsResponse
        {
            Responses = request.Resources.Select(r => new AlterConfigsResponse.AlterConfigsResourceResponse
            {
                ResourceType = r.ResourceType,
                ResourceName = r.ResourceName,
                ErrorCode = (short)code,
                ErrorMessage = message,
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
                    ResourceType = resource.ResourceType,
                    ResourceName = resource.ResourceName,
                    ErrorCode = (short)code,
                    ErrorMessage = message,
                });
            }
            return response;
        }, (code, message) => new IncrementalAlterConfigsResponse
        {
            Responses = request.Resources.Select(r => new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse
            {
                ResourceType = r.ResourceType,
                ResourceName = r.ResourceName,
                ErrorCode = (short)code,
                ErrorMessage = message,
            }).ToList(),
        });

    // Marks a SET with a null value, which Kafka refuses like a null in AlterConfigs (a DELETE is a real null).
    private static readonly string NullSet = new('\0', 1);

    /// <summary>
    /// One resource of AlterConfigs or IncrementalAlterConfigs, with Kafka's checks in Kafka's order: the resource
    /// named once, each config once, no null values, then the resource's own rules (Broker.AlterConfigs); null values
    /// in <paramref name="configs"/> remove. Returns the resource's error code and message.
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
            _broker.AlterConfigs(new ConfigResource((ConfigResourceType)type, name), changes, ConfigAccess.KafkaApi, replace, validateOnly);
            return (ErrorCode.None, null);
        }
        catch (KafkaException e)
        {
            return (e.Code, e.Message);
        }
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
                    ResourceType = resource.ResourceType,
                    ResourceName = resource.ResourceName,
                    ErrorMessage = null,
                };
                response.Results.Add(result);
                try
                {
                    var entries = _broker.DescribeConfigs(new ConfigResource((ConfigResourceType)resource.ResourceType, resource.ResourceName));
                    // Null or empty: every config.
                    var keys = resource.ConfigurationKeys is { Count: > 0 } asked ? asked.ToHashSet(StringComparer.Ordinal) : null;
                    foreach (var e in entries.Where(e => keys is null || keys.Contains(e.Name)))
                        result.Configs.Add(new DescribeConfigsResponse.DescribeConfigsResourceResult
                        {
                            Name = e.Name,
                            Value = e.Value,
                            ReadOnly = e.IsReadOnly,
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
                ResourceType = r.ResourceType,
                ResourceName = r.ResourceName,
                ErrorCode = (short)code,
                ErrorMessage = message,
            }).ToList(),
        });

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
