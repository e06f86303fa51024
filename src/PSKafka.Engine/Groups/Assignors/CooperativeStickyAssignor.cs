using System.Buffers.Binary;
using PSKafka.Engine.Api;

namespace PSKafka.Engine.Groups.Assignors;

/// <summary>
/// Kafka's CooperativeStickyAssignor: a balanced assignment that keeps as many partitions as it
/// can with their previous owners (AbstractStickyAssignor), made cooperative by leaving out of
/// this generation every partition that changes owner: its old owner revokes it now and rejoins,
/// and the next rebalance gives it to the new owner.
/// </summary>
public sealed class CooperativeStickyAssignor : IPartitionAssignor
{
    public string Name => PartitionAssignors.CooperativeSticky;
    public RebalanceProtocol Protocol => RebalanceProtocol.Cooperative;

    /// <summary>The generation as 4 bytes of user data, as Kafka writes it for members that predate subscription v2.</summary>
    public byte[]? SubscriptionUserData(int generation)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(b, generation);
        return b;
    }

    private static int GenerationOf(ConsumerSubscription s) =>
        s.GenerationId >= 0 ? s.GenerationId : s.UserData is { Length: >= 4 } u ? BinaryPrimitives.ReadInt32BigEndian(u) : -1;

    public Dictionary<string, List<TopicPartition>> Assign(IReadOnlyDictionary<string, int> partitionsPerTopic, IReadOnlyDictionary<string, ConsumerSubscription> subscriptions)
    {
        var (owned, previousOwner, multipleOwners) = PreviousOwnership(partitionsPerTopic, subscriptions);
        bool allEqual = subscriptions.Values.Select(s => s.Topics.ToHashSet()).Distinct(HashSet<string>.CreateSetComparer()).Count() <= 1;
        var assignment = allEqual
            ? ConstrainedAssign(partitionsPerTopic, subscriptions, owned, multipleOwners)
            : GeneralAssign(partitionsPerTopic, subscriptions, owned);

        // Cooperative: a partition going to a member other than its previous owner waits for the next rebalance.
        foreach (var (member, partitions) in assignment)
            partitions.RemoveAll(tp => multipleOwners.Contains(tp) || (previousOwner.TryGetValue(tp, out var owner) && owner != member));
        return assignment;
    }

    /// <summary>
    /// Owned partitions that still count: only from members of the highest generation reported,
    /// only of subscribed, existing partitions; a partition claimed by two members is owned by neither.
    /// </summary>
    private static (Dictionary<string, List<TopicPartition>> Owned, Dictionary<TopicPartition, string> PreviousOwner, HashSet<TopicPartition> MultipleOwners)
        PreviousOwnership(IReadOnlyDictionary<string, int> partitionsPerTopic, IReadOnlyDictionary<string, ConsumerSubscription> subscriptions)
    {
        var owned = PartitionAssignors.EmptyAssignment(subscriptions);
        var previousOwner = new Dictionary<TopicPartition, string>();
        var multiple = new HashSet<TopicPartition>();
        int maxGeneration = subscriptions.Count == 0 ? -1 : subscriptions.Values.Max(GenerationOf);
        foreach (var member in PartitionAssignors.SortedMembers(subscriptions.Keys))
        {
            var s = subscriptions[member];
            if (GenerationOf(s) != maxGeneration) continue;
            foreach (var tp in s.Owned)
            {
                if (!s.Topics.Contains(tp.Topic) || !partitionsPerTopic.TryGetValue(tp.Topic, out int n) || tp.Partition < 0 || tp.Partition >= n) continue;
                if (multiple.Contains(tp)) continue;
                if (previousOwner.Remove(tp, out var other))
                {
                    owned[other].Remove(tp);
                    multiple.Add(tp);
                    continue;
                }
                previousOwner[tp] = member;
                owned[member].Add(tp);
            }
        }
        return (owned, previousOwner, multiple);
    }

    private static List<TopicPartition> AllPartitions(IReadOnlyDictionary<string, int> partitionsPerTopic, IEnumerable<string> topics) =>
        topics.Distinct().Where(partitionsPerTopic.ContainsKey).Order(StringComparer.Ordinal)
            .SelectMany(t => Enumerable.Range(0, partitionsPerTopic[t]).Select(p => new TopicPartition(t, p))).ToList();

    /// <summary>AbstractStickyAssignor.constrainedAssign: every member subscribes to the same topics.</summary>
    private static Dictionary<string, List<TopicPartition>> ConstrainedAssign(IReadOnlyDictionary<string, int> partitionsPerTopic,
        IReadOnlyDictionary<string, ConsumerSubscription> subscriptions, Dictionary<string, List<TopicPartition>> owned, HashSet<TopicPartition> multipleOwners)
    {
        var assignment = PartitionAssignors.EmptyAssignment(subscriptions);
        if (subscriptions.Count == 0) return assignment;
        var all = AllPartitions(partitionsPerTopic, subscriptions.Values.First().Topics);
        int consumers = subscriptions.Count;
        int minQuota = all.Count / consumers;
        int maxQuota = (all.Count + consumers - 1) / consumers;
        int expectedOverMin = all.Count % consumers;
        int currentOverMin = 0;
        var underMin = new List<string>();
        var exactlyMin = new LinkedList<string>();
        var assigned = new HashSet<TopicPartition>();

        // Keep previously owned partitions, up to the quota each member may have.
        foreach (var member in PartitionAssignors.SortedMembers(subscriptions.Keys))
        {
            var mine = owned[member].Where(tp => !multipleOwners.Contains(tp)).ToList();
            if (mine.Count < minQuota)
            {
                assignment[member].AddRange(mine);
                underMin.Add(member);
            }
            else if (mine.Count >= maxQuota && currentOverMin < expectedOverMin)
            {
                currentOverMin++;
                if (currentOverMin == expectedOverMin) exactlyMin.Clear();
                assignment[member].AddRange(mine.Take(maxQuota));
            }
            else
            {
                assignment[member].AddRange(mine.Take(minQuota));
                if (currentOverMin < expectedOverMin) exactlyMin.AddLast(member);
            }
            assigned.UnionWith(assignment[member]);
        }

        // Fill members round robin: first up to minQuota, then the expected number of them up to maxQuota.
        var unassigned = all.Where(tp => !assigned.Contains(tp)).ToList();
        int cursor = 0;
        for (int i = 0; i < unassigned.Count; i++)
        {
            string member;
            if (underMin.Count > 0)
            {
                if (cursor >= underMin.Count) cursor = 0;
                member = underMin[cursor];
            }
            else if (exactlyMin.Count > 0)
            {
                member = exactlyMin.First!.Value;
                exactlyMin.RemoveFirst();
            }
            else
            {
                throw new InvalidOperationException("Sticky assignment ran out of members with room: the quotas are inconsistent.");
            }
            var list = assignment[member];
            list.Add(unassigned[i]);
            if (underMin.Count > 0 && underMin[cursor] == member)
            {
                if (list.Count == minQuota)
                {
                    underMin.RemoveAt(cursor);
                    exactlyMin.AddLast(member);
                }
                else
                {
                    cursor++;
                }
            }
            if (list.Count == maxQuota && maxQuota > minQuota)
            {
                currentOverMin++;
                if (currentOverMin == expectedOverMin) exactlyMin.Clear();
            }
        }
        return assignment;
    }

    /// <summary>
    /// Members with different subscriptions: keep owned partitions a member still subscribes to,
    /// give each free partition to the least loaded member that subscribes to its topic, then move
    /// partitions from the most to the least loaded eligible member until no move helps.
    /// </summary>
    private static Dictionary<string, List<TopicPartition>> GeneralAssign(IReadOnlyDictionary<string, int> partitionsPerTopic,
        IReadOnlyDictionary<string, ConsumerSubscription> subscriptions, Dictionary<string, List<TopicPartition>> owned)
    {
        var members = PartitionAssignors.SortedMembers(subscriptions.Keys);
        var assignment = members.ToDictionary(m => m, m => owned[m].ToList(), StringComparer.Ordinal);
        var assigned = assignment.Values.SelectMany(l => l).ToHashSet();
        foreach (var tp in AllPartitions(partitionsPerTopic, subscriptions.Values.SelectMany(s => s.Topics)).Where(tp => !assigned.Contains(tp)))
        {
            var target = members.Where(m => subscriptions[m].Topics.Contains(tp.Topic)).MinBy(m => assignment[m].Count)!;
            assignment[target].Add(tp);
        }
        for (int guard = 0; guard < 100_000; guard++)
        {
            bool moved = false;
            foreach (var from in members.OrderByDescending(m => assignment[m].Count))
            {
                foreach (var tp in assignment[from].AsEnumerable().Reverse())
                {
                    var to = members.Where(m => m != from && subscriptions[m].Topics.Contains(tp.Topic)).MinBy(m => assignment[m].Count);
                    if (to is null || assignment[from].Count - assignment[to].Count <= 1) continue;
                    assignment[from].Remove(tp);
                    assignment[to].Add(tp);
                    moved = true;
                    break;
                }
                if (moved) break;
            }
            if (!moved) break;
        }
        return assignment;
    }
}
