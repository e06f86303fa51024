using System.Buffers.Binary;
using System.Text;

namespace PSKafka.Engine.Protocol;

/// <summary>
/// Big-endian Kafka primitive reader over a frame. Every length is checked against the bytes left
/// before anything is allocated, and every failure is a <see cref="ProtocolException"/>.
/// Records and raw slices are zero-copy views of the underlying memory.
/// </summary>
public ref struct ProtocolReader
{
    readonly ReadOnlyMemory<byte> _memory;
    readonly ReadOnlySpan<byte> _span;
    int _pos;

    public ProtocolReader(ReadOnlyMemory<byte> memory)
    {
        _memory = memory;
        _span = memory.Span;
        _pos = 0;
    }

    public readonly int Position => _pos;

    public readonly int Remaining => _span.Length - _pos;

    public readonly bool IsAtEnd => _pos == _span.Length;

    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    ReadOnlySpan<byte> Take(int count)
    {
        if ((uint)count > (uint)Remaining) throw Truncated(count);
        var s = _span.Slice(_pos, count);
        _pos += count;
        return s;
    }

    readonly ProtocolException Truncated(long wanted) =>
        new($"need {wanted} bytes at offset {_pos} but only {Remaining} remain");

    public sbyte ReadInt8() => (sbyte)Take(1)[0];

    public short ReadInt16() => BinaryPrimitives.ReadInt16BigEndian(Take(2));

    public ushort ReadUInt16() => BinaryPrimitives.ReadUInt16BigEndian(Take(2));

    public int ReadInt32() => BinaryPrimitives.ReadInt32BigEndian(Take(4));

    public long ReadInt64() => BinaryPrimitives.ReadInt64BigEndian(Take(8));

    public double ReadFloat64() => BinaryPrimitives.ReadDoubleBigEndian(Take(8));

    public bool ReadBool() => Take(1)[0] switch
    {
        0 => false,
        1 => true,
        var b => throw new ProtocolException($"bool byte {b} at offset {_pos - 1}"),
    };

    public Uuid ReadUuid()
    {
        var s = Take(16);
        return new Uuid(BinaryPrimitives.ReadInt64BigEndian(s), BinaryPrimitives.ReadInt64BigEndian(s[8..]));
    }

    public uint ReadUnsignedVarint()
    {
        uint value = 0;
        for (int shift = 0; shift <= 28; shift += 7)
        {
            byte b = Take(1)[0];
            if (shift == 28 && b > 0x0F) throw new ProtocolException("varint is longer than 32 bits");
            value |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new ProtocolException("varint is longer than 5 bytes");
    }

    public ulong ReadUnsignedVarlong()
    {
        ulong value = 0;
        for (int shift = 0; shift <= 63; shift += 7)
        {
            byte b = Take(1)[0];
            if (shift == 63 && b > 0x01) throw new ProtocolException("varlong is longer than 64 bits");
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new ProtocolException("varlong is longer than 10 bytes");
    }

    /// <summary>Zigzag-encoded signed varint (record fields).</summary>
    public int ReadVarint()
    {
        uint v = ReadUnsignedVarint();
        return (int)(v >> 1) ^ -(int)(v & 1);
    }

    public long ReadVarlong()
    {
        ulong v = ReadUnsignedVarlong();
        return (long)(v >> 1) ^ -(long)(v & 1);
    }

    /// <summary>Reads a length: compact = unsigned varint N+1 (0 = null), classic = int16/int32 (-1 = null). Returns -1 for null.</summary>
    int ReadLength(bool compact, bool wide)
    {
        long n = compact ? (long)ReadUnsignedVarint() - 1 : wide ? ReadInt32() : ReadInt16();
        if (n < -1) throw new ProtocolException($"negative length {n} at offset {_pos}");
        if (n > Remaining) throw Truncated(n);
        return (int)n;
    }

    public string ReadString(bool compact) =>
        ReadNullableString(compact, nullable: false) ?? throw new ProtocolException("null string where none is allowed");

    public string? ReadNullableString(bool compact, bool nullable)
    {
        int n = ReadLength(compact, wide: false);
        if (n < 0) return nullable ? null : throw new ProtocolException($"null string at offset {_pos} where none is allowed");
        var bytes = Take(n);
        try { return StrictUtf8.GetString(bytes); }
        catch (DecoderFallbackException) { throw new ProtocolException($"invalid UTF-8 in string at offset {_pos - n}"); }
    }

    public byte[] ReadBytes(bool compact) =>
        ReadNullableBytes(compact, nullable: false) ?? throw new ProtocolException("null bytes where none are allowed");

    public byte[]? ReadNullableBytes(bool compact, bool nullable)
    {
        int n = ReadLength(compact, wide: true);
        if (n < 0) return nullable ? null : throw new ProtocolException($"null bytes at offset {_pos} where none are allowed");
        return Take(n).ToArray();
    }

    /// <summary>Record batches: a zero-copy slice of the frame (valid only as long as the frame's buffer).</summary>
    public ReadOnlyMemory<byte>? ReadRecords(bool compact, bool nullable)
    {
        int n = ReadLength(compact, wide: true);
        if (n < 0) return nullable ? null : throw new ProtocolException($"null records at offset {_pos} where none are allowed");
        return ReadRawMemory(n);
    }

    public ReadOnlyMemory<byte> ReadRawMemory(int count)
    {
        if ((uint)count > (uint)Remaining) throw Truncated(count);
        var m = _memory.Slice(_pos, count);
        _pos += count;
        return m;
    }

    /// <summary>Array element count; -1 for null. Elements take at least <paramref name="minElementSize"/> bytes,
    /// so a count the remaining bytes cannot hold is rejected before any list is allocated.</summary>
    public int ReadArrayLength(bool compact, int minElementSize, bool nullable)
    {
        long n = compact ? (long)ReadUnsignedVarint() - 1 : ReadInt32();
        if (n < -1) throw new ProtocolException($"negative array length {n} at offset {_pos}");
        if (n == -1) return nullable ? -1 : throw new ProtocolException($"null array at offset {_pos} where none is allowed");
        if (n * minElementSize > Remaining) throw new ProtocolException($"array of {n} elements cannot fit in {Remaining} bytes");
        return (int)n;
    }

    /// <summary>An unsigned-varint count of items each at least <paramref name="minItemSize"/> bytes (tagged field count).</summary>
    public int ReadCount(int minItemSize)
    {
        uint n = ReadUnsignedVarint();
        if ((long)n * minItemSize > Remaining) throw new ProtocolException($"{n} items cannot fit in {Remaining} bytes");
        return (int)n;
    }

    public int ReadTag()
    {
        uint tag = ReadUnsignedVarint();
        return tag > int.MaxValue ? throw new ProtocolException($"tag {tag} out of range") : (int)tag;
    }

    /// <summary>Reads a tagged field's size and returns a reader confined to its bytes (advancing past them).</summary>
    public ProtocolReader ReadTaggedFieldBody()
    {
        uint size = ReadUnsignedVarint();
        if (size > (uint)Remaining) throw Truncated(size);
        return new ProtocolReader(ReadRawMemory((int)size));
    }

    public readonly void EnsureConsumed()
    {
        if (!IsAtEnd) throw new ProtocolException($"{Remaining} unexpected bytes left at offset {_pos}");
    }

    public byte[] ReadRemainingCopy() => Take(Remaining).ToArray();

    /// <summary>What is left, zero-copy.</summary>
    public ReadOnlyMemory<byte> ReadRemaining() => ReadRawMemory(Remaining);
}
