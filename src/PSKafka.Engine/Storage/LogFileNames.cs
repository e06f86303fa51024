using System.Globalization;

namespace PSKafka.Engine.Storage;

/// <summary>
/// Every file and directory name of Kafka's log layout, in one place.
/// <code>
/// &lt;logdir&gt;/
///   .kafka_cleanshutdown                 present only after a clean shutdown
///   recovery-point-offset-checkpoint     "0\n&lt;n&gt;\n&lt;topic&gt; &lt;partition&gt; &lt;offset&gt;\n..."
///   log-start-offset-checkpoint          same format
///   replication-offset-checkpoint        same format: high watermarks (written by the broker)
///   cleaner-offset-checkpoint            same format: first dirty offset of each compacted partition
///   &lt;topic&gt;-&lt;partition&gt;/
///     00000000000000000000.log           segments, named by their 20-digit zero-padded base offset
///     00000000000000000000.index
///     00000000000000000000.timeindex
///     00000000000000000000.snapshot      producer state (not written here yet)
///     leader-epoch-checkpoint
///   &lt;topic&gt;-&lt;partition&gt;.&lt;uuid&gt;-delete/  a partition being deleted
/// </code>
/// Suffixes <c>.deleted</c> (segment awaiting async delete), <c>.cleaned</c> and <c>.swap</c> (log cleaner
/// temporaries) are appended to a segment file name.
/// </summary>
public static class LogFileNames
{
    public const string ReplicationOffsetCheckpoint = "replication-offset-checkpoint";
    public const string LogSuffix = ".log";
    public const string IndexSuffix = ".index";
    public const string TimeIndexSuffix = ".timeindex";
    public const string SnapshotSuffix = ".snapshot";
    public const string TxnIndexSuffix = ".txnindex";
    public const string DeletedSuffix = ".deleted";
    public const string CleanedSuffix = ".cleaned";
    public const string SwapSuffix = ".swap";
    public const string DeleteDirSuffix = "-delete";
    public const string FutureDirSuffix = "-future";
    public const string StrayDirSuffix = "-stray";

    public const string LeaderEpochCheckpoint = "leader-epoch-checkpoint";
    public const string CleanShutdown = ".kafka_cleanshutdown";
    public const string RecoveryPointCheckpoint = "recovery-point-offset-checkpoint";
    public const string LogStartOffsetCheckpoint = "log-start-offset-checkpoint";
    /// <summary>Per log dir: where each compacted partition's dirty section starts (Kafka's cleaner checkpoint).</summary>
    public const string CleanerOffsetCheckpoint = "cleaner-offset-checkpoint";

    /// <summary>20-digit zero-padded offset, e.g. 00000000000000000042.</summary>
    public static string FormatOffset(long offset) => offset.ToString("D20", CultureInfo.InvariantCulture);

    public static string LogFile(string dir, long baseOffset) => Path.Combine(dir, FormatOffset(baseOffset) + LogSuffix);
    public static string IndexFile(string dir, long baseOffset) => Path.Combine(dir, FormatOffset(baseOffset) + IndexSuffix);
    public static string TimeIndexFile(string dir, long baseOffset) => Path.Combine(dir, FormatOffset(baseOffset) + TimeIndexSuffix);
    public static string SnapshotFile(string dir, long offset) => Path.Combine(dir, FormatOffset(offset) + SnapshotSuffix);

    /// <summary>Base offset from a segment file name such as "00000000000000000042.log" (any suffix).</summary>
    public static bool TryParseOffset(string fileName, out long offset)
    {
        var name = Path.GetFileName(fileName);
        int dot = name.IndexOf('.');
        var digits = dot < 0 ? name.AsSpan() : name.AsSpan(0, dot);
        offset = -1;
        return digits.Length == 20 && long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out offset);
    }

    /// <summary>Partition directory name "&lt;topic&gt;-&lt;partition&gt;".</summary>
    public static string PartitionDir(string topic, int partition) => $"{topic}-{partition.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// Parses "&lt;topic&gt;-&lt;partition&gt;". Topics may contain '-' and '.', so the partition follows the last '-'.
    /// Directories being deleted, future or stray replicas are not partitions.
    /// </summary>
    public static bool TryParsePartitionDir(string dirName, out string topic, out int partition)
    {
        topic = "";
        partition = -1;
        var name = Path.GetFileName(dirName.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        if (name.EndsWith(DeleteDirSuffix, StringComparison.Ordinal) || name.EndsWith(FutureDirSuffix, StringComparison.Ordinal) ||
            name.EndsWith(StrayDirSuffix, StringComparison.Ordinal)) return false;
        int dash = name.LastIndexOf('-');
        if (dash <= 0 || dash == name.Length - 1) return false;
        if (!int.TryParse(name.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out partition)) return false;
        topic = name[..dash];
        return true;
    }

    /// <summary>Name Kafka gives a partition directory scheduled for deletion: "&lt;topic&gt;-&lt;p&gt;.&lt;uuid-no-dashes&gt;-delete".</summary>
    public static string DeleteDirName(string topic, int partition)
    {
        // As Kafka does, the topic is cut so the name stays within a file system's 255 bytes (topics may be 249 long).
        string suffix = $"-{partition}.{Guid.NewGuid():N}{DeleteDirSuffix}";
        return topic[..Math.Min(topic.Length, 255 - suffix.Length)] + suffix;
    }
}
