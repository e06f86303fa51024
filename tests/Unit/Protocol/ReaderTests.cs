using PSKafka.Engine;
using PSKafka.Engine.Protocol;
using PSKafka.Engine.Protocol.Messages;

namespace PSKafka.Tests.Protocol;

/// <summary>Malformed input is rejected with ProtocolException before anything large is allocated.</summary>
public class ReaderTests
{
    static void Rejects(byte[] bytes, ReadAction read)
    {
        Assert.Throws<ProtocolException>(() => { var r = new ProtocolReader(bytes); read(ref r); });
    }

    delegate void ReadAction(ref ProtocolReader r);

    [Fact]
    public void Lengths_past_the_end_are_rejected()
    {
        Rejects([0, 5, (byte)'a'], (ref ProtocolReader r) => r.ReadString(false));
        Rejects([6, (byte)'a'], (ref ProtocolReader r) => r.ReadString(true));
        Rejects([0x7F, 0xFF, 0xFF, 0xFF], (ref ProtocolReader r) => r.ReadBytes(false));
        Rejects([0xFF, 0xFF, 0xFF, 0xFF, 0x0F], (ref ProtocolReader r) => r.ReadBytes(true));
        Rejects([0x7F, 0xFF, 0xFF, 0xFF, 0], (ref ProtocolReader r) => r.ReadRecords(false, true));
        Rejects([0x7F, 0xFF, 0xFF, 0xFF], (ref ProtocolReader r) => r.ReadArrayLength(false, 1, true));
        Rejects([0x05, 1, 2], (ref ProtocolReader r) => r.ReadTaggedFieldBody());
    }

    [Fact]
    public void Negative_and_null_lengths_are_checked()
    {
        Rejects([0xFF, 0xFE], (ref ProtocolReader r) => r.ReadNullableString(false, true));
        Rejects([0xFF, 0xFF], (ref ProtocolReader r) => r.ReadString(false));
        Rejects([0], (ref ProtocolReader r) => r.ReadString(true));
        Rejects([0xFF, 0xFF, 0xFF, 0xFE], (ref ProtocolReader r) => r.ReadArrayLength(false, 1, true));
        Rejects([0xFF, 0xFF, 0xFF, 0xFF], (ref ProtocolReader r) => r.ReadArrayLength(false, 1, nullable: false));
        var ok = new ProtocolReader(new byte[] { 0xFF, 0xFF });
        Assert.Null(ok.ReadNullableString(false, true));
    }

    [Fact]
    public void Overlong_varints_and_bad_bools_and_utf8_are_rejected()
    {
        Rejects([0x80, 0x80, 0x80, 0x80, 0x10], (ref ProtocolReader r) => r.ReadUnsignedVarint());
        Rejects([0x80, 0x80, 0x80, 0x80, 0x80, 0x01], (ref ProtocolReader r) => r.ReadUnsignedVarint());
        Rejects([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02], (ref ProtocolReader r) => r.ReadUnsignedVarlong());
        Rejects([2], (ref ProtocolReader r) => r.ReadBool());
        Rejects([0, 2, 0xC3, 0x28], (ref ProtocolReader r) => r.ReadString(false));
    }

    [Fact]
    public void Metadata_request_claiming_int_max_topics_is_rejected_without_allocating()
    {
        // v1 body: topics array count 2^31-1 followed by a handful of bytes.
        byte[] body = [0x7F, 0xFF, 0xFF, 0xFF, 0, 1, (byte)'a'];
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Throws<ProtocolException>(() => { var r = new ProtocolReader(body); MetadataRequest.Read(ref r, 1); });
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 * 1024);
        // Flexible (compact) count near 2^32 likewise.
        byte[] compact = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0];
        Assert.Throws<ProtocolException>(() => { var r = new ProtocolReader(compact); MetadataRequest.Read(ref r, 12); });
    }

    [Fact]
    public void Tagged_field_whose_body_is_longer_than_its_value_is_rejected()
    {
        // ApiVersions v3 response with FinalizedFeaturesEpoch (tag 1) declared as 9 bytes: an int64 plus one stray byte.
        byte[] bytes = [0, 0, 1, 0, 0, 0, 0, 1, 1, 9, 0, 0, 0, 0, 0, 0, 0, 1, 0xAA];
        Assert.Throws<ProtocolException>(() => MessageFixtures.ReadAs<ApiVersionsResponse>(bytes, 3));
    }
}
