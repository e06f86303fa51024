using PSKafka.Client;
using PSKafka.Client.ClusterView;
using PSKafka.Engine;
using PSKafka.Engine.Api;
using PSKafka.Engine.Cluster;
using PSKafka.Tui.Views;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;

using static PSKafka.Tests.Tui.ConsoleScreen;

namespace PSKafka.Tests.Tui;

/// <summary>What the console's screen shows for known cluster states, rendered headless at a fixed size.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ClusterConsoleViewTests
{
    [Fact]
    public void ShowsBrokersTopicsPartitionsAndTheTail()
    {
        using var h = new ConsoleHarness(brokers: 3);
        h.CreateTopic("orders", 3, 3);
        h.Produce("orders", 0, "first", "second", "third");
        h.Open();
        var screen = h.Screen();

        Assert.Contains("controller: broker 0", screen);
        foreach (var id in new[] { 0, 1, 2 }) Assert.Equal("running", BrokerRow(screen, id)[2]);
        Assert.Equal("controller", BrokerRow(screen, 0)[3]);
        Assert.Equal(["1", "2"], BrokerRow(screen, 0)[4..6]); // each broker leads one partition and follows two
        Assert.Equal(["orders", "3", "3", "0", "0"], TopicRow(screen, "orders")[..5]);
        Assert.Contains("Partitions of orders (0 under-replicated, 0 offline)", screen);
        // P, Leader, Epoch, Replicas, Isr, Status, LogStart, HW, LEO (the assignment starts at a random broker, as Kafka's does)
        var meta = h.Cluster.Controller.Describe(["orders"], false).Topics[0].Partitions[0];
        var replicas = Ids(meta.Replicas);
        Assert.Equal(["0", meta.Leader.ToString(), "0", replicas, replicas, "ok", "0", "3", "3"], PartitionRow(screen, 0)[..9]);
        Assert.Contains("Tail of orders-0, newest 3 first", screen);
        Assert.Contains("third", LineWith(screen, "│k2 ")); // the cell: a random cluster id may hold "k2" too
        Assert.Contains("no groups yet", screen);
        Assert.Contains("q quit", screen);
    }

    [Fact]
    public void AStoppedFollowerShrinksTheIsrAndCountsAsUnderReplicated()
    {
        using var h = new ConsoleHarness(brokers: 3);
        h.CreateTopic("orders", 3, 3);
        var before = h.Cluster.Controller.Describe(["orders"], false).Topics[0];
        h.Cluster.StopBroker(2);
        h.Open();
        var screen = h.Screen();

        Assert.Equal("stopped", BrokerRow(screen, 2)[2]);
        Assert.Contains("Partitions of orders (3 under-replicated, 0 offline)", screen);
        // Partition 0 (replicas 0,1,2) keeps leader 0; broker 2 left its ISR and is named as out of sync.
        foreach (var p in before.Partitions)
        {
            var row = PartitionRow(screen, p.Partition);
            var isr = p.Isr.Where(r => r != 2).ToList();
            Assert.Equal(Ids(p.Replicas), row[3]);
            Assert.Equal($"{Ids(isr)} (2 out)", row[4]);
            Assert.Equal("under-replicated", row[5]);
            // The partition broker 2 led moved to the next in-sync replica with a new leader epoch.
            Assert.Equal(p.Leader == 2 ? [isr[0].ToString(), "1"] : [p.Leader.ToString(), "0"], row[1..3]);
        }
        Assert.Equal(["orders", "3", "3", "3", "0"], TopicRow(screen, "orders")[..5]);
    }

    [Fact]
    public void APartitionWithoutInSyncReplicasShowsOffline()
    {
        using var h = new ConsoleHarness(brokers: 2);
        h.CreateTopic("solo", 1, 1);
        int leader = h.Cluster.Controller.Describe(["solo"], false).Topics[0].Partitions[0].Leader;
        h.Cluster.StopBroker(leader, kill: true);
        h.Open();
        var screen = h.Screen();

        Assert.Equal("crashed", BrokerRow(screen, leader)[2]);
        Assert.Contains("(0 under-replicated, 1 offline)", screen);
        var p0 = PartitionRow(screen, 0);
        Assert.Equal("none", p0[1]);
        Assert.Equal("OFFLINE", p0[5]);
    }

    [Fact]
    public void TheCrashKeyAsksFirstThenCrashesTheSelectedBrokerAndLeadersMove()
    {
        using var h = new ConsoleHarness(brokers: 3);
        h.CreateTopic("orders", 3, 3);
        var led = h.Cluster.Controller.Describe(["orders"], false).Topics[0].Partitions.Single(p => p.Leader == 0);
        var view = h.Open();
        var asked = new List<string>();
        bool answer = false;
        view.Confirm = (title, _) => { asked.Add(title); return answer; };

        h.App!.InjectKey(Key.K);
        Assert.Equal(["Crash broker 0"], asked);
        Assert.Equal(BrokerState.Running, h.Cluster.GetBroker(0)!.State);
        Assert.Contains("Cancelled.", view.StatusText);

        answer = true;
        h.App!.InjectKey(Key.K);
        Assert.True(SpinWait.SpinUntil(() => h.Cluster.GetBroker(0)!.State == BrokerState.Crashed, Patience.Deadline));
        h.Refresh();
        var screen = h.Screen();
        Assert.Equal("crashed", BrokerRow(screen, 0)[2]);
        Assert.Contains("controller: broker 1", screen);
        var isr = led.Isr.Where(r => r != 0).ToList();
        Assert.Equal([isr[0].ToString(), "1", Ids(led.Replicas), $"{Ids(isr)} (0 out)"], PartitionRow(screen, led.Partition)[1..5]);

        // r brings it back without asking (nothing is destroyed); the ISR is the controller's to grow again.
        h.App!.InjectKey(Key.R);
        Assert.True(SpinWait.SpinUntil(() => h.Cluster.GetBroker(0)!.IsRunning, Patience.Deadline));
        Assert.Equal(["Crash broker 0", "Crash broker 0"], asked);
    }

    [Fact]
    public void ThePauseKeyFreezesTheTail()
    {
        using var h = new ConsoleHarness(brokers: 1);
        h.CreateTopic("t", 1, 1);
        h.Produce("t", 0, "a");
        var view = h.Open();

        h.App!.InjectKey(Key.P);
        Assert.True(view.TailPaused);
        h.Produce("t", 0, "b");
        h.Refresh();
        var screen = h.Screen();
        Assert.Contains("Tail of t-0, newest 1 first [PAUSED, p resumes]", screen);
        Assert.Contains("LEO", screen);

        h.App!.InjectKey(Key.P);
        Assert.False(view.TailPaused);
        h.Refresh();
        Assert.Contains("Tail of t-0, newest 2 first", h.Screen());
    }

    [Fact]
    public void TheLogKeyShowsTheNewestBrokerLogLinesInsteadOfTheTail()
    {
        using var h = new ConsoleHarness(brokers: 2);
        h.CreateTopic("t", 1, 2);
        var view = h.Open();

        h.App!.InjectKey(Key.L);
        Assert.True(view.ShowsBrokerLog);
        h.Cluster.StopBroker(1, kill: true);
        h.Refresh();
        h.Refresh(); // the newest entry shows once the next one starts or the file has been quiet for a refresh
        var screen = h.Screen();
        Assert.Contains("server.log, newest", screen);
        Assert.Contains("killed (Stop-Broker -Kill)", screen);
        Assert.Contains("INFO", screen);

        h.App!.InjectKey(Key.L);
        Assert.False(view.ShowsBrokerLog);
        h.Refresh();
        Assert.Contains("Tail of t-0", h.Screen());
    }

    [Fact]
    public void DeleteAsksForTheTopicAndRemovesIt()
    {
        using var h = new ConsoleHarness(brokers: 1);
        h.CreateTopic("doomed", 1, 1);
        var view = h.Open();
        view.Confirm = (title, message) => title == "Delete topic doomed" && message.Contains("cannot be undone", StringComparison.Ordinal);

        h.App!.InjectKey(Key.D);
        Assert.True(SpinWait.SpinUntil(() => !h.Cluster.Controller.TopicExists("doomed"), Patience.Deadline));
        h.Refresh();
        var screen = h.Screen();
        Assert.DoesNotContain("│doomed", screen);
        Assert.DoesNotContain("Partitions of doomed", screen);
    }

    [Fact]
    public void GroupsShowCommittedOffsetsLagAndOwners()
    {
        using var h = new ConsoleHarness(brokers: 1);
        var view = h.Open();
        var member = new GroupMemberView("m-1", "consumer-7", "/127.0.0.1", [("orders", 0)]);
        var group = new GroupView("billing", "Stable", "consumer", [member],
            [new GroupOffsetView("orders", 0, 90, 100), new GroupOffsetView("orders", 1, -1, 40)], [0, 5, 10]);
        view.Apply(view.Snapshot with { Groups = [group] }, null);
        var screen = h.Screen();

        Assert.DoesNotContain("no groups yet", screen);
        Assert.Contains("Consumer group billing: total lag 10 ▁▅█", screen);
        Assert.Equal(["billing", "Stable", "1", "orders-0", "consumer-7", "90", "100", "10"], Cells(LineWith(screen, "orders-0"))[..8]);
        // No commit yet: no owner, no lag (as kafka-consumer-groups.sh shows "-").
        Assert.Equal(["billing", "Stable", "1", "orders-1", "-", "40", "-"], Cells(LineWith(screen, "orders-1"))[..7]);
    }

    [Fact]
    public void ShowsARealGroupsCommittedOffsetAndLag()
    {
        using var h = new ConsoleHarness(brokers: 1);
        h.CreateTopic("orders", 1, 1);
        h.Produce("orders", 0, "a", "b", "c", "d", "e");
        var broker = h.Cluster.GetBroker(0)!;
        var coordinator = h.Cluster.GetBroker(broker.FindCoordinator("billing").NodeId)!;
        // An admin commit (generation -1) of offset 2: three messages not yet read.
        var committed = coordinator.OffsetCommit(new OffsetCommitParams { GroupId = "billing", Partitions = [new OffsetCommitPartitionParams("orders", 0, 2)] });
        Assert.All(committed, c => Assert.Equal(ErrorCode.None, c.Error));

        var group = Assert.Single(new EmbeddedClusterSource(new EmbeddedClient(h.Cluster)).GetGroups());
        Assert.Equal("billing", group.GroupId);
        var offset = Assert.Single(group.Offsets);
        Assert.Equal((2L, 5L, 3L), (offset.CommittedOffset, offset.LogEndOffset, offset.Lag!.Value));

        var view = h.Open();
        Assert.Contains("billing", h.Screen());
        Assert.DoesNotContain("no groups yet", h.Screen());

        // o resets the selected group (the only one) to the earliest offsets, after asking.
        var asked = new List<string>();
        view.Confirm = (title, _) => { asked.Add(title); return true; };
        h.App!.InjectKey(Terminal.Gui.Input.Key.O);
        Assert.Equal(["Reset group billing"], asked);
        Assert.True(SpinWait.SpinUntil(() => coordinator.OffsetFetch(new OffsetFetchParams("billing")).Partitions.Single().Offset == 0, Patience.Deadline));
    }
}
