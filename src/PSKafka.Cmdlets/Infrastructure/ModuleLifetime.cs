using System.Management.Automation;

namespace PSKafka.Cmdlets.Infrastructure;

/// <summary>
/// Module removal: log generators stop writing and the session's cluster closes cleanly and its remote connection is dropped, so no
/// thread runs on behind the module.
/// </summary>
public sealed class ModuleLifetime : IModuleAssemblyCleanup
{
    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        LogGeneratorRegistry.StopAll();
        Session.CloseAll();
    }
}
