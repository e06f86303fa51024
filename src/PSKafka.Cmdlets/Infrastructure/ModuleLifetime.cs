using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace PSKafka.Cmdlets.Infrastructure;

/// <summary>
/// The module's lifetime in the process. Every runspace of the process shares one module assembly, and with it the
/// session's cluster (thread jobs, ForEach-Object -Parallel). So the cluster closes, log generators stop and the remote
/// connection drops only when the last runspace that imported the module removes it: a thread job's
/// <c>Remove-Module PSKafka</c> or <c>Import-Module PSKafka -Force</c> leaves the brokers of the session running.
/// </summary>
public sealed class ModuleLifetime : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private static readonly Lock Gate = new();
    // Weak: a job's runspace that closes without removing the module must not be kept alive, nor keep the cluster open.
    private static readonly List<WeakReference<Runspace>> Importers = new();

    public void OnImport()
    {
        if (Runspace.DefaultRunspace is not { } current) return;
        lock (Gate)
        {
            Prune(current);
            Importers.Add(new WeakReference<Runspace>(current));
        }
    }

    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        lock (Gate)
        {
            // Removing from this runspace: it no longer holds the module.
            if (Runspace.DefaultRunspace is { } current) Prune(current);
            if (Importers.Count > 0) return;
        }
        LogGeneratorRegistry.StopAll();
        Session.CloseAll();
    }

    // Drops the given runspace and every runspace that has closed or been collected.
    private static void Prune(Runspace except)
    {
        Importers.RemoveAll(w => !w.TryGetTarget(out var r) || ReferenceEquals(r, except)
            || r.RunspaceStateInfo.State is RunspaceState.Closed or RunspaceState.Closing or RunspaceState.Broken);
    }
}
