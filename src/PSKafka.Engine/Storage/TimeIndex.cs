using System.Buffers.Binary;

namespace PSKafka.Engine.Storage;

/// <summary>
/// Sparse map from timestamp to offset (Kafka's TimeIndex, file <c>&lt;base&gt;.timeindex</c>).
/// <code>
/// entry (12 bytes, big-endian, no file header):
///   int64 timestamp        the largest timestamp seen in the segment so far
///   int32 relativeOffset   offset - segment base offset of the batch holding that timestamp
/// </code>
/// Timestamps are strictly increasing (an entry is only added when the max timestamp grows), written alongside
/// offset index entries. One slot is kept free so rolling can always record the segment's final max timestamp.
/// Lookup returns the largest entry with timestamp &lt;= the target.
/// </summary>
internal sealed unsafe class TimeIndex : SegmentIndex
{
    public const int EntryBytes = 12;

    public TimeIndex(string path, long baseOffset, int maxIndexSize, bool preallocate = true)
        : base(path, baseOffset, maxIndexSize, preallocate) { }

    protected override int EntrySize => EntryBytes;

    /// <summary>Kafka keeps the last slot for the entry appended on roll.</summary>
    public override bool IsFull => Entries >= MaxEntries - 1;

    protected override long KeyAt(int i) => BinaryPrimitives.ReadInt64BigEndian(new ReadOnlySpan<byte>(Ptr + (long)i * EntryBytes, 8));
    private long OffsetAt(int i) => BaseOffset + BinaryPrimitives.ReadInt32BigEndian(new ReadOnlySpan<byte>(Ptr + (long)i * EntryBytes + 8, 4));

    /// <summary>The last entry, or (NoTimestamp, baseOffset) when empty.</summary>
    public (long Timestamp, long Offset) LastEntry
    {
        get { lock (Sync) return Entries == 0 ? (RecordBatchFormat.NoTimestamp, BaseOffset) : (KeyAt(Entries - 1), OffsetAt(Entries - 1)); }
    }

    /// <summary>Adds an entry if <paramref name="timestamp"/> exceeds the last one.</summary>
    public void MaybeAppend(long timestamp, long offset, bool skipFullCheck = false)
    {
        lock (Sync)
        {
            int n = Entries;
            if (!skipFullCheck && IsFull) throw new InvalidOperationException($"Time index {FilePath} is full.");
            if (n >= MaxEntries) return;
            if (n > 0 && timestamp <= KeyAt(n - 1)) return;
            if (n > 0 && offset < OffsetAt(n - 1))
                throw new InvalidOperationException($"Offset {offset} is smaller than the last time-indexed offset {OffsetAt(n - 1)} in {FilePath}.");
            long rel = offset - BaseOffset;
            if (rel < 0 || rel > int.MaxValue) throw new InvalidOperationException($"Offset {offset} does not fit segment {BaseOffset}.");
            var e = new Span<byte>(Ptr + (long)n * EntryBytes, EntryBytes);
            BinaryPrimitives.WriteInt64BigEndian(e, timestamp);
            BinaryPrimitives.WriteInt32BigEndian(e.Slice(8), (int)rel);
            SetEntries(n + 1);
        }
    }

    /// <summary>Largest entry with timestamp &lt;= target; (NoTimestamp, baseOffset) if none.</summary>
    public (long Timestamp, long Offset) Lookup(long targetTimestamp)
    {
        lock (Sync)
        {
            int i = LargestLowerBound(targetTimestamp);
            return i < 0 ? (RecordBatchFormat.NoTimestamp, BaseOffset) : (KeyAt(i), OffsetAt(i));
        }
    }

    /// <summary>Removes entries whose offset is &gt;= <paramref name="offset"/>.</summary>
    public void TruncateTo(long offset)
    {
        lock (Sync)
        {
            int keep = Entries;
            while (keep > 0 && OffsetAt(keep - 1) >= offset) keep--;
            TruncateToEntries(keep);
        }
    }

    public override void SanityCheck(long logSize)
    {
        lock (Sync)
        {
            long prevTs = long.MinValue, prevOff = -1;
            for (int i = 0; i < Entries; i++)
            {
                long ts = KeyAt(i), off = OffsetAt(i) - BaseOffset;
                if (ts <= prevTs || off < 0 || off < prevOff)
                    throw new CorruptIndexException($"Corrupt time index {FilePath}: entry {i} (timestamp {ts}, relative offset {off}) is out of order.");
                prevTs = ts;
                prevOff = off;
            }
        }
    }
}
