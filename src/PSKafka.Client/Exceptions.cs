using PSKafka.Engine;

namespace PSKafka.Client;

// The client's own failures; the cmdlets map each to its ErrorId (KafkaCmdlet.ToErrorRecord).

/// <summary>A broker id that does not exist or is not running.</summary>
public sealed class BrokerNotFoundException(string message) : ArgumentException(message);

/// <summary>No broker of a remote cluster answered within the connection's timeout.</summary>
public sealed class ClusterUnreachableException(string message, Exception? inner = null)
    : KafkaException(ErrorCode.BrokerNotAvailable, message, inner ?? new TimeoutException(message));

/// <summary>An operation that only the local, in-process cluster can do.</summary>
public sealed class NotSupportedRemotelyException(string message) : KafkaException(ErrorCode.UnsupportedVersion, message);

/// <summary>
/// Some records were not produced; the others of the same send were (their deliveries were added).
/// The producer stays usable.
/// </summary>
public sealed class ProduceFailedException(IReadOnlyList<ProduceFailure> failures)
    : KafkaException(failures[0].Error, failures[0].Message)
{
    public IReadOnlyList<ProduceFailure> Failures { get; } = failures;
}
