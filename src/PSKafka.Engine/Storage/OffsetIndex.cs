using System.Buffers.Binary;

namespace PSKafka.Engine.Storage;

/// <summary>
/// Sparse map from offset to byte position in the segment's .log (Kafka's OffsetIndex, file <c>&lt;base&gt;.index</c>).
/// <code>
/// entry (8 bytes, big-endian, no file header):
///   int32 relativeOffset   offset - segment base offset
///   int32 position         byte position of the batch in the .log
/// </code>
/// Entries are strictly increasing in offset. One entry is added per <c>index.interval.bytes</c> of log appended,
/// keyed by the last offset of the batch written at that position. Lookup returns the largest entry &lt;= the target,
/// from where the log is scanned forward batch by batch.
/// </summary>
internal sealed unsafe class OffsetIndex : SegmentIndex
{
    public const int EntryBytes = 8;

    public OffsetIndex(string path, long baseOffset, int maxIndexSize, bool preallocate = true)
        : base(path, baseOffset, maxIndexSize, preallocate) { }

    protected override int EntrySize => EntryBytes;

    protected override long KeyAt(int i) => BaseOffset + BinaryPrimitives.ReadInt32BigEndian(new ReadOnlySpan<byte>(Ptr + (long)i * EntryBytes, 4));
    private int PositionAt(int i) => BinaryPrimitives.ReadInt32BigEndian(new ReadOnlySpan<byte>(Ptr + (long)i * EntryBytes + 4, 4));

    /// <summary>Offset of the last entry, or the base offset when empty.</summary>
    public long LastOffset
    {
        get { lock (Sync) return Entries == 0 ? BaseOffset : KeyAt(Entries - 1); }
    }

    public (long Offset, int Position) EntryAt(int i)
    {
        lock (Sync) return (KeyAt(i), PositionAt(i));
    }

    public void Append(long offset, int position)
    {
        lock (Sync)
        {
            if (IsFull) throw new InvalidOperationException($"Offset index {FilePath} is full.");
            int n = Entries;
            if (n > 0 && offset <= KeyAt(n - 1))
                throw new InvalidOperationException($"Offset {offset} is not larger than the last indexed offset {KeyAt(n - 1)} in {FilePath}.");
            long rel = offset - BaseOffset;
            if (rel < 0 || rel > int.MaxValue) throw new InvalidOperationException($"Offset {offset} does not fit segment {BaseOffset}.");
            var e = new Span<byte>(Ptr + (long)n * EntryBytes, EntryBytes);
            BinaryPrimitives.WriteInt32BigEndian(e, (int)rel);
            BinaryPrimitives.WriteInt32BigEndian(e.Slice(4), position);
            SetEntries(n + 1);
        }
    }

    /// <summary>Largest entry with offset &lt;= target; (baseOffset, 0) if none.</summary>
    public (long Offset, int Position) Lookup(long targetOffset)
    {
        lock (Sync)
        {
            int i = LargestLowerBound(targetOffset);
            return i < 0 ? (BaseOffset, 0) : (KeyAt(i), PositionAt(i));
        }
    }

    /// <summary>Removes entries with offset &gt;= <paramref name="offset"/>.</summary>
    public void TruncateTo(long offset)
    {
        lock (Sync)
        {
            int i = LargestLowerBound(offset);
            int keep = i < 0 ? 0 : KeyAt(i) == offset ? i : i + 1;
            TruncateToEntries(keep);
        }
    }

    public override void SanityCheck(long logSize)
    {
        lock (Sync)
        {
            long prev = -1;
            int prevPos = -1;
            for (int i = 0; i < Entries; i++)
            {
                long rel = KeyAt(i) - BaseOffset;
                int pos = PositionAt(i);
                if (rel < 0 || rel <= prev || pos < prevPos || pos >= logSize)
                    throw new CorruptIndexException($"Corrupt offset index {FilePath}: entry {i} (relative offset {rel}, position {pos}) is out of order or beyond the log size {logSize}.");
                prev = rel;
                prevPos = pos;
            }
        }
    }
}
