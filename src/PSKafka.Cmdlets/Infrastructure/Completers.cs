using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using PSKafka.Client;

namespace PSKafka.Cmdlets.Infrastructure;

/// <summary>Tab completion of names from the cluster the command line names (-BootstrapServer) or the session's; no cluster, nothing to complete.</summary>
public abstract class ClusterNameCompleter : IArgumentCompleter
{
    // Completion waits for a remote cluster this long at most: a slow answer is worse than none at a prompt.
    private static readonly TimeSpan RemoteTimeout = TimeSpan.FromSeconds(2);

    protected abstract IEnumerable<string> Names(IKafkaClient client);

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IReadOnlyList<string> names;
        RemoteClient? oneCall = null;
        try
        {
            // The cluster the command line names (-BootstrapServer, with its -ClientConfig and -Credential), else the session's.
            if (Bound(fakeBoundParameters, "BootstrapServer") is string { Length: > 0 } bootstrap)
                oneCall = new RemoteClient(new RemoteConnection(bootstrap, ClusterCmdlet.ToConfig(Bound(fakeBoundParameters, "ClientConfig") as Hashtable),
                    (Bound(fakeBoundParameters, "Credential") as PSCredential)?.GetNetworkCredential(), RemoteTimeout));
            names = Names(oneCall ?? Session.Client).ToList();
        }
        catch (Exception)
        {
            yield break;
        }
        finally
        {
            oneCall?.Dispose();
        }
        var prefix = wordToComplete.Trim('\'', '"');
        foreach (var name in names.Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
        {
            // Group ids may hold spaces or quotes (topic names cannot); complete those quoted.
            var text = name.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$' or '`' or ';' or ',') ? "'" + name.Replace("'", "''") + "'" : name;
            yield return new CompletionResult(text, name, CompletionResultType.ParameterValue, name);
        }
    }

    private static object? Bound(IDictionary? parameters, string name) =>
        parameters is not null && parameters.Contains(name) && parameters[name] is { } value ? (value is PSObject pso ? pso.BaseObject : value) : null;
}

/// <summary>Tab completion of topic names.</summary>
public sealed class TopicNameCompleter : ClusterNameCompleter
{
    protected override IEnumerable<string> Names(IKafkaClient client) => client.GetMetadata().Topics.Select(t => t.Name);
}

/// <summary>Tab completion of consumer group names.</summary>
public sealed class GroupNameCompleter : ClusterNameCompleter
{
    protected override IEnumerable<string> Names(IKafkaClient client) => client.ListGroups().Select(g => g.GroupId);
}
