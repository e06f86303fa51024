using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Protocol;
using PSKafka.Engine.Storage;
using PSKafka.Tests.Protocol;
using Messages = PSKafka.Engine.Protocol.Messages;

namespace PSKafka.Tests.Interop;

/// <summary>The broker's listener and the engine behaviour behind the wire APIs, without an outside client.</summary>
[Collection("Interop")]
public sealed class BrokerWireTests
{
    [Fact]
    public void A_taken_port_fails_with_PortInUse_and_the_broker_is_not_registered()
    {
        using var blocker = new TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        int taken = ((IPEndPoint)blocker.LocalEndpoint).Port;
        using var c = new WireCluster(brokers: 1);
        var e = Assert.Throws<PortInUseException>(() => c.Cluster.StartBroker(port: taken));
        Assert.Equal(taken, e.Port);
        Assert.Contains(taken.ToString(), e.Message);
        Assert.Single(c.Cluster.Brokers); // no half-started second broker
        Assert.Single(c.Cluster.RegisteredBrokerIds());
    }

    [Fact]
    public void Port_0_becomes_a_real_port_that_is_kept_advertised_and_closed_on_stop()
    {
        using var c = new WireCluster(brokers: 2);
        var b = c.Cluster.Brokers[1];
        Assert.NotEqual(0, b.Port);
        Assert.Equal(b.Port, c.Cluster.GetServer(b.Id)!.Listener!.Port);
        Assert.Equal($"localhost:{b.Port}", b.Address);
        Assert.Contains(c.Cluster.Controller.Describe(null, false).Brokers, m => m.Id == b.Id && m.Port == b.Port && m.Host == "localhost");

        c.Cluster.StopBroker(b.Id);
        Assert.Null(c.Cluster.GetServer(b.Id)!.Listener);
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            Assert.Throws<SocketException>(() => probe.Connect(IPAddress.Loopback, b.Port));
        c.Cluster.StartBroker(b.Id); // the kept port, free again
        Assert.Equal(b.Port, c.Cluster.GetServer(b.Id)!.Listener!.Port);
        c.Cluster.StopBroker(b.Id, kill: true);
        Assert.Null(c.Cluster.GetServer(b.Id)!.Listener);
    }

    /// <summary>
    /// The first of <paramref name="count"/> consecutive ports that are free now (probed by binding each): tests that
    /// need known port numbers never assume a fixed port is free.
    /// </summary>
    internal static int FreePortRange(int count)
    {
        for (int attempt = 0; attempt < 200; attempt++)
        {
            int first;
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                first = ((IPEndPoint)probe.LocalEndpoint).Port;
            }
            if (first + count > 65535) continue;
            var held = new List<TcpListener>();
            try
            {
                for (int p = first; p < first + count; p++)
                {
                    var l = new TcpListener(IPAddress.Loopback, p);
                    l.Start();
                    held.Add(l);
                }
                return first;
            }
            catch (SocketException) { }
            finally
            {
                foreach (var l in held) l.Stop();
            }
        }
        throw new InvalidOperationException($"No {count} consecutive free ports found.");
    }

    [Fact]
    public void New_brokers_take_the_first_port_plus_their_id()
    {
        int first = FreePortRange(3);
        var dir = Path.Combine(Path.GetTempPath(), "pskafka-ports-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var cluster = KafkaCluster.Open(dir);
            for (int i = 0; i < 3; i++) cluster.StartBroker(firstPort: first);
            Assert.Equal([first, first + 1, first + 2], cluster.Brokers.Select(b => b.Port));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void A_first_port_of_0_gives_every_new_broker_a_free_port()
    {
        var dir = Path.Combine(Path.GetTempPath(), "pskafka-ports-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var cluster = KafkaCluster.Open(dir);
            for (int i = 0; i < 3; i++) cluster.StartBroker(firstPort: 0);
            Assert.All(cluster.Brokers, b => Assert.NotEqual(0, b.Port));
            Assert.Equal(3, cluster.Brokers.Select(b => b.Port).Distinct().Count());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void A_stopped_or_crashed_broker_comes_back_on_its_own_port_not_the_first_port_plus_its_id()
    {
        // Broker 0 on the first port; brokers 1 and 2 given ports of their own further on (Start-Broker -Count 2 -Port p).
        int first = FreePortRange(6);
        var dir = Path.Combine(Path.GetTempPath(), "pskafka-ports-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var cluster = KafkaCluster.Open(dir))
            {
                cluster.StartBroker(firstPort: first);
                cluster.StartBroker(port: first + 4, firstPort: first);
                cluster.StartBroker(port: first + 5, firstPort: first);
                cluster.StopBroker(1, kill: true);
                var b1 = cluster.StartBroker(1, firstPort: first);
                Assert.Equal(first + 4, b1.Port);
                cluster.StopBroker(2);
                Assert.Equal(first + 5, cluster.StartBroker(2, firstPort: first).Port);
                Assert.Equal([first, first + 4, first + 5], cluster.Controller.Describe(null, false).Brokers.Select(b => b.Port).Order());

                // A restart that cannot bind (its port taken meanwhile, or another port asked for and taken) fails and
                // leaves the broker's address where it was: nothing is advertised at a port it never had.
                cluster.StopBroker(1, kill: true);
                using (var blocker = new TcpListener(IPAddress.Loopback, first + 4))
                {
                    blocker.Start();
                    Assert.Throws<PortInUseException>(() => cluster.StartBroker(1, firstPort: first));
                    Assert.Equal(first + 4, b1.Port);
                    Assert.Throws<PortInUseException>(() => cluster.StartBroker(1, port: first + 4));
                    Assert.Equal($"localhost:{first + 4}", b1.Address);
                }
                Assert.Equal(first + 4, cluster.StartBroker(1).Port);
            }
            // And when the cluster opens again (a new session), each broker is registered at its own port.
            using (var again = KafkaCluster.Open(dir))
                Assert.Equal([first, first + 4, first + 5], again.Brokers.Select(b => b.Port));
        }
        finally { Directory.Delete(dir, true); }
    }

    private static Memory<byte> IdempotentBatch(long producerId, short epoch, int baseSequence, int records)
    {
        using var builder = new RecordBatchBuilder { ProducerId = producerId, ProducerEpoch = epoch, BaseSequence = baseSequence };
        for (int i = 0; i < records; i++) builder.Append(1_000 + i, null, [(byte)i]);
        return builder.ToArray();
    }

    private static ProducePartitionResult Produce(Broker leader, Memory<byte> batch) =>
        leader.ProduceAsync(new ProduceParams { Acks = Acks.All, Partitions = [new ProducePartitionParams("idem", 0, batch.ToArray())] }).AsTask().Result[0];

    [Fact]
    public void A_retried_idempotent_batch_is_written_once_and_a_sequence_gap_is_refused_also_after_a_restart()
    {
        using var c = new WireCluster(brokers: 1);
        c.CreateTopic("idem", partitions: 1);
        var leader = c.Cluster.Brokers[0];

        Assert.Equal(0, Produce(leader, IdempotentBatch(42, 0, 0, 3)).BaseOffset);
        Assert.Equal(3, Produce(leader, IdempotentBatch(42, 0, 3, 2)).BaseOffset);
        var retry = Produce(leader, IdempotentBatch(42, 0, 0, 3)); // the first batch again: its original offset, nothing written
        Assert.Equal(ErrorCode.None, retry.Error);
        Assert.Equal(0, retry.BaseOffset);
        Assert.Equal(5, leader.GetReplica(new TopicPartition("idem", 0))!.LogEndOffset);

        var gap = Produce(leader, IdempotentBatch(42, 0, 9, 1));
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, gap.Error);
        Assert.Contains("9 (incoming seq. number), 4 (current end sequence number)", gap.ErrorMessage);
        // The state comes back from the log's batches after a restart.
        c.Cluster.StopBroker(0);
        c.Cluster.StartBroker(0);
        leader = c.Cluster.Brokers[0];
        var afterRestart = Produce(leader, IdempotentBatch(42, 0, 3, 2));
        Assert.Equal(3, afterRestart.BaseOffset);
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, Produce(leader, IdempotentBatch(42, 0, 7, 1)).Error);
        // A new epoch starts again at sequence 0; an older epoch is fenced.
        Assert.Equal(ErrorCode.None, Produce(leader, IdempotentBatch(42, 1, 0, 1)).Error);
        Assert.Equal(ErrorCode.InvalidProducerEpoch, Produce(leader, IdempotentBatch(42, 0, 6, 1)).Error);
        Assert.Equal(ErrorCode.OutOfOrderSequenceNumber, Produce(leader, IdempotentBatch(42, 2, 5, 1)).Error);
    }

    [Fact]
    public async Task A_Metadata_request_claiming_int_MaxValue_topics_is_refused_and_the_broker_keeps_serving()
    {
        using var c = new WireCluster(brokers: 1);
        c.CreateTopic("still-here", 1);
        int port = c.Cluster.Brokers[0].Port;

        // Metadata v1 header, then a topic array count of 2^31-1 with no topics behind it.
        var payload = new byte[4 + 2 + 2 + 4 + 2 + 4];
        var s = payload.AsSpan();
        BinaryPrimitives.WriteInt16BigEndian(s, 3);            // api key: Metadata
        BinaryPrimitives.WriteInt16BigEndian(s[2..], 1);       // version 1
        BinaryPrimitives.WriteInt32BigEndian(s[4..], 7);       // correlation id
        BinaryPrimitives.WriteInt16BigEndian(s[8..], -1);      // client id: null
        BinaryPrimitives.WriteInt32BigEndian(s[10..], int.MaxValue);
        using (var evil = await TestClient.ConnectAsync(port))
        {
            await evil.SendAsync(MessageFixtures.Framed(payload[..14]));
            Assert.True(await evil.IsClosedByServerAsync(Patience.Deadline));
        }

        using var good = await TestClient.ConnectAsync(port);
        await good.SendAsync(MessageFixtures.Framed(MessageFixtures.RequestPayload(new Messages.MetadataRequest { Topics = null }, 12, 8)));
        var frame = await good.ReadFrameAsync();
        Assert.NotNull(frame);
        var r = new ProtocolReader(frame!);
        Assert.Equal(8, Messages.ResponseHeader.Read(ref r, 1).CorrelationId);
        var metadata = Messages.MetadataResponse.Read(ref r, 12);
        Assert.Equal("still-here", Assert.Single(metadata.Topics).Name);
        Assert.Equal(c.Cluster.ClusterId, metadata.ClusterId);
    }

    [Fact]
    public async Task Huge_partition_counts_are_refused_with_a_clear_error()
    {
        using var c = new WireCluster(brokers: 1);
        using var client = await TestClient.ConnectAsync(c.Cluster.Brokers[0].Port);
        var create = new Messages.CreateTopicsRequest
        {
            Topics = [new Messages.CreateTopicsRequest.CreatableTopic { Name = "huge", NumPartitions = int.MaxValue, ReplicationFactor = 1 }],
        };
        await client.SendAsync(MessageFixtures.Framed(MessageFixtures.RequestPayload(create, 7, 1)));
        var frame = await client.ReadFrameAsync();
        var r = new ProtocolReader(frame!);
        Messages.ResponseHeader.Read(ref r, 1);
        var result = Assert.Single(Messages.CreateTopicsResponse.Read(ref r, 7).Topics);
        Assert.Equal((short)ErrorCode.InvalidPartitions, result.ErrorCode);
        Assert.Contains("10000", result.ErrorMessage);
        Assert.False(c.Cluster.Controller.TopicExists("huge"));
    }
}
