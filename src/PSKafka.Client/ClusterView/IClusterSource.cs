using PSKafka.Engine.Logging;

namespace PSKafka.Client.ClusterView;

/// <summary>
/// What the console reads and does. Implementations are called from the console's background
/// thread (Capture, GetGroups, Tail) and from actions the user confirmed; none of them is called on
/// the UI thread, so a slow call never freezes the screen.
/// </summary>
public interface IClusterSource
{
    /// <summary>Brokers, topics and partitions with cumulative counters; cheap (no log scans), rates left at 0.</summary>
    ClusterSnapshot Capture();

    /// <summary>The consumer groups with members, committed offsets and log end offsets; empty when there are none.</summary>
    IReadOnlyList<GroupView> GetGroups();

    /// <summary>The newest <paramref name="count"/> records of a partition below its high watermark, oldest first.</summary>
    IReadOnlyList<TailRecord> Tail(string topic, int partition, int count);

    /// <summary>
    /// Whether the console may stop, crash and restart brokers: only brokers of this process can be;
    /// a remote cluster's brokers belong to whoever runs them.
    /// </summary>
    bool CanControlBrokers { get; }

    void StopBroker(int id, bool kill);
    void StartBroker(int id);
    void CreateTopic(string name, int partitions, short replicationFactor);
    void DeleteTopic(string name);

    /// <summary>Whether the brokers' log files can be read from here: only this process's cluster's; a remote one's are on its brokers' machines.</summary>
    bool HasBrokerLogs => false;

    /// <summary>The newest <paramref name="count"/> entries of server.log, oldest first; empty without <see cref="HasBrokerLogs"/>.</summary>
    IReadOnlyList<BrokerLogEntry> BrokerLog(int count) => [];

    /// <summary>Commits every partition's log start offset for a group without members (kafka-consumer-groups.sh --reset-offsets --to-earliest).</summary>
    void ResetGroupOffsetsToEarliest(string groupId);
}
