using System.Text;
using Confluent.Kafka;

namespace PSKafka.Tests.Interop;

/// <summary>kafka-python (a pure-Python client written against Apache Kafka) against a 3-broker PSKafka cluster.</summary>
[Collection("Interop")]
public sealed class KafkaPythonTests : IDisposable
{
    private readonly WireCluster _c = new(brokers: 3);

    public void Dispose() => _c.Dispose();

    private const string Prelude = """
        import sys, json
        from kafka import KafkaProducer, KafkaConsumer, KafkaAdminClient, TopicPartition
        from kafka.admin import NewTopic
        boot = sys.argv[1].split(',')

        """;

    private Tools.Result Python(string body)
    {
        var r = Tools.Python(Prelude + body, [_c.Bootstrap]);
        Assert.True(r.ExitCode == 0, r.ToString());
        return r;
    }

    [Fact]
    public void Admin_creates_a_topic_the_producer_writes_and_an_assigned_consumer_seeks_and_reads()
    {
        Tools.RequireKafkaPython();
        var r = Python("""
            admin = KafkaAdminClient(bootstrap_servers=boot)
            admin.create_topics([NewTopic(name='py', num_partitions=2, replication_factor=2)])
            admin.close()
            p = KafkaProducer(bootstrap_servers=boot, acks='all')
            for i in range(100):
                p.send('py', key=b'k%d' % (i % 7), value=b'value %d' % i, headers=[('h', b'%d' % i)], timestamp_ms=1700000000000 + i, partition=i % 2)
            p.flush()
            p.close()
            c = KafkaConsumer(bootstrap_servers=boot, enable_auto_commit=False, consumer_timeout_ms=5000)
            tp = TopicPartition('py', 1)
            c.assign([tp])
            c.seek(tp, 10)
            got = [m for m in c]
            c.close()
            print(json.dumps([[m.offset, m.key.decode(), m.value.decode(), m.timestamp, [[k, v.decode()] for k, v in m.headers]] for m in got]))
            """);
        var topic = _c.Cluster.Controller.Describe(["py"], false).Topics[0];
        Assert.Equal(2, topic.Partitions.Count);
        Assert.All(topic.Partitions, p => Assert.Equal(2, p.Replicas.Count));

        var got = System.Text.Json.JsonDocument.Parse(r.Stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal(40, got.Count); // partition 1 holds the 50 odd messages; reading from offset 10
        for (int j = 0; j < got.Count; j++)
        {
            int i = 2 * (10 + j) + 1;
            Assert.Equal(10 + j, got[j][0].GetInt64());
            Assert.Equal($"k{i % 7}", got[j][1].GetString());
            Assert.Equal($"value {i}", got[j][2].GetString());
            Assert.Equal(1_700_000_000_000 + i, got[j][3].GetInt64());
            Assert.Equal($"{i}", got[j][4][0][1].GetString());
        }
    }

    [Fact]
    public async Task Messages_cross_between_kafka_python_kcat_and_Confluent_byte_for_byte()
    {
        Tools.RequireKafkaPython();
        Tools.RequireKcat();
        _c.CreateTopic("cross", partitions: 1);

        // kafka-python writes; Confluent and kcat read.
        Python("""
            p = KafkaProducer(bootstrap_servers=boot)
            p.send('cross', key=b'from-python', value=bytes(range(256)), headers=[('src', b'py')], timestamp_ms=1700000000123)
            p.flush()
            """);
        // Confluent writes; kafka-python reads.
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = _c.Bootstrap }).Build())
            await producer.ProduceAsync("cross", new Message<string, byte[]>
            {
                Key = "from-dotnet",
                Value = [0, 1, 2, 255, 254],
                Timestamp = new Timestamp(1_700_000_000_456, TimestampType.CreateTime),
                Headers = new Headers { { "src", "dotnet"u8.ToArray() } },
            });

        using (var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig { BootstrapServers = _c.Bootstrap, GroupId = "assign-only", EnableAutoCommit = false }).Build())
        {
            consumer.Assign(new TopicPartitionOffset("cross", 0, 0));
            var first = consumer.Consume(Patience.Deadline)!;
            Assert.Equal("from-python", first.Message.Key);
            Assert.Equal(Enumerable.Range(0, 256).Select(i => (byte)i), first.Message.Value);
            Assert.Equal(1_700_000_000_123, first.Message.Timestamp.UnixTimestampMs);
            Assert.Equal("py", Encoding.UTF8.GetString(first.Message.Headers.GetLastBytes("src")));
        }

        var r = Python("""
            c = KafkaConsumer(bootstrap_servers=boot, enable_auto_commit=False, consumer_timeout_ms=5000)
            tp = TopicPartition('cross', 0)
            c.assign([tp])
            c.seek_to_beginning(tp)
            print(json.dumps([[m.offset, m.key.decode(), list(m.value), m.timestamp, [[k, v.decode()] for k, v in m.headers]] for m in c]))
            """);
        var got = System.Text.Json.JsonDocument.Parse(r.Stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal(2, got.Count);
        Assert.Equal("from-dotnet", got[1][1].GetString());
        Assert.Equal([0, 1, 2, 255, 254], got[1][2].EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(1_700_000_000_456, got[1][3].GetInt64());
        Assert.Equal("dotnet", got[1][4][0][1].GetString());

        // And a third client, kcat, reads both.
        var k = Tools.Kcat(_c.Bootstrap, ["-C", "-t", "cross", "-o", "beginning", "-e", "-f", "%k|%T|%h\n"]);
        Assert.True(k.ExitCode == 0, k.ToString());
        Assert.Equal(["from-python|1700000000123|src=py", "from-dotnet|1700000000456|src=dotnet"], k.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
