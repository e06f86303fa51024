using System.Management.Automation;
using Microsoft.PowerShell.Commands;
using PSKafka.Cmdlets.Infrastructure;

namespace PSKafka.Cmdlets;

internal static class TrafficCmdletPaths
{
    /// <summary>
    /// The full file-system path for a -Path argument, relative to the PowerShell location (not the
    /// process directory); the default access log when none is given.
    /// </summary>
    public static string Resolve(PSCmdlet cmdlet, string? path)
    {
        if (string.IsNullOrEmpty(path)) return DataDirectory.DefaultAccessLogPath;
        var resolved = cmdlet.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out var provider, out _);
        if (provider.ImplementingType != typeof(FileSystemProvider))
        {
            cmdlet.ThrowTerminatingError(new ErrorRecord(
                new ArgumentException($"'{path}' is not a file-system path."),
                ErrorIds.PathNotFileSystem, ErrorCategory.InvalidArgument, path));
        }
        return resolved;
    }
}
