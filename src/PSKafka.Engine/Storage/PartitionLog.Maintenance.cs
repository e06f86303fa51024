namespace PSKafka.Engine.Storage;

/// <summary>Inspection and the log cleaner's swap: the parts of the log that look at or replace whole segments.</summary>
public sealed partial class PartitionLog
{
    /// <summary>
    /// A summary of every segment, read from the files with shared access up to each segment's visible size, so the
    /// live log is neither locked nor disturbed. A segment deleted meanwhile is left out.
    /// </summary>
    public IReadOnlyList<SegmentSummary> DescribeSegments()
    {
        var segments = _segments;
        var result = new List<SegmentSummary>(segments.Length);
        for (int i = 0; i < segments.Length; i++)
        {
            var s = segments[i];
            try
            {
                result.Add(LogDump.Summarize(s.LogPath, s.Size, isActive: i == segments.Length - 1));
            }
            catch (Exception e) when (e is FileNotFoundException or ObjectDisposedException)
            {
                // retention or the cleaner replaced it after our snapshot
            }
        }
        return result;
    }

    /// <summary>
    /// Swaps a cleaned copy in for a closed segment with the same base offset: <c>.cleaned</c> → <c>.log.swap</c> (the
    /// commit point: <see cref="Open"/> completes a swap it finds), old files → <c>.deleted</c>, <c>.swap</c> → <c>.log</c>,
    /// indexes rebuilt. False (and the cleaned file removed) if the segment is no longer a closed segment of this log.
    /// </summary>
    public bool ReplaceWithCleaned(LogSegment old, string cleanedLogPath)
    {
        lock (_lock)
        {
            var segs = _segments;
            int i = Array.IndexOf(segs, old);
            if (_closed || i < 0 || i == segs.Length - 1)
            {
                File.Delete(cleanedLogPath);
                return false;
            }
            string target = LogFileNames.LogFile(Directory, old.BaseOffset);
            string swap = target + LogFileNames.SwapSuffix;
            File.Move(cleanedLogPath, swap, overwrite: true);
            ScheduleDeleteLocked([old]);
            File.Move(swap, target, overwrite: true);
            var fresh = LogSegment.Open(Directory, old.BaseOffset, Config, preallocateIndexes: true);
            fresh.Recover(); // builds both indexes over the cleaned batches
            fresh.OnBecomeInactive();
            var replaced = (LogSegment[])segs.Clone();
            replaced[i] = fresh;
            _segments = replaced;
            return true;
        }
    }
}
