using System.Buffers.Binary;
using System.Text;
using PSKafka.Engine.Api;

namespace PSKafka.Engine.Groups;

/// <summary>A consumer's subscription, the metadata of each protocol it offers in JoinGroup.</summary>
public sealed record ConsumerSubscription(
    IReadOnlyList<string> Topics,
    byte[]? UserData = null,
    IReadOnlyList<TopicPartition>? OwnedPartitions = null,
    int GenerationId = -1,
    string? RackId = null)
{
    public IReadOnlyList<TopicPartition> Owned => OwnedPartitions ?? [];
}

/// <summary>A consumer's assignment, what the leader hands out through SyncGroup.</summary>
public sealed record ConsumerAssignment(IReadOnlyList<TopicPartition> Partitions, byte[]? UserData = null);

/// <summary>
/// Kafka's ConsumerProtocol: the bytes of ConsumerProtocolSubscription (versions 0-3: topics and
/// user data; +owned partitions in v1; +generation in v2; +rack in v3) and ConsumerProtocolAssignment
/// (versions 0-3, one shape), in the classic (non-flexible) encoding, so Java, librdkafka and
/// kafka-python members can share a group with PSKafka's.
/// </summary>
public static class ConsumerProtocol
{
    public const string ProtocolType = "consumer";
    public const short HighestSubscriptionVersion = 3;
    public const short HighestAssignmentVersion = 3;

    public static byte[] SerializeSubscription(ConsumerSubscription subscription, short version = HighestSubscriptionVersion)
    {
        var w = new Writer();
        w.Int16(version);
        w.Int32(subscription.Topics.Count);
        foreach (var t in subscription.Topics) w.String(t);
        w.Bytes(subscription.UserData);
        if (version >= 1) w.TopicPartitions(subscription.Owned);
        if (version >= 2) w.Int32(subscription.GenerationId);
        if (version >= 3) w.String(subscription.RackId);
        return w.ToArray();
    }

    public static ConsumerSubscription DeserializeSubscription(ReadOnlySpan<byte> data)
    {
        var r = new Reader(data);
        short version = r.Int16();
        if (version < 0) throw new KafkaException(ErrorCode.InconsistentGroupProtocol, $"Unsupported consumer subscription version {version}.");
        var topics = new List<string>();
        for (int i = 0, n = r.Count(); i < n; i++) topics.Add(r.String()!);
        var userData = r.Bytes();
        // Newer versions only append fields, so a reader takes the fields it knows (Kafka's forward compatibility).
        var owned = version >= 1 ? r.TopicPartitions() : null;
        int generation = version >= 2 ? r.Int32() : -1;
        string? rack = version >= 3 ? r.String() : null;
        return new ConsumerSubscription(topics, userData, owned, generation, rack);
    }

    public static byte[] SerializeAssignment(ConsumerAssignment assignment, short version = HighestAssignmentVersion)
    {
        var w = new Writer();
        w.Int16(version);
        w.TopicPartitions(assignment.Partitions);
        w.Bytes(assignment.UserData);
        return w.ToArray();
    }

    public static ConsumerAssignment DeserializeAssignment(ReadOnlySpan<byte> data)
    {
        // An empty assignment (a member the leader gave nothing, or a failed sync) has no bytes at all.
        if (data.IsEmpty) return new ConsumerAssignment([]);
        var r = new Reader(data);
        short version = r.Int16();
        if (version < 0) throw new KafkaException(ErrorCode.InconsistentGroupProtocol, $"Unsupported consumer assignment version {version}.");
        return new ConsumerAssignment(r.TopicPartitions(), r.Bytes());
    }

    private sealed class Writer
    {
        private readonly MemoryStream _s = new();
        private readonly byte[] _b = new byte[4];
        public void Int16(short v) { BinaryPrimitives.WriteInt16BigEndian(_b, v); _s.Write(_b, 0, 2); }
        public void Int32(int v) { BinaryPrimitives.WriteInt32BigEndian(_b, v); _s.Write(_b, 0, 4); }
        public void String(string? s)
        {
            if (s is null) { Int16(-1); return; }
            var bytes = Encoding.UTF8.GetBytes(s);
            Int16(checked((short)bytes.Length));
            _s.Write(bytes);
        }
        public void Bytes(byte[]? b)
        {
            if (b is null) { Int32(-1); return; }
            Int32(b.Length);
            _s.Write(b);
        }
        // Grouped by topic in first-seen order, as Kafka's ConsumerProtocol writes them.
        public void TopicPartitions(IReadOnlyList<TopicPartition> partitions)
        {
            var byTopic = partitions.GroupBy(p => p.Topic).ToList();
            Int32(byTopic.Count);
            foreach (var g in byTopic)
            {
                String(g.Key);
                Int32(g.Count());
                foreach (var p in g) Int32(p.Partition);
            }
        }
        public byte[] ToArray() => _s.ToArray();
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private ReadOnlySpan<byte> _d = data;

        private ReadOnlySpan<byte> Take(int n)
        {
            if (n < 0 || n > _d.Length) throw new KafkaException(ErrorCode.InconsistentGroupProtocol, "Consumer protocol data is truncated or malformed.");
            var s = _d[..n];
            _d = _d[n..];
            return s;
        }
        public short Int16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));
        public int Int32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));
        public int Count()
        {
            int n = Int32();
            // Each element takes at least 2 bytes, which bounds what a malformed count can make us allocate.
            if (n < 0 || n > _d.Length / 2 + 1) throw new KafkaException(ErrorCode.InconsistentGroupProtocol, "Consumer protocol data has an invalid array length.");
            return n;
        }
        public string? String()
        {
            short n = Int16();
            return n < 0 ? null : Encoding.UTF8.GetString(Take(n));
        }
        public byte[]? Bytes()
        {
            int n = Int32();
            return n < 0 ? null : Take(n).ToArray();
        }
        public List<TopicPartition> TopicPartitions()
        {
            var list = new List<TopicPartition>();
            for (int i = 0, n = Count(); i < n; i++)
            {
                var topic = String() ?? throw new KafkaException(ErrorCode.InconsistentGroupProtocol, "Consumer protocol data has a null topic.");
                for (int j = 0, m = Count(); j < m; j++) list.Add(new TopicPartition(topic, Int32()));
            }
            return list;
        }
    }
}
