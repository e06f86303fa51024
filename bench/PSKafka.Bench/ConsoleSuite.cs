using System.Diagnostics;
using PSKafka.Client;
using PSKafka.Client.ClusterView;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Storage;
using PSKafka.Load;
using PSKafka.Tui;
using PSKafka.Tui.Model;
using PSKafka.Tui.Views;
using Terminal.Gui.App;
using Terminal.Gui.Drivers;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;

namespace PSKafka.Bench;

/// <summary>
/// The console under load: Show-Cluster's full main loop runs headless (the ANSI driver drawing into memory) with its
/// refresh thread, on 3 brokers in this process, while a producer appends 100,000 messages of 100 bytes a second.
/// The pause key is pressed through the UI thread's queue, 40 times idle and 60 times under the flow, each timed until
/// it was handled and drawn. Goals: keys within 100 ms under the flow (median, and p95 no worse than idle on this
/// machine right now), and a refresh that stays cheap (no log scans, whatever the traffic).
/// </summary>
public sealed class ConsoleSuite : IBenchSuite
{
    private const int Width = 140, Height = 40;

    public string Name => "console";

    public void Run(TextWriter output)
    {
        string dir = Path.Combine(Path.GetTempPath(), "pskafka-bench-console-" + Guid.NewGuid().ToString("N"));
        var cluster = KafkaCluster.Open(dir);
        try
        {
            for (int i = 0; i < 3; i++) cluster.StartBroker(port: 0);
            var created = cluster.Controller.CreateTopics([new CreateTopicParams("load", 3, 1)], false)[0];
            if (created.Error != ErrorCode.None) throw new InvalidOperationException(created.ErrorMessage);
            Measure(cluster, output);
        }
        finally
        {
            cluster.Dispose();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    private static void Measure(KafkaCluster cluster, TextWriter output)
    {
        var source = new EmbeddedClusterSource(new EmbeddedClient(cluster));
        IApplication? app = null;
        SnapshotPump? pump = null;
        var ready = new ManualResetEventSlim();
        Exception? uiError = null;
        var ui = new Thread(() =>
        {
            try
            {
                Environment.SetEnvironmentVariable("DisableRealDriverIO", "1");
                Application.MaximumIterationsPerSecond = ClusterConsole.IterationsPerSecond; // as ClusterConsole.Run sets it
                using var a = Application.Create().Init(DriverRegistry.Names.ANSI);
                a.Driver!.SetScreenSize(Width, Height);
                using var v = new ClusterConsoleView(source);
                using var p = new SnapshotPump(source, v, a);
                ClusterConsole.Attach(a, v);
                (app, pump) = (a, p);
                p.Start();
                a.Invoke(ready.Set);
                a.Run(v);
            }
            catch (Exception e) { uiError = e; ready.Set(); }
        })
        { IsBackground = true, Name = "console UI" };
        ui.Start();
        if (!ready.Wait(TimeSpan.FromMinutes(1)) || uiError is not null) throw new InvalidOperationException("The console did not start.", uiError);

        // Baseline: the same keys with no traffic, so the machine's own load (other work on shared cores) is known.
        var idle = PressKeys(app!, 40);
        using var stop = new CancellationTokenSource();
        long produced = 0;
        var producer = new Thread(() => produced = PacedLoad.Produce(cluster, "load", stop.Token)) { IsBackground = true, Name = "producer" };
        var flowing = Stopwatch.StartNew();
        producer.Start();
        Thread.Sleep(1000); // let the flow settle
        var loaded = PressKeys(app!, 60);
        stop.Cancel();
        producer.Join();
        double rate = produced / flowing.Elapsed.TotalSeconds;
        app!.Invoke(app.RequestStop);
        ui.Join();
        if (uiError is not null) throw new InvalidOperationException("The console failed.", uiError);

        List<double> refresh;
        lock (pump!.RefreshTimes) refresh = pump.RefreshTimes.Select(t => t.TotalMilliseconds).Order().ToList();
        double p95Goal = Math.Max(100, 1.5 * P(idle, 0.95) + 20);
        output.WriteLine($"| console: messages flowing while keys are pressed (goal {PacedLoad.TargetRate:N0}/s) | {rate:N0} messages/s | 3 brokers in process, 3 partitions, {PacedLoad.BatchRecords}-record batches |");
        output.WriteLine($"| console: key handled and drawn, idle | p50 {P(idle, 0.5):0.0} ms | p95 {P(idle, 0.95):0.0} ms, max {idle[^1]:0.0} ms ({idle.Count} keys) |");
        output.WriteLine($"| console: key handled and drawn, at {rate:N0} messages/s | p50 {P(loaded, 0.5):0.0} ms | p95 {P(loaded, 0.95):0.0} ms, max {loaded[^1]:0.0} ms (goal: p50 < 100 ms, p95 < {p95Goal:0} ms) |");
        output.WriteLine($"| console: refresh off the UI thread while loaded | median {P(refresh, 0.5):0.00} ms | max {refresh[^1]:0.00} ms, {refresh.Count} refreshes (goal: median < 10 ms) |");
    }

    private static double P(List<double> sorted, double q) => sorted[(int)Math.Clamp(Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <summary>Presses the pause key through the UI thread's queue, 50 ms apart; each time is until it was handled and drawn.</summary>
    private static List<double> PressKeys(IApplication app, int count)
    {
        var latencies = new List<double>(count);
        for (int i = 0; i < count; i++)
        {
            using var answered = new ManualResetEventSlim();
            long pressed = Stopwatch.GetTimestamp();
            app.Invoke(() =>
            {
                app.InjectKey(Key.P);
                app.LayoutAndDraw();
                answered.Set();
            });
            answered.Wait();
            latencies.Add(Stopwatch.GetElapsedTime(pressed).TotalMilliseconds);
            Thread.Sleep(50);
        }
        latencies.Sort();
        return latencies;
    }
}
