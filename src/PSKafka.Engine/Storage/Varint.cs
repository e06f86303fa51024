using System.Runtime.CompilerServices;

namespace PSKafka.Engine.Storage;

/// <summary>
/// Kafka's variable-length integers (protobuf style, 7 bits a byte, low group first).
/// Signed varint/varlong are zigzag-encoded, as in record batch v2 records and headers.
/// Reads are bounds-checked and throw <see cref="KafkaException"/> (CorruptMessage) on malformed input.
/// </summary>
public static class Varint
{
    public const int MaxVarintBytes = 5;
    public const int MaxVarlongBytes = 10;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint ZigZag(int v) => (uint)((v << 1) ^ (v >> 31));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int UnZigZag(uint v) => (int)(v >> 1) ^ -(int)(v & 1);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long UnZigZag(ulong v) => (long)(v >> 1) ^ -(long)(v & 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SizeOfUnsigned(uint v) => ((31 - System.Numerics.BitOperations.LeadingZeroCount(v | 1)) / 7) + 1;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SizeOfUnsigned(ulong v) => ((63 - System.Numerics.BitOperations.LeadingZeroCount(v | 1)) / 7) + 1;
    /// <summary>Bytes needed for a zigzag varint.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SizeOfVarint(int v) => SizeOfUnsigned(ZigZag(v));
    /// <summary>Bytes needed for a zigzag varlong.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SizeOfVarlong(long v) => SizeOfUnsigned(ZigZag(v));

    /// <summary>Writes an unsigned varint; returns bytes written. The caller guarantees room (5 bytes max).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WriteUnsigned(Span<byte> dst, uint v)
    {
        int i = 0;
        while (v >= 0x80)
        {
            dst[i++] = (byte)(v | 0x80);
            v >>= 7;
        }
        dst[i++] = (byte)v;
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WriteUnsigned(Span<byte> dst, ulong v)
    {
        int i = 0;
        while (v >= 0x80)
        {
            dst[i++] = (byte)(v | 0x80);
            v >>= 7;
        }
        dst[i++] = (byte)v;
        return i;
    }

    /// <summary>Writes a zigzag varint; returns bytes written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WriteVarint(Span<byte> dst, int v) => WriteUnsigned(dst, ZigZag(v));

    /// <summary>Writes a zigzag varlong; returns bytes written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WriteVarlong(Span<byte> dst, long v) => WriteUnsigned(dst, ZigZag(v));

    /// <summary>Reads an unsigned varint at <paramref name="pos"/>, advancing it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint ReadUnsigned(ReadOnlySpan<byte> src, ref int pos)
    {
        // Fast path: one byte (lengths under 64, deltas, counts).
        if ((uint)pos < (uint)src.Length && src[pos] < 0x80) return src[pos++];
        return ReadUnsignedSlow(src, ref pos);
    }

    private static uint ReadUnsignedSlow(ReadOnlySpan<byte> src, ref int pos)
    {
        uint result = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            if ((uint)pos >= (uint)src.Length) throw Truncated();
            byte b = src[pos++];
            if (shift == 28 && b > 0x0F) throw TooLong();
            result |= (uint)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }
        throw TooLong();
    }

    public static ulong ReadUnsignedLong(ReadOnlySpan<byte> src, ref int pos)
    {
        if ((uint)pos < (uint)src.Length && src[pos] < 0x80) return src[pos++];
        ulong result = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if ((uint)pos >= (uint)src.Length) throw Truncated();
            byte b = src[pos++];
            if (shift == 63 && b > 0x01) throw TooLong();
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }
        throw TooLong();
    }

    /// <summary>Reads a zigzag varint at <paramref name="pos"/>, advancing it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ReadVarint(ReadOnlySpan<byte> src, ref int pos) => UnZigZag(ReadUnsigned(src, ref pos));

    /// <summary>Reads a zigzag varlong at <paramref name="pos"/>, advancing it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long ReadVarlong(ReadOnlySpan<byte> src, ref int pos) => UnZigZag(ReadUnsignedLong(src, ref pos));

    /// <summary>Non-throwing read for untrusted input.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryReadVarint(ReadOnlySpan<byte> src, ref int pos, out int value)
    {
        // Most record fields take one byte (attributes, small deltas, header counts) or two (record and value
        // lengths up to 8 KB, offset deltas up to 8191): both are decoded here without a call.
        if ((uint)pos + 1 < (uint)src.Length)
        {
            uint b0 = src[pos];
            if (b0 < 0x80)
            {
                value = UnZigZag(b0);
                pos++;
                return true;
            }
            uint b1 = src[pos + 1];
            if (b1 < 0x80)
            {
                value = UnZigZag((b0 & 0x7F) | (b1 << 7));
                pos += 2;
                return true;
            }
        }
        return TryReadVarintSlow(src, ref pos, out value);
    }

    private static bool TryReadVarintSlow(ReadOnlySpan<byte> src, ref int pos, out int value)
    {
        value = 0;
        uint result = 0;
        int p = pos;
        for (int shift = 0; shift < 35; shift += 7)
        {
            if ((uint)p >= (uint)src.Length) return false;
            byte b = src[p++];
            if (shift == 28 && b > 0x0F) return false;
            result |= (uint)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                value = UnZigZag(result);
                pos = p;
                return true;
            }
        }
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryReadVarlong(ReadOnlySpan<byte> src, ref int pos, out long value)
    {
        if ((uint)pos < (uint)src.Length && src[pos] < 0x80)
        {
            value = UnZigZag((ulong)src[pos]);
            pos++;
            return true;
        }
        return TryReadVarlongSlow(src, ref pos, out value);
    }

    private static bool TryReadVarlongSlow(ReadOnlySpan<byte> src, ref int pos, out long value)
    {
        value = 0;
        ulong result = 0;
        int p = pos;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if ((uint)p >= (uint)src.Length) return false;
            byte b = src[p++];
            if (shift == 63 && b > 0x01) return false;
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                value = UnZigZag(result);
                pos = p;
                return true;
            }
        }
        return false;
    }

    private static KafkaException Truncated() => new(ErrorCode.CorruptMessage, "Varint runs past the end of the buffer.");
    private static KafkaException TooLong() => new(ErrorCode.CorruptMessage, "Varint is too long.");
}
