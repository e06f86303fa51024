using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using PSKafka.Engine.Network;

namespace PSKafka.Engine.Protocol;

/// <summary>
/// Big-endian Kafka primitive writer into a growable buffer rented from <see cref="IoBuffers.Pool"/>.
/// Dispose returns the buffer; <see cref="DetachFrame"/> hands it to a <see cref="ResponseBody"/> instead.
/// </summary>
public sealed class ProtocolWriter : IBufferWriter<byte>, IDisposable
{
    byte[] _buffer;
    int _length;
    readonly int _start; // bytes reserved in front for a size prefix

    public ProtocolWriter(int initialCapacity = 256) : this(initialCapacity, 0) { }

    ProtocolWriter(int initialCapacity, int reserved)
    {
        _buffer = IoBuffers.Pool.Rent(Math.Max(initialCapacity, 16) + reserved);
        _start = reserved;
        _length = reserved;
    }

    /// <summary>A writer whose output becomes a size-prefixed network frame (4 bytes reserved in front).</summary>
    public static ProtocolWriter ForFrame(int initialCapacity = 256) => new(initialCapacity, 4);

    /// <summary>Bytes written (not counting a reserved prefix).</summary>
    public int Length => _length - _start;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(_start, Length);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(_start, Length);

    public void Advance(int count)
    {
        if ((uint)count > (uint)(_buffer.Length - _length)) throw new ArgumentOutOfRangeException(nameof(count));
        _length += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) { Ensure(sizeHint); return _buffer.AsMemory(_length); }

    public Span<byte> GetSpan(int sizeHint = 0) { Ensure(sizeHint); return _buffer.AsSpan(_length); }

    void Ensure(int more)
    {
        more = Math.Max(more, 1);
        if (_buffer.Length - _length >= more) return;
        long wanted = Math.Max((long)_buffer.Length * 2, (long)_length + more);
        if (wanted > Array.MaxLength) throw new InvalidOperationException("message too large to encode");
        var bigger = IoBuffers.Pool.Rent((int)wanted);
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        IoBuffers.Pool.Return(_buffer);
        _buffer = bigger;
    }

    Span<byte> Next(int count)
    {
        Ensure(count);
        var s = _buffer.AsSpan(_length, count);
        _length += count;
        return s;
    }

    public void WriteInt8(sbyte v) => Next(1)[0] = (byte)v;
    public void WriteInt16(short v) => BinaryPrimitives.WriteInt16BigEndian(Next(2), v);
    public void WriteUInt16(ushort v) => BinaryPrimitives.WriteUInt16BigEndian(Next(2), v);
    public void WriteInt32(int v) => BinaryPrimitives.WriteInt32BigEndian(Next(4), v);
    public void WriteInt64(long v) => BinaryPrimitives.WriteInt64BigEndian(Next(8), v);
    public void WriteFloat64(double v) => BinaryPrimitives.WriteDoubleBigEndian(Next(8), v);
    public void WriteBool(bool v) => Next(1)[0] = v ? (byte)1 : (byte)0;

    public void WriteUuid(Uuid v)
    {
        var s = Next(16);
        BinaryPrimitives.WriteInt64BigEndian(s, v.MostSignificantBits);
        BinaryPrimitives.WriteInt64BigEndian(s[8..], v.LeastSignificantBits);
    }

    public void WriteUnsignedVarint(uint v)
    {
        while (v >= 0x80) { Next(1)[0] = (byte)(v | 0x80); v >>= 7; }
        Next(1)[0] = (byte)v;
    }

    public void WriteUnsignedVarlong(ulong v)
    {
        while (v >= 0x80) { Next(1)[0] = (byte)(v | 0x80); v >>= 7; }
        Next(1)[0] = (byte)v;
    }

    public void WriteVarint(int v) => WriteUnsignedVarint((uint)((v << 1) ^ (v >> 31)));

    public void WriteVarlong(long v) => WriteUnsignedVarlong((ulong)((v << 1) ^ (v >> 63)));

    public void WriteRaw(ReadOnlySpan<byte> bytes) => bytes.CopyTo(Next(bytes.Length));

    /// <summary>Length prefix: compact = unsigned varint N+1 (0 = null); classic = int16 or int32 (-1 = null).</summary>
    void WriteLength(int n, bool compact, bool wide)
    {
        if (compact) WriteUnsignedVarint((uint)(n + 1));
        else if (wide) WriteInt32(n);
        else if (n > short.MaxValue) throw new InvalidOperationException($"string of {n} bytes is too long for an int16 length");
        else WriteInt16((short)n);
    }

    public void WriteString(string? s, bool compact)
    {
        if (s is null) { WriteLength(-1, compact, wide: false); return; }
        int n = Encoding.UTF8.GetByteCount(s);
        WriteLength(n, compact, wide: false);
        Encoding.UTF8.GetBytes(s, Next(n));
    }

    public void WriteBytes(byte[]? b, bool compact)
    {
        if (b is null) { WriteLength(-1, compact, wide: true); return; }
        WriteLength(b.Length, compact, wide: true);
        WriteRaw(b);
    }

    public void WriteRecords(ReadOnlyMemory<byte>? records, bool compact)
    {
        if (records is not { } r) { WriteLength(-1, compact, wide: true); return; }
        WriteLength(r.Length, compact, wide: true);
        WriteRaw(r.Span);
    }

    public void WriteArrayLength(int count, bool compact) => WriteLength(count, compact, wide: true);

    /// <summary>Writes unknown tagged fields (kept in ascending tag order) whose tag is below <paramref name="belowTag"/>,
    /// so they interleave correctly with the known ones.</summary>
    public void WriteUnknownTaggedFields(List<RawTaggedField>? fields, ref int index, int belowTag)
    {
        if (fields is null) return;
        while (index < fields.Count && fields[index].Tag < belowTag)
        {
            var f = fields[index++];
            WriteUnsignedVarint((uint)f.Tag);
            WriteUnsignedVarint((uint)f.Data.Length);
            WriteRaw(f.Data);
        }
    }

    /// <summary>Fills in the reserved size prefix and hands the buffer over; this writer is then empty.</summary>
    public ResponseBody DetachFrame()
    {
        if (_start != 4) throw new InvalidOperationException("only writers from ForFrame() produce frames");
        BinaryPrimitives.WriteInt32BigEndian(_buffer, Length);
        var body = new ResponseBody(_buffer, _length, pooled: true);
        _buffer = [];
        _length = 0;
        return body;
    }

    public void Dispose()
    {
        if (_buffer.Length > 0) IoBuffers.Pool.Return(_buffer);
        _buffer = [];
        _length = 0;
    }

    internal static KafkaException CannotCarry(string field, short version) =>
        new(ErrorCode.UnsupportedVersion, $"field {field} is set but version {version} cannot carry it");

    internal static KafkaException NotNullable(string field, short version) =>
        new(ErrorCode.UnsupportedVersion, $"field {field} is null but version {version} does not allow null");
}
