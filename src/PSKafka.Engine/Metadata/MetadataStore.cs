using LiteDB;

namespace PSKafka.Engine.Metadata;

/// <summary>
/// The cluster's metadata (cluster id, brokers, topics, partition assignments, configs) in a LiteDB
/// file, <c>metadata.db</c> in the data directory. Writes go through the controller; readers use
/// the controller's in-memory snapshot, never this store on a hot path.
/// </summary>
public sealed partial class MetadataStore : IDisposable
{
    public const string FileName = "metadata.db";

    private readonly LiteDatabase _db;
    private readonly ILiteCollection<ClusterRecord> _cluster;
    private readonly ILiteCollection<BrokerRecord> _brokers;
    private readonly ILiteCollection<TopicRecord> _topics;
    private readonly Lock _gate = new();

    public MetadataStore(string dataDirectory)
    {
        var mapper = new BsonMapper();
        mapper.Entity<TopicRecord>().Id(t => t.Id);
        mapper.Entity<BrokerRecord>().Id(b => b.Id, autoId: false);
        _db = new LiteDatabase(new ConnectionString
        {
            Filename = Path.Combine(dataDirectory, FileName),
            Connection = ConnectionType.Direct,
        }, mapper);
        _cluster = _db.GetCollection<ClusterRecord>("cluster");
        _brokers = _db.GetCollection<BrokerRecord>("brokers");
        _topics = _db.GetCollection<TopicRecord>("topics");
    }

    public ClusterRecord LoadOrCreateCluster()
    {
        lock (_gate)
        {
            var record = _cluster.FindById(1);
            if (record is not null) return record;
            record = new ClusterRecord { ClusterId = NewClusterId() };
            _cluster.Insert(record);
            return record;
        }
    }

    public void SaveCluster(ClusterRecord record)
    {
        lock (_gate) _cluster.Upsert(record);
    }

    public List<BrokerRecord> LoadBrokers()
    {
        lock (_gate) return _brokers.FindAll().OrderBy(b => b.Id).ToList();
    }

    public void SaveBroker(BrokerRecord broker)
    {
        lock (_gate) _brokers.Upsert(broker);
    }

    public List<TopicRecord> LoadTopics()
    {
        lock (_gate) return _topics.FindAll().ToList();
    }

    public void SaveTopic(TopicRecord topic)
    {
        topic.Id = topic.Name;
        lock (_gate) _topics.Upsert(topic);
    }

    public void SaveTopics(IEnumerable<TopicRecord> topics)
    {
        lock (_gate)
        {
            _db.BeginTrans();
            foreach (var t in topics)
            {
                t.Id = t.Name;
                _topics.Upsert(t);
            }
            _db.Commit();
        }
    }

    public void DeleteTopic(string name)
    {
        lock (_gate) _topics.Delete(name);
    }

    public void Checkpoint()
    {
        lock (_gate) _db.Checkpoint();
    }

    public void Dispose()
    {
        lock (_gate) _db.Dispose();
    }

    // Kafka cluster ids are 16 random bytes in URL-safe base64 without padding (22 characters).
    private static string NewClusterId() =>
        Convert.ToBase64String(Guid.NewGuid().ToByteArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
