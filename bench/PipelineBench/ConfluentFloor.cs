using System.Diagnostics;
using Confluent.Kafka;

namespace PSKafka.PipelineBench;

/// <summary>
/// The floor of the remote path: Confluent.Kafka's own Produce loop in C#, no PowerShell, the same settings
/// the remote Send-Message uses (murmur2 partitioner, acks=all, a delivery handler per record so failures are
/// seen). Whatever Send-Message costs above this is ours; this much is the client's.
/// </summary>
public static class ConfluentFloor
{
    public static double Produce(string bootstrapServers, string topic, int count, int valueBytes)
    {
        var config = new Dictionary<string, string>
        {
            ["bootstrap.servers"] = bootstrapServers,
            ["partitioner"] = "murmur2_random",
            ["acks"] = "all",
            ["dotnet.producer.delivery.report.fields"] = "key,timestamp",
        };
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(config).Build();
        var value = new byte[valueBytes];
        long failed = 0;
        Action<DeliveryReport<byte[]?, byte[]?>> onDelivery = r => { if (r.Error.IsError) Interlocked.Increment(ref failed); };
        var target = new TopicPartition(topic, Partition.Any);
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            var message = new Message<byte[]?, byte[]?> { Value = value, Timestamp = new Timestamp(DateTime.UtcNow) };
            while (true)
            {
                try
                {
                    producer.Produce(target, message, onDelivery);
                    break;
                }
                catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(100));
                }
            }
        }
        if (producer.Flush(TimeSpan.FromSeconds(60)) > 0 || failed > 0) throw new InvalidOperationException($"{failed} records failed.");
        return sw.Elapsed.TotalSeconds;
    }
}
