using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Logging;
using PSKafka.Engine.Protocol.Messages;

namespace PSKafka.Engine.Protocol;

/// <summary>
/// The Kafka APIs of one broker over the wire: a thin mapping from the generated request messages to the
/// <see cref="Broker"/>'s operations and back, version by version. Admin APIs are in BrokerKafkaApi.Admin.cs,
/// the group APIs in BrokerKafkaApi.Groups.cs. A method that fails unexpectedly answers UNKNOWN_SERVER_ERROR for
/// its request (see <see cref="Guard{T}"/>) so that neither the broker nor the connection goes down with it.
/// </summary>
public sealed partial class BrokerKafkaApi(Broker broker) : IKafkaApi
{
    private readonly Broker _broker = broker;
    private readonly KafkaLogger _log = broker.Logging.For(KafkaLoggers.KafkaApis, $"[KafkaApi-{broker.Id}] ");

    /// <summary>An API failed in a way no Kafka error code describes: the client gets UNKNOWN_SERVER_ERROR, the log the stack.</summary>
    private void LogUnexpected(string api, Exception e)
    {
        if (e is not KafkaException) _log.Error($"Unexpected error handling request {api.Replace("Async", "", StringComparison.Ordinal)}", e);
    }

    // ---------------- Metadata (3) ----------------

    public ValueTask<MetadataResponse> MetadataAsync(MetadataRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() =>
        {
            short v = context.ApiVersion;
            // v0: an empty list means every topic; v1+: null means every topic, empty means none.
            bool all = request.Topics is null || (v == 0 && request.Topics.Count == 0);
            List<string>? names = null;
            if (!all)
            {
                names = new List<string>(request.Topics!.Count);
                ClusterMetadata? everything = null;
                foreach (var t in request.Topics!)
                {
                    if (t.Name is not null) { names.Add(t.Name); continue; }
                    // v10+: a topic asked for by id only.
                    everything ??= _broker.Metadata(null);
                    var id = t.TopicId.ToGuid();
                    names.Add(everything.Topics.FirstOrDefault(x => x.TopicId == id)?.Name ?? "");
                }
            }
            bool autoCreate = v < 4 || request.AllowAutoTopicCreation;
            var metadata = _broker.Metadata(names, autoCreate);
            var response = new MetadataResponse
            {
                ClusterId = metadata.ClusterId,
                ControllerId = metadata.ControllerId,
                Brokers = metadata.Brokers.Select(b => new MetadataResponse.MetadataResponseBroker { NodeId = b.Id, Host = b.Host, Port = b.Port, Rack = b.Rack }).ToList(),
            };
            foreach (var t in metadata.Topics)
            {
                response.Topics.Add(new MetadataResponse.MetadataResponseTopic
                {
                    ErrorCode = (short)t.Error,
                    Name = t.Name,
                    TopicId = Uuid.FromGuid(t.TopicId),
                    IsInternal = t.IsInternal,
                    Partitions = t.Partitions.Select(p => new MetadataResponse.MetadataResponsePartition
                    {
                        ErrorCode = (short)p.Error,
                        PartitionIndex = p.Partition,
                        LeaderId = p.Leader,
                        LeaderEpoch = p.LeaderEpoch,
                        ReplicaNodes = p.Replicas.ToList(),
                        IsrNodes = p.Isr.ToList(),
                        OfflineReplicas = p.OfflineReplicas.ToList(),
                    }).ToList(),
                });
            }
            return response;
        }, (code, _) => new MetadataResponse());

    // ---------------- Produce (0) ----------------

    public async ValueTask<ProduceResponse> ProduceAsync(ProduceRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        try
        {
            var partitions = new List<ProducePartitionParams>();
            var nullRecords = new List<(string Topic, int Partition)>();
            foreach (var topic in request.TopicData)
                foreach (var p in topic.PartitionData)
                {
                    if (p.Records is not { } records) { nullRecords.Add((topic.Name, p.Index)); continue; }
                    // A slice of the request frame, not a copy: the log rewrites offsets in place, and the append is done
                    // before ProduceAsync returns (acks=all only waits for offsets), while the server holds the frame.
                    partitions.Add(new ProducePartitionParams(topic.Name, p.Index, MemoryMarshal.AsMemory(records)));
                }
            var results = await _broker.ProduceAsync(new ProduceParams
            {
                Acks = request.Acks,
                TimeoutMs = request.TimeoutMs,
                TransactionalId = request.TransactionalId,
                Partitions = partitions,
            }, cancellationToken).ConfigureAwait(false);

            var response = new ProduceResponse();
            foreach (var r in results)
                PartitionOf(response, r.Topic).PartitionResponses.Add(new ProduceResponse.PartitionProduceResponse
                {
                    Index = r.Partition,
                    ErrorCode = (short)r.Error,
                    BaseOffset = r.BaseOffset,
                    LogAppendTimeMs = r.LogAppendTime,
                    LogStartOffset = r.LogStartOffset,
                    ErrorMessage = r.ErrorMessage,
                });
            foreach (var (topic, partition) in nullRecords)
                PartitionOf(response, topic).PartitionResponses.Add(new ProduceResponse.PartitionProduceResponse
                {
                    Index = partition,
                    ErrorCode = (short)ErrorCode.CorruptMessage,
                    BaseOffset = -1,
                    ErrorMessage = "Produce request without records.",
                });
            return response;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogUnexpected("Produce", e);
            var response = new ProduceResponse();
            foreach (var topic in request.TopicData)
                response.Responses.Add(new ProduceResponse.TopicProduceResponse
                {
                    Name = topic.Name,
                    PartitionResponses = topic.PartitionData.Select(p => new ProduceResponse.PartitionProduceResponse
                    {
                        Index = p.Index,
                        ErrorCode = (short)ErrorCode.UnknownServerError,
                        BaseOffset = -1,
                        ErrorMessage = e.Message,
                    }).ToList(),
                });
            return response;
        }
    }

    private static ProduceResponse.TopicProduceResponse PartitionOf(ProduceResponse response, string topic)
    {
        var last = response.Responses.Count > 0 ? response.Responses[^1] : null;
        if (last?.Name == topic) return last;
        var found = response.Responses.FirstOrDefault(t => t.Name == topic);
        if (found is null) response.Responses.Add(found = new ProduceResponse.TopicProduceResponse { Name = topic });
        return found;
    }

    // ---------------- Fetch (1) ----------------

    /// <summary>
    /// Fetch without incremental fetch sessions (KIP-227): every request is a full fetch and the answer's session id
    /// is 0, which tells a client that no session was created, as a broker out of session slots does.
    /// </summary>
    public async ValueTask<FetchResponse> FetchAsync(FetchRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        var partitions = new List<FetchPartitionParams>();
        foreach (var t in request.Topics)
            foreach (var p in t.Partitions)
                partitions.Add(new FetchPartitionParams(t.Topic, p.Partition, p.FetchOffset, Math.Max(0, p.PartitionMaxBytes), p.CurrentLeaderEpoch));
        IReadOnlyList<FetchPartitionResult> results;
        try
        {
            results = await _broker.FetchAsync(new FetchParams
            {
                ReplicaId = request.ReplicaId,
                MaxWaitMs = request.MaxWaitMs,
                MinBytes = request.MinBytes,
                MaxBytes = request.MaxBytes,
                Partitions = partitions,
                // The records are copied once, into the response frame, and their arrays go back to the pool then.
                RentRecordBuffers = true,
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogUnexpected("Fetch", e);
            results = partitions.Select(p => new FetchPartitionResult(p.Topic, p.Partition, ErrorCode.UnknownServerError, -1, -1, ReadOnlyMemory<byte>.Empty, e.Message)).ToList();
        }

        bool readCommitted = request.IsolationLevel == 1;
        var response = new FetchResponse { SessionId = 0 };
        FetchResponse.FetchableTopicResponse? current = null;
        foreach (var r in results)
        {
            if (current?.Topic != r.Topic)
                response.Responses.Add(current = new FetchResponse.FetchableTopicResponse { Topic = r.Topic });
            current.Partitions.Add(new FetchResponse.PartitionData
            {
                PartitionIndex = r.Partition,
                ErrorCode = (short)r.Error,
                HighWatermark = r.HighWatermark,
                // No transactions: everything below the high watermark is stable.
                LastStableOffset = r.HighWatermark,
                LogStartOffset = r.LogStartOffset,
                AbortedTransactions = readCommitted ? new() : null,
                Records = r.Records,
            });
        }
        response.LeaseFrom(results);
        return response;
    }

    // ---------------- ListOffsets (2) ----------------

    public ValueTask<ListOffsetsResponse> ListOffsetsAsync(ListOffsetsRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() =>
        {
            var asked = request.Topics.SelectMany(t => t.Partitions.Select(p => new ListOffsetsPartitionParams(t.Name, p.PartitionIndex, p.Timestamp))).ToList();
            var epochs = request.Topics.SelectMany(t => t.Partitions.Select(p => p.CurrentLeaderEpoch)).ToList();
            var results = _broker.ListOffsets(asked);
            var response = new ListOffsetsResponse();
            ListOffsetsResponse.ListOffsetsTopicResponse? current = null;
            for (int i = 0; i < results.Count; i++)
            {
                var r = results[i];
                var error = r.Error == ErrorCode.None ? CheckLeaderEpoch(r.Topic, r.Partition, epochs[i]) : r.Error;
                if (current?.Name != r.Topic) response.Topics.Add(current = new ListOffsetsResponse.ListOffsetsTopicResponse { Name = r.Topic });
                bool ok = error == ErrorCode.None;
                short v = context.ApiVersion;
                // v0 answers with a list of offsets; v1+ with one offset and its timestamp; v4+ adds the leader epoch.
                current.Partitions.Add(new ListOffsetsResponse.ListOffsetsPartitionResponse
                {
                    PartitionIndex = r.Partition,
                    ErrorCode = (short)error,
                    OldStyleOffsets = v == 0 && ok && r.Offset >= 0 ? [r.Offset] : [],
                    Timestamp = v >= 1 && ok ? r.Timestamp : -1,
                    Offset = v >= 1 && ok ? r.Offset : -1,
                    LeaderEpoch = v >= 4 && ok ? r.LeaderEpoch : -1,
                });
            }
            return response;
        }, (code, message) => new ListOffsetsResponse
        {
            Topics = request.Topics.Select(t => new ListOffsetsResponse.ListOffsetsTopicResponse
            {
                Name = t.Name,
                Partitions = t.Partitions.Select(p => new ListOffsetsResponse.ListOffsetsPartitionResponse { PartitionIndex = p.PartitionIndex, ErrorCode = (short)code }).ToList(),
            }).ToList(),
        });

    /// <summary>
    /// Kafka's leader-epoch fencing: a client that knows an older epoch than the leader's is FENCED_LEADER_EPOCH
    /// (refresh metadata), one that knows a newer epoch than this broker is UNKNOWN_LEADER_EPOCH (this broker lags).
    /// </summary>
    private ErrorCode CheckLeaderEpoch(string topic, int partition, int clientEpoch)
    {
        if (clientEpoch < 0) return ErrorCode.None;
        var replica = _broker.GetReplica(new TopicPartition(topic, partition));
        if (replica is null) return ErrorCode.None;
        if (clientEpoch < replica.LeaderEpoch) return ErrorCode.FencedLeaderEpoch;
        if (clientEpoch > replica.LeaderEpoch) return ErrorCode.UnknownLeaderEpoch;
        return ErrorCode.None;
    }

    // ---------------- OffsetForLeaderEpoch (23) ----------------

    public ValueTask<OffsetForLeaderEpochResponse> OffsetForLeaderEpochAsync(OffsetForLeaderEpochRequest request, RequestContext context, CancellationToken cancellationToken) =>
        Guard(() =>
        {
            var response = new OffsetForLeaderEpochResponse();
            foreach (var t in request.Topics)
            {
                var topic = new OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult { Topic = t.Topic };
                response.Topics.Add(topic);
                foreach (var p in t.Partitions)
                {
                    var result = new OffsetForLeaderEpochResponse.EpochEndOffset { Partition = p.Partition, LeaderEpoch = -1, EndOffset = -1 };
                    topic.Partitions.Add(result);
                    var replica = _broker.IsRunning ? _broker.GetReplica(new TopicPartition(t.Topic, p.Partition)) : null;
                    // Consumers (and v0-2 requests, which have no replica id) ask the leader; a follower of ours would ask it too.
                    ErrorCode error = replica is null
                        ? _broker.UnknownOrNotHere(t.Topic, p.Partition)
                        : !replica.IsLeader ? ErrorCode.NotLeaderOrFollower
                        : CheckLeaderEpoch(t.Topic, p.Partition, p.CurrentLeaderEpoch);
                    result.ErrorCode = (short)error;
                    if (error != ErrorCode.None) continue;
                    var (epoch, endOffset) = replica!.Log.LeaderEpochCache.EndOffsetFor(p.LeaderEpoch, replica.LogEndOffset);
                    result.LeaderEpoch = epoch;
                    result.EndOffset = endOffset;
                }
            }
            return response;
        }, (code, _) => new OffsetForLeaderEpochResponse
        {
            Topics = request.Topics.Select(t => new OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult
            {
                Topic = t.Topic,
                Partitions = t.Partitions.Select(p => new OffsetForLeaderEpochResponse.EpochEndOffset { Partition = p.Partition, ErrorCode = (short)code }).ToList(),
            }).ToList(),
        });

    // ---------------- InitProducerId (22) ----------------

    /// <summary>
    /// Idempotent producers get a fresh producer id with epoch 0 (for them Kafka always allocates a new id, even when
    /// the request names the previous one). Ids are random 63-bit numbers: unique without a shared counter.
    /// Transactions are not supported: a transactional id is refused with a non-retriable error rather than leaving
    /// the client waiting for a coordinator that never comes.
    /// </summary>
    public ValueTask<InitProducerIdResponse> InitProducerIdAsync(InitProducerIdRequest request, RequestContext context, CancellationToken cancellationToken)
    {
        if (request.TransactionalId is not null)
            return ValueTask.FromResult(new InitProducerIdResponse { ErrorCode = (short)ErrorCode.TransactionalIdAuthorizationFailed, ProducerId = -1, ProducerEpoch = -1 });
        var (id, epoch) = _broker.InitProducerId();
        return ValueTask.FromResult(new InitProducerIdResponse { ErrorCode = 0, ProducerId = id, ProducerEpoch = epoch });
    }

    // ---------------- failure handling ----------------

    /// <summary>Runs a synchronous API body; an unexpected exception becomes the API's error response, never a dead connection.</summary>
    private ValueTask<T> Guard<T>(Func<T> body, Func<ErrorCode, string, T> onError, [CallerMemberName] string api = "")
    {
        try
        {
            return ValueTask.FromResult(body());
        }
        catch (KafkaException e)
        {
            return ValueTask.FromResult(onError(e.Code, e.Message));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogUnexpected(api, e);
            return ValueTask.FromResult(onError(ErrorCode.UnknownServerError, e.Message));
        }
    }
}
