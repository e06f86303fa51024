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
    private static readonly TimeSpan DeliveryTimeout = TimeSpan.FromMilliseconds(120_000);

    private readonly Dictionary<string, Pending?[]> _topics = new(StringComparer.Ordinal);
    private readonly Partitioner _partitioner = new();
    // Pipelines send to one topic: remember it and skip the dictionary.
    private string? _lastTopic;
    private Pending?[] _lastPartitions = [];

    private sealed class Pending(CompressionType compression)
    {
        public readonly RecordBatchBuilder Builder = new(compression);
        public readonly List<(long Timestamp, byte[]? Key)> Sent = new();
    }

    public void Send(in OutgoingRecord record, List<Delivery>? delivered)
    {
        if (!ReferenceEquals(record.Topic, _lastTopic))
        {
            _lastPartitions = Partitions(record.Topic);
            _lastTopic = record.Topic;
        }
        var partitions = _lastPartitions;
        int count = partitions.Length;
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

        var pending = partitions[partition] ??= new Pending(settings.Compression);
        pending.Builder.Append(record.Timestamp, record.Key, record.Value, record.Headers);
        if (delivered is not null) pending.Sent.Add((record.Timestamp, record.Key));
        if (pending.Builder.Count >= settings.BatchRecords || pending.Builder.EstimatedSize >= settings.BatchBytes)
            SendBatch(new TopicPartition(record.Topic, partition), pending, delivered);
    }

    public void Flush(List<Delivery>? delivered)
    {
        foreach (var (topic, partitions) in _topics)
            for (int p = 0; p < partitions.Length; p++)
                if (partitions[p] is { Builder.Count: > 0 } pending) SendBatch(new TopicPartition(topic, p), pending, delivered);
    }

    private Pending?[] Partitions(string topic)
    {
        if (_topics.TryGetValue(topic, out var known)) return known;
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
        return _topics[topic] = new Pending?[t.Partitions.Count];
    }

    private void SendBatch(TopicPartition tp, Pending pending, List<Delivery>? delivered)
    {
        var batch = pending.Builder.Build();
        int count = pending.Builder.Count;
        var deadline = DateTime.UtcNow + DeliveryTimeout;
        ProducePartitionResult result;
        while (true)
        {
            try
            {
                var leader = client.Leader(tp.Topic, tp.Partition);
                var request = new ProduceRequest { Acks = settings.Acks, Partitions = [new ProducePartitionData(tp.Topic, tp.Partition, batch)] };
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
        foreach (var partitions in _topics.Values)
            foreach (var pending in partitions) pending?.Builder.Dispose();
        _topics.Clear();
    }
}
