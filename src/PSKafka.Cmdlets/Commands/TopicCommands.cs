using System.Collections;
using System.Management.Automation;
using PSKafka.Cmdlets.Infrastructure;
using PSKafka.Cmdlets.Output;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;

namespace PSKafka.Cmdlets.Commands;

/// <summary>New-Topic: kafka-topics.sh --create.</summary>
[Cmdlet(VerbsCommon.New, "Topic", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(TopicInfo))]
public sealed class NewTopicCommand : ClusterCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Topic")]
    public string[] Name { get; set; } = [];

    /// <summary>Partitions; the broker's num.partitions (1) when not given.</summary>
    [Parameter(Position = 1)]
    public int Partitions { get; set; } = -1;

    /// <summary>Replicas per partition; the broker's default.replication.factor (1) when not given.</summary>
    [Parameter(Position = 2)]
    public short ReplicationFactor { get; set; } = -1;

    /// <summary>Topic configs, e.g. @{ 'retention.ms' = 60000; 'cleanup.policy' = 'compact' }.</summary>
    [Parameter]
    public Hashtable? Config { get; set; }

    protected override void Process()
    {
        if (MyInvocation.BoundParameters.ContainsKey(nameof(Partitions)) && Partitions < 1)
            ThrowKafkaError(ErrorIds.InvalidPartitions, ErrorCategory.InvalidArgument, $"Number of partitions must be larger than 0 (was {Partitions}).", Partitions);
        if (MyInvocation.BoundParameters.ContainsKey(nameof(ReplicationFactor)) && ReplicationFactor < 1)
            ThrowKafkaError(ErrorIds.InvalidReplicationFactor, ErrorCategory.InvalidArgument, $"Replication factor must be larger than 0 (was {ReplicationFactor}).", ReplicationFactor);
        var configs = Config?.Cast<DictionaryEntry>().ToDictionary(e => e.Key.ToString()!, e => Convert.ToString(e.Value, System.Globalization.CultureInfo.InvariantCulture) ?? "");
        var client = Client;
        foreach (var name in Name)
        {
            if (TopicNames.Problem(name) is { } problem)
            {
                WriteError(new ErrorRecord(new KafkaException(ErrorCode.InvalidTopicException, problem), ErrorIds.InvalidTopicName, ErrorCategory.InvalidArgument, name));
                continue;
            }
            if (!ShouldProcess(name, "Create topic")) continue;
            var result = client.CreateTopic(new CreateTopicParams(name, Partitions, ReplicationFactor, configs));
            if (result.Error != ErrorCode.None)
            {
                WriteKafkaError(new KafkaException(result.Error, result.ErrorMessage ?? result.Error.ToString()), name);
                continue;
            }
            WriteObject(TopicView.Describe(client, name));
        }
    }
}

/// <summary>Get-Topic: kafka-topics.sh --list and --describe.</summary>
[Cmdlet(VerbsCommon.Get, "Topic")]
[OutputType(typeof(TopicInfo))]
public sealed class GetTopicCommand : ClusterCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Topic")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(TopicNameCompleter))]
    public string[]? Name { get; set; }

    protected override void Process()
    {
        var client = Client;
        var all = client.GetMetadata().Topics.Select(t => t.Name).ToList();
        if (Name is null)
        {
            foreach (var name in all) WriteObject(TopicView.Describe(client, name));
            return;
        }
        foreach (var pattern in Name)
        {
            if (WildcardPattern.ContainsWildcardCharacters(pattern))
            {
                var wildcard = new WildcardPattern(pattern, WildcardOptions.IgnoreCase);
                foreach (var name in all.Where(wildcard.IsMatch)) WriteObject(TopicView.Describe(client, name));
                continue;
            }
            try
            {
                WriteObject(TopicView.Describe(client, pattern));
            }
            catch (KafkaException e)
            {
                WriteKafkaError(e, pattern);
            }
        }
    }
}

/// <summary>Remove-Topic: kafka-topics.sh --delete; the partition directories are deleted.</summary>
[Cmdlet(VerbsCommon.Remove, "Topic", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
public sealed class RemoveTopicCommand : ClusterCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Topic")]
    [ArgumentCompleter(typeof(TopicNameCompleter))]
    public string[] Name { get; set; } = [];

    protected override void Process()
    {
        var client = Client;
        foreach (var name in Name)
        {
            if (!ShouldProcess(name, "Delete topic and all its messages")) continue;
            var result = client.DeleteTopic(name);
            if (result.Error != ErrorCode.None)
                WriteKafkaError(new KafkaException(result.Error, result.ErrorMessage ?? result.Error.ToString()), name);
        }
    }
}

internal static class TopicView
{
    public static TopicInfo Describe(Client.IKafkaClient client, string name)
    {
        var meta = client.GetMetadata([name]).Topics[0];
        TopicChecks.Require(meta);
        var online = meta.Partitions.Where(p => p.Leader >= 0).Select(p => p.Partition).ToList();
        var offsets = client.GetOffsets(name, online).ToDictionary(o => o.Partition);
        var configs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (var c in client.DescribeTopicConfigs(name).Where(c => c.Source == "DYNAMIC_TOPIC_CONFIG")) configs[c.Name] = c.Value;
        }
        catch (Client.NotSupportedRemotelyException)
        {
            // A cluster without DescribeConfigs (librdkafka's mock) still describes partitions.
        }
        return new TopicInfo
        {
            Name = meta.Name,
            TopicId = meta.TopicId,
            PartitionCount = meta.Partitions.Count,
            ReplicationFactor = meta.Partitions.Count == 0 ? 0 : meta.Partitions[0].Replicas.Count,
            Configs = configs,
            Partitions = meta.Partitions.Select(p => new TopicPartitionInfo
            {
                Topic = meta.Name,
                Partition = p.Partition,
                Leader = p.Leader,
                LeaderEpoch = p.LeaderEpoch,
                Replicas = p.Replicas.ToArray(),
                Isr = p.Isr.ToArray(),
                OfflineReplicas = p.OfflineReplicas.ToArray(),
                LogStartOffset = offsets.TryGetValue(p.Partition, out var o) ? o.LogStartOffset : -1,
                LogEndOffset = offsets.TryGetValue(p.Partition, out var e) ? e.HighWatermark : -1,
            }).ToList(),
        };
    }
}
