using System.Buffers.Binary;
using PSKafka.Engine.Logging;
using static PSKafka.Engine.Storage.RecordBatchFormat;

namespace PSKafka.Engine.Storage;

/// <summary>Outcome of an append: offsets given to the records, or the error that rejected them all.</summary>
public readonly record struct LogAppendInfo(
    ErrorCode Error,
    long FirstOffset,
    long LastOffset,
    int RecordCount,
    long MaxTimestamp,
    long LogAppendTime,
    long LogStartOffset,
    string? ErrorMessage = null)
{
    internal static LogAppendInfo Failed(ErrorCode code, string message, long logStartOffset) =>
        new(code, -1, -1, 0, NoTimestamp, NoTimestamp, logStartOffset, message);
}

/// <summary>
/// Result of a read: whole batches (possibly starting before the requested offset), or an error. <see cref="Lease"/>:
/// the pooled array behind <see cref="Records"/> when the read was asked to rent.
/// </summary>
public readonly record struct LogReadResult(ErrorCode Error, ReadOnlyMemory<byte> Records, long LogStartOffset, long LogEndOffset, byte[]? Lease = null);

/// <summary>
/// The log of one partition, a directory <c>&lt;topic&gt;-&lt;partition&gt;</c> of <see cref="LogSegment"/>s plus a
/// <c>leader-epoch-checkpoint</c> (Kafka's UnifiedLog without tiered storage and producer state).
/// One appender at a time (a lock); reads take a snapshot of the segment list and the log end offset and run
/// concurrently, never seeing a half-written batch because sizes and offsets are published after the write.
/// </summary>
public sealed partial class PartitionLog : IDisposable
{
    private readonly object _lock = new();
    private volatile LogSegment[] _segments;
    private long _logEndOffset;
    private long _logStartOffset;
    private long _recoveryPoint;
    private long _unflushedMessages;
    private long _lastFlushMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    private readonly List<(Task Task, LogSegment[] Segments)> _pendingDeletes = new();
    private bool _closed;
    private readonly List<long> _batchMaxTimestamps = new(); // per-batch record max timestamps of the append in progress

    private PartitionLog(string dir, LogConfig config, LogSegment[] segments, long logStartOffset, KafkaLogger log)
    {
        Log = log;
        Directory = dir;
        Config = config;
        _segments = segments;
        _logStartOffset = logStartOffset;
        LeaderEpochCache = new LeaderEpochCache(Path.Combine(dir, LogFileNames.LeaderEpochCheckpoint));
    }

    public string Directory { get; }
    /// <summary>Kafka's UnifiedLog lines: retention and segment deletion.</summary>
    internal KafkaLogger Log { get; }
    public LogConfig Config { get; set; }
    public LeaderEpochCache LeaderEpochCache { get; }
    public long LogStartOffset => Volatile.Read(ref _logStartOffset);
    public long LogEndOffset => Volatile.Read(ref _logEndOffset);
    /// <summary>Offsets below this are known flushed to disk; recovery after a crash starts here.</summary>
    public long RecoveryPoint => Volatile.Read(ref _recoveryPoint);
    public IReadOnlyList<LogSegment> Segments => _segments;
    public LogSegment ActiveSegment => _segments[^1];
    public long Size => _segments.Sum(s => (long)s.Size);

    /// <summary>
    /// Opens or creates the log in <paramref name="directory"/>. Cleans leftovers of interrupted deletes/cleaning;
    /// when <paramref name="recoverAll"/> (unclean shutdown) re-validates every segment from the one holding
    /// <paramref name="recoveryPoint"/>, truncating a torn tail and dropping later segments; segments with missing or
    /// corrupt index files are recovered in any case.
    /// </summary>
    public static PartitionLog Open(string directory, LogConfig config, bool recoverAll, long recoveryPoint, long logStartOffset = 0,
        BrokerLogging? logging = null)
    {
        logging ??= BrokerLogging.None;
        string ident = $"partition={Path.GetFileName(directory)}, dir={Path.GetDirectoryName(directory)}] ";
        var loader = logging.For(KafkaLoggers.LogLoader, "[LogLoader " + ident);
        long started = Environment.TickCount64;
        System.IO.Directory.CreateDirectory(directory);
        RemoveTemporaryFiles(directory);
        var offsets = System.IO.Directory.EnumerateFiles(directory, "*" + LogFileNames.LogSuffix)
            .Select(f => LogFileNames.TryParseOffset(f, out long o) ? o : -1).Where(o => o >= 0).Order().ToList();
        RemoveOrphanIndexes(directory, offsets);

        var segments = new List<LogSegment>();
        for (int i = 0; i < offsets.Count; i++)
            segments.Add(LogSegment.Open(directory, offsets[i], config, preallocateIndexes: i == offsets.Count - 1));

        // Recover: forced after an unclean shutdown from the recovery point; always where indexes were unusable.
        int firstToRecover = recoverAll ? Math.Max(0, segments.FindLastIndex(s => s.BaseOffset <= recoveryPoint)) : segments.Count;
        int unflushed = Math.Max(0, segments.Count - firstToRecover);
        for (int i = 0; i < segments.Count; i++)
        {
            if (i < firstToRecover && !segments[i].NeedsRecovery) continue;
            if (i >= firstToRecover)
                loader.Info($"Recovering unflushed segment {segments[i].BaseOffset}. {i - firstToRecover}/{unflushed} recovered for {Path.GetFileName(directory)}.");
            else
                loader.Warn($"Found a corrupted or missing index file corresponding to log file {segments[i].LogPath}, recovering segment and rebuilding index files...");
            int truncated = segments[i].Recover(out var problem);
            if (truncated > 0)
                loader.Warn($"Found invalid messages in log segment {segments[i].LogPath} at byte offset {segments[i].Size}: {problem}. Truncated {truncated} bytes.");
            if (truncated > 0 && i < segments.Count - 1)
            {
                // Everything after a corrupt point is unreachable: drop later segments, as Kafka does.
                loader.Warn($"Deleting segments after the truncated one as they are unreachable: {string.Join(",", segments.Skip(i + 1).Select(s => s.BaseOffset))}");
                foreach (var later in segments.Skip(i + 1)) later.Delete();
                segments.RemoveRange(i + 1, segments.Count - i - 1);
                segments[i].OnBecomeActive();
            }
        }
        if (segments.Count == 0)
            segments.Add(LogSegment.Open(directory, logStartOffset, config, preallocateIndexes: true));

        bool existed = offsets.Count > 0;
        var log = new PartitionLog(directory, config, segments.ToArray(), Math.Max(logStartOffset, segments[0].BaseOffset),
            logging.For(KafkaLoggers.UnifiedLog, "[UnifiedLog " + ident));
        log._logEndOffset = segments[^1].NextOffset;
        if (log._logStartOffset > log._logEndOffset) log._logStartOffset = log._logEndOffset;
        log._recoveryPoint = recoverAll ? log._logEndOffset : Math.Min(recoveryPoint, log._logEndOffset);
        log.LeaderEpochCache.TruncateFromEnd(log._logEndOffset);
        log.LeaderEpochCache.TruncateFromStart(log._logStartOffset);
        if (log.LeaderEpochCache.LoadError is { } epochError)
            loader.Warn($"Error reading the leader-epoch-checkpoint file; the cache starts empty: {epochError}");
        if (existed)
            loader.Info($"Completed load of log {Path.GetFileName(directory)} with {segments.Count} log segments, log start offset {log._logStartOffset} " +
                $"and log end offset {log._logEndOffset} in {Environment.TickCount64 - started} ms");
        return log;
    }

    private static void RemoveTemporaryFiles(string dir)
    {
        foreach (var f in System.IO.Directory.EnumerateFiles(dir))
        {
            // .deleted: an async delete that did not finish; .cleaned: an unfinished cleaning; .tmp: a checkpoint being written.
            if (f.EndsWith(LogFileNames.DeletedSuffix, StringComparison.Ordinal) || f.EndsWith(LogFileNames.CleanedSuffix, StringComparison.Ordinal) ||
                f.EndsWith(".tmp", StringComparison.Ordinal))
                File.Delete(f);
            else if (f.EndsWith(LogFileNames.SwapSuffix, StringComparison.Ordinal))
            {
                // A .log.swap is a finished cleaning whose swap-in was interrupted: complete it; indexes are rebuilt.
                var target = f[..^LogFileNames.SwapSuffix.Length];
                if (target.EndsWith(LogFileNames.LogSuffix, StringComparison.Ordinal))
                {
                    File.Move(f, target, overwrite: true);
                    var stem = target[..^LogFileNames.LogSuffix.Length];
                    File.Delete(stem + LogFileNames.IndexSuffix);
                    File.Delete(stem + LogFileNames.TimeIndexSuffix);
                }
                else File.Delete(f);
            }
        }
    }

    private static void RemoveOrphanIndexes(string dir, List<long> logOffsets)
    {
        var set = logOffsets.ToHashSet();
        foreach (var f in System.IO.Directory.EnumerateFiles(dir))
            if ((f.EndsWith(LogFileNames.IndexSuffix, StringComparison.Ordinal) || f.EndsWith(LogFileNames.TimeIndexSuffix, StringComparison.Ordinal)) &&
                LogFileNames.TryParseOffset(f, out long o) && !set.Contains(o))
                File.Delete(f);
    }

    /// <summary>
    /// Leader append: validates every batch (structure, CRC, records), rejects batches over max.message.bytes,
    /// assigns offsets by rewriting baseOffset and partitionLeaderEpoch in place (and maxTimestamp for LogAppendTime),
    /// writes, indexes. All batches are appended or none.
    /// </summary>
    public LogAppendInfo AppendAsLeader(Span<byte> batches, int leaderEpoch, long now)
    {
        lock (_lock)
        {
            ThrowIfClosed();
            long lso = _logStartOffset;
            // Pass 1: validate everything before touching the buffer.
            int pos = 0, count = 0;
            long maxTs = NoTimestamp, firstBatchTs = NoTimestamp;
            _batchMaxTimestamps.Clear();
            while (pos < batches.Length)
            {
                var rest = batches.Slice(pos);
                var err = RecordBatch.ValidateHeader(rest, out int size);
                if (err != ErrorCode.None) return LogAppendInfo.Failed(err, $"Invalid record batch at byte {pos}.", lso);
                if (size > Config.MaxMessageBytes)
                    return LogAppendInfo.Failed(ErrorCode.MessageTooLarge, $"Batch of {size} bytes exceeds max.message.bytes {Config.MaxMessageBytes}.", lso);
                int records = BinaryPrimitives.ReadInt32BigEndian(rest.Slice(RecordsCountOffset));
                if (records == 0) return LogAppendInfo.Failed(ErrorCode.InvalidRecord, "Empty batch.", lso);
                err = RecordBatch.ValidateRecords(rest.Slice(0, size), out long batchMax);
                if (err != ErrorCode.None) return LogAppendInfo.Failed(err, $"Invalid records in batch at byte {pos}.", lso);
                if (firstBatchTs == NoTimestamp) firstBatchTs = batchMax;
                _batchMaxTimestamps.Add(batchMax);
                count += records;
                pos += size;
            }
            if (count == 0) return LogAppendInfo.Failed(ErrorCode.InvalidRecord, "No record batches.", lso);

            // Pass 2: assign offsets and timestamps in place.
            long first = _logEndOffset, next = first;
            bool logAppendTime = Config.MessageTimestampType == TimestampType.LogAppendTime;
            pos = 0;
            for (int bi = 0; pos < batches.Length; bi++)
            {
                var b = batches.Slice(pos);
                int size = BinaryPrimitives.ReadInt32BigEndian(b.Slice(BatchLengthOffset)) + LogOverhead;
                var one = b.Slice(0, size);
                RecordBatch.SetBaseOffset(one, next);
                RecordBatch.SetPartitionLeaderEpoch(one, leaderEpoch);
                if (logAppendTime) RecordBatch.SetMaxTimestamp(one, TimestampType.LogAppendTime, now);
                else
                {
                    long recMax = _batchMaxTimestamps[bi];
                    long headerMax = BinaryPrimitives.ReadInt64BigEndian(one.Slice(MaxTimestampOffset));
                    short attrs = BinaryPrimitives.ReadInt16BigEndian(one.Slice(AttributesOffset));
                    if (headerMax != recMax || (attrs & TimestampTypeFlag) != 0) RecordBatch.SetMaxTimestamp(one, TimestampType.CreateTime, recMax);
                }
                long batchMax = BinaryPrimitives.ReadInt64BigEndian(one.Slice(MaxTimestampOffset));
                if (batchMax > maxTs) maxTs = batchMax;
                next += BinaryPrimitives.ReadInt32BigEndian(one.Slice(LastOffsetDeltaOffset)) + 1;
                pos += size;
            }
            LeaderEpochCache.Assign(leaderEpoch, first);
            long rollTs = logAppendTime ? now : firstBatchTs;
            AppendValidated(batches, first, next - 1, rollTs, now);
            return new LogAppendInfo(ErrorCode.None, first, next - 1, count, maxTs, logAppendTime ? now : NoTimestamp, _logStartOffset);
        }
    }

    /// <summary>
    /// Follower append: keeps the offsets the leader gave. The first batch must start at or after the log end offset and
    /// batches must be contiguous; CRCs are checked. Leader epochs are taken from the batches.
    /// </summary>
    public LogAppendInfo AppendAsFollower(ReadOnlySpan<byte> batches)
    {
        lock (_lock)
        {
            ThrowIfClosed();
            long lso = _logStartOffset;
            int pos = 0, count = 0;
            long first = -1, expected = _logEndOffset, maxTs = NoTimestamp, firstTs = NoTimestamp;
            while (pos < batches.Length)
            {
                var rest = batches.Slice(pos);
                var err = RecordBatch.ValidateHeader(rest, out int size);
                if (err != ErrorCode.None) return LogAppendInfo.Failed(err, $"Invalid record batch at byte {pos}.", lso);
                long baseOffset = BinaryPrimitives.ReadInt64BigEndian(rest);
                long last = baseOffset + BinaryPrimitives.ReadInt32BigEndian(rest.Slice(LastOffsetDeltaOffset));
                if (first < 0 ? baseOffset < expected : baseOffset != expected)
                    return LogAppendInfo.Failed(ErrorCode.OffsetOutOfRange, $"Batch at offset {baseOffset} does not follow {expected}.", lso);
                if (last < baseOffset) return LogAppendInfo.Failed(ErrorCode.CorruptMessage, "Negative lastOffsetDelta.", lso);
                if (first < 0)
                {
                    first = baseOffset;
                    firstTs = BinaryPrimitives.ReadInt64BigEndian(rest.Slice(MaxTimestampOffset));
                }
                maxTs = Math.Max(maxTs, BinaryPrimitives.ReadInt64BigEndian(rest.Slice(MaxTimestampOffset)));
                count += BinaryPrimitives.ReadInt32BigEndian(rest.Slice(RecordsCountOffset));
                expected = last + 1;
                pos += size;
            }
            if (first < 0) return LogAppendInfo.Failed(ErrorCode.InvalidRecord, "No record batches.", lso);
            // Epochs of the appended batches.
            pos = 0;
            for (int bi = 0; pos < batches.Length; bi++)
            {
                var b = batches.Slice(pos);
                LeaderEpochCache.Assign(BinaryPrimitives.ReadInt32BigEndian(b.Slice(PartitionLeaderEpochOffset)), BinaryPrimitives.ReadInt64BigEndian(b));
                pos += BinaryPrimitives.ReadInt32BigEndian(b.Slice(BatchLengthOffset)) + LogOverhead;
            }
            if (first > _logEndOffset) RollLocked(first); // a gap (e.g. a compacted leader): start a segment at it
            AppendValidated(batches, first, expected - 1, firstTs, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            return new LogAppendInfo(ErrorCode.None, first, expected - 1, count, maxTs, NoTimestamp, _logStartOffset);
        }
    }

    private void AppendValidated(ReadOnlySpan<byte> batches, long firstOffset, long lastOffset, long firstTimestamp, long now)
    {
        var active = ActiveSegment;
        if (active.ShouldRoll(Config, batches.Length, firstTimestamp, lastOffset, now))
            active = RollLocked(firstOffset);
        active.Append(batches);
        Volatile.Write(ref _logEndOffset, lastOffset + 1);
        _unflushedMessages += lastOffset - firstOffset + 1;
        // Kafka's UnifiedLog.append: flush.messages is checked on every append; flush.ms is the log flusher's
        // (FlushIfDue, run by the broker every log.flush.scheduler.interval.ms).
        if (_unflushedMessages >= Config.FlushMessages) FlushLocked(now);
    }

    /// <summary>Starts a new active segment at <paramref name="baseOffset"/> (default: the log end offset).</summary>
    public LogSegment Roll(long? baseOffset = null)
    {
        lock (_lock) return RollLocked(baseOffset ?? _logEndOffset);
    }

    private LogSegment RollLocked(long baseOffset)
    {
        var old = ActiveSegment;
        if (old.IsEmpty && old.BaseOffset == baseOffset) return old;
        if (old.IsEmpty)
        {
            // An empty active segment at the wrong base (follower gap): replace it.
            old.Delete();
            var replacement = LogSegment.Open(Directory, baseOffset, Config, preallocateIndexes: true);
            _segments = [.. _segments[..^1], replacement];
            return replacement;
        }
        old.OnBecomeInactive();
        var seg = LogSegment.Open(Directory, baseOffset, Config, preallocateIndexes: true);
        _segments = [.. _segments, seg];
        return seg;
    }

    /// <summary>
    /// Whole batches from the one containing <paramref name="startOffset"/> (so possibly starting before it),
    /// up to <paramref name="maxBytes"/> but at least one batch, only batches below <paramref name="maxOffsetExclusive"/>
    /// (the high watermark for consumers). OffsetOutOfRange outside [LogStartOffset, LogEndOffset]. With
    /// <paramref name="rent"/> the records are in a pooled array (<see cref="LogReadResult.Lease"/>) the caller returns.
    /// </summary>
    public LogReadResult Read(long startOffset, int maxBytes, long maxOffsetExclusive = long.MaxValue, bool rent = false)
    {
        var segments = _segments;
        long leo = LogEndOffset, lso = LogStartOffset;
        if (startOffset < lso || startOffset > leo)
            return new LogReadResult(ErrorCode.OffsetOutOfRange, ReadOnlyMemory<byte>.Empty, lso, leo);
        if (startOffset == leo || startOffset >= maxOffsetExclusive)
            return new LogReadResult(ErrorCode.None, ReadOnlyMemory<byte>.Empty, lso, leo);
        for (int i = FloorSegment(segments, startOffset); i < segments.Length; i++)
        {
            if (i < 0) continue;
            try
            {
                var data = segments[i].Read(startOffset, maxBytes, Math.Min(maxOffsetExclusive, leo), minOneBatch: true, rent, out var lease);
                if (!data.IsEmpty) return new LogReadResult(ErrorCode.None, data, lso, leo, lease);
            }
            catch (ObjectDisposedException)
            {
                // Segment deleted by retention after our snapshot: the offset is now below the log start.
                return new LogReadResult(ErrorCode.OffsetOutOfRange, ReadOnlyMemory<byte>.Empty, LogStartOffset, LogEndOffset);
            }
        }
        return new LogReadResult(ErrorCode.None, ReadOnlyMemory<byte>.Empty, lso, leo);
    }

    private static int FloorSegment(LogSegment[] segments, long offset)
    {
        int lo = 0, hi = segments.Length - 1, ans = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            if (segments[mid].BaseOffset <= offset) { ans = mid; lo = mid + 1; } else hi = mid - 1;
        }
        return ans;
    }

    /// <summary>Special ListOffsets timestamps.</summary>
    public const long LatestTimestamp = -1, EarliestTimestamp = -2;

    /// <summary>
    /// ListOffsets: first offset whose timestamp is &gt;= <paramref name="timestamp"/> (via the time indexes), or
    /// the log start / end for <see cref="EarliestTimestamp"/> / <see cref="LatestTimestamp"/>; null if none.
    /// </summary>
    public (long Timestamp, long Offset)? OffsetForTimestamp(long timestamp)
    {
        if (timestamp == EarliestTimestamp) return (NoTimestamp, LogStartOffset);
        if (timestamp == LatestTimestamp) return (NoTimestamp, LogEndOffset);
        foreach (var s in _segments)
        {
            if (s.LargestTimestamp < timestamp) continue;
            var found = s.FindOffsetByTimestamp(timestamp, LogStartOffset);
            if (found is not null) return found;
        }
        return null;
    }

    /// <summary>Removes everything from <paramref name="offset"/> on (follower truncation, KIP-101).</summary>
    public void TruncateTo(long offset)
    {
        lock (_lock)
        {
            ThrowIfClosed();
            if (offset >= _logEndOffset) return;
            Log.Info($"Truncating to offset {offset}");
            if (offset < _logStartOffset)
            {
                TruncateFullyAndStartAtLocked(offset);
                return;
            }
            var keep = _segments.Where(s => s.BaseOffset <= offset).ToArray();
            var drop = _segments.Where(s => s.BaseOffset > offset).ToArray();
            _segments = keep;
            foreach (var s in drop) s.Delete();
            var active = keep[^1];
            active.TruncateTo(offset);
            if (drop.Length > 0) active.OnBecomeActive();
            Volatile.Write(ref _logEndOffset, active.NextOffset);
            _recoveryPoint = Math.Min(_recoveryPoint, _logEndOffset);
            LeaderEpochCache.TruncateFromEnd(_logEndOffset);
        }
    }

    /// <summary>Deletes every segment and starts an empty log at <paramref name="offset"/>.</summary>
    public void TruncateFullyAndStartAt(long offset)
    {
        Log.Info($"Truncate and start at offset {offset}");
        lock (_lock)
        {
            ThrowIfClosed();
            TruncateFullyAndStartAtLocked(offset);
        }
    }

    private void TruncateFullyAndStartAtLocked(long offset)
    {
        var old = _segments;
        foreach (var s in old) s.Delete();
        _segments = [LogSegment.Open(Directory, offset, Config, preallocateIndexes: true)];
        Volatile.Write(ref _logEndOffset, offset);
        Volatile.Write(ref _logStartOffset, offset);
        _recoveryPoint = offset;
        LeaderEpochCache.Clear();
    }

    /// <summary>DeleteRecords / retention: raises the log start offset (never beyond the end), then drops segments entirely below it.</summary>
    public ErrorCode IncrementLogStartOffset(long offset)
    {
        lock (_lock)
        {
            ThrowIfClosed();
            if (offset > _logEndOffset) return ErrorCode.OffsetOutOfRange;
            if (offset <= _logStartOffset) return ErrorCode.None;
            Volatile.Write(ref _logStartOffset, offset);
            LeaderEpochCache.TruncateFromStart(offset);
            DeleteSegmentsLocked(s => NextBaseOffset(s) <= offset);
            return ErrorCode.None;
        }
    }

    /// <summary>Deletes closed segments whose successor starts at or below <paramref name="offset"/>.</summary>
    public int DeleteSegmentsBefore(long offset)
    {
        lock (_lock) return DeleteSegmentsLocked(s => NextBaseOffset(s) <= offset);
    }

    /// <summary>
    /// Time and size retention (cleanup.policy=delete), Kafka's deleteOldSegments: deletes the oldest segments whose
    /// largest timestamp is older than retention.ms, then while the log exceeds retention.bytes by a whole segment,
    /// never beyond <paramref name="highWatermark"/>. When every segment is due, the active one is rolled first so it
    /// can go too (as Kafka does). Advances the log start offset; returns the number of segments deleted.
    /// </summary>
    public int ApplyRetention(long now, long highWatermark = long.MaxValue) => ApplyRetention(Config.RetentionMs, Config.RetentionBytes, now, highWatermark);

    public int ApplyRetention(long retentionMs, long retentionBytes, long now, long highWatermark = long.MaxValue)
    {
        lock (_lock)
        {
            ThrowIfClosed();
            int deleted = 0;
            if (retentionMs >= 0)
                deleted += DeleteOldSegmentsLocked(s => now - (s.LargestTimestamp != NoTimestamp ? s.LargestTimestamp : new DateTimeOffset(File.GetLastWriteTimeUtc(s.LogPath)).ToUnixTimeMilliseconds()) > retentionMs, highWatermark,
                    _ => $"due to log retention time {retentionMs}ms breach based on the largest record timestamp in the segment");
            if (retentionBytes >= 0)
            {
                long size = Size, excess = size - retentionBytes;
                deleted += DeleteOldSegmentsLocked(s =>
                {
                    if (excess < s.Size) return false;
                    excess -= s.Size;
                    return true;
                }, highWatermark, s => $"due to log retention size {retentionBytes} breach. Log size after deletion will be {size -= s.Size}.");
            }
            return deleted;
        }
    }

    /// <summary>The prefix of segments matching <paramref name="due"/> whose offsets are all below the high watermark.</summary>
    private int DeleteOldSegmentsLocked(Func<LogSegment, bool> due, long highWatermark, Func<LogSegment, string> why)
    {
        var segs = _segments;
        int n = 0;
        while (n < segs.Length)
        {
            bool last = n == segs.Length - 1;
            long upper = last ? _logEndOffset : segs[n + 1].BaseOffset;
            if (upper > highWatermark || (last && segs[n].IsEmpty) || !due(segs[n])) break;
            n++;
        }
        if (n == 0) return 0;
        if (n == segs.Length) RollLocked(_logEndOffset); // the active segment is due too: it becomes a closed one
        foreach (var s in segs[..n]) Log.Info($"Deleting segment {Describe(s)} {why(s)}");
        var doomed = segs[..n].ToHashSet();
        return DeleteSegmentsLocked(doomed.Contains);
    }

    private long NextBaseOffset(LogSegment s)
    {
        var segs = _segments;
        int i = Array.IndexOf(segs, s);
        return i >= 0 && i + 1 < segs.Length ? segs[i + 1].BaseOffset : long.MaxValue;
    }

    /// <summary>Deletes a prefix of closed segments matching <paramref name="predicate"/> (stops at the first miss).</summary>
    private int DeleteSegmentsLocked(Func<LogSegment, bool> predicate)
    {
        var segs = _segments;
        int n = 0;
        while (n < segs.Length - 1 && predicate(segs[n])) n++; // never the active segment
        if (n == 0) return 0;
        var doomed = segs[..n];
        _segments = segs[n..];
        if (_segments[0].BaseOffset > _logStartOffset) Volatile.Write(ref _logStartOffset, _segments[0].BaseOffset);
        LeaderEpochCache.TruncateFromStart(_logStartOffset);
        ScheduleDeleteLocked(doomed);
        return n;
    }

    /// <summary>Renames to .deleted now and deletes after file.delete.delay.ms: readers may still hold the old snapshot.</summary>
    private void ScheduleDeleteLocked(LogSegment[] doomed)
    {
        foreach (var s in doomed) s.ChangeFileSuffix(LogFileNames.DeletedSuffix);
        long delay = Config.FileDeleteDelayMs;
        _pendingDeletes.RemoveAll(p => p.Task.IsCompleted);
        // The delayed task captures only what it needs, not this log: a deleted topic's log must not stay reachable
        // for file.delete.delay.ms (closing the log deletes these segments at once).
        var log = Log;
        var directory = Directory;
        _pendingDeletes.Add((Task.Run(async () =>
        {
            try
            {
                if (delay > 0) await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(delay, int.MaxValue))).ConfigureAwait(false);
                log.Info($"Deleting segment files {string.Join(",", doomed.Select(Describe))}");
                foreach (var s in doomed) s.Delete();
            }
            catch (Exception e)
            {
                log.Error($"Error while deleting segments in dir {directory}", e);
            }
        }), doomed));
    }

    /// <summary>A segment as Kafka's LogSegment.toString shows it.</summary>
    private static string Describe(LogSegment s) =>
        $"LogSegment(baseOffset={s.BaseOffset}, size={s.Size}, lastModifiedTime={SafeLastModified(s)}, " +
        $"largestRecordTimestamp={(s.LargestTimestamp == NoTimestamp ? "None" : $"Some({s.LargestTimestamp})")})";

    private static long SafeLastModified(LogSegment s)
    {
        try { return new DateTimeOffset(File.GetLastWriteTimeUtc(s.LogPath)).ToUnixTimeMilliseconds(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return -1; }
    }

    /// <summary>fsyncs unflushed segments and advances the recovery point to the log end.</summary>
    public void Flush()
    {
        lock (_lock)
        {
            ThrowIfClosed();
            FlushLocked(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        }
    }

    /// <summary>When the log was last flushed (Unix ms): at open, or the last <see cref="Flush"/>.</summary>
    public long LastFlushMs => Volatile.Read(ref _lastFlushMs);

    /// <summary>
    /// The log flusher's check (Kafka's LogManager.flushDirtyLogs): flushes when the last flush is at least flush.ms
    /// old and something is unflushed. Returns whether it flushed. A closed log is left alone.
    /// </summary>
    public bool FlushIfDue(long now)
    {
        lock (_lock)
        {
            if (_closed || now - _lastFlushMs < Config.FlushMs || _recoveryPoint >= _logEndOffset) return false;
            FlushLocked(now);
            return true;
        }
    }

    private void FlushLocked(long now)
    {
        foreach (var s in _segments)
            if (s.NextOffset > _recoveryPoint || s == ActiveSegment) s.Flush();
        _recoveryPoint = _logEndOffset;
        _unflushedMessages = 0;
        _lastFlushMs = now;
    }

    /// <summary>Flushes, trims indexes, closes files. Pending segment deletions are completed first.</summary>
    public void Close()
    {
        lock (_lock)
        {
            if (_closed) return;
            _closed = true;
            foreach (var s in _segments)
            {
                if (s.NextOffset > _recoveryPoint || s == ActiveSegment) s.Flush();
                s.Close();
            }
            _recoveryPoint = _logEndOffset;
            // Segments waiting out file.delete.delay.ms go now: readers of a closed log are done, and a deleted
            // topic's log must not keep their files open and mapped for another minute (the timer's Delete finds them gone).
            foreach (var (_, doomed) in _pendingDeletes)
                foreach (var s in doomed)
                {
                    try { s.Delete(); }
                    catch (IOException) { } // the timer's Delete got there first
                }
            _pendingDeletes.Clear();
        }
    }

    /// <summary>Lets go of the files as a crash would (for fault drills): no flush, no index trim.</summary>
    public void Abandon()
    {
        lock (_lock)
        {
            if (_closed) return;
            _closed = true;
            foreach (var s in _segments) s.Abandon();
        }
    }

    /// <summary>Closes and removes the directory.</summary>
    public void Delete()
    {
        Close();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    public void Dispose() => Close();

    private void ThrowIfClosed()
    {
        if (_closed) throw new ObjectDisposedException(nameof(PartitionLog), $"Log {Directory} is closed.");
    }
}
