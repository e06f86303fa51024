namespace PSKafka.Engine.Protocol;

/// <summary>Kafka's 128-bit id (topic ids): two big-endian longs. Not System.Guid, whose byte order differs.</summary>
public readonly record struct Uuid(long MostSignificantBits, long LeastSignificantBits)
{
    public static readonly Uuid Zero = default;

    public override string ToString() => $"{MostSignificantBits:x16}{LeastSignificantBits:x16}";
}

/// <summary>A tagged field this code does not know; kept as raw bytes.</summary>
public sealed record RawTaggedField(int Tag, byte[] Data)
{
    public bool Equals(RawTaggedField? other) => other is not null && Tag == other.Tag && Data.AsSpan().SequenceEqual(other.Data);

    public override int GetHashCode() => HashCode.Combine(Tag, Data.Length);
}
