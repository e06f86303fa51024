using System.Net;
using PSKafka.Engine.Logging;

namespace PSKafka.Engine.Network;

public sealed class KafkaServerOptions
{
    /// <summary>Kafka's socket.request.max.bytes default.</summary>
    public const int DefaultMaxRequestSize = 104_857_600;

    /// <summary>Where to listen; port 0 picks a free port (see <see cref="KafkaServer.Port"/>).</summary>
    public IPEndPoint EndPoint { get; init; } = new(IPAddress.Loopback, 0);

    /// <summary>Frames whose size prefix is negative or larger than this close the connection, as in Kafka.</summary>
    public int MaxRequestSize { get; init; } = DefaultMaxRequestSize;

    /// <summary>connections.max.idle.ms: a connection that does not complete a request frame in this time is closed.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMilliseconds(600_000);

    public int Backlog { get; init; } = 512;

    /// <summary>
    /// queued.max.request.bytes: request bytes this listener holds at once; -1 (Kafka's default) leaves only the
    /// process-wide bound (<see cref="RequestMemoryBudget.Process"/>).
    /// </summary>
    public long QueuedMaxRequestBytes { get; init; } = -1;

    /// <summary>Where rejected frames (WARN) and failed connections (ERROR) are logged.</summary>
    public KafkaLogger Log { get; init; } = KafkaLogger.None;
}
