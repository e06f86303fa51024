using System.Text;
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
/// (the ANSI driver with DisableRealDriverIO=1: it draws into memory and reads no terminal).
/// </summary>
public sealed class ConsoleHarness : IDisposable
{
    public const int Width = 140, Height = 40;

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "pskafka-tui-" + Guid.NewGuid().ToString("N"));
    private SessionToken? _session;

    public ConsoleHarness(int brokers)
    {
        Cluster = KafkaCluster.Open(_dir);
        for (int i = 0; i < brokers; i++) Cluster.StartBroker(port: 0);
        Source = new EngineClusterSource(Cluster);
    }

    public KafkaCluster Cluster { get; }
    public EngineClusterSource Source { get; }
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
        View.Apply(builder.Next(), target is null ? null : Source.Tail(target.Topic, target.Partition, ClusterConsoleView.TailSize));
    }

    private SnapshotBuilder? _builder;

    public string Screen()
    {
        App!.LayoutAndDraw(forceRedraw: true);
        return App.Driver!.ToString() ?? "";
    }

    public void CreateTopic(string name, int partitions, short rf) =>
        Assert.Equal(ErrorCode.None, Cluster.Controller.CreateTopics([new CreateTopicRequest(name, partitions, rf)], false)[0].Error);

    public void Produce(string topic, int partition, params string[] values)
    {
        var meta = Cluster.Controller.Describe([topic], false).Topics[0].Partitions[partition];
        using var builder = new RecordBatchBuilder();
        for (int i = 0; i < values.Length; i++)
            builder.Append(1_700_000_000_000 + i, Encoding.UTF8.GetBytes("k" + i), Encoding.UTF8.GetBytes(values[i]));
        var result = Cluster.GetBroker(meta.Leader)!.ProduceAsync(new ProduceRequest { Acks = Acks.All, Partitions = [new(topic, partition, builder.Build().ToArray())] }) // acks=all: committed (below the HW) when it returns
            .AsTask().GetAwaiter().GetResult();
        Assert.Equal(ErrorCode.None, result[0].Error);
    }

    public void Dispose()
    {
        if (_session is not null) App!.End(_session);
        View?.Dispose();
        App?.Dispose();
        Cluster.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
