using System.Diagnostics;
using PSKafka.Engine.Cluster;

namespace PSKafka.Tests.Interop;

/// <summary>A PSKafka cluster of real brokers on ephemeral ports in a temp directory, for clients that speak the wire protocol.</summary>
internal sealed class WireCluster : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pskafka-wire-" + Guid.NewGuid().ToString("N"));

    public WireCluster(int brokers = 3)
    {
        Cluster = KafkaCluster.Open(_dir);
        for (int i = 0; i < brokers; i++) Cluster.StartBroker(port: 0);
    }

    public KafkaCluster Cluster { get; }
    public string DataDirectory => _dir;

    /// <summary>bootstrap.servers: every running broker.</summary>
    public string Bootstrap => string.Join(",", Cluster.Brokers.Where(b => b.IsRunning).Select(b => b.Address));

    public void CreateTopic(string name, int partitions = 3, short replicationFactor = 1)
    {
        var r = Cluster.Controller.CreateTopics([new PSKafka.Engine.Api.CreateTopicParams(name, partitions, replicationFactor)], false)[0];
        Assert.True(r.Error == PSKafka.Engine.ErrorCode.None, r.ErrorMessage);
    }

    public void Dispose()
    {
        Cluster.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Runs the real client tools (kcat, python3 with kafka-python) that the interop tests drive.</summary>
internal static class Tools
{
    public static readonly bool HasKcat = Exists("kcat", "-V");
    public static readonly bool HasKafkaPython = Exists("/usr/bin/python3", "-c \"import kafka\"");

    public const string NoKcat = "kcat is not installed (apt-get install -y kcat; .ci/run installs it)";
    public const string NoKafkaPython = "kafka-python is not installed (apt-get install -y python3-kafka; .ci/run installs it)";

    private static bool Exists(string file, string args)
    {
        try
        {
            var r = Run(file, args, null, TimeSpan.FromSeconds(20));
            return r.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    public static Result Run(string file, string arguments, string? stdin, TimeSpan timeout) =>
        Run(file, psi => psi.Arguments = arguments, stdin, timeout);

    public static Result Run(string file, IEnumerable<string> arguments, string? stdin, TimeSpan timeout) =>
        Run(file, psi => { foreach (var a in arguments) psi.ArgumentList.Add(a); }, stdin, timeout);

    private static Result Run(string file, Action<ProcessStartInfo> args, string? stdin, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        args(psi);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null) p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return new Result(-1, stdout.Result, stderr.Result + $"\n(killed after {timeout.TotalSeconds} s)");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }

    public static Result Kcat(string bootstrap, string[] arguments, string? stdin = null, int timeoutSeconds = 60) =>
        Run("kcat", ["-b", bootstrap, .. arguments], stdin, TimeSpan.FromSeconds(timeoutSeconds));

    public static Result Python(string script, string? stdin = null, int timeoutSeconds = 90) =>
        Run("/usr/bin/python3", ["-c", script], stdin, TimeSpan.FromSeconds(timeoutSeconds));
}
