using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace PSKafka.Engine.Network;

/// <summary>
/// One broker's listener: accepts TCP connections, splits the byte stream into size-prefixed frames and
/// hands each to the <see cref="IRequestHandler"/>. A connection handles one request at a time, so
/// responses go out in request order and pipelined requests wait in the socket (Kafka mutes the channel likewise).
/// Each connection has a thread of its own that blocks in its reads: a local cluster has a handful of connections,
/// and a read that completes wakes the very thread that handles the frame. With asynchronous sockets every read that
/// had to wait came back through the socket engine's thread and then the thread pool, whose idle workers' spinning
/// took about a third of a broker's CPU while kcat produced into it. A handler that waits (a long-poll fetch,
/// acks=all) blocks only its own connection's thread.
/// </summary>
public sealed class KafkaServer : IAsyncDisposable
{
    // Frame buffers up to IoBuffers.MaxPooledLength come from IoBuffers.Pool; bigger ones are allocated. Either way
    // a buffer only grows with bytes that have actually arrived.
    const int InitialChunk = 64 * 1024;

    readonly IRequestHandler _handler;
    readonly KafkaServerOptions _options;
    readonly CancellationTokenSource _stop = new();
    readonly ConcurrentDictionary<long, Socket> _connections = new();
    readonly TaskCompletionSource _acceptLoopDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    Socket? _listener;
    IPEndPoint? _boundEndPoint;
    readonly RequestMemoryBudget? _budget;
    long _nextConnectionId;
    long _framesReceived;

    public KafkaServer(IRequestHandler handler, KafkaServerOptions? options = null)
    {
        _handler = handler;
        _options = options ?? new KafkaServerOptions();
        if (_options.QueuedMaxRequestBytes > 0) _budget = new RequestMemoryBudget(_options.QueuedMaxRequestBytes);
    }

    /// <summary>The settings the listener runs with.</summary>
    public KafkaServerOptions Options => _options;

    /// <summary>This listener's own request memory (queued.max.request.bytes), if it has a bound of its own.</summary>
    public RequestMemoryBudget? RequestMemory => _budget;

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
        new Thread(AcceptLoop) { IsBackground = true, Name = $"kafka-accept-{Port}" }.Start();
    }

    void AcceptLoop()
    {
        var listener = _listener!;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = listener.Accept();
                }
                catch (SocketException) when (!_stop.IsCancellationRequested)
                {
                    continue; // a client that reset before we accepted it; keep listening
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    return; // the listener was closed: stopping
                }
                long id = Interlocked.Increment(ref _nextConnectionId);
                try
                {
                    socket.NoDelay = true;
                    _connections[id] = socket;
                    if (_stop.IsCancellationRequested) { Close(id, socket, abort: true); return; }
                    // The endpoints are read here, where a socket that Stop closes meanwhile is handled: an exception
                    // on the connection's own thread before its try would end the process.
                    var context = new ConnectionContext(id, socket.LocalEndPoint, socket.RemoteEndPoint);
                    new Thread(() => Serve(id, socket, context)) { IsBackground = true, Name = $"kafka-conn-{id}" }.Start();
                }
                catch (Exception e) when (e is not ObjectDisposedException)
                {
                    // No thread for this connection (out of memory, say): it is refused, the listener goes on.
                    _options.Log.Error($"Error accepting connection from {EndPointOf(socket)}; closing it", e);
                    Close(id, socket, abort: true);
                }
            }
        }
        catch (Exception e) when (!_stop.IsCancellationRequested)
        {
            _options.Log.Error($"Uncaught exception in thread '{Thread.CurrentThread.Name}':", e);
        }
        catch (Exception) { } // stopping: the socket was closed under the loop
        finally
        {
            _acceptLoopDone.TrySetResult();
        }
    }

    void Serve(long id, Socket socket, ConnectionContext context)
    {
        bool abort = true;
        var sizeBuffer = new byte[4];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                // The idle clock covers the wait for, and the arrival of, one whole frame.
                long deadline = _options.IdleTimeout < TimeSpan.Zero ? long.MaxValue : Environment.TickCount64 + (long)_options.IdleTimeout.TotalMilliseconds;
                if (!ReceiveExactly(socket, sizeBuffer, deadline))
                {
                    abort = false; // clean EOF between frames
                    return;
                }
                Interlocked.Increment(ref _framesReceived);
                int size = BinaryPrimitives.ReadInt32BigEndian(sizeBuffer);
                if (size < 0 || size > _options.MaxRequestSize)
                {
                    // Kafka's InvalidReceiveException: a size no request has (often a non-Kafka client, e.g. HTTP).
                    _options.Log.Warn($"Closing connection from {context.RemoteEndPoint}: Invalid receive (size = {size} larger than {_options.MaxRequestSize}, socket.request.max.bytes)");
                    return;
                }

                if (_budget is not null && size > _budget.Capacity)
                {
                    // Kafka's memory pool refuses a request larger than the whole pool likewise.
                    _options.Log.Warn($"Closing connection from {context.RemoteEndPoint}: Invalid receive (size = {size} larger than {_budget.Capacity}, queued.max.request.bytes)");
                    return;
                }
                // The frame's bytes are reserved before they are read: without room, they wait in the socket.
                if (!AcquireRequestMemory(size, deadline))
                {
                    if (!_stop.IsCancellationRequested)
                        _options.Log.Warn($"Closing connection from {context.RemoteEndPoint}: its request of {size} bytes waited for request memory until connections.max.idle.ms passed");
                    return;
                }
                ResponseBody? response;
                try
                {
                    var (frame, pooled) = ReceiveFrame(socket, size, deadline);
                    if (frame is null) return;
                    try
                    {
                        var handled = _handler.HandleAsync(frame.AsMemory(0, size), context, _stop.Token);
                        response = handled.IsCompletedSuccessfully ? handled.Result : handled.AsTask().GetAwaiter().GetResult();
                    }
                    finally
                    {
                        if (pooled) IoBuffers.Pool.Return(frame);
                    }
                }
                finally
                {
                    ReleaseRequestMemory(size);
                }
                if (response is not null)
                {
                    using (response)
                        SendAll(socket, response.Frame.Span);
                }
                if (context.CloseRequested) return;
            }
        }
        catch (Exception e) when (_stop.IsCancellationRequested || e is SocketException or EndOfStreamException or TimeoutException or ObjectDisposedException)
        {
            // Peer reset or gone mid-frame, idle timeout, stopping: the client's business, as Kafka logs it (DEBUG).
            _options.Log.Debug($"Connection from {context.RemoteEndPoint} closed: {e.Message}");
        }
        catch (Exception e)
        {
            // Anything else (a handler failing, out of memory) ends only this connection, but never silently.
            _options.Log.Error($"Unexpected error from {context.RemoteEndPoint}; closing connection", e);
        }
        finally
        {
            Close(id, socket, abort);
        }
    }

    /// <summary>
    /// Reserves a frame's bytes in this listener's budget and the process's, waiting until they fit; false when the
    /// connection's deadline passed or the server is stopping.
    /// </summary>
    bool AcquireRequestMemory(int size, long deadline)
    {
        if (_budget is not null && !_budget.TryAcquire(size, deadline, _stop.Token)) return false;
        bool acquired = false;
        try
        {
            acquired = RequestMemoryBudget.Process.TryAcquire(size, deadline, _stop.Token);
            return acquired;
        }
        finally
        {
            if (!acquired) _budget?.Release(size);
        }
    }

    void ReleaseRequestMemory(int size)
    {
        RequestMemoryBudget.Process.Release(size);
        _budget?.Release(size);
    }

    /// <summary>One blocking read, given up with a timeout at <paramref name="deadline"/> (Environment.TickCount64).</summary>
    static int Receive(Socket socket, Span<byte> buffer, long deadline)
    {
        long remaining = deadline - Environment.TickCount64;
        if (remaining <= 0) throw new TimeoutException("connections.max.idle.ms passed within a frame");
        socket.ReceiveTimeout = (int)Math.Min(remaining, int.MaxValue);
        return socket.Receive(buffer, SocketFlags.None);
    }

    static bool ReceiveExactly(Socket socket, Span<byte> buffer, long deadline)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = Receive(socket, buffer[read..], deadline);
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
    static (byte[]? Frame, bool Pooled) ReceiveFrame(Socket socket, int size, long deadline)
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
                    if (pooled) IoBuffers.Pool.Return(buffer);
                    (buffer, pooled) = (bigger, biggerPooled);
                }
                int n = Receive(socket, buffer.AsSpan(read, Math.Min(buffer.Length, size) - read), deadline);
                if (n == 0) break;
                read += n;
            }
        }
        catch
        {
            if (pooled) IoBuffers.Pool.Return(buffer);
            throw;
        }
        if (read == size) return (buffer, pooled);
        if (pooled) IoBuffers.Pool.Return(buffer);
        return (null, false);
    }

    static byte[] Rent(int size, out bool pooled)
    {
        pooled = size <= IoBuffers.MaxPooledLength;
        return pooled ? IoBuffers.Pool.Rent(size) : GC.AllocateUninitializedArray<byte>(size);
    }

    static void SendAll(Socket socket, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
            data = data[socket.Send(data, SocketFlags.None)..];
    }

    static string EndPointOf(Socket socket)
    {
        try { return socket.RemoteEndPoint?.ToString() ?? "?"; }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { return "?"; }
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
        if (_listener is not null)
            await _acceptLoopDone.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Closes the listener and every connection at once; their threads wake from their reads and end. It does not
    /// wait for them: a broker stopping (or crashing) must not wait for a handler to finish.
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
