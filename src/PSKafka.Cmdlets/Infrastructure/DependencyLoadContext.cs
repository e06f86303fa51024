using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace PSKafka.Cmdlets.Infrastructure;

/// <summary>
/// The module's private AssemblyLoadContext, as PowerShell's guidance on dependency conflicts describes:
/// Show-Cluster's console (PSKafka.Tui) and what it needs (Terminal.Gui, Microsoft.Extensions.*, ...) load
/// from the module's <c>dependencies/</c> folder into this context, so another module's copies of them in the
/// same session cannot clash with ours. What the folder lacks (PSKafka.Engine, PSKafka.Client, the runtime) comes
/// from the default context, so engine and client types (the console's cluster sources) are the same on both sides.
/// </summary>
internal sealed class DependencyLoadContext : AssemblyLoadContext
{
    /// <summary>The one assembly the default context is sent here for; everything else follows from its references.</summary>
    private const string BridgeAssembly = "PSKafka.Tui";

    private static readonly Lazy<DependencyLoadContext> Instance = new(() =>
        new DependencyLoadContext(Path.Combine(Path.GetDirectoryName(typeof(DependencyLoadContext).Assembly.Location)!, "dependencies")));
    private static int _registered;

    private readonly string _directory;

    private DependencyLoadContext(string directory) : base("PSKafka.Dependencies")
    {
        _directory = directory;
    }

    /// <summary>Makes the default context find PSKafka.Tui here; call before the first use of a console type.</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        Default.Resolving += (_, name) => name.Name == BridgeAssembly ? Instance.Value.LoadFromAssemblyName(name) : null;
    }

    protected override Assembly? Load(AssemblyName name)
    {
        var path = Path.Combine(_directory, name.Name + ".dll");
        if (File.Exists(path)) return LoadFromAssemblyPath(path);
        // What the module root ships for the engine too (Microsoft.Extensions.Logging.Abstractions, which Terminal.Gui
        // also logs through) is the default context's copy: the default context does not probe the module's folder itself.
        var shared = Path.Combine(Path.GetDirectoryName(_directory)!, name.Name + ".dll");
        return File.Exists(shared) ? Default.LoadFromAssemblyPath(shared) : null;
    }

    // Native libraries of the dependencies (runtimes/<rid>/native), as NuGet lays them out.
    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        var arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        string[] names = OperatingSystem.IsWindows() ? [unmanagedDllName + ".dll", unmanagedDllName]
            : OperatingSystem.IsMacOS() ? ["lib" + unmanagedDllName + ".dylib", unmanagedDllName + ".dylib", unmanagedDllName]
            : ["lib" + unmanagedDllName + ".so", unmanagedDllName + ".so", unmanagedDllName];
        foreach (var rid in new[] { RuntimeInformation.RuntimeIdentifier, $"{os}-{arch}" })
            foreach (var file in names)
            {
                var path = Path.Combine(_directory, "runtimes", rid, "native", file);
                if (File.Exists(path)) return LoadUnmanagedDllFromPath(path);
            }
        return IntPtr.Zero;
    }
}
