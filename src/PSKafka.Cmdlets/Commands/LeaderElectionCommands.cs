using System.Management.Automation;
using PSKafka.Cmdlets.Infrastructure;
using PSKafka.Cmdlets.Output;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;

namespace PSKafka.Cmdlets.Commands;

/// <summary>
/// Invoke-LeaderElection: kafka-leader-election.sh --election-type PREFERRED. Each partition whose
/// preferred replica (the first in its Replicas list) is running and in the ISR gets it back as leader;
/// after brokers came back from a failure this spreads leadership over the brokers again.
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "LeaderElection", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(LeaderElectionInfo))]
public sealed class InvokeLeaderElectionCommand : ClusterCmdlet
{
    /// <summary>Topics to elect leaders for; every topic when not given.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(TopicNameCompleter))]
    [Alias("Name")]
    public string[]? Topic { get; set; }

    /// <summary>Only these partitions of the topics.</summary>
    [Parameter(Position = 1)]
    [ValidateRange(0, int.MaxValue)]
    public int[]? Partition { get; set; }

    protected override void Process()
    {
        var client = Client;
        var meta = client.GetMetadata(Topic);
        var wanted = new List<(TopicPartition Partition, int Leader, int Preferred)>();
        foreach (var t in meta.Topics)
        {
            if (TopicChecks.Missing(t) is { } missingTopic)
            {
                WriteKafkaError(missingTopic, t.Name);
                continue;
            }
            foreach (var number in Partition ?? t.Partitions.Select(p => p.Partition).ToArray())
            {
                if (TopicChecks.Missing(t, number) is { } missingPartition)
                {
                    WriteKafkaError(missingPartition, number);
                    continue;
                }
                var p = t.Partitions[number];
                wanted.Add((new TopicPartition(t.Name, number), p.Leader, p.Replicas[0]));
            }
        }
        var toElect = wanted.Where(w => w.Leader != w.Preferred
            && ShouldProcess($"{w.Partition} (leader {w.Leader})", $"Move leadership to preferred replica {w.Preferred}")).ToList();
        var results = toElect.Count == 0 ? [] : client.ElectPreferredLeaders(toElect.Select(w => w.Partition).ToList());
        // Kafka's answer does not say who leads now (a remote election reports -1): metadata does.
        if (results.Any(r => r.Error == ErrorCode.None && r.Leader < 0))
        {
            var leaders = client.GetMetadata(results.Select(r => r.Partition.Topic).Distinct().ToList()).Topics
                .SelectMany(t => t.Partitions.Select(p => (Partition: new TopicPartition(t.Name, p.Partition), p.Leader)))
                .ToDictionary(x => x.Partition, x => x.Leader);
            results = results.Select(r => r.Error == ErrorCode.None && r.Leader < 0 ? r with { Leader = leaders.GetValueOrDefault(r.Partition, -1) } : r).ToList();
        }
        var byPartition = results.ToDictionary(r => r.Partition);
        foreach (var w in wanted)
        {
            if (w.Leader == w.Preferred)
            {
                WriteObject(Info(w.Partition, w.Leader, w.Preferred, "AlreadyPreferred", null));
                continue;
            }
            if (!byPartition.TryGetValue(w.Partition, out var r)) continue; // -WhatIf or declined
            WriteObject(r.Error switch
            {
                ErrorCode.None => Info(w.Partition, r.Leader, w.Preferred, "Elected", null),
                ErrorCode.ElectionNotNeeded => Info(w.Partition, r.Leader, w.Preferred, "AlreadyPreferred", null),
                _ => Info(w.Partition, r.Leader, w.Preferred, "PreferredLeaderNotAvailable", r.ErrorMessage),
            });
        }
    }

    private static LeaderElectionInfo Info(TopicPartition tp, int leader, int preferred, string result, string? reason) => new()
    {
        Topic = tp.Topic,
        Partition = tp.Partition,
        Leader = leader,
        PreferredLeader = preferred,
        Result = result,
        Reason = reason,
    };
}
