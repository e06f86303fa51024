using System.Management.Automation;
using PSKafka.Client;
using PSKafka.Cmdlets.Infrastructure;
using PSKafka.Cmdlets.Output;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Groups;

namespace PSKafka.Cmdlets.Commands;

/// <summary>Get-ConsumerGroup: kafka-consumer-groups.sh --list, and --describe --state --members.</summary>
[Cmdlet(VerbsCommon.Get, "ConsumerGroup")]
[OutputType(typeof(ConsumerGroupInfo))]
public sealed class GetConsumerGroupCommand : ClusterCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Group")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(GroupNameCompleter))]
    public string[]? Name { get; set; }

    protected override void Process()
    {
        var client = Client;
        foreach (var name in GroupNames.Resolve(client, Name, this))
            WriteObject(GroupNames.Describe(client, name));
    }
}

/// <summary>Get-ConsumerGroupOffset: kafka-consumer-groups.sh --describe (offsets and lag per partition).</summary>
[Cmdlet(VerbsCommon.Get, "ConsumerGroupOffset")]
[OutputType(typeof(ConsumerGroupOffsetInfo))]
public sealed class GetConsumerGroupOffsetCommand : ClusterCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(GroupNameCompleter))]
    public string[]? Group { get; set; }

    /// <summary>Only partitions of this topic.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(TopicNameCompleter))]
    public string? Topic { get; set; }

    protected override void Process()
    {
        var client = Client;
        foreach (var group in GroupNames.Resolve(client, Group, this))
        {
            var (described, _) = client.DescribeGroup(group);
            // Who holds each partition, from the members' assignments (only known while the group is Stable).
            var owners = new Dictionary<TopicPartition, GroupMemberDescription>();
            if (described.ProtocolType == ConsumerProtocol.ProtocolType)
                foreach (var m in described.Members)
                    foreach (var tp in GroupNames.Partitions(m.MemberAssignment))
                        owners[tp] = m;
            var committed = client.FetchCommittedOffsets(group).Where(o => o.Offset >= 0)
                .ToDictionary(o => new TopicPartition(o.Topic, o.Partition), o => o.Offset);
            var partitions = committed.Keys.Union(owners.Keys)
                .Where(tp => Topic is null || tp.Topic == Topic)
                .OrderBy(tp => tp.Topic, StringComparer.Ordinal).ThenBy(tp => tp.Partition).ToList();
            foreach (var byTopic in partitions.GroupBy(tp => tp.Topic))
            {
                IReadOnlyDictionary<int, PartitionOffsets> ends;
                try
                {
                    ends = client.GetOffsets(byTopic.Key, byTopic.Select(tp => tp.Partition).ToList()).ToDictionary(o => o.Partition);
                }
                catch (KafkaException e)
                {
                    WriteKafkaError(e, byTopic.Key); // a deleted topic, or a partition without leader
                    continue;
                }
                foreach (var tp in byTopic)
                {
                    long? current = committed.TryGetValue(tp, out var c) ? c : null;
                    long end = ends[tp.Partition].HighWatermark;
                    owners.TryGetValue(tp, out var owner);
                    WriteObject(new ConsumerGroupOffsetInfo
                    {
                        Group = group,
                        Topic = tp.Topic,
                        Partition = tp.Partition,
                        CurrentOffset = current,
                        LogEndOffset = end,
                        Lag = current is { } cur ? Math.Max(0, end - cur) : null,
                        ConsumerId = owner?.MemberId,
                        Host = owner?.ClientHost,
                        ClientId = owner?.ClientId,
                    });
                }
            }
        }
    }
}

/// <summary>
/// Reset-ConsumerGroupOffset: kafka-consumer-groups.sh --reset-offsets. Kafka only resets a group
/// without active members; -WhatIf is the dry run and shows the planned offsets.
/// </summary>
[Cmdlet(VerbsCommon.Reset, "ConsumerGroupOffset", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = "ToEarliest")]
[OutputType(typeof(ConsumerGroupOffsetReset))]
public sealed class ResetConsumerGroupOffsetCommand : ClusterCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ArgumentCompleter(typeof(GroupNameCompleter))]
    public string Group { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1)]
    [ArgumentCompleter(typeof(TopicNameCompleter))]
    public string Topic { get; set; } = "";

    /// <summary>Only these partitions (all of the topic's when not given).</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int[]? Partition { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = "ToEarliest")]
    public SwitchParameter ToEarliest { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = "ToLatest")]
    public SwitchParameter ToLatest { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = "ToOffset")]
    [ValidateRange(0, long.MaxValue)]
    public long ToOffset { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = "ToDateTime")]
    public DateTimeOffset ToDateTime { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = "ShiftBy")]
    public long ShiftBy { get; set; }

    protected override void Process()
    {
        var client = Client;
        var (described, _) = client.DescribeGroup(Group);
        if (described.GroupState is not (nameof(GroupState.Empty) or nameof(GroupState.Dead)))
            ThrowKafkaError(ErrorIds.ConsumerGroupNotEmpty, ErrorCategory.ResourceBusy,
                $"Assignments can only be reset if the group '{Group}' is inactive, but the current state is {described.GroupState}. Stop its consumers first.", Group);

        var meta = client.GetMetadata([Topic]).Topics[0];
        TopicChecks.Require(meta, Partition);
        var partitions = Partition ?? Enumerable.Range(0, meta.Partitions.Count).ToArray();
        var bounds = client.GetOffsets(Topic, partitions).ToDictionary(o => o.Partition);
        var committed = client.FetchCommittedOffsets(Group, partitions.Select(p => new TopicPartition(Topic, p)).ToList())
            .ToDictionary(o => o.Partition, o => o.Offset);

        var plan = new List<ConsumerGroupOffsetReset>();
        foreach (var p in partitions)
        {
            var b = bounds[p];
            long? previous = committed.TryGetValue(p, out var c) && c >= 0 ? c : null;
            long target = ParameterSetName switch
            {
                "ToEarliest" => b.LogStartOffset,
                "ToLatest" => b.HighWatermark,
                "ToOffset" => ToOffset,
                "ToDateTime" => client.OffsetForTimestamp(Topic, p, ToDateTime.ToUnixTimeMilliseconds()),
                _ => previous is { } prev ? prev + ShiftBy : ThrowNoCommittedOffset(p),
            };
            // Kafka moves an offset outside the log to its nearest end.
            target = Math.Clamp(target, b.LogStartOffset, b.HighWatermark);
            plan.Add(new ConsumerGroupOffsetReset { Group = Group, Topic = Topic, Partition = p, PreviousOffset = previous, NewOffset = target });
        }

        var summary = string.Join(", ", plan.Select(r => $"{r.Topic}-{r.Partition}: {r.PreviousOffset?.ToString() ?? "none"} -> {r.NewOffset}"));
        if (!ShouldProcess($"consumer group '{Group}'", $"Reset committed offsets ({summary})"))
        {
            WriteObject(plan, enumerateCollection: true); // the dry run: what would be committed
            return;
        }
        var results = client.CommitOffsets(Group, plan.Select(r => new OffsetCommitPartitionParams(r.Topic, r.Partition, r.NewOffset)).ToList());
        var refused = results.FirstOrDefault(r => r.Error != ErrorCode.None);
        if (refused is not null)
        {
            if (refused.Error is ErrorCode.UnknownMemberId or ErrorCode.IllegalGeneration or ErrorCode.RebalanceInProgress)
                ThrowKafkaError(ErrorIds.ConsumerGroupNotEmpty, ErrorCategory.ResourceBusy, $"The group '{Group}' got active members while resetting; offsets were not reset.", Group);
            throw new KafkaException(refused.Error, $"Resetting the offsets of group '{Group}' failed for {refused.Topic}-{refused.Partition}: {refused.Error}.");
        }
        foreach (var r in plan)
            WriteObject(new ConsumerGroupOffsetReset { Group = r.Group, Topic = r.Topic, Partition = r.Partition, PreviousOffset = r.PreviousOffset, NewOffset = r.NewOffset, Applied = true });
    }

    private long ThrowNoCommittedOffset(int partition)
    {
        ThrowKafkaError(ErrorIds.NoCommittedOffset, ErrorCategory.InvalidOperation,
            $"Cannot shift the offset of {Topic}-{partition}: group '{Group}' has no committed offset for it.", partition);
        return 0;
    }
}

/// <summary>Remove-ConsumerGroup: kafka-consumer-groups.sh --delete (the group and its committed offsets); only for a group without members.</summary>
[Cmdlet(VerbsCommon.Remove, "ConsumerGroup", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
public sealed class RemoveConsumerGroupCommand : ClusterCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Group")]
    [ArgumentCompleter(typeof(GroupNameCompleter))]
    public string[] Name { get; set; } = [];

    protected override void Process()
    {
        var client = Client;
        foreach (var name in Name)
        {
            if (!ShouldProcess(name, "Delete consumer group and its committed offsets")) continue;
            var error = client.DeleteGroup(name);
            switch (error)
            {
                case ErrorCode.None:
                    break;
                case ErrorCode.NonEmptyGroup:
                    WriteError(new ErrorRecord(new KafkaException(error, $"The group '{name}' is not empty: it has active members. Stop its consumers before deleting it."),
                        ErrorIds.ConsumerGroupNotEmpty, ErrorCategory.ResourceBusy, name));
                    break;
                case ErrorCode.GroupIdNotFound:
                    WriteError(new ErrorRecord(new KafkaException(error, $"The group '{name}' does not exist."), ErrorIds.ConsumerGroupNotFound, ErrorCategory.ObjectNotFound, name));
                    break;
                default:
                    WriteKafkaError(new KafkaException(error, $"Deleting group '{name}' failed: {error}."), name);
                    break;
            }
        }
    }
}

/// <summary>
/// Submit-ConsumerOffset: commits, for each message, the offset after it, as the member of the
/// group that received it (Receive-Message -Group -NoAutoCommit). Put it at the end of the
/// pipeline so a message is committed only once it has been processed (at-least-once).
/// </summary>
[Cmdlet(VerbsLifecycle.Submit, "ConsumerOffset")]
[OutputType(typeof(KafkaMessage))]
public sealed class SubmitConsumerOffsetCommand : ClusterCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    public KafkaMessage[] InputObject { get; set; } = [];

    /// <summary>Pass the messages on after committing them.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void Process()
    {
        foreach (var message in InputObject)
        {
            var consumer = ReceiveMessageCommand.OriginOf(message);
            if (consumer is null)
            {
                WriteError(new ErrorRecord(new InvalidOperationException(
                    $"Message {message.Topic}-{message.Partition}@{message.Offset} was not received with Receive-Message -Group ... -NoAutoCommit, so there is no group to commit it to."),
                    ErrorIds.NotFromGroupConsumer, ErrorCategory.InvalidArgument, message));
                continue;
            }
            var tp = new TopicPartition(message.Topic, message.Partition);
            try
            {
                if (!consumer.IsClosed)
                {
                    consumer.Commit([(tp, message.Offset + 1)]);
                }
                else
                {
                    // The consumer has left: commit as an admin tool would, which Kafka allows only while the group has no members.
                    var r = Client.CommitOffsets(consumer.GroupId, [new OffsetCommitPartitionParams(tp.Topic, tp.Partition, message.Offset + 1)])[0];
                    if (r.Error != ErrorCode.None)
                        throw new KafkaException(r.Error, $"Committing {tp}@{message.Offset + 1} for group '{consumer.GroupId}' failed: the consumer that received the message has closed and the group has other members ({r.Error}).");
                }
            }
            catch (KafkaException e)
            {
                WriteKafkaError(e, message);
                continue;
            }
            if (PassThru) WriteObject(message);
        }
    }
}

internal static class GroupNames
{
    /// <summary>Group names for a -Name filter: all groups, wildcard matches, or the names as given (so unknown ones are reported).</summary>
    public static IEnumerable<string> Resolve(IKafkaClient client, string[]? names, KafkaCmdlet cmdlet)
    {
        if (names is null)
        {
            foreach (var g in client.ListGroups()) yield return g.GroupId;
            yield break;
        }
        List<string>? all = null;
        foreach (var pattern in names)
        {
            if (WildcardPattern.ContainsWildcardCharacters(pattern))
            {
                all ??= client.ListGroups().Select(g => g.GroupId).ToList();
                var wildcard = new WildcardPattern(pattern, WildcardOptions.IgnoreCase);
                foreach (var n in all.Where(wildcard.IsMatch)) yield return n;
                continue;
            }
            var (described, _) = client.DescribeGroup(pattern);
            if (described.Error != ErrorCode.None)
            {
                cmdlet.WriteError(KafkaCmdlet.ToErrorRecord(new KafkaException(described.Error, $"Describing group '{pattern}' failed: {described.Error}."), pattern));
                continue;
            }
            if (described.GroupState == nameof(GroupState.Dead))
            {
                cmdlet.WriteError(new ErrorRecord(new KafkaException(ErrorCode.GroupIdNotFound, $"Consumer group '{pattern}' does not exist."),
                    ErrorIds.ConsumerGroupNotFound, ErrorCategory.ObjectNotFound, pattern));
                continue;
            }
            yield return pattern;
        }
    }

    public static ConsumerGroupInfo Describe(IKafkaClient client, string name)
    {
        var (g, coordinator) = client.DescribeGroup(name);
        return new ConsumerGroupInfo
        {
            Name = g.GroupId,
            State = g.GroupState,
            ProtocolType = g.ProtocolType,
            Assignor = g.ProtocolData,
            Coordinator = coordinator,
            Members = g.Members.Select(m => new ConsumerGroupMemberInfo
            {
                Group = g.GroupId,
                MemberId = m.MemberId,
                ClientId = m.ClientId,
                Host = m.ClientHost,
                Partitions = (g.ProtocolType == ConsumerProtocol.ProtocolType ? Partitions(m.MemberAssignment) : [])
                    .OrderBy(tp => tp.Topic, StringComparer.Ordinal).ThenBy(tp => tp.Partition).Select(tp => tp.ToString()).ToArray(),
            }).ToList(),
        };
    }

    public static IReadOnlyList<TopicPartition> Partitions(byte[] assignment)
    {
        try
        {
            return ConsumerProtocol.DeserializeAssignment(assignment).Partitions;
        }
        catch (KafkaException)
        {
            return []; // a member of another client that wrote something else
        }
    }
}
