using System.Management.Automation;
using PSKafka.Cmdlets.Infrastructure;

namespace PSKafka.Cmdlets;

/// <summary>start_logs.sh: writes simulated shop traffic to an access log in the background.</summary>
[Cmdlet(VerbsLifecycle.Start, "LogGenerator", SupportsShouldProcess = true)]
[OutputType(typeof(LogGenerator))]
public sealed class StartLogGeneratorCommand : KafkaCmdlet
{
    /// <summary>The log file; default &lt;data dir&gt;/logs/access.log. Appended to, created if missing.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Lines per second.</summary>
    [Parameter(Position = 1)]
    [ValidateRange(0.001, 1_000_000)]
    public double Rate { get; set; } = 1;

    /// <summary>Fixes the random choices, for reproducible traffic.</summary>
    [Parameter]
    public int? Seed { get; set; }

    protected override void Process()
    {
        var path = TrafficCmdletPaths.Resolve(this, Path);
        if (!ShouldProcess(path, $"Start writing {Rate} access log line(s) per second")) return;

        LogGenerator generator;
        try
        {
            if (!LogGeneratorRegistry.TryStart(path, Rate, Seed, out generator))
            {
                // Terminating: a second writer on the same file would interleave and double the rate.
                ThrowTerminatingError(new ErrorRecord(
                    new InvalidOperationException(
                        $"A log generator is already writing to '{path}' ({generator.Rate} lines/s since {generator.StartTime:T}). " +
                        "Stop it with Stop-LogGenerator first, or choose another -Path."),
                    ErrorIds.LogGeneratorAlreadyRunning, ErrorCategory.ResourceExists, generator));
                return;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            WriteError(new ErrorRecord(e, ErrorIds.LogFileNotWritable, ErrorCategory.WriteError, path));
            return;
        }
        WriteObject(generator);
    }
}
