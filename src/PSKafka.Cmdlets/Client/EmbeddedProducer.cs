using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Partitioning;
using PSKafka.Engine.Storage;

namespace PSKafka.Cmdlets.Client;

/// <summary>
/// Groups records per partition into record batches (one RecordBatchBuilder each) and produces a
/// batch to the partition's leader when it is full or on flush, retrying what Kafka's producer retries.
/// With acks=all (idempotent) up to five batches wait for their in-sync replicas at once
/// (max.in.flight.requests.per.connection), so building the next batch overlaps with replication.
/// </summary>
internal sealed class EmbeddedProducer(EmbeddedClient client, ProducerSettings settings) : IProducerSession
{
    private static readonly TimeSpan DefaultDeliveryTimeout = TimeSpan.FromMilliseconds(120_000); // delivery.timeout.ms
    private const int RequestTimeoutMs = 30_000; // request.timeout.ms

    private readonly Dictionary<string, Pending?[]> _topics = new(StringComparer.Ordinal);
    private readonly Partitioner _partitioner = new();
    // Pipelines send to one topic: remember it and skip the dictionary.
    private string? _lastTopic;
    private Pending?[] _lastPartitions = [];

    private sealed class Pending(CompressionType compression)
    {
        public readonly RecordBatchBuilder Builder = new(compression);
        public readonly List<(long Timestamp, byte[]? Key)> Sent = new();
        /// <summary>The idempotent producer's next sequence number for this partition.</summary>
        public int NextSequence;
    }

    // With acks=all the producer is idempotent, as Kafka's is by default: a producer id, and a sequence
    // number per partition, so a batch retried after an error it had in fact survived is not written twice.
    private bool Idempotent => settings.Acks == Acks.All;
    private long _producerId = -1;
    private short _producerEpoch = -1;

    // ---- batches appended by their leader and waiting for the in-sync replicas, oldest first ----
    private const int MaxInFlight = 5; // max.in.flight.requests.per.connection (at most 5 with idempotence)

    private sealed class InFlight
    {
        public required TopicPartition Partition;
        public required byte[] Batch;           // as stamped: a retry resends the same producer id and sequence
        public required int Count;
        public required long ProducerId;
        public required Pending Pending;
        public required (long Timestamp, byte[]? Key)[]? Sent;
        public required DateTime Deadline;
        public required Task<ProducePartitionResult> Result;
    }

    private readonly Queue<InFlight> _inFlight = new();

    private void Stamp(RecordBatchBuilder builder, Pending pending)
    {
        if (!Idempotent) return;
        if (_producerId < 0) (_producerId, _producerEpoch) = client.AnyBroker().InitProducerId();
        builder.ProducerId = _producerId;
        builder.ProducerEpoch = _producerEpoch;
        builder.BaseSequence = pending.NextSequence;
    }

    // Records that failed leave a gap in the sequence, which the broker would refuse as out of order:
    // a new producer id starts every partition at sequence 0 again.
    private void ResetProducer()
    {
        _producerId = -1;
        foreach (var partitions in _topics.Values)
            foreach (var p in partitions) if (p is not null) p.NextSequence = 0;
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
        var failed = new List<ProduceFailure>();
        try
        {
            foreach (var (topic, partitions) in _topics)
                for (int p = 0; p < partitions.Length; p++)
                    if (partitions[p] is { Builder.Count: > 0 } pending) SendBatch(new TopicPartition(topic, p), pending, delivered);
        }
        catch (ProduceFailedException e)
        {
            failed.AddRange(e.Failures);
        }
        while (_inFlight.Count > 0) CompleteOldest(delivered, failed);
        if (failed.Count > 0) throw new ProduceFailedException(failed);
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
        var failed = new List<ProduceFailure>();
        try
        {
            Stamp(pending.Builder, pending);
            if (Idempotent)
            {
                SendPipelined(tp, pending, delivered, failed);
            }
            else
            {
                SendRecords(tp, pending.Builder.Build(), pending.Builder.Count, 0, pending, delivered, failed);
            }
        }
        finally
        {
            pending.Builder.Reset();
            pending.Sent.Clear();
        }
        if (failed.Count > 0) throw new ProduceFailedException(failed);
    }

    // Produces a batch whose records are pending.Sent[first..first+count). A batch over the topic's
    // max.message.bytes is split in two and retried, as Kafka's producer does, so only a record that
    // is too large on its own fails.
    private void SendRecords(TopicPartition tp, Memory<byte> batch, int count, int first, Pending pending, List<Delivery>? delivered, List<ProduceFailure> failed,
        (long Timestamp, byte[]? Key)[]? sent = null)
    {
        var result = Produce(tp, batch);
        if (result.Error == ErrorCode.MessageTooLarge && count > 1)
        {
            var records = Decode(batch);
            int half = count / 2;
            foreach (var (start, length) in new[] { (0, half), (half, count - half) })
            {
                using var builder = new RecordBatchBuilder(settings.Compression);
                SendRecords(tp, Restamp(builder, records.GetRange(start, length), pending), length, first + start, pending, delivered, failed, sent);
            }
            return;
        }
        if (result.Error == ErrorCode.None && Idempotent) pending.NextSequence += count;
        Conclude(tp, count, sent ?? (IReadOnlyList<(long, byte[]?)>)pending.Sent, first, result, delivered, failed);
    }

    /// <summary>
    /// What became of a batch whose records are <paramref name="sent"/>[first..first+count): their deliveries, or a
    /// failure, after which an idempotent producer starts over with a new id (the failed batch left a sequence gap).
    /// </summary>
    private void Conclude(TopicPartition tp, int count, IReadOnlyList<(long Timestamp, byte[]? Key)>? sent, int first, ProducePartitionResult result,
        List<Delivery>? delivered, List<ProduceFailure> failed)
    {
        if (result.Error != ErrorCode.None)
        {
            failed.Add(new ProduceFailure(tp.Topic, tp.Partition, count, result.Error,
                result.ErrorMessage ?? $"Producing to {tp} failed: {result.Error}."));
            if (Idempotent) ResetProducer();
            return;
        }
        if (delivered is null || sent is null) return;
        for (int i = 0; i < count; i++)
        {
            var (timestamp, key) = sent[first + i];
            delivered.Add(new Delivery(tp.Topic, tp.Partition, result.BaseOffset + i, result.LogAppendTime >= 0 ? result.LogAppendTime : timestamp, key));
        }
    }

    /// <summary>A batch built anew from <paramref name="records"/>, stamped with the producer's id and the partition's next sequence.</summary>
    private Memory<byte> Restamp(RecordBatchBuilder builder, IEnumerable<(long Timestamp, byte[]? Key, byte[]? Value, RecordHeader[] Headers)> records, Pending pending)
    {
        foreach (var r in records) builder.Append(r.Timestamp, r.Key, r.Value, r.Headers);
        Stamp(builder, pending);
        return builder.Build();
    }

    // The leader appends at once (in order); only the wait for the in-sync replicas runs in the background.
    // Sequence numbers are taken now, in send order, as Kafka's producer assigns them when it drains a batch.
    private void SendPipelined(TopicPartition tp, Pending pending, List<Delivery>? delivered, List<ProduceFailure> failed)
    {
        var bytes = pending.Builder.Build();
        int count = pending.Builder.Count;
        var deadline = DeliveryDeadline();
        pending.NextSequence += count;
        var result = Issue(tp, bytes, deadline);
        if (_inFlight.Count == 0 && result.IsCompletedSuccessfully && result.Result.Error == ErrorCode.None)
        {
            // Nothing older is waiting and this one is already in (one replica, or quick followers): nothing to keep.
            Conclude(tp, count, pending.Sent, 0, result.Result, delivered, failed);
            return;
        }
        _inFlight.Enqueue(new InFlight
        {
            Partition = tp,
            Batch = bytes.ToArray(), // the builder is reused for the next batch; a retry needs these bytes
            Count = count,
            ProducerId = _producerId,
            Pending = pending,
            Sent = delivered is null ? null : pending.Sent.ToArray(),
            Deadline = deadline,
            Result = result,
        });
        while (_inFlight.Count >= MaxInFlight) CompleteOldest(delivered, failed);
    }

    /// <summary>One produce request to the partition's leader; a retriable failure (no leader now) comes back as a result, not thrown.</summary>
    private Task<ProducePartitionResult> Issue(TopicPartition tp, Memory<byte> batch, DateTime deadline)
    {
        try
        {
            var leader = client.Leader(tp.Topic, tp.Partition);
            int timeoutMs = (int)Math.Clamp((deadline - DateTime.UtcNow).TotalMilliseconds, 1, RequestTimeoutMs);
            var request = new ProduceRequest { Acks = settings.Acks, TimeoutMs = timeoutMs, Partitions = [new ProducePartitionData(tp.Topic, tp.Partition, batch)] };
            var answer = leader.ProduceAsync(request);
            return answer.IsCompletedSuccessfully
                ? Task.FromResult(answer.Result[0])
                : answer.AsTask().ContinueWith(t => t.GetAwaiter().GetResult()[0], CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        catch (KafkaException e) when (EmbeddedClient.IsRetriable(e.Code))
        {
            return Task.FromResult(new ProducePartitionResult(tp.Topic, tp.Partition, e.Code, ErrorMessage: e.Message));
        }
    }

    private void CompleteOldest(List<Delivery>? delivered, List<ProduceFailure> failed)
    {
        var oldest = _inFlight.Peek();
        var result = oldest.Result.GetAwaiter().GetResult();
        if (result.Error == ErrorCode.None)
        {
            _inFlight.Dequeue();
            Conclude(oldest.Partition, oldest.Count, oldest.Sent, 0, result, delivered, failed);
            return;
        }
        // Something went wrong (leader moved, replicas too few, a timeout): settle the whole window in order,
        // one batch at a time, so a later batch never lands before an earlier one is sorted out.
        var window = _inFlight.ToArray();
        _inFlight.Clear();
        foreach (var b in window) ((IAsyncResult)b.Result).AsyncWaitHandle.WaitOne();
        foreach (var b in window) Settle(b, delivered, failed);
    }

    private void Settle(InFlight b, List<Delivery>? delivered, List<ProduceFailure> failed)
    {
        var first = b.Result.GetAwaiter().GetResult();
        if (first.Error == ErrorCode.None)
        {
            Conclude(b.Partition, b.Count, b.Sent, 0, first, delivered, failed);
            return;
        }
        // Too large for the topic: it goes out in halves, which need sequence numbers of their own, so the producer
        // starts over with a new id (as after any batch that fails for good) and this batch and the rest follow under it.
        if (first.Error == ErrorCode.MessageTooLarge && b.Count > 1 && b.ProducerId == _producerId) ResetProducer();
        if (b.ProducerId != _producerId)
        {
            // An earlier batch failed for good and the producer started over with a new id: send under the new one.
            using var builder = new RecordBatchBuilder(settings.Compression);
            SendRecords(b.Partition, Restamp(builder, Decode(b.Batch), b.Pending), b.Count, 0, b.Pending, delivered, failed, b.Sent);
            return;
        }
        // The same producer id and sequence again: if the first attempt did land, the leader answers it as a duplicate.
        Conclude(b.Partition, b.Count, b.Sent, 0, Produce(b.Partition, b.Batch, b.Deadline), delivered, failed);
    }

    private static List<(long Timestamp, byte[]? Key, byte[]? Value, RecordHeader[] Headers)> Decode(Memory<byte> batch)
    {
        var records = new List<(long, byte[]?, byte[]?, RecordHeader[])>();
        foreach (var b in new RecordBatchReader(batch))
            foreach (var r in b.Records)
                records.Add((r.Timestamp, r.KeyArray, r.ValueArray, r.HeaderCount == 0 ? [] : r.GetHeaders()));
        return records;
    }

    private ProducePartitionResult Produce(TopicPartition tp, Memory<byte> batch) => Produce(tp, batch, DeliveryDeadline());

    /// <summary>When a batch sent now is given up (delivery.timeout.ms).</summary>
    private DateTime DeliveryDeadline() => DateTime.UtcNow + (settings.DeliveryTimeout ?? DefaultDeliveryTimeout);

    private ProducePartitionResult Produce(TopicPartition tp, Memory<byte> batch, DateTime deadline)
    {
        // Retries resend the same batch. Without an idempotent producer (producer id and sequence numbers)
        // a retry after an acks=all timeout or a leader crash can duplicate a batch that did reach the ISR.
        while (true)
        {
            var result = Issue(tp, batch, deadline).GetAwaiter().GetResult();
            if (result.Error == ErrorCode.None || !EmbeddedClient.IsRetriable(result.Error) || DateTime.UtcNow > deadline) return result;
            EmbeddedClient.Backoff(CancellationToken.None);
        }
    }

    public void Dispose()
    {
        foreach (var partitions in _topics.Values)
            foreach (var pending in partitions) pending?.Builder.Dispose();
        _topics.Clear();
    }
}
