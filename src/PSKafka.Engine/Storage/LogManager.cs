using System.Collections.Concurrent;
using PSKafka.Engine.Logging;

namespace PSKafka.Engine.Storage;

/// <summary>
/// All partition logs of one broker log directory (Kafka's LogManager for a single log.dir).
/// Owns <c>.kafka_cleanshutdown</c> (present at open → the last shutdown was clean, skip recovery; removed while
/// running, written again by <see cref="Close"/>) and the <c>recovery-point-offset-checkpoint</c> /
/// <c>log-start-offset-checkpoint</c> files (see <see cref="CheckpointFile"/>).
/// </summary>
public sealed class LogManager : IDisposable
{
    private readonly ConcurrentDictionary<(string Topic, int Partition), PartitionLog> _logs = new();
    private readonly object _checkpointLock = new();
    private bool _closed;

    private readonly BrokerLogging _logging;
    private readonly KafkaLogger _log;

    private LogManager(string logDir, LogConfig defaultConfig, bool hadCleanShutdown, BrokerLogging logging, int brokerId)
    {
        _logging = logging;
        _log = logging.For(KafkaLoggers.LogManager, brokerId >= 0 ? $"[LogManager broker={brokerId}] " : $"[LogManager dir={logDir}] ");
        LogDir = logDir;
        DefaultConfig = defaultConfig;
        HadCleanShutdown = hadCleanShutdown;
    }

    public string LogDir { get; }
    public LogConfig DefaultConfig { get; }
    /// <summary>Whether the previous run ended with <see cref="Close"/>.</summary>
    public bool HadCleanShutdown { get; }
    public IEnumerable<KeyValuePair<(string Topic, int Partition), PartitionLog>> Logs => _logs;

    /// <summary>
    /// Opens every <c>&lt;topic&gt;-&lt;partition&gt;</c> directory (in parallel), recovering from the checkpointed
    /// recovery points if the last shutdown was unclean, and finishes deletions of <c>-delete</c> directories.
    /// </summary>
    /// <param name="brokerId">The broker the log directory belongs to, for the log lines.</param>
    public static LogManager Open(string logDir, LogConfig? defaultConfig = null, Func<string, LogConfig>? topicConfig = null,
        BrokerLogging? logging = null, int brokerId = -1)
    {
        Directory.CreateDirectory(logDir);
        string marker = Path.Combine(logDir, LogFileNames.CleanShutdown);
        bool clean = File.Exists(marker);
        var mgr = new LogManager(logDir, defaultConfig ?? LogConfig.Default, clean, logging ?? BrokerLogging.None, brokerId);
        long started = Environment.TickCount64;
        mgr._log.Info($"Loading logs from log dirs {logDir}");
        var recoveryPoints = mgr.SafeRead(Path.Combine(logDir, LogFileNames.RecoveryPointCheckpoint));
        var startOffsets = mgr.SafeRead(Path.Combine(logDir, LogFileNames.LogStartOffsetCheckpoint));

        foreach (var dir in Directory.EnumerateDirectories(logDir, "*" + LogFileNames.DeleteDirSuffix))
            Directory.Delete(dir, recursive: true);

        var dirs = Directory.EnumerateDirectories(logDir).ToList();
        mgr._log.Info(clean ? $"Skipping recovery of {dirs.Count} logs from {logDir} since clean shutdown file was found"
            : $"Attempting recovery for all logs in {logDir} since no clean shutdown file was found");
        Parallel.ForEach(dirs, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, dir =>
        {
            if (!LogFileNames.TryParsePartitionDir(dir, out var topic, out int partition)) return;
            var key = (topic, partition);
            var config = topicConfig?.Invoke(topic) ?? mgr.DefaultConfig;
            long rp = recoveryPoints.TryGetValue(key, out var r) ? r : 0;
            long lso = startOffsets.TryGetValue(key, out var s) ? s : 0;
            mgr._logs[key] = PartitionLog.Open(dir, config, recoverAll: !clean, recoveryPoint: rp, logStartOffset: lso, logging: mgr._logging);
        });
        mgr._log.Info($"Loaded {mgr._logs.Count} logs in {Environment.TickCount64 - started}ms");
        // From now on a crash is an unclean shutdown.
        File.Delete(marker);
        return mgr;
    }

    private Dictionary<(string, int), long> SafeRead(string path)
    {
        try { return CheckpointFile.ReadOffsets(path); }
        catch (Exception e) when (e is IOException or FormatException or OverflowException)
        {
            _log.Warn($"Error reading checkpoint file {path}; recovering every log from offset 0: {e.Message}");
            return new(); // corrupt checkpoint: recover everything from 0, as Kafka does
        }
    }

    public PartitionLog? GetLog(string topic, int partition) => _logs.TryGetValue((topic, partition), out var l) ? l : null;

    public PartitionLog GetOrCreateLog(string topic, int partition, LogConfig? config = null)
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        return _logs.GetOrAdd((topic, partition), k =>
        {
            string dir = Path.Combine(LogDir, LogFileNames.PartitionDir(k.Item1, k.Item2));
            var log = PartitionLog.Open(dir, config ?? DefaultConfig, recoverAll: false, recoveryPoint: 0, logging: _logging);
            _log.Info($"Created log for partition {k.Item1}-{k.Item2} in {dir}");
            return log;
        });
    }

    /// <summary>Renames the directory to <c>&lt;topic&gt;-&lt;p&gt;.&lt;uuid&gt;-delete</c>, then deletes it, as Kafka does.</summary>
    public bool DeleteLog(string topic, int partition)
    {
        if (!_logs.TryRemove((topic, partition), out var log)) return false;
        log.Close();
        string doomed = Path.Combine(LogDir, LogFileNames.DeleteDirName(topic, partition));
        Directory.Move(log.Directory, doomed);
        _log.Info($"Log for partition {topic}-{partition} is renamed to {doomed} and is scheduled for deletion");
        Directory.Delete(doomed, recursive: true);
        _log.Info($"Deleted log for partition {topic}-{partition} in {doomed}.");
        Checkpoint();
        return true;
    }

    /// <summary>Writes both checkpoint files (call periodically and at shutdown).</summary>
    public void Checkpoint()
    {
        lock (_checkpointLock)
        {
            var logs = _logs.ToArray();
            CheckpointFile.WriteOffsets(Path.Combine(LogDir, LogFileNames.RecoveryPointCheckpoint),
                logs.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.RecoveryPoint)));
            CheckpointFile.WriteOffsets(Path.Combine(LogDir, LogFileNames.LogStartOffsetCheckpoint),
                logs.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.LogStartOffset)));
        }
    }

    /// <summary>Applies retention to every log with cleanup.policy=delete; returns segments deleted.</summary>
    public int ApplyRetention(long now) =>
        _logs.Values.Where(l => l.Config.Delete).Sum(l => l.ApplyRetention(now));

    /// <summary>Flushes and closes every log, checkpoints, then writes the clean shutdown marker.</summary>
    public void Close()
    {
        if (_closed) return;
        _closed = true;
        foreach (var log in _logs.Values) log.Close();
        Checkpoint();
        using (File.Create(Path.Combine(LogDir, LogFileNames.CleanShutdown))) { }
    }

    /// <summary>Lets go of every log as a crash would: no flush, no checkpoint, no clean-shutdown marker.</summary>
    public void Abandon()
    {
        if (_closed) return;
        _closed = true;
        foreach (var log in _logs.Values) log.Abandon();
    }

    public void Dispose() => Close();
}
