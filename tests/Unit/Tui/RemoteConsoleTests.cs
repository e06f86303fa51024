using System.Diagnostics;
using PSKafka.Client;
using PSKafka.Client.ClusterView;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Tui.Model;
using PSKafka.Tui.Views;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;
using Xunit.Abstractions;
using static PSKafka.Tests.Tui.ConsoleScreen;

namespace PSKafka.Tests.Tui;

/// <summary>
/// The console on a cluster it reaches only over the wire: PSKafka brokers listening on free ports, read by
/// <see cref="RemoteClusterSource"/> through a <see cref="RemoteClient"/> (Confluent.Kafka), never in process.
/// The tests set the cluster up in process (topics, records) and look at it only through the screen.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class RemoteConsoleTests(ITestOutputHelper output) : IDisposable
{
    private RemoteClient? _client;

    private ConsoleHarness Harness(int brokers, TimeSpan? timeout = null) => new(brokers, cluster =>
    {
        _client = new RemoteClient(new RemoteConnection(string.Join(',', cluster.Brokers.Select(b => b.Address)), timeout: timeout));
        return new RemoteClusterSource(_client);
    });

    private RemoteClient Client => _client!;

    public void Dispose() => _client?.Dispose();

    [Fact]
    public void ShowsBrokersPartitionsAGroupWithLagAndTheTailOverTheWire()
    {
        using var h = Harness(brokers: 3);
        h.CreateTopic("orders", 3, 3);
        h.Produce("orders", 0, "first", "second", "third", "fourth", "fifth");
        // An admin commit (as kafka-consumer-groups.sh --reset-offsets does) of offset 2: three messages not yet read.
        Assert.All(Client.CommitOffsets("billing", [new OffsetCommitPartitionParams("orders", 0, 2)]), r => Assert.Equal(ErrorCode.None, r.Error));
        h.Open();
        var screen = h.Screen();
        output.WriteLine(screen);

        Assert.Contains($"Kafka cluster at {h.Cluster.GetBroker(0)!.Address}", screen);
        Assert.Contains($"controller: broker {h.Cluster.Controller.Describe(null, false).ControllerId}", screen);
        var all = h.Cluster.Controller.Describe(null, false).Topics.SelectMany(t => t.Partitions).ToList(); // orders and __consumer_offsets
        foreach (var id in new[] { 0, 1, 2 })
        {
            var row = BrokerRow(screen, id);
            Assert.Equal([h.Cluster.GetBroker(id)!.Address, "running"], row[1..3]);
            Assert.Equal([all.Count(p => p.Leader == id).ToString(), all.Count(p => p.Leader != id && p.Replicas.Contains(id)).ToString()], row[4..6]);
            Assert.Equal(["-", "-"], row[6..8]); // a client cannot see a broker's traffic: unknown, not 0 B/s
        }
        Assert.Equal(["orders", "3", "3", "0", "0"], TopicRow(screen, "orders")[..5]);
        Assert.Contains("Partitions of orders (0 under-replicated, 0 offline)", screen);
        var meta = h.Cluster.Controller.Describe(["orders"], false).Topics[0].Partitions[0];
        // P, Leader, Epoch, Replicas, Isr, Status, LogStart, HW, LEO, Size, Segs: what a client cannot know is "-".
        Assert.Equal(["0", meta.Leader.ToString(), "-", Ids(meta.Replicas), Ids(meta.Replicas), "ok", "0", "5", "-", "-", "-"], PartitionRow(screen, 0)[..11]);

        Assert.Contains("Consumer group billing: total lag 3", screen);
        Assert.Equal(["billing", "Empty", "0", "orders-0", "2", "5", "3"], Cells(LineWith(screen, "│billing"))[..7]);

        Assert.Contains("Tail of orders-0, newest 5 first", screen);
        Assert.Contains("fifth", LineWith(screen, "│k4 "));
        Assert.Contains("first", LineWith(screen, "│k0 ")); // the cell: a random cluster id may hold "k0" too
    }

    [Fact]
    public void BrokerKeysAreRefusedAndLeftOutOfTheHelpLine()
    {
        using var h = Harness(brokers: 2);
        h.CreateTopic("orders", 2, 2);
        var view = h.Open();
        var asked = new List<string>();
        view.Confirm = (title, _) => { asked.Add(title); return true; };

        foreach (var key in new[] { Key.S, Key.K, Key.R })
        {
            view.SetStatus("");
            h.App!.InjectKey(key);
            Assert.Equal(ClusterConsoleView.BrokerControlRefused, view.StatusText);
        }
        Assert.Empty(asked);
        Assert.All(h.Cluster.Brokers, b => Assert.Equal(BrokerState.Running, b.State));

        var screen = h.Screen();
        Assert.Contains("not possible on a remote cluster", screen);
        var help = Lines(screen).Last(l => l.Contains("q quit", StringComparison.Ordinal));
        Assert.Contains("n new topic", help);
        Assert.Contains("o reset group", help);
        Assert.DoesNotContain("stop broker", help);
        Assert.DoesNotContain("crash broker", help);
        Assert.DoesNotContain("r restart", help);
    }

    [Fact]
    public void TheBrokerLogIsNotAvailableForARemoteCluster()
    {
        using var h = Harness(brokers: 1);
        var view = h.Open();
        h.App!.InjectKey(Key.L);
        Assert.False(view.ShowsBrokerLog);
        Assert.Equal(ClusterConsoleView.BrokerLogUnavailable, view.StatusText);
    }

    [Fact]
    public void ABrokerThatLeavesTheMetadataShowsAsNotReachableAndTheIsrShrinks()
    {
        using var h = Harness(brokers: 3);
        h.CreateTopic("orders", 3, 3);
        h.Open();
        Assert.Equal("running", BrokerRow(h.Screen(), 2)[2]);

        h.Cluster.StopBroker(2);
        h.Refresh();
        var screen = h.Screen();
        output.WriteLine(screen);
        Assert.Equal("not reachable", BrokerRow(screen, 2)[2]);
        Assert.Equal(["0", "0"], BrokerRow(screen, 2)[4..6]);
        Assert.Contains("Partitions of orders (3 under-replicated, 0 offline)", screen);
        foreach (var p in h.Cluster.Controller.Describe(["orders"], false).Topics[0].Partitions)
        {
            var row = PartitionRow(screen, p.Partition);
            Assert.Equal([p.Leader.ToString(), "-", Ids(p.Replicas), $"{Ids(p.Isr)} (2 out)", "under-replicated"], row[1..6]);
        }
    }

    [Fact]
    public void AClusterThatStopsAnsweringShowsEveryBrokerAsNotReachableAndSaysWhy()
    {
        using var h = Harness(brokers: 1, timeout: TimeSpan.FromSeconds(1));
        h.CreateTopic("orders", 1, 1);
        h.Open();
        h.Cluster.StopBroker(0);
        h.Refresh();
        var screen = h.Screen();
        output.WriteLine(screen);
        Assert.Equal("not reachable", BrokerRow(screen, 0)[2]);
        Assert.Contains($"Kafka cluster at {h.Cluster.GetBroker(0)!.Address} (NOT REACHABLE)", screen);
        Assert.StartsWith($"The Kafka cluster at {h.Cluster.GetBroker(0)!.Address} could not be reached", h.View!.StatusText);
        Assert.Contains("controller: unknown", screen);
        Assert.Contains("Partitions of orders", screen); // the last topics seen stay on the screen
    }

    [Fact]
    public void DeletesATopicAndResetsAGroupThroughTheAdminClient()
    {
        using var h = Harness(brokers: 1);
        h.CreateTopic("doomed", 1, 1);
        h.CreateTopic("kept", 1, 1);
        h.Produce("kept", 0, "a", "b", "c", "d");
        Assert.All(Client.CommitOffsets("billing", [new OffsetCommitPartitionParams("kept", 0, 3)]), r => Assert.Equal(ErrorCode.None, r.Error));
        var view = h.Open();
        var asked = new List<string>();
        view.Confirm = (title, _) => { asked.Add(title); return true; };

        // The first topic is selected: d deletes it after asking, through the admin client.
        Assert.Equal("doomed", view.SelectedTopic()?.Name);
        h.App!.InjectKey(Key.D);
        Assert.True(SpinWait.SpinUntil(() => !h.Cluster.Controller.TopicExists("doomed"), Patience.Deadline), view.StatusText);

        // o resets the only group (no members) to the earliest offsets.
        h.App!.InjectKey(Key.O);
        Assert.True(SpinWait.SpinUntil(() => Client.FetchCommittedOffsets("billing").Single().Offset == 0, Patience.Deadline), view.StatusText);
        Assert.Equal(["Delete topic doomed", "Reset group billing"], asked);

        h.Refresh();
        var screen = h.Screen();
        Assert.DoesNotContain("│doomed", screen);
        Assert.Equal(["billing", "Empty", "0", "kept-0", "0", "4", "4"], Cells(LineWith(screen, "│billing"))[..7]);
    }

    [Fact]
    public void CreatesATopicThroughTheAdminClient()
    {
        using var h = Harness(brokers: 2);
        using var source = new RemoteClusterSource(new RemoteClient(new RemoteConnection(h.Cluster.GetBroker(0)!.Address)));
        source.CreateTopic("made-remotely", 4, 2);
        var topic = h.Cluster.Controller.Describe(["made-remotely"], false).Topics[0];
        Assert.Equal(ErrorCode.None, topic.Error);
        Assert.Equal((4, 2), (topic.Partitions.Count, topic.Partitions[0].Replicas.Count));
        // An existing name is Kafka's TOPIC_ALREADY_EXISTS, which the console's status line shows.
        Assert.Equal(ErrorCode.TopicAlreadyExists, Assert.Throws<KafkaException>(() => source.CreateTopic("made-remotely", 1, 1)).Code);
        var sw = Stopwatch.StartNew();
        source.DeleteTopic("made-remotely");
        output.WriteLine($"deleted in {sw.ElapsedMilliseconds} ms; exists: {h.Cluster.Controller.TopicExists("made-remotely")}");
        Assert.Throws<NotSupportedRemotelyException>(() => source.StopBroker(0, kill: true));
        Assert.True(h.Cluster.GetBroker(0)!.IsRunning);
        (source.Client as IDisposable)!.Dispose();
    }

    /// <summary>
    /// A refresh is a handful of requests whatever the number of partitions (offsets in one batch per leader), so a
    /// one-second timer keeps up: 20 topics of 3 partitions, a group and the tail, counted in the requests the
    /// brokers read. How long a refresh takes is printed; it is not asserted (a loaded machine would decide it).
    /// </summary>
    [Fact]
    public void ARefreshOfSixtyPartitionsIsAHandfulOfRequests()
    {
        using var h = Harness(brokers: 3);
        for (int t = 0; t < 20; t++) h.CreateTopic($"t{t:00}", 3, 3);
        h.Produce("t00", 0, "a", "b", "c");
        Assert.All(Client.CommitOffsets("billing", [new OffsetCommitPartitionParams("t00", 0, 1)]), r => Assert.Equal(ErrorCode.None, r.Error));
        var builder = new SnapshotBuilder(h.Source);
        builder.Next(); // connects
        long Requests() => h.Cluster.Brokers.Sum(b => h.Cluster.GetServer(b.Id)!.Listener!.FramesReceived);
        const int Refreshes = 10;
        long before = Requests();
        var times = new List<double>();
        for (int i = 0; i < Refreshes; i++)
        {
            var sw = Stopwatch.StartNew();
            var snapshot = builder.Next();
            var tail = h.Source.Tail("t00", 0, ClusterConsoleView.TailSize);
            times.Add(sw.Elapsed.TotalMilliseconds);
            Assert.Equal(3, snapshot.FindTopic("t00")!.Partitions[0].HighWatermark);
            Assert.Equal(3, tail.Count);
            Assert.Equal(2, Assert.Single(snapshot.Groups).TotalLag);
        }
        double perRefresh = (Requests() - before) / (double)Refreshes;
        times.Sort();
        output.WriteLine($"refresh (metadata, offsets of 60+ partitions, groups, tail) over the wire: {perRefresh:0.0} requests, median {times[Refreshes / 2]:0.0} ms, max {times[^1]:0.0} ms");
        Assert.True(perRefresh < 30, $"{perRefresh:0.0} requests a refresh of 60 partitions: about one a partition, not a handful");
    }
}
