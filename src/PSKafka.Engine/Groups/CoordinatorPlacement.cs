namespace PSKafka.Engine.Groups;

/// <summary>
/// Where a group lives, as Kafka decides it: partition <c>Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions</c>
/// of <c>__consumer_offsets</c>; that partition's leader is the group's coordinator.
/// </summary>
public static class CoordinatorPlacement
{
    public const string OffsetsTopic = "__consumer_offsets";

    /// <summary>Java's String.hashCode: s[0]*31^(n-1) + ... + s[n-1] over UTF-16 code units, in 32-bit arithmetic.</summary>
    public static int JavaStringHashCode(string s)
    {
        int h = 0;
        foreach (char c in s) h = unchecked(31 * h + c);
        return h;
    }

    /// <summary>Kafka's Utils.abs: clears the sign bit, so int.MinValue maps to 0 rather than overflowing.</summary>
    public static int KafkaAbs(int n) => n & 0x7fffffff;

    public static int PartitionFor(string groupId, int offsetsTopicPartitions) =>
        KafkaAbs(JavaStringHashCode(groupId)) % offsetsTopicPartitions;
}
