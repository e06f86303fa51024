using System.Net;

namespace PSKafka.Client;

/// <summary>
/// How to reach a remote Kafka cluster: bootstrap servers, librdkafka settings passed through, an
/// optional SASL username/password, and how long to wait for the cluster before calling it unreachable.
/// </summary>
public sealed class RemoteConnection
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    public RemoteConnection(string bootstrapServers, IReadOnlyDictionary<string, string>? config = null, NetworkCredential? credential = null, TimeSpan? timeout = null)
    {
        if (string.IsNullOrWhiteSpace(bootstrapServers))
            throw new ArgumentException("Give at least one bootstrap server as host:port.", nameof(bootstrapServers));
        foreach (var server in bootstrapServers.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int colon = server.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(server.AsSpan(colon + 1), out int port) || port is < 1 or > 65535)
                throw new ArgumentException($"Bootstrap server '{server}' is not host:port (e.g. localhost:9092).", nameof(bootstrapServers));
        }
        BootstrapServers = string.Join(',', bootstrapServers.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        Config = config ?? new Dictionary<string, string>();
        if (Config.ContainsKey("bootstrap.servers"))
            throw new ArgumentException("Give the bootstrap servers with -BootstrapServer, not in the client config.", nameof(config));
        Credential = credential;
        Timeout = timeout ?? DefaultTimeout;
        if (Timeout <= TimeSpan.Zero) throw new ArgumentException("The timeout must be positive.", nameof(timeout));
    }

    public string BootstrapServers { get; }
    public IReadOnlyDictionary<string, string> Config { get; }
    public NetworkCredential? Credential { get; }
    public TimeSpan Timeout { get; }

    /// <summary>The librdkafka settings of a client: ours first, the user's override them.</summary>
    internal Dictionary<string, string> ClientConfig(IReadOnlyDictionary<string, string> defaults)
    {
        var config = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["bootstrap.servers"] = BootstrapServers,
            ["client.id"] = "pskafka",
            // Fail within the timeout when nothing answers, rather than librdkafka's 30 s or more.
            ["socket.connection.setup.timeout.ms"] = ((int)Math.Max(1000, Timeout.TotalMilliseconds)).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var (k, v) in defaults) config[k] = v;
        if (Credential is not null)
        {
            // A username and password mean SASL; TLS unless told otherwise, so the password never travels in clear by default.
            config["sasl.mechanism"] = "PLAIN";
            config["security.protocol"] = "SASL_SSL";
            config["sasl.username"] = Credential.UserName;
            config["sasl.password"] = Credential.Password;
        }
        foreach (var (k, v) in Config)
        {
            if (Credential is not null && k is "sasl.username" or "sasl.password") continue;
            config[k] = v;
        }
        return config;
    }

    /// <summary>The settings as Get-Cluster shows them: secrets masked.</summary>
    public IReadOnlyDictionary<string, string> DisplayConfig()
    {
        var shown = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in Config) shown[k] = IsSecret(k) ? Mask : v;
        if (Credential is not null)
        {
            shown["sasl.username"] = Credential.UserName;
            shown["sasl.password"] = Mask;
        }
        return shown;
    }

    public const string Mask = "********";

    /// <summary>librdkafka settings that hold secrets: passwords, private keys, client secrets, JAAS/OAuth configs.</summary>
    public static bool IsSecret(string name) =>
        name.EndsWith("password", StringComparison.OrdinalIgnoreCase)
        || name.Contains("secret", StringComparison.OrdinalIgnoreCase)
        || name.Equals("ssl.key.pem", StringComparison.OrdinalIgnoreCase)
        || name.Equals("ssl_key", StringComparison.OrdinalIgnoreCase)
        || name.Equals("sasl.jaas.config", StringComparison.OrdinalIgnoreCase)
        || name.Equals("sasl.oauthbearer.config", StringComparison.OrdinalIgnoreCase);

    public override string ToString() => BootstrapServers;
}
