namespace PSKafka.Engine.Protocol;

/// <summary>
/// Malformed bytes on the wire. The one exception the reader throws, so callers can treat any parse
/// failure as INVALID_REQUEST (and the network layer closes the connection, as Kafka does).
/// </summary>
public sealed class ProtocolException : KafkaException
{
    public ProtocolException(string message) : base(ErrorCode.InvalidRequest, message) { }
}
