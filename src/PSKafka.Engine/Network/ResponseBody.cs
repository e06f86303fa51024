using System.Buffers.Binary;

namespace PSKafka.Engine.Network;

/// <summary>
/// One response ready to send: a size-prefixed frame (4-byte big-endian length, then header and body).
/// Owns its buffer; the connection disposes it once sent.
/// </summary>
public sealed class ResponseBody : IDisposable
{
    byte[]? _buffer;
    readonly int _length;
    readonly bool _pooled;

    internal ResponseBody(byte[] buffer, int frameLength, bool pooled)
    {
        _buffer = buffer;
        _length = frameLength;
        _pooled = pooled;
    }

    /// <summary>A frame around a copy of <paramref name="payload"/> (tests and simple handlers).</summary>
    public static ResponseBody FromPayload(ReadOnlySpan<byte> payload)
    {
        var buffer = new byte[payload.Length + 4];
        BinaryPrimitives.WriteInt32BigEndian(buffer, payload.Length);
        payload.CopyTo(buffer.AsSpan(4));
        return new ResponseBody(buffer, buffer.Length, pooled: false);
    }

    /// <summary>Size prefix plus payload, exactly what goes on the wire.</summary>
    public ReadOnlyMemory<byte> Frame => (_buffer ?? throw new ObjectDisposedException(nameof(ResponseBody))).AsMemory(0, _length);

    /// <summary>Header and body without the size prefix.</summary>
    public ReadOnlyMemory<byte> Payload => Frame[4..];

    public void Dispose()
    {
        var b = Interlocked.Exchange(ref _buffer, null);
        if (b is not null && _pooled) IoBuffers.Pool.Return(b);
    }
}
