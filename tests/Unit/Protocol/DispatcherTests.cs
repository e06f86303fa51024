using System.Buffers.Binary;
using PSKafka.Engine.Network;
using PSKafka.Engine.Protocol;
using PSKafka.Engine.Protocol.Messages;

namespace PSKafka.Tests.Protocol;

public class DispatcherTests
{
    readonly FakeKafkaApi _api = new();
    readonly KafkaProtocolHandler _handler;

    public DispatcherTests() => _handler = new KafkaProtocolHandler(_api);

    async Task<(ResponseBody? Response, ConnectionContext Connection)> Send(byte[] payload)
    {
        var connection = new ConnectionContext(1, null, null);
        return (await _handler.HandleAsync(payload, connection, default), connection);
    }

    [Fact]
    public void Version_table_comes_from_the_definitions_and_covers_every_api_method()
    {
        Assert.Equal(24, ApiVersionTable.All.Count);
        Assert.Equal(ApiVersionTable.All.Count - 1, typeof(IKafkaApi).GetMethods().Length); // ApiVersions is the dispatcher's
        Assert.True(ApiVersionTable.TryGet((short)ApiKey.Metadata, out var metadata));
        Assert.Equal((0, 12, 9), (metadata.MinVersion, metadata.MaxVersion, metadata.FirstFlexibleVersion));
        Assert.Equal(MetadataRequest.HighestSupportedVersion, metadata.MaxVersion);
    }

    [Theory]
    [InlineData(ApiKey.Metadata, 8, 1, 0)]
    [InlineData(ApiKey.Metadata, 9, 2, 1)]
    [InlineData(ApiKey.ApiVersions, 3, 2, 0)]
    [InlineData(ApiKey.Fetch, 12, 2, 1)]
    public void Header_versions_follow_flexibility(ApiKey key, short version, short requestHeader, short responseHeader)
    {
        ApiVersionTable.TryGet((short)key, out var range);
        Assert.Equal(requestHeader, ApiVersionTable.RequestHeaderVersion(range, version));
        Assert.Equal(responseHeader, ApiVersionTable.ResponseHeaderVersion(range, version));
    }

    [Theory]
    [MemberData(nameof(RoundTripTests.Cases), MemberType = typeof(RoundTripTests))]
    public async Task Every_request_version_is_routed_and_answered_with_the_right_header(string typeName, short version)
    {
        if (!typeName.EndsWith("Request")) return;
        var body = (IApiMessage)Activator.CreateInstance(MessageFixtures.Find(typeName))!;
        if (body is ProduceRequest produce) produce.Acks = 1;
        var (response, connection) = await Send(MessageFixtures.RequestPayload(body, version, 42));
        Assert.False(connection.CloseRequested);
        using (response)
        {
            var payload = response!.Payload;
            Assert.Equal(42, BinaryPrimitives.ReadInt32BigEndian(payload.Span));
            ApiVersionTable.TryGet((short)body.ApiKey, out var range);
            var r = new ProtocolReader(payload);
            ResponseHeader.Read(ref r, ApiVersionTable.ResponseHeaderVersion(range, version));
            var responseType = MessageFixtures.Find(typeName.Replace("Request", "Response"));
            MessageFixtures.Read(responseType, r.ReadRemaining().ToArray(), version); // parses completely
        }
    }

    [Fact]
    public async Task ApiVersions_too_new_gets_v0_unsupported_version_listing_our_ranges()
    {
        var payload = MessageFixtures.RequestPayload(new ApiVersionsRequest(), 3, 5);
        BinaryPrimitives.WriteInt16BigEndian(payload.AsSpan(2), 99); // pretend a future version with an unknown body
        var (response, connection) = await Send(payload);
        Assert.False(connection.CloseRequested);
        var r = new ProtocolReader(response!.Payload);
        Assert.Equal(5, ResponseHeader.Read(ref r, 0).CorrelationId);
        var body = ApiVersionsResponse.Read(ref r, 0);
        Assert.Equal(35, body.ErrorCode);
        Assert.Contains(body.ApiKeys, k => k.ApiKey == 18 && k.MinVersion == 0 && k.MaxVersion == 3);
        Assert.Equal(ApiVersionTable.All.Count, body.ApiKeys.Count);
    }

    [Fact]
    public async Task Unknown_key_unsupported_version_and_malformed_body_close_the_connection()
    {
        var unknown = MessageFixtures.RequestPayload(new MetadataRequest(), 1, 1);
        BinaryPrimitives.WriteInt16BigEndian(unknown, 999);
        var tooNew = MessageFixtures.RequestPayload(new MetadataRequest(), 1, 1);
        BinaryPrimitives.WriteInt16BigEndian(tooNew.AsSpan(2), 13);
        var truncated = MessageFixtures.RequestPayload(new MetadataRequest { Topics = [new() { Name = "abc" }] }, 1, 1)[..^1];
        foreach (var payload in new[] { unknown, tooNew, truncated, [0, 3, 0], [] })
        {
            var (response, connection) = await Send(payload);
            Assert.Null(response);
            Assert.True(connection.CloseRequested);
        }
        Assert.Equal(0, _api.Calls);
        Assert.Equal(5, _handler.RejectedRequests);
    }

    [Fact]
    public async Task Acks_zero_produce_is_handled_but_not_answered()
    {
        var (response, connection) = await Send(MessageFixtures.RequestPayload(new ProduceRequest { Acks = 0 }, 7, 1));
        Assert.Null(response);
        Assert.False(connection.CloseRequested);
        Assert.Equal(1, _api.Calls);
    }
}
