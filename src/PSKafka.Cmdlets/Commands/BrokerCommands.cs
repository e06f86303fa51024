using System.Management.Automation;
using PSKafka.Cmdlets.Infrastructure;
using PSKafka.Cmdlets.Output;
using PSKafka.Engine;
using PSKafka.Engine.Cluster;

namespace PSKafka.Cmdlets.Commands;

/// <summary>
/// Start-Broker: starts brokers of the local cluster in the background of the session. With no
/// broker running, it brings back the brokers the data directory had; otherwise each call adds one
/// (or -Count) new broker. -Id starts a given (stopped) broker again with its data.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "Broker", DefaultParameterSetName = "New")]
[OutputType(typeof(BrokerInfo))]
public sealed class StartBrokerCommand : KafkaCmdlet
{
    [Parameter(ParameterSetName = "New")]
    [ValidateRange(1, 64)]
    public int Count { get; set; } = 1;

    [Parameter(ParameterSetName = "Id", Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, int.MaxValue)]
    public int[] Id { get; set; } = [];

    /// <summary>
    /// The port to listen on (with -Count, the first of consecutive ports); 0 picks a free port, which the broker
    /// then keeps. Default: the broker's stored port, 9092 + id for a new broker.
    /// </summary>
    [Parameter]
    [ValidateRange(0, 65535)]
    public int Port { get; set; } = -1;

    /// <summary>The local IP address to listen on; default 127.0.0.1 (this machine only). 0.0.0.0 listens on every interface.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Listen { get; set; }

    /// <summary>Where metadata and logs live; default $env:PSKAFKA_DATA, else ~/.pskafka.</summary>
    [Parameter]
    public string? DataDirectory { get; set; }

    protected override void Process()
    {
        RequireLocal("Start-Broker");
        var cluster = Session.OpenLocal(DataDirectory is null ? null : GetUnresolvedProviderPathFromPSPath(DataDirectory));
        if (ParameterSetName == "Id")
        {
            int index = 0;
            foreach (var id in Id)
            {
                var existing = cluster.GetBroker(id);
                if (existing is { IsRunning: true })
                {
                    WriteError(new ErrorRecord(new InvalidOperationException($"Broker {id} is already running."), ErrorIds.BrokerAlreadyRunning, ErrorCategory.ResourceExists, id));
                    continue;
                }
                WriteObject(BrokerInfo.From(cluster.StartBroker(id, PortFor(index++), Listen, FirstPort)));
            }
            return;
        }

        var started = new List<Broker>();
        if (!cluster.Brokers.Any(b => b.IsRunning))
        {
            // A new session brings back the cluster the data directory had.
            foreach (var id in cluster.RegisteredBrokerIds())
                started.Add(BringBack(cluster, id, PortFor(started.Count)));
        }
        int toAdd = started.Count == 0 ? Count : (MyInvocation.BoundParameters.ContainsKey(nameof(Count)) ? Count : 0);
        for (int i = 0; i < toAdd; i++)
            started.Add(cluster.StartBroker(null, PortFor(started.Count), Listen, FirstPort));
        foreach (var b in started) WriteObject(BrokerInfo.From(b));
    }

    /// <summary>
    /// Without -Port, $env:PSKAFKA_PORT is the first port of new brokers (broker n gets it + n, as 9092 + n by default;
    /// 0: free ports), e.g. for a second cluster beside ./pskafka. Brokers that exist keep the port they had.
    /// </summary>
    public const string PortEnvironmentVariable = "PSKAFKA_PORT";

    private static int? FirstPort =>
        int.TryParse(Environment.GetEnvironmentVariable(PortEnvironmentVariable), out var fromEnv) && fromEnv is >= 0 and <= 65535 ? fromEnv : null;

    // -Port n gives the i-th broker started by this call port n + i; -Port 0 gives each a free port. Without -Port:
    // null, i.e. an existing broker's own port, a new broker's first port + id.
    private int? PortFor(int index) => Port switch { < 0 => null, 0 => 0, _ => Port + index };

    // A cluster coming back keeps its brokers' ports; with $env:PSKAFKA_PORT=0 (free ports, a cluster that never
    // asked for a given port) one whose old port another program took meanwhile gets a free one instead of failing.
    private Broker BringBack(KafkaCluster cluster, int id, int? port)
    {
        try
        {
            return cluster.StartBroker(id, port, Listen, FirstPort);
        }
        catch (PortInUseException) when (port is null && FirstPort == 0)
        {
            return cluster.StartBroker(id, 0, Listen, FirstPort);
        }
    }
}

/// <summary>
/// Stop-Broker: a controlled shutdown (leadership moves away, logs flushed and closed), or with -Kill
/// a crash (no flush, no hand-over) for fault drills. Without -Id it stops every broker.
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "Broker", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(BrokerInfo))]
public sealed class StopBrokerCommand : KafkaCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, int.MaxValue)]
    public int[]? Id { get; set; }

    /// <summary>Crash the broker instead of shutting it down.</summary>
    [Parameter]
    public SwitchParameter Kill { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void Process()
    {
        RequireLocal("Stop-Broker");
        var cluster = Session.LocalCluster;
        if (cluster is null)
        {
            if (Id is not null) ThrowKafkaError(ErrorIds.NoBrokerRunning, ErrorCategory.ObjectNotFound, "No local cluster is open in this session.", Id);
            return;
        }
        var ids = Id ?? cluster.Brokers.Where(b => b.IsRunning).Select(b => b.Id).Reverse().ToArray();
        foreach (var id in ids)
        {
            var broker = cluster.GetBroker(id);
            if (broker is null)
            {
                WriteError(new ErrorRecord(new ArgumentException($"Broker {id} does not exist."), ErrorIds.BrokerNotFound, ErrorCategory.ObjectNotFound, id));
                continue;
            }
            if (!broker.IsRunning) continue;
            if (!ShouldProcess($"Broker {id} ({broker.Address})", Kill ? "Crash (kill, no flush)" : "Stop (controlled shutdown)")) continue;
            cluster.StopBroker(id, Kill);
            if (PassThru) WriteObject(BrokerInfo.From(broker));
        }
        // Stopping every broker ends the cluster's session: the data directory is released for others.
        if (Id is null && !cluster.Brokers.Any(b => b.IsRunning)) Session.Close();
    }
}

/// <summary>Get-Broker: the brokers of the local cluster with state, controller, address, and partitions led and followed.</summary>
[Cmdlet(VerbsCommon.Get, "Broker")]
[OutputType(typeof(BrokerInfo))]
public sealed class GetBrokerCommand : KafkaCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    public int[]? Id { get; set; }

    protected override void Process()
    {
        if (Session.Remote is { } remote)
        {
            // A remote cluster's brokers as its metadata shows them: all of them are running.
            var described = remote.DescribeCluster();
            var topics = remote.GetMetadata().Topics.SelectMany(t => t.Partitions).ToList();
            foreach (var b in described.Brokers)
                if (Id is null || Id.Contains(b.Id))
                    WriteObject(new BrokerInfo
                    {
                        Id = b.Id,
                        State = "Running",
                        IsController = b.Id == described.ControllerId,
                        Address = $"{b.Host}:{b.Port}",
                        Leaders = topics.Count(p => p.Leader == b.Id),
                        Followers = topics.Count(p => p.Leader != b.Id && p.Replicas.Contains(b.Id)),
                    });
            return;
        }
        var cluster = Session.LocalCluster;
        if (cluster is null) return;
        foreach (var b in cluster.Brokers)
            if (Id is null || Id.Contains(b.Id)) WriteObject(BrokerInfo.From(b));
    }
}
