using PSKafka.Engine.Api;
using PSKafka.Engine.Groups;
using PSKafka.Engine.Groups.Assignors;

namespace PSKafka.Tests.Groups;

public class AssignorTests
{
    private static TopicPartition P(string t, int p) => new(t, p);

    private static Dictionary<string, ConsumerSubscription> Subs(params (string Member, string[] Topics)[] members) =>
        members.ToDictionary(m => m.Member, m => new ConsumerSubscription(m.Topics));

    private static string Show(List<TopicPartition> list) => string.Join(",", list.Select(tp => $"{tp.Topic}p{tp.Partition}"));

    // RangeAssignor javadoc: C0 and C1 both subscribe t0 and t1, 3 partitions each.
    [Fact]
    public void Range_kafka_example()
    {
        var result = new RangeAssignor().Assign(new Dictionary<string, int> { ["t0"] = 3, ["t1"] = 3 }, Subs(("C0", ["t0", "t1"]), ("C1", ["t0", "t1"])));
        Assert.Equal("t0p0,t0p1,t1p0,t1p1", Show(result["C0"]));
        Assert.Equal("t0p2,t1p2", Show(result["C1"]));
    }

    [Fact]
    public void Range_more_consumers_than_partitions_and_partial_subscriptions()
    {
        var result = new RangeAssignor().Assign(new Dictionary<string, int> { ["t"] = 2, ["u"] = 1 }, Subs(("a", ["t"]), ("b", ["t", "u"]), ("c", ["t"])));
        Assert.Equal("tp0", Show(result["a"]));
        Assert.Equal("tp1,up0", Show(result["b"]));
        Assert.Empty(result["c"]);
    }

    // RoundRobinAssignor javadoc, first example.
    [Fact]
    public void RoundRobin_kafka_example_same_subscriptions()
    {
        var result = new RoundRobinAssignor().Assign(new Dictionary<string, int> { ["t0"] = 3, ["t1"] = 3 }, Subs(("C0", ["t0", "t1"]), ("C1", ["t0", "t1"])));
        Assert.Equal("t0p0,t0p2,t1p1", Show(result["C0"]));
        Assert.Equal("t0p1,t1p0,t1p2", Show(result["C1"]));
    }

    // RoundRobinAssignor javadoc, second example (different subscriptions).
    [Fact]
    public void RoundRobin_kafka_example_different_subscriptions()
    {
        var result = new RoundRobinAssignor().Assign(new Dictionary<string, int> { ["t0"] = 1, ["t1"] = 2, ["t2"] = 3 },
            Subs(("C0", ["t0"]), ("C1", ["t0", "t1"]), ("C2", ["t0", "t1", "t2"])));
        Assert.Equal("t0p0", Show(result["C0"]));
        Assert.Equal("t1p0", Show(result["C1"]));
        Assert.Equal("t1p1,t2p0,t2p1,t2p2", Show(result["C2"]));
    }

    // StickyAssignor javadoc, example 1: three consumers over t0..t3 (2 partitions each), then C1 leaves.
    [Fact]
    public void Sticky_kafka_example_1_member_leaves_and_the_others_keep_theirs()
    {
        var topics = new Dictionary<string, int> { ["t0"] = 2, ["t1"] = 2, ["t2"] = 2, ["t3"] = 2 };
        string[] all = ["t0", "t1", "t2", "t3"];
        var assignor = new CooperativeStickyAssignor();
        var first = assignor.Assign(topics, Subs(("C0", all), ("C1", all), ("C2", all)));
        AssertValidAndBalanced(topics, first);
        Assert.Equal(new[] { 3, 3, 2 }, first.Values.Select(l => l.Count).OrderDescending());

        var second = assignor.Assign(topics, new Dictionary<string, ConsumerSubscription>
        {
            ["C0"] = new(all, OwnedPartitions: first["C0"], GenerationId: 1),
            ["C2"] = new(all, OwnedPartitions: first["C2"], GenerationId: 1),
        });
        AssertValidAndBalanced(topics, second);
        Assert.Superset(first["C0"].ToHashSet(), second["C0"].ToHashSet());
        Assert.Superset(first["C2"].ToHashSet(), second["C2"].ToHashSet());
    }

    // StickyAssignor javadoc, example 2: C0 [t0], C1 [t0,t1], C2 [t0,t1,t2]; t0..t2 have 1, 2, 3 partitions; then C0 leaves.
    [Fact]
    public void Sticky_kafka_example_2_different_subscriptions()
    {
        var topics = new Dictionary<string, int> { ["t0"] = 1, ["t1"] = 2, ["t2"] = 3 };
        var assignor = new CooperativeStickyAssignor();
        var first = assignor.Assign(topics, Subs(("C0", ["t0"]), ("C1", ["t0", "t1"]), ("C2", ["t0", "t1", "t2"])));
        Assert.Equal("t0p0", Show(first["C0"]));
        Assert.Equal("t1p0,t1p1", Show(first["C1"].OrderBy(tp => tp.Partition).ToList()));
        Assert.Equal("t2p0,t2p1,t2p2", Show(first["C2"].OrderBy(tp => tp.Partition).ToList()));

        var second = assignor.Assign(topics, new Dictionary<string, ConsumerSubscription>
        {
            ["C1"] = new(["t0", "t1"], OwnedPartitions: first["C1"], GenerationId: 1),
            ["C2"] = new(["t0", "t1", "t2"], OwnedPartitions: first["C2"], GenerationId: 1),
        });
        Assert.Equal("t0p0,t1p0,t1p1", Show(second["C1"].OrderBy(tp => tp.Topic).ThenBy(tp => tp.Partition).ToList()));
        Assert.Equal("t2p0,t2p1,t2p2", Show(second["C2"].OrderBy(tp => tp.Topic).ThenBy(tp => tp.Partition).ToList()));
    }

    // Cooperative: a partition moving between members is revoked in one rebalance and assigned in the next.
    [Fact]
    public void Cooperative_sticky_moves_a_partition_in_two_rebalances()
    {
        var topics = new Dictionary<string, int> { ["t"] = 4 };
        var assignor = new CooperativeStickyAssignor();
        List<TopicPartition> all = [P("t", 0), P("t", 1), P("t", 2), P("t", 3)];
        var first = assignor.Assign(topics, new Dictionary<string, ConsumerSubscription>
        {
            ["a"] = new(["t"], OwnedPartitions: all, GenerationId: 1),
            ["b"] = new(["t"], GenerationId: -1),
        });
        Assert.Equal(2, first["a"].Count);
        Assert.Subset(all.ToHashSet(), first["a"].ToHashSet());
        Assert.Empty(first["b"]); // the two partitions leaving a are assigned to nobody yet

        var second = assignor.Assign(topics, new Dictionary<string, ConsumerSubscription>
        {
            ["a"] = new(["t"], OwnedPartitions: first["a"], GenerationId: 2),
            ["b"] = new(["t"], OwnedPartitions: [], GenerationId: 2),
        });
        Assert.Equal(first["a"].OrderBy(tp => tp.Partition), second["a"].OrderBy(tp => tp.Partition));
        Assert.Equal(all.Except(first["a"]).OrderBy(tp => tp.Partition), second["b"].OrderBy(tp => tp.Partition));
    }

    [Fact]
    public void Cooperative_sticky_ignores_claims_from_older_generations_and_double_claims()
    {
        var topics = new Dictionary<string, int> { ["t"] = 2 };
        var result = new CooperativeStickyAssignor().Assign(topics, new Dictionary<string, ConsumerSubscription>
        {
            ["a"] = new(["t"], OwnedPartitions: [P("t", 0)], GenerationId: 5),
            ["b"] = new(["t"], OwnedPartitions: [P("t", 0)], GenerationId: 5),
            ["c"] = new(["t"], OwnedPartitions: [P("t", 1)], GenerationId: 3),
        });
        // t-0 was claimed twice: nobody gets it this round. t-1's claim is stale, so it is free to assign.
        Assert.DoesNotContain(result.Values.SelectMany(l => l), tp => tp == P("t", 0));
        Assert.Single(result.Values.SelectMany(l => l), tp => tp == P("t", 1));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Every_assignor_assigns_each_partition_once_to_a_subscriber(int seed)
    {
        var random = new Random(seed);
        var topics = Enumerable.Range(0, random.Next(1, 5)).ToDictionary(i => $"t{i}", _ => random.Next(1, 9));
        var subs = Enumerable.Range(0, random.Next(1, 7)).ToDictionary(i => $"m{i}",
            _ => new ConsumerSubscription(topics.Keys.Where(_ => random.Next(2) == 0).DefaultIfEmpty("t0").ToList()));
        foreach (var name in PartitionAssignors.Names)
        {
            var result = PartitionAssignors.Create(name).Assign(topics, subs);
            var assigned = result.SelectMany(kv => kv.Value.Select(tp => (kv.Key, tp))).ToList();
            Assert.Equal(assigned.Count, assigned.Select(a => a.tp).Distinct().Count());
            Assert.All(assigned, a => Assert.Contains(a.tp.Topic, subs[a.Key].Topics));
            var expected = topics.Where(t => subs.Values.Any(s => s.Topics.Contains(t.Key))).Sum(t => t.Value);
            Assert.Equal(expected, assigned.Count);
        }
    }

    [Theory]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    public void Sticky_with_equal_subscriptions_stays_balanced_and_sticky_across_membership_changes(int seed)
    {
        var random = new Random(seed);
        var topics = new Dictionary<string, int> { ["a"] = random.Next(1, 12), ["b"] = random.Next(1, 12) };
        var assignor = new CooperativeStickyAssignor();
        var owned = new Dictionary<string, List<TopicPartition>>();
        int generation = 0;
        for (int round = 0; round < 12; round++)
        {
            // Members come and go.
            if (owned.Count == 0 || random.Next(3) > 0) owned[$"m{round}"] = [];
            else owned.Remove(owned.Keys.ElementAt(random.Next(owned.Count)));
            if (owned.Count == 0) continue;
            // Two rebalances: the cooperative one (revocations) and the follow-up that assigns what moved.
            for (int pass = 0; pass < 2; pass++)
            {
                generation++;
                var subs = owned.ToDictionary(kv => kv.Key, kv => new ConsumerSubscription(["a", "b"], OwnedPartitions: kv.Value, GenerationId: generation - 1));
                var result = assignor.Assign(topics, subs);
                foreach (var (m, before) in owned)
                    Assert.True(result[m].Count >= Math.Min(before.Count, topics.Values.Sum() / owned.Count), "a member lost more than it had to");
                foreach (var m in owned.Keys.ToList()) owned[m] = result[m];
            }
            AssertValidAndBalanced(topics, owned);
        }
    }

    private static void AssertValidAndBalanced(Dictionary<string, int> topics, Dictionary<string, List<TopicPartition>> assignment)
    {
        var all = assignment.Values.SelectMany(l => l).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(topics.Values.Sum(), all.Count);
        Assert.True(assignment.Values.Max(l => l.Count) - assignment.Values.Min(l => l.Count) <= 1, "unbalanced: " + string.Join(" ", assignment.Select(kv => $"{kv.Key}={kv.Value.Count}")));
    }
}
