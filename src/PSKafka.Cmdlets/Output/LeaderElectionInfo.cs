namespace PSKafka.Cmdlets.Output;

/// <summary>One partition's outcome of Invoke-LeaderElection.</summary>
public sealed class LeaderElectionInfo
{
    public string Topic { get; init; } = "";
    public int Partition { get; init; }
    /// <summary>The leader after the election (-1: offline).</summary>
    public int Leader { get; init; }
    public int PreferredLeader { get; init; }
    /// <summary>Elected, AlreadyPreferred or PreferredLeaderNotAvailable.</summary>
    public string Result { get; init; } = "";
    public string? Reason { get; init; }
}
