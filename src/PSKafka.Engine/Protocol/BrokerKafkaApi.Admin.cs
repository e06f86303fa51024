using System.Globalization;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Config;
using PSKafka.Engine.Protocol.Messages;
using EngineApi = PSKafka.Engine.Api;

namespace PSKafka.Engine.Protocol;

// Topic administration and configs: CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs.
public sealed partial class BrokerKafkaApi
{
    // Kafka's resource types (org.apache.kafka.common.config.ConfigResource.Type).
    private const sbyte TopicResource = 2, BrokerResource = 4;

    // ---------------- CreateTopics (19) ----------------

    public ValueTask<CreateTopicsResponse> CreateTopicsAsync(CreateTopicsRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() =>
        {
            var response = new CreateTopicsResponse();
            var asked = new List<EngineApi.CreateTopicRequest>();
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
                asked.Add(new EngineApi.CreateTopicRequest(t.Name, t.NumPartitions, t.ReplicationFactor, configs, assignments));
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

    // ---------------- DescribeConfigs (32) ----------------

    // ---------------- IncrementalAlterConfigs (44) ----------------

    private const sbyte SetConfig = 0, DeleteConfig = 1;

    /// <summary>
    /// kafka-configs.sh --alter: SET and DELETE of topic configs, and of the cluster-wide broker default (an empty
    /// broker name). APPEND/SUBTRACT and per-broker overrides are refused per resource with INVALID_REQUEST.
    /// </summary>
    public ValueTask<IncrementalAlterConfigsResponse> IncrementalAlterConfigsAsync(IncrementalAlterConfigsRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() =>
        {
            var response = new IncrementalAlterConfigsResponse();
            foreach (var resource in request.Resources)
            {
                var result = new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse
                {
                    ResourceType = resource.ResourceType, ResourceName = resource.ResourceName, ErrorMessage = null,
                };
                response.Responses.Add(result);
                try
                {
                    if (resource.Configs.FirstOrDefault(c => c.ConfigOperation is not (SetConfig or DeleteConfig)) is { } op)
                        throw new KafkaException(ErrorCode.InvalidRequest, $"Config operation {op.ConfigOperation} (APPEND/SUBTRACT) on '{op.Name}' is not supported; use SET with the whole list.");
                    var changes = resource.Configs.ToDictionary(c => c.Name, c => c.ConfigOperation == DeleteConfig ? null : c.Value, StringComparer.Ordinal);
                    switch (resource.ResourceType)
                    {
                        case TopicResource:
                            if (request.ValidateOnly)
                            {
                                _broker.Cluster.Controller.SettingsFor(resource.ResourceName); // the topic must exist
                                ConfigDefinitions.ValidateTopicConfigs(changes.Where(c => c.Value is not null).ToDictionary(c => c.Key, c => c.Value!));
                            }
                            else
                            {
                                _broker.Cluster.Controller.AlterTopicConfigs(resource.ResourceName, changes);
                            }
                            break;
                        case BrokerResource when resource.ResourceName.Length == 0:
                            foreach (var (name, value) in changes)
                            {
                                if (value is not null) ConfigDefinitions.ValidateBrokerConfig(name, value);
                                if (!request.ValidateOnly) _broker.Cluster.Controller.SetBrokerConfig(name, value);
                            }
                            break;
                        case BrokerResource:
                            throw new KafkaException(ErrorCode.InvalidRequest, "Per-broker config overrides are not supported; alter the cluster-wide default (an empty broker name).");
                        default:
                            throw new KafkaException(ErrorCode.InvalidRequest, $"Unsupported resource type {resource.ResourceType} for IncrementalAlterConfigs.");
                    }
                }
                catch (KafkaException e)
                {
                    result.ErrorCode = (short)e.Code;
                    result.ErrorMessage = e.Message;
                }
            }
            return response;
        }, (code, message) => new IncrementalAlterConfigsResponse
        {
            Responses = request.Resources.Select(r => new IncrementalAlterConfigsResponse.AlterConfigsResourceResponse
            {
                ResourceType = r.ResourceType, ResourceName = r.ResourceName, ErrorCode = (short)code, ErrorMessage = message,
            }).ToList(),
        });

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
                        _ => throw new KafkaException(ErrorCode.InvalidRequest, $"Unsupported resource type {resource.ResourceType} for DescribeConfigs."),
                    };
                    var keys = resource.ConfigurationKeys?.ToHashSet(StringComparer.Ordinal);
                    foreach (var e in entries.Where(e => keys is null || keys.Contains(e.Name)))
                        result.Configs.Add(new DescribeConfigsResponse.DescribeConfigsResourceResult
                        {
                            Name = e.Name,
                            Value = e.Value,
                            ReadOnly = false,
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

    private sealed record ConfigEntry(ConfigDefinition Definition, string Name, string? Value, ConfigSource Source, IReadOnlyList<(string Name, string? Value, ConfigSource Source)> Synonyms);

    /// <summary>
    /// A topic's configs as Kafka describes them: the effective value and its source, and the synonyms in order of
    /// precedence: the topic override, the cluster-wide broker setting, then the broker default.
    /// </summary>
    private IEnumerable<ConfigEntry> TopicConfigEntries(string topic)
    {
        var controller = _broker.Cluster.Controller;
        var settings = controller.SettingsFor(topic); // UNKNOWN_TOPIC_OR_PARTITION for a topic that does not exist
        var brokerConfigs = controller.BrokerConfigs;
        foreach (var def in ConfigDefinitions.Topic)
        {
            var (value, source) = settings.Values[def.Name];
            var synonyms = new List<(string, string?, ConfigSource)>();
            if (source == ConfigSource.TopicConfig) synonyms.Add((def.Name, value, ConfigSource.TopicConfig));
            if (def.BrokerSynonym is { } brokerName)
            {
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

    /// <summary>Broker configs: PSKafka's broker settings are cluster-wide, so every broker reports the same values.</summary>
    private IEnumerable<ConfigEntry> BrokerConfigEntries(string name)
    {
        // An empty name is the cluster-wide default resource; otherwise a broker id of this cluster.
        if (name.Length > 0 && (!int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out int id) || _broker.Cluster.GetBroker(id) is null))
            throw new KafkaException(ErrorCode.InvalidRequest, $"Broker '{name}' is not a broker of this cluster.");
        var set = _broker.Cluster.Controller.BrokerConfigs;
        foreach (var def in ConfigDefinitions.Broker)
        {
            bool overridden = set.TryGetValue(def.Name, out var value);
            var source = overridden ? ConfigSource.DynamicBrokerConfig : ConfigSource.Default;
            var synonyms = new List<(string, string?, ConfigSource)>();
            if (overridden) synonyms.Add((def.Name, value, source));
            if (def.Default is not null) synonyms.Add((def.Name, def.Default, ConfigSource.Default));
            yield return new ConfigEntry(def, def.Name, overridden ? value : def.Default, source, synonyms);
        }
    }

    /// <summary>
    /// Kafka's DescribeConfigsResponse.ConfigSource numbers. PSKafka's broker settings apply to the whole cluster,
    /// which is Kafka's cluster-wide dynamic default (DYNAMIC_DEFAULT_BROKER_CONFIG).
    /// </summary>
    private static sbyte WireSource(ConfigSource source) => source switch
    {
        ConfigSource.TopicConfig => 1,
        ConfigSource.DynamicBrokerConfig => 3,
        ConfigSource.StaticBrokerConfig => 4,
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
