using PSKafka.Client;
using PSKafka.Engine;
using PSKafka.Engine.Cluster;

namespace PSKafka.Cmdlets.Infrastructure;

/// <summary>
/// What the cmdlets of this process talk to: a remote cluster that Connect-Cluster made the default,
/// else the local cluster that Start-Broker opened. Shared by every runspace of the process, as the brokers are.
/// </summary>
public static class Session
{
    private static readonly Lock Gate = new();
    private static KafkaCluster? _local;
    private static RemoteClient? _remote;

    /// <summary>The remote cluster Connect-Cluster made the session's default, if any.</summary>
    public static RemoteClient? Remote => _remote;

    /// <summary>Makes a remote cluster the default of every cmdlet until <see cref="Disconnect"/>.</summary>
    public static void Connect(RemoteClient client)
    {
        RemoteClient? previous;
        lock (Gate)
        {
            previous = _remote;
            _remote = client;
        }
        previous?.Dispose();
    }

    /// <summary>Back to the local cluster; false when no remote cluster was connected.</summary>
    public static bool Disconnect()
    {
        RemoteClient? previous;
        lock (Gate)
        {
            previous = _remote;
            _remote = null;
        }
        previous?.Dispose();
        return previous is not null;
    }

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
            // Without -DataDirectory: the open cluster, else the default ($env:PSKAFKA_DATA, else ~/.pskafka).
            var path = Path.GetFullPath(dataDirectory ?? _local?.DataDirectory ?? DataDirectory.Default);
            if (_local is not null && _local.DataDirectory != path && _local.Brokers.Any(b => b.IsRunning))
                throw new InvalidOperationException($"This session's cluster runs in '{_local.DataDirectory}'. Stop its brokers (Stop-Broker) before starting brokers in '{path}'.");
            _local = KafkaCluster.Open(path);
            return _local;
        }
    }

    /// <summary>The client the cmdlets use: the connected remote cluster, else the local cluster, which must have a running broker.</summary>
    public static IKafkaClient Client
    {
        get
        {
            if (_remote is { } remote) return remote;
            var local = LocalCluster;
            if (local is null || !local.Brokers.Any(b => b.IsRunning))
                throw new KafkaException(ErrorCode.BrokerNotAvailable, "No broker is running in this session. Start one with Start-Broker (./pskafka starts one for you), or reach a cluster that runs in another process (a Start-Job child, a second terminal) with Connect-Cluster -BootstrapServer localhost:9092.");
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

    /// <summary>Module removal: the local cluster and the remote connection both go.</summary>
    public static void CloseAll()
    {
        Disconnect();
        Close();
    }
}
