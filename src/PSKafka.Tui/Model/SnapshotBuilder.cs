using PSKafka.Client.ClusterView;
using PSKafka.Engine;

namespace PSKafka.Tui.Model;

/// <summary>
/// Takes snapshots from a source and fills in what one snapshot alone cannot say: bytes and messages
/// per second (the difference to the previous snapshot over the time between them) and the recent
/// history behind the sparklines. Used by one thread at a time.
/// </summary>
public sealed class SnapshotBuilder(IClusterSource source, int historyLength = 30)
{
    private readonly Dictionary<string, Queue<double>> _topicRates = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Queue<long>> _groupLags = new(StringComparer.Ordinal);
    private ClusterSnapshot? _previous;

    public int HistoryLength { get; } = historyLength;

    public ClusterSnapshot Next()
    {
        var captured = source.Capture();
        IReadOnlyList<GroupView> groups;
        string? problem = captured.Problem;
        try
        {
            groups = source.GetGroups();
        }
        catch (KafkaException e)
        {
            // Groups the cluster will not list (no permission, a coordinator moving) must not hide the brokers and topics.
            groups = _previous?.Groups ?? [];
            problem ??= $"Consumer groups could not be read: {e.Message}";
        }
        // The user's topics first (the first one is selected), Kafka's internal ones after them.
        var raw = captured with { Topics = captured.Topics.OrderBy(t => t.IsInternal).ToList(), Groups = groups, Problem = problem };
        var next = WithRates(_previous, raw);
        next = WithHistory(next);
        _previous = next;
        return next;
    }

    /// <summary>Rates per second from the counters of two snapshots; zero for the first one and for counters that went back (a restart).</summary>
    public static ClusterSnapshot WithRates(ClusterSnapshot? previous, ClusterSnapshot current)
    {
        if (previous is null) return current;
        double seconds = (current.Taken - previous.Taken).TotalSeconds;
        if (seconds <= 0) return current;

        static double Rate(long now, long before, double seconds) => before < 0 || now < before ? 0 : (now - before) / seconds;

        var brokers = current.Brokers.Select(b =>
            previous.Brokers.FirstOrDefault(p => p.Id == b.Id) is { } p
                ? b with { BytesInPerSec = Rate(b.BytesInTotal, p.BytesInTotal, seconds), BytesOutPerSec = Rate(b.BytesOutTotal, p.BytesOutTotal, seconds) }
                : b).ToList();

        var topics = current.Topics.Select(t =>
        {
            if (previous.FindTopic(t.Name) is not { } before) return t;
            var partitions = t.Partitions.Select(p =>
                p.Partition < before.Partitions.Count && p.HighWatermark >= 0
                    ? p with { MessagesPerSec = Rate(p.HighWatermark, before.Partitions[p.Partition].HighWatermark, seconds) }
                    : p).ToList();
            return t with { Partitions = partitions, MessagesPerSec = partitions.Sum(p => p.MessagesPerSec) };
        }).ToList();

        return current with { Brokers = brokers, Topics = topics };
    }

    private ClusterSnapshot WithHistory(ClusterSnapshot snapshot)
    {
        var topics = snapshot.Topics.Select(t => t with { RateHistory = Push(_topicRates, t.Name, t.MessagesPerSec) }).ToList();
        var groups = snapshot.Groups.Select(g => g with { LagHistory = Push(_groupLags, g.GroupId, g.TotalLag) }).ToList();
        Forget(_topicRates, topics.Select(t => t.Name));
        Forget(_groupLags, groups.Select(g => g.GroupId));
        return snapshot with { Topics = topics, Groups = groups };
    }

    private T[] Push<T>(Dictionary<string, Queue<T>> histories, string key, T value)
    {
        if (!histories.TryGetValue(key, out var queue)) histories[key] = queue = new Queue<T>(HistoryLength + 1);
        queue.Enqueue(value);
        while (queue.Count > HistoryLength) queue.Dequeue();
        return queue.ToArray();
    }

    // A deleted topic or group that comes back starts a fresh history.
    private static void Forget<T>(Dictionary<string, Queue<T>> histories, IEnumerable<string> live)
    {
        var keep = live.ToHashSet(StringComparer.Ordinal);
        foreach (var key in histories.Keys.Where(k => !keep.Contains(k)).ToList()) histories.Remove(key);
    }
}
