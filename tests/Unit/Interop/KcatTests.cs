namespace PSKafka.Tests.Interop;

public sealed class KcatTests
{
    [SkippableFact]
    public void Consume_back()
    {
        Skip.IfNot(Tools.HasKcat, Tools.NoKcat);
        using var c = new WireCluster();
        c.CreateTopic("t", 3);
        var p = Tools.Kcat(c.Bootstrap, ["-P", "-t", "t", "-K:"], "a:1\nb:2\nc:3\n");
        Assert.True(p.ExitCode == 0, p.ToString());
        var r = Tools.Kcat(c.Bootstrap, ["-d", "protocol,broker", "-C", "-t", "t", "-o", "beginning", "-e", "-f", "%p %o %k=%s\\n"]);
        Assert.True(r.ExitCode == 0, r.ToString());
    }
}
