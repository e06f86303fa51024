namespace PSKafka.Engine.Groups;

/// <summary>The states of a classic consumer group, with Kafka's names (ListGroups/DescribeGroups report them as text).</summary>
public enum GroupState
{
    /// <summary>No members; may still have committed offsets.</summary>
    Empty,
    /// <summary>Waiting for members to (re)join.</summary>
    PreparingRebalance,
    /// <summary>Joined; waiting for the leader's assignment (SyncGroup).</summary>
    CompletingRebalance,
    /// <summary>Every member has its assignment.</summary>
    Stable,
    /// <summary>Deleted, or moved to another coordinator.</summary>
    Dead,
}
