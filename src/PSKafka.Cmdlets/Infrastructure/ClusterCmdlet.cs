using System.Collections;
using System.Globalization;
using System.Management.Automation;
using PSKafka.Client;

namespace PSKafka.Cmdlets.Infrastructure;

/// <summary>
/// Base of the cmdlets that talk to a cluster (topics, messages, groups, configs): they all take
/// -BootstrapServer (with -ClientConfig and -Credential) to target a remote cluster for one call;
/// without it they use the session's cluster (Connect-Cluster's, else the local one).
/// </summary>
public abstract class ClusterCmdlet : KafkaCmdlet, IDisposable
{
    private RemoteClient? _oneCall;

    /// <summary>host:port[,host:port…] of a Kafka cluster to use for this call only.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? BootstrapServer { get; set; }

    /// <summary>librdkafka settings for this call's connection (with -BootstrapServer), e.g. @{ 'security.protocol' = 'SSL' }.</summary>
    [Parameter]
    public Hashtable? ClientConfig { get; set; }

    /// <summary>SASL username and password for this call's connection (with -BootstrapServer).</summary>
    [Parameter]
    [Credential]
    public PSCredential? Credential { get; set; }

    protected override IKafkaClient Client
    {
        get
        {
            if (BootstrapServer is null)
            {
                if (ClientConfig is not null || Credential is not null)
                    throw new ArgumentException("-ClientConfig and -Credential describe the connection of -BootstrapServer; give -BootstrapServer too, or use Connect-Cluster.");
                return Session.Client;
            }
            return _oneCall ??= new RemoteClient(new RemoteConnection(BootstrapServer, ToConfig(ClientConfig), Credential?.GetNetworkCredential()));
        }
    }

    /// <summary>
    /// The client for work that outlives this call (a -AsJob consumer): the connection of -BootstrapServer
    /// becomes the caller's to dispose (<paramref name="owned"/>); the session's client stays the session's.
    /// </summary>
    protected IKafkaClient TakeClient(out IDisposable? owned)
    {
        var client = Client;
        owned = _oneCall;
        _oneCall = null;
        return client;
    }

    /// <summary>A hashtable of librdkafka settings as strings (booleans as librdkafka spells them).</summary>
    public static IReadOnlyDictionary<string, string> ToConfig(Hashtable? table)
    {
        var config = new Dictionary<string, string>(StringComparer.Ordinal);
        if (table is null) return config;
        foreach (DictionaryEntry e in table)
        {
            var value = e.Value is PSObject pso ? pso.BaseObject : e.Value;
            config[e.Key.ToString()!] = value switch
            {
                null => "",
                bool b => b ? "true" : "false",
                SwitchParameter s => s.IsPresent ? "true" : "false",
                _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
            };
        }
        return config;
    }

    /// <summary>What a cmdlet holds beyond its connection, released when PowerShell disposes it (also after Ctrl+C or an error upstream).</summary>
    protected virtual void Release() { }

    public void Dispose()
    {
        Release();
        _oneCall?.Dispose();
        _oneCall = null;
        GC.SuppressFinalize(this);
    }
}
