using System.Buffers;

namespace PSKafka.Engine;

/// <summary>
/// The pool of the byte arrays that carry request frames, response frames and the records a fetch reads. A broker
/// serves each connection on a thread of its own, and clients reconnect at will: ArrayPool.Shared keeps returned
/// arrays per thread first, so an array returned on a connection's thread was lost when the connection ended, and
/// the next connection's megabyte frames were fresh large-object allocations again (with gen-2 collections under
/// every kcat run). This pool keeps no per-thread part.
/// </summary>
public static class IoBuffers
{
    /// <summary>Largest array kept (bigger ones are allocated and dropped): a producer's 1 MB batches arrive in 2 MB frames.</summary>
    public const int MaxPooledLength = 8 * 1024 * 1024;

    /// <summary>Arrays up to <see cref="MaxPooledLength"/>, at most 8 of each size.</summary>
    public static ArrayPool<byte> Pool { get; } = ArrayPool<byte>.Create(MaxPooledLength, 8);
}
