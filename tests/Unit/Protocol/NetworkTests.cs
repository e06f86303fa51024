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
        _server = new KafkaServer(new KafkaProtocolHandler(_api), new KafkaServerOptions { IdleTimeout = TimeSpan.FromSeconds(1) });
        _server.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    static async Task Eventually(Func<bool> condition, string what)
    {
        for (int i = 0; i < 200 && !condition(); i++) await Task.Delay(25);
        Assert.True(condition(), what);
    }

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
        await Eventually(() => _server.ConnectionCount == 1, "one connection");
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
        Assert.True(await c.IsClosedByServerAsync(TimeSpan.FromSeconds(5)));
        await Eventually(() => _server.ConnectionCount == 0, "connection released");
    }

    [Fact]
    public async Task Silent_and_half_sent_connections_are_closed_after_the_idle_timeout()
    {
        using var silent = await TestClient.ConnectAsync(_server.Port);
        using var half = await TestClient.ConnectAsync(_server.Port);
        await half.SendAsync(new byte[] { 0, 0, 0, 100, 0, 18 }); // promises 100 bytes, sends 2
        await Eventually(() => _server.ConnectionCount == 2, "both connected");
        Assert.True(await silent.IsClosedByServerAsync(TimeSpan.FromSeconds(5)));
        Assert.True(await half.IsClosedByServerAsync(TimeSpan.FromSeconds(5)));
        await Eventually(() => _server.ConnectionCount == 0, "connections released");
    }

    [Fact]
    public async Task Client_disconnecting_mid_frame_releases_the_connection()
    {
        var c = await TestClient.ConnectAsync(_server.Port);
        await c.SendAsync(new byte[] { 0, 0, 1, 0, 0, 3, 0 });
        await Eventually(() => _server.ConnectionCount == 1, "connected");
        c.Dispose();
        await Eventually(() => _server.ConnectionCount == 0, "released");
    }

    [Fact]
    public async Task Handler_exception_closes_only_that_connection()
    {
        _api.BeforeRespond = r => r is HeartbeatRequest ? throw new InvalidOperationException("boom") : Task.CompletedTask;
        using var bystander = await TestClient.ConnectAsync(_server.Port);
        using var victim = await TestClient.ConnectAsync(_server.Port);
        await victim.SendAsync(MessageFixtures.Framed(MessageFixtures.RequestPayload(new HeartbeatRequest(), 3, 1)));
        Assert.True(await victim.IsClosedByServerAsync(TimeSpan.FromSeconds(5)));
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
            Assert.True(await c.IsClosedByServerAsync(TimeSpan.FromSeconds(5)));
        }
        using var fresh = await TestClient.ConnectAsync(_server.Port);
        Assert.Equal(0, (await fresh.ApiVersionsAsync(3))!.ErrorCode);
    }

    [Fact]
    public async Task Stop_closes_listener_and_connections_promptly()
    {
        using var a = await TestClient.ConnectAsync(_server.Port);
        using var b = await TestClient.ConnectAsync(_server.Port);
        await Eventually(() => _server.ConnectionCount == 2, "connected");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        await _server.StopAsync();
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(2));
        Assert.True(await a.IsClosedByServerAsync(TimeSpan.FromSeconds(2)));
        Assert.True(await b.IsClosedByServerAsync(TimeSpan.FromSeconds(2)));
        Assert.Equal(0, _server.ConnectionCount);
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => TestClient.ConnectAsync(_server.Port));
    }
}
