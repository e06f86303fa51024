using PSKafka.Engine.Api;
using PSKafka.Engine.Config;
using PSKafka.Engine.Logging;
using PSKafka.Engine.Storage;

namespace PSKafka.Engine.Cluster;

/// <summary>What a retention pass did to one partition.</summary>
public sealed record LogRetentionResult(string Topic, int Partition, int SegmentsDeleted, long LogStartOffset, long LogEndOffset);

/// <summary>What the log cleaner did to one partition.</summary>
public sealed record LogCleanerResult(string Topic, int Partition, CleanResult Result);

/// <summary>The broker's log scheduler settings (Kafka's LogManager and LogCleaner intervals).</summary>
internal sealed record LogSchedulerConfig(long RetentionCheckIntervalMs, long FlushSchedulerIntervalMs, bool CleanerEnable, long CleanerBackoffMs)
{
    public static LogSchedulerConfig From(IConfigValues values) => new(
        values.Long(ConfigDefinitions.LogRetentionCheckIntervalMs),
        values.Long(ConfigDefinitions.LogFlushSchedulerIntervalMs),
        values.Bool(ConfigDefinitions.LogCleanerEnable),
        values.Long(ConfigDefinitions.LogCleanerBackoffMs));
}

/// <summary>
/// The broker's background work on its logs, Kafka's LogManager scheduler and LogCleaner: every
/// log.retention.check.interval.ms, time/size retention for cleanup.policy=delete and a checkpoint of recovery points
/// and log start offsets; every log.flush.scheduler.interval.ms, the log flusher (flush.ms); every log.cleaner.backoff.ms (when log.cleaner.enable), compaction of cleanup.policy=compact
/// logs that are due. Both can also be run on demand. Plus the read-only views of logs.
/// </summary>
public sealed partial class Broker
{
    private readonly Lock _maintenanceGate = new(); // one retention or cleaning pass at a time
    private LogCleaner? _cleaner;
    private CancellationTokenSource? _maintenanceStop;
    private Thread? _maintenanceThread;

    /// <summary>When the scheduler last ran retention / the cleaner, and the last thing that went wrong there.</summary>
    public DateTimeOffset? LastRetentionCheck { get; private set; }
    public DateTimeOffset? LastCleanerRun { get; private set; }
    public string? LastMaintenanceError { get; private set; }

    private void StartMaintenance()
    {
        _cleaner = new LogCleaner(LogDirectory, CleanerLog);
        var stop = _maintenanceStop = new CancellationTokenSource();
        _maintenanceThread = new Thread(() => Log.RunThread(() => MaintenanceLoop(stop.Token))) { IsBackground = true, Name = $"kafka-scheduler-{Id}" };
        _maintenanceThread.Start();
    }

    /// <summary>Stops the scheduler and waits for a running pass, before the logs close.</summary>
    private void StopMaintenance(bool wait = true)
    {
        _maintenanceStop?.Cancel();
        // A crash waits for nothing: a pass still running fails on the abandoned logs and is dropped.
        if (!wait) { _maintenanceThread = null; return; }
        if (_maintenanceThread is { } t && t != Thread.CurrentThread) t.Join();
        lock (_maintenanceGate) { } // an on-demand pass still running
        _maintenanceThread = null;
        _maintenanceStop?.Dispose();
        _maintenanceStop = null;
    }

    /// <summary>The scheduler's settings now; read every round, so a lowered interval takes effect without a restart.</summary>
    internal LogSchedulerConfig SchedulerConfig => LogSchedulerConfig.From(_cluster.BrokerConfigs.For(Id));

    private void MaintenanceLoop(CancellationToken stop)
    {
        long lastRetention = Now(), lastClean = Now(), lastFlushCheck = Now();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                long now = Now();
                var config = SchedulerConfig;
                if (now - lastRetention >= config.RetentionCheckIntervalMs)
                {
                    lastRetention = now;
                    RunLogRetention(cancellationToken: stop);
                }
                if (now - lastFlushCheck >= config.FlushSchedulerIntervalMs)
                {
                    lastFlushCheck = now;
                    RunLogFlusher(now, stop);
                }
                if (now - lastClean >= config.CleanerBackoffMs)
                {
                    lastClean = now;
                    if (config.CleanerEnable) RunLogCleaner(cancellationToken: stop);
                }
            }
            catch (OperationCanceledException) { return; }
            catch (Exception e)
            {
                // A broker never dies from its housekeeping; the error is logged and kept for Get-Broker.
                Log.Error("Uncaught exception in scheduled task 'kafka-log-retention'", e);
                LastMaintenanceError = $"{DateTimeOffset.UtcNow:O} {e.GetType().Name}: {e.Message}";
            }
            stop.WaitHandle.WaitOne(100);
        }
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private IEnumerable<PartitionReplica> ReplicasOf(string? topic) =>
        _replicas.Values.Where(r => topic is null || r.TopicPartition.Topic == topic)
            .OrderBy(r => r.TopicPartition.Topic, StringComparer.Ordinal).ThenBy(r => r.TopicPartition.Partition);

    /// <summary>
    /// Retention now, for the logs (of <paramref name="topic"/>, or all) whose cleanup.policy includes delete, on leaders
    /// and followers alike; then checkpoints. <paramref name="now"/> lets tests move the clock.
    /// </summary>
    public IReadOnlyList<LogRetentionResult> RunLogRetention(string? topic = null, long? now = null, CancellationToken cancellationToken = default)
    {
        var results = new List<LogRetentionResult>();
        lock (_maintenanceGate)
        {
            if (!IsRunning || _logs is not { } logs) return results;
            long time = now ?? Now();
            foreach (var replica in ReplicasOf(topic))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var log = replica.Log;
                if (!log.Config.Delete) continue;
                try
                {
                    int deleted = log.ApplyRetention(time, replica.HighWatermark);
                    results.Add(new LogRetentionResult(replica.TopicPartition.Topic, replica.TopicPartition.Partition, deleted, log.LogStartOffset, log.LogEndOffset));
                }
                catch (ObjectDisposedException)
                {
                    Log.Debug($"Skipped retention of {replica.TopicPartition}: deleted or stopped meanwhile");
                }
            }
            logs.Checkpoint();
            LastRetentionCheck = DateTimeOffset.UtcNow;
        }
        return results;
    }

    /// <summary>
    /// Kafka's log flusher (LogManager.flushDirtyLogs, every log.flush.scheduler.interval.ms): flushes each log whose
    /// last flush is older than its flush.ms, advancing its recovery point. Returns how many logs it flushed.
    /// </summary>
    public int RunLogFlusher(long? now = null, CancellationToken cancellationToken = default)
    {
        int flushed = 0;
        long time = now ?? Now();
        foreach (var replica in _replicas.Values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                if (replica.Log.FlushIfDue(time)) flushed++;
            }
            catch (ObjectDisposedException) { } // deleted or stopped meanwhile
        }
        return flushed;
    }

    /// <summary>
    /// The log cleaner now, for the logs (of <paramref name="topic"/>, or all) whose cleanup.policy includes compact and
    /// that are due (dirty ratio, delete horizons) or every one with <paramref name="force"/>.
    /// </summary>
    public IReadOnlyList<LogCleanerResult> RunLogCleaner(string? topic = null, bool force = false, long? now = null, CancellationToken cancellationToken = default)
    {
        var results = new List<LogCleanerResult>();
        lock (_maintenanceGate)
        {
            if (!IsRunning || _cleaner is not { } cleaner) return results;
            long time = now ?? Now();
            foreach (var replica in ReplicasOf(topic))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!replica.Log.Config.Compact) continue;
                var tp = replica.TopicPartition;
                try
                {
                    var result = cleaner.Clean(tp.Topic, tp.Partition, replica.Log, time, replica.HighWatermark, force, cancellationToken);
                    results.Add(new LogCleanerResult(tp.Topic, tp.Partition, result));
                    if (result.Cleaned) CleanerLog.Info(CleanedLine(tp, result));
                }
                catch (Exception e) when (e is ObjectDisposedException or FileNotFoundException or DirectoryNotFoundException)
                {
                    CleanerLog.Debug($"Skipped cleaning {tp}: the partition was deleted or the broker stopped meanwhile ({e.Message})");
                }
            }
            LastCleanerRun = DateTimeOffset.UtcNow;
        }
        return results;
    }

    private KafkaLogger CleanerLog => Logging.For(KafkaLoggers.LogCleaner, $"[LogCleaner broker={Id}] ");

    // Kafka's cleaner summary (LogCleaner.recordStats), in one line.
    private static string CleanedLine(TopicPartition tp, CleanResult r) =>
        $"Cleaned log {tp} (dirty section = [{r.FirstDirtyOffset}, {r.FirstUncleanableOffset}]): {r.SegmentsRewritten} segments rewritten, " +
        $"{r.BytesBefore:N0} bytes to {r.BytesAfter:N0} bytes ({(r.BytesBefore == 0 ? 0 : 100.0 * (r.BytesBefore - r.BytesAfter) / r.BytesBefore):F1}% size reduction), " +
        $"{r.RecordsRemoved} records removed.";

    /// <summary>This broker's replica of a partition, or an error naming why there is none.</summary>
    public PartitionReplica RequireReplica(string topic, int partition)
    {
        if (!IsRunning) throw new KafkaException(ErrorCode.BrokerNotAvailable, $"Broker {Id} is not running.");
        if (GetReplica(new TopicPartition(topic, partition)) is { } replica) return replica;
        _cluster.Controller.RequirePartition(topic, partition);
        throw new KafkaException(ErrorCode.ReplicaNotAvailable, $"Broker {Id} has no replica of {topic}-{partition}.");
    }

    /// <summary>The segments of this broker's replica of a partition, as <c>ls -l &lt;log.dir&gt;/&lt;topic&gt;-&lt;p&gt;</c> and more.</summary>
    public IReadOnlyList<SegmentSummary> DescribeLogSegments(string topic, int partition) =>
        RequireReplica(topic, partition).Log.DescribeSegments();
}
