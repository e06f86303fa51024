using PSKafka.Engine;
using CK = Confluent.Kafka;

namespace PSKafka.Client;

/// <summary>Turns Confluent.Kafka's errors into ours: Kafka's error codes pass through, librdkafka's local ones are named.</summary>
internal static class RemoteErrors
{
    /// <summary>librdkafka's codes for "no broker answered".</summary>
    public static bool IsUnreachable(CK.ErrorCode code) => code is CK.ErrorCode.Local_Transport or CK.ErrorCode.Local_AllBrokersDown
        or CK.ErrorCode.Local_TimedOut or CK.ErrorCode.Local_Resolve or CK.ErrorCode.Local_TimedOutQueue;

    public static ErrorCode ToErrorCode(CK.ErrorCode code) => code switch
    {
        // Broker errors carry Kafka's own numbers.
        > 0 => (ErrorCode)(int)code,
        CK.ErrorCode.NoError => ErrorCode.None,
        CK.ErrorCode.Local_UnknownTopic or CK.ErrorCode.Local_UnknownPartition => ErrorCode.UnknownTopicOrPartition,
        CK.ErrorCode.Local_TimedOut or CK.ErrorCode.Local_MsgTimedOut or CK.ErrorCode.Local_TimedOutQueue => ErrorCode.RequestTimedOut,
        CK.ErrorCode.Local_BadMsg => ErrorCode.CorruptMessage,
        CK.ErrorCode.Local_Transport or CK.ErrorCode.Local_AllBrokersDown or CK.ErrorCode.Local_Resolve => ErrorCode.BrokerNotAvailable,
        CK.ErrorCode.Local_UnsupportedFeature => ErrorCode.UnsupportedVersion,
        CK.ErrorCode.Local_InvalidArg => ErrorCode.InvalidRequest,
        _ => ErrorCode.UnknownServerError,
    };

    /// <summary>An exception for a failed call against <paramref name="connection"/>.</summary>
    public static KafkaException From(CK.Error error, RemoteConnection connection, string what, Exception? inner = null)
    {
        // Admin requests that go to the controller (CreateTopics, DeleteTopics, DescribeCluster) wait for one;
        // a cluster that names none (librdkafka's mock) answers everything else, so it is not unreachable.
        if (error.Reason.Contains("waiting for controller", StringComparison.OrdinalIgnoreCase))
            return new NotSupportedRemotelyException(
                $"The cluster at {connection.BootstrapServers} named no controller within {connection.Timeout.TotalSeconds:0.#} s, so {what} is not possible there.");
        if (IsUnreachable(error.Code))
            return new ClusterUnreachableException(
                $"The Kafka cluster at {connection.BootstrapServers} could not be reached within {connection.Timeout.TotalSeconds:0.#} s ({what}: {error.Reason}).", inner);
        if (error.Code == CK.ErrorCode.Local_UnsupportedFeature || error.Code == CK.ErrorCode.UnsupportedVersion)
            return new NotSupportedRemotelyException($"The cluster at {connection.BootstrapServers} does not support {what}: {error.Reason}.");
        return new KafkaException(ToErrorCode(error.Code), $"{Capitalize(what)} failed: {error.Reason}", inner!);
    }

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
