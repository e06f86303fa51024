using System.Net;

namespace PSKafka.Engine.Network;

/// <summary>Per-connection facts handed to the request handler with every frame.</summary>
public sealed class ConnectionContext(long id, EndPoint? localEndPoint, EndPoint? remoteEndPoint)
{
    /// <summary>Unique per server instance, for logs and per-connection state.</summary>
    public long Id { get; } = id;

    public EndPoint? LocalEndPoint { get; } = localEndPoint;

    public EndPoint? RemoteEndPoint { get; } = remoteEndPoint;

    /// <summary>Set by a handler that wants the connection closed after this request (e.g. malformed input).</summary>
    public bool CloseRequested { get; private set; }

    public void RequestClose() => CloseRequested = true;

    public override string ToString() => $"#{Id} {RemoteEndPoint}";
}
