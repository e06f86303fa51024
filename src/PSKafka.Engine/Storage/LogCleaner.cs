using System.Buffers.Binary;
using System.Globalization;
using static PSKafka.Engine.Storage.RecordBatchFormat;

namespace PSKafka.Engine.Storage;

/// <summary>What one cleaning of a partition did (or why it did nothing).</summary>
public sealed record CleanResult(
    long FirstDirtyOffset,
    long FirstUncleanableOffset,
    double DirtyRatio,
    bool Cleaned,
    int SegmentsRewritten,
    long BytesBefore,
    long BytesAfter,
    long RecordsRemoved,
    long TombstonesRemoved,
    string? Reason);

/// <summary>
/// Kafka's log cleaner for cleanup.policy=compact, for the logs of one log directory.
/// <list type="bullet">
/// <item>The dirty section runs from the checkpointed first dirty offset (<c>cleaner-offset-checkpoint</c>) to the first
/// uncleanable offset: the active segment's base, lowered so nothing at or above the high watermark and nothing younger
/// than min.compaction.lag.ms is touched.</item>
/// <item>A log is cleaned when dirty bytes / cleanable bytes exceed min.cleanable.dirty.ratio, or when tombstones it
/// kept have passed their delete horizon (or when forced).</item>
/// <item>An offset map key → latest offset is built over the dirty section; every closed segment below the first
/// uncleanable offset is rewritten keeping a record only if it is the latest for its key. Offsets never change:
/// a rewritten batch keeps its base offset and its records their offset deltas, so batches have gaps.</item>
/// <item>Tombstones (null values) get a delete horizon (now + delete.retention.ms, KIP-534: attribute bit 6, the
/// horizon stored in baseTimestamp) the first time they are cleaned, and are removed by a cleaning after it.</item>
/// <item>Each segment is written to <c>.cleaned</c>, renamed <c>.swap</c>, and swapped in by
/// <see cref="PartitionLog.ReplaceWithCleaned"/>; <see cref="PartitionLog.Open"/> finishes or discards an interrupted
/// swap. Segments are cleaned one by one, not grouped (so a swap never has to cover several base offsets).</item>
/// </list>
/// Records without a key cannot be compacted and are dropped, as Kafka's cleaner does.
/// </summary>
public sealed class LogCleaner
{
    private readonly string _checkpointPath;
    private readonly Lock _gate = new();
    private readonly Dictionary<(string Topic, int Partition), long> _firstDirty;
    // Earliest delete horizon of tombstones still in each log: cleaning is due once it passes. Rebuilt by the next
    // cleaning after a restart.
    private readonly Dictionary<(string Topic, int Partition), long> _horizons = new();

    public LogCleaner(string logDir, Logging.KafkaLogger? log = null)
    {
        _checkpointPath = Path.Combine(logDir, LogFileNames.CleanerOffsetCheckpoint);
        try { _firstDirty = CheckpointFile.ReadOffsets(_checkpointPath); }
        catch (Exception e) when (e is IOException or FormatException or OverflowException)
        {
            (log ?? Logging.KafkaLogger.None).Warn($"Error reading {_checkpointPath}; every compacted log counts as dirty again: {e.Message}");
            _firstDirty = new(); // a damaged checkpoint only means the whole log counts as dirty again
        }
    }

    /// <summary>Where the dirty section of a partition starts, as checkpointed.</summary>
    public long? FirstDirtyOffset(string topic, int partition)
    {
        lock (_gate) return _firstDirty.TryGetValue((topic, partition), out var o) ? o : null;
    }

    /// <summary>Forgets a deleted partition.</summary>
    public void Remove(string topic, int partition)
    {
        lock (_gate)
        {
            if (_firstDirty.Remove((topic, partition))) WriteCheckpoint();
            _horizons.Remove((topic, partition));
        }
    }

    /// <summary>
    /// Cleans one log if it is due (or <paramref name="force"/>): see the class summary. <paramref name="highWatermark"/>
    /// bounds what may be cleaned. Safe against concurrent appends and reads; not to be run twice at once on a log.
    /// </summary>
    public CleanResult Clean(string topic, int partition, PartitionLog log, long now, long highWatermark = long.MaxValue,
                             bool force = false, CancellationToken cancellationToken = default)
    {
        var key = (topic, partition);
        var config = log.Config;
        var segments = log.Segments.ToArray();
        long logStart = log.LogStartOffset;
        long checkpoint;
        lock (_gate) checkpoint = _firstDirty.TryGetValue(key, out var c) ? c : logStart;
        long firstDirty = checkpoint < logStart || checkpoint > log.LogEndOffset ? logStart : checkpoint;

        // The first segment that must not be cleaned: the active one, or earlier for the high watermark and the lag.
        int uncleanable = segments.Length - 1;
        for (int i = 0; i < segments.Length - 1; i++)
        {
            bool tooYoung = config.MinCompactionLagMs > 0 && segments[i].LargestTimestamp > now - config.MinCompactionLagMs;
            if (segments[i + 1].BaseOffset > highWatermark || tooYoung) { uncleanable = i; break; }
        }
        long firstUncleanable = segments[uncleanable].BaseOffset;
        firstDirty = Math.Min(firstDirty, firstUncleanable);

        long cleanBytes = 0, dirtyBytes = 0;
        for (int i = 0; i < uncleanable; i++)
        {
            if (segments[i + 1].BaseOffset > firstDirty) dirtyBytes += segments[i].Size;
            else cleanBytes += segments[i].Size;
        }
        double ratio = cleanBytes + dirtyBytes == 0 ? 0 : (double)dirtyBytes / (cleanBytes + dirtyBytes);
        bool horizonPassed;
        lock (_gate) horizonPassed = _horizons.TryGetValue(key, out var h) && h <= now;
        CleanResult Skip(string why) => new(firstDirty, firstUncleanable, ratio, false, 0, 0, 0, 0, 0, why);

        if (!config.Compact) return Skip("cleanup.policy does not include compact.");
        if (uncleanable == 0) return Skip("No closed segment below the first uncleanable offset.");
        if (!force && !horizonPassed && !(dirtyBytes > 0 && ratio > config.MinCleanableDirtyRatio))
            return Skip($"Dirty ratio {ratio.ToString("0.###", CultureInfo.InvariantCulture)} is not above min.cleanable.dirty.ratio {config.MinCleanableDirtyRatio.ToString(CultureInfo.InvariantCulture)}.");

        var map = BuildOffsetMap(segments, uncleanable, firstDirty, firstUncleanable, cancellationToken);

        int rewritten = 0;
        long before = 0, after = 0, removed = 0, tombstonesRemoved = 0, nextHorizon = long.MaxValue;
        for (int i = 0; i < uncleanable; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var segment = segments[i];
            var stats = CleanSegment(log, segment, map, now, config.DeleteRetentionMs);
            before += stats.Before;
            after += stats.After;
            removed += stats.Removed;
            tombstonesRemoved += stats.TombstonesRemoved;
            nextHorizon = Math.Min(nextHorizon, stats.EarliestHorizon);
            if (stats.CleanedPath is not null && log.ReplaceWithCleaned(segment, stats.CleanedPath)) rewritten++;
        }

        lock (_gate)
        {
            _firstDirty[key] = firstUncleanable;
            if (nextHorizon == long.MaxValue) _horizons.Remove(key); else _horizons[key] = nextHorizon;
            WriteCheckpoint();
        }
        return new CleanResult(firstDirty, firstUncleanable, ratio, true, rewritten, before, after, removed, tombstonesRemoved, null);
    }

    private void WriteCheckpoint() =>
        CheckpointFile.WriteOffsets(_checkpointPath, _firstDirty.OrderBy(kv => kv.Key.Topic, StringComparer.Ordinal).ThenBy(kv => kv.Key.Partition).ToList());

    /// <summary>Key → offset of its latest record in [firstDirty, firstUncleanable).</summary>
    private static Dictionary<byte[], long> BuildOffsetMap(LogSegment[] segments, int uncleanable, long firstDirty, long firstUncleanable, CancellationToken ct)
    {
        var map = new Dictionary<byte[], long>(KeyComparer.Instance);
        for (int i = 0; i < uncleanable; i++)
        {
            if (segments[i + 1].BaseOffset <= firstDirty) continue;
            ct.ThrowIfCancellationRequested();
            foreach (var batch in ReadBatches(segments[i]))
            {
                if (batch.IsControl || batch.LastOffset < firstDirty) continue;
                foreach (var r in ParseRecords(batch))
                    if (r.Key is not null && r.Offset >= firstDirty && r.Offset < firstUncleanable) map[r.Key] = r.Offset;
            }
        }
        return map;
    }

    private readonly record struct SegmentStats(string? CleanedPath, long Before, long After, long Removed, long TombstonesRemoved, long EarliestHorizon);

    /// <summary>Writes the retained batches of <paramref name="segment"/> to its .cleaned file; no file when nothing changes.</summary>
    private static SegmentStats CleanSegment(PartitionLog log, LogSegment segment, Dictionary<byte[], long> map, long now, long deleteRetentionMs)
    {
        string cleanedPath = LogFileNames.LogFile(log.Directory, segment.BaseOffset) + LogFileNames.CleanedSuffix;
        long before = 0, removed = 0, tombstones = 0, earliestHorizon = long.MaxValue;
        bool changed = false;
        using var output = new FileStream(cleanedPath, FileMode.Create, FileAccess.Write, FileShare.None);
        var retained = new List<ParsedRecord>();
        foreach (var batch in ReadBatches(segment))
        {
            before += batch.SizeInBytes;
            var bytes = batch.Memory.Span;
            if (batch.IsControl || !batch.IsValid)
            {
                output.Write(bytes); // control batches and anything we cannot judge stay as they are
                continue;
            }
            long? horizon = (batch.Attributes & LogDump.DeleteHorizonFlag) != 0 ? batch.BaseTimestamp : null;
            bool retainTombstones = horizon is null || now < horizon;
            retained.Clear();
            bool hasTombstone = false;
            var records = ParseRecords(batch);
            foreach (var r in records)
            {
                bool latest = r.Key is not null && (!map.TryGetValue(r.Key, out var latestOffset) || r.Offset >= latestOffset);
                bool keep = latest && (!r.IsTombstone || retainTombstones);
                if (keep)
                {
                    retained.Add(r);
                    hasTombstone |= r.IsTombstone;
                }
                else if (latest && r.IsTombstone) tombstones++;
            }
            removed += records.Count - retained.Count;
            long? newHorizon = hasTombstone && horizon is null ? now + deleteRetentionMs : horizon;
            if (hasTombstone) earliestHorizon = Math.Min(earliestHorizon, newHorizon!.Value);
            if (retained.Count == records.Count && newHorizon == horizon)
            {
                output.Write(bytes);
                continue;
            }
            changed = true;
            if (retained.Count > 0) output.Write(Rebuild(batch, retained, hasTombstone ? newHorizon : null));
        }
        output.Flush(flushToDisk: true);
        long after = output.Length;
        output.Dispose();
        if (!changed)
        {
            File.Delete(cleanedPath);
            return new SegmentStats(null, before, before, 0, 0, earliestHorizon);
        }
        return new SegmentStats(cleanedPath, before, after, removed, tombstones, earliestHorizon);
    }

    /// <summary>
    /// A batch with only <paramref name="retained"/>: same base offset, producer fields, leader epoch and compression;
    /// record bytes copied with their offset deltas (re-based on the delete horizon when one is set).
    /// </summary>
    private static byte[] Rebuild(RecordBatch original, List<ParsedRecord> retained, long? deleteHorizon)
    {
        long oldBase = original.BaseTimestamp;
        long newBase = deleteHorizon ?? oldBase;
        using var records = new MemoryStream();
        Span<byte> varint = stackalloc byte[Varint.MaxVarintBytes * 2];
        long maxTs = NoTimestamp;
        foreach (var r in retained)
        {
            maxTs = Math.Max(maxTs, r.Timestamp);
            var body = r.Body.Span;
            if (newBase == oldBase)
            {
                int n = Varint.WriteVarint(varint, body.Length);
                records.Write(varint[..n]);
                records.Write(body);
                continue;
            }
            // Body: attributes, timestampDelta (re-based), then the rest unchanged.
            int p = 1;
            Varint.ReadVarlong(body, ref p);
            var rest = body[p..];
            long delta = r.Timestamp - newBase;
            int newLength = 1 + Varint.SizeOfVarlong(delta) + rest.Length;
            int m = Varint.WriteVarint(varint, newLength);
            records.Write(varint[..m]);
            records.WriteByte(body[0]);
            m = Varint.WriteVarlong(varint, delta);
            records.Write(varint[..m]);
            records.Write(rest);
        }
        var section = records.GetBuffer().AsSpan(0, (int)records.Length);
        using var batch = new MemoryStream();
        batch.Write(original.Memory.Span[..RecordsOffset]);
        if (original.Compression == CompressionType.None) batch.Write(section);
        else CompressionCodec.Compress(original.Compression, section, batch);
        var b = batch.ToArray();

        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(BatchLengthOffset), b.Length - LogOverhead);
        short attrs = original.Attributes;
        if (deleteHorizon is not null) attrs |= LogDump.DeleteHorizonFlag;
        BinaryPrimitives.WriteInt16BigEndian(b.AsSpan(AttributesOffset), attrs);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(LastOffsetDeltaOffset), (int)(retained[^1].Offset - original.BaseOffset));
        BinaryPrimitives.WriteInt64BigEndian(b.AsSpan(BaseTimestampOffset), newBase);
        if (original.TimestampType == TimestampType.CreateTime) BinaryPrimitives.WriteInt64BigEndian(b.AsSpan(MaxTimestampOffset), maxTs);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(RecordsCountOffset), retained.Count);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(CrcOffset), Crc32C.Compute(b.AsSpan(CrcStart)));
        return b;
    }

    private readonly record struct ParsedRecord(long Offset, long Timestamp, byte[]? Key, bool IsTombstone, ReadOnlyMemory<byte> Body);

    /// <summary>Records of a batch with their encoded bodies (after the length varint), for copying.</summary>
    private static List<ParsedRecord> ParseRecords(RecordBatch batch)
    {
        var section = batch.RecordsSection();
        var s = section.Span;
        var list = new List<ParsedRecord>(batch.RecordCount);
        int pos = 0;
        long baseTs = batch.BaseTimestamp;
        for (int i = 0; i < batch.RecordCount && pos < s.Length; i++)
        {
            int length = Varint.ReadVarint(s, ref pos);
            if (length <= 0 || length > s.Length - pos) throw new KafkaException(ErrorCode.CorruptMessage, $"Record {i} of the batch at offset {batch.BaseOffset} overruns the batch.");
            var body = section.Slice(pos, length);
            var b = body.Span;
            int p = 1;
            long tsDelta = Varint.ReadVarlong(b, ref p);
            int offsetDelta = Varint.ReadVarint(b, ref p);
            int keyLength = Varint.ReadVarint(b, ref p);
            byte[]? key = keyLength < 0 ? null : b.Slice(p, keyLength).ToArray();
            p += Math.Max(keyLength, 0);
            int valueLength = Varint.ReadVarint(b, ref p);
            long ts = baseTs + tsDelta; // the record's own time; a LogAppendTime batch's maxTimestamp is left alone
            list.Add(new ParsedRecord(batch.BaseOffset + offsetDelta, ts, key, valueLength < 0, body));
            pos += length;
        }
        return list;
    }

    /// <summary>Whole batches of a closed segment, read from its file with shared access.</summary>
    private static IEnumerable<RecordBatch> ReadBatches(LogSegment segment)
    {
        long size = segment.Size;
        using var file = File.OpenHandle(segment.LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var scan = new BatchScanner(file, 0, size, wholeBatches: true, chunkSize: 1 << 20);
        while (scan.Next() == ScanStatus.Batch) yield return new RecordBatch(scan.Current.ToArray());
    }

    private sealed class KeyComparer : IEqualityComparer<byte[]>
    {
        public static readonly KeyComparer Instance = new();
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(byte[] obj)
        {
            var h = new HashCode();
            h.AddBytes(obj);
            return h.ToHashCode();
        }
    }
}
