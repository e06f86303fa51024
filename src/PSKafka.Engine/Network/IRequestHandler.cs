namespace PSKafka.Engine.Network;

/// <summary>
/// Turns one request frame (without its size prefix) into one response frame. The network layer
/// never parses Kafka messages; everything protocol-specific lives behind this interface.
/// </summary>
public interface IRequestHandler
{
    /// <summary>
    /// <paramref name="request"/> is a view of a pooled buffer that is reused once the returned task completes:
    /// copy anything (e.g. record batches) that must outlive the call. Return null to send nothing
    /// (acks=0 produce); call <see cref="ConnectionContext.RequestClose"/> to drop the connection afterwards.
    /// Throwing closes this connection only.
    /// </summary>
    ValueTask<ResponseBody?> HandleAsync(ReadOnlyMemory<byte> request, ConnectionContext connection, CancellationToken cancellationToken);
}
