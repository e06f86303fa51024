using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace PSKafka.Cmdlets.Infrastructure;

/// <summary>Tab completion of topic names from the session's cluster.</summary>
public sealed class TopicNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IReadOnlyList<string> names;
        try
        {
            names = Session.Client.GetMetadata().Topics.Select(t => t.Name).ToList();
        }
        catch (Exception)
        {
            yield break; // no cluster: nothing to complete
        }
        var prefix = wordToComplete.Trim('\'', '"');
        foreach (var name in names.Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
            yield return new CompletionResult(name, name, CompletionResultType.ParameterValue, name);
    }
}
