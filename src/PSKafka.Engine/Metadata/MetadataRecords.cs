namespace PSKafka.Engine.Metadata;

// Documents stored in LiteDB: the role ZooKeeper (or KRaft's metadata log) plays in Kafka.
// Mutable POCOs for the BSON mapper only; the engine works on immutable snapshots built from them.

public sealed class ClusterRecord
{
    public int Id { get; set; } = 1;
    public string ClusterId { get; set; } = "";
    public int ControllerEpoch { get; set; }
    public Dictionary<string, string> BrokerConfigs { get; set; } = new();
    /// <summary>Per-broker dynamic overrides (kafka-configs.sh --entity-name N), by broker id.</summary>
    public Dictionary<string, Dictionary<string, string>> PerBrokerConfigs { get; set; } = new();
}

public sealed class BrokerRecord
{
    public int Id { get; set; }
    public string Host { get; set; } = "localhost";
    public int Port { get; set; }
    public string ListenAddress { get; set; } = "127.0.0.1";
    /// <summary>Whether the broker should come back when the cluster is opened again.</summary>
    public bool Enabled { get; set; } = true;
    public DateTime Registered { get; set; }
}

public sealed class TopicRecord
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public Guid TopicId { get; set; }
    public Dictionary<string, string> Configs { get; set; } = new();
    public List<PartitionRecord> Partitions { get; set; } = new();
    public DateTime Created { get; set; }
}

public sealed class PartitionRecord
{
    public int Partition { get; set; }
    public List<int> Replicas { get; set; } = new();
    public List<int> Isr { get; set; } = new();
    /// <summary>-1 when the partition has no leader (offline).</summary>
    public int Leader { get; set; } = -1;
    public int LeaderEpoch { get; set; }
    /// <summary>Goes up on every change of leader or ISR; fences stale ISR proposals (Kafka's partition epoch).</summary>
    public int PartitionEpoch { get; set; }
}
