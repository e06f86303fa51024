using System.Net;
using PSKafka.Engine.Network;

namespace PSKafka.Engine.Protocol;

/// <summary>What an API method may want to know about the request besides its body.</summary>
public sealed record RequestContext(
    short ApiVersion,
    int CorrelationId,
    string? ClientId,
    ConnectionContext Connection)
{
    public EndPoint? RemoteEndPoint => Connection.RemoteEndPoint;
}
