using PSKafka.Engine.Cluster;

namespace PSKafka.Cmdlets.Output;

/// <summary>A broker of the local cluster, as Get-Broker shows it.</summary>
public sealed class BrokerInfo
{
    public int Id { get; init; }
    public string State { get; init; } = "";
    public bool IsController { get; init; }
    public string Address { get; init; } = "";
    public int Leaders { get; init; }
    public int Followers { get; init; }
    public string LogDirectory { get; init; } = "";
    public string DataDirectory { get; init; } = "";
    public DateTimeOffset? StartTime { get; init; }

    internal static BrokerInfo From(Broker b) => new()
    {
        Id = b.Id,
        State = b.State.ToString(),
        IsController = b.IsRunning && b.IsController,
        Address = b.Address,
        Leaders = b.LeaderCount,
        Followers = b.FollowerCount,
        LogDirectory = b.LogDirectory,
        DataDirectory = b.Cluster.DataDirectory,
        StartTime = b.IsRunning ? b.StartTime : null,
    };
}
