using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Storage;

namespace PSKafka.Client;

/// <summary>
/// Fetches assigned partitions from their leaders, decodes record batches and keeps a position
/// per partition, like a Kafka consumer with manual assignment.
/// </summary>
internal sealed class EmbeddedConsumer(EmbeddedClient client, ConsumerSettings settings) : IConsumerSession
{
    private readonly Dictionary<TopicPartition, long> _positions = new();
    private readonly Dictionary<TopicPartition, long> _highWatermarks = new();

    public IReadOnlyDictionary<TopicPartition, long> Positions => _positions;

    public bool AtEnd => _positions.All(p => _highWatermarks.TryGetValue(p.Key, out var hw) && p.Value >= hw);

    public void Assign(IEnumerable<(TopicPartition Partition, long Offset)> positions)
    {
        _positions.Clear();
        _highWatermarks.Clear();
        foreach (var (tp, offset) in positions) _positions[tp] = offset;
    }

    public int Poll(TimeSpan timeout, List<ConsumedRecord> into, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            int added = FetchOnce((int)Math.Clamp((deadline - DateTime.UtcNow).TotalMilliseconds, 0, settings.MaxWaitMs), into, cancellationToken);
            if (added > 0 || DateTime.UtcNow >= deadline || cancellationToken.IsCancellationRequested) return added;
        }
    }

    private int FetchOnce(int maxWaitMs, List<ConsumedRecord> into, CancellationToken cancellationToken)
    {
        var byLeader = new Dictionary<Engine.Cluster.Broker, List<FetchPartitionParams>>();
        foreach (var (tp, position) in _positions)
        {
            Engine.Cluster.Broker leader;
            try
            {
                leader = client.Leader(tp.Topic, tp.Partition);
            }
            catch (KafkaException e) when (EmbeddedClient.IsRetriable(e.Code))
            {
                continue; // no leader right now: try again on the next poll
            }
            if (!byLeader.TryGetValue(leader, out var list)) byLeader[leader] = list = new();
            list.Add(new FetchPartitionParams(tp.Topic, tp.Partition, position, settings.PartitionMaxBytes));
        }
        if (byLeader.Count == 0)
        {
            EmbeddedClient.Backoff(cancellationToken);
            return 0;
        }

        int added = 0;
        // With several leaders, only the first fetch may wait, so one slow partition does not delay the rest.
        bool first = true;
        foreach (var (leader, partitions) in byLeader)
        {
            var request = new FetchParams { MaxWaitMs = first && byLeader.Count == 1 ? maxWaitMs : 0, MinBytes = 1, Partitions = partitions };
            first = false;
            IReadOnlyList<FetchPartitionResult> results;
            try
            {
                results = leader.FetchAsync(request, cancellationToken).AsTask().GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                return added;
            }
            foreach (var r in results) added += Consume(r, into);
        }
        if (added == 0 && byLeader.Count > 1 && maxWaitMs > 0) cancellationToken.WaitHandle.WaitOne(Math.Min(maxWaitMs, 50));
        return added;
    }

    private int Consume(FetchPartitionResult result, List<ConsumedRecord> into)
    {
        var tp = new TopicPartition(result.Topic, result.Partition);
        switch (result.Error)
        {
            case ErrorCode.None:
                break;
            case ErrorCode.OffsetOutOfRange:
                // auto.offset.reset=earliest for a position that fell out of the log (retention, truncation).
                _positions[tp] = Math.Max(0, result.LogStartOffset);
                return 0;
            case var code when EmbeddedClient.IsStaleMetadata(code):
                // The leader moved or the topic changed: the next poll asks for the partition's metadata again.
                client.Forget(tp.Topic);
                return 0;
            case var code when EmbeddedClient.IsRetriable(code):
                return 0;
            default:
                throw new KafkaException(result.Error, $"Fetching {tp} failed: {result.Error}.");
        }
        _highWatermarks[tp] = result.HighWatermark;
        long position = _positions[tp];
        int added = 0;
        foreach (var batch in new RecordBatchReader(result.Records))
        {
            // Kafka's consumers check CRCs by default (check.crcs=true).
            if (!batch.IsValid) throw new KafkaException(ErrorCode.CorruptMessage, $"Record batch at offset {batch.BaseOffset} of {tp} failed its CRC check.");
            if (batch.LastOffset < position || batch.IsControl) { position = Math.Max(position, batch.NextOffset); continue; }
            foreach (var record in batch.Records)
            {
                if (record.Offset < position) continue;
                into.Add(new ConsumedRecord(tp.Topic, tp.Partition, record.Offset, record.Timestamp, batch.TimestampType,
                    record.KeyArray, record.ValueArray, record.HeaderCount == 0 ? [] : record.GetHeaders()));
                added++;
            }
            position = batch.NextOffset;
        }
        _positions[tp] = position;
        return added;
    }

    public void Dispose() { }
}
