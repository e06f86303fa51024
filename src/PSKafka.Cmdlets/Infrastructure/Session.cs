using PSKafka.Cmdlets.Client;
using PSKafka.Engine;
using PSKafka.Engine.Cluster;

namespace PSKafka.Cmdlets.Infrastructure;

/// <summary>
/// What the cmdlets of this process talk to: the local cluster that Start-Broker opened. Shared by
/// every runspace of the process, as the brokers are.
/// </summary>
public static class Session
{
    private static readonly Lock Gate = new();
    private static KafkaCluster? _local;
    private static string? _lastDataDirectory;

    /// <summary>The local cluster this session started brokers in, if any.</summary>
    public static KafkaCluster? LocalCluster
    {
        get
        {
            lock (Gate)
            {
                if (_local is not null && KafkaCluster.Find(_local.DataDirectory) is null) _local = null;
                return _local;
            }
        }
    }

    /// <summary>Opens (or reuses) the local cluster on a data directory and makes it the session's.</summary>
    public static KafkaCluster OpenLocal(string? dataDirectory)
    {
        lock (Gate)
        {
            var path = Path.GetFullPath(dataDirectory ?? _local?.DataDirectory ?? _lastDataDirectory ?? DataDirectory.Default);
            if (_local is not null && _local.DataDirectory != path && _local.Brokers.Any(b => b.IsRunning))
                throw new InvalidOperationException($"This session's cluster runs in '{_local.DataDirectory}'. Stop its brokers (Stop-Broker) before starting brokers in '{path}'.");
            _local = KafkaCluster.Open(path);
            _lastDataDirectory = path;
            return _local;
        }
    }

    /// <summary>The client the cmdlets use: the local cluster, which must have a running broker.</summary>
    public static IKafkaClient Client
    {
        get
        {
            var local = LocalCluster;
            if (local is null || !local.Brokers.Any(b => b.IsRunning))
                throw new KafkaException(ErrorCode.BrokerNotAvailable, "No broker is running in this session. Start one with Start-Broker (./pskafka starts one for you).");
            return new EmbeddedClient(local);
        }
    }

    /// <summary>Closes the local cluster cleanly, releasing its data directory (Stop-Broker of all brokers, module removal).</summary>
    public static void Close()
    {
        lock (Gate)
        {
            _local?.Dispose();
            _local = null;
        }
    }
}
