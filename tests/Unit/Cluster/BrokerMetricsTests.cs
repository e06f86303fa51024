using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Storage;

namespace PSKafka.Tests.Cluster;

/// <summary>The byte totals behind BytesInPerSec / BytesOutPerSec: produced and consumer-fetched record bytes only.</summary>
public sealed class BrokerMetricsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pskafka-metrics-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        KafkaCluster.Find(_dir)?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task CountsProducedAndConsumerFetchedBytesButNotFailuresOrReplication()
    {
        var broker = KafkaCluster.Open(_dir).StartBroker(port: 0);
        Assert.Equal(ErrorCode.None, broker.CreateTopics([new CreateTopicParams("t", 1)])[0].Error);
        using var builder = new RecordBatchBuilder();
        builder.Append(1_700_000_000_000, null, new byte[100]);
        byte[] batch = builder.Build().ToArray();

        await broker.ProduceAsync(new ProduceParams { Partitions = [new("t", 0, batch.ToArray())] });
        Assert.Equal(batch.Length, broker.BytesInTotal);
        var failed = await broker.ProduceAsync(new ProduceParams { Partitions = [new("missing", 0, batch.ToArray())] });
        Assert.NotEqual(ErrorCode.None, failed[0].Error);
        Assert.Equal(batch.Length, broker.BytesInTotal);

        var fetched = await broker.FetchAsync(new FetchParams { MaxWaitMs = 0, Partitions = [new("t", 0, 0)] });
        Assert.Equal(fetched[0].Records.Length, broker.BytesOutTotal);
        Assert.Equal(batch.Length, broker.BytesOutTotal);
        await broker.FetchAsync(new FetchParams { ReplicaId = 7, MaxWaitMs = 0, Partitions = [new("t", 0, 0)] });
        Assert.Equal(batch.Length, broker.BytesOutTotal);
    }
}
