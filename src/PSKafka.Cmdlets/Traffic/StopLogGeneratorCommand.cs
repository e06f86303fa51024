using System.Management.Automation;

namespace PSKafka.Cmdlets;

/// <summary>stop_logs.sh: stops log generators (all of them unless -Path is given).</summary>
[Cmdlet(VerbsLifecycle.Stop, "LogGenerator", SupportsShouldProcess = true)]
[OutputType(typeof(LogGenerator))]
public sealed class StopLogGeneratorCommand : PSCmdlet
{
    public const string NotFoundErrorId = "LogGeneratorNotFound";

    /// <summary>Log files whose generators to stop; binds from Get-LogGenerator output.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    /// <summary>Emit the stopped generators.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        if (Path is null)
        {
            foreach (var generator in LogGeneratorRegistry.All)
            {
                StopOne(generator.Path);
            }
            return;
        }
        foreach (var path in Path)
        {
            var fullPath = TrafficCmdletPaths.Resolve(this, path);
            if (LogGeneratorRegistry.Find(fullPath) is null)
            {
                WriteError(new ErrorRecord(
                    new ItemNotFoundException($"No log generator is writing to '{fullPath}'."),
                    NotFoundErrorId, ErrorCategory.ObjectNotFound, fullPath));
                continue;
            }
            StopOne(fullPath);
        }
    }

    private void StopOne(string fullPath)
    {
        if (!ShouldProcess(fullPath, "Stop log generator")) return;
        if (LogGeneratorRegistry.Stop(fullPath) is { } stopped && PassThru)
        {
            WriteObject(stopped);
        }
    }
}
