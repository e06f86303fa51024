namespace PSKafka.Engine.Logging;

/// <summary>The broker's three log files, as Kafka's config/log4j.properties lays them out.</summary>
public enum BrokerLogFile { Server, Controller, StateChange }

/// <summary>
/// Logger names (categories) as Kafka's classes are named, so a line ends with the same <c>(kafka.cluster.Partition)</c>
/// a Kafka user greps for, and so log levels can be set per logger or per package as with log4j.
/// </summary>
public static class KafkaLoggers
{
    public const string Root = "root";
    public const string KafkaServer = "kafka.server.KafkaServer";
    public const string KafkaConfig = "kafka.server.KafkaConfig";
    public const string KafkaApis = "kafka.server.KafkaApis";
    public const string ReplicaFetcher = "kafka.server.ReplicaFetcherThread";
    public const string SocketServer = "kafka.network.SocketServer";
    public const string Partition = "kafka.cluster.Partition";
    public const string LogManager = "kafka.log.LogManager";
    public const string LogLoader = "kafka.log.LogLoader";
    public const string UnifiedLog = "kafka.log.UnifiedLog";
    public const string LogCleaner = "kafka.log.LogCleaner";
    public const string GroupCoordinator = "kafka.coordinator.group.GroupCoordinator";
    public const string Controller = "kafka.controller.KafkaController";
    public const string StateChange = "state.change.logger";

    /// <summary>
    /// Every logger whose level can be set: the ones the engine writes to and their packages (a package's level applies
    /// to the loggers under it that have none of their own, as in log4j).
    /// </summary>
    public static readonly IReadOnlyList<string> All =
    [
        Root, "kafka", "kafka.server", KafkaServer, KafkaConfig, KafkaApis, ReplicaFetcher,
        "kafka.network", SocketServer, "kafka.cluster", Partition,
        "kafka.log", LogManager, LogLoader, UnifiedLog, LogCleaner,
        "kafka.coordinator", "kafka.coordinator.group", GroupCoordinator, "kafka.controller", Controller, StateChange,
    ];

    /// <summary>The nearest logger above <paramref name="name"/> (its package), or null for the root.</summary>
    public static string? Parent(string name)
    {
        if (name == Root) return null;
        int dot = name.LastIndexOf('.');
        while (dot > 0)
        {
            var parent = name[..dot];
            if (All.Contains(parent)) return parent;
            dot = parent.LastIndexOf('.');
        }
        return Root;
    }

    /// <summary>
    /// Which file a logger writes to, as Kafka's log4j.properties routes them: state.change.logger to state-change.log
    /// and kafka.controller to controller.log (both with additivity=false, so not also in server.log), the rest to server.log.
    /// </summary>
    public static BrokerLogFile FileOf(string? category) =>
        category is null ? BrokerLogFile.Server
        : Under(category, StateChange) ? BrokerLogFile.StateChange
        : Under(category, "kafka.controller") ? BrokerLogFile.Controller
        : BrokerLogFile.Server;

    static bool Under(string category, string logger) =>
        category.StartsWith(logger, StringComparison.Ordinal) && (category.Length == logger.Length || category[logger.Length] == '.');

    /// <summary>The file's base name: server, controller, state-change.</summary>
    public static string BaseName(BrokerLogFile file) => file switch
    {
        BrokerLogFile.Controller => "controller",
        BrokerLogFile.StateChange => "state-change",
        _ => "server",
    };
}
