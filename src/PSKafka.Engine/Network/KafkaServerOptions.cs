using System.Net;
using PSKafka.Engine.Config;
using PSKafka.Engine.Logging;

namespace PSKafka.Engine.Network;

/// <summary>A listener's settings: where it binds, and the socket settings of the broker configs (Kafka's defaults unless built with <see cref="From"/>).</summary>
public sealed class KafkaServerOptions
{
    /// <summary>Where to listen; port 0 picks a free port (see <see cref="KafkaServer.Port"/>).</summary>
    public IPEndPoint EndPoint { get; init; } = new(IPAddress.Loopback, 0);

    /// <summary>socket.request.max.bytes: frames whose size prefix is negative or larger close the connection, as in Kafka.</summary>
    public int MaxRequestSize { get; init; } = ConfigValues.Defaults.Int(ConfigDefinitions.SocketRequestMaxBytes);

    /// <summary>
    /// connections.max.idle.ms: a connection that does not complete a request frame in this time is closed; negative
    /// for never, as in Kafka.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMilliseconds(ConfigValues.Defaults.Long(ConfigDefinitions.ConnectionsMaxIdleMs));

    public int Backlog { get; init; } = 512;

    /// <summary>
    /// queued.max.request.bytes: request bytes this listener holds at once; -1 (Kafka's default) leaves only the
    /// process-wide bound (<see cref="RequestMemoryBudget.Process"/>).
    /// </summary>
    public long QueuedMaxRequestBytes { get; init; } = ConfigValues.Defaults.Long(ConfigDefinitions.QueuedMaxRequestBytes);

    /// <summary>Where rejected frames (WARN) and failed connections (ERROR) are logged.</summary>
    public KafkaLogger Log { get; init; } = KafkaLogger.None;

    /// <summary>A listener on <paramref name="endPoint"/> with a broker's socket settings.</summary>
    public static KafkaServerOptions From(IConfigValues values, IPEndPoint endPoint, KafkaLogger log) => new()
    {
        EndPoint = endPoint,
        MaxRequestSize = values.Int(ConfigDefinitions.SocketRequestMaxBytes),
        IdleTimeout = TimeSpan.FromMilliseconds(values.Long(ConfigDefinitions.ConnectionsMaxIdleMs)),
        QueuedMaxRequestBytes = values.Long(ConfigDefinitions.QueuedMaxRequestBytes),
        Log = log,
    };
}
