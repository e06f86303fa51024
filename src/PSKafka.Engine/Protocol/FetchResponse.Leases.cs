using PSKafka.Engine.Api;

namespace PSKafka.Engine.Protocol.Messages;

/// <summary>A response whose record bytes live in pooled arrays until it has been encoded into its frame.</summary>
public interface IPooledResponse
{
    /// <summary>Hands the arrays back to their pool; the response's records must not be read afterwards.</summary>
    void ReturnBuffers();
}

public sealed partial class FetchResponse : IPooledResponse
{
    private IReadOnlyList<FetchPartitionResult>? _leased;

    /// <summary>The engine's results behind this response's records, read with <see cref="PSKafka.Engine.Api.FetchParams.RentRecordBuffers"/>.</summary>
    internal void LeaseFrom(IReadOnlyList<FetchPartitionResult> results) => _leased = results;

    public void ReturnBuffers()
    {
        if (Interlocked.Exchange(ref _leased, null) is { } results) FetchPartitionResult.ReturnLeases(results);
    }
}
