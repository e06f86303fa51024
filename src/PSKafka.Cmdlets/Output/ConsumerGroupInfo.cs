namespace PSKafka.Cmdlets.Output;

/// <summary>A consumer group, as Get-ConsumerGroup shows it (kafka-consumer-groups.sh --describe --state/--members).</summary>
public sealed class ConsumerGroupInfo
{
    public string Name { get; init; } = "";
    /// <summary>Empty, PreparingRebalance, CompletingRebalance, Stable or Dead.</summary>
    public string State { get; init; } = "";
    public string ProtocolType { get; init; } = "";
    /// <summary>The assignor the group chose (range, roundrobin, cooperative-sticky), while it has members.</summary>
    public string Assignor { get; init; } = "";
    /// <summary>The broker coordinating the group.</summary>
    public int Coordinator { get; init; }
    public IReadOnlyList<ConsumerGroupMemberInfo> Members { get; init; } = [];
}

public sealed class ConsumerGroupMemberInfo
{
    public string Group { get; init; } = "";
    public string MemberId { get; init; } = "";
    public string ClientId { get; init; } = "";
    public string Host { get; init; } = "";
    /// <summary>Assigned partitions as "topic-partition".</summary>
    public string[] Partitions { get; init; } = [];
}

/// <summary>One partition of a group: committed offset, log end offset and lag (kafka-consumer-groups.sh --describe).</summary>
public sealed class ConsumerGroupOffsetInfo
{
    public string Group { get; init; } = "";
    public string Topic { get; init; } = "";
    public int Partition { get; init; }
    /// <summary>The committed offset; null when the group has none for the partition.</summary>
    public long? CurrentOffset { get; init; }
    public long LogEndOffset { get; init; }
    /// <summary>LogEndOffset - CurrentOffset; null without a committed offset.</summary>
    public long? Lag { get; init; }
    public string? ConsumerId { get; init; }
    public string? Host { get; init; }
    public string? ClientId { get; init; }
}

/// <summary>A planned or applied offset reset (kafka-consumer-groups.sh --reset-offsets).</summary>
public sealed class ConsumerGroupOffsetReset
{
    public string Group { get; init; } = "";
    public string Topic { get; init; } = "";
    public int Partition { get; init; }
    public long? PreviousOffset { get; init; }
    public long NewOffset { get; init; }
    /// <summary>False for -WhatIf (the dry run) or when the commit was refused.</summary>
    public bool Applied { get; init; }
}
