using PSKafka.Engine;
using PSKafka.Engine.Cluster;

namespace PSKafka.Tests.Cluster;

public class ReplicaAssignmentTests
{
    // Kafka's rack-unaware assignment with a fixed start index of 0 (the expectation of Kafka's own
    // assignReplicasToBrokers test: 5 brokers, 10 partitions, replication factor 3).
    [Fact]
    public void MatchesKafkasAssignmentForAFixedStart()
    {
        var expected = new[]
        {
            new[] { 0, 1, 2 }, [1, 2, 3], [2, 3, 4], [3, 4, 0], [4, 0, 1],
            [0, 2, 3], [1, 3, 4], [2, 4, 0], [3, 0, 1], [4, 1, 2],
        };
        var actual = ReplicaAssignment.Assign([0, 1, 2, 3, 4], 10, 3, fixedStartIndex: 0);
        Assert.Equal(expected.Select(e => e.ToList()), actual);
    }

    [Fact]
    public void SpreadsLeadersAndReplicasEvenly()
    {
        var assignment = ReplicaAssignment.Assign([1, 2, 3, 4, 5], 3, 2, random: new Random(7));
        Assert.Equal(3, assignment.Select(r => r[0]).Distinct().Count());
        Assert.All(assignment, r => Assert.Equal(2, r.Distinct().Count()));
    }

    [Fact]
    public void RefusesMoreReplicasThanBrokers()
    {
        var e = Assert.Throws<KafkaException>(() => ReplicaAssignment.Assign([0], 1, 2));
        Assert.Equal(ErrorCode.InvalidReplicationFactor, e.Code);
    }

    [Theory]
    [InlineData("test", true)]
    [InlineData("retail_multi.v2-x", true)]
    [InlineData("", false)]
    [InlineData(".", false)]
    [InlineData("..", false)]
    [InlineData("bad name", false)]
    [InlineData("café", false)]
    public void TopicNamesFollowKafkasRules(string name, bool valid) => Assert.Equal(valid, TopicNames.Problem(name) is null);

    [Fact]
    public void TopicNamesAreAtMost249Characters()
    {
        Assert.Null(TopicNames.Problem(new string('a', 249)));
        Assert.NotNull(TopicNames.Problem(new string('a', 250)));
    }
}
