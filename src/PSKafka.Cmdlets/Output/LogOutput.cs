using System.Globalization;
using System.Text;
using PSKafka.Engine.Storage;

namespace PSKafka.Cmdlets.Output;

/// <summary>One segment of a partition's log on a broker: what <c>ls -l &lt;log.dir&gt;/&lt;topic&gt;-&lt;p&gt;</c> shows, and what is in it.</summary>
public sealed class LogSegmentInfo
{
    public string Topic { get; init; } = "";
    public int Partition { get; init; }
    public int BrokerId { get; init; }
    public long BaseOffset { get; init; }
    /// <summary>The segment's .log file; Read-LogSegment binds to it.</summary>
    public string Path { get; init; } = "";
    public string IndexPath { get; init; } = "";
    public string TimeIndexPath { get; init; } = "";
    /// <summary>Bytes of the .log (the broker's visible size).</summary>
    public long Size { get; init; }
    public long IndexSize { get; init; }
    public long TimeIndexSize { get; init; }
    public int BatchCount { get; init; }
    /// <summary>Records in the segment; fewer than LastOffset - FirstOffset + 1 once compaction left gaps.</summary>
    public long RecordCount { get; init; }
    /// <summary>-1 when the segment is empty.</summary>
    public long FirstOffset { get; init; }
    public long LastOffset { get; init; }
    /// <summary>Timestamp (ms since the epoch) of the first record; -1 when empty.</summary>
    public long FirstTimestamp { get; init; }
    /// <summary>maxTimestamp of the last batch; -1 when empty.</summary>
    public long LastTimestamp { get; init; }
    /// <summary>Largest timestamp in the segment: time-based retention compares it with retention.ms.</summary>
    public long MaxTimestamp { get; init; }
    /// <summary>The segment being appended to; retention and the cleaner leave it alone.</summary>
    public bool IsActive { get; init; }
    public DateTime LastWriteTime { get; init; }

    internal static LogSegmentInfo From(string topic, int partition, int brokerId, SegmentSummary s)
    {
        string dir = System.IO.Path.GetDirectoryName(s.LogPath) ?? "";
        return new LogSegmentInfo
        {
            Topic = topic,
            Partition = partition,
            BrokerId = brokerId,
            BaseOffset = s.BaseOffset,
            Path = s.LogPath,
            IndexPath = LogFileNames.IndexFile(dir, s.BaseOffset),
            TimeIndexPath = LogFileNames.TimeIndexFile(dir, s.BaseOffset),
            Size = s.LogBytes,
            IndexSize = s.IndexBytes,
            TimeIndexSize = s.TimeIndexBytes,
            BatchCount = s.BatchCount,
            RecordCount = s.RecordCount,
            FirstOffset = s.FirstOffset,
            LastOffset = s.LastOffset,
            FirstTimestamp = s.FirstTimestamp,
            LastTimestamp = s.LastTimestamp,
            MaxTimestamp = s.MaxTimestamp,
            IsActive = s.IsActive,
            LastWriteTime = File.Exists(s.LogPath) ? File.GetLastWriteTime(s.LogPath) : default,
        };
    }

    public override string ToString() => Path;
}

/// <summary>One record batch of a .log file, with the fields kafka-dump-log.sh prints.</summary>
public sealed class LogBatchInfo
{
    public string Path { get; init; } = "";
    public long Position { get; init; }
    public long BaseOffset { get; init; }
    public long LastOffset { get; init; }
    public int Count { get; init; }
    public int Size { get; init; }
    public byte Magic { get; init; }
    /// <summary>none, gzip, snappy, lz4 or zstd, as kafka-dump-log names them.</summary>
    public string CompressCodec { get; init; } = "none";
    public string TimestampType { get; init; } = "CreateTime";
    public long BaseTimestamp { get; init; }
    /// <summary>The batch's maxTimestamp (kafka-dump-log prints it as CreateTime: or LogAppendTime:).</summary>
    public long MaxTimestamp { get; init; }
    /// <summary>Set by the log cleaner on batches with tombstones (KIP-534); null otherwise.</summary>
    public long? DeleteHorizonMs { get; init; }
    public uint Crc { get; init; }
    /// <summary>The stored CRC-32C matches the content (and the records decode, with -Records).</summary>
    public bool IsValid { get; init; }
    public long ProducerId { get; init; }
    public short ProducerEpoch { get; init; }
    public int BaseSequence { get; init; }
    public int LastSequence { get; init; }
    public bool IsTransactional { get; init; }
    public bool IsControl { get; init; }
    public int PartitionLeaderEpoch { get; init; }
    /// <summary>What is wrong with the batch, when something is.</summary>
    public string? Problem { get; init; }

    internal static LogBatchInfo From(string path, DumpedBatch b) => new()
    {
        Path = path,
        Position = b.Position,
        BaseOffset = b.BaseOffset,
        LastOffset = b.LastOffset,
        Count = b.Count,
        Size = b.Size,
        Magic = b.Magic,
        CompressCodec = b.Compression.ToString().ToLowerInvariant(),
        TimestampType = b.TimestampType.ToString(),
        BaseTimestamp = b.BaseTimestamp,
        MaxTimestamp = b.MaxTimestamp,
        DeleteHorizonMs = b.DeleteHorizonMs,
        Crc = b.Crc,
        IsValid = b.IsValid,
        ProducerId = b.ProducerId,
        ProducerEpoch = b.ProducerEpoch,
        BaseSequence = b.BaseSequence,
        LastSequence = b.LastSequence,
        IsTransactional = b.IsTransactional,
        IsControl = b.IsControl,
        PartitionLeaderEpoch = b.PartitionLeaderEpoch,
        Problem = b.Problem,
    };

    /// <summary>The line kafka-dump-log.sh prints for a batch.</summary>
    public override string ToString()
    {
        var ci = CultureInfo.InvariantCulture;
        var horizon = DeleteHorizonMs is { } h ? $"OptionalLong[{h.ToString(ci)}]" : "OptionalLong.empty";
        var line = string.Create(ci, $"baseOffset: {BaseOffset} lastOffset: {LastOffset} count: {Count} baseSequence: {BaseSequence} lastSequence: {LastSequence} producerId: {ProducerId} producerEpoch: {ProducerEpoch} partitionLeaderEpoch: {PartitionLeaderEpoch} isTransactional: {(IsTransactional ? "true" : "false")} isControl: {(IsControl ? "true" : "false")} deleteHorizonMs: {horizon} position: {Position} {TimestampType}: {MaxTimestamp} size: {Size} magic: {Magic} compresscodec: {CompressCodec} crc: {Crc} isvalid: {(IsValid ? "true" : "false")}");
        return Problem is null ? line : $"{line} ({Problem})";
    }
}

/// <summary>One record of a batch (Read-LogSegment -Records: kafka-dump-log's --print-data-log).</summary>
public sealed class LogRecordInfo
{
    public LogBatchInfo Batch { get; init; } = new();
    public long Offset { get; init; }
    public long Timestamp { get; init; }
    public string TimestampType { get; init; } = "CreateTime";
    /// <summary>-1 for a null key.</summary>
    public int KeySize { get; init; }
    /// <summary>-1 for a null value (a tombstone).</summary>
    public int ValueSize { get; init; }
    public int Sequence { get; init; }
    /// <summary>The key decoded as UTF-8, as kafka-dump-log prints it; null for a null key.</summary>
    public string? Key { get; init; }
    /// <summary>The value decoded as UTF-8 (kafka-dump-log's payload); null for a tombstone.</summary>
    public string? Value { get; init; }
    public byte[]? KeyBytes { get; init; }
    public byte[]? ValueBytes { get; init; }
    public IReadOnlyList<RecordHeader> Headers { get; init; } = [];
    public bool IsTombstone => ValueBytes is null;

    internal static LogRecordInfo From(LogBatchInfo batch, DumpedRecord r) => new()
    {
        Batch = batch,
        Offset = r.Offset,
        Timestamp = r.Timestamp,
        TimestampType = batch.TimestampType,
        KeySize = r.Key?.Length ?? -1,
        ValueSize = r.Value?.Length ?? -1,
        Sequence = r.Sequence,
        Key = r.Key is null ? null : Encoding.UTF8.GetString(r.Key),
        Value = r.Value is null ? null : Encoding.UTF8.GetString(r.Value),
        KeyBytes = r.Key,
        ValueBytes = r.Value,
        Headers = r.Headers,
    };

    /// <summary>The line kafka-dump-log.sh --print-data-log prints for a record.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"| offset: {Offset} {TimestampType}: {Timestamp} keySize: {KeySize} valueSize: {ValueSize} sequence: {Sequence} headerKeys: [{string.Join(",", Headers.Select(h => h.Key))}]");
        if (Key is not null) sb.Append(" key: ").Append(Key);
        sb.Append(" payload: ").Append(Value ?? "null");
        return sb.ToString();
    }
}

/// <summary>An entry of a segment's .index file: offset → byte position in the .log.</summary>
public sealed class OffsetIndexEntryInfo
{
    public string Path { get; init; } = "";
    public int Entry { get; init; }
    public long Offset { get; init; }
    public int Position { get; init; }
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"offset: {Offset} position: {Position}");
}

/// <summary>An entry of a segment's .timeindex file: timestamp → offset.</summary>
public sealed class TimeIndexEntryInfo
{
    public string Path { get; init; } = "";
    public int Entry { get; init; }
    public long Timestamp { get; init; }
    public long Offset { get; init; }
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"timestamp: {Timestamp} offset: {Offset}");
}

/// <summary>What Invoke-LogRetention did to one partition on one broker.</summary>
public sealed class LogRetentionInfo
{
    public int BrokerId { get; init; }
    public string Topic { get; init; } = "";
    public int Partition { get; init; }
    public int SegmentsDeleted { get; init; }
    public long LogStartOffset { get; init; }
    public long LogEndOffset { get; init; }
}

/// <summary>What Invoke-LogCleaner did to one partition on one broker.</summary>
public sealed class LogCleanerInfo
{
    public int BrokerId { get; init; }
    public string Topic { get; init; } = "";
    public int Partition { get; init; }
    public bool Cleaned { get; init; }
    public double DirtyRatio { get; init; }
    public long FirstDirtyOffset { get; init; }
    /// <summary>Cleaned up to here (the active segment's base offset, or lower for the high watermark and min.compaction.lag.ms).</summary>
    public long FirstUncleanableOffset { get; init; }
    public int SegmentsRewritten { get; init; }
    public long BytesBefore { get; init; }
    public long BytesAfter { get; init; }
    public long RecordsRemoved { get; init; }
    public long TombstonesRemoved { get; init; }
    /// <summary>Why nothing was cleaned.</summary>
    public string? Reason { get; init; }
}
