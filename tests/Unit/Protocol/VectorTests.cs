using System.Text;
using PSKafka.Engine.Network;
using PSKafka.Engine.Protocol;
using PSKafka.Engine.Protocol.Messages;

namespace PSKafka.Tests.Protocol;

/// <summary>Byte-exact encodings worked out by hand from the Kafka protocol guide.</summary>
public class VectorTests
{
    static byte[] B(params object[] parts)
    {
        var list = new List<byte>();
        foreach (var p in parts)
            if (p is string s) list.AddRange(Encoding.UTF8.GetBytes(s));
            else if (p is int i) list.Add((byte)i);
            else list.AddRange((byte[])p);
        return list.ToArray();
    }

    [Fact]
    public void ApiVersions_v0_request()
    {
        var payload = MessageFixtures.RequestPayload(new ApiVersionsRequest(), 0, correlationId: 1, clientId: "test");
        // header v1: api key 18, version 0, correlation 1, int16-length client id; empty body.
        Assert.Equal(B(0, 18, 0, 0, 0, 0, 0, 1, 0, 4, "test"), payload);
        Assert.Equal(B(0, 0, 0, 14), MessageFixtures.Framed(payload)[..4]);
    }

    [Fact]
    public void Metadata_v1_request_with_one_topic_and_with_all_topics()
    {
        var req = new MetadataRequest { Topics = [new() { Name = "foo" }] };
        Assert.Equal(B(0, 3, 0, 1, 0, 0, 0, 7, 0, 1, "c", 0, 0, 0, 1, 0, 3, "foo"), MessageFixtures.RequestPayload(req, 1, 7, "c"));
        // v1+: a null array (-1) asks for all topics.
        Assert.Equal(B(0, 3, 0, 1, 0, 0, 0, 7, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF),
            MessageFixtures.RequestPayload(new MetadataRequest { Topics = null }, 1, 7, clientId: null));
    }

    [Fact]
    public void ApiVersions_v3_request_is_flexible_but_keeps_a_classic_client_id()
    {
        var req = new ApiVersionsRequest { ClientSoftwareName = "librdkafka", ClientSoftwareVersion = "2.6.1" };
        var expected = B(0, 18, 0, 3, 0, 0, 0, 2, 0, 7, "rdkafka", 0, // header v2: classic client id, empty tagged section
            11, "librdkafka", 6, "2.6.1", 0);                         // compact strings (length+1), empty tagged section
        var payload = MessageFixtures.RequestPayload(req, 3, 2, "rdkafka");
        Assert.Equal(expected, payload);

        var r = new ProtocolReader(payload);
        var header = RequestHeader.Read(ref r, 2);
        Assert.Equal(("rdkafka", 2), (header.ClientId, header.CorrelationId));
        Assert.Equal("librdkafka", ApiVersionsRequest.Read(ref r, 3).ClientSoftwareName);
    }

    [Fact]
    public async Task ApiVersions_v3_response_uses_header_v0_and_compact_body()
    {
        var handler = new KafkaProtocolHandler(new FakeKafkaApi());
        var payload = MessageFixtures.RequestPayload(new ApiVersionsRequest { ClientSoftwareName = "x", ClientSoftwareVersion = "1" }, 3, 0x01020304);
        using var response = (await handler.HandleAsync(payload, new ConnectionContext(1, null, null), default))!;
        var p = response.Payload.ToArray();
        int n = ApiVersionTable.All.Count;
        // correlation id, no header tagged fields; error 0; compact array of n (n+1); first entry Produce 0..9 + its empty tag section.
        Assert.Equal(B(1, 2, 3, 4, 0, 0, n + 1, 0, 0, 0, 0, 0, 9, 0), p[..14]);
        // ... last: throttle time 0 and an empty tagged section.
        Assert.Equal(B(0, 0, 0, 0, 0), p[^5..]);
        Assert.Equal(4 + 2 + 1 + n * 7 + 4 + 1, p.Length);
    }

    [Fact]
    public void Varints_match_the_protocol_guide()
    {
        using var w = new ProtocolWriter();
        w.WriteUnsignedVarint(300);      // AC 02
        w.WriteVarint(-1);               // zigzag 1
        w.WriteVarint(1);                // zigzag 2
        w.WriteVarlong(long.MinValue);   // all ones, 10 bytes
        w.WriteUnsignedVarint(uint.MaxValue);
        Assert.Equal(B(0xAC, 0x02, 0x01, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F), w.WrittenSpan.ToArray());
        var r = new ProtocolReader(w.WrittenMemory);
        Assert.Equal(300u, r.ReadUnsignedVarint());
        Assert.Equal(-1, r.ReadVarint());
        Assert.Equal(1, r.ReadVarint());
        Assert.Equal(long.MinValue, r.ReadVarlong());
        Assert.Equal(uint.MaxValue, r.ReadUnsignedVarint());
        Assert.True(r.IsAtEnd);
    }

    [Fact]
    public void Uuid_is_two_big_endian_longs()
    {
        using var w = new ProtocolWriter();
        w.WriteUuid(new Uuid(0x0102030405060708, -1));
        Assert.Equal(B(1, 2, 3, 4, 5, 6, 7, 8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF), w.WrittenSpan.ToArray());
    }
}
