using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace PSKafka.Cmdlets.Infrastructure;

/// <summary>Tab completion of consumer group names from the session's cluster.</summary>
public sealed class GroupNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IReadOnlyList<string> names;
        try
        {
            names = Session.Client.ListGroups().Select(g => g.GroupId).ToList();
        }
        catch (Exception)
        {
            yield break; // no cluster: nothing to complete
        }
        var prefix = wordToComplete.Trim('\'', '"');
        foreach (var name in names.Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
        {
            // Group ids may hold spaces or quotes; complete them quoted.
            var text = name.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$' or '`' or ';' or ',') ? "'" + name.Replace("'", "''") + "'" : name;
            yield return new CompletionResult(text, name, CompletionResultType.ParameterValue, name);
        }
    }
}
