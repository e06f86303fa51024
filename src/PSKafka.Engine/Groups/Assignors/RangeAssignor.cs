using PSKafka.Engine.Api;

namespace PSKafka.Engine.Groups.Assignors;

/// <summary>
/// Kafka's RangeAssignor, the classic protocol's default: per topic, the members subscribed to it
/// in member id order each get a contiguous range; the first (partitions % members) get one more.
/// </summary>
public sealed class RangeAssignor : IPartitionAssignor
{
    public string Name => PartitionAssignors.Range;
    public RebalanceProtocol Protocol => RebalanceProtocol.Eager;

    public Dictionary<string, List<TopicPartition>> Assign(IReadOnlyDictionary<string, int> partitionsPerTopic, IReadOnlyDictionary<string, ConsumerSubscription> subscriptions)
    {
        var assignment = PartitionAssignors.EmptyAssignment(subscriptions);
        var topics = subscriptions.Values.SelectMany(s => s.Topics).Distinct().Order(StringComparer.Ordinal);
        foreach (var topic in topics)
        {
            if (!partitionsPerTopic.TryGetValue(topic, out int partitions)) continue;
            var consumers = PartitionAssignors.SortedMembers(subscriptions.Where(s => s.Value.Topics.Contains(topic)).Select(s => s.Key));
            int perConsumer = partitions / consumers.Count, extra = partitions % consumers.Count;
            for (int i = 0; i < consumers.Count; i++)
            {
                int start = perConsumer * i + Math.Min(i, extra);
                int length = perConsumer + (i + 1 > extra ? 0 : 1);
                for (int p = start; p < start + length; p++) assignment[consumers[i]].Add(new TopicPartition(topic, p));
            }
        }
        return assignment;
    }
}
