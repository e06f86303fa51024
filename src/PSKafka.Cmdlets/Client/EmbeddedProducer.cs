using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Partitioning;
using PSKafka.Engine.Storage;

namespace PSKafka.Cmdlets.Client;

/// <summary>
/// Groups records per partition into record batches (one RecordBatchBuilder each) and produces a
/// batch to the partition's leader when it is full or on flush, retrying what Kafka's producer retries.
/// </summary>
internal sealed class EmbeddedProducer(EmbeddedClient client, ProducerSettings settings) : IProducerSession
{
    private static readonly TimeSpan DefaultDeliveryTimeout = TimeSpan.FromMilliseconds(120_000); // delivery.timeout.ms
    private const int RequestTimeoutMs = 30_000; // request.timeout.ms

    private readonly Dictionary<string, int> _partitionCounts = new(StringComparer.Ordinal);
    private readonly Dictionary<TopicPartition, Pending> _pending = new();
    private readonly Partitioner _partitioner = new();

    private sealed class Pending(CompressionType compression)
    {
        public readonly RecordBatchBuilder Builder = new(compression);
        public readonly List<(long Timestamp, byte[]? Key)> Sent = new();
    }

    public void Send(in OutgoingRecord record, List<Delivery>? delivered)
    {
        int count = PartitionCount(record.Topic);
        int partition;
        if (record.Partition is { } p)
        {
            if (p < 0 || p >= count)
                throw new KafkaException(ErrorCode.UnknownTopicOrPartition, $"Partition {p} of topic '{record.Topic}' does not exist (the topic has {count}: 0..{count - 1}).");
            partition = p;
        }
        else
        {
            partition = _partitioner.Choose(record.Key, record.Key is not null, count);
        }

        var tp = new TopicPartition(record.Topic, partition);
        if (!_pending.TryGetValue(tp, out var pending)) _pending[tp] = pending = new Pending(settings.Compression);
        pending.Builder.Append(record.Timestamp, record.Key, record.Value, record.Headers);
        if (delivered is not null) pending.Sent.Add((record.Timestamp, record.Key));
        if (pending.Builder.Count >= settings.BatchRecords || pending.Builder.EstimatedSize >= settings.BatchBytes)
            SendBatch(tp, pending, delivered);
    }

    public void Flush(List<Delivery>? delivered)
    {
        foreach (var (tp, pending) in _pending)
            if (pending.Builder.Count > 0) SendBatch(tp, pending, delivered);
    }

    private int PartitionCount(string topic)
    {
        if (_partitionCounts.TryGetValue(topic, out var n)) return n;
        var meta = client.GetMetadata([topic]);
        var t = meta.Topics[0];
        if (t.Error == ErrorCode.UnknownTopicOrPartition && settings.AutoCreateTopics)
        {
            // Kafka creates a topic on a producer's first metadata request when auto.create.topics.enable is true.
            t = client.AnyBroker().Metadata([topic], allowAutoTopicCreation: true).Topics[0];
        }
        if (t.Error != ErrorCode.None)
            throw new KafkaException(t.Error, t.Error == ErrorCode.InvalidTopicException
                ? $"Topic name '{topic}' is not valid." : $"Topic '{topic}' does not exist.");
        return _partitionCounts[topic] = t.Partitions.Count;
    }

    private void SendBatch(TopicPartition tp, Pending pending, List<Delivery>? delivered)
    {
        var batch = pending.Builder.Build();
        int count = pending.Builder.Count;
        var deadline = DateTime.UtcNow + (settings.DeliveryTimeout ?? DefaultDeliveryTimeout);
        ProducePartitionResult result;
        // Retries resend the same batch. Without an idempotent producer (producer id and sequence numbers)
        // a retry after an acks=all timeout or a leader crash can duplicate a batch that did reach the ISR.
        while (true)
        {
            try
            {
                var leader = client.Leader(tp.Topic, tp.Partition);
                int timeoutMs = (int)Math.Clamp((deadline - DateTime.UtcNow).TotalMilliseconds, 1, RequestTimeoutMs);
                var request = new ProduceRequest { Acks = settings.Acks, TimeoutMs = timeoutMs, Partitions = [new ProducePartitionData(tp.Topic, tp.Partition, batch)] };
                result = leader.ProduceAsync(request).AsTask().GetAwaiter().GetResult()[0];
            }
            catch (KafkaException e) when (EmbeddedClient.IsRetriable(e.Code))
            {
                result = new ProducePartitionResult(tp.Topic, tp.Partition, e.Code, ErrorMessage: e.Message);
            }
            if (result.Error == ErrorCode.None || !EmbeddedClient.IsRetriable(result.Error) || DateTime.UtcNow > deadline) break;
            EmbeddedClient.Backoff(CancellationToken.None);
        }

        if (result.Error != ErrorCode.None)
        {
            pending.Builder.Reset();
            pending.Sent.Clear();
            throw new KafkaException(result.Error, result.ErrorMessage ?? $"Producing to {tp} failed: {result.Error}.");
        }
        if (delivered is not null)
        {
            for (int i = 0; i < count; i++)
            {
                var (timestamp, key) = pending.Sent[i];
                delivered.Add(new Delivery(tp.Topic, tp.Partition, result.BaseOffset + i, result.LogAppendTime >= 0 ? result.LogAppendTime : timestamp, key));
            }
        }
        pending.Builder.Reset();
        pending.Sent.Clear();
    }

    public void Dispose()
    {
        foreach (var pending in _pending.Values) pending.Builder.Dispose();
        _pending.Clear();
    }
}
