using PSKafka.Engine.Logging;
using PSKafka.Engine.Network;
using PSKafka.Engine.Protocol.Messages;

namespace PSKafka.Engine.Protocol;

/// <summary>
/// Kafka's request dispatcher: reads the request header, answers ApiVersions itself from
/// <see cref="ApiVersionTable"/>, parses every other request and routes it to <see cref="IKafkaApi"/>.
/// Like Kafka it closes the connection for unknown API keys, unsupported versions (except ApiVersions,
/// KIP-511) and malformed requests.
/// </summary>
public sealed class KafkaProtocolHandler(IKafkaApi api, KafkaLogger? log = null) : IRequestHandler
{
    readonly IKafkaApi _api = api;
    readonly KafkaLogger _log = log ?? KafkaLogger.None;
    long _rejected;

    /// <summary>Requests that closed their connection (unknown key, bad version, malformed); for tests and diagnostics.</summary>
    public long RejectedRequests => Interlocked.Read(ref _rejected);

    public async ValueTask<ResponseBody?> HandleAsync(ReadOnlyMemory<byte> request, ConnectionContext connection, CancellationToken cancellationToken)
    {
        IApiMessage body;
        RequestContext context;
        ApiVersionRange range;
        short responseHeaderVersion;
        short apiKey = -1, version = -1;
        try
        {
            var r = new ProtocolReader(request);
            // The first 8 bytes mean the same in every header version, so even a request we cannot parse further can be answered.
            apiKey = r.ReadInt16();
            version = r.ReadInt16();
            int correlationId = r.ReadInt32();
            if (!ApiVersionTable.TryGet(apiKey, out range))
                return Reject(connection, $"unknown API key {apiKey}");
            if (!range.Supports(version))
                return range.ApiKey == ApiKey.ApiVersions ? ApiVersionsUnsupported(correlationId)
                    : Reject(connection, $"unsupported version {version} of {range.ApiKey} (supported: {range.MinVersion}-{range.MaxVersion})");

            r = new ProtocolReader(request);
            var header = RequestHeader.Read(ref r, ApiVersionTable.RequestHeaderVersion(range, version));
            body = KafkaApiRouter.ReadRequest(range.ApiKey, ref r, version);
            context = new RequestContext(version, correlationId, header.ClientId, connection);
            responseHeaderVersion = ApiVersionTable.ResponseHeaderVersion(range, version);
        }
        catch (ProtocolException e)
        {
            return Reject(connection, $"malformed request (API key {apiKey}, version {version}): {e.Message}");
        }

        try
        {
            IApiMessage response;
            if (body is ApiVersionsRequest)
            {
                response = ApiVersions(ErrorCode.None);
            }
            else
            {
                response = await KafkaApiRouter.InvokeAsync(_api, body, context, cancellationToken).ConfigureAwait(false);
                if (body is ProduceRequest { Acks: 0 }) return null; // acks=0: the client expects no answer
            }
            try
            {
                return Frame(context.CorrelationId, responseHeaderVersion, response, context.ApiVersion);
            }
            finally
            {
                (response as IPooledResponse)?.ReturnBuffers(); // the frame holds its own copy of the records now
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // An API that failed without an answer of its own: this connection ends, the broker and other clients go on.
            _log.Error($"Unexpected error handling request {range.ApiKey} v{context.ApiVersion} correlationId {context.CorrelationId} " +
                $"from {connection.RemoteEndPoint} (clientId {context.ClientId}); closing connection", e);
            Interlocked.Increment(ref _failed);
            LastFailure = e;
            connection.RequestClose();
            return null;
        }
    }

    long _failed;

    /// <summary>Requests whose API method or response encoding threw (their connection was closed); for tests and diagnostics.</summary>
    public long FailedRequests => Interlocked.Read(ref _failed);

    /// <summary>The most recent such failure, for diagnostics.</summary>
    public Exception? LastFailure { get; private set; }

    ResponseBody? Reject(ConnectionContext connection, string reason)
    {
        _log.Warn($"Closing connection from {connection.RemoteEndPoint}: {reason}");
        Interlocked.Increment(ref _rejected);
        connection.RequestClose();
        return null;
    }

    /// <summary>KIP-511: a too-new ApiVersions request gets a v0 response with UNSUPPORTED_VERSION that still
    /// lists our ranges, so the client can retry with a version we speak.</summary>
    static ResponseBody ApiVersionsUnsupported(int correlationId) =>
        Frame(correlationId, 0, ApiVersions(ErrorCode.UnsupportedVersion), 0);

    static ApiVersionsResponse ApiVersions(ErrorCode error) => new()
    {
        ErrorCode = (short)error,
        ApiKeys = ApiVersionTable.All
            .Select(a => new ApiVersionsResponse.ApiVersion { ApiKey = (short)a.ApiKey, MinVersion = a.MinVersion, MaxVersion = a.MaxVersion })
            .ToList(),
    };

    static ResponseBody Frame(int correlationId, short headerVersion, IApiMessage response, short version)
    {
        var w = ProtocolWriter.ForFrame(response is IResponseSizeHint hint ? hint.SizeHint : 256);
        try
        {
            new ResponseHeader { CorrelationId = correlationId }.Write(w, headerVersion);
            response.Write(w, version);
            return w.DetachFrame();
        }
        finally
        {
            w.Dispose();
        }
    }
}
