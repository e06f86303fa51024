using CK = Confluent.Kafka;

namespace PSKafka.Client;

/// <summary>
/// librdkafka's own mock Kafka cluster (test.mock.num.brokers): brokers on real localhost sockets,
/// a Kafka that no one here wrote, for tests and benchmarks of the remote path. It lives as long as
/// this object: any client, in this process or another (kcat), reaches it at <see cref="BootstrapServers"/>.
/// It speaks Produce, Fetch, ListOffsets, Metadata and the group/offset APIs; topics are created
/// automatically (4 partitions) on first use, since it has no CreateTopics.
/// </summary>
public sealed class LibrdkafkaMockCluster : IDisposable
{
    private readonly CK.IProducer<byte[], byte[]> _owner;

    public LibrdkafkaMockCluster(int brokers = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        RemoteNative.EnsureLoaded();
        _owner = new CK.ProducerBuilder<byte[], byte[]>(new Dictionary<string, string>
        {
            ["test.mock.num.brokers"] = brokers.ToString(System.Globalization.CultureInfo.InvariantCulture),
        })
            .SetLogHandler((_, _) => { })
            .SetErrorHandler((_, _) => { })
            .Build();
        // librdkafka does not export the mock's address to .NET: its own client learns it from metadata.
        using var admin = new CK.DependentAdminClientBuilder(_owner.Handle).Build();
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        BootstrapServers = string.Join(',', metadata.Brokers.OrderBy(b => b.BrokerId).Select(b => $"{b.Host}:{b.Port}"));
        Brokers = metadata.Brokers.Count;
    }

    public string BootstrapServers { get; }
    public int Brokers { get; }

    public void Dispose() => _owner.Dispose();
}
