using System.Text;
using System.Text.Json;
using PSKafka.Engine.Api;
using PSKafka.Engine.Partitioning;
using PSKafka.Engine.Storage;

namespace PSKafka.Tests.Interop;

/// <summary>kcat (librdkafka) against a 3-broker PSKafka cluster on ephemeral ports.</summary>
[Collection("Interop")]
public sealed class KcatTests : IDisposable
{
    private readonly WireCluster _c = new(brokers: 3);

    public void Dispose() => _c.Dispose();

    [Fact]
    public void Metadata_lists_brokers_topics_leaders_replicas_and_isr()
    {
        Tools.RequireKcat();
        _c.CreateTopic("orders", partitions: 4, replicationFactor: 2);
        var r = Tools.Kcat(_c.Bootstrap, ["-L", "-J"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        using var json = JsonDocument.Parse(r.Stdout);
        var root = json.RootElement;

        var brokers = root.GetProperty("brokers").EnumerateArray().Select(b => (b.GetProperty("id").GetInt32(), b.GetProperty("name").GetString())).OrderBy(b => b.Item1).ToList();
        Assert.Equal(_c.Cluster.Brokers.Select(b => (b.Id, (string?)b.Address)), brokers);
        Assert.Equal(_c.Cluster.ControllerId, root.GetProperty("controllerid").GetInt32());

        var topic = root.GetProperty("topics").EnumerateArray().Single(t => t.GetProperty("topic").GetString() == "orders");
        var expected = _c.Cluster.Controller.Describe(["orders"], false).Topics[0];
        var partitions = topic.GetProperty("partitions").EnumerateArray().OrderBy(p => p.GetProperty("partition").GetInt32()).ToList();
        Assert.Equal(4, partitions.Count);
        foreach (var (p, e) in partitions.Zip(expected.Partitions))
        {
            Assert.Equal(e.Leader, p.GetProperty("leader").GetInt32());
            Assert.Equal(e.Replicas, p.GetProperty("replicas").EnumerateArray().Select(x => x.GetProperty("id").GetInt32()));
            Assert.Equal(e.Isr, p.GetProperty("isrs").EnumerateArray().Select(x => x.GetProperty("id").GetInt32()));
            Assert.Equal(2, e.Replicas.Count);
        }
    }

    [Fact]
    public void Produces_a_file_of_lines_and_consumes_them_back()
    {
        Tools.RequireKcat();
        _c.CreateTopic("lines", partitions: 3);
        var lines = Enumerable.Range(0, 5000).Select(i => $"line {i:D5} " + new string('x', i % 50)).ToList();
        var file = Path.Combine(_c.DataDirectory, "lines.txt");
        File.WriteAllLines(file, lines);

        var p = Tools.Kcat(_c.Bootstrap, ["-P", "-t", "lines", "-l", file]);
        Assert.True(p.ExitCode == 0, p.ToString());
        var c = Tools.Kcat(_c.Bootstrap, ["-C", "-t", "lines", "-o", "beginning", "-e", "-f", "%p\t%o\t%s\n"]);
        Assert.True(c.ExitCode == 0, c.ToString());

        var got = c.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToList();
        Assert.Equal(lines.Order(StringComparer.Ordinal), got.Select(g => g[2]).Order(StringComparer.Ordinal));
        // Per partition, offsets are dense from 0 and the lines keep the order they were produced in.
        foreach (var partition in got.GroupBy(g => g[0]))
        {
            Assert.Equal(Enumerable.Range(0, partition.Count()).Select(i => (long)i), partition.Select(g => long.Parse(g[1])));
            var order = partition.Select(g => lines.IndexOf(g[2])).ToList();
            Assert.Equal(order.Order(), order);
        }
        Assert.All(_c.Cluster.Brokers, b => Assert.Equal(0, _c.Cluster.GetServer(b.Id)!.ProtocolHandler!.FailedRequests));
    }

    [Fact]
    public void Keyed_messages_land_on_the_partitions_of_Kafkas_partitioner()
    {
        Tools.RequireKcat();
        _c.CreateTopic("keyed", partitions: 6);
        var keys = Enumerable.Range(0, 200).Select(i => $"user-{i}").ToList();
        // kcat's librdkafka defaults to consistent_random (CRC32); murmur2_random is the Java client's partitioner,
        // the one Send-Message -Key uses, so that is the one to compare with.
        var p = Tools.Kcat(_c.Bootstrap, ["-P", "-t", "keyed", "-K:", "-X", "partitioner=murmur2_random"], string.Concat(keys.Select(k => $"{k}:v-{k}\n")));
        Assert.True(p.ExitCode == 0, p.ToString());

        foreach (var broker in _c.Cluster.Brokers)
            foreach (var replica in broker.Replicas.Where(r => r.IsLeader && r.TopicPartition.Topic == "keyed"))
            {
                var read = replica.Log.Read(0, int.MaxValue);
                foreach (var batch in RecordBatchReader.ReadAll(read.Records))
                    foreach (var record in batch.Records)
                        Assert.Equal(Partitioner.ForKey(record.Key.Span, 6), replica.TopicPartition.Partition);
            }
        long total = _c.Cluster.Brokers.SelectMany(b => b.Replicas).Where(r => r.IsLeader && r.TopicPartition.Topic == "keyed").Sum(r => r.HighWatermark);
        Assert.Equal(keys.Count, total);
    }

    [Fact]
    public void Headers_keys_and_timestamps_from_kcat_arrive_byte_for_byte()
    {
        Tools.RequireKcat();
        _c.CreateTopic("hdr", partitions: 1);
        var p = Tools.Kcat(_c.Bootstrap, ["-P", "-t", "hdr", "-K:", "-H", "trace=abc", "-H", "empty=", "-p", "0"], "k1:v1\nk2:héllo wörld\n");
        Assert.True(p.ExitCode == 0, p.ToString());
        var leader = _c.Cluster.Brokers.SelectMany(b => b.Replicas).Single(r => r.IsLeader && r.TopicPartition == new TopicPartition("hdr", 0));
        var records = RecordBatchReader.ReadAll(leader.Log.Read(0, int.MaxValue).Records).SelectMany(b => b.Records.ToList()).ToList();
        Assert.Equal(2, records.Count);
        Assert.Equal("k2", Encoding.UTF8.GetString(records[1].Key.Span));
        Assert.Equal("héllo wörld", Encoding.UTF8.GetString(records[1].Value.Span));
        var headers = records[0].GetHeaders();
        Assert.Equal(["trace", "empty"], headers.Select(h => h.Key));
        Assert.Equal("abc", Encoding.UTF8.GetString(headers[0].Value.Span));

        // And back out through kcat, with the timestamp the log holds.
        var c = Tools.Kcat(_c.Bootstrap, ["-C", "-t", "hdr", "-o", "beginning", "-e", "-f", "%k|%s|%T|%h\n"]);
        Assert.True(c.ExitCode == 0, c.ToString());
        var first = c.Stdout.Split('\n')[0].Split('|');
        Assert.Equal("k1", first[0]);
        Assert.Equal("v1", first[1]);
        Assert.Equal(records[0].Timestamp, long.Parse(first[2]));
        Assert.Equal("trace=abc,empty=", first[3]);
    }
}

internal static class RecordListExtensions
{
    public static List<PSKafka.Engine.Storage.Record> ToList(this RecordEnumerable records)
    {
        var list = new List<PSKafka.Engine.Storage.Record>();
        foreach (var r in records) list.Add(r);
        return list;
    }
}
