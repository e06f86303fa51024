using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Groups;

namespace PSKafka.Tests.Groups;

public class ConsumerProtocolTests
{
    private static byte[] Hex(string s) => Convert.FromHexString(s.Replace(" ", ""));

    [Fact]
    public void Subscription_v0_bytes()
    {
        // version 0 | 1 topic | "foo" | null user data
        var expected = Hex("0000 00000001 0003 666f6f ffffffff");
        Assert.Equal(expected, ConsumerProtocol.SerializeSubscription(new ConsumerSubscription(["foo"]), version: 0));
        var back = ConsumerProtocol.DeserializeSubscription(expected);
        Assert.Equal(["foo"], back.Topics);
        Assert.Null(back.UserData);
        Assert.Empty(back.Owned);
        Assert.Equal(-1, back.GenerationId);
    }

    [Fact]
    public void Subscription_v1_bytes_with_owned_partitions()
    {
        // version 1 | topics [a] | user data 01 02 | owned [a: 0, 2]
        var expected = Hex("0001 00000001 0001 61 00000002 0102 00000001 0001 61 00000002 00000000 00000002");
        var sub = new ConsumerSubscription(["a"], [1, 2], [new TopicPartition("a", 0), new TopicPartition("a", 2)]);
        Assert.Equal(expected, ConsumerProtocol.SerializeSubscription(sub, version: 1));
        var back = ConsumerProtocol.DeserializeSubscription(expected);
        Assert.Equal(sub.Owned, back.Owned);
        Assert.Equal(new byte[] { 1, 2 }, back.UserData);
    }

    [Fact]
    public void Subscription_v3_round_trip_and_newer_versions_read_as_far_as_known()
    {
        var sub = new ConsumerSubscription(["x", "y"], null, [new TopicPartition("y", 3)], GenerationId: 7, RackId: "rack-1");
        var bytes = ConsumerProtocol.SerializeSubscription(sub);
        var back = ConsumerProtocol.DeserializeSubscription(bytes);
        Assert.Equal(sub.Topics, back.Topics);
        Assert.Equal(7, back.GenerationId);
        Assert.Equal("rack-1", back.RackId);

        // A v9 member appends fields we do not know: we read ours and ignore the rest.
        var future = bytes.ToArray();
        future[1] = 9;
        var extended = future.Concat(new byte[] { 0xde, 0xad }).ToArray();
        Assert.Equal(sub.Topics, ConsumerProtocol.DeserializeSubscription(extended).Topics);
    }

    [Fact]
    public void Assignment_bytes()
    {
        // version 0 | [t: 1] | null user data
        var expected = Hex("0000 00000001 0001 74 00000001 00000001 ffffffff");
        var a = new ConsumerAssignment([new TopicPartition("t", 1)]);
        Assert.Equal(expected, ConsumerProtocol.SerializeAssignment(a, version: 0));
        Assert.Equal(a.Partitions, ConsumerProtocol.DeserializeAssignment(expected).Partitions);
        Assert.Empty(ConsumerProtocol.DeserializeAssignment([]).Partitions);
    }

    [Theory]
    [InlineData("00")]
    [InlineData("0000 7fffffff")]
    [InlineData("0000 00000001 0010 61")]
    [InlineData("ffff 00000000 ffffffff")]
    public void Malformed_subscriptions_are_errors_not_crashes(string hex)
    {
        var e = Assert.Throws<KafkaException>(() => ConsumerProtocol.DeserializeSubscription(Hex(hex)));
        Assert.Equal(ErrorCode.InconsistentGroupProtocol, e.Code);
    }
}
