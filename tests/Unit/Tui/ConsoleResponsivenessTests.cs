using System.Diagnostics;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Storage;
using PSKafka.Load;
using PSKafka.Tui;
using PSKafka.Tui.Views;
using Terminal.Gui.App;
using Terminal.Gui.Drivers;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;
using Xunit.Abstractions;

namespace PSKafka.Tests.Tui;

/// <summary>
/// The console stays responsive under load: its full main loop runs (headless) with the refresh thread while a
/// producer appends up to 100,000 messages a second; every key injected through the UI thread's queue is handled and
/// drawn, and the console keeps refreshing. How fast (key latency, refresh time, the rate reached) is the console
/// bench's (./build.sh bench -Suite console): a loaded machine decides those, so this test does not assert them.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleResponsivenessTests(ITestOutputHelper output)
{

    [Fact]
    public void AnswersEveryKeyAndKeepsRefreshingWhileMessagesFlow()
    {
        using var h = new ConsoleHarness(brokers: 3);
        h.CreateTopic("load", 3, 1);

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
                a.Driver!.SetScreenSize(ConsoleHarness.Width, ConsoleHarness.Height);
                using var v = new ClusterConsoleView(h.Source);
                using var p = new SnapshotPump(h.Source, v, a);
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
        Assert.True(ready.Wait(Patience.Deadline), "the console did not start");
        Assert.Null(uiError);

        using var stop = new CancellationTokenSource();
        long produced = 0;
        var producer = new Thread(() => produced = PacedLoad.Produce(h.Cluster, "load", stop.Token)) { IsBackground = true, Name = "producer" };
        producer.Start();
        int RefreshCount() { lock (pump!.RefreshTimes) return pump.RefreshTimes.Count; }
        int refreshedBefore = RefreshCount();
        var latencies = PressKeys(app!, 60);
        Patience.Wait(() => RefreshCount() >= refreshedBefore + 5, "five refreshes while messages flow");
        stop.Cancel();
        Assert.True(producer.Join(Patience.Deadline), "the producer did not stop");
        app!.Invoke(app.RequestStop);
        Assert.True(ui.Join(Patience.Deadline), "the console did not stop");
        Assert.Null(uiError);

        output.WriteLine($"produced {produced:N0} messages; key to handled+drawn under the flow: median {latencies[latencies.Count / 2]:0.0} ms, max {latencies[^1]:0.0} ms ({latencies.Count} keys)");
        Assert.True(produced > 0, "no messages flowed while the keys were pressed");
    }

    /// <summary>Presses the pause key through the UI thread's queue, 50 ms apart; each must be handled and drawn.</summary>
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
            Assert.True(answered.Wait(Patience.Deadline), $"key {i + 1} went unanswered");
            latencies.Add(Stopwatch.GetElapsedTime(pressed).TotalMilliseconds);
            Thread.Sleep(50);
        }
        latencies.Sort();
        return latencies;
    }
}
