using System.Globalization;
using PSKafka.Engine.Metadata;

namespace PSKafka.Engine.Config;

/// <summary>
/// The brokers' settings, kept in the metadata store: the cluster-wide values (what Kafka reads from server.properties,
/// and its cluster-wide dynamic defaults) and each broker's dynamic overrides (kafka-configs.sh --entity-name N), as
/// Kafka's DynamicBrokerConfig keeps them. A broker's value is its override, else the cluster-wide value, else the default.
/// </summary>
public sealed class BrokerConfigStore
{
    private readonly MetadataStore _store;
    private readonly ClusterRecord _record;
    private readonly Lock _gate = new();

    internal BrokerConfigStore(MetadataStore store, ClusterRecord record)
    {
        _store = store;
        _record = record;
    }

    /// <summary>Raised after every change, outside the store's lock: topic settings follow broker settings.</summary>
    public event Action? Changed;

    /// <summary>The cluster-wide settings that are set.</summary>
    public IReadOnlyDictionary<string, string> ClusterWide
    {
        get { lock (_gate) return new Dictionary<string, string>(_record.BrokerConfigs); }
    }

    /// <summary>The dynamic overrides of one broker (kafka-configs.sh --entity-type brokers --entity-name N).</summary>
    public IReadOnlyDictionary<string, string> Overrides(int brokerId)
    {
        lock (_gate) return PerBroker(brokerId) is { } own ? new Dictionary<string, string>(own) : new Dictionary<string, string>();
    }

    /// <summary>The cluster-wide settings with defaults for the ones not set: what the controller goes by.</summary>
    public IConfigValues Cluster
    {
        get { lock (_gate) return ConfigValues.Layered(new Dictionary<string, string>(_record.BrokerConfigs)); }
    }

    /// <summary>The settings as broker <paramref name="brokerId"/> applies them: its own overrides first.</summary>
    public IConfigValues For(int brokerId)
    {
        lock (_gate)
            return ConfigValues.Layered(PerBroker(brokerId) is { } own ? new Dictionary<string, string>(own) : null,
                new Dictionary<string, string>(_record.BrokerConfigs));
    }

    /// <summary>A cluster-wide setting, else its default ("" when it has none).</summary>
    public string Get(string name)
    {
        if (!ConfigDefinitions.TryGetBroker(name, out _))
            throw new KafkaException(ErrorCode.InvalidConfig, $"Unknown broker config name: {name}.");
        return Cluster.Get(name) ?? "";
    }

    /// <summary>A setting as broker <paramref name="brokerId"/> sees it: its own override, else the cluster-wide value, else the default.</summary>
    public string Get(string name, int brokerId)
    {
        if (!ConfigDefinitions.TryGetBroker(name, out _))
            throw new KafkaException(ErrorCode.InvalidConfig, $"Unknown broker config name: {name}.");
        return For(brokerId).Get(name) ?? "";
    }

    private Dictionary<string, string>? PerBroker(int brokerId) =>
        _record.PerBrokerConfigs.GetValueOrDefault(brokerId.ToString(CultureInfo.InvariantCulture));

    /// <summary>Sets (or with null, resets) a cluster-wide broker setting.</summary>
    public void Set(string name, string? value) => Alter(null, new Dictionary<string, string?> { [name] = value });

    /// <summary>
    /// Changes broker settings all at once or not at all: cluster-wide (<paramref name="brokerId"/> null; any setting
    /// but the ones fixed at start) or one broker's overrides (dynamic settings only, as in Kafka). Null values remove.
    /// With <paramref name="replaceDynamic"/> (legacy AlterConfigs) the dynamic settings not named are removed too;
    /// server.properties-like settings stay. Refusals are INVALID_CONFIG.
    /// </summary>
    public void Alter(int? brokerId, IReadOnlyDictionary<string, string?> changes, bool replaceDynamic = false, bool validateOnly = false)
    {
        lock (_gate)
        {
            var current = brokerId is { } id ? PerBroker(id) ?? [] : _record.BrokerConfigs;
            var next = new Dictionary<string, string>(current);
            if (replaceDynamic)
                foreach (var name in current.Keys.Where(n => ConfigDefinitions.TryGetBroker(n, out var d) && d.Dynamic && !changes.ContainsKey(n)))
                    next.Remove(name);
            foreach (var (name, value) in changes)
            {
                if (!ConfigDefinitions.TryGetBroker(name, out var def))
                    throw new KafkaException(ErrorCode.InvalidConfig, $"Unknown broker config name: {name}.");
                if (brokerId is not null && !def.Dynamic)
                    throw new KafkaException(ErrorCode.InvalidConfig, $"Cannot update these configs dynamically: {name} (per-broker overrides are for Kafka's dynamic broker configs; set it cluster-wide).");
                if (value is null && def.ReadOnly)
                    throw new KafkaException(ErrorCode.InvalidConfig, $"Cannot update these configs dynamically: {name} (read-only; it is fixed when the broker starts).");
                if (value is null) next.Remove(name);
                else next[name] = ConfigDefinitions.ValidateBrokerConfig(name, value);
            }
            if (validateOnly) return;
            if (brokerId is { } broker)
            {
                var key = broker.ToString(CultureInfo.InvariantCulture);
                if (next.Count == 0) _record.PerBrokerConfigs.Remove(key);
                else _record.PerBrokerConfigs[key] = next;
            }
            else
            {
                _record.BrokerConfigs = next;
            }
            _store.SaveCluster(_record);
        }
        Changed?.Invoke();
    }
}
