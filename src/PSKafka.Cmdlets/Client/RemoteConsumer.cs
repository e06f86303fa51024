using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Storage;
using CK = Confluent.Kafka;

namespace PSKafka.Cmdlets.Client;

/// <summary>
/// A librdkafka consumer, either with manual assignment at explicit offsets (<see cref="IConsumerSession"/>)
/// or as a member of a consumer group (<see cref="IGroupConsumerSession"/>: subscribe, rebalances, commits).
/// librdkafka prefetches from its own threads; Poll drains what has arrived.
/// </summary>
internal sealed class RemoteConsumer : IConsumerSession, IGroupConsumerSession
{
    // One Poll hands back at most this many records, so the cmdlet emits while librdkafka keeps fetching.
    private const int MaxRecordsPerPoll = 10_000;

    private readonly RemoteClient _client;
    private readonly CK.IConsumer<byte[]?, byte[]?> _consumer;
    private readonly Dictionary<TopicPartition, long> _positions = new();
    private readonly HashSet<TopicPartition> _atEnd = new();
    private readonly List<TopicPartition> _assignment = new();
    private volatile KafkaException? _failure;

    public RemoteConsumer(RemoteClient client, ConsumerSettings settings, RemoteGroupSettings? group)
    {
        _client = client;
        var builder = new CK.ConsumerBuilder<byte[]?, byte[]?>(client.ConsumerConfig(settings, group))
            .SetErrorHandler((_, e) =>
            {
                if (e.IsFatal) _failure ??= client.Fail(e, "consuming");
            })
            .SetLogHandler((_, _) => { });
        if (group is not null)
        {
            builder.SetPartitionsAssignedHandler((_, partitions) =>
            {
                foreach (var tp in partitions) _assignment.Add(new TopicPartition(tp.Topic, tp.Partition.Value));
            });
            builder.SetPartitionsRevokedHandler((_, partitions) =>
            {
                foreach (var tp in partitions)
                {
                    var ours = new TopicPartition(tp.Topic, tp.Partition.Value);
                    _assignment.Remove(ours);
                    _positions.Remove(ours);
                    _atEnd.Remove(ours);
                }
            });
            builder.SetPartitionsLostHandler((_, partitions) =>
            {
                foreach (var tp in partitions) _assignment.Remove(new TopicPartition(tp.Topic, tp.Partition.Value));
            });
        }
        _consumer = RemoteClient.Build(builder.Build);
    }

    public IReadOnlyDictionary<TopicPartition, long> Positions => _positions;

    IReadOnlyList<TopicPartition> IGroupConsumerSession.Assignment => _assignment;

    public bool AtEnd => _assignment.Count > 0 && _assignment.All(_atEnd.Contains);

    public void Assign(IEnumerable<(TopicPartition Partition, long Offset)> positions)
    {
        _positions.Clear();
        _atEnd.Clear();
        _assignment.Clear();
        var list = new List<CK.TopicPartitionOffset>();
        foreach (var (tp, offset) in positions)
        {
            _positions[tp] = offset;
            _assignment.Add(tp);
            list.Add(new CK.TopicPartitionOffset(tp.Topic, tp.Partition, offset));
        }
        _consumer.Assign(list);
    }

    public void Subscribe(IReadOnlyList<string> topics) => _consumer.Subscribe(topics);

    public int Poll(TimeSpan timeout, List<ConsumedRecord> into, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        int added = 0;
        while (added < MaxRecordsPerPoll && !cancellationToken.IsCancellationRequested)
        {
            if (_failure is { } failure) throw failure;
            // Wait only while nothing has come; once records flow, take what is already there.
            int waitMs = added > 0 ? 0 : (int)Math.Clamp((deadline - DateTime.UtcNow).TotalMilliseconds, 0, 100);
            CK.ConsumeResult<byte[]?, byte[]?>? result;
            try
            {
                result = _consumer.Consume(waitMs);
            }
            catch (CK.ConsumeException e)
            {
                throw _client.Fail(e.Error, $"consuming from {e.ConsumerRecord?.Topic ?? "the cluster"}", e);
            }
            if (result is null)
            {
                if (added > 0 || DateTime.UtcNow >= deadline) break;
                continue;
            }
            var tp = new TopicPartition(result.Topic, result.Partition.Value);
            if (result.IsPartitionEOF)
            {
                _atEnd.Add(tp);
                continue;
            }
            _atEnd.Remove(tp);
            _positions[tp] = result.Offset.Value + 1;
            into.Add(ToRecord(result));
            added++;
        }
        return added;
    }

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

    public void Commit()
    {
        if (_positions.Count == 0) return;
        var offsets = _positions.Where(p => _assignment.Contains(p.Key))
            .Select(p => new CK.TopicPartitionOffset(p.Key.Topic, p.Key.Partition, p.Value)).ToList();
        if (offsets.Count == 0) return;
        try
        {
            _consumer.Commit(offsets);
        }
        catch (CK.TopicPartitionOffsetException e)
        {
            var failed = e.Results.First(r => r.Error.IsError);
            throw _client.Fail(failed.Error, $"committing offsets of {failed.Topic}-{failed.Partition.Value}", e);
        }
        catch (CK.KafkaException e)
        {
            throw _client.Fail(e.Error, "committing offsets", e);
        }
    }

    public void Dispose()
    {
        try
        {
            // Close leaves the group at once (no session timeout for the others to wait out).
            _consumer.Close();
        }
        catch (CK.KafkaException)
        {
            // The cluster may be gone; the handle is destroyed below either way.
        }
        _consumer.Dispose();
    }
}
