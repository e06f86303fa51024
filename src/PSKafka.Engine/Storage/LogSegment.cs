using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using static PSKafka.Engine.Storage.RecordBatchFormat;

namespace PSKafka.Engine.Storage;

/// <summary>
/// One segment of a partition log (Kafka's LogSegment): <c>&lt;base&gt;.log</c> holds whole record batches back to back,
/// exactly as produced (no file header); <c>&lt;base&gt;.index</c> (<see cref="OffsetIndex"/>) and
/// <c>&lt;base&gt;.timeindex</c> (<see cref="TimeIndex"/>) index it sparsely. The base offset is the first offset the
/// segment may hold, and names all three files as a 20-digit zero-padded number.
/// Appends are positional writes straight to the file (no user-space buffer), so once Append returns the bytes are in the
/// OS page cache and survive a kill of the process; <see cref="Flush"/> makes them survive a power loss.
/// One writer at a time (the owning log's lock); reads may run concurrently and only see bytes below <see cref="Size"/>.
/// </summary>
public sealed class LogSegment : IDisposable
{
    private readonly SafeFileHandle _log;
    private readonly int _indexIntervalBytes;
    private volatile int _size;
    private long _nextOffset;
    private int _bytesSinceLastIndexEntry;
    private long _maxTimestampSoFar = NoTimestamp;
    private long _offsetOfMaxTimestampSoFar;
    private long _rollingBasedTimestamp = NoTimestamp;
    internal OffsetIndex OffsetIndex { get; private set; }
    internal TimeIndex TimeIndex { get; private set; }

    private LogSegment(string dir, long baseOffset, LogConfig config, bool preallocate)
    {
        Directory = dir;
        BaseOffset = baseOffset;
        _indexIntervalBytes = config.IndexIntervalBytes;
        LogPath = LogFileNames.LogFile(dir, baseOffset);
        _log = File.OpenHandle(LogPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        _size = checked((int)RandomAccess.GetLength(_log));
        CreatedMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        (OffsetIndex, TimeIndex) = OpenIndexes(config, preallocate, out bool rebuilt);
        NeedsRecovery = rebuilt;
    }

    public string Directory { get; }
    public string LogPath { get; private set; }
    public long BaseOffset { get; }
    /// <summary>Bytes in the .log visible to readers.</summary>
    public int Size => _size;
    /// <summary>Offset after the last batch (the base offset when empty).</summary>
    public long NextOffset => Volatile.Read(ref _nextOffset);
    /// <summary>Largest batch maxTimestamp in the segment, or -1.</summary>
    public long LargestTimestamp => _maxTimestampSoFar;
    /// <summary>maxTimestamp of the first batch: segment.ms rolls are measured from it, as in Kafka.</summary>
    public long RollingBasedTimestamp => _rollingBasedTimestamp;
    public long CreatedMs { get; }
    /// <summary>The index files were missing or failed the sanity check at open, so <see cref="Recover"/> must run.</summary>
    public bool NeedsRecovery { get; private set; }
    public bool IsEmpty => _size == 0;

    /// <summary>Opens (or creates) the segment at <paramref name="baseOffset"/> in <paramref name="dir"/>.</summary>
    public static LogSegment Open(string dir, long baseOffset, LogConfig config, bool preallocateIndexes)
    {
        var s = new LogSegment(dir, baseOffset, config, preallocateIndexes);
        if (!s.NeedsRecovery) s.LoadStateFromFiles();
        return s;
    }

    private (OffsetIndex, TimeIndex) OpenIndexes(LogConfig config, bool preallocate, out bool rebuilt)
    {
        string oi = LogFileNames.IndexFile(Directory, BaseOffset), ti = LogFileNames.TimeIndexFile(Directory, BaseOffset);
        rebuilt = !File.Exists(oi) || !File.Exists(ti);
        try
        {
            var o = new OffsetIndex(oi, BaseOffset, config.SegmentIndexBytes, preallocate);
            var t = new TimeIndex(ti, BaseOffset, config.SegmentIndexBytes, preallocate);
            try
            {
                o.SanityCheck(_size);
                t.SanityCheck(_size);
            }
            catch (CorruptIndexException)
            {
                o.Reset();
                t.Reset();
                rebuilt = true;
            }
            return (o, t);
        }
        catch (CorruptIndexException)
        {
            // Wrong file length: start both indexes afresh.
            File.Delete(oi);
            File.Delete(ti);
            rebuilt = true;
            return (new OffsetIndex(oi, BaseOffset, config.SegmentIndexBytes, preallocate),
                    new TimeIndex(ti, BaseOffset, config.SegmentIndexBytes, preallocate));
        }
    }

    /// <summary>Next offset, max timestamp and the first batch's timestamp from the index tails and the log.</summary>
    private void LoadStateFromFiles()
    {
        _nextOffset = BaseOffset;
        var (lastTs, lastTsOffset) = TimeIndex.LastEntry;
        _maxTimestampSoFar = lastTs;
        _offsetOfMaxTimestampSoFar = lastTsOffset;
        var (_, pos) = OffsetIndex.Lookup(long.MaxValue);
        using var scan = new BatchScanner(_log, pos, _size, wholeBatches: false);
        bool first = true;
        while (scan.Next() == ScanStatus.Batch)
        {
            if (first && scan.Position == 0) _rollingBasedTimestamp = scan.MaxTimestamp;
            first = false;
            _nextOffset = scan.LastOffset + 1;
            if (scan.MaxTimestamp > _maxTimestampSoFar)
            {
                _maxTimestampSoFar = scan.MaxTimestamp;
                _offsetOfMaxTimestampSoFar = scan.LastOffset;
            }
            _bytesSinceLastIndexEntry += scan.Size;
        }
        if (_rollingBasedTimestamp == NoTimestamp && _size >= HeaderSize)
        {
            using var s = new BatchScanner(_log, 0, _size, wholeBatches: false, chunkSize: HeaderSize);
            if (s.Next() == ScanStatus.Batch) _rollingBasedTimestamp = s.MaxTimestamp;
        }
    }

    /// <summary>Whether a batch ending at <paramref name="lastOffset"/> fits this segment's 32-bit relative offsets.</summary>
    public bool CanConvertToRelativeOffset(long lastOffset) => lastOffset - BaseOffset is >= 0 and <= int.MaxValue;

    /// <summary>Kafka's shouldRoll: size, age (from the first batch's timestamp), full indexes, offset overflow.</summary>
    public bool ShouldRoll(LogConfig config, int appendBytes, long firstTimestampOfAppend, long lastOffset, long now)
    {
        if (_size > 0 && _size > config.SegmentBytes - appendBytes) return true;
        long waited = _rollingBasedTimestamp != NoTimestamp && firstTimestampOfAppend != NoTimestamp
            ? firstTimestampOfAppend - _rollingBasedTimestamp
            : now - CreatedMs;
        if (_size > 0 && waited > config.SegmentMs) return true;
        return OffsetIndex.IsFull || TimeIndex.IsFull || !CanConvertToRelativeOffset(lastOffset);
    }

    /// <summary>
    /// Appends already-validated, offset-assigned batches at the end of the .log and indexes them.
    /// Throws IOException if the write fails (the caller then has to treat the log as failed).
    /// </summary>
    public void Append(ReadOnlySpan<byte> batches)
    {
        if (batches.IsEmpty) return;
        int position = _size;
        RandomAccess.Write(_log, batches, position);
        // Index after the bytes are written, publish size after the indexes: readers never see a gap.
        int p = 0;
        while (p < batches.Length)
        {
            var b = batches.Slice(p);
            int size = BinaryPrimitives.ReadInt32BigEndian(b.Slice(BatchLengthOffset)) + LogOverhead;
            long baseOffset = BinaryPrimitives.ReadInt64BigEndian(b);
            long lastOffset = baseOffset + BinaryPrimitives.ReadInt32BigEndian(b.Slice(LastOffsetDeltaOffset));
            long maxTs = BinaryPrimitives.ReadInt64BigEndian(b.Slice(MaxTimestampOffset));
            IndexBatch(position + p, size, lastOffset, maxTs);
            p += size;
        }
        _size = position + batches.Length;
    }

    private void IndexBatch(int position, int size, long lastOffset, long maxTimestamp)
    {
        if (position == 0) _rollingBasedTimestamp = maxTimestamp;
        if (maxTimestamp > _maxTimestampSoFar)
        {
            _maxTimestampSoFar = maxTimestamp;
            _offsetOfMaxTimestampSoFar = lastOffset;
        }
        if (_bytesSinceLastIndexEntry > _indexIntervalBytes)
        {
            OffsetIndex.Append(lastOffset, position);
            TimeIndex.MaybeAppend(_maxTimestampSoFar, _offsetOfMaxTimestampSoFar);
            _bytesSinceLastIndexEntry = 0;
        }
        _bytesSinceLastIndexEntry += size;
        Volatile.Write(ref _nextOffset, lastOffset + 1);
    }

    /// <summary>Position of the first batch whose last offset is &gt;= <paramref name="offset"/>, with its size; null if none.</summary>
    internal (int Position, int Size)? TranslateOffset(long offset, int maxPosition)
    {
        var (_, pos) = OffsetIndex.Lookup(offset);
        using var scan = new BatchScanner(_log, pos, maxPosition, wholeBatches: false, chunkSize: 8 * 1024);
        while (scan.Next() == ScanStatus.Batch)
            if (scan.LastOffset >= offset) return ((int)scan.Position, scan.Size);
        return null;
    }

    /// <summary>
    /// Whole batches starting with the one containing <paramref name="startOffset"/>, up to <paramref name="maxBytes"/>
    /// (but at least one batch when <paramref name="minOneBatch"/>), only batches whose last offset is below
    /// <paramref name="maxOffsetExclusive"/>. Empty if there are none. With <paramref name="rent"/> the bytes live in
    /// <paramref name="lease"/>, an array from <see cref="IoBuffers.Pool"/> that the caller returns once done with them
    /// (a consumer's megabyte a fetch would otherwise be a fresh large-object allocation every time).
    /// </summary>
    public ReadOnlyMemory<byte> Read(long startOffset, int maxBytes, long maxOffsetExclusive, bool minOneBatch, bool rent, out byte[]? lease)
    {
        lease = null;
        int limit = _size;
        var start = TranslateOffset(startOffset, limit);
        if (start is not { } s) return ReadOnlyMemory<byte>.Empty;
        int want = (int)Math.Min(limit - s.Position, Math.Max(maxBytes, minOneBatch ? s.Size : 0));
        if (want <= 0) return ReadOnlyMemory<byte>.Empty;
        // Filled by the read below: no need to zero it first.
        var buf = rent ? IoBuffers.Pool.Rent(want) : GC.AllocateUninitializedArray<byte>(want);
        try
        {
            ReadExactly(buf.AsSpan(0, want), s.Position);
        }
        catch
        {
            if (rent) IoBuffers.Pool.Return(buf);
            throw;
        }
        // Keep whole batches below the offset limit.
        int end = 0;
        while (end + HeaderSize <= want)
        {
            int size = BinaryPrimitives.ReadInt32BigEndian(buf.AsSpan(end + BatchLengthOffset)) + LogOverhead;
            if (end + size > want) break;
            long last = BinaryPrimitives.ReadInt64BigEndian(buf.AsSpan(end)) + BinaryPrimitives.ReadInt32BigEndian(buf.AsSpan(end + LastOffsetDeltaOffset));
            if (last >= maxOffsetExclusive) break;
            end += size;
        }
        if (rent)
        {
            if (end == 0) IoBuffers.Pool.Return(buf);
            else lease = buf;
        }
        return buf.AsMemory(0, end);
    }

    private void ReadExactly(Span<byte> dst, long position)
    {
        int got = 0;
        while (got < dst.Length)
        {
            int n = RandomAccess.Read(_log, dst.Slice(got), position + got);
            if (n <= 0) throw new IOException($"Unexpected end of {LogPath} at {position + got}.");
            got += n;
        }
    }

    /// <summary>
    /// First record with timestamp &gt;= <paramref name="timestamp"/> at or after <paramref name="startingOffset"/>:
    /// time index, then offset index, then a scan (Kafka's findOffsetByTimestamp).
    /// </summary>
    public (long Timestamp, long Offset)? FindOffsetByTimestamp(long timestamp, long startingOffset)
    {
        var (_, tsOffset) = TimeIndex.Lookup(timestamp);
        var (_, pos) = OffsetIndex.Lookup(Math.Max(tsOffset, startingOffset));
        using var scan = new BatchScanner(_log, pos, _size, wholeBatches: true);
        while (scan.Next() == ScanStatus.Batch)
        {
            if (scan.MaxTimestamp < timestamp) continue;
            var batch = new RecordBatch(scan.Current.ToArray());
            foreach (var r in batch.Records)
                if (r.Timestamp >= timestamp && r.Offset >= startingOffset) return (r.Timestamp, r.Offset);
        }
        return null;
    }

    /// <summary>
    /// Validates every batch (structure, CRC, increasing offsets within the segment), rebuilds both indexes and
    /// truncates the .log at the first torn or corrupt batch. Returns the number of bytes truncated.
    /// </summary>
    public int Recover() => Recover(out _);

    /// <summary>As <see cref="Recover()"/>; <paramref name="problem"/> says why bytes were truncated (null when none were).</summary>
    public int Recover(out string? problem)
    {
        problem = null;
        OffsetIndex.Reset();
        TimeIndex.Reset();
        _maxTimestampSoFar = NoTimestamp;
        _offsetOfMaxTimestampSoFar = BaseOffset;
        _rollingBasedTimestamp = NoTimestamp;
        _bytesSinceLastIndexEntry = 0;
        _nextOffset = BaseOffset;
        int logSize = _size;
        using var scan = new BatchScanner(_log, 0, logSize, wholeBatches: true, chunkSize: 1 << 20);
        int validBytes = 0;
        ScanStatus status;
        while ((status = scan.Next()) == ScanStatus.Batch)
        {
            var b = scan.Current;
            if (RecordBatch.ValidateHeader(b, out _) is var error && error != ErrorCode.None)
            {
                problem = $"the batch at offset {scan.BaseOffset} failed its CRC or header check ({error})";
                break;
            }
            long baseOffset = scan.BaseOffset, last = scan.LastOffset;
            if (baseOffset < _nextOffset || last < baseOffset || !CanConvertToRelativeOffset(last))
            {
                problem = $"the batch at offset {baseOffset} is out of order (expected at least {_nextOffset})";
                break;
            }
            IndexBatch(validBytes, scan.Size, last, scan.MaxTimestamp);
            validBytes += scan.Size;
        }
        if (problem is null && status != ScanStatus.End)
            problem = status == ScanStatus.Truncated ? "the last batch is incomplete (a torn write)" : "a batch header is corrupt (bad length or magic)";
        int truncated = logSize - validBytes;
        if (truncated == 0) problem = null;
        if (truncated > 0) SetLogLength(validBytes);
        _size = validBytes;
        NeedsRecovery = false;
        return truncated;
    }

    /// <summary>Removes the batch containing <paramref name="offset"/> and everything after it (Kafka truncates at
    /// batch boundaries). Returns bytes removed.</summary>
    public int TruncateTo(long offset)
    {
        var start = TranslateOffset(offset, _size);
        if (start is not { } s) return 0;
        int removed = _size - s.Position;
        OffsetIndex.TruncateTo(offset);
        TimeIndex.TruncateTo(offset);
        SetLogLength(s.Position);
        _size = s.Position;
        // Recompute what the removed batches may have contributed.
        _bytesSinceLastIndexEntry = 0;
        _maxTimestampSoFar = NoTimestamp;
        _rollingBasedTimestamp = NoTimestamp;
        LoadStateFromFiles();
        return removed;
    }

    private void SetLogLength(int length)
    {
        RandomAccess.SetLength(_log, length);
    }

    /// <summary>fsync of the .log and both indexes.</summary>
    public void Flush()
    {
        RandomAccess.FlushToDisk(_log);
        OffsetIndex.Flush();
        TimeIndex.Flush();
    }

    /// <summary>Segment stops being active: record the final max timestamp and trim the indexes (Kafka's onBecomeInactiveSegment).</summary>
    public void OnBecomeInactive()
    {
        if (_maxTimestampSoFar != NoTimestamp) TimeIndex.MaybeAppend(_maxTimestampSoFar, _offsetOfMaxTimestampSoFar, skipFullCheck: true);
        OffsetIndex.TrimToValidSize();
        TimeIndex.TrimToValidSize();
    }

    /// <summary>Segment becomes the active one again (reopened at startup): room for appends.</summary>
    public void OnBecomeActive()
    {
        OffsetIndex.Preallocate();
        TimeIndex.Preallocate();
    }

    /// <summary>Renames all files by appending <paramref name="suffix"/> (e.g. ".deleted").</summary>
    public void ChangeFileSuffix(string suffix)
    {
        var newLog = LogFileNames.LogFile(Directory, BaseOffset) + suffix;
        File.Move(LogPath, newLog, overwrite: true);
        LogPath = newLog;
        OffsetIndex.RenameTo(LogFileNames.IndexFile(Directory, BaseOffset) + suffix);
        TimeIndex.RenameTo(LogFileNames.TimeIndexFile(Directory, BaseOffset) + suffix);
    }

    public void Close()
    {
        if (_log.IsClosed) return;
        if (_maxTimestampSoFar != NoTimestamp) TimeIndex.MaybeAppend(_maxTimestampSoFar, _offsetOfMaxTimestampSoFar, skipFullCheck: true);
        OffsetIndex.Close();
        TimeIndex.Close();
        _log.Dispose();
    }

    public void Dispose() => Close();

    /// <summary>Lets go of the files as a crash would: no final time index entry, no trim, no flush.</summary>
    public void Abandon()
    {
        if (_log.IsClosed) return;
        OffsetIndex.Abandon();
        TimeIndex.Abandon();
        _log.Dispose();
    }

    /// <summary>Closes and removes the files.</summary>
    /// <summary>Closes and removes the files. Every handle and mapping is let go even when the files or their directory are gone already.</summary>
    public void Delete()
    {
        _log.Dispose();
        OffsetIndex.Delete();
        TimeIndex.Delete();
        DeleteIfThere(LogPath);
    }

    internal static void DeleteIfThere(string path)
    {
        try { File.Delete(path); }
        catch (DirectoryNotFoundException) { } // the partition's directory went first (topic deletion)
    }

    public override string ToString() => $"LogSegment(base={BaseOffset}, size={Size}, next={NextOffset})";
}
