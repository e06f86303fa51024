namespace PSKafka.Engine.Network;

/// <summary>
/// Bytes of request frames held at once, as Kafka's request memory pool (<c>queued.max.request.bytes</c>) bounds them:
/// a connection whose next frame does not fit waits, with its bytes left in the socket (TCP pushes back on the client,
/// as Kafka mutes the channel), until earlier requests are done with theirs. A frame larger than the whole budget can
/// never fit and is refused. Every broker of the process also draws on <see cref="Process"/>, so memory pressure from
/// many producers is a wait, not an OutOfMemoryException.
/// </summary>
public sealed class RequestMemoryBudget(long capacity)
{
    /// <summary>
    /// The process's budget for request frames across all its brokers: a quarter of the memory the runtime may use
    /// (at least 256 MB, so socket.request.max.bytes' 100 MB always fits).
    /// </summary>
    public static RequestMemoryBudget Process { get; } =
        new(Math.Max(256L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4));

    private readonly object _gate = new(); // Monitor.Wait/PulseAll need a monitor, not a System.Threading.Lock
    private long _used;

    public long Capacity { get; } = capacity;

    public long Used
    {
        get { lock (_gate) return _used; }
    }

    /// <summary>
    /// Takes <paramref name="bytes"/>, waiting while they do not fit. False when the wait reached
    /// <paramref name="deadline"/> (Environment.TickCount64) or <paramref name="cancellationToken"/> fired.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">More bytes than the whole budget.</exception>
    public bool TryAcquire(long bytes, long deadline, CancellationToken cancellationToken)
    {
        if (bytes > Capacity)
            throw new ArgumentOutOfRangeException(nameof(bytes), $"A request of {bytes} bytes is larger than the {Capacity} bytes of request memory.");
        lock (_gate)
        {
            while (_used + bytes > Capacity)
            {
                long remaining = deadline - Environment.TickCount64;
                if (remaining <= 0 || cancellationToken.IsCancellationRequested) return false;
                // Woken by Release; the slice bounds how late a stop or the deadline is noticed.
                Monitor.Wait(_gate, (int)Math.Min(remaining, 200));
            }
            _used += bytes;
            return true;
        }
    }

    public void Release(long bytes)
    {
        lock (_gate)
        {
            _used -= bytes;
            Monitor.PulseAll(_gate);
        }
    }
}
