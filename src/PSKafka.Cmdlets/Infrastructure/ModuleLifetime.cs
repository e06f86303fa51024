using System.Management.Automation;

namespace PSKafka.Cmdlets.Infrastructure;

/// <summary>Closes the session's cluster cleanly and drops its remote connection when the module is removed.</summary>
public sealed class ModuleLifetime : IModuleAssemblyCleanup
{
    public void OnRemove(PSModuleInfo psModuleInfo) => Session.CloseAll();
}
