using PSKafka.Engine.Config;
using CKA = Confluent.Kafka.Admin;

namespace PSKafka.Client;

/// <summary>Broker settings through the admin client: DescribeConfigs and IncrementalAlterConfigs of broker resources.</summary>
public sealed partial class RemoteClient
{
    public IReadOnlyList<BrokerConfigEntry> DescribeBrokerConfigs(int brokerId)
    {
        var resource = BrokerResource(brokerId);
        string what = $"describing the configs of broker {brokerId}";
        List<CKA.DescribeConfigsResult> results;
        try
        {
            results = Call(what, () => Admin.DescribeConfigsAsync([resource], new CKA.DescribeConfigsOptions { RequestTimeout = Timeout }).GetAwaiter().GetResult());
        }
        catch (CKA.DescribeConfigsException e)
        {
            throw Fail(e.Results[0].Error, what, e);
        }
        return results[0].Entries.Values
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .Select(e => new BrokerConfigEntry(e.Name, e.IsSensitive ? RemoteConnection.Mask : e.Value, SourceName(e.Source), e.IsReadOnly, e.IsSensitive,
                // DescribeConfigs' type is not in Confluent's result; the names PSKafka knows have Kafka's types.
                ConfigDefinitions.TryGetBroker(e.Name, out var def) ? def.Type.ToString().ToUpperInvariant() : "",
                e.Synonyms?.LastOrDefault(s => s.Source == CKA.ConfigSource.DefaultConfig)?.Value))
            .ToList();
    }

    /// <summary>
    /// librdkafka sends a broker resource to that broker and cannot name the cluster-wide default (""), so without a
    /// broker id every broker gets the change as its own override: checked on all of them first (validate only), then made.
    /// </summary>
    public void AlterBrokerConfigs(int? brokerId, IReadOnlyDictionary<string, string?> changes)
    {
        var brokers = brokerId is { } one ? [one] : GetMetadata().Brokers.Select(b => b.Id).Order().ToList();
        var entries = changes.Select(c => new CKA.ConfigEntry
        {
            Name = c.Key,
            Value = c.Value,
            IncrementalOperation = c.Value is null ? CKA.AlterConfigOpType.Delete : CKA.AlterConfigOpType.Set,
        }).ToList();
        foreach (bool validateOnly in brokers.Count > 1 ? new[] { true, false } : [false])
            foreach (var id in brokers)
            {
                var resource = BrokerResource(id);
                string what = $"changing the configs of broker {id}";
                try
                {
                    Call(what, () => Admin.IncrementalAlterConfigsAsync(new Dictionary<CKA.ConfigResource, List<CKA.ConfigEntry>> { [resource] = entries },
                        new CKA.IncrementalAlterConfigsOptions { RequestTimeout = Timeout, ValidateOnly = validateOnly }).GetAwaiter().GetResult());
                }
                catch (CKA.IncrementalAlterConfigsException e) when (e.Results[0].Error.Code == Confluent.Kafka.ErrorCode.InvalidRequest)
                {
                    // Kafka refuses a bad broker setting with INVALID_REQUEST where it means INVALID_CONFIG (KAFKA-13609):
                    // the same ErrorId as in-process.
                    throw new Engine.KafkaException(Engine.ErrorCode.InvalidConfig, $"Changing the configs of broker {id} failed: {e.Results[0].Error.Reason}", e);
                }
                catch (CKA.IncrementalAlterConfigsException e)
                {
                    throw Fail(e.Results[0].Error, what, e);
                }
            }
    }

    /// <summary>A broker of the cluster as a config resource; an id the cluster does not list is BrokerNotFound at once, not a timeout.</summary>
    private CKA.ConfigResource BrokerResource(int brokerId)
    {
        if (!GetMetadata().Brokers.Any(b => b.Id == brokerId))
            throw new BrokerNotFoundException($"Broker {brokerId} is not a broker of the cluster at {Connection.BootstrapServers}.");
        return new CKA.ConfigResource { Type = CKA.ResourceType.Broker, Name = brokerId.ToString(System.Globalization.CultureInfo.InvariantCulture) };
    }
}
