namespace PSKafka.Engine;

// The engine's exceptions, all in one place.

/// <summary>An engine operation failed with a Kafka error code.</summary>
public class KafkaException : Exception
{
    public KafkaException(ErrorCode code, string message) : base(message) => Code = code;
    public KafkaException(ErrorCode code, string message, Exception inner) : base(message, inner) => Code = code;

    public ErrorCode Code { get; }
}

/// <summary>A partition number outside a topic's partitions (UNKNOWN_TOPIC_OR_PARTITION, for a topic that exists).</summary>
public sealed class PartitionNotFoundException(string message) : KafkaException(ErrorCode.UnknownTopicOrPartition, message);

/// <summary>
/// Malformed bytes on the wire. The one exception the reader throws, so callers can treat any parse
/// failure as INVALID_REQUEST (and the network layer closes the connection, as Kafka does).
/// </summary>
public sealed class ProtocolException : KafkaException
{
    public ProtocolException(string message) : base(ErrorCode.InvalidRequest, message) { }
}

/// <summary>A broker could not listen because its port is taken (by another broker, another program, or a Kafka).</summary>
public sealed class PortInUseException(int brokerId, string address, int port, Exception inner)
    : IOException($"Broker {brokerId} cannot listen on {address}:{port}: the port is in use. Choose another with -Port (0 picks a free one).", inner)
{
    public int BrokerId { get; } = brokerId;
    public int Port { get; } = port;
}

/// <summary>Another process holds the data directory's lock (its owner file says which).</summary>
public sealed class DataDirectoryInUseException(string directory, string owner)
    : IOException($"The data directory '{directory}' is in use by {owner}. Stop PSKafka there, or use another data directory (-DataDirectory or $env:PSKAFKA_DATA).")
{
    public string DataDirectory { get; } = directory;
    public string Owner { get; } = owner;
}

/// <summary>An index file whose content is inconsistent; the owner rebuilds it from the log.</summary>
public sealed class CorruptIndexException(string message) : Exception(message);
