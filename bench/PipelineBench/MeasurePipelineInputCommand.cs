using System.Management.Automation;

namespace PSKafka.PipelineBench;

/// <summary>Counts its pipeline input and does nothing else: what a pipeline costs before any work.</summary>
[Cmdlet(VerbsDiagnostic.Measure, "PipelineInput")]
[OutputType(typeof(long))]
public sealed class MeasurePipelineInputCommand : PSCmdlet
{
    private long _count;

    [Parameter(ValueFromPipeline = true)]
    [AllowNull, AllowEmptyString]
    public object? InputObject { get; set; }

    protected override void ProcessRecord() => _count++;

    protected override void EndProcessing() => WriteObject(_count);
}
