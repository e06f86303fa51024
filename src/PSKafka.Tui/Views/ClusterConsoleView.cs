using System.Globalization;
using PSKafka.Client.ClusterView;
using PSKafka.Engine.Cluster;
using PSKafka.Engine.Logging;
using Terminal.Gui.App;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;
using Attribute = Terminal.Gui.Drawing.Attribute;

namespace PSKafka.Tui.Views;

/// <summary>Which partition the tail follows; read by the refresh thread, written on the UI thread.</summary>
public sealed record TailTarget(string Topic, int Partition);

/// <summary>
/// The console's screen: brokers, topics, the selected topic's partitions, consumer groups and a tail
/// of the selected partition, with the keys of its actions on the bottom line. It only ever shows the
/// snapshot it was last given (<see cref="Apply"/>, on the UI thread); actions run on the thread pool
/// and report back through <see cref="IApplication.Invoke(Action)"/>.
/// </summary>
public sealed class ClusterConsoleView : Runnable
{
    public const int TailSize = 50;

    /// <summary>The keys and what they do: the help line and the help dialog both show these.</summary>
    public static readonly IReadOnlyList<(string Key, string Does)> KeyHelp =
    [
        ("Tab", "switch"), ("↑↓", "select"), ("s", "stop broker"), ("k", "crash broker"), ("r", "restart"),
        ("n", "new topic"), ("d", "delete topic"), ("o", "reset group"), ("l", "log"), ("p", "pause"), ("?", "help"), ("q", "quit"),
    ];

    private static readonly string[] BrokerKeys = ["s", "k", "r"];

    /// <summary>What the console says when asked to stop, crash or restart a broker it does not run.</summary>
    public const string BrokerControlRefused =
        "Stopping, crashing and restarting brokers is not possible on a remote cluster: its brokers belong to whoever runs them.";

    /// <summary>What the console says when asked for the broker log of a cluster whose files it cannot read.</summary>
    public const string BrokerLogUnavailable =
        "The broker log is not available for a remote cluster: its log files are on its brokers' machines.";

    private readonly IClusterSource _source;
    private readonly Label _header;
    private readonly Label _status;
    private readonly FrameView _brokersFrame, _topicsFrame, _partitionsFrame, _groupsFrame, _tailFrame;
    private readonly TableView _brokers, _topics, _partitions, _groups, _tail;
    private readonly Label _noGroups;
    private ClusterSnapshot _snapshot = ClusterSnapshot.Empty;
    private IReadOnlyList<TailRecord> _tailRecords = [];
    private IReadOnlyList<BrokerLogEntry> _logEntries = [];
    private volatile TailTarget? _tailTarget;
    private volatile bool _tailPaused;
    private volatile bool _showsBrokerLog;
    private bool _applying;

    public ClusterConsoleView(IClusterSource source)
    {
        _source = source;
        Width = Dim.Fill();
        Height = Dim.Fill();
        CanFocus = true;

        _header = new Label { X = 0, Y = 0, Width = Dim.Fill(), Height = 1, Text = "PSKafka" };
        _brokers = NewTable();
        _brokersFrame = NewFrame("Brokers", _brokers);
        _brokersFrame.X = 0;
        _brokersFrame.Y = 1;
        _brokersFrame.Width = Dim.Percent(50);
        _brokersFrame.Height = 7;

        _topics = NewTable();
        _topicsFrame = NewFrame("Topics", _topics);
        _topicsFrame.X = Pos.Right(_brokersFrame);
        _topicsFrame.Y = 1;
        _topicsFrame.Width = Dim.Fill();
        _topicsFrame.Height = Dim.Height(_brokersFrame);

        _partitions = NewTable();
        _partitionsFrame = NewFrame("Partitions", _partitions);
        _partitionsFrame.X = 0;
        _partitionsFrame.Y = Pos.Bottom(_brokersFrame);
        _partitionsFrame.Width = Dim.Fill();
        _partitionsFrame.Height = 7;

        _groups = NewTable();
        _groupsFrame = NewFrame("Consumer groups", _groups);
        _groupsFrame.X = 0;
        _groupsFrame.Y = Pos.Bottom(_partitionsFrame);
        _groupsFrame.Width = Dim.Percent(55);
        _groupsFrame.Height = Dim.Fill(2);
        _noGroups = new Label { X = 1, Y = 0, Text = "no groups yet" };
        _groupsFrame.Add(_noGroups);
        _groups.Visible = false;

        _tail = NewTable();
        _tailFrame = NewFrame("Tail", _tail);
        _tailFrame.X = Pos.Right(_groupsFrame);
        _tailFrame.Y = Pos.Bottom(_partitionsFrame);
        _tailFrame.Width = Dim.Fill();
        _tailFrame.Height = Dim.Fill(2);

        _status = new Label { X = 0, Y = Pos.AnchorEnd(2), Width = Dim.Fill(), Height = 1, Text = "" };
        var help = new Label
        {
            X = 0,
            Y = Pos.AnchorEnd(1),
            Width = Dim.Fill(),
            Height = 1,
            Text = string.Join("  ", ActiveKeys.Select(k => $"{k.Key} {k.Does}")),
        };

        Add(_header, _brokersFrame, _topicsFrame, _partitionsFrame, _groupsFrame, _tailFrame, _status, help);

        // Trouble shows in words (crashed, OFFLINE, under-replicated) and in bold colour, so it reads on a monochrome terminal too.
        Highlight(_brokers, row => Row(_snapshot.Brokers, row) switch
        {
            { Reachable: false } or { State: BrokerState.Crashed } => Severity.Error,
            { State: not BrokerState.Running } => Severity.Warning,
            _ => Severity.None,
        });
        Highlight(_topics, row => Row(_snapshot.Topics, row) switch
        {
            { Offline: > 0 } => Severity.Error,
            { UnderReplicated: > 0 } => Severity.Warning,
            _ => Severity.None,
        });
        Highlight(_partitions, row => Row(SelectedTopic()?.Partitions ?? [], row) switch
        {
            { IsOffline: true } => Severity.Error,
            { IsUnderReplicated: true } => Severity.Warning,
            _ => Severity.None,
        });

        _topics.ValueChanged += (_, _) => SelectionChanged();
        _partitions.ValueChanged += (_, _) => SelectionChanged();
        Confirm = (title, message) => MessageBox.Query(App!, title, message, "_No", "_Yes") == 1;
    }

    /// <summary>Raised (on the UI thread) when what the refresh thread should read changed: another partition to tail, an action done.</summary>
    public event Action? RefreshRequested;

    /// <summary>Asks the user to confirm a destructive action; a dialog by default, replaceable for tests.</summary>
    public Func<string, string, bool> Confirm { get; set; }

    /// <summary>The keys that work on this console's cluster: a remote cluster's console has no broker keys.</summary>
    public IReadOnlyList<(string Key, string Does)> ActiveKeys =>
        _source.CanControlBrokers ? KeyHelp : KeyHelp.Where(k => !BrokerKeys.Contains(k.Key)).ToList();

    public ClusterSnapshot Snapshot => _snapshot;
    public TailTarget? TailTarget => _tailTarget;
    public bool TailPaused => _tailPaused;
    /// <summary>Whether the tail pane shows the newest server.log lines instead of the selected partition's records.</summary>
    public bool ShowsBrokerLog => _showsBrokerLog;
    public string StatusText => _status.Text;

    private enum Severity { None, Warning, Error }

    private static T? Row<T>(IReadOnlyList<T> rows, int row) where T : class => row >= 0 && row < rows.Count ? rows[row] : null;

    private static void Highlight(TableView table, Func<int, Severity> severity) =>
        table.Style.RowColorGetter = args =>
        {
            var level = severity(args.RowIndex);
            if (level == Severity.None) return null;
            var normal = table.GetAttributeForRole(VisualRole.Normal);
            var foreground = new Color(level == Severity.Error ? ColorName16.BrightRed : ColorName16.Yellow);
            return new Scheme(new Attribute(foreground, normal.Background, TextStyle.Bold));
        };

    private static TableView NewTable()
    {
        var table = new TableView { X = 0, Y = 0, Width = Dim.Fill(), Height = Dim.Fill(), FullRowSelect = true, MultiSelect = false };
        table.Style.ShowHorizontalHeaderOverline = false;
        table.Style.ShowHorizontalBottomLine = false;
        table.Style.ExpandLastColumn = true;
        table.Style.ShowVerticalCellLineForFirstColumn = false;
        table.Style.ShowVerticalCellLineForLastColumn = false;
        return table;
    }

    private static FrameView NewFrame(string title, View content)
    {
        var frame = new FrameView { Title = title, CanFocus = true };
        frame.Add(content);
        return frame;
    }

    // ---- showing a snapshot (UI thread) ----

    /// <summary>
    /// Shows a snapshot and, unless the tail is paused, the newest records of the tailed partition or, when the pane
    /// shows the broker log, its newest entries (<paramref name="log"/>).
    /// </summary>
    public void Apply(ClusterSnapshot snapshot, IReadOnlyList<TailRecord>? tail, IReadOnlyList<BrokerLogEntry>? log = null)
    {
        _applying = true;
        try
        {
            if (snapshot.Problem is not null) SetStatus(snapshot.Problem);
            else if (_snapshot.Problem is not null) SetStatus("Reading the cluster works again.");
            _snapshot = snapshot;
            _header.Text = $"PSKafka  cluster {snapshot.ClusterId}  {snapshot.Description}  controller: {(snapshot.MetadataLeaderId < 0 ? "unknown" : $"broker {snapshot.MetadataLeaderId}")}  " +
                $"updated {snapshot.Taken.ToLocalTime():HH:mm:ss} ({snapshot.BuildTime.TotalMilliseconds.ToString("0.0", CultureInfo.InvariantCulture)} ms)";

            int selectedBroker = SelectedBroker()?.Id ?? -1;
            _brokers.Table = Tables.Brokers(snapshot.Brokers);
            Reselect(_brokers, snapshot.Brokers.ToList().FindIndex(b => b.Id == selectedBroker));

            string? selectedTopic = SelectedTopic()?.Name;
            _topics.Table = Tables.Topics(snapshot.Topics);
            Reselect(_topics, snapshot.Topics.ToList().FindIndex(t => t.Name == selectedTopic));

            int rows = Math.Max(snapshot.Brokers.Count, snapshot.Topics.Count);
            _brokersFrame.Height = Math.Clamp(rows + 4, 6, 14);

            ShowPartitions();
            ShowGroups(snapshot.Groups);
            if (_showsBrokerLog && log is not null && !_tailPaused) ShowBrokerLog(log);
            else if (!_showsBrokerLog && tail is not null && !_tailPaused) ShowTail(tail);
            else UpdateTailTitle();
        }
        finally
        {
            _applying = false;
        }
        SetNeedsDraw();
    }

    private void ShowPartitions()
    {
        var topic = SelectedTopic();
        int selected = SelectedRow(_partitions);
        var partitions = topic?.Partitions ?? [];
        _partitions.Table = Tables.Partitions(partitions);
        Reselect(_partitions, Math.Min(selected, partitions.Count - 1));
        _partitionsFrame.Title = topic is null
            ? "Partitions"
            : $"Partitions of {topic.Name} ({topic.UnderReplicated} under-replicated, {topic.Offline} offline)";
        _partitionsFrame.Height = Math.Clamp(partitions.Count + 4, 6, 16);
        UpdateTailTarget();
    }

    private void ShowGroups(IReadOnlyList<GroupView> groups)
    {
        _noGroups.Visible = groups.Count == 0;
        _groups.Visible = groups.Count > 0;
        if (groups.Count > 0) _groups.Table = Tables.Groups(groups);
        _groupsFrame.Title = groups.Count switch
        {
            0 => "Consumer groups",
            1 => $"Consumer group {groups[0].GroupId}: total lag {Display.Count(groups[0].TotalLag)} {Display.Sparkline(groups[0].LagHistory, Tables.TrendWidth)}",
            _ => $"Consumer groups: total lag {string.Join(", ", groups.Select(g => $"{g.GroupId} {Display.Count(g.TotalLag)} {Display.Sparkline(g.LagHistory, 8)}"))}",
        };
    }

    private void ShowTail(IReadOnlyList<TailRecord> tail)
    {
        _tailRecords = tail;
        // Newest first, so the newest records are in view whatever the height.
        _tail.Table = Tables.Tail(tail.Reverse().ToList());
        UpdateTailTitle();
    }

    private void ShowBrokerLog(IReadOnlyList<BrokerLogEntry> log)
    {
        _logEntries = log;
        _tail.Table = Tables.BrokerLog(log.Reverse().ToList()); // newest first, as the tail
        UpdateTailTitle();
    }

    private void UpdateTailTitle()
    {
        var target = _tailTarget;
        if (_showsBrokerLog)
        {
            _tailFrame.Title = $"server.log, newest {_logEntries.Count} first{(_tailPaused ? " [PAUSED, p resumes]" : " (l: back to the tail)")}";
            return;
        }
        _tailFrame.Title = target is null
            ? "Tail (select a partition)"
            : $"Tail of {target.Topic}-{target.Partition}, newest {_tailRecords.Count} first{(_tailPaused ? " [PAUSED, p resumes]" : "")}";
    }

    private static void Reselect(TableView table, int row)
    {
        if (table.Table is null || table.Table.Rows == 0) return;
        table.SetSelection(0, Math.Clamp(row, 0, table.Table.Rows - 1), false, null);
    }

    private static int SelectedRow(TableView table) => table.Value?.SelectedCell.Y ?? 0;

    public BrokerView? SelectedBroker() => Row(_snapshot.Brokers, _brokers);

    public TopicView? SelectedTopic() => Row(_snapshot.Topics, _topics);

    /// <summary>The group of the selected row (the groups table has a row per committed partition).</summary>
    public GroupView? SelectedGroup()
    {
        if (_snapshot.Groups.Count == 0 || _groups.Table is null) return null;
        int row = SelectedRow(_groups);
        foreach (var g in _snapshot.Groups)
        {
            int rows = Math.Max(1, g.Offsets.Count);
            if (row < rows) return g;
            row -= rows;
        }
        return null;
    }

    private static T? Row<T>(IReadOnlyList<T> rows, TableView table) where T : class
    {
        if (rows.Count == 0 || table.Table is null) return null;
        return Row(rows, SelectedRow(table));
    }

    private void SelectionChanged()
    {
        if (_applying) return;
        _applying = true;
        try { ShowPartitions(); }
        finally { _applying = false; }
        RefreshRequested?.Invoke();
    }

    private void UpdateTailTarget()
    {
        var topic = SelectedTopic();
        var partition = topic is null ? null : Row(topic.Partitions, _partitions);
        var target = topic is null || partition is null ? null : new TailTarget(topic.Name, partition.Partition);
        if (target != _tailTarget)
        {
            _tailTarget = target;
            _tailRecords = [];
            if (!_showsBrokerLog) _tail.Table = Tables.Tail([]);
        }
        UpdateTailTitle();
    }

    public void SetStatus(string text)
    {
        _status.Text = text;
        SetNeedsDraw();
    }

    // ---- keys and actions (UI thread) ----

    /// <summary>Handles the console's own keys; false for keys the focused view should have (arrows, Tab, mouse).</summary>
    public bool HandleKey(Key key)
    {
        if (key == Key.Q || key == Key.Esc || key == Key.C.WithCtrl) { Quit(); return true; }
        if (key == Key.P || key == Key.Space) { ToggleTail(); return true; }
        if (key == Key.S) { StopBroker(kill: false); return true; }
        if (key == Key.K) { StopBroker(kill: true); return true; }
        if (key == Key.R) { RestartBroker(); return true; }
        if (key == Key.N) { NewTopic(); return true; }
        if (key == Key.D || key == Key.Delete) { DeleteTopic(); return true; }
        if (key == Key.O) { ResetGroupOffsets(); return true; }
        if (key == Key.L) { ToggleBrokerLog(); return true; }
        if (key == Key.F1 || key.AsRune.Value == '?') { ShowHelp(); return true; }
        return false;
    }

    public void Quit() => App?.RequestStop();

    public void ToggleTail()
    {
        _tailPaused = !_tailPaused;
        UpdateTailTitle();
        SetStatus(_tailPaused ? "Tail paused." : "Tail resumed.");
        RefreshRequested?.Invoke();
    }

    /// <summary>Switches the tail pane between the selected partition's records and the brokers' server.log.</summary>
    public void ToggleBrokerLog()
    {
        if (!_source.HasBrokerLogs) { SetStatus(BrokerLogUnavailable); return; }
        _showsBrokerLog = !_showsBrokerLog;
        // Log lines are long: the pane takes most of the width while it shows them.
        _groupsFrame.Width = Dim.Percent(_showsBrokerLog ? 25 : 55);
        _logEntries = [];
        _tailRecords = [];
        _tail.Table = _showsBrokerLog ? Tables.BrokerLog([]) : Tables.Tail([]);
        UpdateTailTitle();
        SetStatus(_showsBrokerLog ? "Showing the broker log (Get-BrokerLog for all of it)." : "Showing the tail of the selected partition.");
        RefreshRequested?.Invoke();
    }

    public void StopBroker(bool kill)
    {
        if (!_source.CanControlBrokers) { SetStatus(BrokerControlRefused); return; }
        if (SelectedBroker() is not { } broker) { SetStatus("Select a broker first (Tab to the brokers table)."); return; }
        if (broker.StateName != "running") { SetStatus($"Broker {broker.Id} is {broker.StateName}; r restarts it."); return; }
        var (verb, what) = kill
            ? ("Crash", $"Crash broker {broker.Id} ({broker.Address})? It stops at once: no flush, no hand-over of leadership, like a killed process.")
            : ("Stop", $"Stop broker {broker.Id} ({broker.Address})? Its partitions move their leaders to other in-sync replicas first.");
        if (!Confirm($"{verb} broker {broker.Id}", what)) { SetStatus("Cancelled."); return; }
        Run($"{(kill ? "Crashing" : "Stopping")} broker {broker.Id}", () => _source.StopBroker(broker.Id, kill),
            $"Broker {broker.Id} {(kill ? "crashed" : "stopped")}. r restarts it.");
    }

    public void RestartBroker()
    {
        if (!_source.CanControlBrokers) { SetStatus(BrokerControlRefused); return; }
        if (SelectedBroker() is not { } broker) { SetStatus("Select a broker first (Tab to the brokers table)."); return; }
        if (broker.StateName == "running") { SetStatus($"Broker {broker.Id} is already running."); return; }
        Run($"Starting broker {broker.Id}", () => _source.StartBroker(broker.Id), $"Broker {broker.Id} started.");
    }

    public void DeleteTopic()
    {
        if (SelectedTopic() is not { } topic) { SetStatus("Select a topic first."); return; }
        if (!Confirm($"Delete topic {topic.Name}", $"Delete topic '{topic.Name}' and all {Display.Count(topic.Messages)} of its messages? This cannot be undone."))
        {
            SetStatus("Cancelled.");
            return;
        }
        Run($"Deleting topic {topic.Name}", () => _source.DeleteTopic(topic.Name), $"Topic {topic.Name} deleted.");
    }

    public void ResetGroupOffsets()
    {
        if (SelectedGroup() is not { } group) { SetStatus("Select a consumer group first (Tab to the groups table)."); return; }
        if (group.Members.Count > 0) { SetStatus($"Group {group.GroupId} has {group.Members.Count} active member(s); Kafka resets only groups without members."); return; }
        if (!Confirm($"Reset group {group.GroupId}", $"Move the committed offsets of group '{group.GroupId}' back to the earliest offsets, so it reads every message again?"))
        {
            SetStatus("Cancelled.");
            return;
        }
        Run($"Resetting group {group.GroupId}", () => _source.ResetGroupOffsetsToEarliest(group.GroupId), $"Group {group.GroupId} reset to the earliest offsets.");
    }

    public void NewTopic()
    {
        int running = _snapshot.Brokers.Count(b => b.StateName == "running");
        var name = new TextField { X = 16, Y = 0, Width = 30, Text = "" };
        var partitions = new TextField { X = 16, Y = 1, Width = 6, Text = "3" };
        var rf = new TextField { X = 16, Y = 2, Width = 6, Text = Math.Clamp(running, 1, 3).ToString(CultureInfo.InvariantCulture) };
        var dialog = new Dialog { Title = "New topic" };
        dialog.Add(new Label { X = 1, Y = 0, Text = "Name:" }, name,
            new Label { X = 1, Y = 1, Text = "Partitions:" }, partitions,
            new Label { X = 1, Y = 2, Text = "Replication:" }, rf);
        dialog.AddButton(new Button { Text = "_Cancel" });
        dialog.AddButton(new Button { Text = "C_reate" });
        App!.Run(dialog);
        bool create = dialog.Result == 1;
        string topicName = name.Text.Trim();
        string partitionText = partitions.Text, rfText = rf.Text;
        dialog.Dispose();
        if (!create) { SetStatus("Cancelled."); return; }
        if (!int.TryParse(partitionText, NumberStyles.Integer, CultureInfo.InvariantCulture, out int p) ||
            !short.TryParse(rfText, NumberStyles.Integer, CultureInfo.InvariantCulture, out short r))
        {
            SetStatus("Partitions and replication factor are whole numbers.");
            return;
        }
        Run($"Creating topic {topicName}", () => _source.CreateTopic(topicName, p, r), $"Topic {topicName} created ({p} partitions, replication factor {r}).");
    }

    public void ShowHelp() =>
        MessageBox.Query(App!, "Show-Cluster keys", string.Join("\n", ActiveKeys.Select(k => $"{k.Key,-4} {k.Does}")) +
            "\n\nThe mouse selects rows and tables. Actions act on the selected broker, topic or partition.", "_Close");

    /// <summary>Runs an action off the UI thread and reports how it went on the status line.</summary>
    private void Run(string doing, Action action, string done)
    {
        SetStatus(doing + "...");
        var app = App;
        Task.Run(() =>
        {
            string outcome;
            try
            {
                action();
                outcome = done;
            }
            catch (Exception e)
            {
                outcome = $"{doing} failed: {e.Message}";
            }
            Post(app, () =>
            {
                SetStatus(outcome);
                RefreshRequested?.Invoke();
            });
        });
    }

    private static void Post(IApplication? app, Action action)
    {
        if (app is null) { action(); return; }
        try { app.Invoke(action); }
        catch (Exception) { /* the console closed meanwhile */ }
    }
}
