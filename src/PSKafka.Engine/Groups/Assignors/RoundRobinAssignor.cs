using PSKafka.Engine.Api;

namespace PSKafka.Engine.Groups.Assignors;

/// <summary>
/// Kafka's RoundRobinAssignor: every partition of every subscribed topic (topics in name order)
/// dealt in turn to the members in member id order, skipping members not subscribed to its topic.
/// </summary>
public sealed class RoundRobinAssignor : IPartitionAssignor
{
    public string Name => PartitionAssignors.RoundRobin;
    public RebalanceProtocol Protocol => RebalanceProtocol.Eager;

    public Dictionary<string, List<TopicPartition>> Assign(IReadOnlyDictionary<string, int> partitionsPerTopic, IReadOnlyDictionary<string, ConsumerSubscription> subscriptions)
    {
        var assignment = PartitionAssignors.EmptyAssignment(subscriptions);
        var consumers = PartitionAssignors.SortedMembers(subscriptions.Keys);
        if (consumers.Count == 0) return assignment;
        var topics = subscriptions.Values.SelectMany(s => s.Topics).Distinct().Order(StringComparer.Ordinal);
        int next = 0;
        foreach (var topic in topics)
        {
            if (!partitionsPerTopic.TryGetValue(topic, out int partitions)) continue;
            for (int p = 0; p < partitions; p++)
            {
                // Some member is subscribed to this topic, so the walk ends within one lap.
                while (!subscriptions[consumers[next]].Topics.Contains(topic)) next = (next + 1) % consumers.Count;
                assignment[consumers[next]].Add(new TopicPartition(topic, p));
                next = (next + 1) % consumers.Count;
            }
        }
        return assignment;
    }
}
