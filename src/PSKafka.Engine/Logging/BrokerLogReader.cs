using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace PSKafka.Engine.Logging;

/// <summary>One entry of a broker log: its line, and the lines of the stack trace that followed it.</summary>
public sealed record BrokerLogEntry(DateTime Time, BrokerLogLevel Level, string Logger, string Message, int? BrokerId, string? Exception, BrokerLogFile File)
{
    /// <summary>log4j's ISO8601 date as Kafka's files show it.</summary>
    public const string TimeFormat = "yyyy-MM-dd HH:mm:ss,fff";

    /// <summary>Kafka's level names (log4j's %p).</summary>
    public static string LevelName(BrokerLogLevel level) => level switch
    {
        BrokerLogLevel.Trace => "TRACE",
        BrokerLogLevel.Debug => "DEBUG",
        BrokerLogLevel.Info => "INFO",
        BrokerLogLevel.Warn => "WARN",
        BrokerLogLevel.Error => "ERROR",
        _ => "FATAL",
    };

    /// <summary>A level from its Kafka name (INFO, WARN, ...; any case); throws InvalidConfig for anything else.</summary>
    public static BrokerLogLevel ParseLevel(string name) => name.ToUpperInvariant() switch
    {
        "TRACE" => BrokerLogLevel.Trace,
        "DEBUG" => BrokerLogLevel.Debug,
        "INFO" => BrokerLogLevel.Info,
        "WARN" => BrokerLogLevel.Warn,
        "ERROR" => BrokerLogLevel.Error,
        "FATAL" => BrokerLogLevel.Fatal,
        _ => throw new KafkaException(ErrorCode.InvalidConfig, $"Cannot set the log level to {name}: it is one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."),
    };

    /// <summary>The logger's class name, as log4j's %c{1}: Partition for kafka.cluster.Partition.</summary>
    public string LoggerName => Logger.Contains('.') && Logger != KafkaLoggers.StateChange ? Logger[(Logger.LastIndexOf('.') + 1)..] : Logger;

    /// <summary>The entry's first line as it is in the file.</summary>
    public override string ToString() =>
        $"[{Time.ToString(TimeFormat, CultureInfo.InvariantCulture)}] {LevelName(Level)} {Message} ({Logger})";
}

/// <summary>
/// Reads a cluster's broker logs (see <see cref="BrokerLogging"/>) back as entries: whole files, the last entries, or,
/// with <see cref="Follower"/>, what is written from now on. A file that rolled over is read with the ones before it.
/// </summary>
public static partial class BrokerLogReader
{
    [GeneratedRegex(@"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) (.*)$")]
    private static partial Regex LinePattern();

    // The logger at the end of the message: on its first line, or on its last for a message of several lines (KafkaConfig values).
    [GeneratedRegex(@" ?\(([^()\s]+)\)$")]
    private static partial Regex LoggerPattern();

    // The broker a line is about, from its log ident: broker=1, id=1, nodeId=1, replicaId=1, [GroupCoordinator 1], [KafkaApi-1], dir=…/broker-1.
    [GeneratedRegex(@"^\[(?:[^\]]*?(?:\b(?:broker|id|nodeId|replicaId)=|dir=\S*?broker-)|GroupCoordinator |KafkaApi-)(\d+)")]
    private static partial Regex BrokerIdPattern();

    // Serilog's size rolling: server.log, server_001.log, server_002.log, … (the highest is the newest).
    [GeneratedRegex(@"_(\d+)\.log$")]
    private static partial Regex SequencePattern();

    /// <summary>The files of one log, oldest first.</summary>
    public static IReadOnlyList<string> Files(string directory, BrokerLogFile file)
    {
        if (!Directory.Exists(directory)) return [];
        string name = KafkaLoggers.BaseName(file);
        return Directory.EnumerateFiles(directory, name + "*.log")
            .Select(path => (path, seq: Path.GetFileName(path) == name + ".log" ? 0
                : SequencePattern().Match(path) is { Success: true } m && Path.GetFileName(path) == $"{name}_{m.Groups[1].Value}.log"
                    ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : -1))
            .Where(f => f.seq >= 0)
            .OrderBy(f => f.seq)
            .Select(f => f.path)
            .ToList();
    }

    /// <summary>Every entry of one log, oldest first.</summary>
    public static IEnumerable<BrokerLogEntry> Read(string directory, BrokerLogFile file) =>
        Files(directory, file).SelectMany(path => Parse(ReadShared(path, 0, out _), file));

    /// <summary>The last <paramref name="count"/> entries of one log that <paramref name="keep"/> accepts, oldest first.</summary>
    public static IReadOnlyList<BrokerLogEntry> Tail(string directory, BrokerLogFile file, int count, Func<BrokerLogEntry, bool>? keep = null)
    {
        var result = new List<BrokerLogEntry>();
        // Newest file first, so a short tail does not parse the rolled files.
        foreach (var path in Files(directory, file).Reverse())
        {
            var entries = Parse(ReadShared(path, 0, out _), file).Where(keep ?? (_ => true)).ToList();
            result.InsertRange(0, entries.Skip(Math.Max(0, entries.Count - (count - result.Count))));
            if (result.Count >= count) break;
        }
        return result;
    }

    /// <summary>Parses log text: each line in the layout starts an entry; other lines (the rest of the message, a stack trace) belong to the entry before.</summary>
    public static IEnumerable<BrokerLogEntry> Parse(string text, BrokerLogFile file)
    {
        Match? head = null;
        var extra = new StringBuilder();
        foreach (var line in text.Split('\n'))
        {
            var m = LinePattern().Match(line);
            if (m.Success)
            {
                if (head is not null) yield return Entry(head, extra, file);
                head = m;
                extra.Clear();
            }
            else if (head is not null && line.Length > 0)
            {
                if (extra.Length > 0) extra.Append('\n');
                extra.Append(line);
            }
        }
        if (head is not null) yield return Entry(head, extra, file);
    }

    static BrokerLogEntry Entry(Match m, StringBuilder extra, BrokerLogFile file)
    {
        var lines = extra.Length > 0 ? [m.Groups[3].Value, .. extra.ToString().Split('\n')] : new[] { m.Groups[3].Value };
        int last = Array.FindIndex(lines, l => LoggerPattern().IsMatch(l));
        var logger = last >= 0 ? LoggerPattern().Match(lines[last]) : null;
        if (last < 0) last = 0;
        string message = string.Join('\n', lines[..(last + 1)]);
        if (logger is not null) message = message[..^logger.Length];
        string? exception = last + 1 < lines.Length ? string.Join('\n', lines[(last + 1)..]) : null;
        var id = BrokerIdPattern().Match(message);
        return new BrokerLogEntry(
            DateTime.ParseExact(m.Groups[1].Value, BrokerLogEntry.TimeFormat, CultureInfo.InvariantCulture),
            BrokerLogEntry.ParseLevel(m.Groups[2].Value),
            logger?.Groups[1].Value ?? "",
            message,
            id.Success ? int.Parse(id.Groups[1].Value, CultureInfo.InvariantCulture) : null,
            exception,
            file);
    }

    /// <summary>Reads from <paramref name="offset"/> to the last whole line, sharing the file with the broker writing it.</summary>
    static string ReadShared(string path, long offset, out long end)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (offset > stream.Length) offset = 0; // the file was replaced: start over
        stream.Seek(offset, SeekOrigin.Begin);
        var bytes = new byte[stream.Length - offset];
        int read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        int whole = Array.LastIndexOf(bytes, (byte)'\n', read - 1) + 1;
        end = offset + whole;
        return Encoding.UTF8.GetString(bytes, 0, whole);
    }

    /// <summary>
    /// Hands out the entries written to a log after it was made, however the files roll. An entry is handed out when
    /// the next one starts, or when the file has not grown since the last call (so a stack trace written in parts stays whole).
    /// </summary>
    public sealed class Follower
    {
        readonly string _directory;
        readonly BrokerLogFile _file;
        string? _path;
        long _offset;
        string _carry = ""; // whole lines read but not handed out: the last entry, which may not be complete yet

        /// <param name="fromStart">Hand out what the newest file holds already, too (the older, rolled files are history).</param>
        public Follower(string directory, BrokerLogFile file, bool fromStart = false)
        {
            _directory = directory;
            _file = file;
            _path = Files(directory, file).LastOrDefault();
            if (_path is not null && !fromStart) ReadShared(_path, 0, out _offset);
        }

        /// <summary>The entries completed since the last call, oldest first.</summary>
        public IReadOnlyList<BrokerLogEntry> Poll()
        {
            var text = new StringBuilder();
            var files = Files(_directory, _file);
            int from = _path is null ? 0 : Math.Max(0, files.ToList().IndexOf(_path));
            foreach (var path in files.Skip(from))
            {
                if (path != _path) (_path, _offset) = (path, 0);
                text.Append(ReadShared(path, _offset, out _offset));
            }
            if (text.Length == 0)
            {
                var quiet = Parse(_carry, _file).ToList();
                _carry = "";
                return quiet;
            }
            string all = _carry + text;
            int last = LastEntryStart(all);
            _carry = all[last..];
            return Parse(all[..last], _file).ToList();
        }

        static int LastEntryStart(string text)
        {
            int end = text.Length;
            while (end > 0)
            {
                int start = end >= 2 ? text.LastIndexOf('\n', end - 2) + 1 : 0;
                if (LinePattern().IsMatch(text.AsSpan(start, end - start).TrimEnd('\n'))) return start;
                end = start;
            }
            return 0;
        }
    }
}
