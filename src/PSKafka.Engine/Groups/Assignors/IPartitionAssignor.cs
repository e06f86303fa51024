using PSKafka.Engine.Api;

namespace PSKafka.Engine.Groups.Assignors;

/// <summary>Kafka's rebalance protocols: eager revokes everything before a rebalance, cooperative only what moves.</summary>
public enum RebalanceProtocol { Eager, Cooperative }

/// <summary>
/// A client-side partition assignor (Kafka's ConsumerPartitionAssignor): the group leader runs it
/// over every member's subscription; its name is the protocol name in JoinGroup.
/// </summary>
public interface IPartitionAssignor
{
    string Name { get; }
    RebalanceProtocol Protocol { get; }

    /// <summary>User data to put in this member's subscription.</summary>
    byte[]? SubscriptionUserData(int generation) => null;

    /// <param name="partitionsPerTopic">Partition counts of the subscribed topics that exist.</param>
    /// <param name="subscriptions">Each member's subscription, by member id.</param>
    Dictionary<string, List<TopicPartition>> Assign(IReadOnlyDictionary<string, int> partitionsPerTopic, IReadOnlyDictionary<string, ConsumerSubscription> subscriptions);
}

public static class PartitionAssignors
{
    public const string Range = "range";
    public const string RoundRobin = "roundrobin";
    public const string CooperativeSticky = "cooperative-sticky";

    public static readonly IReadOnlyList<string> Names = [Range, RoundRobin, CooperativeSticky];

    public static IPartitionAssignor Create(string name) => name switch
    {
        Range => new RangeAssignor(),
        RoundRobin => new RoundRobinAssignor(),
        CooperativeSticky => new CooperativeStickyAssignor(),
        _ => throw new ArgumentException($"Unknown partition assignor '{name}'. Known: {string.Join(", ", Names)}.", nameof(name)),
    };

    internal static Dictionary<string, List<TopicPartition>> EmptyAssignment(IReadOnlyDictionary<string, ConsumerSubscription> subscriptions) =>
        subscriptions.Keys.ToDictionary(k => k, _ => new List<TopicPartition>(), StringComparer.Ordinal);

    /// <summary>Members in Kafka's order (by member id; group instance ids are not supported).</summary>
    internal static List<string> SortedMembers(IEnumerable<string> members) => members.Order(StringComparer.Ordinal).ToList();
}
