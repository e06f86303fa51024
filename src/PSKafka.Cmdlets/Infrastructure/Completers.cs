using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace PSKafka.Cmdlets.Infrastructure;

/// <summary>Tab completion of names from the session's cluster; no cluster, nothing to complete.</summary>
public abstract class ClusterNameCompleter : IArgumentCompleter
{
    protected abstract IEnumerable<string> Names();

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IReadOnlyList<string> names;
        try
        {
            names = Names().ToList();
        }
        catch (Exception)
        {
            yield break;
        }
        var prefix = wordToComplete.Trim('\'', '"');
        foreach (var name in names.Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
        {
            // Group ids may hold spaces or quotes (topic names cannot); complete those quoted.
            var text = name.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$' or '`' or ';' or ',') ? "'" + name.Replace("'", "''") + "'" : name;
            yield return new CompletionResult(text, name, CompletionResultType.ParameterValue, name);
        }
    }
}

/// <summary>Tab completion of topic names.</summary>
public sealed class TopicNameCompleter : ClusterNameCompleter
{
    protected override IEnumerable<string> Names() => Session.Client.GetMetadata().Topics.Select(t => t.Name);
}

/// <summary>Tab completion of consumer group names.</summary>
public sealed class GroupNameCompleter : ClusterNameCompleter
{
    protected override IEnumerable<string> Names() => Session.Client.ListGroups().Select(g => g.GroupId);
}
