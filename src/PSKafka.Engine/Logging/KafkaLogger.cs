using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace PSKafka.Engine.Logging;

/// <summary>Kafka's log4j levels, lowest first.</summary>
public enum BrokerLogLevel { Trace, Debug, Info, Warn, Error, Fatal }

/// <summary>
/// A logger with Kafka's log ident: the bracketed prefix every line of a Kafka component starts with
/// (<c>[Partition retail-0 broker=1] </c>, <c>[GroupCoordinator 0]: </c>), which is also how a line names its broker
/// when several brokers share one set of files. Messages are written as they are, not as message templates.
/// </summary>
public sealed class KafkaLogger(ILogger logger, string ident)
{
    /// <summary>Logs nothing: for logs and replicas made outside a cluster (tests, tools).</summary>
    public static readonly KafkaLogger None = new(NullLogger.Instance, "");

    public string Ident { get; } = ident;

    public bool IsEnabled(BrokerLogLevel level) => logger.IsEnabled(ToLogLevel(level));

    public void Trace(string message) => Write(LogLevel.Trace, message, null);
    public void Debug(string message) => Write(LogLevel.Debug, message, null);
    public void Info(string message) => Write(LogLevel.Information, message, null);
    public void Warn(string message, Exception? exception = null) => Write(LogLevel.Warning, message, exception);
    public void Error(string message, Exception? exception = null) => Write(LogLevel.Error, message, exception);

    /// <summary>
    /// Runs the body of a broker thread: whatever escapes it (out of memory included) is logged as Kafka's KafkaThread
    /// logs it, and the process goes on. Only a stack overflow, which .NET cannot catch, still ends it.
    /// </summary>
    public void RunThread(Action body)
    {
        try { body(); }
        catch (Exception e) { Error($"Uncaught exception in thread '{Thread.CurrentThread.Name}':", e); }
    }

    /// <summary><see cref="RunThread"/> for a loop that runs as a task.</summary>
    public async Task RunTask(Func<Task> body, string name)
    {
        try { await body().ConfigureAwait(false); }
        catch (Exception e) { Error($"Uncaught exception in thread '{name}':", e); }
    }

    void Write(LogLevel level, string message, Exception? exception)
    {
        if (!logger.IsEnabled(level)) return;
        try
        {
            logger.Log(level, default, Ident + message, exception, static (text, _) => text);
        }
        catch (Exception)
        {
            // A log that cannot be written (disk full, out of memory) must not fail the broker's work.
        }
    }

    internal static LogLevel ToLogLevel(BrokerLogLevel level) => level switch
    {
        BrokerLogLevel.Trace => LogLevel.Trace,
        BrokerLogLevel.Debug => LogLevel.Debug,
        BrokerLogLevel.Info => LogLevel.Information,
        BrokerLogLevel.Warn => LogLevel.Warning,
        BrokerLogLevel.Error => LogLevel.Error,
        _ => LogLevel.Critical,
    };
}
