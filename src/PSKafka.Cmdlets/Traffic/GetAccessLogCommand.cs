using System.Management.Automation;
using PSKafka.Cmdlets.Infrastructure;

namespace PSKafka.Cmdlets;

/// <summary>
/// tail_logs.sh: reads an access log, optionally following it as it grows (tail -f), as text lines or
/// parsed <see cref="AccessLogEntry"/> objects.
/// </summary>
[Cmdlet(VerbsCommon.Get, "AccessLog", DefaultParameterSetName = "Line")]
[OutputType(typeof(string), ParameterSetName = ["Line"])]
[OutputType(typeof(AccessLogEntry), ParameterSetName = ["Object"])]
public sealed class GetAccessLogCommand : KafkaCmdlet
{
    // How often -Follow looks for new lines; also bounds how long Ctrl+C takes.
    private static readonly TimeSpan FollowPollInterval = TimeSpan.FromMilliseconds(100);
    // Like tail -f: start from the last ten lines when following and -Tail isn't given.
    private const int FollowDefaultTail = 10;

    /// <summary>The log file; default &lt;data dir&gt;/logs/access.log. Binds from Get-LogGenerator output.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Only the last n lines (then the new ones, with -Follow).</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? Tail { get; set; }

    /// <summary>Keep emitting lines as they are appended, until Ctrl+C or the pipeline stops.</summary>
    [Parameter]
    public SwitchParameter Follow { get; set; }

    /// <summary>Emit parsed AccessLogEntry objects instead of lines.</summary>
    [Parameter(ParameterSetName = "Object", Mandatory = true)]
    public SwitchParameter AsObject { get; set; }

    protected override void Process()
    {
        var path = TrafficCmdletPaths.Resolve(this, Path);
        if (!File.Exists(path))
        {
            if (!Follow)
            {
                WriteError(new ErrorRecord(
                    new FileNotFoundException($"The access log '{path}' does not exist. Start-LogGenerator creates it.", path),
                    ErrorIds.AccessLogNotFound, ErrorCategory.ObjectNotFound, path));
                return;
            }
            // Following a log that a generator is about to create is normal: wait for it.
            WriteVerbose($"Waiting for '{path}' to be created.");
            while (!File.Exists(path))
            {
                if (StopToken.WaitHandle.WaitOne(FollowPollInterval)) return;
            }
        }

        using var reader = new AccessLogReader(path);
        var tail = Tail ?? (Follow ? FollowDefaultTail : null);
        if (tail is int lines) reader.SeekToLastLines(lines);
        // A line without its newline yet is still being written when a generator of this session writes the file.
        bool includeUnterminated = !Follow && LogGeneratorRegistry.Find(path) is null;
        while (!StopToken.IsCancellationRequested)
        {
            foreach (var line in reader.ReadAvailableLines(includeUnterminated))
            {
                if (line.Length > 0) Emit(line);
            }
            if (!Follow) return;
            if (StopToken.WaitHandle.WaitOne(FollowPollInterval)) return;
        }
    }

    private void Emit(string line)
    {
        if (!AsObject)
        {
            WriteObject(line);
            return;
        }
        if (AccessLogParser.TryParse(line, out var entry, out var error))
        {
            WriteObject(entry);
            return;
        }
        // One bad line shouldn't end a long-running tail: report it and carry on.
        WriteError(new ErrorRecord(new FormatException(error), ErrorIds.InvalidAccessLogLine, ErrorCategory.InvalidData, line)
        {
            ErrorDetails = new ErrorDetails($"Cannot parse access log line: {error} Line: {line}"),
        });
    }
}
