using System.Text;
using PSKafka.Client;
using PSKafka.Client.ClusterView;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Storage;
using PSKafka.Tui;
using PSKafka.Tui.Model;
using PSKafka.Tui.Views;
using Terminal.Gui.App;
using Terminal.Gui.Drivers;

namespace PSKafka.Tests.Tui;

/// <summary>The console tests share Terminal.Gui's process-wide set-up, so they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "Console";
}

/// <summary>
/// A cluster in a temp directory and a headless Terminal.Gui application at a fixed screen size
/// (the ANSI driver with DisableRealDriverIO=1: it draws into memory and reads no terminal). The console
/// reads the cluster in process, or through the source <paramref name="source"/> makes (disposed with the harness).
/// </summary>
public sealed class ConsoleHarness : IDisposable
{
    public const int Width = 140, Height = 40;

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pskafka-tui-" + Guid.NewGuid().ToString("N"));
    private SessionToken? _session;

    public ConsoleHarness(int brokers, Func<KafkaCluster, IClusterSource>? source = null)
    {
        Cluster = KafkaCluster.Open(_dir);
        for (int i = 0; i < brokers; i++) Cluster.StartBroker(port: 0);
        Source = source?.Invoke(Cluster) ?? new EmbeddedClusterSource(new EmbeddedClient(Cluster));
    }

    public KafkaCluster Cluster { get; }
    public IClusterSource Source { get; }
    public IApplication? App { get; private set; }
    public ClusterConsoleView? View { get; private set; }

    /// <summary>Opens the console headless, shows one snapshot (and the tail), and routes keys like Show-Cluster does.</summary>
    public ClusterConsoleView Open()
    {
        Environment.SetEnvironmentVariable("DisableRealDriverIO", "1");
        App = Application.Create().Init(DriverRegistry.Names.ANSI);
        App.Driver!.SetScreenSize(Width, Height);
        View = new ClusterConsoleView(Source);
        ClusterConsole.Attach(App, View);
        _session = App.Begin(View);
        Refresh();
        return View;
    }

    /// <summary>What a refresh of the running console does, synchronously: snapshot, tail, apply, draw.</summary>
    public void Refresh()
    {
        var builder = _builder ??= new SnapshotBuilder(Source);
        View!.Apply(builder.Next(), null); // selects the first topic and partition
        var target = View.TailTarget;
        View.Apply(builder.Next(), target is null ? null : Source.Tail(target.Topic, target.Partition, ClusterConsoleView.TailSize),
            View.ShowsBrokerLog ? Source.BrokerLog(ClusterConsoleView.TailSize) : null);
    }

    private SnapshotBuilder? _builder;

    public string Screen()
    {
        App!.LayoutAndDraw(forceRedraw: true);
        return App.Driver!.ToString() ?? "";
    }

    public void CreateTopic(string name, int partitions, short rf) =>
        Assert.Equal(ErrorCode.None, Cluster.Controller.CreateTopics([new CreateTopicParams(name, partitions, rf)], false)[0].Error);

    public void Produce(string topic, int partition, params string[] values)
    {
        var meta = Cluster.Controller.Describe([topic], false).Topics[0].Partitions[partition];
        using var builder = new RecordBatchBuilder();
        for (int i = 0; i < values.Length; i++)
            builder.Append(1_700_000_000_000 + i, Encoding.UTF8.GetBytes("k" + i), Encoding.UTF8.GetBytes(values[i]));
        var result = Cluster.GetBroker(meta.Leader)!.ProduceAsync(new ProduceParams { Acks = Acks.All, Partitions = [new(topic, partition, builder.Build().ToArray())] }) // acks=all: committed (below the HW) when it returns
            .AsTask().GetAwaiter().GetResult();
        Assert.Equal(ErrorCode.None, result[0].Error);
    }

    public void Dispose()
    {
        if (_session is not null) App!.End(_session);
        View?.Dispose();
        App?.Dispose();
        (Source as IDisposable)?.Dispose();
        Cluster.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Reads the tables off a rendered console screen (the cells between the '│' lines).</summary>
public static class ConsoleScreen
{
    public static string Ids(IEnumerable<int> ids) => string.Join(",", ids);

    public static string[] Lines(string screen) => screen.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();

    public static string[] Cells(string line) => line.Split('│').Select(c => c.Trim()).Where(c => c.Length > 0).ToArray();

    // The brokers table row of a broker: Id, Address, State, Role, Leads, Follows, In, Out.
    public static string[] BrokerRow(string screen, int id) =>
        Lines(screen).Select(l => l.Split('│').Skip(1).Select(c => c.Trim()).ToArray()).FirstOrDefault(c => c.Length >= 8 && c[0] == id.ToString(System.Globalization.CultureInfo.InvariantCulture) && c[1].StartsWith("localhost:", StringComparison.Ordinal))?[..8]
        ?? throw new Xunit.Sdk.XunitException($"No row for broker {id}:\n{screen}");

    // The topics table sits right of the brokers table: its cells follow the "││" where the two frames meet.
    public static string[] TopicRow(string screen, string topic)
    {
        var line = LineWith(screen, "││" + topic);
        return Cells(line[(line.IndexOf("││" + topic, StringComparison.Ordinal) + 1)..]);
    }

    public static string LineWith(string screen, string text) =>
        Lines(screen).FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) ?? throw new Xunit.Sdk.XunitException($"No line with '{text}' on the screen:\n{screen}");

    // The partitions table row of partition p: "│0 │0     │..." after the frame's border.
    public static string[] PartitionRow(string screen, int partition)
    {
        var start = Lines(screen).ToList().FindIndex(l => l.Contains("Partitions of", StringComparison.Ordinal));
        Assert.True(start >= 0, screen);
        foreach (var line in Lines(screen).Skip(start + 3))
        {
            var cells = line.Split('│').Select(c => c.Trim()).Where(c => c.Length > 0).ToArray();
            if (cells.Length > 5 && cells[0] == partition.ToString(System.Globalization.CultureInfo.InvariantCulture)) return cells;
        }
        throw new Xunit.Sdk.XunitException($"No row for partition {partition}:\n{screen}");
    }
}
