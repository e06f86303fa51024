using System.Collections;
using System.Globalization;
using System.Management.Automation;
using PSKafka.Cmdlets.Infrastructure;
using PSKafka.Cmdlets.Output;
using PSKafka.Engine;
using PSKafka.Engine.Cluster;

namespace PSKafka.Cmdlets.Commands;

internal static class ConfigValues
{
    /// <summary>A PowerShell value as Kafka writes it: booleans lower case, numbers invariant, lists comma-separated.</summary>
    public static string ToKafka(object? value)
    {
        value = value is PSObject ps ? ps.BaseObject : value;
        return value switch
        {
            null => throw new KafkaException(ErrorCode.InvalidConfig, "A config value cannot be null; use -Remove (topics) or -Reset (brokers) to go back to the default."),
            bool b => b ? "true" : "false",
            string s => s,
            IEnumerable list => string.Join(",", list.Cast<object?>().Select(ToKafka)),
            _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
        };
    }

    public static IEnumerable<T> Matching<T>(IEnumerable<T> items, Func<T, string> name, string[]? patterns) =>
        patterns is null ? items : items.Where(i => patterns.Any(p => new WildcardPattern(p, WildcardOptions.IgnoreCase).IsMatch(name(i))));

    public static BrokerConfigInfo Info(int brokerId, Client.BrokerConfigEntry e) => new()
    {
        BrokerId = brokerId,
        Name = e.Name,
        Value = e.Value,
        Source = e.Source,
        IsReadOnly = e.IsReadOnly,
        IsSensitive = e.IsSensitive,
        Type = e.Type,
        Default = e.Default,
    };

    /// <summary>The broker to describe when none is named: the controller, else (a cluster that names none) the lowest id.</summary>
    public static int DefaultBroker(Client.IKafkaClient client)
    {
        var meta = client.GetMetadata();
        if (meta.ControllerId >= 0) return meta.ControllerId;
        return meta.Brokers.Count > 0 ? meta.Brokers.Min(b => b.Id)
            : throw new KafkaException(ErrorCode.BrokerNotAvailable, $"No broker is running at {client.Description}.");
    }
}

/// <summary>
/// Get-BrokerConfig: the broker settings (server.properties and dynamic configs) with Kafka's names, their values and
/// where each comes from, as kafka-configs.sh --describe --all --entity-type brokers --entity-name N shows them.
/// </summary>
[Cmdlet(VerbsCommon.Get, "BrokerConfig")]
[OutputType(typeof(BrokerConfigInfo))]
public sealed class GetBrokerConfigCommand : ClusterCmdlet
{
    [Parameter(Position = 0)]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    /// <summary>Which broker to describe (its read-only settings and its own overrides); default the controller.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Id")]
    [ValidateRange(0, int.MaxValue)]
    public int? BrokerId { get; set; }

    protected override void Process()
    {
        var client = Client;
        int id = BrokerId ?? ConfigValues.DefaultBroker(client);
        var all = client.DescribeBrokerConfigs(id);
        foreach (var e in ConfigValues.Matching(all, c => c.Name, Name)) WriteObject(ConfigValues.Info(id, e));
        if (Name is not null)
            foreach (var n in Name.Where(n => !WildcardPattern.ContainsWildcardCharacters(n) && !all.Any(c => c.Name.Equals(n, StringComparison.OrdinalIgnoreCase))))
                WriteKafkaError(new KafkaException(ErrorCode.InvalidConfig, $"Unknown broker config name: {n}."), n);
    }
}

/// <summary>
/// Set-BrokerConfig: changes a broker setting, validated with Kafka's rules and applied at once: cluster-wide
/// (kafka-configs.sh --alter --entity-type brokers --entity-default) or, with -BrokerId, as one broker's override
/// (--entity-name N); -Reset removes it.
/// </summary>
[Cmdlet(VerbsCommon.Set, "BrokerConfig", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = "Set")]
[OutputType(typeof(BrokerConfigInfo))]
public sealed class SetBrokerConfigCommand : ClusterCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = "Set", ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    public object? Value { get; set; }

    /// <summary>Removes the setting: back to the cluster-wide value or Kafka's default.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Reset")]
    public SwitchParameter Reset { get; set; }

    /// <summary>Only this broker: a per-broker override of a dynamic setting.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? BrokerId { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void Process()
    {
        var client = Client;
        string? value = Reset ? null : ConfigValues.ToKafka(Value);
        string target = BrokerId is { } id ? $"broker {id} config {Name}" : $"broker config {Name}";
        if (!ShouldProcess(target, Reset ? "Reset to the default" : $"Set to {value}")) return;
        client.AlterBrokerConfigs(BrokerId, new Dictionary<string, string?>(StringComparer.Ordinal) { [Name] = value });
        if (PassThru)
        {
            int shown = BrokerId ?? ConfigValues.DefaultBroker(client);
            foreach (var e in client.DescribeBrokerConfigs(shown).Where(c => c.Name == Name)) WriteObject(ConfigValues.Info(shown, e));
        }
    }
}

/// <summary>
/// Get-TopicConfig: every config of a topic with its value and source (DEFAULT_CONFIG, DYNAMIC_DEFAULT_BROKER_CONFIG,
/// DYNAMIC_TOPIC_CONFIG), as kafka-configs.sh --describe --all --entity-type topics shows them.
/// </summary>
[Cmdlet(VerbsCommon.Get, "TopicConfig")]
[OutputType(typeof(TopicConfigInfo))]
public sealed class GetTopicConfigCommand : ClusterCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(TopicNameCompleter))]
    public string[] Topic { get; set; } = [];

    /// <summary>Config names to show; wildcards allowed.</summary>
    [Parameter(Position = 1)]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    protected override void Process()
    {
        var client = Client;
        foreach (var topic in Topic)
        {
            IReadOnlyList<Client.ConfigEntry> entries;
            try
            {
                entries = client.DescribeTopicConfigs(topic);
            }
            catch (KafkaException e)
            {
                WriteKafkaError(e, topic);
                continue;
            }
            foreach (var c in ConfigValues.Matching(entries, e => e.Name, Name))
                WriteObject(new TopicConfigInfo { Topic = topic, Name = c.Name, Value = c.Value, Source = c.Source, IsDefault = c.IsDefault });
        }
    }
}

/// <summary>
/// Set-TopicConfig: sets or removes a topic's config overrides (kafka-configs.sh --alter --add-config / --delete-config),
/// validated with Kafka's rules and applied to the live logs: a new segment.bytes at the next roll, retention at the
/// next check.
/// </summary>
[Cmdlet(VerbsCommon.Set, "TopicConfig", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(TopicConfigInfo))]
public sealed class SetTopicConfigCommand : ClusterCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(TopicNameCompleter))]
    public string[] Topic { get; set; } = [];

    /// <summary>Overrides to set, e.g. @{ 'retention.ms' = 60000; 'cleanup.policy' = 'compact' }.</summary>
    [Parameter(Position = 1)]
    public Hashtable? Config { get; set; }

    /// <summary>Overrides to remove: the topic goes back to the broker's setting or Kafka's default.</summary>
    [Parameter]
    public string[]? Remove { get; set; }

    /// <summary>Output the changed configs.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void Begin()
    {
        if ((Config is null || Config.Count == 0) && (Remove is null || Remove.Length == 0))
            throw new KafkaException(ErrorCode.InvalidConfig, "Give -Config with the configs to set, or -Remove with the configs to remove.");
    }

    protected override void Process()
    {
        var changes = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Config ?? [])
            changes[Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? ""] = ConfigValues.ToKafka(e.Value);
        foreach (var name in Remove ?? [])
        {
            if (changes.ContainsKey(name)) throw new KafkaException(ErrorCode.InvalidConfig, $"{name} is both set and removed.");
            changes[name] = null;
        }
        var client = Client;
        foreach (var topic in Topic)
        {
            var what = string.Join(", ", changes.Select(c => c.Value is null ? $"remove {c.Key}" : $"{c.Key}={c.Value}"));
            if (!ShouldProcess($"topic {topic}", $"Alter configs: {what}")) continue;
            try
            {
                client.AlterTopicConfigs(topic, changes);
            }
            catch (KafkaException e)
            {
                WriteKafkaError(e, topic);
                continue;
            }
            if (PassThru)
                foreach (var c in client.DescribeTopicConfigs(topic).Where(c => changes.ContainsKey(c.Name)))
                    WriteObject(new TopicConfigInfo { Topic = topic, Name = c.Name, Value = c.Value, Source = c.Source, IsDefault = c.IsDefault });
        }
    }
}
