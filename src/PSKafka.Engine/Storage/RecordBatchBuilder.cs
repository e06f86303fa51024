using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using static PSKafka.Engine.Storage.RecordBatchFormat;

namespace PSKafka.Engine.Storage;

/// <summary>
/// Builds one magic-v2 record batch (see <see cref="RecordBatchFormat"/>) in a pooled buffer that is reused after
/// <see cref="Reset"/>. Records are encoded straight into place (sizes are known up front, so no second pass);
/// <see cref="Build"/> fills the header and CRC, compressing the records section first when asked to.
/// Not thread-safe. The memory returned by Build stays valid until the next Append/Reset/Dispose.
/// </summary>
public sealed class RecordBatchBuilder : IDisposable
{
    private byte[] _buf;
    private int _length = RecordsOffset;   // end of written records in _buf
    private int _count;
    private long _baseTimestamp;
    private long _maxTimestamp = NoTimestamp;
    private MemoryStream? _compressed;     // reused output for compressed batches

    public RecordBatchBuilder(CompressionType compression = CompressionType.None, int initialCapacity = 16 * 1024)
    {
        Compression = compression;
        _buf = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, RecordsOffset + 64));
    }

    public CompressionType Compression { get; set; }
    public long BaseOffset { get; set; }
    public int PartitionLeaderEpoch { get; set; } = NoPartitionLeaderEpoch;
    public long ProducerId { get; set; } = NoProducerId;
    public short ProducerEpoch { get; set; } = NoProducerEpoch;
    public int BaseSequence { get; set; } = NoSequence;
    public bool IsTransactional { get; set; }
    public bool IsControl { get; set; }
    public TimestampType TimestampType { get; set; } = TimestampType.CreateTime;

    /// <summary>Records appended since the last reset.</summary>
    public int Count => _count;

    /// <summary>Uncompressed size of the batch so far, for "is the batch full" decisions.</summary>
    public int EstimatedSize => _length;

    /// <summary>Appends a record whose key and value are both non-null.</summary>
    public void Append(long timestamp, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) =>
        Append(timestamp, key, false, value, false, default);

    /// <summary>Appends a record; a null key/value is written as length -1, unlike an empty one.</summary>
    public void Append(long timestamp, byte[]? key, byte[]? value, IReadOnlyList<RecordHeader>? headers = null)
    {
        if (headers is null || headers.Count == 0)
        {
            Append(timestamp, key, key is null, value, value is null, default);
            return;
        }
        var arr = headers as RecordHeader[] ?? headers.ToArray();
        Append(timestamp, key, key is null, value, value is null, arr);
    }

    /// <summary>The general, allocation-free form.</summary>
    public void Append(long timestamp, ReadOnlySpan<byte> key, bool keyIsNull, ReadOnlySpan<byte> value, bool valueIsNull,
                       ReadOnlySpan<RecordHeader> headers)
    {
        if (_count == 0) _baseTimestamp = timestamp;
        long tsDelta = timestamp - _baseTimestamp;
        int offsetDelta = _count;
        int keyLen = keyIsNull ? -1 : key.Length;
        int valueLen = valueIsNull ? -1 : value.Length;

        int bodySize = 1 + Varint.SizeOfVarlong(tsDelta) + Varint.SizeOfVarint(offsetDelta)
                       + Varint.SizeOfVarint(keyLen) + Math.Max(keyLen, 0)
                       + Varint.SizeOfVarint(valueLen) + Math.Max(valueLen, 0)
                       + Varint.SizeOfVarint(headers.Length);
        foreach (ref readonly var h in headers)
        {
            int hk = Encoding.UTF8.GetByteCount(h.Key);
            int hv = h.IsValueNull ? -1 : h.Value.Length;
            bodySize += Varint.SizeOfVarint(hk) + hk + Varint.SizeOfVarint(hv) + Math.Max(hv, 0);
        }

        EnsureCapacity(Varint.MaxVarintBytes + bodySize);
        Span<byte> d = _buf.AsSpan(_length);
        int p = Varint.WriteVarint(d, bodySize);
        d[p++] = 0; // record attributes: unused
        p += Varint.WriteVarlong(d.Slice(p), tsDelta);
        p += Varint.WriteVarint(d.Slice(p), offsetDelta);
        p += Varint.WriteVarint(d.Slice(p), keyLen);
        if (keyLen > 0) { key.CopyTo(d.Slice(p)); p += keyLen; }
        p += Varint.WriteVarint(d.Slice(p), valueLen);
        if (valueLen > 0) { value.CopyTo(d.Slice(p)); p += valueLen; }
        p += Varint.WriteVarint(d.Slice(p), headers.Length);
        foreach (ref readonly var h in headers)
        {
            int hk = Encoding.UTF8.GetByteCount(h.Key);
            p += Varint.WriteVarint(d.Slice(p), hk);
            p += Encoding.UTF8.GetBytes(h.Key, d.Slice(p));
            int hv = h.IsValueNull ? -1 : h.Value.Length;
            p += Varint.WriteVarint(d.Slice(p), hv);
            if (hv > 0) { h.Value.Span.CopyTo(d.Slice(p)); p += hv; }
        }
        _length += p;
        _count++;
        if (timestamp > _maxTimestamp) _maxTimestamp = timestamp;
    }

    /// <summary>
    /// Finishes the batch: header, optional compression, CRC. The result is writable so a broker can
    /// assign offsets in place. Valid until the next Append/Reset.
    /// </summary>
    public Memory<byte> Build()
    {
        if (_count == 0) throw new InvalidOperationException("A record batch needs at least one record.");
        byte[] target;
        int size;
        if (Compression == CompressionType.None)
        {
            target = _buf;
            size = _length;
        }
        else
        {
            var ms = _compressed ??= new MemoryStream();
            ms.SetLength(0);
            ms.Write(_buf, 0, RecordsOffset); // header placeholder, filled below
            CompressionCodec.Compress(Compression, _buf.AsSpan(RecordsOffset, _length - RecordsOffset), ms);
            target = ms.GetBuffer();
            size = (int)ms.Length;
        }
        WriteHeader(target.AsSpan(0, size));
        return target.AsMemory(0, size);
    }

    /// <summary>Build() copied into a new array.</summary>
    public byte[] ToArray() => Build().ToArray();

    /// <summary>Starts a new batch, keeping buffers and settings.</summary>
    public void Reset()
    {
        _length = RecordsOffset;
        _count = 0;
        _maxTimestamp = NoTimestamp;
    }

    private void WriteHeader(Span<byte> b)
    {
        BinaryPrimitives.WriteInt64BigEndian(b.Slice(BaseOffsetOffset), BaseOffset);
        BinaryPrimitives.WriteInt32BigEndian(b.Slice(BatchLengthOffset), b.Length - LogOverhead);
        BinaryPrimitives.WriteInt32BigEndian(b.Slice(PartitionLeaderEpochOffset), PartitionLeaderEpoch);
        b[MagicOffset] = CurrentMagic;
        BinaryPrimitives.WriteInt16BigEndian(b.Slice(AttributesOffset), Attributes(Compression, TimestampType, IsTransactional, IsControl));
        BinaryPrimitives.WriteInt32BigEndian(b.Slice(LastOffsetDeltaOffset), _count - 1);
        BinaryPrimitives.WriteInt64BigEndian(b.Slice(BaseTimestampOffset), _baseTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(b.Slice(MaxTimestampOffset), _maxTimestamp);
        BinaryPrimitives.WriteInt64BigEndian(b.Slice(ProducerIdOffset), ProducerId);
        BinaryPrimitives.WriteInt16BigEndian(b.Slice(ProducerEpochOffset), ProducerEpoch);
        BinaryPrimitives.WriteInt32BigEndian(b.Slice(BaseSequenceOffset), BaseSequence);
        BinaryPrimitives.WriteInt32BigEndian(b.Slice(RecordsCountOffset), _count);
        BinaryPrimitives.WriteUInt32BigEndian(b.Slice(CrcOffset), Crc32C.Compute(b.Slice(CrcStart)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void EnsureCapacity(int extra)
    {
        if (_buf.Length - _length < extra) Grow(extra);
    }

    private void Grow(int extra)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buf.Length * 2, _length + extra));
        _buf.AsSpan(0, _length).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buf);
        _buf = bigger;
    }

    public void Dispose()
    {
        var b = _buf;
        _buf = [];
        if (b.Length > 0) ArrayPool<byte>.Shared.Return(b);
        _compressed?.Dispose();
    }
}
