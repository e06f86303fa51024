using PSKafka.Engine.Groups;

namespace PSKafka.Tests.Groups;

public class CoordinatorPlacementTests
{
    // Values of java.lang.String.hashCode(), which Kafka uses for the group → partition mapping.
    [Theory]
    [InlineData("", 0)]
    [InlineData("a", 97)]
    [InlineData("abc", 96354)]
    [InlineData("hello", 99162322)]
    [InlineData("Aa", 2112)]
    [InlineData("BB", 2112)]
    [InlineData("polygenelubricants", int.MinValue)]
    [InlineData("\u00e9", 233)]
    public void Java_string_hash_codes(string s, int expected) =>
        Assert.Equal(expected, CoordinatorPlacement.JavaStringHashCode(s));

    [Fact]
    public void Kafka_abs_maps_min_value_to_zero_not_to_an_overflow()
    {
        Assert.Equal(0, CoordinatorPlacement.KafkaAbs(int.MinValue));
        Assert.Equal(5, CoordinatorPlacement.KafkaAbs(5));
        Assert.Equal(int.MaxValue, CoordinatorPlacement.KafkaAbs(-1));
        Assert.Equal(0, CoordinatorPlacement.PartitionFor("polygenelubricants", 50));
    }

    [Theory]
    [InlineData("hello", 50, 22)]   // 99162322 % 50
    [InlineData("abc", 50, 4)]      // 96354 % 50
    [InlineData("Aa", 50, 12)]      // 2112 % 50
    [InlineData("abc", 7, 6)]       // 96354 % 7
    public void Partition_for_group(string group, int partitions, int expected) =>
        Assert.Equal(expected, CoordinatorPlacement.PartitionFor(group, partitions));
}
