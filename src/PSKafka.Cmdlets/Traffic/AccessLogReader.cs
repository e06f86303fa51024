using System.Text;

namespace PSKafka.Cmdlets;

/// <summary>
/// Reads a growing text file line by line, as tail does: from the start or the last N lines, then
/// (when following) whatever is appended. Works on bytes so a line half-written by the generator
/// is held back until its newline arrives.
/// </summary>
public sealed class AccessLogReader : IDisposable
{
    private const int ChunkSize = 64 * 1024;
    private readonly FileStream _stream;
    private readonly byte[] _chunk = new byte[ChunkSize];
    private readonly MemoryStream _partial = new();

    public string Path { get; }

    public AccessLogReader(string path)
    {
        Path = path;
        // Share everything: the generator keeps appending while we read.
        _stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete,
            bufferSize: 1, FileOptions.SequentialScan);
    }

    /// <summary>Positions the reader at the start of the last <paramref name="lines"/> lines.</summary>
    public void SeekToLastLines(int lines)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lines);
        _partial.SetLength(0);
        var length = _stream.Length;
        if (lines == 0)
        {
            _stream.Position = length;
            return;
        }
        // Scan back from the end counting newlines; a final newline ends the last line, it doesn't start one.
        var position = length;
        var newlines = 0;
        var skipFinalNewline = true;
        while (position > 0)
        {
            var size = (int)Math.Min(ChunkSize, position);
            position -= size;
            _stream.Position = position;
            _stream.ReadExactly(_chunk, 0, size);
            for (var i = size - 1; i >= 0; i--)
            {
                if (_chunk[i] != (byte)'\n') { skipFinalNewline = false; continue; }
                if (skipFinalNewline) { skipFinalNewline = false; continue; }
                if (++newlines == lines)
                {
                    _stream.Position = position + i + 1;
                    return;
                }
            }
        }
        _stream.Position = 0;
    }

    /// <summary>
    /// Lines available now, from the current position to the end of the file. A last line without its
    /// newline is kept for the next call unless <paramref name="includeUnterminated"/> (end of a one-shot read).
    /// If the file was truncated (rotated in place), reading starts again from its beginning.
    /// </summary>
    public IEnumerable<string> ReadAvailableLines(bool includeUnterminated)
    {
        if (_stream.Length < _stream.Position)
        {
            _stream.Position = 0;
            _partial.SetLength(0);
        }
        int read;
        while ((read = _stream.Read(_chunk, 0, _chunk.Length)) > 0)
        {
            var start = 0;
            for (var i = 0; i < read; i++)
            {
                if (_chunk[i] != (byte)'\n') continue;
                string line;
                if (_partial.Length > 0)
                {
                    _partial.Write(_chunk, start, i - start);
                    line = Decode(_partial.GetBuffer(), 0, (int)_partial.Length);
                    _partial.SetLength(0);
                }
                else
                {
                    line = Decode(_chunk, start, i - start);
                }
                start = i + 1;
                yield return line;
            }
            _partial.Write(_chunk, start, read - start);
        }
        if (includeUnterminated && _partial.Length > 0)
        {
            var line = Decode(_partial.GetBuffer(), 0, (int)_partial.Length);
            _partial.SetLength(0);
            yield return line;
        }
    }

    private static string Decode(byte[] bytes, int offset, int count)
    {
        if (count > 0 && bytes[offset + count - 1] == (byte)'\r') count--; // CRLF files
        return Encoding.UTF8.GetString(bytes, offset, count);
    }

    public void Dispose()
    {
        _stream.Dispose();
        _partial.Dispose();
    }
}
