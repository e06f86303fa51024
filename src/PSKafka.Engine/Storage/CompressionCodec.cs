using System.Buffers.Binary;
using System.IO.Compression;
using K4os.Compression.LZ4;
using K4os.Compression.LZ4.Streams;
using Snappier;
using ZstdSharp;

namespace PSKafka.Engine.Storage;

/// <summary>
/// The four Kafka codecs over whole record sections.
/// <list type="bullet">
/// <item>gzip: RFC 1952 stream.</item>
/// <item>snappy: Java clients write xerial framing — magic <c>82 'SNAPPY' 00</c>, int32 version, int32 compatible version,
/// then blocks of big-endian int32 length + raw snappy block. librdkafka/sarama may send raw snappy; both are read.</item>
/// <item>lz4: the LZ4 frame format (magic 0x184D2204), as Kafka's KafkaLZ4BlockOutputStream writes it for magic v2.</item>
/// <item>zstd: a zstd frame (streaming-decoded, since Java's zstd-jni omits the content size).</item>
/// </list>
/// </summary>
internal static class CompressionCodec
{
    /// <summary>Cap on a decompressed records section, so a hostile batch cannot balloon memory.</summary>
    public const int MaxDecompressedBytes = 256 * 1024 * 1024;

    private static ReadOnlySpan<byte> XerialMagic => [0x82, (byte)'S', (byte)'N', (byte)'A', (byte)'P', (byte)'P', (byte)'Y', 0];
    private const int XerialHeaderSize = 16;
    private const int XerialBlockSize = 32 * 1024; // xerial SnappyOutputStream's default block
    private const int Lz4BlockSize = 64 * 1024;    // Kafka's default lz4 block (BD = 4)

    /// <summary>Appends the compressed form of <paramref name="src"/> to <paramref name="dst"/>.</summary>
    public static void Compress(CompressionType type, ReadOnlySpan<byte> src, MemoryStream dst)
    {
        switch (type)
        {
            case CompressionType.Gzip:
                using (var gz = new GZipStream(dst, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(src);
                break;
            case CompressionType.Snappy:
                WriteXerialSnappy(src, dst);
                break;
            case CompressionType.Lz4:
                var settings = new LZ4EncoderSettings
                {
                    BlockSize = Lz4BlockSize,
                    ChainBlocks = false, // Kafka sets the block-independence flag
                    ContentChecksum = false,
                    BlockChecksum = false,
                    CompressionLevel = LZ4Level.L00_FAST,
                };
                using (var lz = LZ4Stream.Encode(dst, settings, leaveOpen: true)) lz.Write(src);
                break;
            case CompressionType.Zstd:
                using (var z = new Compressor(3))
                {
                    var bound = Compressor.GetCompressBound(src.Length);
                    long start = dst.Length;
                    dst.SetLength(start + bound);
                    int n = z.Wrap(src, dst.GetBuffer().AsSpan((int)start, bound));
                    dst.SetLength(start + n);
                    dst.Position = dst.Length;
                }
                break;
            default:
                throw new KafkaException(ErrorCode.UnsupportedCompressionType, $"Unknown compression type {type}.");
        }
    }

    /// <summary>Decompresses a records section. Throws <see cref="KafkaException"/> (CorruptMessage) on bad data.</summary>
    public static byte[] Decompress(CompressionType type, ReadOnlySpan<byte> src, int maxBytes = MaxDecompressedBytes)
    {
        try
        {
            switch (type)
            {
                case CompressionType.Snappy:
                    return src.StartsWith(XerialMagic) ? ReadXerialSnappy(src, maxBytes) : ReadRawSnappy(src, maxBytes);
                case CompressionType.Gzip:
                    return ReadAll(new GZipStream(new MemoryStream(src.ToArray(), false), CompressionMode.Decompress), maxBytes);
                case CompressionType.Lz4:
                    return ReadAll(LZ4Stream.Decode(new MemoryStream(src.ToArray(), false)), maxBytes);
                case CompressionType.Zstd:
                    return ReadAll(new DecompressionStream(new MemoryStream(src.ToArray(), false)), maxBytes);
                default:
                    throw new KafkaException(ErrorCode.UnsupportedCompressionType, $"Unknown compression type {(int)type}.");
            }
        }
        catch (KafkaException) { throw; }
        catch (Exception e) when (e is InvalidDataException or InvalidOperationException or IOException or ArgumentException or IndexOutOfRangeException or ZstdException)
        {
            throw new KafkaException(ErrorCode.CorruptMessage, $"Cannot decompress {type} records: {e.Message}", e);
        }
    }

    private static void WriteXerialSnappy(ReadOnlySpan<byte> src, MemoryStream dst)
    {
        Span<byte> header = stackalloc byte[XerialHeaderSize];
        XerialMagic.CopyTo(header);
        BinaryPrimitives.WriteInt32BigEndian(header.Slice(8), 1);  // version
        BinaryPrimitives.WriteInt32BigEndian(header.Slice(12), 1); // minimum compatible version
        dst.Write(header);
        int max = Snappy.GetMaxCompressedLength(XerialBlockSize);
        for (int pos = 0; pos < src.Length; pos += XerialBlockSize)
        {
            var block = src.Slice(pos, Math.Min(XerialBlockSize, src.Length - pos));
            long start = dst.Length;
            dst.SetLength(start + 4 + max);
            var buf = dst.GetBuffer();
            int n = Snappy.Compress(block, buf.AsSpan((int)start + 4, max));
            BinaryPrimitives.WriteInt32BigEndian(buf.AsSpan((int)start), n);
            dst.SetLength(start + 4 + n);
            dst.Position = dst.Length;
        }
    }

    private static byte[] ReadXerialSnappy(ReadOnlySpan<byte> src, int maxBytes)
    {
        if (src.Length < XerialHeaderSize) throw Corrupt("xerial snappy header is truncated");
        // First pass sizes the output so the second can decompress straight into it.
        long total = 0;
        for (int pos = XerialHeaderSize; pos < src.Length;)
        {
            if (src.Length - pos < 4) throw Corrupt("xerial snappy block length is truncated");
            int len = BinaryPrimitives.ReadInt32BigEndian(src.Slice(pos));
            if (len < 0 || len > src.Length - pos - 4) throw Corrupt("xerial snappy block overruns the data");
            total += Snappy.GetUncompressedLength(src.Slice(pos + 4, len));
            if (total > maxBytes) throw Corrupt("snappy data decompresses beyond the limit");
            pos += 4 + len;
        }
        var result = new byte[total];
        int outPos = 0;
        for (int pos = XerialHeaderSize; pos < src.Length;)
        {
            int len = BinaryPrimitives.ReadInt32BigEndian(src.Slice(pos));
            outPos += Snappy.Decompress(src.Slice(pos + 4, len), result.AsSpan(outPos));
            pos += 4 + len;
        }
        return result;
    }

    private static byte[] ReadRawSnappy(ReadOnlySpan<byte> src, int maxBytes)
    {
        int len = Snappy.GetUncompressedLength(src);
        if (len < 0 || len > maxBytes) throw Corrupt("snappy data decompresses beyond the limit");
        var result = new byte[len];
        Snappy.Decompress(src, result);
        return result;
    }

    private static byte[] ReadAll(Stream s, int maxBytes)
    {
        using (s)
        {
            var ms = new MemoryStream();
            var buf = new byte[81920];
            int n;
            while ((n = s.Read(buf, 0, buf.Length)) > 0)
            {
                if (ms.Length + n > maxBytes) throw Corrupt("data decompresses beyond the limit");
                ms.Write(buf, 0, n);
            }
            return ms.ToArray();
        }
    }

    private static KafkaException Corrupt(string why) => new(ErrorCode.CorruptMessage, why);
}
