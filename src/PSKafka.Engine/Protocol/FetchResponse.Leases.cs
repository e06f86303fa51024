namespace PSKafka.Engine.Protocol.Messages;

/// <summary>A response whose record bytes live in pooled arrays until it has been encoded into its frame.</summary>
public interface IPooledResponse
{
    /// <summary>Hands the arrays back to their pool; the response's records must not be read afterwards.</summary>
    void ReturnBuffers();
}

public sealed partial class FetchResponse : IPooledResponse
{
    private List<byte[]>? _leases;

    /// <summary>Records of this response live in <paramref name="buffer"/>, from <see cref="IoBuffers.Pool"/>.</summary>
    internal void AddLease(byte[] buffer) => (_leases ??= new()).Add(buffer);

    public void ReturnBuffers()
    {
        var leases = Interlocked.Exchange(ref _leases, null);
        if (leases is null) return;
        foreach (var lease in leases) IoBuffers.Pool.Return(lease);
    }
}
