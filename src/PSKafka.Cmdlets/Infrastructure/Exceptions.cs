namespace PSKafka.Cmdlets.Infrastructure;

// The cmdlets' own exceptions, all in one place; KafkaCmdlet gives each its ErrorId.

/// <summary>A broker id that does not exist or is not running.</summary>
public sealed class BrokerNotFoundException(string message) : ArgumentException(message);

/// <summary>No broker log file with that name (yet) in the cluster's logs directory.</summary>
public sealed class BrokerLogNotFoundException(string message) : IOException(message);
