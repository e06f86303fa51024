using System.Threading.Channels;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Storage;
using CK = Confluent.Kafka;

namespace PSKafka.Client;

/// <summary>
/// What every librdkafka consumer of ours shares: building the handle, and a Poll that drains what
/// librdkafka has prefetched on its own threads, noting where each partition is and which ones have
/// been read to their end (enable.partition.eof).
/// </summary>
internal abstract class RemoteConsumerBase : IDisposable
{
    // One Poll hands back at most this many records, so the cmdlet emits while librdkafka keeps fetching.
    private const int MaxRecordsPerPoll = 10_000;

    protected readonly RemoteClient Client;
    protected readonly Dictionary<TopicPartition, long> PositionsByPartition = new();
    protected readonly HashSet<TopicPartition> AtEndPartitions = new();
    private CK.IConsumer<byte[]?, byte[]?>? _consumer;
    private volatile KafkaException? _failure;

    protected RemoteConsumerBase(RemoteClient client) => Client = client;

    protected CK.IConsumer<byte[]?, byte[]?> Consumer => _consumer ?? throw new InvalidOperationException("The consumer has not been built.");

    /// <summary>Builds the librdkafka handle; <paramref name="configure"/> adds callbacks (a group member's rebalance handlers).</summary>
    protected void Build(Dictionary<string, string> config, Action<CK.ConsumerBuilder<byte[]?, byte[]?>>? configure = null)
    {
        var builder = new CK.ConsumerBuilder<byte[]?, byte[]?>(config)
            .SetErrorHandler((_, e) =>
            {
                if (e.IsFatal) _failure ??= Client.Fail(e, "consuming");
            })
            .SetLogHandler((_, _) => { });
        configure?.Invoke(builder);
        _consumer = RemoteClient.Build(builder.Build);
    }

    /// <summary>Librdkafka settings every consumer of ours has; the user's -ClientConfig overrides them.</summary>
    internal static Dictionary<string, string> CommonConfig(int maxWaitMs, int partitionMaxBytes) => new()
    {
        ["fetch.wait.max.ms"] = maxWaitMs.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["max.partition.fetch.bytes"] = partitionMaxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["enable.partition.eof"] = "true",
        // We commit ourselves, only what was handed on (or explicitly): librdkafka stores and commits nothing by itself.
        ["enable.auto.commit"] = "false",
        ["enable.auto.offset.store"] = "false",
        ["allow.auto.create.topics"] = "false",
        // librdkafka (2.1+) waits fetch.queue.backoff.ms (1 s by default) before fetching a partition again once
        // queued.min.messages are prefetched; reading 1M records then spends most of its time in that wait.
        ["fetch.queue.backoff.ms"] = "10",
    };

    public int Poll(TimeSpan timeout, List<ConsumedRecord> into, CancellationToken cancellationToken)
    {
        if (_prefetcher is { } prefetcher) return PollPrefetched(prefetcher, timeout, into, cancellationToken);
        var deadline = DateTime.UtcNow + timeout;
        int added = 0;
        while (added < MaxRecordsPerPoll && !cancellationToken.IsCancellationRequested)
        {
            if (_failure is { } failure) throw failure;
            // Wait only while nothing has come; once records flow, take what is already there.
            int waitMs = added > 0 ? 0 : (int)Math.Clamp((deadline - DateTime.UtcNow).TotalMilliseconds, 0, 100);
            var result = ConsumeOne(waitMs);
            if (result is null)
            {
                if (added > 0 || DateTime.UtcNow >= deadline) break;
                continue;
            }
            if (Apply(result, into)) added++;
        }
        return added;
    }

    private CK.ConsumeResult<byte[]?, byte[]?>? ConsumeOne(int waitMs)
    {
        try
        {
            return Consumer.Consume(waitMs);
        }
        catch (CK.ConsumeException e)
        {
            throw Client.Fail(e.Error, $"consuming from {e.ConsumerRecord?.Topic ?? "the cluster"}", e);
        }
    }

    // Notes a record (true) or the end of a partition (false) in the order librdkafka handed them out.
    private bool Apply(CK.ConsumeResult<byte[]?, byte[]?> result, List<ConsumedRecord> into)
    {
        var tp = new TopicPartition(result.Topic, result.Partition.Value);
        if (result.IsPartitionEOF)
        {
            AtEndPartitions.Add(tp);
            OnEndOfPartition(tp, result.Offset.Value);
            return false;
        }
        AtEndPartitions.Remove(tp);
        PositionsByPartition[tp] = result.Offset.Value + 1;
        into.Add(ToRecord(result));
        return true;
    }

    // ---- prefetching: librdkafka's Consume (about a microsecond a record) runs on a thread of its own while the
    // pipeline thread turns the previous records into objects, as Kafka's own consumer fetches ahead of poll() ----

    private sealed class Prefetcher
    {
        public readonly Channel<CK.ConsumeResult<byte[]?, byte[]?>> Results =
            Channel.CreateBounded<CK.ConsumeResult<byte[]?, byte[]?>>(
                new BoundedChannelOptions(PrefetchCapacity) { SingleReader = true, SingleWriter = true });
        public readonly CancellationTokenSource Stop = new();
        public Thread? Thread;
        public Exception? Failure;
    }

    private const int PrefetchCapacity = 20_000;
    private Prefetcher? _prefetcher;

    /// <summary>Starts consuming ahead on a background thread (a consumer without a group: no rebalance callbacks to run on the caller's thread).</summary>
    protected void StartPrefetching()
    {
        var prefetcher = new Prefetcher();
        prefetcher.Thread = new Thread(() => PrefetchLoop(prefetcher)) { IsBackground = true, Name = "PSKafka remote prefetch" };
        _prefetcher = prefetcher;
        prefetcher.Thread.Start();
    }

    /// <summary>Stops the background thread and drops what it fetched (before a new assignment or closing).</summary>
    protected void StopPrefetching()
    {
        if (Interlocked.Exchange(ref _prefetcher, null) is not { } prefetcher) return;
        prefetcher.Stop.Cancel();
        prefetcher.Thread?.Join();
        while (prefetcher.Results.Reader.TryRead(out _)) { }
    }

    private void PrefetchLoop(Prefetcher prefetcher)
    {
        var writer = prefetcher.Results.Writer;
        try
        {
            while (!prefetcher.Stop.IsCancellationRequested)
            {
                if (ConsumeOne(100) is not { } result) continue;
                // A full queue: wait for the pipeline to take some (librdkafka keeps prefetching up to its own limits).
                while (!writer.TryWrite(result))
                    if (!writer.WaitToWriteAsync(prefetcher.Stop.Token).AsTask().GetAwaiter().GetResult()) return;
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e) when (e is KafkaException or CK.KafkaException or ObjectDisposedException)
        {
            prefetcher.Failure = e;
        }
        finally
        {
            writer.TryComplete();
        }
    }

    private int PollPrefetched(Prefetcher prefetcher, TimeSpan timeout, List<ConsumedRecord> into, CancellationToken cancellationToken)
    {
        if (_failure is { } failure) throw failure;
        var reader = prefetcher.Results.Reader;
        int added = 0;
        if (!reader.TryPeek(out _))
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(timeout);
            try
            {
                if (!reader.WaitToReadAsync(wait.Token).AsTask().GetAwaiter().GetResult()) ThrowPrefetchFailure(prefetcher);
            }
            catch (OperationCanceledException)
            {
                return 0;
            }
        }
        while (added < MaxRecordsPerPoll && reader.TryRead(out var result))
            if (Apply(result, into)) added++;
        if (added == 0 && reader.Completion.IsCompleted) ThrowPrefetchFailure(prefetcher);
        return added;
    }

    private void ThrowPrefetchFailure(Prefetcher prefetcher)
    {
        if (_failure is { } failure) throw failure;
        switch (prefetcher.Failure)
        {
            case KafkaException k: throw k;
            case CK.KafkaException e: throw Client.Fail(e.Error, "consuming", e);
            case { } other: throw new InvalidOperationException("The consumer stopped: " + other.Message, other);
        }
    }

    /// <summary>A partition has been read to <paramref name="end"/>, its high watermark as of this fetch.</summary>
    protected virtual void OnEndOfPartition(TopicPartition partition, long end) { }

    private static ConsumedRecord ToRecord(CK.ConsumeResult<byte[]?, byte[]?> result)
    {
        var m = result.Message;
        RecordHeader[] headers = [];
        if (m.Headers is { Count: > 0 } h)
        {
            headers = new RecordHeader[h.Count];
            for (int i = 0; i < h.Count; i++) headers[i] = new RecordHeader(h[i].Key, h[i].GetValueBytes());
        }
        var type = m.Timestamp.Type == CK.TimestampType.LogAppendTime ? TimestampType.LogAppendTime : TimestampType.CreateTime;
        return new ConsumedRecord(result.Topic, result.Partition.Value, result.Offset.Value, m.Timestamp.UnixTimestampMs, type, m.Key, m.Value, headers);
    }

    /// <summary>Closes the handle: a group member leaves its group at once (no session timeout for the others to wait out).</summary>
    protected void CloseHandle()
    {
        StopPrefetching();
        try
        {
            Consumer.Close();
        }
        catch (CK.KafkaException)
        {
            // The cluster may be gone; the handle is destroyed below either way.
        }
        Consumer.Dispose();
    }

    public abstract void Dispose();
}

/// <summary>A librdkafka consumer with manual assignment at explicit offsets; it never commits.</summary>
internal sealed class RemoteConsumer : RemoteConsumerBase, IConsumerSession
{
    private readonly List<TopicPartition> _assignment = new();
    private bool _disposed;

    public RemoteConsumer(RemoteClient client, ConsumerSettings settings) : base(client) => Build(Config(client.Connection, settings));

    private static Dictionary<string, string> Config(RemoteConnection connection, ConsumerSettings settings)
    {
        var config = CommonConfig(settings.MaxWaitMs, settings.PartitionMaxBytes);
        config["auto.offset.reset"] = "earliest";
        // librdkafka wants a group.id for its offset machinery even without a group; nothing is ever committed to it.
        config["group.id"] = "pskafka-assign";
        return connection.ClientConfig(config);
    }

    public IReadOnlyDictionary<TopicPartition, long> Positions => PositionsByPartition;

    public bool AtEnd => _assignment.Count > 0 && _assignment.All(AtEndPartitions.Contains);

    public void Assign(IEnumerable<(TopicPartition Partition, long Offset)> positions)
    {
        StopPrefetching();
        PositionsByPartition.Clear();
        AtEndPartitions.Clear();
        _assignment.Clear();
        var list = new List<CK.TopicPartitionOffset>();
        foreach (var (tp, offset) in positions)
        {
            PositionsByPartition[tp] = offset;
            _assignment.Add(tp);
            list.Add(new CK.TopicPartitionOffset(tp.Topic, tp.Partition, offset));
        }
        Consumer.Assign(list);
        if (list.Count > 0) StartPrefetching();
    }

    public override void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        CloseHandle();
    }
}
