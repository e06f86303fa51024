using System.Collections.Concurrent;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using CK = Confluent.Kafka;

namespace PSKafka.Client;

/// <summary>
/// A librdkafka producer: records are queued and librdkafka batches them per partition (linger.ms,
/// batch.size) and sends them from its own threads; delivery reports come back on its poll thread
/// and are handed to the cmdlet on the next Send or Flush, as they complete. A record that failed is
/// a failure of its own (the pipeline goes on); a cluster that cannot be reached stops the producer.
/// </summary>
internal sealed class RemoteProducer : IProducerSession
{
    private readonly RemoteClient _client;
    private readonly CK.IProducer<byte[]?, byte[]?> _producer;
    private readonly Action<CK.DeliveryReport<byte[]?, byte[]?>> _onDelivery;
    private readonly ConcurrentQueue<Delivery> _deliveries = new();
    private readonly ConcurrentQueue<ProduceFailure> _failures = new();
    private readonly Dictionary<string, int> _partitionCounts = new(StringComparer.Ordinal);
    private readonly bool _autoCreate;
    private volatile KafkaException? _failure;
    private string? _lastTopic;
    private int _lastCount;
    private bool _reportDeliveries;

    public RemoteProducer(RemoteClient client, ProducerSettings settings)
    {
        _client = client;
        _autoCreate = settings.AutoCreateTopics;
        _producer = RemoteClient.Build(() => new CK.ProducerBuilder<byte[]?, byte[]?>(client.ProducerConfig(settings))
            .SetErrorHandler((_, _) => { })
            .SetLogHandler((_, _) => { })
            .Build());
        _onDelivery = OnDelivery;
    }

    private void OnDelivery(CK.DeliveryReport<byte[]?, byte[]?> report)
    {
        if (report.Error.IsError)
        {
            var e = _client.Fail(report.Error, $"producing to {report.Topic}-{report.Partition.Value}");
            if (e is ClusterUnreachableException) _failure ??= e;
            else _failures.Enqueue(new ProduceFailure(report.Topic, report.Partition.Value, 1, e.Code, e.Message));
            return;
        }
        if (_reportDeliveries)
            _deliveries.Enqueue(new Delivery(report.Topic, report.Partition.Value, report.Offset.Value, report.Timestamp.UnixTimestampMs, report.Message.Key));
    }

    public void Send(in OutgoingRecord record, List<Delivery>? delivered)
    {
        if (_failure is { } failure) throw failure;
        _reportDeliveries = delivered is not null;
        if (!ReferenceEquals(record.Topic, _lastTopic))
        {
            _lastCount = PartitionCount(record.Topic);
            _lastTopic = record.Topic;
        }
        if (record.Partition is { } p && TopicChecks.MissingPartition(record.Topic, p, _lastCount) is { } missing) throw missing;

        var message = new CK.Message<byte[]?, byte[]?>
        {
            Key = record.Key,
            Value = record.Value,
            Timestamp = new CK.Timestamp(record.Timestamp, CK.TimestampType.CreateTime),
        };
        if (record.Headers is { Count: > 0 } headers)
        {
            var h = new CK.Headers();
            foreach (var header in headers) h.Add(header.Key, header.ValueArray);
            message.Headers = h;
        }
        var partition = record.Partition is { } explicitPartition ? new CK.Partition(explicitPartition) : CK.Partition.Any;
        while (true)
        {
            try
            {
                _producer.Produce(new CK.TopicPartition(record.Topic, partition), message, _onDelivery);
                break;
            }
            catch (CK.ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == CK.ErrorCode.Local_QueueFull)
            {
                // librdkafka's queue is full: let it send and hand back delivery reports, then try again.
                _producer.Poll(TimeSpan.FromMilliseconds(100));
                if (_failure is { } f) throw f;
            }
            catch (CK.ProduceException<byte[]?, byte[]?> e)
            {
                throw _client.Fail(e.Error, $"producing to {record.Topic}", e);
            }
        }
        Drain(delivered);
    }

    public bool Flush(List<Delivery>? delivered, TimeSpan wait)
    {
        _reportDeliveries = delivered is not null;
        // librdkafka gives up on a record after message.timeout.ms (300 s by default) and reports it failed.
        // Short slices, so what completed meanwhile is handed back soon.
        var until = wait == Timeout.InfiniteTimeSpan ? DateTime.MaxValue : DateTime.UtcNow + wait;
        int left;
        do
        {
            var slice = TimeSpan.FromMilliseconds(Math.Clamp((until - DateTime.UtcNow).TotalMilliseconds, 0, 100));
            left = _producer.Flush(slice);
        } while (left > 0 && _failure is null && _deliveries.IsEmpty && _failures.IsEmpty && DateTime.UtcNow < until);
        Drain(delivered);
        return left == 0;
    }

    public int Close(TimeSpan wait)
    {
        int left = _producer.Flush(wait);
        foreach (var f in _failures) left += f.RecordCount;
        _failures.Clear();
        return left;
    }

    // Hands over the deliveries and failures that completed since the last call.
    private void Drain(List<Delivery>? delivered)
    {
        if (delivered is not null)
            while (_deliveries.TryDequeue(out var d)) delivered.Add(d);
        if (_failure is { } failure) throw failure;
        if (_failures.IsEmpty) return;
        var failed = new List<ProduceFailure>();
        while (_failures.TryDequeue(out var f)) failed.Add(f);
        throw new ProduceFailedException(failed);
    }

    /// <summary>
    /// The topic's partitions from metadata, as Kafka's producer learns them before its first send: a
    /// missing topic or partition is reported here, synchronously, instead of in a delivery report later.
    /// </summary>
    private int PartitionCount(string topic)
    {
        if (_partitionCounts.TryGetValue(topic, out int known)) return known;
        var t = _client.GetMetadata([topic]).Topics[0];
        if (t.Error == ErrorCode.UnknownTopicOrPartition && _autoCreate)
        {
            // A producer's metadata request creates the topic where the cluster allows it (auto.create.topics.enable).
            using var admin = new CK.DependentAdminClientBuilder(_producer.Handle).Build();
            try
            {
                admin.GetMetadata(topic, _client.Connection.Timeout);
            }
            catch (CK.KafkaException e)
            {
                throw _client.Fail(e.Error, $"reading metadata of topic '{topic}'", e);
            }
            var deadline = DateTime.UtcNow + _client.Connection.Timeout;
            do
            {
                t = _client.GetMetadata([topic]).Topics[0];
                if (t.Error == ErrorCode.None && t.Partitions.Count > 0) break;
                Thread.Sleep(50);
            } while (DateTime.UtcNow < deadline);
        }
        TopicChecks.Require(t);
        return _partitionCounts[topic] = t.Partitions.Count;
    }

    public void Dispose()
    {
        // Records not flushed are dropped, as with Kafka's producer closed with a zero timeout.
        _producer.Dispose();
    }
}
