using System.Management.Automation;
using PSKafka.Cmdlets.Infrastructure;

namespace PSKafka.Cmdlets;

/// <summary>Lists this process's log generators (running, or failed and not yet stopped).</summary>
[Cmdlet(VerbsCommon.Get, "LogGenerator")]
[OutputType(typeof(LogGenerator))]
public sealed class GetLogGeneratorCommand : KafkaCmdlet
{
    /// <summary>Only generators writing to these files; wildcards allowed.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    protected override void Process()
    {
        var generators = LogGeneratorRegistry.All;
        if (Path is null)
        {
            WriteObject(generators, enumerateCollection: true);
            return;
        }
        foreach (var path in Path)
        {
            var pattern = WildcardPattern.ContainsWildcardCharacters(path)
                ? new WildcardPattern(TrafficCmdletPaths.Resolve(this, path), WildcardOptions.IgnoreCase)
                : null;
            var fullPath = pattern is null ? TrafficCmdletPaths.Resolve(this, path) : null;
            var found = false;
            foreach (var generator in generators)
            {
                var matches = pattern?.IsMatch(generator.Path)
                    ?? LogGeneratorRegistry.PathComparer.Equals(generator.Path, fullPath);
                if (!matches) continue;
                found = true;
                WriteObject(generator);
            }
            if (!found && pattern is null)
            {
                WriteError(new ErrorRecord(
                    new ItemNotFoundException($"No log generator is writing to '{fullPath}'."),
                    ErrorIds.LogGeneratorNotFound, ErrorCategory.ObjectNotFound, fullPath));
            }
        }
    }
}
