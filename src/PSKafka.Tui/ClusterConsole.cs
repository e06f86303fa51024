using PSKafka.Client.ClusterView;
using PSKafka.Tui.Model;
using PSKafka.Tui.Views;
using Terminal.Gui.App;

namespace PSKafka.Tui;

/// <summary>
/// The entry point of the console (what Show-Cluster calls across the assembly-load-context boundary):
/// runs it full-screen on the calling thread until the user quits or <paramref name="cancellationToken"/>
/// fires, and gives the terminal back as it was, also when something throws.
/// </summary>
public static class ClusterConsole
{
    /// <summary>
    /// Main-loop iterations a second. Terminal.Gui's default of 25 alone can keep a key waiting 40 ms;
    /// at 60 the wait is at most ~17 ms, well inside the 100 ms a keypress may take. The setting is static
    /// but lives in the console's own load context, so it touches no other module's Terminal.Gui.
    /// </summary>
    public const ushort IterationsPerSecond = 60;

    public static void Run(IClusterSource source, CancellationToken cancellationToken)
    {
        Application.MaximumIterationsPerSecond = IterationsPerSecond;
        // Disposing the application restores the terminal (main screen, cursor, cooked mode).
        using IApplication app = Application.Create().Init();
        using var view = new ClusterConsoleView(source);
        using var pump = new SnapshotPump(source, view, app);
        Attach(app, view);
        using var cancel = cancellationToken.Register(() => pump.Post(app.RequestStop));
        pump.Start();
        app.Run(view);
    }

    /// <summary>Routes the console's own keys to the view before the focused table sees them, while no dialog is open.</summary>
    public static void Attach(IApplication app, ClusterConsoleView view) =>
        app.Keyboard.KeyDown += (_, key) =>
        {
            if (!key.Handled && ReferenceEquals(app.TopRunnableView, view) && view.HandleKey(key)) key.Handled = true;
        };
}

/// <summary>
/// The console's refresh thread: once a second (and at once when the view asks) it builds a snapshot and
/// the tail off the UI thread and hands them to the UI thread with <see cref="IApplication.Invoke(Action)"/>.
/// At most one hand-over is queued at a time; a slow screen gets the newest snapshot, never a backlog.
/// </summary>
public sealed class SnapshotPump : IDisposable
{
    private readonly IClusterSource _source;
    private readonly ClusterConsoleView _view;
    private readonly IApplication _app;
    private readonly SnapshotBuilder _builder;
    private readonly AutoResetEvent _wake = new(false);
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;
    private Update? _latest;
    private int _handOverQueued;

    private sealed record Update(ClusterSnapshot Snapshot, IReadOnlyList<TailRecord>? Tail, IReadOnlyList<PSKafka.Engine.Logging.BrokerLogEntry>? Log, string? Error);

    public SnapshotPump(IClusterSource source, ClusterConsoleView view, IApplication app, TimeSpan? interval = null)
    {
        _source = source;
        _view = view;
        _app = app;
        _builder = new SnapshotBuilder(source);
        Interval = interval ?? TimeSpan.FromSeconds(1);
        view.RefreshRequested += () => _wake.Set();
    }

    public TimeSpan Interval { get; }

    /// <summary>How long each refresh took off the UI thread (snapshot, groups and tail), for measurements.</summary>
    public List<TimeSpan> RefreshTimes { get; } = [];

    /// <summary>How long showing each refresh took on the UI thread, for measurements.</summary>
    public List<TimeSpan> ApplyTimes { get; } = [];

    public void Start()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "PSKafka console refresh" };
        _thread.Start();
    }

    /// <summary>Runs an action on the UI thread; does nothing once the application is gone.</summary>
    public void Post(Action action)
    {
        try { _app.Invoke(action); }
        catch (Exception) { /* not running any more */ }
    }

    /// <summary>One refresh: builds the update and queues its hand-over to the UI thread.</summary>
    public void RefreshOnce()
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        Update update;
        try
        {
            var snapshot = _builder.Next();
            var target = _view.TailTarget;
            bool showsLog = _view.ShowsBrokerLog;
            var tail = _view.TailPaused || target is null || showsLog ? null : _source.Tail(target.Topic, target.Partition, ClusterConsoleView.TailSize);
            var log = _view.TailPaused || !showsLog ? null : _source.BrokerLog(ClusterConsoleView.TailSize);
            update = new Update(snapshot, tail, log, null);
        }
        catch (Exception e)
        {
            // The cluster was closed under us or an operation raced a broker stop: say so, try again next time.
            update = new Update(_view.Snapshot, null, null, $"Refresh failed: {e.Message}");
        }
        lock (RefreshTimes) RefreshTimes.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started));
        Volatile.Write(ref _latest, update);
        if (Interlocked.Exchange(ref _handOverQueued, 1) == 0) Post(HandOver);
    }

    private void HandOver()
    {
        Volatile.Write(ref _handOverQueued, 0);
        var update = Volatile.Read(ref _latest);
        if (update is null) return;
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        _view.Apply(update.Snapshot, update.Tail, update.Log);
        if (update.Error is not null) _view.SetStatus(update.Error);
        lock (ApplyTimes) ApplyTimes.Add(System.Diagnostics.Stopwatch.GetElapsedTime(started));
    }

    private void Loop()
    {
        var handles = new[] { _wake, _stop.Token.WaitHandle };
        while (!_stop.IsCancellationRequested)
        {
            RefreshOnce();
            WaitHandle.WaitAny(handles, Interval);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _thread?.Join(TimeSpan.FromSeconds(5));
        _stop.Dispose();
        _wake.Dispose();
    }
}
