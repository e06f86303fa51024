using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;
using static PSKafka.Engine.Storage.RecordBatchFormat;

namespace PSKafka.Engine.Storage;

internal enum ScanStatus { Batch, End, Truncated, Corrupt }

/// <summary>
/// Walks the batches of a .log file with chunked positional reads (one read per chunk, not per batch).
/// In header mode only each batch's 61-byte header is guaranteed in <see cref="Current"/>; in whole-batch mode
/// the full batch is, for CRC checks and record decoding. Spans are valid until the next <see cref="Next"/>.
/// The buffer is rented from <see cref="IoBuffers.Pool"/> and no larger than the range: a restart recovers every
/// partition's active segment, and a fresh megabyte per segment was 50 MB of large-object garbage per crash.
/// </summary>
internal sealed class BatchScanner : IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly long _end;
    private readonly bool _wholeBatches;
    private byte[] _buf;
    private long _bufStart; // file position of _buf[0]
    private int _bufLen;
    private long _next;

    public BatchScanner(SafeFileHandle file, long start, long end, bool wholeBatches, int chunkSize = 64 * 1024)
    {
        _file = file;
        _next = start;
        _end = end;
        _wholeBatches = wholeBatches;
        _buf = IoBuffers.Pool.Rent((int)Math.Clamp(end - start, HeaderSize, chunkSize));
        _bufStart = start;
    }

    public void Dispose()
    {
        var buf = _buf;
        _buf = [];
        if (buf.Length > 0) IoBuffers.Pool.Return(buf);
    }

    /// <summary>File position of the current batch (or where scanning stopped).</summary>
    public long Position { get; private set; }
    public int Size { get; private set; }
    /// <summary>The current batch: header only, or whole in whole-batch mode.</summary>
    public ReadOnlySpan<byte> Current => _buf.AsSpan((int)(Position - _bufStart), _wholeBatches ? Size : HeaderSize);
    public long BaseOffset => BinaryPrimitives.ReadInt64BigEndian(Current);
    public long LastOffset => BaseOffset + BinaryPrimitives.ReadInt32BigEndian(Current.Slice(LastOffsetDeltaOffset));
    public long MaxTimestamp => BinaryPrimitives.ReadInt64BigEndian(Current.Slice(MaxTimestampOffset));

    public ScanStatus Next()
    {
        long pos = _next;
        Position = pos;
        Size = 0;
        if (pos >= _end) return ScanStatus.End;
        if (_end - pos < HeaderSize) return ScanStatus.Truncated;
        Ensure(pos, HeaderSize);
        int length = BinaryPrimitives.ReadInt32BigEndian(_buf.AsSpan((int)(pos - _bufStart) + BatchLengthOffset));
        if (length < HeaderSize - LogOverhead) return ScanStatus.Corrupt;
        if (length > _end - pos - LogOverhead) return ScanStatus.Truncated;
        if (_buf[(int)(pos - _bufStart) + MagicOffset] != CurrentMagic) return ScanStatus.Corrupt;
        Size = length + LogOverhead;
        if (_wholeBatches) Ensure(pos, Size);
        _next = pos + Size;
        return ScanStatus.Batch;
    }

    /// <summary>Makes [pos, pos+count) present in the buffer, reading a chunk from pos if not.</summary>
    private void Ensure(long pos, int count)
    {
        if (pos >= _bufStart && pos + count <= _bufStart + _bufLen) return;
        if (count > _buf.Length)
        {
            int size = (int)Math.Max(count, Math.Min((long)_buf.Length * 2, _end - pos));
            IoBuffers.Pool.Return(_buf);
            _buf = [];
            _buf = IoBuffers.Pool.Rent(size);
        }
        int want = (int)Math.Min(_buf.Length, _end - pos);
        int got = 0;
        while (got < want)
        {
            int n = RandomAccess.Read(_file, _buf.AsSpan(got, want - got), pos + got);
            if (n <= 0) break;
            got += n;
        }
        _bufStart = pos;
        _bufLen = got;
        if (got < count) throw new IOException($"Short read at position {pos}: wanted {count} bytes, got {got}.");
    }
}
