namespace PSKafka.Cmdlets;

/// <summary>
/// Where PSKafka keeps its files by default: <c>$env:PSKAFKA_DATA</c>, else <c>~/.pskafka</c>.
/// Lives with the traffic cmdlets for now; it belongs to the whole module and may move.
/// </summary>
public static class PSKafkaDataDirectory
{
    public const string EnvironmentVariable = "PSKAFKA_DATA";

    /// <summary>The data directory (not created).</summary>
    public static string Get()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return Path.GetFullPath(fromEnvironment);
        }
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".pskafka");
    }

    /// <summary>The access log that the log generator writes by default, as gen_logs' logs/access.log.</summary>
    public static string DefaultAccessLogPath => Path.Combine(Get(), "logs", "access.log");
}
