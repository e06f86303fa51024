using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Extensions.Logging;
using Serilog.Formatting;

namespace PSKafka.Engine.Logging;

/// <summary>
/// The one logging setup of a cluster: <c>&lt;data dir&gt;/logs/server.log</c>, <c>controller.log</c> and
/// <c>state-change.log</c>, one set of files for all the brokers of the cluster, in Kafka's log4j layout
/// <c>[%d] %p %m (%c)%n</c>. The engine writes through Microsoft.Extensions.Logging's <see cref="ILogger"/> (so it runs
/// with no logging at all, <see cref="None"/>); Serilog with its file sink does the writing because it is maintained,
/// rolls files by size (server.log, then server_001.log, … the highest number being the newest) and changes levels
/// while running (<see cref="LoggingLevelSwitch"/>, one per Kafka logger, see <see cref="BrokerLogLevels"/>).
/// </summary>
public sealed class BrokerLogging : IDisposable
{
    public const string DirectoryName = "logs";
    public const long DefaultFileSizeLimitBytes = 10 * 1024 * 1024;
    public const int DefaultRetainedFileCount = 10;

    /// <summary>No files, nothing logged.</summary>
    public static readonly BrokerLogging None = new(NullLoggerFactory.Instance, null, new BrokerLogLevels());

    readonly ILoggerFactory _factory;

    BrokerLogging(ILoggerFactory factory, string? directory, BrokerLogLevels levels)
    {
        _factory = factory;
        Directory = directory;
        Levels = levels;
    }

    /// <summary>Where the files are; null when nothing is written.</summary>
    public string? Directory { get; }

    /// <summary>The level of each Kafka logger, changeable while the cluster runs.</summary>
    public BrokerLogLevels Levels { get; }

    /// <summary>Opens (creating them if needed, appending otherwise) the three files in <paramref name="directory"/>.</summary>
    public static BrokerLogging Open(string directory, long fileSizeLimitBytes = DefaultFileSizeLimitBytes, int retainedFileCount = DefaultRetainedFileCount)
    {
        System.IO.Directory.CreateDirectory(directory);
        var levels = new BrokerLogLevels();
        var config = new LoggerConfiguration().MinimumLevel.ControlledBy(levels.SwitchFor(KafkaLoggers.Root));
        foreach (var name in KafkaLoggers.All.Where(n => n != KafkaLoggers.Root))
            config.MinimumLevel.Override(name, levels.SwitchFor(name));
        var layout = new Log4jLayout();
        foreach (var file in Enum.GetValues<BrokerLogFile>())
            config.WriteTo.Logger(sub => sub
                .Filter.ByIncludingOnly(e => KafkaLoggers.FileOf(SourceContext(e)) == file)
                .WriteTo.File(layout, Path.Combine(directory, KafkaLoggers.BaseName(file) + ".log"),
                    fileSizeLimitBytes: fileSizeLimitBytes, rollOnFileSizeLimit: true, retainedFileCountLimit: retainedFileCount));
        var factory = new SerilogLoggerFactory(config.CreateLogger(), dispose: true);
        return new BrokerLogging(factory, directory, levels);
    }

    /// <summary>A logger named <paramref name="category"/> (see <see cref="KafkaLoggers"/>) whose lines start with <paramref name="ident"/>.</summary>
    public KafkaLogger For(string category, string ident = "") => new(_factory.CreateLogger(category), ident);

    /// <summary>Flushes and closes the files.</summary>
    public void Dispose()
    {
        if (this != None) _factory.Dispose();
    }

    static string? SourceContext(LogEvent e) =>
        e.Properties.TryGetValue(Constants.SourceContextPropertyName, out var v) && v is ScalarValue { Value: string s } ? s : null;

    /// <summary>log4j's <c>[%d] %p %m (%c)%n</c>, and the exception's stack after the line as log4j prints a throwable.</summary>
    sealed class Log4jLayout : ITextFormatter
    {
        public void Format(LogEvent e, TextWriter output)
        {
            output.Write('[');
            output.Write(e.Timestamp.LocalDateTime.ToString(BrokerLogEntry.TimeFormat, CultureInfo.InvariantCulture));
            output.Write("] ");
            output.Write(BrokerLogEntry.LevelName((BrokerLogLevel)(int)e.Level));
            output.Write(' ');
            e.RenderMessage(output, CultureInfo.InvariantCulture);
            output.Write(" (");
            output.Write(SourceContext(e) ?? KafkaLoggers.Root);
            output.Write(')');
            output.Write('\n');
            if (e.Exception is { } exception)
            {
                output.Write(exception.ToString().ReplaceLineEndings("\n"));
                output.Write('\n');
            }
        }
    }
}

/// <summary>
/// The level of every Kafka logger, log4j style: a logger without a level of its own takes its package's (kafka.cluster
/// for kafka.cluster.Partition), up to the root. The defaults are Kafka's config/log4j.properties.
/// </summary>
public sealed class BrokerLogLevels
{
    static readonly IReadOnlyDictionary<string, BrokerLogLevel> Defaults = new Dictionary<string, BrokerLogLevel>
    {
        // log4j.properties also names kafka, state.change.logger and the cleaner at INFO, the root's level anyway;
        // leaving them to inherit lets a change of the root quieten or widen everything.
        [KafkaLoggers.Root] = BrokerLogLevel.Info,
        ["kafka.controller"] = BrokerLogLevel.Trace,
    };

    readonly Lock _gate = new();
    readonly Dictionary<string, BrokerLogLevel> _own = new(Defaults);
    readonly Dictionary<string, LoggingLevelSwitch> _switches = KafkaLoggers.All.ToDictionary(n => n, _ => new LoggingLevelSwitch());

    internal BrokerLogLevels() => Apply();

    internal LoggingLevelSwitch SwitchFor(string logger) => _switches[logger];

    /// <summary>The level a logger writes at (its own, else its package's).</summary>
    public BrokerLogLevel Get(string logger)
    {
        Require(logger);
        lock (_gate) return Effective(logger);
    }

    /// <summary>Whether the level of <paramref name="logger"/> was set for it, rather than taken from its package.</summary>
    public bool IsOwn(string logger)
    {
        lock (_gate) return _own.ContainsKey(logger);
    }

    /// <summary>Sets a logger's level; null gives it back Kafka's default (for most loggers: its package's level).</summary>
    public void Set(string logger, BrokerLogLevel? level)
    {
        Require(logger);
        lock (_gate)
        {
            if (level is { } l) _own[logger] = l;
            else if (Defaults.TryGetValue(logger, out var d)) _own[logger] = d;
            else _own.Remove(logger);
            Apply();
        }
    }

    static void Require(string logger)
    {
        if (!KafkaLoggers.All.Contains(logger))
            throw new KafkaException(ErrorCode.InvalidConfig,
                $"Unknown logger '{logger}'. The loggers are: {string.Join(", ", KafkaLoggers.All)}.");
    }

    BrokerLogLevel Effective(string logger)
    {
        for (string? name = logger; name is not null; name = KafkaLoggers.Parent(name))
            if (_own.TryGetValue(name, out var level)) return level;
        return BrokerLogLevel.Info;
    }

    void Apply()
    {
        foreach (var (name, sw) in _switches) sw.MinimumLevel = (LogEventLevel)(int)Effective(name);
    }
}
