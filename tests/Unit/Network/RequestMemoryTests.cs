using System.Buffers.Binary;
using PSKafka.Engine.Network;
using PSKafka.Tests.Protocol;

namespace PSKafka.Tests.Network;

/// <summary>queued.max.request.bytes: request frames a listener holds at once are bounded in bytes; the rest wait in their sockets.</summary>
public sealed class RequestMemoryTests
{
    /// <summary>Answers each frame with its first four bytes, after the test opens the gate.</summary>
    sealed class GatedHandler : IRequestHandler
    {
        public readonly SemaphoreSlim Gate = new(0);
        public int Entered;

        public async ValueTask<ResponseBody?> HandleAsync(ReadOnlyMemory<byte> request, ConnectionContext connection, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Entered);
            await Gate.WaitAsync(cancellationToken);
            return ResponseBody.FromPayload(request.Span[..4]);
        }
    }

    static byte[] Frame(int size, int tag)
    {
        var frame = new byte[size + 4];
        BinaryPrimitives.WriteInt32BigEndian(frame, size);
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(4), tag);
        return frame;
    }

    [Fact]
    public async Task A_frame_that_does_not_fit_waits_until_earlier_requests_release_their_bytes()
    {
        var handler = new GatedHandler();
        await using var server = new KafkaServer(handler, new KafkaServerOptions { QueuedMaxRequestBytes = 100_000 });
        server.Start();
        using var first = await TestClient.ConnectAsync(server.Port);
        using var second = await TestClient.ConnectAsync(server.Port);
        using var small = await TestClient.ConnectAsync(server.Port);

        await first.SendAsync(Frame(80_000, 1));
        await Patience.Until(() => handler.Entered == 1 && server.RequestMemory!.Used == 80_000, "the first request is being handled");
        await second.SendAsync(Frame(80_000, 2));
        // A small request still fits beside the first: the bound is in bytes, not requests.
        await small.SendAsync(Frame(10_000, 3));
        await Patience.Until(() => handler.Entered == 2 && server.RequestMemory!.Used == 90_000, "the small request is being handled");
        await Task.Delay(300);
        Assert.Equal(2, handler.Entered); // the second large frame is still in its socket

        handler.Gate.Release(3);
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian((await first.ReadFrameAsync())!));
        Assert.Equal(3, BinaryPrimitives.ReadInt32BigEndian((await small.ReadFrameAsync())!));
        Assert.Equal(2, BinaryPrimitives.ReadInt32BigEndian((await second.ReadFrameAsync())!));
        await Patience.Until(() => server.RequestMemory!.Used == 0, "every request's bytes released");
        Assert.Equal(3, handler.Entered);
    }

    [Fact]
    public async Task A_frame_larger_than_the_whole_budget_closes_its_connection_only()
    {
        var handler = new GatedHandler();
        handler.Gate.Release(100);
        await using var server = new KafkaServer(handler, new KafkaServerOptions { QueuedMaxRequestBytes = 50_000 });
        server.Start();
        using var bystander = await TestClient.ConnectAsync(server.Port);
        using var greedy = await TestClient.ConnectAsync(server.Port);
        await greedy.SendAsync(Frame(60_000, 1)[..1000]);
        Assert.True(await greedy.IsClosedByServerAsync(Patience.Deadline));
        await bystander.SendAsync(Frame(40_000, 7));
        Assert.Equal(7, BinaryPrimitives.ReadInt32BigEndian((await bystander.ReadFrameAsync())!));
        Assert.Equal(0, server.RequestMemory!.Used);
    }

    [Fact]
    public async Task A_budget_waits_for_room_and_gives_up_at_its_deadline()
    {
        var budget = new RequestMemoryBudget(100);
        Assert.True(budget.TryAcquire(60, Environment.TickCount64 + 1000, CancellationToken.None));
        Assert.False(budget.TryAcquire(60, Environment.TickCount64 + 50, CancellationToken.None));
        var waiting = Task.Run(() => budget.TryAcquire(60, Environment.TickCount64 + 60_000, CancellationToken.None));
        budget.Release(60);
        Assert.True(await waiting.WaitAsync(Patience.Deadline));
        Assert.Equal(60, budget.Used);
        Assert.Throws<ArgumentOutOfRangeException>(() => budget.TryAcquire(101, Environment.TickCount64 + 1000, CancellationToken.None));
        using var stopped = new CancellationTokenSource();
        stopped.Cancel();
        Assert.False(budget.TryAcquire(60, Environment.TickCount64 + 60_000, stopped.Token));
    }
}
