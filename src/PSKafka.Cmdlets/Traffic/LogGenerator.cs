using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace PSKafka.Cmdlets;

public enum LogGeneratorState
{
    Running,
    Stopped,
    Failed,
}

/// <summary>
/// A running (or finished) log generator: a background thread appending <see cref="AccessLogGenerator"/>
/// lines to a file at a steady rate. The object is live: State and LinesWritten change as it runs.
/// </summary>
public sealed class LogGenerator
{
    // Don't try to make up more than this much lost time at once (after a sleep or a stall).
    private const double MaxCatchUpSeconds = 1.0;
    // Longest wait between checks for Stop, so stopping is prompt even at slow rates.
    private static readonly TimeSpan MaxIdle = TimeSpan.FromMilliseconds(100);

    private readonly AccessLogGenerator _lines;
    private readonly StreamWriter _writer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private long _linesWritten;
    private volatile LogGeneratorState _state = LogGeneratorState.Running;

    public string Path { get; }
    /// <summary>Lines per second.</summary>
    public double Rate { get; }
    public LogGeneratorState State => _state;
    public long LinesWritten => Interlocked.Read(ref _linesWritten);
    public DateTimeOffset StartTime { get; }
    public DateTimeOffset? StopTime { get; private set; }
    /// <summary>Why the generator failed, when State is Failed.</summary>
    public string? Error { get; private set; }

    private LogGenerator(string path, double rate, AccessLogGenerator lines, StreamWriter writer)
    {
        Path = path;
        Rate = rate;
        _lines = lines;
        _writer = writer;
        StartTime = DateTimeOffset.Now;
        _thread = new Thread(Run)
        {
            // A background thread never keeps the process alive; ProcessExit still stops it cleanly.
            IsBackground = true,
            Name = $"PSKafka log generator {path}",
        };
    }

    /// <summary>Opens (appends to) the file, creating its directory, and starts writing.</summary>
    /// <exception cref="IOException">The file cannot be opened for writing.</exception>
    internal static LogGenerator Start(string fullPath, double rate, int? seed, TimeProvider? clock = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rate);
        var directory = System.IO.Path.GetDirectoryName(fullPath);
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        // Share read/write/delete so tail -f, Get-AccessLog and editors can use the file meanwhile.
        var stream = new FileStream(fullPath, FileMode.Append, FileAccess.Write,
            FileShare.ReadWrite | FileShare.Delete, bufferSize: 64 * 1024);
        var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { NewLine = "\n" };
        var generator = new LogGenerator(fullPath, rate, new AccessLogGenerator(seed, clock), writer);
        generator._thread.Start();
        return generator;
    }

    /// <summary>Stops writing, flushes and closes the file. Safe to call more than once.</summary>
    public void Stop()
    {
        _stop.Cancel();
        if (Thread.CurrentThread != _thread) _thread.Join(TimeSpan.FromSeconds(5));
    }

    private void Run()
    {
        try
        {
            var clock = Stopwatch.StartNew();
            long scheduled = 0; // lines due so far by the pacing, including any skipped after a stall
            while (!_stop.IsCancellationRequested)
            {
                // Pace by elapsed time: write whatever is due now (one line immediately at start).
                var elapsed = clock.Elapsed.TotalSeconds;
                var due = (long)(elapsed * Rate) + 1;
                var maxBacklog = Math.Max(1, (long)(Rate * MaxCatchUpSeconds));
                if (due - scheduled > maxBacklog) scheduled = due - maxBacklog;
                if (due > scheduled)
                {
                    for (var n = due - scheduled; n > 0 && !_stop.IsCancellationRequested; n--)
                    {
                        _writer.WriteLine(_lines.NextLine());
                        Interlocked.Increment(ref _linesWritten);
                    }
                    scheduled = due;
                    // Flush each batch so followers see lines as soon as they are due.
                    _writer.Flush();
                }
                var nextDue = scheduled / Rate;
                var wait = TimeSpan.FromSeconds(Math.Max(0, nextDue - clock.Elapsed.TotalSeconds));
                if (wait > MaxIdle) wait = MaxIdle;
                if (wait < TimeSpan.FromMilliseconds(1)) wait = TimeSpan.FromMilliseconds(1);
                _stop.Token.WaitHandle.WaitOne(wait);
            }
            Finish(LogGeneratorState.Stopped, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            Finish(LogGeneratorState.Failed, e.Message);
        }
    }

    private void Finish(LogGeneratorState state, string? error)
    {
        try
        {
            _writer.Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            state = LogGeneratorState.Failed;
            error ??= e.Message;
        }
        Error = error;
        StopTime = DateTimeOffset.Now;
        _state = state;
    }

    public override string ToString() => $"{Path} ({State}, {LinesWritten} lines)";
}

/// <summary>
/// The generators of this process, one per file. Process-wide (not per runspace) because two
/// generators appending to one file would interleave partial lines.
/// </summary>
public static class LogGeneratorRegistry
{
    private static readonly ConcurrentDictionary<string, LogGenerator> Generators = new(PathComparer);
    private static readonly Lock Gate = new();

    static LogGeneratorRegistry()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAll();
    }

    public static StringComparer PathComparer =>
        OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;

    /// <summary>Generators that are running or failed (not yet removed by Stop), oldest first.</summary>
    public static IReadOnlyList<LogGenerator> All => [.. Generators.Values.OrderBy(g => g.StartTime)];

    public static LogGenerator? Find(string fullPath) => Generators.GetValueOrDefault(fullPath);

    /// <summary>Starts a generator on the file unless one is already running on it.</summary>
    /// <returns>False, with the running one, if the file already has a running generator.</returns>
    public static bool TryStart(string fullPath, double rate, int? seed, out LogGenerator generator)
    {
        lock (Gate)
        {
            if (Generators.TryGetValue(fullPath, out var existing) && existing.State == LogGeneratorState.Running)
            {
                generator = existing;
                return false;
            }
            generator = LogGenerator.Start(fullPath, rate, seed);
            Generators[fullPath] = generator;
            return true;
        }
    }

    /// <summary>Stops the generator on the file and forgets it; null if there was none.</summary>
    public static LogGenerator? Stop(string fullPath)
    {
        if (!Generators.TryRemove(fullPath, out var generator)) return null;
        generator.Stop();
        return generator;
    }

    public static IReadOnlyList<LogGenerator> StopAll()
    {
        var stopped = new List<LogGenerator>();
        foreach (var generator in All)
        {
            if (Stop(generator.Path) is { } g) stopped.Add(g);
        }
        return stopped;
    }
}
