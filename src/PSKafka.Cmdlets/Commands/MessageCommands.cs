using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Text;
using PSKafka.Client;
using PSKafka.Cmdlets.Infrastructure;
using PSKafka.Cmdlets.Output;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Storage;

namespace PSKafka.Cmdlets.Commands;

/// <summary>Kafka's acks: 0 (no answer), 1 (the leader has it), All (every in-sync replica has it).</summary>
public enum AckMode
{
    None = 0,
    Leader = 1,
    All = -1,
}

/// <summary>
/// Send-Message: kafka-console-producer.sh with objects. Pipeline input is batched into record
/// batches per partition; keyed messages go to murmur2(key) % partitions, others round robin.
/// </summary>
[Cmdlet(VerbsCommunications.Send, "Message")]
[OutputType(typeof(DeliveryReport))]
public sealed class SendMessageCommand : ClusterCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(TopicNameCompleter))]
    public string Topic { get; set; } = "";

    /// <summary>The value: text as it is, bytes as they are, any other object as JSON.</summary>
    [Parameter(Position = 1, ValueFromPipeline = true)]
    [AllowNull, AllowEmptyString]
    public object? Value { get; set; }

    [Parameter]
    public object? Key { get; set; }

    /// <summary>Takes each message's key from this property of the input object.</summary>
    [Parameter]
    public string? KeyProperty { get; set; }

    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int Partition { get; set; } = -1;

    [Parameter]
    public Hashtable? Header { get; set; }

    /// <summary>0, 1 or All (default, as Kafka's producer since 3.0).</summary>
    [Parameter]
    public AckMode Acks { get; set; } = AckMode.All;

    [Parameter]
    public CompressionType Compression { get; set; } = CompressionType.None;

    /// <summary>Kafka's batch.size: a partition's batch is sent once it holds this many bytes (0: every message alone).</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int BatchSize { get; set; } = ProducerSettings.DefaultBatchBytes;

    /// <summary>
    /// Kafka's linger.ms: a batch that is not full is sent this many milliseconds after its first message. Milliseconds,
    /// as Kafka names it; a TimeSpan parameter would take -Linger 5 as 5 ticks.
    /// </summary>
    [Parameter]
    [ValidateRange(0, 900_000)]
    public int Linger { get; set; } = ProducerSettings.DefaultLingerMs;

    [Parameter]
    public DateTimeOffset? Timestamp { get; set; }

    /// <summary>Seconds a batch is retried (leader moving, too few in-sync replicas) before the send fails: Kafka's delivery.timeout.ms.</summary>
    [Parameter]
    [ValidateRange(0.1, 86_400)]
    public double DeliveryTimeout { get; set; } = 120;

    /// <summary>Emit a delivery report (Topic, Partition, Offset, Timestamp) for each message.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private IProducerSession? _producer;
    private List<Delivery>? _delivered;
    private RecordHeader[]? _headers;
    private bool _sawInput;
    private bool _valueBound;

    protected override void Begin()
    {
        if (TopicNames.Problem(Topic) is { } problem)
            ThrowTerminatingError(new ErrorRecord(new KafkaException(ErrorCode.InvalidTopicException, problem), ErrorIds.InvalidTopicName, ErrorCategory.InvalidArgument, Topic));
        _producer = Client.OpenProducer(new ProducerSettings((short)Acks, Compression, BatchSize, TimeSpan.FromMilliseconds(Linger),
            DeliveryTimeout: TimeSpan.FromSeconds(DeliveryTimeout)));
        _valueBound = MyInvocation.BoundParameters.ContainsKey(nameof(Value));
        if (PassThru)
        {
            _delivered = new List<Delivery>();
        }
        if (Header is not null)
            _headers = Header.Cast<DictionaryEntry>()
                .Select(e => new RecordHeader(e.Key.ToString()!, e.Value is null ? null : JsonValue.KeyToBytes(e.Value)))
                .ToArray();
    }

    protected override void Process()
    {
        if (!_valueBound && !MyInvocation.ExpectingInput) return;
        _sawInput = true;
        object? input = Value;
        byte[]? key = KeyProperty is not null ? JsonValue.KeyToBytes(PropertyOf(input, KeyProperty)) : JsonValue.KeyToBytes(Key);
        var record = new OutgoingRecord(Topic, Partition >= 0 ? Partition : null, key, JsonValue.ToBytes(input), _headers,
            (Timestamp ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds());
        if (_producer is not { } producer) return; // Ctrl+C closed it
        try
        {
            producer.Send(record, _delivered);
        }
        catch (KafkaException e) when (e.Code == ErrorCode.UnknownTopicOrPartition && Partition >= 0)
        {
            ThrowTerminatingError(ToErrorRecord(new PartitionNotFoundException(e.Message), Partition));
        }
        catch (ProduceFailedException e)
        {
            WriteFailures(e);
        }
        EmitDeliveries();
    }

    // Waits for what is under way, reporting deliveries and failures as they complete rather than all at the end.
    protected override void End()
    {
        if (!_sawInput && !_valueBound) return;
        bool done = false;
        while (!done && _producer is { } producer)
        {
            try
            {
                done = producer.Flush(_delivered, FlushSlice);
            }
            catch (ProduceFailedException e)
            {
                WriteFailures(e);
            }
            EmitDeliveries();
        }
    }

    private static readonly TimeSpan FlushSlice = TimeSpan.FromMilliseconds(200);

    // Ctrl+C: what was accepted still goes out, for a short while; what did not is reported. The pipeline is
    // stopping, so WriteError is refused: the host's error stream is what is left.
    protected override void StopProcessing()
    {
        base.StopProcessing();
        int notSent = CloseProducer(TimeSpan.FromSeconds(Math.Min(DeliveryTimeout, StopWaitSeconds)));
        if (notSent > 0)
            Host.UI.WriteErrorLine($"Send-Message stopped: {notSent} message(s) to '{Topic}' were not sent (not acknowledged within {Math.Min(DeliveryTimeout, StopWaitSeconds):0.#} s of Ctrl+C, or failed).");
    }

    private const double StopWaitSeconds = 5;

    protected override void Release() => CloseProducer(TimeSpan.Zero);

    private int CloseProducer(TimeSpan wait)
    {
        var producer = Interlocked.Exchange(ref _producer, null);
        if (producer is null) return 0;
        int notSent = producer.Close(wait);
        producer.Dispose();
        return notSent;
    }

    // Records that failed are errors of their own; the rest of the pipeline goes on, as with Kafka's per-record futures.
    private void WriteFailures(ProduceFailedException e)
    {
        foreach (var f in e.Failures)
        {
            var message = f.RecordCount == 1 ? f.Message : $"{f.RecordCount} messages to {f.Topic}-{f.Partition} were not sent: {f.Message}";
            WriteKafkaError(new KafkaException(f.Error, message), $"{f.Topic}-{f.Partition}");
        }
    }

    private void EmitDeliveries()
    {
        if (_delivered is null || _delivered.Count == 0) return;
        foreach (var d in _delivered)
            WriteObject(new DeliveryReport
            {
                Topic = d.Topic,
                Partition = d.Partition,
                Offset = d.Offset,
                Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(d.Timestamp),
                Key = d.Key is null ? null : Encoding.UTF8.GetString(d.Key),
            });
        _delivered.Clear();
    }

    private object? PropertyOf(object? input, string name)
    {
        if (input is null) return null;
        var pso = PSObject.AsPSObject(input);
        if (pso.BaseObject is IDictionary dict && dict.Contains(name)) return dict[name];
        var property = pso.Properties[name];
        if (property is null)
            ThrowTerminatingError(new ErrorRecord(new ArgumentException($"The input object has no property '{name}' to take the key from."), "KeyPropertyNotFound", ErrorCategory.InvalidArgument, input));
        return property!.Value;
    }
}

/// <summary>
/// Receive-Message: kafka-console-consumer.sh with objects. Reads the topic's partitions from the
/// end (or -FromBeginning, or -Offset) and stops when it has caught up, unless -Follow (until
/// Ctrl+C), -Timeout (until no message came for that long) or -MaxMessages (until that many) say otherwise.
/// </summary>
[Cmdlet(VerbsCommunications.Receive, "Message", DefaultParameterSetName = "Latest")]
[OutputType(typeof(KafkaMessage))]
public sealed partial class ReceiveMessageCommand : ClusterCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(TopicNameCompleter))]
    public string Topic { get; set; } = "";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, int.MaxValue)]
    public int[]? Partition { get; set; }

    [Parameter(ParameterSetName = "Beginning")]
    public SwitchParameter FromBeginning { get; set; }

    [Parameter(ParameterSetName = "Offset", Mandatory = true)]
    [ValidateRange(0, long.MaxValue)]
    public long Offset { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxMessages { get; set; }

    /// <summary>Stop when no new message has come for this many seconds.</summary>
    [Parameter]
    [ValidateRange(0.0, 86400.0)]
    public double Timeout { get; set; }

    /// <summary>Keep waiting for new messages until Ctrl+C.</summary>
    [Parameter]
    public SwitchParameter Follow { get; set; }

    /// <summary>Turn JSON values back into objects.</summary>
    [Parameter]
    public SwitchParameter AsObject { get; set; }

    protected override void Process()
    {
        if (Group is not null)
        {
            ReceiveWithGroup();
            return;
        }
        var client = Client;
        var meta = client.GetMetadata([Topic]).Topics[0];
        TopicChecks.Require(meta, Partition);
        var partitions = Partition ?? Enumerable.Range(0, meta.Partitions.Count).ToArray();

        var offsets = client.GetOffsets(Topic, partitions);
        var start = new List<(TopicPartition, long)>();
        foreach (var o in offsets)
        {
            long position = ParameterSetName switch
            {
                "Beginning" => o.LogStartOffset,
                "Offset" => Offset,
                _ => o.HighWatermark,
            };
            if (ParameterSetName == "Offset" && (Offset < o.LogStartOffset || Offset > o.HighWatermark))
                throw new KafkaException(ErrorCode.OffsetOutOfRange, $"Offset {Offset} is outside partition {o.Partition}'s offsets [{o.LogStartOffset}, {o.HighWatermark}].");
            start.Add((new TopicPartition(Topic, o.Partition), position));
        }

        using var consumer = client.OpenConsumer(new ConsumerSettings());
        consumer.Assign(start);
        var buffer = new List<ConsumedRecord>(1024);
        int emitted = 0;
        var lastMessage = DateTime.UtcNow;
        bool waitForMore = Follow || Timeout > 0 || MaxMessages > 0;
        var pollWait = TimeSpan.FromMilliseconds(waitForMore ? 500 : 100);
        while (!StopToken.IsCancellationRequested)
        {
            buffer.Clear();
            int n = consumer.Poll(Timeout > 0 ? TimeSpan.FromSeconds(Math.Min(Timeout, pollWait.TotalSeconds)) : pollWait, buffer, StopToken);
            foreach (var r in buffer)
            {
                WriteObject(ToMessage(r, AsObject));
                if (MaxMessages > 0 && ++emitted >= MaxMessages) return;
            }
            if (n > 0)
            {
                lastMessage = DateTime.UtcNow;
                continue;
            }
            if (Follow) continue;
            if (Timeout > 0)
            {
                if ((DateTime.UtcNow - lastMessage).TotalSeconds >= Timeout) return;
                continue;
            }
            if (MaxMessages > 0) continue;
            if (consumer.AtEnd) return;
        }
    }

    internal static KafkaMessage ToMessage(in ConsumedRecord r, bool asObject)
    {
        var headers = new System.Collections.Specialized.OrderedDictionary();
        foreach (var h in r.Headers)
            headers[h.Key] = h.IsValueNull ? null : Encoding.UTF8.GetString(h.Value.Span);
        string? value = r.Value is null ? null : Encoding.UTF8.GetString(r.Value);
        return new KafkaMessage
        {
            Topic = r.Topic,
            Partition = r.Partition,
            Offset = r.Offset,
            Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(r.Timestamp),
            TimestampType = r.TimestampType.ToString(),
            Key = r.Key is null ? null : Encoding.UTF8.GetString(r.Key),
            Value = asObject ? JsonValue.Parse(value) : value,
            Headers = headers,
            KeyBytes = r.Key,
            ValueBytes = r.Value,
        };
    }
}
