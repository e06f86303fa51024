using System.Text;
using PSKafka.Engine.Storage;

namespace PSKafka.Tests.Storage;

public class Crc32CTests
{
    [Fact]
    public void CheckValue_123456789()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0xE3069283u, Crc32C.ComputeWithTable(Encoding.ASCII.GetBytes("123456789")));
    }

    // RFC 3720 (iSCSI) appendix B.4 test vectors; the RFC lists the CRC bytes little-endian.
    [Theory]
    [InlineData(0x00, 0x8A9136AAu)]
    [InlineData(0xFF, 0x62A8AB43u)]
    public void Rfc3720_32ConstantBytes(byte fill, uint expected)
    {
        var data = Enumerable.Repeat(fill, 32).ToArray();
        Assert.Equal(expected, Crc32C.Compute(data));
        Assert.Equal(expected, Crc32C.ComputeWithTable(data));
    }

    [Fact]
    public void Rfc3720_IncreasingAndDecreasing()
    {
        var inc = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        var dec = Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray();
        Assert.Equal(0x46DD794Eu, Crc32C.Compute(inc));
        Assert.Equal(0x113FDB5Cu, Crc32C.Compute(dec));
    }

    [Fact]
    public void Rfc3720_ScsiReadCommand()
    {
        byte[] cmd =
        [
            0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
            0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        Assert.Equal(0xD9963A56u, Crc32C.Compute(cmd));
    }

    [Fact]
    public void IntrinsicAndTablePathsAgree_AndAppendChains()
    {
        var rnd = new Random(42);
        for (int len = 0; len < 300; len += 7)
        {
            var data = new byte[len];
            rnd.NextBytes(data);
            uint whole = Crc32C.Compute(data);
            Assert.Equal(Crc32C.ComputeWithTable(data), whole);
            int cut = len / 3;
            Assert.Equal(whole, Crc32C.Append(Crc32C.Compute(data.AsSpan(0, cut)), data.AsSpan(cut)));
        }
    }

    [Theory]
    [InlineData(3 * 4096 - 1)]
    [InlineData(3 * 4096)]
    [InlineData(3 * 4096 + 13)]
    [InlineData(6 * 4096)]
    [InlineData(1_000_003)]
    public void ThreeStreamPathAgreesWithTheTable(int length)
    {
        // Buffers of three 4 KB blocks and more take the interleaved path with its shift tables.
        var data = new byte[length];
        new Random(length).NextBytes(data);
        Assert.Equal(Crc32C.ComputeWithTable(data), Crc32C.Compute(data));
        int cut = length / 2 + 5;
        Assert.Equal(Crc32C.Compute(data), Crc32C.Append(Crc32C.Compute(data.AsSpan(0, cut)), data.AsSpan(cut)));
    }
}
