using System.Net;
using System.Net.Sockets;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Logging;
using PSKafka.Engine.Metadata;
using PSKafka.Engine.Network;
using PSKafka.Engine.Protocol;

namespace PSKafka.Engine.Server;

/// <summary>
/// Serves one broker on the network, as Kafka's BrokerServer does: its listener (<see cref="KafkaServer"/>) and the
/// dispatcher that decodes each request and hands it to <see cref="BrokerKafkaApi"/>, which calls the same
/// <see cref="Cluster.Broker"/> operations in-process callers use. The cluster holds one per broker; the broker starts
/// it first and stops it first (through <see cref="IBrokerListener"/>), and never sees a socket or a wire format.
/// </summary>
public sealed class BrokerServer : IBrokerListener
{
    internal BrokerServer(KafkaCluster cluster, BrokerRecord record) => Broker = new Broker(cluster, record, this);

    public Broker Broker { get; }

    /// <summary>The broker's Kafka listener while it runs; null when stopped.</summary>
    public KafkaServer? Listener { get; private set; }

    /// <summary>The listener's request dispatcher (counts rejected and failed requests); null before the first start.</summary>
    public KafkaProtocolHandler? ProtocolHandler { get; private set; }

    int IBrokerListener.Start(string listenAddress, int port)
    {
        if (!IPAddress.TryParse(listenAddress, out var address))
            throw new ArgumentException($"'{listenAddress}' is not an IP address to listen on.");
        var socketLog = Broker.Logging.For(KafkaLoggers.SocketServer, $"[SocketServer listenerType=BROKER, nodeId={Broker.Id}] ");
        var handler = new KafkaProtocolHandler(new BrokerKafkaApi(Broker), socketLog);
        var server = new KafkaServer(handler, KafkaServerOptions.From(Broker.Cluster.BrokerConfigs.For(Broker.Id), new IPEndPoint(address, port), socketLog));
        try
        {
            server.Start();
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
        {
            throw new PortInUseException(Broker.Id, listenAddress, port, e);
        }
        Listener = server;
        ProtocolHandler = handler;
        socketLog.Info($"Awaiting socket connections on {Broker.ListenAddress}:{server.Port}.");
        return server.Port;
    }

    void IBrokerListener.Stop()
    {
        Listener?.Stop();
        Listener = null;
    }

    public override string ToString() => $"Server of {Broker}";
}
