using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Partitioning;
using PSKafka.Engine.Storage;

namespace PSKafka.Client;

/// <summary>
/// Kafka's producer, in-process. The caller's thread only appends each record to its partition's open batch
/// (Kafka's RecordAccumulator); the producer's own sender thread produces a batch to the partition's leader
/// when it has reached batch.size bytes, when linger.ms has passed since its first record, or on flush and
/// close, retrying what Kafka's producer retries. With acks=all (idempotent) up to five batches wait for their
/// in-sync replicas at once (max.in.flight.requests.per.connection), so the next batch overlaps with replication.
/// Deliveries and failures are handed to the caller on its next Send or Flush, as they complete.
/// </summary>
internal sealed class EmbeddedProducer : IProducerSession
{
    private static readonly TimeSpan DefaultDeliveryTimeout = TimeSpan.FromMilliseconds(120_000); // delivery.timeout.ms
    private const int RequestTimeoutMs = ProduceParams.DefaultTimeoutMs; // request.timeout.ms
    private const long BufferMemory = 32L << 20; // buffer.memory: Send waits while this much is full and not yet taken by the sender

    private readonly EmbeddedClient _client;
    private readonly ProducerSettings _settings;
    private readonly Thread _sender;

    public EmbeddedProducer(EmbeddedClient client, ProducerSettings settings)
    {
        _client = client;
        _settings = settings;
        _sender = new Thread(Run) { IsBackground = true, Name = "PSKafka producer" };
        _sender.Start();
    }

    // ---- the caller's side: which partition a record goes to ----
    private readonly Dictionary<string, PartitionState?[]> _topics = new(StringComparer.Ordinal);
    private readonly Partitioner _partitioner = new();
    // Pipelines send to one topic: remember it and skip the dictionary.
    private string? _lastTopic;
    private PartitionState?[] _lastPartitions = [];

    private sealed class PartitionState(TopicPartition partition)
    {
        public readonly TopicPartition Partition = partition;
        /// <summary>The batch records are appended to (the caller's thread only).</summary>
        public Batch? Open;
        /// <summary>The idempotent producer's next sequence number for this partition (sender thread).</summary>
        public int NextSequence;
        public bool Sequenced;
    }

    // A batch's state: records are appended while it is Open; whoever moves it to Closed (the caller's thread when
    // it is full or on flush, the sender when it has lingered) hands it over. No lock per record, only a CAS.
    private const int Open = 0, Appending = 1, Closed = 2;

    private sealed class Batch(PartitionState partition, RecordBatchBuilder builder, long lingerDeadline)
    {
        public readonly PartitionState Partition = partition;
        public readonly RecordBatchBuilder Builder = builder;
        /// <summary>Timestamp and key of each record, for delivery reports (null when none is asked for).</summary>
        public List<(long Timestamp, byte[]? Key)>? Sent;
        public readonly long LingerDeadline = lingerDeadline;
        public int State;
    }

    // ---- the accumulator, shared by the caller's thread and the sender under _lock ----
    private readonly object _lock = new();
    private readonly Queue<Batch> _ready = new();     // closed batches, in the order they were closed
    private readonly Queue<Batch> _lingering = new(); // batches in the order they opened, so of their linger deadlines
    private readonly Stack<RecordBatchBuilder> _builders = new();
    private long _readyBytes;
    private int _outstanding; // records of closed batches neither delivered nor failed yet
    private volatile bool _closing;
    private volatile bool _hasCompletions;
    private volatile KafkaException? _fatal;
    private bool _senderExited;
    private bool _senderIdle; // waiting with no batch open: a new batch must wake it
    private List<Delivery> _completed = new();
    private List<ProduceFailure> _failures = new();
    // Close gave up waiting: the sender stops retrying and drops what it has.
    private readonly CancellationTokenSource _abort = new();

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
            if (TopicChecks.MissingPartition(record.Topic, p, count) is { } missing) throw missing;
            partition = p;
        }
        else
        {
            partition = _partitioner.Choose(record.Key, record.Key is not null, count);
        }
        var state = partitions[partition] ??= new PartitionState(new TopicPartition(record.Topic, partition));

        if (_closing || _fatal is not null || Volatile.Read(ref _readyBytes) >= BufferMemory) WaitForRoom();
        var batch = state.Open;
        if (batch is null || Interlocked.CompareExchange(ref batch.State, Appending, Open) != Open)
        {
            // The sender took the batch (it lingered long enough): start the next one.
            batch = state.Open = OpenBatch(state);
        }
        batch.Builder.Append(record.Timestamp, record.Key, record.Value, record.Headers);
        if (delivered is not null) (batch.Sent ??= new()).Add((record.Timestamp, record.Key));
        if (batch.Builder.EstimatedSize >= _settings.BatchBytes)
        {
            state.Open = null;
            lock (_lock) HandOver(batch, null);
        }
        else
        {
            Volatile.Write(ref batch.State, Open);
        }
        if (_hasCompletions) TakeCompletions(delivered);
    }

    private Batch OpenBatch(PartitionState state)
    {
        lock (_lock)
        {
            var batch = new Batch(state, _builders.TryPop(out var b) ? b : new RecordBatchBuilder(_settings.Compression),
                Environment.TickCount64 + (long)_settings.Linger.TotalMilliseconds)
            { State = Appending };
            _lingering.Enqueue(batch);
            // Batches linger in the order they open, so only a sender with nothing to linger on needs waking.
            if (_senderIdle) Monitor.PulseAll(_lock);
            return batch;
        }
    }

    /// <summary>
    /// Under _lock, by whoever closed the batch: its records count as under way, and it goes to the sender's
    /// <paramref name="taking"/> list, or (closed by the caller) to the ready queue, waking the sender.
    /// </summary>
    private void HandOver(Batch batch, List<Batch>? taking)
    {
        batch.State = Closed;
        _outstanding += batch.Builder.Count;
        if (taking is not null)
        {
            taking.Add(batch);
            return;
        }
        _ready.Enqueue(batch);
        _readyBytes += batch.Builder.EstimatedSize;
        Monitor.PulseAll(_lock);
    }

    // Kafka's buffer.memory: the caller waits while the sender is that far behind; a closed or failed producer takes no more.
    private void WaitForRoom()
    {
        lock (_lock)
        {
            while (_readyBytes >= BufferMemory && !_closing && _fatal is null) Monitor.Wait(_lock);
            if (_fatal is not null) throw _fatal;
            if (_closing) throw new InvalidOperationException("The producer is closed.");
        }
    }

    public bool Flush(List<Delivery>? delivered, TimeSpan wait)
    {
        long until = Until(wait);
        bool done;
        lock (_lock)
        {
            // The caller's own open batches go out now; the sender may have taken some already.
            foreach (var b in _lingering)
            {
                if (Interlocked.CompareExchange(ref b.State, Closed, Open) != Open) continue;
                b.Partition.Open = null;
                HandOver(b, null);
            }
            // Back as soon as something completed, so the caller can report it while the rest is under way.
            while (_outstanding > 0 && _fatal is null && !_hasCompletions && !_senderExited && WaitUntil(until)) { }
            done = _outstanding == 0;
            if (!_hasCompletions && _fatal is not null) throw _fatal;
        }
        if (_hasCompletions) TakeCompletions(delivered);
        return done;
    }

    public int Close(TimeSpan wait)
    {
        int notSent;
        lock (_lock)
        {
            if (!_closing)
            {
                _closing = true;
                Monitor.PulseAll(_lock);
            }
            long until = Until(wait);
            while ((_outstanding > 0 || _lingering.Count > 0) && !_senderExited && WaitUntil(until)) { }
            // What never went out, and what failed without the caller having been told.
            notSent = _outstanding;
            foreach (var b in _lingering) if (Volatile.Read(ref b.State) != Closed) notSent += b.Builder.Count;
            foreach (var f in _failures) notSent += f.RecordCount;
            _failures.Clear();
            _outstanding = 0;
        }
        // Gave up: the sender drops what it has and stops retrying (it may still be waiting on replicas; it ends by itself).
        if (notSent > 0) _abort.Cancel();
        if (!_abort.IsCancellationRequested) _sender.Join();
        return notSent;
    }

    public void Dispose()
    {
        // Records not flushed are dropped, as with Kafka's producer closed with a zero timeout.
        Close(TimeSpan.Zero);
    }

    private static long Until(TimeSpan wait) =>
        wait == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)Math.Max(0, wait.TotalMilliseconds);

    // Under _lock: waits for a pulse, at most until `until`; false once that has passed.
    private bool WaitUntil(long until)
    {
        long left = until - Environment.TickCount64;
        if (left <= 0) return false;
        Monitor.Wait(_lock, (int)Math.Min(left, int.MaxValue));
        return true;
    }

    /// <summary>Hands the caller the deliveries completed since the last call, and throws for the records that failed.</summary>
    private void TakeCompletions(List<Delivery>? delivered)
    {
        List<ProduceFailure> failed;
        lock (_lock)
        {
            _hasCompletions = false;
            if (_completed.Count > 0)
            {
                delivered?.AddRange(_completed);
                _completed.Clear();
            }
            if (_failures.Count == 0) return;
            failed = _failures;
            _failures = new();
        }
        throw new ProduceFailedException(failed);
    }

    private PartitionState?[] Partitions(string topic)
    {
        if (_topics.TryGetValue(topic, out var known)) return known;
        var meta = _client.GetMetadata([topic]);
        var t = meta.Topics[0];
        if (t.Error == ErrorCode.UnknownTopicOrPartition && _settings.AutoCreateTopics)
        {
            // Kafka creates a topic on a producer's first metadata request when auto.create.topics.enable is true.
            t = _client.Metadata([topic], allowAutoTopicCreation: true).Topics[0];
        }
        TopicChecks.Require(t);
        return _topics[topic] = new PartitionState?[t.Partitions.Count];
    }

    // ================= the sender thread: everything below runs on it =================

    private void Run()
    {
        var batches = new List<Batch>();
        var delivered = new List<Delivery>();
        var failed = new List<ProduceFailure>();
        try
        {
            while (true)
            {
                lock (_lock)
                {
                    while (!TakeDue(batches) && !OldestInFlightDone())
                    {
                        if ((_closing && _outstanding == 0 && _lingering.Count == 0) || _abort.IsCancellationRequested) return;
                        int wait = LingerWait();
                        _senderIdle = wait == Timeout.Infinite;
                        Monitor.Wait(_lock, wait);
                        _senderIdle = false;
                    }
                }
                foreach (var batch in batches)
                {
                    if (_abort.IsCancellationRequested) return;
                    SendBatch(batch, delivered, failed);
                }
                while (OldestInFlightDone()) CompleteOldest(delivered, failed);
                Publish(batches, delivered, failed);
            }
        }
        catch (Exception e)
        {
            // Not a broker's answer about a batch (those are per-record failures) but the producer itself: it stops, as Kafka's does on a fatal error.
            Publish(batches, delivered, failed);
            lock (_lock)
                _fatal = new KafkaException(e is KafkaException k ? k.Code : ErrorCode.UnknownServerError,
                    $"The producer stopped ({e.Message}); {_outstanding} message(s) were not sent.", e);
        }
        finally
        {
            lock (_lock)
            {
                _senderExited = true;
                foreach (var b in _ready) b.Builder.Dispose(); // not the open ones: the caller may be appending to one this instant
                while (_builders.TryPop(out var builder)) builder.Dispose();
                Monitor.PulseAll(_lock);
            }
        }
    }

    private bool OldestInFlightDone() => _inFlight.Count > 0 && _inFlight.Peek().Result.IsCompleted;

    /// <summary>Under _lock: the batches to send now: those the caller closed (full, flushed), those that have lingered, and all on close.</summary>
    private bool TakeDue(List<Batch> into)
    {
        if (_readyBytes >= BufferMemory) Monitor.PulseAll(_lock); // a Send waits for buffer memory
        while (_ready.TryDequeue(out var full))
        {
            _readyBytes -= full.Builder.EstimatedSize;
            into.Add(full);
        }
        long now = Environment.TickCount64;
        while (_lingering.TryPeek(out var b))
        {
            if (Volatile.Read(ref b.State) != Closed)
            {
                if (!_closing && b.LingerDeadline > now) break;
                int was = Interlocked.CompareExchange(ref b.State, Closed, Open);
                if (was == Appending) break; // the caller is adding a record this instant: next round (LingerWait gives 1 ms)
                if (was == Open) HandOver(b, into);
            }
            _lingering.Dequeue();
        }
        return into.Count > 0;
    }

    /// <summary>Under _lock: how long the sender may sleep: until the oldest open batch has lingered enough.</summary>
    private int LingerWait() =>
        _lingering.TryPeek(out var head) ? (int)Math.Clamp(head.LingerDeadline - Environment.TickCount64, 1, int.MaxValue) : Timeout.Infinite;

    /// <summary>Hands what the sender concluded to the caller's side, and the sent batches' builders back for reuse.</summary>
    private void Publish(List<Batch> batches, List<Delivery> delivered, List<ProduceFailure> failed)
    {
        lock (_lock)
        {
            _outstanding -= _settled;
            _settled = 0;
            _completed.AddRange(delivered);
            _failures.AddRange(failed);
            if (delivered.Count > 0 || failed.Count > 0) _hasCompletions = true;
            foreach (var b in batches) _builders.Push(b.Builder);
            Monitor.PulseAll(_lock);
        }
        batches.Clear();
        delivered.Clear();
        failed.Clear();
    }

    // Records concluded (delivered or failed) since the last Publish.
    private int _settled;

    // With acks=all the producer is idempotent, as Kafka's is by default: a producer id, and a sequence
    // number per partition, so a batch retried after an error it had in fact survived is not written twice.
    private bool Idempotent => _settings.Acks == Acks.All;
    private long _producerId = -1;
    private short _producerEpoch = -1;
    private readonly List<PartitionState> _sequenced = new();

    // ---- batches appended by their leader and waiting for the in-sync replicas, oldest first ----
    private const int MaxInFlight = 5; // max.in.flight.requests.per.connection (at most 5 with idempotence)

    private sealed class InFlight
    {
        public required TopicPartition Partition;
        public required byte[] Batch;           // as stamped: a retry resends the same producer id and sequence
        public required int Count;
        public required long ProducerId;
        public required PartitionState Pending;
        public required IReadOnlyList<(long Timestamp, byte[]? Key)>? Sent;
        public required DateTime Deadline;
        public required Task<ProducePartitionResult> Result;
    }

    private readonly Queue<InFlight> _inFlight = new();

    private void Stamp(RecordBatchBuilder builder, PartitionState pending)
    {
        if (!Idempotent) return;
        if (_producerId < 0) (_producerId, _producerEpoch) = _client.AnyBroker().InitProducerId();
        if (!pending.Sequenced)
        {
            pending.Sequenced = true;
            _sequenced.Add(pending);
        }
        builder.ProducerId = _producerId;
        builder.ProducerEpoch = _producerEpoch;
        builder.BaseSequence = pending.NextSequence;
    }

    // Records that failed leave a gap in the sequence, which the broker would refuse as out of order:
    // a new producer id starts every partition at sequence 0 again.
    private void ResetProducer()
    {
        _producerId = -1;
        foreach (var p in _sequenced) p.NextSequence = 0;
    }

    private void SendBatch(Batch batch, List<Delivery> delivered, List<ProduceFailure> failed)
    {
        var builder = batch.Builder;
        var pending = batch.Partition;
        var sent = batch.Sent is { } s && s.Count == builder.Count ? s : null;
        try
        {
            Stamp(builder, pending);
            if (Idempotent)
            {
                SendPipelined(pending.Partition, builder, pending, sent, delivered, failed);
            }
            else
            {
                SendRecords(pending.Partition, builder.Build(), builder.Count, 0, pending, delivered, failed, sent);
            }
        }
        finally
        {
            builder.Reset();
        }
    }

    // Produces a batch whose records are sent[first..first+count). A batch over the topic's
    // max.message.bytes is split in two and retried, as Kafka's producer does, so only a record that
    // is too large on its own fails.
    private void SendRecords(TopicPartition tp, Memory<byte> batch, int count, int first, PartitionState pending, List<Delivery> delivered, List<ProduceFailure> failed,
        IReadOnlyList<(long Timestamp, byte[]? Key)>? sent)
    {
        var result = Produce(tp, batch);
        if (result.Error == ErrorCode.MessageTooLarge && count > 1)
        {
            var records = Decode(batch);
            int half = count / 2;
            foreach (var (start, length) in new[] { (0, half), (half, count - half) })
            {
                using var builder = new RecordBatchBuilder(_settings.Compression);
                SendRecords(tp, Restamp(builder, records.GetRange(start, length), pending), length, first + start, pending, delivered, failed, sent);
            }
            return;
        }
        if (result.Error == ErrorCode.None && Idempotent) pending.NextSequence += count;
        Conclude(tp, count, sent, first, result, delivered, failed);
    }

    /// <summary>
    /// What became of a batch whose records are <paramref name="sent"/>[first..first+count): their deliveries, or a
    /// failure, after which an idempotent producer starts over with a new id (the failed batch left a sequence gap).
    /// </summary>
    private void Conclude(TopicPartition tp, int count, IReadOnlyList<(long Timestamp, byte[]? Key)>? sent, int first, ProducePartitionResult result,
        List<Delivery> delivered, List<ProduceFailure> failed)
    {
        _settled += count;
        if (result.Error != ErrorCode.None)
        {
            failed.Add(new ProduceFailure(tp.Topic, tp.Partition, count, result.Error,
                result.ErrorMessage ?? $"Producing to {tp} failed: {result.Error}."));
            if (Idempotent) ResetProducer();
            return;
        }
        if (sent is null) return;
        for (int i = 0; i < count; i++)
        {
            var (timestamp, key) = sent[first + i];
            delivered.Add(new Delivery(tp.Topic, tp.Partition, result.BaseOffset + i, result.LogAppendTime >= 0 ? result.LogAppendTime : timestamp, key));
        }
    }

    /// <summary>A batch built anew from <paramref name="records"/>, stamped with the producer's id and the partition's next sequence.</summary>
    private Memory<byte> Restamp(RecordBatchBuilder builder, IEnumerable<(long Timestamp, byte[]? Key, byte[]? Value, RecordHeader[] Headers)> records, PartitionState pending)
    {
        foreach (var r in records) builder.Append(r.Timestamp, r.Key, r.Value, r.Headers);
        Stamp(builder, pending);
        return builder.Build();
    }

    // The leader appends at once (in order); only the wait for the in-sync replicas runs in the background.
    // Sequence numbers are taken now, in send order, as Kafka's producer assigns them when it drains a batch.
    private void SendPipelined(TopicPartition tp, RecordBatchBuilder builder, PartitionState pending, IReadOnlyList<(long Timestamp, byte[]? Key)>? sent,
        List<Delivery> delivered, List<ProduceFailure> failed)
    {
        var bytes = builder.Build();
        int count = builder.Count;
        var deadline = DeliveryDeadline();
        pending.NextSequence += count;
        var result = Issue(tp, bytes, deadline);
        if (_inFlight.Count == 0 && result.IsCompletedSuccessfully && result.Result.Error == ErrorCode.None)
        {
            // Nothing older is waiting and this one is already in (one replica, or quick followers): nothing to keep.
            Conclude(tp, count, sent, 0, result.Result, delivered, failed);
            return;
        }
        // Wake the sender when the replicas have it, so its delivery is reported without waiting for the next batch.
        if (!result.IsCompleted) result.ContinueWith(_ => { lock (_lock) Monitor.PulseAll(_lock); }, TaskScheduler.Default);
        _inFlight.Enqueue(new InFlight
        {
            Partition = tp,
            Batch = bytes.ToArray(), // the builder is reused for the next batch; a retry needs these bytes
            Count = count,
            ProducerId = _producerId,
            Pending = pending,
            Sent = sent,
            Deadline = deadline,
            Result = result,
        });
        while (_inFlight.Count >= MaxInFlight) CompleteOldest(delivered, failed);
    }

    /// <summary>
    /// One produce request to the partition's leader (from the client's metadata cache); a failure (no leader now, topic
    /// deleted) comes back as a result, not thrown.
    /// </summary>
    private Task<ProducePartitionResult> Issue(TopicPartition tp, Memory<byte> batch, DateTime deadline)
    {
        try
        {
            int timeoutMs = (int)Math.Clamp((deadline - DateTime.UtcNow).TotalMilliseconds, 1, RequestTimeoutMs);
            var request = new ProduceParams { Acks = _settings.Acks, TimeoutMs = timeoutMs, Partitions = [new ProducePartitionParams(tp.Topic, tp.Partition, batch)] };
            var answer = _client.Leader(tp.Topic, tp.Partition).ProduceAsync(request);
            if (answer.IsCompletedSuccessfully)
            {
                var result = answer.Result[0];
                if (!EmbeddedClient.IsStaleMetadata(result.Error)) return Task.FromResult(result);
                // The cached leader does not lead the partition (any more): once more at the leader fresh metadata names.
                _client.Forget(tp.Topic);
                answer = _client.Leader(tp.Topic, tp.Partition).ProduceAsync(request);
                if (answer.IsCompletedSuccessfully) return Task.FromResult(answer.Result[0]);
            }
            return answer.AsTask().ContinueWith(t => t.GetAwaiter().GetResult()[0], CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        catch (KafkaException e)
        {
            return Task.FromResult(new ProducePartitionResult(tp.Topic, tp.Partition, e.Code, ErrorMessage: e.Message));
        }
    }

    private void CompleteOldest(List<Delivery> delivered, List<ProduceFailure> failed)
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

    private void Settle(InFlight b, List<Delivery> delivered, List<ProduceFailure> failed)
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
            using var builder = new RecordBatchBuilder(_settings.Compression);
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
    private DateTime DeliveryDeadline() => DateTime.UtcNow + (_settings.DeliveryTimeout ?? DefaultDeliveryTimeout);

    private ProducePartitionResult Produce(TopicPartition tp, Memory<byte> batch, DateTime deadline)
    {
        // Retries resend the same batch. Without an idempotent producer (producer id and sequence numbers)
        // a retry after an acks=all timeout or a leader crash can duplicate a batch that did reach the ISR.
        while (true)
        {
            var result = Issue(tp, batch, deadline).GetAwaiter().GetResult();
            if (result.Error == ErrorCode.None || !EmbeddedClient.IsRetriable(result.Error) || DateTime.UtcNow > deadline
                || _abort.IsCancellationRequested) return result;
            EmbeddedClient.Backoff(_abort.Token);
        }
    }
}
