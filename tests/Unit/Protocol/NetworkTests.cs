using System.Buffers.Binary;
using System.Net;
using PSKafka.Engine.Network;
using PSKafka.Engine.Protocol;
using PSKafka.Engine.Protocol.Messages;

namespace PSKafka.Tests.Protocol;

public sealed class NetworkTests : IAsyncLifetime
{
    readonly FakeKafkaApi _api = new();
    KafkaServer _server = null!;

    public Task InitializeAsync()
    {
        // Kafka's idle timeout (10 minutes) outlasts every wait here: a connection closed is the server's answer to
        // what was sent, never its idle timer, however slowly a loaded machine runs the test.
        _server = new KafkaServer(new KafkaProtocolHandler(_api), new KafkaServerOptions());
        _server.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public void Binds_an_ephemeral_loopback_port()
    {
        Assert.NotEqual(0, _server.Port);
        Assert.Equal(IPAddress.Loopback, _server.LocalEndPoint.Address);
    }

    [Fact]
    public async Task Answers_ApiVersions_over_tcp()
    {
        using var c = await TestClient.ConnectAsync(_server.Port);
        var response = await c.ApiVersionsAsync(11);
        Assert.Equal(0, response!.ErrorCode);
        Assert.Equal(ApiVersionTable.All.Count, response.ApiKeys.Count);
        await Patience.Until(() => _server.ConnectionCount == 1, "one connection");
    }

    [Fact]
    public async Task Pipelined_requests_are_answered_in_order()
    {
        // Earlier requests are slower, so any concurrency would reorder the answers.
        _api.BeforeRespond = r => Task.Delay(r is MetadataRequest { Topics: [{ Name: var n }] } ? 50 - int.Parse(n!) * 10 : 0);
        using var c = await TestClient.ConnectAsync(_server.Port);
        var frames = Enumerable.Range(0, 5)
            .SelectMany(i => MessageFixtures.Framed(MessageFixtures.RequestPayload(new MetadataRequest { Topics = [new() { Name = $"{i}" }] }, 4, 100 + i)))
            .ToArray();
        await c.SendAsync(frames);
        for (int i = 0; i < 5; i++)
            Assert.Equal(100 + i, BinaryPrimitives.ReadInt32BigEndian(await c.ReadFrameAsync()));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    [InlineData(104_857_600 + 1)] // one past socket.request.max.bytes' default
    [InlineData(int.MaxValue)]
    public async Task Bad_size_prefix_closes_the_connection(int size)
    {
        using var c = await TestClient.ConnectAsync(_server.Port);
        var prefix = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(prefix, size);
        await c.SendAsync(prefix);
        Assert.True(await c.IsClosedByServerAsync(Patience.Deadline));
        await Patience.Until(() => _server.ConnectionCount == 0, "connection released");
    }

    [Fact]
    public async Task Silent_and_half_sent_connections_are_closed_after_the_idle_timeout()
    {
        await using var server = new KafkaServer(new KafkaProtocolHandler(_api), new KafkaServerOptions { IdleTimeout = TimeSpan.FromSeconds(1) });
        server.Start();
        using var silent = await TestClient.ConnectAsync(server.Port);
        using var half = await TestClient.ConnectAsync(server.Port);
        await half.SendAsync(new byte[] { 0, 0, 0, 100, 0, 18 }); // promises 100 bytes, sends 2
        await Patience.Until(() => server.ConnectionCount == 2, "both connected");
        Assert.True(await silent.IsClosedByServerAsync(Patience.Deadline));
        Assert.True(await half.IsClosedByServerAsync(Patience.Deadline));
        await Patience.Until(() => server.ConnectionCount == 0, "connections released");
    }

    [Fact]
    public async Task Client_disconnecting_mid_frame_releases_the_connection()
    {
        var c = await TestClient.ConnectAsync(_server.Port);
        await c.SendAsync(new byte[] { 0, 0, 1, 0, 0, 3, 0 });
        await Patience.Until(() => _server.ConnectionCount == 1, "connected");
        c.Dispose();
        await Patience.Until(() => _server.ConnectionCount == 0, "released");
    }

    [Fact]
    public async Task Handler_exception_closes_only_that_connection()
    {
        _api.BeforeRespond = r => r is HeartbeatRequest ? throw new InvalidOperationException("boom") : Task.CompletedTask;
        using var bystander = await TestClient.ConnectAsync(_server.Port);
        using var victim = await TestClient.ConnectAsync(_server.Port);
        await victim.SendAsync(MessageFixtures.Framed(MessageFixtures.RequestPayload(new HeartbeatRequest(), 3, 1)));
        Assert.True(await victim.IsClosedByServerAsync(Patience.Deadline));
        Assert.Equal(0, (await bystander.ApiVersionsAsync(2))!.ErrorCode);
    }

    [Fact]
    public async Task Garbage_truncated_headers_and_huge_counts_close_without_harm()
    {
        byte[][] payloads =
        [
            [0xDE, 0xAD, 0xBE, 0xEF, 0, 1, 2, 3, 4, 5],                         // unknown api key
            [0, 3, 0],                                                     // truncated header
            [0, 3, 0, 1, 0, 0, 0, 1, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF],  // Metadata v1 claiming 2^31-1 topics
            [0, 3, 0, 1, 0, 0, 0, 1, 0x7F, 0xFF, (byte)'a'],               // client id longer than the frame
            [0, 3, 0, 99, 0, 0, 0, 1, 0, 0],                               // unsupported version
        ];
        foreach (var p in payloads)
        {
            using var c = await TestClient.ConnectAsync(_server.Port);
            await c.SendAsync(MessageFixtures.Framed(p));
            Assert.True(await c.IsClosedByServerAsync(Patience.Deadline));
        }
        using var fresh = await TestClient.ConnectAsync(_server.Port);
        Assert.Equal(0, (await fresh.ApiVersionsAsync(3))!.ErrorCode);
    }

    [Fact]
    public async Task Stop_closes_listener_and_connections_promptly()
    {
        using var a = await TestClient.ConnectAsync(_server.Port);
        using var b = await TestClient.ConnectAsync(_server.Port);
        await Patience.Until(() => _server.ConnectionCount == 2, "connected");
        // Stop closes the connections itself: the clients stay connected and the idle timeout is 10 minutes.
        await _server.StopAsync().WaitAsync(Patience.Deadline);
        Assert.True(await a.IsClosedByServerAsync(Patience.Deadline));
        Assert.True(await b.IsClosedByServerAsync(Patience.Deadline));
        Assert.Equal(0, _server.ConnectionCount);
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => TestClient.ConnectAsync(_server.Port));
    }
}
