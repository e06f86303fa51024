using System.Collections.Concurrent;
using PSKafka.Engine.Config;
using PSKafka.Engine.Logging;
using PSKafka.Engine.Metadata;
using PSKafka.Engine.Server;

namespace PSKafka.Engine.Cluster;

/// <summary>
/// A local Kafka cluster over one data directory: the embeddable server object. It holds the data
/// directory's lock, the metadata store, the broker settings and controller, and the brokers, which run on their own
/// threads inside this process, each served on the network by its <see cref="BrokerServer"/>. One instance per data
/// directory per process; every runspace of the process shares it.
/// </summary>
public sealed class KafkaCluster : IDisposable
{
    public const int DefaultFirstPort = 9092;

    private static readonly ConcurrentDictionary<string, KafkaCluster> Open_ = new(StringComparer.Ordinal);
    private static readonly Lock RegistryGate = new();

    private readonly DataDirectoryLock _lock;
    private readonly MetadataStore _store;
    private readonly Lock _gate = new();
    private readonly Lock _startGate = new();
    // Each broker with the server that serves it on the network, by broker id.
    private readonly SortedDictionary<int, BrokerServer> _servers = new();
    private bool _disposed;

    static KafkaCluster()
    {
        // The session's exit closes every cluster cleanly (flush, clean-shutdown markers).
        AppDomain.CurrentDomain.ProcessExit += (_, _) => CloseAll();
        // Broker threads catch what escapes them (KafkaLogger.RunThread); this is the last word for anything else that
        // ends the process, and for failed tasks nobody awaited.
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
            LogToAll($"Uncaught exception in thread '{Thread.CurrentThread.Name}'; the process ends:", e.ExceptionObject as Exception);
        TaskScheduler.UnobservedTaskException += (_, e) =>
        {
            if (e.Exception.ToString().Contains("PSKafka.Engine", StringComparison.Ordinal))
                LogToAll("Uncaught exception in a background task:", e.Exception);
        };
    }

    private static void LogToAll(string message, Exception? e)
    {
        foreach (var cluster in Open_.Values)
            cluster.Logging.For(KafkaLoggers.KafkaServer).Error(message, e);
    }

    private KafkaCluster(string dataDirectory)
    {
        DataDirectory = dataDirectory;
        _lock = DataDirectoryLock.Acquire(dataDirectory);
        try
        {
            Logging = BrokerLogging.Open(Path.Combine(dataDirectory, BrokerLogging.DirectoryName));
            _store = new MetadataStore(dataDirectory);
            var clusterRecord = _store.LoadOrCreateCluster();
            BrokerConfigs = new BrokerConfigStore(_store, clusterRecord);
            Controller = new Controller(this, _store, clusterRecord.ClusterId, BrokerConfigs);
            foreach (var record in _store.LoadBrokers())
                _servers[record.Id] = new BrokerServer(this, record);
        }
        catch
        {
            _store?.Dispose();
            Logging?.Dispose();
            _lock.Dispose();
            throw;
        }
    }

    /// <summary>Opens the cluster on a data directory, or returns the one this process already has open there.</summary>
    public static KafkaCluster Open(string dataDirectory)
    {
        var path = Path.GetFullPath(dataDirectory);
        lock (RegistryGate)
        {
            if (Open_.TryGetValue(path, out var existing)) return existing;
            var cluster = new KafkaCluster(path);
            Open_[path] = cluster;
            return cluster;
        }
    }

    /// <summary>The cluster this process has open on a data directory, if any.</summary>
    public static KafkaCluster? Find(string dataDirectory) => Open_.GetValueOrDefault(Path.GetFullPath(dataDirectory));

    public static IReadOnlyCollection<KafkaCluster> OpenClusters => (IReadOnlyCollection<KafkaCluster>)Open_.Values;

    public static void CloseAll()
    {
        foreach (var cluster in Open_.Values) cluster.Dispose();
    }

    public string DataDirectory { get; }

    /// <summary>The brokers' log files (server.log, controller.log, state-change.log) and their levels.</summary>
    public BrokerLogging Logging { get; } = BrokerLogging.None;
    public string ClusterId => Controller.ClusterId;
    public Controller Controller { get; }
    /// <summary>The brokers' settings, cluster-wide and per broker (Get-BrokerConfig, Set-BrokerConfig).</summary>
    public BrokerConfigStore BrokerConfigs { get; }
    internal MetadataStore Store => _store;

    public IReadOnlyList<Broker> Brokers
    {
        get { lock (_gate) return _servers.Values.Select(s => s.Broker).ToArray(); }
    }

    public Broker? GetBroker(int id)
    {
        lock (_gate) return _servers.GetValueOrDefault(id)?.Broker;
    }

    /// <summary>The server of a broker: its listener and request dispatcher.</summary>
    public BrokerServer? GetServer(int id)
    {
        lock (_gate) return _servers.GetValueOrDefault(id);
    }

    /// <summary>The lowest-numbered running broker is the controller; -1 when none runs.</summary>
    public int ControllerId
    {
        get { lock (_gate) return _servers.Values.FirstOrDefault(s => s.Broker.IsRunning)?.Broker.Id ?? -1; }
    }

    public IReadOnlyList<int> RunningBrokerIds()
    {
        lock (_gate) return _servers.Values.Where(s => s.Broker.IsRunning).Select(s => s.Broker.Id).ToArray();
    }

    /// <summary>Brokers registered in the metadata that should come back when the cluster opens again.</summary>
    public IReadOnlyList<int> RegisteredBrokerIds()
    {
        lock (_gate) return _servers.Keys.ToArray();
    }

    /// <summary>
    /// Starts a broker: an existing one by id (with its data), or a new one with the next free id.
    /// An existing broker comes back on the port it had (its registration keeps it, as Kafka keeps a broker's
    /// listeners): clients that knew it find it where it was. A new broker's port is <paramref name="firstPort"/> + id
    /// (default 9092 + id); a <paramref name="firstPort"/> of 0 picks a free port. <paramref name="port"/> names the
    /// port outright, for a new or an existing broker; 0 picks a free port. The bound port is the one kept.
    /// <paramref name="listenAddress"/> (default 127.0.0.1, or the broker's own) is the local address its listener binds.
    /// A broker whose port is taken throws <see cref="PortInUseException"/> and stays as it was (a new one is not registered).
    /// </summary>
    public Broker StartBroker(int? id = null, int? port = null, string? listenAddress = null, int? firstPort = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (port is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(port), "A port is 0 (any free port) to 65535.");
        if (firstPort is < 0 or > 65535) throw new ArgumentOutOfRangeException(nameof(firstPort), "A port is 0 (any free port) to 65535.");
        BrokerServer server;
        Broker broker;
        // Starts are serialised, but the broker starts outside _gate: its start reads the controller, whose
        // operations take _gate (RunningBrokerIds) while holding the controller's lock.
        lock (_startGate)
        {
            int brokerId;
            bool isNew;
            lock (_gate)
            {
                brokerId = id ?? (_servers.Count == 0 ? 0 : _servers.Keys.Max() + 1);
                if (brokerId < 0) throw new ArgumentOutOfRangeException(nameof(id), "A broker id is 0 or more.");
                isNew = !_servers.TryGetValue(brokerId, out server!);
                if (!isNew && server.Broker.IsRunning) throw new InvalidOperationException($"Broker {brokerId} is already running.");
            }
            if (isNew)
            {
                int first = firstPort ?? DefaultFirstPort;
                int newPort = port ?? (first == 0 ? 0 : first + brokerId);
                if (newPort > 65535) throw new ArgumentOutOfRangeException(nameof(firstPort), $"Broker {brokerId} would listen on port {newPort} ({first} + its id), beyond 65535.");
                server = new BrokerServer(this, new BrokerRecord { Id = brokerId, Port = newPort, Registered = DateTime.UtcNow });
            }
            broker = server.Broker;
            broker.Start(port, listenAddress); // throws before registering a new broker whose port is taken
            lock (_gate) _servers[brokerId] = server;
            // The bound port is what clients are told, so it is what is kept (port 0 became a real one).
            _store.SaveBroker(new BrokerRecord { Id = brokerId, Port = broker.Port, ListenAddress = broker.ListenAddress, Registered = DateTime.UtcNow });
        }
        Controller.OnBrokerStarted(broker);
        return broker;
    }

    /// <summary>Stops a broker: a controlled shutdown, or with <paramref name="kill"/> a crash (no flush, no hand-over).</summary>
    public void StopBroker(int id, bool kill = false)
    {
        Broker broker;
        lock (_gate)
        {
            if (!_servers.TryGetValue(id, out var server)) throw new KeyNotFoundException($"Broker {id} does not exist.");
            broker = server.Broker;
            if (!broker.IsRunning) return;
        }
        if (kill)
        {
            broker.Stop(kill: true);
            Controller.OnBrokerStopped(id, killed: true);
        }
        else
        {
            // Controlled shutdown: the broker stops fetching and serving, leadership and ISR
            // membership move away, then the logs close cleanly.
            broker.BeginShutdown();
            Controller.OnBrokerStopped(id, killed: false);
            broker.Stop(kill: false);
        }
    }

    public void Dispose()
    {
        lock (RegistryGate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var broker in Brokers.Reverse())
            {
                try { broker.Stop(kill: false); }
                catch (Exception e)
                {
                    broker.Log.Error("Fatal error during KafkaServer shutdown.", e); // and keep closing the others
                }
            }
            _store.Dispose();
            Logging.Dispose();
            _lock.Dispose();
            Open_.TryRemove(DataDirectory, out _);
        }
    }
}
