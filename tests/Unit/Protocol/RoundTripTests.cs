using PSKafka.Engine;
using PSKafka.Engine.Protocol;
using PSKafka.Engine.Protocol.Messages;

namespace PSKafka.Tests.Protocol;

public class RoundTripTests
{
    public static IEnumerable<object[]> Cases() => MessageFixtures.AllMessageVersions();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Populated_message_survives_write_and_read(string typeName, short version)
    {
        var type = MessageFixtures.Find(typeName);
        var rng = new Random(HashCode.Combine(typeName.Length, typeName[0], version));
        for (int i = 0; i < 25; i++)
        {
            var original = (IProtocolMessage)MessageFixtures.Populate(type, version, rng);
            var bytes = MessageFixtures.Write(original, version);
            var read = (IProtocolMessage)MessageFixtures.Read(type, bytes, version);
            Assert.Null(MessageFixtures.Diff(original, read));
            Assert.Equal(bytes, MessageFixtures.Write(read, version));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Default_message_survives_write_and_read(string typeName, short version)
    {
        var type = MessageFixtures.Find(typeName);
        var original = (IProtocolMessage)Activator.CreateInstance(type)!;
        var bytes = MessageFixtures.Write(original, version);
        Assert.Null(MessageFixtures.Diff(original, MessageFixtures.Read(type, bytes, version)));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_truncation_is_rejected_with_ProtocolException(string typeName, short version)
    {
        var type = MessageFixtures.Find(typeName);
        var bytes = MessageFixtures.Write((IProtocolMessage)MessageFixtures.Populate(type, version, new Random(version)), version);
        for (int cut = 0; cut < bytes.Length; cut++)
        {
            var truncated = bytes.AsSpan(0, cut).ToArray();
            try { MessageFixtures.Read(type, truncated, version); }
            catch (ProtocolException) { continue; }
            // Parsing is deterministic, so a strict prefix of a message can never be a whole message.
            Assert.Fail($"cut at {cut} of {bytes.Length} was accepted");
        }
    }

    [Fact]
    public void Writing_a_field_the_version_cannot_carry_throws_unless_ignorable()
    {
        var ex = Assert.Throws<KafkaException>(() => MessageFixtures.Write(new MetadataRequest { AllowAutoTopicCreation = false }, 3));
        Assert.Equal(ErrorCode.UnsupportedVersion, ex.Code);
        // ThrottleTimeMs is ignorable: silently dropped in v0.
        Assert.Equal(MessageFixtures.Write(new ApiVersionsResponse(), 0), MessageFixtures.Write(new ApiVersionsResponse { ThrottleTimeMs = 5 }, 0));
        // Null topics mean "all topics" only from v1.
        Assert.Throws<KafkaException>(() => MessageFixtures.Write(new MetadataRequest { Topics = null }, 0));
    }

    [Fact]
    public void Records_are_a_zero_copy_slice_of_the_frame()
    {
        var batch = new byte[] { 1, 2, 3, 4, 5 };
        var req = new ProduceRequest { Acks = -1, TimeoutMs = 1000 };
        req.TopicData.Add(new ProduceRequest.TopicProduceData { Name = "t" });
        req.TopicData[0].PartitionData.Add(new ProduceRequest.PartitionProduceData { Index = 0, Records = batch });
        var bytes = MessageFixtures.Write(req, 9);
        var r = new ProtocolReader(bytes);
        var back = ProduceRequest.Read(ref r, 9);
        var records = back.TopicData[0].PartitionData[0].Records!.Value;
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(records, out var segment));
        Assert.Same(bytes, segment.Array);
        Assert.Equal(batch, records.ToArray());
    }

    [Fact]
    public void Unknown_tagged_fields_are_kept_in_tag_order_around_known_ones()
    {
        var resp = new ApiVersionsResponse { FinalizedFeaturesEpoch = 7, UnknownTaggedFields = [new(0xFFFF, [9])] };
        var bytes = MessageFixtures.Write(resp, 3);
        var back = MessageFixtures.ReadAs<ApiVersionsResponse>(bytes, 3);
        Assert.Equal(7, back.FinalizedFeaturesEpoch);
        Assert.Equal(new RawTaggedField(0xFFFF, [9]), Assert.Single(back.UnknownTaggedFields!));
        // Tagged section: count 2, then tag 1 (8 bytes), then tag 0xFFFF.
        Assert.Equal(new byte[] { 2, 1, 8, 0, 0, 0, 0, 0, 0, 0, 7, 0xFF, 0xFF, 0x03, 1, 9 }, bytes[^16..]);
    }
}
