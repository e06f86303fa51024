using System.Management.Automation;
using PSKafka.Engine;

namespace PSKafka.Cmdlets.Infrastructure;

/// <summary>
/// The ErrorIds of PSKafka: a contract (scripts and tests match on them), so never rename one.
/// Kafka error codes map to them in one place.
/// </summary>
public static class ErrorIds
{
    public const string InvalidTopicName = "InvalidTopicName";
    public const string TopicAlreadyExists = "TopicAlreadyExists";
    public const string TopicNotFound = "TopicNotFound";
    public const string PartitionNotFound = "PartitionNotFound";
    public const string InvalidPartitions = "InvalidPartitions";
    public const string InvalidReplicationFactor = "InvalidReplicationFactor";
    public const string InvalidConfig = "InvalidConfig";
    public const string MessageTooLarge = "MessageTooLarge";
    public const string NoBrokerRunning = "NoBrokerRunning";
    public const string BrokerNotFound = "BrokerNotFound";
    public const string BrokerAlreadyRunning = "BrokerAlreadyRunning";
    public const string DataDirectoryInUse = "DataDirectoryInUse";
    public const string PortInUse = "PortInUse";
    public const string NotEnoughReplicas = "NotEnoughReplicas";
    public const string LeaderNotAvailable = "LeaderNotAvailable";
    public const string OffsetOutOfRange = "OffsetOutOfRange";
    public const string CorruptMessage = "CorruptMessage";
    public const string InvalidMessage = "InvalidMessage";
    public const string InvalidOffset = "InvalidOffset";
    public const string RequestTimedOut = "RequestTimedOut";
    public const string ReplicaNotFound = "ReplicaNotFound";
    public const string LogFileNotFound = "LogFileNotFound";
    public const string UnsupportedLogFile = "UnsupportedLogFile";
    public const string NoTerminal = "NoTerminal";
    public const string ClusterUnreachable = "ClusterUnreachable";
    public const string NotSupportedRemotely = "NotSupportedRemotely";
    public const string KafkaError = "KafkaError";
    public const string ConsumerGroupNotFound = "ConsumerGroupNotFound";
    public const string ConsumerGroupNotEmpty = "ConsumerGroupNotEmpty";
    public const string InvalidGroupId = "InvalidGroupId";
    public const string CommitFailed = "CommitFailed";
    public const string CoordinatorNotAvailable = "CoordinatorNotAvailable";
    public const string InconsistentGroupProtocol = "InconsistentGroupProtocol";
    public const string InvalidSessionTimeout = "InvalidSessionTimeout";
    public const string NotFromGroupConsumer = "NotFromGroupConsumer";
    public const string NoCommittedOffset = "NoCommittedOffset";
    public const string BrokerLogNotFound = "BrokerLogNotFound";
    public const string AccessLogNotFound = "AccessLogNotFound";
    public const string InvalidAccessLogLine = "InvalidAccessLogLine";
    public const string LogGeneratorAlreadyRunning = "LogGeneratorAlreadyRunning";
    public const string LogGeneratorNotFound = "LogGeneratorNotFound";
    public const string LogFileNotWritable = "LogFileNotWritable";
    public const string PathNotFileSystem = "PathNotFileSystem";

    public static (string ErrorId, ErrorCategory Category) For(ErrorCode code) => code switch
    {
        ErrorCode.InvalidTopicException => (InvalidTopicName, ErrorCategory.InvalidArgument),
        ErrorCode.TopicAlreadyExists => (TopicAlreadyExists, ErrorCategory.ResourceExists),
        ErrorCode.UnknownTopicOrPartition => (TopicNotFound, ErrorCategory.ObjectNotFound),
        ErrorCode.InvalidPartitions => (InvalidPartitions, ErrorCategory.InvalidArgument),
        ErrorCode.InvalidReplicationFactor => (InvalidReplicationFactor, ErrorCategory.InvalidArgument),
        ErrorCode.InvalidConfig => (InvalidConfig, ErrorCategory.InvalidArgument),
        ErrorCode.MessageTooLarge or ErrorCode.RecordListTooLarge => (MessageTooLarge, ErrorCategory.LimitsExceeded),
        ErrorCode.BrokerNotAvailable => (NoBrokerRunning, ErrorCategory.ConnectionError),
        ErrorCode.NotEnoughReplicas or ErrorCode.NotEnoughReplicasAfterAppend => (NotEnoughReplicas, ErrorCategory.ResourceUnavailable),
        ErrorCode.LeaderNotAvailable or ErrorCode.NotLeaderOrFollower => (LeaderNotAvailable, ErrorCategory.ResourceUnavailable),
        ErrorCode.OffsetOutOfRange => (OffsetOutOfRange, ErrorCategory.InvalidArgument),
        ErrorCode.CorruptMessage or ErrorCode.InvalidRecord => (CorruptMessage, ErrorCategory.InvalidData),
        ErrorCode.RequestTimedOut => (RequestTimedOut, ErrorCategory.OperationTimeout),
        ErrorCode.ReplicaNotAvailable => (ReplicaNotFound, ErrorCategory.ObjectNotFound),
        ErrorCode.GroupIdNotFound => (ConsumerGroupNotFound, ErrorCategory.ObjectNotFound),
        ErrorCode.NonEmptyGroup => (ConsumerGroupNotEmpty, ErrorCategory.ResourceBusy),
        ErrorCode.InvalidGroupId => (InvalidGroupId, ErrorCategory.InvalidArgument),
        ErrorCode.IllegalGeneration or ErrorCode.UnknownMemberId or ErrorCode.RebalanceInProgress => (CommitFailed, ErrorCategory.InvalidOperation),
        ErrorCode.CoordinatorNotAvailable or ErrorCode.NotCoordinator or ErrorCode.CoordinatorLoadInProgress => (CoordinatorNotAvailable, ErrorCategory.ResourceUnavailable),
        ErrorCode.InconsistentGroupProtocol => (InconsistentGroupProtocol, ErrorCategory.InvalidArgument),
        ErrorCode.InvalidSessionTimeout => (InvalidSessionTimeout, ErrorCategory.InvalidArgument),
        _ => (KafkaError, ErrorCategory.NotSpecified),
    };
}
