using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using PSKafka.Cmdlets.Infrastructure;
using PSKafka.Engine.Logging;

namespace PSKafka.Cmdlets.Commands;

/// <summary>A broker logger and the level it writes at (Get-BrokerLogLevel, Set-BrokerLogLevel -PassThru).</summary>
public sealed record BrokerLoggerLevel(string Logger, BrokerLogLevel Level, bool IsSet);

/// <summary>Tab completion of Kafka's logger names.</summary>
public sealed class BrokerLoggerCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters) =>
        KafkaLoggers.All.Where(n => n.StartsWith(wordToComplete.Trim('\'', '"'), StringComparison.OrdinalIgnoreCase))
            .Select(n => new CompletionResult(n));
}

/// <summary>
/// Get-BrokerLog: the local cluster's server.log, controller.log or state-change.log (the tutorial's
/// <c>cd /opt/kafka/logs; view server.log</c>) as entries: time, level, logger, message, broker id, stack trace.
/// -Follow goes on with what the brokers write until Ctrl+C, as <c>tail -f</c>.
/// </summary>
[Cmdlet(VerbsCommon.Get, "BrokerLog")]
[OutputType(typeof(BrokerLogEntry))]
public sealed class GetBrokerLogCommand : KafkaCmdlet
{
    /// <summary>How often -Follow looks for new lines; a line shows within this of being written.</summary>
    private static readonly TimeSpan FollowInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>-Follow without -Tail starts with the last lines, as tail -f does.</summary>
    private const int FollowBacklog = 10;

    [Parameter(Position = 0)]
    [ValidateSet("server", "controller", "state-change")]
    public string Name { get; set; } = "server";

    /// <summary>Only the lines about these brokers (from the line's [KafkaServer id=N], [Partition t-0 broker=N], …).</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int[]? BrokerId { get; set; }

    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? Tail { get; set; }

    /// <summary>The lowest level to show: Warn shows WARN, ERROR and FATAL lines.</summary>
    [Parameter]
    public BrokerLogLevel Level { get; set; } = BrokerLogLevel.Trace;

    [Parameter]
    public SwitchParameter Follow { get; set; }

    /// <summary>The data directory whose logs to read: another process's cluster, as tail -f reads another process's file.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DataDirectory { get; set; }

    // The files need no open cluster: a second terminal reads the logs of the cluster the first one runs.
    private string LogsDirectory()
    {
        if (DataDirectory is not null) return Path.Combine(GetUnresolvedProviderPathFromPSPath(DataDirectory), BrokerLogging.DirectoryName);
        if (Session.Remote is not null) return LocalBrokers.Cluster().Logging.Directory!; // says why not, remotely
        if (Session.LocalCluster is { } local)
            return local.Logging.Directory ?? throw new BrokerLogNotFoundException("This cluster writes no broker logs.");
        return Path.Combine(Infrastructure.DataDirectory.Default, BrokerLogging.DirectoryName);
    }

    protected override void End()
    {
        var directory = LogsDirectory();
        var file = Name switch { "controller" => BrokerLogFile.Controller, "state-change" => BrokerLogFile.StateChange, _ => BrokerLogFile.Server };
        if (BrokerLogReader.Files(directory, file).Count == 0)
            throw new BrokerLogNotFoundException($"There is no {Name}.log in {directory} (yet).");

        if (!Follow)
        {
            var entries = Tail is { } n ? BrokerLogReader.Tail(directory, file, n, Keep) : BrokerLogReader.Read(directory, file).Where(Keep);
            foreach (var entry in entries) WriteObject(entry);
            return;
        }
        // Read from the start once, so the backlog and what follows meet without a gap or a repeat.
        var follower = new BrokerLogReader.Follower(directory, file, fromStart: true);
        var backlog = follower.Poll().Where(Keep).ToList();
        foreach (var entry in backlog.Skip(Math.Max(0, backlog.Count - (Tail ?? FollowBacklog)))) WriteObject(entry);
        while (!StopToken.IsCancellationRequested)
        {
            foreach (var entry in follower.Poll().Where(Keep)) WriteObject(entry);
            StopToken.WaitHandle.WaitOne(FollowInterval);
        }
    }

    private bool Keep(BrokerLogEntry e) =>
        e.Level >= Level && (BrokerId is null || e.BrokerId is { } id && BrokerId.Contains(id));
}

/// <summary>Get-BrokerLogLevel: the level of each of the brokers' loggers (Kafka's log4j loggers), as kafka-configs.sh --describe --entity-type broker-loggers.</summary>
[Cmdlet(VerbsCommon.Get, "BrokerLogLevel")]
[OutputType(typeof(BrokerLoggerLevel))]
public sealed class GetBrokerLogLevelCommand : KafkaCmdlet
{
    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(BrokerLoggerCompleter))]
    [SupportsWildcards]
    public string[]? Logger { get; set; }

    protected override void End()
    {
        var levels = LocalBrokers.Cluster().Logging.Levels;
        var patterns = (Logger ?? ["*"]).Select(p => new WildcardPattern(p, WildcardOptions.IgnoreCase)).ToList();
        foreach (var name in KafkaLoggers.All.Where(n => patterns.Any(p => p.IsMatch(n))))
            WriteObject(new BrokerLoggerLevel(name, levels.Get(name), levels.IsOwn(name)));
    }
}

/// <summary>
/// Set-BrokerLogLevel: changes a logger's level while the cluster runs, as Kafka's kafka-configs.sh --alter
/// --entity-type broker-loggers does (log4j levels; a package's level applies to the loggers under it).
/// </summary>
[Cmdlet(VerbsCommon.Set, "BrokerLogLevel", SupportsShouldProcess = true, DefaultParameterSetName = "Level")]
[OutputType(typeof(BrokerLoggerLevel))]
public sealed class SetBrokerLogLevelCommand : KafkaCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(BrokerLoggerCompleter))]
    public string[] Logger { get; set; } = [KafkaLoggers.Root];

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = "Level")]
    public BrokerLogLevel Level { get; set; }

    /// <summary>Back to Kafka's default: the level of the logger's package (kafka.controller: TRACE, the root: INFO).</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Default")]
    public SwitchParameter Default { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void Process()
    {
        var levels = LocalBrokers.Cluster().Logging.Levels;
        foreach (var name in Logger)
        {
            if (!ShouldProcess(name, Default ? "Set the log level to its default" : $"Set the log level to {Level}")) continue;
            try
            {
                levels.Set(name, Default ? null : Level);
            }
            catch (PSKafka.Engine.KafkaException e)
            {
                WriteKafkaError(e, name);
                continue;
            }
            if (PassThru) WriteObject(new BrokerLoggerLevel(name, levels.Get(name), levels.IsOwn(name)));
        }
    }
}
