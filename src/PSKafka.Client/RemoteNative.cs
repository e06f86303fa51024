using System.Reflection;
using System.Runtime.InteropServices;

namespace PSKafka.Client;

/// <summary>
/// Loads the native librdkafka that Confluent.Kafka binds to. A PowerShell module has no deps.json
/// (build.ps1 leaves it out), so the runtime never looks in runtimes/&lt;rid&gt;/native by itself: we
/// load the library from there and answer Confluent's [DllImport("librdkafka")] with it.
/// </summary>
internal static class RemoteNative
{
    private static readonly Lock Gate = new();
    private static IntPtr _handle;
    private static string? _loadedFrom;

    /// <summary>Where librdkafka was loaded from (for Get-Cluster and error messages).</summary>
    public static string? LoadedFrom => _loadedFrom;

    public static void EnsureLoaded()
    {
        if (_handle != IntPtr.Zero) return;
        lock (Gate)
        {
            if (_handle != IntPtr.Zero) return;
            var tried = new List<string>();
            foreach (var candidate in Candidates())
            {
                tried.Add(candidate);
                if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out var handle))
                {
                    _loadedFrom = candidate;
                    _handle = handle;
                    NativeLibrary.SetDllImportResolver(typeof(Confluent.Kafka.Library).Assembly, Resolve);
                    return;
                }
            }
            throw new InvalidOperationException(
                $"The native Kafka client library (librdkafka) could not be loaded for {RuntimeInformation.RuntimeIdentifier}. Tried: {string.Join(", ", tried)}.");
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path) =>
        name.Contains("rdkafka", StringComparison.Ordinal) ? _handle : IntPtr.Zero;

    /// <summary>
    /// librdkafka.redist ships one build per platform, and on Linux several: the default one links the
    /// system's libsasl2.so.3 (RHEL's name; Debian has .so.2), the centos8 one is self-contained, the
    /// alpine one is for musl. Try them in that order.
    /// </summary>
    private static IEnumerable<string> Candidates()
    {
        var baseDir = Path.GetDirectoryName(typeof(RemoteNative).Assembly.Location) ?? AppContext.BaseDirectory;
        string arch = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x64",
            Architecture.Arm64 => "arm64",
            Architecture.X86 => "x86",
            var other => other.ToString().ToLowerInvariant(),
        };
        if (OperatingSystem.IsWindows())
        {
            yield return Path.Combine(baseDir, "runtimes", $"win-{arch}", "native", "librdkafka.dll");
        }
        else if (OperatingSystem.IsMacOS())
        {
            yield return Path.Combine(baseDir, "runtimes", $"osx-{arch}", "native", "librdkafka.dylib");
        }
        else
        {
            var dir = Path.Combine(baseDir, "runtimes", $"linux-{arch}", "native");
            bool musl = File.Exists("/etc/alpine-release");
            if (musl) yield return Path.Combine(dir, "alpine-librdkafka.so");
            yield return Path.Combine(dir, "librdkafka.so");
            yield return Path.Combine(dir, "centos8-librdkafka.so");
        }
    }
}
