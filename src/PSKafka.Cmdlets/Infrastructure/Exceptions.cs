namespace PSKafka.Cmdlets.Infrastructure;

// The cmdlets' own exceptions, all in one place; KafkaCmdlet gives each its ErrorId.

/// <summary>No broker log file with that name (yet) in the cluster's logs directory.</summary>
public sealed class BrokerLogNotFoundException(string message) : IOException(message);
