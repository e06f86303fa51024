using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Runtime.CompilerServices;
using PSKafka.Client;
using PSKafka.Cmdlets.Infrastructure;
using PSKafka.Cmdlets.Output;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Groups.Assignors;

namespace PSKafka.Cmdlets.Commands;

// Receive-Message -Group: kafka-console-consumer.sh --group. The consumer joins the group and reads
// only the partitions the group assigns it (or, with -Partition, the given partitions while
// committing to the group), starting from the group's committed offsets.
public sealed partial class ReceiveMessageCommand
{
    /// <summary>Consume as a member of this consumer group (group.id).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(GroupNameCompleter))]
    public string? Group { get; set; }

    /// <summary>Do not commit offsets; commit with Submit-ConsumerOffset after processing each message.</summary>
    [Parameter]
    public SwitchParameter NoAutoCommit { get; set; }

    /// <summary>partition.assignment.strategy, in order of preference; default range, cooperative-sticky (Kafka's).</summary>
    [Parameter]
    [ValidateSet(PartitionAssignors.Range, PartitionAssignors.RoundRobin, PartitionAssignors.CooperativeSticky)]
    public string[]? Assignor { get; set; }

    /// <summary>Kafka consumer configs: session.timeout.ms, heartbeat.interval.ms, max.poll.interval.ms, auto.offset.reset, client.id, enable.auto.commit, partition.assignment.strategy.</summary>
    [Parameter]
    public Hashtable? ConsumerConfig { get; set; }

    /// <summary>Consume in the background as a job (Receive-Job, Stop-Job); needs -Group.</summary>
    [Parameter]
    public SwitchParameter AsJob { get; set; }

    private static readonly ConditionalWeakTable<KafkaMessage, IGroupConsumer> Origins = new();

    /// <summary>The group consumer that emitted a message (for Submit-ConsumerOffset), when it was received with -NoAutoCommit.</summary>
    internal static IGroupConsumer? OriginOf(KafkaMessage message) => Origins.TryGetValue(message, out var c) ? c : null;

    private void ReceiveWithGroup()
    {
        if (ParameterSetName == "Offset")
            ThrowKafkaError("InvalidArgument", ErrorCategory.InvalidArgument,
                "-Offset cannot be used with -Group: a group member starts at the group's committed offsets (move them with Reset-ConsumerGroupOffset).", Offset);
        var client = Client;
        var meta = client.GetMetadata([Topic]).Topics[0];
        TopicChecks.Require(meta, Partition);

        var settings = BuildSettings(out bool autoCommit);
        var loop = new GroupReceiveLoop(settings, autoCommit, AsObject, MaxMessages, Timeout, Follow);
        if (AsJob)
        {
            var job = new GroupConsumerJob(MyInvocation.Line, $"{Group}:{Topic}");
            JobRepository.Add(job);
            var background = TakeClient(out var owned);
            job.Start((emit, warn, ct) =>
            {
                try { loop.Run(background, emit, warn, ct); }
                finally { owned?.Dispose(); }
            });
            WriteObject(job);
            return;
        }
        loop.Run(client, m =>
        {
            // Registered before it is written: the rest of the pipeline (Submit-ConsumerOffset) runs inside WriteObject.
            if (!autoCommit && loop.Consumer is { } c) Origins.AddOrUpdate(m, c);
            WriteObject(m);
        }, WriteWarning, StopToken);
    }

    private GroupConsumerSettings BuildSettings(out bool autoCommit)
    {
        autoCommit = !NoAutoCommit;
        var settings = new GroupConsumerSettings
        {
            GroupId = Group!,
            Topics = [Topic],
            Partitions = Partition?.Distinct().Select(p => new TopicPartition(Topic, p)).ToList(),
            Assignors = Assignor ?? [PartitionAssignors.Range, PartitionAssignors.CooperativeSticky],
            // kafka-console-consumer.sh --from-beginning: a group without committed offsets starts at the beginning.
            AutoOffsetReset = FromBeginning ? "earliest" : "latest",
        };
        foreach (DictionaryEntry e in ConsumerConfig ?? new Hashtable())
        {
            string name = e.Key.ToString()!, value = Convert.ToString(e.Value, CultureInfo.InvariantCulture) ?? "";
            int Int() => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
                : throw new KafkaException(ErrorCode.InvalidConfig, $"Invalid value {value} for configuration {name}: a positive number of milliseconds is expected.");
            settings = name switch
            {
                "session.timeout.ms" => settings with { SessionTimeoutMs = Int() },
                "heartbeat.interval.ms" => settings with { HeartbeatIntervalMs = Int() },
                "max.poll.interval.ms" => settings with { MaxPollIntervalMs = Int() },
                "fetch.max.wait.ms" => settings with { MaxWaitMs = Int() },
                "max.partition.fetch.bytes" => settings with { PartitionMaxBytes = Int() },
                "auto.offset.reset" => settings with { AutoOffsetReset = value.ToLowerInvariant() },
                "client.id" => settings with { ClientId = value },
                "partition.assignment.strategy" => settings with { Assignors = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(AssignorName).ToList() },
                "enable.auto.commit" => bool.TryParse(value, out var b) ? Set(ref autoCommit, b, settings)
                    : throw new KafkaException(ErrorCode.InvalidConfig, $"Invalid value {value} for configuration enable.auto.commit: Expected value to be either true or false."),
                _ => throw new KafkaException(ErrorCode.InvalidConfig, $"Unknown or unsupported consumer config name: {name}. Supported: session.timeout.ms, heartbeat.interval.ms, max.poll.interval.ms, fetch.max.wait.ms, max.partition.fetch.bytes, auto.offset.reset, client.id, enable.auto.commit, partition.assignment.strategy."),
            };
        }
        return settings;
    }

    private static GroupConsumerSettings Set(ref bool target, bool value, GroupConsumerSettings settings)
    {
        target = value;
        return settings;
    }

    /// <summary>Kafka's assignor class names or short names.</summary>
    private static string AssignorName(string value) => value switch
    {
        "org.apache.kafka.clients.consumer.RangeAssignor" => PartitionAssignors.Range,
        "org.apache.kafka.clients.consumer.RoundRobinAssignor" => PartitionAssignors.RoundRobin,
        "org.apache.kafka.clients.consumer.CooperativeStickyAssignor" => PartitionAssignors.CooperativeSticky,
        _ when PartitionAssignors.Names.Contains(value.ToLowerInvariant()) => value.ToLowerInvariant(),
        _ => throw new KafkaException(ErrorCode.InvalidConfig, $"Unknown partition assignor '{value}'. Known: {string.Join(", ", PartitionAssignors.Names)}."),
    };
}

/// <summary>The poll loop of Receive-Message -Group, shared by the cmdlet and its -AsJob job.</summary>
internal sealed class GroupReceiveLoop(GroupConsumerSettings settings, bool autoCommit, bool asObject, int maxMessages, double timeout, bool follow)
{
    public IGroupConsumer? Consumer { get; private set; }

    public void Run(IKafkaClient client, Action<KafkaMessage> emit, Action<string> warn, CancellationToken ct)
    {
        var consumer = Consumer = client.OpenGroupConsumer(settings);
        var buffer = new List<ConsumedRecord>(1024);
        int emitted = 0;
        var lastMessage = DateTime.UtcNow;
        bool waitForMore = follow || timeout > 0 || maxMessages > 0;
        var pollWait = TimeSpan.FromMilliseconds(waitForMore ? 500 : 100);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                buffer.Clear();
                int n = consumer.Poll(timeout > 0 ? TimeSpan.FromSeconds(Math.Min(timeout, pollWait.TotalSeconds)) : pollWait, buffer, ct);
                foreach (var r in buffer)
                {
                    emit(ReceiveMessageCommand.ToMessage(r, asObject));
                    // Only a record the pipeline has taken counts as consumed: a failure downstream leaves it uncommitted.
                    consumer.MarkEmitted(r);
                    if (maxMessages > 0 && ++emitted >= maxMessages) return;
                }
                if (n > 0)
                {
                    if (autoCommit && consumer.CommitEmitted() is var error and not ErrorCode.None)
                        warn($"Auto-commit of group '{settings.GroupId}' failed ({error}); the group rebalanced and these messages may be delivered again.");
                    lastMessage = DateTime.UtcNow;
                    continue;
                }
                if (follow) continue;
                if (timeout > 0)
                {
                    if ((DateTime.UtcNow - lastMessage).TotalSeconds >= timeout) return;
                    continue;
                }
                if (maxMessages > 0) continue;
                if (consumer.AtEnd) return;
            }
        }
        finally
        {
            consumer.Close(commit: autoCommit);
        }
    }
}

/// <summary>Receive-Message -Group -AsJob: the consumer runs on its own thread; Stop-Job leaves the group.</summary>
public sealed class GroupConsumerJob : Job
{
    private readonly CancellationTokenSource _stop = new();

    internal GroupConsumerJob(string command, string name) : base(command, name)
    {
        PSJobTypeName = "PSKafkaConsumerJob";
    }

    public override string StatusMessage => "";
    public override bool HasMoreData => Output.Count > 0 || Error.Count > 0 || Warning.Count > 0;
    public override string Location => Environment.MachineName;

    internal void Start(Action<Action<KafkaMessage>, Action<string>, CancellationToken> body)
    {
        SetJobState(JobState.Running);
        Task.Factory.StartNew(() =>
        {
            try
            {
                body(m => Output.Add(PSObject.AsPSObject(m)), w => Warning.Add(new WarningRecord(w)), _stop.Token);
                SetJobState(_stop.IsCancellationRequested ? JobState.Stopped : JobState.Completed);
            }
            catch (Exception e)
            {
                Error.Add(KafkaCmdlet.ToErrorRecord(e, null));
                SetJobState(JobState.Failed);
            }
        }, TaskCreationOptions.LongRunning);
    }

    public override void StopJob()
    {
        _stop.Cancel();
        Finished.WaitOne(TimeSpan.FromSeconds(30));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _stop.Cancel();
        base.Dispose(disposing);
    }
}
