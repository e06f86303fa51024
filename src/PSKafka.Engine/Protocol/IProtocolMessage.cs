namespace PSKafka.Engine.Protocol;

/// <summary>Anything with a Kafka wire encoding: messages, their nested structs, headers.</summary>
public interface IProtocolMessage
{
    /// <summary>Writes this in the layout of <paramref name="version"/>; throws KafkaException(UnsupportedVersion)
    /// when a set, non-ignorable field cannot be carried by that version.</summary>
    void Write(ProtocolWriter w, short version);
}

public interface IProtocolMessage<TSelf> : IProtocolMessage where TSelf : IProtocolMessage<TSelf>
{
    /// <summary>Reads the layout of <paramref name="version"/>; throws ProtocolException on malformed input.</summary>
    static abstract TSelf Read(ref ProtocolReader r, short version);
}

/// <summary>A request or response body of one API.</summary>
public interface IApiMessage : IProtocolMessage
{
    ApiKey ApiKey { get; }

    bool IsRequest { get; }
}

public interface IApiMessage<TSelf> : IApiMessage, IProtocolMessage<TSelf> where TSelf : IApiMessage<TSelf>;

/// <summary>Supported versions of one API; versions from <see cref="FirstFlexibleVersion"/> use compact encodings and tagged fields.</summary>
public readonly record struct ApiVersionRange(ApiKey ApiKey, short MinVersion, short MaxVersion, short FirstFlexibleVersion)
{
    public bool Supports(short version) => version >= MinVersion && version <= MaxVersion;

    public bool IsFlexible(short version) => version >= FirstFlexibleVersion;
}

public static partial class ApiVersionTable
{
    // Lazy: static initializers in different files of a partial class run in no defined order.
    static Dictionary<short, ApiVersionRange>? s_byKey;

    static Dictionary<short, ApiVersionRange> ByKey => s_byKey ??= All.ToDictionary(r => (short)r.ApiKey);

    public static bool TryGet(short apiKey, out ApiVersionRange range) => ByKey.TryGetValue(apiKey, out range);

    /// <summary>Flexible versions use request header v2 (tagged fields); older ones v1.</summary>
    public static short RequestHeaderVersion(ApiVersionRange api, short version) => api.IsFlexible(version) ? (short)2 : (short)1;

    /// <summary>Flexible versions use response header v1, except ApiVersions: a client must be able to read the
    /// response before it knows which versions we speak, so that header never changes (v0).</summary>
    public static short ResponseHeaderVersion(ApiVersionRange api, short version) =>
        api.ApiKey != ApiKey.ApiVersions && api.IsFlexible(version) ? (short)1 : (short)0;
}

/// <summary>Where a generated property exists on the wire: versions, nullable versions (empty when Min &gt; Max) and tag (-1 = not tagged).</summary>
public sealed record ProtocolFieldInfo(string Name, short MinVersion, short MaxVersion, short NullableMinVersion, short NullableMaxVersion, int Tag)
{
    public bool IsPresent(short version) => version >= MinVersion && version <= MaxVersion;

    public bool IsNullable(short version) => version >= NullableMinVersion && version <= NullableMaxVersion;
}
