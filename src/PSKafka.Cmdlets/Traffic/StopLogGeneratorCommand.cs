using System.Management.Automation;
using PSKafka.Cmdlets.Infrastructure;

namespace PSKafka.Cmdlets;

/// <summary>stop_logs.sh: stops log generators (all of them unless -Path is given).</summary>
[Cmdlet(VerbsLifecycle.Stop, "LogGenerator", SupportsShouldProcess = true)]
[OutputType(typeof(LogGenerator))]
public sealed class StopLogGeneratorCommand : KafkaCmdlet
{
    /// <summary>Log files whose generators to stop; binds from Get-LogGenerator output.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    /// <summary>Emit the stopped generators.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void Process()
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
                    ErrorIds.LogGeneratorNotFound, ErrorCategory.ObjectNotFound, fullPath));
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
