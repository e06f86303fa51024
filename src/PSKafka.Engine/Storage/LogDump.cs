using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using static PSKafka.Engine.Storage.RecordBatchFormat;

namespace PSKafka.Engine.Storage;

/// <summary>One batch of a .log file as kafka-dump-log.sh prints it.</summary>
public sealed record DumpedBatch(
    long Position,
    long BaseOffset,
    long LastOffset,
    int Count,
    int Size,
    byte Magic,
    CompressionType Compression,
    TimestampType TimestampType,
    long BaseTimestamp,
    long MaxTimestamp,
    long? DeleteHorizonMs,
    uint Crc,
    bool IsValid,
    long ProducerId,
    short ProducerEpoch,
    int BaseSequence,
    int LastSequence,
    bool IsTransactional,
    bool IsControl,
    int PartitionLeaderEpoch,
    IReadOnlyList<DumpedRecord>? Records,
    string? Problem);

/// <summary>One record of a batch (--deep-iteration / --print-data-log).</summary>
public sealed record DumpedRecord(long Offset, long Timestamp, byte[]? Key, byte[]? Value, IReadOnlyList<RecordHeader> Headers, int Sequence);

public readonly record struct OffsetIndexEntry(int Entry, long Offset, int Position);

public readonly record struct TimeIndexEntry(int Entry, long Timestamp, long Offset);

/// <summary>What Get-LogSegment shows about one segment.</summary>
public sealed record SegmentSummary(
    long BaseOffset,
    string LogPath,
    long LogBytes,
    long IndexBytes,
    long TimeIndexBytes,
    int BatchCount,
    long RecordCount,
    long FirstOffset,
    long LastOffset,
    long FirstTimestamp,
    long LastTimestamp,
    long MaxTimestamp,
    bool IsActive);

/// <summary>
/// Read-only inspection of segment files, what kafka-dump-log.sh does: works on the files of a running broker
/// (opened with shared read/write/delete access, read only up to a given size) and on copies. A damaged batch is
/// reported (IsValid false, or a Problem and the end of the walk) rather than thrown.
/// </summary>
public static class LogDump
{
    /// <summary>Delete-horizon attribute bit (KIP-534): baseTimestamp then holds the time tombstones may go.</summary>
    public const int DeleteHorizonFlag = 0x40;

    private static SafeFileHandle OpenShared(string path) =>
        File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);

    /// <summary>The batches of a .log file up to <paramref name="limit"/> bytes (default: the file length).</summary>
    public static IEnumerable<DumpedBatch> ReadBatches(string logPath, bool includeRecords, long? limit = null)
    {
        using var file = OpenShared(logPath);
        long end = Math.Min(limit ?? long.MaxValue, RandomAccess.GetLength(file));
        long pos = 0;
        var header = new byte[HeaderSize];
        while (pos < end)
        {
            long remaining = end - pos;
            if (remaining < HeaderSize)
            {
                yield return Broken(pos, $"{remaining} trailing bytes, too few for a batch header.");
                yield break;
            }
            ReadAt(file, header, pos);
            int length = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(BatchLengthOffset));
            if (length < HeaderSize - LogOverhead || length > remaining - LogOverhead)
            {
                // Nothing after a bad length can be trusted: kafka-dump-log stops here too.
                yield return Broken(pos, $"Batch length {length} at position {pos} does not fit the {remaining} remaining bytes.");
                yield break;
            }
            var bytes = new byte[length + LogOverhead];
            ReadAt(file, bytes, pos);
            yield return Describe(bytes, pos, includeRecords);
            pos += bytes.Length;
        }
    }

    /// <summary>Decodes one whole batch held in <paramref name="bytes"/>; never throws on bad content.</summary>
    public static DumpedBatch Describe(byte[] bytes, long position, bool includeRecords)
    {
        var b = new RecordBatch(bytes);
        bool valid = b.Magic == CurrentMagic && b.Crc == b.ComputeCrc();
        bool horizon = (b.Attributes & DeleteHorizonFlag) != 0;
        int baseSeq = b.BaseSequence;
        string? problem = b.Magic != CurrentMagic ? $"Unsupported magic {b.Magic}." : valid ? null : "CRC mismatch.";
        List<DumpedRecord>? records = null;
        if (includeRecords && b.Magic == CurrentMagic)
        {
            records = new List<DumpedRecord>(Math.Clamp(b.RecordCount, 0, 1024));
            try
            {
                foreach (var r in b.Records)
                {
                    int seq = baseSeq < 0 ? -1 : (int)((baseSeq + (r.Offset - b.BaseOffset)) % ((long)int.MaxValue + 1));
                    records.Add(new DumpedRecord(r.Offset, r.Timestamp, r.KeyArray, r.ValueArray, r.GetHeaders().Select(h => new RecordHeader(h.Key, h.ValueArray)).ToArray(), seq));
                }
            }
            catch (Exception e) when (e is KafkaException or ArgumentOutOfRangeException or IndexOutOfRangeException or InvalidDataException)
            {
                problem = (problem is null ? "" : problem + " ") + $"Records cannot be decoded: {e.Message}";
                valid = false;
            }
        }
        return new DumpedBatch(position, b.BaseOffset, b.LastOffset, b.RecordCount, bytes.Length, b.Magic, b.Compression, b.TimestampType,
            b.BaseTimestamp, b.MaxTimestamp, horizon ? b.BaseTimestamp : null, b.Crc, valid, b.ProducerId, b.ProducerEpoch,
            baseSeq, baseSeq < 0 ? -1 : (int)((baseSeq + (long)b.LastOffsetDelta) % ((long)int.MaxValue + 1)),
            b.IsTransactional, b.IsControl, b.PartitionLeaderEpoch, records, problem);
    }

    private static DumpedBatch Broken(long position, string problem) =>
        new(position, -1, -1, 0, 0, 0, CompressionType.None, TimestampType.CreateTime, NoTimestamp, NoTimestamp, null, 0, false,
            NoProducerId, NoProducerEpoch, NoSequence, NoSequence, false, false, NoPartitionLeaderEpoch, null, problem);

    /// <summary>
    /// Entries of an .index file. The active segment's index is preallocated with zeros, so the walk stops at a zero
    /// entry: one with relative offset 0 after the first (as kafka-dump-log), or (0, position 0) at the start, which no
    /// broker writes (the batch at position 0 is never indexed).
    /// </summary>
    public static IEnumerable<OffsetIndexEntry> ReadOffsetIndex(string indexPath)
    {
        long baseOffset = BaseOffsetOf(indexPath);
        var data = ReadAll(indexPath);
        for (int i = 0; (i + 1) * OffsetIndex.EntryBytes <= data.Length; i++)
        {
            int p = i * OffsetIndex.EntryBytes;
            int rel = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(p));
            int position = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(p + 4));
            if (rel == 0 && (i > 0 || position == 0)) yield break;
            yield return new OffsetIndexEntry(i, baseOffset + rel, position);
        }
    }

    /// <summary>Entries of a .timeindex file, stopping at the zero-filled preallocated tail.</summary>
    public static IEnumerable<TimeIndexEntry> ReadTimeIndex(string timeIndexPath)
    {
        long baseOffset = BaseOffsetOf(timeIndexPath);
        var data = ReadAll(timeIndexPath);
        for (int i = 0; (i + 1) * TimeIndex.EntryBytes <= data.Length; i++)
        {
            int p = i * TimeIndex.EntryBytes;
            long ts = BinaryPrimitives.ReadInt64BigEndian(data.AsSpan(p));
            int rel = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(p + 8));
            if (ts == 0 && rel == 0) yield break;
            yield return new TimeIndexEntry(i, ts, baseOffset + rel);
        }
    }

    /// <summary>
    /// Summary of one segment: batch headers only (plus the first record, for its timestamp), read up to
    /// <paramref name="visibleBytes"/> so a live segment's half-written tail is never looked at.
    /// </summary>
    public static SegmentSummary Summarize(string logPath, long visibleBytes, bool isActive)
    {
        string dir = Path.GetDirectoryName(logPath) ?? ".";
        long baseOffset = BaseOffsetOf(logPath);
        int batches = 0;
        long records = 0, first = -1, last = -1, firstTs = NoTimestamp, lastTs = NoTimestamp, maxTs = NoTimestamp;
        using (var file = OpenShared(logPath))
        {
            using var scan = new BatchScanner(file, 0, Math.Min(visibleBytes, RandomAccess.GetLength(file)), wholeBatches: false);
            while (scan.Next() == ScanStatus.Batch)
            {
                var h = scan.Current;
                if (batches == 0)
                {
                    first = scan.BaseOffset;
                    firstTs = FirstRecordTimestamp(file, scan.Position, scan.Size);
                }
                batches++;
                records += BinaryPrimitives.ReadInt32BigEndian(h.Slice(RecordsCountOffset));
                last = scan.LastOffset;
                lastTs = scan.MaxTimestamp;
                maxTs = Math.Max(maxTs, lastTs);
            }
        }
        return new SegmentSummary(baseOffset, logPath, visibleBytes,
            SizeOf(LogFileNames.IndexFile(dir, baseOffset)), SizeOf(LogFileNames.TimeIndexFile(dir, baseOffset)),
            batches, records, first, last, firstTs, lastTs, maxTs, isActive);
    }

    // baseTimestamp is the first record's time unless the cleaner put a delete horizon there: decode to be sure.
    private static long FirstRecordTimestamp(SafeFileHandle file, long position, int size)
    {
        var bytes = new byte[size];
        ReadAt(file, bytes, position);
        var b = new RecordBatch(bytes);
        try
        {
            foreach (var r in b.Records) return r.Timestamp;
        }
        catch (Exception e) when (e is KafkaException or InvalidDataException or ArgumentOutOfRangeException) { }
        return b.BaseTimestamp;
    }

    private static long SizeOf(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    private static long BaseOffsetOf(string path) => LogFileNames.TryParseOffset(path, out long o) ? o : 0;

    private static byte[] ReadAll(string path)
    {
        using var file = OpenShared(path);
        var data = new byte[RandomAccess.GetLength(file)];
        ReadAt(file, data, 0);
        return data;
    }

    private static void ReadAt(SafeFileHandle file, byte[] into, long position)
    {
        int got = 0;
        while (got < into.Length)
        {
            int n = RandomAccess.Read(file, into.AsSpan(got), position + got);
            if (n <= 0) throw new IOException($"File ended at {position + got} while reading {into.Length} bytes at {position}.");
            got += n;
        }
    }
}
