namespace PSKafka.Cmdlets.Infrastructure;

/// <summary>The default data directory: $env:PSKAFKA_DATA, else ~/.pskafka.</summary>
public static class DataDirectory
{
    public const string EnvironmentVariable = "PSKAFKA_DATA";

    public static string Default
    {
        get
        {
            var fromEnv = Environment.GetEnvironmentVariable(EnvironmentVariable);
            return string.IsNullOrWhiteSpace(fromEnv)
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".pskafka")
                : Path.GetFullPath(fromEnv);
        }
    }

    /// <summary>The access log the log generator writes by default, as gen_logs' logs/access.log.</summary>
    public static string DefaultAccessLogPath => Path.Combine(Default, "logs", "access.log");
}
