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

/// <summary>
/// Runs the real client tools (kcat, python3 with kafka-python) that the interop tests drive. A test that needs one
/// fails, naming it and how to install it, when it is missing: it never skips (./build.sh test checks them first).
/// </summary>
internal static class Tools
{
    private const string KafkaPython = "/usr/bin/python3";
    private static readonly Lazy<bool> HasKcat = new(() => Exists("kcat", "-V"));
    private static readonly Lazy<bool> HasKafkaPython = new(() => Exists(KafkaPython, "-c \"import kafka\""));

    public static void RequireKcat() =>
        Assert.True(HasKcat.Value, "kcat is not installed: sudo apt-get install -y kcat (./build.sh test installs it when run as root)");

    public static void RequireKafkaPython() =>
        Assert.True(HasKafkaPython.Value, $"kafka-python is not installed for {KafkaPython}: sudo apt-get install -y python3-kafka (./build.sh test installs it when run as root)");

    private static bool Exists(string file, string args)
    {
        try
        {
            var r = Run(file, args, null, TimeSpan.FromSeconds(60));
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

    public static Result Kcat(string bootstrap, string[] arguments, string? stdin = null, int timeoutSeconds = 60)
    {
        RequireKcat();
        return Run("kcat", ["-b", bootstrap, .. arguments], stdin, TimeSpan.FromSeconds(timeoutSeconds));
    }

    /// <summary>A kcat that keeps running (a group member), its output lines collected as they come.</summary>
    public static LineProcess KcatProcess(string bootstrap, string[] arguments)
    {
        RequireKcat();
        return new LineProcess("kcat", ["-b", bootstrap, .. arguments]);
    }

    /// <summary>A Python script with kafka-python; <paramref name="arguments"/> are its sys.argv[1:].</summary>
    public static Result Python(string script, string[]? arguments = null, string? stdin = null, int timeoutSeconds = 90)
    {
        RequireKafkaPython();
        return Run(KafkaPython, ["-c", script, .. arguments ?? []], stdin, TimeSpan.FromSeconds(timeoutSeconds));
    }
}
