using System.Globalization;
using PSKafka.Client.ClusterView;
using PSKafka.Engine.Logging;
using Terminal.Gui.Views;

namespace PSKafka.Tui.Views;

/// <summary>The columns of each table of the console: one place for what a row shows.</summary>
internal static partial class Tables
{
    public const int TrendWidth = 20;

    public static ITableSource Brokers(IReadOnlyList<BrokerView> rows) => new EnumerableTableSource<BrokerView>(rows, new()
    {
        ["Id"] = b => b.Id,
        ["Address"] = b => b.Address,
        ["State"] = b => b.StateName,
        ["Role"] = b => b.Role,
        ["Leads"] = b => b.PartitionsLed,
        ["Follows"] = b => b.PartitionsFollowed,
        ["In"] = b => b.TrafficKnown ? Display.BytesPerSecond(b.BytesInPerSec) : Display.Unknown,
        ["Out"] = b => b.TrafficKnown ? Display.BytesPerSecond(b.BytesOutPerSec) : Display.Unknown,
    });

    public static ITableSource Topics(IReadOnlyList<TopicView> rows) => new EnumerableTableSource<TopicView>(rows, new()
    {
        ["Topic"] = t => t.Name,
        ["Partitions"] = t => t.PartitionCount,
        ["RF"] = t => t.ReplicationFactor,
        ["UnderRepl"] = t => t.UnderReplicated,
        ["Offline"] = t => t.Offline,
        ["Msg/s"] = t => Display.Rate(t.MessagesPerSec),
        ["Trend"] = t => Display.Sparkline(t.RateHistory, TrendWidth),
    });

    public static ITableSource Partitions(IReadOnlyList<PartitionView> rows) => new EnumerableTableSource<PartitionView>(rows, new()
    {
        ["P"] = p => p.Partition,
        ["Leader"] = p => p.IsOffline ? "none" : p.Leader.ToString(CultureInfo.InvariantCulture),
        ["Epoch"] = p => Display.Count(p.LeaderEpoch),
        ["Replicas"] = p => Display.Ids(p.Replicas),
        ["Isr"] = p => Display.Isr(p.Isr, p.OutOfSyncReplicas),
        ["Status"] = p => p.IsOffline ? "OFFLINE" : p.IsUnderReplicated ? "under-replicated" : "ok",
        ["LogStart"] = p => Display.Count(p.LogStartOffset),
        ["HW"] = p => Display.Count(p.HighWatermark),
        ["LEO"] = p => Display.Count(p.LogEndOffset),
        ["Size"] = p => Display.Bytes(p.SizeBytes),
        ["Segs"] = p => Display.Count(p.Segments),
        ["Msg/s"] = p => p.HighWatermark < 0 ? Display.Unknown : Display.Rate(p.MessagesPerSec),
    });

    /// <summary>One row per partition a group has an offset for, with the member that owns it.</summary>
    public static ITableSource Groups(IReadOnlyList<GroupView> groups)
    {
        var rows = groups.SelectMany(g => g.Offsets.Count == 0
            ? [new GroupRow(g, null, null)]
            : g.Offsets.Select(o => new GroupRow(g, o, g.Members.FirstOrDefault(m => m.Assignment.Contains((o.Topic, o.Partition)))))).ToList();
        return new EnumerableTableSource<GroupRow>(rows, new()
        {
            ["Group"] = r => r.Group.GroupId,
            ["State"] = r => r.Group.State,
            ["Members"] = r => r.Group.Members.Count,
            ["Partition"] = r => r.Offset is null ? "" : $"{r.Offset.Topic}-{r.Offset.Partition}",
            ["Owner"] = r => r.Owner?.ClientId ?? "",
            ["Committed"] = r => r.Offset is null ? "" : Display.Count(r.Offset.CommittedOffset),
            ["End"] = r => r.Offset is null ? "" : Display.Count(r.Offset.LogEndOffset),
            ["Lag"] = r => r.Offset?.Lag is { } lag ? Display.Count(lag) : "-",
        });
    }

    public static ITableSource Tail(IReadOnlyList<TailRecord> rows) => new EnumerableTableSource<TailRecord>(rows, new()
    {
        ["Offset"] = r => r.Offset,
        ["Timestamp"] = r => r.Timestamp.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture),
        ["Key"] = r => r.Key ?? "(null)",
        ["Value"] = r => r.Value ?? "(null)",
    });

    // A pane is narrow: the broker gets a column and the component (the line's [Partition retail-0 broker=1] ident) is
    // said by the logger's class name, so the words of the message are what is in view. A KafkaConfig block shows its first line.
    public static ITableSource BrokerLog(IReadOnlyList<BrokerLogEntry> rows) => new EnumerableTableSource<BrokerLogEntry>(rows, new()
    {
        ["Time"] = e => e.Time.ToString("HH:mm:ss", CultureInfo.InvariantCulture),
        ["Level"] = e => BrokerLogEntry.LevelName(e.Level),
        ["Broker"] = e => e.BrokerId?.ToString(CultureInfo.InvariantCulture) ?? "",
        ["Logger"] = e => e.LoggerName,
        ["Message"] = e => LogIdent().Replace(e.Message.Split('\n')[0], "", 1).TrimEnd(),
    });

    [System.Text.RegularExpressions.GeneratedRegex(@"^\[[^\]]*\]:? ")]
    private static partial System.Text.RegularExpressions.Regex LogIdent();

    internal sealed record GroupRow(GroupView Group, GroupOffsetView? Offset, GroupMemberView? Owner);
}
