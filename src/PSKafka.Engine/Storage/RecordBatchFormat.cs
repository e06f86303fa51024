using System.Buffers.Binary;

namespace PSKafka.Engine.Storage;

/// <summary>Kafka compression codecs; the value is the code stored in attribute bits 0-2.</summary>
public enum CompressionType : byte
{
    None = 0,
    Gzip = 1,
    Snappy = 2,
    Lz4 = 3,
    Zstd = 4,
}

/// <summary>Attribute bit 3 of a batch: whose clock the timestamps are.</summary>
public enum TimestampType : byte
{
    CreateTime = 0,
    LogAppendTime = 1,
}

/// <summary>
/// The record batch format, magic v2 (KIP-98), in one place. All integers are big-endian.
/// <code>
/// offset len field
///      0   8 baseOffset           first offset of the batch         (not covered by crc)
///      8   4 batchLength          bytes after this field            (not covered by crc)
///     12   4 partitionLeaderEpoch set by the leader                 (not covered by crc)
///     16   1 magic                2
///     17   4 crc                  CRC-32C of bytes 21..end
///     21   2 attributes           bits 0-2 compression, 3 timestampType, 4 transactional, 5 control
///     23   4 lastOffsetDelta
///     27   8 baseTimestamp
///     35   8 maxTimestamp
///     43   8 producerId           -1 when not idempotent
///     51   2 producerEpoch
///     53   4 baseSequence
///     57   4 recordsCount
///     61   . records              compressed as a whole when compression != 0
/// record: length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
///         keyLength varint (-1 = null), key, valueLength varint (-1 = null), value,
///         headersCount varint, then per header: keyLength varint, key (UTF-8), valueLength varint (-1 = null), value
/// </code>
/// </summary>
public static class RecordBatchFormat
{
    public const int BaseOffsetOffset = 0;
    public const int BatchLengthOffset = 8;
    public const int PartitionLeaderEpochOffset = 12;
    public const int MagicOffset = 16;
    public const int CrcOffset = 17;
    public const int AttributesOffset = 21;
    public const int LastOffsetDeltaOffset = 23;
    public const int BaseTimestampOffset = 27;
    public const int MaxTimestampOffset = 35;
    public const int ProducerIdOffset = 43;
    public const int ProducerEpochOffset = 51;
    public const int BaseSequenceOffset = 53;
    public const int RecordsCountOffset = 57;
    public const int RecordsOffset = 61;

    /// <summary>Size of the batch header, i.e. of an empty batch.</summary>
    public const int HeaderSize = RecordsOffset;
    /// <summary>baseOffset + batchLength: the bytes not counted in batchLength (Kafka's LOG_OVERHEAD).</summary>
    public const int LogOverhead = 12;
    /// <summary>Where the CRC-covered region starts.</summary>
    public const int CrcStart = AttributesOffset;
    public const byte CurrentMagic = 2;

    public const int CompressionMask = 0x07;
    public const int TimestampTypeFlag = 0x08;
    public const int TransactionalFlag = 0x10;
    public const int ControlFlag = 0x20;

    public const long NoProducerId = -1;
    public const short NoProducerEpoch = -1;
    public const int NoSequence = -1;
    public const int NoPartitionLeaderEpoch = -1;
    public const long NoTimestamp = -1;

    /// <summary>Smallest encoded record: 7 one-byte fields (length, attributes, ts, offset, key, value, headers).</summary>
    public const int MinRecordSize = 7;

    internal static short Attributes(CompressionType c, TimestampType t, bool transactional, bool control) =>
        (short)((int)c | (t == TimestampType.LogAppendTime ? TimestampTypeFlag : 0) |
                (transactional ? TransactionalFlag : 0) | (control ? ControlFlag : 0));

    /// <summary>Total size of the batch starting at <paramref name="buffer"/>, or -1 if fewer than 12 bytes are there.</summary>
    public static int BatchSize(ReadOnlySpan<byte> buffer) =>
        buffer.Length < LogOverhead ? -1 : LogOverhead + BinaryPrimitives.ReadInt32BigEndian(buffer.Slice(BatchLengthOffset));
}
