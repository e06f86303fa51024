using System.IO.MemoryMappedFiles;

namespace PSKafka.Engine.Storage;

/// <summary>
/// Common machinery of Kafka's memory-mapped segment indexes (Kafka's AbstractIndex): fixed-size big-endian entries,
/// no header; the file of the active segment is preallocated to <c>segment.index.bytes</c> (rounded down to whole
/// entries) and trimmed to the entries actually written when the segment is rolled or closed. Writes go to the
/// mapping, i.e. the page cache, so they survive a process kill. A lock guards remapping against concurrent lookups.
/// </summary>
internal abstract unsafe class SegmentIndex : IDisposable
{
    private MemoryMappedFile? _mmf;
    private MemoryMappedViewAccessor? _view;
    protected byte* Ptr;
    private long _fileLength;
    private volatile int _entries;
    protected readonly object Sync = new();

    protected SegmentIndex(string path, long baseOffset, int maxIndexSize, bool preallocate)
    {
        FilePath = path;
        BaseOffset = baseOffset;
        MaxIndexSize = maxIndexSize;
        bool existed = File.Exists(path);
        long length = existed ? new FileInfo(path).Length : 0;
        if (length % EntrySize != 0)
            throw new CorruptIndexException($"Index file {path} has length {length}, not a multiple of the entry size {EntrySize}.");
        _entries = (int)(length / EntrySize);
        if (!existed) using (File.Create(path)) { }
        Map(preallocate ? Math.Max(RoundedMaxSize, length) : length);
    }

    public string FilePath { get; private set; }
    public long BaseOffset { get; }
    public int MaxIndexSize { get; }
    protected abstract int EntrySize { get; }
    private long RoundedMaxSize => MaxIndexSize / EntrySize * EntrySize;
    public int MaxEntries => (int)(_fileLength / EntrySize);
    public int Entries => _entries;
    public virtual bool IsFull => _entries >= MaxEntries;
    public long SizeInBytes => (long)_entries * EntrySize;

    protected void SetEntries(int n) => _entries = n;

    private void Map(long length)
    {
        using (var fs = new FileStream(FilePath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete))
            if (fs.Length != length) fs.SetLength(length);
        _fileLength = length;
        if (length == 0) return; // an empty file cannot be mapped; nothing to read anyway
        _mmf = MemoryMappedFile.CreateFromFile(FilePath, FileMode.Open, null, length, MemoryMappedFileAccess.ReadWrite);
        _view = _mmf.CreateViewAccessor(0, length, MemoryMappedFileAccess.ReadWrite);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        Ptr = p + _view.PointerOffset;
    }

    private void Unmap(bool flush = true)
    {
        if (_view != null)
        {
            if (flush) _view.Flush();
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _view = null;
        }
        _mmf?.Dispose();
        _mmf = null;
        Ptr = null;
    }

    /// <summary>Remaps at a new file length (preallocate for appends, or trim to the entries).</summary>
    public void Resize(long newLength)
    {
        lock (Sync)
        {
            newLength = newLength / EntrySize * EntrySize;
            if (newLength == _fileLength) return;
            Unmap();
            Map(newLength);
        }
    }

    /// <summary>Preallocates to segment.index.bytes so appends can continue (segment became active again).</summary>
    public void Preallocate() => Resize(Math.Max(RoundedMaxSize, SizeInBytes));

    /// <summary>Shrinks the file to the written entries (roll / close), like Kafka's trimToValidSize.</summary>
    public void TrimToValidSize() => Resize(SizeInBytes);

    public void Flush()
    {
        lock (Sync) _view?.Flush();
    }

    /// <summary>
    /// Removes every entry without touching the file's pages (Kafka's AbstractIndex.reset truncates and resizes): the
    /// file is cut to nothing and extended again to its length, which leaves a hole the OS reads as zeros. Clearing the
    /// mapping instead would make every page of a preallocated index resident and dirty (10 MB per index, written back
    /// to disk) on each recovery, whatever the data.
    /// </summary>
    public void Reset()
    {
        lock (Sync)
        {
            _entries = 0;
            long length = _fileLength;
            if (length == 0) return;
            Unmap(flush: false); // nothing in it is kept
            using (var fs = new FileStream(FilePath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete))
                fs.SetLength(0);
            Map(length);
        }
    }

    /// <summary>Keeps the first <paramref name="n"/> entries.</summary>
    protected void TruncateToEntries(int n)
    {
        lock (Sync) _entries = Math.Min(n, _entries);
    }

    /// <summary>Binary search: index of the largest entry whose key is &lt;= target, or -1.</summary>
    protected int LargestLowerBound(long target)
    {
        int lo = 0, hi = _entries - 1;
        if (hi < 0 || KeyAt(0) > target) return -1;
        while (lo < hi)
        {
            int mid = (int)(((uint)lo + (uint)hi + 1) >> 1);
            if (KeyAt(mid) <= target) lo = mid; else hi = mid - 1;
        }
        return lo;
    }

    /// <summary>The search key of entry i (offset for the offset index, timestamp for the time index).</summary>
    protected abstract long KeyAt(int i);

    /// <summary>Throws <see cref="CorruptIndexException"/> when the entries cannot be right.</summary>
    public abstract void SanityCheck(long logSize);

    public void RenameTo(string newPath)
    {
        lock (Sync)
        {
            File.Move(FilePath, newPath, overwrite: true);
            FilePath = newPath;
        }
    }

    /// <summary>Trims and closes.</summary>
    public void Close()
    {
        lock (Sync)
        {
            if (_fileLength != SizeInBytes && File.Exists(FilePath)) { Unmap(); Map(SizeInBytes); }
            Unmap();
        }
    }

    public void Dispose() => Close();

    /// <summary>Lets go of the file as a crash would: not trimmed, not flushed (the broker is being killed).</summary>
    public void Abandon()
    {
        lock (Sync) Unmap();
    }

    public void Delete()
    {
        lock (Sync)
        {
            Unmap(flush: false); // going: nothing to write back
            LogSegment.DeleteIfThere(FilePath);
        }
    }
}
