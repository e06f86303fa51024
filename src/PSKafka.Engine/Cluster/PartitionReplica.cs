using PSKafka.Engine.Api;
using PSKafka.Engine.Storage;

namespace PSKafka.Engine.Cluster;

/// <summary>
/// One broker's replica of a partition (Kafka's Partition): its log, whether this broker leads it,
/// the leader epoch and the high watermark. Fetchers waiting for data are woken on every append.
/// </summary>
public sealed class PartitionReplica
{
    private readonly Lock _appendLock = new();
    private TaskCompletionSource _dataArrived = NewSignal();
    private long _highWatermark;
    private readonly ProducerStateTable _producers;

    internal PartitionReplica(TopicPartition topicPartition, PartitionLog log, TopicSettings settings)
    {
        TopicPartition = topicPartition;
        Log = log;
        Settings = settings;
        _highWatermark = log.LogEndOffset;
        // Retries that matter come within seconds, so the active segment's batches are enough to rebuild from.
        _producers = ProducerStateTable.Rebuild(log, log.ActiveSegment.BaseOffset);
    }

    public TopicPartition TopicPartition { get; }
    public PartitionLog Log { get; }
    public TopicSettings Settings { get; internal set; }
    public bool IsLeader { get; internal set; }
    public int LeaderEpoch { get; internal set; }
    public int LeaderId { get; internal set; } = -1;
    public IReadOnlyList<int> Replicas { get; internal set; } = [];
    public IReadOnlyList<int> Isr { get; internal set; } = [];

    /// <summary>Offsets below it are committed (on every in-sync replica) and visible to consumers.</summary>
    public long HighWatermark => Volatile.Read(ref _highWatermark);
    public long LogEndOffset => Log.LogEndOffset;
    public long LogStartOffset => Log.LogStartOffset;

    internal ProducePartitionResult AppendAsLeader(ProducePartitionData data, short acks)
    {
        if (!IsLeader)
            return new(data.Topic, data.Partition, ErrorCode.NotLeaderOrFollower, ErrorMessage: $"This broker is not the leader of {TopicPartition}.");
        if (acks == Acks.All && Isr.Count < Settings.MinInsyncReplicas)
            return new(data.Topic, data.Partition, ErrorCode.NotEnoughReplicas,
                ErrorMessage: $"The in-sync replicas of {TopicPartition} ({Isr.Count}) are fewer than min.insync.replicas ({Settings.MinInsyncReplicas}).");

        LogAppendInfo info;
        lock (_appendLock)
        {
            var verdict = _producers.Check(data.Records.Span, TopicPartition.ToString());
            if (verdict.IsDuplicate) // a retried batch: already written, answered as a success with its first offsets
                return new(data.Topic, data.Partition, ErrorCode.None, verdict.DuplicateFirstOffset, -1, Log.LogStartOffset);
            if (verdict.Error != ErrorCode.None)
                return new(data.Topic, data.Partition, verdict.Error, LogStartOffset: Log.LogStartOffset, ErrorMessage: verdict.Message);
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            info = Log.AppendAsLeader(data.Records.Span, LeaderEpoch, now);
            if (info.Error == ErrorCode.None)
            {
                _producers.Update(data.Records.Span, now);
                MaybeIncrementHighWatermark();
            }
        }
        if (info.Error != ErrorCode.None)
            return new(data.Topic, data.Partition, info.Error, LogStartOffset: Log.LogStartOffset, ErrorMessage: info.ErrorMessage);
        return new(data.Topic, data.Partition, ErrorCode.None, info.FirstOffset, info.LogAppendTime, Log.LogStartOffset);
    }

    // With the leader as the only in-sync replica the high watermark is its log end offset.
    private void MaybeIncrementHighWatermark()
    {
        long leo = Log.LogEndOffset;
        if (leo > Volatile.Read(ref _highWatermark))
        {
            Volatile.Write(ref _highWatermark, leo);
            Signal();
        }
    }

    internal FetchPartitionResult Read(FetchPartition request, bool fromFollower)
    {
        long maxOffset = fromFollower ? Log.LogEndOffset : HighWatermark;
        if (request.FetchOffset == maxOffset && maxOffset >= Log.LogStartOffset)
            return new(request.Topic, request.Partition, ErrorCode.None, HighWatermark, Log.LogStartOffset, ReadOnlyMemory<byte>.Empty);
        if (request.FetchOffset < Log.LogStartOffset || request.FetchOffset > maxOffset)
            return new(request.Topic, request.Partition, ErrorCode.OffsetOutOfRange, HighWatermark, Log.LogStartOffset, ReadOnlyMemory<byte>.Empty,
                $"Offset {request.FetchOffset} is out of range for {TopicPartition} [{Log.LogStartOffset}, {maxOffset}].");
        var read = Log.Read(request.FetchOffset, request.PartitionMaxBytes, maxOffset);
        return new(request.Topic, request.Partition, read.Error, HighWatermark, Log.LogStartOffset, read.Records);
    }

    /// <summary>A task that completes when data past the current high watermark arrives.</summary>
    internal Task DataArrived => Volatile.Read(ref _dataArrived).Task;

    internal void Signal() => Interlocked.Exchange(ref _dataArrived, NewSignal()).TrySetResult();

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
