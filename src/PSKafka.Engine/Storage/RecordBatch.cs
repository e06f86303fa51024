using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using static PSKafka.Engine.Storage.RecordBatchFormat;

namespace PSKafka.Engine.Storage;

/// <summary>
/// A read-only view of one magic-v2 record batch (layout in <see cref="RecordBatchFormat"/>). Header fields are
/// read on demand; <see cref="Records"/> decodes records, decompressing the batch first when needed.
/// Static helpers edit or validate a batch held in a buffer, for the broker's append path.
/// </summary>
public readonly struct RecordBatch
{
    /// <param name="memory">Exactly one batch (its first <see cref="SizeInBytes"/> bytes are used).</param>
    public RecordBatch(ReadOnlyMemory<byte> memory) => Memory = memory;

    public ReadOnlyMemory<byte> Memory { get; }
    private ReadOnlySpan<byte> S => Memory.Span;

    public long BaseOffset => BinaryPrimitives.ReadInt64BigEndian(S);
    public int BatchLength => BinaryPrimitives.ReadInt32BigEndian(S.Slice(BatchLengthOffset));
    public int SizeInBytes => BatchLength + LogOverhead;
    public int PartitionLeaderEpoch => BinaryPrimitives.ReadInt32BigEndian(S.Slice(PartitionLeaderEpochOffset));
    public byte Magic => S[MagicOffset];
    public uint Crc => BinaryPrimitives.ReadUInt32BigEndian(S.Slice(CrcOffset));
    public short Attributes => BinaryPrimitives.ReadInt16BigEndian(S.Slice(AttributesOffset));
    public CompressionType Compression => (CompressionType)(Attributes & CompressionMask);
    public TimestampType TimestampType => (Attributes & TimestampTypeFlag) != 0 ? TimestampType.LogAppendTime : TimestampType.CreateTime;
    public bool IsTransactional => (Attributes & TransactionalFlag) != 0;
    public bool IsControl => (Attributes & ControlFlag) != 0;
    public int LastOffsetDelta => BinaryPrimitives.ReadInt32BigEndian(S.Slice(LastOffsetDeltaOffset));
    public long LastOffset => BaseOffset + LastOffsetDelta;
    public long NextOffset => LastOffset + 1;
    public long BaseTimestamp => BinaryPrimitives.ReadInt64BigEndian(S.Slice(BaseTimestampOffset));
    public long MaxTimestamp => BinaryPrimitives.ReadInt64BigEndian(S.Slice(MaxTimestampOffset));
    public long ProducerId => BinaryPrimitives.ReadInt64BigEndian(S.Slice(ProducerIdOffset));
    public short ProducerEpoch => BinaryPrimitives.ReadInt16BigEndian(S.Slice(ProducerEpochOffset));
    public int BaseSequence => BinaryPrimitives.ReadInt32BigEndian(S.Slice(BaseSequenceOffset));
    public int RecordCount => BinaryPrimitives.ReadInt32BigEndian(S.Slice(RecordsCountOffset));

    /// <summary>CRC-32C of attributes..end, as it should be stored.</summary>
    public uint ComputeCrc() => Crc32C.Compute(S.Slice(CrcStart, SizeInBytes - CrcStart));

    /// <summary>The stored CRC matches the content.</summary>
    public bool IsValid => Memory.Length >= HeaderSize && SizeInBytes <= Memory.Length && Crc == ComputeCrc();

    /// <summary>The records section, decompressed if needed.</summary>
    public ReadOnlyMemory<byte> RecordsSection()
    {
        var raw = Memory.Slice(RecordsOffset, SizeInBytes - RecordsOffset);
        var c = Compression;
        return c == CompressionType.None ? raw : CompressionCodec.Decompress(c, raw.Span);
    }

    public RecordEnumerable Records => new(this);

    public override string ToString() =>
        $"RecordBatch(baseOffset={BaseOffset}, lastOffset={LastOffset}, count={RecordCount}, size={SizeInBytes}, compression={Compression})";

    // ---- in-place editing (fields outside the CRC, or re-CRC'd) ----

    /// <summary>Sets baseOffset; not covered by the CRC.</summary>
    public static void SetBaseOffset(Span<byte> batch, long baseOffset) =>
        BinaryPrimitives.WriteInt64BigEndian(batch, baseOffset);

    /// <summary>Sets partitionLeaderEpoch; not covered by the CRC.</summary>
    public static void SetPartitionLeaderEpoch(Span<byte> batch, int epoch) =>
        BinaryPrimitives.WriteInt32BigEndian(batch.Slice(PartitionLeaderEpochOffset), epoch);

    /// <summary>Sets the timestamp type and maxTimestamp, then recomputes the CRC (both are covered by it).</summary>
    public static void SetMaxTimestamp(Span<byte> batch, TimestampType type, long maxTimestamp)
    {
        short attrs = BinaryPrimitives.ReadInt16BigEndian(batch.Slice(AttributesOffset));
        attrs = (short)(type == TimestampType.LogAppendTime ? attrs | TimestampTypeFlag : attrs & ~TimestampTypeFlag);
        BinaryPrimitives.WriteInt16BigEndian(batch.Slice(AttributesOffset), attrs);
        BinaryPrimitives.WriteInt64BigEndian(batch.Slice(MaxTimestampOffset), maxTimestamp);
        int size = BinaryPrimitives.ReadInt32BigEndian(batch.Slice(BatchLengthOffset)) + LogOverhead;
        BinaryPrimitives.WriteUInt32BigEndian(batch.Slice(CrcOffset), Crc32C.Compute(batch.Slice(CrcStart, size - CrcStart)));
    }

    // ---- validation of untrusted input: error codes, never exceptions ----

    /// <summary>
    /// Checks the header of the batch at the start of <paramref name="buffer"/> and its CRC: batchLength fits the buffer,
    /// magic is 2, record count and lastOffsetDelta agree and are plausible for the size. Returns CorruptMessage otherwise.
    /// </summary>
    public static ErrorCode ValidateHeader(ReadOnlySpan<byte> buffer, out int batchSize)
    {
        batchSize = 0;
        if (buffer.Length < HeaderSize) return ErrorCode.CorruptMessage;
        int length = BinaryPrimitives.ReadInt32BigEndian(buffer.Slice(BatchLengthOffset));
        if (length < HeaderSize - LogOverhead || length > buffer.Length - LogOverhead) return ErrorCode.CorruptMessage;
        batchSize = length + LogOverhead;
        if (buffer[MagicOffset] != CurrentMagic) return ErrorCode.CorruptMessage;
        int count = BinaryPrimitives.ReadInt32BigEndian(buffer.Slice(RecordsCountOffset));
        int lastDelta = BinaryPrimitives.ReadInt32BigEndian(buffer.Slice(LastOffsetDeltaOffset));
        if (count < 0 || lastDelta < 0 && count > 0) return ErrorCode.CorruptMessage;
        short attrs = BinaryPrimitives.ReadInt16BigEndian(buffer.Slice(AttributesOffset));
        int compression = attrs & CompressionMask;
        if (compression > (int)CompressionType.Zstd) return ErrorCode.UnsupportedCompressionType;
        if (compression == 0 && (long)count * MinRecordSize > batchSize - HeaderSize) return ErrorCode.CorruptMessage;
        uint crc = BinaryPrimitives.ReadUInt32BigEndian(buffer.Slice(CrcOffset));
        if (crc != Crc32C.Compute(buffer.Slice(CrcStart, batchSize - CrcStart))) return ErrorCode.CorruptMessage;
        return ErrorCode.None;
    }

    /// <summary>
    /// Walks every record (decompressing if needed): each record within bounds and its length, offset deltas 0..n-1,
    /// count matching the header and lastOffsetDelta. Also yields the largest record timestamp.
    /// Call after <see cref="ValidateHeader"/>.
    /// </summary>
    public static ErrorCode ValidateRecords(RecordBatch batch, out long maxTimestamp) => ValidateRecords(batch.Memory.Span, out maxTimestamp);

    /// <inheritdoc cref="ValidateRecords(RecordBatch, out long)"/>
    public static ErrorCode ValidateRecords(ReadOnlySpan<byte> batch, out long maxTimestamp)
    {
        maxTimestamp = NoTimestamp;
        int size = BinaryPrimitives.ReadInt32BigEndian(batch.Slice(BatchLengthOffset)) + LogOverhead;
        var compression = (CompressionType)(BinaryPrimitives.ReadInt16BigEndian(batch.Slice(AttributesOffset)) & CompressionMask);
        ReadOnlySpan<byte> s = batch.Slice(RecordsOffset, size - RecordsOffset);
        if (compression != CompressionType.None)
        {
            try { s = CompressionCodec.Decompress(compression, s); }
            catch (KafkaException e) { return e.Code; }
        }
        int count = BinaryPrimitives.ReadInt32BigEndian(batch.Slice(RecordsCountOffset));
        int lastOffsetDelta = BinaryPrimitives.ReadInt32BigEndian(batch.Slice(LastOffsetDeltaOffset));
        long baseTs = BinaryPrimitives.ReadInt64BigEndian(batch.Slice(BaseTimestampOffset));
        if (count == 0) return lastOffsetDelta is 0 or -1 ? ErrorCode.None : ErrorCode.CorruptMessage;
        if (lastOffsetDelta != count - 1) return ErrorCode.InvalidRecord;
        int pos = 0;
        for (int i = 0; i < count; i++)
        {
            if (!Varint.TryReadVarint(s, ref pos, out int len) || len < MinRecordSize - 1 || len > s.Length - pos) return ErrorCode.CorruptMessage;
            int end = pos + len;
            var r = s.Slice(0, end);
            int p = pos + 1; // attributes
            if (!Varint.TryReadVarlong(r, ref p, out long tsDelta)) return ErrorCode.CorruptMessage;
            if (!Varint.TryReadVarint(r, ref p, out int offsetDelta) || offsetDelta != i) return ErrorCode.InvalidRecord;
            if (!Varint.TryReadVarint(r, ref p, out int keyLen) || keyLen < -1 || keyLen > end - p) return ErrorCode.CorruptMessage;
            p += Math.Max(keyLen, 0);
            if (!Varint.TryReadVarint(r, ref p, out int valueLen) || valueLen < -1 || valueLen > end - p) return ErrorCode.CorruptMessage;
            p += Math.Max(valueLen, 0);
            if (!Varint.TryReadVarint(r, ref p, out int headers) || headers < 0) return ErrorCode.CorruptMessage;
            for (int h = 0; h < headers; h++)
            {
                if (!Varint.TryReadVarint(r, ref p, out int hk) || hk < 0 || hk > end - p) return ErrorCode.CorruptMessage;
                p += hk;
                if (!Varint.TryReadVarint(r, ref p, out int hv) || hv < -1 || hv > end - p) return ErrorCode.CorruptMessage;
                p += Math.Max(hv, 0);
            }
            if (p != end) return ErrorCode.CorruptMessage;
            long ts = baseTs + tsDelta;
            if (ts > maxTimestamp) maxTimestamp = ts;
            pos = end;
        }
        return pos == s.Length ? ErrorCode.None : ErrorCode.CorruptMessage;
    }
}

/// <summary>One decoded record. Key/Value slice the batch (or its decompressed copy); no copying.</summary>
public readonly struct Record
{
    internal Record(long offset, long timestamp, byte attributes, ReadOnlyMemory<byte> key, bool keyIsNull,
                    ReadOnlyMemory<byte> value, bool valueIsNull, int headerCount, ReadOnlyMemory<byte> rawHeaders)
    {
        Offset = offset;
        Timestamp = timestamp;
        Attributes = attributes;
        Key = key;
        KeyIsNull = keyIsNull;
        Value = value;
        ValueIsNull = valueIsNull;
        HeaderCount = headerCount;
        RawHeaders = rawHeaders;
    }

    public long Offset { get; }
    /// <summary>The record's timestamp, or the batch's maxTimestamp when the batch uses LogAppendTime.</summary>
    public long Timestamp { get; }
    public byte Attributes { get; }
    public ReadOnlyMemory<byte> Key { get; }
    public bool KeyIsNull { get; }
    public ReadOnlyMemory<byte> Value { get; }
    public bool ValueIsNull { get; }
    public int HeaderCount { get; }
    /// <summary>The encoded headers (after the count), for zero-copy forwarding.</summary>
    public ReadOnlyMemory<byte> RawHeaders { get; }

    public byte[]? KeyArray => KeyIsNull ? null : Key.ToArray();
    public byte[]? ValueArray => ValueIsNull ? null : Value.ToArray();

    /// <summary>Decodes the headers (allocates the names).</summary>
    public RecordHeader[] GetHeaders()
    {
        if (HeaderCount == 0) return [];
        var result = new RecordHeader[HeaderCount];
        var s = RawHeaders.Span;
        int p = 0;
        for (int i = 0; i < HeaderCount; i++)
        {
            int kl = Varint.ReadVarint(s, ref p);
            if (kl < 0 || kl > s.Length - p) throw Corrupt();
            string name = System.Text.Encoding.UTF8.GetString(s.Slice(p, kl));
            p += kl;
            int vl = Varint.ReadVarint(s, ref p);
            if (vl < -1 || vl > s.Length - p) throw Corrupt();
            result[i] = vl < 0 ? new RecordHeader(name, default, true) : new RecordHeader(name, RawHeaders.Slice(p, vl));
            p += Math.Max(vl, 0);
        }
        return result;
    }

    private static KafkaException Corrupt() => new(ErrorCode.CorruptMessage, "Record header runs past the record.");
}

/// <summary>foreach-able records of one batch.</summary>
public readonly struct RecordEnumerable
{
    private readonly RecordBatch _batch;
    internal RecordEnumerable(RecordBatch batch) => _batch = batch;
    public RecordEnumerator GetEnumerator() => new(_batch);
}

/// <summary>Decodes records one by one; throws <see cref="KafkaException"/> (CorruptMessage) on malformed records.</summary>
public struct RecordEnumerator
{
    private readonly ReadOnlyMemory<byte> _records;
    private readonly long _baseOffset;
    private readonly long _baseTimestamp;
    private readonly long _logAppendTime; // NoTimestamp unless the batch is LogAppendTime
    private int _remaining;
    private int _pos;
    private Record _current;

    internal RecordEnumerator(RecordBatch batch)
    {
        _records = batch.RecordsSection();
        _baseOffset = batch.BaseOffset;
        _baseTimestamp = batch.BaseTimestamp;
        _logAppendTime = batch.TimestampType == TimestampType.LogAppendTime ? batch.MaxTimestamp : NoTimestamp;
        _remaining = batch.RecordCount;
        _pos = 0;
        _current = default;
    }

    public readonly Record Current => _current;

    public bool MoveNext()
    {
        if (_remaining <= 0) return false;
        _remaining--;
        var all = _records.Span;
        int pos = _pos;
        int len = Varint.ReadVarint(all, ref pos);
        if (len < MinRecordSize - 1 || len > all.Length - pos) throw Corrupt();
        int end = pos + len;
        var s = all.Slice(0, end);
        byte attrs = s[pos++];
        long tsDelta = Varint.ReadVarlong(s, ref pos);
        int offsetDelta = Varint.ReadVarint(s, ref pos);
        int keyLen = Varint.ReadVarint(s, ref pos);
        if (keyLen < -1 || keyLen > end - pos) throw Corrupt();
        var key = keyLen > 0 ? _records.Slice(pos, keyLen) : default;
        pos += Math.Max(keyLen, 0);
        int valueLen = Varint.ReadVarint(s, ref pos);
        if (valueLen < -1 || valueLen > end - pos) throw Corrupt();
        var value = valueLen > 0 ? _records.Slice(pos, valueLen) : default;
        pos += Math.Max(valueLen, 0);
        int headerCount = Varint.ReadVarint(s, ref pos);
        if (headerCount < 0) throw Corrupt();
        long ts = _logAppendTime != NoTimestamp ? _logAppendTime : _baseTimestamp + tsDelta;
        _current = new Record(_baseOffset + offsetDelta, ts, attrs, key, keyLen < 0, value, valueLen < 0,
                              headerCount, _records.Slice(pos, end - pos));
        _pos = end;
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static KafkaException Corrupt() => new(ErrorCode.CorruptMessage, "Record overruns its length.");
}

/// <summary>
/// Enumerates the batches in a buffer of concatenated batches (a log slice, a produce or fetch payload).
/// Stops cleanly at a trailing partial batch, as a fetch response may end with one; <see cref="BytesConsumed"/>
/// then tells where the complete batches end. Does not check CRCs (see <see cref="RecordBatch.IsValid"/>).
/// </summary>
public struct RecordBatchReader
{
    private readonly ReadOnlyMemory<byte> _buffer;
    private int _next;
    private RecordBatch _current;

    public RecordBatchReader(ReadOnlyMemory<byte> buffer)
    {
        _buffer = buffer;
        _next = 0;
        _current = default;
    }

    public readonly RecordBatch Current => _current;
    /// <summary>Bytes of complete batches returned so far.</summary>
    public readonly int BytesConsumed => _next;
    public readonly RecordBatchReader GetEnumerator() => this;

    public bool MoveNext()
    {
        var rest = _buffer.Span.Slice(_next);
        if (rest.Length < HeaderSize) return false;
        int length = BinaryPrimitives.ReadInt32BigEndian(rest.Slice(BatchLengthOffset));
        if (length < HeaderSize - LogOverhead || length > rest.Length - LogOverhead) return false;
        _current = new RecordBatch(_buffer.Slice(_next, length + LogOverhead));
        _next += length + LogOverhead;
        return true;
    }

    /// <summary>All complete batches in <paramref name="buffer"/>.</summary>
    public static List<RecordBatch> ReadAll(ReadOnlyMemory<byte> buffer)
    {
        var list = new List<RecordBatch>();
        foreach (var b in new RecordBatchReader(buffer)) list.Add(b);
        return list;
    }
}
