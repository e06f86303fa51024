using PSKafka.Client;
using PSKafka.Engine.Cluster;

namespace PSKafka.Cmdlets.Output;

/// <summary>What a session talks to, as Get-Cluster and Connect-Cluster show it. Never holds a secret.</summary>
public sealed class ClusterInfo
{
    /// <summary>Remote (Connect-Cluster or -BootstrapServer), Local (brokers in this process) or None.</summary>
    public string Kind { get; init; } = "None";
    public string? BootstrapServers { get; init; }
    public string? DataDirectory { get; init; }
    public string? ClusterId { get; init; }
    public int ControllerId { get; init; } = -1;
    /// <summary>Brokers as id@host:port.</summary>
    public string[] Brokers { get; init; } = [];
    /// <summary>The client settings of a remote connection, secrets masked.</summary>
    public IReadOnlyDictionary<string, string> Config { get; init; } = new Dictionary<string, string>();
    public string? SaslUsername { get; init; }
    public double TimeoutSec { get; init; }
    public string? ClientLibrary { get; init; }
    public string Description { get; init; } = "";

    public override string ToString() => Description;

    internal static ClusterInfo None() => new() { Description = "No cluster: start a local broker (Start-Broker) or connect to one (Connect-Cluster)." };

    internal static ClusterInfo Describe(KafkaCluster local) => new()
    {
        Kind = "Local",
        DataDirectory = local.DataDirectory,
        ClusterId = local.ClusterId,
        ControllerId = local.Brokers.Any(b => b.IsRunning) ? local.ControllerId : -1,
        Brokers = local.Brokers.Where(b => b.IsRunning).Select(b => $"{b.Id}@{b.Address}").ToArray(),
        Description = $"local cluster in {local.DataDirectory}",
    };

    internal static ClusterInfo Describe(RemoteClient remote)
    {
        var cluster = remote.DescribeCluster();
        var connection = remote.Connection;
        return new ClusterInfo
        {
            Kind = "Remote",
            BootstrapServers = connection.BootstrapServers,
            ClusterId = cluster.ClusterId,
            ControllerId = cluster.ControllerId,
            Brokers = cluster.Brokers.Select(b => $"{b.Id}@{b.Host}:{b.Port}").ToArray(),
            Config = connection.DisplayConfig(),
            SaslUsername = connection.Credential?.UserName,
            TimeoutSec = connection.Timeout.TotalSeconds,
            ClientLibrary = $"librdkafka {Confluent.Kafka.Library.VersionString} (Confluent.Kafka {typeof(Confluent.Kafka.Library).Assembly.GetName().Version?.ToString(3)})",
            Description = remote.Description,
        };
    }
}
