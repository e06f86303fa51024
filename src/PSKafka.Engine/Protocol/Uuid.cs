namespace PSKafka.Engine.Protocol;

/// <summary>Kafka's 128-bit id (topic ids): two big-endian longs. Not System.Guid, whose byte order differs.</summary>
public readonly record struct Uuid(long MostSignificantBits, long LeastSignificantBits)
{
    public static readonly Uuid Zero = default;

    /// <summary>The same 128 bits as <paramref name="guid"/> read in its canonical (big-endian) text order.</summary>
    public static Uuid FromGuid(Guid guid)
    {
        Span<byte> b = stackalloc byte[16];
        guid.TryWriteBytes(b, bigEndian: true, out _);
        return new(System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(b), System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(b[8..]));
    }

    public Guid ToGuid()
    {
        Span<byte> b = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(b, MostSignificantBits);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(b[8..], LeastSignificantBits);
        return new Guid(b, bigEndian: true);
    }

    public override string ToString() => $"{MostSignificantBits:x16}{LeastSignificantBits:x16}";
}

/// <summary>A tagged field this code does not know; kept as raw bytes.</summary>
public sealed record RawTaggedField(int Tag, byte[] Data)
{
    public bool Equals(RawTaggedField? other) => other is not null && Tag == other.Tag && Data.AsSpan().SequenceEqual(other.Data);

    public override int GetHashCode() => HashCode.Combine(Tag, Data.Length);
}
