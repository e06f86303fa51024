using PSKafka.Engine;
using PSKafka.Engine.Storage;

namespace PSKafka.Tests.Storage;

public class VarintTests
{
    // Zigzag vectors as in Kafka's ByteUtilsTest / the protobuf spec: 0→00, -1→01, 1→02, -64→7F, 64→80 01.
    [Theory]
    [InlineData(0, new byte[] { 0x00 })]
    [InlineData(-1, new byte[] { 0x01 })]
    [InlineData(1, new byte[] { 0x02 })]
    [InlineData(-64, new byte[] { 0x7F })]
    [InlineData(64, new byte[] { 0x80, 0x01 })]
    [InlineData(300, new byte[] { 0xD8, 0x04 })]
    [InlineData(int.MaxValue, new byte[] { 0xFE, 0xFF, 0xFF, 0xFF, 0x0F })]
    [InlineData(int.MinValue, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x0F })]
    public void VarintVectors(int value, byte[] encoded)
    {
        var buf = new byte[5];
        int n = Varint.WriteVarint(buf, value);
        Assert.Equal(encoded, buf[..n]);
        Assert.Equal(encoded.Length, Varint.SizeOfVarint(value));
        int pos = 0;
        Assert.Equal(value, Varint.ReadVarint(encoded, ref pos));
        Assert.Equal(encoded.Length, pos);
    }

    [Theory]
    [InlineData(0L, 1)]
    [InlineData(-1L, 1)]
    [InlineData(63L, 1)]
    [InlineData(64L, 2)]
    [InlineData(long.MaxValue, 10)]
    [InlineData(long.MinValue, 10)]
    [InlineData(1479847795000L, 6)]
    public void VarlongRoundTrip(long value, int size)
    {
        var buf = new byte[10];
        int n = Varint.WriteVarlong(buf, value);
        Assert.Equal(size, n);
        Assert.Equal(size, Varint.SizeOfVarlong(value));
        int pos = 0;
        Assert.Equal(value, Varint.ReadVarlong(buf, ref pos));
        Assert.Equal(n, pos);
    }

    [Fact]
    public void TruncatedAndOverlongInputFail()
    {
        int pos = 0;
        var ex = Assert.Throws<KafkaException>(() => { int p = 0; Varint.ReadVarint(new byte[] { 0x80, 0x80 }, ref p); });
        Assert.Equal(ErrorCode.CorruptMessage, ex.Code);
        Assert.Throws<KafkaException>(() => { int p = 0; Varint.ReadVarint(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 }, ref p); });
        Assert.False(Varint.TryReadVarint(new byte[] { 0x80 }, ref pos, out _));
        Assert.Equal(0, pos);
        Assert.False(Varint.TryReadVarlong(Enumerable.Repeat((byte)0xFF, 11).ToArray(), ref pos, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(63)]
    [InlineData(-64)]
    [InlineData(64)]
    [InlineData(99)]
    [InlineData(8191)]
    [InlineData(-8192)]
    [InlineData(8192)]
    [InlineData(int.MaxValue)]
    [InlineData(int.MinValue)]
    public void TryReadVarintAgreesWithReadVarintAtEveryLengthAndPosition(int value)
    {
        // One- and two-byte varints have a fast path; each value is read alone, after a prefix, and cut short.
        var buf = new byte[8];
        int size = Varint.WriteVarint(buf.AsSpan(3), value);
        foreach (int start in new[] { 0, 3 })
        {
            var span = start == 0 ? buf.AsSpan(3, size) : buf.AsSpan(0, 3 + size);
            int pos = start;
            Assert.True(Varint.TryReadVarint(span, ref pos, out int read));
            Assert.Equal(value, read);
            Assert.Equal(start + size, pos);
            pos = start;
            Assert.False(Varint.TryReadVarint(span[..^1], ref pos, out _));
            Assert.Equal(start, pos);
        }
    }
}
