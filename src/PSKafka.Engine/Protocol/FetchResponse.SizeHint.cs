namespace PSKafka.Engine.Protocol.Messages;

/// <summary>
/// A response that knows roughly how big it will be, so its frame is allocated once instead of growing
/// by doubling (which copies a multi-megabyte Fetch response over and over).
/// </summary>
public interface IResponseSizeHint
{
    /// <summary>Bytes the encoded response will take, at least approximately.</summary>
    int SizeHint { get; }
}

public sealed partial class FetchResponse : IResponseSizeHint
{
    // Per-partition fields and headers are small next to the record bytes; 64 bytes each covers them.
    public int SizeHint
    {
        get
        {
            long size = 256;
            foreach (var topic in Responses)
            {
                size += 64 + topic.Topic.Length;
                foreach (var p in topic.Partitions) size += 64 + (p.Records?.Length ?? 0) + 32L * (p.AbortedTransactions?.Count ?? 0);
            }
            return (int)Math.Min(size, Array.MaxLength - 4);
        }
    }
}
