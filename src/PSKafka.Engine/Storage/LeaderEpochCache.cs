using System.Globalization;

namespace PSKafka.Engine.Storage;

/// <summary>
/// Which leader epoch started at which offset (KIP-101), persisted as Kafka's <c>leader-epoch-checkpoint</c>:
/// <code>
/// 0              version
/// 2              number of entries
/// 0 0            epoch startOffset
/// 3 1500
/// </code>
/// Epochs and start offsets both increase. Thread-safe.
/// </summary>
public sealed class LeaderEpochCache
{
    public const int UndefinedEpoch = -1;
    public const long UndefinedEpochOffset = -1;

    private readonly string _path;
    private readonly List<(int Epoch, long StartOffset)> _entries = new();
    private readonly object _sync = new();

    public LeaderEpochCache(string path)
    {
        _path = path;
        try
        {
            foreach (var f in CheckpointFile.Read(path, 2))
                _entries.Add((int.Parse(f[0], CultureInfo.InvariantCulture), long.Parse(f[1], CultureInfo.InvariantCulture)));
        }
        catch (Exception e) when (e is IOException or FormatException or OverflowException)
        {
            _entries.Clear(); // Kafka rebuilds the cache from the log; here it restarts from the next leader append
            LoadError = e.Message;
        }
    }

    /// <summary>Why the checkpoint could not be read (the cache then starts empty); null when it was read or absent.</summary>
    public string? LoadError { get; }

    public IReadOnlyList<(int Epoch, long StartOffset)> Entries
    {
        get { lock (_sync) return _entries.ToArray(); }
    }

    public int LatestEpoch
    {
        get { lock (_sync) return _entries.Count == 0 ? UndefinedEpoch : _entries[^1].Epoch; }
    }

    /// <summary>Records that <paramref name="epoch"/> starts at <paramref name="startOffset"/>, if it is new. Later/conflicting entries are dropped.</summary>
    public void Assign(int epoch, long startOffset)
    {
        if (epoch < 0) return;
        lock (_sync)
        {
            if (_entries.Count > 0 && _entries[^1].Epoch == epoch) return;
            if (_entries.Count > 0 && _entries[^1].Epoch > epoch) return; // stale epoch: ignore as Kafka does
            _entries.RemoveAll(e => e.StartOffset >= startOffset);
            _entries.Add((epoch, startOffset));
            Flush();
        }
    }

    /// <summary>
    /// OffsetForLeaderEpoch: the largest epoch &lt;= <paramref name="requestedEpoch"/> and the offset where the next epoch
    /// starts (or <paramref name="logEndOffset"/> if it is the latest). (-1, -1) if the requested epoch predates all entries.
    /// </summary>
    public (int Epoch, long EndOffset) EndOffsetFor(int requestedEpoch, long logEndOffset)
    {
        lock (_sync)
        {
            if (requestedEpoch == UndefinedEpoch || _entries.Count == 0) return (UndefinedEpoch, UndefinedEpochOffset);
            if (requestedEpoch == _entries[^1].Epoch) return (requestedEpoch, logEndOffset);
            int higher = _entries.FindIndex(e => e.Epoch > requestedEpoch);
            if (higher < 0) return (UndefinedEpoch, UndefinedEpochOffset); // requested epoch is in the future
            if (higher == 0) return (UndefinedEpoch, UndefinedEpochOffset);
            return (_entries[higher - 1].Epoch, _entries[higher].StartOffset);
        }
    }

    /// <summary>Log truncated to <paramref name="endOffset"/>: drop epochs starting at or after it.</summary>
    public void TruncateFromEnd(long endOffset)
    {
        lock (_sync)
        {
            if (_entries.RemoveAll(e => e.StartOffset >= endOffset) > 0) Flush();
        }
    }

    /// <summary>Log start moved to <paramref name="startOffset"/>: drop older epochs, keeping the one covering it.</summary>
    public void TruncateFromStart(long startOffset)
    {
        lock (_sync)
        {
            int covering = _entries.FindLastIndex(e => e.StartOffset <= startOffset);
            if (covering <= 0 && (covering < 0 || _entries[0].StartOffset == startOffset)) return;
            var keep = _entries[covering];
            _entries.RemoveRange(0, covering + 1);
            _entries.Insert(0, (keep.Epoch, startOffset));
            Flush();
        }
    }

    /// <summary>Forgets everything (log fully truncated).</summary>
    public void Clear()
    {
        lock (_sync)
        {
            _entries.Clear();
            Flush();
        }
    }

    private void Flush() =>
        CheckpointFile.Write(_path, _entries.Select(e => $"{e.Epoch.ToString(CultureInfo.InvariantCulture)} {e.StartOffset.ToString(CultureInfo.InvariantCulture)}").ToList());
}
