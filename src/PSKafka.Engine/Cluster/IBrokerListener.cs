namespace PSKafka.Engine.Cluster;

/// <summary>
/// A broker's network side, as the broker drives it: started first when the broker starts, so a taken port fails before
/// anything else has started, and stopped first when it stops, so no request runs against logs being closed. The
/// cluster gives each broker its own; what it serves and how is none of the broker's business.
/// </summary>
public interface IBrokerListener
{
    /// <summary>
    /// Listens on <paramref name="listenAddress"/>:<paramref name="port"/> (0 picks a free port) and returns the bound
    /// port. Throws <see cref="PortInUseException"/> when the port is taken, <see cref="ArgumentException"/> when the
    /// address is not an IP address.
    /// </summary>
    int Start(string listenAddress, int port);

    /// <summary>Stops listening and closes the connections; nothing when not listening.</summary>
    void Stop();
}
