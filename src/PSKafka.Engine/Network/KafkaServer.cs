using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace PSKafka.Engine.Network;

/// <summary>
/// One broker's listener: accepts TCP connections, splits the byte stream into size-prefixed frames and
/// hands each to the <see cref="IRequestHandler"/>. A connection handles one request at a time, so
/// responses go out in request order and pipelined requests wait in the socket (Kafka mutes the channel likewise).
/// </summary>
public sealed class KafkaServer : IAsyncDisposable
{
    // Frame buffers up to this size come from the shared pool (a producer's 1 MB batches land in 2 MB arrays);
    // bigger ones are allocated. Either way a buffer only grows with bytes that have actually arrived.
    const int InitialChunk = 64 * 1024;
    const int PooledLimit = 8 * 1024 * 1024;

    readonly IRequestHandler _handler;
    readonly KafkaServerOptions _options;
    readonly CancellationTokenSource _stop = new();
    readonly ConcurrentDictionary<long, Socket> _connections = new();
    Socket? _listener;
    IPEndPoint? _boundEndPoint;
    Task? _acceptLoop;
    long _nextConnectionId;
    long _framesReceived;

    public KafkaServer(IRequestHandler handler, KafkaServerOptions? options = null)
    {
        _handler = handler;
        _options = options ?? new KafkaServerOptions();
    }

    public IPEndPoint LocalEndPoint => _boundEndPoint ?? throw new InvalidOperationException("not started");

    /// <summary>The bound port (the real one when the options asked for port 0).</summary>
    public int Port => LocalEndPoint.Port;

    /// <summary>Open connections right now.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Frames whose size prefix was read (including rejected ones); for tests and diagnostics.</summary>
    public long FramesReceived => Interlocked.Read(ref _framesReceived);

    public void Start()
    {
        if (_listener is not null) throw new InvalidOperationException("already started");
        var listener = new Socket(_options.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(_options.EndPoint);
            listener.Listen(_options.Backlog);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        _listener = listener;
        _boundEndPoint = (IPEndPoint)listener.LocalEndPoint!;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    async Task AcceptLoopAsync()
    {
        var listener = _listener!;
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue; // a client that reset before we accepted it; keep listening
            }
            socket.NoDelay = true;
            long id = Interlocked.Increment(ref _nextConnectionId);
            _connections[id] = socket;
            if (_stop.IsCancellationRequested) { Close(id, socket, abort: true); return; }
            _ = Task.Run(() => ServeAsync(id, socket));
        }
    }

    async Task ServeAsync(long id, Socket socket)
    {
        var context = new ConnectionContext(id, socket.LocalEndPoint, socket.RemoteEndPoint);
        bool abort = true;
        var sizeBuffer = new byte[4];
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        try
        {
            while (true)
            {
                // The idle clock covers the wait for, and the arrival of, one whole frame.
                idle.CancelAfter(_options.IdleTimeout);
                if (!await ReceiveExactlyAsync(socket, sizeBuffer, idle.Token).ConfigureAwait(false))
                {
                    abort = false; // clean EOF between frames
                    return;
                }
                Interlocked.Increment(ref _framesReceived);
                int size = BinaryPrimitives.ReadInt32BigEndian(sizeBuffer);
                if (size < 0 || size > _options.MaxRequestSize) return;

                var (frame, pooled) = await ReceiveFrameAsync(socket, size, idle.Token).ConfigureAwait(false);
                if (frame is null) return;
                idle.CancelAfter(Timeout.InfiniteTimeSpan); // handler time is not idle time
                ResponseBody? response;
                try
                {
                    response = await _handler.HandleAsync(frame.AsMemory(0, size), context, _stop.Token).ConfigureAwait(false);
                }
                finally
                {
                    if (pooled) ArrayPool<byte>.Shared.Return(frame);
                }
                if (response is not null)
                {
                    using (response)
                        await SendAllAsync(socket, response.Frame, _stop.Token).ConfigureAwait(false);
                }
                if (context.CloseRequested) return;
                if (!idle.TryReset()) return; // stopping
            }
        }
        catch (Exception)
        {
            // Malformed input, idle timeout, peer reset, handler failure: all end only this connection.
        }
        finally
        {
            Close(id, socket, abort);
        }
    }

    static async ValueTask<bool> ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken ct)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer[read..], SocketFlags.None, ct).ConfigureAwait(false);
            if (n == 0)
            {
                if (read == 0) return false;
                throw new EndOfStreamException("peer closed mid-frame");
            }
            read += n;
        }
        return true;
    }

    /// <summary>Reads a frame body, growing the buffer only as bytes arrive, so a size prefix alone cannot make us allocate.</summary>
    static async ValueTask<(byte[]? Frame, bool Pooled)> ReceiveFrameAsync(Socket socket, int size, CancellationToken ct)
    {
        byte[] buffer = Rent(Math.Min(size, InitialChunk), out bool pooled);
        int read = 0;
        try
        {
            while (read < size)
            {
                if (read == buffer.Length)
                {
                    // Grow to what is already waiting in the socket (one copy for a frame that has arrived whole),
                    // at least 4x: a size prefix alone still cannot make us allocate.
                    long arrived = (long)read + socket.Available;
                    var bigger = Rent((int)Math.Min(size, Math.Max((long)buffer.Length * 4, arrived)), out bool biggerPooled);
                    buffer.AsSpan(0, read).CopyTo(bigger);
                    if (pooled) ArrayPool<byte>.Shared.Return(buffer);
                    (buffer, pooled) = (bigger, biggerPooled);
                }
                int n = await socket.ReceiveAsync(buffer.AsMemory(read, Math.Min(buffer.Length, size) - read), SocketFlags.None, ct).ConfigureAwait(false);
                if (n == 0) break;
                read += n;
            }
        }
        catch
        {
            if (pooled) ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        if (read == size) return (buffer, pooled);
        if (pooled) ArrayPool<byte>.Shared.Return(buffer);
        return (null, false);
    }

    static byte[] Rent(int size, out bool pooled)
    {
        pooled = size <= PooledLimit;
        return pooled ? ArrayPool<byte>.Shared.Rent(size) : GC.AllocateUninitializedArray<byte>(size);
    }

    static async ValueTask SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        while (!data.IsEmpty)
        {
            int n = await socket.SendAsync(data, SocketFlags.None, ct).ConfigureAwait(false);
            data = data[n..];
        }
    }

    void Close(long id, Socket socket, bool abort)
    {
        _connections.TryRemove(id, out _);
        try
        {
            // Abortive close after errors: no TIME_WAIT pile-up from misbehaving clients.
            if (abort) socket.LingerState = new LingerOption(true, 0);
            else socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        socket.Dispose();
    }

    /// <summary>Stops accepting, closes every connection and waits for the accept loop to end.</summary>
    public async Task StopAsync()
    {
        Stop();
        if (_acceptLoop is not null)
            await _acceptLoop.ConfigureAwait(false);
    }

    /// <summary>
    /// Closes the listener and every connection at once. It does not wait for the accept loop to notice:
    /// a broker stopping (or crashing) while the thread pool is busy must not wait for a thread to come free.
    /// </summary>
    public void Stop()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _listener?.Dispose();
        foreach (var (id, socket) in _connections)
            Close(id, socket, abort: true);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
