using System.Diagnostics;

namespace PSKafka.Engine.Metadata;

/// <summary>
/// Holds a data directory for one process: an exclusive lock on <c>.lock</c> (released by the OS
/// even after kill -9) and an owner file that tells a second process who holds it.
/// </summary>
public sealed class DataDirectoryLock : IDisposable
{
    public const string LockFileName = ".lock";
    public const string OwnerFileName = ".lock.owner";

    private readonly FileStream _lock;

    private DataDirectoryLock(FileStream lockStream) => _lock = lockStream;

    public static DataDirectoryLock Acquire(string directory)
    {
        Directory.CreateDirectory(directory);
        FileStream stream;
        try
        {
            stream = new FileStream(Path.Combine(directory, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new DataDirectoryInUseException(directory, ReadOwner(directory));
        }

        var self = Process.GetCurrentProcess();
        File.WriteAllText(Path.Combine(directory, OwnerFileName),
            $"pid={Environment.ProcessId}\nprocess={self.ProcessName}\nhost={Environment.MachineName}\nsince={DateTimeOffset.UtcNow:o}\n");
        return new DataDirectoryLock(stream);
    }

    private static string ReadOwner(string directory)
    {
        try
        {
            var lines = File.ReadAllLines(Path.Combine(directory, OwnerFileName))
                .Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
            return $"process {lines.GetValueOrDefault("pid", "?")} ({lines.GetValueOrDefault("process", "?")}) on {lines.GetValueOrDefault("host", "?")} since {lines.GetValueOrDefault("since", "?")}";
        }
        catch (IOException)
        {
            return "another process";
        }
    }

    public void Dispose() => _lock.Dispose();
}
