using System.Buffers.Binary;
using System.Collections;
using System.Reflection;
using PSKafka.Engine.Network;
using PSKafka.Engine.Protocol;
using PSKafka.Engine.Protocol.Messages;

namespace PSKafka.Tests.Protocol;

/// <summary>Builds random but valid message instances from the generated FieldInfos, and compares them deeply.</summary>
internal static class MessageFixtures
{
    public static readonly Type[] MessageTypes = typeof(MetadataRequest).Assembly.GetTypes()
        .Where(t => t.Namespace == typeof(MetadataRequest).Namespace && !t.IsNested && typeof(IProtocolMessage).IsAssignableFrom(t))
        .OrderBy(t => t.Name, StringComparer.Ordinal)
        .ToArray();

    public static short Lowest(Type t) => (short)t.GetField("LowestSupportedVersion")!.GetValue(null)!;
    public static short Highest(Type t) => (short)t.GetField("HighestSupportedVersion")!.GetValue(null)!;
    public static short FirstFlexible(Type t) => (short)t.GetField("FirstFlexibleVersion")!.GetValue(null)!;

    public static IEnumerable<object[]> AllMessageVersions()
    {
        foreach (var t in MessageTypes)
            for (short v = Lowest(t); v <= Highest(t); v++)
                yield return [t.Name, v];
    }

    public static Type Find(string name) => MessageTypes.Single(t => t.Name == name);

    public static object Populate(Type type, short version, Random rng)
    {
        bool flexible = version >= FirstFlexible(type);
        var o = Activator.CreateInstance(type)!;
        Fill(o, version, flexible, rng);
        return o;
    }

    static void Fill(object o, short version, bool flexible, Random rng)
    {
        var type = o.GetType();
        var infos = (ProtocolFieldInfo[])type.GetField("FieldInfos")!.GetValue(null)!;
        foreach (var fi in infos)
        {
            if (!fi.IsPresent(version)) continue;
            var prop = type.GetProperty(fi.Name)!;
            if (fi.IsNullable(version) && rng.Next(5) == 0) { prop.SetValue(o, null); continue; }
            prop.SetValue(o, Value(prop.PropertyType, version, flexible, rng));
        }
        if (flexible && rng.Next(3) == 0)
            type.GetProperty("UnknownTaggedFields")!.SetValue(o, new List<RawTaggedField> { new(1000 + rng.Next(5), RandomBytes(rng, 4)) });
    }

    static object Value(Type t, short version, bool flexible, Random rng)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        if (t == typeof(sbyte)) return (sbyte)rng.Next(-128, 128);
        if (t == typeof(short)) return (short)rng.Next(short.MinValue, short.MaxValue);
        if (t == typeof(ushort)) return (ushort)rng.Next(0, ushort.MaxValue);
        if (t == typeof(int)) return rng.Next(int.MinValue, int.MaxValue);
        if (t == typeof(long)) return rng.NextInt64(long.MinValue, long.MaxValue);
        if (t == typeof(double)) return rng.NextDouble() * 1e6;
        if (t == typeof(bool)) return rng.Next(2) == 1;
        if (t == typeof(string)) return new string(Enumerable.Range(0, rng.Next(0, 8)).Select(_ => "abcXYZ-._é€"[rng.Next(11)]).ToArray());
        if (t == typeof(byte[])) return RandomBytes(rng, rng.Next(0, 7));
        if (t == typeof(ReadOnlyMemory<byte>)) return new ReadOnlyMemory<byte>(RandomBytes(rng, rng.Next(0, 12)));
        if (t == typeof(Uuid)) return new Uuid(rng.NextInt64(), rng.NextInt64());
        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(List<>))
        {
            var list = (IList)Activator.CreateInstance(t)!;
            int n = rng.Next(0, 4);
            for (int i = 0; i < n; i++) list.Add(Value(t.GetGenericArguments()[0], version, flexible, rng));
            return list;
        }
        var s = Activator.CreateInstance(t)!; // nested struct
        Fill(s, version, flexible, rng);
        return s;
    }

    static byte[] RandomBytes(Random rng, int n) { var b = new byte[n]; rng.NextBytes(b); return b; }

    public static byte[] Write(IProtocolMessage m, short version)
    {
        using var w = new ProtocolWriter();
        m.Write(w, version);
        return w.WrittenSpan.ToArray();
    }

    static readonly MethodInfo ReadAsMethod = typeof(MessageFixtures).GetMethod(nameof(ReadAs))!;

    /// <summary>A request context of the given API version, from a fixed test client.</summary>
    public static RequestContext Context(short version) =>
        new(version, 1, "test-client", new ConnectionContext(1, null, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 40000)));

    /// <summary>
    /// Calls an API the way a client of that version does: the request goes through the wire at its version (fields it
    /// lacks take their defaults) and the response comes back decoded at it.
    /// </summary>
    public static T Call<TRequest, T>(Func<TRequest, RequestContext, CancellationToken, ValueTask<T>> api, TRequest request, short version)
        where TRequest : IProtocolMessage<TRequest> where T : IProtocolMessage<T>
    {
        var sent = ReadAs<TRequest>(Write(request, version), version);
        var response = api(sent, Context(version), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return ReadAs<T>(Write(response, version), version);
    }

    public static T ReadAs<T>(byte[] bytes, short version) where T : IProtocolMessage<T>
    {
        var r = new ProtocolReader(bytes);
        var o = T.Read(ref r, version);
        r.EnsureConsumed();
        return o;
    }

    public static object Read(Type t, byte[] bytes, short version)
    {
        try { return ReadAsMethod.MakeGenericMethod(t).Invoke(null, [bytes, version])!; }
        catch (TargetInvocationException e) when (e.InnerException is not null) { throw e.InnerException; }
    }

    /// <summary>Deep structural equality; returns the path of the first difference or null.</summary>
    public static string? Diff(object? a, object? b, string path = "")
    {
        if (a is null || b is null) return a is null && b is null ? null : $"{path}: {a ?? "null"} vs {b ?? "null"}";
        if (a is byte[] ba) return ba.AsSpan().SequenceEqual((byte[])b) ? null : $"{path}: bytes differ";
        if (a is ReadOnlyMemory<byte> ma) return ma.Span.SequenceEqual(((ReadOnlyMemory<byte>)b).Span) ? null : $"{path}: records differ";
        if (a is string || a.GetType().IsPrimitive || a is Uuid || a is RawTaggedField) return a.Equals(b) ? null : $"{path}: {a} vs {b}";
        if (a is IList la)
        {
            var lb = (IList)b;
            if (la.Count != lb.Count) return $"{path}: count {la.Count} vs {lb.Count}";
            for (int i = 0; i < la.Count; i++) if (Diff(la[i], lb[i], $"{path}[{i}]") is { } d) return d;
            return null;
        }
        foreach (var p in a.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
            if (Diff(p.GetValue(a), p.GetValue(b), $"{path}.{p.Name}") is { } d) return d;
        return null;
    }

    /// <summary>A request payload (header + body, no size prefix) as a client would send it.</summary>
    public static byte[] RequestPayload(IApiMessage body, short version, int correlationId, string? clientId = "pskafka-test")
    {
        ApiVersionTable.TryGet((short)body.ApiKey, out var range);
        using var w = new ProtocolWriter();
        new RequestHeader { RequestApiKey = (short)body.ApiKey, RequestApiVersion = version, CorrelationId = correlationId, ClientId = clientId }
            .Write(w, ApiVersionTable.RequestHeaderVersion(range, version));
        body.Write(w, version);
        return w.WrittenSpan.ToArray();
    }

    public static byte[] Framed(ReadOnlySpan<byte> payload)
    {
        var f = new byte[payload.Length + 4];
        BinaryPrimitives.WriteInt32BigEndian(f, payload.Length);
        payload.CopyTo(f.AsSpan(4));
        return f;
    }
}

/// <summary>Answers every API with an empty response of the right type, and can be told to throw or delay.</summary>
internal sealed class FakeKafkaApi : IKafkaApi
{
    public int Calls;
    public Func<IApiMessage, Task>? BeforeRespond;

    async ValueTask<T> Answer<T>(IApiMessage request) where T : new()
    {
        Interlocked.Increment(ref Calls);
        if (BeforeRespond is not null) await BeforeRespond(request);
        return new T();
    }

    public ValueTask<ProduceResponse> ProduceAsync(ProduceRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<ProduceResponse>(request);
    public ValueTask<FetchResponse> FetchAsync(FetchRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<FetchResponse>(request);
    public ValueTask<ListOffsetsResponse> ListOffsetsAsync(ListOffsetsRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<ListOffsetsResponse>(request);
    public ValueTask<MetadataResponse> MetadataAsync(MetadataRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<MetadataResponse>(request);
    public ValueTask<OffsetCommitResponse> OffsetCommitAsync(OffsetCommitRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<OffsetCommitResponse>(request);
    public ValueTask<OffsetFetchResponse> OffsetFetchAsync(OffsetFetchRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<OffsetFetchResponse>(request);
    public ValueTask<FindCoordinatorResponse> FindCoordinatorAsync(FindCoordinatorRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<FindCoordinatorResponse>(request);
    public ValueTask<JoinGroupResponse> JoinGroupAsync(JoinGroupRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<JoinGroupResponse>(request);
    public ValueTask<HeartbeatResponse> HeartbeatAsync(HeartbeatRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<HeartbeatResponse>(request);
    public ValueTask<LeaveGroupResponse> LeaveGroupAsync(LeaveGroupRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<LeaveGroupResponse>(request);
    public ValueTask<SyncGroupResponse> SyncGroupAsync(SyncGroupRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<SyncGroupResponse>(request);
    public ValueTask<DescribeGroupsResponse> DescribeGroupsAsync(DescribeGroupsRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<DescribeGroupsResponse>(request);
    public ValueTask<ListGroupsResponse> ListGroupsAsync(ListGroupsRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<ListGroupsResponse>(request);
    public ValueTask<CreateTopicsResponse> CreateTopicsAsync(CreateTopicsRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<CreateTopicsResponse>(request);
    public ValueTask<DeleteTopicsResponse> DeleteTopicsAsync(DeleteTopicsRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<DeleteTopicsResponse>(request);
    public ValueTask<InitProducerIdResponse> InitProducerIdAsync(InitProducerIdRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<InitProducerIdResponse>(request);
    public ValueTask<OffsetForLeaderEpochResponse> OffsetForLeaderEpochAsync(OffsetForLeaderEpochRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<OffsetForLeaderEpochResponse>(request);
    public ValueTask<DescribeConfigsResponse> DescribeConfigsAsync(DescribeConfigsRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<DescribeConfigsResponse>(request);
    public ValueTask<CreatePartitionsResponse> CreatePartitionsAsync(CreatePartitionsRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<CreatePartitionsResponse>(request);
    public ValueTask<DeleteGroupsResponse> DeleteGroupsAsync(DeleteGroupsRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<DeleteGroupsResponse>(request);
    public ValueTask<AlterConfigsResponse> AlterConfigsAsync(AlterConfigsRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<AlterConfigsResponse>(request);
    public ValueTask<ElectLeadersResponse> ElectLeadersAsync(ElectLeadersRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<ElectLeadersResponse>(request);
    public ValueTask<IncrementalAlterConfigsResponse> IncrementalAlterConfigsAsync(IncrementalAlterConfigsRequest request, RequestContext context, CancellationToken cancellationToken) => Answer<IncrementalAlterConfigsResponse>(request);
}
