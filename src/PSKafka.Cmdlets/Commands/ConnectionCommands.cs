using System.Collections;
using System.Management.Automation;
using PSKafka.Client;
using PSKafka.Cmdlets.Infrastructure;
using PSKafka.Cmdlets.Output;
using PSKafka.Engine;

namespace PSKafka.Cmdlets.Commands;

/// <summary>
/// Connect-Cluster: makes a Kafka cluster reached over the network (through Confluent.Kafka) the
/// default of every topic, message and group cmdlet of the session, until Disconnect-Cluster.
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "Cluster")]
[OutputType(typeof(ClusterInfo))]
public sealed class ConnectClusterCommand : KafkaCmdlet
{
    /// <summary>host:port[,host:port…] of brokers to bootstrap from.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string BootstrapServer { get; set; } = "";

    /// <summary>librdkafka settings passed through (security.protocol, sasl.mechanism, ssl.ca.location, client.id…).</summary>
    [Parameter]
    [Alias("ClientConfig")]
    public Hashtable? Config { get; set; }

    /// <summary>SASL username and password.</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>How long to wait for the cluster before reporting it unreachable (default 10 s); also the timeout of admin requests.</summary>
    [Parameter]
    [ValidateRange(0.1, 3600.0)]
    public double TimeoutSec { get; set; } = RemoteConnection.DefaultTimeout.TotalSeconds;

    protected override void Process()
    {
        var connection = new RemoteConnection(BootstrapServer, ClusterCmdlet.ToConfig(Config), Credential?.GetNetworkCredential(), TimeSpan.FromSeconds(TimeoutSec));
        var client = new RemoteClient(connection);
        ClusterInfo info;
        try
        {
            // Prove the cluster answers before it becomes the session's default.
            info = ClusterInfo.Describe(client);
        }
        catch
        {
            client.Dispose();
            throw;
        }
        Session.Connect(client);
        WriteObject(info);
    }
}

/// <summary>Disconnect-Cluster: the session's cmdlets go back to the local cluster.</summary>
[Cmdlet(VerbsCommunications.Disconnect, "Cluster")]
public sealed class DisconnectClusterCommand : KafkaCmdlet
{
    protected override void Process() => Session.Disconnect();
}

/// <summary>Get-Cluster: what the session (or -BootstrapServer) talks to: a remote cluster or the local one.</summary>
[Cmdlet(VerbsCommon.Get, "Cluster")]
[OutputType(typeof(ClusterInfo))]
public sealed class GetClusterCommand : ClusterCmdlet
{
    protected override void Process()
    {
        if (BootstrapServer is null && Session.Remote is null)
        {
            WriteObject(Session.LocalCluster is { } local ? ClusterInfo.Describe(local) : ClusterInfo.None());
            return;
        }
        WriteObject(ClusterInfo.Describe((RemoteClient)Client));
    }
}
