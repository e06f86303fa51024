using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using PSKafka.Engine.Protocol;
using PSKafka.Engine.Protocol.Messages;

namespace PSKafka.Tests.Protocol;

/// <summary>A raw TCP client speaking size-prefixed frames, for poking the server.</summary>
internal sealed class TestClient : IDisposable
{
    readonly Socket _socket;

    TestClient(Socket socket) => _socket = socket;

    public static async Task<TestClient> ConnectAsync(int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        s.LingerState = new LingerOption(true, 0); // reset on close: no TIME_WAIT build-up across thousands of connections
        await s.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return new TestClient(s);
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        while (!bytes.IsEmpty) bytes = bytes[await _socket.SendAsync(bytes, SocketFlags.None)..];
    }

    /// <summary>Next response payload, or null when the server closed the connection.</summary>
    public async Task<byte[]?> ReadFrameAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Patience.Deadline);
        try
        {
            var size = new byte[4];
            if (!await ReadExactly(size, cts.Token)) return null;
            var payload = new byte[BinaryPrimitives.ReadInt32BigEndian(size)];
            return await ReadExactly(payload, cts.Token) ? payload : null;
        }
        catch (SocketException) { return null; }
    }

    async Task<bool> ReadExactly(Memory<byte> buffer, CancellationToken ct)
    {
        while (!buffer.IsEmpty)
        {
            int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, ct);
            if (n == 0) return false;
            buffer = buffer[n..];
        }
        return true;
    }

    /// <summary>True when the server closes the connection within the timeout.</summary>
    public async Task<bool> IsClosedByServerAsync(TimeSpan timeout)
    {
        try { return await ReadFrameAsync(timeout) is null; }
        catch (OperationCanceledException) { return false; }
    }

    public async Task<ApiVersionsResponse?> ApiVersionsAsync(int correlationId)
    {
        await SendAsync(MessageFixtures.Framed(MessageFixtures.RequestPayload(new ApiVersionsRequest { ClientSoftwareName = "t", ClientSoftwareVersion = "1" }, 3, correlationId)));
        var payload = await ReadFrameAsync();
        if (payload is null) return null;
        var r = new ProtocolReader(payload);
        Assert.Equal(correlationId, ResponseHeader.Read(ref r, 0).CorrelationId);
        return ApiVersionsResponse.Read(ref r, 3);
    }

    public void Dispose() => _socket.Dispose();
}
