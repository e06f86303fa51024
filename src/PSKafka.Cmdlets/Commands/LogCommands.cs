using System.Management.Automation;
using PSKafka.Client;
using PSKafka.Cmdlets.Infrastructure;
using PSKafka.Cmdlets.Output;
using PSKafka.Engine;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Storage;

namespace PSKafka.Cmdlets.Commands;

/// <summary>The brokers of this session's local cluster: segment files are looked at where they live.</summary>
internal static class LocalBrokers
{
    public static KafkaCluster Cluster()
    {
        // Log files and broker settings are the local brokers' own; a remote cluster exposes neither through this seam.
        if (Session.Remote is { } remote)
            throw new NotSupportedRemotelyException($"This command works on the brokers of this session's local cluster, and the session is connected to {remote.Description}. Run Disconnect-Cluster first.");
        return (Session.Client as EmbeddedClient)?.Cluster
            ?? throw new InvalidOperationException("Looking at log files needs the session's local cluster.");
    }

    /// <summary>A running broker by id, or an error with ErrorId BrokerNotFound.</summary>
    public static Broker Running(KafkaCluster cluster, int id)
    {
        var broker = cluster.GetBroker(id);
        if (broker is { IsRunning: true }) return broker;
        throw new BrokerNotFoundException(broker is null ? $"Broker {id} does not exist." : $"Broker {id} is not running.");
    }

    /// <summary>The brokers to run maintenance on: the given ids, or every running one.</summary>
    public static IEnumerable<Broker> Selected(KafkaCluster cluster, int[]? ids) =>
        ids is null ? cluster.Brokers.Where(b => b.IsRunning) : ids.Select(id => Running(cluster, id));

    /// <summary>The broker whose replica of a partition to show: the given one, else the leader, else any running replica.</summary>
    public static Broker ForPartition(KafkaCluster cluster, PSKafka.Engine.Api.PartitionMetadata partition, int? brokerId)
    {
        if (brokerId is { } id) return Running(cluster, id);
        if (partition.Leader >= 0 && cluster.GetBroker(partition.Leader) is { IsRunning: true } leader) return leader;
        return partition.Replicas.Select(cluster.GetBroker).FirstOrDefault(b => b is { IsRunning: true })
            ?? throw new KafkaException(ErrorCode.LeaderNotAvailable, $"No running broker has a replica of partition {partition.Partition}.");
    }
}

/// <summary>
/// Get-LogSegment: the segments of a partition's log on a broker, what <c>ls -l /tmp/kafka-logs/retail-0</c> shows in
/// the tutorial plus what is inside: base offset, file sizes, batch and record counts, first and last offset and timestamp.
/// </summary>
[Cmdlet(VerbsCommon.Get, "LogSegment")]
[OutputType(typeof(LogSegmentInfo))]
public sealed class GetLogSegmentCommand : KafkaCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(TopicNameCompleter))]
    public string Topic { get; set; } = "";

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, int.MaxValue)]
    public int[]? Partition { get; set; }

    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? BrokerId { get; set; }

    protected override void Process()
    {
        var cluster = LocalBrokers.Cluster();
        var meta = Client.GetMetadata([Topic]).Topics[0];
        TopicChecks.Require(meta);
        foreach (int p in Partition ?? Enumerable.Range(0, meta.Partitions.Count).ToArray())
        {
            try
            {
                TopicChecks.Require(meta, [p]);
                var broker = LocalBrokers.ForPartition(cluster, meta.Partitions[p], BrokerId);
                foreach (var s in broker.DescribeLogSegments(Topic, p))
                    WriteObject(LogSegmentInfo.From(Topic, p, broker.Id, s));
            }
            catch (Exception e) when (e is KafkaException or BrokerNotFoundException)
            {
                WriteKafkaError(e, $"{Topic}-{p}");
            }
        }
    }
}

/// <summary>
/// Read-LogSegment: kafka-dump-log.sh. For a .log file each record batch (offsets, count, position, timestamps, size,
/// magic, compression, CRC and whether it is valid, producer fields, leader epoch); with -Records each record; for an
/// .index or .timeindex file its entries. Reads with shared access, so it works on a running broker's files and on copies.
/// </summary>
[Cmdlet(VerbsCommunications.Read, "LogSegment", DefaultParameterSetName = "Path")]
[OutputType(typeof(LogBatchInfo), typeof(LogRecordInfo), typeof(OffsetIndexEntryInfo), typeof(TimeIndexEntryInfo))]
public sealed class ReadLogSegmentCommand : KafkaCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = "Path", ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [SupportsWildcards]
    public string[] Path { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = "Topic")]
    [ArgumentCompleter(typeof(TopicNameCompleter))]
    public string Topic { get; set; } = "";

    [Parameter(ParameterSetName = "Topic")]
    [ValidateRange(0, int.MaxValue)]
    public int Partition { get; set; }

    /// <summary>Only the segment with this base offset; default every segment of the partition.</summary>
    [Parameter(ParameterSetName = "Topic")]
    [ValidateRange(0, long.MaxValue)]
    public long? BaseOffset { get; set; }

    [Parameter(ParameterSetName = "Topic")]
    [ValidateRange(0, int.MaxValue)]
    public int? BrokerId { get; set; }

    /// <summary>Each record of each batch (kafka-dump-log --print-data-log).</summary>
    [Parameter]
    public SwitchParameter Records { get; set; }

    /// <summary>The segment's .index instead of its .log.</summary>
    [Parameter]
    public SwitchParameter Index { get; set; }

    /// <summary>The segment's .timeindex instead of its .log.</summary>
    [Parameter]
    public SwitchParameter TimeIndex { get; set; }

    protected override void Begin()
    {
        if (Index && TimeIndex) throw new ArgumentException("Use -Index or -TimeIndex, not both.");
    }

    protected override void Process()
    {
        if (ParameterSetName == "Topic")
        {
            var cluster = LocalBrokers.Cluster();
            var meta = Client.GetMetadata([Topic]).Topics[0];
            TopicChecks.Require(meta, [Partition]);
            var broker = LocalBrokers.ForPartition(cluster, meta.Partitions[Partition], BrokerId);
            var segments = broker.DescribeLogSegments(Topic, Partition).Where(s => BaseOffset is null || s.BaseOffset == BaseOffset).ToList();
            if (segments.Count == 0)
                ThrowKafkaError(ErrorIds.LogFileNotFound, ErrorCategory.ObjectNotFound, $"Partition {Topic}-{Partition} on broker {broker.Id} has no segment with base offset {BaseOffset}.", BaseOffset);
            foreach (var s in segments) Dump(s.LogPath, s.LogBytes);
            return;
        }
        foreach (var p in Path)
        {
            List<string> files;
            try
            {
                files = GetResolvedProviderPathFromPSPath(p, out _).ToList();
            }
            catch (ItemNotFoundException e)
            {
                WriteError(new ErrorRecord(e, ErrorIds.LogFileNotFound, ErrorCategory.ObjectNotFound, p));
                continue;
            }
            foreach (var f in files) Dump(f, null);
        }
    }

    private void Dump(string path, long? visibleBytes)
    {
        if (Index || TimeIndex) path = Sibling(path, Index ? LogFileNames.IndexSuffix : LogFileNames.TimeIndexSuffix);
        if (!File.Exists(path))
        {
            WriteError(new ErrorRecord(new FileNotFoundException($"Log file '{path}' does not exist.", path), ErrorIds.LogFileNotFound, ErrorCategory.ObjectNotFound, path));
            return;
        }
        switch (KindOf(path))
        {
            case LogFileNames.LogSuffix:
                foreach (var b in LogDump.ReadBatches(path, Records, visibleBytes))
                {
                    var batch = LogBatchInfo.From(path, b);
                    if (Records && b.Records is { Count: > 0 } records)
                        foreach (var r in records) WriteObject(LogRecordInfo.From(batch, r));
                    else WriteObject(batch);
                }
                break;
            case LogFileNames.IndexSuffix:
                foreach (var e in LogDump.ReadOffsetIndex(path))
                    WriteObject(new OffsetIndexEntryInfo { Path = path, Entry = e.Entry, Offset = e.Offset, Position = e.Position });
                break;
            case LogFileNames.TimeIndexSuffix:
                foreach (var e in LogDump.ReadTimeIndex(path))
                    WriteObject(new TimeIndexEntryInfo { Path = path, Entry = e.Entry, Timestamp = e.Timestamp, Offset = e.Offset });
                break;
            default:
                WriteError(new ErrorRecord(new ArgumentException($"'{path}' is not a .log, .index or .timeindex file."), ErrorIds.UnsupportedLogFile, ErrorCategory.InvalidArgument, path));
                break;
        }
    }

    // A segment file keeps its kind under the .deleted/.cleaned/.swap suffixes a broker adds.
    private static string KindOf(string path)
    {
        var name = System.IO.Path.GetFileName(path);
        foreach (var temp in new[] { LogFileNames.DeletedSuffix, LogFileNames.CleanedSuffix, LogFileNames.SwapSuffix })
            if (name.EndsWith(temp, StringComparison.Ordinal)) name = name[..^temp.Length];
        return System.IO.Path.GetExtension(name);
    }

    private static string Sibling(string path, string suffix)
    {
        var dir = System.IO.Path.GetDirectoryName(path) ?? ".";
        return LogFileNames.TryParseOffset(path, out long baseOffset)
            ? LogFileNames.IndexFile(dir, baseOffset)[..^LogFileNames.IndexSuffix.Length] + suffix
            : System.IO.Path.ChangeExtension(path, suffix);
    }
}

/// <summary>
/// Invoke-LogRetention: runs time- and size-based retention now (the brokers also do it every
/// log.retention.check.interval.ms) on the logs whose cleanup.policy includes delete: whole closed segments older than
/// retention.ms, or beyond retention.bytes, are deleted and the log start offset moves up.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "LogRetention", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(LogRetentionInfo))]
public sealed class InvokeLogRetentionCommand : KafkaCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(TopicNameCompleter))]
    public string[]? Topic { get; set; }

    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int[]? BrokerId { get; set; }

    protected override void Process()
    {
        var cluster = LocalBrokers.Cluster();
        foreach (var broker in LocalBrokers.Selected(cluster, BrokerId))
        {
            foreach (var topic in Topic ?? [null!])
            {
                if (!ShouldProcess($"Broker {broker.Id}: {topic ?? "every topic"}", "Delete log segments past retention.ms / retention.bytes")) continue;
                foreach (var r in broker.RunLogRetention(topic, cancellationToken: StopToken))
                    WriteObject(new LogRetentionInfo
                    {
                        BrokerId = broker.Id,
                        Topic = r.Topic,
                        Partition = r.Partition,
                        SegmentsDeleted = r.SegmentsDeleted,
                        LogStartOffset = r.LogStartOffset,
                        LogEndOffset = r.LogEndOffset,
                    });
            }
        }
    }
}

/// <summary>
/// Invoke-LogCleaner: runs the log cleaner now (the brokers also run it every log.cleaner.backoff.ms) on the logs whose
/// cleanup.policy includes compact and whose dirty ratio exceeds min.cleanable.dirty.ratio (any, with -Force): only the
/// newest record of each key is kept, offsets unchanged; tombstones go once delete.retention.ms has passed.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "LogCleaner", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(LogCleanerInfo))]
public sealed class InvokeLogCleanerCommand : KafkaCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(TopicNameCompleter))]
    public string[]? Topic { get; set; }

    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int[]? BrokerId { get; set; }

    /// <summary>Clean even when the dirty ratio is not above min.cleanable.dirty.ratio.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void Process()
    {
        var cluster = LocalBrokers.Cluster();
        foreach (var broker in LocalBrokers.Selected(cluster, BrokerId))
        {
            foreach (var topic in Topic ?? [null!])
            {
                if (!ShouldProcess($"Broker {broker.Id}: {topic ?? "every compacted topic"}", "Compact the log (keep the newest record per key)")) continue;
                foreach (var r in broker.RunLogCleaner(topic, Force, cancellationToken: StopToken))
                {
                    var c = r.Result;
                    WriteObject(new LogCleanerInfo
                    {
                        BrokerId = broker.Id,
                        Topic = r.Topic,
                        Partition = r.Partition,
                        Cleaned = c.Cleaned,
                        DirtyRatio = Math.Round(c.DirtyRatio, 3),
                        FirstDirtyOffset = c.FirstDirtyOffset,
                        FirstUncleanableOffset = c.FirstUncleanableOffset,
                        SegmentsRewritten = c.SegmentsRewritten,
                        BytesBefore = c.BytesBefore,
                        BytesAfter = c.BytesAfter,
                        RecordsRemoved = c.RecordsRemoved,
                        TombstonesRemoved = c.TombstonesRemoved,
                        Reason = c.Reason,
                    });
                }
            }
        }
    }
}
